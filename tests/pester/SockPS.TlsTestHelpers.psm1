#Requires -Version 7.4
<#
    Helpers for the TLS part of the Pester suite (issue 4), next to SockPS.TestHelpers.psm1 and
    built on it: test files import SockPS.TestHelpers.psm1 first, then this module.

    New-TestCertificateSet   a private CA and the certificates it signs (server, wrong name,
                             expired, client) plus a self-signed server, made at run time and
                             written as PEM/PKCS#8/PFX files for openssl, ncat and -*Path
                             parameters. Nothing is ever committed.
    New-TestRevocationSet    a private CA with a CRL distribution point, a good and a revoked
                             certificate, and the CRL (issue 14, -CheckRevocation).
    Get-TestOpenSslCertificateHash
                             openssl's own public key hash and fingerprints of a certificate:
                             the oracle for pins and Get-SocketCertificate.
    Start-TestOpenSslServer  `openssl s_server` for one client on a free loopback port, once it
                             is ready.

    The helpers these build on (Get-TestFreeTcpPort, Start-TestListeningPeer, and
    Start-/Wait-TestSideCommand for the other end of a handshake: both ends of a TLS handshake
    block until it is done, so they cannot share a thread) are in SockPS.TestHelpers.psm1.
#>
Set-StrictMode -Version Latest

# The same instance the test file imported (no -Force: -Force would load a second copy with a
# second list of started processes).
Import-Module "$PSScriptRoot/SockPS.TestHelpers.psm1"

