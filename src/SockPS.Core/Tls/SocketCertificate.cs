using System;
using System.Collections.Generic;
using System.Linq;
using System.Net;
using System.Security.Cryptography.X509Certificates;

namespace SockPS.Core;

/// <summary>One certificate of a chain, leaf first.</summary>
public sealed class CertificateChainElement
{
    internal CertificateChainElement(X509Certificate2 certificate)
    {
        Certificate = certificate;
    }

    /// <summary>The subject's distinguished name.</summary>
    public string Subject => Certificate.Subject;

    /// <summary>The issuer's distinguished name (the same as Subject for a root).</summary>
    public string Issuer => Certificate.Issuer;

    /// <summary>The SHA-1 thumbprint, as Windows shows it.</summary>
    public string Thumbprint => Certificate.Thumbprint;

    /// <summary>The last day it is valid (local time).</summary>
    public DateTime NotAfter => Certificate.NotAfter;

    /// <summary>The certificate itself.</summary>
    public X509Certificate2 Certificate { get; }

    /// <summary>The subject.</summary>
    public override string ToString() => Subject;
}

/// <summary>
/// What Get-SocketCertificate found at one endpoint: the server's certificate and its chain,
/// every validation problem in words (the checks Connect-Socket -UseTls would make with the same
/// parameters, none of them enforced), and what the handshake negotiated.
/// </summary>
public sealed class SocketCertificate
{
    internal SocketCertificate(string computerName, int port, IPAddress? remoteAddress, string serverName, StartTlsProtocol? startTls,
        X509Certificate2 certificate, CertificateVerdict verdict, TlsDetails tls)
    {
        ComputerName = computerName;
        Port = port;
        RemoteAddress = remoteAddress;
        EndPoint = EndPointText.Format(computerName, port);
        ServerName = serverName;
        StartTls = startTls;
        Certificate = certificate;
        CertificateFields.SubjectAlternativeNames(certificate, out IReadOnlyList<string> dns, out IReadOnlyList<IPAddress> addresses);
        DnsNames = dns.ToArray();
        IPAddresses = addresses.ToArray();
        byte[] key = Array.Empty<byte>();
        try
        {
            key = CertificateFields.PublicKeySha256(certificate);
        }
        catch (FormatException)
        {
            // A certificate the runtime accepted but this reader cannot walk: no key hash to show.
        }

        PublicKeySha256 = key.Length == 0 ? null : "sha256//" + Convert.ToBase64String(key);
        PublicKeySha256Hex = key.Length == 0 ? null : CertificateFields.Hex(key);
        ThumbprintSha256 = CertificateFields.Hex(CertificateFields.CertificateSha256(certificate));
        Chain = verdict.Chain.Select(c => new CertificateChainElement(c)).ToArray();
        IsTrusted = verdict.IsTrusted;
        Problems = verdict.Problems;
        ValidationErrors = verdict.Findings
            .Select(f => f.Decisive ? f.Message : f.Message + " (Not decisive: the certificate matches a pin.)")
            .ToArray();
        PinMatched = verdict.PinMatched;
        RevocationCheck = verdict.Revocation;
        TlsProtocol = tls.Protocol;
        CipherSuite = tls.CipherSuite;
        NegotiatedApplicationProtocol = tls.ApplicationProtocol;
    }

    /// <summary>The name or address as it was given.</summary>
    public string ComputerName { get; }

    /// <summary>The computer that made this object (where it lives), so one that comes back
    /// from Invoke-Command or a job says where it was made.</summary>
    public string MachineName => SocketOrigin.MachineName;

    /// <summary>The port.</summary>
    public int Port { get; }

    /// <summary>The address that was connected to.</summary>
    public IPAddress? RemoteAddress { get; }

    /// <summary>host:port, as it was given.</summary>
    public string EndPoint { get; }

    /// <summary>The name sent as SNI and checked against the certificate.</summary>
    public string ServerName { get; }

