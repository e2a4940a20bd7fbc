using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Net.Security;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using System.Threading;
using System.Threading.Tasks;

namespace SockPS.Core;

/// <summary>What a finished handshake agreed on, for the connection object.</summary>
public sealed class TlsDetails
{
    internal TlsDetails(SslStream stream)
    {
        Protocol = TlsVersions.Name(stream.SslProtocol);
        CipherSuite = TlsFeatures.CipherSuite(stream);
        RemoteCertificate = stream.RemoteCertificate is null ? null : new X509Certificate2(stream.RemoteCertificate);
        ApplicationProtocol = TlsNegotiation.NegotiatedApplicationProtocol(stream);
    }

    /// <summary>Tls12, Tls13.</summary>
    public string Protocol { get; }

    /// <summary>The negotiated cipher suite, e.g. TLS_AES_256_GCM_SHA384.</summary>
    public string CipherSuite { get; }

    /// <summary>The peer's certificate; null when it presented none.</summary>
    public X509Certificate2? RemoteCertificate { get; }

    /// <summary>The application protocol ALPN agreed on (h2, http/1.1); null when none was.</summary>
    public string? ApplicationProtocol { get; }
}

/// <summary>
/// TLS handshakes with the checks that keep users safe by default: the chain must lead to a root
/// the system trusts, or to a CA given with -CaCertificate for this connection only, and the name
/// must match. When a check fails, the callback keeps the reason in plain words, because what
/// SslStream throws ("The remote certificate was rejected by the provided
/// RemoteCertificateValidationCallback") tells a user nothing.
/// </summary>
internal static class TlsHandshake
{
    public static async Task<SslStream> AuthenticateAsClientAsync(Stream inner, TlsClientOptions options, string host, string where,
        TimeSpan timeout, CancellationToken cancellationToken) =>
        (await HandshakeAsClientAsync(inner, options, host, where, timeout, recordOnly: false, cancellationToken).ConfigureAwait(false)).Ssl;

    /// <summary>A client handshake that accepts any certificate but records every check it would
    /// have made (Get-SocketCertificate): the verdict says what Connect-Socket -UseTls with the
    /// same options would have decided, and why.</summary>
    public static Task<TlsInspection> InspectAsClientAsync(Stream inner, TlsClientOptions options, string host, string where,
        TimeSpan timeout, CancellationToken cancellationToken) =>
        HandshakeAsClientAsync(inner, options, host, where, timeout, recordOnly: true, cancellationToken);

    private static async Task<TlsInspection> HandshakeAsClientAsync(Stream inner, TlsClientOptions options, string host, string where,
        TimeSpan timeout, bool recordOnly, CancellationToken cancellationToken)
    {
        string targetHost = string.IsNullOrEmpty(options.ServerName) ? host : options.ServerName!;
        CertificateCheck check = new(where, targetHost, options.TrustedCertificates, options.SkipCertificateCheck, clientRequired: false, checkingClient: false)
        {
            Pins = options.Pins,
            Revocation = options.RevocationCheck,
            RecordOnly = recordOnly,
        };
        SslStream ssl = TlsStream.Create(inner, check.Validate);
        X509CertificateCollection? clientCertificates = options.ClientCertificate is null ? null : new X509CertificateCollection { options.ClientCertificate };
        try
        {
            Task handshake = TlsNegotiation.AuthenticateAsClientAsync(ssl, targetHost, clientCertificates, TlsVersions.ToSslProtocols(options.Versions),
                options.ApplicationProtocols, options.CipherSuites, cancellationToken);
            await WaitAsync(handshake, timeout, cancellationToken, where).ConfigureAwait(false);
            return new TlsInspection(ssl, check.Verdict ?? CertificateVerdict.NotChecked);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            ssl.Dispose();
            throw check.Failure(ex);
        }
    }

