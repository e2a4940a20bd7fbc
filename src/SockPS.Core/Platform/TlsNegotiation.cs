using System;
using System.Linq;
using System.Net.Security;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
#if NET8_0_OR_GREATER
using System.Collections.Generic;
#endif

namespace SockPS.Core;

/// <summary>
/// The one place for what a TLS negotiation can ask for in each build (issue 14). PowerShell
/// 7.4+ (.NET 8) negotiates ALPN (SslClientAuthenticationOptions.ApplicationProtocols), restricts
/// cipher suites (CipherSuitesPolicy: Linux and macOS; Windows chooses the suites for every
/// program and refuses) and builds a chain that trusts exactly given roots (CustomTrustStore,
/// which revocation against a private CA needs). Windows PowerShell 5.1 (.NET Framework) has none
/// of these: asking for ALPN or cipher suites is a NotSupported failure that says so, never a
/// silent handshake without them. A handshake that asks for neither uses the API both builds
/// share.
/// </summary>
internal static class TlsNegotiation
{
    /// <summary>Throws InvalidArgument or NotSupported, before anything connects, for ALPN names
    /// or cipher suites this build cannot use.</summary>
    public static void Validate(string[]? applicationProtocols, string[]? cipherSuites)
    {
        if (applicationProtocols is not null)
        {
            RequireAlpn();
            foreach (string protocol in applicationProtocols)
            {
                int bytes = Encoding.UTF8.GetByteCount(protocol ?? string.Empty);
                if (bytes is 0 or > 255)
                {
                    throw new SocketOperationException(SocketFailureKind.InvalidArgument,
                        $"'{protocol}' is not an ALPN protocol name: it must be 1 to 255 bytes, such as h2 or http/1.1.", protocol);
                }
            }
        }

        if (cipherSuites is not null)
        {
            _ = CreateCipherSuitesPolicy(cipherSuites);
        }
    }

#if NET8_0_OR_GREATER
    /// <summary>The cipher suite names this build knows, for tab completion.</summary>
    public static string[] KnownCipherSuites => Enum.GetNames(typeof(TlsCipherSuite));

    /// <summary>The client handshake: with SslClientAuthenticationOptions when ALPN or cipher
    /// suites are asked for, else the call both builds share. Revocation is never left to
    /// SslStream (TlsHandshake checks it itself, the same way in both builds).</summary>
    public static Task AuthenticateAsClientAsync(SslStream ssl, string targetHost, X509CertificateCollection? clientCertificates, SslProtocols protocols,
        string[]? applicationProtocols, string[]? cipherSuites, CancellationToken cancellationToken)
    {
        if (applicationProtocols is null && cipherSuites is null)
        {
            return ssl.AuthenticateAsClientAsync(targetHost, clientCertificates, protocols, checkCertificateRevocation: false);
        }

        SslClientAuthenticationOptions options = new()
        {
            TargetHost = targetHost,
            ClientCertificates = clientCertificates,
            EnabledSslProtocols = protocols,
            CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
            ApplicationProtocols = ToAlpn(applicationProtocols),
            CipherSuitesPolicy = cipherSuites is null ? null : CreateCipherSuitesPolicy(cipherSuites),
        };
        return ssl.AuthenticateAsClientAsync(options, cancellationToken);
    }

    /// <summary>The server handshake, chosen the same way as the client's.</summary>
    public static Task AuthenticateAsServerAsync(SslStream ssl, X509Certificate2 certificate, bool clientCertificateRequired, SslProtocols protocols,
        string[]? applicationProtocols, string[]? cipherSuites, CancellationToken cancellationToken)
    {
        if (applicationProtocols is null && cipherSuites is null)
        {
            return ssl.AuthenticateAsServerAsync(certificate, clientCertificateRequired, protocols, checkCertificateRevocation: false);
        }

        SslServerAuthenticationOptions options = new()
        {
            ServerCertificate = certificate,
            ClientCertificateRequired = clientCertificateRequired,
            EnabledSslProtocols = protocols,
            CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
            ApplicationProtocols = ToAlpn(applicationProtocols),
            CipherSuitesPolicy = cipherSuites is null ? null : CreateCipherSuitesPolicy(cipherSuites),
        };
        return ssl.AuthenticateAsServerAsync(options, cancellationToken);
    }

    /// <summary>The protocol ALPN agreed on (h2, http/1.1); null when none was.</summary>
    public static string? NegotiatedApplicationProtocol(SslStream ssl)
    {
        string name = ssl.NegotiatedApplicationProtocol.ToString();
        return name.Length == 0 ? null : name;
    }

