using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Net;
using System.Net.Sockets;
using System.Threading;
using System.Threading.Tasks;

namespace SockPS.Core;

/// <summary>A TCP socket connected to the target, directly or through a proxy's tunnel, before
/// anything else (TLS, a connection object) is built on it.</summary>
internal readonly struct OpenedSocket
{
    public OpenedSocket(Socket socket, EndPoint? remoteEndPoint, string peer, bool blockingHandle = false)
    {
        Socket = socket;
        RemoteEndPoint = remoteEndPoint;
        Peer = peer;
        BlockingHandle = blockingHandle;
    }

    public Socket Socket { get; }

    /// <summary>The target as the connection shows it; null when it is the socket's own peer.</summary>
    public EndPoint? RemoteEndPoint { get; }

    /// <summary>How messages name the target: "host:port", "host:port (address)".</summary>
    public string Peer { get; }

    /// <summary>The socket's handle is still in blocking mode (a blocking connect on the
    /// caller's thread): see <see cref="SocketConnector.ConnectOnThisThread"/>.</summary>
    public bool BlockingHandle { get; }
}

/// <summary>
/// Opens a tunnel through a proxy: resolves and connects to the proxy (bound to the local
/// address and port asked for), then runs the proxy's handshake for the target, all within the
/// caller's timeout. Where this machine resolves the target (socks4://, socks5://), each of its
/// addresses is tried in turn, through a fresh proxy connection, until one is reached.
/// </summary>
internal static class ProxyConnector
{
    public static async Task<OpenedSocket> OpenAsync(ProxySettings proxy, string host, int port, ConnectionOptions options, AddressFamily? addressFamily,
        TimeSpan timeout, Func<bool> timerFired, CancellationToken token)
    {
        string target = EndPointText.Format(host, port);
        string name = EndPointText.Unbracket(host.Trim());
        IReadOnlyList<IPAddress?> targets;
        if (proxy.ResolvesNames && !IPAddress.TryParse(name, out _))
        {
            targets = new IPAddress?[] { null };
        }
        else
        {
            AddressFamily? family = addressFamily;
            if (proxy.Kind is ProxyKind.Socks4 or ProxyKind.Socks4a)
            {
                if (addressFamily == AddressFamily.InterNetworkV6)
                {
                    throw new SocketOperationException(SocketFailureKind.InvalidArgument,
                        "SOCKS4 carries IPv4 addresses only: an IPv6 connection cannot work through a socks4:// proxy. Use socks5://.", target);
                }

                family = AddressFamily.InterNetwork;
            }

            try
            {
                targets = (await SocketConnector.ResolveAsync(host, family, token).ConfigureAwait(false)).Cast<IPAddress?>().ToArray();
            }
            catch (OperationCanceledException) when (timerFired())
            {
                throw SocketConnector.TimedOut(target, timeout, "looking up the name");
            }
            catch (SocketOperationException ex) when (ex.Kind == SocketFailureKind.HostNotFound && addressFamily is null
                && family == AddressFamily.InterNetwork && ex.InnerException is not SocketException)
            {
                throw new SocketOperationException(SocketFailureKind.HostNotFound,
                    $"SOCKS4 carries IPv4 addresses only, and {(IPAddress.TryParse(name, out _) ? name + " is an IPv6 address" : "'" + name + "' has no IPv4 address")}. " +
                    "Use a socks5:// proxy for IPv6 targets.", target, ex);
            }
        }

        SocketOperationException? last = null;
        foreach (IPAddress? address in targets)
        {
            try
            {
                return await OpenOneAsync(proxy, name, address, port, options, timeout, timerFired, token).ConfigureAwait(false);
            }
            catch (SocketOperationException ex) when (ex.Kind == SocketFailureKind.ProxyTargetUnreachable && targets.Count > 1)
            {
                last = ex;
            }
        }

        throw last!;
    }

