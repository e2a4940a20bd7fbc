using System;
using System.Collections.Generic;
using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;

namespace SockPS.Core;

/// <summary>
/// The parts of a certificate netstandard2.0 has no API for, read from its DER bytes: the
/// SubjectPublicKeyInfo (what curl's --pinnedpubkey and HPKP hash; .NET 7 has
/// PublicKey.ExportSubjectPublicKeyInfo, .NET Framework has nothing) and the subject alternative
/// names (X509SubjectAlternativeNameExtension is .NET 7+; its Format() text differs per OS).
/// Reading the DER is exact on every runtime, and small.
/// </summary>
internal static class CertificateFields
{
    private const string SubjectAlternativeNameOid = "2.5.29.17";

    /// <summary>The DER SubjectPublicKeyInfo of the certificate: the sixth (or, without a
    /// version, fifth) element of the TBSCertificate, header included.</summary>
    public static byte[] SubjectPublicKeyInfo(X509Certificate2 certificate)
    {
        byte[] der = certificate.RawData;
        DerReader outer = new(der, 0, der.Length);
        DerReader certificateSequence = outer.Enter(0x30);
        DerReader tbs = certificateSequence.Enter(0x30);
        if (tbs.PeekTag() == 0xA0)
        {
            tbs.Skip(); // [0] version
        }

        tbs.Skip(); // serialNumber
        tbs.Skip(); // signature algorithm
        tbs.Skip(); // issuer
        tbs.Skip(); // validity
        tbs.Skip(); // subject
        return tbs.ReadElement(0x30);
    }

    /// <summary>SHA-256 of the SubjectPublicKeyInfo: curl's --pinnedpubkey sha256//, HPKP's pin-sha256.</summary>
    public static byte[] PublicKeySha256(X509Certificate2 certificate)
    {
        using SHA256 sha = SHA256.Create();
        return sha.ComputeHash(SubjectPublicKeyInfo(certificate));
    }

    /// <summary>SHA-256 of the whole certificate (openssl x509 -fingerprint -sha256).</summary>
    public static byte[] CertificateSha256(X509Certificate2 certificate)
    {
        using SHA256 sha = SHA256.Create();
        return sha.ComputeHash(certificate.RawData);
    }

    /// <summary>The DNS names and IP addresses of the subjectAltName extension, in order.</summary>
    public static void SubjectAlternativeNames(X509Certificate2 certificate, out IReadOnlyList<string> dnsNames, out IReadOnlyList<IPAddress> addresses)
    {
        List<string> dns = new();
        List<IPAddress> ips = new();
        foreach (X509Extension extension in certificate.Extensions)
        {
            if (extension.Oid?.Value != SubjectAlternativeNameOid)
            {
                continue;
            }

            try
            {
                byte[] raw = extension.RawData;
                DerReader names = new DerReader(raw, 0, raw.Length).Enter(0x30);
                while (!names.AtEnd)
                {
                    byte tag = names.PeekTag();
                    byte[] value = names.ReadContent(tag);
                    if (tag == 0x82)
                    {
                        dns.Add(Encoding.ASCII.GetString(value));
                    }
                    else if (tag == 0x87 && value.Length is 4 or 16)
                    {
                        ips.Add(new IPAddress(value));
                    }
                }
            }
            catch (FormatException)
            {
                // A malformed extension names nothing; the handshake's own checks still apply.
            }
        }

        dnsNames = dns;
        addresses = ips;
    }

    /// <summary>"AB:CD:..." or "abcd..." as upper-case hex without separators.</summary>
    public static string Hex(byte[] bytes)
    {
        StringBuilder text = new(bytes.Length * 2);
        foreach (byte b in bytes)
        {
            text.Append(b.ToString("X2", System.Globalization.CultureInfo.InvariantCulture));
        }

        return text.ToString();
    }

    /// <summary>Reads DER tag-length-value elements within a window of a byte array. Throws
    /// FormatException on anything that does not fit, never reads past the window.</summary>
    private struct DerReader
    {
        private readonly byte[] _data;
        private readonly int _end;
        private int _position;

        public DerReader(byte[] data, int start, int end)
        {
            _data = data;
            _position = start;
            _end = end;
        }

        public bool AtEnd => _position >= _end;

        public byte PeekTag() => AtEnd ? throw new FormatException("The DER data ends early.") : _data[_position];

        public void Skip() => Header(null, out _, out _);

        /// <summary>The whole element, header included.</summary>
        public byte[] ReadElement(byte tag)
        {
            int start = _position;
            Header(tag, out _, out _);
            byte[] element = new byte[_position - start];
            Buffer.BlockCopy(_data, start, element, 0, element.Length);
            return element;
        }

        public byte[] ReadContent(byte tag)
        {
            Header(tag, out int contentStart, out int length);
            byte[] content = new byte[length];
            Buffer.BlockCopy(_data, contentStart, content, 0, length);
            return content;
        }

        /// <summary>A reader over the content of the next element, which must be a constructed <paramref name="tag"/>.</summary>
        public DerReader Enter(byte tag)
        {
            Header(tag, out int contentStart, out int length);
            return new DerReader(_data, contentStart, contentStart + length);
        }

        private void Header(byte? expected, out int contentStart, out int length)
        {
            if (_position + 2 > _end)
            {
                throw new FormatException("The DER data ends early.");
            }

            byte tag = _data[_position];
            if (expected is byte want && tag != want)
            {
                throw new FormatException($"Expected DER tag 0x{want:X2}, found 0x{tag:X2}.");
            }

            int index = _position + 1;
            int first = _data[index++];
            if (first < 0x80)
            {
                length = first;
            }
            else
            {
                int count = first & 0x7F;
                if (count is 0 or > 3 || index + count > _end)
                {
                    throw new FormatException("Unsupported DER length.");
                }

                length = 0;
                for (int i = 0; i < count; i++)
                {
                    length = (length << 8) | _data[index++];
                }
            }

            if (index + length > _end)
            {
                throw new FormatException("A DER element runs past its container.");
            }

            contentStart = index;
            _position = index + length;
        }
    }
}
