#Requires -Version 7.4
# ALPN (-ApplicationProtocol, NegotiatedApplicationProtocol) and cipher suites (-TlsCipherSuite)
# (issue 14 item 4), both ways against openssl: s_server -alpn / -ciphersuites / -cipher as the
# server for Connect-Socket, s_client -alpn as the client of Start-SocketServer and of
# Protect-SocketConnection as the server (after s_client -starttls smtp). Each side's own report
# (s_server's "ALPN protocols advertised", s_client's "ALPN protocol:", "CIPHER is") is checked
# against what SockPS says it negotiated.

BeforeAll {
    Import-Module $env:SOCKPS_MODULE_PATH -Force
    Import-Module "$PSScriptRoot/SockPS.TestHelpers.psm1" -Force
    Import-Module "$PSScriptRoot/SockPS.TlsTestHelpers.psm1" -Force

    $certs = New-TestCertificateSet -Directory (Join-Path -Path $TestDrive -ChildPath 'certs')

    function Start-Peer([string[]] $Extra = @()) {
        Start-TestOpenSslServer -ArgumentList (@('-cert', $certs.ServerPath, '-key', $certs.ServerKeyPath) + $Extra)
    }

    # s_client that verifies the SockPS server against ca.pem and prints its session summary
    # (no -quiet: that would hide the "ALPN protocol:" and "Cipher is" lines).
    function Start-OpenSslClient([int] $Port, [string[]] $Arguments = @()) {
        Start-TestProcess -FilePath 'openssl' -ArgumentList (@(
                's_client', '-connect', "127.0.0.1:$Port", '-CAfile', $certs.CaPath, '-servername', 'localhost',
                '-verify_hostname', 'localhost', '-verify_return_error'
            ) + $Arguments)
    }
}

AfterAll {
    Stop-TestProcess -All
}

Describe 'ALPN: Connect-Socket -ApplicationProtocol against openssl s_server -alpn' {
    AfterEach {
        Get-SocketConnection | Disconnect-Socket
        Stop-TestProcess -All
    }

    It 'negotiates <Chosen> when the server accepts <Server> and the client offers <Offered>' -ForEach @(
        @{ Server = 'h2,http/1.1'; Offered = @('h2', 'http/1.1'); Chosen = 'h2' }
        @{ Server = 'http/1.1'; Offered = @('h2', 'http/1.1'); Chosen = 'http/1.1' }
        @{ Server = 'h2,http/1.1'; Offered = @('http/1.1'); Chosen = 'http/1.1' }
    ) {
        $peer = Start-Peer -Extra '-alpn', $Server

        $connection = Connect-Socket -ComputerName localhost -Port $peer.Port -UseTls -CaCertificate $certs.CaPath -ApplicationProtocol $Offered

        $connection.NegotiatedApplicationProtocol | Should -BeExactly $Chosen
        $null = Wait-TestProcessLine -Process $peer.Process -Pattern "^ALPN protocols advertised by the client: $([regex]::Escape($Offered -join ', '))$" -FromStart
    }

    It 'leaves NegotiatedApplicationProtocol empty when the server has no ALPN, or the client offered none' {
        $plain = Start-Peer
        $offering = Connect-Socket -ComputerName localhost -Port $plain.Port -UseTls -CaCertificate $certs.CaPath -ApplicationProtocol h2
        $offering.IsTls | Should -BeTrue
        $offering.NegotiatedApplicationProtocol | Should -BeNullOrEmpty

        $alpn = Start-Peer -Extra '-alpn', 'h2'
        $silent = Connect-Socket -ComputerName localhost -Port $alpn.Port -UseTls -CaCertificate $certs.CaPath
        $silent.NegotiatedApplicationProtocol | Should -BeNullOrEmpty
        $alpn.Process.OutputLines | Should -Not -Match '^ALPN protocols advertised'
    }

    It 'offers ALPN on Invoke-SocketRequest too' {
        $peer = Start-Peer -Extra '-alpn', 'http/1.1', '-www'

        $answer = Invoke-SocketRequest -ComputerName localhost -Port $peer.Port -UseTls -CaCertificate $certs.CaPath -ApplicationProtocol 'http/1.1' `
            -InputObject "GET / HTTP/1.0`r`n`r`n" -ToEnd -TimeoutSeconds 20

        ($answer -join "`n") | Should -Match '^HTTP/1\.0 200 ok'
        $null = Wait-TestProcessLine -Process $peer.Process -Pattern '^ALPN protocols advertised by the client: http/1\.1$' -FromStart
    }
}

