#Requires -Version 7.4
# Peers nobody here wrote: openssl s_server as the server for Connect-Socket -UseTls, openssl
# s_client as a client of Start-SocketServer -Certificate, and s_client -starttls smtp against
# a small SMTP-like SockPS server that upgrades with Protect-SocketConnection. Certificates are
# made at run time (SockPS.TlsTestHelpers.psm1) and written as PEM files for openssl.
#
# s_server runs without -quiet: -quiet also hides "ACCEPT", the only sign it is listening. Its
# other output (session details, then what it receives, line by line) is matched by pattern.
# s_server cannot bind port 0 and report it, so it gets a port found free a moment before, and
# Start-TestListeningPeer retries once on another port if that one was taken in between.

BeforeAll {
    Import-Module $env:SOCKPS_MODULE_PATH -Force
    Import-Module "$PSScriptRoot/SockPS.TestHelpers.psm1" -Force
    Import-Module "$PSScriptRoot/SockPS.TlsTestHelpers.psm1" -Force

    $openssl = Get-Command -Name openssl -CommandType Application -ErrorAction SilentlyContinue | Select-Object -First 1
    if (-not $openssl) {
        throw 'openssl is not installed; .ci/run installs it (apt-get install openssl).'
    }

    $certs = New-TestCertificateSet -Directory (Join-Path -Path $TestDrive -ChildPath 'certs')

    # `openssl s_client -connect 127.0.0.1:<Port>` that verifies the chain against ca.pem and the
    # name localhost, and gives up on any verification error; -quiet prints only the data
    # received on stdout (the verification steps go to stderr).
    function Start-OpenSslClient([int] $Port, [string[]] $Arguments = @()) {
        Start-TestProcess -FilePath 'openssl' -ArgumentList (@(
                's_client', '-connect', "127.0.0.1:$Port", '-CAfile', $certs.CaPath, '-servername', 'localhost',
                '-verify_hostname', 'localhost', '-verify_return_error', '-quiet'
            ) + $Arguments)
    }
}

AfterAll {
    Stop-TestProcess -All
}

