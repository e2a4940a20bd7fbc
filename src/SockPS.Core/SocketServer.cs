using System;
using System.Collections.Generic;
using System.Linq;
using System.Net;
using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using System.Net.Sockets;
using System.Threading;
using System.Threading.Channels;
using System.Threading.Tasks;

namespace SockPS.Core;

/// <summary>
/// A listening socket (Python's socket bind + listen) that accepts in the background. Accepted
/// connections start receiving at once and wait in a bounded queue until Wait-SocketConnection
/// hands them out; when the queue is full the server stops accepting and further clients wait in
/// the OS backlog.
/// </summary>
public sealed partial class SocketServer : IDisposable
{
    /// <summary>Accepted connections that may wait to be handed out before accepting pauses.</summary>
    internal const int PendingLimit = 64;

    private readonly Socket _listener;
    private readonly SocketConnection? _datagramSocket;
    private readonly string? _socketPath;
    private readonly ConnectionOptions _options;
    private readonly TlsServerOptions? _tlsOptions;
    private readonly Channel<SocketConnection> _pending;
    private readonly CancellationTokenSource _stopping = new();
    private int _state;
    private int _connectionCount;
    private long _acceptedCount;
    private long _acceptErrorCount;
    private long _tlsFailureCount;
    private string? _lastTlsError;
    private string? _lastAcceptError;
    private string? _lastError;

    private SocketServer(Socket listener, ConnectionOptions options, int backlog, string? name, string? socketPath, TlsServerOptions? tls, ServerPolicy? policy)
    {
        _listener = listener;
        _options = options;
        _tlsOptions = tls;
        _policy = policy ?? new ServerPolicy();
        _slots = _policy.MaxConnections > 0 ? new SemaphoreSlim(_policy.MaxConnections) : null;
        _socketPath = socketPath;
        Backlog = backlog;
        Protocol = listener.SocketType == SocketType.Dgram ? SocketProtocol.Udp : SocketProtocol.Tcp;
        AddressFamily = listener.AddressFamily;
        Id = SocketIds.NextServer();
        InstanceId = Guid.NewGuid();
        Name = string.IsNullOrEmpty(name) ? "Server" + Id : name!;
        LocalEndPoint = listener.LocalEndPoint;
        StartedAt = DateTime.Now;
        _pending = Channel.CreateBounded<SocketConnection>(new BoundedChannelOptions(PendingLimit)
        {
            FullMode = BoundedChannelFullMode.Wait,
            SingleWriter = false,
        });
        if (Protocol == SocketProtocol.Udp)
        {
            // A datagram server has no connections to accept: its one socket receives every
            // client's datagrams, and replies go out on it.
            ConnectionOptions socketOptions = options.Clone();
            socketOptions.Name = Name;
            _datagramSocket = new SocketConnection(listener, socketOptions, this, ownedSocketPath: null)
            {
                DatagramSink = _policy.DatagramHandler,
            };
        }
    }

    /// <summary>A friendly number, unique in this process and never reused.</summary>
    public int Id { get; }

    /// <summary>A globally unique identifier.</summary>
    public Guid InstanceId { get; }

    /// <summary>The name given with -Name, or ServerN.</summary>
    public string Name { get; }

    /// <summary>Tcp (stream) or Udp (datagram).</summary>
    public SocketProtocol Protocol { get; }

    /// <summary>InterNetwork (IPv4), InterNetworkV6 or Unix.</summary>
    public AddressFamily AddressFamily { get; }

    /// <summary>What the table view shows: Tcp, Tls, Udp, Unix, Unix+Tls or Unix-Dgram.</summary>
    public string Transport => _policy.WebSocket is not null ? (IsTls ? "Wss" : "Ws") : AddressFamily == AddressFamily.Unix
        ? (Protocol == SocketProtocol.Udp ? "Unix-Dgram" : IsTls ? "Unix+Tls" : "Unix")
        : IsTls ? "Tls" : Protocol.ToString();

    /// <summary>For a UDP or Unix datagram server, the socket that receives every client's
    /// datagrams (Receive-SocketData -Connection $server uses it); null for stream servers.</summary>
    public SocketConnection? DatagramSocket => _datagramSocket;

