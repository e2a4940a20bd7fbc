using System;
using System.Buffers;
using System.IO;
using System.IO.Pipelines;
using System.Threading.Channels;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Text;
using System.Threading;
using System.Threading.Tasks;

namespace SockPS.Core;

/// <summary>
/// A live stream connection: what Connect-Socket and Wait-SocketConnection return, and what
/// every other connection cmdlet acts on. A background receive loop moves bytes from the socket
/// into a bounded buffer; receives take from that buffer through a framer (available / line /
/// delimiter / count / to-end) and a decoder kept per connection, so a character split across two
/// network reads decodes whole. Sends go straight to the socket under a lock.
/// </summary>
/// <remarks>
/// The methods <see cref="Send(string)"/>, <see cref="Receive(int)"/>, <see cref="ReceiveLine"/>,
/// <see cref="ReceiveAvailable"/> and <see cref="Close()"/> are the Python socket vocabulary for
/// script loops that cannot afford a cmdlet invocation per message; they share every code path
/// with the cmdlets.
/// </remarks>
public sealed partial class SocketConnection : IDisposable
{
    private readonly Socket _socket;
    private readonly SemaphoreSlim _sendLock = new(1, 1);
    private readonly CancellationTokenSource _receiveLoopCts = new();
    private string? _peerText;
    private readonly string? _ownedSocketPath;

    // Made on first use, like the peer text: an idle connection that never handles text needs neither.
    private TextCodec? _codec;
    private Encoding _encoding;
    private string _newLine;

    private long _bytesSent;
    private long _bytesReceived;
    private int _state;
    private int _closing;
    private string? _closeReason;
    private double _receiveTimeoutSeconds;

    /// <param name="socket">A connected stream socket, or a bound (maybe connected) datagram socket.</param>
    /// <param name="options">Settings.</param>
    /// <param name="server">The server that accepted or owns it.</param>
    /// <param name="ownedSocketPath">A Unix socket file this connection created and deletes on close.</param>
    /// <param name="networkStream">For a connection whose TLS handshake already ran: the stream it ran on.</param>
    /// <param name="tls">For such a connection: the authenticated stream.</param>
    internal SocketConnection(Socket socket, ConnectionOptions options, SocketServer? server, string? ownedSocketPath = null,
        NetworkStream? networkStream = null, SslStream? tls = null)
    {
        _socket = socket;
        _ownedSocketPath = ownedSocketPath;
        IsDatagram = socket.SocketType == SocketType.Dgram;
        if (IsDatagram)
        {
            _datagrams = Channel.CreateBounded<object>(new BoundedChannelOptions(DatagramQueueLimit)
            {
                FullMode = BoundedChannelFullMode.Wait,
                SingleWriter = true,
            });
        }
        else
        {
            _networkStream = networkStream ?? new NetworkStream(socket, ownsSocket: false);
            _stream = tls ?? (Stream)_networkStream;
            if (tls is not null)
            {
                _tls = new TlsDetails(tls);
            }

            // The pipe's own pause threshold is off: the receive loop enforces the bound itself
            // (WaitForBufferSpaceAsync), because a receive waiting for a long frame must be able
            // to raise the limit, and a Pipe's threshold is fixed when it is created.
            _pipe = new Pipe(new PipeOptions(
                pauseWriterThreshold: 0,
                resumeWriterThreshold: 0,
                minimumSegmentSize: 4096,
                useSynchronizationContext: false));
        }

        Id = SocketRegistry.NextConnectionId();
        InstanceId = Guid.NewGuid();
        _name = string.IsNullOrEmpty(options.Name) ? null : options.Name;
        Server = server;
        Protocol = IsDatagram ? SocketProtocol.Udp : SocketProtocol.Tcp;
        AddressFamily = socket.AddressFamily;
        RemoteEndPoint = SafeRemoteEndPoint(socket);
        ConnectedAt = DateTime.Now;
        _receiveTimeoutSeconds = options.ReceiveTimeout.TotalSeconds;
        _newLine = options.NewLine;
        _encoding = options.Encoding;

        // Only what was asked for: every setsockopt is a system call, and accepting thousands
        // of connections pays each one thousands of times.
        bool ip = socket.AddressFamily is AddressFamily.InterNetwork or AddressFamily.InterNetworkV6;
        if (ip && !IsDatagram && options.NoDelay)
        {
            socket.NoDelay = true;
        }

        if (options.KeepAlive && !IsDatagram)
        {
            socket.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.KeepAlive, true);
        }

