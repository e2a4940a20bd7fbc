using System;
using System.Collections.Generic;
using System.Linq;
using System.Security.Cryptography.X509Certificates;

namespace SockPS.Core;

/// <summary>Whether the server's certificate chain is checked for revocation.</summary>
public enum CertificateRevocationCheck
{
    /// <summary>No revocation check (the default, as in .NET's SslStream and HttpClient, curl and
    /// openssl s_client): nothing is fetched, nothing can hang on an unreachable CRL server.</summary>
    Off,
    /// <summary>Only revocation lists already cached on this machine; a certificate whose status
    /// is not cached fails as "could not be checked".</summary>
    Offline,
    /// <summary>Fetch the revocation lists (CRL distribution points, OCSP) the certificates name;
    /// a list that cannot be fetched fails the check.</summary>
    Online,
}

/// <summary>
/// Certificates or public keys to trust exactly (certificate pinning). Pins are checked against
/// the server's own (leaf) certificate, as curl's --pinnedpubkey does: a thumbprint (SHA-1 hex,
/// as Windows shows it, or SHA-256 hex, as openssl x509 -fingerprint -sha256 shows it) or the
/// SHA-256 of its SubjectPublicKeyInfo (base64 as curl's sha256//..., or hex).
/// </summary>
public sealed class CertificatePins
{
    /// <summary>No pins.</summary>
    public static readonly CertificatePins None = new(Array.Empty<string>(), Array.Empty<string>(), Array.Empty<byte[]>(), Array.Empty<string>());

    private readonly string[] _sha1;
    private readonly string[] _sha256;
    private readonly byte[][] _publicKeys;
    private readonly string[] _given;

    private CertificatePins(string[] sha1, string[] sha256, byte[][] publicKeys, string[] given)
    {
        _sha1 = sha1;
        _sha256 = sha256;
        _publicKeys = publicKeys;
        _given = given;
    }

    /// <summary>True when at least one pin is set.</summary>
    public bool Any => _given.Length > 0;

    /// <summary>Parses -CertificateThumbprint and -PublicKeySha256 values. Throws InvalidArgument,
    /// naming the value and the forms accepted, for anything else.</summary>
    public static CertificatePins Parse(IEnumerable<string>? thumbprints, IEnumerable<string>? publicKeys)
    {
        List<string> sha1 = new();
        List<string> sha256 = new();
        List<byte[]> keys = new();
        List<string> given = new();
        foreach (string value in Split(thumbprints))
        {
            string hex = StripHexSeparators(value);
            if (hex.Length == 40 && IsHex(hex))
            {
                sha1.Add(hex.ToUpperInvariant());
            }
            else if (hex.Length == 64 && IsHex(hex))
            {
                sha256.Add(hex.ToUpperInvariant());
            }
            else
            {
                throw new SocketOperationException(SocketFailureKind.InvalidArgument,
                    $"'{value}' is not a certificate thumbprint. Give the SHA-1 thumbprint (40 hex digits, as $certificate.Thumbprint shows it) " +
                    "or the SHA-256 fingerprint (64 hex digits, as openssl x509 -noout -fingerprint -sha256 shows it); colons and spaces are ignored.", value);
            }

            given.Add("thumbprint " + hex.ToUpperInvariant());
        }

        foreach (string value in Split(publicKeys))
        {
            byte[] hash = ParsePublicKeyHash(value);
            keys.Add(hash);
            given.Add("public key sha256//" + Convert.ToBase64String(hash));
        }

        return given.Count == 0 ? None : new CertificatePins(sha1.ToArray(), sha256.ToArray(), keys.ToArray(), given.ToArray());
    }

    /// <summary>True when the certificate matches one of the pins.</summary>
    public bool Matches(X509Certificate2 certificate)
    {
        if (_sha1.Length > 0 && _sha1.Contains(certificate.Thumbprint, StringComparer.OrdinalIgnoreCase))
        {
            return true;
        }

        if (_sha256.Length > 0 && _sha256.Contains(CertificateFields.Hex(CertificateFields.CertificateSha256(certificate)), StringComparer.Ordinal))
        {
            return true;
        }

        if (_publicKeys.Length > 0)
        {
            byte[] presented;
            try
            {
                presented = CertificateFields.PublicKeySha256(certificate);
            }
            catch (FormatException)
            {
                return false;
            }

            return _publicKeys.Any(pin => pin.SequenceEqual(presented));
        }

        return false;
    }

    /// <summary>What was pinned, for messages: "public key sha256//..., thumbprint ...".</summary>
    public string Describe() => string.Join(" or ", _given);

    /// <summary>What a certificate presents, in the pins' terms, for messages.</summary>
    public static string DescribePresented(X509Certificate2 certificate)
    {
        string key;
        try
        {
            key = "sha256//" + Convert.ToBase64String(CertificateFields.PublicKeySha256(certificate));
        }
        catch (FormatException)
        {
            key = "(unreadable)";
        }

        return $"public key {key}, thumbprint {certificate.Thumbprint} (SHA-1), {CertificateFields.Hex(CertificateFields.CertificateSha256(certificate))} (SHA-256)";
    }

    /// <summary>curl's forms: "sha256//base64", several joined with ";"; also plain base64 and hex.</summary>
    private static byte[] ParsePublicKeyHash(string value)
    {
        string text = value.Trim();
        if (text.StartsWith("sha256//", StringComparison.OrdinalIgnoreCase))
        {
            text = text.Substring("sha256//".Length);
        }

        string hex = StripHexSeparators(text);
        if (hex.Length == 64 && IsHex(hex))
        {
            byte[] bytes = new byte[32];
            for (int i = 0; i < 32; i++)
            {
                bytes[i] = Convert.ToByte(hex.Substring(i * 2, 2), 16);
            }

            return bytes;
        }

        try
        {
            byte[] decoded = Convert.FromBase64String(text);
            if (decoded.Length == 32)
            {
                return decoded;
            }
        }
        catch (FormatException)
        {
        }

        throw new SocketOperationException(SocketFailureKind.InvalidArgument,
            $"'{value}' is not a SHA-256 public key hash. Give it as curl's --pinnedpubkey does (sha256//, then 44 base64 characters), as plain base64, " +
            "or as 64 hex digits. openssl: openssl x509 -in cert.pem -noout -pubkey | " +
            "openssl pkey -pubin -outform der | openssl dgst -sha256 -binary | base64.", value)
        {
            Setting = SocketSetting.PublicKeyPin,
        };
    }

    private static IEnumerable<string> Split(IEnumerable<string>? values) =>
        (values ?? Array.Empty<string>())
            .SelectMany(v => (v ?? string.Empty).Split(';'))
            .Select(v => v.Trim())
            .Where(v => v.Length > 0);

    private static string StripHexSeparators(string value) => value.Replace(":", string.Empty).Replace(" ", string.Empty).Replace("-", string.Empty).Trim();

    private static bool IsHex(string text) => text.All(c => c is >= '0' and <= '9' or >= 'a' and <= 'f' or >= 'A' and <= 'F');
}
