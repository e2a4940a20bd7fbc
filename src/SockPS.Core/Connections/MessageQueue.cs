using System;
using System.Threading;
using System.Threading.Channels;
using System.Threading.Tasks;

namespace SockPS.Core;

/// <summary>
/// Whole messages waiting between a channel's receive loop (the one writer) and whoever receives:
/// the datagrams of a <see cref="DatagramChannel"/>, the messages of a <see cref="WebSocketChannel"/>.
/// It counts the bytes waiting. A failure waits in the queue in its place, after the messages that
/// came before it, and is thrown once, to the receive that reaches it. What to do when it is full
/// (drop, or stop reading) is the channel's choice.
/// </summary>
internal sealed class MessageQueue
{
    private readonly Channel<object> _items;
    private readonly Func<TimeSpan, SocketOperationException> _timedOut;
    private readonly Action _throwIfClosed;
    private readonly Action? _taken;
    private SocketOperationException? _finalFailure;
    private long _bytes;
    private int _receivers;

    /// <param name="limit">How many messages may wait (null: no limit); <see cref="TryAdd"/> refuses more.</param>
    /// <param name="timedOut">The failure for a receive whose time ran out.</param>
    /// <param name="throwIfClosed">Throws when the channel was closed on this side.</param>
    /// <param name="taken">Called after a message leaves the queue.</param>
    public MessageQueue(int? limit, Func<TimeSpan, SocketOperationException> timedOut, Action throwIfClosed, Action? taken = null)
    {
        _items = limit is int bound
            ? Channel.CreateBounded<object>(new BoundedChannelOptions(bound) { FullMode = BoundedChannelFullMode.Wait, SingleWriter = true })
            : Channel.CreateUnbounded<object>(new UnboundedChannelOptions { SingleWriter = true });
        _timedOut = timedOut;
        _throwIfClosed = throwIfClosed;
        _taken = taken;
    }

    /// <summary>Bytes of the messages waiting.</summary>
    public long Bytes => Interlocked.Read(ref _bytes);

    /// <summary>Messages (and failures) waiting.</summary>
    public int Count => _items.Reader.Count;

    public bool ReceiveInProgress => Volatile.Read(ref _receivers) > 0;

    /// <summary>A receive would not wait: a message or a failure waits, or no more will come.</summary>
    public bool IsReadable => _items.Reader.TryPeek(out _) || _items.Reader.Completion.IsCompleted;

    /// <summary>Queues a message; false when the queue is full or complete.</summary>
    public bool TryAdd(SocketDatagram message)
    {
        // Counted before it can be taken, so Bytes never goes below zero.
        Interlocked.Add(ref _bytes, message.Length);
        if (_items.Writer.TryWrite(message))
        {
            return true;
        }

        Interlocked.Add(ref _bytes, -message.Length);
        return false;
    }

    /// <summary>Queues a failure the channel goes on after (an ICMP refusal), behind the messages
    /// already waiting. A full queue drops it, as it drops the datagram that would come next.</summary>
    public void AddFailure(SocketOperationException failure) => _items.Writer.TryWrite(failure);

    /// <summary>Queues the failure that ends the channel, behind the messages already waiting. It
    /// is never dropped: when the queue is full, it is thrown once the messages have been taken.</summary>
    public void AddFinalFailure(SocketOperationException failure)
    {
        if (!_items.Writer.TryWrite(failure))
        {
            Volatile.Write(ref _finalFailure, failure);
        }
    }

    /// <summary>No more messages will come: receives take what waits, then get null.</summary>
    public void Complete() => _items.Writer.TryComplete();

    /// <summary>The next message, or null when no more will come.</summary>
    public ValueTask<SocketDatagram?> ReceiveAsync(TimeSpan timeout, CancellationToken token) =>
        _items.Reader.TryRead(out object? ready)
            ? new ValueTask<SocketDatagram?>(Taken(ready))
            : WaitAndReceiveAsync(timeout, token);

    private async ValueTask<SocketDatagram?> WaitAndReceiveAsync(TimeSpan timeout, CancellationToken token)
    {
        Deadline deadline = Deadline.After(timeout);
        using CancellationTokenSource? linked = deadline.Link(token, out CancellationToken both);
        Interlocked.Increment(ref _receivers);
        try
        {
            ChannelReader<object> reader = _items.Reader;
            while (await reader.WaitToReadAsync(both).ConfigureAwait(false))
            {
                if (reader.TryRead(out object? item))
                {
                    return Taken(item);
                }
            }

            if (Interlocked.Exchange(ref _finalFailure, null) is { } last)
            {
                throw last;
            }

            _throwIfClosed();
            return null;
        }
        catch (OperationCanceledException) when (!token.IsCancellationRequested)
        {
            throw _timedOut(timeout);
        }
        finally
        {
            Interlocked.Decrement(ref _receivers);
        }
    }

    private SocketDatagram Taken(object item)
    {
        if (item is SocketOperationException error)
        {
            throw error;
        }

        SocketDatagram message = (SocketDatagram)item;
        Interlocked.Add(ref _bytes, -message.Length);
        _taken?.Invoke();
        return message;
    }

    /// <summary>Completes when a message or a failure waits, no more will come, or the token fires.</summary>
    public async Task WhenReadableAsync(CancellationToken token)
    {
        try
        {
            await _items.Reader.WaitToReadAsync(token).ConfigureAwait(false);
        }
        catch (ChannelClosedException)
        {
        }
    }
}