function New-TestCertificateSet {
    <#
    .SYNOPSIS
        Makes a private CA and certificates it signs, with ECDSA P-256 keys, and writes the files
        openssl, ncat and the -*Path parameters need into -Directory.
    .DESCRIPTION
        Returns [pscustomobject] with X509Certificate2 objects:
            Ca          the CA, with its key
            CaPublic    the CA without its key, as a user passes it to -CaCertificate
            Server      CN=localhost, SAN localhost, 127.0.0.1, ::1 (serverAuth)
            WrongName   CN=elsewhere.example, SAN elsewhere.example only (serverAuth)
            Expired     CN=localhost, SAN localhost, 127.0.0.1, expired two days ago (serverAuth)
            NotYetValid CN=localhost, SAN localhost, 127.0.0.1, valid from two days on (serverAuth)
            Client      CN=sockps-client (clientAuth)
            SelfSigned  CN=localhost, SAN localhost, 127.0.0.1, signed by itself (serverAuth)
        and the paths written:
            CaPath (ca.pem), ServerPath/ServerKeyPath (server.pem/server.key),
            ClientPath/ClientKeyPath (client.pem/client.key), WrongNamePath/WrongNameKeyPath,
            ExpiredPath/ExpiredKeyPath, NotYetValidPath/NotYetValidKeyPath,
            SelfSignedPath/SelfSignedKeyPath, ServerPfxPath
            (server.pfx) and ClientPfxPath (client.pfx) protected by PfxPassword (a
            SecureString; PfxPasswordText is the same in plain text).
        Keys are PKCS#8 PEM. Every certificate is reloaded through a PKCS#12 round trip, which
        gives a key every platform's SslStream accepts.
    #>
    [CmdletBinding()]
    [OutputType([pscustomobject])]
    param(
        [Parameter(Mandatory)]
        [string] $Directory,

        [string] $PfxPasswordText = 'sockps-test-pfx'
    )

    $null = New-Item -ItemType Directory -Path $Directory -Force
    $now = [DateTimeOffset]::UtcNow
    $loopbacks = @([System.Net.IPAddress]::Loopback, [System.Net.IPAddress]::IPv6Loopback)

    $ca = New-TestCaCertificate -Name 'SockPS Pester Test CA' -NotBefore $now.AddDays(-30) -NotAfter $now.AddYears(1)
    $server = New-TestLeafCertificate -Issuer $ca -Name 'localhost' -DnsName 'localhost' -IPAddress $loopbacks `
        -NotBefore $now.AddDays(-1) -NotAfter $now.AddDays(30) -Usage ServerAuth
    $wrongName = New-TestLeafCertificate -Issuer $ca -Name 'elsewhere.example' -DnsName 'elsewhere.example' `
        -NotBefore $now.AddDays(-1) -NotAfter $now.AddDays(30) -Usage ServerAuth
    $expired = New-TestLeafCertificate -Issuer $ca -Name 'localhost' -DnsName 'localhost' -IPAddress ([System.Net.IPAddress]::Loopback) `
        -NotBefore $now.AddDays(-20) -NotAfter $now.AddDays(-2) -Usage ServerAuth
    $notYetValid = New-TestLeafCertificate -Issuer $ca -Name 'localhost' -DnsName 'localhost' -IPAddress ([System.Net.IPAddress]::Loopback) `
        -NotBefore $now.AddDays(2) -NotAfter $now.AddDays(30) -Usage ServerAuth
    $client = New-TestLeafCertificate -Issuer $ca -Name 'sockps-client' `
        -NotBefore $now.AddDays(-1) -NotAfter $now.AddDays(30) -Usage ClientAuth
    $selfSigned = New-TestLeafCertificate -Name 'localhost' -DnsName 'localhost' -IPAddress ([System.Net.IPAddress]::Loopback) `
        -NotBefore $now.AddDays(-1) -NotAfter $now.AddDays(30) -Usage ServerAuth

    $caPublic = [System.Security.Cryptography.X509Certificates.X509CertificateLoader]::LoadCertificate($ca.RawData)
    $password = ConvertTo-SecureString -String $PfxPasswordText -AsPlainText -Force

    $set = [ordered]@{
        PSTypeName      = 'SockPS.Testing.CertificateSet'
        Ca              = $ca
        CaPublic        = $caPublic
        Server          = $server
        WrongName       = $wrongName
        Expired         = $expired
        NotYetValid     = $notYetValid
        Client          = $client
        SelfSigned      = $selfSigned
        Directory       = $Directory
        CaPath          = Join-Path -Path $Directory -ChildPath 'ca.pem'
        PfxPassword     = $password
        PfxPasswordText = $PfxPasswordText
    }
    [System.IO.File]::WriteAllText($set.CaPath, $ca.ExportCertificatePem() + "`n")

    foreach ($entry in @(
            @{ Key = 'Server'; File = 'server' }
            @{ Key = 'Client'; File = 'client' }
            @{ Key = 'WrongName'; File = 'wrongname' }
            @{ Key = 'Expired'; File = 'expired' }
            @{ Key = 'NotYetValid'; File = 'notyetvalid' }
            @{ Key = 'SelfSigned'; File = 'selfsigned' }
        )) {
        $certificate = $set[$entry.Key]
        $pemPath = Join-Path -Path $Directory -ChildPath "$($entry.File).pem"
        $keyPath = Join-Path -Path $Directory -ChildPath "$($entry.File).key"
        [System.IO.File]::WriteAllText($pemPath, $certificate.ExportCertificatePem() + "`n")
        $key = [System.Security.Cryptography.X509Certificates.ECDsaCertificateExtensions]::GetECDsaPrivateKey($certificate)
        try {
            [System.IO.File]::WriteAllText($keyPath, $key.ExportPkcs8PrivateKeyPem() + "`n")
        }
        finally {
            $key.Dispose()
        }
        $set["$($entry.Key)Path"] = $pemPath
        $set["$($entry.Key)KeyPath"] = $keyPath
    }

    $set.ServerPfxPath = Join-Path -Path $Directory -ChildPath 'server.pfx'
    $set.ClientPfxPath = Join-Path -Path $Directory -ChildPath 'client.pfx'
    $pkcs12 = [System.Security.Cryptography.X509Certificates.X509ContentType]::Pkcs12
    [System.IO.File]::WriteAllBytes($set.ServerPfxPath, $server.Export($pkcs12, $PfxPasswordText))
    [System.IO.File]::WriteAllBytes($set.ClientPfxPath, $client.Export($pkcs12, $PfxPasswordText))

    [pscustomobject]$set
}

