<#
.SYNOPSIS
    Makes a private CA and a certificate for localhost signed by it, for trying TLS with SockPS.
.DESCRIPTION
    Writes ca.pem (the CA certificate, to pass to -CaCertificate), server.pem and server.key
    (for Start-SocketServer -CertificatePath ... -KeyPath ...), and server.pfx (the same, as one
    PFX file with the password given). For tests and experiments only: the keys are not protected.
.EXAMPLE
    ./examples/New-TestCertificate.ps1 -Path ./certs
    $server = Start-SocketServer -CertificatePath ./certs/server.pem -KeyPath ./certs/server.key
    $client = Connect-Socket -ComputerName localhost -Port $server.Port -UseTls -CaCertificate ./certs/ca.pem
#>
param(
    # The folder to write the files to; created when missing.
    [Parameter(Mandatory)] [string] $Path,
    # Names the server certificate is valid for.
    [string[]] $DnsName = @('localhost'),
    # The password of server.pfx.
    [string] $PfxPassword = 'sockps'
)

$ErrorActionPreference = 'Stop'
$folder = New-Item -ItemType Directory -Path $Path -Force
$now = [datetimeoffset]::UtcNow

$caKey = [System.Security.Cryptography.ECDsa]::Create([System.Security.Cryptography.ECCurve+NamedCurves]::nistP256)
$caRequest = [System.Security.Cryptography.X509Certificates.CertificateRequest]::new('CN=SockPS Example CA', $caKey, 'SHA256')
$caRequest.CertificateExtensions.Add([System.Security.Cryptography.X509Certificates.X509BasicConstraintsExtension]::new($true, $false, 0, $true))
$caRequest.CertificateExtensions.Add([System.Security.Cryptography.X509Certificates.X509KeyUsageExtension]::new('KeyCertSign, CrlSign', $true))
$ca = $caRequest.CreateSelfSigned($now.AddDays(-1), $now.AddYears(1))

$key = [System.Security.Cryptography.ECDsa]::Create([System.Security.Cryptography.ECCurve+NamedCurves]::nistP256)
$request = [System.Security.Cryptography.X509Certificates.CertificateRequest]::new("CN=$($DnsName[0])", $key, 'SHA256')
$names = [System.Security.Cryptography.X509Certificates.SubjectAlternativeNameBuilder]::new()
foreach ($name in $DnsName) { $names.AddDnsName($name) }
$names.AddIpAddress([ipaddress]::Loopback)
$names.AddIpAddress([ipaddress]::IPv6Loopback)
$request.CertificateExtensions.Add($names.Build())
$serverAuth = [System.Security.Cryptography.OidCollection]::new()
$null = $serverAuth.Add([System.Security.Cryptography.Oid]::new('1.3.6.1.5.5.7.3.1'))
$request.CertificateExtensions.Add([System.Security.Cryptography.X509Certificates.X509EnhancedKeyUsageExtension]::new($serverAuth, $false))
$serial = [byte[]]::new(12)
[System.Security.Cryptography.RandomNumberGenerator]::Fill($serial)
$certificate = $request.Create($ca, $now.AddDays(-1), $now.AddDays(90), $serial)

Set-Content -LiteralPath (Join-Path $folder 'ca.pem') -Value $ca.ExportCertificatePem()
Set-Content -LiteralPath (Join-Path $folder 'server.pem') -Value $certificate.ExportCertificatePem()
Set-Content -LiteralPath (Join-Path $folder 'server.key') -Value $key.ExportPkcs8PrivateKeyPem()
$withKey = [System.Security.Cryptography.X509Certificates.ECDsaCertificateExtensions]::CopyWithPrivateKey($certificate, $key)
[System.IO.File]::WriteAllBytes((Join-Path $folder 'server.pfx'), $withKey.Export('Pkcs12', $PfxPassword))
Get-ChildItem -LiteralPath $folder -File | Where-Object Name -in 'ca.pem', 'server.pem', 'server.key', 'server.pfx'
