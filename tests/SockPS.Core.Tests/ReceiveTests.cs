using System;
using System.Net.Sockets;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using Xunit;

namespace SockPS.Core.Tests;

public class ReceiveTests
{
    [Fact]
    public async Task AMultiByteCharacterSplitAcrossReadsDecodesWhole()
    {
        var (peer, connection, server) = await Loopback.CreateRawPeer(Loopback.Options());
        using (server)
        using (peer)
        using (connection)
        {
            byte[] euro = Encoding.UTF8.GetBytes("€"); // three bytes
            peer.Send(new byte[] { (byte)'a', euro[0] });
            Loopback.Until(() => connection.BytesReceived == 2, "two bytes arrive");
            Assert.Equal("a", connection.ReceiveAvailable());

            peer.Send(new byte[] { euro[1] });
            Loopback.Until(() => connection.BytesReceived == 3, "the second byte arrives");
            peer.Send(new byte[] { euro[2], (byte)'b' });
            Assert.Equal("€b", await ReceiveAvailableUntil(connection, "€b"));
        }
    }

    private static async Task<string> ReceiveAvailableUntil(SocketConnection connection, string expected)
    {
        StringBuilder text = new();
        while (text.Length < expected.Length)
        {
            object? got = await connection.ReceiveAsync(new ReceiveRequest(ReceiveMode.Available, true, Loopback.Wait), CancellationToken.None);
            Assert.NotNull(got);
            text.Append((string)got!);
        }

        return text.ToString();
    }

    [Fact]
    public async Task AReceiveTimeoutLeavesTheConnectionUsableAndLosesNothing()
    {
        var (peer, connection, server) = await Loopback.CreateRawPeer(Loopback.Options(receiveTimeoutSeconds: 0.3));
        using (server)
        using (peer)
        using (connection)
        {
            peer.Send(Encoding.UTF8.GetBytes("partial "));
            Loopback.Until(() => connection.BytesReceived == 8, "the partial line arrives");

            var ex = Assert.Throws<SocketOperationException>(() => connection.ReceiveLine());
            Assert.Equal(SocketFailureKind.ReceiveTimeout, ex.Kind);
            Assert.Contains("still open", ex.Message);
            Assert.Equal(SocketState.Open, connection.State);

            peer.Send(Encoding.UTF8.GetBytes("line\n"));
            Assert.Equal("partial line", connection.ReceiveLine());
        }
    }

