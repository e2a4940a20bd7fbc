using System;
using System.Collections.Generic;
using System.Management.Automation;
using System.Net.Sockets;
using System.Threading;
using System.Threading.Tasks;
using SockPS.Core;

namespace SockPS.Commands;

/// <summary>
/// <para type="synopsis">Gets the TLS certificates of servers, with every validation problem in words, without trusting them (openssl s_client -showcerts).</para>
/// <para type="description">Connects to each host and port, runs a TLS handshake that accepts any
/// certificate, and returns what the server presented: subject, names (SANs), issuer, validity
/// and days left, thumbprints and the SHA-256 of the public key (the pin curl --pinnedpubkey and
/// -PublicKeySha256 take), the chain, and every check that fails, in words: the same checks
/// Connect-Socket -UseTls makes with the same -ServerName, -CaCertificate, pins and
/// -CheckRevocation, none of them enforced. With -StartTls it first runs the SMTP, IMAP, POP3 or
/// FTP dialogue that switches a plain-text service to TLS.</para>
/// <para type="description">Many endpoints are checked at once (at most -ThrottleLimit), and the
/// results come out in input order (hosts, then ports). An endpoint that cannot be reached,
/// refuses STARTTLS or fails the handshake itself is a non-terminating error with a SockPS id
/// (ConnectionRefused, ConnectTimeout, HostNotFound, StartTlsRefused, TlsAuthenticationFailed);
/// the others go on.</para>
/// </summary>
[Cmdlet(VerbsCommon.Get, "SocketCertificate")]
[OutputType(typeof(SocketCertificate))]
public sealed class GetSocketCertificateCommand : SockPSCmdlet
{
    private const int MinimumWindow = 64;

    private readonly Queue<(Task<SocketCertificate> Task, string Target)> _pending = new();
    private CancellationTokenSource? _checks;
    private CertificateInspector? _inspector;
    private int _window;

    /// <summary>The host names or IP addresses whose certificates to get.</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [Alias("HostName", "Host", "CN")]
    [ValidateNotNullOrEmpty]
    public string[] ComputerName { get; set; } = null!;

