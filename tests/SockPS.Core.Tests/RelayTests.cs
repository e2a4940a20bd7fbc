using System;
using System.IO;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using Xunit;

namespace SockPS.Core.Tests;

public sealed class RelayTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("sockps-relay-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static Task<SocketConnection> Connect(int port) =>
        SocketConnector.ConnectTcpAsync("127.0.0.1", port, Loopback.Options(), Loopback.Wait, null, CancellationToken.None).WaitAsync(Loopback.Wait);

    [Fact]
    public async Task BytesCrossARelayExactlyBothWaysAndAHalfCloseTravelsOn()
    {
        using SocketServer target = Loopback.StartServer();
        using SocketRelay relay = SocketRelay.Start(new RelayOptions { Listen = new IPEndPoint(IPAddress.Loopback, 0), TargetHost = "127.0.0.1", TargetPort = target.Port });
        using SocketConnection client = await Connect(relay.Port);
        using SocketConnection far = target.Accept(Loopback.Wait);

        byte[] up = TransferTests.RandomBytes(3 * 1024 * 1024 + 5, seed: 41);
        byte[] down = TransferTests.RandomBytes(2 * 1024 * 1024 + 9, seed: 42);
        Task sendUp = Task.Run(() => { client.Send(up); client.ShutdownSend(); });
        Task sendDown = Task.Run(() => { far.Send(down); far.ShutdownSend(); });
        byte[] gotUp = await far.ReceiveToEndBytesAsync(Loopback.Wait, CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(60));
        byte[] gotDown = await client.ReceiveToEndBytesAsync(Loopback.Wait, CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(60));
        await Task.WhenAll(sendUp, sendDown).WaitAsync(Loopback.Wait);

        Assert.Equal(SHA256.HashData(up), SHA256.HashData(gotUp));
        Assert.Equal(SHA256.HashData(down), SHA256.HashData(gotDown));
        Loopback.Until(() => relay.ActiveClients == 0, "the forward ends when both sides have closed");
        Assert.Equal(up.Length, relay.BytesToTarget);
        Assert.Equal(down.Length, relay.BytesFromTarget);
        Assert.Equal(1, relay.ClientCount);
    }

    [Fact]
    public async Task APeerThatNeverEndsItsStreamAfterAHalfCloseIsClosedAfterTheTimeout()
    {
        using SocketServer target = Loopback.StartServer();
        using SocketRelay relay = SocketRelay.Start(new RelayOptions
        {
            Listen = new IPEndPoint(IPAddress.Loopback, 0), TargetHost = "127.0.0.1", TargetPort = target.Port,
            HalfCloseTimeout = TimeSpan.FromMilliseconds(200),
        });
        using SocketConnection client = await Connect(relay.Port);
        using SocketConnection far = target.Accept(Loopback.Wait);
        client.SendLine("bye");
        client.ShutdownSend();
        Assert.Equal("bye", far.ReceiveLine());
        Assert.Null(far.ReceiveLine()); // the end of stream travelled on; far never closes its side

        Assert.Null(client.ReceiveLine()); // the relay gave up on far and closed the client too
        Loopback.Until(() => relay.ActiveClients == 0, "the lingering forward is closed");
        Assert.Equal(0L, relay.ErrorCount);
    }

    [Fact]
    public async Task ARelayForwardsToAUnixSocket()
    {
        string path = Path.Combine(_dir, "target.sock");
        using SocketServer target = SocketServer.StartUnix(path, 8, Loopback.Options());
        using SocketRelay relay = SocketRelay.Start(new RelayOptions { Listen = new IPEndPoint(IPAddress.Loopback, 0), TargetPath = path });
        using SocketConnection client = await Connect(relay.Port);
        using SocketConnection far = target.Accept(Loopback.Wait);
        client.SendLine("to unix");
        Assert.Equal("to unix", far.ReceiveLine());
        far.SendLine("from unix");
        Assert.Equal("from unix", client.ReceiveLine());
        Assert.Equal(path, relay.Target);
    }

    [Fact]
    public async Task ATargetThatRefusesIsCountedAndTheClientClosed()
    {
        int closedPort;
        using (SocketServer gone = Loopback.StartServer())
        {
            closedPort = gone.Port;
        }

        using SocketRelay relay = SocketRelay.Start(new RelayOptions { Listen = new IPEndPoint(IPAddress.Loopback, 0), TargetHost = "127.0.0.1", TargetPort = closedPort });
        using SocketConnection client = await Connect(relay.Port);
        Assert.Null(client.ReceiveLine());
        Loopback.Until(() => relay.ErrorCount == 1, "the failed forward is counted");
        Assert.Contains("refused", relay.LastError);
    }

    [Fact]
    public async Task AUdpRelayGivesEachClientItsOwnUpstream()
    {
        using SocketServer target = SocketServer.Start(new IPEndPoint(IPAddress.Loopback, 0), 1, Loopback.Options(), protocol: SocketProtocol.Udp);
        using SocketRelay relay = SocketRelay.Start(new RelayOptions { Protocol = SocketProtocol.Udp, Listen = new IPEndPoint(IPAddress.Loopback, 0), TargetHost = "127.0.0.1", TargetPort = target.Port });
        using SocketConnection one = await SocketConnector.ConnectUdpAsync("127.0.0.1", relay.Port, Loopback.Options(), Loopback.Wait, null, CancellationToken.None);
        using SocketConnection two = await SocketConnector.ConnectUdpAsync("127.0.0.1", relay.Port, Loopback.Options(), Loopback.Wait, null, CancellationToken.None);
        one.Send("from one");
        SocketDatagram first = ((SocketConnection)target).ReceiveFrom()!;
        two.Send("from two");
        SocketDatagram second = ((SocketConnection)target).ReceiveFrom()!;
        Assert.NotEqual(first.RemoteEndPoint, second.RemoteEndPoint);
        first.Connection.SendTo(Encoding.UTF8.GetBytes("back to one"), first.RemoteEndPoint!);
        second.Connection.SendTo(Encoding.UTF8.GetBytes("back to two"), second.RemoteEndPoint!);
        Assert.Equal("back to one", one.ReceiveFrom()!.Text);
        Assert.Equal("back to two", two.ReceiveFrom()!.Text);
        Assert.Equal(2, relay.ActiveClients);
    }

    [Fact]
    public async Task StoppingARelayClosesItsForwards()
    {
        using SocketServer target = Loopback.StartServer();
        SocketRelay relay = SocketRelay.Start(new RelayOptions { Listen = new IPEndPoint(IPAddress.Loopback, 0), TargetHost = "127.0.0.1", TargetPort = target.Port });
        using SocketConnection client = await Connect(relay.Port);
        using SocketConnection far = target.Accept(Loopback.Wait);
        relay.Stop();
        Assert.Equal(ServerState.Stopped, relay.State);
        Assert.Null(far.ReceiveLine());
    }
}
