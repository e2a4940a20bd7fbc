using System;
using System.Collections.Generic;
using System.Linq;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Threading;
using System.Threading.Tasks;

namespace SockPS.Core;

/// <summary>Opens client connections: resolves the name, then tries each address in the order
/// the resolver gives until one connects, all within one timeout.</summary>
public static class SocketConnector
{
    /// <summary>Replaces the DNS lookup of names (never of IP literals). A test seam: this
    /// machine's resolver knows no name with several addresses, and tests need one.</summary>
    internal static Func<string, Task<IPAddress[]>>? HostLookupOverride { get; set; }

    /// <summary>The default connect timeout.</summary>
    public static readonly TimeSpan DefaultConnectTimeout = TimeSpan.FromSeconds(30);

    /// <summary>Connects over TCP (directly, or through <see cref="ConnectionOptions.Proxy"/>) and
    /// returns a started, registered connection.</summary>
    /// <param name="host">A name or an IP address.</param>
    /// <param name="port">1-65535.</param>
    /// <param name="options">Settings for the new connection.</param>
    /// <param name="timeout">For the whole attempt, name lookup, proxy handshake and TLS handshake
    /// included; zero waits as long as the OS does.</param>
    /// <param name="addressFamily">Only addresses of this family, or null for any.</param>
    /// <param name="cancellationToken">Stops the attempt (Ctrl+C).</param>
    /// <param name="waitOnThisThread">The caller blocks on the result anyway (a cmdlet on its
    /// pipeline thread): look the name up and connect on this thread rather than through .NET's
    /// socket engine (<see cref="ConnectOnThisThread"/>), and leave a plain connection's reading
    /// to its first reader, so a connection a script only uses from this thread is never
    /// registered with the engine (<see cref="StreamChannel.ArrivalsWakeRegisteredSockets"/>).</param>
    public static async Task<SocketConnection> ConnectTcpAsync(string host, int port, ConnectionOptions options, TimeSpan timeout,
        AddressFamily? addressFamily, CancellationToken cancellationToken, bool waitOnThisThread = false)
    {
        int thread = waitOnThisThread ? Environment.CurrentManagedThreadId : 0;
        using CancellationTokenSource? timer = timeout > TimeSpan.Zero ? new CancellationTokenSource(timeout) : null;
        using CancellationTokenSource linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timer?.Token ?? CancellationToken.None);
        CancellationToken token = linked.Token;
        bool TimerFired() => timer?.IsCancellationRequested == true && !cancellationToken.IsCancellationRequested;

