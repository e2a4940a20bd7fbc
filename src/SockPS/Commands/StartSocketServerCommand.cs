using System;
using System.Collections;
using System.Collections.Generic;
using System.IO;
using System.Management.Automation;
using System.Net;
using System.Net.Sockets;
using System.Text;
using SockPS.Core;

namespace SockPS.Commands;

/// <summary>
/// <para type="synopsis">Listens for TCP connections, UDP datagrams or Unix domain socket clients, and returns the server as a live object.</para>
/// <para type="description">What Python's socket.bind and listen do. The server binds 127.0.0.1
/// (::1 with -AddressFamily InterNetworkV6) unless -Address says otherwise. -Port 0, the default,
/// lets the OS pick a free port; the returned object shows it. A TCP server accepts in the
/// background and Wait-SocketConnection hands out the connections. A UDP server (-Protocol Udp) is
/// one datagram socket: Receive-SocketData -Connection $server returns each datagram with its
/// sender. -Path listens on a Unix domain socket file instead of a port.</para>
/// <para type="description">With -Certificate or -CertificatePath every accepted connection
/// completes a TLS handshake before it is handed out; failed handshakes are counted on the server
/// (TlsFailureCount, LastTlsError) and the server goes on. With -ScriptBlock the server serves
/// every client itself, concurrently, running the script block once per connection (once per
/// datagram on a UDP server). With -FilePath it runs a program for every client instead, its
/// standard input and output joined to the connection, as ncat -k -e does. -MaxConnections,
/// -IdleTimeoutSeconds, -AllowAddress and -DenyAddress limit who is served and for how long.</para>
/// </summary>
[Cmdlet(VerbsLifecycle.Start, "SocketServer", DefaultParameterSetName = PortSet)]
[OutputType(typeof(SocketServer))]
public sealed class StartSocketServerCommand : SockPSCmdlet
{
    private const string PortSet = "Port";
    private const string PathSet = "Path";
    private const string AbstractSet = "AbstractName";

    /// <summary>The port to listen on: a number (0-65535), a numeric string or a service name such
    /// as http. 0, the default, lets the OS pick a free port; the server's Port property shows it.</summary>
    [Parameter(Position = 0, ValueFromPipelineByPropertyName = true, ParameterSetName = PortSet)]
    [ValidateNotNullOrEmpty]
    public string Port { get; set; } = "0";

    /// <summary>The local address to listen on: an IP address or a name of this machine; Any, *,
    /// 0.0.0.0 or the empty string for every IPv4 address; IPv6Any or :: for every address (IPv4
    /// included); Loopback or IPv6Loopback. Default: 127.0.0.1 (::1 with -AddressFamily
    /// InterNetworkV6), so nothing outside this machine can connect unless asked for.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true, ParameterSetName = PortSet)]
    [AllowEmptyString]
    public string? Address { get; set; }

    /// <summary>The path of a Unix domain socket file to listen on; a relative path is taken from
    /// the current location. A stale socket file (one nobody listens on) is replaced, a file that
    /// is not a socket is never touched, and the file is removed when the server stops.</summary>
    [Parameter(Mandatory = true, ValueFromPipelineByPropertyName = true, ParameterSetName = PathSet)]
    [ValidateNotNullOrEmpty]
    public string Path { get; set; } = null!;

    /// <summary>Linux only: listen on an abstract Unix domain socket with this name, given without
    /// the leading NUL byte (socat's ABSTRACT-LISTEN:name; ss -xl shows it as @name). No file is
    /// made, so there is nothing stale to replace and nothing to remove, and file permissions do not
    /// apply: any local process may connect. -Path @name still means a file.</summary>
    [Parameter(Mandatory = true, ValueFromPipelineByPropertyName = true, ParameterSetName = AbstractSet)]
    [ValidateNotNullOrEmpty]
    public string AbstractName { get; set; } = null!;

    /// <summary>Tcp (the default) to accept connections, or Udp for one socket that receives
    /// datagrams from everyone. With -Path or -AbstractName: a Unix stream or datagram socket.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    public SocketProtocol Protocol { get; set; } = SocketProtocol.Tcp;