Describe 'openssl s_server as the server for Connect-Socket -UseTls' {
    AfterEach {
        Get-SocketConnection | Disconnect-Socket
        Stop-TestProcess -All
    }

    It 'talks both ways with s_server, trusting the private CA from ca.pem' {
        $peer = Start-TestOpenSslServer -ArgumentList '-cert', $certs.ServerPath, '-key', $certs.ServerKeyPath

        $connection = Connect-Socket -ComputerName localhost -Port $peer.Port -UseTls -CaCertificate $certs.CaPath

        $connection.IsTls | Should -BeTrue
        $connection.TlsProtocol | Should -Be 'Tls13'
        $connection.RemoteCertificate.Thumbprint | Should -Be $certs.Server.Thumbprint
        # s_server names the suite it chose; SockPS must show the same.
        $cipher = Wait-TestProcessLine -Process $peer.Process -Pattern '^CIPHER is (\S+)$' -FromStart
        $connection.CipherSuite | Should -BeExactly $cipher.Groups[1].Value

        Send-SocketData -Connection $connection -InputObject 'hello from SockPS', 'ünïcödé from SockPS' -Line
        $null = Wait-TestProcessLine -Process $peer.Process -Pattern '^hello from SockPS$'
        $null = Wait-TestProcessLine -Process $peer.Process -Pattern '^ünïcödé from SockPS$'
        $peer.Process.WriteInput('hello from openssl')
        Receive-SocketData -Connection $connection -Line -TimeoutSeconds 20 | Should -BeExactly 'hello from openssl'

        # s_server (-naccept 1) ends cleanly once SockPS closes.
        Disconnect-Socket -Connection $connection
        Wait-TestProcessExit -Process $peer.Process | Should -Be 0 -Because $peer.Process.Transcript()
        $peer.Process.OutputLines | Should -Contain 'CONNECTION CLOSED'
    }

    It 'shows the TLS 1.3 suite s_server was limited to (-ciphersuites TLS_CHACHA20_POLY1305_SHA256)' {
        $peer = Start-TestOpenSslServer -ArgumentList '-cert', $certs.ServerPath, '-key', $certs.ServerKeyPath, '-tls1_3', '-ciphersuites', 'TLS_CHACHA20_POLY1305_SHA256'

        $connection = Connect-Socket -ComputerName localhost -Port $peer.Port -UseTls -CaCertificate $certs.CaPath

        $connection.TlsProtocol | Should -Be 'Tls13'
        $connection.CipherSuite | Should -BeExactly 'TLS_CHACHA20_POLY1305_SHA256'
    }

    It 'speaks TLS 1.2 to s_server -tls1_2 and names the suite' {
        $peer = Start-TestOpenSslServer -ArgumentList '-cert', $certs.ServerPath, '-key', $certs.ServerKeyPath, '-tls1_2', '-cipher', 'ECDHE-ECDSA-AES128-GCM-SHA256'

        $connection = Connect-Socket -ComputerName localhost -Port $peer.Port -UseTls -CaCertificate $certs.CaPath

        $connection.TlsProtocol | Should -Be 'Tls12'
        $connection.CipherSuite | Should -BeExactly 'TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256'
        $null = Wait-TestProcessLine -Process $peer.Process -Pattern '^CIPHER is ECDHE-ECDSA-AES128-GCM-SHA256$' -FromStart
        Send-SocketData -Connection $connection -InputObject 'over TLS 1.2' -Line
        $null = Wait-TestProcessLine -Process $peer.Process -Pattern '^over TLS 1\.2$'
    }

    It 'sends the host name as SNI: s_server picks the certificate for "localhost"' {
        # By default s_server presents the wrong-name certificate; only a client that sends
        # SNI "localhost" gets the right one.
        $peer = Start-TestOpenSslServer -ArgumentList '-cert', $certs.WrongNamePath, '-key', $certs.WrongNameKeyPath,
        '-servername', 'localhost', '-cert2', $certs.ServerPath, '-key2', $certs.ServerKeyPath

        $connection = Connect-Socket -ComputerName localhost -Port $peer.Port -UseTls -CaCertificate $certs.CaPath

        $connection.RemoteCertificate.Thumbprint | Should -Be $certs.Server.Thumbprint
        $null = Wait-TestProcessLine -Process $peer.Process -Pattern '^Hostname in TLS extension: "localhost"$' -FromStart
    }

    It 'sends -ServerName as SNI when connecting to an address, and checks the certificate against it' {
        $peer = Start-TestOpenSslServer -ArgumentList '-cert', $certs.ServerPath, '-key', $certs.ServerKeyPath,
        '-servername', 'elsewhere.example', '-cert2', $certs.WrongNamePath, '-key2', $certs.WrongNameKeyPath

        $connection = Connect-Socket -ComputerName 127.0.0.1 -Port $peer.Port -UseTls -ServerName elsewhere.example -CaCertificate $certs.CaPath

        $connection.RemoteCertificate.Subject | Should -Be 'CN=elsewhere.example'
        $null = Wait-TestProcessLine -Process $peer.Process -Pattern '^Hostname in TLS extension: "elsewhere\.example"$' -FromStart
    }

    It 'presents -ClientCertificate when s_server requires one (-Verify)' {
        $peer = Start-TestOpenSslServer -ArgumentList '-cert', $certs.ServerPath, '-key', $certs.ServerKeyPath,
        '-Verify', '1', '-CAfile', $certs.CaPath, '-verify_return_error'

        $connection = Connect-Socket -ComputerName localhost -Port $peer.Port -UseTls -CaCertificate $certs.CaPath -ClientCertificate $certs.Client
        Send-SocketData -Connection $connection -InputObject 'mutual hello' -Line

        $null = Wait-TestProcessLine -Process $peer.Process -Pattern '^mutual hello$'
        $null = Wait-TestProcessLine -Process $peer.Process -Stream Any -Pattern '^subject=CN ?= ?sockps-client$' -FromStart
    }

    It 'refuses the certificate of an s_server for another name: TlsAuthenticationFailed' {
        $peer = Start-TestOpenSslServer -ArgumentList '-cert', $certs.WrongNamePath, '-key', $certs.WrongNameKeyPath

        $connection = Connect-Socket -ComputerName localhost -Port $peer.Port -UseTls -CaCertificate $certs.CaPath `
            -ErrorAction SilentlyContinue -ErrorVariable failures

        $connection | Should -BeNullOrEmpty
        $failures.Count | Should -Be 1
        $failures[0].FullyQualifiedErrorId | Should -Be 'TlsAuthenticationFailed,SockPS.Commands.ConnectSocketCommand'
        $failures[0].CategoryInfo.Category | Should -Be 'SecurityError'
        $failures[0].Exception.Message | Should -BeLike "The certificate presented by localhost:$($peer.Port) is issued to elsewhere.example, not localhost*"
    }

    It 'fails with TlsAuthenticationFailed when s_server allows no version the client offers' {
        $peer = Start-TestOpenSslServer -ArgumentList '-cert', $certs.ServerPath, '-key', $certs.ServerKeyPath, '-tls1_3'

        $connection = Connect-Socket -ComputerName localhost -Port $peer.Port -UseTls -CaCertificate $certs.CaPath -TlsProtocol Tls12 `
            -ErrorAction SilentlyContinue -ErrorVariable failures

        $connection | Should -BeNullOrEmpty
        $failures.Count | Should -Be 1
        $failures[0].FullyQualifiedErrorId | Should -Be 'TlsAuthenticationFailed,SockPS.Commands.ConnectSocketCommand'
        $failures[0].CategoryInfo.Category | Should -Be 'SecurityError'
        $failures[0].Exception.Message | Should -BeLike "The TLS handshake with localhost:$($peer.Port) failed*versions (-TlsProtocol)*"
    }
}

