using System;
using System.IO;
using System.Linq;
using System.Management.Automation;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using SockPS.Core;
using SockPS.Tests.Shared;
using Xunit;

namespace SockPS.Tests;

[Collection("Module")]
public sealed class TlsCmdletTests : IDisposable
{
    private static TestCertificates Certs => TestCertificates.Shared;

    private readonly PowerShellHost _host = new();
    private readonly string _dir = Directory.CreateTempSubdirectory("sockps-tls-").FullName;

    public TlsCmdletTests()
    {
        File.WriteAllText(CaPem, Certs.Ca.ExportCertificatePem());
        File.WriteAllText(ServerPem, Certs.Server.ExportCertificatePem());
        File.WriteAllText(ServerKey, Certs.Server.GetECDsaPrivateKey()!.ExportPkcs8PrivateKeyPem());
        File.WriteAllBytes(ClientPfx, Certs.Client.Export(X509ContentType.Pkcs12, "client-pass"));
        File.WriteAllBytes(ServerPfx, Certs.Server.Export(X509ContentType.Pkcs12, "server-pass"));
    }

    private string CaPem => Path.Combine(_dir, "ca.pem");

    private string ServerPem => Path.Combine(_dir, "server.pem");

    private string ServerKey => Path.Combine(_dir, "server.key");

    private string ClientPfx => Path.Combine(_dir, "client.pfx");

    private string ServerPfx => Path.Combine(_dir, "server.pfx");

    public void Dispose()
    {
        _host.Run("Get-SocketConnection | Disconnect-Socket; Get-SocketServer | Stop-SocketServer");
        _host.Dispose();
        Directory.Delete(_dir, recursive: true);
    }

    private (string Name, object? Value)[] Vars(params (string Name, object? Value)[] more) =>
        new (string, object?)[] { ("caPem", CaPem), ("serverPem", ServerPem), ("serverKey", ServerKey), ("clientPfx", ClientPfx), ("serverPfx", ServerPfx),
            ("serverCert", Certs.Server), ("wrongName", Certs.WrongName), ("expired", Certs.Expired), ("ca", Certs.CaPublic) }.Concat(more).ToArray();

