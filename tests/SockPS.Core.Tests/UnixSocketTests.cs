using System;
using System.IO;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Threading;
using System.Threading.Tasks;
using Xunit;

namespace SockPS.Core.Tests;

public sealed class UnixSocketTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("sockps-test-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string PathOf(string name) => Path.Combine(_dir, name);

    /// <summary>A socket file nobody listens on. .NET deletes a socket's file when the socket is
    /// disposed, so the file is bound under another name and renamed first (rename keeps it a
    /// socket), as a crashed server would leave it.</summary>
    private string StaleSocketFile(string name)
    {
        string path = PathOf(name);
        string bound = PathOf(name + ".tmp");
        using (Socket dead = new(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified))
        {
            dead.Bind(UnixSockets.CreateEndPoint(bound));
            File.Move(bound, path);
        }

        Assert.True(File.Exists(path), "the stale socket file exists");
        return path;
    }

    [Fact]
    public void UnixSocketsAreSupportedHere() => Assert.True(UnixSockets.IsSupported);

    [Fact]
    public async Task AMebibyteCrossesAUnixStreamSocketIntact()
    {
        string path = PathOf("stream.sock");
        using SocketServer server = SocketServer.StartUnix(path, 8, Loopback.Options());
        Assert.Equal("Unix", server.Transport);
        Assert.Equal(path, server.Path);
        using SocketConnection client = await SocketConnector.ConnectUnixAsync(path, SocketProtocol.Tcp, Loopback.Options(), Loopback.Wait, CancellationToken.None)
            .WaitAsync(Loopback.Wait);
        using SocketConnection accepted = server.Accept(Loopback.Wait);

        byte[] data = TransferTests.RandomBytes(1 << 20, seed: 11);
        Task send = Task.Run(() => { client.Send(data); client.ShutdownSend(); });
        byte[] got = await accepted.ReceiveToEndBytesAsync(Loopback.Wait, CancellationToken.None).WaitAsync(Loopback.Wait);
        await send.WaitAsync(Loopback.Wait);
        Assert.Equal(SHA256.HashData(data), SHA256.HashData(got));
        Assert.Equal("Unix", client.Transport);
        Assert.Equal(AddressFamily.Unix, accepted.AddressFamily);
    }

    [Fact]
    public async Task UnixDatagramsGoBothWays()
    {
        string path = PathOf("dgram.sock");
        using SocketServer server = SocketServer.StartUnix(path, 1, Loopback.Options(), protocol: SocketProtocol.Udp);
        Assert.Equal("Unix-Dgram", server.Transport);
        SocketConnection client = await SocketConnector.ConnectUnixAsync(path, SocketProtocol.Udp, Loopback.Options(), Loopback.Wait, CancellationToken.None)
            .WaitAsync(Loopback.Wait);
        string clientPath = client.LocalEndPoint!.ToString()!;
        Assert.True(File.Exists(clientPath), "the client datagram socket is bound so the server can reply");

        client.Send("hello unix");
        SocketDatagram? hello = ((SocketConnection)server).ReceiveFrom();
        Assert.Equal("hello unix", hello!.Text);
        hello.Connection.SendTo(System.Text.Encoding.UTF8.GetBytes("reply"), hello.RemoteEndPoint!);
        Assert.Equal("reply", client.ReceiveFrom()!.Text);

        client.Close();
        Assert.False(File.Exists(clientPath), "the client's socket file is removed on close");
    }

    [Fact]
    public void AStaleSocketFileIsReplacedAndRemovedWhenTheServerStops()
    {
        string path = StaleSocketFile("stale.sock");
        SocketServer server = SocketServer.StartUnix(path, 8, Loopback.Options());
        Assert.Equal(ServerState.Listening, server.State);
        server.Stop();
        Assert.False(File.Exists(path));
    }

    [Fact]
    public void ALiveSocketFileIsAddressInUse()
    {
        string path = PathOf("live.sock");
        using SocketServer first = SocketServer.StartUnix(path, 8, Loopback.Options());
        var ex = Assert.Throws<SocketOperationException>(() => SocketServer.StartUnix(path, 8, Loopback.Options()));
        Assert.Equal(SocketFailureKind.AddressInUse, ex.Kind);
        Assert.Contains("another server is listening", ex.Message);
        Assert.Equal(ServerState.Listening, first.State);
    }

    [Fact]
    public void ARegularFileInTheWayIsNeverDeleted()
    {
        string path = PathOf("not-a-socket.txt");
        File.WriteAllText(path, "precious");
        var ex = Assert.Throws<SocketOperationException>(() => SocketServer.StartUnix(path, 8, Loopback.Options()));
        Assert.Equal(SocketFailureKind.AddressInUse, ex.Kind);
        Assert.Contains("not a socket", ex.Message);
        Assert.Equal("precious", File.ReadAllText(path));
    }

    [Fact]
    public async Task ConnectingToAMissingPathSaysTheFileDoesNotExist()
    {
        var ex = await Assert.ThrowsAsync<SocketOperationException>(() =>
            SocketConnector.ConnectUnixAsync(PathOf("missing.sock"), SocketProtocol.Tcp, Loopback.Options(), Loopback.Wait, CancellationToken.None));
        Assert.Equal(SocketFailureKind.HostNotFound, ex.Kind);
        Assert.Contains("does not exist", ex.Message);
    }

    [Fact]
    public async Task ConnectingToAStaleFileIsRefused()
    {
        string path = StaleSocketFile("refused.sock");

        var ex = await Assert.ThrowsAsync<SocketOperationException>(() =>
            SocketConnector.ConnectUnixAsync(path, SocketProtocol.Tcp, Loopback.Options(), Loopback.Wait, CancellationToken.None));
        Assert.Equal(SocketFailureKind.ConnectionRefused, ex.Kind);
    }
}
