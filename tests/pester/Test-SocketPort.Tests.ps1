#Requires -Version 7.4
# Test-SocketPort: many ports on many hosts at once, each a result with a Status. Every target is
# on loopback and its answer is made by the test: a listener (Open), a socket bound but not
# listening (Refused; it holds the port, so nothing else can take it), a listener whose accept
# queue is full (TimedOut: Linux drops the SYNs), a name under .invalid (HostNotFound, RFC 6761),
# and UDP sockets that answer, stay silent or are not there at all.

BeforeAll {
    Import-Module $env:SOCKPS_MODULE_PATH -Force
    Import-Module "$PSScriptRoot/SockPS.TestHelpers.psm1" -Force

    $script:Owned = [System.Collections.Generic.List[System.IDisposable]]::new()

    # A TCP port that accepts connections (nobody accepts them; the kernel completes the handshake).
    function New-OpenPort([int] $Backlog = 512) {
        $listener = [System.Net.Sockets.Socket]::new('InterNetwork', 'Stream', 'Tcp')
        $listener.Bind([System.Net.IPEndPoint]::new([System.Net.IPAddress]::Loopback, 0))
        $listener.Listen($Backlog)
        $script:Owned.Add($listener)
        $listener
    }

    # A TCP port that refuses: bound and never listening.
    function New-ClosedPort {
        $socket = [System.Net.Sockets.Socket]::new('InterNetwork', 'Stream', 'Tcp')
        $socket.Bind([System.Net.IPEndPoint]::new([System.Net.IPAddress]::Loopback, 0))
        $script:Owned.Add($socket)
        $socket
    }

    # A TCP port whose SYNs go unanswered: a listener with backlog 0 that never accepts, filled
    # until a connect hangs. Linux drops SYNs to a full accept queue (syncookies or not); other
    # systems may refuse instead, so $null when no connect hangs.
    function New-UnansweredPort {
        $listener = [System.Net.Sockets.Socket]::new('InterNetwork', 'Stream', 'Tcp')
        $listener.Bind([System.Net.IPEndPoint]::new([System.Net.IPAddress]::Loopback, 0))
        $listener.Listen(0)
        $script:Owned.Add($listener)
        $port = $listener.LocalEndPoint.Port
        for ($i = 0; $i -lt 16; $i++) {
            $filler = [System.Net.Sockets.Socket]::new('InterNetwork', 'Stream', 'Tcp')
            $script:Owned.Add($filler)
            $connect = $filler.ConnectAsync([System.Net.IPAddress]::Loopback, $port)
            try {
                if (-not $connect.Wait(500)) {
                    return $port
                }
            }
            catch {
                return $null
            }
        }
        $null
    }

    function Get-Port([System.Net.Sockets.Socket] $Socket) { $Socket.LocalEndPoint.Port }

    # A UDP port nobody holds: bound, then released (a port another program picks up in between
    # would answer or stay silent instead, and fail the test loudly).
    function Get-ReleasedUdpPort {
        $socket = [System.Net.Sockets.Socket]::new('InterNetwork', 'Dgram', 'Udp')
        try {
            $socket.Bind([System.Net.IPEndPoint]::new([System.Net.IPAddress]::Loopback, 0))
            $socket.LocalEndPoint.Port
        }
        finally {
            $socket.Dispose()
        }
    }

    # python3 as a DNS or an NTP server: parses the probe field by field, prints what it found,
    # and answers as a real server would.
    $probeServer = @'
import socket, struct, sys, time
kind = sys.argv[1]
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(20)
s.bind(('127.0.0.1', 0))
print('port', s.getsockname()[1], flush=True)
data, addr = s.recvfrom(65535)
if kind == 'dns':
    ident, flags, qd, an, ns, ar = struct.unpack('!HHHHHH', data[:12])
    pos, labels = 12, []
    while data[pos]:
        labels.append(data[pos + 1:pos + 1 + data[pos]].decode())
        pos += 1 + data[pos]
    qtype, qclass = struct.unpack('!HH', data[pos + 1:pos + 5])
    print('query id=%d flags=%#06x qd=%d an=%d ns=%d ar=%d name=%s type=%d class=%d trailing=%d'
          % (ident, flags, qd, an, ns, ar, '.'.join(labels) + '.', qtype, qclass, len(data) - pos - 5), flush=True)
    rdata = b'\x01a\x0croot-servers\x03net\x00'
    answer = struct.pack('!HHHHHH', ident, 0x8180, 1, 1, 0, 0) + data[12:pos + 5]
    answer += b'\x00' + struct.pack('!HHIH', 2, 1, 518400, len(rdata)) + rdata
    s.sendto(answer, addr)
else:
    first = data[0]
    sent = struct.unpack('!I', data[40:44])[0] - 2208988800
    print('request length=%d li=%d vn=%d mode=%d skew=%d rest=%s'
          % (len(data), first >> 6, (first >> 3) & 7, first & 7, abs(sent - int(time.time())), data[1:40].hex()), flush=True)
    now = struct.pack('!II', int(time.time()) + 2208988800, 0)
    reply = bytes([0x24, 2, 6, 0xEC]) + bytes(8) + b'GPS\x00' + now + data[40:48] + now + now
    s.sendto(reply, addr)
'@
}