        // Before the receive loop starts (Start), so not even a greeting escapes the record.
        if (options.TranscriptPath is not null)
        {
            _transcript = SocketTranscript.Start(this, options.TranscriptPath);
        }
    }

    private static EndPoint? SafeRemoteEndPoint(Socket socket)
    {
        try
        {
            return socket.RemoteEndPoint;
        }
        catch (SocketException)
        {
            // An unconnected datagram socket has no peer.
            return null;
        }
    }

    /// <summary>A friendly number, unique in this process and never reused.</summary>
    public int Id { get; }

    /// <summary>A globally unique identifier.</summary>
    public Guid InstanceId { get; }

    private string? _name;

    /// <summary>The name given with -Name, or ConnectionN.</summary>
    public string Name => _name ??= "Connection" + Id;

    /// <summary>Tcp for stream sockets (Unix stream sockets included), Udp for datagram sockets.</summary>
    public SocketProtocol Protocol { get; }

    /// <summary>InterNetwork (IPv4), InterNetworkV6 or Unix.</summary>
    public AddressFamily AddressFamily { get; }

    /// <summary>True for datagram sockets (UDP, Unix datagram): receives return SocketDatagram objects.</summary>
    public bool IsDatagram { get; }

    private EndPoint? _localEndPoint;

    /// <summary>This side's address and port. Looked up on first use (getsockname is a system
    /// call) and kept, so it still shows after the socket is closed.</summary>
    public EndPoint? LocalEndPoint
    {
        get
        {
            if (_localEndPoint is null)
            {
                try
                {
                    _localEndPoint = _socket.LocalEndPoint;
                }
                catch (ObjectDisposedException)
                {
                    // Closed before anyone asked; Close() normally records it first.
                }
            }

            return _localEndPoint;
        }
    }

    /// <summary>The peer's address and port; null for a datagram socket not connected to one peer.</summary>
    public EndPoint? RemoteEndPoint { get; }

    /// <summary>Open, SendShutdown, Closed (by the peer) or Disconnected (here).</summary>
    public SocketState State => (SocketState)Volatile.Read(ref _state);

    /// <summary>Bytes written to the socket.</summary>
    public long BytesSent => Interlocked.Read(ref _bytesSent);

    /// <summary>Bytes read from the socket, whether or not a receive has taken them yet.</summary>
    public long BytesReceived => Interlocked.Read(ref _bytesReceived);

    /// <summary>The host name given to Connect-Socket; null for accepted connections and Unix sockets.</summary>
    public string? ComputerName { get; internal set; }

    /// <summary>When the connection was established (local time).</summary>
    public DateTime ConnectedAt { get; }

    /// <summary>Why the connection is no longer open; null while it is.</summary>
    public string? CloseReason => Volatile.Read(ref _closeReason);

    /// <summary>The server that accepted this connection; null for a connection made with Connect-Socket.</summary>
    public SocketServer? Server { get; }

    /// <summary>How text is encoded for sending and decoded when receiving. Changing it starts
    /// a new decoder (a receive already waiting finishes with the old one), so set it between messages.</summary>
    public Encoding Encoding
    {
        get => Volatile.Read(ref _encoding);
        set
        {
            Encoding encoding = value ?? throw new ArgumentNullException(nameof(value));
            Volatile.Write(ref _encoding, encoding);
            Volatile.Write(ref _codec, new TextCodec(encoding));
        }
    }

    /// <summary>What Send-SocketData -Line and <see cref="SendLine"/> append. Receiving lines
    /// accepts LF and CRLF whatever this is.</summary>
    public string NewLine
    {
        get => _newLine;
        set => _newLine = value ?? throw new ArgumentNullException(nameof(value));
    }

    /// <summary>How long a receive waits for data by default, in seconds; 0 waits forever.</summary>
    public double ReceiveTimeoutSeconds
    {
        get => _receiveTimeoutSeconds;
        set => _receiveTimeoutSeconds = value >= 0 && !double.IsNaN(value) && !double.IsInfinity(value)
            ? value
            : throw new ArgumentOutOfRangeException(nameof(value), value, "The timeout must be 0 (wait forever) or a positive number of seconds.");
    }

    internal TimeSpan ReceiveTimeout => TimeSpan.FromSeconds(_receiveTimeoutSeconds);

    /// <summary>How messages name the peer, or for a socket with no one peer, its own address.
    /// Made on first use: formatting endpoints for every accepted connection would slow accepting.</summary>
    internal string PeerText => _peerText ??= EndPointText.Format(RemoteEndPoint ?? LocalEndPoint);

    // ------------------------------------------------------------------ lifecycle

    /// <summary>Registers the connection and starts reading from the socket.</summary>
    internal void Start()
    {
        SocketRegistry.Add(this);
        if (IsDatagram)
        {
            _ = DatagramReceiveLoopAsync();
        }
        else
        {
            StartStreamReceiving();
        }
    }

    private void OnReceiveEnded(Exception? failure)
    {
        if (Volatile.Read(ref _closing) != 0)
        {
            return;
        }

        if (failure is null)
        {
            SetPeerClosed("The remote host closed the connection.");
        }
        else
        {
            SocketOperationException error = SocketErrors.TransferFailed(failure, PeerText, "receive");
            if (error.Kind == SocketFailureKind.Closed)
            {
                // Our own socket was disposed underneath the loop; Close() records the reason.
                return;
            }

            Volatile.Write(ref _receiveFailure, error);
            SetPeerClosed(error.Kind == SocketFailureKind.ConnectionReset
                ? "The remote host reset the connection."
                : "Receiving failed: " + error.Message);
        }
    }

    private void SetPeerClosed(string reason)
    {
        Interlocked.CompareExchange(ref _closeReason, reason, null);
        int state;
        do
        {
            state = Volatile.Read(ref _state);
            if (state == (int)SocketState.Disconnected || state == (int)SocketState.Closed)
            {
                return;
            }
        }
        while (Interlocked.CompareExchange(ref _state, (int)SocketState.Closed, state) != state);
    }

    /// <summary>Closes the connection and removes it from the registry (the seed's <c>close</c>).
    /// Safe to call more than once.</summary>
    public void Close() => Close("Closed by this side.");

    internal void Close(string reason)
    {
        if (Interlocked.Exchange(ref _closing, 1) != 0)
        {
            return;
        }

        Interlocked.CompareExchange(ref _closeReason, reason, null);
        Volatile.Write(ref _state, (int)SocketState.Disconnected);
        _ = LocalEndPoint; // keep it for display after the socket is gone
        // TLS peers expect close_notify; without it some (OpenSSL) report a truncated stream.
        SendCloseNotify();
        try
        {
            // Shutdown first so data still queued for sending goes out with the FIN.
            _socket.Shutdown(SocketShutdown.Both);
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
            // The peer is gone already; closing is all that is left to do.
        }

        _receiveLoopCts.Cancel();
        _unparkTimer?.Dispose();
        _stream?.Dispose();
        _networkStream?.Dispose();
        _socket.Dispose();
        _datagrams?.Writer.TryComplete();
        // After the socket is gone, so the last entries are in; bounded, so a slow disk cannot
        // make closing hang (the file's writer finishes on its own).
        Volatile.Read(ref _transcript)?.Stop(TranscriptCloseWait);
        if (_ownedSocketPath is not null)
        {
            UnixSockets.TryDeleteSocketFile(_ownedSocketPath);
        }

        SocketRegistry.Remove(this);
        Server?.OnConnectionClosed(this);
        RaiseClosed();
    }

    /// <summary>Same as <see cref="Close()"/>.</summary>
    public void Dispose() => Close();

    /// <summary>Half-closes: sends FIN so the peer sees end of stream, while receiving goes on.</summary>
    public void ShutdownSend()
    {
        ThrowIfDisconnected();
        if (IsDatagram && RemoteEndPoint is null)
        {
            // A connected datagram socket can stop sending (shutdown(SHUT_WR)); one with no
            // peer has nothing to half-close.
            throw new SocketOperationException(SocketFailureKind.InvalidArgument,
                $"{Describe()} is a datagram socket with no one peer: there is nothing to half-close. Close it with Disconnect-Socket without -Shutdown.", PeerText);
        }

        _sendLock.Wait();
        try
        {
            SendCloseNotify();
            _socket.Shutdown(SocketShutdown.Send);
            Interlocked.CompareExchange(ref _state, (int)SocketState.SendShutdown, (int)SocketState.Open);
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
            throw SocketErrors.TransferFailed(ex, PeerText, "shutdown");
        }
        finally
        {
            _sendLock.Release();
        }
    }

    private void ThrowIfDisconnected()
    {
        if (Volatile.Read(ref _state) == (int)SocketState.Disconnected)
        {
            throw SocketErrors.Closed(PeerText);
        }
    }

    // ------------------------------------------------------------------ sending

    /// <summary>Sends text encoded with <see cref="Encoding"/> (the seed's <c>send</c>).</summary>
    public void Send(string text) => Complete(SendTextAsync(text, appendNewLine: false, CancellationToken.None));

    /// <summary>Sends bytes as they are.</summary>
    public void Send(byte[] data) => Complete(SendAsync(data ?? throw new ArgumentNullException(nameof(data)), 0, data.Length, CancellationToken.None));

    /// <summary>Sends text followed by <see cref="NewLine"/>.</summary>
    public void SendLine(string text) => Complete(SendTextAsync(text, appendNewLine: true, CancellationToken.None));

    internal ValueTask SendTextAsync(string text, bool appendNewLine, CancellationToken cancellationToken, Encoding? encoding = null, EndPoint? remote = null)
    {
        if (text is null)
        {
            throw new ArgumentNullException(nameof(text));
        }

        string newLine = appendNewLine ? _newLine : string.Empty;
        encoding ??= Volatile.Read(ref _encoding);
        int max = encoding.GetMaxByteCount(text.Length + newLine.Length);
        byte[] buffer = ArrayPool<byte>.Shared.Rent(Math.Max(max, 1));
        bool handedOff = false;
        try
        {
            int length = encoding.GetBytes(text, 0, text.Length, buffer, 0);
            if (newLine.Length > 0)
            {
                length += encoding.GetBytes(newLine, 0, newLine.Length, buffer, length);
            }

            ValueTask send = SendAsync(buffer, 0, length, cancellationToken, remote);
            if (send.IsCompletedSuccessfully)
            {
                return default;
            }

            handedOff = true;
            return ReturnAfter(send, buffer);
        }
        finally
        {
            if (!handedOff)
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }
        }

        static async ValueTask ReturnAfter(ValueTask send, byte[] buffer)
        {
            try
            {
                await send.ConfigureAwait(false);
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }
        }
    }

    /// <summary>Writes bytes, followed by <see cref="NewLine"/> when asked, as one write (one
    /// datagram on a datagram socket).</summary>
    internal ValueTask SendAsync(byte[] buffer, int offset, int count, bool appendNewLine, CancellationToken cancellationToken, EndPoint? remote = null)
    {
        if (!appendNewLine)
        {
            return SendAsync(buffer, offset, count, cancellationToken, remote);
        }

        byte[] newLine = Encoding.GetBytes(_newLine);
        byte[] combined = new byte[count + newLine.Length];
        Buffer.BlockCopy(buffer, offset, combined, 0, count);
        Buffer.BlockCopy(newLine, 0, combined, count, newLine.Length);
        return SendAsync(combined, 0, combined.Length, cancellationToken, remote);
    }

    /// <summary>Writes bytes to the socket; with <paramref name="remote"/>, sends one datagram
    /// there (sendto). Completes synchronously when the socket buffer has room.</summary>
    internal ValueTask SendAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken, EndPoint? remote = null)
    {
        // A piped connection binds its own RemoteEndPoint by property name: that is no sendto.
        if (remote is not null && !(IsDatagram && RemoteEndPoint is null) && remote.Equals(RemoteEndPoint))
        {
            remote = null;
        }

        if (remote is not null)
        {
            SendDatagram(buffer, offset, count, remote);
            return default;
        }

        int state = Volatile.Read(ref _state);
        if (state == (int)SocketState.Disconnected)
        {
            throw SocketErrors.Closed(PeerText);
        }

        if (state == (int)SocketState.SendShutdown)
        {
            throw new SocketOperationException(SocketFailureKind.Closed,
                $"Sending on the connection to {PeerText} was shut down with Disconnect-Socket -Shutdown Send; it can only receive now.", PeerText);
        }

        if (IsDatagram)
        {
            SendDatagram(buffer, offset, count, remote: null);
            return default;
        }

        if (count == 0)
        {
            return default;
        }

        if (!_sendLock.Wait(0))
        {
            return SendSlowAsync(buffer, offset, count, lockHeld: false, cancellationToken);
        }

        bool handedOff = false;
        try
        {
            // Recorded before the write, so an answer the peer sends back is never recorded
            // ahead of the request that caused it.
            Record(SocketTranscriptDirection.Sent, buffer, offset, count);
            if (!cancellationToken.CanBeCanceled && _stream is NetworkStream)
            {
                // The methods' path ($c.Send in a script loop): nothing can cancel it anyway, and
                // a plain socket send skips the stream's task machinery.
                int sent = _socket.Send(buffer, offset, count, SocketFlags.None);
                Interlocked.Add(ref _bytesSent, sent);
                NoteActivity();
                return default;
            }

            Task write = _stream!.WriteAsync(buffer, offset, count, cancellationToken);
            if (write.Status == TaskStatus.RanToCompletion)
            {
                Interlocked.Add(ref _bytesSent, count);
                NoteActivity();
                return default;
            }

            handedOff = true;
            return FinishSendAsync(write, count);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            throw SocketErrors.TransferFailed(ex, PeerText, "send");
        }
        finally
        {
            if (!handedOff)
            {
                _sendLock.Release();
            }
        }
    }

    private async ValueTask SendSlowAsync(byte[] buffer, int offset, int count, bool lockHeld, CancellationToken cancellationToken)
    {
        if (!lockHeld)
        {
            await _sendLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        }

        Task write;
        try
        {
            Record(SocketTranscriptDirection.Sent, buffer, offset, count);
            write = _stream!.WriteAsync(buffer, offset, count, cancellationToken);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            _sendLock.Release();
            throw SocketErrors.TransferFailed(ex, PeerText, "send");
        }

        await FinishSendAsync(write, count).ConfigureAwait(false);
    }

    private async ValueTask FinishSendAsync(Task write, int count)
    {
        try
        {
            await write.ConfigureAwait(false);
            Interlocked.Add(ref _bytesSent, count);
            NoteActivity();
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            throw SocketErrors.TransferFailed(ex, PeerText, "send");
        }
        finally
        {
            _sendLock.Release();
        }
    }

    // ------------------------------------------------------------------ receiving: methods

    /// <summary>Receives exactly <paramref name="count"/> bytes, waiting up to
    /// <see cref="ReceiveTimeoutSeconds"/>. Returns null when the peer closed and nothing is left.</summary>
    public byte[]? Receive(int count) =>
        (byte[]?)ReceiveBlocking(new ReceiveRequest(ReceiveMode.Count, asText: false, ReceiveTimeout, count: count), CancellationToken.None);

    /// <summary>Receives one line without its terminator; null when the peer closed and nothing is left.</summary>
    public string? ReceiveLine() =>
        (string?)ReceiveBlocking(new ReceiveRequest(ReceiveMode.Line, asText: true, ReceiveTimeout), CancellationToken.None);

    /// <summary>Receives whatever text is buffered, waiting for the first character (on a
    /// datagram socket: the next datagram's text); null when the peer closed and nothing is left.</summary>
    public string? ReceiveAvailable() =>
        ReceiveBlocking(new ReceiveRequest(ReceiveMode.Available, asText: true, ReceiveTimeout), CancellationToken.None) switch
        {
            SocketDatagram datagram => datagram.Text,
            object text => (string)text,
            null => null,
        };

    /// <summary>Receives whatever bytes are buffered, waiting for the first one (on a datagram
    /// socket: the next datagram); null when the peer closed and nothing is left.</summary>
    public byte[]? ReceiveAvailableBytes() =>
        ReceiveBlocking(new ReceiveRequest(ReceiveMode.Available, asText: false, ReceiveTimeout), CancellationToken.None) switch
        {
            SocketDatagram datagram => datagram.Data,
            object bytes => (byte[])bytes,
            null => null,
        };

    private static T Complete<T>(ValueTask<T> task) => task.IsCompletedSuccessfully ? task.Result : task.AsTask().GetAwaiter().GetResult();

    private static void Complete(ValueTask task)
    {
        if (!task.IsCompletedSuccessfully)
        {
            task.AsTask().GetAwaiter().GetResult();
        }
    }

    // ------------------------------------------------------------------ display

    /// <summary>"tcp 127.0.0.1:50000 -> 127.0.0.1:80 (Open)", "udp 0.0.0.0:514 (Open)".</summary>
    public override string ToString() => RemoteEndPoint is null
        ? $"{Transport} {EndPointText.Format(LocalEndPoint)} ({State})"
        : $"{Transport} {EndPointText.Format(LocalEndPoint)} -> {PeerText} ({State})";

    /// <summary>What the table view shows: Tcp, Tls, Udp, Unix, Unix+Tls or Unix-Dgram.</summary>
    public string Transport => AddressFamily == AddressFamily.Unix
        ? (IsDatagram ? "Unix-Dgram" : IsTls ? "Unix+Tls" : "Unix")
        : IsTls ? "Tls" : Protocol.ToString();

    /// <summary>"The connection to 127.0.0.1:80", "The socket udp 0.0.0.0:514" for messages.</summary>
    private string Describe() => RemoteEndPoint is null
        ? $"The socket {Transport.ToLowerInvariant()} {EndPointText.Format(LocalEndPoint)}"
        : $"The connection to {PeerText}";

    /// <summary>A timeout linked with a caller's token, where the caller can tell the two apart.</summary>
    private sealed class TimeoutScope : IDisposable
    {
        private readonly CancellationTokenSource? _timeout;
        private readonly CancellationTokenSource? _linked;
        private readonly TimeSpan _duration;

        private readonly CancellationToken _outer;

        public TimeoutScope(TimeSpan duration, CancellationToken outer)
        {
            _duration = duration;
            _outer = outer;
            if (duration > TimeSpan.Zero)
            {
                _timeout = new CancellationTokenSource(duration);
                _linked = CancellationTokenSource.CreateLinkedTokenSource(outer, _timeout.Token);
                Token = _linked.Token;
            }
            else
            {
                Token = outer;
            }
        }

        public CancellationToken Token { get; }

        public bool TimedOut => _timeout?.IsCancellationRequested == true && !_outer.IsCancellationRequested;

        public void Restart() => _timeout?.CancelAfter(_duration);

        public void Dispose()
        {
            _linked?.Dispose();
            _timeout?.Dispose();
        }
    }
}
