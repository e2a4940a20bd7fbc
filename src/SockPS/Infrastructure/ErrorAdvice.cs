using SockPS.Core;

namespace SockPS.Commands;

/// <summary>What to try, in this module's words. The core says what happened and which setting
/// governs it (<see cref="SocketOperationException.Setting"/>) without naming a cmdlet or a
/// parameter; this table, keyed by failure kind and setting, adds the advice that does. It is the
/// one place where a core failure's message meets the names a user types.</summary>
internal static class ErrorAdvice
{
    /// <summary>Adds the advice to <paramref name="exception"/> (its Message then ends with it) and
    /// returns the message. A failure that wraps another of the same kind (a cmdlet rewording a
    /// core failure) takes the inner one's advice when it has none of its own.</summary>
    public static string Word(SocketOperationException exception)
    {
        exception.Advice ??= For(exception.Kind, exception.Setting)
            ?? (exception.InnerException is SocketOperationException inner && inner.Kind == exception.Kind
                ? For(inner.Kind, inner.Setting)
                : null);
        return exception.Message;
    }

    /// <summary>The advice for a kind of failure governed by a setting; null when the core's
    /// message says all there is.</summary>
    public static string? For(SocketFailureKind kind, SocketSetting setting) => (kind, setting) switch
    {
        (_, SocketSetting.None) => null,

        // Timeouts.
        (SocketFailureKind.ReceiveTimeout, SocketSetting.Timeout) => "Try again, or raise -TimeoutSeconds (0 waits forever).",
        (SocketFailureKind.AcceptTimeout, SocketSetting.Timeout) => "Wait again, or raise -TimeoutSeconds (0 waits forever).",
        (SocketFailureKind.ProxyTimeout, SocketSetting.Timeout) => "Raise -TimeoutSeconds if it is only slow, or check -Proxy.",
        (_, SocketSetting.Timeout) => "Raise -TimeoutSeconds if it is only slow.",

        // Where a connection comes from, and where a server listens.
        (SocketFailureKind.AddressNotAvailable, SocketSetting.LocalAddress) =>
            "Give one of this machine's addresses as -LocalAddress (Resolve-SocketAddress -ComputerName (Get-SocketHostName) lists them).",
        (_, SocketSetting.LocalAddress) => "Give a -LocalAddress of the target's family, or leave it out.",
        (SocketFailureKind.AccessDenied, SocketSetting.LocalPort) => "Pick a -LocalPort of 1024 or above.",
        (_, SocketSetting.LocalPort) => "Pick another -LocalPort, or leave it out so the OS picks one.",
        (_, SocketSetting.LocalBindingNotApplicable) => "Leave -LocalAddress and -LocalPort out for a Unix socket target (-Path).",
        (_, SocketSetting.AddressFamily) => "Give an -AddressFamily that matches the address, or leave -AddressFamily out.",
        (_, SocketSetting.ListenPort) => "-Port 0 picks a free one.",
        (_, SocketSetting.RelayListenPort) => "-ListenPort 0 picks a free one.",

        // The transport and socket options.
        (SocketFailureKind.AccessDenied, SocketSetting.Broadcast) => "Make the socket with -Broadcast.",
        (_, SocketSetting.Broadcast) => "Leave -Broadcast out.",
        (_, SocketSetting.Protocol) => "Connect to a datagram socket with -Protocol Udp, and to a stream socket without it.",
        (SocketFailureKind.NotSupported, SocketSetting.KeepAliveTiming) => "Use -KeepAlive alone for the system's keep-alive timing.",
        (_, SocketSetting.KeepAliveTiming) => "Leave -KeepAliveSeconds, -KeepAliveIntervalSeconds and -KeepAliveCount out.",
        (_, SocketSetting.MulticastOptions) => "Use -MulticastTimeToLive, -MulticastLoopback and -MulticastInterface with -Protocol Udp only.",
        (_, SocketSetting.MulticastInterface) => "Check -MulticastInterface.",
        (_, SocketSetting.MulticastGroup) => "-MulticastGroup needs -Protocol Udp.",
        (_, SocketSetting.ReusePort) => "Leave -ReusePort out: run one server per port there, or share one server's connections with -ScriptBlock.",
        (_, SocketSetting.ServerCertificate) => "Leave -Certificate out with -Protocol Udp.",
        (SocketFailureKind.NotSupported, SocketSetting.UnixSocketName) => "Give a socket file with -Path instead of -AbstractName.",
        (_, SocketSetting.UnixSocketName) => "Give an abstract name to -AbstractName (Connect-Socket also takes -Uri unix-abstract:<name>); -Path is always a file, even when it starts with @.",

        // Sending and receiving.
        (_, SocketSetting.RemoteEndPoint) => "Give -RemoteEndPoint host:port, or reply by piping the datagram you received to Send-SocketData.",
        (_, SocketSetting.RemoteEndPointNotApplicable) => "Leave -RemoteEndPoint out.",
        (SocketFailureKind.FrameTooLong, SocketSetting.Framing) => "Read it with -ByteCount, -ToEnd or without a framing parameter.",
        (_, SocketSetting.Framing) => "Leave out -Line, -Delimiter, -ByteCount and -ToEnd (on a WebSocket also -OutFile and patterns).",
        (_, SocketSetting.Delimiter) => "Give -Delimiter at least one character, or use -Line.",
        (_, SocketSetting.ByteCount) => "Read them without -ByteCount.",
        (SocketFailureKind.InvalidArgument, SocketSetting.Shutdown) => "Close it with Disconnect-Socket without -Shutdown.",
        (_, SocketSetting.Shutdown) => "Disconnect-Socket -Shutdown Send closed that direction.",
        (_, SocketSetting.UnreadData) => "Receive-SocketData -Line reads it.",

        // Closed things.
        (_, SocketSetting.NewConnection) => "Open a new connection with Connect-Socket or Wait-SocketConnection.",
        (_, SocketSetting.NewServer) => "Start a new one with Start-SocketServer.",
        (_, SocketSetting.AcceptedConnections) => "Take its connections with Wait-SocketConnection, and receive on those.",
        (_, SocketSetting.ServerDatagrams) => "Receive its datagrams with Receive-SocketData -Connection and the server, and reply by piping them to Send-SocketData.",

        // Proxies.
        (SocketFailureKind.ProxyProtocolError, SocketSetting.Proxy) => "Check -Proxy's scheme and port.",
        (_, SocketSetting.Proxy) => "Check -Proxy's host and port, and that the proxy runs.",
        (_, SocketSetting.ProxyNotApplicable) => "Leave -Proxy out.",
        (_, SocketSetting.ProxyCredential) => "The user name and password are given with -ProxyCredential (for example -ProxyCredential (Get-Credential)).",

        // TLS.
        (SocketFailureKind.InvalidArgument, SocketSetting.ClientCertificate) => "Use a certificate with its key: a PFX file with -ClientCertificatePath and -CertificatePassword.",
        (_, SocketSetting.ClientCertificate) => "This side's certificate is given with -ClientCertificate.",
        (SocketFailureKind.NotSupported, SocketSetting.CertificateFile) => "Give the PFX file with -CertificatePath and -CertificatePassword.",
        (_, SocketSetting.CertificateFile) => "Use a certificate with its key: a PFX file with -CertificatePath and -CertificatePassword, or a PEM certificate with -KeyPath.",
        (_, SocketSetting.CertificatePassword) => "Check -CertificatePassword, or give a PEM certificate with -KeyPath.",
        (_, SocketSetting.ServerName) => "-ServerName gives the name to check the certificate against.",
        (_, SocketSetting.CaCertificate) => "Trust that CA with -CaCertificate <path>.",
        (_, SocketSetting.CaCertificateOrSkipCheck) => "Trust that CA for this connection with -CaCertificate <path>, or use -SkipCertificateCheck for a test server.",
        (_, SocketSetting.CheckRevocationOnline) => "If it cannot, use -CheckRevocation Off.",
        (_, SocketSetting.CheckRevocationOffline) => "Use -CheckRevocation Online to fetch the list, or Off.",
        (_, SocketSetting.TlsParameters) =>
            "They are set with: versions (-TlsProtocol), cipher suites (-TlsCipherSuite), application protocols (-ApplicationProtocol), certificates (-ClientCertificate, -CaCertificate).",
        (SocketFailureKind.NotSupported, SocketSetting.TlsCipherSuite) =>
            "Leave -TlsCipherSuite out; the OS then chooses (on Windows, Enable-TlsCipherSuite and Disable-TlsCipherSuite change the system's list).",
        (_, SocketSetting.TlsCipherSuite) => "Give -TlsCipherSuite one or more names, or leave it out.",
        (_, SocketSetting.ApplicationProtocol) => "Leave -ApplicationProtocol out, or run the command in PowerShell 7.",
        (SocketFailureKind.StartTlsRefused, SocketSetting.StartTls) => "-StartTls names the protocol.",
        (_, SocketSetting.StartTls) => "If it starts in plain text, give -StartTls with its protocol.",
        (_, SocketSetting.PublicKeyPin) => "Get-SocketCertificate shows a server's as PublicKeySha256.",

        _ => null,
    };
}
