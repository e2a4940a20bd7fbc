using System;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Text;
using System.Threading;

namespace SockPS.Core;

/// <summary>
/// A live connection: what Connect-Socket and Wait-SocketConnection return, and what every other
/// connection cmdlet acts on. This class is the facade: identity, state, options, counters,
/// events, the lifecycle and the methods users call. The bytes move in a channel it owns: a
/// <see cref="StreamChannel"/> for stream sockets (TCP, Unix stream, TLS), a
/// <see cref="DatagramChannel"/> for datagram sockets (UDP, Unix datagram). Frames are cut by
/// the <see cref="Framer"/>.
/// </summary>
/// <remarks>
/// The methods <see cref="Send(string)"/>, <see cref="Receive(int)"/>, <see cref="ReceiveLine"/>,
/// <see cref="ReceiveAvailable"/> and <see cref="Close()"/> are the Python socket vocabulary for
/// script loops that cannot afford a cmdlet invocation per message; they share every code path
/// with the cmdlets.
/// </remarks>
public sealed partial class SocketConnection : IDisposable, IChannelOwner
{
    private readonly Socket _socket;
    private readonly StreamChannel? _stream;
    private readonly DatagramChannel? _datagram;
    private readonly WebSocketChannel? _websocket;
    private readonly string? _ownedSocketPath;
    private string? _peerText;

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
    private SocketOperationException? _lastError;

