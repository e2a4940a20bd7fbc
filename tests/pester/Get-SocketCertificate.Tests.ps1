#Requires -Version 7.4
# Get-SocketCertificate (issue 14 item 3) against openssl s_server, a peer nobody here wrote,
# presenting certificates made at run time (SockPS.TlsTestHelpers.psm1): good (private CA),
# expired, not yet valid, wrong name and self-signed. openssl itself computes the hashes the
# results are checked against (Get-TestOpenSslCertificateHash). The STARTTLS dialogues run
# against real mail and FTP daemons in tests/integration/StartTls.Tests.ps1.

BeforeAll {
    Import-Module $env:SOCKPS_MODULE_PATH -Force
    Import-Module "$PSScriptRoot/SockPS.TestHelpers.psm1" -Force
    Import-Module "$PSScriptRoot/SockPS.TlsTestHelpers.psm1" -Force

    $certs = New-TestCertificateSet -Directory (Join-Path -Path $TestDrive -ChildPath 'certs')
    $hashes = @{}
    foreach ($name in 'Server', 'SelfSigned', 'WrongName') {
        $hashes[$name] = Get-TestOpenSslCertificateHash -Path $certs."${name}Path" -WorkDirectory (Join-Path -Path $TestDrive -ChildPath 'hashes')
    }

    function Start-Peer([string] $Name, [string[]] $Extra = @()) {
        Start-TestOpenSslServer -ArgumentList (@('-cert', $certs."${Name}Path", '-key', $certs."${Name}KeyPath") + $Extra)
    }
}

AfterAll {
    Stop-TestProcess -All
}

