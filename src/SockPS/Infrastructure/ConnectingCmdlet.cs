using System;
using System.Linq;
using System.Collections;
using System.Collections.Generic;
using System.Globalization;
using System.Management.Automation;
using System.Net.Sockets;
using System.Text;
using SockPS.Core;

namespace SockPS.Commands;

/// <summary>
/// What Connect-Socket and Invoke-SocketRequest share: where to connect (-ComputerName/-Port,
/// -Uri, -Path), TLS and its checks, text settings, socket options and a transcript file; and
/// the one way from those parameters to a live connection, with the same errors.
/// </summary>
public abstract class ConnectingCmdlet : SockPSCmdlet
{
    /// <summary>Parameter set: host name and port.</summary>
    protected const string HostSet = "ComputerName";

    /// <summary>Parameter set: a URI.</summary>
    protected const string UriSet = "Uri";

    /// <summary>Parameter set: a Unix socket path.</summary>
    protected const string PathSet = "Path";

    /// <summary>Parameter set: a Linux abstract Unix socket name.</summary>
    protected const string AbstractSet = "AbstractName";

    /// <summary>The host name or IP address (IPv4 or IPv6) to connect to. It may carry the port,
    /// as host:port or [IPv6]:port (Connect-Socket mail.example:25), or be a URI such as
    /// smtp://mail.example.</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true, ParameterSetName = HostSet)]
    [Alias("HostName", "Host", "CN")]
    [ValidateNotNullOrEmpty]
    public string ComputerName { get; set; } = null!;

    /// <summary>The port to connect to: a number (1-65535), a numeric string, or a service name
    /// such as http, smtp or imap4 (looked up for the -Protocol given). Needed unless
    /// -ComputerName carries the port (host:port).</summary>
    [Parameter(Position = 1, ValueFromPipelineByPropertyName = true, ParameterSetName = HostSet)]
    [ValidateNotNullOrEmpty]
    public string? Port { get; set; }

    /// <summary>Where to connect as a URI: tcp://host:port, tls://host:port (TCP with TLS),
    /// udp://host:port (IPv6 in brackets: tcp://[::1]:8080), unix:///path/to.sock,
    /// unix-abstract:name for a Linux abstract socket, or a protocol of the tutorial's table, which
    /// sets its port, CRLF line ends and, for the s forms, TLS: http, https, smtp, smtps,
    /// submission, pop3, pop3s, imap, imaps, ftp, nntp, nntps, telnet (with -Telnet's option
    /// refusal), gopher. ws://host:port/path and wss://host:port/path (TLS) open a WebSocket: every
    /// receive is then one whole message and every send one message (not on Windows PowerShell
    /// 5.1). Example: imaps://mail.example.</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true, ParameterSetName = UriSet)]
    [ValidateNotNull]
    public Uri Uri { get; set; } = null!;

    /// <summary>The path of the Unix domain socket file to connect to, such as /run/docker.sock.
    /// A relative path is taken from the current location.</summary>
    [Parameter(Mandatory = true, ValueFromPipelineByPropertyName = true, ParameterSetName = PathSet)]
    [ValidateNotNullOrEmpty]
    public string Path { get; set; } = null!;

    /// <summary>Linux only: the name of an abstract Unix domain socket to connect to, without the
    /// leading NUL byte (socat's ABSTRACT-CONNECT:name; ss -xl shows such sockets as @name). An
    /// abstract socket has no file, so -Path @name still means a file named @name.</summary>
    [Parameter(Mandatory = true, ValueFromPipelineByPropertyName = true, ParameterSetName = AbstractSet)]
    [ValidateNotNullOrEmpty]
    public string AbstractName { get; set; } = null!;

