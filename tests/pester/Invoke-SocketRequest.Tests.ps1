#Requires -Version 7.4
# Invoke-SocketRequest: connect, send, read the answer, close, in one call. The servers are peers
# nobody here wrote: python3 (TCP, UDP and Unix socket servers that print what they saw), socat
# (an echo), openssl s_server (TLS). Every test also checks that no connection is left behind.

BeforeAll {
    Import-Module $env:SOCKPS_MODULE_PATH -Force
    Import-Module "$PSScriptRoot/SockPS.TestHelpers.psm1" -Force
    Import-Module "$PSScriptRoot/SockPS.TlsTestHelpers.psm1" -Force

    foreach ($tool in 'python3', 'socat', 'openssl') {
        if (-not (Get-Command -Name $tool -CommandType Application -ErrorAction SilentlyContinue)) {
            throw "$tool is not installed; .ci/run installs it."
        }
    }

    $certs = New-TestCertificateSet -Directory (Join-Path -Path $TestDrive -ChildPath 'certs')

    # A TCP server on a free loopback port that prints it, then serves argv[2] connections in
    # the way argv[1] says, and prints what it saw:
    #   lines    answers each line upper-cased as it arrives; closes at end of stream
    #   at-eof   reads the whole request (to end of stream), answers it upper-cased, closes
    #   one-line reads one line, answers "ANSWER <line upper-cased>", closes (HTTP/1.0 style)
    #   echo     sends back every block as it arrives; closes at end of stream
    # Only ASCII letters change case: b'\xc3\xb6'.upper() stays as it is.
    $tcpServer = @'
import socket, sys
mode, count = sys.argv[1], int(sys.argv[2])
srv = socket.socket()
srv.settimeout(30)
srv.bind(('127.0.0.1', 0))
srv.listen(8)
print('port', srv.getsockname()[1], flush=True)
for _ in range(count):
    conn, addr = srv.accept()
    conn.settimeout(30)
    f = conn.makefile('rb')
    try:
        if mode == 'lines':
            n = 0
            for line in f:
                conn.sendall(line.upper())
                n += 1
            print('eof after', n, 'lines', flush=True)
        elif mode == 'at-eof':
            data = f.read()
            print('eof after', len(data), 'bytes', flush=True)
            conn.sendall(data.upper())
        elif mode == 'echo':
            total = 0
            while True:
                block = conn.recv(65536)
                if not block:
                    break
                conn.sendall(block)
                total += len(block)
            print('echoed', total, 'bytes', flush=True)
        elif mode == 'one-line':
            line = f.readline()
            conn.sendall(b'ANSWER ' + line.upper())
            print('answered', line.decode().strip(), flush=True)
    except (ConnectionResetError, BrokenPipeError, socket.timeout) as e:
        print('client gone:', type(e).__name__, flush=True)
    # The file object holds the socket open too: close both, or the client never sees the end.
    f.close()
    conn.close()
'@

    # A UDP server on a free loopback port that prints it, answers argv[1] datagrams upper-cased
    # and prints each one as hex.
    $udpServer = @'
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(30)
s.bind(('127.0.0.1', 0))
print('port', s.getsockname()[1], flush=True)
for _ in range(int(sys.argv[1])):
    data, addr = s.recvfrom(65535)
    print('got', data.hex(), flush=True)
    s.sendto(data.upper(), addr)
'@

    # A Unix stream server at argv[1]: reads one request to end of stream, answers it
    # upper-cased, closes; argv[2] connections.
    $unixServer = @'
import os, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.settimeout(30)
s.bind(sys.argv[1])
s.listen(1)
print('bound', flush=True)
for _ in range(int(sys.argv[2])):
    conn, _ = s.accept()
    conn.settimeout(30)
    f = conn.makefile('rb')
    data = f.read()
    print('got', data.hex(), flush=True)
    conn.sendall(data.upper())
    f.close()
    conn.close()
os.unlink(sys.argv[1])
'@

    function Start-PythonServer([string] $Script, [string[]] $Arguments, [string] $Ready = '^port (\d+)$') {
        $process = Start-TestProcess -FilePath 'python3' -ArgumentList (@('-c', $Script) + $Arguments)
        $match = Wait-TestProcessLine -Process $process -Pattern $Ready
        [pscustomobject]@{ Process = $process; Port = if ($match.Groups.Count -gt 1) { [int]$match.Groups[1].Value } }
    }

    $requestId = ',SockPS.Commands.InvokeSocketRequestCommand'
}

