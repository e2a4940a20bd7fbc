using System;
using System.Collections;
using System.Management.Automation;
using System.Net;
using System.Net.Sockets;
using System.Security;
using System.Security.Cryptography.X509Certificates;
using SockPS.Core;

namespace SockPS.Commands;

/// <summary>
/// <para type="synopsis">Forwards a local port or Unix socket to a target host, port or Unix socket: a port forward, socat style.</para>
/// <para type="description">What socat TCP-LISTEN:port,fork TCP:host:port does. The relay listens
/// (on 127.0.0.1 unless -ListenAddress says otherwise) and joins every client to a new connection
/// to the target, copying bytes both ways until either side closes; a half-close is passed on.
/// Either side may be a Unix socket (-ListenPath, -Path) or TLS (-Certificate or -CertificatePath
/// for clients, -UseTls towards the target). With -Protocol Udp each client address gets its own
/// socket towards the target, closed after a minute of silence.</para>
/// <para type="description">The relay runs in the background until Stop-SocketRelay. Its object
/// shows where it listens, the target, active clients, byte counts, and failures to reach the
/// target (ErrorCount, LastError); a client whose target cannot be reached is disconnected.</para>
/// </summary>
[Cmdlet(VerbsLifecycle.Start, "SocketRelay", DefaultParameterSetName = ToHostSet)]
[OutputType(typeof(SocketRelay))]
public sealed class StartSocketRelayCommand : SockPSCmdlet
{
    private const string ToHostSet = "ToHost";
    private const string ToPathSet = "ToPath";
    private const string ToAbstractSet = "ToAbstractName";

    /// <summary>The port to listen on: a number, a numeric string or a service name. 0, the default,
    /// lets the OS pick a free port; the relay's Port property shows it.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string ListenPort { get; set; } = "0";

    /// <summary>The local address to listen on: an IP address; Any or 0.0.0.0 for every IPv4
    /// address; IPv6Any or :: for every address. Default: 127.0.0.1, so only this machine can use
    /// the relay.</summary>
    [Parameter]
    [AllowEmptyString]
    public string? ListenAddress { get; set; }

    /// <summary>Listen on this Unix socket file instead of a port; the file is removed when the
    /// relay stops.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? ListenPath { get; set; }

    /// <summary>Linux only: listen on this abstract Unix socket name (without the leading NUL)
    /// instead of a port; no file is made.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? ListenAbstractName { get; set; }

    /// <summary>Linux only: forward to this abstract Unix socket name (socat's
    /// ABSTRACT-CONNECT:name), given without the leading NUL.</summary>
    [Parameter(Mandatory = true, ParameterSetName = ToAbstractSet)]
    [ValidateNotNullOrEmpty]
    public string AbstractName { get; set; } = null!;

    /// <summary>The host to forward to: a name or an IP address.</summary>
    [Parameter(Mandatory = true, Position = 0, ParameterSetName = ToHostSet)]
    [Alias("HostName", "Host", "CN")]
    [ValidateNotNullOrEmpty]
    public string ComputerName { get; set; } = null!;

    /// <summary>The port to forward to: a number, a numeric string or a service name.</summary>
    [Parameter(Mandatory = true, Position = 1, ParameterSetName = ToHostSet)]
    [ValidateNotNullOrEmpty]
    public string Port { get; set; } = null!;

    /// <summary>Forward to this Unix socket file instead of a host and port.</summary>
    [Parameter(Mandatory = true, ParameterSetName = ToPathSet)]
    [ValidateNotNullOrEmpty]
    public string Path { get; set; } = null!;

    /// <summary>Tcp (the default) to forward connections, or Udp to forward datagrams, with a socket
    /// towards the target for each client address.</summary>
    [Parameter]
    public SocketProtocol Protocol { get; set; } = SocketProtocol.Tcp;

    /// <summary>Speak TLS to the target, checking its certificate as Connect-Socket -UseTls does,
    /// while clients speak plain text to the relay.</summary>
    [Parameter]
    public SwitchParameter UseTls { get; set; }

    /// <summary>TLS to the target: the name to send as SNI and to check the target's certificate
    /// against. Default: -ComputerName.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? ServerName { get; set; }

    /// <summary>TLS to the target: CA certificates to trust besides the machine's roots: paths to PEM
    /// or DER files, or X509Certificate2 objects.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public object[]? CaCertificate { get; set; }