    [Fact]
    public void ATlsConversationWithAPrivateCaFromAPemFile()
    {
        var output = _host.RunClean(@"
            $server = Start-SocketServer -CertificatePath $serverPem -KeyPath $serverKey
            $client = Connect-Socket -ComputerName localhost -Port $server.Port -UseTls -CaCertificate $caPem
            $accepted = Wait-SocketConnection -Server $server -TimeoutSeconds 20
            Send-SocketData -Connection $client -InputObject 'over tls' -Line
            Receive-SocketData -Connection $accepted -Line
            $client.IsTls, $accepted.IsTls, $client.TlsProtocol, $client.Transport, $server.Transport
            $client.RemoteCertificate.Subject
            (Get-SocketConnection -Id $client.Id | Out-String) -match '\bTls\b'", Vars());
        Assert.Equal(new object[] { "over tls", true, true, "Tls13", "Tls", "Tls", "CN=localhost", true }, output.Select(o => o.BaseObject).ToArray());
    }

    [Fact]
    public void ATlsUriAndAPfxServerCertificate()
    {
        var output = _host.RunClean(@"
            $password = ConvertTo-SecureString 'server-pass' -AsPlainText -Force
            $server = Start-SocketServer -CertificatePath $serverPfx -CertificatePassword $password
            $client = Connect-Socket -Uri ""tls://localhost:$($server.Port)"" -CaCertificate $ca
            $client.IsTls", Vars());
        Assert.Equal(true, output.Single().BaseObject);
    }

    [Theory]
    [InlineData("$serverCert", "", "which this machine does not trust")]
    [InlineData("$wrongName", "-CaCertificate $caPem", "is issued to elsewhere.example, not localhost")]
    [InlineData("$expired", "-CaCertificate $caPem", "expired on")]
    public void CertificateProblemsAreTlsAuthenticationFailedSecurityErrors(string serverCertificate, string trust, string reason)
    {
        var (output, errors) = _host.Run($@"
            $server = Start-SocketServer -Certificate {serverCertificate}
            Connect-Socket -ComputerName localhost -Port $server.Port -UseTls {trust}", Vars());
        Assert.DoesNotContain(output, o => o.BaseObject is SocketConnection);
        ErrorRecord error = errors.Single();
        Assert.Equal("TlsAuthenticationFailed,SockPS.Commands.ConnectSocketCommand", error.FullyQualifiedErrorId);
        Assert.Equal(ErrorCategory.SecurityError, error.CategoryInfo.Category);
        Assert.Contains(reason, error.ToString());
    }

    [Fact]
    public void SkipCertificateCheckWritesOneWarningAndConnects()
    {
        using PowerShell ps = PowerShell.Create();
        ps.Runspace = _host.Runspace;
        _host.Runspace.SessionStateProxy.SetVariable("serverCert", Certs.SelfSigned);
        ps.AddScript(@"
            $server = Start-SocketServer -Certificate $serverCert
            (Connect-Socket -ComputerName 127.0.0.1 -Port $server.Port -UseTls -SkipCertificateCheck).IsTls");
        var output = ps.Invoke();
        Assert.Equal(true, output.Single().BaseObject);
        Assert.Single(ps.Streams.Warning);
        Assert.Contains("Certificate checks are off", ps.Streams.Warning[0].Message);
    }

    [Fact]
    public void MutualTlsWithAClientCertificateFile()
    {
        var output = _host.RunClean(@"
            $server = Start-SocketServer -Certificate $serverCert -RequireClientCertificate -CaCertificate $caPem
            $password = ConvertTo-SecureString 'client-pass' -AsPlainText -Force
            $client = Connect-Socket -ComputerName localhost -Port $server.Port -UseTls -CaCertificate $caPem -ClientCertificatePath $clientPfx -CertificatePassword $password
            $accepted = Wait-SocketConnection -Server $server -TimeoutSeconds 20
            $accepted.RemoteCertificate.Subject", Vars());
        Assert.Equal("CN=sockps-client", output.Single().BaseObject);
    }

    [Fact]
    public void StartTlsThroughProtectSocketConnection()
    {
        var output = _host.RunClean(@"
            $server = Start-SocketServer
            $client = Connect-Socket -ComputerName localhost -Port $server.Port
            $accepted = Wait-SocketConnection -Server $server -TimeoutSeconds 20
            Send-SocketData -Connection $client -InputObject 'STARTTLS' -Line
            $null = Receive-SocketData -Connection $accepted -Line
            Send-SocketData -Connection $accepted -InputObject '220 go ahead' -Line
            $go = Receive-SocketData -Connection $client -Line
            $serverSide = [powershell]::Create().AddScript({
                param($modulePath, $connection, $certificate)
                Import-Module $modulePath
                Protect-SocketConnection -Connection $connection -Certificate $certificate
            }).AddArgument($modulePath).AddArgument($accepted).AddArgument($serverCert)
            $handle = $serverSide.BeginInvoke()
            Protect-SocketConnection -Connection $client -CaCertificate $caPem
            $serverSide.EndInvoke($handle)
            $serverSide.Dispose()
            Send-SocketData -Connection $client -InputObject 'EHLO' -Line
            $go, (Receive-SocketData -Connection $accepted -Line), $client.IsTls, $accepted.IsTls", Vars(("modulePath", PowerShellHost.ModulePath)));
        Assert.Equal(new object[] { "220 go ahead", "EHLO", true, true }, output.Select(o => o.BaseObject).ToArray());
    }

    [Fact]
    public void NothingIsSentWhenTheHandshakeFails()
    {
        var output = _host.RunClean(@"
            $plain = Start-SocketServer
            Connect-Socket -ComputerName localhost -Port $plain.Port -UseTls -TimeoutSeconds 5 -ErrorAction SilentlyContinue |
                Send-SocketData -InputObject 'secret' -Line
            $accepted = Wait-SocketConnection -Server $plain -TimeoutSeconds 20
            # The client gives up on the handshake by closing its socket; .NET closes a socket
            # with a read in flight abortively, so the end is a reset as often as an EOF. Read
            # chunk by chunk: what arrived before the reset is still delivered.
            $seen = [System.Collections.Generic.List[byte]]::new()
            while ($true) {
                $chunk = Receive-SocketData -Connection $accepted -AsByteArray -TimeoutSeconds 20 -ErrorAction SilentlyContinue -ErrorVariable failed
                if ($failed) {
                    if ($failed[0].FullyQualifiedErrorId -notlike 'ConnectionReset,*') { throw $failed[0] }
                    break
                }
                if ($null -eq $chunk) { break }
                $seen.AddRange([byte[]]$chunk)
            }
            ,$seen.ToArray()", Vars());
        byte[] seen = (byte[])output.Single().BaseObject;
        Assert.Equal(0x16, seen[0]); // a TLS handshake record
        Assert.DoesNotContain("secret", Encoding.Latin1.GetString(seen));
    }

    [Theory]
    [InlineData("Connect-Socket -ComputerName localhost -Port 1 -SkipCertificateCheck", "InvalidArgument,SockPS.Commands.ConnectSocketCommand")]
    [InlineData("Connect-Socket -ComputerName localhost -Port 1 -UseTls -Protocol Udp", "InvalidArgument,SockPS.Commands.ConnectSocketCommand")]
    [InlineData("Start-SocketServer -CertificatePath /no/such/file.pfx", "InvalidArgument,SockPS.Commands.StartSocketServerCommand")]
    [InlineData("Start-SocketServer -Protocol Udp -Certificate $serverCert", "InvalidArgument,SockPS.Commands.StartSocketServerCommand")]
    [InlineData("Start-SocketServer -Certificate $ca", "InvalidArgument,SockPS.Commands.StartSocketServerCommand")]
    [InlineData("Start-SocketServer -RequireClientCertificate", "InvalidArgument,SockPS.Commands.StartSocketServerCommand")]
    public void TlsParameterMistakesAreInvalidArguments(string script, string errorId)
    {
        ErrorRecord error = _host.RunTerminating(script, Vars());
        Assert.Equal(errorId, error.FullyQualifiedErrorId);
        Assert.Equal(ErrorCategory.InvalidArgument, error.CategoryInfo.Category);
    }
}