AfterAll {
    Stop-TestProcess -All
}

Describe 'Invoke-SocketRequest' {
    BeforeEach {
        $peer = $null
    }

    AfterEach {
        if ($peer) { Stop-TestProcess -Process $peer.Process }
        Get-SocketConnection | Disconnect-Socket
        Get-SocketServer | Stop-SocketServer
    }

    Context 'TCP, against python3' {
        It 'by default sends the request, closes the send side and returns everything until the server closes' {
            $peer = Start-PythonServer -Script $tcpServer -Arguments 'at-eof', '1'

            $answer = 'hello', 'wörld' | Invoke-SocketRequest -ComputerName 127.0.0.1 -Port $peer.Port -Line -TimeoutSeconds 20

            # The server answers only at end of stream: the answer proves the half-close.
            $answer | Should -BeExactly "HELLO`nWöRLD`n"
            $null = Wait-TestProcessLine -Process $peer.Process -Pattern '^eof after 13 bytes$'
            Get-SocketConnection | Should -BeNullOrEmpty
        }

        It '-ToEnd keeps the send side open, so a server that answers at end of stream times out: ReceiveTimeout' {
            $peer = Start-PythonServer -Script $tcpServer -Arguments 'at-eof', '1'

            $answer = Invoke-SocketRequest -ComputerName 127.0.0.1 -Port $peer.Port -InputObject 'hello' -Line -ToEnd -TimeoutSeconds 1 `
                -ErrorAction SilentlyContinue -ErrorVariable failures

            $answer | Should -BeNullOrEmpty
            $failures.Count | Should -Be 1
            $failures[0].FullyQualifiedErrorId | Should -BeExactly "ReceiveTimeout$requestId"
            $failures[0].CategoryInfo.Category | Should -Be 'OperationTimeout'
            $failures[0].Exception.Message | Should -Match 'did not close the connection.*Leave out -ToEnd'
            # Closing ends the stream the server was waiting for.
            $null = Wait-TestProcessLine -Process $peer.Process -Pattern '^eof after 6 bytes$'
            Get-SocketConnection | Should -BeNullOrEmpty
        }

        It '-ToEnd returns the answer of a server that closes when it has answered' {
            $peer = Start-PythonServer -Script $tcpServer -Arguments 'one-line', '1'

            $answer = Invoke-SocketRequest -ComputerName 127.0.0.1 -Port $peer.Port -InputObject 'status' -Line -ToEnd -TimeoutSeconds 20

            $answer | Should -BeExactly "ANSWER STATUS`n"
            $null = Wait-TestProcessLine -Process $peer.Process -Pattern '^answered status$'
            Get-SocketConnection | Should -BeNullOrEmpty
        }

        It '-Until returns the text up to and including the match, while the server still waits for more' {
            $peer = Start-PythonServer -Script $tcpServer -Arguments 'lines', '1'

            $answer = 'alpha', 'beta' | Invoke-SocketRequest -ComputerName 127.0.0.1 -Port $peer.Port -Line -Until 'BETA\n' -TimeoutSeconds 20

            $answer | Should -BeExactly "ALPHA`nBETA`n"
            # The server only sees the end of the stream when SockPS closes after the match.
            $null = Wait-TestProcessLine -Process $peer.Process -Pattern '^eof after 2 lines$|^client gone'
            Get-SocketConnection | Should -BeNullOrEmpty
        }

        It '-Until -AsByteArray returns the bytes up to and including the match' {
            $peer = Start-PythonServer -Script $tcpServer -Arguments 'lines', '1'

            $answer = Invoke-SocketRequest -ComputerName 127.0.0.1 -Port $peer.Port -InputObject 'ok é' -Line -Until 'OK' -AsByteArray -TimeoutSeconds 20

            , $answer | Should -BeOfType ([byte[]])
            [System.Text.Encoding]::UTF8.GetString($answer) | Should -BeExactly 'OK'
        }

        It '-ByteCount returns exactly that many bytes, as a byte array' {
            $peer = Start-PythonServer -Script $tcpServer -Arguments 'lines', '1'

            $answer = Invoke-SocketRequest -ComputerName 127.0.0.1 -Port $peer.Port -InputObject 'abcdef' -Line -ByteCount 3 -TimeoutSeconds 20

            , $answer | Should -BeOfType ([byte[]])
            $answer | Should -Be ([byte[]](0x41, 0x42, 0x43))
            Get-SocketConnection | Should -BeNullOrEmpty
        }

        It 'writes EndOfStream, with what arrived in PartialResult, when the server closes before -Until matches' {
            $peer = Start-PythonServer -Script $tcpServer -Arguments 'one-line', '1'

            $answer = Invoke-SocketRequest -ComputerName 127.0.0.1 -Port $peer.Port -InputObject 'x' -Line -Until 'never' -TimeoutSeconds 20 `
                -ErrorAction SilentlyContinue -ErrorVariable failures

            $answer | Should -BeNullOrEmpty
            $failures[0].FullyQualifiedErrorId | Should -BeExactly "EndOfStream$requestId"
            $failures[0].CategoryInfo.Category | Should -Be 'ReadError'
            $failures[0].Exception.PartialResult | Should -BeExactly "ANSWER X`n"
            Get-SocketConnection | Should -BeNullOrEmpty
        }

        It 'takes the targets from the pipeline by property name (ComputerName and Port, or Uri), one request each' {
            $peer = Start-PythonServer -Script $tcpServer -Arguments 'one-line', '2'
            $targets = [pscustomobject]@{ ComputerName = '127.0.0.1'; Port = $peer.Port },
            [pscustomobject]@{ Uri = "tcp://127.0.0.1:$($peer.Port)" }

            $answers = $targets | Invoke-SocketRequest -InputObject 'ping' -Line -ToEnd -TimeoutSeconds 20

            $answers | Should -Be @("ANSWER PING`n", "ANSWER PING`n")
            $null = Wait-TestProcessLine -Process $peer.Process -Pattern '^answered ping$'
            $null = Wait-TestProcessLine -Process $peer.Process -Pattern '^answered ping$'
            Get-SocketConnection | Should -BeNullOrEmpty
        }

        It 'records the request and the answer with -TranscriptPath' {
            $peer = Start-PythonServer -Script $tcpServer -Arguments 'at-eof', '1'
            $path = Join-Path -Path $TestDrive -ChildPath 'request.jsonl'

            $answer = Invoke-SocketRequest -ComputerName 127.0.0.1 -Port $peer.Port -InputObject 'get stats' -Line -TranscriptPath $path -TimeoutSeconds 20

            $entries = Get-SocketTranscript -Path $path
            ($entries | Where-Object Direction -EQ 'Sent' | ForEach-Object Text) -join '' | Should -BeExactly "get stats`n"
            ($entries | Where-Object Direction -EQ 'Received' | ForEach-Object Text) -join '' | Should -BeExactly $answer
            $answer | Should -BeExactly "GET STATS`n"
        }
    }

    Context 'large and binary requests' {
        It 'round-trips 16 MiB through a python3 echo with the same SHA-256 (the answer is read while the request is sent)' {
            # More than every buffer on the way holds: an answer read only after the last byte
            # was sent would stall both sides, each waiting for the other to read.
            $peer = Start-PythonServer -Script $tcpServer -Arguments 'echo', '1'
            $payload = New-TestRandomBytes -Count (16MB + 7) -Seed 77

            $answer = Invoke-SocketRequest -ComputerName 127.0.0.1 -Port $peer.Port -InputObject $payload -AsByteArray -TimeoutSeconds 60

            $answer.Length | Should -Be $payload.Length
            Get-TestSha256 -Bytes $answer | Should -Be (Get-TestSha256 -Bytes $payload)
            $null = Wait-TestProcessLine -Process $peer.Process -Pattern "^echoed $($payload.Length) bytes$"
            Get-SocketConnection | Should -BeNullOrEmpty
        }

        It 'gets 48 KiB of bytes back from socat''s echo after the half-close, byte for byte' {
            # socat's PIPE echo writes into its own pipe with blocking writes: more than the pipe
            # holds (64 KiB) in flight at once stalls socat itself, so this stays below that.
            $echo = Start-SocatEcho
            $peer = [pscustomobject]@{ Process = $echo.Process }
            $payload = New-TestRandomBytes -Count 48KB -Seed 78

            $answer = Invoke-SocketRequest -Uri "tcp://127.0.0.1:$($echo.Port)" -InputObject $payload -AsByteArray -TimeoutSeconds 20

            Get-TestSha256 -Bytes $answer | Should -Be (Get-TestSha256 -Bytes $payload)
            Get-SocketConnection | Should -BeNullOrEmpty
        }
    }

    Context 'UDP, against python3' {
        It 'sends all input as one datagram and returns the one that comes back' {
            $peer = Start-PythonServer -Script $udpServer -Arguments '2'

            $first = 'one', 'two' | Invoke-SocketRequest -ComputerName 127.0.0.1 -Port $peer.Port -Protocol Udp -Line -TimeoutSeconds 20
            $second = Invoke-SocketRequest -Uri "udp://127.0.0.1:$($peer.Port)" -InputObject ([byte[]](0x61, 0x00, 0xFF)) -AsByteArray -TimeoutSeconds 20

            $first | Should -BeExactly "ONE`nTWO`n"
            (Wait-TestProcessLine -Process $peer.Process -Pattern '^got (\w+)$').Groups[1].Value | Should -Be '6f6e650a74776f0a'
            $second | Should -Be ([byte[]](0x41, 0x00, 0xFF))
            (Wait-TestProcessLine -Process $peer.Process -Pattern '^got (\w+)$').Groups[1].Value | Should -Be '6100ff'
            Get-SocketConnection | Should -BeNullOrEmpty
        }

        It 'writes ReceiveTimeout when no datagram comes back, and closes the socket' {
            $silent = Start-SocketServer -Protocol Udp

            $answer = Invoke-SocketRequest -ComputerName 127.0.0.1 -Port $silent.Port -Protocol Udp -InputObject 'anyone?' -TimeoutSeconds 0.5 `
                -ErrorAction SilentlyContinue -ErrorVariable failures

            $answer | Should -BeNullOrEmpty
            $failures[0].FullyQualifiedErrorId | Should -BeExactly "ReceiveTimeout$requestId"
            $failures[0].CategoryInfo.Category | Should -Be 'OperationTimeout'
            (Receive-SocketData -Connection $silent -TimeoutSeconds 20).Text | Should -BeExactly 'anyone?'
            @(Get-SocketConnection | Where-Object { $null -eq $_.Server }) | Should -BeNullOrEmpty
        }

        It 'writes ConnectionRefused when nothing listens on the UDP port (ICMP port unreachable)' {
            $probe = [System.Net.Sockets.UdpClient]::new([System.Net.IPEndPoint]::new([System.Net.IPAddress]::Loopback, 0))
            $port = $probe.Client.LocalEndPoint.Port
            $probe.Dispose()

            $answer = Invoke-SocketRequest -Uri "udp://127.0.0.1:$port" -InputObject 'anyone?' -TimeoutSeconds 20 -ErrorAction SilentlyContinue -ErrorVariable failures

            $answer | Should -BeNullOrEmpty
            $failures[0].FullyQualifiedErrorId | Should -BeExactly "ConnectionRefused$requestId"
            $failures[0].CategoryInfo.Category | Should -Be 'ConnectionError'
            $failures[0].Exception.Message | Should -Match "Nothing is listening on 127\.0\.0\.1:$port"
            Get-SocketConnection | Should -BeNullOrEmpty
        }

        It 'refuses -Until, -ByteCount and -ToEnd over UDP as a terminating InvalidArgument' {
            { Invoke-SocketRequest -Uri 'udp://127.0.0.1:9' -InputObject 'x' -Until 'y' } |
                Should -Throw -ErrorId "InvalidArgument$requestId"
            Get-SocketConnection | Should -BeNullOrEmpty
        }
    }

    Context 'a Unix socket, against python3' {
        It 'talks to a Unix stream socket given as -Path and as a unix:// URI' {
            $path = Join-Path -Path ([System.IO.Path]::GetTempPath()) -ChildPath "sockps-req-$PID-$(Get-Random).sock"
            $peer = Start-PythonServer -Script $unixServer -Arguments $path, '2' -Ready '^bound$'

            Invoke-SocketRequest -Path $path -InputObject 'via path' -TimeoutSeconds 20 | Should -BeExactly 'VIA PATH'
            Invoke-SocketRequest -Uri "unix://$path" -InputObject 'via uri' -TimeoutSeconds 20 | Should -BeExactly 'VIA URI'
            Get-SocketConnection | Should -BeNullOrEmpty
        }
    }

    Context 'TLS' {
        It 'asks openssl s_server -www over tls:// and reads the page until it closes (-ToEnd)' {
            $peer = Start-TestOpenSslServer -ArgumentList '-cert', $certs.ServerPath, '-key', $certs.ServerKeyPath, '-www'

            $page = Invoke-SocketRequest -Uri "tls://localhost:$($peer.Port)" -CaCertificate $certs.CaPath -InputObject "GET / HTTP/1.0`r`n`r`n" -ToEnd -TimeoutSeconds 20

            $page | Should -Match '^HTTP/1\.0 200 ok'
            $page | Should -Match 'Ciphers supported in s_server binary'
            Get-SocketConnection | Should -BeNullOrEmpty
        }

        It 'stops at the -Until match from openssl s_server -rev, which answers each line reversed' {
            $peer = Start-TestOpenSslServer -ArgumentList '-cert', $certs.ServerPath, '-key', $certs.ServerKeyPath, '-rev'

            $answer = Invoke-SocketRequest -ComputerName localhost -Port $peer.Port -UseTls -CaCertificate $certs.CaPath -InputObject 'stressed' -Line -Until 'desserts' -TimeoutSeconds 20

            $answer | Should -Match 'desserts$'
            Get-SocketConnection | Should -BeNullOrEmpty
        }

        It 'half-closes a TLS connection by default and reads the answer of a SockPS TLS server' {
            $server = Start-SocketServer -Certificate $certs.Server -ScriptBlock {
                param($Connection)
                $request = Receive-SocketData -Connection $Connection -ToEnd -TimeoutSeconds 20
                Send-SocketData -Connection $Connection -InputObject $request.ToUpper()
            }

            $answer = 'tls', 'request' | Invoke-SocketRequest -ComputerName localhost -Port $server.Port -UseTls -CaCertificate $certs.CaPath -Line -TimeoutSeconds 20

            $answer | Should -BeExactly "TLS`nREQUEST`n"
            @(Get-SocketConnection | Where-Object { $null -eq $_.Server }) | Should -BeNullOrEmpty
        }

        It 'writes TlsAuthenticationFailed for a certificate it does not trust, and leaves nothing open' {
            $server = Start-SocketServer -Certificate $certs.Server

            $answer = Invoke-SocketRequest -ComputerName localhost -Port $server.Port -UseTls -InputObject 'x' -TimeoutSeconds 20 `
                -ErrorAction SilentlyContinue -ErrorVariable failures

            $answer | Should -BeNullOrEmpty
            $failures[0].FullyQualifiedErrorId | Should -BeExactly "TlsAuthenticationFailed$requestId"
            $failures[0].CategoryInfo.Category | Should -Be 'SecurityError'
            @(Get-SocketConnection | Where-Object { $null -eq $_.Server }) | Should -BeNullOrEmpty
        }
    }

    Context 'errors' {
        It 'writes a non-terminating ConnectionRefused and goes on with the next target' {
            $peer = Start-PythonServer -Script $tcpServer -Arguments 'one-line', '1'
            $targets = [pscustomobject]@{ ComputerName = '127.0.0.1'; Port = Get-TestFreeTcpPort },
            [pscustomobject]@{ ComputerName = '127.0.0.1'; Port = $peer.Port }

            $answers = $targets | Invoke-SocketRequest -InputObject 'next' -Line -ToEnd -TimeoutSeconds 20 -ErrorAction SilentlyContinue -ErrorVariable failures

            $failures.Count | Should -Be 1
            $failures[0].FullyQualifiedErrorId | Should -BeExactly "ConnectionRefused$requestId"
            $failures[0].CategoryInfo.Category | Should -Be 'ConnectionError'
            $answers | Should -BeExactly "ANSWER NEXT`n"
        }

        It 'writes HostNotFound for a name that does not resolve' {
            $null = Invoke-SocketRequest -ComputerName 'no-such-host.invalid' -Port 80 -InputObject 'x' -TimeoutSeconds 20 `
                -ErrorAction SilentlyContinue -ErrorVariable failures

            $failures[0].FullyQualifiedErrorId | Should -BeExactly "HostNotFound$requestId"
            $failures[0].CategoryInfo.Category | Should -Be 'ObjectNotFound'
        }

        It 'writes ConnectTimeout when nobody answers the connect' {
            # A listener that never accepts, with the smallest queue, filled by Connect-Socket
            # until a connect goes unanswered (see Connect-Socket.Tests.ps1).
            $listener = [System.Net.Sockets.Socket]::new('InterNetwork', 'Stream', 'Tcp')
            try {
                $listener.Bind([System.Net.IPEndPoint]::new([System.Net.IPAddress]::Loopback, 0))
                $listener.Listen(0)
                $port = $listener.LocalEndPoint.Port
                $full = $false
                for ($attempt = 0; $attempt -lt 20 -and -not $full; $attempt++) {
                    $null = Connect-Socket -ComputerName 127.0.0.1 -Port $port -TimeoutSeconds 0.5 -ErrorAction SilentlyContinue -ErrorVariable filling
                    $full = [bool]$filling
                }
                if (-not $full -or $filling[0].FullyQualifiedErrorId -notlike 'ConnectTimeout,*') {
                    Set-ItResult -Skipped -Because 'this OS never leaves a loopback connect unanswered (it accepts or refuses)'
                    return
                }
                $before = @(Get-SocketConnection).Count

                $null = Invoke-SocketRequest -ComputerName 127.0.0.1 -Port $port -InputObject 'x' -TimeoutSeconds 0.5 -ErrorAction SilentlyContinue -ErrorVariable failures

                $failures[0].FullyQualifiedErrorId | Should -BeExactly "ConnectTimeout$requestId"
                $failures[0].CategoryInfo.Category | Should -Be 'OperationTimeout'
                @(Get-SocketConnection).Count | Should -Be $before
            }
            finally {
                $listener.Dispose()
            }
        }

        It 'stops with InvalidArgument for <Case>' -TestCases @(
            @{ Case = 'two ends of the answer'; Arguments = @{ Until = 'x'; ByteCount = 3 } }
            @{ Case = 'an invalid -Until pattern'; Arguments = @{ Until = '(' } }
            @{ Case = 'TLS settings without TLS'; Arguments = @{ ServerName = 'example.org' } }
        ) {
            { Invoke-SocketRequest -ComputerName 127.0.0.1 -Port 9 -InputObject 'x' @Arguments } |
                Should -Throw -ErrorId "InvalidArgument$requestId"
            Get-SocketConnection | Should -BeNullOrEmpty
        }

        It 'stops with InvalidUri for a scheme it does not know' {
            { Invoke-SocketRequest -Uri 'htp://127.0.0.1:80' -InputObject 'x' } | Should -Throw -ErrorId "InvalidUri$requestId"
        }
    }
}
