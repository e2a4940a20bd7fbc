#Requires -Version 7.4
# -CheckRevocation (issue 14 item 3) against a private CA whose certificates name a CRL
# distribution point on loopback: python3's http.server serves the CRL (built at run time with
# .NET's CertificateRevocationListBuilder), openssl s_server presents a revoked and a good
# certificate. The machine has no internet, and needs none: Online fetches from 127.0.0.1.
#
# .NET keeps fetched CRLs under $HOME/.dotnet/corefx/cryptography/crls, and Offline reads only
# that cache. So the checks run in a child pwsh whose HOME is a fresh folder in TestDrive: the
# order Offline (nothing cached), Online (fetched), Offline (cached) is then under the test's
# control, and nothing is left in the real home folder.

BeforeAll {
    Import-Module $env:SOCKPS_MODULE_PATH -Force
    Import-Module "$PSScriptRoot/SockPS.TestHelpers.psm1" -Force
    Import-Module "$PSScriptRoot/SockPS.TlsTestHelpers.psm1" -Force

    $crlFolder = Join-Path -Path $TestDrive -ChildPath 'crl'
    $null = New-Item -ItemType Directory -Path $crlFolder
    $http = Start-TestListeningPeer -FilePath python3 -ReadyPattern '^Serving HTTP on 127\.0\.0\.1 port \d+' -ReadyStream Output -ArgumentList {
        param($Port)
        @('-u', '-m', 'http.server', '--bind', '127.0.0.1', '--directory', $crlFolder, "$Port")
    }.GetNewClosure()
    $set = New-TestRevocationSet -Directory $crlFolder -CrlUrl "http://127.0.0.1:$($http.Port)/ca.crl"
    # The same certificates with a distribution point where nothing listens.
    $deadPort = Get-TestFreeTcpPort
    $dead = New-TestRevocationSet -Directory (Join-Path -Path $TestDrive -ChildPath 'dead') -CrlUrl "http://127.0.0.1:$deadPort/ca.crl"

    function Start-Peer([string] $CertificatePath, [string] $KeyPath, [int] $Accept) {
        Start-TestListeningPeer -FilePath openssl -ReadyPattern '^ACCEPT$' -ReadyStream Output -ArgumentList {
            param($Port)
            @('s_server', '-accept', "127.0.0.1:$Port", '-naccept', "$Accept", '-cert', $CertificatePath, '-key', $KeyPath)
        }.GetNewClosure()
    }

    # Runs the checks in a child pwsh with HOME in TestDrive; returns one object per check.
    function Invoke-RevocationChecks([string] $Script, [hashtable] $Values) {
        $home_ = Join-Path -Path $TestDrive -ChildPath "home-$([guid]::NewGuid().ToString('n').Substring(0, 6))"
        $null = New-Item -ItemType Directory -Path $home_
        $path = Join-Path -Path $TestDrive -ChildPath "checks-$([guid]::NewGuid().ToString('n').Substring(0, 6)).ps1"
        $prelude = @'
Set-StrictMode -Version Latest
Import-Module $env:SOCKPS_MODULE_PATH
function Test-Revocation([int] $Port, [string] $Mode, [string] $Ca) {
    $connection = Connect-Socket -ComputerName localhost -Port $Port -UseTls -CaCertificate $Ca -CheckRevocation $Mode -ErrorAction SilentlyContinue -ErrorVariable failures
    [pscustomobject]@{
        Mode      = $Mode
        Connected = $null -ne $connection
        ErrorId   = if ($failures) { $failures[0].FullyQualifiedErrorId }
        Message   = if ($failures) { $failures[0].Exception.Message }
        Cached    = @(Get-ChildItem -Path (Join-Path $HOME '.dotnet/corefx/cryptography/crls') -Filter *.crl -ErrorAction SilentlyContinue).Count
    } | ConvertTo-Json -Compress
    if ($connection) { Disconnect-Socket -Connection $connection }
}
function Test-Report([int] $Port, [string] $Mode, [string] $Ca) {
    $trust = if ($Ca) { @{ CaCertificate = $Ca } } else { @{} }
    $result = Get-SocketCertificate -ComputerName localhost -Port $Port -CheckRevocation $Mode @trust
    [pscustomobject]@{
        IsTrusted        = $result.IsTrusted
        Problems         = "$($result.Problems)"
        RevocationCheck  = "$($result.RevocationCheck)"
        ValidationErrors = @($result.ValidationErrors)
    } | ConvertTo-Json -Compress
}
'@
        $assignments = foreach ($key in $Values.Keys) { "`$$key = '$($Values[$key] -replace "'", "''")'" }
        Set-Content -LiteralPath $path -Value ($prelude, ($assignments -join "`n"), $Script -join "`n")
        $child = Start-TestPwsh -File $path -Environment @{ HOME = $home_; SOCKPS_MODULE_PATH = $env:SOCKPS_MODULE_PATH }
        $exit = Wait-TestProcessExit -Process $child -TimeoutSeconds 120
        $exit | Should -Be 0 -Because $child.Transcript()
        @($child.OutputLines | Where-Object { $_ -like '{*' } | ForEach-Object { $_ | ConvertFrom-Json })
    }
}

AfterAll {
    Stop-TestProcess -All
}

Describe 'Connect-Socket -UseTls -CheckRevocation against a private CA and its CRL' {
    It 'finds a revoked certificate Online (fetching the CRL), then Offline from the cache; Off lets it through' {
        $revoked = Start-Peer $set.RevokedPath $set.RevokedKeyPath -Accept 4

        $checks = Invoke-RevocationChecks -Values @{ Port = $revoked.Port; Ca = $set.CaPath } -Script @'
Test-Revocation $Port Offline $Ca
Test-Revocation $Port Online $Ca
Test-Revocation $Port Offline $Ca
Test-Revocation $Port Off $Ca
'@

        $checks | Should -HaveCount 4
        # Offline, before anything was fetched: the status is unknown, and that fails.
        $checks[0].Connected | Should -BeFalse
        $checks[0].ErrorId | Should -Be 'TlsAuthenticationFailed,SockPS.Commands.ConnectSocketCommand'
        $checks[0].Message | Should -BeLike "The revocation status of the certificate presented by localhost:$($revoked.Port) (localhost) could not be checked: no revocation list for it is cached on this machine*"
        $checks[0].Cached | Should -Be 0
        # Online: the CRL is fetched from the distribution point, and lists the certificate.
        $checks[1].Connected | Should -BeFalse
        $checks[1].ErrorId | Should -Be 'TlsAuthenticationFailed,SockPS.Commands.ConnectSocketCommand'
        $checks[1].Message | Should -Be ("The certificate presented by localhost:$($revoked.Port) (localhost, serial $($set.Revoked.SerialNumber)) has been revoked by its issuer, $($set.CaName). " +
            'The service needs a new certificate.')
        $checks[1].Cached | Should -Be 1
        $null = Wait-TestProcessLine -Process $http.Process -Stream Any -Pattern '"GET /ca\.crl HTTP/1\.1" 200' -FromStart
        # Offline again: the cached list says the same.
        $checks[2].Connected | Should -BeFalse
        $checks[2].Message | Should -BeLike '*has been revoked by its issuer*'
        # Off: no check, as before this parameter existed.
        $checks[3].Connected | Should -BeTrue
    }
}

Describe 'Other -CheckRevocation cases (one child pwsh for all)' {
    BeforeAll {
        # Each case uses its own CA or no cache, so they can share one HOME: one pwsh start
        # instead of four.
        $good = Start-Peer $set.GoodPath $set.GoodKeyPath -Accept 1
        $unreachable = Start-Peer $dead.GoodPath $dead.GoodKeyPath -Accept 1
        $untrusted = Start-Peer $set.RevokedPath $set.RevokedKeyPath -Accept 2
        $checks = Invoke-RevocationChecks -Values @{ Good = $good.Port; Dead = $unreachable.Port; Revoked = $untrusted.Port; Ca = $set.CaPath; DeadCa = $dead.CaPath } -Script @'
Test-Revocation $Good Online $Ca
Test-Revocation $Dead Online $DeadCa
Test-Report $Revoked Online
Test-Report $Revoked Online $Ca
'@
    }

    It 'connects Online to a certificate the CRL does not list' {
        $checks[0].Connected | Should -BeTrue
        $checks[0].ErrorId | Should -BeNullOrEmpty
        $checks[0].Cached | Should -Be 1
    }

    It 'fails Online, saying why, when the CRL cannot be fetched' {
        $checks[1].Connected | Should -BeFalse
        $checks[1].ErrorId | Should -Be 'TlsAuthenticationFailed,SockPS.Commands.ConnectSocketCommand'
        $checks[1].Message | Should -Be ("The revocation status of the certificate presented by localhost:$($unreachable.Port) (localhost) could not be checked: " +
            "the revocation list (CRL) or OCSP responder its issuer names could not be reached or read. Check that this machine can reach the issuer's CRL address. If it cannot, use -CheckRevocation Off.")
    }

    It 'says the status was not checked when the chain leads to no trusted root' {
        $checks[2].Problems | Should -Be 'UntrustedRoot, RevocationUnknown'
        $checks[2].ValidationErrors[0] | Should -BeLike '*was not checked: its chain does not lead to a root this machine trusts*'
    }

    It 'Get-SocketCertificate reports Revoked, and RevocationCheck Online, for the revoked certificate' {
        $checks[3].IsTrusted | Should -BeFalse
        $checks[3].Problems | Should -Be 'Revoked'
        $checks[3].RevocationCheck | Should -Be 'Online'
        $checks[3].ValidationErrors[0] | Should -BeLike '*has been revoked by its issuer*'
    }
}