    private static async Task<OpenedSocket> OpenOneAsync(ProxySettings proxy, string host, IPAddress? address, int port, ConnectionOptions options,
        TimeSpan timeout, Func<bool> timerFired, CancellationToken token)
    {
        string target = ProxyHandshake.Target(host, address, port);
        Socket socket = await ConnectToProxyAsync(proxy, target, options, timeout, timerFired, token).ConfigureAwait(false);
        try
        {
            // The stream does not own the socket: on success the connection takes the socket over.
            using NetworkStream stream = new(socket, ownsSocket: false);
            // Closing the socket is what ends a pending read on every runtime (netstandard2.0's
            // NetworkStream may ignore the token), so the timeout bounds the handshake for sure.
            using (token.Register(() => socket.Dispose()))
            {
                await ProxyHandshake.RunAsync(stream, proxy, host, address, port, token).ConfigureAwait(false);
            }

            token.ThrowIfCancellationRequested();
            EndPoint remote = address is not null ? new IPEndPoint(address, port)
                : IPAddress.TryParse(host, out IPAddress? literal) ? new IPEndPoint(literal, port)
                : new HostEndPoint(host, port);
            return new OpenedSocket(socket, remote, target);
        }
        catch (Exception ex) when (timerFired())
        {
            socket.Dispose();
            throw new SocketOperationException(SocketFailureKind.ProxyTimeout,
                $"Connecting to {target} through {proxy.Describe()} timed out after {EndPointText.Seconds(timeout)}: the proxy accepted the connection but did not finish its handshake. " +
                $"It may still be trying to reach the target (a firewall that drops packets, a host that is down), or {proxy.Where} is not a {proxy.KindName} proxy.",
                proxy.Where, ex)
            { TargetStatus = PortStatus.TimedOut, Setting = SocketSetting.Timeout, Timeout = timeout };
        }
        catch (Exception ex) when (ex is not (SocketOperationException or OperationCanceledException))
        {
            socket.Dispose();
            if (token.IsCancellationRequested)
            {
                throw new OperationCanceledException("The connect was stopped.", ex, token);
            }

            throw new SocketOperationException(SocketFailureKind.ProxyRefused,
                $"{ProxyHandshake.Capital(proxy.Describe())} dropped the connection during its handshake ({(SocketErrors.FindSocketException(ex) ?? ex).Message.TrimEnd('.')}): " +
                $"it refuses this client, or it is not a {proxy.KindName} proxy.", proxy.Where, ex);
        }
        catch (Exception)
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>Resolves the proxy's name and connects to its addresses in turn.</summary>
    private static async Task<Socket> ConnectToProxyAsync(ProxySettings proxy, string target, ConnectionOptions options, TimeSpan timeout,
        Func<bool> timerFired, CancellationToken token)
    {
        IReadOnlyList<IPAddress> addresses;
        try
        {
            addresses = await SocketConnector.ResolveAsync(proxy.Host, null, token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (timerFired())
        {
            throw new SocketOperationException(SocketFailureKind.ProxyTimeout,
                $"Looking up the proxy's name '{proxy.Host}' did not finish within {EndPointText.Seconds(timeout)}. Check your DNS settings, or give the proxy as an IP address.", proxy.Where);
        }
        catch (SocketOperationException ex) when (ex.Kind == SocketFailureKind.HostNotFound)
        {
            throw new SocketOperationException(SocketFailureKind.ProxyHostNotFound,
                $"The proxy {proxy.Where} cannot be found: {ex.Message}", proxy.Where, ex);
        }

        IReadOnlyList<IPAddress> reachable = LocalBinding.Reachable(addresses, options.LocalAddress);
        if (reachable.Count == 0)
        {
            throw LocalBinding.NoReachableAddress(proxy.Host, options.LocalAddress!, "The proxy");
        }

        SocketOperationException? last = null;
        foreach (IPAddress address in reachable)
        {
            Socket socket = new(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
            try
            {
                options.SocketOptions?.Apply(socket);
                LocalBinding.Bind(socket, options.LocalAddress, options.LocalPort);
                await SocketConnector.ConnectOneAsync(socket, new IPEndPoint(address, proxy.Port), token).ConfigureAwait(false);
                return socket;
            }
            catch (OperationCanceledException) when (timerFired())
            {
                socket.Dispose();
                throw new SocketOperationException(SocketFailureKind.ProxyTimeout,
                    $"Connecting to {target} timed out after {EndPointText.Seconds(timeout)}: {proxy.Describe()} did not answer. " +
                    "Check the proxy's address and port, and any firewall on the way.", proxy.Where)
                {
                    Setting = SocketSetting.Timeout,
                    Timeout = timeout,
                };
            }
            catch (SocketOperationException)
            {
                // Options and the local binding fail alike for every address.
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
                last = LocalBinding.PortTaken(ex, options.LocalAddress, options.LocalPort, proxy.Describe()) ?? Unreachable(proxy, address, ex);
            }
        }

        throw last!;
    }

    private static SocketOperationException Unreachable(ProxySettings proxy, IPAddress address, Exception ex)
    {
        SocketException? se = SocketErrors.FindSocketException(ex);
        SocketFailureKind kind = se is null ? SocketFailureKind.Unknown : SocketErrors.Classify(se.SocketErrorCode);
        string where = string.Equals(proxy.Host, address.ToString(), StringComparison.OrdinalIgnoreCase)
            ? proxy.Describe()
            : $"{proxy.Describe()} ({address})";
        string reason = kind switch
        {
            SocketFailureKind.ConnectionRefused => "the connection was refused: nothing listens on that port",
            SocketFailureKind.ConnectTimeout => "it did not answer before the operating system gave up",
            SocketFailureKind.Unreachable => $"the network or host is unreachable ({se!.Message.TrimEnd('.')})",
            SocketFailureKind.ConnectionReset => "it reset the connection",
            _ => (se ?? ex).Message.TrimEnd('.'),
        };
        return new SocketOperationException(kind == SocketFailureKind.ConnectTimeout ? SocketFailureKind.ProxyTimeout : SocketFailureKind.ProxyRefused,
            $"Could not reach {where}: {reason}.", proxy.Where, ex)
        {
            Setting = SocketSetting.Proxy,
        };
    }
}