    /// <summary>Without -Address: listen on the IPv4 loopback, 127.0.0.1 (InterNetwork, the
    /// default), or the IPv6 loopback, ::1 (InterNetworkV6). With -Address, the address must be of
    /// this family.</summary>
    [Parameter(ParameterSetName = PortSet)]
    [ValidateSet(nameof(System.Net.Sockets.AddressFamily.InterNetwork), nameof(System.Net.Sockets.AddressFamily.InterNetworkV6))]
    public AddressFamily? AddressFamily { get; set; }

    /// <summary>UDP only: allow sending to broadcast addresses such as 255.255.255.255
    /// (SO_BROADCAST). Off by default.</summary>
    [Parameter(ParameterSetName = PortSet)]
    public SwitchParameter Broadcast { get; set; }

    /// <summary>UDP only: multicast group addresses to join (IPv4 224.0.0.0/4 or IPv6 ff00::/8), so
    /// datagrams sent to those groups arrive on this server.</summary>
    [Parameter(ParameterSetName = PortSet)]
    [ValidateNotNullOrEmpty]
    public IPAddress[]? MulticastGroup { get; set; }

    /// <summary>UDP only: the address of the local interface to join -MulticastGroup on, and that
    /// multicast datagrams sent from the server leave from (IP_MULTICAST_IF). Default: the
    /// interface the OS chooses.</summary>
    [Parameter(ParameterSetName = PortSet)]
    [ValidateNotNull]
    public IPAddress? MulticastInterface { get; set; }

    /// <summary>UDP only: how many routers multicast datagrams the server sends may cross
    /// (IP_MULTICAST_TTL; the hop limit for IPv6), 0-255. The OS default is 1: the local network.</summary>
    [Parameter(ParameterSetName = PortSet)]
    [ValidateRange(0, 255)]
    public int MulticastTimeToLive { get; set; }

    /// <summary>UDP only: $false stops multicast datagrams the server sends from being delivered
    /// to group members on this machine as well (IP_MULTICAST_LOOP); the OS default is $true.</summary>
    [Parameter(ParameterSetName = PortSet)]
    public bool MulticastLoopback { get; set; }

    /// <summary>Let other sockets that ask for it too bind the same address and port
    /// (SO_REUSEPORT): several servers, in this or other processes of the same user, then share one
    /// port, and the OS spreads new connections (or datagrams) among them. Linux, macOS and BSD;
    /// Windows has no such option (a NotSupported error).</summary>
    [Parameter(ParameterSetName = PortSet)]
    public SwitchParameter ReusePort { get; set; }

    /// <summary>TLS: the server certificate, an X509Certificate2 with its private key. Every accepted
    /// connection completes a TLS handshake before it is handed out.</summary>
    [Parameter]
    [ValidateNotNull]
    public System.Security.Cryptography.X509Certificates.X509Certificate2? Certificate { get; set; }

    /// <summary>TLS: the path of a PFX (PKCS #12) file holding the server certificate and its key
    /// (password in -CertificatePassword), or of a PEM certificate whose key is in -KeyPath.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? CertificatePath { get; set; }

    /// <summary>TLS: the path of the PEM private key file that goes with a PEM -CertificatePath.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? KeyPath { get; set; }

    /// <summary>TLS: the password of the -CertificatePath PFX file, as a SecureString. Default: no
    /// password.</summary>
    [Parameter]
    [ValidateNotNull]
    public System.Security.SecureString? CertificatePassword { get; set; }

    /// <summary>TLS: ask every client for a certificate and refuse clients that present no valid
    /// one (mutual TLS). Client certificates must chain to the machine's roots or to
    /// -CaCertificate. Off by default.</summary>
    [Parameter]
    public SwitchParameter RequireClientCertificate { get; set; }

    /// <summary>TLS: CA certificates to trust for client certificates, besides the machine's roots:
    /// paths to PEM or DER files, or X509Certificate2 objects.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public object[]? CaCertificate { get; set; }

    /// <summary>TLS: the protocol versions to allow: Tls12, Tls13 (Tls10 and Tls11 only for old
    /// clients). Default: Tls12 and Tls13 (TLS 1.2 alone where the runtime has no TLS 1.3).</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public TlsVersion[]? TlsProtocol { get; set; }

