using System;
using System.IO;
using System.Linq;
using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using SockPS.Tests.Shared;
using Xunit;

namespace SockPS.Core.Tests;

/// <summary>
/// The parts of issue 14's certificate work that need no peer: the DER reading behind
/// PublicKeySha256 and the SANs (checked against .NET 10's own APIs, which the netstandard2.0
/// build cannot call), the pin parser, and the STARTTLS dialogues' line handling (against
/// scripted bytes; the real mail and FTP daemons are in tests/integration/StartTls.Tests.ps1).
/// </summary>
public class CertificateTests
{
    private static TestCertificates Certs => TestCertificates.Shared;

    public static TheoryData<string> CertificateNames => new() { "Server", "WrongName", "Client", "SelfSigned", "Ca" };

    private static X509Certificate2 Pick(string name) => name switch
    {
        "Server" => Certs.Server,
        "WrongName" => Certs.WrongName,
        "Client" => Certs.Client,
        "SelfSigned" => Certs.SelfSigned,
        _ => Certs.Ca,
    };

    [Theory]
    [MemberData(nameof(CertificateNames))]
    public void TheSubjectPublicKeyInfoIsWhatDotNetExports(string name)
    {
        X509Certificate2 certificate = Pick(name);

        Assert.Equal(certificate.PublicKey.ExportSubjectPublicKeyInfo(), CertificateFields.SubjectPublicKeyInfo(certificate));
        Assert.Equal(SHA256.HashData(certificate.PublicKey.ExportSubjectPublicKeyInfo()), CertificateFields.PublicKeySha256(certificate));
    }

    [Fact]
    public void AnRsaKeyIsReadToo()
    {
        using RSA key = RSA.Create(2048);
        CertificateRequest request = new("CN=rsa.test", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        using X509Certificate2 certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));

