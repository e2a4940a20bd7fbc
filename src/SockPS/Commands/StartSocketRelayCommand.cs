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
/// <para type="synopsis">Forwards a local port (or Unix socket) to a target: a port forward, socat style.</para>
/// <para type="description">Listens (on 127.0.0.1 unless -ListenAddress says otherwise) and joins
/// every client to a new connection to the target, copying bytes both ways until either side
/// closes; a half-close travels on. Either side may be a Unix socket (-ListenPath, -Path) or TLS
/// (-Certificate for clients, -UseTls towards the target). With -Protocol Udp each client gets its
/// own socket towards the target, forgotten after a minute of silence. The relay object shows
/// where it listens, the target, active clients and byte counts.</para>
/// </summary>
[Cmdlet(VerbsLifecycle.Start, "SocketRelay", DefaultParameterSetName = ToHostSet)]
[OutputType(typeof(SocketRelay))]
public sealed class StartSocketRelayCommand : SockPSCmdlet
{
    private const string ToHostSet = "ToHost";
    private const string ToPathSet = "ToPath";

    /// <summary>The port to listen on: a number, a service name, or 0 (the default) for a free one.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string ListenPort { get; set; } = "0";

    /// <summary>The local address to listen on (default 127.0.0.1; Any, IPv6Any, :: or an address).</summary>
    [Parameter]
    [AllowEmptyString]
    public string? ListenAddress { get; set; }

    /// <summary>Listen on a Unix socket file instead of a port.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? ListenPath { get; set; }

    /// <summary>The target host.</summary>
    [Parameter(Mandatory = true, Position = 0, ParameterSetName = ToHostSet)]
    [Alias("HostName", "Host", "CN")]
    [ValidateNotNullOrEmpty]
    public string ComputerName { get; set; } = null!;

    /// <summary>The target port: a number or a service name.</summary>
    [Parameter(Mandatory = true, Position = 1, ParameterSetName = ToHostSet)]
    [ValidateNotNullOrEmpty]
    public string Port { get; set; } = null!;

    /// <summary>Forward to a Unix socket file instead of a host.</summary>
    [Parameter(Mandatory = true, ParameterSetName = ToPathSet)]
    [ValidateNotNullOrEmpty]
    public string Path { get; set; } = null!;

    /// <summary>Tcp (default) or Udp.</summary>
    [Parameter]
    public SocketProtocol Protocol { get; set; } = SocketProtocol.Tcp;

    /// <summary>Speak TLS to the target (checked as Connect-Socket -UseTls checks it).</summary>
    [Parameter]
    public SwitchParameter UseTls { get; set; }

    /// <summary>TLS to the target: the name to check the certificate against.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? ServerName { get; set; }

    /// <summary>TLS: CA certificates to trust (towards the target; for client certificates with -RequireClientCertificate).</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public object[]? CaCertificate { get; set; }

    /// <summary>TLS to the target: accept any certificate (writes a warning).</summary>
    [Parameter]
    public SwitchParameter SkipCertificateCheck { get; set; }

    /// <summary>Clients speak TLS to the relay: the certificate with its key.</summary>
    [Parameter]
    [ValidateNotNull]
    public X509Certificate2? Certificate { get; set; }

    /// <summary>Clients speak TLS to the relay: a PFX file, or a PEM certificate with -KeyPath.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? CertificatePath { get; set; }

    /// <summary>The PEM key for -CertificatePath.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? KeyPath { get; set; }

    /// <summary>The password of the -CertificatePath PFX file.</summary>
    [Parameter]
    [ValidateNotNull]
    public SecureString? CertificatePassword { get; set; }

    /// <summary>Seconds connecting to the target (with its TLS handshake) may take. Default 30.</summary>
    [Parameter]
    [ValidateRange(0, int.MaxValue)]
    public double TimeoutSeconds { get; set; } = 30;

    /// <summary>After one side ends its stream (the end is passed on to the other), seconds the
    /// other side may go on before the relay closes both, as socat's -t. Default 60; 0 waits
    /// until the other side ends too.</summary>
    [Parameter]
    [ValidateRange(0, int.MaxValue)]
    public double HalfCloseTimeoutSeconds { get; set; } = 60;

    /// <summary>A friendly name to find the relay by later.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? Name { get; set; }

    /// <inheritdoc/>
    protected override void ProcessRecord()
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
            };
            if (!UseTls && (ServerName is not null || SkipCertificateCheck || CaCertificate is not null))
            {
                throw new SocketOperationException(SocketFailureKind.InvalidArgument, "-ServerName, -CaCertificate and -SkipCertificateCheck are TLS settings towards the target: add -UseTls.");
            }

            if (ListenPath is not null)
            {
                options.ListenPath = TlsParameters.Resolve(this, ListenPath);
            }
            else
            {
                IPAddress address = Addresses.ParseListenAddress(ListenAddress);
                options.Listen = new IPEndPoint(address, ServicePorts.Resolve(ListenPort, Protocol == SocketProtocol.Udp ? "udp" : "tcp", allowZero: true));
            }

            if (ParameterSetName == ToPathSet)
            {
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

            SocketRelay relay = SocketRelay.Start(options);
            WriteVerbose($"Relaying {relay}.");
            WriteObject(relay);
        }
        catch (SocketOperationException ex)
        {
            ThrowTerminatingError(ErrorRecords.From(ex, ex.EndPoint ?? ListenPath ?? ListenPort));
        }
    }
}
