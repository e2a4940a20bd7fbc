#Requires -Version 7.4
# TLS clients and servers: Connect-Socket -UseTls / tls:// and Start-SocketServer -Certificate,
# the checks that keep users safe by default, and the errors that say why in plain words.
# SockPS talks to SockPS here; Interop.OpenSsl and Interop.Ncat talk to peers nobody here wrote.
# Certificates are made at run time (SockPS.TlsTestHelpers.psm1), never committed.

BeforeAll {
    Import-Module $env:SOCKPS_MODULE_PATH -Force
    Import-Module "$PSScriptRoot/SockPS.TestHelpers.psm1" -Force
    Import-Module "$PSScriptRoot/SockPS.TlsTestHelpers.psm1" -Force

    $certs = New-TestCertificateSet -Directory (Join-Path -Path $TestDrive -ChildPath 'certs')

    # The row of the default table view for one connection or server, split into its columns
    # (Id, Name, Protocol, ...). The row is found by Id: the view may shorten a long name.
    function Get-TableRow([object] $InputObject) {
        $table = $InputObject | Format-Table | Out-String -Width 200
        $row = $table -split '\r?\n' | Where-Object { $_ -match "^\s*$($InputObject.Id)\s" }
        @($row).Count | Should -Be 1 -Because "the table shows one row for $($InputObject.Name):`n$table"
        , ($row.Trim() -split '\s+')
    }

    # A plain SockPS server that greets every client in plain text, as an SMTP server on a TLS
    # port would, then returns what the client sent until it closed: a peer that does not speak
    # TLS. Runs in a second runspace because Connect-Socket waits for the handshake.
    function Start-PlainGreeter([SockPS.Core.SocketServer] $Server) {
        Start-TestSideCommand -ArgumentList $Server -ScriptBlock {
            param($Server)
            $accepted = Wait-SocketConnection -Server $Server -TimeoutSeconds 20
            Send-SocketData -Connection $accepted -InputObject '220 plain-text service ready' -Line
            , (Receive-SocketData -Connection $accepted -ToEnd -AsByteArray -TimeoutSeconds 20)
        }
    }
}

