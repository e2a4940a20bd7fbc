using System;
using System.Globalization;
using System.Linq;
using System.Net;
using System.Net.Sockets;

namespace SockPS.Core;

/// <summary>Endpoints as users write them ("host:port", "[::1]:53", "/run/app.sock") and the
/// conversions sendto needs.</summary>
public static class EndPoints
{
    /// <summary>Parses "host:port", "[v6]:port" or an absolute Unix socket path. Host names are
    /// kept as <see cref="DnsEndPoint"/> and resolved when used.</summary>
    /// <param name="text">The endpoint.</param>
    /// <param name="family">The socket's family: a Unix socket takes any text as a path.</param>
    public static EndPoint Parse(string text, AddressFamily family = AddressFamily.Unspecified)
    {
        string value = (text ?? string.Empty).Trim();
        if (value.Length == 0)
        {
            throw Invalid("The endpoint is empty. Write it as host:port, [IPv6]:port, or a Unix socket path.");
        }

        if (family == AddressFamily.Unix || LooksLikePath(value))
        {
            return UnixSockets.CreateEndPoint(value);
        }

        int colon = value.LastIndexOf(':');
        if (colon <= 0 || colon == value.Length - 1)
        {
            throw Invalid($"'{value}' has no port. Write the endpoint as host:port, or [IPv6]:port.");
        }

        string host = value.Substring(0, colon);
        string portText = value.Substring(colon + 1);
        if (host.StartsWith("[", StringComparison.Ordinal) && host.EndsWith("]", StringComparison.Ordinal))
        {
            host = host.Substring(1, host.Length - 2);
        }
        else if (host.IndexOf(':') >= 0)
        {
            throw Invalid($"'{value}' is ambiguous: write an IPv6 address in brackets, as [{host}]:{portText}.");
        }

        // Endpoints name datagram destinations, so service names come from the udp table.
        int port = ServicePorts.Resolve(portText, "udp");
        return IPAddress.TryParse(host, out IPAddress? address) ? new IPEndPoint(address, port) : new DnsEndPoint(host, port);
    }

    /// <summary>
    /// Splits "host:port" or "[v6]:port" into its host and port text. A bare IPv6 address (::1,
    /// fe80::1) has no port: its colons are the address's own. False when the text cannot be a
    /// host with or without a port (an unbalanced bracket).
    /// </summary>
    public static bool TrySplitHostPort(string text, out string host, out string? port)
    {
        string value = (text ?? string.Empty).Trim();
        host = value;
        port = null;
        if (value.StartsWith("[", StringComparison.Ordinal))
        {
            int close = value.IndexOf(']');
            if (close < 0)
            {
                return false;
            }

            host = value.Substring(1, close - 1);
            string rest = value.Substring(close + 1);
            if (rest.Length == 0)
            {
                return true;
            }

            if (rest[0] != ':' || rest.Length == 1)
            {
                return false;
            }

            port = rest.Substring(1);
            return true;
        }

        if (IPAddress.TryParse(value, out IPAddress? literal) && literal.AddressFamily == AddressFamily.InterNetworkV6)
        {
            return true;
        }

        int colon = value.IndexOf(':');
        if (colon < 0)
        {
            return true;
        }

        if (colon == 0 || colon == value.Length - 1 || value.IndexOf(':', colon + 1) >= 0)
        {
            return false;
        }

        host = value.Substring(0, colon);
        port = value.Substring(colon + 1);
        return true;
    }

    /// <summary>Turns an endpoint into one <paramref name="socket"/> can send to: names are
    /// resolved to an address of the socket's family, IPv4 addresses are mapped for a dual-mode
    /// IPv6 socket.</summary>
    public static EndPoint Resolve(EndPoint endPoint, Socket socket)
    {
        if (socket.AddressFamily == AddressFamily.Unix)
        {
            return endPoint;
        }

        IPEndPoint target = endPoint switch
        {
            IPEndPoint ip => ip,
            DnsEndPoint dns => new IPEndPoint(ResolveHost(dns.Host, socket), dns.Port),
            _ => throw Invalid($"'{endPoint}' is not an address this {Family(socket.AddressFamily)} socket can send to."),
        };

        if (target.AddressFamily == socket.AddressFamily)
        {
            return target;
        }

        if (socket.AddressFamily == AddressFamily.InterNetworkV6 && target.AddressFamily == AddressFamily.InterNetwork && socket.DualMode)
        {
            return new IPEndPoint(target.Address.MapToIPv6(), target.Port);
        }

        throw new SocketOperationException(SocketFailureKind.InvalidArgument,
            $"{EndPointText.Format(target)} is an {Family(target.AddressFamily)} address, but the socket is {Family(socket.AddressFamily)}.")
        {
            Setting = SocketSetting.AddressFamily,
        };
    }

    /// <summary>A wildcard endpoint of the socket's family, for ReceiveFrom.</summary>
    internal static EndPoint AnyOf(Socket socket) => socket.AddressFamily switch
    {
        AddressFamily.InterNetwork => new IPEndPoint(IPAddress.Any, 0),
        AddressFamily.InterNetworkV6 => new IPEndPoint(IPAddress.IPv6Any, 0),
        AddressFamily.Unix => UnixSockets.UnnamedTemplate(),
        _ => throw Invalid($"Sockets of family {socket.AddressFamily} are not supported."),
    };

    private static IPAddress ResolveHost(string host, Socket socket)
    {
        IPAddress[] found;
        try
        {
            found = Dns.GetHostAddresses(host);
        }
        catch (SocketException ex)
        {
            throw new SocketOperationException(SocketFailureKind.HostNotFound,
                $"The host name '{host}' could not be resolved: {ex.Message}. Check the spelling and your DNS settings, or use an IP address.", host, ex);
        }

        return found.FirstOrDefault(a => a.AddressFamily == socket.AddressFamily)
            ?? (socket.AddressFamily == AddressFamily.InterNetworkV6 && socket.DualMode ? found.FirstOrDefault() : null)
            ?? throw new SocketOperationException(SocketFailureKind.HostNotFound,
                $"The host name '{host}' has no {Family(socket.AddressFamily)} address for this socket.", host);
    }

    private static bool LooksLikePath(string value) =>
        value.StartsWith("/", StringComparison.Ordinal) || value.StartsWith("./", StringComparison.Ordinal) || value.StartsWith("~", StringComparison.Ordinal)
        || (value.Length > 2 && value[1] == ':' && (value[2] == '\\' || value[2] == '/'));

    internal static string Family(AddressFamily family) => family switch
    {
        AddressFamily.InterNetwork => "IPv4",
        AddressFamily.InterNetworkV6 => "IPv6",
        AddressFamily.Unix => "Unix",
        _ => family.ToString(),
    };

    private static SocketOperationException Invalid(string message) => new(SocketFailureKind.InvalidArgument, message);
}
