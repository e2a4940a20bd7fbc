using System;
using System.IO;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using SockPS.Tests.Shared;
using Xunit;

namespace SockPS.Core.Tests;

/// <summary>
/// Every way a relay can be joined up, with real bytes: TCP, a Unix stream socket or TLS on the
/// listening side, each to TCP, a Unix stream socket or TLS on the target side; and UDP or a
/// Unix datagram socket on either side. Each carries random data both ways, checked by SHA-256.
/// </summary>
public sealed class RelayMatrixTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("sockps-relay-matrix-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static TlsClientOptions TrustingTestCa()
    {
        TlsClientOptions options = new() { ServerName = "localhost" };
        options.TrustedCertificates.Add(TestCertificates.Shared.CaPublic);
        return options;
    }

    private SocketServer StartStreamTarget(string kind) => kind switch
    {
        "tcp" => Loopback.StartServer(),
        "unix" => SocketServer.StartUnix(Path.Combine(_dir, "target.sock"), 8, Loopback.Options()),
        "tls" => SocketServer.Start(new IPEndPoint(IPAddress.Loopback, 0), 8, Loopback.Options(), tls: new TlsServerOptions(TestCertificates.Shared.Server)),
        _ => throw new ArgumentOutOfRangeException(nameof(kind)),
    };

    private async Task<SocketConnection> ConnectStream(string kind, SocketRelay relay)
    {
        switch (kind)
        {
            case "unix":
                return await SocketConnector.ConnectUnixAsync(relay.LocalEndPoint!.ToString()!, SocketProtocol.Tcp, Loopback.Options(), Loopback.Wait, CancellationToken.None).WaitAsync(Loopback.Wait);
            case "tls":
                ConnectionOptions options = Loopback.Options();
                options.Tls = TrustingTestCa();
                return await SocketConnector.ConnectTcpAsync("localhost", relay.Port, options, Loopback.Wait, AddressFamily.InterNetwork, CancellationToken.None).WaitAsync(Loopback.Wait);
            default:
                return await SocketConnector.ConnectTcpAsync("127.0.0.1", relay.Port, Loopback.Options(), Loopback.Wait, null, CancellationToken.None).WaitAsync(Loopback.Wait);
        }
    }

    [Theory]
    [InlineData("tcp", "tcp")]
    [InlineData("tcp", "unix")]
    [InlineData("tcp", "tls")]
    [InlineData("unix", "tcp")]
    [InlineData("unix", "unix")]
    [InlineData("unix", "tls")]
    [InlineData("tls", "tcp")]
    [InlineData("tls", "unix")]
    [InlineData("tls", "tls")]
    public async Task StreamsCrossEveryKindOfRelayExactly(string listen, string target)
    {
        using SocketServer far = StartStreamTarget(target);
        RelayOptions options = new()
        {
            TargetHost = target == "unix" ? null : "localhost",
            TargetPort = far.Port,
            TargetPath = target == "unix" ? far.Path : null,
            TargetTls = target == "tls" ? TrustingTestCa() : null,
            ListenTls = listen == "tls" ? new TlsServerOptions(TestCertificates.Shared.Server) : null,
        };
        if (listen == "unix")
        {
            options.ListenPath = Path.Combine(_dir, "relay.sock");
        }
        else
        {
            options.Listen = new IPEndPoint(IPAddress.Loopback, 0);
        }

        using SocketRelay relay = SocketRelay.Start(options);
        using SocketConnection client = await ConnectStream(listen, relay);
        using SocketConnection accepted = await far.AcceptAsync(Loopback.Wait, CancellationToken.None).AsTask().WaitAsync(Loopback.Wait);

        byte[] up = TransferTests.RandomBytes(1024 * 1024 + 3, seed: 7);
        byte[] down = TransferTests.RandomBytes(512 * 1024 + 11, seed: 8);
        Task sendUp = Task.Run(() => { client.Send(up); client.ShutdownSend(); });
        Task sendDown = Task.Run(() => { accepted.Send(down); accepted.ShutdownSend(); });
        byte[] gotUp = await accepted.ReceiveToEndBytesAsync(Loopback.Wait, CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(60));
        byte[] gotDown = await client.ReceiveToEndBytesAsync(Loopback.Wait, CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(60));
        await Task.WhenAll(sendUp, sendDown).WaitAsync(Loopback.Wait);

        Assert.Equal(SHA256.HashData(up), SHA256.HashData(gotUp));
        Assert.Equal(SHA256.HashData(down), SHA256.HashData(gotDown));
        Assert.Equal(listen == "tls", client.IsTls);
        Assert.Equal(target == "tls", accepted.IsTls);
        Assert.Equal(0L, relay.ErrorCount);
        Assert.Equal(ServerState.Listening, relay.State);
    }

    [Theory]
    [InlineData("udp", "udp")]
    [InlineData("udp", "unix")]
    [InlineData("unix", "udp")]
    [InlineData("unix", "unix")]
    public async Task DatagramsCrossEveryKindOfRelayBothWays(string listen, string target)
    {
        using SocketServer far = target == "unix"
            ? SocketServer.StartUnix(Path.Combine(_dir, "target-dgram.sock"), 1, Loopback.Options(), protocol: SocketProtocol.Udp)
            : SocketServer.Start(new IPEndPoint(IPAddress.Loopback, 0), 1, Loopback.Options(), protocol: SocketProtocol.Udp);
        RelayOptions options = new()
        {
            Protocol = SocketProtocol.Udp,
            TargetHost = target == "unix" ? null : "127.0.0.1",
            TargetPort = far.Port,
            TargetPath = target == "unix" ? far.Path : null,
        };
        if (listen == "unix")
        {
            options.ListenPath = Path.Combine(_dir, "relay-dgram.sock");
        }
        else
        {
            options.Listen = new IPEndPoint(IPAddress.Loopback, 0);
        }

        using SocketRelay relay = SocketRelay.Start(options);
        using SocketConnection client = listen == "unix"
            ? await SocketConnector.ConnectUnixAsync(options.ListenPath!, SocketProtocol.Udp, Loopback.Options(), Loopback.Wait, CancellationToken.None)
            : await SocketConnector.ConnectUdpAsync("127.0.0.1", relay.Port, Loopback.Options(), Loopback.Wait, null, CancellationToken.None);

        SocketConnection farSocket = far;
        for (int i = 0; i < 3; i++)
        {
            byte[] payload = TransferTests.RandomBytes(1000 + i * 3000, seed: 20 + i);
            client.Send(payload);
            SocketDatagram arrived = farSocket.ReceiveFrom()!;
            Assert.Equal(SHA256.HashData(payload), SHA256.HashData(arrived.Data));

            byte[] answer = Encoding.UTF8.GetBytes("answer " + i);
            farSocket.SendTo(answer, arrived.RemoteEndPoint!);
            Assert.Equal("answer " + i, client.ReceiveFrom()!.Text);
        }

        Assert.Equal(0L, relay.ErrorCount);
        Assert.Equal(ServerState.Listening, relay.State);
        Assert.Equal(1, relay.ActiveClients);
    }

    [Fact]
    public async Task ADatagramThatCannotBeForwardedIsCountedAndTheRelayGoesOn()
    {
        // The target's name does not resolve: every datagram fails on its own, the loop goes on.
        using SocketRelay relay = SocketRelay.Start(new RelayOptions
        {
            Protocol = SocketProtocol.Udp,
            Listen = new IPEndPoint(IPAddress.Loopback, 0),
            TargetHost = "no-such-host.invalid",
            TargetPort = 9,
        });
        using SocketConnection client = await SocketConnector.ConnectUdpAsync("127.0.0.1", relay.Port, Loopback.Options(), Loopback.Wait, null, CancellationToken.None);
        client.Send("one");
        Loopback.Until(() => relay.ErrorCount == 1, "the first datagram's failure is counted");
        client.Send("two");
        Loopback.Until(() => relay.ErrorCount == 2, "the loop read the second datagram too");
        Assert.Equal(ServerState.Listening, relay.State);
        Assert.NotNull(relay.LastError);
    }

    [Fact]
    public void ARelayWhoseListeningSocketBreaksSaysFailedWithTheReason()
    {
        using SocketRelay relay = SocketRelay.Start(new RelayOptions { Listen = new IPEndPoint(IPAddress.Loopback, 0), TargetHost = "127.0.0.1", TargetPort = 9 });
        relay.BreakListenerForTesting();
        Loopback.Until(() => relay.State == ServerState.Failed, "the accept loop reports the broken listener");
        Assert.NotNull(relay.FailureReason);
        Assert.Contains("stopped accepting", relay.FailureReason);
        Assert.True(relay.ErrorCount >= 1);
    }
}