AfterAll {
    Stop-TestProcess -All
}

Describe 'Test-SocketPort' {
    AfterEach {
        foreach ($item in $script:Owned) { $item.Dispose() }
        $script:Owned.Clear()
        Set-TestHostLookup -Reset
        Get-SocketConnection | Disconnect-Socket
        Get-SocketServer | Stop-SocketServer
    }

    Context 'TCP' {
        It 'says Open for a listening port, with the address, the latency and one attempt' {
            $port = Get-Port (New-OpenPort)

            $result = Test-SocketPort -ComputerName 127.0.0.1 -Port $port

            $result | Should -BeOfType ([SockPS.Core.PortTestResult])
            $result.ComputerName | Should -BeExactly '127.0.0.1'
            $result.RemoteAddress | Should -Be ([System.Net.IPAddress]::Loopback)
            $result.Port | Should -Be $port
            $result.Protocol | Should -Be 'Tcp'
            $result.Status | Should -Be 'Open'
            $result.IsOpen | Should -BeTrue
            $result.Latency | Should -BeOfType ([timespan])
            $result.Latency | Should -BeGreaterThan ([timespan]::Zero)
            $result.Message | Should -BeExactly 'A TCP connection was made.'
            $result.Attempts | Should -Be 1
            $result.Probe | Should -BeNullOrEmpty
        }

        It 'says Refused for a port that is bound but not listening' {
            $port = Get-Port (New-ClosedPort)

            $result = Test-SocketPort -ComputerName 127.0.0.1 -Port $port

            $result.Status | Should -Be 'Refused'
            $result.IsOpen | Should -BeFalse
            $result.Latency | Should -BeOfType ([timespan])
            $result.Message | Should -Match '^Nothing listens there: the host sent a TCP reset\.$'
        }

        It 'says TimedOut when the SYN goes unanswered (a listener whose accept queue is full)' {
            $port = New-UnansweredPort
            # Linux drops a SYN to a listener whose accept queue is full; a test that cannot
            # make an unanswered port fails rather than skips.
            $port | Should -Not -BeNullOrEmpty -Because 'connects to a listener with a full accept queue must hang'

            $result = Test-SocketPort -ComputerName 127.0.0.1 -Port $port -TimeoutSeconds 1

            $result.Status | Should -Be 'TimedOut'
            $result.RemoteAddress | Should -Be ([System.Net.IPAddress]::Loopback)
            $result.Latency | Should -BeNullOrEmpty
            $result.Message | Should -Match '^No answer within 1 second: a firewall may drop the packets'
        }

        It 'says HostNotFound for a name that cannot resolve, and writes no error' {
            $result = Test-SocketPort -ComputerName 'no-such-host.invalid' -Port 80 -ErrorVariable failures

            $result.Status | Should -Be 'HostNotFound'
            $result.RemoteAddress | Should -BeNullOrEmpty
            $result.Latency | Should -BeNullOrEmpty
            $result.Message | Should -Match "^'no-such-host\.invalid' does not resolve: .+\.$"
            $failures.Count | Should -Be 0
        }

        It 'tries the addresses of a name in order, as Connect-Socket does, and names the one that opened' {
            Test-TestIPv6Loopback | Should -BeTrue -Because 'the test needs ::1 (CI has it)'
            $port = Get-Port (New-OpenPort)                      # 127.0.0.1 only
            Set-TestHostLookup -Address ([System.Net.IPAddress]::IPv6Loopback), ([System.Net.IPAddress]::Loopback)

            $result = Test-SocketPort -ComputerName 'two-addresses.test' -Port $port

            $result.Status | Should -Be 'Open'
            $result.RemoteAddress | Should -Be ([System.Net.IPAddress]::Loopback)
        }

        It 'says which addresses it tried when none opened' {
            $port = Get-Port (New-ClosedPort)
            Set-TestHostLookup -Address ([System.Net.IPAddress]::Loopback), ([System.Net.IPAddress]'127.0.0.2')

            $result = Test-SocketPort -ComputerName 'two-addresses.test' -Port $port

            $result.Status | Should -Be 'Refused'
            $result.RemoteAddress | Should -Be ([System.Net.IPAddress]'127.0.0.2')
            $result.Message | Should -Match '^Tried 127\.0\.0\.1, 127\.0\.0\.2; the last: Nothing listens there'
        }

        It 'keeps to the family -AddressFamily asks for: a literal of the other is HostNotFound' {
            $result = Test-SocketPort -ComputerName 127.0.0.1 -Port 80 -AddressFamily InterNetworkV6

            $result.Status | Should -Be 'HostNotFound'
            $result.Message | Should -Match 'IPv4 address, but the address family asked for is IPv6'
        }
    }

    Context 'UDP' {
        It 'says Open when anything answers the probe' {
            $udp = Start-SocketServer -Protocol Udp
            $job = Start-ThreadJob -ScriptBlock {
                Import-Module $env:SOCKPS_MODULE_PATH
                Receive-SocketData -Connection $using:udp -TimeoutSeconds 20 | Send-SocketData -InputObject 'pong'
            }
            try {
                $result = Test-SocketPort -ComputerName 127.0.0.1 -Port $udp.Port -Protocol Udp -TimeoutSeconds 20
            }
            finally {
                $job | Wait-Job -Timeout 20 | Remove-Job -Force
            }

            $result.Status | Should -Be 'Open'
            $result.Protocol | Should -Be 'Udp'
            $result.Probe | Should -Be 'Empty'
            $result.Latency | Should -BeOfType ([timespan])
            $result.Message | Should -BeExactly 'An answer came back to an empty datagram (4 bytes).'
        }

        It 'says Refused when ICMP port unreachable comes back (nothing bound there)' {
            $port = Get-ReleasedUdpPort

            $result = Test-SocketPort -ComputerName 127.0.0.1 -Port $port -Protocol Udp

            $result.Status | Should -Be 'Refused'
            $result.Message | Should -Match 'ICMP port unreachable'
        }

        It 'says NoAnswer, honestly, when a bound socket never answers; the probe was an empty datagram' {
            $udp = Start-SocketServer -Protocol Udp

            $result = Test-SocketPort -ComputerName 127.0.0.1 -Port $udp.Port -Protocol Udp -TimeoutSeconds 1

            $result.Status | Should -Be 'NoAnswer'
            $result.Latency | Should -BeNullOrEmpty
            $result.Message | Should -Match '^No answer within 1 second: the port may be open or filtered; UDP has no handshake'
            $probe = Receive-SocketData -Connection $udp -TimeoutSeconds 20
            $probe.Length | Should -Be 0
        }

        It 'sends a well-formed DNS query with -UdpProbe Dns: <Field>' -ForEach @(
            @{ Field = 'the header: RD set, one question'; Check = { param($d) [System.Convert]::ToHexString($d, 2, 10) | Should -Be '01000001000000000000' } }
            @{ Field = 'the question: the root, NS, IN, and nothing after'; Check = { param($d) [System.Convert]::ToHexString($d, 12, $d.Length - 12) | Should -Be '0000020001' } }
        ) {
            $udp = Start-SocketServer -Protocol Udp

            $result = Test-SocketPort -ComputerName 127.0.0.1 -Port $udp.Port -Protocol Udp -UdpProbe Dns -TimeoutSeconds 1

            $result.Probe | Should -Be 'Dns'
            $result.Message | Should -Match 'no DNS server answered the query'
            & $Check (Receive-SocketData -Connection $udp -TimeoutSeconds 20).Data
        }

        It 'sends an NTPv4 client request with -UdpProbe Ntp' {
            $udp = Start-SocketServer -Protocol Udp

            $result = Test-SocketPort -ComputerName 127.0.0.1 -Port $udp.Port -Protocol Udp -UdpProbe Ntp -TimeoutSeconds 1

            $result.Probe | Should -Be 'Ntp'
            $data = (Receive-SocketData -Connection $udp -TimeoutSeconds 20).Data
            $data.Length | Should -Be 48
            $data[0] | Should -Be 0x23     # LI 0, VN 4, Mode 3 (client)
            $seconds = [uint32]$data[40] * 16777216 + [uint32]$data[41] * 65536 + [uint32]$data[42] * 256 + $data[43]
            $sent = [datetime]::new(1900, 1, 1, 0, 0, 0, [System.DateTimeKind]::Utc).AddSeconds($seconds)
            [math]::Abs(($sent - [datetime]::UtcNow).TotalSeconds) | Should -BeLessThan 60
        }

        It 'sends an empty datagram to other ports unless -UdpProbe says otherwise (Auto)' {
            $udp = Start-SocketServer -Protocol Udp

            (Test-SocketPort -ComputerName 127.0.0.1 -Port $udp.Port -Protocol Udp -UdpProbe Auto -TimeoutSeconds 0.5).Probe | Should -Be 'Empty'
        }

        It 'says Open when a DNS server (python3) answers the query, which it parsed as a root NS query' {
            $peer = Start-TestProcess -FilePath 'python3' -ArgumentList @('-c', $probeServer, 'dns')
            $port = [int](Wait-TestProcessLine -Process $peer -Pattern '^port (\d+)$').Groups[1].Value

            $result = Test-SocketPort -ComputerName 127.0.0.1 -Port $port -Protocol Udp -UdpProbe Dns -TimeoutSeconds 20

            $query = Wait-TestProcessLine -Process $peer -Pattern '^query (.*)$'
            $query.Groups[1].Value | Should -Match '^id=\d+ flags=0x0100 qd=1 an=0 ns=0 ar=0 name=\. type=2 class=1 trailing=0$'
            $result.Status | Should -Be 'Open'
            $result.Message | Should -Match '^A DNS server answered \(NOERROR, \d+ bytes\)\.$'
        }

        It 'says Open when an NTP server (python3) answers the request, which it parsed as version 4, client mode' {
            $peer = Start-TestProcess -FilePath 'python3' -ArgumentList @('-c', $probeServer, 'ntp')
            $port = [int](Wait-TestProcessLine -Process $peer -Pattern '^port (\d+)$').Groups[1].Value

            $result = Test-SocketPort -ComputerName 127.0.0.1 -Port $port -Protocol Udp -UdpProbe Ntp -TimeoutSeconds 20

            $request = Wait-TestProcessLine -Process $peer -Pattern '^request (.*)$'
            $request.Groups[1].Value | Should -Match '^length=48 li=0 vn=4 mode=3 skew=(\d|[1-5]\d) rest=0{78}$'
            $result.Status | Should -Be 'Open'
            $result.Message | Should -BeExactly 'An NTP server answered (stratum 2, 48 bytes).'
        }
    }

    Context '-Wait' {
        It 'waits for a port that opens later: it starts listening after the first refused attempt' {
            $socket = New-ClosedPort
            $background = Start-TestSideCommand -ScriptBlock {
                param($Port)
                Test-SocketPort -ComputerName 127.0.0.1 -Port $Port -Wait -TimeoutSeconds 60 -RetryIntervalSeconds 0.2 -Verbose
            } -ArgumentList @(Get-Port $socket)
            try {
                Wait-TestCondition -Condition { $background.Shell.Streams.Verbose.Count -ge 1 } -Description 'the first refused attempt'
                $socket.Listen(1)

                $background.Handle.AsyncWaitHandle.WaitOne([timespan]::FromSeconds(30)) | Should -BeTrue
                $background.Shell.EndInvoke($background.Handle)
                $result = $background.Output[0]
                $firstAttempt = "$($background.Shell.Streams.Verbose[0])"
            }
            finally {
                $background.Shell.Dispose()
            }

            $result.Status | Should -Be 'Open'
            $result.Attempts | Should -BeGreaterOrEqual 2
            $result.Message | Should -Match "^Opened after $($result.Attempts) attempts"
            $firstAttempt | Should -Match "^127\.0\.0\.1:\d+/Tcp: attempt 1: Refused\. Nothing listens there"
        }

        It 'says TimedOut when the port does not open within the wait, and what the last attempt saw' {
            $port = Get-Port (New-ClosedPort)

            $result = Test-SocketPort -ComputerName 127.0.0.1 -Port $port -Wait -TimeoutSeconds 2 -RetryIntervalSeconds 0.2

            $result.Status | Should -Be 'TimedOut'
            $result.Attempts | Should -BeGreaterOrEqual 2
            $result.Message | Should -Match "^Did not open within 2 seconds \($($result.Attempts) attempts\); the last: Nothing listens there"
        }

        It 'returns at once for a port that is already open' {
            $port = Get-Port (New-OpenPort)

            $result = Test-SocketPort -ComputerName 127.0.0.1 -Port $port -Wait

            $result.Status | Should -Be 'Open'
            $result.Attempts | Should -Be 1
        }

        It 'stops a wait with no bound when the pipeline is stopped, as Ctrl+C does' {
            $port = Get-Port (New-ClosedPort)
            $background = Start-TestSideCommand -ScriptBlock {
                param($Port)
                Test-SocketPort -ComputerName 127.0.0.1 -Port $Port -Wait -TimeoutSeconds 0 -RetryIntervalSeconds 0.2 -Verbose
            } -ArgumentList @($port)
            try {
                Wait-TestCondition -Condition { $background.Shell.Streams.Verbose.Count -ge 1 } -Description 'the first refused attempt'

                $stop = $background.Shell.BeginStop($null, $null)

                $stop.AsyncWaitHandle.WaitOne([timespan]::FromSeconds(20)) | Should -BeTrue -Because 'a stop ends a wait that has no bound'
                $background.Shell.InvocationStateInfo.State | Should -Be 'Stopped'
                $background.Output.Count | Should -Be 0
            }
            finally {
                $background.Shell.Dispose()
            }
        }
    }

    Context '-Quiet' {
        It 'returns $true for an open port and $false for the rest, in input order' {
            $open = Get-Port (New-OpenPort)
            $closed = Get-Port (New-ClosedPort)

            $answers = Test-SocketPort -ComputerName 127.0.0.1, 'no-such-host.invalid' -Port $open, $closed -Quiet

            $answers | Should -Be @($true, $false, $false, $false)
            $answers | ForEach-Object { $_ | Should -BeOfType ([bool]) }
        }
    }

    Context 'many hosts and ports' {
        It 'gives one result per host and port pair, hosts first, ports in the order given' {
            $open = Get-Port (New-OpenPort)
            $closed = Get-Port (New-ClosedPort)

            $results = Test-SocketPort -ComputerName 127.0.0.1, localhost -Port $closed, $open

            $results.Count | Should -Be 4
            $results.ComputerName | Should -Be @('127.0.0.1', '127.0.0.1', 'localhost', 'localhost')
            $results.Port | Should -Be @($closed, $open, $closed, $open)
            $results.Status | Should -Be @('Refused', 'Open', 'Refused', 'Open')
            $results | ForEach-Object { [System.Net.IPAddress]::IsLoopback($_.RemoteAddress) | Should -BeTrue }
        }

        It 'checks 1,000 host and port pairs at once, each result at its place' {
            $ports = [System.Collections.Generic.List[int]]::new()
            $expected = @{}
            for ($i = 0; $i -lt 20; $i++) {
                $open = Get-Port (New-OpenPort -Backlog 1024)
                $closed = Get-Port (New-ClosedPort)
                $expected[$open] = 'Open'
                $expected[$closed] = 'Refused'
                $ports.Add($open)
                $ports.Add($closed)
            }
            # 40 ports, 25 times over, shuffled: 500 open and 500 refused checks.
            $all = @(for ($i = 0; $i -lt 25; $i++) { $ports }) | Get-Random -Shuffle -SetSeed 7

            $results = @(Test-SocketPort -ComputerName 127.0.0.1 -Port $all)

            $results.Count | Should -Be 1000
            $results.Port | Should -Be $all
            $results.ComputerName | Sort-Object -Unique | Should -BeExactly '127.0.0.1'
            $wrong = @(for ($i = 0; $i -lt 1000; $i++) {
                    if ("$($results[$i].Status)" -ne $expected[$all[$i]]) { "check $i, $($results[$i]): $($results[$i].Message)" }
                })
            $wrong | Should -BeNullOrEmpty
            @($results | Where-Object Status -EQ 'Open').Count | Should -Be 500
        }

        It 'gives the same results one at a time (-ThrottleLimit 1)' {
            $open = Get-Port (New-OpenPort)
            $closed = Get-Port (New-ClosedPort)

            $results = Test-SocketPort -ComputerName 127.0.0.1 -Port $open, $closed, $open -ThrottleLimit 1

            $results.Status | Should -Be @('Open', 'Refused', 'Open')
        }

        It 'takes ranges, comma lists and service names as ports' {
            $results = Test-SocketPort -ComputerName 'no-such-host.invalid' -Port '8000-8002', '22, 25', 'http', 443

            $results.Port | Should -Be @(8000, 8001, 8002, 22, 25, 80, 443)
        }

        It 'takes UDP service names from the udp table with -Protocol Udp' {
            (Test-SocketPort -ComputerName 'no-such-host.invalid' -Port ntp, tftp -Protocol Udp).Port | Should -Be @(123, 69)
        }
    }

    Context 'pipeline input' {
        It 'binds ComputerName and Port from CSV rows (Import-Csv), a result per row in order' {
            $open = Get-Port (New-OpenPort)
            $closed = Get-Port (New-ClosedPort)
            $csv = Join-Path -Path $TestDrive -ChildPath 'hosts.csv'
            @(
                'ComputerName,Port'
                "127.0.0.1,$open"
                "127.0.0.1,$closed"
                'no-such-host.invalid,https'
                "localhost,`"$open,$closed`""
            ) | Set-Content -LiteralPath $csv

            $results = Import-Csv -LiteralPath $csv | Test-SocketPort -TimeoutSeconds 5

            $results.ComputerName | Should -Be @('127.0.0.1', '127.0.0.1', 'no-such-host.invalid', 'localhost', 'localhost')
            $results.Port | Should -Be @($open, $closed, 443, $open, $closed)
            $results.Status | Should -Be @('Open', 'Refused', 'HostNotFound', 'Open', 'Refused')
        }

        It 'binds the aliases Host and HostName, and a Protocol column' {
            $open = Get-Port (New-OpenPort)
            $udpPort = Get-ReleasedUdpPort
            $rows = @(
                [pscustomobject]@{ Host = '127.0.0.1'; Port = $open }
                [pscustomobject]@{ HostName = '127.0.0.1'; Port = $udpPort; Protocol = 'udp' }
                [pscustomobject]@{ Host = '127.0.0.1'; Port = $open }
            )

            $results = $rows | Test-SocketPort

            $results.Protocol | Should -Be @('Tcp', 'Udp', 'Tcp')
            $results.Status | Should -Be @('Open', 'Refused', 'Open')
        }

        It 'takes names and addresses piped in, as strings or IPAddress objects' {
            $open = Get-Port (New-OpenPort)

            $byString = '127.0.0.1', 'localhost' | Test-SocketPort -Port $open
            $byAddress = [System.Net.IPAddress]::Loopback | Test-SocketPort -Port $open

            $byString.Status | Should -Be @('Open', 'Open')
            $byAddress.ComputerName | Should -BeExactly '127.0.0.1'
            $byAddress.Status | Should -Be 'Open'
        }

        It 'writes results while input still arrives: a long input never has more than 256 checks unwritten' {
            $closed = Get-Port (New-ClosedPort)
            $written = [ref]0
            $writtenAtLastInput = [ref]-1

            & {
                for ($i = 0; $i -lt 600; $i++) {
                    if ($i -eq 599) { $writtenAtLastInput.Value = $written.Value }
                    '127.0.0.1'
                }
            } | Test-SocketPort -Port $closed -ThrottleLimit 1 | ForEach-Object { $written.Value++ }

            $written.Value | Should -Be 600
            # 599 inputs were in when the last came; at most 256 of them unwritten.
            $writtenAtLastInput.Value | Should -BeGreaterOrEqual (599 - 256)
        }
    }

    Context 'errors' {
        It 'stops with InvalidArgument for port <Port>' -ForEach @(
            @{ Port = '65536'; Says = 'out of range' }
            @{ Port = '0'; Says = 'out of range' }
            @{ Port = 'no-such-service'; Says = "'no-such-service' is not a known tcp service name" }
            @{ Port = '9000-8000'; Says = "The port range '9000-8000' is not valid" }
            @{ Port = '80,,443'; Says = 'The port is empty' }
        ) {
            $err = { Test-SocketPort -ComputerName 127.0.0.1 -Port $Port } |
                Should -Throw -ErrorId 'InvalidArgument,SockPS.Commands.TestSocketPortCommand' -PassThru

            $err.CategoryInfo.Category | Should -Be 'InvalidArgument'
            $err.Exception.Message | Should -Match ([regex]::Escape($Says))
            $err.TargetObject | Should -Be $Port
        }

        It 'stops with InvalidArgument for <Name>' -ForEach @(
            @{ Name = 'a negative timeout'; Arguments = @{ TimeoutSeconds = -1 }; Says = '-TimeoutSeconds must be 0' }
            @{ Name = 'a timeout past what a timer holds'; Arguments = @{ TimeoutSeconds = 1e7 }; Says = '-TimeoutSeconds can be at most 2147483' }
            @{ Name = 'a throttle limit of 0'; Arguments = @{ ThrottleLimit = 0 }; Says = '-ThrottleLimit must be at least 1' }
            @{ Name = '-RetryIntervalSeconds without -Wait'; Arguments = @{ RetryIntervalSeconds = 1 }; Says = 'add -Wait' }
            @{ Name = 'a retry interval of 0'; Arguments = @{ Wait = $true; RetryIntervalSeconds = 0 }; Says = 'must be a positive number' }
            @{ Name = '-UdpProbe without -Protocol Udp'; Arguments = @{ UdpProbe = 'Dns' }; Says = 'add -Protocol Udp' }
            @{ Name = 'a blank computer name'; Arguments = @{ ComputerName = ' ' }; Says = 'A computer name is empty' }
        ) {
            $parameters = @{ ComputerName = '127.0.0.1'; Port = 80 }
            foreach ($key in $Arguments.Keys) { $parameters[$key] = $Arguments[$key] }

            $err = { Test-SocketPort @parameters } |
                Should -Throw -ErrorId 'InvalidArgument,SockPS.Commands.TestSocketPortCommand' -PassThru

            $err.CategoryInfo.Category | Should -Be 'InvalidArgument'
            $err.Exception.Message | Should -Match ([regex]::Escape($Says))
        }

        It 'reports what fails per target as results, never as errors' {
            $closed = Get-Port (New-ClosedPort)

            $results = Test-SocketPort -ComputerName 127.0.0.1, 'no-such-host.invalid' -Port $closed -ErrorVariable failures -ErrorAction Stop

            $results.Status | Should -Be @('Refused', 'HostNotFound')
            $failures.Count | Should -Be 0
        }
    }

    Context 'output' {
        It 'declares PortTestResult and bool (-Quiet) as its output types' {
            $types = (Get-Command -Name Test-SocketPort).OutputType.Type
            $types | Should -Contain ([SockPS.Core.PortTestResult])
            $types | Should -Contain ([bool])
        }

        It 'shows ComputerName, RemoteAddress, Port/protocol, Status, Latency and Message in a table' {
            $closed = Get-Port (New-ClosedPort)

            $table = Test-SocketPort -ComputerName 127.0.0.1, 'no-such-host.invalid' -Port $closed | Out-String -Width 250
            $lines = $table -split "`r?`n" | Where-Object { $_.Trim() }

            $lines[0] | Should -Match '^ComputerName\s+RemoteAddress\s+Port\s+Status\s+Latency\s+Message\s*$'
            $lines[2] | Should -Match "^127\.0\.0\.1\s+127\.0\.0\.1\s+$closed/tcp\s+Refused\s+\d+\.\d ms\s+Nothing listens there"
            $lines[3] | Should -Match "^no-such-host\.inv\S*\s+$closed/tcp\s+HostNotFound\s+'no-such-host\.invalid' does not resolve"
        }
    }
}
