using System;
using System.Collections.Generic;
using System.Linq;
using System.Net;
using System.Net.Sockets;

namespace SockPS.Core;

/// <summary>The source side of an outgoing connection (nc -s, nc -p): the address and port a
/// client socket is bound to before it connects.</summary>
internal static class LocalBinding
{
    /// <summary>The addresses a socket bound to <paramref name="local"/> can reach: those of its family.</summary>
    public static IReadOnlyList<IPAddress> Reachable(IReadOnlyList<IPAddress> addresses, IPAddress? local) =>
        local is null ? addresses : addresses.Where(a => a.AddressFamily == local.AddressFamily).ToArray();

    /// <summary>The error for a name none of whose addresses a local address of another family can reach.</summary>
    public static SocketOperationException NoReachableAddress(string host, IPAddress local, string? role = null) =>
        new(SocketFailureKind.HostNotFound,
            (IPAddress.TryParse(EndPointText.Unbracket(host.Trim()), out IPAddress? literal)
                ? $"{(role is null ? string.Empty : role + " ")}{literal} is an {EndPoints.Family(literal.AddressFamily)} address, and the local address {local} can reach {EndPoints.Family(local.AddressFamily)} addresses only."
                : $"{(role is null ? string.Empty : role + " ")}'{host}' has no {EndPoints.Family(local.AddressFamily)} address, and the local address {local} can reach only those."),
            host)
        {
            Setting = SocketSetting.LocalAddress,
        };

    /// <summary>A connect from a fixed local port that failed because that port already carries a
    /// connection to the same target (Linux says EADDRNOTAVAIL at connect, after SO_REUSEADDR let
    /// the bind through): AddressInUse, as when the bind itself fails. Null for other failures.</summary>
    public static SocketOperationException? PortTaken(Exception ex, IPAddress? address, int port, string target)
    {
        if (port == 0)
        {
            return null;
        }

        SocketError? code = SocketErrors.FindSocketException(ex)?.SocketErrorCode;
        if (code is not (SocketError.AddressNotAvailable or SocketError.AddressAlreadyInUse))
        {
            return null;
        }

        string where = address is null ? $"local port {port}" : EndPointText.Format(address, port);
        return new SocketOperationException(SocketFailureKind.AddressInUse,
            $"Cannot connect from {where} to {target}: a connection from that local port to the same target exists already (or is closing, in TIME_WAIT).", where, ex)
        {
            Setting = SocketSetting.LocalPort,
        };
    }

    /// <summary>Binds before connect when a local address or port is asked for.</summary>
    /// <exception cref="SocketOperationException">AddressInUse, AddressNotAvailable, AccessDenied.</exception>
    public static void Bind(Socket socket, IPAddress? address, int port)
    {
        if (address is null && port == 0)
        {
            return;
        }

        IPAddress bindTo = address ?? (socket.AddressFamily == AddressFamily.InterNetworkV6 ? IPAddress.IPv6Any : IPAddress.Any);
        string where = EndPointText.Format(bindTo, port);
        if (port != 0 && socket.SocketType == SocketType.Stream)
        {
            // A port whose last connection from here waits out TIME_WAIT may be used again at
            // once, as netcat -p does; a port in use by a live socket still may not.
            RawSocketOptions.SetReuseAddressOnly(socket);
        }

        try
        {
            socket.Bind(new IPEndPoint(bindTo, port));
        }
        catch (SocketException ex)
        {
            throw SocketErrors.Classify(ex.SocketErrorCode) switch
            {
                SocketFailureKind.AddressInUse => new SocketOperationException(SocketFailureKind.AddressInUse,
                    $"Cannot connect from {where}: that local port is in use.", where, ex) { Setting = SocketSetting.LocalPort },
                SocketFailureKind.AddressNotAvailable => new SocketOperationException(SocketFailureKind.AddressNotAvailable,
                    $"Cannot connect from {where}: the local address {bindTo} is not an address of this machine.", where, ex) { Setting = SocketSetting.LocalAddress },
                SocketFailureKind.AccessDenied => new SocketOperationException(SocketFailureKind.AccessDenied,
                    $"Cannot connect from {where}: permission denied. Local ports below 1024 need administrator rights on many systems.", where, ex) { Setting = SocketSetting.LocalPort },
                _ => new SocketOperationException(SocketFailureKind.InvalidArgument, $"Cannot connect from {where}: {ex.Message}", where, ex),
            };
        }
    }
}