    /// <summary>Tcp (the default) for a stream connection, or Udp for a datagram socket connected
    /// to one peer. With -Path or -AbstractName, Tcp means a Unix stream socket and Udp a Unix
    /// datagram socket.</summary>
    [Parameter(ParameterSetName = HostSet, ValueFromPipelineByPropertyName = true)]
    [Parameter(ParameterSetName = PathSet, ValueFromPipelineByPropertyName = true)]
    [Parameter(ParameterSetName = AbstractSet, ValueFromPipelineByPropertyName = true)]
    public SocketProtocol Protocol { get; set; } = SocketProtocol.Tcp;

    /// <summary>Reach the target through a proxy, given as a URI: socks5://host:port (the target's
    /// name is resolved here), socks5h://host:port (the proxy resolves it), socks4://,
    /// socks4a:// (the proxy resolves it) or http://host:port (an HTTP proxy that tunnels with
    /// CONNECT). The port defaults to 1080. Credentials go in -ProxyCredential, never in the URI.
    /// TLS (-UseTls) runs end to end through the tunnel and checks the target's name. TCP only.</summary>
    [Parameter(ParameterSetName = HostSet)]
    [Parameter(ParameterSetName = UriSet)]
    [ValidateNotNull]
    public Uri? Proxy { get; set; }

    /// <summary>The user name and password for -Proxy: SOCKS5 username/password authentication
    /// (RFC 1929) or HTTP Basic authentication; for SOCKS4 the user name is sent as the user id.
    /// A user name alone prompts for the password.</summary>
    [Parameter(ParameterSetName = HostSet)]
    [Parameter(ParameterSetName = UriSet)]
    [Credential]
    [ValidateNotNull]
    public PSCredential? ProxyCredential { get; set; }

    /// <summary>The local address to connect from (netcat's -s): an address of this machine. Only
    /// the target's addresses of the same family are tried. Through a proxy it is the source of
    /// the connection to the proxy. Default: the OS chooses.</summary>
    [Parameter(ParameterSetName = HostSet)]
    [Parameter(ParameterSetName = UriSet)]
    [ValidateNotNull]
    public System.Net.IPAddress? LocalAddress { get; set; }

    /// <summary>The local port to connect from (netcat's -p), 1-65535. A port in use is an
    /// AddressInUse error; one whose last connection is in TIME_WAIT can be used again. Default:
    /// 0, the OS chooses.</summary>
    [Parameter(ParameterSetName = HostSet)]
    [Parameter(ParameterSetName = UriSet)]
    [ValidateRange(0, 65535)]
    public int LocalPort { get; set; }

    /// <summary>How text sent and received on the connection is encoded: utf8 (the default, UTF-8
    /// without a byte order mark), utf8BOM, ascii, unicode (UTF-16LE), bigendianunicode, utf32,
    /// latin1, any other name or code page number .NET knows, or an Encoding object.</summary>
    [Parameter]
    [EncodingArgumentTransformation]
    [ArgumentCompleter(typeof(EncodingArgumentCompleter))]
    [ValidateNotNull]
    public Encoding Encoding { get; set; } = TextEncodings.Utf8NoBom;

    /// <summary>The line end Send-SocketData -Line appends: "`n" (the default) or, for protocols
    /// such as HTTP and SMTP, "`r`n" (-Crlf says that shorter; a protocol URI such as smtp://
    /// sets it). Received lines may end with either, whatever this is.</summary>
    [Parameter]
    [ValidateNotNull]
    public string NewLine { get; set; } = "\n";

    /// <summary>End sent lines with "`r`n", as the line protocols (HTTP, SMTP, POP3, IMAP, FTP,
    /// NNTP, Telnet) want: the same as -NewLine "`r`n".</summary>
    [Parameter]
    public SwitchParameter Crlf { get; set; }

    /// <summary>Speak Telnet's option negotiation the way nc -t does: every option the server
    /// offers is refused (DO x is answered WONT x, WILL x DONT x), and the negotiation (IAC
    /// sequences) is taken out of what is received, so receives see only the text. The
    /// negotiation still shows in a transcript. A telnet:// URI turns this on.</summary>
    [Parameter]
    public SwitchParameter Telnet { get; set; }

