using System;
using System.Collections;
using System.Collections.Generic;
using System.Net;
using System.Net.Sockets;
using System.Threading;
using System.Threading.Tasks;
using Xunit;

namespace SockPS.Core.Tests;

// Tests that replace the resolver must not run beside other tests that resolve names.
[CollectionDefinition("Resolver", DisableParallelization = true)]
public class ResolverCollection
{
}

[Collection("Resolver")]
public class AddressingTests
{
    [Fact]
    public async Task IPv6LoopbackWorksEndToEnd()
    {
        using SocketServer server = SocketServer.Start(new IPEndPoint(IPAddress.IPv6Loopback, 0), 8, Loopback.Options());
        using SocketConnection client = await SocketConnector.ConnectTcpAsync("::1", server.Port, Loopback.Options(), Loopback.Wait,
            AddressFamily.InterNetworkV6, CancellationToken.None).WaitAsync(Loopback.Wait);
        using SocketConnection accepted = server.Accept(Loopback.Wait);
        client.SendLine("over IPv6");
        Assert.Equal("over IPv6", accepted.ReceiveLine());
        Assert.Equal(AddressFamily.InterNetworkV6, client.AddressFamily);
        Assert.Equal($"[::1]:{server.Port}", client.PeerText);
    }

    [Fact]
    public async Task UdpOverIPv6()
    {
        using SocketServer server = SocketServer.Start(new IPEndPoint(IPAddress.IPv6Loopback, 0), 1, Loopback.Options(), protocol: SocketProtocol.Udp);
        using SocketConnection client = await SocketConnector.ConnectUdpAsync("::1", server.Port, Loopback.Options(), Loopback.Wait, null, CancellationToken.None);
        client.Send("v6 datagram");
        Assert.Equal("v6 datagram", ((SocketConnection)server).ReceiveFrom()!.Text);
    }

    [Fact]
    public async Task AHostWhoseFirstAddressRefusesIsTriedAddressByAddress()
    {
        using SocketServer server = Loopback.StartServer(); // 127.0.0.1 only: [::1] refuses
        SocketConnector.HostLookupOverride = name => Task.FromResult(new[] { IPAddress.IPv6Loopback, IPAddress.Loopback });
        try
        {
            using SocketConnection client = await SocketConnector.ConnectTcpAsync("two-addresses.test", server.Port, Loopback.Options(), Loopback.Wait, null, CancellationToken.None)
                .WaitAsync(Loopback.Wait);
            Assert.Equal(IPAddress.Loopback, ((IPEndPoint)client.RemoteEndPoint!).Address);
        }
        finally
        {
            SocketConnector.HostLookupOverride = null;
        }
    }

    [Fact]
    public async Task WhenNoAddressConnectsTheErrorNamesTheLastFailure()
    {
        int port;
        using (SocketServer gone = Loopback.StartServer())
        {
            port = gone.Port;
        }

        SocketConnector.HostLookupOverride = name => Task.FromResult(new[] { IPAddress.IPv6Loopback, IPAddress.Loopback });
        try
        {
            var ex = await Assert.ThrowsAsync<SocketOperationException>(() =>
                SocketConnector.ConnectTcpAsync("two-addresses.test", port, Loopback.Options(), Loopback.Wait, null, CancellationToken.None).WaitAsync(Loopback.Wait));
            Assert.Equal(SocketFailureKind.ConnectionRefused, ex.Kind);
            Assert.Contains($"two-addresses.test:{port} (127.0.0.1:{port})", ex.Message);
        }
        finally
        {
            SocketConnector.HostLookupOverride = null;
        }
    }

