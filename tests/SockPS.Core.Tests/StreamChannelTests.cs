using System;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using Xunit;

namespace SockPS.Core.Tests;

/// <summary>
/// The stream channel's one hand-over: the background loop, the caller's thread and bulk sinks
/// take turns reading the socket. Whoever reads, every byte reaches the next receive exactly
/// once, and a switch never leaves data in the buffer while the new reader waits on the socket.
/// </summary>
public class StreamChannelTests
{
    [Fact]
    public async Task AlternatingReadersNeitherLoseNorStrandAByte()
    {
        var (peer, connection, server) = await Loopback.CreateRawPeer(Loopback.Options(receiveTimeoutSeconds: 20));
        using (server)
        using (peer)
        using (connection)
        {
            Random random = new(5);
            for (int i = 0; i < 300; i++)
            {
                string line = $"line {i}";
                int kind = random.Next(4);
                if (random.Next(2) == 0)
                {
                    // Sent before the receive starts: it may already be in the loop's buffer.
                    peer.Send(Encoding.ASCII.GetBytes(line + "\n"));
                }
                else
                {
                    _ = Task.Run(() => peer.Send(Encoding.ASCII.GetBytes(line + "\n")));
                }

                string? got = kind switch
                {
                    0 => connection.ReceiveLine(), // the caller's thread reads
                    1 => (string?)await connection.ReceiveAsync(new ReceiveRequest(ReceiveMode.Line, true, Loopback.Wait), CancellationToken.None).AsTask().WaitAsync(Loopback.Wait),
                    2 => (string?)connection.ReceiveBlocking(new ReceiveRequest(ReceiveMode.Line, true, Loopback.Wait), new CancellationTokenSource().Token),
                    _ => (await connection.WaitForPatternAsync(new System.Text.RegularExpressions.Regex("\n"), Loopback.Wait, CancellationToken.None).WaitAsync(Loopback.Wait))!.Text.TrimEnd('\n'),
                };
                Assert.Equal(line, got);
            }

            Assert.Equal(0, connection.Available);
        }
    }

    [Fact]
    public async Task AParkedLoopStillNoticesThePeerClosingWhenAskedForTheState()
    {
        var (peer, connection, server) = await Loopback.CreateRawPeer(Loopback.Options());
        using (server)
        using (connection)
        {
            peer.Send(Encoding.ASCII.GetBytes("hello\n"));
            Assert.Equal("hello", connection.ReceiveLine()); // read on this thread; the loop stays parked
            peer.Shutdown(SocketShutdown.Send);
            Loopback.Until(() => connection.State == SocketState.Closed, "State looks at the socket while the loop is parked");
            Assert.Equal("The remote host closed the connection.", connection.CloseReason);
            peer.Dispose();
        }
    }

    [Fact]
    public async Task AParkedLoopStillCountsWhatArrivesWhenAskedForBytesReceived()
    {
        var (peer, connection, server) = await Loopback.CreateRawPeer(Loopback.Options());
        using (server)
        using (peer)
        using (connection)
        {
            // A receive with nothing there waits on this thread and gives up: the loop stays parked.
            connection.ReceiveTimeoutSeconds = 0.2;
            Assert.Equal(SocketFailureKind.ReceiveTimeout, Assert.Throws<SocketOperationException>(() => connection.ReceiveLine()).Kind);
            peer.Send(new byte[10]);
            Loopback.Until(() => connection.BytesReceived == 10, "BytesReceived looks at the socket while the loop is parked");
            Assert.Equal(10, connection.Available);
        }
    }