    /// <summary>The WebSocket upgrade's extra headers and subprotocols: the parameters of the
    /// cmdlets that make WebSocket connections (<see cref="ConnectSocketCmdlet"/>); none for the
    /// others (Invoke-SocketRequest refuses ws:// and wss://).</summary>
    protected virtual IDictionary? WebSocketHeader => null;

    /// <inheritdoc cref="WebSocketHeader"/>
    protected virtual string[]? WebSocketSubProtocol => null;

    /// <summary>Use only the host's IPv4 (InterNetwork) or only its IPv6 (InterNetworkV6)
    /// addresses. By default every address is tried, in the order the resolver gives them.</summary>
    [Parameter(ParameterSetName = HostSet)]
    [Parameter(ParameterSetName = UriSet)]
    [ValidateSet(nameof(System.Net.Sockets.AddressFamily.InterNetwork), nameof(System.Net.Sockets.AddressFamily.InterNetworkV6))]
    public AddressFamily? AddressFamily { get; set; }

    /// <summary>Encrypt the TCP connection with TLS right after connecting (a tls:// URI does the
    /// same). The server's certificate must chain to a root this machine trusts, or to
    /// -CaCertificate, and be issued to -ComputerName (or -ServerName).</summary>
    [Parameter]
    public SwitchParameter UseTls { get; set; }

    /// <summary>TLS: the name to send as SNI and to check the server's certificate against.
    /// Default: -ComputerName (or the URI's host).</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? ServerName { get; set; }

    /// <summary>TLS: CA certificates to trust for this connection only, besides the machine's
    /// roots: paths to PEM or DER files, or X509Certificate2 objects. Nothing is added to any
    /// certificate store.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public object[]? CaCertificate { get; set; }

    /// <summary>TLS: accept any server certificate, and write a warning saying so. For test
    /// servers only: the connection is encrypted, but nothing proves who is at the other end.
    /// Cannot be combined with -CaCertificate.</summary>
    [Parameter]
    public SwitchParameter SkipCertificateCheck { get; set; }

    /// <summary>TLS: a client certificate, with its private key, to present when the server asks
    /// for one (mutual TLS).</summary>
    [Parameter]
    [ValidateNotNull]
    public System.Security.Cryptography.X509Certificates.X509Certificate2? ClientCertificate { get; set; }

    /// <summary>TLS: the path of a PFX (PKCS #12) file holding the client certificate and its
    /// private key; its password goes in -CertificatePassword.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? ClientCertificatePath { get; set; }

    /// <summary>TLS: the password of the -ClientCertificatePath file, as a SecureString (for
    /// example from Read-Host -AsSecureString). Default: no password.</summary>
    [Parameter]
    [ValidateNotNull]
    public System.Security.SecureString? CertificatePassword { get; set; }

    /// <summary>TLS: the protocol versions to allow: Tls12, Tls13 (Tls10 and Tls11 only for old
    /// devices). Default: Tls12 and Tls13 (TLS 1.2 alone where the runtime has no TLS 1.3).</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public TlsVersion[]? TlsProtocol { get; set; }

    /// <summary>Socket options to set before connecting, as a hashtable: ReceiveBufferSize and
    /// SendBufferSize (bytes), Ttl (hops, 1-255), ReuseAddress ($true or $false), Linger (seconds,
    /// or $false) and DontFragment (IPv4). Example: @{ ReceiveBufferSize = 1MB; Ttl = 16 }. Options
    /// not given keep the OS defaults.</summary>
    [Parameter]
    [ValidateNotNull]
    public IDictionary? SocketOption { get; set; }

    /// <summary>Record every send and receive on the connection, from the first byte, into this
    /// file: JSON lines (time, direction, bytes as Base64), appended. Get-SocketTranscript -Path
    /// reads it back.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? TranscriptPath { get; set; }

    #region Certificate pinning, revocation and TLS negotiation (issue 14)

