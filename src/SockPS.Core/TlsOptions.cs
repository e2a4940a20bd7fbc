using System;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;

namespace SockPS.Core;

/// <summary>TLS versions a user may ask for. SockPS has its own names because Windows PowerShell
/// 5.1's SslProtocols has no TLS 1.3 (see TlsFeatures); they map to the runtime's values.</summary>
public enum TlsVersion
{
    /// <summary>TLS 1.0 (legacy; only where the OS still allows it).</summary>
    Tls10,
    /// <summary>TLS 1.1 (legacy; only where the OS still allows it).</summary>
    Tls11,
    /// <summary>TLS 1.2.</summary>
    Tls12,
    /// <summary>TLS 1.3.</summary>
    Tls13,
}

/// <summary>How a client side of TLS authenticates the server.</summary>
public sealed class TlsClientOptions
{
    /// <summary>The name sent as SNI and checked against the certificate; null means the host connected to.</summary>
    public string? ServerName { get; set; }

    /// <summary>Extra certificates to trust as roots for this connection only (a private CA).</summary>
    public X509Certificate2Collection TrustedCertificates { get; } = new();

    /// <summary>Accept any certificate. For test servers only.</summary>
    public bool SkipCertificateCheck { get; set; }

    /// <summary>A certificate with a private key to present when the server asks for one.</summary>
    public X509Certificate2? ClientCertificate { get; set; }

    /// <summary>The versions allowed; null means TLS 1.2 and later.</summary>
    public TlsVersion[]? Versions { get; set; }

    // Pinning, revocation and negotiation (issue 14): see Tls/CertificatePins.cs and Tls/TlsNegotiation.cs.

    /// <summary>Trust exactly the certificates or public keys pinned here: a leaf certificate
    /// that matches one is accepted whatever its chain and name say; one that matches none is
    /// refused. Empty: no pinning.</summary>
    public CertificatePins Pins { get; set; } = CertificatePins.None;

    /// <summary>Whether to check that the server's certificate chain is not revoked. Default Off.</summary>
    public CertificateRevocationCheck RevocationCheck { get; set; }

    /// <summary>ALPN: the application protocols to offer, most wanted first (h2, http/1.1); null offers none.</summary>
    public string[]? ApplicationProtocols { get; set; }

    /// <summary>The cipher suites to allow (IANA names); null leaves the choice to the OS.</summary>
    public string[]? CipherSuites { get; set; }
}

/// <summary>How a server side of TLS presents itself and checks clients.</summary>
public sealed class TlsServerOptions
{
    /// <summary>Creates options around the server's certificate, which must have a private key.</summary>
    public TlsServerOptions(X509Certificate2 certificate)
    {
        Certificate = certificate ?? throw new ArgumentNullException(nameof(certificate));
    }

    /// <summary>The server's certificate, with its private key.</summary>
    public X509Certificate2 Certificate { get; }

    /// <summary>Ask every client for a certificate and refuse clients without a valid one.</summary>
    public bool RequireClientCertificate { get; set; }

    /// <summary>Extra roots trusted for client certificates.</summary>
    public X509Certificate2Collection TrustedCertificates { get; } = new();

    /// <summary>The versions allowed; null means TLS 1.2 and later.</summary>
    public TlsVersion[]? Versions { get; set; }

    /// <summary>How long a client may take to complete the handshake. Default 30 seconds.</summary>
    public TimeSpan HandshakeTimeout { get; set; } = TimeSpan.FromSeconds(30);

    // Negotiation (issue 14): see Tls/TlsNegotiation.cs.

    /// <summary>ALPN: the application protocols this server accepts, preferred first; the first
    /// of them the client also offers is chosen. Null: no ALPN.</summary>
    public string[]? ApplicationProtocols { get; set; }

    /// <summary>The cipher suites to allow (IANA names); null leaves the choice to the OS.</summary>
    public string[]? CipherSuites { get; set; }
}

internal static class TlsVersions
{
    private const SslProtocols Tls13 = TlsFeatures.Tls13;

    /// <summary>The SslProtocols value for a set of versions; TLS 1.2 and later by default, or
    /// TLS 1.2 alone on runtimes without TLS 1.3 (.NET Framework before 4.8 on old Windows).</summary>
    public static SslProtocols ToSslProtocols(TlsVersion[]? versions)
    {
        if (versions is null || versions.Length == 0)
        {
            return TlsFeatures.SupportsTls13 ? SslProtocols.Tls12 | Tls13 : SslProtocols.Tls12;
        }

        SslProtocols protocols = SslProtocols.None;
        foreach (TlsVersion version in versions)
        {
            protocols |= version switch
            {
#pragma warning disable CS0618, SYSLIB0039 // legacy versions, only when the user asks for them
                TlsVersion.Tls10 => SslProtocols.Tls,
                TlsVersion.Tls11 => SslProtocols.Tls11,
#pragma warning restore CS0618, SYSLIB0039
                TlsVersion.Tls12 => SslProtocols.Tls12,
                _ => Tls13,
            };
        }

        return protocols;
    }

    public static string Name(SslProtocols protocol) => protocol switch
    {
        Tls13 => "Tls13",
        SslProtocols.Tls12 => "Tls12",
#pragma warning disable CS0618, SYSLIB0039
        SslProtocols.Tls11 => "Tls11",
        SslProtocols.Tls => "Tls10",
#pragma warning restore CS0618, SYSLIB0039
        _ => protocol.ToString(),
    };
}
