using System;
using System.Collections.Generic;
using System.Linq;
using System.Net.Security;
using System.Security.Cryptography.X509Certificates;

namespace SockPS.Core;

/// <summary>What the certificate checks found; several at once are combined.</summary>
[Flags]
public enum CertificateProblems
{
    /// <summary>Nothing: the certificate is trusted.</summary>
    None = 0,
    /// <summary>The certificate is not issued to the name connected to (or -ServerName).</summary>
    NameMismatch = 1,
    /// <summary>The chain does not end in a root this machine (or -CaCertificate) trusts; a
    /// self-signed certificate is this too.</summary>
    UntrustedRoot = 2,
    /// <summary>The certificate, or one in its chain, has expired.</summary>
    Expired = 4,
    /// <summary>The certificate is not valid yet.</summary>
    NotYetValid = 8,
    /// <summary>The issuer revoked the certificate (only with -CheckRevocation Offline or Online).</summary>
    Revoked = 16,
    /// <summary>The revocation status could not be learned (only with -CheckRevocation).</summary>
    RevocationUnknown = 32,
    /// <summary>The certificate matches none of the pins (-CertificateThumbprint, -PublicKeySha256).</summary>
    PinMismatch = 64,
    /// <summary>The peer presented no certificate.</summary>
    NoCertificate = 128,
    /// <summary>Another chain error: a bad signature, a CA without CA rights, a wrong key usage.</summary>
    InvalidChain = 256,
}

/// <summary>One finding of the certificate checks.</summary>
internal sealed class CertificateFinding
{
    public CertificateFinding(CertificateProblems problem, string message, bool decisive)
    {
        Problem = problem;
        Message = message;
        Decisive = decisive;
    }

    public CertificateProblems Problem { get; }

    public string Message { get; }

    /// <summary>False for a chain or name problem of a certificate that is pinned: reported, not enforced.</summary>
    public bool Decisive { get; }
}

/// <summary>Everything the checks of one handshake found.</summary>
internal sealed class CertificateVerdict
{
    public static readonly CertificateVerdict NotChecked = new(Array.Empty<CertificateFinding>(), null, Array.Empty<X509Certificate2>(), CertificateRevocationCheck.Off);

    public CertificateVerdict(IReadOnlyList<CertificateFinding> findings, bool? pinMatched, X509Certificate2[] chain, CertificateRevocationCheck revocation)
    {
        Findings = findings;
        PinMatched = pinMatched;
        Chain = chain;
        Revocation = revocation;
    }

    public IReadOnlyList<CertificateFinding> Findings { get; }

    /// <summary>True when no decisive finding: the handshake would have been accepted.</summary>
    public bool IsTrusted => !Findings.Any(f => f.Decisive);

    public CertificateProblems Problems => Findings.Aggregate(CertificateProblems.None, (all, f) => all | f.Problem);

    /// <summary>Null without pins; else whether the leaf matched one.</summary>
    public bool? PinMatched { get; }

    /// <summary>Leaf first, as far as it could be built; empty unless recorded for a report.</summary>
    public X509Certificate2[] Chain { get; }

    public CertificateRevocationCheck Revocation { get; }
}

/// <summary>A finished client handshake and what its checks found.</summary>
internal sealed class TlsInspection
{
    public TlsInspection(SslStream ssl, CertificateVerdict verdict)
    {
        Ssl = ssl;
        Verdict = verdict;
    }

    public SslStream Ssl { get; }

    public CertificateVerdict Verdict { get; }
}
