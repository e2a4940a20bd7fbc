#Requires -Version 7.4
# A peer nobody here wrote: python3's socket module, the Python socket tutorial SockPS answers to. Python talks UDP
# and Unix datagrams with SockPS and prints what it saw, so both sides check each other: what
# python printed is compared with what SockPS sent and received.

BeforeAll {
    Import-Module $env:SOCKPS_MODULE_PATH -Force
    Import-Module "$PSScriptRoot/SockPS.TestHelpers.psm1" -Force

    $python = Get-Command -Name python3 -CommandType Application -ErrorAction SilentlyContinue | Select-Object -First 1
    if (-not $python) {
        throw 'python3 is not installed; .ci/run installs it (apt-get install python3).'
    }

    # Binds a UDP socket on the loopback of the family given, prints its port, answers one
    # datagram with its bytes upper-cased (ASCII only: b'\xc3\xa9'.upper() stays as it is), and
    # prints what it got and from where.
    $udpAnswerer = @'
import socket, sys
family = socket.AF_INET6 if sys.argv[1] == '6' else socket.AF_INET
s = socket.socket(family, socket.SOCK_DGRAM)
s.settimeout(20)
s.bind(('::1' if family == socket.AF_INET6 else '127.0.0.1', 0))
print('port', s.getsockname()[1], flush=True)
data, addr = s.recvfrom(65535)
print('got', data.hex(), addr[0], addr[1], flush=True)
s.sendto(data.upper(), addr)
'@

    # Sends datagrams of the sizes given to 127.0.0.1:<port>, one at a time, each after the
    # answer to the one before, and prints what it sent (length, SHA-256) and every answer.
    $udpSender = @'
import hashlib, os, socket, sys
port = int(sys.argv[1])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(20)
s.bind(('127.0.0.1', 0))
print('from', *s.getsockname(), flush=True)
for size in map(int, sys.argv[2:]):
    data = os.urandom(size)
    s.sendto(data, ('127.0.0.1', port))
    print('sent', len(data), hashlib.sha256(data).hexdigest(), flush=True)
    answer, addr = s.recvfrom(65535)
    print('answer', answer.decode(), addr[0], addr[1], flush=True)
'@

    # Binds a Unix datagram socket at argv[1], says so, answers one datagram upper-cased to
    # its sender's path, and prints what it got and the sender's path.
    $unixAnswerer = @'
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.settimeout(20)
s.bind(sys.argv[1])
print('bound', flush=True)
data, addr = s.recvfrom(65535)
print('got', data.hex(), addr, flush=True)
s.sendto(data.upper(), addr)
'@

    # Binds a Unix datagram socket at argv[1], sends argv[3] to the socket at argv[2], and
    # prints the answer and who sent it.
    $unixSender = @'
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.settimeout(20)
s.bind(sys.argv[1])
s.sendto(sys.argv[3].encode(), sys.argv[2])
data, addr = s.recvfrom(65535)
print('answer', data.decode(), addr, flush=True)
'@
}

AfterAll {
    Stop-TestProcess -All
}