    /// <summary>TLS: trust exactly the server certificate with this thumbprint: its SHA-1
    /// thumbprint (40 hex digits, as Windows and $certificate.Thumbprint show it) or its SHA-256
    /// fingerprint (64 hex digits, as openssl x509 -noout -fingerprint -sha256 shows it; colons
    /// are ignored). A certificate that matches is accepted whatever its chain, dates and name
    /// say; one that matches no pin is refused (TlsAuthenticationFailed, naming both). With
    /// several values, any may match. Get-SocketCertificate shows both forms.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string[]? CertificateThumbprint { get; set; }

    /// <summary>TLS: trust exactly the server whose certificate holds this public key: the SHA-256
    /// of its SubjectPublicKeyInfo as curl's --pinnedpubkey takes it (sha256//base64, several
    /// joined with ;), as plain base64, or as 64 hex digits. A key pin survives a renewal that
    /// keeps the key. As with -CertificateThumbprint, a match replaces the chain and name checks
    /// (curl makes those too, unless also given --insecure).</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string[]? PublicKeySha256 { get; set; }

    /// <summary>TLS: check that the server's certificate and its CAs are not revoked: Off (the
    /// default; nothing is fetched), Offline (only revocation lists already cached on this
    /// machine), or Online (fetch the CRLs the certificates name; one that cannot be fetched
    /// fails the connection). Off is the default, as in .NET, curl and openssl s_client: an
    /// Online check stalls or fails wherever CRL servers cannot be reached.</summary>
    [Parameter]
    public CertificateRevocationCheck? CheckRevocation { get; set; }

    /// <summary>TLS: the application protocols to offer with ALPN, most wanted first, such as
    /// h2, http/1.1. The one the server chose is the connection's NegotiatedApplicationProtocol
    /// (null when it chose none). Needs PowerShell 7: Windows PowerShell 5.1 says NotSupported.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(ApplicationProtocolCompleter))]
    public string[]? ApplicationProtocol { get; set; }

    /// <summary>TLS: the cipher suites to allow, by IANA name, such as TLS_AES_256_GCM_SHA384
    /// (TLS 1.3) or TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256 (TLS 1.2); tab completion lists
    /// them. Default: the OS's choice. Linux and macOS in PowerShell 7 only: on Windows the OS
    /// chooses for every program, and this is NotSupported there.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(CipherSuiteCompleter))]
    public string[]? TlsCipherSuite { get; set; }

    /// <summary>True when a parameter of this region was given.</summary>
    private bool HasTlsChecks => CertificateThumbprint is not null || PublicKeySha256 is not null || CheckRevocation is not null
        || ApplicationProtocol is not null || TlsCipherSuite is not null;

    /// <summary>The client's TLS options with this region's parameters added.</summary>
    private TlsClientOptions WithTlsChecks(TlsClientOptions options) =>
        TlsParameters.AddClientChecks(options, CertificateThumbprint, PublicKeySha256, CheckRevocation, ApplicationProtocol, TlsCipherSuite);

    #endregion

    /// <summary>Where the parameters say to connect. A URI that cannot be used stops the command;
    /// a host or port that cannot be used is a non-terminating error about that target (null).</summary>
    private protected ConnectTarget? ResolveTarget()
    {
        try
        {
            return ParameterSetName switch
            {
                UriSet => FromUri(Uri, UseTls),
                PathSet => new ConnectTarget(null, null, ResolveUnixPath(Path), Protocol, UseTls),
                AbstractSet => new ConnectTarget(null, null, null, Protocol, UseTls) { AbstractName = AbstractName },
                _ => FromHost(ComputerName, Port),
            };
        }
        catch (SocketOperationException ex) when (ParameterSetName == UriSet)
        {
            ThrowInvalidArgument(ErrorAdvice.Word(ex), Uri, "InvalidUri");
            throw;
        }
        catch (SocketOperationException ex) when (ParameterSetName == HostSet)
        {
            WriteTargetError(ex, ex.EndPoint ?? ComputerName);
            return null;
        }
        catch (SocketOperationException ex)
        {
            ThrowTerminatingError(ErrorRecords.From(ex, ex.EndPoint));
            throw;
        }
    }

