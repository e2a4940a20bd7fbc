using System;
using System.IO;
using System.Net.Sockets;

namespace SockPS.Core;

/// <summary>What went wrong, in terms a script can branch on. The cmdlet layer maps each kind
/// to a stable error id and category.</summary>
public enum SocketFailureKind
{
    /// <summary>Anything not classified below.</summary>
    Unknown,
    /// <summary>Nothing listens on the remote port.</summary>
    ConnectionRefused,
    /// <summary>The peer reset or aborted the connection.</summary>
    ConnectionReset,
    /// <summary>The host name has no address.</summary>
    HostNotFound,
    /// <summary>A connect did not complete within its timeout.</summary>
    ConnectTimeout,
    /// <summary>No data arrived within the receive timeout. The connection stays usable.</summary>
    ReceiveTimeout,
    /// <summary>No connection arrived within the accept timeout.</summary>
    AcceptTimeout,
    /// <summary>The local address and port are taken.</summary>
    AddressInUse,
    /// <summary>The address is not valid on this machine.</summary>
    AddressNotAvailable,
    /// <summary>No route to the network or host.</summary>
    Unreachable,
    /// <summary>The OS refused the operation.</summary>
    AccessDenied,
    /// <summary>The connection or server was closed here; it cannot be used any more.</summary>
    Closed,
    /// <summary>The peer closed its side before the requested data arrived.</summary>
    EndOfStream,
    /// <summary>The request cannot be carried out as given.</summary>
    InvalidArgument,
    /// <summary>The TLS handshake or certificate check failed.</summary>
    TlsAuthentication,
    /// <summary>A line or delimited frame grew past the most a receive will buffer.</summary>
    FrameTooLong,
    /// <summary>A datagram is larger than the protocol carries; nothing was sent.</summary>
    DatagramTooLarge,
    /// <summary>The runtime or OS lacks what was asked for (AF_UNIX on .NET Framework).</summary>
    NotSupported,
    /// <summary>The HTTP upgrade to WebSocket was refused or malformed (a status other than 101, a
    /// wrong Sec-WebSocket-Accept, a request for another path).</summary>
    WebSocketHandshake,
    /// <summary>Received data nobody has read is in the way (a STARTTLS before the server's
    /// plain-text answer was read); nothing was done.</summary>
    UnreadData,
    /// <summary>The proxy could not be reached: its port refused or reset the connection, or
    /// there is no route to it.</summary>
    ProxyRefused,
    /// <summary>The proxy's host name does not resolve.</summary>
    ProxyHostNotFound,
    /// <summary>Reaching the proxy, or its handshake, took longer than the connect timeout.</summary>
    ProxyTimeout,
    /// <summary>The proxy wants credentials, or refused the ones given (SOCKS5 username/password,
    /// HTTP 407 or 401, SOCKS4 92/93).</summary>
    ProxyAuthenticationFailed,
    /// <summary>The proxy's rules forbid this target (SOCKS5 reply 2, HTTP 403).</summary>
    ProxyDenied,
    /// <summary>The proxy could not reach the target (SOCKS5 replies 1 and 3-6, SOCKS4 91, HTTP 5xx).</summary>
    ProxyTargetUnreachable,
    /// <summary>The proxy's answer is not the protocol asked for (not a proxy, another kind of
    /// proxy, or a request it does not support: SOCKS5 replies 7 and 8).</summary>
    ProxyProtocolError,

    // Certificates (issue 14).

    /// <summary>A server refused STARTTLS, or did not answer as the protocol asked for does
    /// (Get-SocketCertificate -StartTls); the message quotes what it said.</summary>
    StartTlsRefused,

    // Processes on sockets (issue 15).

    /// <summary>The program to run on a connection (Start-SocketServer -FilePath,
    /// Start-SocketProcess) does not exist, or is not on PATH.</summary>
    ProgramNotFound,
    /// <summary>The program exists but the OS would not start it (no execute permission, not a
    /// program, a working directory that does not exist).</summary>
    ProgramStartFailed,
}

