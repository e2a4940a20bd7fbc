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
    /// <summary>Client: the name sent as SNI and checked against the certificate. Default: the host the connection was made to.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? ServerName { get; set; }

    /// <summary>CA certificates to trust for this connection only (paths to PEM/DER files or X509Certificate2 objects); as server, for client certificates.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public object[]? CaCertificate { get; set; }

    /// <summary>Client: accept any certificate (writes a warning). For test servers only.</summary>
    [Parameter]
    public SwitchParameter SkipCertificateCheck { get; set; }

    /// <summary>Client: a certificate with its private key to present when the server asks for one.</summary>
    [Parameter]
    [ValidateNotNull]
    public X509Certificate2? ClientCertificate { get; set; }

    /// <summary>Client: a PFX file with the client certificate and key.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? ClientCertificatePath { get; set; }

    /// <summary>Server: the certificate with its private key. Giving it (or -CertificatePath) makes this side the TLS server.</summary>
    [Parameter]
    [ValidateNotNull]
    public X509Certificate2? Certificate { get; set; }

    /// <summary>Server: a PFX file with the certificate and key, or a PEM certificate with -KeyPath.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? CertificatePath { get; set; }

    /// <summary>Server: the PEM private key for a PEM -CertificatePath.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? KeyPath { get; set; }

    /// <summary>The password of the PFX file given with -CertificatePath or -ClientCertificatePath.</summary>
    [Parameter]
    [ValidateNotNull]
    public SecureString? CertificatePassword { get; set; }

    /// <summary>Server: refuse a client that presents no valid certificate.</summary>
    [Parameter]
    public SwitchParameter RequireClientCertificate { get; set; }

    /// <summary>The TLS versions to allow (Tls12, Tls13). Default: TLS 1.2 and later.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public TlsVersion[]? TlsProtocol { get; set; }

    /// <summary>Seconds the handshake may take. Default 30; 0 waits forever.</summary>
    [Parameter]
    [ValidateRange(0, int.MaxValue)]
    public double TimeoutSeconds { get; set; } = 30;

    /// <summary>Output the connection afterwards.</summary>
    [Parameter]
    public SwitchParameter PassThru { get; set; }

    private TlsClientOptions? _client;
    private TlsServerOptions? _server;

    /// <inheritdoc/>
    protected override void BeginProcessing()
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
            }
            else
            {
                _client = TlsParameters.Client(this, ServerName, CaCertificate, SkipCertificateCheck, ClientCertificate, ClientCertificatePath, CertificatePassword, TlsProtocol);
            }
        }
        catch (SocketOperationException ex)
        {
            ThrowTerminatingError(ErrorRecords.From(ex, ex.EndPoint));
        }
    }

    /// <inheritdoc/>
    protected override void ProcessRecord()
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

                WriteVerbose($"{connection.PeerText} now uses {connection.TlsProtocol} ({connection.CipherSuite}).");
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