    /// <summary>The ports to connect to on every host: numbers, numeric strings or service names
    /// (https, smtp, imap, pop3, ftp), ranges such as 8443-8445, or lists ("443,8443"). Default:
    /// 443, or with -StartTls the protocol's port (25, 143, 110, 21).</summary>
    [Parameter(Position = 1, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    public string[]? Port { get; set; }

    /// <summary>Start in plain text and switch to TLS with this protocol's dialogue before the
    /// handshake: Smtp (EHLO, STARTTLS), Imap (STARTTLS), Pop3 (STLS) or Ftp (AUTH TLS). A server
    /// that refuses is a StartTlsRefused error quoting its answer.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    public StartTlsProtocol? StartTls { get; set; }

    /// <summary>The name to send as SNI and to check the certificate against. Default: the
    /// -ComputerName of each endpoint.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? ServerName { get; set; }

    /// <summary>CA certificates to treat as trusted roots for the report, besides the machine's:
    /// paths to PEM or DER files, or X509Certificate2 objects.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public object[]? CaCertificate { get; set; }

    /// <summary>Also check the certificate against these pins, as Connect-Socket
    /// -CertificateThumbprint would: SHA-1 thumbprints (40 hex digits) or SHA-256 fingerprints (64
    /// hex digits). PinMatched tells the result; a mismatch is the PinMismatch problem.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string[]? CertificateThumbprint { get; set; }

    /// <summary>Also check the certificate's public key against these pins, as Connect-Socket
    /// -PublicKeySha256 would: sha256//base64 (curl's form), plain base64 or 64 hex digits.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string[]? PublicKeySha256 { get; set; }

    /// <summary>Check revocation too: Off (the default), Offline (only revocation lists cached on
    /// this machine) or Online (fetch the lists the certificates name). A revoked certificate
    /// is the Revoked problem; one whose status could not be learned, RevocationUnknown.</summary>
    [Parameter]
    public CertificateRevocationCheck? CheckRevocation { get; set; }

    /// <summary>The application protocols to offer with ALPN, most wanted first (h2, http/1.1);
    /// the server's choice is in NegotiatedApplicationProtocol. Needs PowerShell 7.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(ApplicationProtocolCompleter))]
    public string[]? ApplicationProtocol { get; set; }

    /// <summary>The TLS protocol versions to offer: Tls12, Tls13 (Tls10 and Tls11 for old
    /// servers). Default: Tls12 and Tls13.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public TlsVersion[]? TlsProtocol { get; set; }

    /// <summary>The cipher suites to offer, by IANA name. Linux and macOS in PowerShell 7 only;
    /// NotSupported on Windows.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(CipherSuiteCompleter))]
    public string[]? TlsCipherSuite { get; set; }

    /// <summary>Use only IPv4 (InterNetwork) or only IPv6 (InterNetworkV6) addresses of the hosts.</summary>
    [Parameter]
    [ValidateSet(nameof(System.Net.Sockets.AddressFamily.InterNetwork), nameof(System.Net.Sockets.AddressFamily.InterNetworkV6))]
    public AddressFamily? AddressFamily { get; set; }

    /// <summary>At most this many endpoints are checked at once. Default 32.</summary>
    [Parameter]
    public int ThrottleLimit { get; set; } = 32;

    /// <summary>Seconds each endpoint may take: name lookup, connect, STARTTLS dialogue and
    /// handshake. Default 10; 0 sets no bound.</summary>
    [Parameter]
    [ValidateSeconds]
    public double TimeoutSeconds { get; set; } = CertificateInspectorOptions.DefaultTimeout.TotalSeconds;

    /// <inheritdoc/>
    protected override void BeginProcessingCore()
    {
        if (ThrottleLimit < 1)
        {
            ThrowInvalidArgument($"-ThrottleLimit must be at least 1; {ThrottleLimit} was given.", ThrottleLimit);
        }

        TlsClientOptions tls;
        try
        {
            tls = TlsParameters.AddClientChecks(
                TlsParameters.Client(this, ServerName, CaCertificate, skipCertificateCheck: false, null, null, null, TlsProtocol),
                CertificateThumbprint, PublicKeySha256, CheckRevocation, ApplicationProtocol, TlsCipherSuite, forReport: true);
        }
        catch (SocketOperationException ex)
        {
            ThrowTerminatingError(ErrorRecords.From(ex, ex.EndPoint));
            return;
        }

        _window = Math.Max(MinimumWindow, 4 * Math.Min(ThrottleLimit, 1 << 20));
        _checks = CancellationTokenSource.CreateLinkedTokenSource(StopToken);
        _inspector = new CertificateInspector(new CertificateInspectorOptions
        {
            Tls = tls,
            Timeout = Seconds(TimeoutSeconds, nameof(TimeoutSeconds)),
            ThrottleLimit = ThrottleLimit,
            AddressFamily = AddressFamily,
        });
    }

    /// <inheritdoc/>
    protected override void ProcessRecordCore()
    {
        foreach (string name in ComputerName)
        {
            if (string.IsNullOrWhiteSpace(name))
            {
                ThrowInvalidArgument("A computer name is empty. Give host names or IP addresses.", name);
            }
        }

        List<int> ports = new();
        if (Port is null)
        {
            ports.Add(CertificateInspector.DefaultPort(StartTls));
        }
        else
        {
            foreach (string text in Port)
            {
                try
                {
                    ports.AddRange(ServicePorts.ResolveList(text, "tcp"));
                }
                catch (SocketOperationException ex)
                {
                    ThrowTerminatingError(ErrorRecords.From(ex, text));
                }
            }
        }

        // -StartTls may come by property name with each input object, so it goes with each check.
        foreach (string name in ComputerName)
        {
            foreach (int port in ports)
            {
                string target = EndPointText.Format(name.Trim(), port);
                _pending.Enqueue((_inspector!.InspectAsync(name, port, StartTls, _checks!.Token), target));
                WriteFinished(_window);
            }
        }
    }

    /// <inheritdoc/>
    protected override void EndProcessingCore() => WriteFinished(0);

    /// <inheritdoc/>
    protected override void Dispose(bool disposing)
    {
        if (disposing && _checks is not null)
        {
            _checks.Cancel();
            _checks.Dispose();
        }

        base.Dispose(disposing);
    }

    /// <summary>Writes the finished head of the queue in input order; waits for the head while
    /// more than <paramref name="keep"/> are unwritten.</summary>
    private void WriteFinished(int keep)
    {
        while (_pending.Count > 0)
        {
            (Task<SocketCertificate> head, string target) = _pending.Peek();
            if (!head.IsCompleted)
            {
                if (_pending.Count <= keep)
                {
                    break;
                }

                WaitFor(head);
            }

            _pending.Dequeue();
            try
            {
                WriteObject(Await(head));
            }
            catch (SocketOperationException ex)
            {
                WriteSocketError(ex, target);
            }
        }
    }

    private void WaitFor(Task head)
    {
        try
        {
            while (!head.Wait(250, StopToken))
            {
            }
        }
        catch (OperationCanceledException) when (StopToken.IsCancellationRequested)
        {
            throw new PipelineStoppedException();
        }
        catch (AggregateException)
        {
            // The endpoint's own failure comes out of Await.
        }
    }
}
