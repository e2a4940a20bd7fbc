using System.Collections;
using System.Collections.Generic;
using System.Management.Automation;
using System.Net;
using System.Net.Sockets;
using System.Text;
using SockPS.Core;

namespace SockPS.Commands;

/// <summary>
/// <para type="synopsis">Listens for connections or datagrams (the seed's bind and listen): TCP, UDP or a Unix domain socket.</para>
/// <para type="description">Binds 127.0.0.1 (::1 with -AddressFamily InterNetworkV6) unless
/// -Address says otherwise. A TCP server accepts in the background and Wait-SocketConnection
/// hands out the connections. A UDP server (-Protocol Udp) is one datagram socket:
/// Receive-SocketData -Connection $server returns each datagram with its sender. -Path listens
/// on a Unix domain socket file instead. -Port 0 (the default) lets the OS pick a free port; the
/// returned object shows it. With -Certificate or -CertificatePath every accepted connection
/// completes a TLS handshake before it is handed out; failed handshakes are counted on the
/// server (TlsFailureCount, LastTlsError) and the server goes on. With -ScriptBlock the server
/// serves every client itself, concurrently, with the script block as the handler.</para>
/// </summary>
[Cmdlet(VerbsLifecycle.Start, "SocketServer", DefaultParameterSetName = PortSet)]
[OutputType(typeof(SocketServer))]
public sealed class StartSocketServerCommand : SockPSCmdlet
{
    private const string PortSet = "Port";
    private const string PathSet = "Path";

    /// <summary>The port: a number, a numeric string or a service name. 0 (the default) picks a free port.</summary>
    [Parameter(Position = 0, ValueFromPipelineByPropertyName = true, ParameterSetName = PortSet)]
    [ValidateNotNullOrEmpty]
    public string Port { get; set; } = "0";

    /// <summary>The local address to listen on: an IP address, Any or 0.0.0.0 (every IPv4 address),
    /// IPv6Any or :: (every address), or the empty string for any. Default: 127.0.0.1 (::1 with
    /// -AddressFamily InterNetworkV6), so nothing outside this machine can connect unless asked for.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true, ParameterSetName = PortSet)]
    [AllowEmptyString]
    public string? Address { get; set; }

    /// <summary>The path of a Unix domain socket file to listen on. A stale socket file is
    /// replaced; the file is removed when the server stops.</summary>
    [Parameter(Mandatory = true, ValueFromPipelineByPropertyName = true, ParameterSetName = PathSet)]
    [ValidateNotNullOrEmpty]
    public string Path { get; set; } = null!;

    /// <summary>Tcp (default; accept connections) or Udp (one socket receiving datagrams).</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    public SocketProtocol Protocol { get; set; } = SocketProtocol.Tcp;

    /// <summary>Listen on IPv4 (InterNetwork) or IPv6 (InterNetworkV6) loopback when -Address is not given.</summary>
    [Parameter(ParameterSetName = PortSet)]
    [ValidateSet(nameof(System.Net.Sockets.AddressFamily.InterNetwork), nameof(System.Net.Sockets.AddressFamily.InterNetworkV6))]
    public AddressFamily? AddressFamily { get; set; }

    /// <summary>UDP: allow sending to broadcast addresses (SO_BROADCAST).</summary>
    [Parameter(ParameterSetName = PortSet)]
    public SwitchParameter Broadcast { get; set; }

    /// <summary>UDP: multicast groups to join (224.0.0.0/4, ff00::/8).</summary>
    [Parameter(ParameterSetName = PortSet)]
    [ValidateNotNullOrEmpty]
    public IPAddress[]? MulticastGroup { get; set; }

    /// <summary>UDP: the local interface address to join -MulticastGroup on; the OS chooses when absent.</summary>
    [Parameter(ParameterSetName = PortSet)]
    [ValidateNotNull]
    public IPAddress? MulticastInterface { get; set; }

    /// <summary>TLS: the server certificate with its private key; every accepted connection is TLS before it is handed out.</summary>
    [Parameter]
    [ValidateNotNull]
    public System.Security.Cryptography.X509Certificates.X509Certificate2? Certificate { get; set; }

