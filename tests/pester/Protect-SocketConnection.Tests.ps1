#Requires -Version 7.4
# Protect-SocketConnection: STARTTLS, the upgrade of a plain connection to TLS in place. Both
# ends of a handshake wait for it to finish, so the other end runs in a second runspace
# (Start-TestSideCommand). Certificates are made at run time (SockPS.TlsTestHelpers.psm1).

BeforeAll {
    Import-Module $env:SOCKPS_MODULE_PATH -Force
    Import-Module "$PSScriptRoot/SockPS.TestHelpers.psm1" -Force
    Import-Module "$PSScriptRoot/SockPS.TlsTestHelpers.psm1" -Force

    $certs = New-TestCertificateSet -Directory (Join-Path -Path $TestDrive -ChildPath 'certs')

    # The server end of an upgrade, in a second runspace; splats $Parameters onto
    # Protect-SocketConnection and outputs the connection.
    function Start-ServerUpgrade([SockPS.Core.SocketConnection] $Connection, [hashtable] $Parameters) {
        Start-TestSideCommand -ArgumentList $Connection, $Parameters -ScriptBlock {
            param($Connection, $Parameters)
            Protect-SocketConnection -Connection $Connection @Parameters -PassThru
        }
    }
}

Describe 'Protect-SocketConnection' {
    BeforeEach {
        $pair = New-TestConnectionPair
        $side = $null
    }

    AfterEach {
        Stop-TestSideCommand -Side $side
        Get-SocketConnection | Disconnect-Socket
        Get-SocketServer | Stop-SocketServer
    }

    Context 'STARTTLS between two SockPS ends' {
        It 'upgrades both ends in place, with plain data before and encrypted data after' {
            $client = $pair.Client
            $accepted = $pair.Accepted
            Send-SocketData -Connection $client -InputObject 'EHLO client.example' -Line
            Receive-SocketData -Connection $accepted -Line | Should -BeExactly 'EHLO client.example'
            Send-SocketData -Connection $accepted -InputObject '250-localhost', '250 STARTTLS' -Line
            Receive-SocketData -Connection $client -Line | Should -BeExactly '250-localhost'
            Receive-SocketData -Connection $client -Line | Should -BeExactly '250 STARTTLS'
            Send-SocketData -Connection $client -InputObject 'STARTTLS' -Line
            Receive-SocketData -Connection $accepted -Line | Should -BeExactly 'STARTTLS'
            Send-SocketData -Connection $accepted -InputObject '220 go ahead' -Line
            Receive-SocketData -Connection $client -Line | Should -BeExactly '220 go ahead'
            $client.IsTls | Should -BeFalse

            $side = Start-ServerUpgrade -Connection $accepted -Parameters @{ Certificate = $certs.Server }
            Protect-SocketConnection -Connection $client -CaCertificate $certs.CaPath
            $serverEnd = Wait-TestSideCommand -Side $side

            $serverEnd.Errors | Should -BeNullOrEmpty
            $serverEnd.Output | ForEach-Object InstanceId | Should -Be $accepted.InstanceId -Because '-PassThru outputs the connection'
            $client.IsTls | Should -BeTrue
            $accepted.IsTls | Should -BeTrue
            $client.Transport | Should -Be 'Tls'
            $client.TlsProtocol | Should -Be 'Tls13'
            $client.CipherSuite | Should -Be $accepted.CipherSuite
            $client.RemoteCertificate.Thumbprint | Should -Be $certs.Server.Thumbprint
            $client.State | Should -Be 'Open'
            Send-SocketData -Connection $client -InputObject 'EHLO again, encrypted' -Line
            Receive-SocketData -Connection $accepted -Line | Should -BeExactly 'EHLO again, encrypted'
            Send-SocketData -Connection $accepted -InputObject '250 ünïcödé over TLS' -Line
            Receive-SocketData -Connection $client -Line | Should -BeExactly '250 ünïcödé over TLS'
        }

        It 'hands bytes that arrived before the upgrade to the handshake: nothing lost, nothing read twice' {
            $client = $pair.Client
            $accepted = $pair.Accepted
            Send-SocketData -Connection $client -InputObject 'STARTTLS' -Line
            Receive-SocketData -Connection $accepted -Line | Should -BeExactly 'STARTTLS'
            $before = $accepted.BytesReceived

            # The client starts first; the server upgrades only once the ClientHello sits unread
            # in its buffer, so the handshake must begin with bytes already received.
            $side = Start-TestSideCommand -ArgumentList $client, $certs.CaPath -ScriptBlock {
                param($Connection, $Ca)
                Protect-SocketConnection -Connection $Connection -CaCertificate $Ca
                Send-SocketData -Connection $Connection -InputObject 'first line over TLS' -Line
            }
            Wait-TestCondition -Condition { $accepted.BytesReceived -gt $before } -Description 'the ClientHello arriving before the server upgrades'
            Protect-SocketConnection -Connection $accepted -Certificate $certs.Server
            $clientEnd = Wait-TestSideCommand -Side $side

            $clientEnd.Errors | Should -BeNullOrEmpty
            $accepted.IsTls | Should -BeTrue
            Receive-SocketData -Connection $accepted -Line | Should -BeExactly 'first line over TLS'
            # The handshake's bytes are not counted as data received.
            $accepted.BytesReceived | Should -Be ($before + 'first line over TLS'.Length + 1)
        }

        It 'checks -ServerName against a certificate for a DNS name only' {
            $side = Start-ServerUpgrade -Connection $pair.Accepted -Parameters @{ Certificate = $certs.WrongName }

            Protect-SocketConnection -Connection $pair.Client -ServerName elsewhere.example -CaCertificate $certs.CaPublic
            $serverEnd = Wait-TestSideCommand -Side $side

            $serverEnd.Errors | Should -BeNullOrEmpty
            $pair.Client.RemoteCertificate.Subject | Should -Be 'CN=elsewhere.example'
        }

        It 'mutual TLS: -RequireClientCertificate on the server, -ClientCertificate on the client' {
            $side = Start-ServerUpgrade -Connection $pair.Accepted -Parameters @{
                Certificate = $certs.Server; RequireClientCertificate = $true; CaCertificate = $certs.CaPath
            }

            Protect-SocketConnection -Connection $pair.Client -CaCertificate $certs.CaPath -ClientCertificate $certs.Client
            $serverEnd = Wait-TestSideCommand -Side $side

            $serverEnd.Errors | Should -BeNullOrEmpty
            $pair.Accepted.RemoteCertificate.Subject | Should -Be 'CN=sockps-client'
            $pair.Accepted.RemoteCertificate.Thumbprint | Should -Be $certs.Client.Thumbprint
            $pair.Client.RemoteCertificate.Thumbprint | Should -Be $certs.Server.Thumbprint
            Send-SocketData -Connection $pair.Client -InputObject 'mutual' -Line
            Receive-SocketData -Connection $pair.Accepted -Line | Should -BeExactly 'mutual'
        }

        It 'mutual TLS from files: server -CertificatePath/-KeyPath (PEM), client -ClientCertificatePath (PFX)' {
            $side = Start-ServerUpgrade -Connection $pair.Accepted -Parameters @{
                CertificatePath = $certs.ServerPath; KeyPath = $certs.ServerKeyPath
                RequireClientCertificate = $true; CaCertificate = $certs.CaPublic
            }

            Protect-SocketConnection -Connection $pair.Client -CaCertificate $certs.CaPath `
                -ClientCertificatePath $certs.ClientPfxPath -CertificatePassword $certs.PfxPassword
            $serverEnd = Wait-TestSideCommand -Side $side

            $serverEnd.Errors | Should -BeNullOrEmpty
            $pair.Accepted.RemoteCertificate.Thumbprint | Should -Be $certs.Client.Thumbprint
            $pair.Client.RemoteCertificate.Thumbprint | Should -Be $certs.Server.Thumbprint
        }

        It '-SkipCertificateCheck writes one warning and upgrades against a self-signed certificate' {
            $side = Start-ServerUpgrade -Connection $pair.Accepted -Parameters @{ Certificate = $certs.SelfSigned }

            Protect-SocketConnection -Connection $pair.Client -SkipCertificateCheck -WarningAction SilentlyContinue -WarningVariable warnings
            $null = Wait-TestSideCommand -Side $side

            $pair.Client.IsTls | Should -BeTrue
            $warnings.Count | Should -Be 1
            $warnings[0].Message | Should -BeLike 'Certificate checks are off for 127.0.0.1:*'
        }

        It 'upgrades a Unix stream socket given -ServerName (Transport Unix+Tls)' {
            $path = Join-Path -Path $TestDrive -ChildPath 'starttls.sock'
            $unixServer = Start-SocketServer -Path $path
            $client = Connect-Socket -Path $path
            $accepted = Wait-SocketConnection -Server $unixServer -TimeoutSeconds 20
            $side = Start-ServerUpgrade -Connection $accepted -Parameters @{ Certificate = $certs.Server }

            Protect-SocketConnection -Connection $client -ServerName localhost -CaCertificate $certs.CaPath
            $serverEnd = Wait-TestSideCommand -Side $side

            $serverEnd.Errors | Should -BeNullOrEmpty
            $client.Transport | Should -Be 'Unix+Tls'
            $accepted.Transport | Should -Be 'Unix+Tls'
            Send-SocketData -Connection $client -InputObject 'over a Unix socket' -Line
            Receive-SocketData -Connection $accepted -Line | Should -BeExactly 'over a Unix socket'
        }
    }

    Context 'failures' {
        It 'refuses to start while the server''s plain-text answer is unread, shows it, and leaves the connection as it was' {
            Send-SocketData -Connection $pair.Accepted -InputObject '220 2.0.0 Ready to start TLS' -Line
            Wait-TestCondition -Condition { $pair.Client.BytesReceived -gt 0 } -Description 'the answer arriving, unread'

            Protect-SocketConnection -Connection $pair.Client -ErrorAction SilentlyContinue -ErrorVariable failures

            $failures.Count | Should -Be 1
            $failures[0].FullyQualifiedErrorId | Should -Be 'UnreadPlainText,SockPS.Commands.ProtectSocketConnectionCommand'
            $failures[0].CategoryInfo.Category | Should -Be 'InvalidOperation'
            "$($failures[0])" | Should -BeLike '*plain text*still unread*"220 2.0.0 Ready to start TLS*Read the server''s answer*'
            $pair.Client.State | Should -Be 'Open'
            $pair.Client.IsTls | Should -BeFalse
            $pair.Accepted.BytesReceived | Should -Be 0 -Because 'nothing was sent: no ClientHello'
            Receive-SocketData -Connection $pair.Client -Line | Should -BeExactly '220 2.0.0 Ready to start TLS'
        }

        It 'closes the connection with "The TLS upgrade failed." when the peer answers the handshake in plain text' {
            # The server reads the ClientHello, then answers in plain text.
            $side = Start-TestSideCommand -ArgumentList $pair.Accepted -ScriptBlock {
                param($Connection)
                $null = Receive-SocketData -Connection $Connection -AsByteArray -TimeoutSeconds 20
                Send-SocketData -Connection $Connection -InputObject '454 TLS not available' -Line
            }

            Protect-SocketConnection -Connection $pair.Client -ErrorAction SilentlyContinue -ErrorVariable failures
            $null = Wait-TestSideCommand -Side $side

            $failures.Count | Should -Be 1
            $failures[0].FullyQualifiedErrorId | Should -Be 'TlsAuthenticationFailed,SockPS.Commands.ProtectSocketConnectionCommand'
            $failures[0].CategoryInfo.Category | Should -Be 'SecurityError'
            $failures[0].Exception.Message | Should -BeLike "The TLS handshake with 127.0.0.1:$($pair.Server.Port) failed*peer speaks TLS*"
            $pair.Client.IsTls | Should -BeFalse
            $pair.Client.State | Should -Be 'Disconnected'
            $pair.Client.CloseReason | Should -Be 'The TLS upgrade failed.'
            Get-SocketConnection -Id $pair.Client.Id -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
            { Send-SocketData -Connection $pair.Client -InputObject 'after' -ErrorAction Stop } |
                Should -Throw -ErrorId 'ConnectionClosed,SockPS.Commands.SendSocketDataCommand'
        }

        It 'refuses an untrusted certificate with the reason, closing the connection' {
            $side = Start-ServerUpgrade -Connection $pair.Accepted -Parameters @{ Certificate = $certs.SelfSigned }

            Protect-SocketConnection -Connection $pair.Client -ErrorAction SilentlyContinue -ErrorVariable failures
            $null = Wait-TestSideCommand -Side $side

            $failures.Count | Should -Be 1
            $failures[0].FullyQualifiedErrorId | Should -Be 'TlsAuthenticationFailed,SockPS.Commands.ProtectSocketConnectionCommand'
            $failures[0].CategoryInfo.Category | Should -Be 'SecurityError'
            $failures[0].Exception.Message | Should -BeLike '*(localhost) is issued by localhost, which this machine does not trust*'
            $pair.Client.CloseReason | Should -Be 'The TLS upgrade failed.'
            $pair.Client.State | Should -Be 'Disconnected'
            # TLS 1.3: the server's side may have finished first; either way its end closes.
            Wait-TestCondition -Condition { $pair.Accepted.State -ne 'Open' } -Description 'the server end closing'
        }

        It 'as server with -RequireClientCertificate, refuses a client without a certificate and closes' {
            $side = Start-ServerUpgrade -Connection $pair.Accepted -Parameters @{
                Certificate = $certs.Server; RequireClientCertificate = $true; CaCertificate = $certs.CaPath
            }

            # TLS 1.3: the client's side may finish before the server refuses.
            Protect-SocketConnection -Connection $pair.Client -CaCertificate $certs.CaPath -ErrorAction SilentlyContinue
            $serverEnd = Wait-TestSideCommand -Side $side

            @($serverEnd.Errors).Count | Should -Be 1
            $serverEnd.Errors[0].FullyQualifiedErrorId | Should -Be 'TlsAuthenticationFailed,SockPS.Commands.ProtectSocketConnectionCommand'
            $serverEnd.Errors[0].CategoryInfo.Category | Should -Be 'SecurityError'
            $serverEnd.Errors[0].Exception.Message | Should -BeLike '*presented no certificate, and this server requires one*'
            $pair.Accepted.CloseReason | Should -Be 'The TLS upgrade failed.'
            Wait-TestCondition -Condition { $pair.Client.State -ne 'Open' } -Description 'the client end seeing the server close'
        }

        It 'refuses to upgrade a UDP socket: InvalidArgument, the socket untouched' {
            $udpServer = Start-SocketServer -Protocol Udp
            $udp = Connect-Socket -ComputerName 127.0.0.1 -Port $udpServer.Port -Protocol Udp

            Protect-SocketConnection -Connection $udp -ErrorAction SilentlyContinue -ErrorVariable failures

            $failures.Count | Should -Be 1
            $failures[0].FullyQualifiedErrorId | Should -Be 'InvalidArgument,SockPS.Commands.ProtectSocketConnectionCommand'
            $failures[0].CategoryInfo.Category | Should -Be 'InvalidArgument'
            $failures[0].Exception.Message | Should -BeLike '*is a datagram socket; TLS runs over stream sockets*'
            $udp.State | Should -Be 'Open'
            $udp.IsTls | Should -BeFalse
        }

        It 'refuses to upgrade a connection that already uses TLS: InvalidArgument, the connection still usable' {
            $tls = New-TestConnectionPair -ServerParameters @{ Certificate = $certs.Server } `
                -ClientParameters @{ UseTls = $true; CaCertificate = $certs.CaPath }

            Protect-SocketConnection -Connection $tls.Client -ErrorAction SilentlyContinue -ErrorVariable failures

            $failures.Count | Should -Be 1
            $failures[0].FullyQualifiedErrorId | Should -Be 'InvalidArgument,SockPS.Commands.ProtectSocketConnectionCommand'
            $failures[0].CategoryInfo.Category | Should -Be 'InvalidArgument'
            $failures[0].Exception.Message | Should -BeLike '*already uses TLS*'
            $tls.Client.State | Should -Be 'Open'
            Send-SocketData -Connection $tls.Client -InputObject 'still fine' -Line
            Receive-SocketData -Connection $tls.Accepted -Line | Should -BeExactly 'still fine'
        }

        It 'refuses a connection that is closed: ConnectionClosed' {
            Disconnect-Socket -Connection $pair.Client

            Protect-SocketConnection -Connection $pair.Client -ErrorAction SilentlyContinue -ErrorVariable failures

            $failures.Count | Should -Be 1
            $failures[0].FullyQualifiedErrorId | Should -Be 'ConnectionClosed,SockPS.Commands.ProtectSocketConnectionCommand'
        }

        It 'asks for -ServerName when a Unix socket has no host name to check' {
            $path = Join-Path -Path $TestDrive -ChildPath 'noname.sock'
            $unixServer = Start-SocketServer -Path $path
            $client = Connect-Socket -Path $path

            Protect-SocketConnection -Connection $client -CaCertificate $certs.CaPath -ErrorAction SilentlyContinue -ErrorVariable failures

            $failures.Count | Should -Be 1
            $failures[0].FullyQualifiedErrorId | Should -Be 'InvalidArgument,SockPS.Commands.ProtectSocketConnectionCommand'
            $failures[0].Exception.Message | Should -BeLike '*-ServerName*'
            $client.State | Should -Be 'Open' -Because 'nothing was sent'
            $unixServer.State | Should -Be 'Listening'
        }

        It 'rejects the client-side -<Parameter> with -Certificate (server side): terminating InvalidArgument' -TestCases @(
            @{ Parameter = 'ServerName' }
            @{ Parameter = 'SkipCertificateCheck' }
            @{ Parameter = 'ClientCertificate' }
        ) {
            $clientSide = switch ($Parameter) {
                'ServerName' { @{ ServerName = 'localhost' } }
                'SkipCertificateCheck' { @{ SkipCertificateCheck = $true } }
                'ClientCertificate' { @{ ClientCertificate = $certs.Client } }
            }

            $err = { Protect-SocketConnection -Connection $pair.Accepted -Certificate $certs.Server @clientSide -ErrorAction SilentlyContinue } |
                Should -Throw -ErrorId 'InvalidArgument,SockPS.Commands.ProtectSocketConnectionCommand' -PassThru

            $err.CategoryInfo.Category | Should -Be 'InvalidArgument'
            $err.Exception.Message | Should -BeLike '*are for the client side*'
            $pair.Accepted.State | Should -Be 'Open'
            $pair.Accepted.IsTls | Should -BeFalse
        }

        It 'rejects a server certificate without its private key before touching the connection: terminating InvalidArgument' {
            # Product bug: Start-SocketServer checks the key up front, Protect-SocketConnection does
            # not: it starts the handshake, fails with TlsAuthenticationFailed ("The server mode SSL
            # must use a certificate with the associated private key.. Check that the peer speaks
            # TLS here") and closes a connection that was fine.
            { Protect-SocketConnection -Connection $pair.Accepted -Certificate $certs.CaPublic -ErrorAction SilentlyContinue } |
                Should -Throw -ErrorId 'InvalidArgument,SockPS.Commands.ProtectSocketConnectionCommand'
            $pair.Accepted.State | Should -Be 'Open'
        }
    }
}

Describe 'Connect-Socket -UseTls on a Unix socket' {
    AfterEach {
        Get-SocketConnection | Disconnect-Socket
        Get-SocketServer | Stop-SocketServer
    }

    It 'points to Protect-SocketConnection: terminating InvalidArgument' {
        $path = Join-Path -Path $TestDrive -ChildPath 'usetls.sock'
        $null = Start-SocketServer -Path $path

        $err = { Connect-Socket -Path $path -UseTls -ErrorAction SilentlyContinue } |
            Should -Throw -ErrorId 'InvalidArgument,SockPS.Commands.ConnectSocketCommand' -PassThru

        $err.Exception.Message | Should -BeLike '*Protect-SocketConnection -ServerName*'
    }
}
