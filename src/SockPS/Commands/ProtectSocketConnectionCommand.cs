using System;
using System.Management.Automation;
using System.Security;
using System.Security.Cryptography.X509Certificates;
using SockPS.Core;

namespace SockPS.Commands;

/// <summary>
/// <para type="synopsis">Upgrades a plain connection to TLS in place (STARTTLS).</para>
/// <para type="description">For protocols that start in plain text and switch to TLS (SMTP, IMAP,
/// POP3, FTP, XMPP): after the peer agrees (for example "220 Ready to start TLS"), this runs the
/// TLS handshake on the same connection, as the client by default, or as the server with
/// -Certificate or -CertificatePath. Bytes already received but not read go to the handshake, so
/// nothing is lost or read twice; read the peer's go-ahead before upgrading. The same checks as
/// Connect-Socket -UseTls apply. If the handshake fails the connection is closed.</para>
/// </summary>
[Cmdlet(VerbsSecurity.Protect, "SocketConnection", DefaultParameterSetName = ConnectionSet)]
[OutputType(typeof(SocketConnection))]
public sealed class ProtectSocketConnectionCommand : ConnectionCmdlet
{
    /// <summary>Client: the name to send as SNI and to check the server's certificate against.
    /// Default: the host name (or, failing that, the address) the connection was made to.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? ServerName { get; set; }

    /// <summary>CA certificates to trust for this connection only, besides the machine's roots:
    /// paths to PEM or DER files, or X509Certificate2 objects. As the client, for the server's
    /// certificate; as the server, for client certificates.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public object[]? CaCertificate { get; set; }

    /// <summary>Client: accept any server certificate, and write a warning saying so. For test
    /// servers only: the connection is encrypted, but nothing proves who is at the other end.</summary>
    [Parameter]
    public SwitchParameter SkipCertificateCheck { get; set; }

    /// <summary>Client: a client certificate, with its private key, to present when the server asks
    /// for one (mutual TLS).</summary>
    [Parameter]
    [ValidateNotNull]
    public X509Certificate2? ClientCertificate { get; set; }

    /// <summary>Client: the path of a PFX (PKCS #12) file holding the client certificate and its
    /// key; its password goes in -CertificatePassword.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? ClientCertificatePath { get; set; }

    /// <summary>Server: the certificate, an X509Certificate2 with its private key. Giving it (or
    /// -CertificatePath) makes this side the TLS server; without either, this side is the client.</summary>
    [Parameter]
    [ValidateNotNull]
    public X509Certificate2? Certificate { get; set; }

    /// <summary>Server: the path of a PFX (PKCS #12) file holding the certificate and its key
    /// (password in -CertificatePassword), or of a PEM certificate whose key is in -KeyPath.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? CertificatePath { get; set; }

    /// <summary>Server: the path of the PEM private key file that goes with a PEM -CertificatePath.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? KeyPath { get; set; }

    /// <summary>The password of the PFX file given with -CertificatePath or -ClientCertificatePath,
    /// as a SecureString. Default: no password.</summary>
    [Parameter]
    [ValidateNotNull]
    public SecureString? CertificatePassword { get; set; }

    /// <summary>Server: ask the client for a certificate and refuse a client that presents no valid
    /// one (mutual TLS). Off by default.</summary>
    [Parameter]
    public SwitchParameter RequireClientCertificate { get; set; }

    /// <summary>The TLS protocol versions to allow: Tls12, Tls13 (Tls10 and Tls11 only for old
    /// peers). Default: Tls12 and Tls13 (TLS 1.2 alone where the runtime has no TLS 1.3).</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public TlsVersion[]? TlsProtocol { get; set; }

    /// <summary>Seconds the TLS handshake may take. Default 30; 0 waits forever.</summary>
    [Parameter]
    [ValidateSeconds]
    public double TimeoutSeconds { get; set; } = 30;

    /// <summary>Output each connection once its handshake is done. By default nothing is output:
    /// the connection object is upgraded in place.</summary>
    [Parameter]
    public SwitchParameter PassThru { get; set; }

    #region Certificate pinning, revocation and TLS negotiation (issue 14)

    /// <summary>Client: trust exactly the server certificate with this thumbprint: its SHA-1
    /// thumbprint (40 hex digits) or SHA-256 fingerprint (64 hex digits; colons are ignored). A
    /// match is accepted whatever its chain, dates and name say; a certificate that matches no
    /// pin is refused (TlsAuthenticationFailed, naming both). With several values, any may match.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string[]? CertificateThumbprint { get; set; }