function New-TestCaCertificate {
    [CmdletBinding()]
    [OutputType([System.Security.Cryptography.X509Certificates.X509Certificate2])]
    param(
        [Parameter(Mandatory)] [string] $Name,
        [Parameter(Mandatory)] [DateTimeOffset] $NotBefore,
        [Parameter(Mandatory)] [DateTimeOffset] $NotAfter
    )

    $key = [System.Security.Cryptography.ECDsa]::Create([System.Security.Cryptography.ECCurve+NamedCurves]::nistP256)
    try {
        $request = [System.Security.Cryptography.X509Certificates.CertificateRequest]::new(
            "CN=$Name", $key, [System.Security.Cryptography.HashAlgorithmName]::SHA256)
        $request.CertificateExtensions.Add(
            [System.Security.Cryptography.X509Certificates.X509BasicConstraintsExtension]::new($true, $false, 0, $true))
        $request.CertificateExtensions.Add(
            [System.Security.Cryptography.X509Certificates.X509KeyUsageExtension]::new(
                [System.Security.Cryptography.X509Certificates.X509KeyUsageFlags]'KeyCertSign, CrlSign', $true))
        $request.CertificateExtensions.Add(
            [System.Security.Cryptography.X509Certificates.X509SubjectKeyIdentifierExtension]::new($request.PublicKey, $false))
        ConvertTo-TestReloadedCertificate -Certificate $request.CreateSelfSigned($NotBefore, $NotAfter)
    }
    finally {
        $key.Dispose()
    }
}

function New-TestLeafCertificate {
    <#
    .SYNOPSIS
        A leaf certificate signed by -Issuer, or self-signed without it.
    #>
    [CmdletBinding()]
    [OutputType([System.Security.Cryptography.X509Certificates.X509Certificate2])]
    param(
        [System.Security.Cryptography.X509Certificates.X509Certificate2] $Issuer,
        [Parameter(Mandatory)] [string] $Name,
        [string[]] $DnsName = @(),
        [System.Net.IPAddress[]] $IPAddress = @(),
        [Parameter(Mandatory)] [DateTimeOffset] $NotBefore,
        [Parameter(Mandatory)] [DateTimeOffset] $NotAfter,
        [Parameter(Mandatory)] [ValidateSet('ServerAuth', 'ClientAuth')] [string] $Usage,
        [System.Security.Cryptography.X509Certificates.X509Extension[]] $Extension = @()
    )

    $key = [System.Security.Cryptography.ECDsa]::Create([System.Security.Cryptography.ECCurve+NamedCurves]::nistP256)
    try {
        $request = [System.Security.Cryptography.X509Certificates.CertificateRequest]::new(
            "CN=$Name", $key, [System.Security.Cryptography.HashAlgorithmName]::SHA256)
        $request.CertificateExtensions.Add(
            [System.Security.Cryptography.X509Certificates.X509BasicConstraintsExtension]::new($false, $false, 0, $false))
        $request.CertificateExtensions.Add(
            [System.Security.Cryptography.X509Certificates.X509KeyUsageExtension]::new(
                [System.Security.Cryptography.X509Certificates.X509KeyUsageFlags]::DigitalSignature, $true))
        $usages = [System.Security.Cryptography.OidCollection]::new()
        $null = $usages.Add([System.Security.Cryptography.Oid]::new($(if ($Usage -eq 'ServerAuth') { '1.3.6.1.5.5.7.3.1' } else { '1.3.6.1.5.5.7.3.2' })))
        $request.CertificateExtensions.Add(
            [System.Security.Cryptography.X509Certificates.X509EnhancedKeyUsageExtension]::new($usages, $false))
        if ($DnsName.Count + $IPAddress.Count -gt 0) {
            $san = [System.Security.Cryptography.X509Certificates.SubjectAlternativeNameBuilder]::new()
            foreach ($dns in $DnsName) {
                $san.AddDnsName($dns)
            }
            foreach ($address in $IPAddress) {
                $san.AddIpAddress($address)
            }
            $request.CertificateExtensions.Add($san.Build())
        }
        foreach ($item in $Extension) {
            $request.CertificateExtensions.Add($item)
        }

        if ($null -eq $Issuer) {
            return ConvertTo-TestReloadedCertificate -Certificate $request.CreateSelfSigned($NotBefore, $NotAfter)
        }

        $serial = [System.Security.Cryptography.RandomNumberGenerator]::GetBytes(12)
        $serial[0] = $serial[0] -band 0x7F
        $issued = $request.Create($Issuer, $NotBefore, $NotAfter, $serial)
        try {
            ConvertTo-TestReloadedCertificate -Certificate (
                [System.Security.Cryptography.X509Certificates.ECDsaCertificateExtensions]::CopyWithPrivateKey($issued, $key))
        }
        finally {
            $issued.Dispose()
        }
    }
    finally {
        $key.Dispose()
    }
}

