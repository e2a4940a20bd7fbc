using System;
using System.IO;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using Xunit;

namespace SockPS.Core.Tests;

/// <summary>
/// Every background loop ends through one path (record the error, set a state that says so,
/// release, raise the event), and a fault with one item never ends a loop. Each test injects a
/// fault into one loop and checks all of that. The relay's loops are in RelayMatrixTests; the
/// handler dispatch's in ServingTests.
/// </summary>
public sealed class LoopFaultTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("sockps-loops-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public async Task TheStreamReceiveLoopEndsOnAResetRecordingItAndRaisingClosed()
    {
        var (peer, connection, server) = await Loopback.CreateRawPeer(Loopback.Options());
        using (server)
        using (connection)
        {
            TaskCompletionSource<string?> closed = new(TaskCreationOptions.RunContinuationsAsynchronously);
            connection.Closed += (_, e) => closed.TrySetResult(e.Reason);
            peer.Send(Encoding.ASCII.GetBytes("before the reset\n"));
            Loopback.Until(() => connection.BytesReceived == 17, "the line arrives");
            peer.LingerState = new LingerOption(true, 0);
            peer.Close(); // RST

            Assert.Equal("The remote host reset the connection.", await closed.Task.WaitAsync(Loopback.Wait));
            Assert.Equal(SocketState.Closed, connection.State);
            Assert.Contains("reset", connection.LastError);
            // The data first, then the reset once, then a plain end.
            Assert.Equal("before the reset", connection.ReceiveLine());
            SocketOperationException reset = Assert.Throws<SocketOperationException>(() => connection.ReceiveLine());
            Assert.Equal(SocketFailureKind.ConnectionReset, reset.Kind);
            Assert.Null(connection.ReceiveLine());
            Assert.Equal(0, connection.Available);
        }
    }

    [Fact]
    public async Task ADatagramTheHandlerCannotTakeIsCountedAndTheLoopGoesOn()
    {
        using SocketServer server = SocketServer.Start(new IPEndPoint(IPAddress.Loopback, 0), 1, Loopback.Options(), protocol: SocketProtocol.Udp);
        SocketConnection socket = server;
        int taken = 0;
        socket.DatagramSink = datagram =>
        {
            if (datagram.Text == "poison")
            {
                throw new InvalidOperationException("this datagram cannot be handled");
            }

            Interlocked.Increment(ref taken);
        };
        using SocketConnection client = await SocketConnector.ConnectUdpAsync("127.0.0.1", server.Port, Loopback.Options(), Loopback.Wait, null, CancellationToken.None);

        client.Send("poison");
        Loopback.Until(() => socket.FaultCount == 1, "the fault is counted");
        client.Send("fine");
        Loopback.Until(() => Volatile.Read(ref taken) == 1, "the next datagram is still read and handled");
        Assert.Equal("this datagram cannot be handled", socket.LastError);
        Assert.Equal(SocketState.Open, socket.State);
        Assert.Equal(ServerState.Listening, server.State);
    }

    [Fact]
    public async Task AServerWhoseListeningSocketBreaksSaysFailedWithTheReason()
    {
        SocketServer server = Loopback.StartServer();
        TaskCompletionSource stopped = new(TaskCreationOptions.RunContinuationsAsynchronously);
        server.Stopped += (_, _) => stopped.TrySetResult();

        server.BreakListenerForTesting();

        await stopped.Task.WaitAsync(Loopback.Wait);
        Assert.Equal(ServerState.Failed, server.State);
        Assert.Contains("accepting on 127.0.0.1", server.LastError);
        SocketOperationException stoppedError = await Assert.ThrowsAsync<SocketOperationException>(() => server.AcceptAsync(Loopback.Wait, CancellationToken.None).AsTask());
        Assert.Equal(SocketFailureKind.Closed, stoppedError.Kind);
    }

    [Fact]
    public async Task AConnectionThatCannotStartIsCountedAndTheServerGoesOnAccepting()
    {
        using SocketServer server = Loopback.StartServer();
        int seen = 0;
        server.ConnectionAccepted += (_, _) =>
        {
            if (Interlocked.Increment(ref seen) == 1)
            {
                throw new InvalidOperationException("a subscriber that throws");
            }
        };

        using SocketConnection first = await SocketConnector.ConnectTcpAsync("127.0.0.1", server.Port, Loopback.Options(), Loopback.Wait, null, CancellationToken.None);
        Loopback.Until(() => server.AcceptErrorCount == 1, "the first client's fault is counted");
        Assert.Null(first.ReceiveLine()); // closed by the server
        using SocketConnection second = await SocketConnector.ConnectTcpAsync("127.0.0.1", server.Port, Loopback.Options(), Loopback.Wait, null, CancellationToken.None);
        using SocketConnection accepted = await server.AcceptAsync(Loopback.Wait, CancellationToken.None).AsTask().WaitAsync(Loopback.Wait);
        second.SendLine("still serving");
        Assert.Equal("still serving", accepted.ReceiveLine());
        Assert.Equal("a subscriber that throws", server.LastAcceptError);
        Assert.Equal(ServerState.Listening, server.State);
    }

    [Fact]
    public async Task ATranscriptWriterThatFailsRecordsWhyAndReleasesWhatWasQueued()
    {
        string path = Path.Combine(_dir, "transcript.jsonl");
        ConnectionOptions options = Loopback.Options();
        var (client, accepted, server) = await Loopback.CreateConnectedPair(options);
        using (server)
        using (client)
        using (accepted)
        {
            SocketTranscript transcript = client.StartTranscript(path)!;
            transcript.File!.BeforeWriteForTesting = _ => throw new InvalidOperationException("the disk went away");

            client.SendLine("one");
            client.SendLine("two");
            Loopback.Until(() => transcript.FileError is not null, "the writer records its failure");
            Assert.Contains("the disk went away", transcript.FileError);

            // The writer goes on taking entries: stopping does not wait for room that never comes.
            client.SendLine("three");
            Assert.Equal(3, accepted.ReceiveLine() is "one" && accepted.ReceiveLine() is "two" && accepted.ReceiveLine() is "three" ? 3 : 0);
            client.StopTranscript(TimeSpan.FromSeconds(10));
            Assert.False(transcript.IsRecording);
        }
    }
}