Describe 'ALPN towards a relay''s target' {
    AfterEach {
        Get-SocketConnection | Disconnect-Socket
        Get-SocketRelay | Stop-SocketRelay
        Stop-TestProcess -All
    }

    It 'Start-SocketRelay -UseTls -ApplicationProtocol offers ALPN to s_server for every client' {
        $peer = Start-Peer -Extra '-alpn', 'http/1.1'
        $relay = Start-SocketRelay -ComputerName localhost -Port $peer.Port -UseTls -CaCertificate $certs.CaPath -ApplicationProtocol h2, 'http/1.1'
        $client = Connect-Socket -ComputerName 127.0.0.1 -Port $relay.Port

        Send-SocketData -Connection $client -InputObject 'through the relay' -Line

        $null = Wait-TestProcessLine -Process $peer.Process -Pattern '^through the relay$'
        $null = Wait-TestProcessLine -Process $peer.Process -Pattern '^ALPN protocols advertised by the client: h2, http/1\.1$' -FromStart
        $relay.ErrorCount | Should -Be 0
    }
}

Describe 'ALPN: SockPS as the TLS server, openssl s_client -alpn as the client' {
    AfterEach {
        Get-SocketConnection | Disconnect-Socket
        Get-SocketServer | Stop-SocketServer
        Stop-TestProcess -All
    }

    It 'Start-SocketServer -ApplicationProtocol picks its first protocol the client offers' {
        $server = Start-SocketServer -Certificate $certs.Server -ApplicationProtocol h2, 'http/1.1'
        $client = Start-OpenSslClient -Port $server.Port -Arguments '-alpn', 'http/1.1,h2'

        $accepted = Wait-SocketConnection -Server $server -TimeoutSeconds 20

        $accepted.NegotiatedApplicationProtocol | Should -BeExactly 'h2'
        $null = Wait-TestProcessLine -Process $client -Pattern '^ALPN protocol: h2$'
    }

    It 'Start-SocketServer -ApplicationProtocol refuses a client that offers none of its protocols, and counts it' {
        $server = Start-SocketServer -Certificate $certs.Server -ApplicationProtocol h2
        $client = Start-OpenSslClient -Port $server.Port -Arguments '-alpn', 'spdy/1'

        $null = Wait-TestProcessExit -Process $client
        Wait-TestCondition -Condition { $server.TlsFailureCount -eq 1 } -Description 'the refused handshake being counted'
        $null = Wait-TestProcessLine -Process $client -Stream Error -Pattern 'no application protocol' -FromStart
        Wait-SocketConnection -Server $server -TimeoutSeconds 0.5 -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
    }

    It 'Protect-SocketConnection as the server offers ALPN after STARTTLS (s_client -starttls smtp -alpn)' {
        $server = Start-SocketServer -NewLine "`r`n"
        $client = Start-OpenSslClient -Port $server.Port -Arguments '-starttls', 'smtp', '-name', 'client.example', '-alpn', 'smtp,imap'
        $smtp = Wait-SocketConnection -Server $server -TimeoutSeconds 20
        Send-SocketData -Connection $smtp -InputObject '220 localhost ESMTP ready' -Line
        Receive-SocketData -Connection $smtp -Line -TimeoutSeconds 20 | Should -BeExactly 'EHLO client.example'
        Send-SocketData -Connection $smtp -InputObject '250-localhost', '250 STARTTLS' -Line
        Receive-SocketData -Connection $smtp -Line -TimeoutSeconds 20 | Should -BeExactly 'STARTTLS'
        Send-SocketData -Connection $smtp -InputObject '220 2.0.0 Ready to start TLS' -Line

        Protect-SocketConnection -Connection $smtp -Certificate $certs.Server -ApplicationProtocol imap, smtp

        $smtp.NegotiatedApplicationProtocol | Should -BeExactly 'imap'
        $null = Wait-TestProcessLine -Process $client -Pattern '^ALPN protocol: imap$'
    }
}