    /// <param name="socket">A connected stream socket, or a bound (maybe connected) datagram socket.</param>
    /// <param name="options">Settings.</param>
    /// <param name="server">The server that accepted or owns it.</param>
    /// <param name="ownedSocketPath">A Unix socket file this connection created and deletes on close.</param>
    /// <param name="networkStream">For a connection whose TLS handshake already ran: the stream it ran on.</param>
    /// <param name="tls">For such a connection: the authenticated stream.</param>
    /// <param name="remoteEndPoint">The target, when it is not the socket's peer (through a proxy).</param>
    /// <param name="webSocket">For a WebSocket connection: the finished HTTP upgrade (its stream carries the frames).</param>
    internal SocketConnection(Socket socket, ConnectionOptions options, SocketServer? server, string? ownedSocketPath = null,
        NetworkStream? networkStream = null, SslStream? tls = null, EndPoint? remoteEndPoint = null, WebSocketUpgrade? webSocket = null)
    {
        _socket = socket;
        _ownedSocketPath = ownedSocketPath;
        if (webSocket is not null)
        {
            // The HTTP upgrade ran on the stream (TLS or plain); from here on .NET frames it.
            System.Net.WebSockets.WebSocket ws = WebSockets.Create(webSocket.Stream, webSocket.IsServer, webSocket.SubProtocol, webSocket.KeepAliveInterval);
            _websocket = new WebSocketChannel(ws, webSocket.Stream, socket, this, this, webSocket.SubProtocol, webSocket.Resource);
            if (webSocket.MaxMessageSize > 0)
            {
                _websocket.MaxMessageSize = webSocket.MaxMessageSize;
            }

            if (tls is not null)
            {
                _tls = new TlsDetails(tls);
            }
        }
        else if (socket.SocketType == SocketType.Dgram)
        {
            _datagram = new DatagramChannel(socket, this, this);
            if (server is not null)
            {
                _datagram.Refuses = server.Refuses;
            }
        }
        else
        {
            _stream = new StreamChannel(socket, this, networkStream, tls);
            if (options.Telnet)
            {
                _stream.UseTelnet();
            }
            if (tls is not null)
            {
                _tls = new TlsDetails(tls);
            }
        }

        Id = SocketIds.NextConnection();
        InstanceId = Guid.NewGuid();
        _name = string.IsNullOrEmpty(options.Name) ? null : options.Name;
        Server = server;
        Protocol = IsDatagram ? SocketProtocol.Udp : SocketProtocol.Tcp;
        AddressFamily = socket.AddressFamily;
        RemoteEndPoint = remoteEndPoint ?? SafeRemoteEndPoint(socket);
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

        // Before reading starts (Start), so not even a greeting escapes the record; and it keeps
        // the loop reading, so what arrives is recorded when it arrives (see StartTranscript).
        if (options.TranscriptPath is not null)
        {
            _transcript = SocketTranscript.Start(this, options.TranscriptPath);
            HoldLoopForTranscript();
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
    public bool IsDatagram => _datagram is not null;

    /// <summary>True for a WebSocket connection (ws://, wss://, a Start-SocketServer -WebSocket
    /// client): every receive returns one whole message as a SocketDatagram whose MessageType is
    /// Text or Binary, and every send is one message.</summary>
    public bool IsWebSocket => _websocket is not null;

    /// <summary>True when receives return whole messages (datagrams, WebSocket messages) rather
    /// than a byte stream.</summary>
    internal bool IsMessageBased => _datagram is not null || _websocket is not null;

    /// <summary>The WebSocket subprotocol the server chose (Sec-WebSocket-Protocol); null when
    /// none was, or without WebSocket.</summary>
    public string? SubProtocol => _websocket?.SubProtocol;

    /// <summary>The WebSocket's request path (/chat?room=1); null without WebSocket.</summary>
    public string? Resource => _websocket?.Resource;

    /// <summary>The WebSocket close code (1000 NormalClosure, 1001 GoingAway, 1006 when the
    /// connection ended without a close frame, ...) once a close frame was received or sent;
    /// null while open and without WebSocket.</summary>
    public int? WebSocketCloseStatus => _websocket?.CloseStatus;

    /// <summary>The text that came with the WebSocket close code; null when none did.</summary>
    public string? WebSocketCloseDescription => _websocket?.CloseDescription;

    /// <summary>WebSocket messages received and sent.</summary>
    public long MessagesReceived => _websocket?.MessagesReceived ?? 0;

    /// <summary>WebSocket messages sent.</summary>
    public long MessagesSent => _websocket?.MessagesSent ?? 0;

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

    /// <summary>The peer's address and port; null for a datagram socket not connected to one peer.
    /// Through a proxy: the target, not the proxy (its address when resolved here, else a
    /// HostEndPoint with the name the proxy resolved).</summary>
    public EndPoint? RemoteEndPoint { get; }

    /// <summary>The proxy the connection goes through (socks5://host:port, without credentials);
    /// null for a direct connection.</summary>
    public string? Proxy { get; internal set; }

    /// <summary>Open, SendShutdown, Closed (by the peer) or Disconnected (here).</summary>
    public SocketState State
    {
        get
        {
            // A stream read on the caller's thread leaves the background loop parked; one
            // non-blocking look notices a peer that closed since.
            if (Volatile.Read(ref _state) is (int)SocketState.Open or (int)SocketState.SendShutdown)
            {
                _stream?.Probe();
            }

            return (SocketState)Volatile.Read(ref _state);
        }
    }

    /// <summary>Bytes written to the socket.</summary>
    public long BytesSent => Interlocked.Read(ref _bytesSent);

    /// <summary>Bytes read from the socket, whether or not a receive has taken them yet.</summary>
    public long BytesReceived
    {
        get
        {
            // Like State and Available: after a receive on the caller's thread nobody reads until
            // asked, and a script watching this count for the peer's next bytes must see them.
            _stream?.Probe();
            return Interlocked.Read(ref _bytesReceived);
        }
    }

    /// <summary>Bytes received and waiting to be read (for datagram sockets, in queued datagrams).</summary>
    public long Available
    {
        get
        {
            if (_datagram is not null)
            {
                return _datagram.Available;
            }

            if (_websocket is not null)
            {
                return _websocket.Available;
            }

            _stream!.Probe();
            return _stream.Available;
        }
    }

    /// <summary>The host name given to Connect-Socket; null for accepted connections and Unix sockets.</summary>
    public string? ComputerName { get; internal set; }

    /// <summary>When the connection was established (local time).</summary>
    public DateTime ConnectedAt { get; }

    /// <summary>Why the connection is no longer open; null while it is.</summary>
    public string? CloseReason => Volatile.Read(ref _closeReason);

    /// <summary>The failure that ended receiving (a reset, a TLS error), if one did, and on a
    /// datagram socket the last datagram that could not be processed, else the last event handler
    /// that threw; the reason that ended a stream is also reported once to the next receive.</summary>
    public string? LastError => Volatile.Read(ref _lastError)?.Message ?? _datagram?.LastFault?.Message ?? Volatile.Read(ref _lastHandlerFault)?.Message;

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

    string IChannelOwner.PeerText => PeerText;

    /// <summary>The text state, made on first use. A concurrent Encoding change wins.</summary>
    private TextCodec Codec
    {
        get
        {
            TextCodec? codec = Volatile.Read(ref _codec);
            if (codec is null)
            {
                Interlocked.CompareExchange(ref _codec, new TextCodec(Volatile.Read(ref _encoding)), null);
                codec = Volatile.Read(ref _codec)!;
            }

            return codec;
        }
    }

    /// <summary>True once the peer has sent anything: bytes read, or bytes in the OS buffer not
    /// read yet. A handler server asks before it takes a client for a silent one.</summary>
    internal bool HasReceivedAnything
    {
        get
        {
            if (BytesReceived > 0)
            {
                return true;
            }

            try
            {
                return _socket.Available > 0;
            }
            catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
            {
                return false;
            }
        }
    }

    // ------------------------------------------------------------------ lifecycle

    /// <summary>Starts reading from the socket; a plain stream with <paramref name="parked"/>
    /// waits for its first reader instead (see <see cref="StreamChannel.Start"/>).</summary>
    internal void Start(bool parked = false, bool blockingHandle = false)
    {
        if (_datagram is not null)
        {
            _datagram.Start();
        }
        else if (_websocket is not null)
        {
            _websocket.Start();
        }
        else
        {
            _stream!.Start(parked, blockingHandle);
        }
    }

    /// <summary>The channel's receive side ended: the peer closed, or the socket failed.</summary>
    void IChannelOwner.OnEnded(SocketOperationException? failure)
    {
        if (Volatile.Read(ref _closing) != 0)
        {
            return;
        }

        ((IChannelOwner)this).OnEnding(failure);
        RaiseClosed();
    }

    /// <summary>Sets the state and reason (once; the first reason stays) without raising the event.</summary>
    void IChannelOwner.OnEnding(SocketOperationException? failure)
    {
        if (Volatile.Read(ref _closing) != 0)
        {
            return;
        }

        if (failure is not null)
        {
            Volatile.Write(ref _lastError, failure);
        }

        SetPeerClosed(failure is null
            ? "The remote host closed the connection."
            : failure.Kind == SocketFailureKind.ConnectionReset
                ? "The remote host reset the connection."
                : "Receiving failed: " + failure.Message);
    }

    /// <summary>A WebSocket's receive side ended: a close frame (its code in <paramref name="closeText"/>),
    /// a connection that ended without one, or a failure.</summary>
    internal void OnWebSocketEnded(SocketOperationException? failure, string? closeText)
    {
        if (Volatile.Read(ref _closing) != 0)
        {
            return;
        }

        OnWebSocketEnding(failure, closeText);
        RaiseClosed();
    }

    /// <summary>Sets the state and reason before waiting receives are told the WebSocket ended.</summary>
    internal void OnWebSocketEnding(SocketOperationException? failure, string? closeText)
    {
        if (Volatile.Read(ref _closing) != 0)
        {
            return;
        }

        if (failure is not null)
        {
            Volatile.Write(ref _lastError, failure);
            SetPeerClosed("Receiving failed: " + failure.Message);
        }
        else
        {
            SetPeerClosed($"The remote host closed the WebSocket: {closeText}.");
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

    /// <summary>Closes the connection and removes it from the registry (Python's socket <c>close</c>).
    /// Safe to call more than once.</summary>
    public void Close() => Close("Closed by this side.");

    internal void Close(string reason) => Close(reason, System.Net.WebSockets.WebSocketCloseStatus.NormalClosure, null);

    /// <summary>Closes; a WebSocket sends a close frame with <paramref name="status"/> first.</summary>
    internal void Close(string reason, System.Net.WebSockets.WebSocketCloseStatus status, string? description)
    {
        if (Interlocked.Exchange(ref _closing, 1) != 0)
        {
            return;
        }

        Interlocked.CompareExchange(ref _closeReason, reason, null);
        Volatile.Write(ref _state, (int)SocketState.Disconnected);
        _ = LocalEndPoint; // keep it for display after the socket is gone
        try
        {
            _stream?.Close();
            _datagram?.Close();
            _websocket?.Close(status, description);
            if (_websocket is not null && Volatile.Read(ref _closeReason) == reason)
            {
                Volatile.Write(ref _closeReason, $"{reason} WebSocket close {_websocket.CloseText()}.");
            }

            // After the socket is gone, so the last entries are in; bounded, so a slow disk cannot
            // make closing hang (the file's writer finishes on its own).
            Volatile.Read(ref _transcript)?.Stop(TranscriptCloseWait);
            if (_ownedSocketPath is not null)
            {
                UnixSockets.TryDeleteSocketFile(_ownedSocketPath);
            }
        }
        finally
        {
            // Whatever failed above, the connection is closed here: its server and whoever lists
            // it must let go (a throw here once left a Disconnected connection listed for good).
            Server?.OnConnectionClosed(this);
            RaiseClosed();
            Disposed?.Invoke(this);
        }
    }

    /// <summary>Same as <see cref="Close()"/>.</summary>
    public void Dispose() => Close();

    /// <summary>Raised once when the connection is closed here (whoever lists it lets go).</summary>
    internal event Action<SocketConnection>? Disposed;

    /// <summary>Half-closes: sends FIN so the peer sees end of stream, while receiving goes on.</summary>
    public void ShutdownSend() => ShutdownSend(System.Net.WebSockets.WebSocketCloseStatus.NormalClosure, null);

    /// <summary>Half-closes; a WebSocket sends its close frame with <paramref name="status"/>.</summary>
    internal void ShutdownSend(System.Net.WebSockets.WebSocketCloseStatus status, string? description)
    {
        ThrowIfDisconnected();
        if (_datagram is not null)
        {
            if (RemoteEndPoint is null)
            {
                // A connected datagram socket can stop sending (shutdown(SHUT_WR)); one with no
                // peer has nothing to half-close.
                throw new SocketOperationException(SocketFailureKind.InvalidArgument,
                    $"{Describe()} is a datagram socket with no one peer: there is nothing to half-close. Close it instead.", PeerText)
                {
                    Setting = SocketSetting.Shutdown,
                };
            }

            _datagram.ShutdownSend();
        }
        else if (_websocket is not null)
        {
            Complete(new System.Threading.Tasks.ValueTask(_websocket.CloseOutputAsync(status, description, CancellationToken.None)));
        }
        else
        {
            _stream!.ShutdownSend();
        }

        Interlocked.CompareExchange(ref _state, (int)SocketState.SendShutdown, (int)SocketState.Open);
    }

    private void ThrowIfDisconnected()
    {
        if (Volatile.Read(ref _state) == (int)SocketState.Disconnected)
        {
            throw SocketErrors.Closed(PeerText);
        }
    }

    // ------------------------------------------------------------------ what the channels report

    void IChannelOwner.OnReceiving(byte[] buffer, int offset, int count, EndPoint? from) =>
        Record(SocketTranscriptDirection.Received, buffer, offset, count, from);

    void IChannelOwner.OnReceived(int count)
    {
        Interlocked.Add(ref _bytesReceived, count);
        OnDataArrived(count);
    }

    void IChannelOwner.OnSending(byte[] buffer, int offset, int count, EndPoint? to) =>
        Record(SocketTranscriptDirection.Sent, buffer, offset, count, to);

    void IChannelOwner.OnSent(int count)
    {
        Interlocked.Add(ref _bytesSent, count);
        NoteActivity();
    }

    // ------------------------------------------------------------------ display

    /// <summary>"tcp 127.0.0.1:50000 -> 127.0.0.1:80 (Open)", "udp 0.0.0.0:514 (Open)".</summary>
    public override string ToString() => RemoteEndPoint is null
        ? $"{Transport} {EndPointText.Format(LocalEndPoint)} ({State})"
        : $"{Transport} {EndPointText.Format(LocalEndPoint)} -> {PeerText} ({State})";

    /// <summary>What the table view shows: Tcp, Tls, Udp, Unix, Unix+Tls, Unix-Dgram, Ws or Wss.</summary>
    public string Transport => _websocket is not null ? (IsTls ? "Wss" : "Ws") : AddressFamily == AddressFamily.Unix
        ? (IsDatagram ? "Unix-Dgram" : IsTls ? "Unix+Tls" : "Unix")
        : IsTls ? "Tls" : Protocol.ToString();

    /// <summary>"The connection to 127.0.0.1:80", "The socket udp 0.0.0.0:514" for messages.</summary>
    private string Describe() => RemoteEndPoint is null
        ? $"The socket {Transport.ToLowerInvariant()} {EndPointText.Format(LocalEndPoint)}"
        : $"The connection to {PeerText}";
}