    /// <summary>Client: trust exactly the server whose certificate holds this public key: the
    /// SHA-256 of its SubjectPublicKeyInfo as curl's --pinnedpubkey takes it (sha256//base64),
    /// as plain base64, or as 64 hex digits. A match replaces the chain and name checks.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string[]? PublicKeySha256 { get; set; }

    /// <summary>Client: check that the server's certificate and its CAs are not revoked: Off (the
    /// default), Offline (only revocation lists cached on this machine) or Online (fetch them).</summary>
    [Parameter]
    public CertificateRevocationCheck? CheckRevocation { get; set; }

    /// <summary>ALPN: as the client, the application protocols to offer, most wanted first (h2,
    /// http/1.1); as the server, the ones it accepts, preferred first. The result is the
    /// connection's NegotiatedApplicationProtocol. Needs PowerShell 7.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(ApplicationProtocolCompleter))]
    public string[]? ApplicationProtocol { get; set; }

    /// <summary>The cipher suites to allow, by IANA name (TLS_AES_256_GCM_SHA384,
    /// TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256). Default: the OS's choice. Linux and macOS in
    /// PowerShell 7 only; NotSupported on Windows.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(CipherSuiteCompleter))]
    public string[]? TlsCipherSuite { get; set; }

    #endregion

    private TlsClientOptions? _client;
    private TlsServerOptions? _server;

    /// <inheritdoc/>
    protected override void BeginProcessingCore()
    {
        try
        {
            _server = TlsParameters.Server(this, Certificate, CertificatePath, KeyPath, CertificatePassword, RequireClientCertificate, CaCertificate, TlsProtocol);
            if (_server is not null)
            {
                _server.HandshakeTimeout = Seconds(TimeoutSeconds, nameof(TimeoutSeconds));
                if (ServerName is not null || SkipCertificateCheck || ClientCertificate is not null || ClientCertificatePath is not null)
                {
                    ThrowInvalidArgument("-ServerName, -SkipCertificateCheck and -ClientCertificate are for the client side; with -Certificate this side is the TLS server.");
                }

                if (CertificateThumbprint is not null || PublicKeySha256 is not null || CheckRevocation is not null)
                {
                    ThrowInvalidArgument("-CertificateThumbprint, -PublicKeySha256 and -CheckRevocation check the server's certificate, so they are for the client side; with -Certificate this side is the TLS server.");
                }

                TlsParameters.AddServerNegotiation(_server, ApplicationProtocol, TlsCipherSuite);
            }
            else
            {
                _client = TlsParameters.AddClientChecks(
                    TlsParameters.Client(this, ServerName, CaCertificate, SkipCertificateCheck, ClientCertificate, ClientCertificatePath, CertificatePassword, TlsProtocol),
                    CertificateThumbprint, PublicKeySha256, CheckRevocation, ApplicationProtocol, TlsCipherSuite);
            }
        }
        catch (SocketOperationException ex)
        {
            ThrowTerminatingError(ErrorRecords.From(ex, ex.EndPoint));
        }
    }

    /// <inheritdoc/>
    protected override void ProcessRecordCore()
    {
        foreach (SocketConnection connection in TargetConnections())
        {
            try
            {
                if (_server is not null)
                {
                    Await(connection.UpgradeAsServerAsync(_server, StopToken));
                }
                else
                {
                    if (_client!.SkipCertificateCheck)
                    {
                        WriteWarning($"Certificate checks are off for {connection.PeerText}: the connection is encrypted, but nothing proves who is at the other end.");
                    }

                    string host = _client.ServerName ?? connection.ComputerName ?? (connection.RemoteEndPoint as System.Net.IPEndPoint)?.Address.ToString()
                        ?? throw new SocketOperationException(SocketFailureKind.InvalidArgument,
                            $"{connection} has no host name to check the certificate against. Give it with -ServerName.");
                    Await(connection.UpgradeAsClientAsync(_client, host, Seconds(TimeoutSeconds, nameof(TimeoutSeconds)), StopToken));
                }

                WriteVerbose($"{connection.PeerText} now uses {connection.TlsProtocol} ({connection.CipherSuite})" +
                    (connection.NegotiatedApplicationProtocol is string alpn ? $", application protocol {alpn}." : "."));
                if (PassThru)
                {
                    WriteObject(connection);
                }
            }
            catch (SocketOperationException ex)
            {
                WriteSocketError(ex, connection);
            }
        }
    }
}
