using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Linq;
using System.Net;
using System.Net.Sockets;
using System.Threading;
using System.Threading.Tasks;

namespace SockPS.Core;

/// <summary>Data for <see cref="SocketServer.ConnectionAccepted"/>.</summary>
public sealed class SocketConnectionEventArgs : EventArgs
{
    internal SocketConnectionEventArgs(SocketServer server, SocketConnection connection)
    {
        Server = server;
        Connection = connection;
    }

    /// <summary>The server that accepted it.</summary>
    public SocketServer Server { get; }

    /// <summary>The new connection.</summary>
    public SocketConnection Connection { get; }
}

// What a server allows and how long it keeps connections: -MaxConnections, -IdleTimeoutSeconds,
// -AllowAddress / -DenyAddress, and the ConnectionAccepted event.
public sealed partial class SocketServer
{
    private readonly ServerPolicy _policy;
    private readonly SemaphoreSlim? _slots;
    private readonly ConcurrentDictionary<int, SocketConnection> _live = new();
    private Timer? _idleTimer;
    private long _refusedCount;

    /// <summary>Raised for every accepted connection (after a TLS handshake, when there is one),
    /// on a background thread. Register-ObjectEvent turns it into PowerShell events.</summary>
    public event EventHandler<SocketConnectionEventArgs>? ConnectionAccepted;

    /// <summary>Raised when the server stops, before its sockets close (handler hosts stop their runspaces).</summary>
    internal event EventHandler? Stopping;

    internal void RaiseStopping() => Stopping?.Invoke(this, EventArgs.Empty);

    /// <summary>Raised once when the server has stopped or failed (State says which; LastError
    /// says why it failed), on the thread that stopped it.</summary>
    public event EventHandler? Stopped;

    /// <summary>Clients (or datagrams) refused by -AllowAddress / -DenyAddress; they got no data.</summary>
    public long RefusedCount => Interlocked.Read(ref _refusedCount);

    /// <summary>The most connections open at once; 0 for no limit.</summary>
    public int MaxConnections => _policy.MaxConnections;

    /// <summary>Connections idle this long are closed; 0 for never.</summary>
    public double IdleTimeoutSeconds => _policy.IdleTimeout.TotalSeconds;

    /// <summary>What the -ScriptBlock handlers are doing: running, waiting, completed, failed;
    /// null for a server without handlers.</summary>
    public SocketHandlerStatus? Handlers => _policy.HandlerStatus?.Invoke();

    /// <summary>What runs this server's handlers; null without -ScriptBlock.</summary>
    internal object? HandlerHost => _policy.HandlerHost;

    /// <summary>The connections this server accepted that are still open, by Id.</summary>
    public IReadOnlyList<SocketConnection> Connections => _live.Values.OrderBy(c => c.Id).ToArray();

    private async Task<bool> TakeSlotAsync(CancellationToken stopping)
    {
        if (_slots is null)
        {
            return true;
        }

        try
        {
            await _slots.WaitAsync(stopping).ConfigureAwait(false);
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    private void ReturnSlot() => _slots?.Release();

    /// <summary>Checks a client against the access lists; a refused one is closed at once
    /// (with a reset, so it gets no data) and counted.</summary>
    private bool RefusesClient(Socket client)
    {
        EndPoint? remote;
        try
        {
            remote = client.RemoteEndPoint;
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
            remote = null;
        }

        if (!Refuses(remote))
        {
            return false;
        }

        try
        {
            client.LingerState = new LingerOption(true, 0);
        }
        catch (SocketException)
        {
            // Closing is what matters.
        }

        client.Dispose();
        ReturnSlot();
        return true;
    }

    /// <summary>True (and counted) when the sender is outside -AllowAddress or inside -DenyAddress.</summary>
    internal bool Refuses(EndPoint? sender)
    {
        if (_policy.Allow.Count == 0 && _policy.Deny.Count == 0 || sender is not IPEndPoint ip)
        {
            return false;
        }

        bool refused = (_policy.Allow.Count > 0 && !_policy.Allow.Any(r => r.Contains(ip.Address)))
            || _policy.Deny.Any(r => r.Contains(ip.Address));
        if (refused)
        {
            Interlocked.Increment(ref _refusedCount);
        }

        return refused;
    }

    /// <summary>Closes connections idle for longer than -IdleTimeoutSeconds, checking a few
    /// times per timeout (at most once a second).</summary>
    private void StartIdleTimer()
    {
        if (_policy.IdleTimeout <= TimeSpan.Zero)
        {
            return;
        }

        int period = (int)Math.Max(50, Math.Min(1000, _policy.IdleTimeout.TotalMilliseconds / 4));
        _idleTimer = new Timer(_ => CloseIdleConnections(), null, period, period);
    }

    private void CloseIdleConnections()
    {
        int limit = (int)_policy.IdleTimeout.TotalMilliseconds;
        Func<SocketConnection, bool>? waiting = _policy.IsWaitingForHandler;
        foreach (SocketConnection connection in _live.Values)
        {
            // Time spent waiting for a handler is the server's doing, not the client's: a request
            // that waits unread is not idle. The handler restarts the clock when it takes over.
            if (connection.IdleMilliseconds >= limit && waiting?.Invoke(connection) != true)
            {
                connection.Close($"Idle for {EndPointText.Seconds(_policy.IdleTimeout)} (the server's idle timeout).");
            }
        }
    }
}