        OpenedSocket opened = await OpenTcpAsync(host, port, options, addressFamily, timeout, TimerFired, token, thread).ConfigureAwait(false);
        Socket socket = opened.Socket;
        try
        {
            NetworkStream? network = null;
            SslStream? tls = null;
            if (options.Tls is not null)
            {
                // Nothing is sent before the handshake succeeds: the connection object, and
                // with it every send, exists only after. Through a proxy the handshake runs
                // inside the tunnel, end to end with the target, and checks the target's name.
                network = new NetworkStream(socket, ownsSocket: false);
                try
                {
                    tls = await TlsHandshake.AuthenticateAsClientAsync(network, options.Tls, host, opened.Peer, TimeSpan.Zero, token).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (TimerFired())
                {
                    // The TCP connection was made; it is the handshake that stalled.
                    throw new SocketOperationException(SocketFailureKind.TlsAuthentication,
                        $"Connected to {opened.Peer}, but the TLS handshake did not finish within {EndPointText.Seconds(timeout)}. The service may not speak TLS on this port.", opened.Peer);
                }
            }

            SocketConnection connection = new(socket, options, server: null, networkStream: network, tls: tls, remoteEndPoint: opened.RemoteEndPoint)
            {
                ComputerName = host,
                Proxy = options.Proxy?.Text,
            };
            connection.Start(parked: waitOnThisThread, blockingHandle: opened.BlockingHandle && tls is null);
            return connection;
        }
        catch (Exception)
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>Connects a WebSocket (ws://, or wss:// with <see cref="ConnectionOptions.Tls"/>):
    /// TCP as <see cref="ConnectTcpAsync"/> (proxy, local address, socket options), then TLS with
    /// the same checks, then the HTTP upgrade; returns a started connection whose receives are
    /// whole messages. NotSupported on Windows PowerShell 5.1.</summary>
    public static async Task<SocketConnection> ConnectWebSocketAsync(string host, int port, WebSocketClientOptions webSocket, ConnectionOptions options,
        TimeSpan timeout, AddressFamily? addressFamily, CancellationToken cancellationToken)
    {
        WebSockets.ThrowIfUnsupported(EndPointText.Format(host, port));
        using CancellationTokenSource? timer = timeout > TimeSpan.Zero ? new CancellationTokenSource(timeout) : null;
        using CancellationTokenSource linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timer?.Token ?? CancellationToken.None);
        CancellationToken token = linked.Token;
        bool TimerFired() => timer?.IsCancellationRequested == true && !cancellationToken.IsCancellationRequested;

        OpenedSocket opened = await OpenTcpAsync(host, port, options, addressFamily, timeout, TimerFired, token).ConfigureAwait(false);
        Socket socket = opened.Socket;
        NetworkStream network = new(socket, ownsSocket: false);
        SslStream? tls = null;
        try
        {
            if (options.NoDelay)
            {
                socket.NoDelay = true;
            }

            System.IO.Stream stream = network;
            if (options.Tls is not null)
            {
                try
                {
                    tls = await TlsHandshake.AuthenticateAsClientAsync(network, options.Tls, host, opened.Peer, TimeSpan.Zero, token).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (TimerFired())
                {
                    throw new SocketOperationException(SocketFailureKind.TlsAuthentication,
                        $"Connected to {opened.Peer}, but the TLS handshake did not finish within {EndPointText.Seconds(timeout)}. The service may not speak TLS on this port.", opened.Peer);
                }

                stream = tls;
            }

            WebSocketUpgrade upgrade;
            try
            {
                upgrade = await WebSocketHandshake.ClientAsync(stream, webSocket, opened.Peer, token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (TimerFired())
            {
                throw new SocketOperationException(SocketFailureKind.WebSocketHandshake,
                    $"Connected to {opened.Peer}, but it did not answer the WebSocket upgrade within {EndPointText.Seconds(timeout)}.", opened.Peer);
            }
            catch (Exception ex) when (ex is System.IO.IOException or SocketException or ObjectDisposedException)
            {
                throw SocketErrors.TransferFailed(ex, opened.Peer, "the WebSocket upgrade");
            }

            upgrade.KeepAliveInterval = webSocket.KeepAliveInterval;
            SocketConnection connection = new(socket, options, server: null, networkStream: network, tls: tls, remoteEndPoint: opened.RemoteEndPoint, webSocket: upgrade)
            {
                ComputerName = host,
                Proxy = options.Proxy?.Text,
            };
            connection.Start();
            return connection;
        }
        catch (Exception)
        {
            tls?.Dispose();
            network.Dispose();
            socket.Dispose();
            throw;
        }
    }

    /// <summary>A connected TCP socket to host:port: directly, trying each address of the name in
    /// turn, or through the proxy of <paramref name="options"/>; bound first to the local address
    /// and port asked for. Timeouts become ConnectTimeout (ProxyTimeout through a proxy). A direct
    /// connect still running on thread <paramref name="waitThread"/> waits on it (see
    /// <see cref="ConnectOnThisThread"/>).</summary>
    internal static Task<OpenedSocket> OpenTcpAsync(string host, int port, ConnectionOptions options, AddressFamily? addressFamily,
        TimeSpan timeout, Func<bool> timerFired, CancellationToken token, int waitThread = 0)
    {
        if (options.LocalAddress is not null && addressFamily is not null && options.LocalAddress.AddressFamily != addressFamily)
        {
            throw new SocketOperationException(SocketFailureKind.InvalidArgument,
                $"The local address {options.LocalAddress} is an {EndPoints.Family(options.LocalAddress.AddressFamily)} address, but the address family asked for is {EndPoints.Family(addressFamily.Value)}.",
                EndPointText.Format(host, port))
            {
                Setting = SocketSetting.LocalAddress,
            };
        }

        return options.Proxy is null
            ? OpenDirectAsync(host, port, options, addressFamily, timeout, timerFired, token, waitThread)
            : ProxyConnector.OpenAsync(options.Proxy, host, port, options, addressFamily, timeout, timerFired, token);
    }

    private static async Task<OpenedSocket> OpenDirectAsync(string host, int port, ConnectionOptions options, AddressFamily? addressFamily,
        TimeSpan timeout, Func<bool> timerFired, CancellationToken token, int waitThread)
    {
        string where = EndPointText.Format(host, port);

        // A name's lookup completes on another thread; a caller that waits anyway waits for it
        // here, so the connects below run on its thread too (ConnectOnThisThread, which either
        // connects without an await or declines for every address alike).
        bool onThisThread = waitThread != 0 && waitThread == Environment.CurrentManagedThreadId;
        IReadOnlyList<IPAddress> addresses;
        try
        {
            Task<IReadOnlyList<IPAddress>> lookup = ResolveAsync(host, addressFamily ?? options.LocalAddress?.AddressFamily, token);
            addresses = onThisThread ? lookup.GetAwaiter().GetResult() : await lookup.ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (timerFired())
        {
            throw TimedOut(where, timeout, "looking up the name");
        }
        catch (SocketOperationException ex) when (ex.Kind == SocketFailureKind.HostNotFound && options.LocalAddress is not null && addressFamily is null)
        {
            throw ex.InnerException is SocketException ? ex : LocalBinding.NoReachableAddress(host, options.LocalAddress);
        }

        SocketOperationException? last = null;
        foreach (IPAddress address in addresses)
        {
            string attempt = EndPointText.Format(address, port);
            string peer = addresses.Count > 1 ? $"{where} ({attempt})" : where;
            Socket socket = new(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
            try
            {
                options.SocketOptions?.Apply(socket);
                LocalBinding.Bind(socket, options.LocalAddress, options.LocalPort);
                IPEndPoint endPoint = new(address, port);
                bool blockingHandle = false;
                if (!onThisThread || !ConnectOnThisThread(socket, endPoint, token, out blockingHandle))
                {
                    await ConnectOneAsync(socket, endPoint, token).ConfigureAwait(false);
                }

                return new OpenedSocket(socket, null, peer, blockingHandle);
            }
            catch (OperationCanceledException) when (timerFired())
            {
                socket.Dispose();
                throw TimedOut(peer, timeout, null);
            }
            catch (SocketOperationException)
            {
                // A bad socket option or local binding fails on every address alike.
                socket.Dispose();
                throw;
            }
            catch (OperationCanceledException)
            {
                socket.Dispose();
                throw;
            }
            catch (Exception ex)
            {
                socket.Dispose();
                string failed = addresses.Count > 1 || !string.Equals(host, address.ToString(), StringComparison.OrdinalIgnoreCase)
                    ? $"{where} ({attempt})"
                    : where;
                last = LocalBinding.PortTaken(ex, options.LocalAddress, options.LocalPort, failed) ?? SocketErrors.ConnectFailed(ex, failed);
            }
        }

        throw last ?? new SocketOperationException(SocketFailureKind.HostNotFound, $"The host name '{host}' has no address to connect to.", where);
    }

    /// <summary>A UDP socket connected to one peer: sends go to it and only its datagrams are
    /// received. UDP has no handshake, so the first address of the name is taken.</summary>
    public static async Task<SocketConnection> ConnectUdpAsync(string host, int port, ConnectionOptions options, TimeSpan timeout,
        AddressFamily? addressFamily, CancellationToken cancellationToken)
    {
        string where = EndPointText.Format(host, port);
        if (options.Proxy is not null)
        {
            throw new SocketOperationException(SocketFailureKind.InvalidArgument,
                "A proxy carries TCP connections only: SockPS does not speak SOCKS5's UDP ASSOCIATE.", where)
            {
                Setting = SocketSetting.ProxyNotApplicable,
            };
        }

        if (options.LocalAddress is not null && addressFamily is not null && options.LocalAddress.AddressFamily != addressFamily)
        {
            throw new SocketOperationException(SocketFailureKind.InvalidArgument,
                $"The local address {options.LocalAddress} is an {EndPoints.Family(options.LocalAddress.AddressFamily)} address, but the address family asked for is {EndPoints.Family(addressFamily.Value)}.", where)
            {
                Setting = SocketSetting.LocalAddress,
            };
        }

        using CancellationTokenSource? timer = timeout > TimeSpan.Zero ? new CancellationTokenSource(timeout) : null;
        using CancellationTokenSource linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timer?.Token ?? CancellationToken.None);
        IReadOnlyList<IPAddress> addresses;
        try
        {
            addresses = await ResolveAsync(host, addressFamily ?? options.LocalAddress?.AddressFamily, linked.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (timer?.IsCancellationRequested == true && !cancellationToken.IsCancellationRequested)
        {
            throw TimedOut(where, timeout, "looking up the name");
        }
        catch (SocketOperationException ex) when (ex.Kind == SocketFailureKind.HostNotFound && options.LocalAddress is not null && addressFamily is null
            && ex.InnerException is not SocketException)
        {
            throw LocalBinding.NoReachableAddress(host, options.LocalAddress);
        }

        IPAddress address = addresses[0];
        Socket socket = new(address.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
        try
        {
            PrepareDatagram(socket, options);
            LocalBinding.Bind(socket, options.LocalAddress, options.LocalPort);
            socket.Connect(new IPEndPoint(address, port));
            SocketConnection connection = new(socket, options, server: null) { ComputerName = host };
            connection.Start();
            return connection;
        }
        catch (Exception ex)
        {
            socket.Dispose();
            throw SocketErrors.ConnectFailed(ex, where);
        }
    }

    /// <summary>Connects to a Unix domain socket: a stream socket, or with
    /// <see cref="SocketProtocol.Udp"/> a datagram socket bound to a fresh temp path so the
    /// server has somewhere to reply (the path is removed on close).</summary>
    /// <param name="path">The socket file's path.</param>
    /// <param name="protocol">Tcp for a stream socket, Udp for a datagram socket.</param>
    /// <param name="options">Settings for the new connection.</param>
    /// <param name="timeout">Bounds the connect; zero waits as long as the OS does.</param>
    /// <param name="cancellationToken">Stops the attempt.</param>
    /// <param name="waitOnThisThread">As for <see cref="ConnectTcpAsync"/>: a stream connection
    /// leaves its reading to its first reader.</param>
    public static Task<SocketConnection> ConnectUnixAsync(string path, SocketProtocol protocol, ConnectionOptions options, TimeSpan timeout,
        CancellationToken cancellationToken, bool waitOnThisThread = false) =>
        ConnectUnixCoreAsync(UnixSockets.CreateEndPoint(path), path, abstractName: false, protocol, options, timeout, cancellationToken, waitOnThisThread);

    /// <summary>Connects to a Linux abstract Unix socket (socat's ABSTRACT-CONNECT:name), stream
    /// or, with <see cref="SocketProtocol.Udp"/>, datagram.</summary>
    /// <param name="name">The name without its leading NUL.</param>
    /// <param name="protocol">Tcp for a stream socket, Udp for a datagram socket.</param>
    /// <param name="options">Settings for the new connection.</param>
    /// <param name="timeout">Bounds the connect; zero waits as long as the OS does.</param>
    /// <param name="cancellationToken">Stops the attempt.</param>
    /// <param name="waitOnThisThread">As for <see cref="ConnectUnixAsync"/>.</param>
    public static Task<SocketConnection> ConnectUnixAbstractAsync(string name, SocketProtocol protocol, ConnectionOptions options, TimeSpan timeout,
        CancellationToken cancellationToken, bool waitOnThisThread = false) =>
        ConnectUnixCoreAsync(UnixSockets.CreateAbstractEndPoint(name), "@" + name, abstractName: true, protocol, options, timeout, cancellationToken, waitOnThisThread);

    // A local connect completes at once, so ConnectAsync does not register the socket with .NET's
    // engine; only the loop's first wait would, and a parked start leaves that to the first reader.
    private static async Task<SocketConnection> ConnectUnixCoreAsync(EndPoint endPoint, string path, bool abstractName, SocketProtocol protocol,
        ConnectionOptions options, TimeSpan timeout, CancellationToken cancellationToken, bool parked)
    {
        bool datagram = protocol == SocketProtocol.Udp;
        if (options.Broadcast)
        {
            throw new SocketOperationException(SocketFailureKind.InvalidArgument, "Broadcast is for IPv4 UDP sockets; Unix sockets have no broadcast.", path)
            {
                Setting = SocketSetting.Broadcast,
            };
        }

        Socket socket = new(AddressFamily.Unix, datagram ? SocketType.Dgram : SocketType.Stream, ProtocolType.Unspecified);
        string? clientPath = null;
        try
        {
            options.SocketOptions?.Apply(socket);
            if (datagram)
            {
                clientPath = UnixSockets.NewClientPath();
                socket.Bind(UnixSockets.CreateEndPoint(clientPath));
                socket.Connect(endPoint);
            }
            else
            {
                using CancellationTokenSource? timer = timeout > TimeSpan.Zero ? new CancellationTokenSource(timeout) : null;
                using CancellationTokenSource linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timer?.Token ?? CancellationToken.None);
                try
                {
                    await ConnectOneAsync(socket, endPoint, linked.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (timer?.IsCancellationRequested == true && !cancellationToken.IsCancellationRequested)
                {
                    throw TimedOut(path, timeout, null);
                }
            }

            SocketConnection connection = new(socket, options, server: null, ownedSocketPath: clientPath);
            connection.Start(parked);
            return connection;
        }
        catch (Exception ex)
        {
            socket.Dispose();
            if (clientPath is not null)
            {
                UnixSockets.TryDeleteSocketFile(clientPath);
            }

            if (ex is OperationCanceledException or SocketOperationException)
            {
                throw;
            }

            throw abstractName ? AbstractConnectFailed(ex, path) : UnixConnectFailed(ex, path);
        }
    }

    internal static SocketOperationException AbstractConnectFailed(Exception ex, string name) =>
        SocketErrors.FindSocketException(ex)?.SocketErrorCode switch
        {
            SocketError.ConnectionRefused => new SocketOperationException(SocketFailureKind.ConnectionRefused,
                $"Connection to the abstract Unix socket {name} was refused: nothing listens on that name. Check the name (ss -xl lists them, with their @), and that the service runs.", name, ex),
            SocketError.ProtocolType => new SocketOperationException(SocketFailureKind.InvalidArgument,
                $"The abstract Unix socket {name} is of the other kind (stream or datagram) than the one asked for.", name, ex)
            {
                Setting = SocketSetting.Protocol,
            },
            _ => SocketErrors.ConnectFailed(ex, name),
        };

    internal static SocketOperationException UnixConnectFailed(Exception ex, string path)
    {
        SocketException? se = SocketErrors.FindSocketException(ex);
        return se?.SocketErrorCode switch
        {
            SocketError.AddressNotAvailable or SocketError.AddressFamilyNotSupported when !System.IO.File.Exists(path) =>
                new SocketOperationException(SocketFailureKind.HostNotFound,
                    $"There is no Unix socket at {path}: the file does not exist. Check the path, and that the service is running.", path, ex),
            SocketError.ConnectionRefused => new SocketOperationException(SocketFailureKind.ConnectionRefused,
                $"Connection to {path} was refused: the socket file exists but nothing listens on it (a stale file, or not a socket).", path, ex),
            SocketError.ProtocolType => new SocketOperationException(SocketFailureKind.InvalidArgument,
                $"The Unix socket at {path} is of the other kind (stream or datagram) than the one asked for.", path, ex)
            {
                Setting = SocketSetting.Protocol,
            },
            SocketError.AccessDenied => new SocketOperationException(SocketFailureKind.AccessDenied,
                $"Connection to {path} was denied: you lack permission on the socket file (often fixed by group membership, e.g. docker for /run/docker.sock).", path, ex),
            _ when !System.IO.File.Exists(path) => new SocketOperationException(SocketFailureKind.HostNotFound,
                $"There is no Unix socket at {path}: the file does not exist. Check the path, and that the service is running.", path, ex),
            _ => SocketErrors.ConnectFailed(ex, path),
        };
    }

    /// <summary>Options every datagram socket gets before bind or connect.</summary>
    internal static void PrepareDatagram(Socket socket, ConnectionOptions options)
    {
        options.SocketOptions?.Apply(socket);
        if (options.Broadcast)
        {
            if (socket.AddressFamily != AddressFamily.InterNetwork)
            {
                throw new SocketOperationException(SocketFailureKind.InvalidArgument,
                    "Broadcast needs an IPv4 UDP socket; IPv6 has no broadcast (use a multicast group instead).")
                {
                    Setting = SocketSetting.Broadcast,
                };
            }

            socket.EnableBroadcast = true;
        }

        SocketConnection.DisableUdpConnectionReset(socket);
    }

    /// <summary>Looks a name up; an IP address is returned as it is.</summary>
    public static async Task<IReadOnlyList<IPAddress>> ResolveAsync(string host, AddressFamily? addressFamily, CancellationToken cancellationToken)
    {
        string name = host.Trim();
        if (name.Length == 0)
        {
            throw new SocketOperationException(SocketFailureKind.InvalidArgument, "The computer name is empty. Give a host name or an IP address.");
        }

        if (IPAddress.TryParse(name = EndPointText.Unbracket(name), out IPAddress? literal))
        {
            if (addressFamily is not null && literal.AddressFamily != addressFamily)
            {
                // Like a name without an address of that family: a per-target failure.
                throw new SocketOperationException(SocketFailureKind.HostNotFound,
                    $"{literal} is an {EndPoints.Family(literal.AddressFamily)} address, but the address family asked for is {EndPoints.Family(addressFamily.Value)}.", name)
                {
                    Setting = SocketSetting.AddressFamily,
                };
            }

            return new[] { literal };
        }

        IPAddress[] found;
        try
        {
            // Dns has no cancellable overload on netstandard2.0; stop waiting rather than stop the lookup.
            Task<IPAddress[]> lookup = HostLookupOverride?.Invoke(name) ?? Dns.GetHostAddressesAsync(name);
            if (cancellationToken.CanBeCanceled)
            {
                Task finished = await Task.WhenAny(lookup, Task.Delay(Timeout.Infinite, cancellationToken)).ConfigureAwait(false);
                if (finished != lookup)
                {
                    _ = lookup.ContinueWith(t => _ = t.Exception, TaskScheduler.Default);
                    cancellationToken.ThrowIfCancellationRequested();
                }
            }

            found = await lookup.ConfigureAwait(false);
        }
        catch (SocketException ex)
        {
            throw new SocketOperationException(SocketFailureKind.HostNotFound,
                $"The host name '{name}' could not be resolved: {ex.Message}. Check the spelling and your DNS settings, or use an IP address.", name, ex);
        }

        IPAddress[] usable = addressFamily is null ? found : found.Where(a => a.AddressFamily == addressFamily).ToArray();
        if (usable.Length == 0)
        {
            throw new SocketOperationException(SocketFailureKind.HostNotFound,
                $"The host name '{name}' has no {(addressFamily is null ? string.Empty : EndPoints.Family(addressFamily.Value) + " ")}address.", name);
        }

        return usable;
    }

    /// <summary>
    /// Connects a TCP socket on this thread, which waits for the result anyway. ConnectAsync would
    /// hand the wait to .NET's socket engine and register the socket with it for good
    /// (<see cref="StreamChannel.ArrivalsWakeRegisteredSockets"/>). On Linux a blocking connect()
    /// that the token (the timeout, Ctrl+C) ends by closing the socket: .NET shuts a socket down
    /// under a blocked call, which ends a connect in progress there. That leaves the handle in
    /// blocking mode (<paramref name="blockingHandle"/>), so a receive on this thread can sleep in
    /// recv() instead of poll() and then recv(). Elsewhere (macOS, where a shutdown does not end a
    /// connect) a non-blocking connect() and a poll() woken through the thread's
    /// <see cref="ThreadWaker"/>; .NET keeps such a handle non-blocking. False, with nothing done,
    /// where none of this applies (Windows) or no waker can be made; the caller then connects
    /// asynchronously.
    /// </summary>
    internal static bool ConnectOnThisThread(Socket socket, EndPoint endPoint, CancellationToken token, out bool blockingHandle)
    {
        blockingHandle = false;
        if (!StreamChannel.ArrivalsWakeRegisteredSockets)
        {
            return false;
        }

        token.ThrowIfCancellationRequested();
        if (RuntimeInformation.IsOSPlatform(OSPlatform.Linux))
        {
            ConnectBlocking(socket, endPoint, token);
            blockingHandle = true;
            return true;
        }

        ThreadWaker? waker = null;
        if (token.CanBeCanceled && (waker = ThreadWaker.ForThisThread()) is null)
        {
            return false;
        }

        ConnectPolling(socket, endPoint, waker, token);
        return true;
    }

    /// <summary>A blocking connect(), ended by the token through closing the socket (Linux).</summary>
    internal static void ConnectBlocking(Socket socket, EndPoint endPoint, CancellationToken token)
    {
        using (token.Register(static state => ((Socket)state!).Dispose(), socket))
        {
            try
            {
                socket.Connect(endPoint);
            }
            catch (Exception ex) when (ex is SocketException or ObjectDisposedException && token.IsCancellationRequested)
            {
                token.ThrowIfCancellationRequested();
            }
        }

        // Cancelled just as it connected: the socket is closed.
        token.ThrowIfCancellationRequested();
    }

    /// <summary>A non-blocking connect() and a poll() for its end, woken by the token through
    /// <paramref name="waker"/> (null: a token that cannot be cancelled).</summary>
    internal static void ConnectPolling(Socket socket, EndPoint endPoint, ThreadWaker? waker, CancellationToken token)
    {
        socket.Blocking = false;
        try
        {
            try
            {
                socket.Connect(endPoint);
                return;
            }
            catch (SocketException ex) when (ex.SocketErrorCode is SocketError.WouldBlock or SocketError.InProgress)
            {
                // The handshake is under way; its end makes the socket writable.
            }

            while (!(waker is null ? socket.Poll(-1, SelectMode.SelectWrite) : waker.WaitWritable(socket, -1, token)))
            {
            }

            // SO_ERROR says how it ended (.NET gives it as a SocketError); reading Connected then
            // lets the Socket record the connect it did not see finish.
            int error = (int)socket.GetSocketOption(SocketOptionLevel.Socket, SocketOptionName.Error)!;
            if (error != 0)
            {
                throw new SocketException(error);
            }

            if (!socket.Connected)
            {
                throw new SocketException((int)SocketError.NotConnected);
            }
        }
        finally
        {
            socket.Blocking = true;
        }
    }

    internal static async Task ConnectOneAsync(Socket socket, EndPoint endPoint, CancellationToken token)
    {
        // netstandard2.0 has no cancellable ConnectAsync; disposing the socket aborts the attempt.
        Task connect = socket.ConnectAsync(endPoint);
        if (!connect.IsCompleted && token.CanBeCanceled)
        {
            Task finished = await Task.WhenAny(connect, Task.Delay(Timeout.Infinite, token)).ConfigureAwait(false);
            if (finished != connect)
            {
                socket.Dispose();
                _ = connect.ContinueWith(t => _ = t.Exception, TaskScheduler.Default);
                token.ThrowIfCancellationRequested();
            }
        }

        await connect.ConfigureAwait(false);
    }

    internal static SocketOperationException TimedOut(string where, TimeSpan timeout, string? during) =>
        new(SocketFailureKind.ConnectTimeout,
            $"Connection to {where} timed out after {EndPointText.Seconds(timeout)}{(during is null ? string.Empty : " while " + during)}: the host did not answer. " +
            "Check the address, the port and any firewall on the way.", where)
        {
            Setting = SocketSetting.Timeout,
            Timeout = timeout,
        };
}
