using System;
using System.Net;
using System.Net.WebSockets;
using System.Threading;
using System.Threading.Tasks;
using Xunit;

namespace SockPS.Core.Tests;

/// <summary>The WebSocket connection kind in the engine: the upgrade, close codes both ways, and
/// pings answered by .NET's WebSocket under SockPS's loop. (Interop with Python's websockets and
/// Node's ws is in tests/pester/WebSocket.Tests.ps1.)</summary>
public class WebSocketTests
{
    private static SocketServer StartWebSocketServer(string? path = null) =>
        SocketServer.Start(new IPEndPoint(IPAddress.Loopback, 0), 16, Loopback.Options(), policy: new ServerPolicy
        {
            WebSocket = new WebSocketServerOptions { Path = path, SubProtocols = new[] { "chat.v1" } },
        });

    private static Task<SocketConnection> ConnectAsync(SocketServer server, string resource = "/", params string[] subProtocols) =>
        SocketConnector.ConnectWebSocketAsync("127.0.0.1", server.Port,
            new WebSocketClientOptions { Resource = resource, HostHeader = "127.0.0.1:" + server.Port, SubProtocols = subProtocols },
            Loopback.Options(), Loopback.Wait, null, CancellationToken.None);

    [Fact]
    public void TheAcceptKeyIsRfc6455s()
    {
        // RFC 6455 section 1.3's worked example.
        Assert.Equal("s3pPLMBiTxaQ9kYGzzhZRbK+xOo=", WebSocketHandshake.AcceptFor("dGhlIHNhbXBsZSBub25jZQ=="));
    }

    [Fact]
    public async Task AMessageIsOneObjectAndTheCloseCodeShowsOnTheOtherSide()
    {
        using SocketServer server = StartWebSocketServer("/chat");
        using SocketConnection client = await ConnectAsync(server, "/chat?room=1", "other", "chat.v1");
        using SocketConnection accepted = server.Accept(Loopback.Wait);
        Assert.True(client.IsWebSocket);
        Assert.Equal("chat.v1", client.SubProtocol);
        Assert.Equal("/chat?room=1", accepted.Resource);

        client.Send("first");
        client.Send(new byte[] { 1, 2, 3 });
        SocketDatagram? text = await accepted.ReceiveDatagramAsync(Loopback.Wait, CancellationToken.None);
        SocketDatagram? binary = await accepted.ReceiveDatagramAsync(Loopback.Wait, CancellationToken.None);
        Assert.Equal("Text", text!.MessageType);
        Assert.Equal("first", text.Text);
        Assert.Equal("Binary", binary!.MessageType);
        Assert.Equal(new byte[] { 1, 2, 3 }, binary.Data);

        accepted.Close("done", (WebSocketCloseStatus)4010, "server says bye");
        Assert.Null(await client.ReceiveDatagramAsync(Loopback.Wait, CancellationToken.None));
        Assert.Equal(SocketState.Closed, client.State);
        Assert.Equal(4010, client.WebSocketCloseStatus);
        Assert.Equal("The remote host closed the WebSocket: 4010 (application-defined) 'server says bye'.", client.CloseReason);
        Assert.Equal("done WebSocket close 4010 (application-defined) 'server says bye'.", accepted.CloseReason);
    }

    [Fact]
    public async Task AnotherPathIsRefusedWith404AndCounted()
    {
        using SocketServer server = StartWebSocketServer("/chat");
        SocketOperationException error = await Assert.ThrowsAsync<SocketOperationException>(() => ConnectAsync(server, "/other"));
        Assert.Equal(SocketFailureKind.WebSocketHandshake, error.Kind);
        Assert.Contains("HTTP/1.1 404 Not Found", error.Message);
        Loopback.Until(() => server.AcceptErrorCount == 1, "the refused upgrade is counted");
        Assert.Contains("asked for /other", server.LastAcceptError);
    }

    [Fact]
    public async Task APingFromAnIndependentClientIsAnswered()
    {
        // .NET's own ClientWebSocket cannot send pings; a raw socket sends a masked ping frame
        // and must get the pong with the same payload back while SockPS's loop reads.
        using SocketServer server = StartWebSocketServer();
        using System.Net.Sockets.Socket raw = new(System.Net.Sockets.AddressFamily.InterNetwork, System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp);
        await raw.ConnectAsync(IPAddress.Loopback, server.Port).WaitAsync(Loopback.Wait);
        using System.Net.Sockets.NetworkStream stream = new(raw);
        WebSocketUpgrade upgrade = await WebSocketHandshake.ClientAsync(stream, new WebSocketClientOptions(), "server", CancellationToken.None).WaitAsync(Loopback.Wait);
        using SocketConnection accepted = server.Accept(Loopback.Wait);

        byte[] payload = { (byte)'h', (byte)'i' };
        byte[] mask = { 1, 2, 3, 4 };
        byte[] frame = { 0x89, (byte)(0x80 | payload.Length), mask[0], mask[1], mask[2], mask[3], (byte)(payload[0] ^ mask[0]), (byte)(payload[1] ^ mask[1]) };
        await upgrade.Stream.WriteAsync(frame).AsTask().WaitAsync(Loopback.Wait);
        byte[] pong = new byte[4];
        int read = 0;
        while (read < pong.Length)
        {
            int n = await upgrade.Stream.ReadAsync(pong.AsMemory(read)).AsTask().WaitAsync(Loopback.Wait);
            Assert.NotEqual(0, n);
            read += n;
        }

        Assert.Equal(new byte[] { 0x8A, 2, (byte)'h', (byte)'i' }, pong);
    }
}