    /// <summary>Reports a failure that concerns one target (non-terminating). Invoke-SocketRequest
    /// -AsResult turns it into a result object instead.</summary>
    private protected virtual void WriteTargetError(SocketOperationException exception, object? target) =>
        WriteSocketError(exception, target);

    /// <summary>-ComputerName with -Port, or carrying the port itself (host:port, [v6]:port), or
    /// a URI given where a host was expected (Connect-Socket smtp://mail.example binds it to
    /// -ComputerName: both parameter sets take the first position).</summary>
    private ConnectTarget FromHost(string computerName, string? port)
    {
        if (port is null && computerName.IndexOf("://", StringComparison.Ordinal) > 0
            && System.Uri.TryCreate(computerName, UriKind.Absolute, out Uri? uri))
        {
            return FromUri(uri, UseTls);
        }

        if (port is null)
        {
            if (!EndPoints.TrySplitHostPort(computerName, out string host, out string? carried) || carried is null)
            {
                throw new SocketOperationException(SocketFailureKind.InvalidArgument,
                    $"No port was given for {computerName}. Add -Port, write it as host:port ([IPv6]:port), or use a URI such as smtp://{computerName}.", computerName);
            }

            return new ConnectTarget(host, carried, null, Protocol, UseTls);
        }

        return new ConnectTarget(computerName, port, null, Protocol, UseTls);
    }

    /// <summary>A -Path made absolute; a NUL in it (the C spelling of an abstract name) is
    /// refused first, with the way to an abstract socket.</summary>
    private string ResolveUnixPath(string path)
    {
        UnixSockets.CheckPath(path);
        return TlsParameters.Resolve(this, path);
    }

