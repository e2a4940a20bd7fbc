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

    private static SocketOperationException Invalid(string message) => new(SocketFailureKind.InvalidArgument, message);
}