Describe 'Get-SocketCertificate against openssl s_server' {
    AfterEach {
        Get-SocketServer | Stop-SocketServer
        Stop-TestProcess -All
    }

    It 'reports a good certificate from a trusted private CA: names, dates, hashes, chain, protocol' {
        $peer = Start-Peer Server

        $result = Get-SocketCertificate -ComputerName localhost -Port $peer.Port -CaCertificate $certs.CaPath

        $result.PSObject.TypeNames[0] | Should -Be 'SockPS.Core.SocketCertificate'
        $result.ComputerName | Should -Be 'localhost'
        $result.Port | Should -Be $peer.Port
        $result.EndPoint | Should -Be "localhost:$($peer.Port)"
        $result.Subject | Should -Be 'CN=localhost'
        $result.CommonName | Should -Be 'localhost'
        $result.DnsNames | Should -Be @('localhost')
        @($result.IPAddresses | ForEach-Object ToString) | Should -Be @('127.0.0.1', '::1')
        $result.Issuer | Should -Be 'CN=SockPS Pester Test CA'
        $result.NotBefore | Should -Be $certs.Server.NotBefore
        $result.NotAfter | Should -Be $certs.Server.NotAfter
        $result.DaysLeft | Should -BeIn @(29, 30) -Because 'the certificate ends 30 days after it was made, moments ago'
        $result.Thumbprint | Should -Be $certs.Server.Thumbprint
        $result.Thumbprint | Should -Be ($hashes.Server.FingerprintSha1 -replace ':')
        $result.ThumbprintSha256 | Should -Be ($hashes.Server.FingerprintSha256 -replace ':')
        $result.PublicKeySha256 | Should -BeExactly $hashes.Server.PublicKeySha256 -Because 'openssl hashes the same SubjectPublicKeyInfo'
        $result.PublicKeySha256Hex | Should -Be $hashes.Server.PublicKeySha256Hex
        $result.Certificate.Thumbprint | Should -Be $certs.Server.Thumbprint
        @($result.Chain.Subject) | Should -Be @('CN=localhost', 'CN=SockPS Pester Test CA')
        $result.Chain[1].Thumbprint | Should -Be $certs.Ca.Thumbprint
        $result.IsTrusted | Should -BeTrue
        $result.Problems | Should -Be 'None'
        $result.ValidationErrors | Should -BeNullOrEmpty
        $result.PinMatched | Should -BeNullOrEmpty
        $result.RevocationCheck | Should -Be 'Off'
        $result.TlsProtocol | Should -Be 'Tls13'
        $cipher = Wait-TestProcessLine -Process $peer.Process -Pattern '^CIPHER is (\S+)$' -FromStart
        $result.CipherSuite | Should -BeExactly $cipher.Groups[1].Value
        $result.NegotiatedApplicationProtocol | Should -BeNullOrEmpty
    }

    It 'reports a chain this machine does not trust, without failing' {
        $peer = Start-Peer Server

        $result = Get-SocketCertificate -ComputerName localhost -Port $peer.Port -ErrorVariable failures

        $failures | Should -BeNullOrEmpty
        $result.IsTrusted | Should -BeFalse
        $result.Problems | Should -Be 'UntrustedRoot'
        $result.ValidationErrors | Should -HaveCount 1
        $result.ValidationErrors[0] | Should -BeLike "The certificate presented by localhost:$($peer.Port) (localhost) is issued by SockPS Pester Test CA, which this machine does not trust*"
        @($result.Chain.Subject) | Should -Be @('CN=localhost') -Because 's_server sends only its own certificate, and the CA is not known here'
    }

    It 'reports every problem of the certificate: <Case>' -ForEach @(
        @{ Case = 'expired, CA trusted'; Name = 'Expired'; Server = 'localhost'; Trust = $true; Problems = 'Expired'; Says = @('*expired on ????-??-?? ??:?? UTC*') }
        @{ Case = 'expired, CA unknown, wrong name'; Name = 'Expired'; Server = 'elsewhere.example'; Trust = $false
            Problems = 'NameMismatch, UntrustedRoot, Expired'; Says = @('*expired on*', '*which this machine does not trust*', '*is issued to localhost, 127.0.0.1, not elsewhere.example*') }
        @{ Case = 'not yet valid'; Name = 'NotYetValid'; Server = 'localhost'; Trust = $true; Problems = 'NotYetValid'; Says = @('*is not valid until ????-??-?? ??:?? UTC*') }
        @{ Case = 'wrong name'; Name = 'WrongName'; Server = 'localhost'; Trust = $true; Problems = 'NameMismatch'; Says = @('*is issued to elsewhere.example, not localhost*') }
        @{ Case = 'self-signed'; Name = 'SelfSigned'; Server = 'localhost'; Trust = $false; Problems = 'UntrustedRoot'; Says = @('*(localhost) is issued by localhost, which this machine does not trust*') }
    ) {
        $peer = Start-Peer $Name
        $trust = if ($Trust) { @{ CaCertificate = $certs.CaPath } } else { @{} }

        $result = Get-SocketCertificate -ComputerName 127.0.0.1 -Port $peer.Port -ServerName $Server @trust

        $result.IsTrusted | Should -BeFalse
        $result.Problems | Should -Be $Problems
        $result.ValidationErrors | Should -HaveCount $Says.Count
        for ($i = 0; $i -lt $Says.Count; $i++) {
            $result.ValidationErrors[$i] | Should -BeLike $Says[$i]
        }
        $result.Thumbprint | Should -Be $certs.$Name.Thumbprint
    }

    It 'counts the days left as negative once expired' {
        $peer = Start-Peer Expired

        (Get-SocketCertificate -ComputerName localhost -Port $peer.Port).DaysLeft | Should -Be -3 -Because 'it expired two days ago, and a part day is a whole day gone'
    }

    It 'checks pins as Connect-Socket would: a matching key makes a self-signed certificate trusted' {
        $peer = Start-Peer SelfSigned

        $result = Get-SocketCertificate -ComputerName localhost -Port $peer.Port -PublicKeySha256 $hashes.SelfSigned.PublicKeySha256

        $result.PinMatched | Should -BeTrue
        $result.IsTrusted | Should -BeTrue
        $result.Problems | Should -Be 'UntrustedRoot' -Because 'the chain problem is still reported, as a fact'
        $result.ValidationErrors[0] | Should -BeLike '*which this machine does not trust*(Not decisive: the certificate matches a pin.)'
    }

    It 'reports a pin that does not match, with both values' {
        $peer = Start-Peer Server

        $result = Get-SocketCertificate -ComputerName localhost -Port $peer.Port -CaCertificate $certs.CaPath -CertificateThumbprint $certs.SelfSigned.Thumbprint

        $result.PinMatched | Should -BeFalse
        $result.IsTrusted | Should -BeFalse
        $result.Problems | Should -Be 'PinMismatch'
        $result.ValidationErrors[0] | Should -BeLike "*does not match the pinned thumbprint $($certs.SelfSigned.Thumbprint): it presented public key $($hashes.Server.PublicKeySha256), thumbprint $($certs.Server.Thumbprint)*"
    }

    It 'offers ALPN and reports what s_server chose (-alpn <Server>, offered <Offered>)' -ForEach @(
        @{ Server = 'h2,http/1.1'; Offered = @('http/1.1', 'h2'); Chosen = 'h2' }
        @{ Server = 'http/1.1'; Offered = @('h2', 'http/1.1'); Chosen = 'http/1.1' }
    ) {
        $peer = Start-Peer Server -Extra '-alpn', $Server

        $result = Get-SocketCertificate -ComputerName localhost -Port $peer.Port -ApplicationProtocol $Offered

        $result.NegotiatedApplicationProtocol | Should -BeExactly $Chosen
        $null = Wait-TestProcessLine -Process $peer.Process -Pattern "^ALPN protocols advertised by the client: $([regex]::Escape($Offered -join ', '))$" -FromStart
    }

    It 'checks many endpoints at once, writes them in input order, and one that fails is a non-terminating error' {
        $first = Start-Peer Server
        $second = Start-Peer WrongName
        $closed = Get-TestFreeTcpPort

        $results = Get-SocketCertificate -ComputerName 127.0.0.1 -Port $first.Port, $closed, $second.Port -ServerName localhost `
            -CaCertificate $certs.CaPath -ThrottleLimit 3 -ErrorAction SilentlyContinue -ErrorVariable failures

        $results | Should -HaveCount 2
        $results[0].Port | Should -Be $first.Port
        $results[0].IsTrusted | Should -BeTrue
        $results[1].Port | Should -Be $second.Port
        $results[1].Problems | Should -Be 'NameMismatch'
        $failures | Should -HaveCount 1
        $failures[0].FullyQualifiedErrorId | Should -Be 'ConnectionRefused,SockPS.Commands.GetSocketCertificateCommand'
        $failures[0].TargetObject | Should -Be "127.0.0.1:$closed"
    }

    It 'takes hosts from the pipeline and ports by property name' {
        $peer = Start-Peer Server

        $result = [pscustomobject]@{ ComputerName = 'localhost'; Port = $peer.Port } | Get-SocketCertificate -CaCertificate $certs.CaPath

        $result.EndPoint | Should -Be "localhost:$($peer.Port)"
        $result.IsTrusted | Should -BeTrue
    }

    It 'gives up on a port that does not speak TLS within -TimeoutSeconds, and says -StartTls may help' {
        $plain = Start-SocketServer    # accepts, and never answers the ClientHello

        $result = Get-SocketCertificate -ComputerName 127.0.0.1 -Port $plain.Port -TimeoutSeconds 1 -ErrorAction SilentlyContinue -ErrorVariable failures

        $result | Should -BeNullOrEmpty
        $failures | Should -HaveCount 1
        $failures[0].FullyQualifiedErrorId | Should -Be 'ConnectTimeout,SockPS.Commands.GetSocketCertificateCommand'
        $failures[0].Exception.Message | Should -BeLike "Connected to 127.0.0.1:$($plain.Port), but it did not finish the TLS handshake within 1 second.*-StartTls*"
    }

    It 'says what the server answered when it does not speak the -StartTls protocol: StartTlsRefused' {
        # A POP3-style greeting where SMTP's 220 is due.
        $peer = Start-SocketServer -ScriptBlock { param($Connection) $Connection.SendLine('+OK POP3 ready'); $null = $Connection.ReceiveLine() }

        $result = Get-SocketCertificate -ComputerName 127.0.0.1 -Port $peer.Port -StartTls Smtp -ErrorAction SilentlyContinue -ErrorVariable failures

        $result | Should -BeNullOrEmpty
        $failures | Should -HaveCount 1
        $failures[0].FullyQualifiedErrorId | Should -Be 'StartTlsRefused,SockPS.Commands.GetSocketCertificateCommand'
        $failures[0].CategoryInfo.Category | Should -Be 'ProtocolError'
        $failures[0].Exception.Message | Should -Be "The server at 127.0.0.1:$($peer.Port) does not answer as an SMTP server: it said `"+OK POP3 ready`". Check the port, and the protocol asked for (Smtp). -StartTls names the protocol."
    }

    It 'uses the -StartTls protocol''s port when no -Port is given' {
        $result = Get-SocketCertificate -ComputerName 127.0.0.1 -StartTls Pop3 -TimeoutSeconds 2 -ErrorAction SilentlyContinue -ErrorVariable failures

        $result | Should -BeNullOrEmpty
        $failures | Should -HaveCount 1
        $failures[0].TargetObject | Should -Be '127.0.0.1:110'
    }

    It 'refuses <Case> before connecting: InvalidArgument' -ForEach @(
        @{ Case = 'a throttle below 1'; Splat = @{ ThrottleLimit = 0 } }
        @{ Case = 'a malformed pin'; Splat = @{ PublicKeySha256 = 'sha256//not-base64' } }
        @{ Case = 'an unknown cipher suite'; Splat = @{ TlsCipherSuite = 'TLS_NOT_A_SUITE' } }
    ) {
        { Get-SocketCertificate -ComputerName 127.0.0.1 -Port 443 @Splat -ErrorAction Stop } |
            Should -Throw -ErrorId 'InvalidArgument,SockPS.Commands.GetSocketCertificateCommand'
    }
}