    /// <summary>The options every connection made here starts with. Throws InvalidArgument for
    /// combinations that cannot work (TLS settings without TLS, TLS over UDP, a transcript path
    /// that cannot be written), before anything connects.</summary>
    private protected ConnectionOptions NewOptions(ConnectTarget target)
    {
        if (!target.WebSocket && (WebSocketHeader is not null || WebSocketSubProtocol is not null))
        {
            throw new SocketOperationException(SocketFailureKind.InvalidArgument,
                "-Header and -SubProtocol are WebSocket settings: connect with a ws:// or wss:// URI.");
        }

        if (target.WebSocket && this is InvokeSocketRequestCommand)
        {
            throw new SocketOperationException(SocketFailureKind.InvalidArgument,
                "Invoke-SocketRequest does not speak WebSocket. Connect with Connect-Socket -Uri ws://... (or wss://), then Send-SocketData and Receive-SocketData one message at a time.");
        }

        if (target.WebSocket && Telnet)
        {
            throw new SocketOperationException(SocketFailureKind.InvalidArgument, "-Telnet is for Telnet's byte stream; a WebSocket carries messages.");
        }

        if (!target.Tls && HasTlsChecks)
        {
            throw new SocketOperationException(SocketFailureKind.InvalidArgument,
                "-CertificateThumbprint, -PublicKeySha256, -CheckRevocation, -ApplicationProtocol and -TlsCipherSuite are TLS settings: add -UseTls (or use a tls:// URI).");
        }

        bool tlsSettings = ServerName is not null || ClientCertificatePath is not null || CaCertificate is not null
            || ClientCertificate is not null || TlsProtocol is not null || SkipCertificateCheck;
        if (!target.Tls && tlsSettings)
        {
            throw new SocketOperationException(SocketFailureKind.InvalidArgument,
                "-ServerName, -CaCertificate, -SkipCertificateCheck, -ClientCertificate and -TlsProtocol are TLS settings: add -UseTls (or use a tls:// URI).");
        }

        if (target.Path is not null || target.AbstractName is not null)
        {
            if (Proxy is not null || LocalAddress is not null || LocalPort != 0)
            {
                throw new SocketOperationException(SocketFailureKind.InvalidArgument,
                    "-Proxy, -LocalAddress and -LocalPort are for TCP and UDP targets; a Unix socket is reached directly.");
            }
        }

        if (LocalAddress is not null && AddressFamily is not null && LocalAddress.AddressFamily != AddressFamily)
        {
            throw new SocketOperationException(SocketFailureKind.InvalidArgument,
                $"-LocalAddress {LocalAddress} is an {EndPoints.Family(LocalAddress.AddressFamily)} address, but -AddressFamily asks for {EndPoints.Family(AddressFamily.Value)}: give one of the same family, or leave one out.");
        }

        if (Proxy is not null && target.Protocol == SocketProtocol.Udp)
        {
            throw new SocketOperationException(SocketFailureKind.InvalidArgument,
                "-Proxy carries TCP connections only: SockPS does not speak SOCKS5's UDP ASSOCIATE. Leave -Proxy out for UDP.");
        }

        if (target.Tls && (target.Protocol == SocketProtocol.Udp || target.Path is not null || target.AbstractName is not null))
        {
            throw new SocketOperationException(SocketFailureKind.InvalidArgument,
                "-UseTls is for TCP connections. For a Unix stream socket, connect and then run Protect-SocketConnection -ServerName <name>.");
        }

        string? transcript = null;
        if (TranscriptPath is not null)
        {
            transcript = TlsParameters.Resolve(this, TranscriptPath);
            SocketTranscriptFile.CheckWritable(transcript);
        }

        return new ConnectionOptions
        {
            Tls = target.Tls
                ? WithTlsChecks(TlsParameters.Client(this, ServerName, CaCertificate, SkipCertificateCheck, ClientCertificate, ClientCertificatePath, CertificatePassword, TlsProtocol))
                : null,
            Encoding = Encoding,
            NewLine = ChooseNewLine(target),
            Telnet = Telnet || target.Telnet,
            SocketOptions = SocketParameters.Options(SocketOption),
            TranscriptPath = transcript,
            Proxy = ProxyParameters.Settings(Proxy, ProxyCredential),
            LocalAddress = LocalAddress,
            LocalPort = LocalPort,
        };
    }

    /// <summary>-NewLine when given, else "`r`n" for -Crlf or a line protocol's URI, else "`n".</summary>
    private string ChooseNewLine(ConnectTarget target)
    {
        bool explicitNewLine = MyInvocation.BoundParameters.ContainsKey(nameof(NewLine));
        if (explicitNewLine && Crlf && NewLine != "\r\n")
        {
            throw new SocketOperationException(SocketFailureKind.InvalidArgument, "-Crlf means -NewLine \"`r`n\"; give one of them.");
        }

        return explicitNewLine ? NewLine : Crlf ? "\r\n" : target.NewLine ?? NewLine;
    }