    /// <summary>TLS: a PFX file with the server certificate and key (see -CertificatePassword), or a PEM certificate with -KeyPath.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? CertificatePath { get; set; }

    /// <summary>TLS: the PEM private key for a PEM -CertificatePath.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? KeyPath { get; set; }

    /// <summary>TLS: the password of the -CertificatePath PFX file.</summary>
    [Parameter]
    [ValidateNotNull]
    public System.Security.SecureString? CertificatePassword { get; set; }

    /// <summary>TLS: refuse clients that present no valid certificate (mutual TLS). Client certificates are checked against the system's roots and -CaCertificate.</summary>
    [Parameter]
    public SwitchParameter RequireClientCertificate { get; set; }

    /// <summary>TLS: CA certificates to trust for client certificates: paths to PEM or DER files, or X509Certificate2 objects.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public object[]? CaCertificate { get; set; }

    /// <summary>TLS: the versions to allow (Tls12, Tls13). Default: TLS 1.2 and later.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public TlsVersion[]? TlsProtocol { get; set; }

    /// <summary>Serve every client with this script block, concurrently: it runs once per accepted
    /// connection (once per datagram on a UDP server) in a pool of runspaces that have SockPS
    /// loaded, with the connection (or datagram) as its first argument and as $_. The connection
    /// closes when the block ends unless the block sets $Connection.KeepOpen = $true. Output and
    /// errors are kept for Receive-SocketServerOutput; a block that throws does not stop the server.</summary>
    [Parameter]
    [ValidateNotNull]
    public ScriptBlock? ScriptBlock { get; set; }

    /// <summary>Extra arguments passed to -ScriptBlock after the connection.</summary>
    [Parameter]
    public object[]? ArgumentList { get; set; }

    /// <summary>Runs once in each runspace of the pool before its first handler (imports, functions).</summary>
    [Parameter]
    [ValidateNotNull]
    public ScriptBlock? InitializationScript { get; set; }

    /// <summary>How many -ScriptBlock handlers run at once; further clients wait with their data buffered. Default 32.</summary>
    [Parameter]
    [ValidateRange(1, 1024)]
    public int ThrottleLimit { get; set; } = 32;

    /// <summary>Connections open at once; further clients wait in the OS backlog (and are refused by
    /// the OS once it is full) until connections close. Default: no limit.</summary>
    [Parameter]
    [ValidateRange(0, int.MaxValue)]
    public int MaxConnections { get; set; }

    /// <summary>Close connections with no data in or out for this many seconds. Default: never.</summary>
    [Parameter]
    [ValidateRange(0, int.MaxValue)]
    public double IdleTimeoutSeconds { get; set; }

    /// <summary>Serve only clients from these addresses or CIDR ranges (10.0.0.0/8, ::1/128).
    /// Others are closed at once and counted in RefusedCount; UDP datagrams from them are dropped.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string[]? AllowAddress { get; set; }

    /// <summary>Refuse clients from these addresses or CIDR ranges (checked after -AllowAddress).</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string[]? DenyAddress { get; set; }

    /// <summary>Socket options set before binding: @{ ReceiveBufferSize = 1MB; SendBufferSize = 1MB;
    /// Ttl = 16; ReuseAddress = $true; Linger = 5; DontFragment = $true }.</summary>
    [Parameter]
    [ValidateNotNull]
    public IDictionary? SocketOption { get; set; }

    /// <summary>How many connections the OS queues before they are accepted. Default 128.</summary>
    [Parameter]
    [ValidateRange(1, int.MaxValue)]
    public int Backlog { get; set; } = 128;

    /// <summary>A friendly name to find the server by later.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? Name { get; set; }

    /// <summary>The encoding accepted connections start with (default utf8 without BOM).</summary>
    [Parameter]
    [EncodingArgumentTransformation]
    [ArgumentCompleter(typeof(EncodingArgumentCompleter))]
    [ValidateNotNull]
    public Encoding Encoding { get; set; } = TextEncodings.Utf8NoBom;