    /// <summary>The Unix socket file, for servers started with -Path.</summary>
    public string? Path => _socketPath;

    /// <summary>A datagram server stands for its socket wherever a connection is expected, so
    /// Receive-SocketData -Connection $udpServer reads its datagrams.</summary>
    /// <exception cref="InvalidCastException">For a stream server, which has no data of its own.</exception>
    public static implicit operator SocketConnection(SocketServer server) =>
        server?._datagramSocket ?? throw new InvalidCastException(
            $"The server {server?.Name} is a stream server: it has no data of its own; its data arrives on the connections it accepts.");

    /// <summary>The bound address and port; with -Port 0 this shows the port the OS picked.</summary>
    public EndPoint? LocalEndPoint { get; }

    /// <summary>The bound port (0 for Unix sockets).</summary>
    public int Port => (LocalEndPoint as IPEndPoint)?.Port ?? 0;

    /// <summary>Listening, Stopped, or Failed (see <see cref="LastError"/>).</summary>
    public ServerState State => (ServerState)Volatile.Read(ref _state);

    /// <summary>Connections this server accepted that are not yet disconnected.</summary>
    public int ConnectionCount => Volatile.Read(ref _connectionCount);

    /// <summary>Connections accepted since the server started.</summary>
    public long AcceptedCount => Interlocked.Read(ref _acceptedCount);

    /// <summary>Accepted connections waiting for Wait-SocketConnection.</summary>
    public int PendingCount => _pending.Reader.CanCount ? _pending.Reader.Count : 0;

    /// <summary>Accepts that failed (the server keeps listening).</summary>
    public long AcceptErrorCount => Interlocked.Read(ref _acceptErrorCount);

    /// <summary>True when every accepted connection is TLS before it is handed out.</summary>
    public bool IsTls => _tlsOptions is not null;

    /// <summary>The certificate a TLS server presents; null without TLS.</summary>
    public X509Certificate2? Certificate => _tlsOptions?.Certificate;

    /// <summary>TLS handshakes that failed; those clients were dropped and never handed out.</summary>
    public long TlsFailureCount => Interlocked.Read(ref _tlsFailureCount);

    /// <summary>Why the last TLS handshake failed, if one did.</summary>
    public string? LastTlsError => Volatile.Read(ref _lastTlsError);

    /// <summary>The last accept failure, if any.</summary>
    public string? LastAcceptError => Volatile.Read(ref _lastAcceptError);

    /// <summary>The listen backlog passed to the OS.</summary>
    public int Backlog { get; }

    /// <summary>When the server started listening (local time).</summary>
    public DateTime StartedAt { get; }

    /// <summary>The computer that made this object (where it lives), so one that comes back
    /// from Invoke-Command or a job says where it was made.</summary>
    public string MachineName => SocketOrigin.MachineName;

    /// <summary>The process that made this object: SockPS's identifier for it
    /// (<see cref="SocketOrigin.InstanceId"/>). Only that process can use it.</summary>
    public Guid ProcessInstanceId => SocketOrigin.InstanceId;

    /// <summary>The process id of the process that made this object.</summary>
    public int ProcessId => SocketOrigin.ProcessId;

    /// <summary>The listening address as text (0.0.0.0:8080, [::1]:8080, a socket file).</summary>
    public string LocalEndPointText => EndPointText.Format(LocalEndPoint);

    /// <summary>The server certificate in one line: subject and expiry; null without TLS.</summary>
    public string? CertificateSummary => Certificate is null
        ? null
        : string.Format(System.Globalization.CultureInfo.InvariantCulture, "{0} (valid until {1:yyyy-MM-dd})", Certificate.Subject, Certificate.NotAfter);

    /// <summary>Settings every accepted connection starts with.</summary>
    internal ConnectionOptions ConnectionOptions => _options;