    #region TLS negotiation (issue 14)

    /// <summary>TLS, ALPN: the application protocols this server accepts, preferred first, such
    /// as h2, http/1.1. Of those a client offers, the first in this list is chosen; it shows in
    /// each accepted connection's NegotiatedApplicationProtocol. A client that offers none of them
    /// fails its handshake (counted in TlsFailureCount). Needs PowerShell 7.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(ApplicationProtocolCompleter))]
    public string[]? ApplicationProtocol { get; set; }

    /// <summary>TLS: the cipher suites to allow, by IANA name (TLS_AES_256_GCM_SHA384,
    /// TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256). Default: the OS's choice. Linux and macOS in
    /// PowerShell 7 only; NotSupported on Windows.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(CipherSuiteCompleter))]
    public string[]? TlsCipherSuite { get; set; }

    #endregion

    /// <summary>Serve every client with this script block, concurrently: it runs once per accepted
    /// connection (once per datagram on a UDP server) in runspaces that have SockPS loaded, with
    /// the connection (or datagram) as its first argument and as $_. The connection closes when the
    /// block ends unless the block sets $Connection.KeepOpen = $true. Output and errors are kept on
    /// the server for Receive-SocketServerOutput; a block that throws ends only its own connection,
    /// not the server. The block runs in the language mode of the session that starts the server,
    /// and $using:name gives it the value name had when the server started, as in ForEach-Object
    /// -Parallel.</summary>
    [Parameter]
    [ValidateNotNull]
    public ScriptBlock? ScriptBlock { get; set; }

    /// <summary>Values passed to -ScriptBlock after the connection: another way to give handlers
    /// data (besides $using:), since they run in other runspaces. With -FilePath: the program's
    /// arguments, each passed to it as it is (no shell splits or expands them).</summary>
    [Parameter]
    public object[]? ArgumentList { get; set; }

    /// <summary>Serve every client with this program, as ncat -k -e and socat EXEC: do: for each
    /// accepted connection the program starts with its standard input reading what the client
    /// sends (byte for byte) and its standard output going to the client. When the client
    /// half-closes, the program's standard input ends; when the program exits, the rest of its
    /// output is sent and the connection closed; when the client resets or the connection is closed
    /// here, the program is stopped. The program is found now, on PATH or from the current location,
    /// and gets the arguments in -ArgumentList (no shell), and the variables SOCKPS_REMOTE_ADDR,
    /// SOCKPS_REMOTE_PORT, SOCKPS_LOCAL_ADDR and SOCKPS_LOCAL_PORT. -ThrottleLimit programs run at
    /// once; the other limits, access lists, TLS and -TranscriptPath apply as for -ScriptBlock.
    /// Receive-SocketServerOutput returns each program's result (exit code, bytes, how it ended).
    /// SECURITY: the program runs as you, for anyone who can connect. A shell (-FilePath /bin/sh,
    /// cmd.exe, pwsh) gives every such client a shell on this machine with your rights. The server
    /// binds loopback unless -Address says otherwise; before you expose it, limit who may connect
    /// with -AllowAddress / -DenyAddress, and require TLS client certificates
    /// (-Certificate with -RequireClientCertificate).</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? FilePath { get; set; }

    /// <summary>With -FilePath: the folder the program starts in. Default: the current location.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? WorkingDirectory { get; set; }

    /// <summary>With -FilePath: send what the program writes to standard error to the client too,
    /// mixed with its standard output (2>&amp;1). Otherwise the client gets standard output only,
    /// and the last 4 KiB of standard error are kept in the program's result.</summary>
    [Parameter]
    public SwitchParameter MergeStandardError { get; set; }

    /// <summary>With -FilePath: environment variables to set for the program, as a hashtable
    /// (@{ LANG = 'C' }); $null as a value removes one. The rest is inherited from this session.</summary>
    [Parameter]
    [ValidateNotNull]
    public IDictionary? Environment { get; set; }

    /// <summary>A script block that runs once in each handler runspace before its first handler: for
    /// functions and modules the handlers share. $using: works here too.</summary>
    [Parameter]
    [ValidateNotNull]
    public ScriptBlock? InitializationScript { get; set; }