    /// <summary>TLS to the target: accept any certificate, and write a warning saying so. For test
    /// targets only.</summary>
    [Parameter]
    public SwitchParameter SkipCertificateCheck { get; set; }

    #region Certificate pinning, revocation and TLS negotiation towards the target (issue 14)

    /// <summary>TLS to the target: trust exactly the certificate with this thumbprint (SHA-1, 40
    /// hex digits, or SHA-256, 64 hex digits; colons are ignored), whatever its chain and name
    /// say. A target that presents another is not connected, and the client is disconnected
    /// (ErrorCount, LastError).</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string[]? CertificateThumbprint { get; set; }

    /// <summary>TLS to the target: trust exactly the target whose certificate holds this public
    /// key: the SHA-256 of its SubjectPublicKeyInfo as curl's --pinnedpubkey takes it
    /// (sha256//base64), as plain base64, or as 64 hex digits.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string[]? PublicKeySha256 { get; set; }

    /// <summary>TLS to the target: check that its certificate and CAs are not revoked: Off (the
    /// default), Offline (only revocation lists cached on this machine) or Online (fetch them).</summary>
    [Parameter]
    public CertificateRevocationCheck? CheckRevocation { get; set; }

    /// <summary>TLS to the target: the application protocols to offer with ALPN, most wanted
    /// first (h2, http/1.1). Needs PowerShell 7.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(ApplicationProtocolCompleter))]
    public string[]? ApplicationProtocol { get; set; }

    /// <summary>TLS to the target: the cipher suites to allow, by IANA name. Linux and macOS in
    /// PowerShell 7 only; NotSupported on Windows.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(CipherSuiteCompleter))]
    public string[]? TlsCipherSuite { get; set; }

    #endregion

    /// <summary>Make clients speak TLS to the relay, with this certificate (an X509Certificate2 with
    /// its private key).</summary>
    [Parameter]
    [ValidateNotNull]
    public X509Certificate2? Certificate { get; set; }

    /// <summary>Make clients speak TLS to the relay, with the certificate in this file: a PFX file
    /// (password in -CertificatePassword), or a PEM certificate whose key is in -KeyPath.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? CertificatePath { get; set; }

    /// <summary>The path of the PEM private key file that goes with a PEM -CertificatePath.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? KeyPath { get; set; }

    /// <summary>The password of the -CertificatePath PFX file, as a SecureString. Default: no
    /// password.</summary>
    [Parameter]
    [ValidateNotNull]
    public SecureString? CertificatePassword { get; set; }

    /// <summary>Reach the target through a proxy, given as a URI: socks5://, socks5h:// (the proxy
    /// resolves the name), socks4://, socks4a:// or http://host:port (HTTP CONNECT). Every client
    /// gets its own tunnel; -UseTls runs end to end through it. TCP only.</summary>
    [Parameter(ParameterSetName = ToHostSet)]
    [ValidateNotNull]
    public Uri? Proxy { get; set; }

    /// <summary>The user name and password for -Proxy (SOCKS5 username/password, HTTP Basic).</summary>
    [Parameter(ParameterSetName = ToHostSet)]
    [Credential]
    [ValidateNotNull]
    public PSCredential? ProxyCredential { get; set; }

    /// <summary>The local address connections to the target come from (netcat's -s); through a
    /// proxy, connections to the proxy. Default: the OS chooses.</summary>
    [Parameter(ParameterSetName = ToHostSet)]
    [ValidateNotNull]
    public IPAddress? LocalAddress { get; set; }

    /// <summary>The local port connections to the target come from (netcat's -p). A fixed port
    /// carries one client at a time: a second client while the first is forwarded fails
    /// (AddressInUse in LastError). Default: 0, the OS chooses.</summary>
    [Parameter(ParameterSetName = ToHostSet)]
    [ValidateRange(0, 65535)]
    public int LocalPort { get; set; }

    /// <summary>Seconds connecting to the target (with its TLS handshake) may take for each client.
    /// Default 30; 0 waits as long as the OS does.</summary>
    [Parameter]
    [ValidateSeconds]
    public double TimeoutSeconds { get; set; } = 30;

