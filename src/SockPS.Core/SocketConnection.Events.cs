using System;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;

namespace SockPS.Core;

/// <summary>Data for <see cref="SocketConnection.DataReceived"/>.</summary>
public sealed class SocketDataEventArgs : EventArgs
{
    internal SocketDataEventArgs(SocketConnection connection, int bytes)
    {
        Connection = connection;
        Bytes = bytes;
    }

    /// <summary>The connection the data arrived on.</summary>
    public SocketConnection Connection { get; }

    /// <summary>Bytes that arrived in this read (one datagram's length on a datagram socket).</summary>
    public int Bytes { get; }
}

/// <summary>Data for <see cref="SocketConnection.Closed"/>.</summary>
public sealed class SocketClosedEventArgs : EventArgs
{
    internal SocketClosedEventArgs(SocketConnection connection, string? reason)
    {
        Connection = connection;
        Reason = reason;
    }

    /// <summary>The connection that closed.</summary>
    public SocketConnection Connection { get; }

    /// <summary>Why: the peer closed or reset it, or it was closed here.</summary>
    public string? Reason { get; }
}

// Events for scripts that prefer Register-ObjectEvent to waiting, the "select" wait of
// Wait-SocketData, and the activity clock that -IdleTimeoutSeconds reads.
public sealed partial class SocketConnection
{
    private readonly object _waitersLock = new();
    private List<TaskCompletionSource<bool>>? _dataWaiters;
    private int _lastActivity = Environment.TickCount;
    private int _closedRaised;

    /// <summary>Raised after data arrives (once per network read, or per datagram), on a
    /// background thread. Register-ObjectEvent turns it into PowerShell events.</summary>
    public event EventHandler<SocketDataEventArgs>? DataReceived;

    /// <summary>Raised once, when the peer closes or resets the connection, or it is closed here.</summary>
    public event EventHandler<SocketClosedEventArgs>? Closed;

    /// <summary>For a connection a server's -ScriptBlock handles: keep it open when the block
    /// ends (by default it is closed then). Set it from the block: $Connection.KeepOpen = $true.</summary>
    public bool KeepOpen { get; set; }

    /// <summary>Milliseconds since data last went in or out.</summary>
    internal int IdleMilliseconds => unchecked(Environment.TickCount - Volatile.Read(ref _lastActivity));

    /// <summary>A datagram server's handler takes datagrams here instead of the queue.</summary>
    internal Action<SocketDatagram>? DatagramSink { get; set; }

    private void NoteActivity() => Volatile.Write(ref _lastActivity, Environment.TickCount);

    /// <summary>After bytes or a datagram arrived: the clock, the waiters, the event.</summary>
    private void OnDataArrived(int bytes)
    {
        NoteActivity();
        ReleaseDataWaiters();
        DataReceived?.Invoke(this, new SocketDataEventArgs(this, bytes));
    }

    private void RaiseClosed()
    {
        ReleaseDataWaiters();
        if (Interlocked.Exchange(ref _closedRaised, 1) == 0)
        {
            Closed?.Invoke(this, new SocketClosedEventArgs(this, CloseReason));
        }
    }

    /// <summary>True when a receive would not wait: data is buffered, or the stream ended, or the
    /// connection is closed.</summary>
    internal bool IsReadable => Available > 0 || State is SocketState.Closed or SocketState.Disconnected
        || Volatile.Read(ref _streamEnded) != 0;

    /// <summary>Completes when the connection is readable (select's "read" set). A blocking
    /// receive may have parked the receive loop; it is woken so new data is seen.</summary>
    internal Task WhenReadableAsync(CancellationToken cancellationToken)
    {
        TaskCompletionSource<bool> waiter = new(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_waitersLock)
        {
            (_dataWaiters ??= new List<TaskCompletionSource<bool>>()).Add(waiter);
        }

        if (IsReadable)
        {
            waiter.TrySetResult(true);
        }
        else if (!IsDatagram && _readLock.Wait(0))
        {
            try
            {
                Unpark(fromTimer: false);
            }
            finally
            {
                _readLock.Release();
            }
        }

        if (cancellationToken.CanBeCanceled)
        {
            cancellationToken.Register(() => waiter.TrySetCanceled());
        }

        return waiter.Task;
    }

    private void ReleaseDataWaiters()
    {
        List<TaskCompletionSource<bool>>? waiters;
        lock (_waitersLock)
        {
            waiters = _dataWaiters;
            _dataWaiters = null;
        }

        if (waiters is not null)
        {
            foreach (TaskCompletionSource<bool> waiter in waiters)
            {
                waiter.TrySetResult(true);
            }
        }
    }
}