    /// <summary>How many -ScriptBlock handlers (or -FilePath programs) run at once (1-1024);
    /// further clients wait, open, with their data buffered, until one is free; clients that have
    /// sent data go first. Default 32.</summary>
    [Parameter]
    [ValidateRange(1, 1024)]
    public int ThrottleLimit { get; set; } = 32;

    /// <summary>How many handlers may go on serving clients that have sent nothing yet while
    /// clients that have sent data wait for a runspace (0-1024). When every runspace is busy and a
    /// client with data waits, handlers beyond this many whose clients have sent nothing at all
    /// (for half a second or more) are ended by closing their connections, longest-silent first,
    /// one per waiting client: clients that connect and say nothing cannot keep the others from
    /// being served. While nobody with data waits, silent clients may use every runspace, so a
    /// server that speaks first (a greeting) keeps its full -ThrottleLimit. Default: half of
    /// -ThrottleLimit, rounded down; -SilentHandlerLimit equal to -ThrottleLimit never ends a
    /// handler this way.</summary>
    [Parameter]
    [ValidateRange(0, 1024)]
    public int SilentHandlerLimit { get; set; }

    /// <summary>How many connections (and datagrams) may wait for a runspace (1 or more). When that
    /// many wait, the waiting connection that has gone longest without sending anything is closed
    /// to make room for a new one; when all of them have sent data, the new one is closed. Datagrams
    /// beyond it are dropped and counted in the socket's DroppedCount. Default 1024.</summary>
    [Parameter]
    [ValidateRange(1, int.MaxValue)]
    public int QueueLimit { get; set; } = ScriptBlockHandlerHost.DefaultQueueLimit;

    /// <summary>Close connections waiting for a runspace that have sent nothing for this many
    /// seconds since they connected; $server.Handlers.TimedOut counts them. Once a handler has the
    /// connection, its own receive timeouts and -IdleTimeoutSeconds apply instead. 0, the default,
    /// lets them wait.</summary>
    [Parameter]
    [ValidateRange(0, int.MaxValue)]
    public double FirstByteTimeoutSeconds { get; set; }

    /// <summary>The most connections served at once; further clients wait in the OS backlog (and are
    /// refused by the OS once it is full) until connections close. 0, the default, means no limit.</summary>
    [Parameter]
    [ValidateSeconds]
    public int MaxConnections { get; set; }

    /// <summary>Close connections that have had no data in or out for this many seconds; their
    /// CloseReason says so. On a handler server the time a connection waits for a runspace does
    /// not count: the clock starts when its handler takes it. 0, the default, never closes them.</summary>
    [Parameter]
    [ValidateSeconds]
    public double IdleTimeoutSeconds { get; set; }

    /// <summary>Serve only clients from these addresses or CIDR ranges, such as 192.168.1.5,
    /// 10.0.0.0/8 or ::1/128. Others are reset at once and counted in RefusedCount; UDP datagrams
    /// from them are dropped. Default: every client.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string[]? AllowAddress { get; set; }

    /// <summary>Refuse clients from these addresses or CIDR ranges; wins over -AllowAddress. Refused
    /// clients are reset at once and counted in RefusedCount. Default: none.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string[]? DenyAddress { get; set; }

    /// <summary>Socket options to set before binding, as a hashtable: ReceiveBufferSize and
    /// SendBufferSize (bytes), Ttl (hops, 1-255), ReuseAddress ($true or $false), Linger (seconds,
    /// or $false) and DontFragment (IPv4). Example: @{ ReuseAddress = $true }. Options not given
    /// keep the OS defaults.</summary>
    [Parameter]
    [ValidateNotNull]
    public IDictionary? SocketOption { get; set; }

    /// <summary>How many connections the OS queues before they are accepted (the listen backlog).
    /// Default 128.</summary>
    [Parameter]
    [ValidateRange(1, int.MaxValue)]
    public int Backlog { get; set; } = 128;

    /// <summary>A name to find the server by later (Get-SocketServer -Name, and -Name on the server
    /// cmdlets). Default: Server followed by its Id, such as Server2.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? Name { get; set; }