function ConvertTo-TestReloadedCertificate {
    # A PKCS#12 round trip gives a key every platform's SslStream accepts.
    [CmdletBinding()]
    [OutputType([System.Security.Cryptography.X509Certificates.X509Certificate2])]
    param(
        [Parameter(Mandatory)]
        [System.Security.Cryptography.X509Certificates.X509Certificate2] $Certificate
    )

    try {
        [System.Security.Cryptography.X509Certificates.X509CertificateLoader]::LoadPkcs12(
            $Certificate.Export([System.Security.Cryptography.X509Certificates.X509ContentType]::Pkcs12), $null,
            [System.Security.Cryptography.X509Certificates.X509KeyStorageFlags]::Exportable)
    }
    finally {
        $Certificate.Dispose()
    }
}

function New-TestRevocationSet {
    <#
    .SYNOPSIS
        A private CA, two localhost certificates it signs whose CRL distribution point is
        -CrlUrl (Good and Revoked), and the CA's CRL listing Revoked, written to -Directory as
        ca.pem, good.pem/good.key, revoked.pem/revoked.key and -CrlFileName (DER). Serve the
        folder at -CrlUrl's address (an HTTP server on loopback) for -CheckRevocation Online.
    .DESCRIPTION
        The CA's name is unique per call: .NET caches CRLs per issuer name and URL under
        $HOME/.dotnet/corefx/cryptography/crls, and a name shared between runs could mix them.
        Returns [pscustomobject] with Ca, Good, Revoked (X509Certificate2), CaName and the paths.
    #>
    [CmdletBinding()]
    [OutputType([pscustomobject])]
    param(
        [Parameter(Mandatory)] [string] $Directory,
        [Parameter(Mandatory)] [string] $CrlUrl,
        [string] $CrlFileName = 'ca.crl'
    )

    $null = New-Item -ItemType Directory -Path $Directory -Force
    $now = [DateTimeOffset]::UtcNow
    $caName = "SockPS Revocation Test CA $([guid]::NewGuid().ToString('n').Substring(0, 8))"
    $ca = New-TestCaCertificate -Name $caName -NotBefore $now.AddDays(-1) -NotAfter $now.AddDays(30)
    $extensions = @(
        [System.Security.Cryptography.X509Certificates.CertificateRevocationListBuilder]::BuildCrlDistributionPointExtension([string[]]@($CrlUrl))
        [System.Security.Cryptography.X509Certificates.X509AuthorityKeyIdentifierExtension]::CreateFromCertificate($ca, $true, $false)
    )
    $good = New-TestLeafCertificate -Issuer $ca -Name 'localhost' -DnsName 'localhost' -IPAddress ([System.Net.IPAddress]::Loopback) `
        -NotBefore $now.AddDays(-1) -NotAfter $now.AddDays(10) -Usage ServerAuth -Extension $extensions
    $revoked = New-TestLeafCertificate -Issuer $ca -Name 'localhost' -DnsName 'localhost' -IPAddress ([System.Net.IPAddress]::Loopback) `
        -NotBefore $now.AddDays(-1) -NotAfter $now.AddDays(10) -Usage ServerAuth -Extension $extensions

    $crl = [System.Security.Cryptography.X509Certificates.CertificateRevocationListBuilder]::new()
    $crl.AddEntry($revoked, $now.AddHours(-1), [System.Security.Cryptography.X509Certificates.X509RevocationReason]::KeyCompromise)
    $crlPath = Join-Path -Path $Directory -ChildPath $CrlFileName
    [System.IO.File]::WriteAllBytes($crlPath, $crl.Build($ca, [System.Numerics.BigInteger]::One, $now.AddDays(7),
            [System.Security.Cryptography.HashAlgorithmName]::SHA256))

    $set = [ordered]@{
        PSTypeName = 'SockPS.Testing.RevocationSet'
        Ca         = $ca
        CaName     = $caName
        Good       = $good
        Revoked    = $revoked
        CaPath     = Join-Path -Path $Directory -ChildPath 'ca.pem'
        CrlPath    = $crlPath
    }
    [System.IO.File]::WriteAllText($set.CaPath, $ca.ExportCertificatePem() + "`n")
    foreach ($name in 'Good', 'Revoked') {
        $certificate = $set[$name]
        $set["${name}Path"] = Join-Path -Path $Directory -ChildPath "$($name.ToLowerInvariant()).pem"
        $set["${name}KeyPath"] = Join-Path -Path $Directory -ChildPath "$($name.ToLowerInvariant()).key"
        [System.IO.File]::WriteAllText($set["${name}Path"], $certificate.ExportCertificatePem() + "`n")
        $key = [System.Security.Cryptography.X509Certificates.ECDsaCertificateExtensions]::GetECDsaPrivateKey($certificate)
        try {
            [System.IO.File]::WriteAllText($set["${name}KeyPath"], $key.ExportPkcs8PrivateKeyPem() + "`n")
        }
        finally {
            $key.Dispose()
        }
    }
    [pscustomobject]$set
}