    /// <summary>After one side ends its stream (the end is passed on to the other), seconds the
    /// other side may go on before the relay closes both, as socat's -t. Default 60; 0 waits
    /// until the other side ends too.</summary>
    [Parameter]
    [ValidateSeconds]
    public double HalfCloseTimeoutSeconds { get; set; } = 60;

    /// <summary>A name to find the relay by later (-Name on Get-SocketRelay and Stop-SocketRelay).
    /// Default: Relay followed by its Id, such as Relay2.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? Name { get; set; }

    /// <inheritdoc/>
    protected override void ProcessRecordCore()
    {
        try
        {
            RelayOptions options = new()
            {
                Protocol = Protocol,
                Name = Name,
                ConnectTimeout = Seconds(TimeoutSeconds, nameof(TimeoutSeconds)),
                HalfCloseTimeout = Seconds(HalfCloseTimeoutSeconds, nameof(HalfCloseTimeoutSeconds)),
                ListenTls = TlsParameters.Server(this, Certificate, CertificatePath, KeyPath, CertificatePassword, requireClientCertificate: false, caCertificate: null, versions: null),
                TargetTls = UseTls ? TlsParameters.Client(this, ServerName, CaCertificate, SkipCertificateCheck, null, null, null, null) : null,
                Proxy = ProxyParameters.Settings(Proxy, ProxyCredential),
                LocalAddress = LocalAddress,
                LocalPort = LocalPort,
            };
            if (options.TargetTls is not null)
            {
                TlsParameters.AddClientChecks(options.TargetTls, CertificateThumbprint, PublicKeySha256, CheckRevocation, ApplicationProtocol, TlsCipherSuite);
            }
            else if (CertificateThumbprint is not null || PublicKeySha256 is not null || CheckRevocation is not null || ApplicationProtocol is not null || TlsCipherSuite is not null)
            {
                throw new SocketOperationException(SocketFailureKind.InvalidArgument,
                    "-CertificateThumbprint, -PublicKeySha256, -CheckRevocation, -ApplicationProtocol and -TlsCipherSuite are TLS settings towards the target: add -UseTls.");
            }

            if (!UseTls && (ServerName is not null || SkipCertificateCheck || CaCertificate is not null))
            {
                throw new SocketOperationException(SocketFailureKind.InvalidArgument, "-ServerName, -CaCertificate and -SkipCertificateCheck are TLS settings towards the target: add -UseTls.");
            }

            if (ListenAbstractName is not null)
            {
                if (ListenPath is not null || MyInvocation.BoundParameters.ContainsKey(nameof(ListenAddress)) || MyInvocation.BoundParameters.ContainsKey(nameof(ListenPort)))
                {
                    throw new SocketOperationException(SocketFailureKind.InvalidArgument, "Listen on one thing: -ListenAbstractName, -ListenPath, or -ListenAddress and -ListenPort.");
                }

                options.ListenAbstractName = ListenAbstractName;
            }
            else if (ListenPath is not null)
            {
                UnixSockets.CheckPath(ListenPath);
                options.ListenPath = TlsParameters.Resolve(this, ListenPath);
            }
            else
            {
                IPAddress address = Addresses.ParseListenAddress(ListenAddress);
                options.Listen = new IPEndPoint(address, ServicePorts.Resolve(ListenPort, Protocol == SocketProtocol.Udp ? "udp" : "tcp", allowZero: true));
            }

            if (ParameterSetName == ToAbstractSet)
            {
                options.TargetAbstractName = AbstractName;
            }
            else if (ParameterSetName == ToPathSet)
            {
                UnixSockets.CheckPath(Path);
                options.TargetPath = TlsParameters.Resolve(this, Path);
            }
            else
            {
                options.TargetHost = ComputerName;
                options.TargetPort = ServicePorts.Resolve(Port, Protocol == SocketProtocol.Udp ? "udp" : "tcp");
            }

            if (options.TargetTls?.SkipCertificateCheck == true)
            {
                WriteWarning($"Certificate checks towards {ComputerName} are off: the relay encrypts, but nothing proves who the target is.");
            }

            SocketRelay relay = SocketRegistry.Publish(SocketRelay.Start(options));
            WriteVerbose($"Relaying {relay}.");
            WriteObject(relay);
        }
        catch (SocketOperationException ex)
        {
            ThrowTerminatingError(ErrorRecords.From(ex, ex.EndPoint ?? ListenPath ?? ListenAbstractName ?? ListenPort));
        }
    }
}
