using System;
using System.Collections.Generic;
using System.Net;
using System.Net.Sockets;
using System.Threading;

namespace SockPS.Core;

/// <summary>
/// Lets a thread that waits in poll() on a socket be woken by a cancellation token: each thread
/// keeps one UDP socket bound to loopback, and cancelling sends it one byte, so a wait on both
/// sockets (Socket.Select) returns at once. That keeps Ctrl+C prompt for blocking receives on the
/// caller's thread without waking up in slices to look at the token.
/// </summary>
internal sealed class ThreadWaker
{
    private static readonly byte[] s_one = { 1 };

    [ThreadStatic]
    private static ThreadWaker? t_current;

    [ThreadStatic]
    private static bool t_unavailable;

    private readonly Socket _socket;
    private readonly EndPoint _self;
    private readonly List<Socket> _ready = new(2);
    private readonly List<Socket> _writable = new(1);
    private readonly List<Socket> _failed = new(1);
    private readonly byte[] _drain = new byte[16];

    private ThreadWaker(Socket socket)
    {
        _socket = socket;
        _self = socket.LocalEndPoint!;
    }

    /// <summary>This thread's waker; null where none can be made (no loopback), and the caller
    /// waits another way.</summary>
    public static ThreadWaker? ForThisThread()
    {
        if (t_current is not null || t_unavailable)
        {
            return t_current;
        }

        foreach (IPAddress loopback in new[] { IPAddress.Loopback, IPAddress.IPv6Loopback })
        {
            Socket socket = new(loopback.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
            try
            {
                socket.Bind(new IPEndPoint(loopback, 0));
                socket.Blocking = false;
                return t_current = new ThreadWaker(socket);
            }
            catch (SocketException)
            {
                socket.Dispose();
            }
        }

        t_unavailable = true;
        return null;
    }

    /// <summary>Waits until <paramref name="socket"/> is readable (true), the deadline passes
    /// (false), or the token is cancelled (OperationCanceledException).</summary>
    public bool WaitReadable(Socket socket, int microseconds, CancellationToken token) => Wait(socket, write: false, microseconds, token);

    /// <summary>Waits until <paramref name="socket"/> is writable or has failed (a non-blocking
    /// connect finished either way: true), the deadline passes (false), or the token is cancelled
    /// (OperationCanceledException). -1 microseconds waits without a deadline.</summary>
    public bool WaitWritable(Socket socket, int microseconds, CancellationToken token) => Wait(socket, write: true, microseconds, token);

    private bool Wait(Socket socket, bool write, int microseconds, CancellationToken token)
    {
        token.ThrowIfCancellationRequested();
        using CancellationTokenRegistration wake = token.Register(static state =>
        {
            ThreadWaker waker = (ThreadWaker)state!;
            try
            {
                waker._socket.SendTo(s_one, waker._self);
            }
            catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
            {
                // The waiting thread also looks at the token after each wait.
            }
        }, this);

        _ready.Clear();
        _ready.Add(_socket);
        _writable.Clear();
        _failed.Clear();
        if (write)
        {
            _writable.Add(socket);
            _failed.Add(socket);
        }
        else
        {
            _ready.Add(socket);
        }

        Socket.Select(_ready, write ? _writable : null, write ? _failed : null, microseconds);
        bool ready = write ? _writable.Count + _failed.Count > 0 : _ready.Contains(socket);
        if (_ready.Contains(_socket))
        {
            Drain();
        }

        token.ThrowIfCancellationRequested();
        return ready;
    }

    private void Drain()
    {
        try
        {
            while (_socket.Available > 0)
            {
                _socket.Receive(_drain);
            }
        }
        catch (SocketException)
        {
            // Nothing left to read.
        }
    }
}