    public static async Task<SslStream> AuthenticateAsServerAsync(Stream inner, TlsServerOptions options, string where, CancellationToken cancellationToken)
    {
        CertificateCheck check = new(where, null, options.TrustedCertificates, skip: false, clientRequired: options.RequireClientCertificate, checkingClient: true);
        SslStream ssl = TlsStream.Create(inner, check.Validate);
        try
        {
            Task handshake = TlsNegotiation.AuthenticateAsServerAsync(ssl, options.Certificate, options.RequireClientCertificate, TlsVersions.ToSslProtocols(options.Versions),
                options.ApplicationProtocols, options.CipherSuites, cancellationToken);
            await WaitAsync(handshake, options.HandshakeTimeout, cancellationToken, where).ConfigureAwait(false);
            return ssl;
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            ssl.Dispose();
            throw check.Failure(ex);
        }
    }

    /// <summary>netstandard2.0's handshakes take no token: on timeout or cancellation the
    /// caller closes the socket, which ends the handshake.</summary>
    private static async Task WaitAsync(Task handshake, TimeSpan timeout, CancellationToken cancellationToken, string where)
    {
        if (!handshake.IsCompleted && (timeout > TimeSpan.Zero || cancellationToken.CanBeCanceled))
        {
            using CancellationTokenSource timer = timeout > TimeSpan.Zero ? new CancellationTokenSource(timeout) : new CancellationTokenSource();
            using CancellationTokenSource linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timer.Token);
            Task finished = await Task.WhenAny(handshake, Task.Delay(Timeout.Infinite, linked.Token)).ConfigureAwait(false);
            if (finished != handshake)
            {
                _ = handshake.ContinueWith(t => _ = t.Exception, TaskScheduler.Default);
                cancellationToken.ThrowIfCancellationRequested();
                throw new SocketOperationException(SocketFailureKind.TlsAuthentication,
                    $"The TLS handshake with {where} did not finish within {EndPointText.Seconds(timeout)}. The peer may not speak TLS on this port.", where);
            }
        }

