using System;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using Xunit;

namespace SockPS.Core.Tests;

/// <summary>
/// The queue between a datagram or WebSocket channel's receive loop and its receivers, without
/// sockets: order, byte counts, a failure in its place, the limit, the timeout and the end.
/// </summary>
public class MessageQueueTests
{
    private static readonly TimeSpan Forever = TimeSpan.Zero;

    private static SocketDatagram Message(string text) =>
        new(Encoding.UTF8.GetBytes(text), null, null, null!, Encoding.UTF8);

    private static MessageQueue NewQueue(int? limit = null, Action? taken = null, Func<bool>? closed = null) =>
        new(limit,
            timeout => new SocketOperationException(SocketFailureKind.ReceiveTimeout, $"nothing within {timeout.TotalSeconds} s", "peer") { Timeout = timeout },
            () =>
            {
                if (closed?.Invoke() == true)
                {
                    throw new SocketOperationException(SocketFailureKind.Closed, "closed here", "peer");
                }
            },
            taken);

    [Fact]
    public async Task Messages_come_out_in_order_and_the_byte_count_follows_them()
    {
        MessageQueue queue = NewQueue();
        Assert.False(queue.IsReadable);
        Assert.True(queue.TryAdd(Message("one")));
        Assert.True(queue.TryAdd(Message("three")));
        Assert.Equal(8, queue.Bytes);
        Assert.Equal(2, queue.Count);
        Assert.True(queue.IsReadable);

        Assert.Equal("one", (await queue.ReceiveAsync(Forever, CancellationToken.None))!.Text);
        Assert.Equal(5, queue.Bytes);
        Assert.Equal("three", (await queue.ReceiveAsync(Forever, CancellationToken.None))!.Text);
        Assert.Equal(0, queue.Bytes);
        Assert.False(queue.IsReadable);
    }

    [Fact]
    public async Task An_empty_message_is_readable()
    {
        MessageQueue queue = NewQueue();
        Assert.True(queue.TryAdd(Message(string.Empty)));
        Assert.Equal(0, queue.Bytes);
        Assert.True(queue.IsReadable);
        Assert.Equal(0, (await queue.ReceiveAsync(Forever, CancellationToken.None))!.Length);
    }

    [Fact]
    public async Task A_failure_comes_after_the_messages_before_it_and_is_thrown_once()
    {
        MessageQueue queue = NewQueue();
        queue.TryAdd(Message("before"));
        queue.AddFailure(new SocketOperationException(SocketFailureKind.ConnectionRefused, "refused", "peer"));
        queue.TryAdd(Message("after"));

        Assert.Equal("before", (await queue.ReceiveAsync(Forever, CancellationToken.None))!.Text);
        Assert.True(queue.IsReadable);
        SocketOperationException thrown = await Assert.ThrowsAsync<SocketOperationException>(() => queue.ReceiveAsync(Forever, CancellationToken.None).AsTask());
        Assert.Equal(SocketFailureKind.ConnectionRefused, thrown.Kind);
        Assert.Equal("after", (await queue.ReceiveAsync(Forever, CancellationToken.None))!.Text);
    }

    [Fact]
    public async Task A_bounded_queue_refuses_past_its_limit_and_does_not_count_what_it_refused()
    {
        MessageQueue queue = NewQueue(limit: 2);
        Assert.True(queue.TryAdd(Message("a")));
        Assert.True(queue.TryAdd(Message("bb")));
        Assert.False(queue.TryAdd(Message("ccc")));
        Assert.Equal(3, queue.Bytes);

        await queue.ReceiveAsync(Forever, CancellationToken.None);
        Assert.True(queue.TryAdd(Message("dddd")));
        Assert.Equal(6, queue.Bytes);
    }