    [Fact]
    public async Task AddressFamilyFiltersTheResolvedAddresses()
    {
        SocketConnector.HostLookupOverride = name => Task.FromResult(new[] { IPAddress.IPv6Loopback, IPAddress.Loopback });
        try
        {
            var v4 = await SocketConnector.ResolveAsync("two-addresses.test", AddressFamily.InterNetwork, CancellationToken.None);
            Assert.Equal(new[] { IPAddress.Loopback }, v4);
            var both = await SocketConnector.ResolveAsync("two-addresses.test", null, CancellationToken.None);
            Assert.Equal(2, both.Count);
        }
        finally
        {
            SocketConnector.HostLookupOverride = null;
        }

        var ex = await Assert.ThrowsAsync<SocketOperationException>(() => SocketConnector.ResolveAsync("127.0.0.1", AddressFamily.InterNetworkV6, CancellationToken.None));
        Assert.Equal(SocketFailureKind.HostNotFound, ex.Kind);
        Assert.Contains("IPv4 address", ex.Message);
    }

    [Theory]
    [InlineData("127.0.0.1:514", "127.0.0.1", 514)]
    [InlineData("[::1]:53", "::1", 53)]
    [InlineData("10.0.0.1:syslog", "10.0.0.1", 514)]
    [InlineData(" 192.0.2.1:domain ", "192.0.2.1", 53)]
    public void EndPointsParseAsUsersWriteThem(string text, string address, int port)
    {
        var endPoint = Assert.IsType<IPEndPoint>(EndPoints.Parse(text));
        Assert.Equal(IPAddress.Parse(address), endPoint.Address);
        Assert.Equal(port, endPoint.Port);
    }

    [Fact]
    public void EndPointsTakeNamesAndPaths()
    {
        var dns = Assert.IsType<DnsEndPoint>(EndPoints.Parse("example.com:80"));
        Assert.Equal(("example.com", 80), (dns.Host, dns.Port));
        Assert.Equal(AddressFamily.Unix, EndPoints.Parse("/run/app.sock").AddressFamily);
    }

    [Theory]
    [InlineData("")]
    [InlineData("example.com")]
    [InlineData("::1:53")]
    [InlineData("host:nosuchservice")]
    public void BadEndPointsAreInvalidArguments(string text) =>
        Assert.Equal(SocketFailureKind.InvalidArgument, Assert.Throws<SocketOperationException>(() => EndPoints.Parse(text)).Kind);

    [Fact]
    public void SocketOptionsAreParsedAndApplied()
    {
        SocketOptionSet options = SocketOptionSet.Parse(new Hashtable
        {
            ["receivebuffersize"] = 65536, ["SendBufferSize"] = "131072", ["Ttl"] = 7, ["ReuseAddress"] = true, ["Linger"] = 3, ["DontFragment"] = true,
        });
        using Socket socket = new(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        options.Apply(socket);
        Assert.True(socket.ReceiveBufferSize >= 65536);
        Assert.True(socket.SendBufferSize >= 131072);
        Assert.Equal(7, socket.Ttl);
        Assert.Equal(1, (int)socket.GetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress)!);
        Assert.Equal((true, 3), (socket.LingerState!.Enabled, socket.LingerState.LingerTime));
        Assert.True(socket.DontFragment);
    }

    [Theory]
    [InlineData("Bogus", 1, "ReceiveBufferSize, SendBufferSize, Ttl, ReuseAddress, Linger, DontFragment")]
    [InlineData("Ttl", 300, "1 to 255")]
    [InlineData("ReceiveBufferSize", "lots", "whole number")]
    [InlineData("ReuseAddress", "maybe", "$true or $false")]
    public void BadSocketOptionsAreInvalidArgumentsThatSayWhatIsKnown(string key, object value, string hint)
    {
        var ex = Assert.Throws<SocketOperationException>(() => SocketOptionSet.Parse(new Hashtable { [key] = value }));
        Assert.Equal(SocketFailureKind.InvalidArgument, ex.Kind);
        Assert.Contains(hint, ex.Message);
    }

    [Fact]
    public void DontFragmentOnAnIPv6SocketIsAClearError()
    {
        using Socket socket = new(AddressFamily.InterNetworkV6, SocketType.Dgram, ProtocolType.Udp);
        var ex = Assert.Throws<SocketOperationException>(() => SocketOptionSet.Parse(new Hashtable { ["DontFragment"] = true }).Apply(socket));
        Assert.Contains("IPv4", ex.Message);
    }
}