    /// <summary>Makes a chain policy trust exactly these roots. Needed for revocation against a
    /// private CA: .NET on Linux checks revocation only along a chain that ends in a trusted root,
    /// and "unknown authority allowed" does not count.</summary>
    public static bool TryTrustOnly(X509ChainPolicy policy, X509Certificate2Collection roots)
    {
        policy.CustomTrustStore.AddRange(roots);
        policy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        return true;
    }

    private static void RequireAlpn()
    {
    }

    private static List<SslApplicationProtocol>? ToAlpn(string[]? protocols) =>
        protocols?.Select(p => new SslApplicationProtocol(p)).ToList();

    /// <summary>A policy for the names: InvalidArgument for a name .NET does not know,
    /// NotSupported where the platform chooses the suites itself (Windows).</summary>
    private static CipherSuitesPolicy CreateCipherSuitesPolicy(string[] names)
    {
        if (names.Length == 0)
        {
            throw new SocketOperationException(SocketFailureKind.InvalidArgument, "A list of cipher suites needs at least one cipher suite name.")
            {
                Setting = SocketSetting.TlsCipherSuite,
            };
        }

        List<TlsCipherSuite> suites = new();
        foreach (string name in names)
        {
            string trimmed = (name ?? string.Empty).Trim();
            if (trimmed.Length == 0 || char.IsDigit(trimmed[0]) || !Enum.TryParse(trimmed, ignoreCase: true, out TlsCipherSuite suite) || !Enum.IsDefined(suite))
            {
                throw new SocketOperationException(SocketFailureKind.InvalidArgument,
                    $"'{name}' is not a TLS cipher suite name this runtime knows. Use the IANA name, such as TLS_AES_128_GCM_SHA256 (TLS 1.3) or " +
                    "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256 (TLS 1.2); tab completion lists them, as does [enum]::GetNames([System.Net.Security.TlsCipherSuite]).", name);
            }

            suites.Add(suite);
        }

        if (OperatingSystem.IsWindows())
        {
            throw new SocketOperationException(SocketFailureKind.NotSupported,
                "Choosing the cipher suites of one connection works on Linux and macOS only: on Windows the operating system chooses the cipher suites for every program.")
            {
                Setting = SocketSetting.TlsCipherSuite,
            };
        }

        return new CipherSuitesPolicy(suites);
    }
#else
    /// <summary>None: .NET Framework cannot restrict the cipher suites of one connection.</summary>
    public static string[] KnownCipherSuites => Array.Empty<string>();

    /// <summary>The call .NET Framework has; ALPN and cipher suites were refused by
    /// <see cref="Validate"/> before anything connected.</summary>
    public static Task AuthenticateAsClientAsync(SslStream ssl, string targetHost, X509CertificateCollection? clientCertificates, SslProtocols protocols,
        string[]? applicationProtocols, string[]? cipherSuites, CancellationToken cancellationToken)
    {
        Validate(applicationProtocols, cipherSuites);
        return ssl.AuthenticateAsClientAsync(targetHost, clientCertificates, protocols, checkCertificateRevocation: false);
    }

    /// <summary>The call .NET Framework has.</summary>
    public static Task AuthenticateAsServerAsync(SslStream ssl, X509Certificate2 certificate, bool clientCertificateRequired, SslProtocols protocols,
        string[]? applicationProtocols, string[]? cipherSuites, CancellationToken cancellationToken)
    {
        Validate(applicationProtocols, cipherSuites);
        return ssl.AuthenticateAsServerAsync(certificate, clientCertificateRequired, protocols, checkCertificateRevocation: false);
    }

    /// <summary>Null: no ALPN on .NET Framework.</summary>
    public static string? NegotiatedApplicationProtocol(SslStream ssl) => null;

    /// <summary>False: .NET Framework has no custom trust store, so revocation against a
    /// -CaCertificate root is reported as not checked.</summary>
    public static bool TryTrustOnly(X509ChainPolicy policy, X509Certificate2Collection roots) => false;

    private static void RequireAlpn() =>
        throw new SocketOperationException(SocketFailureKind.NotSupported,
            "ALPN (application protocol negotiation) needs PowerShell 7.4 or later: Windows PowerShell 5.1's .NET Framework cannot negotiate an application protocol.")
        {
            Setting = SocketSetting.ApplicationProtocol,
        };

    private static object CreateCipherSuitesPolicy(string[] names) =>
        throw new SocketOperationException(SocketFailureKind.NotSupported,
            "Choosing the cipher suites of one connection needs PowerShell 7.4 or later on Linux or macOS: Windows PowerShell 5.1's .NET Framework cannot restrict them.")
        {
            Setting = SocketSetting.TlsCipherSuite,
        };
#endif
}
