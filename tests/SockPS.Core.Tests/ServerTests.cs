using System;
using System.Linq;
using System.Net;
using System.Net.Sockets;
using System.Threading;
using System.Threading.Tasks;
using Xunit;

namespace SockPS.Core.Tests;

public class ServerTests
{
    [Fact]
    public void PortZeroPicksAFreePortAndTheServerShowsIt()
    {
        using SocketServer server = Loopback.StartServer();
        Assert.NotEqual(0, server.Port);
        Assert.Equal(IPAddress.Loopback, ((IPEndPoint)server.LocalEndPoint!).Address);
        Assert.Equal(ServerState.Listening, server.State);
    }

    [Fact]
    public async Task AcceptedConnectionsAreCountedAndHandedOutInOrder()
    {
        using SocketServer server = Loopback.StartServer();
        using Socket a = new(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        using Socket b = new(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await a.ConnectAsync(IPAddress.Loopback, server.Port).WaitAsync(Loopback.Wait);
        using SocketConnection first = server.Accept(Loopback.Wait);
        await b.ConnectAsync(IPAddress.Loopback, server.Port).WaitAsync(Loopback.Wait);
        using SocketConnection second = server.Accept(Loopback.Wait);

        Assert.Equal(a.LocalEndPoint, first.RemoteEndPoint);
        Assert.Equal(b.LocalEndPoint, second.RemoteEndPoint);
        Assert.Equal(2, server.AcceptedCount);
        Assert.Equal(2, server.ConnectionCount);
        Assert.Same(server, first.Server);
        first.Close();
        Assert.Equal(1, server.ConnectionCount);
        Assert.Equal(2, server.AcceptedCount);
    }

    [Fact]
    public void AcceptTimesOutAndTheServerKeepsListening()
    {
        using SocketServer server = Loopback.StartServer();
        var ex = Assert.Throws<SocketOperationException>(() => server.Accept(TimeSpan.FromMilliseconds(200)));
        Assert.Equal(SocketFailureKind.AcceptTimeout, ex.Kind);
        Assert.Equal(ServerState.Listening, server.State);
    }

    [Fact]
    public async Task StoppingClosesConnectionsNobodyTookAndKeepsHandedOutOnes()
    {
        SocketServer server = Loopback.StartServer();
        using Socket a = new(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        using Socket b = new(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await a.ConnectAsync(IPAddress.Loopback, server.Port).WaitAsync(Loopback.Wait);
        using SocketConnection taken = server.Accept(Loopback.Wait);
        await b.ConnectAsync(IPAddress.Loopback, server.Port).WaitAsync(Loopback.Wait);
        Loopback.Until(() => server.PendingCount == 1, "the second client is accepted");
        SocketConnection untaken = server.Connections.Single(c => c != taken);

        server.Stop();
        Assert.Equal(ServerState.Stopped, server.State);
        Assert.Equal(SocketState.Disconnected, untaken.State);
        Assert.Equal(SocketState.Open, taken.State);
        Assert.Equal(SocketFailureKind.Closed, Assert.Throws<SocketOperationException>(() => server.Accept(Loopback.Wait)).Kind);
        Assert.Throws<SocketException>(() =>
        {
            using Socket late = new(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            late.Connect(IPAddress.Loopback, server.Port);
        });
    }

    [Fact]
    public async Task IdsIncreaseAndAreNeverReused()
    {
        var (client, accepted, server) = await Loopback.CreateConnectedPair();
        int oldId = client.Id;
        client.Close();
        accepted.Close();
        server.Stop();
        var (client2, accepted2, server2) = await Loopback.CreateConnectedPair();
        using (server2)
        using (client2)
        using (accepted2)
        {
            Assert.True(client2.Id > oldId && accepted2.Id > oldId);
            Assert.True(server2.Id > server.Id);
        }
    }

    [Theory]
    [InlineData(null, "127.0.0.1")]
    [InlineData("", "0.0.0.0")]
    [InlineData("Any", "0.0.0.0")]
    [InlineData("0.0.0.0", "0.0.0.0")]
    [InlineData("IPv6Any", "::")]
    [InlineData("::", "::")]
    [InlineData("localhost", "127.0.0.1")]
    [InlineData("::1", "::1")]
    [InlineData("[::1]", "::1")]
    [InlineData("127.0.0.2", "127.0.0.2")]
    public void ListenAddressesAreParsedAsUsersWriteThem(string? text, string expected) =>
        Assert.Equal(IPAddress.Parse(expected), Addresses.ParseListenAddress(text));

    [Fact]
    public async Task IPv6AnyAcceptsIPv4ClientsToo()
    {
        using SocketServer server = SocketServer.Start(new IPEndPoint(IPAddress.IPv6Any, 0), 8, new ConnectionOptions());
        using SocketConnection client = await SocketConnector.ConnectTcpAsync("127.0.0.1", server.Port, new ConnectionOptions(), Loopback.Wait, null, CancellationToken.None)
            .WaitAsync(Loopback.Wait);
        using SocketConnection accepted = server.Accept(Loopback.Wait);
        client.SendLine("v4 over dual stack");
        Assert.Equal("v4 over dual stack", accepted.ReceiveLine());
    }
}
