#Requires -Version 7.4
# Invoke-SocketRequest -AsResult (issue 13 item 7): one object per request, answered or failed,
# that says which target answered and which computer asked, so a fan-out (many targets, or
# Invoke-Command to many computers) keeps one row per target. Peers nobody here wrote: socat
# (an echo), python3 (a server that answers half and then says nothing more, a UDP echo).

BeforeAll {
    Import-Module $env:SOCKPS_MODULE_PATH -Force
    Import-Module "$PSScriptRoot/SockPS.TestHelpers.psm1" -Force

    foreach ($tool in 'python3', 'socat') {
        if (-not (Get-Command -Name $tool -CommandType Application -ErrorAction SilentlyContinue)) {
            throw "$tool is not installed; .ci/run installs it."
        }
    }

    # Answers "partial answer" to the first connection and then holds it open, silent, until
    # its stdin closes.
    $script:HalfAnswer = @'
import socket, sys
srv = socket.socket()
srv.bind(('127.0.0.1', 0))
srv.listen(1)
print('port', srv.getsockname()[1], flush=True)
conn, addr = srv.accept()
conn.sendall(b'partial answer')
print('answered half', flush=True)
sys.stdin.read()
'@
    # Echoes datagrams upper-cased.
    $script:UdpEcho = @'
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(('127.0.0.1', 0))
print('port', s.getsockname()[1], flush=True)
while True:
    data, addr = s.recvfrom(65535)
    s.sendto(data.upper(), addr)
'@

    function Start-PythonPeer([string] $Script) {
        $process = Start-TestProcess -FilePath 'python3' -ArgumentList @('-c', $Script)
        $match = Wait-TestProcessLine -Process $process -Pattern '^port (\d+)$'
        [pscustomobject]@{ Process = $process; Port = [int]$match.Groups[1].Value }
    }

    $script:Echo = Start-SocatEcho -Fork
    # Refuses: bound, never listening.
    $script:Closed = [System.Net.Sockets.Socket]::new('InterNetwork', 'Stream', 'Tcp')
    $script:Closed.Bind([System.Net.IPEndPoint]::new([System.Net.IPAddress]::Loopback, 0))
    $script:ClosedPort = $script:Closed.LocalEndPoint.Port
}

AfterAll {
    Stop-TestProcess -All
    if ($script:Closed) {
        $script:Closed.Dispose()
    }
}

