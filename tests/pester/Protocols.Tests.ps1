#Requires -Version 7.4
# Issue 12: the tutorial's protocol table made easy. Protocol URIs set the port, CRLF line ends
# and implicit TLS; -Crlf; host:port positionally; the table's service names; Wait-SocketData
# -Pattern as PowerShell matches text (case-insensitive, bounded, showing what arrived); Telnet's
# option refusal; bytes and numbers mixed in one array. The real servers are in tests/integration.

BeforeAll {
    Import-Module $env:SOCKPS_MODULE_PATH -Force
    Import-Module "$PSScriptRoot/SockPS.TestHelpers.psm1" -Force
    Import-Module "$PSScriptRoot/SockPS.TlsTestHelpers.psm1" -Force
}

Describe 'Protocols made easy' {
    AfterEach {
        Get-SocketConnection | Disconnect-Socket
        Get-SocketServer | Stop-SocketServer
        Stop-TestProcess -All
    }

    Context 'protocol URIs' {
        It '<Scheme>:// ends lines with CRLF and needs no other setting' -TestCases @(
            @{ Scheme = 'http' }, @{ Scheme = 'smtp' }, @{ Scheme = 'submission' }, @{ Scheme = 'pop3' }, @{ Scheme = 'imap' },
            @{ Scheme = 'ftp' }, @{ Scheme = 'nntp' }, @{ Scheme = 'gopher' }
        ) {
            $server = Start-SocketServer
            $client = Connect-Socket -Uri "$($Scheme)://127.0.0.1:$($server.Port)"
            $peer = Wait-SocketConnection -Server $server -TimeoutSeconds 20

            $client.NewLine | Should -BeExactly "`r`n"
            Send-SocketData -Connection $client -InputObject 'QUIT' -Line
            [System.Text.Encoding]::ASCII.GetString((Receive-SocketData -Connection $peer -ByteCount 6)) | Should -BeExactly "QUIT`r`n"
        }

        It '<Scheme>:// without a port means port <Port>' -TestCases @(
            @{ Scheme = 'http'; Port = 80 }, @{ Scheme = 'smtp'; Port = 25 }, @{ Scheme = 'submission'; Port = 587 },
            @{ Scheme = 'pop3'; Port = 110 }, @{ Scheme = 'imap'; Port = 143 }, @{ Scheme = 'ftp'; Port = 21 },
            @{ Scheme = 'nntp'; Port = 119 }, @{ Scheme = 'telnet'; Port = 23 }, @{ Scheme = 'gopher'; Port = 70 }
        ) {
            # Whether or not something listens on that port here, the attempt names it.
            $connection = Connect-Socket -Uri "$($Scheme)://127.0.0.1" -TimeoutSeconds 5 -ErrorVariable failed -ErrorAction SilentlyContinue
            if ($connection) {
                $connection.RemoteEndPoint.Port | Should -Be $Port
            }
            else {
                "$($failed[0])" | Should -BeLike "*127.0.0.1:$Port*"
            }
        }

        It '<Scheme>:// is TLS from the first byte' -TestCases @(
            @{ Scheme = 'https' }, @{ Scheme = 'imaps' }, @{ Scheme = 'pop3s' }, @{ Scheme = 'smtps' }, @{ Scheme = 'nntps' }
        ) {
            $certs = New-TestCertificateSet -Directory (Join-Path -Path $TestDrive -ChildPath "certs-$Scheme")
            $server = Start-SocketServer -Certificate $certs.Server
            $client = Connect-Socket -Uri "$($Scheme)://localhost:$($server.Port)" -CaCertificate $certs.CaPath
            $peer = Wait-SocketConnection -Server $server -TimeoutSeconds 20

            $client.IsTls | Should -BeTrue
            $client.NewLine | Should -BeExactly "`r`n"
            Send-SocketData -Connection $client -InputObject 'a001 NOOP' -Line
            Receive-SocketData -Connection $peer -Line | Should -BeExactly 'a001 NOOP'
        }

        It 'an unknown scheme lists the ones it knows' {
            { Connect-Socket -Uri 'smtpx://127.0.0.1' } | Should -Throw -ErrorId 'InvalidUri,SockPS.Commands.ConnectSocketCommand' -PassThru |
                ForEach-Object { "$_" } | Should -BeLike '*smtp*imaps*gopher*'
        }

        It 'Invoke-SocketRequest takes them too' {
            $server = Start-SocketServer -ScriptBlock {
                param($Connection)
                $line = $Connection.ReceiveLine()
                $Connection.Send("got [$line] ending CRLF`r`n")
            }
            Invoke-SocketRequest -Uri "smtp://127.0.0.1:$($server.Port)" -InputObject 'EHLO me' -Line -Until '\r\n' |
                Should -BeExactly "got [EHLO me] ending CRLF`r`n"
        }
    }

    Context '-Crlf, host:port and service names' {
        It '-Crlf makes -Line end with CRLF' {
            $server = Start-SocketServer
            $client = Connect-Socket -ComputerName 127.0.0.1 -Port $server.Port -Crlf
            $peer = Wait-SocketConnection -Server $server -TimeoutSeconds 20
            Send-SocketData -Connection $client -InputObject 'HELO' -Line
            (Receive-SocketData -Connection $peer -ByteCount 6) -join ',' | Should -Be '72,69,76,79,13,10'
        }

        It 'Start-SocketServer -Crlf gives accepted connections CRLF' {
            $server = Start-SocketServer -Crlf
            $client = Connect-Socket -ComputerName 127.0.0.1 -Port $server.Port
            $peer = Wait-SocketConnection -Server $server -TimeoutSeconds 20
            $peer.NewLine | Should -BeExactly "`r`n"
        }

        It '-Crlf with another -NewLine is refused' {
            { Connect-Socket -ComputerName 127.0.0.1 -Port 1 -Crlf -NewLine "`n" } |
                Should -Throw -ErrorId 'InvalidArgument,SockPS.Commands.ConnectSocketCommand'
        }

        It 'Connect-Socket <Target> binds positionally, the port carried by the name' -TestCases @(
            @{ Target = '127.0.0.1:{0}'; Address = '127.0.0.1' }
            @{ Target = 'localhost:{0}'; Address = '127.0.0.1' }
            @{ Target = '[::1]:{0}'; Address = '::1' }
        ) {
            $server = Start-SocketServer -Address $Address
            $client = Connect-Socket ($Target -f $server.Port)
            $client.RemoteEndPoint.Port | Should -Be $server.Port
            $client.RemoteEndPoint.Address | Should -Be ([ipaddress]$Address)
        }

        It 'Connect-Socket smtp://host binds positionally too' {
            $server = Start-SocketServer
            $client = Connect-Socket "smtp://127.0.0.1:$($server.Port)"
            $client.NewLine | Should -BeExactly "`r`n"
        }

        It 'a name without a port says how to give one, and the next target goes on' {
            # About one target: non-terminating.
            $server = Start-SocketServer
            $connections = @('no-port.example', "127.0.0.1:$($server.Port)" | ForEach-Object { Connect-Socket -ComputerName $_ -ErrorVariable +failed -ErrorAction SilentlyContinue })
            $connections.Count | Should -Be 1
            $failed[0].FullyQualifiedErrorId | Should -Be 'InvalidArgument,SockPS.Commands.ConnectSocketCommand'
            "$($failed[0])" | Should -BeLike '*No port was given for no-port.example*host:port*'
        }

        It 'the tutorial''s service names resolve: <Name> is <Port>' -TestCases @(
            @{ Name = 'imap4'; Port = 143 }, @{ Name = 'pop3'; Port = 110 }, @{ Name = 'nntp'; Port = 119 },
            @{ Name = 'gopher'; Port = 70 }, @{ Name = 'telnet'; Port = 23 }, @{ Name = 'dns'; Port = 53 },
            @{ Name = 'http'; Port = 80 }, @{ Name = 'smtp'; Port = 25 }, @{ Name = 'ftp'; Port = 21 }
        ) {
            [SockPS.Core.ServicePorts]::Resolve($Name, 'tcp', $false) | Should -Be $Port
        }

        It 'an unknown service name is a non-terminating error, so a list goes on' {
            $server = Start-SocketServer
            $ports = 'no-such-service', "$($server.Port)"
            $made = @($ports | ForEach-Object { Connect-Socket -ComputerName 127.0.0.1 -Port $_ -ErrorVariable +failed -ErrorAction SilentlyContinue })
            $made.Count | Should -Be 1
            $failed[0].FullyQualifiedErrorId | Should -Be 'InvalidArgument,SockPS.Commands.ConnectSocketCommand'
        }
    }

    Context 'Wait-SocketData -Pattern as PowerShell matches text' {
        BeforeEach {
            $pair = New-TestConnectionPair
        }

        It 'is case-insensitive by default, like -match' {
            Send-SocketData -Connection $pair.Accepted -InputObject '+OK Dovecot ready.' -Line
            (Wait-SocketData -Connection $pair.Client -Pattern 'dovecot' -TimeoutSeconds 10).Value | Should -BeExactly 'Dovecot'
        }

        It '-CaseSensitive matches with case, and the timeout error shows what arrived' {
            Send-SocketData -Connection $pair.Accepted -InputObject "+OK Dovecot ready.`r`n" -Line
            Wait-SocketData -Connection $pair.Client -Pattern 'dovecot' -CaseSensitive -TimeoutSeconds 0.5 -ErrorVariable failed -ErrorAction SilentlyContinue |
                Should -BeNullOrEmpty
            $failed[0].FullyQualifiedErrorId | Should -Be 'ReceiveTimeout,SockPS.Commands.WaitSocketDataCommand'
            $message = "$($failed[0])"
            $message | Should -BeLike '*/dovecot/*'
            $message | Should -BeLike '*21 bytes arrived, ending with "+OK Dovecot ready.*'
            $message | Should -BeLike '*case-sensitive*'
            $failed[0].Exception.BufferedText | Should -BeExactly "+OK Dovecot ready.`r`n`n"
            # Nothing was consumed.
            Receive-SocketData -Connection $pair.Client -Line | Should -BeExactly '+OK Dovecot ready.'
        }

        It 'waits 30 seconds by default, so a pattern that never matches cannot hang a script' {
            [SockPS.Commands.WaitSocketDataCommand]::DefaultPatternTimeout | Should -Be ([timespan]::FromSeconds(30))
        }

        It 'bytes that are not valid text (Telnet negotiation) break neither the wait nor the connection' {
            Send-SocketData -Connection $pair.Accepted -InputObject ([byte[]](0xFF, 0xFB, 0x01, 0xFF, 0xFD, 0x03) + [System.Text.Encoding]::ASCII.GetBytes('Welcome'))
            Send-SocketData -Connection $pair.Accepted -InputObject "`r`nlogin: rest" -Line
            $match = Wait-SocketData -Connection $pair.Client -Pattern 'login: ' -TimeoutSeconds 10
            $match.Value | Should -BeExactly 'login: '
            $match.Text | Should -BeLike '*Welcome*login: '
            Receive-SocketData -Connection $pair.Client -Line | Should -BeExactly 'rest'
        }
    }

    Context 'Telnet' {
        It '-Telnet refuses every option, takes the negotiation out of the text, and keeps it in the transcript' {
            # A peer that offers options, sends text with an escaped 255 and a subnegotiation, and
            # prints what it got back.
            $peer = Start-TestProcess -FilePath /usr/bin/python3 -ArgumentList @('-c', @'
import socket
s = socket.socket(); s.bind(('127.0.0.1', 0)); s.listen(1)
print('port', s.getsockname()[1], flush=True)
c, _ = s.accept()
c.sendall(bytes([255, 251, 1, 255, 253, 24, 255, 250, 24, 1, 255, 240]) + b'login: ' + bytes([255, 255]) + b'\r\n')
got = b''
while len(got) < 6:
    got += c.recv(64)
print('answers', got.hex(), flush=True)
c.recv(64)
'@)
            $port = [int](Wait-TestProcessLine -Process $peer -Pattern '^port (\d+)').Groups[1].Value
            $transcript = Join-Path -Path $TestDrive -ChildPath 'telnet.jsonl'
            $client = Connect-Socket -ComputerName 127.0.0.1 -Port $port -Telnet -Encoding latin1 -TranscriptPath $transcript

            (Receive-SocketData -Connection $client -Line) | Should -BeExactly ('login: ' + [char]255)
            (Wait-TestProcessLine -Process $peer -Pattern '^answers ([0-9a-f]+)').Groups[1].Value | Should -Be 'fffe01fffc18' -Because 'WILL ECHO is answered DONT ECHO, DO TERMINAL-TYPE WONT TERMINAL-TYPE'
            Stop-SocketTranscript -Connection $client
            $received = Get-SocketTranscript -Path $transcript -Direction Received | ForEach-Object { $_.Data } | ForEach-Object { $_ }
            $received[0..2] | Should -Be @(255, 251, 1)
            $sent = @(Get-SocketTranscript -Path $transcript -Direction Sent | ForEach-Object { $_.Data } | ForEach-Object { $_ })
            ($sent -join ',') | Should -Be '255,254,1,255,252,24'
        }

        It 'telnet:// turns it on, with CRLF' {
            $server = Start-SocketServer
            $client = Connect-Socket -Uri "telnet://127.0.0.1:$($server.Port)"
            $peer = Wait-SocketConnection -Server $server -TimeoutSeconds 20
            Send-SocketData -Connection $peer -InputObject ([byte[]](255, 253, 31) + [System.Text.Encoding]::ASCII.GetBytes("ok`n"))
            Receive-SocketData -Connection $client -Line | Should -BeExactly 'ok'
            (Receive-SocketData -Connection $peer -ByteCount 3) -join ',' | Should -Be '255,252,31'
        }
    }

    Context 'bytes and numbers' {
        BeforeEach {
            $pair = New-TestConnectionPair
        }

        It 'a number in an array of bytes is a byte: [byte[]](65,66) + 2 + [byte[]](67) sends 65,66,2,67' {
            Send-SocketData -Connection $pair.Client -InputObject ([byte[]](65, 66) + 2 + [byte[]](67))
            (Receive-SocketData -Connection $pair.Accepted -ByteCount 4) -join ',' | Should -Be '65,66,2,67'
        }

        It 'the same array piped (the pipeline unrolls it) sends the same bytes' {
            [byte[]](65, 66) + 2 + [byte[]](67) | Send-SocketData -Connection $pair.Client
            (Receive-SocketData -Connection $pair.Accepted -ByteCount 4) -join ',' | Should -Be '65,66,2,67'
        }

        It 'a piped request to Invoke-SocketRequest follows the same rule' {
            $echo = Start-SocketServer -ScriptBlock { param($Connection) $Connection.Send($Connection.Receive(4)) }
            $answer = [byte[]](65, 66) + 2 + [byte[]](67) |
                Invoke-SocketRequest -ComputerName 127.0.0.1 -Port $echo.Port -ByteCount 4 -AsByteArray -TimeoutSeconds 20
            $answer -join ',' | Should -Be '65,66,2,67'
            Stop-SocketServer -Server $echo
        }

        It 'a piped string after bytes ends the run: a number after it is text again' {
            [byte[]](65, 66) + @('x', 7) | Send-SocketData -Connection $pair.Client
            [System.Text.Encoding]::ASCII.GetString((Receive-SocketData -Connection $pair.Accepted -ByteCount 4 -AsByteArray)) |
                Should -BeExactly 'ABx7'
        }

        It 'a number that is no byte in such an array is refused with a hint, and nothing is sent' {
            { Send-SocketData -Connection $pair.Client -InputObject ([byte[]](1, 2) + 300) } |
                Should -Throw -ErrorId 'InvalidArgument,SockPS.Commands.SendSocketDataCommand' -PassThru |
                ForEach-Object { "$_" } | Should -BeLike '*300 is not a byte*'
            $pair.Client.BytesSent | Should -Be 0
        }

        It 'numbers without bytes around them are still sent as text' {
            Send-SocketData -Connection $pair.Client -InputObject (1, 2, 3) -Line
            Receive-SocketData -Connection $pair.Accepted -Line | Should -BeExactly '1'
        }
    }
}
