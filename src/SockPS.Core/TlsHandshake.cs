using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Net.Security;
using System.Reflection;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using System.Text.RegularExpressions;
using System.Threading;
using System.Threading.Tasks;

namespace SockPS.Core;

/// <summary>What a finished handshake agreed on, for the connection object.</summary>
public sealed class TlsDetails
{
    private static readonly Lazy<PropertyInfo?> s_cipherSuite = new(() => typeof(SslStream).GetProperty("NegotiatedCipherSuite"));

    internal TlsDetails(SslStream stream)
    {
        Protocol = TlsVersions.Name(stream.SslProtocol);
        // NegotiatedCipherSuite exists from .NET Core 3.0; netstandard2.0 builds only see the
        // separate algorithm properties, which is what Windows PowerShell 5.1 shows.
        CipherSuite = s_cipherSuite.Value?.GetValue(stream)?.ToString()
            ?? $"{stream.CipherAlgorithm}-{stream.CipherStrength} {stream.HashAlgorithm} {stream.KeyExchangeAlgorithm}";
        RemoteCertificate = stream.RemoteCertificate is null ? null : new X509Certificate2(stream.RemoteCertificate);
    }

    /// <summary>Tls12, Tls13.</summary>
    public string Protocol { get; }

    /// <summary>The negotiated cipher suite, e.g. TLS_AES_256_GCM_SHA384.</summary>
    public string CipherSuite { get; }