Describe 'Connect-Socket -UseTls' {
    BeforeEach {
        $side = $null
    }

    AfterEach {
        Stop-TestSideCommand -Side $side
        Get-SocketConnection | Disconnect-Socket
        Get-SocketServer | Stop-SocketServer
    }

    Context 'a server the client trusts' {
        It 'connects with -UseTls and -CaCertificate as a PEM path, and shows what the handshake agreed on' {
            $server = Start-SocketServer -Certificate $certs.Server

            $client = Connect-Socket -ComputerName localhost -Port $server.Port -UseTls -CaCertificate $certs.CaPath
            $accepted = Wait-SocketConnection -Server $server -TimeoutSeconds 20

            $client.IsTls | Should -BeTrue
            $client.Transport | Should -Be 'Tls'
            # The default allows TLS 1.2 and later; both ends here speak 1.3, so 1.3 it is.
            $client.TlsProtocol | Should -Be 'Tls13'
            $client.CipherSuite | Should -Match '^TLS_AES_|^TLS_CHACHA20_'
            $client.CipherSuite | Should -Be $accepted.CipherSuite
            $client.RemoteCertificate | Should -BeOfType ([System.Security.Cryptography.X509Certificates.X509Certificate2])
            $client.RemoteCertificate.Thumbprint | Should -Be $certs.Server.Thumbprint
            $accepted.IsTls | Should -BeTrue
            $accepted.TlsProtocol | Should -Be 'Tls13'
            $accepted.RemoteCertificate | Should -BeNullOrEmpty -Because 'the client presented no certificate'

            Send-SocketData -Connection $client -InputObject 'over TLS, ünïcödé' -Line
            Receive-SocketData -Connection $accepted -Line | Should -BeExactly 'over TLS, ünïcödé'
            Send-SocketData -Connection $accepted -InputObject 'and back' -Line
            Receive-SocketData -Connection $client -Line | Should -BeExactly 'and back'
        }

        It 'connects with -Uri tls://host:port and -CaCertificate as an X509Certificate2' {
            $server = Start-SocketServer -Certificate $certs.Server

            $client = Connect-Socket -Uri "tls://localhost:$($server.Port)" -CaCertificate $certs.CaPublic
            $accepted = Wait-SocketConnection -Server $server -TimeoutSeconds 20

            $client.IsTls | Should -BeTrue
            $client.RemoteEndPoint.Port | Should -Be $server.Port
            $client.RemoteCertificate.Thumbprint | Should -Be $certs.Server.Thumbprint
            Send-SocketData -Connection $client -InputObject 'via tls://' -Line
            Receive-SocketData -Connection $accepted -Line | Should -BeExactly 'via tls://'
        }

        It 'takes -CaCertificate as a DER file' {
            $der = Join-Path -Path $TestDrive -ChildPath 'ca.der'
            [System.IO.File]::WriteAllBytes($der, $certs.CaPublic.RawData)
            $server = Start-SocketServer -Certificate $certs.Server

            $client = Connect-Socket -ComputerName 127.0.0.1 -Port $server.Port -UseTls -CaCertificate $der

            $client.IsTls | Should -BeTrue
        }

        It 'marks TLS connections and servers in the table view (Protocol column: Tls)' {
            $tlsServer = Start-SocketServer -Certificate $certs.Server
            $plainServer = Start-SocketServer
            $tls = Connect-Socket -ComputerName localhost -Port $tlsServer.Port -UseTls -CaCertificate $certs.CaPath
            $plain = Connect-Socket -ComputerName localhost -Port $plainServer.Port

            (Get-TableRow (Get-SocketConnection -Id $tls.Id))[2] | Should -BeExactly 'Tls'
            (Get-TableRow (Get-SocketConnection -Id $plain.Id))[2] | Should -BeExactly 'Tcp'
            (Get-TableRow $tlsServer)[2] | Should -BeExactly 'Tls'
            (Get-TableRow $plainServer)[2] | Should -BeExactly 'Tcp'
            # The list view spells out the details.
            $list = Get-SocketConnection -Id $tls.Id | Format-List | Out-String -Width 200
            $list | Should -Match "TlsProtocol\s*:\s*Tls13\s"
            $list | Should -Match "CipherSuite\s*:\s*$([regex]::Escape($tls.CipherSuite))"
            $list | Should -Match 'RemoteCertificate\s*:\s*CN=localhost \(issued by CN=SockPS Pester Test CA'
        }

        It 'checks -ServerName instead of the address connected to (a certificate for a DNS name only)' {
            $server = Start-SocketServer -Certificate $certs.WrongName

            $client = Connect-Socket -ComputerName 127.0.0.1 -Port $server.Port -UseTls -ServerName elsewhere.example `
                -CaCertificate $certs.CaPath

            $client.IsTls | Should -BeTrue
            $client.RemoteEndPoint.Address | Should -Be ([System.Net.IPAddress]::Loopback)
            $client.RemoteCertificate.Subject | Should -Be 'CN=elsewhere.example'

            # Without -ServerName the same certificate does not match 127.0.0.1.
            $failed = Connect-Socket -ComputerName 127.0.0.1 -Port $server.Port -UseTls -CaCertificate $certs.CaPath `
                -ErrorAction SilentlyContinue -ErrorVariable failures
            $failed | Should -BeNullOrEmpty
            $failures.Count | Should -Be 1
            $failures[0].Exception.Message | Should -BeLike "*is issued to elsewhere.example, not 127.0.0.1*"
        }

        It '-TlsProtocol Tls12 gives a TLS 1.2 connection' {
            $server = Start-SocketServer -Certificate $certs.Server

            $client = Connect-Socket -ComputerName localhost -Port $server.Port -UseTls -CaCertificate $certs.CaPath -TlsProtocol Tls12
            $accepted = Wait-SocketConnection -Server $server -TimeoutSeconds 20

            $client.TlsProtocol | Should -Be 'Tls12'
            $accepted.TlsProtocol | Should -Be 'Tls12'
            # TLS 1.2 suite names carry the key exchange; the 1.3 ones do not.
            $client.CipherSuite | Should -Match '^TLS_ECDHE_ECDSA_WITH_'
            Send-SocketData -Connection $client -InputObject 'tls 1.2' -Line
            Receive-SocketData -Connection $accepted -Line | Should -BeExactly 'tls 1.2'
        }

        It '-SkipCertificateCheck writes exactly one warning and connects to a self-signed server' {
            $server = Start-SocketServer -Certificate $certs.SelfSigned

            $client = Connect-Socket -ComputerName 127.0.0.1 -Port $server.Port -UseTls -SkipCertificateCheck `
                -WarningAction SilentlyContinue -WarningVariable warnings

            $client.IsTls | Should -BeTrue
            $client.RemoteCertificate.Thumbprint | Should -Be $certs.SelfSigned.Thumbprint
            $warnings.Count | Should -Be 1
            $warnings[0].Message | Should -BeLike 'Certificate checks are off for 127.0.0.1*nothing proves who is at the other end*'
        }

        It 'writes no warning when the certificate is checked' {
            $server = Start-SocketServer -Certificate $certs.Server

            $null = Connect-Socket -ComputerName localhost -Port $server.Port -UseTls -CaCertificate $certs.CaPath `
                -WarningAction SilentlyContinue -WarningVariable warnings

            $warnings.Count | Should -Be 0
        }
    }

    Context 'certificates the client must refuse' {
        It 'refuses <Case>: TlsAuthenticationFailed (SecurityError) saying so' -TestCases @(
            @{ Case = 'a chain this machine does not trust'; Certificate = 'Server'; TrustCa = $false
                Says = '*(localhost) is issued by SockPS Pester Test CA, which this machine does not trust*-CaCertificate*' 
            }
            @{ Case = 'a self-signed certificate, even with a private CA trusted'; Certificate = 'SelfSigned'; TrustCa = $true
                Says = '*(localhost) is issued by localhost, which this machine does not trust*' 
            }
            @{ Case = 'a certificate for another name'; Certificate = 'WrongName'; TrustCa = $true
                Says = '*is issued to elsewhere.example, not localhost*-ServerName*' 
            }
            @{ Case = 'an expired certificate'; Certificate = 'Expired'; TrustCa = $true
                Says = '*expired on ????-??-?? ??:?? UTC*' 
            }
        ) {
            $server = Start-SocketServer -Certificate $certs.$Certificate
            $trust = if ($TrustCa) { @{ CaCertificate = $certs.CaPath } } else { @{} }

            $client = Connect-Socket -ComputerName localhost -Port $server.Port -UseTls @trust `
                -ErrorAction SilentlyContinue -ErrorVariable failures

            $client | Should -BeNullOrEmpty
            $failures.Count | Should -Be 1
            $failures[0].FullyQualifiedErrorId | Should -Be 'TlsAuthenticationFailed,SockPS.Commands.ConnectSocketCommand'
            $failures[0].CategoryInfo.Category | Should -Be 'SecurityError'
            $failures[0].Exception.Message | Should -BeLike "The certificate presented by localhost:$($server.Port)*"
            $failures[0].Exception.Message | Should -BeLike $Says
            # No client connection is left behind.
            Get-SocketConnection | Where-Object { $null -eq $_.Server } | Should -BeNullOrEmpty
        }

        It 'stops at the error with -ErrorAction Stop' {
            $server = Start-SocketServer -Certificate $certs.Server

            $err = { Connect-Socket -ComputerName localhost -Port $server.Port -UseTls -ErrorAction Stop } |
                Should -Throw -ErrorId 'TlsAuthenticationFailed,SockPS.Commands.ConnectSocketCommand' -PassThru

            $err.CategoryInfo.Category | Should -Be 'SecurityError'
            $err.Exception.Message | Should -BeLike '*which this machine does not trust*'
        }

        It 'trusts -CaCertificate for that connection only' {
            $server = Start-SocketServer -Certificate $certs.Server
            $null = Connect-Socket -ComputerName localhost -Port $server.Port -UseTls -CaCertificate $certs.CaPath

            $second = Connect-Socket -ComputerName localhost -Port $server.Port -UseTls -ErrorAction SilentlyContinue -ErrorVariable failures

            $second | Should -BeNullOrEmpty
            $failures.Count | Should -Be 1
            $failures[0].FullyQualifiedErrorId | Should -Be 'TlsAuthenticationFailed,SockPS.Commands.ConnectSocketCommand'
        }
    }

    Context 'a peer that does not speak TLS' {
        It 'fails with TlsAuthenticationFailed when the peer answers in plain text, having sent nothing but the handshake' {
            $plain = Start-SocketServer
            $side = Start-PlainGreeter -Server $plain

            Connect-Socket -ComputerName localhost -Port $plain.Port -UseTls -CaCertificate $certs.CaPath `
                -ErrorAction SilentlyContinue -ErrorVariable failures |
                Send-SocketData -InputObject 'secret' -Line

            $failures.Count | Should -Be 1
            $failures[0].FullyQualifiedErrorId | Should -Be 'TlsAuthenticationFailed,SockPS.Commands.ConnectSocketCommand'
            $failures[0].CategoryInfo.Category | Should -Be 'SecurityError'
            $failures[0].Exception.Message | Should -BeLike "The TLS handshake with localhost:$($plain.Port) failed*"
            $failures[0].Exception.Message | Should -BeLike '*Check that the peer speaks TLS here*'
            $result = Wait-TestSideCommand -Side $side
            $result.Errors | Should -BeNullOrEmpty
            $result.Output.Count | Should -Be 1
            [byte[]]$seen = $result.Output[0]
            $seen.Length | Should -BeGreaterThan 100 -Because 'a ClientHello is a few hundred bytes'
            $seen[0] | Should -Be 0x16 -Because 'the client sent a TLS handshake record'
            [System.Text.Encoding]::Latin1.GetString($seen) | Should -Not -BeLike '*secret*'
        }

        It 'words the plain-text failure without a doubled full stop' {
            # Product bug: the runtime's reason already ends in '.', and the message adds another
            # ("...a corrupted frame was received.. Check that the peer speaks TLS here...").
            $plain = Start-SocketServer
            $side = Start-PlainGreeter -Server $plain

            $null = Connect-Socket -ComputerName localhost -Port $plain.Port -UseTls -ErrorAction SilentlyContinue -ErrorVariable failures

            $failures.Count | Should -Be 1
            $failures[0].Exception.Message | Should -Not -BeLike '*..*'
        }

        It 'reports a peer that accepts but never answers the handshake as TlsAuthenticationFailed, not as an unreachable host' {
            # Product bug: the TCP connection is made (the host answered), but the handshake times
            # out as ConnectTimeout, "the host did not answer. Check the address, the port and any
            # firewall". TlsHandshake has the right words ("did not finish within ...; the peer
            # may not speak TLS on this port") but ConnectToAddressesAsync passes it no timeout.
            $silent = Start-SocketServer

            $client = Connect-Socket -ComputerName localhost -Port $silent.Port -UseTls -TimeoutSeconds 1 `
                -ErrorAction SilentlyContinue -ErrorVariable failures

            $client | Should -BeNullOrEmpty
            $failures.Count | Should -Be 1
            $failures[0].Exception.Message | Should -BeLike '*may not speak TLS*'
            $failures[0].FullyQualifiedErrorId | Should -Be 'TlsAuthenticationFailed,SockPS.Commands.ConnectSocketCommand'
            $failures[0].CategoryInfo.Category | Should -Be 'SecurityError'
        }
    }

    Context 'parameter mistakes' {
        It 'rejects -<Parameter> without -UseTls with a terminating InvalidArgument error' -TestCases @(
            @{ Parameter = 'ServerName' }
            @{ Parameter = 'CaCertificate' }
            @{ Parameter = 'SkipCertificateCheck' }
            @{ Parameter = 'ClientCertificate' }
            @{ Parameter = 'ClientCertificatePath' }
            @{ Parameter = 'TlsProtocol' }
        ) {
            $server = Start-SocketServer
            $value = switch ($Parameter) {
                'ServerName' { 'localhost' }
                'CaCertificate' { $certs.CaPath }
                'SkipCertificateCheck' { [switch]$true }
                'ClientCertificate' { $certs.Client }
                'ClientCertificatePath' { $certs.ClientPfxPath }
                'TlsProtocol' { 'Tls12' }
            }
            $tlsSetting = @{ $Parameter = $value }

            $err = { Connect-Socket -ComputerName localhost -Port $server.Port @tlsSetting -ErrorAction SilentlyContinue } |
                Should -Throw -ErrorId 'InvalidArgument,SockPS.Commands.ConnectSocketCommand' -PassThru

            $err.CategoryInfo.Category | Should -Be 'InvalidArgument'
            $err.Exception.Message | Should -BeLike '*are TLS settings: add -UseTls*'
            Get-SocketConnection | Should -BeNullOrEmpty -Because 'nothing was connected'
        }

        It 'rejects a tcp:// URI with TLS settings, and -UseTls over UDP' {
            { Connect-Socket -Uri 'tcp://localhost:1' -SkipCertificateCheck -ErrorAction SilentlyContinue } |
                Should -Throw -ErrorId 'InvalidArgument,SockPS.Commands.ConnectSocketCommand'
            $err = { Connect-Socket -ComputerName localhost -Port 1 -Protocol Udp -UseTls -ErrorAction SilentlyContinue } |
                Should -Throw -ErrorId 'InvalidArgument,SockPS.Commands.ConnectSocketCommand' -PassThru
            $err.CategoryInfo.Category | Should -Be 'InvalidArgument'
        }

        It 'rejects -CaCertificate <Case> with a terminating InvalidArgument error' -TestCases @(
            @{ Case = 'that is neither a path nor a certificate'; Value = 42; Says = '*takes a path to a PEM or DER certificate, or an X509Certificate2*' }
            @{ Case = 'naming a missing file'; Value = '/no/such/ca.pem'; Says = "*Cannot read '/no/such/ca.pem'*" }
        ) {
            $err = { Connect-Socket -ComputerName localhost -Port 1 -UseTls -CaCertificate $Value -ErrorAction SilentlyContinue } |
                Should -Throw -ErrorId 'InvalidArgument,SockPS.Commands.ConnectSocketCommand' -PassThru

            $err.CategoryInfo.Category | Should -Be 'InvalidArgument'
            $err.Exception.Message | Should -BeLike $Says
        }

        It 'rejects a -ClientCertificate without its private key' {
            $err = { Connect-Socket -ComputerName localhost -Port 1 -UseTls -ClientCertificate $certs.CaPublic -ErrorAction SilentlyContinue } |
                Should -Throw -ErrorId 'InvalidArgument,SockPS.Commands.ConnectSocketCommand' -PassThru

            $err.Exception.Message | Should -BeLike '*has no private key*'
        }
    }
}

Describe 'Start-SocketServer with a certificate' {
    AfterEach {
        Get-SocketConnection | Disconnect-Socket
        Get-SocketServer | Stop-SocketServer
    }

    Context 'serving TLS' {
        It 'hands out only connections that are TLS already (-Certificate)' {
            $server = Start-SocketServer -Certificate $certs.Server

            $server.Transport | Should -Be 'Tls'
            $first = Connect-Socket -ComputerName localhost -Port $server.Port -UseTls -CaCertificate $certs.CaPath
            $second = Connect-Socket -ComputerName 127.0.0.1 -Port $server.Port -UseTls -CaCertificate $certs.CaPath
            $accepted = @(
                Wait-SocketConnection -Server $server -TimeoutSeconds 20
                Wait-SocketConnection -Server $server -TimeoutSeconds 20
            )

            $accepted.Count | Should -Be 2
            $accepted | ForEach-Object {
                $_.IsTls | Should -BeTrue
                $_.TlsProtocol | Should -Be 'Tls13'
                $_.Transport | Should -Be 'Tls'
                $_.Server.InstanceId | Should -Be $server.InstanceId
            }
            Send-SocketData -Connection $first -InputObject 'first' -Line
            Send-SocketData -Connection $second -InputObject 'second' -Line
            # Handshakes run side by side, so the order they are handed out in is the order they
            # finished in, not the order the clients connected in.
            ($accepted | Receive-SocketData -Line | Sort-Object) | Should -Be 'first', 'second'
        }

        It 'loads -CertificatePath as a PFX file with -CertificatePassword' {
            $server = Start-SocketServer -CertificatePath $certs.ServerPfxPath -CertificatePassword $certs.PfxPassword

            $client = Connect-Socket -ComputerName localhost -Port $server.Port -UseTls -CaCertificate $certs.CaPath

            $client.RemoteCertificate.Thumbprint | Should -Be $certs.Server.Thumbprint
            (Wait-SocketConnection -Server $server -TimeoutSeconds 20).IsTls | Should -BeTrue
        }

        It 'loads -CertificatePath as a PEM certificate with -KeyPath' {
            $server = Start-SocketServer -CertificatePath $certs.ServerPath -KeyPath $certs.ServerKeyPath

            $client = Connect-Socket -ComputerName localhost -Port $server.Port -UseTls -CaCertificate $certs.CaPath

            $client.RemoteCertificate.Thumbprint | Should -Be $certs.Server.Thumbprint
            (Wait-SocketConnection -Server $server -TimeoutSeconds 20).IsTls | Should -BeTrue
        }

        It 'counts a client that sends plain text as a TLS failure, never hands it out, and goes on serving' {
            $server = Start-SocketServer -Certificate $certs.Server
            $plain = Connect-Socket -ComputerName 127.0.0.1 -Port $server.Port

            Send-SocketData -Connection $plain -InputObject 'HELO in plain text' -Line

            Wait-TestCondition -Condition { $server.TlsFailureCount -ge 1 } -Description 'the failed handshake being counted'
            $server.TlsFailureCount | Should -Be 1
            $server.LastTlsError | Should -BeLike "The TLS handshake with 127.0.0.1:$($plain.LocalEndPoint.Port) failed*"
            $err = { Wait-SocketConnection -Server $server -TimeoutSeconds 1 -ErrorAction Stop } |
                Should -Throw -ErrorId 'AcceptTimeout,SockPS.Commands.WaitSocketConnectionCommand' -PassThru
            $err.CategoryInfo.Category | Should -Be 'OperationTimeout'
            # The plain client was dropped...
            Receive-SocketData -Connection $plain -ToEnd -TimeoutSeconds 20 | Should -BeNullOrEmpty
            $plain.State | Should -Be 'Closed'
            # ...and the server still serves a TLS client.
            $server.State | Should -Be 'Listening'
            $good = Connect-Socket -ComputerName localhost -Port $server.Port -UseTls -CaCertificate $certs.CaPath
            $accepted = Wait-SocketConnection -Server $server -TimeoutSeconds 20
            $accepted.IsTls | Should -BeTrue
            $accepted.RemoteEndPoint | Should -Be $good.LocalEndPoint
            Send-SocketData -Connection $good -InputObject 'still serving' -Line
            Receive-SocketData -Connection $accepted -Line | Should -BeExactly 'still serving'
            $server.TlsFailureCount | Should -Be 1
        }

        It '-TlsProtocol Tls12 on the server refuses a TLS 1.3-only client, counts it, and serves TLS 1.2' {
            $server = Start-SocketServer -Certificate $certs.Server -TlsProtocol Tls12

            $refused = Connect-Socket -ComputerName localhost -Port $server.Port -UseTls -CaCertificate $certs.CaPath -TlsProtocol Tls13 `
                -ErrorAction SilentlyContinue -ErrorVariable failures

            $refused | Should -BeNullOrEmpty
            $failures.Count | Should -Be 1
            $failures[0].FullyQualifiedErrorId | Should -Be 'TlsAuthenticationFailed,SockPS.Commands.ConnectSocketCommand'
            $failures[0].CategoryInfo.Category | Should -Be 'SecurityError'
            Wait-TestCondition -Condition { $server.TlsFailureCount -ge 1 } -Description 'the refused client being counted'
            $client = Connect-Socket -ComputerName localhost -Port $server.Port -UseTls -CaCertificate $certs.CaPath
            $client.TlsProtocol | Should -Be 'Tls12'
        }
    }

    Context 'client certificates (-RequireClientCertificate)' {
        It 'accepts a client with -ClientCertificate and shows its certificate on the server side' {
            $server = Start-SocketServer -Certificate $certs.Server -RequireClientCertificate -CaCertificate $certs.CaPath

            $client = Connect-Socket -ComputerName localhost -Port $server.Port -UseTls -CaCertificate $certs.CaPath `
                -ClientCertificate $certs.Client
            $accepted = Wait-SocketConnection -Server $server -TimeoutSeconds 20

            $accepted.RemoteCertificate.Subject | Should -Be 'CN=sockps-client'
            $accepted.RemoteCertificate.Thumbprint | Should -Be $certs.Client.Thumbprint
            $client.RemoteCertificate.Thumbprint | Should -Be $certs.Server.Thumbprint
            Send-SocketData -Connection $client -InputObject 'mutual' -Line
            Receive-SocketData -Connection $accepted -Line | Should -BeExactly 'mutual'
            $server.TlsFailureCount | Should -Be 0
        }

        It 'accepts a client with -ClientCertificatePath (PFX) and -CertificatePassword, the CA given as an object' {
            $server = Start-SocketServer -Certificate $certs.Server -RequireClientCertificate -CaCertificate $certs.CaPublic

            $null = Connect-Socket -ComputerName localhost -Port $server.Port -UseTls -CaCertificate $certs.CaPath `
                -ClientCertificatePath $certs.ClientPfxPath -CertificatePassword $certs.PfxPassword
            $accepted = Wait-SocketConnection -Server $server -TimeoutSeconds 20

            $accepted.RemoteCertificate.Thumbprint | Should -Be $certs.Client.Thumbprint
        }

        It 'counts a client without a certificate as a TLS failure and never hands it out' {
            $server = Start-SocketServer -Certificate $certs.Server -RequireClientCertificate -CaCertificate $certs.CaPath

            # TLS 1.3: the client's side of the handshake may finish before the server refuses,
            # so Connect-Socket may return a connection; the server closes it.
            $client = Connect-Socket -ComputerName localhost -Port $server.Port -UseTls -CaCertificate $certs.CaPath `
                -ErrorAction SilentlyContinue

            Wait-TestCondition -Condition { $server.TlsFailureCount -ge 1 } -Description 'the client without a certificate being counted'
            $server.LastTlsError | Should -BeLike '*presented no certificate, and this server requires one.'
            { Wait-SocketConnection -Server $server -TimeoutSeconds 1 -ErrorAction Stop } |
                Should -Throw -ErrorId 'AcceptTimeout,SockPS.Commands.WaitSocketConnectionCommand'
            $client | ForEach-Object {
                Wait-TestCondition -Condition { $client.State -ne 'Open' } -Description 'the refused client seeing the server close'
            }
        }

        It 'counts a client certificate from a CA it does not trust, and goes on serving' {
            $server = Start-SocketServer -Certificate $certs.Server -RequireClientCertificate -CaCertificate $certs.CaPath

            $null = Connect-Socket -ComputerName localhost -Port $server.Port -UseTls -CaCertificate $certs.CaPath `
                -ClientCertificate $certs.SelfSigned -ErrorAction SilentlyContinue

            Wait-TestCondition -Condition { $server.TlsFailureCount -ge 1 } -Description 'the untrusted client being counted'
            $server.LastTlsError | Should -BeLike 'The client certificate of 127.0.0.1:*(localhost) is issued by localhost, which this machine does not trust*'
            $null = Connect-Socket -ComputerName localhost -Port $server.Port -UseTls -CaCertificate $certs.CaPath -ClientCertificate $certs.Client
            (Wait-SocketConnection -Server $server -TimeoutSeconds 20).RemoteCertificate.Thumbprint | Should -Be $certs.Client.Thumbprint
        }
    }

    Context 'parameter mistakes' {
        It 'rejects <Case> with a terminating InvalidArgument error' -TestCases @(
            @{ Case = 'a -CertificatePath that does not exist'; Says = "*Cannot read '*missing.pfx'*" }
            @{ Case = 'a PFX without its password'; Says = '*Check -CertificatePassword*' }
            @{ Case = 'a PEM certificate without -KeyPath'; Says = '*without a private key*-KeyPath*' }
            @{ Case = 'a -Certificate without its private key'; Says = '*has no private key*' }
            @{ Case = '-RequireClientCertificate without a certificate'; Says = '*need a server certificate*' }
            @{ Case = '-CaCertificate without a certificate'; Says = '*are TLS settings*' }
            @{ Case = 'a UDP server with a certificate'; Says = '*DTLS is not supported*' }
        ) {
            $parameters = switch ($Case) {
                'a -CertificatePath that does not exist' { @{ CertificatePath = (Join-Path -Path $TestDrive -ChildPath 'missing.pfx') } }
                'a PFX without its password' { @{ CertificatePath = $certs.ServerPfxPath } }
                'a PEM certificate without -KeyPath' { @{ CertificatePath = $certs.ServerPath } }
                'a -Certificate without its private key' { @{ Certificate = $certs.CaPublic } }
                '-RequireClientCertificate without a certificate' { @{ RequireClientCertificate = $true } }
                '-CaCertificate without a certificate' { @{ CaCertificate = $certs.CaPath } }
                'a UDP server with a certificate' { @{ Certificate = $certs.Server; Protocol = 'Udp' } }
            }

            $err = { Start-SocketServer @parameters -ErrorAction SilentlyContinue } |
                Should -Throw -ErrorId 'InvalidArgument,SockPS.Commands.StartSocketServerCommand' -PassThru

            $err.CategoryInfo.Category | Should -Be 'InvalidArgument'
            $err.Exception.Message | Should -BeLike $Says
            Get-SocketServer | Should -BeNullOrEmpty -Because 'no server was started'
        }
    }
}