    /// <summary>Connects. A failure about this target (unreachable, refused, an unknown host or
    /// service name, a bad path) is written as a non-terminating error and null is returned.</summary>
    private protected SocketConnection? Connect(ConnectTarget target, ConnectionOptions options, TimeSpan timeout)
    {
        if (options.Tls?.SkipCertificateCheck == true)
        {
            WriteWarning($"Certificate checks are off for {target.Host}: the connection is encrypted, but nothing proves who is at the other end. Use -CaCertificate to trust a private CA instead.");
        }

        string where = target.Path ?? (target.AbstractName is null ? target.Host! : "@" + target.AbstractName);
        try
        {
            if (target.AbstractName is not null)
            {
                WriteVerbose($"Connecting to the abstract Unix socket @{target.AbstractName}.");
                return Await(SocketConnector.ConnectUnixAbstractAsync(target.AbstractName, target.Protocol, options, timeout, StopToken, waitOnThisThread: true));
            }

            if (target.Path is not null)
            {
                WriteVerbose($"Connecting to the Unix socket {target.Path}.");
                return SocketRegistry.Publish(Await(SocketConnector.ConnectUnixAsync(target.Path, target.Protocol, options, timeout, StopToken, waitOnThisThread: true)));
            }

            int port = ServicePorts.Resolve(target.Port!, target.Protocol == SocketProtocol.Udp ? "udp" : "tcp");
            where = EndPointText.Format(target.Host!, port);
            if (target.WebSocket)
            {
                WriteVerbose($"Connecting a WebSocket to {where}{target.Resource}.");
                return SocketRegistry.Publish(Await(SocketConnector.ConnectWebSocketAsync(target.Host!, port, WebSocketOptions(target, port), options, timeout, AddressFamily, StopToken)));
            }

            WriteVerbose(options.Proxy is null
                ? $"Connecting to {where} over {target.Protocol}."
                : $"Connecting to {where} through {options.Proxy}.");
            return SocketRegistry.Publish(target.Protocol == SocketProtocol.Udp
                ? Await(SocketConnector.ConnectUdpAsync(target.Host!, port, options, timeout, AddressFamily, StopToken))
                : Await(SocketConnector.ConnectTcpAsync(target.Host!, port, options, timeout, AddressFamily, StopToken, waitOnThisThread: true)));
        }
        catch (SocketOperationException ex) when (ex.Kind is not SocketFailureKind.NotSupported)
        {
            // Everything here concerns this one target (its host, port, service name or path),
            // so the error is non-terminating: the next target in a list or pipeline goes on, and
            // -ErrorAction decides. Only a platform that cannot do it at all stops the command.
            WriteTargetError(ex, where);
            return null;
        }
        catch (SocketOperationException ex)
        {
            ThrowTerminatingError(ErrorRecords.From(ex, where));
            return null;
        }
    }

    /// <summary>The upgrade request: the URI's path, the Host header, -Header, -SubProtocol.</summary>
    private WebSocketClientOptions WebSocketOptions(ConnectTarget target, int port)
    {
        List<KeyValuePair<string, string>> headers = new();
        if (WebSocketHeader is not null)
        {
            foreach (DictionaryEntry entry in WebSocketHeader)
            {
                string name = entry.Key?.ToString() ?? string.Empty;
                if (name.Length == 0 || name.StartsWith("Sec-WebSocket-", StringComparison.OrdinalIgnoreCase)
                    || name.Equals("Host", StringComparison.OrdinalIgnoreCase) || name.Equals("Upgrade", StringComparison.OrdinalIgnoreCase)
                    || name.Equals("Connection", StringComparison.OrdinalIgnoreCase))
                {
                    throw new SocketOperationException(SocketFailureKind.InvalidArgument,
                        $"-Header cannot set '{name}': Host, Upgrade, Connection and the Sec-WebSocket-* headers belong to the upgrade itself (use -SubProtocol for Sec-WebSocket-Protocol).", target.ToString());
                }

                headers.Add(new KeyValuePair<string, string>(name, LanguagePrimitives.ConvertTo<string>(entry.Value) ?? string.Empty));
            }
        }

        string host = target.Host!.IndexOf(':') >= 0 ? "[" + target.Host + "]" : target.Host!;
        bool defaultPort = port == (target.Tls ? 443 : 80);
        return new WebSocketClientOptions
        {
            Resource = target.Resource ?? "/",
            HostHeader = defaultPort ? host : host + ":" + port.ToString(CultureInfo.InvariantCulture),
            SubProtocols = WebSocketSubProtocol ?? new string[0],
            Headers = headers,
        };
    }