    /// <summary>The STARTTLS dialogue run before the handshake; null for TLS from the start.</summary>
    public StartTlsProtocol? StartTls { get; }

    /// <summary>The subject's distinguished name.</summary>
    public string Subject => Certificate.Subject;

    /// <summary>The subject's common name (CN), or the first name the certificate gives.</summary>
    public string CommonName => Certificate.GetNameInfo(X509NameType.SimpleName, false);

    /// <summary>The DNS names of the subject alternative names.</summary>
    public string[] DnsNames { get; }

    /// <summary>The IP addresses of the subject alternative names.</summary>
    public IPAddress[] IPAddresses { get; }

    /// <summary>The issuer's distinguished name.</summary>
    public string Issuer => Certificate.Issuer;

    /// <summary>The first moment it is valid (local time).</summary>
    public DateTime NotBefore => Certificate.NotBefore;

    /// <summary>The last moment it is valid (local time).</summary>
    public DateTime NotAfter => Certificate.NotAfter;

    /// <summary>Whole days until NotAfter, counted now; negative once expired.</summary>
    public int DaysLeft => (int)Math.Floor((Certificate.NotAfter.ToUniversalTime() - DateTime.UtcNow).TotalDays);

    /// <summary>The serial number, in hex.</summary>
    public string SerialNumber => Certificate.SerialNumber;

    /// <summary>The signature algorithm, such as sha256ECDSA or sha256RSA.</summary>
    public string? SignatureAlgorithm => Certificate.SignatureAlgorithm.FriendlyName ?? Certificate.SignatureAlgorithm.Value;

    /// <summary>The SHA-1 thumbprint (hex), as Windows shows it; -CertificateThumbprint takes it.</summary>
    public string Thumbprint => Certificate.Thumbprint;

    /// <summary>The SHA-256 fingerprint of the certificate (hex), as openssl x509 -fingerprint
    /// -sha256 shows it; -CertificateThumbprint takes it too.</summary>
    public string ThumbprintSha256 { get; }

    /// <summary>The SHA-256 of the public key (SubjectPublicKeyInfo) in curl's form,
    /// sha256//base64: what curl --pinnedpubkey and -PublicKeySha256 take.</summary>
    public string? PublicKeySha256 { get; }

    /// <summary>The same hash in hex.</summary>
    public string? PublicKeySha256Hex { get; }

    /// <summary>The chain as far as it could be built, leaf first, up to the root (trusted or
    /// not) or the last certificate found.</summary>
    public CertificateChainElement[] Chain { get; }

    /// <summary>True when Connect-Socket -UseTls with the same -ServerName, -CaCertificate, pins
    /// and -CheckRevocation would accept this certificate.</summary>
    public bool IsTrusted { get; }

    /// <summary>What the checks found: NameMismatch, UntrustedRoot, Expired, NotYetValid,
    /// Revoked, RevocationUnknown, PinMismatch, InvalidChain, or None.</summary>
    public CertificateProblems Problems { get; }

    /// <summary>Every problem found, in words.</summary>
    public string[] ValidationErrors { get; }

    /// <summary>With pins: whether the certificate matches one; null without pins.</summary>
    public bool? PinMatched { get; }

    /// <summary>How revocation was checked: Off, Offline or Online.</summary>
    public CertificateRevocationCheck RevocationCheck { get; }

    /// <summary>The TLS version negotiated (Tls12, Tls13).</summary>
    public string TlsProtocol { get; }

    /// <summary>The cipher suite negotiated.</summary>
    public string CipherSuite { get; }

    /// <summary>The application protocol ALPN agreed on; null when -ApplicationProtocol offered
    /// none or the server chose none.</summary>
    public string? NegotiatedApplicationProtocol { get; }

    /// <summary>The certificate itself.</summary>
    public X509Certificate2 Certificate { get; }

    /// <summary>"mail.example:25 CN=mail.example (89 days left)".</summary>
    public override string ToString() => $"{EndPoint} {Subject} ({DaysLeft} days left)";
}