    /// <summary>The encoding accepted connections use for text: utf8 (the default, without a byte
    /// order mark), utf8BOM, ascii, unicode, latin1, any other name or code page number .NET knows,
    /// or an Encoding object.</summary>
    [Parameter]
    [EncodingArgumentTransformation]
    [ArgumentCompleter(typeof(EncodingArgumentCompleter))]
    [ValidateNotNull]
    public Encoding Encoding { get; set; } = TextEncodings.Utf8NoBom;

    /// <summary>The line end Send-SocketData -Line appends on accepted connections: "`n" (the
    /// default) or "`r`n".</summary>
    [Parameter]
    [ValidateNotNull]
    public string NewLine { get; set; } = "\n";

    /// <summary>Accepted connections end sent lines with "`r`n", as the line protocols (HTTP,
    /// SMTP, POP3, IMAP, FTP, NNTP, Telnet) want: the same as -NewLine "`r`n".</summary>
    [Parameter]
    public SwitchParameter Crlf { get; set; }

    /// <summary>Accepted connections refuse the client's Telnet options and receive text without
    /// the negotiation (as Connect-Socket -Telnet).</summary>
    [Parameter]
    public SwitchParameter Telnet { get; set; }

    /// <summary>The ReceiveTimeoutSeconds of accepted connections: how many seconds a receive waits
    /// for data when not given -TimeoutSeconds. Default 30; 0 waits forever.</summary>
    [Parameter]
    [ValidateSeconds]
    public double ReceiveTimeoutSeconds { get; set; } = ConnectionOptions.DefaultReceiveTimeout.TotalSeconds;

    /// <summary>Send small writes at once on accepted connections (TCP_NODELAY: turns Nagle's
    /// algorithm off). Off by default.</summary>
    [Parameter]
    public SwitchParameter NoDelay { get; set; }

    /// <summary>Send TCP keep-alive probes on idle accepted connections (SO_KEEPALIVE). Off by
    /// default.</summary>
    [Parameter]
    public SwitchParameter KeepAlive { get; set; }

    /// <summary>Turn TCP keep-alive on for every accepted connection, with the first probe after
    /// this many seconds of silence (TCP_KEEPIDLE), 1-32767.</summary>
    [Parameter]
    [ValidateRange(1, 32767)]
    public int KeepAliveSeconds { get; set; }

    /// <summary>Turn TCP keep-alive on for every accepted connection, with further probes this
    /// many seconds apart (TCP_KEEPINTVL), 1-32767.</summary>
    [Parameter]
    [ValidateRange(1, 32767)]
    public int KeepAliveIntervalSeconds { get; set; }

    /// <summary>Turn TCP keep-alive on for every accepted connection, dropping it after this many
    /// unanswered probes (TCP_KEEPCNT), 1-127.</summary>
    [Parameter]
    [ValidateRange(1, 127)]
    public int KeepAliveCount { get; set; }

    /// <summary>Record every send and receive of every accepted connection (of a UDP server: of its
    /// socket), from the first byte, into this one file: JSON lines, appended, each naming its
    /// connection. Get-SocketTranscript -Path reads it back.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? TranscriptPath { get; set; }

    /// <summary>Accept WebSocket clients: each client's HTTP upgrade request is answered (101
    /// with Sec-WebSocket-Accept; 404 for another path, 400 or 426 for a request that is not an
    /// upgrade) before Wait-SocketConnection or a -ScriptBlock handler sees the connection; then
    /// every receive is one whole message (a SocketDatagram with MessageType Text or Binary) and
    /// every send one message. Pings are answered. With -Certificate the clients connect with
    /// wss://. Clients that fail the upgrade are counted in AcceptErrorCount (LastAcceptError
    /// says why). Not on Windows PowerShell 5.1.</summary>
    [Parameter]
    public SwitchParameter WebSocket { get; set; }

    /// <summary>With -WebSocket: the one path clients may ask for, such as /chat (the query is
    /// not compared); other paths are answered 404. Default: any path (the connection's Resource
    /// says which was asked for).</summary>
    [Parameter]
    [ValidatePattern("^/")]
    public string? WebSocketPath { get; set; }