    /// <summary>Binds, listens and starts accepting. Throws AddressInUse and friends as
    /// <see cref="SocketOperationException"/>.</summary>
    /// <param name="endPoint">Where to listen; port 0 picks a free port.</param>
    /// <param name="backlog">The OS listen queue length.</param>
    /// <param name="options">Settings for accepted connections (their Name is ignored).</param>
    /// <param name="name">The server's name; ServerN when null.</param>
    /// <param name="protocol">Tcp to listen and accept; Udp to bind one datagram socket.</param>
    /// <param name="multicastGroups">UDP only: groups to join, each with the local interface
    /// address to join on (null lets the OS choose).</param>
    /// <param name="tls">TCP only: make every accepted connection TLS before handing it out.</param>
    /// <param name="policy">Limits, access lists and handlers; null for none.</param>
    public static SocketServer Start(IPEndPoint endPoint, int backlog, ConnectionOptions options, string? name = null,
        SocketProtocol protocol = SocketProtocol.Tcp, IReadOnlyList<(IPAddress Group, IPAddress? Interface)>? multicastGroups = null, TlsServerOptions? tls = null,
        ServerPolicy? policy = null)
    {
        RequireStreamForTls(protocol, tls);
        string where = EndPointText.Format(endPoint.Address, endPoint.Port);
        bool datagram = protocol == SocketProtocol.Udp;
        Socket listener = datagram
            ? new(endPoint.AddressFamily, SocketType.Dgram, ProtocolType.Udp)
            : new(endPoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            if (endPoint.AddressFamily == AddressFamily.InterNetworkV6 && endPoint.Address.Equals(IPAddress.IPv6Any))
            {
                // "::" means every address to users, IPv4 included.
                listener.DualMode = true;
            }

            if (datagram)
            {
                SocketConnector.PrepareDatagram(listener, options);
            }
            else
            {
                options.SocketOptions?.Apply(listener);
            }

            listener.Bind(endPoint);
            if (datagram)
            {
                JoinGroups(listener, multicastGroups);
            }
            else
            {
                listener.Listen(backlog);
            }
        }
        catch (SocketException ex)
        {
            listener.Dispose();
            throw BindFailed(ex, where);
        }
        catch (Exception)
        {
            listener.Dispose();
            throw;
        }

        if (!datagram && multicastGroups is { Count: > 0 })
        {
            listener.Dispose();
            throw new SocketOperationException(SocketFailureKind.InvalidArgument, "A stream server cannot join a multicast group: only datagram sockets join multicast groups.", where)
            {
                Setting = SocketSetting.MulticastGroup,
            };
        }

        return Launch(new SocketServer(listener, options, backlog, name, socketPath: null, tls, policy));
    }

    /// <summary>Listens on a Unix domain socket file (stream), or binds a Unix datagram socket
    /// there. A stale file (nothing listens on it) is replaced; a live one is AddressInUse;
    /// anything that is not a socket is left alone. The file is removed when the server stops.</summary>
    public static SocketServer StartUnix(string path, int backlog, ConnectionOptions options, string? name = null, SocketProtocol protocol = SocketProtocol.Tcp,
        TlsServerOptions? tls = null, ServerPolicy? policy = null)
    {
        RequireStreamForTls(protocol, tls);
        EndPoint endPoint = UnixSockets.CreateEndPoint(path);
        string? folder = System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(path));
        if (folder is not null && !System.IO.Directory.Exists(folder))
        {
            throw new SocketOperationException(SocketFailureKind.InvalidArgument,
                $"Cannot listen on {path}: the folder {folder} does not exist. Create it first, or pick a path in an existing folder.", path);
        }

        SocketType type = protocol == SocketProtocol.Udp ? SocketType.Dgram : SocketType.Stream;
        Socket listener = new(AddressFamily.Unix, type, ProtocolType.Unspecified);
        try
        {
            options.SocketOptions?.Apply(listener);
            try
            {
                listener.Bind(endPoint);
            }
            catch (SocketException ex) when (ex.SocketErrorCode == SocketError.AddressAlreadyInUse)
            {
                if (UnixSockets.IsLive(path) || !UnixSockets.IsSocketFile(path))
                {
                    throw UnixInUse(path, ex);
                }

                UnixSockets.TryDeleteSocketFile(path);
                listener.Bind(endPoint);
            }

            if (type == SocketType.Stream)
            {
                listener.Listen(backlog);
            }
        }
        catch (SocketException ex)
        {
            listener.Dispose();
            throw ex.SocketErrorCode == SocketError.AddressAlreadyInUse ? UnixInUse(path, ex) : BindFailed(ex, path);
        }
        catch (Exception)
        {
            listener.Dispose();
            throw;
        }