    /// <summary>The peer's certificate; null when it presented none.</summary>
    public X509Certificate2? RemoteCertificate { get; }
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
        TimeSpan timeout, CancellationToken cancellationToken)
    {
        string targetHost = string.IsNullOrEmpty(options.ServerName) ? host : options.ServerName!;
        CertificateCheck check = new(where, targetHost, options.TrustedCertificates, options.SkipCertificateCheck, clientRequired: false, checkingClient: false);
        SslStream ssl = new(inner, leaveInnerStreamOpen: true, check.Validate);
        X509CertificateCollection? clientCertificates = options.ClientCertificate is null ? null : new X509CertificateCollection { options.ClientCertificate };
        try
        {
            Task handshake = ssl.AuthenticateAsClientAsync(targetHost, clientCertificates, TlsVersions.ToSslProtocols(options.Versions), checkCertificateRevocation: false);
            await WaitAsync(handshake, timeout, cancellationToken, where).ConfigureAwait(false);
            return ssl;
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
        SslStream ssl = new(inner, leaveInnerStreamOpen: true, check.Validate);
        try
        {
            Task handshake = ssl.AuthenticateAsServerAsync(options.Certificate, options.RequireClientCertificate, TlsVersions.ToSslProtocols(options.Versions), checkCertificateRevocation: false);
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

    private sealed class CertificateCheck
    {
        private readonly string _where;
        private readonly string? _expectedName;
        private readonly X509Certificate2Collection _trusted;
        private readonly bool _skip;
        private readonly bool _clientRequired;
        private readonly bool _checkingClient;
        private string? _reason;

        public CertificateCheck(string where, string? expectedName, X509Certificate2Collection trusted, bool skip, bool clientRequired, bool checkingClient)
        {
            _where = where;
            _expectedName = expectedName;
            _trusted = trusted;
            _skip = skip;
            _clientRequired = clientRequired;
            _checkingClient = checkingClient;
        }

        public bool Validate(object sender, X509Certificate? certificate, X509Chain? chain, SslPolicyErrors errors)
        {
            if (_skip || (_checkingClient && !_clientRequired))
            {
                return true;
            }

            if (certificate is null)
            {
                _reason = _checkingClient
                    ? $"The client {_where} presented no certificate, and this server requires one (-RequireClientCertificate)."
                    : $"The server {_where} presented no certificate.";
                return false;
            }

            using X509Certificate2 presented = new(certificate);
            List<string> problems = new();
            if ((errors & SslPolicyErrors.RemoteCertificateChainErrors) != 0 && !TrustedByExtraRoots(presented, out string? chainProblem))
            {
                problems.Add(chainProblem ?? DescribeChain(presented, chain));
            }

            if ((errors & SslPolicyErrors.RemoteCertificateNameMismatch) != 0)
            {
                problems.Add($"The certificate presented by {_where} is issued to {IssuedTo(presented)}, not {_expectedName}. " +
                    "Connect with the name on the certificate, or give it with -ServerName.");
            }

            if ((errors & SslPolicyErrors.RemoteCertificateNotAvailable) != 0)
            {
                problems.Add($"{(_checkingClient ? "The client" : "The server")} {_where} presented no certificate.");
            }

            if (problems.Count == 0)
            {
                return true;
            }

            _reason = string.Join(" Also: ", problems);
            return false;
        }

        /// <summary>The chain is valid when the -CaCertificate roots are trusted too. Built
        /// with the extra certificates and "unknown authority allowed", then accepted only if
        /// the chain really ends in one of them: the classic technique that works on every
        /// runtime, where X509ChainPolicy.CustomTrustStore needs .NET 5.</summary>
        private bool TrustedByExtraRoots(X509Certificate2 presented, out string? problem)
        {
            problem = null;
            if (_trusted.Count == 0)
            {
                return false;
            }

            using X509Chain chain = new();
            chain.ChainPolicy.ExtraStore.AddRange(_trusted);
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

            problem = endsInTrusted ? DescribeChain(presented, chain) : null;
            return false;
        }

        private string DescribeChain(X509Certificate2 presented, X509Chain? chain)
        {
            DateTime now = DateTime.Now;
            if (presented.NotAfter < now)
            {
                return $"The certificate presented by {_where} expired on {presented.NotAfter.ToUniversalTime():yyyy-MM-dd HH:mm} UTC. The service needs a new certificate.";
            }

            if (presented.NotBefore > now)
            {
                return $"The certificate presented by {_where} is not valid until {presented.NotBefore.ToUniversalTime():yyyy-MM-dd HH:mm} UTC. Check this machine's clock.";
            }

            X509ChainStatusFlags flags = X509ChainStatusFlags.NoError;
            foreach (X509ChainStatus status in chain?.ChainStatus ?? new X509ChainStatus[0])
            {
                flags |= status.Status;
            }

            if ((flags & X509ChainStatusFlags.NotTimeValid) != 0)
            {
                return $"A certificate in the chain presented by {_where} has expired or is not yet valid.";
            }

            if ((flags & X509ChainStatusFlags.Revoked) != 0)
            {
                return $"The certificate presented by {_where} has been revoked.";
            }

            string whose = _checkingClient ? "The client certificate of " + _where : "The certificate presented by " + _where;
            return $"{whose} ({presented.GetNameInfo(X509NameType.SimpleName, false)}) is issued by {presented.GetNameInfo(X509NameType.SimpleName, true)}, " +
                "which this machine does not trust. Trust that CA for this connection with -CaCertificate <path>" +
                (_checkingClient ? "." : ", or use -SkipCertificateCheck for a test server.");
        }

        private static string IssuedTo(X509Certificate2 certificate)
        {
            List<string> names = new();
            foreach (X509Extension extension in certificate.Extensions)
            {
                if (extension.Oid?.Value == "2.5.29.17")
                {
                    // "DNS Name=a.example, IP Address=127.0.0.1" on Windows, "DNS:a.example, IP Address:127.0.0.1" elsewhere.
                    foreach (Match match in Regex.Matches(extension.Format(false), @"(?:DNS(?: Name)?[:=])\s*([^,\s]+)|(?:IP Address[:=])\s*([^,\s]+)"))
                    {
                        names.Add(match.Groups[1].Success ? match.Groups[1].Value : match.Groups[2].Value);
                    }
                }
            }

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
                return new SocketOperationException(SocketFailureKind.TlsAuthentication, _reason, _where, ex);
            }

            string detail = Innermost(ex).Message.TrimEnd('.', ' ');
            string hint = ex is IOException || ex.InnerException is IOException
                ? " The peer closed the connection during the handshake: it may not speak TLS on this port, may not accept the TLS versions offered, or may require a client certificate."
                : " Check that the peer speaks TLS here and that the versions (-TlsProtocol) and certificates match.";
            return new SocketOperationException(SocketFailureKind.TlsAuthentication, $"The TLS handshake with {_where} failed: {detail}.{hint}", _where, ex);
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
