using System;
using System.Net.Security;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using System.Threading.Tasks;

namespace SockPS.Core;

/// <summary>
/// The one place for what TLS can do in each build. PowerShell 7.4+ (.NET 8) has TLS 1.3 by
/// name, the negotiated cipher suite, close_notify (SslStream.ShutdownAsync) and PEM keys
/// (X509Certificate2.CreateFromPemFile). Windows PowerShell 5.1 (.NET Framework 4.7.2+) has none
/// of these: there the cipher suite is described from its algorithms, a TLS connection closes
/// without close_notify (as every .NET Framework program's does), TLS 1.3 is offered only where
/// the OS knows it, and -KeyPath fails with NotSupported.
/// </summary>
internal static class TlsFeatures
{
#if NET8_0_OR_GREATER
    /// <summary>TLS 1.3.</summary>
    public const SslProtocols Tls13 = SslProtocols.Tls13;

    /// <summary>True: .NET 8 knows TLS 1.3 (the OS may still refuse it in a handshake).</summary>
    public static bool SupportsTls13 => true;

    /// <summary>The IANA name of the negotiated cipher suite, e.g. TLS_AES_256_GCM_SHA384.</summary>
    public static string CipherSuite(SslStream stream) => stream.NegotiatedCipherSuite.ToString();

    /// <summary>Starts sending TLS close_notify; null where this build cannot.</summary>
    public static Task? ShutdownAsync(SslStream stream) => stream.ShutdownAsync();

    /// <summary>A certificate with its key from PEM files. CryptographicException or
    /// ArgumentException when they are not a matching PEM certificate and key.</summary>
    public static X509Certificate2 CreateFromPemFile(string certificatePath, string keyPath) =>
        X509Certificate2.CreateFromPemFile(certificatePath, keyPath);
#else
    /// <summary>SslProtocols.Tls13's value in the runtimes that know it; netstandard2.0 has no name for it.</summary>
    public const SslProtocols Tls13 = (SslProtocols)0x3000;

    /// <summary>True on .NET Framework 4.8 and later, whose SslProtocols names TLS 1.3.</summary>
    public static bool SupportsTls13 => Enum.IsDefined(typeof(SslProtocols), Tls13);

    /// <summary>.NET Framework tells only the separate algorithms, e.g. "Aes-256 Sha384 44550".</summary>
    public static string CipherSuite(SslStream stream) =>
        $"{stream.CipherAlgorithm}-{stream.CipherStrength} {stream.HashAlgorithm} {stream.KeyExchangeAlgorithm}";

    /// <summary>Null: .NET Framework's SslStream cannot send close_notify.</summary>
    public static Task? ShutdownAsync(SslStream stream) => null;

    /// <summary>Never returns on this build: .NET Framework cannot read PEM private keys.</summary>
    public static X509Certificate2 CreateFromPemFile(string certificatePath, string keyPath) =>
        throw new SocketOperationException(SocketFailureKind.NotSupported,
            "Windows PowerShell 5.1 cannot read PEM private keys; that needs PowerShell 7.4 or later. Convert the certificate and key to a PFX file (for example: openssl pkcs12 -export -in cert.pem -inkey key.pem -out cert.pfx).",
            keyPath)
        {
            Setting = SocketSetting.CertificateFile,
        };
#endif
}