    /// <summary>With -WebSocket: the subprotocols this server speaks (Sec-WebSocket-Protocol); the
    /// first the client offers that is in this list is chosen and shows in the connection's
    /// SubProtocol. Default: none (a client's offer is not taken up).</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string[]? SubProtocol { get; set; }

    /// <summary>With -WebSocket: seconds a client may take to send its upgrade request after
    /// connecting (and the TLS handshake), default 10.</summary>
    [Parameter]
    [ValidateSeconds]
    public double WebSocketHandshakeTimeoutSeconds { get; set; } = 10;

    private ScriptBlockHandlerHost? _handlers;

    private static AddressRange[] ParseRanges(string[]? ranges)
    {
        if (ranges is null)
        {
            return new AddressRange[0];
        }

        AddressRange[] parsed = new AddressRange[ranges.Length];
        for (int i = 0; i < ranges.Length; i++)
        {
            parsed[i] = AddressRange.Parse(ranges[i]);
        }

        return parsed;
    }

    private bool HandlerParameterGiven() =>
        MyInvocation.BoundParameters.ContainsKey(nameof(ThrottleLimit)) || MyInvocation.BoundParameters.ContainsKey(nameof(SilentHandlerLimit))
        || MyInvocation.BoundParameters.ContainsKey(nameof(QueueLimit)) || MyInvocation.BoundParameters.ContainsKey(nameof(FirstByteTimeoutSeconds));

    /// <summary>The handler host: $using: values taken now, the caller's language mode, the first
    /// runspace opened (so a broken setup fails here, not per client).</summary>
    private ScriptBlockHandlerHost CreateHandlers(ScriptBlock block)
    {
        PSLanguageMode mode = SessionState.LanguageMode;
        if (mode is PSLanguageMode.NoLanguage or PSLanguageMode.RestrictedLanguage)
        {
            throw new SocketOperationException(SocketFailureKind.InvalidArgument,
                $"-ScriptBlock handlers run scripts, which this session's language mode ({mode}) does not allow. Use a session in FullLanguage or ConstrainedLanguage.");
        }

        Dictionary<string, object?>? usingValues;
        try
        {
            usingValues = UsingValues.Capture(this, block, InitializationScript);
        }
        catch (UsingValueException ex)
        {
            ThrowTerminatingError(new ErrorRecord(new ArgumentException(ex.Message, ex), ex.IsUndefined ? "UsingVariableIsUndefined" : "InvalidArgument", ErrorCategory.InvalidArgument, ex.Expression));
            throw; // not reached
        }

        int silentLimit = MyInvocation.BoundParameters.ContainsKey(nameof(SilentHandlerLimit)) ? SilentHandlerLimit : ThrottleLimit / 2;
        SocketHandlerLimits limits = new(ThrottleLimit, silentLimit, QueueLimit, Seconds(FirstByteTimeoutSeconds, nameof(FirstByteTimeoutSeconds)));
        try
        {
            return new ScriptBlockHandlerHost(block, InitializationScript, ArgumentList, usingValues, mode, limits, ScriptBlockHandlerHost.ModulePathFor(this));
        }
        catch (Exception ex) when (ex is RuntimeException or InvalidOperationException or IOException or UnauthorizedAccessException)
        {
            ThrowTerminatingError(new ErrorRecord(ex, "HandlerRunspaceFailed", ErrorCategory.OpenError, block)
            {
                ErrorDetails = new ErrorDetails($"Cannot open a runspace for the -ScriptBlock handlers: {ex.Message} Check that the SockPS module at '{ScriptBlockHandlerHost.ModulePathFor(this)}' loads in a new session."),
            });
            throw; // not reached
        }
    }

    /// <summary>The handler host of a -FilePath server: the program found now, so a missing one
    /// fails Start-SocketServer rather than every client.</summary>
    private ScriptBlockHandlerHost CreateProgramHandlers(string filePath)
    {
        SocketProcessOptions program = ProcessParameters.Build(this, filePath, ArgumentList, WorkingDirectory, MergeStandardError, Environment);
        int silentLimit = MyInvocation.BoundParameters.ContainsKey(nameof(SilentHandlerLimit)) ? SilentHandlerLimit : ThrottleLimit / 2;
        SocketHandlerLimits limits = new(ThrottleLimit, silentLimit, QueueLimit, Seconds(FirstByteTimeoutSeconds, nameof(FirstByteTimeoutSeconds)), program.FilePath);
        return new ScriptBlockHandlerHost(program, limits);
    }