    [Fact]
    public async Task ACancelledReceiveLeavesTheConnectionUsable()
    {
        var (peer, connection, server) = await Loopback.CreateRawPeer(Loopback.Options());
        using (server)
        using (peer)
        using (connection)
        {
            using CancellationTokenSource cts = new();
            Task<object?> pending = connection.ReceiveAsync(new ReceiveRequest(ReceiveMode.Line, true, TimeSpan.Zero), cts.Token).AsTask();
            Assert.False(pending.IsCompleted);
            cts.Cancel();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => pending.WaitAsync(Loopback.Wait));

            peer.Send(Encoding.UTF8.GetBytes("after cancel\r\n"));
            Assert.Equal("after cancel", connection.ReceiveLine());
        }
    }

    [Fact]
    public async Task DelimiterSplitAcrossChunksIsFoundAndConsumed()
    {
        var (peer, connection, server) = await Loopback.CreateRawPeer(Loopback.Options());
        using (server)
        using (peer)
        using (connection)
        {
            peer.Send(Encoding.UTF8.GetBytes("first<EN"));
            Loopback.Until(() => connection.BytesReceived == 8, "the first chunk arrives");
            peer.Send(Encoding.UTF8.GetBytes("D>second<END>"));

            ReceiveRequest request = new(ReceiveMode.Delimiter, true, Loopback.Wait, delimiter: "<END>");
            Assert.Equal("first", await connection.ReceiveAsync(request, CancellationToken.None));
            Assert.Equal("second", await connection.ReceiveAsync(request, CancellationToken.None));
            Assert.Equal(0, connection.Available);
        }
    }

    [Fact]
    public async Task ByteCountCutsExactlyAndLeavesTheRest()
    {
        var (peer, connection, server) = await Loopback.CreateRawPeer(Loopback.Options());
        using (server)
        using (peer)
        using (connection)
        {
            peer.Send(new byte[] { 1, 2, 3, 4, 5, 6, 7 });
            Assert.Equal(new byte[] { 1, 2, 3 }, connection.Receive(3));
            Assert.Equal(new byte[] { 4, 5, 6, 7 }, connection.Receive(4));
        }
    }

    [Fact]
    public async Task PeerClosingBeforeTheByteCountKeepsThePartialDataReadable()
    {
        var (peer, connection, server) = await Loopback.CreateRawPeer(Loopback.Options());
        using (server)
        using (connection)
        {
            peer.Send(new byte[] { 9, 8, 7 });
            peer.Shutdown(SocketShutdown.Send);
            var ex = Assert.Throws<SocketOperationException>(() => connection.Receive(10));
            Assert.Equal(SocketFailureKind.EndOfStream, ex.Kind);
            Assert.Contains("3 of the 10 bytes", ex.Message);
            Assert.Equal(new byte[] { 9, 8, 7 }, connection.ReceiveAvailableBytes());
            Assert.Null(connection.ReceiveAvailableBytes());
            peer.Dispose();
        }
    }

    [Fact]
    public async Task LinesEndWithLfOrCrLfAndTheLastUnterminatedLineIsReturnedAtTheEnd()
    {
        var (peer, connection, server) = await Loopback.CreateRawPeer(Loopback.Options());
        using (server)
        using (connection)
        {
            peer.Send(Encoding.UTF8.GetBytes("one\r\ntwo\n\nlast"));
            peer.Shutdown(SocketShutdown.Send);
            Assert.Equal("one", connection.ReceiveLine());
            Assert.Equal("two", connection.ReceiveLine());
            Assert.Equal(string.Empty, connection.ReceiveLine());
            Assert.Equal("last", connection.ReceiveLine());
            Assert.Null(connection.ReceiveLine());
            Assert.Equal(SocketState.Closed, connection.State);
            Assert.Equal("The remote host closed the connection.", connection.CloseReason);
            peer.Dispose();
        }
    }

    [Fact]
    public async Task Utf16LinesAreFramedOnCharacterBoundaries()
    {
        Encoding unicode = new UnicodeEncoding(bigEndian: false, byteOrderMark: false);
        var (peer, connection, server) = await Loopback.CreateRawPeer(Loopback.Options(encoding: unicode));
        using (server)
        using (peer)
        using (connection)
        {
            // U+0A0A is 0A 0A in UTF-16LE: a byte-wise search would cut the line inside it.
            string first = "x\u0A0Ay";
            peer.Send(unicode.GetBytes(first + "\n" + "second\r\n"));
            Assert.Equal(first, connection.ReceiveLine());
            Assert.Equal("second", connection.ReceiveLine());
        }
    }

    [Fact]
    public async Task ALineLongerThanTheFrameLimitFailsAndStaysBuffered()
    {
        var (peer, connection, server) = await Loopback.CreateRawPeer(Loopback.Options());
        using (server)
        using (peer)
        using (connection)
        {
            byte[] big = new byte[(int)Framer.MaxFrameLength + 1];
            Array.Fill(big, (byte)'x');
            Task sender = Task.Run(() => Loopback.SendAll(peer, big, 0, big.Length));
            var ex = Assert.Throws<SocketOperationException>(() => connection.ReceiveLine());
            Assert.Equal(SocketFailureKind.FrameTooLong, ex.Kind);
            Assert.True(connection.Available >= Framer.MaxFrameLength);
            peer.Send(Encoding.ASCII.GetBytes("\n"));
            byte[]? head = connection.Receive(10);
            Assert.Equal("xxxxxxxxxx", Encoding.ASCII.GetString(head!));
            await sender.WaitAsync(Loopback.Wait);
        }
    }

    [Fact]
    public async Task AResetIsReportedOnceAfterTheBufferedDataIsRead()
    {
        var (peer, connection, server) = await Loopback.CreateRawPeer(Loopback.Options());
        using (server)
        using (connection)
        {
            peer.Send(Encoding.UTF8.GetBytes("last words\n"));
            Loopback.Until(() => connection.BytesReceived == 11, "the data arrives before the reset");
            peer.LingerState = new LingerOption(true, 0); // close with RST
            peer.Dispose();
            Loopback.Until(() => connection.State == SocketState.Closed, "the reset is seen");

            Assert.Equal("last words", connection.ReceiveLine());
            var ex = Assert.Throws<SocketOperationException>(() => connection.ReceiveLine());
            Assert.Equal(SocketFailureKind.ConnectionReset, ex.Kind);
            Assert.Null(connection.ReceiveLine());
            Assert.Equal("The remote host reset the connection.", connection.CloseReason);
        }
    }

    [Fact]
    public async Task AClosedConnectionRefusesUse()
    {
        var (client, accepted, server) = await Loopback.CreateConnectedPair(Loopback.Options());
        using (server)
        using (accepted)
        {
            client.Close();
            client.Close(); // idempotent
            Assert.Equal(SocketState.Disconnected, client.State);
            Assert.Equal(SocketFailureKind.Closed, Assert.Throws<SocketOperationException>(() => client.Send("x")).Kind);
            Assert.Equal(SocketFailureKind.Closed, Assert.Throws<SocketOperationException>(() => client.ReceiveLine()).Kind);

            Assert.Null(accepted.ReceiveLine());
            Assert.Equal(SocketState.Closed, accepted.State);
        }
    }

    [Fact]
    public async Task ClosingWakesAReceiveWaitingInAnotherThread()
    {
        var (client, accepted, server) = await Loopback.CreateConnectedPair(Loopback.Options(receiveTimeoutSeconds: 0));
        using (server)
        using (accepted)
        {
            await Loopback.CloseEndsAWaitingReceiveLine(client);
        }
    }

    [Fact]
    public async Task ChangingTheEncodingWhileAReceiveWaitsNeitherBlocksNorCorruptsTheNextRead()
    {
        var (peer, connection, server) = await Loopback.CreateRawPeer(Loopback.Options());
        using (server)
        using (peer)
        using (connection)
        {
            Task<string?> waiting = Task.Run(() => connection.ReceiveLine());
            Loopback.Until(() => connection.ReceiveInProgress, "the receive is waiting");
            Encoding latin1 = Encoding.Latin1;
            Assert.True(Task.Run(() => connection.Encoding = latin1).Wait(Loopback.Wait), "setting the encoding blocked");

            peer.Send(new byte[] { (byte)'a', (byte)'\n' });
            Assert.Equal("a", await waiting.WaitAsync(Loopback.Wait));
            peer.Send(new byte[] { 0xE9, (byte)'\n' });
            Assert.Equal("é", connection.ReceiveLine());
            Assert.Same(latin1, connection.Encoding);
        }
    }

    [Fact]
    public async Task AfterAReceiveGivesUpTheNextOneSeesWhatIsBuffered()
    {
        var (peer, connection, server) = await Loopback.CreateRawPeer(Loopback.Options(receiveTimeoutSeconds: 0.2));
        using (server)
        using (peer)
        using (connection)
        {
            peer.Send(Encoding.UTF8.GetBytes("no line end"));
            Loopback.Until(() => connection.Available == 11, "the text arrives");
            Assert.Equal(SocketFailureKind.ReceiveTimeout, Assert.Throws<SocketOperationException>(() => connection.ReceiveLine()).Kind);
            // No new bytes arrive: the buffered ones must still be found, by both paths.
            Assert.Equal(SocketFailureKind.ReceiveTimeout,
                (await Assert.ThrowsAsync<SocketOperationException>(() => connection.ReceiveAsync(new ReceiveRequest(ReceiveMode.Line, true, TimeSpan.FromSeconds(0.2)), CancellationToken.None).AsTask())).Kind);
            Assert.Equal("no line end", connection.ReceiveAvailable());
        }
    }
}