    /// <summary>A client connection a cmdlet makes (the connect waits on the caller's thread)
    /// to a raw listener: (raw peer, parked connection).</summary>
    private static async Task<(Socket Peer, SocketConnection Connection)> ConnectParked(ConnectionOptions? options = null)
    {
        using Socket listener = new(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen(1);
        SocketConnection connection = await SocketConnector.ConnectTcpAsync("127.0.0.1", ((IPEndPoint)listener.LocalEndPoint!).Port, options ?? Loopback.Options(),
            Loopback.Wait, null, CancellationToken.None, waitOnThisThread: true);
        Socket peer = await listener.AcceptAsync().WaitAsync(Loopback.Wait);
        return (peer, connection);
    }

    [Fact]
    public async Task AConnectionACmdletMakesIsReadOnlyByItsReceivesUntilSomeoneListens()
    {
        // No loop, so no asynchronous read: on Linux the socket is never registered with .NET's
        // epoll thread, which every arriving packet would wake (README, Performance).
        var (peer, connection) = await ConnectParked();
        using (peer)
        using (connection)
        {
            Assert.False(connection.ReadsInBackground);
            Assert.True(connection.ReceivesInOneBlockingCall);
            peer.Send(Encoding.ASCII.GetBytes("hello\n"));
            Assert.Equal("hello", connection.ReceiveLine());
            Assert.False(connection.ReadsInBackground);
            Assert.True(connection.ReceivesInOneBlockingCall);

            TaskCompletionSource<int> arrived = new(TaskCreationOptions.RunContinuationsAsynchronously);
            connection.DataReceived += (_, e) => arrived.TrySetResult(e.Bytes);
            Assert.True(connection.ReadsInBackground);
            peer.Send(new byte[] { 1, 2, 3 });
            Assert.Equal(3, await arrived.Task.WaitAsync(Loopback.Wait));
            Assert.False(connection.ReceivesInOneBlockingCall); // the loop's reads made the handle non-blocking
        }
    }

    [Fact]
    public async Task ATranscriptKeepsAParkedConnectionReadingSoArrivalsAreRecordedWhenTheyArrive()
    {
        var (peer, connection) = await ConnectParked();
        using (peer)
        using (connection)
        {
            Assert.NotNull(connection.StartTranscript(null));
            Assert.True(connection.ReadsInBackground);
            peer.Send(Encoding.ASCII.GetBytes("hello\n"));
            Loopback.Until(() => connection.Transcript!.EntryCount == 1, "the arrival is recorded with no receive asking for it");
            Assert.Equal(("Received", "hello\n"), (connection.Transcript!.Snapshot()[0].Direction.ToString(), connection.Transcript.Snapshot()[0].Text));

            Assert.NotNull(connection.StopTranscript(TimeSpan.FromSeconds(5)));
            Assert.Equal("hello", connection.ReceiveLine());
            peer.Send(Encoding.ASCII.GetBytes("more\n"));
            Assert.Equal("more", connection.ReceiveLine());
            Assert.False(connection.ReadsInBackground); // nobody holds it now: the receive parked it
        }

        // A transcript from the connect on: the connection never starts parked.
        string path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "sockps-parked-" + Guid.NewGuid().ToString("N") + ".jsonl");
        try
        {
            ConnectionOptions options = Loopback.Options();
            options.TranscriptPath = path;
            var (recordedPeer, recorded) = await ConnectParked(options);
            using (recordedPeer)
            using (recorded)
            {
                Assert.True(recorded.ReadsInBackground);
            }
        }
        finally
        {
            System.IO.File.Delete(path);
        }
    }

    [Fact]
    public async Task AnEventHandlerThatThrowsIsOneFaultAndTheConnectionGoesOnReceiving()
    {
        // Handlers run on the receive loop's thread: one that throws (a script block added with
        // add_DataReceived has no runspace there) used to end the loop and the connection.
        var (peer, connection, server) = await Loopback.CreateRawPeer(Loopback.Options());
        using (server)
        using (peer)
        using (connection)
        {
            int calls = 0;
            TaskCompletionSource<int> second = new(TaskCreationOptions.RunContinuationsAsynchronously);
            connection.DataReceived += (_, _) => throw new InvalidOperationException("boom");
            connection.DataReceived += (_, e) =>
            {
                if (Interlocked.Increment(ref calls) == 2)
                {
                    second.TrySetResult(e.Bytes);
                }
            };

            peer.Send(Encoding.ASCII.GetBytes("one\n"));
            Assert.Equal("one", connection.ReceiveLine());
            peer.Send(Encoding.ASCII.GetBytes("two\n"));
            Assert.Equal("two", connection.ReceiveLine());
            Assert.Equal(4, await second.Task.WaitAsync(Loopback.Wait));

            Assert.Equal(SocketState.Open, connection.State);
            Assert.Equal(2, connection.FaultCount);
            Assert.Equal("A DataReceived event handler failed: boom", connection.LastError);

            // The same on the end path: the next Closed handler still hears of it.
            TaskCompletionSource<string?> closed = new(TaskCreationOptions.RunContinuationsAsynchronously);
            connection.Closed += (_, _) => throw new InvalidOperationException("bang");
            connection.Closed += (_, e) => closed.TrySetResult(e.Reason);
            peer.Shutdown(SocketShutdown.Send);
            Assert.Equal("The remote host closed the connection.", await closed.Task.WaitAsync(Loopback.Wait));
            Assert.Equal(SocketState.Closed, connection.State);
            Assert.Equal(3, connection.FaultCount);
        }
    }