Describe 'python3 as a UDP peer' {
    BeforeEach {
        $peer = $null
    }

    AfterEach {
        Get-SocketConnection | Disconnect-Socket
        Get-SocketServer | Stop-SocketServer
        Stop-TestProcess -Process $peer
    }

    It 'answers a datagram sent with -RemoteEndPoint from a SockPS UDP server over IPv<Version>' -TestCases @(
        @{ Version = '4'; Address = '127.0.0.1' }
        @{ Version = '6'; Address = '::1' }
    ) {
        if ($Version -eq '6' -and -not (Test-TestIPv6Loopback)) {
            Set-ItResult -Skipped -Because 'this machine has no IPv6 loopback'
            return
        }
        $server = Start-SocketServer -Protocol Udp -Address $Address
        $peer = Start-TestProcess -FilePath 'python3' -ArgumentList @('-c', $udpAnswerer, $Version)
        $port = [int](Wait-TestProcessLine -Process $peer -Pattern '^port (\d+)$').Groups[1].Value
        $target = [System.Net.IPEndPoint]::new([System.Net.IPAddress]::Parse($Address), $port)

        Send-SocketData -Connection $server -InputObject 'hello python é' -RemoteEndPoint $target.ToString()

        $reply = Receive-SocketData -Connection $server -TimeoutSeconds 20
        $got = Wait-TestProcessLine -Process $peer -Pattern '^got ([0-9a-f]+) (\S+) (\d+)$'
        $got.Groups[1].Value | Should -Be ([System.Convert]::ToHexString([System.Text.Encoding]::UTF8.GetBytes('hello python é')).ToLowerInvariant())
        [System.Net.IPAddress]::Parse($got.Groups[2].Value) | Should -Be $server.LocalEndPoint.Address
        [int]$got.Groups[3].Value | Should -Be $server.Port
        $reply.Text | Should -BeExactly 'HELLO PYTHON é'
        $reply.RemoteEndPoint | Should -Be $target
        Wait-TestProcessExit -Process $peer | Should -Be 0 -Because $peer.Transcript()
    }

    It 'answers a connected SockPS UDP socket, and the reply is taken as from the peer' {
        $peer = Start-TestProcess -FilePath 'python3' -ArgumentList @('-c', $udpAnswerer, '4')
        $port = [int](Wait-TestProcessLine -Process $peer -Pattern '^port (\d+)$').Groups[1].Value
        $client = Connect-Socket -Uri "udp://127.0.0.1:$port"

        [byte[]](0x61, 0x00, 0xFF, 0x7A) | Send-SocketData -Connection $client

        $got = Wait-TestProcessLine -Process $peer -Pattern '^got ([0-9a-f]+) (\S+) (\d+)$'
        $got.Groups[1].Value | Should -Be '6100ff7a'
        [int]$got.Groups[3].Value | Should -Be $client.LocalEndPoint.Port
        $reply = Receive-SocketData -Connection $client -AsByteArray -TimeoutSeconds 20
        [System.Convert]::ToHexString($reply) | Should -Be '4100FF5A'
        Wait-TestProcessExit -Process $peer | Should -Be 0 -Because $peer.Transcript()
    }

    It 'sends datagrams up to 65,507 bytes to a SockPS UDP server, which answers each by pipe' {
        $sizes = 1, 100, 1472, 8192, 65507
        $server = Start-SocketServer -Protocol Udp
        $peer = Start-TestProcess -FilePath 'python3' -ArgumentList (@('-c', $udpSender, $server.Port) + $sizes)
        $from = Wait-TestProcessLine -Process $peer -Pattern '^from (\S+) (\d+)$'
        $pythonEndPoint = [System.Net.IPEndPoint]::new([System.Net.IPAddress]::Parse($from.Groups[1].Value), [int]$from.Groups[2].Value)

        $received = for ($i = 0; $i -lt $sizes.Count; $i++) {
            $datagram = Receive-SocketData -Connection $server -TimeoutSeconds 20
            $datagram | Send-SocketData -InputObject "ack $i $($datagram.Length)"
            $datagram
        }

        Wait-TestProcessExit -Process $peer | Should -Be 0 -Because $peer.Transcript()
        $server.DatagramSocket.DroppedCount | Should -Be 0
        $received | ForEach-Object Length | Should -Be $sizes
        $received | ForEach-Object { $_.RemoteEndPoint } | Should -Be (@($pythonEndPoint) * $sizes.Count)
        $sent = $peer.OutputLines | Where-Object { $_ -like 'sent *' } | ForEach-Object { ($_ -split ' ')[2].ToUpperInvariant() }
        $received | ForEach-Object { Get-TestSha256 $_.Data } | Should -Be $sent
        $answers = $peer.OutputLines | Where-Object { $_ -like 'answer *' }
        $answers | Should -Be (0..($sizes.Count - 1) | ForEach-Object { "answer ack $_ $($sizes[$_]) 127.0.0.1 $($server.Port)" })
    }
}

Describe 'python3 as a Unix datagram peer' {
    BeforeEach {
        $peer = $null
    }

    AfterEach {
        Get-SocketConnection | Disconnect-Socket
        Get-SocketServer | Stop-SocketServer
        Stop-TestProcess -Process $peer
    }

    It 'answers a datagram SockPS sends to its socket file, back to the SockPS server''s file' {
        $server = Start-SocketServer -Path (Join-Path -Path $TestDrive -ChildPath 'sockps.sock') -Protocol Udp
        $pythonPath = Join-Path -Path $TestDrive -ChildPath 'python.sock'
        $peer = Start-TestProcess -FilePath 'python3' -ArgumentList @('-c', $unixAnswerer, $pythonPath)
        $null = Wait-TestProcessLine -Process $peer -Pattern '^bound$'

        Send-SocketData -Connection $server -InputObject 'over a unix datagram' -RemoteEndPoint $pythonPath

        $got = Wait-TestProcessLine -Process $peer -Pattern '^got ([0-9a-f]+) (.+)$'
        $got.Groups[1].Value | Should -Be ([System.Convert]::ToHexString([System.Text.Encoding]::UTF8.GetBytes('over a unix datagram')).ToLowerInvariant())
        $got.Groups[2].Value | Should -Be $server.Path
        $reply = Receive-SocketData -Connection $server -TimeoutSeconds 20
        $reply.Text | Should -BeExactly 'OVER A UNIX DATAGRAM'
        $reply.RemoteEndPoint.ToString() | Should -Be $pythonPath
        Wait-TestProcessExit -Process $peer | Should -Be 0 -Because $peer.Transcript()
    }

    It 'sends to a SockPS Unix datagram server, which answers by pipe to python''s file' {
        $server = Start-SocketServer -Path (Join-Path -Path $TestDrive -ChildPath 'server.sock') -Protocol Udp
        $pythonPath = Join-Path -Path $TestDrive -ChildPath 'client.sock'
        $peer = Start-TestProcess -FilePath 'python3' -ArgumentList @('-c', $unixSender, $pythonPath, $server.Path, 'question')

        $datagram = Receive-SocketData -Connection $server -TimeoutSeconds 20
        $datagram | Send-SocketData -InputObject "answer to $($datagram.Text)"

        $datagram.Text | Should -BeExactly 'question'
        $datagram.RemoteEndPoint.ToString() | Should -Be $pythonPath
        $answer = Wait-TestProcessLine -Process $peer -Pattern '^answer (.+) (\S+)$'
        $answer.Groups[1].Value | Should -Be 'answer to question'
        $answer.Groups[2].Value | Should -Be $server.Path
        Wait-TestProcessExit -Process $peer | Should -Be 0 -Because $peer.Transcript()
    }
}
