#Requires -Version 7.4
# Certificate pinning on every TLS client cmdlet (issue 14 item 3): -CertificateThumbprint and
# -PublicKeySha256 trust exactly the pinned certificate or key, whatever its chain and name say,
# and a mismatch is TlsAuthenticationFailed naming both values. The peer is openssl s_server;
# the pins come from openssl itself (Get-TestOpenSslCertificateHash), so SockPS's hashing is
# checked against an implementation nobody here wrote. -CheckRevocation is tested in
# TlsRevocation.Tests.ps1.

BeforeAll {
    Import-Module $env:SOCKPS_MODULE_PATH -Force
    Import-Module "$PSScriptRoot/SockPS.TestHelpers.psm1" -Force
    Import-Module "$PSScriptRoot/SockPS.TlsTestHelpers.psm1" -Force

    $certs = New-TestCertificateSet -Directory (Join-Path -Path $TestDrive -ChildPath 'certs')
    $work = Join-Path -Path $TestDrive -ChildPath 'hashes'
    $selfSigned = Get-TestOpenSslCertificateHash -Path $certs.SelfSignedPath -WorkDirectory $work
    $wrongName = Get-TestOpenSslCertificateHash -Path $certs.WrongNamePath -WorkDirectory $work
    $server = Get-TestOpenSslCertificateHash -Path $certs.ServerPath -WorkDirectory $work

    function Start-Peer([string] $Name, [string[]] $Extra = @()) {
        Start-TestOpenSslServer -ArgumentList (@('-cert', $certs."${Name}Path", '-key', $certs."${Name}KeyPath") + $Extra)
    }
}

AfterAll {
    Stop-TestProcess -All
}

Describe 'Connect-Socket -UseTls with a pin' {
    AfterEach {
        Get-SocketConnection | Disconnect-Socket
        Stop-TestProcess -All
    }

    It 'trusts a self-signed certificate whose public key is pinned (<Form>)' -ForEach @(
        @{ Form = 'curl''s sha256//base64'; Pin = { $selfSigned.PublicKeySha256 } }
        @{ Form = 'plain base64'; Pin = { $selfSigned.PublicKeySha256 -replace '^sha256//' } }
        @{ Form = 'hex'; Pin = { $selfSigned.PublicKeySha256Hex } }
        @{ Form = 'hex with colons, lower case'; Pin = { ($selfSigned.PublicKeySha256Hex.ToLowerInvariant() -split '(..)' -ne '') -join ':' } }
        @{ Form = 'two pins joined with ; as curl takes them'; Pin = { "$($server.PublicKeySha256);$($selfSigned.PublicKeySha256)" } }
    ) {
        $peer = Start-Peer SelfSigned

        $connection = Connect-Socket -ComputerName localhost -Port $peer.Port -UseTls -PublicKeySha256 (& $Pin)

        $connection.IsTls | Should -BeTrue
        $connection.RemoteCertificate.Thumbprint | Should -Be $certs.SelfSigned.Thumbprint
        Send-SocketData -Connection $connection -InputObject 'pinned hello' -Line
        $null = Wait-TestProcessLine -Process $peer.Process -Pattern '^pinned hello$'
    }

    It 'trusts a certificate for another name whose thumbprint is pinned (<Form>): the name check gives way to the pin' -ForEach @(
        @{ Form = 'SHA-1, as Windows shows it'; Pin = { $certs.WrongName.Thumbprint } }
        @{ Form = 'SHA-256 fingerprint with colons, as openssl prints it'; Pin = { $wrongName.FingerprintSha256 } }
    ) {
        $peer = Start-Peer WrongName

        $connection = Connect-Socket -ComputerName localhost -Port $peer.Port -UseTls -CertificateThumbprint (& $Pin)

        $connection.RemoteCertificate.Subject | Should -Be 'CN=elsewhere.example'
    }

    It 'refuses a certificate that matches no pin: TlsAuthenticationFailed naming the pin and what was presented' {
        $peer = Start-Peer Server

        $connection = Connect-Socket -ComputerName localhost -Port $peer.Port -UseTls -PublicKeySha256 $selfSigned.PublicKeySha256 `
            -ErrorAction SilentlyContinue -ErrorVariable failures

        $connection | Should -BeNullOrEmpty
        $failures | Should -HaveCount 1
        $failures[0].FullyQualifiedErrorId | Should -Be 'TlsAuthenticationFailed,SockPS.Commands.ConnectSocketCommand'
        $failures[0].CategoryInfo.Category | Should -Be 'SecurityError'
        $failures[0].Exception.Message | Should -Be ("The certificate presented by localhost:$($peer.Port) (localhost) does not match the pinned public key $($selfSigned.PublicKeySha256): " +
            "it presented public key $($server.PublicKeySha256), thumbprint $($certs.Server.Thumbprint) (SHA-1), $($server.FingerprintSha256 -replace ':') (SHA-256). " +
            'Check the pin, or whether the service changed its certificate or key.')
        Get-SocketConnection | Should -BeNullOrEmpty
    }

    It 'refuses a certificate whose chain is trusted when it matches no pin' {
        $peer = Start-Peer Server

        $connection = Connect-Socket -ComputerName localhost -Port $peer.Port -UseTls -CertificateThumbprint $certs.WrongName.Thumbprint `
            -ErrorAction SilentlyContinue -ErrorVariable failures

        $connection | Should -BeNullOrEmpty
        $failures[0].Exception.Message | Should -BeLike "*does not match the pinned thumbprint $($certs.WrongName.Thumbprint)*"
    }

    It 'refuses <Case> before connecting: InvalidArgument' -ForEach @(
        @{ Case = 'a pin with -CaCertificate'; Splat = { @{ PublicKeySha256 = $server.PublicKeySha256; CaCertificate = $certs.CaPath } }; Says = '*-CaCertificate would have no effect*' }
        @{ Case = 'a pin with -SkipCertificateCheck'; Splat = { @{ CertificateThumbprint = $certs.Server.Thumbprint; SkipCertificateCheck = $true } }; Says = '*-SkipCertificateCheck accepts any certificate*' }
        @{ Case = 'a thumbprint of the wrong length'; Splat = { @{ CertificateThumbprint = 'ABCDEF' } }; Says = "*'ABCDEF' is not a certificate thumbprint*" }
        @{ Case = 'a key hash of the wrong length'; Splat = { @{ PublicKeySha256 = 'sha256//AAAA' } }; Says = "*'sha256//AAAA' is not a SHA-256 public key hash*" }
        @{ Case = 'a pin without -UseTls'; Splat = { @{ PublicKeySha256 = $server.PublicKeySha256; UseTls = $false } }; Says = '*are TLS settings: add -UseTls*' }
    ) {
        $parameters = & $Splat
        if (-not $parameters.ContainsKey('UseTls')) {
            $parameters.UseTls = $true
        }

        { Connect-Socket -ComputerName 127.0.0.1 -Port 9 @parameters -ErrorAction Stop } |
            Should -Throw -ErrorId 'InvalidArgument,SockPS.Commands.ConnectSocketCommand' -ExpectedMessage $Says
    }
}

