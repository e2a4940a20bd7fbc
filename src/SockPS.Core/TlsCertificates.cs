using System;
using System.IO;
using System.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;

namespace SockPS.Core;

/// <summary>
/// Loads certificates from files: DER and PEM certificates, PFX/PKCS#12 files with their keys,
/// and PEM certificate + key pairs (PowerShell 7.4+ only, see TlsFeatures: on Windows PowerShell
/// 5.1 the error says to use a PFX file instead).
/// </summary>
public static class TlsCertificates
{
    /// <summary>Every certificate in a PEM or DER file (a CA bundle may hold several), without keys.</summary>
    public static X509Certificate2Collection LoadCertificates(string path)
    {
        byte[] data = Read(path);
        X509Certificate2Collection found = new();
        string text = Encoding.ASCII.GetString(data);
        const string Begin = "-----BEGIN CERTIFICATE-----";
        const string End = "-----END CERTIFICATE-----";
        int start = text.IndexOf(Begin, StringComparison.Ordinal);
        try
        {
            if (start < 0)
            {
                found.Add(new X509Certificate2(data));
                return found;
            }

            while (start >= 0)
            {
                int end = text.IndexOf(End, start, StringComparison.Ordinal);
                if (end < 0)
                {
                    break;
                }

                string base64 = text.Substring(start + Begin.Length, end - start - Begin.Length);
                found.Add(new X509Certificate2(Convert.FromBase64String(base64.Replace("\r", string.Empty).Replace("\n", string.Empty).Trim())));
                start = text.IndexOf(Begin, end, StringComparison.Ordinal);
            }
        }
        catch (Exception ex) when (ex is CryptographicException or FormatException)
        {
            throw Invalid($"'{path}' is not a PEM or DER certificate: {ex.Message}", path, ex);
        }

        return found.Count > 0 ? found : throw Invalid($"'{path}' holds no certificate.", path, null);
    }

    /// <summary>A certificate with its private key: a PFX/PKCS#12 file (with its password), or a
    /// PEM certificate with a PEM key file.</summary>
    public static X509Certificate2 LoadWithKey(string certificatePath, SecureString? password, string? keyPath)
    {
        X509Certificate2 certificate;
        if (keyPath is not null)
        {
            Read(certificatePath);
            Read(keyPath);
            try
            {
                certificate = TlsFeatures.CreateFromPemFile(certificatePath, keyPath);
            }
            catch (Exception ex) when (ex is CryptographicException or ArgumentException)
            {
                throw Invalid($"Cannot read the certificate '{certificatePath}' with the key '{keyPath}': {ex.Message} " +
                    "The key must be a PEM private key (BEGIN PRIVATE KEY or BEGIN RSA/EC PRIVATE KEY) that matches the certificate.", certificatePath, ex);
            }

            // Keys read from PEM are ephemeral, which Windows' TLS stack cannot use; a PKCS#12
            // round trip gives a key every platform's SslStream accepts.
            using (certificate)
            {
                return new X509Certificate2(certificate.Export(X509ContentType.Pkcs12), (string?)null, X509KeyStorageFlags.Exportable);
            }
        }

        byte[] data = Read(certificatePath);
        try
        {
            certificate = password is null
                ? new X509Certificate2(data, (string?)null, X509KeyStorageFlags.Exportable)
                : new X509Certificate2(data, password, X509KeyStorageFlags.Exportable);
        }
        catch (CryptographicException ex)
        {
            throw Invalid($"Cannot read '{certificatePath}' as a PFX file: {ex.Message}", certificatePath, ex, SocketSetting.CertificatePassword);
        }

        return certificate.HasPrivateKey
            ? certificate
            : throw Invalid($"'{certificatePath}' holds a certificate without a private key.", certificatePath, null, SocketSetting.CertificateFile);
    }

    /// <summary>Refuses a certificate that cannot prove its identity in a handshake.</summary>
    public static void RequirePrivateKey(X509Certificate2 certificate, string role)
    {
        if (!certificate.HasPrivateKey)
        {
            throw Invalid($"The {role} certificate {certificate.Subject} has no private key, so it cannot be used to authenticate.", certificate.Subject, null,
                role == "server" ? SocketSetting.CertificateFile : SocketSetting.ClientCertificate);
        }
    }

    private static byte[] Read(string path)
    {
        try
        {
            return File.ReadAllBytes(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            throw Invalid($"Cannot read '{path}': {ex.Message}", path, ex);
        }
    }

    private static SocketOperationException Invalid(string message, string? target, Exception? inner, SocketSetting setting = SocketSetting.None) =>
        new(SocketFailureKind.InvalidArgument, message, target, inner) { Setting = setting };
}
