using System;
using System.Collections.Concurrent;
using System.IO;
using System.Linq;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;
using System.Threading;
using System.Threading.Tasks;
using Xunit;

namespace SockPS.Core.Tests;

public class ServingTests
{
    private static SocketServer Start(ServerPolicy policy) =>
        SocketServer.Start(new IPEndPoint(IPAddress.Loopback, 0), 64, Loopback.Options(), policy: policy);

    private static async Task<Socket> RawClient(int port)
    {
        Socket socket = new(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(IPAddress.Loopback, port).WaitAsync(Loopback.Wait);
        return socket;
    }

    [Theory]
    [InlineData("10.0.0.0/8", "10.255.1.2", true)]
    [InlineData("10.0.0.0/8", "11.0.0.1", false)]
    [InlineData("192.168.1.7", "192.168.1.7", true)]
    [InlineData("192.168.1.7", "192.168.1.8", false)]
    [InlineData("127.0.0.0/8", "::ffff:127.0.0.1", true)]
    [InlineData("::1/128", "::1", true)]
    [InlineData("fe80::/10", "fe80::1", true)]
    [InlineData("fe80::/10", "fec0::1", false)]
    [InlineData("0.0.0.0/0", "203.0.113.9", true)]
    [InlineData("10.1.2.3/13", "10.0.0.1", true)]
    public void AddressRangesMatchAsCidrSays(string range, string address, bool inside) =>
        Assert.Equal(inside, AddressRange.Parse(range).Contains(IPAddress.Parse(address)));

    [Theory]
    [InlineData("nonsense")]
    [InlineData("10.0.0.0/33")]
    [InlineData("::1/129")]
    [InlineData("10.0.0.0/x")]
    public void BadRangesAreInvalidArguments(string range) =>
        Assert.Equal(SocketFailureKind.InvalidArgument, Assert.Throws<SocketOperationException>(() => AddressRange.Parse(range)).Kind);

    /// <summary>Connects and reads: a refused client sees the connection closed (or reset,
    /// sometimes before its connect even reports success) and never any data.</summary>
    private static async Task<int> BytesAReceivedRefusedClientGets(int port)
    {
        using Socket client = new(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            await client.ConnectAsync(IPAddress.Loopback, port).WaitAsync(Loopback.Wait);
            Assert.True(client.Poll(20_000_000, SelectMode.SelectRead), "the refused client is closed");
            return client.Receive(new byte[16]);
        }
        catch (SocketException ex) when (ex.SocketErrorCode == SocketError.ConnectionReset)
        {
            return 0;
        }
    }

    [Fact]
    public async Task DeniedClientsGetNoDataAndAreCounted()
    {
        using SocketServer server = Start(new ServerPolicy { Deny = new[] { AddressRange.Parse("127.0.0.0/8") } });
        Assert.Equal(0, await BytesAReceivedRefusedClientGets(server.Port));
        Loopback.Until(() => server.RefusedCount == 1, "the refusal is counted");
        Assert.Equal(0, server.AcceptedCount);
        Assert.Equal(0, server.PendingCount);
    }

    [Fact]
    public async Task AnAllowListServesOnlyItsRanges()
    {
        using SocketServer outside = Start(new ServerPolicy { Allow = new[] { AddressRange.Parse("10.0.0.0/8") } });
        Assert.Equal(0, await BytesAReceivedRefusedClientGets(outside.Port));
        Loopback.Until(() => outside.RefusedCount == 1, "the client outside the range is refused");

        using SocketServer inside = Start(new ServerPolicy { Allow = new[] { AddressRange.Parse("127.0.0.0/8") } });
        using Socket served = await RawClient(inside.Port);
        using SocketConnection accepted = inside.Accept(Loopback.Wait);
        Assert.Equal(0, inside.RefusedCount);
    }

    [Fact]
    public async Task MaxConnectionsHoldsFurtherClientsUntilOneCloses()
    {
        using SocketServer server = Start(new ServerPolicy { MaxConnections = 2 });
        using Socket a = await RawClient(server.Port);
        using Socket b = await RawClient(server.Port);
        using Socket c = await RawClient(server.Port); // completes in the backlog
        SocketConnection first = server.Accept(Loopback.Wait);
        using SocketConnection second = server.Accept(Loopback.Wait);
        var ex = Assert.Throws<SocketOperationException>(() => server.Accept(TimeSpan.FromMilliseconds(300)));
        Assert.Equal(SocketFailureKind.AcceptTimeout, ex.Kind);
        Assert.Equal(2, server.ConnectionCount);

        first.Close();
        using SocketConnection third = server.Accept(Loopback.Wait);
        Assert.Equal(c.LocalEndPoint, third.RemoteEndPoint);
        Assert.Equal(2, server.ConnectionCount);
    }

    [Fact]
    public async Task IdleConnectionsAreClosedAndBusyOnesKept()
    {
        // 1.5 s against a byte every 100 ms: the busy connection is only closed if the test's own
        // sends stall for more than a second, which a loaded CI machine did to a 400 ms limit.
        using SocketServer server = Start(new ServerPolicy { IdleTimeout = TimeSpan.FromMilliseconds(1500) });
        using Socket idle = await RawClient(server.Port);
        SocketConnection idleConnection = server.Accept(Loopback.Wait);
        using Socket busy = await RawClient(server.Port);
        SocketConnection busyConnection = server.Accept(Loopback.Wait);

        // The busy client keeps sending, a byte every 100 ms, until the idle one has been closed.
        // Awaiting (not spinning) keeps a pool thread free for the server's receive loops.
        DateTime giveUp = DateTime.UtcNow + Loopback.Wait;
        while (idleConnection.State != SocketState.Disconnected && DateTime.UtcNow < giveUp)
        {
            busy.Send(new byte[] { 1 });
            await Task.Delay(100);
        }

        Assert.Equal(SocketState.Disconnected, idleConnection.State);
        Assert.Contains("Idle for", idleConnection.CloseReason);
        Assert.Equal(SocketState.Open, busyConnection.State);
        Assert.Equal(0, idle.Receive(new byte[4])); // the idle client sees the close
    }

    [Fact]
    public async Task EventsFireForAcceptedConnectionsDataAndClosing()
    {
        BlockingCollection<string> events = new();
        using SocketServer server = Start(new ServerPolicy());
        server.ConnectionAccepted += (_, e) =>
        {
            // Subscribed before "accepted" is told: the test sends as soon as it hears it.
            e.Connection.DataReceived += (_, d) => events.Add($"data {d.Bytes}");
            e.Connection.Closed += (_, c) => events.Add("closed: " + c.Reason);
            events.Add("accepted");
        };
        using Socket client = await RawClient(server.Port);
        Assert.True(events.TryTake(out string? first, Loopback.Wait));
        Assert.Equal("accepted", first);
        client.Send(Encoding.ASCII.GetBytes("hello"));
        Assert.True(events.TryTake(out string? data, Loopback.Wait));
        Assert.Equal("data 5", data);
        client.Shutdown(SocketShutdown.Send);
        Assert.True(events.TryTake(out string? closed, Loopback.Wait));
        Assert.Equal("closed: The remote host closed the connection.", closed);
    }

    [Fact]
    public async Task AHandlerReceivesEveryConnectionInsteadOfTheQueue()
    {
        ConcurrentQueue<SocketConnection> handled = new();
        using SocketServer server = Start(new ServerPolicy { ConnectionHandler = handled.Enqueue });
        using Socket client = await RawClient(server.Port);
        Loopback.Until(() => handled.Count == 1, "the handler gets the connection");
        Assert.Equal(0, server.PendingCount);
        Assert.Equal(client.LocalEndPoint, handled.Single().RemoteEndPoint);
    }

    [Fact]
    public async Task WaitingForAPatternConsumesThroughTheMatchAndLeavesTheRest()
    {
        var (peer, connection, server) = await Loopback.CreateRawPeer(Loopback.Options());
        using (server)
        using (peer)
        using (connection)
        {
            Task<SocketPatternMatch?> waiting = connection.WaitForPatternAsync(new Regex(@"login: $"), Loopback.Wait, CancellationToken.None);
            peer.Send(Encoding.UTF8.GetBytes("Welcome, héllo\r\n"));
            Loopback.Until(() => connection.BytesReceived > 0, "the banner arrives");
            Assert.False(waiting.IsCompleted);
            peer.Send(Encoding.UTF8.GetBytes("login: "));
            SocketPatternMatch? match = await waiting.WaitAsync(Loopback.Wait);
            Assert.Equal("login: ", match!.Value);
            Assert.Equal("Welcome, héllo\r\nlogin: ", match.Text);
            peer.Send(Encoding.UTF8.GetBytes("rest\n"));
            Assert.Equal("rest", connection.ReceiveLine());
        }
    }

    [Fact]
    public async Task APatternThatDoesNotMatchInTimeConsumesNothing()
    {
        var (peer, connection, server) = await Loopback.CreateRawPeer(Loopback.Options());
        using (server)
        using (peer)
        using (connection)
        {
            peer.Send(Encoding.UTF8.GetBytes("no prompt here\n"));
            Loopback.Until(() => connection.Available > 0, "the text arrives");
            var ex = await Assert.ThrowsAsync<SocketOperationException>(() =>
                connection.WaitForPatternAsync(new Regex("password:"), TimeSpan.FromMilliseconds(300), CancellationToken.None));
            Assert.Equal(SocketFailureKind.ReceiveTimeout, ex.Kind);
            Assert.Equal("no prompt here", connection.ReceiveLine());
        }
    }

    [Fact]
    public async Task WhenReadableCompletesOnDataOrClose()
    {
        var (peer, connection, server) = await Loopback.CreateRawPeer(Loopback.Options());
        using (server)
        using (connection)
        {
            Task readable = connection.WhenReadableAsync(CancellationToken.None);
            Assert.False(readable.IsCompleted);
            peer.Send(new byte[] { 7 });
            await readable.WaitAsync(Loopback.Wait);
            Assert.Equal(new byte[] { 7 }, connection.Receive(1));

            Task closing = connection.WhenReadableAsync(CancellationToken.None);
            peer.Dispose();
            await closing.WaitAsync(Loopback.Wait);
            Assert.True(connection.IsReadable);
        }
    }

    [Fact]
    public async Task AcceptAnyReturnsTheFirstServersConnectionAndTakesNothingElse()
    {
        using SocketServer a = Loopback.StartServer();
        using SocketServer b = Loopback.StartServer();
        Task<SocketConnection> any = SocketServer.AcceptAnyAsync(new[] { a, b }, Loopback.Wait, CancellationToken.None);
        using Socket client = await RawClient(b.Port);
        using SocketConnection got = await any.WaitAsync(Loopback.Wait);
        Assert.Same(b, got.Server);
        Assert.Equal(0, a.PendingCount);
        Assert.Equal(0, b.PendingCount);

        var ex = await Assert.ThrowsAsync<SocketOperationException>(() => SocketServer.AcceptAnyAsync(new[] { a, b }, TimeSpan.FromMilliseconds(200), CancellationToken.None));
        Assert.Equal(SocketFailureKind.AcceptTimeout, ex.Kind);
    }

    [Fact]
    public async Task AHandlerThatThrowsCostsOneConnectionAndTheServerGoesOnAccepting()
    {
        int calls = 0;
        ConcurrentQueue<SocketConnection> handled = new();
        using SocketServer server = Start(new ServerPolicy
        {
            ConnectionHandler = connection =>
            {
                if (Interlocked.Increment(ref calls) == 1)
                {
                    throw new InvalidOperationException("injected fault");
                }

                handled.Enqueue(connection);
            },
        });

        using Socket first = await RawClient(server.Port);
        Assert.True(first.Poll(20_000_000, SelectMode.SelectRead), "the first client is closed");
        Assert.Equal(0, first.Receive(new byte[1]));
        using Socket second = await RawClient(server.Port);
        Loopback.Until(() => handled.Count == 1, "the second client reaches the handler");

        Assert.Equal(ServerState.Listening, server.State);
        Assert.Equal(1, server.AcceptErrorCount);
        Assert.Contains("injected fault", server.LastAcceptError);
        Assert.Equal(second.LocalEndPoint, handled.Single().RemoteEndPoint);
        handled.Single().Close();
    }

    [Fact]
    public async Task AFailedServerSaysWhyClosesItsSocketsAndRaisesStopped()
    {
        SocketServer server = Start(new ServerPolicy());
        using Socket client = await RawClient(server.Port);
        Loopback.Until(() => server.PendingCount == 1, "the client is accepted");
        int stopped = 0;
        server.Stopped += (_, _) => Interlocked.Increment(ref stopped);

        server.Fail("the handlers cannot run");
        server.Stop();

        Assert.Equal(ServerState.Failed, server.State);
        Assert.Equal("the handlers cannot run", server.LastError);
        Assert.Equal(1, stopped);
        Assert.True(client.Poll(20_000_000, SelectMode.SelectRead), "the waiting client is closed");
        Assert.Equal(SocketFailureKind.Closed, Assert.Throws<SocketOperationException>(() => server.Accept(Loopback.Wait)).Kind);
    }

    [Fact]
    public async Task IdleTimeSpentWaitingForAHandlerIsNotCounted()
    {
        ConcurrentQueue<SocketConnection> waiting = new();
        SocketConnection? idle = null;
        using SocketServer server = Start(new ServerPolicy
        {
            IdleTimeout = TimeSpan.FromMilliseconds(300),
            ConnectionHandler = connection =>
            {
                if (Interlocked.CompareExchange(ref idle, connection, null) is not null)
                {
                    waiting.Enqueue(connection);
                }
            },
            IsWaitingForHandler = connection => waiting.Contains(connection),
        });

        using Socket first = await RawClient(server.Port);
        using Socket second = await RawClient(server.Port);
        Loopback.Until(() => waiting.Count == 1, "the second connection waits for a handler");
        // The first, owned by nobody in particular, is idle and goes; the waiting one does not.
        Assert.True(first.Poll(20_000_000, SelectMode.SelectRead), "the idle connection is closed");
        Loopback.Until(() => idle!.State == SocketState.Disconnected, "the idle connection is closed on the server");
        SocketConnection kept = waiting.Single();
        // Past the timeout by two of the idle timer's periods (75 ms here), so the timer has
        // looked at it at least once while it was over.
        Loopback.Until(() => kept.IdleMilliseconds >= 450, "the waiting connection being idle well past the timeout");
        Assert.Equal(SocketState.Open, kept.State);

        // Taken by a handler: the clock starts then.
        kept.RestartIdleClock();
        while (waiting.TryDequeue(out _))
        {
        }

        Assert.True(second.Poll(20_000_000, SelectMode.SelectRead), "the handled connection is closed when idle");
        Assert.Equal(SocketState.Disconnected, kept.State);
    }
}