    /// <summary>What Send-SocketData -Line appends on accepted connections. Default "`n".</summary>
    [Parameter]
    [ValidateNotNull]
    public string NewLine { get; set; } = "\n";

    /// <summary>The default receive timeout of accepted connections, in seconds. Default 30; 0 waits forever.</summary>
    [Parameter]
    [ValidateRange(0, int.MaxValue)]
    public double ReceiveTimeoutSeconds { get; set; } = ConnectionOptions.DefaultReceiveTimeout.TotalSeconds;

    /// <summary>Disable Nagle's algorithm on accepted connections.</summary>
    [Parameter]
    public SwitchParameter NoDelay { get; set; }

    /// <summary>Enable TCP keep-alive on accepted connections.</summary>
    [Parameter]
    public SwitchParameter KeepAlive { get; set; }

    /// <summary>Record every send and receive of every accepted connection (of a UDP server: of its
    /// socket), from the first byte, into this one file: JSON lines, appended, each naming its
    /// connection. Get-SocketTranscript -Path reads it back.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? TranscriptPath { get; set; }

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

    /// <inheritdoc/>
    protected override void ProcessRecord()
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
                NewLine = NewLine,
                ReceiveTimeout = Seconds(ReceiveTimeoutSeconds, nameof(ReceiveTimeoutSeconds)),
                NoDelay = NoDelay,
                KeepAlive = KeepAlive,
                Broadcast = Broadcast,
                SocketOptions = SocketParameters.Options(SocketOption),
            };

            if (TranscriptPath is not null)
            {
                options.TranscriptPath = TlsParameters.Resolve(this, TranscriptPath);
                SocketTranscriptFile.CheckWritable(options.TranscriptPath);
            }

            TlsServerOptions? tls = TlsParameters.Server(this, Certificate, CertificatePath, KeyPath, CertificatePassword, RequireClientCertificate, CaCertificate, TlsProtocol);
            if (tls is null && (CaCertificate is not null || TlsProtocol is not null))
            {
                throw new SocketOperationException(SocketFailureKind.InvalidArgument, "-CaCertificate and -TlsProtocol are TLS settings: give the server certificate with -Certificate or -CertificatePath.");
            }

            if ((ArgumentList is not null || InitializationScript is not null || MyInvocation.BoundParameters.ContainsKey(nameof(ThrottleLimit))) && ScriptBlock is null)
            {
                throw new SocketOperationException(SocketFailureKind.InvalidArgument, "-ArgumentList, -InitializationScript and -ThrottleLimit go with -ScriptBlock.");
            }

            ServerPolicy policy = new()
            {
                MaxConnections = MaxConnections,
                IdleTimeout = Seconds(IdleTimeoutSeconds, nameof(IdleTimeoutSeconds)),
                Allow = ParseRanges(AllowAddress),
                Deny = ParseRanges(DenyAddress),
            };
            _handlers = ScriptBlock is null
                ? null
                : new ScriptBlockHandlerHost(ScriptBlock, InitializationScript, ArgumentList, ThrottleLimit, ScriptBlockHandlerHost.ModulePathFor(this));
            if (_handlers is not null)
            {
                ScriptBlockHandlerHost host = _handlers;
                policy.ConnectionHandler = host.Handle;
                policy.DatagramHandler = host.Handle;
                policy.HandlerStatus = host.Status;
            }

            SocketServer server;
            if (ParameterSetName == PathSet)
            {
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
                ScriptBlockHandlerHost.Register(server, _handlers);
                _handlers = null;
            }

            WriteVerbose($"Listening on {server}.");
            WriteObject(server);
        }
        catch (SocketOperationException ex)
        {
            _handlers?.Dispose();
            _handlers = null;
            // A server that cannot bind its one address cannot do anything else: terminating.
            ThrowTerminatingError(ErrorRecords.From(ex, ex.EndPoint ?? (ParameterSetName == PathSet ? Path : Port)));
        }
    }
}
