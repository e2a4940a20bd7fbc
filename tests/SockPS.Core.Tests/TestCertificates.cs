using System;
using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace SockPS.Tests.Shared;

/// <summary>
/// Certificates made at run time for the TLS tests: a private CA and leaf certificates it signs
/// (a server for localhost, a wrong-name one, an expired one, a client one), and a self-signed
/// server the system does not trust. Nothing is ever written to the repository.
/// </summary>
public sealed class TestCertificates : IDisposable
{
    private static readonly Lazy<TestCertificates> s_shared = new(() => new TestCertificates());

    private TestCertificates()
    {
        DateTimeOffset now = DateTimeOffset.UtcNow;
        Ca = CreateCa("SockPS Test CA", now.AddDays(-30), now.AddYears(1));
        Server = CreateLeaf("localhost", new[] { "localhost" }, new[] { IPAddress.Loopback, IPAddress.IPv6Loopback }, now.AddDays(-1), now.AddDays(30), serverAuth: true);
        WrongName = CreateLeaf("elsewhere.example", new[] { "elsewhere.example" }, Array.Empty<IPAddress>(), now.AddDays(-1), now.AddDays(30), serverAuth: true);
        Expired = CreateLeaf("localhost", new[] { "localhost" }, new[] { IPAddress.Loopback }, now.AddDays(-20), now.AddDays(-2), serverAuth: true);
        ServiceName = CreateLeaf("service.test", new[] { "service.test" }, Array.Empty<IPAddress>(), now.AddDays(-1), now.AddDays(30), serverAuth: true);
        Client = CreateLeaf("sockps-client", Array.Empty<string>(), Array.Empty<IPAddress>(), now.AddDays(-1), now.AddDays(30), serverAuth: false);
        SelfSigned = CreateSelfSigned("localhost", now.AddDays(-1), now.AddDays(30));
    }

    /// <summary>One set per test process: making keys is the slow part.</summary>
    public static TestCertificates Shared => s_shared.Value;

    public X509Certificate2 Ca { get; }

    public X509Certificate2 Server { get; }

    public X509Certificate2 WrongName { get; }

    public X509Certificate2 Expired { get; }

    public X509Certificate2 ServiceName { get; }

    public X509Certificate2 Client { get; }

    public X509Certificate2 SelfSigned { get; }

    /// <summary>The CA without its key, as a user would pass it to -CaCertificate.</summary>
    public X509Certificate2 CaPublic => new(Ca.Export(X509ContentType.Cert));

    public void Dispose()
    {
        foreach (X509Certificate2 c in new[] { Ca, Server, WrongName, Expired, ServiceName, Client, SelfSigned })
        {
            c.Dispose();
        }
    }

    private static X509Certificate2 CreateCa(string name, DateTimeOffset notBefore, DateTimeOffset notAfter)
    {
        using ECDsa key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        CertificateRequest request = new($"CN={name}", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        return Reload(request.CreateSelfSigned(notBefore, notAfter));
    }

    private X509Certificate2 CreateLeaf(string name, string[] dnsNames, IPAddress[] addresses, DateTimeOffset notBefore, DateTimeOffset notAfter, bool serverAuth)
    {
        using ECDsa key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        CertificateRequest request = new($"CN={name}", key, HashAlgorithmName.SHA256);
        AddLeafExtensions(request, dnsNames, addresses, serverAuth);
        byte[] serial = new byte[12];
        RandomNumberGenerator.Fill(serial);
        using X509Certificate2 issued = request.Create(Ca, notBefore, notAfter, serial);
        return Reload(issued.CopyWithPrivateKey(key));
    }

    private static X509Certificate2 CreateSelfSigned(string name, DateTimeOffset notBefore, DateTimeOffset notAfter)
    {
        using ECDsa key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        CertificateRequest request = new($"CN={name}", key, HashAlgorithmName.SHA256);
        AddLeafExtensions(request, new[] { name }, new[] { IPAddress.Loopback }, serverAuth: true);
        return Reload(request.CreateSelfSigned(notBefore, notAfter));
    }

    private static void AddLeafExtensions(CertificateRequest request, string[] dnsNames, IPAddress[] addresses, bool serverAuth)
    {
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, false));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension(
            new OidCollection { new Oid(serverAuth ? "1.3.6.1.5.5.7.3.1" : "1.3.6.1.5.5.7.3.2") }, false));
        if (dnsNames.Length + addresses.Length > 0)
        {
            SubjectAlternativeNameBuilder san = new();
            foreach (string dns in dnsNames)
            {
                san.AddDnsName(dns);
            }

            foreach (IPAddress address in addresses)
            {
                san.AddIpAddress(address);
            }

            request.CertificateExtensions.Add(san.Build());
        }
    }

    /// <summary>A PKCS#12 round trip gives a key every platform's SslStream accepts.</summary>
    private static X509Certificate2 Reload(X509Certificate2 certificate)
    {
        using (certificate)
        {
            return X509CertificateLoader.LoadPkcs12(certificate.Export(X509ContentType.Pkcs12), null, X509KeyStorageFlags.Exportable);
        }
    }
}