    /// <summary>-NewLine when given; "`r`n" for -Crlf.</summary>
    private string ChooseNewLine()
    {
        if (Crlf && MyInvocation.BoundParameters.ContainsKey(nameof(NewLine)) && NewLine != "\r\n")
        {
            throw new SocketOperationException(SocketFailureKind.InvalidArgument, "-Crlf means -NewLine \"`r`n\"; give one of them.");
        }

        return Crlf ? "\r\n" : NewLine;
    }

    /// <inheritdoc/>
    protected override void ProcessRecordCore()
    {
        try
        {
            if (Broadcast && Protocol != SocketProtocol.Udp)
            {
                throw new SocketOperationException(SocketFailureKind.InvalidArgument, "-Broadcast needs -Protocol Udp: only datagram sockets send to broadcast addresses.");
            }

            ConnectionOptions options = new()
            {
                Name = null,
                Encoding = Encoding,
                NewLine = ChooseNewLine(),
                Telnet = Telnet,
                ReceiveTimeout = Seconds(ReceiveTimeoutSeconds, nameof(ReceiveTimeoutSeconds)),
                NoDelay = NoDelay,
                KeepAlive = KeepAlive,
                Broadcast = Broadcast,
                SocketOptions = SocketParameters.Options(SocketOption),
            };
            options.SocketOptions = SocketTuningParameters.Apply(this, options.SocketOptions, KeepAliveSeconds, KeepAliveIntervalSeconds, KeepAliveCount,
                nameof(MulticastTimeToLive), nameof(MulticastLoopback), MulticastTimeToLive, MulticastLoopback,
                Protocol == SocketProtocol.Udp ? MulticastInterface : null, ReusePort);

            if (TranscriptPath is not null)
            {
                options.TranscriptPath = TlsParameters.Resolve(this, TranscriptPath);
                SocketTranscriptFile.CheckWritable(options.TranscriptPath);
            }

            TlsServerOptions? tls = TlsParameters.Server(this, Certificate, CertificatePath, KeyPath, CertificatePassword, RequireClientCertificate, CaCertificate, TlsProtocol);
            tls = TlsParameters.AddServerNegotiation(tls, ApplicationProtocol, TlsCipherSuite);
            if (tls is null && (CaCertificate is not null || TlsProtocol is not null))
            {
                throw new SocketOperationException(SocketFailureKind.InvalidArgument, "-CaCertificate and -TlsProtocol are TLS settings: give the server certificate with -Certificate or -CertificatePath.");
            }

            if (ScriptBlock is not null && FilePath is not null)
            {
                throw new SocketOperationException(SocketFailureKind.InvalidArgument,
                    "Give -ScriptBlock or -FilePath, not both: a client is served by a script block or by a program.");
            }

            if (ScriptBlock is null && FilePath is null && (ArgumentList is not null || InitializationScript is not null || HandlerParameterGiven()))
            {
                throw new SocketOperationException(SocketFailureKind.InvalidArgument,
                    "-ArgumentList, -InitializationScript, -ThrottleLimit, -SilentHandlerLimit, -QueueLimit and -FirstByteTimeoutSeconds go with -ScriptBlock (and all but -InitializationScript with -FilePath).");
            }

            if (FilePath is null && (WorkingDirectory is not null || MergeStandardError || Environment is not null))
            {
                throw new SocketOperationException(SocketFailureKind.InvalidArgument,
                    "-WorkingDirectory, -MergeStandardError and -Environment go with -FilePath.");
            }

            if (FilePath is not null && (InitializationScript is not null || Protocol == SocketProtocol.Udp || WebSocket))
            {
                throw new SocketOperationException(SocketFailureKind.InvalidArgument, InitializationScript is not null
                    ? "-InitializationScript prepares -ScriptBlock runspaces; a -FilePath server has none. Leave it out."
                    : "A -FilePath program reads and writes a byte stream: it serves stream connections (TCP, TLS, Unix stream sockets), not -Protocol Udp or -WebSocket.");
            }

            WebSocketServerOptions? webSocket = null;
            if (WebSocket)
            {
                WebSockets.ThrowIfUnsupported();
                if (Protocol == SocketProtocol.Udp || Telnet)
                {
                    throw new SocketOperationException(SocketFailureKind.InvalidArgument,
                        "-WebSocket runs over stream connections: leave out -Protocol Udp and -Telnet.");
                }

                webSocket = new WebSocketServerOptions
                {
                    Path = WebSocketPath,
                    SubProtocols = SubProtocol ?? new string[0],
                    HandshakeTimeout = Seconds(WebSocketHandshakeTimeoutSeconds, nameof(WebSocketHandshakeTimeoutSeconds)) is { } t && t > TimeSpan.Zero ? t : TimeSpan.FromSeconds(10),
                };
            }
            else if (WebSocketPath is not null || SubProtocol is not null || MyInvocation.BoundParameters.ContainsKey(nameof(WebSocketHandshakeTimeoutSeconds)))
            {
                throw new SocketOperationException(SocketFailureKind.InvalidArgument,
                    "-WebSocketPath, -SubProtocol and -WebSocketHandshakeTimeoutSeconds go with -WebSocket.");
            }

            ServerPolicy policy = new()
            {
                WebSocket = webSocket,
                MaxConnections = MaxConnections,
                IdleTimeout = Seconds(IdleTimeoutSeconds, nameof(IdleTimeoutSeconds)),
                Allow = ParseRanges(AllowAddress),
                Deny = ParseRanges(DenyAddress),
                Publish = SocketRegistry.PublishAccepted(),
            };
            _handlers = ScriptBlock is not null ? CreateHandlers(ScriptBlock)
                : FilePath is not null ? CreateProgramHandlers(FilePath)
                : null;
            if (_handlers is not null)
            {
                ScriptBlockHandlerHost host = _handlers;
                policy.ConnectionHandler = host.Handle;
                policy.DatagramHandler = host.Handle;
                policy.HandlerStatus = host.Status;
                policy.IsWaitingForHandler = host.IsWaiting;
                policy.HandlerHost = host;
            }

            SocketServer server;
            if (ParameterSetName == AbstractSet)
            {
                server = SocketServer.StartUnixAbstract(AbstractName, Backlog, options, Name, Protocol, tls, policy);
            }
            else if (ParameterSetName == PathSet)
            {
                UnixSockets.CheckPath(Path);
                server = SocketServer.StartUnix(TlsParameters.Resolve(this, Path), Backlog, options, Name, Protocol, tls, policy);
            }
            else
            {
                int port = ServicePorts.Resolve(Port, Protocol == SocketProtocol.Udp ? "udp" : "tcp", allowZero: true);
                IPAddress address = Address is null && AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6
                    ? IPAddress.IPv6Loopback
                    : Addresses.ParseListenAddress(Address);
                if (AddressFamily is not null && Address is not null && address.AddressFamily != AddressFamily)
                {
                    throw new SocketOperationException(SocketFailureKind.InvalidArgument,
                        $"-Address {Address} is not an {EndPoints.Family(AddressFamily.Value)} address; leave out -AddressFamily, or give an address of that family.");
                }

                List<(IPAddress, IPAddress?)>? groups = null;
                if (MulticastGroup is not null)
                {
                    groups = new();
                    foreach (IPAddress group in MulticastGroup)
                    {
                        groups.Add((group, MulticastInterface));
                    }
                }

                server = SocketServer.Start(new IPEndPoint(address, port), Backlog, options, Name, Protocol, groups, tls, policy);
            }

            if (_handlers is not null)
            {
                _handlers.Attach(server);
                _handlers = null;
            }

            SocketRegistry.Publish(server);
            WriteVerbose($"Listening on {server}.");
            WriteObject(server);
        }
        catch (SocketOperationException ex)
        {
            _handlers?.Abandon();
            _handlers = null;
            // A server that cannot bind its one address cannot do anything else: terminating.
            ThrowTerminatingError(ErrorRecords.From(ex, ex.EndPoint ?? (ParameterSetName == PathSet ? Path : ParameterSetName == AbstractSet ? "@" + AbstractName : Port)));
        }
    }
}