Describe 'Cipher suites: -TlsCipherSuite against openssl' {
    AfterEach {
        Get-SocketConnection | Disconnect-Socket
        Get-SocketServer | Stop-SocketServer
        Stop-TestProcess -All
    }

    It 'offers only the suites given: s_server chooses <Suite> (<Protocol>)' -ForEach @(
        @{ Protocol = 'Tls13'; Suite = 'TLS_CHACHA20_POLY1305_SHA256'; OpenSsl = 'TLS_CHACHA20_POLY1305_SHA256'; Extra = @() }
        @{ Protocol = 'Tls12'; Suite = 'TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384'; OpenSsl = 'ECDHE-ECDSA-AES256-GCM-SHA384'; Extra = @('-tls1_2') }
    ) {
        $peer = Start-Peer -Extra $Extra

        $connection = Connect-Socket -ComputerName localhost -Port $peer.Port -UseTls -CaCertificate $certs.CaPath -TlsProtocol $Protocol -TlsCipherSuite $Suite

        $connection.TlsProtocol | Should -Be $Protocol
        $connection.CipherSuite | Should -BeExactly $Suite
        $null = Wait-TestProcessLine -Process $peer.Process -Pattern "^CIPHER is $OpenSsl$" -FromStart
        $shared = Wait-TestProcessLine -Process $peer.Process -Pattern '^Shared ciphers:(.*)$' -FromStart
        $shared.Groups[1].Value | Should -BeExactly $OpenSsl -Because 'the client offered that suite and no other'
    }

    It 'fails the handshake when s_server allows none of the suites (-ciphersuites)' {
        $peer = Start-Peer -Extra '-tls1_3', '-ciphersuites', 'TLS_AES_128_GCM_SHA256'

        $connection = Connect-Socket -ComputerName localhost -Port $peer.Port -UseTls -CaCertificate $certs.CaPath -TlsCipherSuite TLS_CHACHA20_POLY1305_SHA256 `
            -ErrorAction SilentlyContinue -ErrorVariable failures

        $connection | Should -BeNullOrEmpty
        $failures | Should -HaveCount 1
        $failures[0].FullyQualifiedErrorId | Should -Be 'TlsAuthenticationFailed,SockPS.Commands.ConnectSocketCommand'
        $failures[0].Exception.Message | Should -BeLike '*cipher suites (-TlsCipherSuite)*'
    }

    It 'Start-SocketServer -TlsCipherSuite makes s_client use that suite' {
        $server = Start-SocketServer -Certificate $certs.Server -TlsCipherSuite TLS_AES_128_GCM_SHA256
        $client = Start-OpenSslClient -Port $server.Port

        $accepted = Wait-SocketConnection -Server $server -TimeoutSeconds 20

        $accepted.CipherSuite | Should -BeExactly 'TLS_AES_128_GCM_SHA256'
        $null = Wait-TestProcessLine -Process $client -Pattern '^New, TLSv1\.3, Cipher is TLS_AES_128_GCM_SHA256$'
    }
}

Describe 'Negotiation parameters that cannot work' {
    It 'refuses <Case>: InvalidArgument' -ForEach @(
        @{ Case = 'an unknown cipher suite'; Command = { Connect-Socket -ComputerName 127.0.0.1 -Port 9 -UseTls -TlsCipherSuite ECDHE-RSA-AES128-GCM-SHA256 }
            Id = 'InvalidArgument,SockPS.Commands.ConnectSocketCommand'; Says = "*'ECDHE-RSA-AES128-GCM-SHA256' is not a TLS cipher suite name*IANA name*" }
        @{ Case = 'an ALPN name longer than 255 bytes'; Command = { Connect-Socket -ComputerName 127.0.0.1 -Port 9 -UseTls -ApplicationProtocol ('x' * 256) }
            Id = 'InvalidArgument,SockPS.Commands.ConnectSocketCommand'; Says = '*is not an ALPN protocol name*' }
        @{ Case = 'ALPN without -UseTls'; Command = { Connect-Socket -ComputerName 127.0.0.1 -Port 9 -ApplicationProtocol h2 }
            Id = 'InvalidArgument,SockPS.Commands.ConnectSocketCommand'; Says = '*TLS settings: add -UseTls*' }
        @{ Case = 'a server ALPN list without a certificate'; Command = { Start-SocketServer -ApplicationProtocol h2 }
            Id = 'InvalidArgument,SockPS.Commands.StartSocketServerCommand'; Says = '*give the server certificate*' }
        @{ Case = 'a pin on the server side of Protect-SocketConnection'; Command = { Protect-SocketConnection -Id 1 -Certificate $certs.Server -PublicKeySha256 ('A' * 43 + '=') }
            Id = 'InvalidArgument,SockPS.Commands.ProtectSocketConnectionCommand'; Says = '*are for the client side*' }
        @{ Case = 'a relay ALPN list without -UseTls'; Command = { Start-SocketRelay -ComputerName 127.0.0.1 -Port 9 -ApplicationProtocol h2 }
            Id = 'InvalidArgument,SockPS.Commands.StartSocketRelayCommand'; Says = '*towards the target: add -UseTls*' }
    ) {
        { & $Command -ErrorAction Stop } | Should -Throw -ErrorId $Id -ExpectedMessage $Says
    }
}