Describe 'openssl s_client as a client of Start-SocketServer -Certificate' {
    AfterEach {
        Get-SocketConnection | Disconnect-Socket
        Get-SocketServer | Stop-SocketServer
        Stop-TestProcess -All
    }

    It 'verifies the SockPS server (ca.pem, name localhost) and talks both ways' {
        $server = Start-SocketServer -Certificate $certs.Server
        $client = Start-OpenSslClient -Port $server.Port

        $accepted = Wait-SocketConnection -Server $server -TimeoutSeconds 20

        $accepted.IsTls | Should -BeTrue
        $accepted.TlsProtocol | Should -Be 'Tls13'
        $null = Wait-TestProcessLine -Process $client -Stream Error -Pattern '^depth=0 CN ?= ?localhost$' -FromStart
        $null = Wait-TestProcessLine -Process $client -Stream Error -Pattern '^verify return:1$'
        Send-SocketData -Connection $accepted -InputObject 'hello from SockPS' -Line
        $null = Wait-TestProcessLine -Process $client -Pattern '^hello from SockPS$'
        $client.WriteInput('hello from s_client')
        Receive-SocketData -Connection $accepted -Line -TimeoutSeconds 20 | Should -BeExactly 'hello from s_client'
        # s_client ends cleanly when SockPS closes.
        Disconnect-Socket -Connection $accepted
        Wait-TestProcessExit -Process $client | Should -Be 0 -Because $client.Transcript()
    }

    It 'speaks TLS 1.2 when s_client asks for it (-tls1_2)' {
        $server = Start-SocketServer -Certificate $certs.Server
        $client = Start-OpenSslClient -Port $server.Port -Arguments '-tls1_2'

        $accepted = Wait-SocketConnection -Server $server -TimeoutSeconds 20

        $accepted.TlsProtocol | Should -Be 'Tls12'
        Send-SocketData -Connection $accepted -InputObject 'tls 1.2 to s_client' -Line
        $null = Wait-TestProcessLine -Process $client -Pattern '^tls 1\.2 to s_client$'
    }

    It 'sees the certificate s_client presents (-cert/-key) to -RequireClientCertificate' {
        $server = Start-SocketServer -Certificate $certs.Server -RequireClientCertificate -CaCertificate $certs.CaPath
        $client = Start-OpenSslClient -Port $server.Port -Arguments '-cert', $certs.ClientPath, '-key', $certs.ClientKeyPath

        $accepted = Wait-SocketConnection -Server $server -TimeoutSeconds 20

        $accepted.RemoteCertificate.Subject | Should -Be 'CN=sockps-client'
        $accepted.RemoteCertificate.Thumbprint | Should -Be $certs.Client.Thumbprint
        $client.WriteInput('with a client certificate')
        Receive-SocketData -Connection $accepted -Line -TimeoutSeconds 20 | Should -BeExactly 'with a client certificate'
    }

    It 'counts an s_client without a certificate as a TLS failure when one is required' {
        $server = Start-SocketServer -Certificate $certs.Server -RequireClientCertificate -CaCertificate $certs.CaPath
        $null = Start-OpenSslClient -Port $server.Port

        Wait-TestCondition -Condition { $server.TlsFailureCount -ge 1 } -Description 'the refused s_client being counted'

        $server.LastTlsError | Should -BeLike 'The client 127.0.0.1:* presented no certificate, and this server requires one*'
        # Nothing waits for Wait-SocketConnection, and nothing is open.
        $server.PendingCount | Should -Be 0
        $server.ConnectionCount | Should -Be 0
    }
}