    [Fact]
    public async Task ABlockingReceiveThatRunsOutOfTimeLeavesTheConnectionAsItWas()
    {
        // SO_RCVTIMEO ends the recv with "timed out": that is the receive's timeout, not a failure
        // of the connection, and the next receive gets the next line.
        var (peer, connection) = await ConnectParked();
        using (peer)
        using (connection)
        {
            Assert.True(connection.ReceivesInOneBlockingCall);
            connection.ReceiveTimeoutSeconds = 0.2;
            Assert.Equal(SocketFailureKind.ReceiveTimeout, Assert.Throws<SocketOperationException>(() => connection.ReceiveLine()).Kind);
            Assert.Equal(SocketState.Open, connection.State);
            peer.Send(Encoding.ASCII.GetBytes("late\n"));
            Assert.Equal("late", connection.ReceiveLine());
            connection.ReceiveTimeoutSeconds = 20;
            peer.Send(Encoding.ASCII.GetBytes("later\n"));
            Assert.Equal("later", connection.ReceiveLine());
        }
    }

    [Fact]
    public async Task CloseFromAnotherThreadEndsAReceiveBlockedInRecv()
    {
        var (peer, connection) = await ConnectParked();
        using (peer)
        {
            connection.ReceiveTimeoutSeconds = 0;
            Assert.True(connection.ReceivesInOneBlockingCall);
            await Loopback.CloseEndsAWaitingReceiveLine(connection); // waiting in recv()
        }
    }

    [Fact]
    public async Task ASendThatMayGoAsynchronousEndsTheBlockingReceives()
    {
        // A send with a token goes through NetworkStream.WriteAsync, after which .NET keeps the
        // handle non-blocking: receives go back to poll() and recv().
        var (peer, connection) = await ConnectParked();
        using (peer)
        using (connection)
        {
            using CancellationTokenSource cts = new();
            await connection.SendAsync(new byte[] { 7 }, 0, 1, cts.Token);
            Assert.False(connection.ReceivesInOneBlockingCall);
            byte[] one = new byte[1];
            Assert.Equal(1, peer.Receive(one));
            Assert.Equal(7, one[0]);
            peer.Send(Encoding.ASCII.GetBytes("back\n"));
            Assert.Equal("back", connection.ReceiveLine());
            Assert.False(connection.ReadsInBackground);
        }
    }

    [Fact]
    public async Task AClosedHandlerOnAParkedConnectionHearsThePeerClose()
    {
        var (peer, connection) = await ConnectParked();
        using (connection)
        {
            TaskCompletionSource<string?> closed = new(TaskCreationOptions.RunContinuationsAsynchronously);
            connection.Closed += (_, e) => closed.TrySetResult(e.Reason);
            Assert.True(connection.ReadsInBackground);
            peer.Shutdown(SocketShutdown.Send);
            Assert.Equal("The remote host closed the connection.", await closed.Task.WaitAsync(Loopback.Wait));
            Assert.Equal(SocketState.Closed, connection.State);
            peer.Dispose();
        }
    }

    [Fact]
    public async Task OneLookAtAParkedConnectionsStateSeesTheCloseBehindMoreThanOneReadOfData()
    {
        // More than one read's worth (64 KiB) and the close behind it, all in this machine's
        // kernel before State is read once: State reads while there is more, and the receives
        // that follow get every byte, then the end.
        var (peer, connection) = await ConnectParked();
        using (connection)
        {
            byte[] sent = new byte[100_000];
            new Random(11).NextBytes(sent);
            Loopback.SendAll(peer, sent, 0, sent.Length);
            peer.Shutdown(SocketShutdown.Send);

            // FIN_WAIT_2: the connection's kernel acknowledged the FIN, so it holds every byte.
            IPEndPoint local = (IPEndPoint)peer.LocalEndPoint!, remote = (IPEndPoint)peer.RemoteEndPoint!;
            Loopback.Until(() => System.Array.Exists(System.Net.NetworkInformation.IPGlobalProperties.GetIPGlobalProperties().GetActiveTcpConnections(),
                c => c.LocalEndPoint.Equals(local) && c.RemoteEndPoint.Equals(remote) && c.State == System.Net.NetworkInformation.TcpState.FinWait2),
                "the peer's FIN is acknowledged");

            Assert.Equal(SocketState.Closed, connection.State);
            Assert.Equal(sent.Length, connection.Available);
            Assert.False(connection.ReadsInBackground);

            byte[]? got = connection.Receive(sent.Length);
            Assert.NotNull(got);
            Assert.Equal(System.Security.Cryptography.SHA256.HashData(sent), System.Security.Cryptography.SHA256.HashData(got!));
            Assert.Null(connection.Receive(1));
            peer.Dispose();
        }
    }

    [Fact]
    public async Task AReceiveThatSeesTheEndFindsTheStateAndReasonAlreadySet()
    {
        // The loop used to wake waiting receives before it set the state: a script that read to
        // the end and then looked at State or CloseReason could still see Open and no reason.
        for (int round = 0; round < 20; round++)
        {
            var (peer, connection, server) = await Loopback.CreateRawPeer(Loopback.Options());
            using (server)
            using (connection)
            {
                Task<object?> waiting = connection.ReceiveAsync(new ReceiveRequest(ReceiveMode.Line, true, Loopback.Wait), CancellationToken.None).AsTask();
                peer.Shutdown(SocketShutdown.Send);
                Assert.Null(await waiting.WaitAsync(Loopback.Wait));
                Assert.Equal("The remote host closed the connection.", connection.CloseReason);
                Assert.Equal(SocketState.Closed, connection.State);
                peer.Dispose();
            }
        }
    }