Describe 'Invoke-SocketRequest -AsResult' {
    AfterEach {
        Get-SocketConnection | Should -BeNullOrEmpty -Because 'every request closes its connection'
    }

    It 'returns a result with the answer, the target, the time it took and the computer that asked' {
        $result = Invoke-SocketRequest -ComputerName 127.0.0.1 -Port $script:Echo.Port -InputObject 'hello' -Line -TimeoutSeconds 20 -AsResult

        $result | Should -BeOfType [SockPS.Core.SocketRequestResult]
        $result.Response | Should -BeExactly "hello`n"
        $result.Succeeded | Should -BeTrue
        $result.Status | Should -Be 'Answered'
        $result.Error | Should -BeNullOrEmpty
        $result.ErrorId | Should -BeNullOrEmpty
        $result.ComputerName | Should -Be '127.0.0.1'
        $result.Port | Should -Be $script:Echo.Port
        "$($result.Protocol)" | Should -Be 'Tcp'
        $result.Transport | Should -Be 'Tcp'
        $result.RemoteEndPoint | Should -Be "127.0.0.1:$($script:Echo.Port)"
        $result.MachineName | Should -Be ([System.Environment]::MachineName)
        $result.Elapsed | Should -BeGreaterThan ([timespan]::Zero)
        $result.ElapsedMilliseconds | Should -Be $result.Elapsed.TotalMilliseconds
        $result.BytesSent | Should -Be 6
        $result.BytesReceived | Should -Be 6
        "$result" | Should -Be "127.0.0.1:$($script:Echo.Port)/Tcp Answered"
    }

    It 'turns a refused connection into a result with the error, not an error record' {
        $errors = $null
        $result = Invoke-SocketRequest -ComputerName 127.0.0.1 -Port $script:ClosedPort -InputObject 'hello' -TimeoutSeconds 20 -AsResult -ErrorVariable errors

        @($errors).Count | Should -Be 0
        $result.Succeeded | Should -BeFalse
        $result.Status | Should -Be 'ConnectionRefused'
        $result.ErrorId | Should -Be 'ConnectionRefused'
        $result.Error | Should -Match "127\.0\.0\.1:$($script:ClosedPort).*refused"
        $result.Response | Should -BeNullOrEmpty
        $result.PartialResponse | Should -BeNullOrEmpty
        $result.Port | Should -Be $script:ClosedPort
    }

    It 'keeps what had arrived when the answer stops short: PartialResponse, and ReceiveTimeout' {
        $peer = Start-PythonPeer -Script $script:HalfAnswer
        try {
            $result = Invoke-SocketRequest -ComputerName 127.0.0.1 -Port $peer.Port -InputObject 'question' -Until 'END' -TimeoutSeconds 1 -AsResult
            $null = Wait-TestProcessLine -Process $peer.Process -Pattern '^answered half$'
        }
        finally {
            Stop-TestProcess -Process $peer.Process
        }

        $result.Status | Should -Be 'ReceiveTimeout'
        $result.Response | Should -BeNullOrEmpty
        $result.PartialResponse | Should -BeExactly 'partial answer'
        $result.Error | Should -Match 'did not match /END/'
        $result.BytesReceived | Should -Be 14
    }

    It 'answers over UDP, and gives bytes with -AsByteArray' {
        $peer = Start-PythonPeer -Script $script:UdpEcho
        try {
            $text = Invoke-SocketRequest -ComputerName 127.0.0.1 -Port $peer.Port -Protocol Udp -InputObject 'ping' -TimeoutSeconds 20 -AsResult
            $bytes = Invoke-SocketRequest -ComputerName 127.0.0.1 -Port $peer.Port -Protocol Udp -InputObject 'ab' -AsByteArray -TimeoutSeconds 20 -AsResult
        }
        finally {
            Stop-TestProcess -Process $peer.Process
        }

        $text.Response | Should -BeExactly 'PING'
        "$($text.Protocol)" | Should -Be 'Udp'
        $text.Transport | Should -Be 'Udp'
        , $bytes.Response | Should -BeOfType [byte[]]
        $bytes.Response | Should -Be @(65, 66)
        $bytes.ResponseText | Should -Be '2 bytes'
    }

    It 'gives one result per piped target, in a table that names each one' {
        $targets = @(
            [pscustomobject]@{ ComputerName = '127.0.0.1'; Port = $script:Echo.Port }
            [pscustomobject]@{ ComputerName = '127.0.0.1'; Port = $script:ClosedPort }
            [pscustomobject]@{ ComputerName = 'no-such-host.invalid'; Port = 80 }
        )
        $results = @($targets | Invoke-SocketRequest -TimeoutSeconds 20 -AsResult)

        $results.Count | Should -Be 3
        $results.Status | Should -Be @('Answered', 'ConnectionRefused', 'HostNotFound') -Because 'an empty request to an echo is answered with nothing when it closes'
        $results.ComputerName | Should -Be @('127.0.0.1', '127.0.0.1', 'no-such-host.invalid')
        $results.Port | Should -Be @($script:Echo.Port, $script:ClosedPort, 80)

        $text = $results | Format-Table | Out-String -Width 80
        $text | Should -Match "(?m)^127\.0\.0\.1\s+$($script:ClosedPort) Tcp\s+ConnectionRefused\s+\d+\.\d\s*$"
        $text | Should -Match '(?m)^no-such-host\.in\S*\s+80 Tcp\s+HostNotFound'
    }
}
