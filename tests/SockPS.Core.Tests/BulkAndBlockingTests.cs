using System;
using System.IO;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using Xunit;

namespace SockPS.Core.Tests;

public sealed class BulkAndBlockingTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("sockps-bulk-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public async Task AFileCrossesIntactAndBytesBufferedBeforeTheDirectReadComeFirst()
    {
        var (peer, connection, server) = await Loopback.CreateRawPeer(Loopback.Options());
        using (server)
        using (connection)
        {
            byte[] data = TransferTests.RandomBytes(5 * 1024 * 1024 + 321, seed: 21);
            // The first part is in the pipe before the transfer starts; the rest arrives while
            // the transfer reads the socket directly. Order and completeness must hold.
            Loopback.SendAll(peer, data, 0, 100_000);
            Loopback.Until(() => connection.Available == 100_000, "the first part is buffered");
            string path = Path.Combine(_dir, "out.bin");
            TransferProgress progress = new();
            Task receive = connection.ReceiveToFileAsync(path, null, Loopback.Wait, progress, CancellationToken.None);
            Loopback.SendAll(peer, data, 100_000, data.Length - 100_000);
            peer.Shutdown(SocketShutdown.Send);
            await receive.WaitAsync(TimeSpan.FromSeconds(60));

            Assert.Equal(SHA256.HashData(data), SHA256.HashData(File.ReadAllBytes(path)));
            Assert.Equal(data.Length, progress.Bytes);
            Assert.Equal(SocketState.Closed, connection.State);
            Assert.Equal(0, connection.Available);
            peer.Dispose();
        }
    }

    [Fact]
    public async Task AByteCountToAFileLeavesTheRestReadable()
    {
        var (client, accepted, server) = await Loopback.CreateConnectedPair(Loopback.Options());
        using (server)
        using (client)
        using (accepted)
        {
            string source = Path.Combine(_dir, "source.bin");
            byte[] data = TransferTests.RandomBytes(3 * 1024 * 1024, seed: 22);
            File.WriteAllBytes(source, data);
            TransferProgress sent = new();
            await client.SendFileAsync(source, sent, CancellationToken.None).WaitAsync(Loopback.Wait);
            client.SendLine("after the file");
            Assert.Equal(data.Length, sent.Total);

            string target = Path.Combine(_dir, "target.bin");
            await accepted.ReceiveToFileAsync(target, data.Length, Loopback.Wait, new TransferProgress(), CancellationToken.None).WaitAsync(Loopback.Wait);
            Assert.Equal(SHA256.HashData(data), SHA256.HashData(File.ReadAllBytes(target)));
            Assert.Equal("after the file", accepted.ReceiveLine());
        }
    }

    [Fact]
    public async Task APeerClosingBeforeTheByteCountIsEndOfStreamAndTheFileHoldsWhatCame()
    {
        var (peer, connection, server) = await Loopback.CreateRawPeer(Loopback.Options());
        using (server)
        using (connection)
        {
            Loopback.SendAll(peer, new byte[1000], 0, 1000);
            peer.Shutdown(SocketShutdown.Send);
            string path = Path.Combine(_dir, "short.bin");
            var ex = await Assert.ThrowsAsync<SocketOperationException>(() =>
                connection.ReceiveToFileAsync(path, 5000, Loopback.Wait, new TransferProgress(), CancellationToken.None));
            Assert.Equal(SocketFailureKind.EndOfStream, ex.Kind);
            Assert.Equal(1000, new FileInfo(path).Length);
            peer.Dispose();
        }
    }

    [Fact]
    public async Task BlockingReceivesParkTheLoopAndEverythingElseStillWorks()
    {
        var (peer, connection, server) = await Loopback.CreateRawPeer(Loopback.Options());
        using (server)
        using (connection)
        {
            for (int i = 0; i < 50; i++)
            {
                peer.Send(Encoding.ASCII.GetBytes($"line {i}\n"));
                Assert.Equal($"line {i}", connection.ReceiveLine());
            }

            // An async receive right after blocking ones brings the loop back at once.
            Task<object?> waiting = connection.ReceiveAsync(new ReceiveRequest(ReceiveMode.Line, true, Loopback.Wait), CancellationToken.None).AsTask();
            peer.Send(Encoding.ASCII.GetBytes("async\n"));
            Assert.Equal("async", await waiting.WaitAsync(Loopback.Wait));

            // After blocking receives stop, the loop notices the peer closing by itself.
            peer.Send(Encoding.ASCII.GetBytes("last\n"));
            Assert.Equal("last", connection.ReceiveLine());
            peer.Shutdown(SocketShutdown.Send);
            Loopback.Until(() => connection.State == SocketState.Closed, "the loop comes back and sees the end of the stream");
            Assert.Null(connection.ReceiveLine());
            peer.Dispose();
        }
    }

    [Fact]
    public async Task ABlockingReceiveStopsPromptlyWhenCancelledAndLosesNothing()
    {
        var (peer, connection, server) = await Loopback.CreateRawPeer(Loopback.Options(receiveTimeoutSeconds: 0));
        using (server)
        using (peer)
        using (connection)
        {
            using CancellationTokenSource cts = new();
            Task<object?> blocked = Task.Run(() => connection.ReceiveBlocking(new ReceiveRequest(ReceiveMode.Line, true, TimeSpan.Zero), cts.Token));
            Loopback.Until(() => connection.ReceiveInProgress, "the blocking receive waits");
            peer.Send(Encoding.ASCII.GetBytes("part"));
            Loopback.Until(() => connection.BytesReceived == 4, "the partial line is read");
            cts.Cancel();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => blocked.WaitAsync(Loopback.Wait));

            peer.Send(Encoding.ASCII.GetBytes("ial\n"));
            Assert.Equal("partial", connection.ReceiveLine());
        }
    }

    [Fact]
    public async Task ABlockingReceiveTimesOutAndTheConnectionStaysUsable()
    {
        var (peer, connection, server) = await Loopback.CreateRawPeer(Loopback.Options(receiveTimeoutSeconds: 0.2));
        using (server)
        using (peer)
        using (connection)
        {
            var ex = Assert.Throws<SocketOperationException>(() => connection.Receive(4));
            Assert.Equal(SocketFailureKind.ReceiveTimeout, ex.Kind);
            peer.Send(new byte[] { 1, 2, 3, 4 });
            Assert.Equal(new byte[] { 1, 2, 3, 4 }, connection.Receive(4));
        }
    }
}
