using System;
using System.Collections.Generic;
using System.Linq;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
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

    /// <summary>Connects over TCP and returns a started, registered connection.</summary>
    /// <param name="host">A name or an IP address.</param>
    /// <param name="port">1-65535.</param>
    /// <param name="options">Settings for the new connection.</param>
    /// <param name="timeout">For the whole attempt, name lookup included; zero waits as long as the OS does.</param>
    /// <param name="addressFamily">Only addresses of this family, or null for any.</param>
    /// <param name="cancellationToken">Stops the attempt (Ctrl+C).</param>
    public static async Task<SocketConnection> ConnectTcpAsync(string host, int port, ConnectionOptions options, TimeSpan timeout,
        AddressFamily? addressFamily, CancellationToken cancellationToken)
    {
        string where = EndPointText.Format(host, port);
        using CancellationTokenSource? timer = timeout > TimeSpan.Zero ? new CancellationTokenSource(timeout) : null;
        using CancellationTokenSource linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timer?.Token ?? CancellationToken.None);
        CancellationToken token = linked.Token;

        IReadOnlyList<IPAddress> addresses;
        try
        {
            addresses = await ResolveAsync(host, addressFamily, token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (timer?.IsCancellationRequested == true && !cancellationToken.IsCancellationRequested)
        {
            throw TimedOut(where, timeout, "looking up the name");
        }

        return await ConnectToAddressesAsync(host, addresses, port, options, timeout, timer, cancellationToken, token).ConfigureAwait(false);
    }

    /// <summary>Tries each address in turn until one connects; if none does, the error names the last failure.</summary>
    internal static async Task<SocketConnection> ConnectToAddressesAsync(string host, IReadOnlyList<IPAddress> addresses, int port, ConnectionOptions options,
        TimeSpan timeout, CancellationTokenSource? timer, CancellationToken callerToken, CancellationToken token)
    {
        string where = EndPointText.Format(host, port);
        SocketOperationException? last = null;
        foreach (IPAddress address in addresses)
        {
            string attempt = EndPointText.Format(address, port);
            Socket socket = new(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
            try
            {
                options.SocketOptions?.Apply(socket);
                await ConnectOneAsync(socket, new IPEndPoint(address, port), token).ConfigureAwait(false);
                NetworkStream? network = null;
                SslStream? tls = null;
                if (options.Tls is not null)
                {
                    // Nothing is sent before the handshake succeeds: the connection object, and
                    // with it every send, exists only after.
                    network = new NetworkStream(socket, ownsSocket: false);
                    string peer = addresses.Count > 1 ? $"{where} ({attempt})" : where;
                    try
                    {
                        tls = await TlsHandshake.AuthenticateAsClientAsync(network, options.Tls, host, peer, TimeSpan.Zero, token).ConfigureAwait(false);
                    }
                    catch (OperationCanceledException) when (timer?.IsCancellationRequested == true && !callerToken.IsCancellationRequested)
                    {
                        // The TCP connection was made; it is the handshake that stalled.
                        throw new SocketOperationException(SocketFailureKind.TlsAuthentication,
                            $"Connected to {peer}, but the TLS handshake did not finish within {EndPointText.Seconds(timeout)}. The service may not speak TLS on this port.", peer);
                    }
                }

                SocketConnection connection = new(socket, options, server: null, networkStream: network, tls: tls) { ComputerName = host };
                connection.Start();
                return connection;
            }
            catch (OperationCanceledException) when (timer?.IsCancellationRequested == true && !callerToken.IsCancellationRequested)
            {
                socket.Dispose();
                throw TimedOut(addresses.Count > 1 ? $"{where} ({attempt})" : where, timeout, null);
            }
            catch (SocketOperationException ex) when (ex.Kind is SocketFailureKind.InvalidArgument or SocketFailureKind.TlsAuthentication)
            {
                // A bad socket option fails on every address alike; a TLS failure is about the
                // service, not the address.
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
                last = SocketErrors.ConnectFailed(ex, addresses.Count > 1 || !string.Equals(host, address.ToString(), StringComparison.OrdinalIgnoreCase)
                    ? $"{where} ({attempt})"
                    : where);
            }
        }

        throw last ?? new SocketOperationException(SocketFailureKind.HostNotFound, $"The host name '{host}' has no address to connect to.", where);
    }

    /// <summary>A UDP socket connected to one peer: sends go to it and only its datagrams are
    /// received. UDP has no handshake, so the first address of the name is taken.</summary>
    public static async Task<SocketConnection> ConnectUdpAsync(string host, int port, ConnectionOptions options, TimeSpan timeout,
        AddressFamily? addressFamily, CancellationToken cancellationToken)
    {
        using CancellationTokenSource? timer = timeout > TimeSpan.Zero ? new CancellationTokenSource(timeout) : null;
        using CancellationTokenSource linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timer?.Token ?? CancellationToken.None);
        IReadOnlyList<IPAddress> addresses;
        try
        {
            addresses = await ResolveAsync(host, addressFamily, linked.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (timer?.IsCancellationRequested == true && !cancellationToken.IsCancellationRequested)
        {
            throw TimedOut(EndPointText.Format(host, port), timeout, "looking up the name");
        }

        IPAddress address = addresses[0];
        Socket socket = new(address.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
        try
        {
            PrepareDatagram(socket, options);
            socket.Connect(new IPEndPoint(address, port));
            SocketConnection connection = new(socket, options, server: null) { ComputerName = host };
            connection.Start();
            return connection;
        }
        catch (Exception ex)
        {
            socket.Dispose();
            throw SocketErrors.ConnectFailed(ex, EndPointText.Format(host, port));
        }
    }

    /// <summary>Connects to a Unix domain socket: a stream socket, or with
    /// <see cref="SocketProtocol.Udp"/> a datagram socket bound to a fresh temp path so the
    /// server has somewhere to reply (the path is removed on close).</summary>
    public static async Task<SocketConnection> ConnectUnixAsync(string path, SocketProtocol protocol, ConnectionOptions options, TimeSpan timeout,
        CancellationToken cancellationToken)
    {
        EndPoint endPoint = UnixSockets.CreateEndPoint(path);
        bool datagram = protocol == SocketProtocol.Udp;
        if (options.Broadcast)
        {
            throw new SocketOperationException(SocketFailureKind.InvalidArgument, "-Broadcast is for IPv4 UDP sockets; Unix sockets have no broadcast.", path);
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
            connection.Start();
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

            throw UnixConnectFailed(ex, path);
        }
    }

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
                $"The Unix socket at {path} is of the other kind: connect to a datagram socket with -Protocol Udp, and to a stream socket without it.", path, ex),
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
                    "-Broadcast needs an IPv4 UDP socket; IPv6 has no broadcast (use a multicast group instead).");
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

        if (IPAddress.TryParse(name.Trim('[', ']'), out IPAddress? literal))
        {
            if (addressFamily is not null && literal.AddressFamily != addressFamily)
            {
                // Like a name without an address of that family: a per-target failure.
                throw new SocketOperationException(SocketFailureKind.HostNotFound,
                    $"{literal} is an {EndPoints.Family(literal.AddressFamily)} address, but -AddressFamily asks for {EndPoints.Family(addressFamily.Value)}.", name);
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
            "Check the address, the port and any firewall on the way, or raise -TimeoutSeconds.", where);
}