Describe 'Pins on the other TLS cmdlets' {
    AfterEach {
        Get-SocketConnection | Disconnect-Socket
        Get-SocketRelay | Stop-SocketRelay
        Get-SocketServer | Stop-SocketServer
        Stop-TestProcess -All
    }

    It 'Protect-SocketConnection upgrades with a key pin, and refuses a wrong one' {
        $peer = Start-Peer SelfSigned
        $plain = Connect-Socket -ComputerName localhost -Port $peer.Port

        Protect-SocketConnection -Connection $plain -PublicKeySha256 $selfSigned.PublicKeySha256

        $plain.IsTls | Should -BeTrue
        $plain.RemoteCertificate.Thumbprint | Should -Be $certs.SelfSigned.Thumbprint

        $other = Start-Peer SelfSigned
        $second = Connect-Socket -ComputerName localhost -Port $other.Port
        Protect-SocketConnection -Connection $second -CertificateThumbprint $certs.Server.Thumbprint -ErrorAction SilentlyContinue -ErrorVariable failures
        $failures | Should -HaveCount 1
        $failures[0].FullyQualifiedErrorId | Should -Be 'TlsAuthenticationFailed,SockPS.Commands.ProtectSocketConnectionCommand'
        $failures[0].Exception.Message | Should -BeLike "*does not match the pinned thumbprint $($certs.Server.Thumbprint): it presented public key $($selfSigned.PublicKeySha256)*"
        $second.State | Should -Be 'Disconnected' -Because 'a failed handshake leaves the stream unusable, so the connection is closed'
    }

    It 'Invoke-SocketRequest -UseTls reads s_server -www''s page through a pinned certificate' {
        $peer = Start-Peer WrongName -Extra '-www'

        $answer = Invoke-SocketRequest -ComputerName localhost -Port $peer.Port -UseTls -CertificateThumbprint $wrongName.FingerprintSha1 `
            -InputObject "GET / HTTP/1.0`r`n`r`n" -ToEnd -TimeoutSeconds 20

        ($answer -join "`n") | Should -Match '^HTTP/1\.0 200 ok'
        ($answer -join "`n") | Should -Match 's_server -accept'
    }

    It 'Start-SocketRelay -UseTls forwards to a pinned target, and drops clients when the pin does not match' {
        $peer = Start-Peer SelfSigned
        $relay = Start-SocketRelay -ComputerName localhost -Port $peer.Port -UseTls -PublicKeySha256 $selfSigned.PublicKeySha256
        $client = Connect-Socket -ComputerName 127.0.0.1 -Port $relay.Port

        Send-SocketData -Connection $client -InputObject 'through a pinned relay' -Line
        $null = Wait-TestProcessLine -Process $peer.Process -Pattern '^through a pinned relay$'
        $relay.ErrorCount | Should -Be 0

        $other = Start-Peer SelfSigned
        $wrong = Start-SocketRelay -ComputerName localhost -Port $other.Port -UseTls -PublicKeySha256 $server.PublicKeySha256
        $dropped = Connect-Socket -ComputerName 127.0.0.1 -Port $wrong.Port
        Receive-SocketData -Connection $dropped -ToEnd -TimeoutSeconds 20 | Should -BeNullOrEmpty
        Wait-TestCondition -Condition { $wrong.ErrorCount -eq 1 } -Description 'the pin mismatch being counted'
        $wrong.LastError | Should -BeLike "*does not match the pinned public key $($server.PublicKeySha256)*"
    }
}