/// <summary>The one exception type the core throws for socket failures. It carries a
/// <see cref="SocketFailureKind"/> and the endpoint concerned, and its message is written for the
/// person running the script: what happened and what to try.</summary>
public sealed class SocketOperationException : Exception
{
    /// <summary>Creates the exception.</summary>
    public SocketOperationException(SocketFailureKind kind, string message, string? endPoint = null, Exception? innerException = null)
        : base(message, innerException)
    {
        Kind = kind;
        EndPoint = endPoint;
    }

    /// <summary>The classified failure.</summary>
    public SocketFailureKind Kind { get; }

    /// <summary>The endpoint (host:port, path) the failure concerns, when known.</summary>
    public string? EndPoint { get; }

    /// <summary>What arrived before a receive timed out (a string or byte array), so nothing
    /// received is lost; null when nothing had arrived.</summary>
    public object? PartialResult { get; internal set; }

    /// <summary>For a proxy's refusal that tells what became of the target (SOCKS5 replies 3-6):
    /// what a port check reports for it.</summary>
    internal PortStatus? TargetStatus { get; set; }

    /// <summary>For a pattern wait that timed out: the end of the text that arrived (nothing was
    /// consumed), so a mismatch can be seen; null otherwise.</summary>
    public string? BufferedText { get; internal set; }

    /// <summary>The OS error code when the failure came from a socket call.</summary>
    public SocketError? SocketErrorCode => (InnerException as SocketException)?.SocketErrorCode
        ?? (InnerException?.InnerException as SocketException)?.SocketErrorCode;
}

/// <summary>Turns the exceptions sockets and streams throw into <see cref="SocketOperationException"/>s
/// with a kind and a message a user can act on.</summary>
public static class SocketErrors
{
    /// <summary>Classifies an OS socket error.</summary>
    public static SocketFailureKind Classify(SocketError error) => error switch
    {
        SocketError.ConnectionRefused => SocketFailureKind.ConnectionRefused,
        SocketError.ConnectionReset or SocketError.ConnectionAborted or SocketError.Shutdown or SocketError.NotConnected
            => SocketFailureKind.ConnectionReset,
        SocketError.HostNotFound or SocketError.NoData or SocketError.TryAgain or SocketError.NoRecovery
            => SocketFailureKind.HostNotFound,
        SocketError.TimedOut => SocketFailureKind.ConnectTimeout,
        SocketError.AddressAlreadyInUse => SocketFailureKind.AddressInUse,
        SocketError.AddressNotAvailable => SocketFailureKind.AddressNotAvailable,
        SocketError.NetworkUnreachable or SocketError.HostUnreachable or SocketError.NetworkDown or SocketError.HostDown
            => SocketFailureKind.Unreachable,
        SocketError.AccessDenied => SocketFailureKind.AccessDenied,
        SocketError.OperationAborted or SocketError.Interrupted => SocketFailureKind.Closed,
        SocketError.InvalidArgument or SocketError.AddressFamilyNotSupported or SocketError.ProtocolNotSupported
            or SocketError.SocketNotSupported or SocketError.OperationNotSupported => SocketFailureKind.InvalidArgument,
        _ => SocketFailureKind.Unknown,
    };

    /// <summary>Finds the <see cref="SocketException"/> behind an exception, if any.</summary>
    public static SocketException? FindSocketException(Exception? ex)
    {
        for (Exception? e = ex; e is not null; e = e.InnerException)
        {
            if (e is SocketException se)
            {
                return se;
            }
        }

        return null;
    }