Describe 'TLS carries data' {
    AfterEach {
        Get-SocketConnection | Disconnect-Socket
        Get-SocketServer | Stop-SocketServer
        Stop-TestProcess -All
    }

    It 'ends the stream with close_notify when this side disconnects while its loop reads: Python''s ssl sees a clean end, not a truncation' {
        $server = Start-SocketServer -Certificate $certs.Server
        $client = Start-TestProcess -FilePath python3 -ArgumentList @('-c', @'
import socket, ssl, sys
context = ssl.create_default_context(cafile=sys.argv[2])
s = context.wrap_socket(socket.create_connection(('127.0.0.1', int(sys.argv[1])), timeout=60), server_hostname='localhost')
s.sendall(b'hello\n')
try:
    while s.recv(65536):
        pass
    print('clean end', flush=True)
except ssl.SSLEOFError as e:
    print('truncated:', e, flush=True)
'@, "$($server.Port)", $certs.CaPath)
        $accepted = Wait-SocketConnection -Server $server -TimeoutSeconds 20
        # Received through the loop (TLS is always read there), which stays reading afterwards.
        Receive-SocketData -Connection $accepted -Line -TimeoutSeconds 20 | Should -BeExactly 'hello'

        Disconnect-Socket -Connection $accepted

        (Wait-TestProcessLine -Process $client -Pattern '^(clean end|truncated.*)$' -TimeoutSeconds 30).Value | Should -Be 'clean end'
    }

    It 'carries 1 MiB of random bytes each way unchanged (SHA-256)' {
        $pair = New-TestConnectionPair -ServerParameters @{ Certificate = $certs.Server } `
            -ClientParameters @{ UseTls = $true; CaCertificate = $certs.CaPath }
        $up = New-TestRandomBytes -Count (1MB + 7) -Seed 4
        $down = New-TestRandomBytes -Count (1MB + 11) -Seed 5

        # The receiving side buffers what arrives, so one side can send it all before the other reads.
        Send-SocketData -Connection $pair.Client -InputObject $up
        $receivedUp = Receive-SocketData -Connection $pair.Accepted -ByteCount $up.Length -TimeoutSeconds 30
        Send-SocketData -Connection $pair.Accepted -InputObject $down
        $receivedDown = Receive-SocketData -Connection $pair.Client -ByteCount $down.Length -TimeoutSeconds 30

        $pair.Client.IsTls | Should -BeTrue
        $receivedUp.Length | Should -Be $up.Length
        Get-TestSha256 $receivedUp | Should -Be (Get-TestSha256 $up)
        $receivedDown.Length | Should -Be $down.Length
        Get-TestSha256 $receivedDown | Should -Be (Get-TestSha256 $down)
        # The counters show application bytes, not TLS records.
        $pair.Client.BytesSent | Should -Be $up.Length
        $pair.Client.BytesReceived | Should -Be $down.Length
    }
}
