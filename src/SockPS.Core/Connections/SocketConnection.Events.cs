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
// Wait-SocketData, the activity clock that -IdleTimeoutSeconds reads, and the datagram counters.
public sealed partial class SocketConnection
{
    private EventHandler<SocketDataEventArgs>? _dataReceived;
    private int _lastActivity = Environment.TickCount;
    private int _closedRaised;

    /// <summary>Raised after data arrives (once per network read, or per datagram), on a
    /// background thread. Register-ObjectEvent turns it into PowerShell events. While anyone
    /// listens, the connection reads in the background, so the event fires as data arrives.</summary>
    public event EventHandler<SocketDataEventArgs>? DataReceived
    {
        add
        {
            _dataReceived += value;
            _stream?.HoldLoop();
        }

        remove
        {
            _dataReceived -= value;
            _stream?.ReleaseLoop();
        }
    }

    private EventHandler<SocketClosedEventArgs>? _closedHandlers;

    /// <summary>Raised once, when the peer closes or resets the connection, or it is closed here.
    /// Like <see cref="DataReceived"/>, while anyone listens the connection reads in the
    /// background, so the peer's close is seen when it happens.</summary>
    public event EventHandler<SocketClosedEventArgs>? Closed
    {
        add
        {
            _closedHandlers += value;
            _stream?.HoldLoop();
        }

        remove
        {
            _closedHandlers -= value;
            _stream?.ReleaseLoop();
        }
    }

    /// <summary>For a connection a server's -ScriptBlock handles: keep it open when the block
    /// ends (by default it is closed then). Set it from the block: $Connection.KeepOpen = $true.</summary>
    public bool KeepOpen { get; set; }

    /// <summary>Milliseconds since data last went in or out.</summary>
    internal int IdleMilliseconds => unchecked(Environment.TickCount - Volatile.Read(ref _lastActivity));

    private void NoteActivity() => Volatile.Write(ref _lastActivity, Environment.TickCount);

    /// <summary>Starts -IdleTimeoutSeconds' count afresh: a server's handler calls it when it takes
    /// the connection over, so the time it waited for a handler is not counted as idle.</summary>
    internal void RestartIdleClock() => NoteActivity();

    /// <summary>After bytes or a datagram arrived: the clock, the event.</summary>
    private void OnDataArrived(int bytes)
    {
        NoteActivity();
        if (_dataReceived is { } handlers)
        {
            Raise(handlers, new SocketDataEventArgs(this, bytes), nameof(DataReceived));
        }
    }

    private void RaiseClosed()
    {
        if (Interlocked.Exchange(ref _closedRaised, 1) == 0 && _closedHandlers is { } handlers)
        {
            Raise(handlers, new SocketClosedEventArgs(this, CloseReason), nameof(Closed));
        }
    }

    private long _handlerFaults;
    private Exception? _lastHandlerFault;

    /// <summary>
    /// Calls each handler in turn. These run on the thread that noticed the data or the close
    /// (the receive loop, or the end path), so a handler that throws is one fault, counted in
    /// <see cref="FaultCount"/> and shown in <see cref="LastError"/>; the other handlers still
    /// run and the loop goes on. (A PowerShell script block added with add_DataReceived has no
    /// runspace on that thread and always throws; Register-ObjectEvent is the way.)
    /// </summary>
    private void Raise<T>(EventHandler<T> handlers, T args, string name)
    {
        foreach (Delegate handler in handlers.GetInvocationList())
        {
            try
            {
                ((EventHandler<T>)handler)(this, args);
            }
            catch (Exception ex)
            {
                Interlocked.Increment(ref _handlerFaults);
                Volatile.Write(ref _lastHandlerFault, new InvalidOperationException($"A {name} event handler failed: {ex.Message}", ex));
            }
        }
    }

    /// <summary>True when a receive would not wait: data is buffered, or the stream ended, or the
    /// connection is closed.</summary>
    internal bool IsReadable => Volatile.Read(ref _state) == (int)SocketState.Disconnected
        || (_stream?.IsReadable ?? _websocket?.IsReadable ?? _datagram!.IsReadable);

    /// <summary>Completes when the connection is readable (select's "read" set).</summary>
    internal Task WhenReadableAsync(CancellationToken cancellationToken) =>
        _stream?.WhenReadableAsync(cancellationToken) ?? _websocket?.WhenReadableAsync(cancellationToken) ?? _datagram!.WhenReadableAsync(cancellationToken);

    /// <summary>True when a background task reads the socket (tests: a stream connection a cmdlet
    /// made starts parked).</summary>
    internal bool ReadsInBackground => _stream?.LoopRunning ?? true;

    /// <summary>True while a receive on the caller's thread is one blocking recv() (tests).</summary>
    internal bool ReceivesInOneBlockingCall => _stream?.BlockingHandle ?? false;

    /// <summary>True while a receive holds the reader (tests use it to know a receive is waiting).</summary>
    internal bool ReceiveInProgress => _stream?.ReceiveInProgress ?? _websocket?.ReceiveInProgress ?? _datagram!.ReceiveInProgress;

    // ------------------------------------------------------------------ datagram sockets

    /// <summary>A datagram server's handler takes datagrams here instead of the queue.</summary>
    internal Action<SocketDatagram>? DatagramSink
    {
        get => _datagram?.Sink;
        set => _datagram!.Sink = value;
    }

    internal void CountDroppedDatagram() => _datagram?.CountDropped();

    /// <summary>Datagrams dropped because the queue of unread ones (or of waiting handlers) was full.</summary>
    public long DroppedCount => _datagram?.DroppedCount ?? 0;

    /// <summary>Datagrams received (queued or dropped).</summary>
    public long DatagramsReceived => _datagram?.DatagramsReceived ?? 0;

    /// <summary>Datagrams sent.</summary>
    public long DatagramsSent => _datagram?.DatagramsSent ?? 0;

    /// <summary>Datagrams that arrived but could not be processed (a handler could not take
    /// one), and DataReceived or Closed handlers that threw; each is counted and the socket goes
    /// on receiving.</summary>
    public long FaultCount => (_datagram?.FaultCount ?? 0) + Interlocked.Read(ref _handlerFaults);

    /// <summary>Whether the socket may send to broadcast addresses (SO_BROADCAST).</summary>
    public bool Broadcast => IsDatagram && _socket.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork
        && Volatile.Read(ref _closing) == 0 && _socket.EnableBroadcast;

    /// <summary>See <see cref="DatagramChannel.DisableUdpConnectionReset"/>.</summary>
    internal static void DisableUdpConnectionReset(System.Net.Sockets.Socket socket) => DatagramChannel.DisableUdpConnectionReset(socket);
}