    /// <summary>Wraps a failure of a connect to <paramref name="endPoint"/>.</summary>
    public static SocketOperationException ConnectFailed(Exception ex, string endPoint)
    {
        if (ex is SocketOperationException soe)
        {
            return soe;
        }

        SocketException? se = FindSocketException(ex);
        SocketFailureKind kind = se is null ? SocketFailureKind.Unknown : Classify(se.SocketErrorCode);
        string message = kind switch
        {
            SocketFailureKind.ConnectionRefused =>
                $"Connection to {endPoint} was refused: nothing is listening on that port. Check the port number and that the service is running.",
            SocketFailureKind.ConnectTimeout =>
                $"Connection to {endPoint} timed out: the host did not answer. Check the address, the port and any firewall on the way, or raise -TimeoutSeconds.",
            SocketFailureKind.Unreachable =>
                $"Connection to {endPoint} failed: the network or host is unreachable ({se!.Message}). Check the address and your routes.",
            SocketFailureKind.ConnectionReset =>
                $"Connection to {endPoint} was reset by the remote host while connecting. The service may be refusing clients.",
            SocketFailureKind.AccessDenied =>
                $"Connection to {endPoint} was denied by the operating system ({se!.Message}).",
            SocketFailureKind.AddressNotAvailable =>
                $"Connection to {endPoint} failed: the address is not valid here ({se!.Message}).",
            SocketFailureKind.InvalidArgument =>
                $"Connection to {endPoint} failed: {se!.Message}.",
            _ => $"Connection to {endPoint} failed: {(se ?? ex).Message}",
        };
        return new SocketOperationException(kind, message, endPoint, ex);
    }

    /// <summary>Wraps a failure of a send or receive on an established connection.</summary>
    public static SocketOperationException TransferFailed(Exception ex, string endPoint, string operation)
    {
        if (ex is SocketOperationException soe)
        {
            return soe;
        }

        if (ex is ObjectDisposedException)
        {
            return Closed(endPoint);
        }

        SocketException? se = FindSocketException(ex);
        if (se is null && IsTlsFailure(ex))
        {
            // An alert from the peer after the handshake, such as TLS 1.3's "certificate
            // required", surfaces as "The decryption operation failed".
            return new SocketOperationException(SocketFailureKind.TlsAuthentication,
                $"The TLS session with {endPoint} failed during {operation}: {Innermost(ex).Message.TrimEnd('.', ' ')}. " +
                "The peer may have refused this side's certificate, or the lack of one (-ClientCertificate).", endPoint, ex);
        }

        SocketFailureKind kind = se is null ? SocketFailureKind.Unknown : Classify(se.SocketErrorCode);
        return kind switch
        {
            SocketFailureKind.ConnectionReset => new SocketOperationException(kind,
                $"The connection to {endPoint} was reset by the remote host during {operation}. Reconnect with Connect-Socket.", endPoint, ex),
            SocketFailureKind.Closed => Closed(endPoint, ex),
            _ => new SocketOperationException(kind == SocketFailureKind.Unknown && ex is IOException ? SocketFailureKind.ConnectionReset : kind,
                $"{Capitalize(operation)} on the connection to {endPoint} failed: {(se ?? ex).Message}", endPoint, ex),
        };
    }

    /// <summary>The error for using a connection or server that was closed here.</summary>
    public static SocketOperationException Closed(string endPoint, Exception? inner = null) =>
        new(SocketFailureKind.Closed,
            $"The connection to {endPoint} is closed. Open a new one with Connect-Socket or Wait-SocketConnection.", endPoint, inner);

    private static bool IsTlsFailure(Exception ex)
    {
        for (Exception? e = ex; e is not null; e = e.InnerException)
        {
            if (e is System.Security.Authentication.AuthenticationException
                || e.GetType().FullName?.IndexOf("SslException", StringComparison.Ordinal) >= 0
                || e.Message.IndexOf("decryption operation failed", StringComparison.OrdinalIgnoreCase) >= 0)
            {
                return true;
            }
        }

        return false;
    }

    private static Exception Innermost(Exception ex)
    {
        while (ex.InnerException is not null)
        {
            ex = ex.InnerException;
        }

        return ex;
    }

    private static string Capitalize(string s) => s.Length == 0 ? s : char.ToUpperInvariant(s[0]) + s.Substring(1);
}
