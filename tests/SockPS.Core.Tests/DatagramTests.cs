using System;
using System.Collections.Generic;
using System.Linq;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using Xunit;

namespace SockPS.Core.Tests;

public class DatagramTests
{
    private static SocketServer StartUdp(ConnectionOptions? options = null, IPAddress? address = null) =>
        SocketServer.Start(new IPEndPoint(address ?? IPAddress.Loopback, 0), 1, options ?? Loopback.Options(), protocol: SocketProtocol.Udp);

    private static Task<SocketConnection> ConnectUdp(int port, ConnectionOptions? options = null, string host = "127.0.0.1") =>
        SocketConnector.ConnectUdpAsync(host, port, options ?? Loopback.Options(), Loopback.Wait, null, CancellationToken.None).WaitAsync(Loopback.Wait);

    [Fact]
    public async Task AThousandDatagramsOfRandomSizesKeepTheirBoundariesAndContents()
    {
        using SocketServer server = StartUdp();
        using SocketConnection client = await ConnectUdp(server.Port);
        SocketConnection socket = server;
        Random random = new(7);
        List<byte[]> sent = new();
        for (int i = 0; i < 1000; i++)
        {
            byte[] data = new byte[random.Next(1, 8193)];
            random.NextBytes(data);
            data[0] = (byte)i;
            sent.Add(data);
            // One at a time, so neither the kernel's buffer nor the bounded queue overflows:
            // this test is about boundaries, not about drops.
            SendAndWait(client, data, socket, i + 1);
            if (i % 50 == 49)
            {
                await DrainAsync(socket, sent, i - 49, 50);
            }
        }

        Assert.Equal(0, socket.DroppedCount);
        Assert.Equal(1000, socket.DatagramsReceived);
        Assert.Equal(1000, client.DatagramsSent);
        Assert.Equal(sent.Sum(d => (long)d.Length), socket.BytesReceived);
    }

    private static async Task DrainAsync(SocketConnection socket, List<byte[]> sent, int first, int count)
    {
        for (int i = first; i < first + count; i++)
        {
            SocketDatagram? datagram = await socket.ReceiveDatagramAsync(Loopback.Wait, CancellationToken.None);
            Assert.NotNull(datagram);
            Assert.True(sent[i].AsSpan().SequenceEqual(datagram!.Data), $"datagram {i} differs (length {sent[i].Length} sent, {datagram.Length} received)");
        }
    }

    [Fact]
    public async Task AReplyGoesToTheSenderOnTheSocketItArrivedOn()
    {
        using SocketServer server = StartUdp();
        using SocketConnection client = await ConnectUdp(server.Port);
        client.Send("ping");
        SocketDatagram? ping = ((SocketConnection)server).ReceiveFrom();
        Assert.Equal("ping", ping!.Text);
        Assert.Equal(client.LocalEndPoint, ping.RemoteEndPoint);
        Assert.Same(server.DatagramSocket, ping.Connection);

        ping.Connection.SendTo(Encoding.UTF8.GetBytes("pong"), ping.RemoteEndPoint!);
        SocketDatagram? pong = client.ReceiveFrom();
        Assert.Equal("pong", pong!.Text);
        Assert.Equal(server.LocalEndPoint, pong.RemoteEndPoint);
    }

    [Fact]
    public async Task SendToTakesHostPortText()
    {
        using SocketServer server = StartUdp();
        using SocketServer other = StartUdp();
        ((SocketConnection)other).SendTo("to you", $"localhost:{server.Port}");
        Assert.Equal("to you", ((SocketConnection)server).ReceiveFrom()!.Text);
    }

    [Fact]
    public async Task ADatagramTooLargeForUdpIsRefusedBeforeAnythingIsSent()
    {
        using SocketServer server = StartUdp();
        using SocketConnection client = await ConnectUdp(server.Port);
        var ex = Assert.Throws<SocketOperationException>(() => client.Send(new byte[DatagramChannel.MaxUdpPayloadIPv4 + 1]));
        Assert.Equal(SocketFailureKind.DatagramTooLarge, ex.Kind);
        Assert.Contains("65507", ex.Message);
        Assert.Equal(0, client.BytesSent);
        Assert.Equal(0, client.DatagramsSent);

        client.Send(new byte[DatagramChannel.MaxUdpPayloadIPv4]);
        Assert.Equal(DatagramChannel.MaxUdpPayloadIPv4, ((SocketConnection)server).ReceiveFrom()!.Length);
    }

    /// <summary>Sends one datagram and waits until the receive loop has taken it from the kernel.</summary>
    private static void SendAndWait(SocketConnection client, byte[] data, SocketConnection receiver, long expectedCount)
    {
        client.Send(data);
        Loopback.Until(() => receiver.DatagramsReceived >= expectedCount, $"datagram {expectedCount} arrives");
    }

    [Fact]
    public async Task DatagramsNobodyReadsAreDroppedAndCountedNotBuffered()
    {
        using SocketServer server = StartUdp();
        using SocketConnection client = await ConnectUdp(server.Port);
        SocketConnection socket = server;
        byte[] data = new byte[1000];
        int total = DatagramChannel.QueueLimit + 500;
        for (int i = 0; i < total; i++)
        {
            SendAndWait(client, data, socket, i + 1);
        }

        Assert.Equal(500, socket.DroppedCount);
        Assert.Equal(DatagramChannel.QueueLimit * 1000L, socket.Available);

        // Reading makes room again: the next datagram is kept.
        Assert.NotNull(socket.ReceiveFrom());
        SendAndWait(client, new byte[] { 42 }, socket, total + 1);
        Assert.Equal(500, socket.DroppedCount);
    }

