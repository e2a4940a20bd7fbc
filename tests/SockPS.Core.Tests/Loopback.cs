using System;
using System.Net;
using System.Net.Sockets;
using System.Threading;
using System.Threading.Tasks;
using SockPS.Core;
using Xunit;

namespace SockPS.Core.Tests;

/// <summary>Loopback fixtures: every test binds port 0 on 127.0.0.1 and bounds every wait.</summary>
internal static class Loopback
{
    public static readonly TimeSpan Wait = TimeSpan.FromSeconds(20);

    public static SocketServer StartServer(ConnectionOptions? options = null, int backlog = 16) =>
        SocketServer.Start(new IPEndPoint(IPAddress.Loopback, 0), backlog, options ?? new ConnectionOptions());

    /// <summary>A SockPS client connected to a SockPS server: (client, accepted).</summary>
    public static async Task<(SocketConnection Client, SocketConnection Accepted, SocketServer Server)> CreateConnectedPair(ConnectionOptions? options = null)
    {
        SocketServer server = StartServer(options);
        SocketConnection client = await SocketConnector.ConnectTcpAsync("127.0.0.1", server.Port, options ?? new ConnectionOptions(), Wait, null, CancellationToken.None)
            .WaitAsync(Wait);
        SocketConnection accepted = await server.AcceptAsync(Wait, CancellationToken.None).AsTask().WaitAsync(Wait);
        return (client, accepted, server);
    }

    /// <summary>A raw .NET socket on one side, a SockPS connection on the other, so a test
    /// controls exactly what goes on the wire: (raw peer, SockPS connection).</summary>
    public static async Task<(Socket Peer, SocketConnection Connection, SocketServer Server)> CreateRawPeer(ConnectionOptions? options = null)
    {
        SocketServer server = StartServer(options);
        Socket peer = new(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        await peer.ConnectAsync(new IPEndPoint(IPAddress.Loopback, server.Port)).WaitAsync(Wait);
        SocketConnection connection = await server.AcceptAsync(Wait, CancellationToken.None).AsTask().WaitAsync(Wait);
        return (peer, connection, server);
    }

    public static void SendAll(Socket socket, byte[] data, int offset, int count)
    {
        while (count > 0)
        {
            int sent = socket.Send(data, offset, count, SocketFlags.None);
            offset += sent;
            count -= sent;
        }
    }

    /// <summary>Starts a ReceiveLine on another thread, waits until it holds the reader, closes
    /// the connection here and checks that the receive ends with Closed within the test's bound.
    /// Give the connection no receive timeout, so only the close can end it.</summary>
    public static async Task CloseEndsAWaitingReceiveLine(SocketConnection connection)
    {
        Task<string?> waiting = Task.Run(() => connection.ReceiveLine());
        Until(() => connection.ReceiveInProgress, "the receive is waiting");
        connection.Close();
        SocketOperationException closed = await Assert.ThrowsAsync<SocketOperationException>(() => waiting.WaitAsync(Wait));
        Assert.Equal(SocketFailureKind.Closed, closed.Kind);
    }

    /// <summary>Waits (bounded) until a condition holds; fails with what it waited for.</summary>
    public static void Until(Func<bool> condition, string what)
    {
        Assert.True(SpinWait.SpinUntil(condition, Wait), "Timed out waiting until " + what);
    }

    public static ConnectionOptions Options(double receiveTimeoutSeconds = 20, System.Text.Encoding? encoding = null) => new()
    {
        ReceiveTimeout = TimeSpan.FromSeconds(receiveTimeoutSeconds),
        Encoding = encoding ?? TextEncodings.Utf8NoBom,
    };
}