function Get-TestOpenSslCertificateHash {
    <#
    .SYNOPSIS
        What openssl says a PEM certificate's hashes are, as an independent oracle for SockPS:
        PublicKeySha256 (curl's sha256//base64 of the DER SubjectPublicKeyInfo, from `openssl
        x509 -pubkey | openssl pkey -pubin -outform der | openssl dgst -sha256 -binary`),
        PublicKeySha256Hex, FingerprintSha256 and FingerprintSha1 (colon-separated, as `openssl
        x509 -noout -fingerprint` prints them).
    #>
    [CmdletBinding()]
    [OutputType([pscustomobject])]
    param(
        [Parameter(Mandatory)] [string] $Path,
        [Parameter(Mandatory)] [string] $WorkDirectory
    )

    $null = New-Item -ItemType Directory -Path $WorkDirectory -Force
    $stem = Join-Path -Path $WorkDirectory -ChildPath ([System.IO.Path]::GetFileNameWithoutExtension($Path))
    $run = {
        param([string[]] $Arguments)
        $output = & openssl @Arguments 2>&1
        if ($LASTEXITCODE -ne 0) {
            throw "openssl $($Arguments -join ' ') failed ($LASTEXITCODE): $output"
        }
        $output
    }
    $null = & $run @('x509', '-in', $Path, '-noout', '-pubkey', '-out', "$stem.pub.pem")
    $null = & $run @('pkey', '-pubin', '-in', "$stem.pub.pem", '-outform', 'der', '-out', "$stem.pub.der")
    $null = & $run @('dgst', '-sha256', '-binary', '-out', "$stem.pub.sha256", "$stem.pub.der")
    $hash = [System.IO.File]::ReadAllBytes("$stem.pub.sha256")
    $sha256 = (& $run @('x509', '-in', $Path, '-noout', '-fingerprint', '-sha256')) -replace '^[^=]*='
    $sha1 = (& $run @('x509', '-in', $Path, '-noout', '-fingerprint', '-sha1')) -replace '^[^=]*='
    [pscustomobject]@{
        PSTypeName         = 'SockPS.Testing.OpenSslCertificateHash'
        PublicKeySha256    = 'sha256//' + [Convert]::ToBase64String($hash)
        PublicKeySha256Hex = [Convert]::ToHexString($hash)
        FingerprintSha256  = "$sha256".Trim()
        FingerprintSha1    = "$sha1".Trim()
    }
}

function Start-TestOpenSslServer {
    <#
    .SYNOPSIS
        Starts `openssl s_server -accept 127.0.0.1:<free port> -naccept 1 <ArgumentList>` and
        returns [pscustomobject]@{ Port; Process } once it prints ACCEPT. -ArgumentList carries
        the certificate (-cert, -key) and whatever else the test needs (-www, -rev, -tls1_3).
    #>
    [CmdletBinding()]
    [OutputType([pscustomobject])]
    param(
        [Parameter(Mandatory)]
        [string[]] $ArgumentList
    )

    $serverArguments = $ArgumentList
    Start-TestListeningPeer -FilePath 'openssl' -ReadyPattern '^ACCEPT$' -ReadyStream Output -ArgumentList {
        param($Port)
        @('s_server', '-accept', "127.0.0.1:$Port", '-naccept', '1') + $serverArguments
    }.GetNewClosure()
}

Export-ModuleMember -Function @(
    'New-TestCertificateSet'
    'New-TestRevocationSet'
    'Get-TestOpenSslCertificateHash'
    'Start-TestOpenSslServer'
    'New-TestLeafCertificate'
)