        Assert.Equal(certificate.PublicKey.ExportSubjectPublicKeyInfo(), CertificateFields.SubjectPublicKeyInfo(certificate));
    }

    [Fact]
    public void TheSubjectAlternativeNamesAreWhatDotNetReads()
    {
        SubjectAlternativeNameBuilder names = new();
        names.AddDnsName("a.example");
        names.AddEmailAddress("admin@example.test");
        names.AddIpAddress(IPAddress.Parse("192.0.2.7"));
        names.AddDnsName("b.example");
        names.AddUri(new Uri("https://example.test/"));
        names.AddIpAddress(IPAddress.Parse("2001:db8::1"));
        using ECDsa key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        CertificateRequest request = new("CN=names", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(names.Build());
        using X509Certificate2 certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));

        CertificateFields.SubjectAlternativeNames(certificate, out var dns, out var addresses);

        X509SubjectAlternativeNameExtension extension = certificate.Extensions.OfType<X509SubjectAlternativeNameExtension>().Single();
        Assert.Equal(extension.EnumerateDnsNames(), dns);
        Assert.Equal(extension.EnumerateIPAddresses(), addresses);
        Assert.Equal(new[] { "a.example", "b.example" }, dns);
    }

    [Fact]
    public void ACertificateWithoutSubjectAlternativeNamesHasNone()
    {
        CertificateFields.SubjectAlternativeNames(Certs.Client, out var dns, out var addresses);

        Assert.Empty(dns);
        Assert.Empty(addresses);
    }

    [Theory]
    [InlineData("sha256//{0}")]
    [InlineData("SHA256//{0}")]
    [InlineData("{0}")]
    [InlineData("  sha256//{0}  ")]
    public void APublicKeyPinMatchesInCurlsFormAndPlainBase64(string format)
    {
        string base64 = Convert.ToBase64String(SHA256.HashData(Certs.Server.PublicKey.ExportSubjectPublicKeyInfo()));

        CertificatePins pins = CertificatePins.Parse(null, new[] { string.Format(format, base64) });

        Assert.True(pins.Any);
        Assert.True(pins.Matches(Certs.Server));
        Assert.False(pins.Matches(Certs.WrongName));
    }

    [Fact]
    public void APublicKeyPinMatchesInHexWithOrWithoutColons()
    {
        byte[] hash = SHA256.HashData(Certs.Server.PublicKey.ExportSubjectPublicKeyInfo());

        Assert.True(CertificatePins.Parse(null, new[] { Convert.ToHexString(hash) }).Matches(Certs.Server));
        Assert.True(CertificatePins.Parse(null, new[] { string.Join(":", hash.Select(b => b.ToString("x2"))) }).Matches(Certs.Server));
    }

    [Fact]
    public void PinsJoinedWithSemicolonsMatchAny()
    {
        string server = Convert.ToBase64String(SHA256.HashData(Certs.Server.PublicKey.ExportSubjectPublicKeyInfo()));
        string other = Convert.ToBase64String(SHA256.HashData(Certs.SelfSigned.PublicKey.ExportSubjectPublicKeyInfo()));

        CertificatePins pins = CertificatePins.Parse(null, new[] { $"sha256//{other};sha256//{server}" });

        Assert.True(pins.Matches(Certs.Server));
        Assert.True(pins.Matches(Certs.SelfSigned));
        Assert.False(pins.Matches(Certs.WrongName));
        Assert.Equal($"public key sha256//{other} or public key sha256//{server}", pins.Describe());
    }

    [Fact]
    public void AThumbprintPinMatchesSha1AndSha256InAnyCase()
    {
        string sha256 = string.Join(":", SHA256.HashData(Certs.Server.RawData).Select(b => b.ToString("X2")));

        Assert.True(CertificatePins.Parse(new[] { Certs.Server.Thumbprint.ToLowerInvariant() }, null).Matches(Certs.Server));
        Assert.True(CertificatePins.Parse(new[] { sha256 }, null).Matches(Certs.Server));
        Assert.False(CertificatePins.Parse(new[] { sha256 }, null).Matches(Certs.WrongName));
    }

    [Theory]
    [InlineData(null, "sha256//AAAA", "is not a SHA-256 public key hash")]
    [InlineData(null, "sha1//qZk+NkcGgWq6PiVxeFDCbJzQ2J0=", "is not a SHA-256 public key hash")]
    [InlineData(null, "not base64 at all!", "is not a SHA-256 public key hash")]
    [InlineData("12:34", null, "is not a certificate thumbprint")]
    [InlineData("ZZ34567890123456789012345678901234567890", null, "is not a certificate thumbprint")]
    public void AMalformedPinIsInvalidArgument(string? thumbprint, string? publicKey, string says)
    {
        SocketOperationException ex = Assert.Throws<SocketOperationException>(() =>
            CertificatePins.Parse(thumbprint is null ? null : new[] { thumbprint }, publicKey is null ? null : new[] { publicKey }));

        Assert.Equal(SocketFailureKind.InvalidArgument, ex.Kind);
        Assert.Contains(says, ex.Message);
    }

    [Fact]
    public void NoValuesAreNoPins()
    {
        Assert.False(CertificatePins.Parse(null, null).Any);
        Assert.False(CertificatePins.Parse(new[] { " ", ";" }, Array.Empty<string>()).Any);
    }

    [Theory]
    [InlineData(StartTlsProtocol.Smtp,
        "220-mail.example ESMTP\r\n220 ready\r\n|250-mail.example\r\n250-PIPELINING\r\n250-STARTTLS\r\n250 8BITMIME\r\n|220 2.0.0 go ahead\r\n",
        "EHLO client.test\r\nSTARTTLS\r\n")]
    [InlineData(StartTlsProtocol.Imap,
        "* OK [CAPABILITY IMAP4rev1 STARTTLS] ready\r\n|* some untagged data\r\na001 OK Begin TLS negotiation now\r\n",
        "a001 STARTTLS\r\n")]
    [InlineData(StartTlsProtocol.Pop3, "+OK POP3 ready\r\n|+OK Begin TLS\r\n", "STLS\r\n")]
    [InlineData(StartTlsProtocol.Ftp,
        "220-Welcome\r\n this line has no code\r\n220 ready\r\n|234 Proceed with negotiation.\r\n",
        "AUTH TLS\r\n")]
    [InlineData(StartTlsProtocol.Ftp, "120 in 5 minutes\r\n220 ready\n|234 go\n", "AUTH TLS\r\n")]
    public async Task TheDialogueReadsMultiLineAnswersAndSendsCrlfCommands(StartTlsProtocol protocol, string answers, string expectedCommands)
    {
        ScriptedStream stream = new(answers.Split('|'));

        await StartTlsDialogue.RunAsync(stream, protocol, "mail.example:25", "client.test", CancellationToken.None).WaitAsync(Loopback.Wait);

        Assert.Equal(expectedCommands, stream.Written);
    }

    [Theory]
    [InlineData(StartTlsProtocol.Smtp, "220 ready\r\n|250-mail.example\r\n250 SIZE\r\n|454 4.7.0 TLS not available due to local problem\r\n",
        "The SMTP server at mail.example:25 refused STARTTLS: \"454 4.7.0 TLS not available due to local problem\". It did not offer STARTTLS in its EHLO answer either. TLS was not started.")]
    [InlineData(StartTlsProtocol.Smtp, "554 5.7.1 go away\r\n",
        "The SMTP server at mail.example:25 did not accept the session: it greeted with \"554 5.7.1 go away\". TLS was not started.")]
    [InlineData(StartTlsProtocol.Imap, "* OK ready\r\n|a001 BAD unknown command\r\n",
        "The IMAP server at mail.example:25 refused STARTTLS: \"a001 BAD unknown command\". TLS was not started.")]
    [InlineData(StartTlsProtocol.Pop3, "+OK ready\r\n|-ERR Command not permitted when TLS active\r\n",
        "The POP3 server at mail.example:25 refused STLS: \"-ERR Command not permitted when TLS active\". TLS was not started.")]
    [InlineData(StartTlsProtocol.Ftp, "220 ready\r\n|530 Please login with USER and PASS.\r\n",
        "The FTP server at mail.example:25 refused AUTH TLS: \"530 Please login with USER and PASS.\". TLS was not started.")]
    [InlineData(StartTlsProtocol.Pop3, "SSH-2.0-OpenSSH_9.2\r\n",
        "The server at mail.example:25 does not answer as a POP3 server: it said \"SSH-2.0-OpenSSH_9.2\". Check the port, and the protocol asked for (Pop3).")]
    [InlineData(StartTlsProtocol.Smtp, "220 ready\r\n",
        "The SMTP server at mail.example:25 closed the connection in answer to EHLO. TLS was not started.")]
    public async Task ARefusalQuotesTheServer(StartTlsProtocol protocol, string answers, string message)
    {
        ScriptedStream stream = new(answers.Split('|'));

        SocketOperationException ex = await Assert.ThrowsAsync<SocketOperationException>(() =>
            StartTlsDialogue.RunAsync(stream, protocol, "mail.example:25", "client.test", CancellationToken.None).WaitAsync(Loopback.Wait));

        Assert.Equal(SocketFailureKind.StartTlsRefused, ex.Kind);
        Assert.Equal(message, ex.Message);
    }

    [Fact]
    public async Task PlainTextAfterTheGoAheadIsRefusedAsAnInjection()
    {
        // CVE-2011-0411: text sent with the go-ahead would be read as if it came over TLS.
        ScriptedStream stream = new(new[] { "+OK ready\r\n", "+OK Begin TLS\r\n+OK injected\r\n" }, chunk: 4096);

        SocketOperationException ex = await Assert.ThrowsAsync<SocketOperationException>(() =>
            StartTlsDialogue.RunAsync(stream, StartTlsProtocol.Pop3, "pop.example:110", "client.test", CancellationToken.None).WaitAsync(Loopback.Wait));

        Assert.Equal(SocketFailureKind.StartTlsRefused, ex.Kind);
        Assert.Contains("sent more plain text after its go-ahead (\"+OK injected`r`n\")", ex.Message);
    }

    /// <summary>A stream that answers each write with the next scripted chunk (the greeting
    /// comes before the first write), and records what was written.</summary>
    private sealed class ScriptedStream : Stream
    {
        private readonly string[] _answers;
        private readonly StringBuilder _written = new();
        private int _next;
        private byte[] _pending;
        private int _offset;

        private readonly int _chunk;

        /// <param name="answers">What the server sends: before the first write, then after each.</param>
        /// <param name="chunk">The most one read returns: small, so lines arrive split; large,
        /// so bytes sent together arrive together.</param>
        public ScriptedStream(string[] answers, int chunk = 3)
        {
            _chunk = chunk;
            _answers = answers;
            _pending = Encoding.ASCII.GetBytes(answers[0]);
            _next = 1;
        }

        public string Written => _written.ToString();

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count)
        {
            int n = Math.Min(Math.Min(count, _chunk), _pending.Length - _offset);
            Array.Copy(_pending, _offset, buffer, offset, n);
            _offset += n;
            return n;
        }

        public override void Write(byte[] buffer, int offset, int count)
        {
            _written.Append(Encoding.ASCII.GetString(buffer, offset, count));
            _pending = _next < _answers.Length ? Encoding.ASCII.GetBytes(_answers[_next++]) : Array.Empty<byte>();
            _offset = 0;
        }

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();
    }
}