    [Fact]
    public async Task ASelectAfterBlockingReceivesBringsTheLoopBack()
    {
        var (peer, connection, server) = await Loopback.CreateRawPeer(Loopback.Options());
        using (server)
        using (peer)
        using (connection)
        {
            peer.Send(Encoding.ASCII.GetBytes("one\n"));
            Assert.Equal("one", connection.ReceiveLine());
            Task readable = connection.WhenReadableAsync(CancellationToken.None);
            Assert.False(readable.IsCompleted);
            peer.Send(Encoding.ASCII.GetBytes("two\n"));
            await readable.WaitAsync(Loopback.Wait);
            Assert.Equal(4, connection.Available);
        }
    }

    [Fact]
    public async Task CloseFromAnotherThreadEndsABlockingMethodReceive()
    {
        var (peer, connection, server) = await Loopback.CreateRawPeer(Loopback.Options(receiveTimeoutSeconds: 0));
        using (server)
        using (peer)
        {
            peer.Send(Encoding.ASCII.GetBytes("x\n"));
            Assert.Equal("x", connection.ReceiveLine()); // parks the loop
            await Loopback.CloseEndsAWaitingReceiveLine(connection); // waiting in poll()
        }
    }

    /// <summary>
    /// The loop waits for data with a zero-byte read, which on Linux can complete with nothing to
    /// read (seen after a proxy handshake). It must wait again: a data read takes no token, so a
    /// receive that takes the socket over (Invoke-SocketRequest before sending its request) would
    /// wait for the loop until the peer spoke. The stream here wakes the first wait with nothing.
    /// </summary>
    [Fact]
    public async Task AZeroByteWaitThatWakesWithNothingToReadWaitsAgainAndLetsTheNextReaderIn()
    {
        using Socket listener = new(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen(1);
        using Socket peer = new(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await peer.ConnectAsync(listener.LocalEndPoint!).WaitAsync(Loopback.Wait);
        using Socket accepted = await listener.AcceptAsync().WaitAsync(Loopback.Wait);
        WakesOnceWithNothing network = new(accepted);
        StreamChannel channel = new(accepted, new SilentOwner(), network);
        TextCodec codec = new(Encoding.ASCII);
        try
        {
            channel.Start();

            // The loop's next read after the empty wake-up: another wait, not a data read.
            Assert.Equal(0, await network.NextRead.Task.WaitAsync(Loopback.Wait));

            // A receive on another thread takes the socket over and gives up on time.
            Task<object?> receive = Task.Run(() => channel.Receive(new ReceiveRequest(ReceiveMode.Line, true, TimeSpan.FromMilliseconds(200)), codec, CancellationToken.None));
            SocketOperationException timedOut = await Assert.ThrowsAsync<SocketOperationException>(() => receive.WaitAsync(Loopback.Wait));
            Assert.Equal(SocketFailureKind.ReceiveTimeout, timedOut.Kind);

            peer.Send(Encoding.ASCII.GetBytes("hello\n"));
            Assert.Equal("hello", channel.Receive(new ReceiveRequest(ReceiveMode.Line, true, Loopback.Wait), codec, CancellationToken.None));
        }
        finally
        {
            channel.Close();
        }
    }

    /// <summary>A NetworkStream whose first zero-byte read completes at once with nothing to read;
    /// <see cref="NextRead"/> gives the byte count the loop asks for next.</summary>
    private sealed class WakesOnceWithNothing : NetworkStream
    {
        private int _reads;

        public WakesOnceWithNothing(Socket socket)
            : base(socket, ownsSocket: false)
        {
        }

        public TaskCompletionSource<int> NextRead { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
        {
            switch (Interlocked.Increment(ref _reads))
            {
                case 1 when count == 0:
                    return Task.FromResult(0);
                case 2:
                    NextRead.TrySetResult(count);
                    break;
            }

            return base.ReadAsync(buffer, offset, count, cancellationToken);
        }
    }

    private sealed class SilentOwner : IChannelOwner
    {
        public string PeerText => "the peer";

        public void OnReceiving(byte[] buffer, int offset, int count, EndPoint? from)
        {
        }

        public void OnReceived(int count)
        {
        }

        public void OnSending(byte[] buffer, int offset, int count, EndPoint? to)
        {
        }

        public void OnSent(int count)
        {
        }

        public void OnEnded(SocketOperationException? failure)
        {
        }

        public void OnEnding(SocketOperationException? failure)
        {
        }
    }
}