Describe 'openssl s_client -starttls smtp against a SockPS SMTP-like server' {
    AfterEach {
        Get-SocketConnection | Disconnect-Socket
        Get-SocketServer | Stop-SocketServer
        Stop-TestProcess -All
    }

    It 'greets, answers EHLO with STARTTLS, upgrades with Protect-SocketConnection and talks over TLS' {
        $server = Start-SocketServer -NewLine "`r`n"
        $client = Start-OpenSslClient -Port $server.Port -Arguments '-starttls', 'smtp', '-name', 'client.example'
        $smtp = Wait-SocketConnection -Server $server -TimeoutSeconds 20

        # The dialogue s_client -starttls smtp expects: a 220 greeting, a multi-line EHLO reply
        # that names STARTTLS, and a 220 go-ahead. -Line strips the CRLF.
        Send-SocketData -Connection $smtp -InputObject '220 localhost ESMTP SockPS test server ready' -Line
        Receive-SocketData -Connection $smtp -Line -TimeoutSeconds 20 | Should -BeExactly 'EHLO client.example'
        Send-SocketData -Connection $smtp -InputObject '250-localhost greets client.example', '250-8BITMIME', '250 STARTTLS' -Line
        Receive-SocketData -Connection $smtp -Line -TimeoutSeconds 20 | Should -BeExactly 'STARTTLS'
        Send-SocketData -Connection $smtp -InputObject '220 2.0.0 Ready to start TLS' -Line
        Protect-SocketConnection -Connection $smtp -CertificatePath $certs.ServerPath -KeyPath $certs.ServerKeyPath

        $smtp.IsTls | Should -BeTrue
        $smtp.TlsProtocol | Should -Be 'Tls13'
        # s_client checked the certificate (-verify_return_error) before going on.
        $null = Wait-TestProcessLine -Process $client -Stream Error -Pattern '^depth=0 CN ?= ?localhost$' -FromStart
        Send-SocketData -Connection $smtp -InputObject '250 hello again, over TLS' -Line
        $null = Wait-TestProcessLine -Process $client -Pattern '^250 hello again, over TLS$'
        $client.WriteInput('QUIT')
        Receive-SocketData -Connection $smtp -Line -TimeoutSeconds 20 | Should -BeExactly 'QUIT'
        Send-SocketData -Connection $smtp -InputObject '221 2.0.0 Bye' -Line
        $null = Wait-TestProcessLine -Process $client -Pattern '^221 2\.0\.0 Bye$'
        Disconnect-Socket -Connection $smtp
        Wait-TestProcessExit -Process $client | Should -Be 0 -Because $client.Transcript()
    }
}