        return Launch(new SocketServer(listener, options, backlog, name, socketPath: path, tls, policy));
    }

    /// <summary>Listens on a Linux abstract Unix socket name (stream), or binds a datagram socket
    /// there: socat's ABSTRACT-LISTEN:name. No file is made, so there is nothing stale to replace
    /// and nothing to remove; the name is free again once the server stops.</summary>
    /// <param name="abstractName">The name without its leading NUL.</param>
    /// <param name="backlog">The OS listen queue length.</param>
    /// <param name="options">Settings for accepted connections.</param>
    /// <param name="name">The server's name; ServerN when null.</param>
    /// <param name="protocol">Tcp for a stream socket, Udp for a datagram socket.</param>
    /// <param name="tls">Stream only: make every accepted connection TLS.</param>
    /// <param name="policy">Limits, access lists and handlers; null for none.</param>
    public static SocketServer StartUnixAbstract(string abstractName, int backlog, ConnectionOptions options, string? name = null,
        SocketProtocol protocol = SocketProtocol.Tcp, TlsServerOptions? tls = null, ServerPolicy? policy = null)
    {
        RequireStreamForTls(protocol, tls);
        EndPoint endPoint = UnixSockets.CreateAbstractEndPoint(abstractName);
        string where = "@" + abstractName;
        SocketType type = protocol == SocketProtocol.Udp ? SocketType.Dgram : SocketType.Stream;
        Socket listener = new(AddressFamily.Unix, type, ProtocolType.Unspecified);
        try
        {
            options.SocketOptions?.Apply(listener);
            listener.Bind(endPoint);
            if (type == SocketType.Stream)
            {
                listener.Listen(backlog);
            }
        }
        catch (SocketException ex)
        {
            listener.Dispose();
            throw ex.SocketErrorCode == SocketError.AddressAlreadyInUse
                ? new SocketOperationException(SocketFailureKind.AddressInUse,
                    $"Cannot listen on the abstract Unix socket {where}: another socket holds that name. Stop it, or pick another name.", where, ex)
                : BindFailed(ex, where);
        }
        catch (Exception)
        {
            listener.Dispose();
            throw;
        }

        return Launch(new SocketServer(listener, options, backlog, name, socketPath: null, tls, policy));
    }

    private static void RequireStreamForTls(SocketProtocol protocol, TlsServerOptions? tls)
    {
        if (tls is not null && protocol == SocketProtocol.Udp)
        {
            throw new SocketOperationException(SocketFailureKind.InvalidArgument,
                "TLS runs over stream sockets; a UDP server cannot take a certificate (DTLS is not supported).")
            {
                Setting = SocketSetting.ServerCertificate,
            };
        }

        if (tls is not null)
        {
            TlsCertificates.RequirePrivateKey(tls.Certificate, "server");
        }
    }

    private static SocketServer Launch(SocketServer server)
    {
        server.StartIdleTimer();
        if (server._datagramSocket is not null)
        {
            server._datagramSocket.Start();
        }
        else
        {
            _ = server.AcceptLoopAsync();
        }

        return server;
    }

    private static SocketOperationException UnixInUse(string path, SocketException ex) =>
        new(SocketFailureKind.AddressInUse,
            UnixSockets.IsLive(path)
                ? $"Cannot listen on {path}: another server is listening on it. Stop it, or pick another path."
                : $"Cannot listen on {path}: a file that is not a socket is in the way. Remove it yourself if it is not needed, or pick another path.",
            path, ex);

    private static void JoinGroups(Socket socket, IReadOnlyList<(IPAddress Group, IPAddress? Interface)>? groups)
    {
        if (groups is null)
        {
            return;
        }

        foreach ((IPAddress group, IPAddress? local) in groups)
        {
            if (group.AddressFamily != socket.AddressFamily && !(socket.DualMode && group.AddressFamily == AddressFamily.InterNetwork))
            {
                throw new SocketOperationException(SocketFailureKind.InvalidArgument,
                    $"The multicast group {group} is {EndPoints.Family(group.AddressFamily)}, but the server is {EndPoints.Family(socket.AddressFamily)}.", group.ToString())
                {
                    Setting = SocketSetting.AddressFamily,
                };
            }

            try
            {
                if (group.AddressFamily == AddressFamily.InterNetwork)
                {
                    MulticastOption option = local is null ? new MulticastOption(group) : new MulticastOption(group, local);
                    socket.SetSocketOption(SocketOptionLevel.IP, SocketOptionName.AddMembership, option);
                }
                else
                {
                    long index = local is null ? 0 : local.ScopeId;
                    socket.SetSocketOption(SocketOptionLevel.IPv6, SocketOptionName.AddMembership, new IPv6MulticastOption(group, index));
                }
            }
            catch (SocketException ex)
            {
                throw new SocketOperationException(SocketFailureKind.InvalidArgument,
                    $"Cannot join the multicast group {group}{(local is null ? string.Empty : " on " + local)}: {ex.Message}. Check that it is a multicast address (224.0.0.0/4, ff00::/8) and that the interface exists.",
                    group.ToString(), ex);
            }
        }
    }

    private static SocketOperationException BindFailed(SocketException ex, string where)
    {
        SocketFailureKind kind = SocketErrors.Classify(ex.SocketErrorCode);
        string message = kind switch
        {
            SocketFailureKind.AddressInUse =>
                $"Cannot listen on {where}: the address is already in use. Stop whatever listens there, or pick another port.",
            SocketFailureKind.AddressNotAvailable =>
                $"Cannot listen on {where}: that address does not belong to this machine. Use 127.0.0.1, Any, or one of this machine's addresses.",
            SocketFailureKind.AccessDenied =>
                $"Cannot listen on {where}: permission denied. Ports below 1024 need administrator rights on many systems; try a higher port.",
            _ => $"Cannot listen on {where}: {ex.Message}",
        };
        return new SocketOperationException(kind == SocketFailureKind.Unknown ? SocketFailureKind.InvalidArgument : kind, message, where, ex)
        {
            Setting = kind == SocketFailureKind.AddressInUse ? SocketSetting.ListenPort : SocketSetting.None,
        };
    }

    /// <summary>Accepts until the server stops. A client that cannot be accepted or admitted is
    /// counted (AcceptErrorCount, LastAcceptError) and the loop goes on; anything that breaks the
    /// listening socket itself ends the server through <see cref="Fail"/>, so its state says
    /// Failed with the reason instead of Listening with nobody accepting.</summary>
    private async Task AcceptLoopAsync()
    {
        CancellationToken stopping = _stopping.Token;
        try
        {
            await AcceptUntilStoppedAsync(stopping).ConfigureAwait(false);
        }
        catch (Exception) when (stopping.IsCancellationRequested)
        {
            // Stopped.
        }
        catch (Exception ex)
        {
            Fail($"accepting on {EndPointText.Format(LocalEndPoint)} failed: {ex.Message}");
        }
    }

    private async Task AcceptUntilStoppedAsync(CancellationToken stopping)
    {
        while (!stopping.IsCancellationRequested)
        {
            // At -MaxConnections, stop accepting: further clients wait in the OS backlog (and are
            // refused by the OS once that is full), and are accepted as connections close.
            if (!await TakeSlotAsync(stopping).ConfigureAwait(false))
            {
                break;
            }

            Socket client;
            try
            {
                client = await _listener.AcceptAsync().ConfigureAwait(false);
            }
            catch (Exception) when (stopping.IsCancellationRequested)
            {
                break;
            }
            catch (SocketException ex) when (IsTransientAcceptError(ex))
            {
                // A client that gave up between SYN and accept, or a momentary lack of file
                // descriptors: count it and keep serving.
                ReturnSlot();
                Interlocked.Increment(ref _acceptErrorCount);
                Volatile.Write(ref _lastAcceptError, ex.Message);
                try
                {
                    await Task.Delay(50, stopping).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    break;
                }

                continue;
            }

            if (RefusesClient(client))
            {
                continue;
            }

            Interlocked.Increment(ref _acceptedCount);
            if (_tlsOptions is null && _policy.WebSocket is null)
            {
                if (!await AdmitAsync(client, null, null, stopping).ConfigureAwait(false))
                {
                    break;
                }
            }
            else
            {
                // Handshakes run beside the accept loop, so one slow client does not hold up
                // the others; accepting waits while the queue of finished ones is full.
                _ = HandshakeThenAdmitAsync(client, stopping);
                try
                {
                    await _pending.Writer.WaitToWriteAsync(stopping).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    break;
                }
            }
        }
    }

    private static bool IsTransientAcceptError(SocketException ex) =>
        ex.SocketErrorCode is SocketError.ConnectionAborted or SocketError.ConnectionReset or SocketError.TooManyOpenSockets
            or SocketError.NoBufferSpaceAvailable or SocketError.Interrupted or SocketError.TryAgain or SocketError.WouldBlock;

    /// <summary>Fault injection for the tests: the listening socket closes under the running
    /// accept loop, as when the OS takes it away.</summary>
    internal void BreakListenerForTesting() => _listener.Dispose();

    /// <summary>Makes the connection and queues it for Wait-SocketConnection; false when the
    /// server stopped meanwhile.</summary>
    private async Task<bool> AdmitAsync(Socket client, NetworkStream? network, SslStream? tls, CancellationToken stopping, WebSocketUpgrade? webSocket = null)
    {
        SocketConnection connection;
        try
        {
            _options.SocketOptions?.ApplyToAccepted(client);
            connection = new SocketConnection(client, _options.Clone(), this, networkStream: network, tls: tls, webSocket: webSocket);
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException or SocketOperationException)
        {
            // The client reset before we could read its endpoints, or the server's transcript
            // file cannot be written any more (a server told to record everything does not
            // serve unrecorded).
            tls?.Dispose();
            client.Dispose();
            ReturnSlot();
            Interlocked.Increment(ref _acceptErrorCount);
            Volatile.Write(ref _lastAcceptError, ex.Message);
            return true;
        }

        Interlocked.Increment(ref _connectionCount);
        _live[connection.Id] = connection;
        try
        {
            _policy.Publish?.Invoke(connection);
            connection.Start();
            ConnectionAccepted?.Invoke(this, new SocketConnectionEventArgs(this, connection));
        }
        catch (Exception ex)
        {
            // One connection that could not start, or a subscriber that threw: that client is
            // lost, the server goes on.
            Interlocked.Increment(ref _acceptErrorCount);
            Volatile.Write(ref _lastAcceptError, ex.Message);
            connection.Close("The server could not start the connection: " + ex.Message);
            return true;
        }

        if (_policy.ConnectionHandler is { } handler)
        {
            try
            {
                handler(connection);
            }
            catch (Exception ex)
            {
                // The handler host reports its own faults; whatever escapes it costs this one
                // connection, never the accept loop.
                Interlocked.Increment(ref _acceptErrorCount);
                Volatile.Write(ref _lastAcceptError, ex.Message);
                connection.Close("The server could not hand the connection to its handler: " + ex.Message);
            }

            return true;
        }

        try
        {
            await _pending.Writer.WriteAsync(connection, stopping).ConfigureAwait(false);
            return true;
        }
        catch (Exception ex) when (ex is OperationCanceledException or ChannelClosedException)
        {
            connection.Close("The server stopped before the connection was handed out.");
            return false;
        }
    }

    /// <summary>Every connection a TLS server hands out is TLS already. A failed handshake is
    /// counted and kept as LastTlsError, the client is dropped, and the server goes on.</summary>
    private async Task HandshakeThenAdmitAsync(Socket client, CancellationToken stopping)
    {
        NetworkStream network = new(client, ownsSocket: false);
        string where;
        try
        {
            where = EndPointText.Format(client.RemoteEndPoint);
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
            where = "(a client that left)";
        }

        SslStream? tls = null;
        if (_tlsOptions is not null)
        {
            try
            {
                tls = await TlsHandshake.AuthenticateAsServerAsync(network, _tlsOptions!, where, stopping).ConfigureAwait(false);
            }
            catch (Exception ex)
            {
                network.Dispose();
                client.Dispose();
                ReturnSlot();
                if (ex is not OperationCanceledException)
                {
                    Interlocked.Increment(ref _tlsFailureCount);
                    Volatile.Write(ref _lastTlsError, ex.Message);
                }

                return;
            }
        }

        WebSocketUpgrade? upgrade = null;
        if (_policy.WebSocket is { } webSocket)
        {
            // The client has HandshakeTimeout to send its upgrade request; one that does not,
            // or sends something else, is answered with an HTTP error, counted and dropped.
            using CancellationTokenSource timer = new(webSocket.HandshakeTimeout);
            using CancellationTokenSource linked = CancellationTokenSource.CreateLinkedTokenSource(stopping, timer.Token);
            try
            {
                upgrade = await WebSocketHandshake.ServerAsync((System.IO.Stream?)tls ?? network, webSocket, where, linked.Token).ConfigureAwait(false);
                upgrade.IsServer = true;
                upgrade.KeepAliveInterval = webSocket.KeepAliveInterval;
            }
            catch (Exception ex)
            {
                tls?.Dispose();
                network.Dispose();
                client.Dispose();
                ReturnSlot();
                if (!stopping.IsCancellationRequested)
                {
                    Interlocked.Increment(ref _acceptErrorCount);
                    Volatile.Write(ref _lastAcceptError, ex is OperationCanceledException
                        ? $"The client {where} sent no WebSocket upgrade request within {EndPointText.Seconds(webSocket.HandshakeTimeout)}."
                        : ex.Message);
                }

                return;
            }
        }

        await AdmitAsync(client, network, tls, stopping, upgrade).ConfigureAwait(false);
    }

    /// <summary>The WebSocket settings of a -WebSocket server; null for plain servers.</summary>
    public WebSocketServerOptions? WebSocket => _policy.WebSocket;

    internal void OnConnectionClosed(SocketConnection connection)
    {
        if (ReferenceEquals(connection, _datagramSocket))
        {
            // Closing a datagram server's socket (Disconnect-Socket) is stopping the server.
            Stop("The server's socket was closed.");
            return;
        }

        if (_live.TryRemove(connection.Id, out _))
        {
            Interlocked.Decrement(ref _connectionCount);
            ReturnSlot();
        }
    }

    /// <summary>Hands out the next accepted connection (Python's socket <c>accept</c>), waiting up to
    /// <paramref name="timeout"/> (zero waits forever).</summary>
    public SocketConnection Accept(TimeSpan timeout)
    {
        ValueTask<SocketConnection> accept = AcceptAsync(timeout, CancellationToken.None);
        return accept.IsCompletedSuccessfully ? accept.Result : accept.AsTask().GetAwaiter().GetResult();
    }

    /// <summary>Hands out the next accepted connection, waiting forever.</summary>
    public SocketConnection Accept() => Accept(TimeSpan.Zero);

    internal ValueTask<SocketConnection> AcceptAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        if (_datagramSocket is not null)
        {
            throw new SocketOperationException(SocketFailureKind.InvalidArgument,
                $"{Name} is a datagram server: there are no connections to accept; its datagrams are received from the server itself.",
                EndPointText.Format(LocalEndPoint))
            {
                Setting = SocketSetting.ServerDatagrams,
            };
        }

        if (_pending.Reader.TryRead(out SocketConnection? ready))
        {
            return new ValueTask<SocketConnection>(ready);
        }

        if (State != ServerState.Listening)
        {
            throw StoppedError();
        }

        return AcceptSlowAsync(timeout, cancellationToken);
    }

    private async ValueTask<SocketConnection> AcceptSlowAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        using CancellationTokenSource? timer = timeout > TimeSpan.Zero ? new CancellationTokenSource(timeout) : null;
        using CancellationTokenSource? linked = timer is null ? null : CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timer.Token);
        try
        {
            return await _pending.Reader.ReadAsync(linked?.Token ?? cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (timer?.IsCancellationRequested == true && !cancellationToken.IsCancellationRequested)
        {
            throw new SocketOperationException(SocketFailureKind.AcceptTimeout,
                $"No client connected to {Name} ({EndPointText.Format(LocalEndPoint)}) within {EndPointText.Seconds(timeout)}. " +
                "The server keeps listening.",
                EndPointText.Format(LocalEndPoint))
            {
                Setting = SocketSetting.Timeout,
                Timeout = timeout,
            };
        }
        catch (ChannelClosedException)
        {
            throw StoppedError();
        }
    }

    /// <summary>Hands out the first connection any of <paramref name="servers"/> accepts. Waits
    /// without taking from the others' queues, so nothing is taken that is not handed out.</summary>
    internal static async Task<SocketConnection> AcceptAnyAsync(IReadOnlyList<SocketServer> servers, TimeSpan timeout, CancellationToken cancellationToken)
    {
        using CancellationTokenSource? timer = timeout > TimeSpan.Zero ? new CancellationTokenSource(timeout) : null;
        using CancellationTokenSource linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timer?.Token ?? CancellationToken.None);
        foreach (SocketServer server in servers)
        {
            if (server._datagramSocket is not null)
            {
                _ = server.AcceptAsync(timeout, cancellationToken); // throws the datagram-server error
            }
        }

        try
        {
            while (true)
            {
                foreach (SocketServer server in servers)
                {
                    if (server._pending.Reader.TryRead(out SocketConnection? ready))
                    {
                        return ready;
                    }
                }

                if (servers.All(s => s.State != ServerState.Listening))
                {
                    throw servers[0].StoppedError();
                }

                Task[] waits = servers.Where(s => s.State == ServerState.Listening)
                    .Select(s => s._pending.Reader.WaitToReadAsync(linked.Token).AsTask()).ToArray();
                await Task.WhenAny(waits).ConfigureAwait(false);
                linked.Token.ThrowIfCancellationRequested();
            }
        }
        catch (OperationCanceledException) when (timer?.IsCancellationRequested == true && !cancellationToken.IsCancellationRequested)
        {
            throw new SocketOperationException(SocketFailureKind.AcceptTimeout,
                $"No client connected to any of {string.Join(", ", servers.Select(s => s.Name))} within {EndPointText.Seconds(timeout)}. " +
                "The servers keep listening.")
            {
                Setting = SocketSetting.Timeout,
                Timeout = timeout,
            };
        }
    }

    private SocketOperationException StoppedError() =>
        new(SocketFailureKind.Closed,
            $"The server {Name} ({EndPointText.Format(LocalEndPoint)}) is stopped.",
            EndPointText.Format(LocalEndPoint))
        {
            Setting = SocketSetting.NewServer,
        };

    /// <summary>Stops listening. Connections already handed out stay open; connections accepted
    /// but never handed out are closed, since nobody holds them.</summary>
    public void Stop() => Stop("The server was stopped.");

    internal void Stop(string reason) => Stop(reason, ServerState.Stopped, error: null);

    /// <summary>The one way a server ends: stopped by its user, or failed (what it needs to serve
    /// broke; <see cref="LastError"/> says what). Either way its sockets close and the handlers
    /// it runs are stopped.</summary>
    private void Stop(string reason, ServerState final, string? error)
    {
        if (Interlocked.CompareExchange(ref _state, (int)final, (int)ServerState.Listening) != (int)ServerState.Listening)
        {
            return;
        }

        Volatile.Write(ref _lastError, error);

        _stopping.Cancel();
        RaiseStopping();
        _idleTimer?.Dispose();
        _datagramSocket?.Close(reason);
        _listener.Dispose();
        _pending.Writer.TryComplete();
        while (_pending.Reader.TryRead(out SocketConnection? waiting))
        {
            waiting.Close(reason);
        }

        if (_socketPath is not null)
        {
            UnixSockets.TryDeleteSocketFile(_socketPath);
        }

        Stopped?.Invoke(this, EventArgs.Empty);
    }

    /// <summary>Stops the server because something it cannot serve without failed: records
    /// <paramref name="error"/> as <see cref="LastError"/> and leaves the state Failed.</summary>
    internal void Fail(string error) => Stop("The server failed: " + error, ServerState.Failed, error);

    /// <summary>Why the server failed, when its state is Failed.</summary>
    public string? LastError => Volatile.Read(ref _lastError);

    /// <summary>Same as <see cref="Stop()"/>.</summary>
    public void Dispose() => Stop();

    /// <summary>"tcp 127.0.0.1:8080 (Listening)".</summary>
    public override string ToString() => $"{Transport.ToLowerInvariant()} {EndPointText.Format(LocalEndPoint)} ({State})";
}