        await handshake.ConfigureAwait(false);
    }

    /// <summary>
    /// The certificate checks of one handshake, in the validation callback. Every finding is
    /// kept with its reason in words; a handshake that enforces them fails with the reasons
    /// joined, and one that only records them (Get-SocketCertificate) accepts the certificate and
    /// keeps the verdict. Revocation is checked here, with a chain of its own, rather than by
    /// SslStream, so Offline and Online behave the same on every runtime (netstandard2.0's
    /// handshake takes only a yes/no, which means Online).
    /// </summary>
    private sealed class CertificateCheck
    {
        private const X509ChainStatusFlags UntrustedFlags = X509ChainStatusFlags.UntrustedRoot | X509ChainStatusFlags.PartialChain;
        private const X509ChainStatusFlags RevocationFlags = X509ChainStatusFlags.Revoked | X509ChainStatusFlags.RevocationStatusUnknown | X509ChainStatusFlags.OfflineRevocation;

        private readonly string _where;
        private readonly string? _expectedName;
        private readonly X509Certificate2Collection _trusted;
        private readonly bool _skip;
        private readonly bool _clientRequired;
        private readonly bool _checkingClient;
        private string? _reason;
        private SocketSetting _setting;

        public CertificateCheck(string where, string? expectedName, X509Certificate2Collection trusted, bool skip, bool clientRequired, bool checkingClient)
        {
            _where = where;
            _expectedName = expectedName;
            _trusted = trusted;
            _skip = skip;
            _clientRequired = clientRequired;
            _checkingClient = checkingClient;
        }

        public CertificatePins Pins { get; set; } = CertificatePins.None;

        public CertificateRevocationCheck Revocation { get; set; }

        /// <summary>Accept every certificate, and keep the verdict.</summary>
        public bool RecordOnly { get; set; }

        /// <summary>What the last call of <see cref="Validate"/> found.</summary>
        public CertificateVerdict? Verdict { get; private set; }

        public bool Validate(object sender, X509Certificate? certificate, X509Chain? chain, SslPolicyErrors errors)
        {
            if ((_skip && !RecordOnly) || (_checkingClient && !_clientRequired))
            {
                return true;
            }

            if (certificate is null)
            {
                _reason = _checkingClient
                    ? $"The client {_where} presented no certificate, and this server requires one."
                    : $"The server {_where} presented no certificate.";
                Verdict = new CertificateVerdict(new[] { new CertificateFinding(CertificateProblems.NoCertificate, _reason, decisive: true) },
                    null, Array.Empty<X509Certificate2>(), Revocation);
                return RecordOnly;
            }

            using X509Certificate2 presented = new(certificate);
            Verdict = Evaluate(presented, chain, errors);
            if (RecordOnly || Verdict.IsTrusted)
            {
                return true;
            }

            _reason = string.Join(" Also: ", Verdict.Findings.Where(f => f.Decisive).Select(f => f.Message));
            _setting = Verdict.Findings.Where(f => f.Decisive).Select(f => SettingFor(f.Problem)).FirstOrDefault(s => s != SocketSetting.None);
            return false;
        }

        /// <summary>The setting that gets past a certificate problem, if one does.</summary>
        private SocketSetting SettingFor(CertificateProblems problem) => problem switch
        {
            CertificateProblems.NameMismatch => SocketSetting.ServerName,
            CertificateProblems.UntrustedRoot => _checkingClient ? SocketSetting.CaCertificate : SocketSetting.CaCertificateOrSkipCheck,
            CertificateProblems.RevocationUnknown => Revocation == CertificateRevocationCheck.Online
                ? SocketSetting.CheckRevocationOnline
                : SocketSetting.CheckRevocationOffline,
            _ => SocketSetting.None,
        };

        private CertificateVerdict Evaluate(X509Certificate2 presented, X509Chain? chain, SslPolicyErrors errors)
        {
            List<(CertificateProblems Problem, string Message)> identity = new();
            X509Certificate2Collection sent = RemoteCertificates(chain);
            if ((errors & SslPolicyErrors.RemoteCertificateChainErrors) != 0 && !TrustedByExtraRoots(presented, sent, identity))
            {
                identity.AddRange(DescribeChain(presented, chain, rootTrusted: false));
            }

            if ((errors & SslPolicyErrors.RemoteCertificateNameMismatch) != 0)
            {
                identity.Add((CertificateProblems.NameMismatch, $"The certificate presented by {_where} is issued to {IssuedTo(presented)}, not {_expectedName}. " +
                    "Connect with the name on the certificate, or give that name as the one to check."));
            }

            if ((errors & SslPolicyErrors.RemoteCertificateNotAvailable) != 0)
            {
                identity.Add((CertificateProblems.NoCertificate, $"{(_checkingClient ? "The client" : "The server")} {_where} presented no certificate."));
            }

            List<CertificateFinding> findings = new();
            bool? pinMatched = null;
            if (Pins.Any)
            {
                // A pin trusts exactly this certificate or key: what its chain and name say is
                // still reported, but no longer decides (revocation, when asked for, still does).
                pinMatched = Pins.Matches(presented);
                if (pinMatched == false)
                {
                    findings.Add(new CertificateFinding(CertificateProblems.PinMismatch,
                        $"The certificate presented by {_where} ({presented.GetNameInfo(X509NameType.SimpleName, false)}) does not match the pinned {Pins.Describe()}: " +
                        $"it presented {CertificatePins.DescribePresented(presented)}. Check the pin, or whether the service changed its certificate or key.", decisive: true));
                }
            }

            if (Revocation != CertificateRevocationCheck.Off)
            {
                findings.AddRange(CheckRevocation(presented, sent).Select(f => new CertificateFinding(f.Item1, f.Item2, decisive: true)));
            }

            findings.AddRange(identity.Select(f => new CertificateFinding(f.Problem, f.Message, decisive: !Pins.Any)));
            X509Certificate2[] path = RecordOnly ? ReportChain(presented, sent) : Array.Empty<X509Certificate2>();
            return new CertificateVerdict(findings, pinMatched, path, Revocation);
        }

        /// <summary>The certificates the peer sent (the runtime puts them in the chain's
        /// ExtraStore) and those the runtime's chain found.</summary>
        private static X509Certificate2Collection RemoteCertificates(X509Chain? chain)
        {
            X509Certificate2Collection certificates = new();
            if (chain is null)
            {
                return certificates;
            }

            certificates.AddRange(chain.ChainPolicy.ExtraStore);
            foreach (X509ChainElement element in chain.ChainElements)
            {
                certificates.Add(element.Certificate);
            }

            return certificates;
        }

        /// <summary>The chain is valid when the -CaCertificate roots are trusted too. Built
        /// with the extra certificates and "unknown authority allowed", then accepted only if
        /// the chain really ends in one of them: the classic technique that works on every
        /// runtime, where X509ChainPolicy.CustomTrustStore needs .NET 5. When it ends in one but
        /// is still invalid (expired), the findings say why.</summary>
        private bool TrustedByExtraRoots(X509Certificate2 presented, X509Certificate2Collection sent, List<(CertificateProblems, string)> findings)
        {
            if (_trusted.Count == 0)
            {
                return false;
            }

            using X509Chain chain = new();
            chain.ChainPolicy.ExtraStore.AddRange(_trusted);
            chain.ChainPolicy.ExtraStore.AddRange(sent);
            chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
            chain.ChainPolicy.VerificationFlags = X509VerificationFlags.AllowUnknownCertificateAuthority;
            if (_checkingClient)
            {
                chain.ChainPolicy.ApplicationPolicy.Add(new System.Security.Cryptography.Oid("1.3.6.1.5.5.7.3.2")); // client authentication
            }

            bool built = chain.Build(presented);
            X509Certificate2 root = chain.ChainElements[chain.ChainElements.Count - 1].Certificate;
            bool endsInTrusted = _trusted.Cast<X509Certificate2>().Any(t => string.Equals(t.Thumbprint, root.Thumbprint, StringComparison.OrdinalIgnoreCase));
            if (built && endsInTrusted)
            {
                return true;
            }

            if (endsInTrusted)
            {
                findings.AddRange(DescribeChain(presented, chain, rootTrusted: true));
                return true;
            }

            return false;
        }

        /// <summary>Every problem of the chain, in words: validity dates first, then trust, then
        /// anything else the chain reports.</summary>
        private List<(CertificateProblems, string)> DescribeChain(X509Certificate2 presented, X509Chain? chain, bool rootTrusted)
        {
            List<(CertificateProblems, string)> found = new();
            DateTime now = DateTime.Now;
            if (presented.NotAfter < now)
            {
                found.Add((CertificateProblems.Expired, $"The certificate presented by {_where} expired on {presented.NotAfter.ToUniversalTime():yyyy-MM-dd HH:mm} UTC. The service needs a new certificate."));
            }

            if (presented.NotBefore > now)
            {
                found.Add((CertificateProblems.NotYetValid, $"The certificate presented by {_where} is not valid until {presented.NotBefore.ToUniversalTime():yyyy-MM-dd HH:mm} UTC. Check this machine's clock."));
            }

            X509ChainStatusFlags flags = X509ChainStatusFlags.NoError;
            List<string> other = new();
            foreach (X509ChainStatus status in chain?.ChainStatus ?? new X509ChainStatus[0])
            {
                flags |= status.Status;
                X509ChainStatusFlags rest = status.Status & ~(UntrustedFlags | RevocationFlags | X509ChainStatusFlags.NotTimeValid);
                if (rest != X509ChainStatusFlags.NoError && !string.IsNullOrWhiteSpace(status.StatusInformation))
                {
                    other.Add(status.StatusInformation.Trim().TrimEnd('.'));
                }
            }

            if ((flags & X509ChainStatusFlags.NotTimeValid) != 0 && found.Count == 0)
            {
                found.Add((CertificateProblems.Expired, $"A certificate in the chain presented by {_where} has expired or is not yet valid."));
            }

            if ((flags & X509ChainStatusFlags.Revoked) != 0)
            {
                found.Add((CertificateProblems.Revoked, $"The certificate presented by {_where} has been revoked."));
            }

            bool untrusted = !rootTrusted && ((flags & UntrustedFlags) != 0 || (found.Count == 0 && other.Count == 0));
            if (untrusted)
            {
                string whose = _checkingClient ? "The client certificate of " + _where : "The certificate presented by " + _where;
                found.Add((CertificateProblems.UntrustedRoot, $"{whose} ({presented.GetNameInfo(X509NameType.SimpleName, false)}) is issued by {presented.GetNameInfo(X509NameType.SimpleName, true)}, " +
                    "which this machine does not trust."));
            }

            if (other.Count > 0)
            {
                found.Add((CertificateProblems.InvalidChain, $"The certificate chain presented by {_where} is not valid: {string.Join("; ", other.Distinct())}."));
            }

            return found;
        }

        /// <summary>Builds the chain again with the revocation mode asked for, and reports a
        /// revoked certificate, or one whose status could not be learned. .NET checks revocation
        /// only on a chain that ends in a trusted root, so a chain to a -CaCertificate root is
        /// built with that root as the one trusted (where the runtime can), and a chain that
        /// leads to no trusted root is reported as not checked rather than passed in silence.</summary>
        private List<(CertificateProblems, string)> CheckRevocation(X509Certificate2 presented, X509Certificate2Collection sent)
        {
            List<(CertificateProblems, string)> found = new();
            using X509Chain chain = RevocationChain(presented, sent, customRoots: false);
            X509Chain used = chain;
            using X509Chain? custom = Untrusted(chain) && _trusted.Count > 0 ? RevocationChain(presented, sent, customRoots: true) : null;
            if (custom is not null && !Untrusted(custom))
            {
                used = custom;
            }

            bool selfSigned = string.Equals(presented.Subject, presented.Issuer, StringComparison.Ordinal) && used.ChainElements.Count == 1;
            if (Untrusted(used) && !selfSigned)
            {
                found.Add((CertificateProblems.RevocationUnknown,
                    $"The revocation status of the certificate presented by {_where} ({presented.GetNameInfo(X509NameType.SimpleName, false)}) was not checked: " +
                    "its chain does not lead to a root this machine trusts, and revocation is only checked along a trusted chain. Trust its CA first."));
                return found;
            }

            bool revoked = false;
            List<string> unknown = new();
            foreach (X509ChainElement element in used.ChainElements)
            {
                X509ChainStatusFlags flags = element.ChainElementStatus.Aggregate(X509ChainStatusFlags.NoError, (all, s) => all | s.Status);
                string name = element.Certificate.GetNameInfo(X509NameType.SimpleName, false);
                if ((flags & X509ChainStatusFlags.Revoked) != 0)
                {
                    revoked = true;
                    found.Add((CertificateProblems.Revoked, string.Equals(element.Certificate.Thumbprint, presented.Thumbprint, StringComparison.OrdinalIgnoreCase)
                        ? $"The certificate presented by {_where} ({name}, serial {presented.SerialNumber}) has been revoked by its issuer, {element.Certificate.GetNameInfo(X509NameType.SimpleName, true)}. The service needs a new certificate."
                        : $"The certificate of {name}, in the chain presented by {_where}, has been revoked."));
                }
                else if ((flags & (X509ChainStatusFlags.RevocationStatusUnknown | X509ChainStatusFlags.OfflineRevocation)) != 0)
                {
                    unknown.Add(name);
                }
            }

            if (!revoked && unknown.Count > 0)
            {
                string how = Revocation == CertificateRevocationCheck.Online
                    ? "the revocation list (CRL) or OCSP responder its issuer names could not be reached or read"
                    : "no revocation list for it is cached on this machine (an offline check fetches nothing)";
                found.Add((CertificateProblems.RevocationUnknown,
                    $"The revocation status of the certificate presented by {_where} ({string.Join(", ", unknown.Distinct())}) could not be checked: {how}." +
                    (Revocation == CertificateRevocationCheck.Online
                        ? " Check that this machine can reach the issuer's CRL address."
                        : string.Empty)));
            }

            return found;
        }

        private X509Chain RevocationChain(X509Certificate2 presented, X509Certificate2Collection sent, bool customRoots)
        {
            X509Chain chain = new();
            chain.ChainPolicy.ExtraStore.AddRange(sent);
            if (!customRoots || !TlsNegotiation.TryTrustOnly(chain.ChainPolicy, _trusted))
            {
                chain.ChainPolicy.ExtraStore.AddRange(_trusted);
            }

            chain.ChainPolicy.RevocationMode = Revocation == CertificateRevocationCheck.Online ? X509RevocationMode.Online : X509RevocationMode.Offline;
            chain.ChainPolicy.RevocationFlag = X509RevocationFlag.ExcludeRoot;
            chain.ChainPolicy.UrlRetrievalTimeout = TimeSpan.FromSeconds(10);
            // Dates are judged elsewhere; here only trust (which decides whether revocation is
            // checked at all) and revocation count.
            chain.ChainPolicy.VerificationFlags = X509VerificationFlags.IgnoreNotTimeValid;
            chain.Build(presented);
            return chain;
        }

        private static bool Untrusted(X509Chain chain) =>
            chain.ChainStatus.Any(s => (s.Status & UntrustedFlags) != 0);

        /// <summary>The chain as far as it can be built (an untrusted root allowed), leaf first,
        /// for the report.</summary>
        private X509Certificate2[] ReportChain(X509Certificate2 presented, X509Certificate2Collection sent)
        {
            using X509Chain chain = new();
            chain.ChainPolicy.ExtraStore.AddRange(_trusted);
            chain.ChainPolicy.ExtraStore.AddRange(sent);
            chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
            chain.ChainPolicy.VerificationFlags = X509VerificationFlags.AllowUnknownCertificateAuthority | X509VerificationFlags.IgnoreNotTimeValid;
            chain.Build(presented);
            return chain.ChainElements.Cast<X509ChainElement>().Select(e => new X509Certificate2(e.Certificate)).ToArray();
        }

        private static string IssuedTo(X509Certificate2 certificate)
        {
            CertificateFields.SubjectAlternativeNames(certificate, out IReadOnlyList<string> dns, out IReadOnlyList<System.Net.IPAddress> addresses);
            List<string> names = dns.Concat(addresses.Select(a => a.ToString())).ToList();
            if (names.Count == 0)
            {
                names.Add(certificate.GetNameInfo(X509NameType.SimpleName, false));
            }

            return string.Join(", ", names.Distinct(StringComparer.OrdinalIgnoreCase));
        }

        public SocketOperationException Failure(Exception ex)
        {
            if (ex is SocketOperationException soe)
            {
                return soe;
            }

            if (_reason is not null)
            {
                return new SocketOperationException(SocketFailureKind.TlsAuthentication, _reason, _where, ex) { Setting = _setting };
            }

            string detail = Innermost(ex).Message.TrimEnd('.', ' ');
            bool peerClosed = ex is IOException || ex.InnerException is IOException;
            string hint = peerClosed
                ? " The peer closed the connection during the handshake: it may not speak TLS on this port, may not accept the TLS versions offered, or may require a client certificate."
                : " Check that the peer speaks TLS here and that the versions, cipher suites, application protocols and certificates match.";
            return new SocketOperationException(SocketFailureKind.TlsAuthentication, $"The TLS handshake with {_where} failed: {detail}.{hint}", _where, ex)
            {
                Setting = peerClosed ? SocketSetting.None : SocketSetting.TlsParameters,
            };
        }

        private static Exception Innermost(Exception ex)
        {
            while (ex.InnerException is not null)
            {
                ex = ex.InnerException;
            }

            return ex;
        }
    }
}