    private static ConnectTarget FromUri(Uri uri, bool useTls)
    {
        string scheme = uri.IsAbsoluteUri ? uri.Scheme.ToLowerInvariant() : string.Empty;
        if (scheme == "unix-abstract")
        {
            // unix-abstract:name; the @ that ss shows may be written too.
            string name = Uri.UnescapeDataString(uri.OriginalString.Substring(uri.OriginalString.IndexOf(':') + 1)).TrimStart('/');
            if (name.StartsWith("@", StringComparison.Ordinal))
            {
                name = name.Substring(1);
            }

            if (name.Length == 0)
            {
                throw InvalidUri(uri, "Write an abstract socket URI as unix-abstract:name.");
            }

            return new ConnectTarget(null, null, null, SocketProtocol.Tcp, useTls) { AbstractName = name };
        }

        if (scheme == "unix")
        {
            // unix:///run/app.sock; unix:/run/app.sock also parses with an empty host.
            string path = Uri.UnescapeDataString(uri.AbsolutePath);
            if (path.Length == 0 || !string.IsNullOrEmpty(uri.Host))
            {
                throw InvalidUri(uri, "Write a Unix socket URI with three slashes: unix:///run/app.sock.");
            }

            return new ConnectTarget(null, null, path, SocketProtocol.Tcp, useTls);
        }

        ProtocolScheme? known = ProtocolSchemes.Find(scheme);
        if (known is null)
        {
            throw InvalidUri(uri, $"Use tcp://host:port, tls://host:port, udp://host:port, unix:///path, unix-abstract:name, or a protocol: {string.Join(", ", ProtocolSchemes.Names.Where(n => n is not ("tcp" or "tls" or "udp")))}.");
        }

        int port = uri.Port > 0 ? uri.Port : known.DefaultPort ?? 0;
        if (port <= 0)
        {
            throw InvalidUri(uri, $"It has no port. Write it as {scheme}://host:port.");
        }

        // DnsSafeHost drops the brackets of an IPv6 literal.
        return new ConnectTarget(uri.DnsSafeHost, port.ToString(CultureInfo.InvariantCulture), null,
            known.Datagram ? SocketProtocol.Udp : SocketProtocol.Tcp, useTls || known.Tls)
        {
            NewLine = known.NewLine,
            Telnet = known.Telnet,
            WebSocket = scheme is "ws" or "wss",
            Resource = scheme is "ws" or "wss" ? (string.IsNullOrEmpty(uri.PathAndQuery) ? "/" : uri.PathAndQuery) : null,
        };
    }

    private static SocketOperationException InvalidUri(Uri uri, string hint) =>
        new(SocketFailureKind.InvalidArgument, $"The URI '{uri.OriginalString}' is not supported. {hint}", uri.OriginalString);
}

/// <summary>Where to connect: a host and port, or a Unix socket path; the protocol; TLS or not.</summary>
internal sealed class ConnectTarget
{
    public ConnectTarget(string? host, string? port, string? path, SocketProtocol protocol, bool tls)
    {
        Host = host;
        Port = port;
        Path = path;
        Protocol = protocol;
        Tls = tls;
    }

    public string? Host { get; }

    public string? Port { get; }

    public string? Path { get; }

    public SocketProtocol Protocol { get; }

    public bool Tls { get; }

    /// <summary>A Linux abstract socket name, without its NUL.</summary>
    public string? AbstractName { get; set; }

    /// <summary>The line end the protocol of a URI uses; null keeps -NewLine's default.</summary>
    public string? NewLine { get; set; }

    /// <summary>A telnet:// URI: refuse the server's options.</summary>
    public bool Telnet { get; set; }

    /// <summary>A ws:// or wss:// URI: upgrade to WebSocket after connecting (and TLS).</summary>
    public bool WebSocket { get; set; }

    /// <summary>For WebSocket: the path and query to ask for.</summary>
    public string? Resource { get; set; }

    /// <summary>How messages name the target before the port is resolved.</summary>
    public override string ToString() => Path ?? (AbstractName is not null ? "@" + AbstractName : Port is null ? Host! : $"{Host}:{Port}");
}
