using System.Collections;
using System.Management.Automation;
using System.Security;
using System.Security.Cryptography.X509Certificates;
using SockPS.Core;

namespace SockPS.Commands;

/// <summary>Turns the TLS parameters Connect-Socket, Start-SocketServer and
/// Protect-SocketConnection share into the core's options. Paths are resolved against
/// PowerShell's current location, not the process's working directory.</summary>
internal static class TlsParameters
{
    public static TlsClientOptions Client(PSCmdlet cmdlet, string? serverName, object[]? caCertificate, bool skipCertificateCheck,
        X509Certificate2? clientCertificate, string? clientCertificatePath, SecureString? password, TlsVersion[]? versions)
    {
        TlsClientOptions options = new()
        {
            ServerName = serverName,
            SkipCertificateCheck = skipCertificateCheck,
            Versions = versions,
        };
        AddTrusted(cmdlet, options.TrustedCertificates, caCertificate);
        if (clientCertificate is not null && clientCertificatePath is not null)
        {
            throw Invalid("Give the client certificate once: -ClientCertificate or -ClientCertificatePath, not both.");
        }

        options.ClientCertificate = clientCertificatePath is null
            ? clientCertificate
            : TlsCertificates.LoadWithKey(Resolve(cmdlet, clientCertificatePath), password, keyPath: null);
        if (options.ClientCertificate is not null)
        {
            TlsCertificates.RequirePrivateKey(options.ClientCertificate, "client");
        }

        if (skipCertificateCheck && options.TrustedCertificates.Count > 0)
        {
            throw Invalid("-SkipCertificateCheck accepts any certificate, so -CaCertificate would have no effect. Use one or the other.");
        }

        return options;
    }

    public static TlsServerOptions? Server(PSCmdlet cmdlet, X509Certificate2? certificate, string? certificatePath, string? keyPath,
        SecureString? password, bool requireClientCertificate, object[]? caCertificate, TlsVersion[]? versions)
    {
        if (certificate is null && certificatePath is null)
        {
            if (requireClientCertificate || keyPath is not null)
            {
                throw Invalid("-RequireClientCertificate and -KeyPath need a server certificate: give -Certificate or -CertificatePath.");
            }

            return null;
        }

        if (certificate is not null && certificatePath is not null)
        {
            throw Invalid("Give the server certificate once: -Certificate or -CertificatePath, not both.");
        }

        X509Certificate2 serverCertificate = certificate
            ?? TlsCertificates.LoadWithKey(Resolve(cmdlet, certificatePath!), password, keyPath is null ? null : Resolve(cmdlet, keyPath));
        TlsCertificates.RequirePrivateKey(serverCertificate, "server");
        TlsServerOptions options = new(serverCertificate)
        {
            RequireClientCertificate = requireClientCertificate,
            Versions = versions,
        };
        AddTrusted(cmdlet, options.TrustedCertificates, caCertificate);
        return options;
    }

    /// <summary>-CaCertificate takes paths (PEM or DER, bundles too), X509Certificate2 objects, or collections of them.</summary>
    private static void AddTrusted(PSCmdlet cmdlet, X509Certificate2Collection trusted, object[]? values)
    {
        if (values is null)
        {
            return;
        }

        foreach (object value in values)
        {
            switch (value is PSObject pso ? pso.BaseObject : value)
            {
                case X509Certificate2 certificate:
                    trusted.Add(certificate);
                    break;
                case X509Certificate2Collection collection:
                    trusted.AddRange(collection);
                    break;
                case string path:
                    trusted.AddRange(TlsCertificates.LoadCertificates(Resolve(cmdlet, path)));
                    break;
                case IEnumerable many:
                    foreach (object item in many)
                    {
                        AddTrusted(cmdlet, trusted, new[] { item });
                    }

                    break;
                default:
                    throw Invalid($"-CaCertificate takes a path to a PEM or DER certificate, or an X509Certificate2; '{value}' is neither.");
            }
        }
    }

    public static string Resolve(PSCmdlet cmdlet, string path) => cmdlet.SessionState.Path.GetUnresolvedProviderPathFromPSPath(path);

    // Pinning, revocation and negotiation (issue 14).

    /// <summary>Adds -CertificateThumbprint, -PublicKeySha256, -CheckRevocation,
    /// -ApplicationProtocol and -TlsCipherSuite to a client's options. A pin replaces the chain
    /// and name checks, so -SkipCertificateCheck and -CaCertificate next to one would mean nothing
    /// and are refused, unless the options are for a report (Get-SocketCertificate), where a
    /// CA changes what the report says.</summary>
    public static TlsClientOptions AddClientChecks(TlsClientOptions options, string[]? certificateThumbprint, string[]? publicKeySha256,
        CertificateRevocationCheck? checkRevocation, string[]? applicationProtocol, string[]? tlsCipherSuite, bool forReport = false)
    {
        options.Pins = CertificatePins.Parse(certificateThumbprint, publicKeySha256);
        options.RevocationCheck = checkRevocation ?? CertificateRevocationCheck.Off;
        if (options.SkipCertificateCheck && (options.Pins.Any || options.RevocationCheck != CertificateRevocationCheck.Off))
        {
            throw Invalid("-SkipCertificateCheck accepts any certificate, so -CertificateThumbprint, -PublicKeySha256 and -CheckRevocation would have no effect. Use one or the other.");
        }

        if (!forReport && options.Pins.Any && options.TrustedCertificates.Count > 0)
        {
            throw Invalid("A pin (-CertificateThumbprint, -PublicKeySha256) trusts exactly that certificate or key, whatever CA issued it, so -CaCertificate would have no effect. Use one or the other.");
        }

        TlsNegotiation.Validate(applicationProtocol, tlsCipherSuite);
        options.ApplicationProtocols = applicationProtocol;
        options.CipherSuites = tlsCipherSuite;
        return options;
    }

    /// <summary>Adds -ApplicationProtocol and -TlsCipherSuite to a server's options.</summary>
    public static TlsServerOptions? AddServerNegotiation(TlsServerOptions? options, string[]? applicationProtocol, string[]? tlsCipherSuite)
    {
        if (options is null)
        {
            if (applicationProtocol is not null || tlsCipherSuite is not null)
            {
                throw Invalid("-ApplicationProtocol and -TlsCipherSuite are TLS settings: give the server certificate with -Certificate or -CertificatePath.");
            }

            return null;
        }

        TlsNegotiation.Validate(applicationProtocol, tlsCipherSuite);
        options.ApplicationProtocols = applicationProtocol;
        options.CipherSuites = tlsCipherSuite;
        return options;
    }

    private static SocketOperationException Invalid(string message) => new(SocketFailureKind.InvalidArgument, message);
}