    [Fact]
    public async Task The_failure_that_ends_a_full_queue_is_thrown_after_its_messages_not_lost()
    {
        MessageQueue queue = NewQueue(limit: 1);
        Assert.True(queue.TryAdd(Message("kept")));
        queue.AddFailure(new SocketOperationException(SocketFailureKind.ConnectionRefused, "refused, dropped as a datagram would be", "peer"));
        queue.AddFinalFailure(new SocketOperationException(SocketFailureKind.ConnectionReset, "the socket failed", "peer"));
        queue.Complete();

        Assert.Equal("kept", (await queue.ReceiveAsync(Forever, CancellationToken.None))!.Text);
        Assert.True(queue.IsReadable);
        SocketOperationException thrown = await Assert.ThrowsAsync<SocketOperationException>(() => queue.ReceiveAsync(Forever, CancellationToken.None).AsTask());
        Assert.Equal(SocketFailureKind.ConnectionReset, thrown.Kind);
        Assert.Null(await queue.ReceiveAsync(Forever, CancellationToken.None));
    }

    [Fact]
    public async Task The_taken_callback_runs_once_per_message_and_not_for_a_failure()
    {
        int taken = 0;
        MessageQueue queue = NewQueue(taken: () => taken++);
        queue.TryAdd(Message("x"));
        queue.AddFailure(new SocketOperationException(SocketFailureKind.ConnectionReset, "reset", "peer"));
        await queue.ReceiveAsync(Forever, CancellationToken.None);
        await Assert.ThrowsAsync<SocketOperationException>(() => queue.ReceiveAsync(Forever, CancellationToken.None).AsTask());
        Assert.Equal(1, taken);
    }

    [Fact]
    public async Task A_waiting_receive_gets_the_next_message_and_shows_as_in_progress()
    {
        MessageQueue queue = NewQueue();
        Task<SocketDatagram?> waiting = queue.ReceiveAsync(Forever, CancellationToken.None).AsTask();
        Assert.False(waiting.IsCompleted);
        Assert.True(queue.ReceiveInProgress);

        queue.TryAdd(Message("late"));
        Assert.Equal("late", (await waiting)!.Text);
        Assert.False(queue.ReceiveInProgress);
    }

    [Fact]
    public async Task A_receive_whose_time_runs_out_throws_the_channels_timeout_failure()
    {
        MessageQueue queue = NewQueue();
        SocketOperationException thrown = await Assert.ThrowsAsync<SocketOperationException>(
            () => queue.ReceiveAsync(TimeSpan.FromMilliseconds(50), CancellationToken.None).AsTask());
        Assert.Equal(SocketFailureKind.ReceiveTimeout, thrown.Kind);
        Assert.Equal(TimeSpan.FromMilliseconds(50), thrown.Timeout);
        Assert.False(queue.ReceiveInProgress);
    }

    [Fact]
    public async Task A_cancelled_receive_is_a_cancellation_not_a_timeout()
    {
        MessageQueue queue = NewQueue();
        using CancellationTokenSource stop = new();
        Task<SocketDatagram?> waiting = queue.ReceiveAsync(Forever, stop.Token).AsTask();
        stop.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiting);
    }

    [Fact]
    public async Task After_the_end_receives_take_what_waits_then_get_null_or_the_closed_failure()
    {
        bool closed = false;
        MessageQueue queue = NewQueue(closed: () => closed);
        queue.TryAdd(Message("last"));
        queue.Complete();
        Assert.False(queue.TryAdd(Message("too late")));
        Assert.Equal(4, queue.Bytes);

        Assert.Equal("last", (await queue.ReceiveAsync(Forever, CancellationToken.None))!.Text);
        Assert.True(queue.IsReadable);
        Assert.Null(await queue.ReceiveAsync(Forever, CancellationToken.None));

        closed = true;
        SocketOperationException thrown = await Assert.ThrowsAsync<SocketOperationException>(() => queue.ReceiveAsync(Forever, CancellationToken.None).AsTask());
        Assert.Equal(SocketFailureKind.Closed, thrown.Kind);
    }

    [Fact]
    public async Task WhenReadable_completes_for_a_message_and_for_the_end()
    {
        MessageQueue queue = NewQueue();
        Task forMessage = queue.WhenReadableAsync(CancellationToken.None);
        Assert.False(forMessage.IsCompleted);
        queue.TryAdd(Message("m"));
        await forMessage;

        MessageQueue ending = NewQueue();
        Task forEnd = ending.WhenReadableAsync(CancellationToken.None);
        Assert.False(forEnd.IsCompleted);
        ending.Complete();
        await forEnd;
    }
}