    [Fact]
    public async Task ICMPPortUnreachableIsReportedOnceAndTheSocketStaysUsable()
    {
        int closedPort;
        using (SocketServer gone = StartUdp())
        {
            closedPort = gone.Port;
        }

        using SocketConnection client = await ConnectUdp(closedPort, Loopback.Options(receiveTimeoutSeconds: 5));
        client.Send("anyone?");
        var ex = Assert.Throws<SocketOperationException>(() => client.ReceiveFrom());
        Assert.Equal(SocketFailureKind.ConnectionRefused, ex.Kind);
        Assert.Equal(SocketState.Open, client.State);
    }

    [Fact]
    public async Task BroadcastNeedsTheFlagAndThenReachesAWildcardListener()
    {
        using SocketServer listener = StartUdp(address: IPAddress.Any);
        string broadcast = $"127.255.255.255:{listener.Port}";

        using SocketServer plain = StartUdp();
        var denied = Assert.Throws<SocketOperationException>(() => ((SocketConnection)plain).SendTo("no flag", broadcast));
        Assert.Equal(SocketFailureKind.AccessDenied, denied.Kind);
        Assert.Contains("SO_BROADCAST", denied.Message);
        Assert.Equal(SocketSetting.Broadcast, denied.Setting);
        Assert.False(((SocketConnection)plain).Broadcast);

        using SocketServer flagged = StartUdp(new ConnectionOptions { Broadcast = true });
        Assert.True(((SocketConnection)flagged).Broadcast);
        ((SocketConnection)flagged).SendTo("to everyone", broadcast);
        Assert.Equal("to everyone", ((SocketConnection)listener).ReceiveFrom()!.Text);
    }

    [Fact]
    public async Task AMulticastGroupMemberReceivesWhatIsSentToTheGroup()
    {
        IPAddress group = IPAddress.Parse("239.255.77.1");
        using SocketServer member = SocketServer.Start(new IPEndPoint(IPAddress.Any, 0), 1, Loopback.Options(), protocol: SocketProtocol.Udp,
            multicastGroups: new[] { (group, (IPAddress?)IPAddress.Loopback) });
        using Socket sender = new(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        sender.SetSocketOption(SocketOptionLevel.IP, SocketOptionName.MulticastInterface, IPAddress.Loopback.GetAddressBytes());
        sender.SendTo(Encoding.UTF8.GetBytes("to the group"), new IPEndPoint(group, member.Port));
        Assert.Equal("to the group", ((SocketConnection)member).ReceiveFrom()!.Text);
    }

    [Fact]
    public void JoiningANonMulticastAddressIsAClearError()
    {
        var ex = Assert.Throws<SocketOperationException>(() => SocketServer.Start(new IPEndPoint(IPAddress.Any, 0), 1, Loopback.Options(),
            protocol: SocketProtocol.Udp, multicastGroups: new[] { (IPAddress.Parse("10.1.2.3"), (IPAddress?)null) }));
        Assert.Equal(SocketFailureKind.InvalidArgument, ex.Kind);
        Assert.Contains("multicast", ex.Message);
    }

    [Fact]
    public async Task StreamFramingOnADatagramSocketIsAnInvalidArgument()
    {
        using SocketServer server = StartUdp();
        SocketConnection socket = server;
        Assert.Equal(SocketFailureKind.InvalidArgument, Assert.Throws<SocketOperationException>(() => socket.ReceiveLine()).Kind);
        var ex = await Assert.ThrowsAsync<SocketOperationException>(() => socket.ReceiveToEndBytesAsync(TimeSpan.FromSeconds(1), CancellationToken.None));
        Assert.Contains("datagram", ex.Message);
    }

    [Fact]
    public void AnUnconnectedDatagramSocketNeedsAnAddressToSend()
    {
        using SocketServer server = StartUdp();
        var ex = Assert.Throws<SocketOperationException>(() => ((SocketConnection)server).Send("where to?"));
        Assert.Equal(SocketFailureKind.InvalidArgument, ex.Kind);
        Assert.Contains("needs an address", ex.Message);
        Assert.Equal(SocketSetting.RemoteEndPoint, ex.Setting);
    }

    [Fact]
    public async Task StoppingTheServerClosesItsSocketAndDisconnectingTheSocketStopsTheServer()
    {
        SocketServer first = StartUdp();
        SocketConnection socket = first;
        Task<SocketDatagram?> waiting = socket.ReceiveDatagramAsync(TimeSpan.Zero, CancellationToken.None).AsTask();
        first.Stop();
        Assert.Equal(SocketState.Disconnected, socket.State);
        await Assert.ThrowsAsync<SocketOperationException>(() => waiting.WaitAsync(Loopback.Wait));

        SocketServer second = StartUdp();
        ((SocketConnection)second).Close();
        Assert.Equal(ServerState.Stopped, second.State);
    }

    [Fact]
    public void AStreamServerCannotStandForAConnection()
    {
        using SocketServer tcp = Loopback.StartServer();
        var ex = Assert.Throws<InvalidCastException>(() => (SocketConnection)tcp);
        Assert.Contains("its data arrives on the connections it accepts", ex.Message);
        Assert.Equal(SocketFailureKind.InvalidArgument,
            Assert.Throws<SocketOperationException>(() => StartUdp().Accept(TimeSpan.FromSeconds(1))).Kind);
    }
}
