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

/// <summary>The setting a failure is about: the knob a caller can turn to get past it. The core
/// names it here instead of in its messages, because only the caller's layer knows how the knob is
/// spelled (the cmdlet layer words it as a parameter: <see cref="Timeout"/> is -TimeoutSeconds).</summary>
public enum SocketSetting
{
    /// <summary>No setting helps, or the message says all there is.</summary>
    None,
    /// <summary>How long a connect, receive, accept or handshake waits (0 waits forever).</summary>
    Timeout,
    /// <summary>The local address a connection comes from.</summary>
    LocalAddress,
    /// <summary>The local port a connection comes from.</summary>
    LocalPort,
    /// <summary>The local address and the address family asked for disagree.</summary>
    AddressFamily,
    /// <summary>The port a server listens on (0 picks a free one).</summary>
    ListenPort,
    /// <summary>The port a relay listens on (0 picks a free one).</summary>
    RelayListenPort,
    /// <summary>A local address or port for a target that has none (a Unix socket).</summary>
    LocalBindingNotApplicable,
    /// <summary>The proxy (its URI: scheme, host and port).</summary>
    Proxy,
    /// <summary>A proxy for a connection that cannot go through one (UDP, a Unix socket).</summary>
    ProxyNotApplicable,
    /// <summary>The user name and password given to the proxy.</summary>
    ProxyCredential,
    /// <summary>The certificate this side presents to the peer.</summary>
    ClientCertificate,
    /// <summary>The name the server's certificate is checked against.</summary>
    ServerName,
    /// <summary>The CA certificates trusted for this connection, besides the machine's.</summary>
    CaCertificate,
    /// <summary>The CA certificates trusted, or, for a test server, not checking at all.</summary>
    CaCertificateOrSkipCheck,
    /// <summary>An online revocation check that could not reach the revocation list.</summary>
    CheckRevocationOnline,
    /// <summary>An offline revocation check with no revocation list cached.</summary>
    CheckRevocationOffline,
    /// <summary>The TLS versions, cipher suites, application protocols and certificates.</summary>
    TlsParameters,
    /// <summary>Restricting the cipher suites of one connection.</summary>
    TlsCipherSuite,
    /// <summary>Application protocols (ALPN).</summary>
    ApplicationProtocol,
    /// <summary>A certificate file: a PFX file with its password, or a PEM certificate with its key.</summary>
    CertificateFile,
    /// <summary>The password of a PFX file (or a PEM certificate's key file instead).</summary>
    CertificatePassword,
    /// <summary>The protocol spoken in plain text before TLS (STARTTLS).</summary>
    StartTls,
    /// <summary>A pinned public key hash (SHA-256 of the SubjectPublicKeyInfo).</summary>
    PublicKeyPin,
    /// <summary>Keep-alive timing: idle time, interval and probe count.</summary>
    KeepAliveTiming,
    /// <summary>Multicast options: time to live, loopback, interface.</summary>
    MulticastOptions,
    /// <summary>The interface multicast is sent and received on.</summary>
    MulticastInterface,
    /// <summary>Joining a multicast group.</summary>
    MulticastGroup,
    /// <summary>Sending to broadcast addresses.</summary>
    Broadcast,
    /// <summary>Sharing a port between servers (SO_REUSEPORT).</summary>
    ReusePort,
    /// <summary>The transport (stream or datagram) asked for.</summary>
    Protocol,
    /// <summary>TLS asked for on a datagram server.</summary>
    ServerCertificate,
    /// <summary>How a receive splits the stream (a line, a delimiter, a byte count, to the end).</summary>
    Framing,
    /// <summary>The delimiter a receive reads up to.</summary>
    Delimiter,
    /// <summary>The number of bytes a receive waits for.</summary>
    ByteCount,
    /// <summary>The peer a datagram goes to on a socket with no one peer (sendto).</summary>
    RemoteEndPoint,
    /// <summary>A peer address given for a stream socket, which has one peer already.</summary>
    RemoteEndPointNotApplicable,
    /// <summary>A half-close (shutdown of one direction).</summary>
    Shutdown,
    /// <summary>A connection that is closed or reset: only a new one helps.</summary>
    NewConnection,
    /// <summary>A server that is stopped: only a new one helps.</summary>
    NewServer,
    /// <summary>A stream server's data: it is on its connections.</summary>
    AcceptedConnections,
    /// <summary>A datagram server's data: it is received from the server itself.</summary>
    ServerDatagrams,
    /// <summary>Data received before a TLS upgrade that nobody read.</summary>
    UnreadData,
    /// <summary>A Unix socket's name: a file path, or a Linux abstract name.</summary>
    UnixSocketName,
}

/// <summary>The one exception type the core throws for socket failures. It carries a
/// <see cref="SocketFailureKind"/>, the endpoint concerned and the <see cref="SocketSetting"/> that
/// governs it; its message says what happened in terms true without PowerShell. The cmdlet layer
/// adds the advice that names its parameters and cmdlets (<see cref="Advice"/>).</summary>
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

    /// <summary>The setting a caller can change to get past this failure; None when no setting
    /// helps.</summary>
    public SocketSetting Setting { get; internal set; }

    /// <summary>For a timeout: how long the operation waited.</summary>
    public TimeSpan? Timeout { get; internal set; }

    /// <summary>What to try, in the words of the layer that reports the failure (the cmdlet layer
    /// names its parameters and cmdlets here); appended to <see cref="Message"/>. Null until a
    /// layer sets it.</summary>
    public string? Advice { get; set; }

    /// <summary>What happened, followed by the <see cref="Advice"/> when a layer gave one.</summary>
    public override string Message => Advice is null ? base.Message : base.Message + " " + Advice;

    /// <summary>What happened, in the core's words, without <see cref="Advice"/>.</summary>
    public string CoreMessage => base.Message;

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
        SocketSetting setting = kind switch
        {
            SocketFailureKind.ConnectTimeout => SocketSetting.Timeout,
            _ => SocketSetting.None,
        };
        string message = kind switch
        {
            SocketFailureKind.ConnectionRefused =>
                $"Connection to {endPoint} was refused: nothing is listening on that port. Check the port number and that the service is running.",
            SocketFailureKind.ConnectTimeout =>
                $"Connection to {endPoint} timed out: the host did not answer. Check the address, the port and any firewall on the way.",
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
        return new SocketOperationException(kind, message, endPoint, ex) { Setting = setting };
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
                "The peer may have refused this side's certificate, or the lack of one.", endPoint, ex)
            {
                Setting = SocketSetting.ClientCertificate,
            };
        }

        SocketFailureKind kind = se is null ? SocketFailureKind.Unknown : Classify(se.SocketErrorCode);
        return kind switch
        {
            SocketFailureKind.ConnectionReset => new SocketOperationException(kind,
                $"The connection to {endPoint} was reset by the remote host during {operation}.", endPoint, ex)
            {
                Setting = SocketSetting.NewConnection,
            },
            SocketFailureKind.Closed => Closed(endPoint, ex),
            _ => new SocketOperationException(kind == SocketFailureKind.Unknown && ex is IOException ? SocketFailureKind.ConnectionReset : kind,
                $"{Capitalize(operation)} on the connection to {endPoint} failed: {(se ?? ex).Message}", endPoint, ex),
        };
    }

    /// <summary>The error for using a connection or server that was closed here.</summary>
    public static SocketOperationException Closed(string endPoint, Exception? inner = null) =>
        new(SocketFailureKind.Closed,
            $"The connection to {endPoint} is closed.", endPoint, inner)
        {
            Setting = SocketSetting.NewConnection,
        };

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
