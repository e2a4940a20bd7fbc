#Requires -Version 7.4
# Connect-Socket: Python's socket connect. Every test talks to a SockPS server on a free loopback port.

BeforeAll {
    Import-Module $env:SOCKPS_MODULE_PATH -Force
    Import-Module "$PSScriptRoot/SockPS.TestHelpers.psm1" -Force
}

Describe 'Connect-Socket' {
    BeforeEach {
        $server = Start-SocketServer
    }

    AfterEach {
        Get-SocketConnection | Disconnect-Socket
        Get-SocketServer | Stop-SocketServer
    }

    Context 'connecting' {
        It 'connects by address and port and returns a live, listed connection' {
            $connection = Connect-Socket -ComputerName 127.0.0.1 -Port $server.Port
            $accepted = Wait-SocketConnection -Server $server -TimeoutSeconds 20

            $connection | Should -BeOfType ([SockPS.Core.SocketConnection])
            $connection.State | Should -Be 'Open'
            $connection.Protocol | Should -Be 'Tcp'
            $connection.Id | Should -BeGreaterThan 0
            $connection.InstanceId | Should -Not -Be ([guid]::Empty)
            $connection.Name | Should -Be "Connection$($connection.Id)"
            $connection.RemoteEndPoint.Address | Should -Be ([System.Net.IPAddress]::Loopback)
            $connection.RemoteEndPoint.Port | Should -Be $server.Port
            $connection.Server | Should -BeNullOrEmpty
            $connection.CloseReason | Should -BeNullOrEmpty
            $connection.BytesSent | Should -Be 0
            $connection.BytesReceived | Should -Be 0
            $connection.ConnectedAt | Should -BeOfType ([datetime])
            $connection.ConnectedAt | Should -BeLessOrEqual (Get-Date)
            # The two ends see each other.
            $accepted.RemoteEndPoint | Should -Be $connection.LocalEndPoint
            (Get-SocketConnection -Id $connection.Id).InstanceId | Should -Be $connection.InstanceId
        }

        It 'takes the computer name and port by position, the port as a numeric string' {
            $connection = Connect-Socket '127.0.0.1' ([string]$server.Port)

            $connection.RemoteEndPoint.Port | Should -Be $server.Port
            Wait-SocketConnection -Server $server -TimeoutSeconds 20 | Should -Not -BeNullOrEmpty
        }

        It 'resolves a host name (localhost)' {
            $connection = Connect-Socket -ComputerName localhost -Port $server.Port -AddressFamily InterNetwork

            [System.Net.IPAddress]::IsLoopback($connection.RemoteEndPoint.Address) | Should -BeTrue
            $connection.RemoteEndPoint.AddressFamily | Should -Be 'InterNetwork'
            $connection.RemoteEndPoint.Port | Should -Be $server.Port
        }

        It 'carries data both ways' {
            $connection = Connect-Socket -ComputerName 127.0.0.1 -Port $server.Port
            $accepted = Wait-SocketConnection -Server $server -TimeoutSeconds 20

            Send-SocketData -Connection $connection -InputObject 'ping' -Line
            Receive-SocketData -Connection $accepted -Line | Should -BeExactly 'ping'
            Send-SocketData -Connection $accepted -InputObject 'pong' -Line
            Receive-SocketData -Connection $connection -Line | Should -BeExactly 'pong'
        }

        It 'connects to the IPv6 loopback given as an address' {
            if (-not (Test-TestIPv6Loopback)) {
                Set-ItResult -Skipped -Because 'this machine has no IPv6 loopback'
                return
            }
            $v6 = Start-SocketServer -Address '::1'

            $connection = Connect-Socket -ComputerName '::1' -Port $v6.Port -AddressFamily InterNetworkV6

            $connection.RemoteEndPoint.Address | Should -Be ([System.Net.IPAddress]::IPv6Loopback)
            $connection.RemoteEndPoint.Port | Should -Be $v6.Port
        }

        It 'honours -AddressFamily for an address literal of the other family' {
            # A literal 127.0.0.1 has no IPv6 address: asking for InterNetworkV6 must not connect
            # over IPv4 behind the user's back.
            $connection = Connect-Socket -ComputerName 127.0.0.1 -Port $server.Port -AddressFamily InterNetworkV6 `
                -ErrorAction SilentlyContinue -ErrorVariable failures

            $connection | Should -BeNullOrEmpty -Because '127.0.0.1 is not an IPv6 address'
            $failures.Count | Should -Be 1
            $failures[0].Exception.Message | Should -Match 'IPv6'
        }
    }

    Context 'ports' {
        It 'resolves a service name: -Port http means 80' {
            # Nothing here listens on 80, so this is refused; either way the target is port 80.
            $connection = Connect-Socket -ComputerName 127.0.0.1 -Port http -TimeoutSeconds 10 `
                -ErrorAction SilentlyContinue -ErrorVariable failures

            if ($connection) {
                $connection.RemoteEndPoint.Port | Should -Be 80
            }
            else {
                $failures[0].FullyQualifiedErrorId | Should -Be 'ConnectionRefused,SockPS.Commands.ConnectSocketCommand'
                $failures[0].Exception.Message | Should -Match '127\.0\.0\.1:80\b'
            }
        }

        It 'rejects an unknown service name with a non-terminating InvalidArgument error' {
            Connect-Socket -ComputerName 127.0.0.1 -Port 'no-such-service' -ErrorVariable failed -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
            $err = $failed[0]
            $err.FullyQualifiedErrorId | Should -Be 'InvalidArgument,SockPS.Commands.ConnectSocketCommand'

            $err.CategoryInfo.Category | Should -Be 'InvalidArgument'
            $err.Exception.Message | Should -Match "'no-such-service' is not a known tcp service name"
        }

        It 'rejects port <Port> with a non-terminating InvalidArgument error' -TestCases @(
            @{ Port = '0' }
            @{ Port = '65536' }
            @{ Port = '-1' }
        ) {
            Connect-Socket -ComputerName 127.0.0.1 -Port $Port -ErrorVariable failed -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
            $err = $failed[0]
            $err.FullyQualifiedErrorId | Should -Be 'InvalidArgument,SockPS.Commands.ConnectSocketCommand'

            $err.CategoryInfo.Category | Should -Be 'InvalidArgument'
            $err.Exception.Message | Should -Match '1 to 65535'
            Get-SocketConnection | Should -BeNullOrEmpty
        }
    }

    Context '-Uri' {
        It 'connects with tcp://host:port' {
            $connection = Connect-Socket -Uri "tcp://127.0.0.1:$($server.Port)"

            $connection.RemoteEndPoint.Port | Should -Be $server.Port
            $connection.State | Should -Be 'Open'
        }

        It 'connects with an IPv6 literal in brackets' {
            if (-not (Test-TestIPv6Loopback)) {
                Set-ItResult -Skipped -Because 'this machine has no IPv6 loopback'
                return
            }
            $v6 = Start-SocketServer -Address '::1'

            $connection = Connect-Socket -Uri "tcp://[::1]:$($v6.Port)"

            $connection.RemoteEndPoint.Address | Should -Be ([System.Net.IPAddress]::IPv6Loopback)
            (Wait-SocketConnection -Server $v6 -TimeoutSeconds 20).LocalEndPoint.Port | Should -Be $v6.Port
        }

        It 'rejects <Uri> with a terminating InvalidUri error' -TestCases @(
            @{ Uri = 'htp://127.0.0.1:8080'; Says = 'not supported' }
            @{ Uri = 'tcp://127.0.0.1'; Says = 'has no port' }
            @{ Uri = 'relative/path'; Says = 'not supported' }
        ) {
            $err = { Connect-Socket -Uri $Uri -ErrorAction SilentlyContinue } |
                Should -Throw -ErrorId 'InvalidUri,SockPS.Commands.ConnectSocketCommand' -PassThru

            $err.CategoryInfo.Category | Should -Be 'InvalidArgument'
            $err.Exception.Message | Should -BeLike "*$Says*tcp://host:port*"
        }
    }

    Context 'pipeline input by property name' {
        It 'binds ComputerName, Port and Name from objects' {
            $rows = @(
                [pscustomobject]@{ ComputerName = '127.0.0.1'; Port = $server.Port; Name = 'first' }
                [pscustomobject]@{ ComputerName = 'localhost'; Port = [string]$server.Port; Name = 'second' }
            )

            $connections = $rows | Connect-Socket -AddressFamily InterNetwork

            $connections.Count | Should -Be 2
            $connections.Name | Should -Be @('first', 'second')
            $connections.RemoteEndPoint.Port | Should -Be @($server.Port, $server.Port)
        }

        It 'binds Uri and Name from CSV rows' {
            $csv = "Uri,Name`ntcp://127.0.0.1:$($server.Port),csv-one`ntcp://127.0.0.1:$($server.Port),csv-two"

            $connections = $csv | ConvertFrom-Csv | Connect-Socket

            $connections.Name | Should -Be @('csv-one', 'csv-two')
            (Get-SocketConnection -Name 'csv-*').Count | Should -Be 2
        }
    }

    Context 'options' {
        It 'applies -Name, -NewLine, -ReceiveTimeoutSeconds and -Encoding' {
            $connection = Connect-Socket -ComputerName 127.0.0.1 -Port $server.Port -Name 'opts' -NewLine "`r`n" `
                -ReceiveTimeoutSeconds 7 -Encoding unicode
            $accepted = Wait-SocketConnection -Server $server -TimeoutSeconds 20

            $connection.Name | Should -Be 'opts'
            $connection.NewLine | Should -Be "`r`n"
            $connection.ReceiveTimeoutSeconds | Should -Be 7
            $connection.Encoding.WebName | Should -Be 'utf-16'

            Send-SocketData -Connection $connection -InputObject 'hé' -Line
            # UTF-16LE for h, é, CR, LF: two bytes each.
            $bytes = Receive-SocketData -Connection $accepted -ByteCount 8
            [System.Convert]::ToHexString($bytes) | Should -Be '6800E9000D000A00'
        }

        It 'defaults to UTF-8 without BOM, "`n" and a 30 s receive timeout' {
            $connection = Connect-Socket -ComputerName 127.0.0.1 -Port $server.Port
            $accepted = Wait-SocketConnection -Server $server -TimeoutSeconds 20

            $connection.NewLine | Should -Be "`n"
            $connection.ReceiveTimeoutSeconds | Should -Be 30
            Send-SocketData -Connection $connection -InputObject '€' -Line
            $bytes = Receive-SocketData -Connection $accepted -ByteCount 4
            [System.Convert]::ToHexString($bytes) | Should -Be 'E282AC0A'
        }

        It 'takes an Encoding object for -Encoding' {
            $connection = Connect-Socket -ComputerName 127.0.0.1 -Port $server.Port -Encoding ([System.Text.Encoding]::Latin1)
            $accepted = Wait-SocketConnection -Server $server -TimeoutSeconds 20

            Send-SocketData -Connection $connection -InputObject 'é'
            $bytes = Receive-SocketData -Connection $accepted -ByteCount 1
            [System.Convert]::ToHexString($bytes) | Should -Be 'E9'
        }

        It 'rejects an unknown encoding name' {
            $err = { Connect-Socket -ComputerName 127.0.0.1 -Port $server.Port -Encoding 'no-such-encoding' } |
                Should -Throw -ErrorId 'ParameterArgumentTransformationError,SockPS.Commands.ConnectSocketCommand' -PassThru

            $err.Exception.Message | Should -Match 'no-such-encoding'
            Get-SocketConnection | Should -BeNullOrEmpty
        }

        It 'sets TCP_NODELAY and SO_KEEPALIVE only when asked' {
            $plain = Connect-Socket -ComputerName 127.0.0.1 -Port $server.Port
            $tuned = Connect-Socket -ComputerName 127.0.0.1 -Port $server.Port -NoDelay -KeepAlive

            (Get-TestOsSocket $plain).NoDelay | Should -BeFalse
            (Get-TestOsSocket $plain).GetSocketOption('Socket', 'KeepAlive') | Should -Be 0
            (Get-TestOsSocket $tuned).NoDelay | Should -BeTrue
            (Get-TestOsSocket $tuned).GetSocketOption('Socket', 'KeepAlive') | Should -Not -Be 0
        }
    }

    Context 'errors' {
        It 'reports a refused connection as a non-terminating ConnectionRefused error' {
            $closedPort = Get-TestFreeTcpPort

            $err = { Connect-Socket -ComputerName 127.0.0.1 -Port $closedPort -ErrorAction Stop } |
                Should -Throw -ErrorId 'ConnectionRefused,SockPS.Commands.ConnectSocketCommand' -PassThru

            $err.FullyQualifiedErrorId | Should -BeExactly 'ConnectionRefused,SockPS.Commands.ConnectSocketCommand'
            $err.CategoryInfo.Category | Should -Be 'ConnectionError'
            $err.Exception.Message | Should -Match "127\.0\.0\.1:$closedPort"
            $err.Exception.Message | Should -Match 'refused'
            $err.TargetObject | Should -Match "127\.0\.0\.1:$closedPort"
        }

        It 'goes on with the next input after a refused connection' {
            $closedPort = Get-TestFreeTcpPort
            $rows = @(
                [pscustomobject]@{ ComputerName = '127.0.0.1'; Port = $closedPort }
                [pscustomobject]@{ ComputerName = '127.0.0.1'; Port = $server.Port }
            )

            $connections = $rows | Connect-Socket -ErrorAction SilentlyContinue -ErrorVariable failures

            @($connections).Count | Should -Be 1
            $connections.RemoteEndPoint.Port | Should -Be $server.Port
            $failures.Count | Should -Be 1
            $failures[0].FullyQualifiedErrorId | Should -Be 'ConnectionRefused,SockPS.Commands.ConnectSocketCommand'
        }

        It 'reports an unknown host as a non-terminating HostNotFound error' {
            $connection = Connect-Socket -ComputerName 'no-such-host.invalid' -Port 80 -TimeoutSeconds 20 `
                -ErrorAction SilentlyContinue -ErrorVariable failures

            $connection | Should -BeNullOrEmpty
            $failures.Count | Should -Be 1
            $failures[0].FullyQualifiedErrorId | Should -BeExactly 'HostNotFound,SockPS.Commands.ConnectSocketCommand'
            $failures[0].CategoryInfo.Category | Should -Be 'ObjectNotFound'
            $failures[0].Exception.Message | Should -Match 'no-such-host\.invalid'
            $failures[0].Exception | Should -BeOfType ([SockPS.Core.SocketOperationException])
        }

        It 'reports a connect nobody answers as a non-terminating ConnectTimeout error' {
            # A raw listener that never accepts, with the smallest queue: once the queue is full
            # the OS leaves further connects unanswered (Linux drops the SYN). Connect until one
            # times out; those that succeed are what fills the queue.
            $listener = [System.Net.Sockets.Socket]::new('InterNetwork', 'Stream', 'Tcp')
            try {
                $listener.Bind([System.Net.IPEndPoint]::new([System.Net.IPAddress]::Loopback, 0))
                $listener.Listen(0)
                $port = $listener.LocalEndPoint.Port
                $failure = $null
                for ($attempt = 0; $attempt -lt 20 -and -not $failure; $attempt++) {
                    $null = Connect-Socket -ComputerName 127.0.0.1 -Port $port -TimeoutSeconds 0.5 `
                        -ErrorAction SilentlyContinue -ErrorVariable failures
                    if ($failures) { $failure = $failures[0] }
                }
                if (-not $failure -or $failure.FullyQualifiedErrorId -like 'ConnectionRefused,*') {
                    Set-ItResult -Skipped -Because 'this OS never leaves a loopback connect unanswered (it accepts or refuses)'
                    return
                }

                $failure.FullyQualifiedErrorId | Should -BeExactly 'ConnectTimeout,SockPS.Commands.ConnectSocketCommand'
                $failure.CategoryInfo.Category | Should -Be 'OperationTimeout'
                $failure.Exception.Message | Should -Match "127\.0\.0\.1:$port timed out after 0\.5 seconds"
            }
            finally {
                $listener.Dispose()
            }
        }

        It 'rejects a negative -TimeoutSeconds' {
            { Connect-Socket -ComputerName 127.0.0.1 -Port $server.Port -TimeoutSeconds -1 } |
                Should -Throw -ErrorId 'ParameterArgumentValidationError,SockPS.Commands.ConnectSocketCommand'
        }
    }
}

Describe 'Connect-Socket: UDP, Unix domain sockets, IPv6 and socket options' {
    AfterEach {
        Get-SocketConnection | Disconnect-Socket
        Get-SocketServer | Stop-SocketServer
        Set-TestHostLookup -Reset
    }

    Context 'UDP' {
        It 'makes a datagram socket connected to one peer with -Protocol Udp' {
            $server = Start-SocketServer -Protocol Udp

            $connection = Connect-Socket -Protocol Udp -ComputerName 127.0.0.1 -Port $server.Port

            $connection | Should -BeOfType ([SockPS.Core.SocketConnection])
            $connection.Protocol | Should -Be 'Udp'
            $connection.Transport | Should -Be 'Udp'
            $connection.IsDatagram | Should -BeTrue
            $connection.AddressFamily | Should -Be 'InterNetwork'
            $connection.State | Should -Be 'Open'
            $connection.RemoteEndPoint | Should -Be $server.LocalEndPoint
            $connection.LocalEndPoint.Address | Should -Be ([System.Net.IPAddress]::Loopback)
            $connection.LocalEndPoint.Port | Should -BeGreaterThan 0
            $connection.Server | Should -BeNullOrEmpty
            $connection.Broadcast | Should -BeFalse
            $connection.DatagramsSent | Should -Be 0
            $connection.DatagramsReceived | Should -Be 0
            $connection.DroppedCount | Should -Be 0
            (Get-SocketConnection -Id $connection.Id).InstanceId | Should -Be $connection.InstanceId

            Send-SocketData -Connection $connection -InputObject 'first datagram'

            $datagram = Receive-SocketData -Connection $server -TimeoutSeconds 20
            $datagram.Text | Should -BeExactly 'first datagram'
            $datagram.RemoteEndPoint | Should -Be $connection.LocalEndPoint
            $connection.DatagramsSent | Should -Be 1
            $connection.BytesSent | Should -Be 14
        }

        It 'connects with udp://host:port' {
            $server = Start-SocketServer -Protocol Udp

            $connection = Connect-Socket -Uri "udp://127.0.0.1:$($server.Port)"

            $connection.Protocol | Should -Be 'Udp'
            $connection.RemoteEndPoint | Should -Be $server.LocalEndPoint
        }

        It 'binds Protocol by property name from CSV rows' {
            $server = Start-SocketServer -Protocol Udp
            $csv = "ComputerName,Port,Protocol,Name`n127.0.0.1,$($server.Port),Udp,dgram-row"

            $connection = $csv | ConvertFrom-Csv | Connect-Socket

            $connection.Protocol | Should -Be 'Udp'
            $connection.Name | Should -Be 'dgram-row'
        }

        It 'connects when nothing listens, as UDP has no handshake' {
            $gone = Start-SocketServer -Protocol Udp
            $port = $gone.Port
            Stop-SocketServer -Server $gone

            $connection = Connect-Socket -Protocol Udp -ComputerName 127.0.0.1 -Port $port -ErrorAction Stop

            $connection.State | Should -Be 'Open'
            $connection.RemoteEndPoint.Port | Should -Be $port
        }

        It 'looks -Port names up in the udp table: tftp is 69 over UDP and unknown over TCP' {
            $connection = Connect-Socket -Protocol Udp -ComputerName 127.0.0.1 -Port tftp

            $connection.RemoteEndPoint.Port | Should -Be 69
            Connect-Socket -ComputerName 127.0.0.1 -Port tftp -ErrorVariable failed -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
            $err = $failed[0]
            $err.FullyQualifiedErrorId | Should -Be 'InvalidArgument,SockPS.Commands.ConnectSocketCommand'
            $err.Exception.Message | Should -Match "'tftp' is not a known tcp service name"
        }

        It 'sets SO_BROADCAST with -Broadcast and reaches a listener on every address through 127.255.255.255' {
            # Linux gives loopback broadcasts only to sockets bound to the wildcard address; the
            # datagram itself never leaves the loopback interface.
            $listener = Start-SocketServer -Protocol Udp -Address Any

            $sender = Connect-Socket -Protocol Udp -ComputerName 127.255.255.255 -Port $listener.Port -Broadcast

            $sender.Broadcast | Should -BeTrue
            (Get-TestOsSocket $sender).EnableBroadcast | Should -BeTrue
            Send-SocketData -Connection $sender -InputObject 'to everyone'
            (Receive-SocketData -Connection $listener -TimeoutSeconds 20).Text | Should -BeExactly 'to everyone'
        }

        It 'writes a non-terminating AccessDenied error for a broadcast address without -Broadcast' {
            $connection = Connect-Socket -Protocol Udp -ComputerName 127.255.255.255 -Port 9 `
                -ErrorAction SilentlyContinue -ErrorVariable failures

            $connection | Should -BeNullOrEmpty
            $failures.Count | Should -Be 1
            $failures[0].FullyQualifiedErrorId | Should -BeExactly 'AccessDenied,SockPS.Commands.ConnectSocketCommand'
            $failures[0].CategoryInfo.Category | Should -Be 'PermissionDenied'
            $failures[0].Exception.Message | Should -Match '127\.255\.255\.255:9'
        }

        It 'rejects -Broadcast without -Protocol Udp with a terminating InvalidArgument error' {
            $server = Start-SocketServer

            $err = { Connect-Socket -ComputerName 127.0.0.1 -Port $server.Port -Broadcast -ErrorAction SilentlyContinue } |
                Should -Throw -ErrorId 'InvalidArgument,SockPS.Commands.ConnectSocketCommand' -PassThru

            $err.CategoryInfo.Category | Should -Be 'InvalidArgument'
            $err.Exception.Message | Should -Match '-Broadcast needs -Protocol Udp'
            Get-SocketConnection | Should -BeNullOrEmpty
        }
    }

    Context 'Unix domain sockets' {
        It 'connects to a Unix stream socket with -Path' {
            $path = Join-Path -Path $TestDrive -ChildPath 'stream.sock'
            $server = Start-SocketServer -Path $path

            $connection = Connect-Socket -Path $path
            $accepted = Wait-SocketConnection -Server $server -TimeoutSeconds 20

            $connection.Transport | Should -Be 'Unix'
            $connection.Protocol | Should -Be 'Tcp'
            $connection.AddressFamily | Should -Be 'Unix'
            $connection.IsDatagram | Should -BeFalse
            $connection.RemoteEndPoint.ToString() | Should -Be $path
            $accepted.Transport | Should -Be 'Unix'
            Send-SocketData -Connection $connection -InputObject 'over a socket file' -Line
            Receive-SocketData -Connection $accepted -Line | Should -BeExactly 'over a socket file'
            Send-SocketData -Connection $accepted -InputObject 'and back' -Line
            Receive-SocketData -Connection $connection -Line | Should -BeExactly 'and back'
        }

        It 'connects with unix:///path' {
            $path = Join-Path -Path $TestDrive -ChildPath 'uri.sock'
            $server = Start-SocketServer -Path $path

            $connection = Connect-Socket -Uri "unix://$path"

            $connection.Transport | Should -Be 'Unix'
            $connection.RemoteEndPoint.ToString() | Should -Be $path
            (Wait-SocketConnection -Server $server -TimeoutSeconds 20).Transport | Should -Be 'Unix'
        }

        It 'binds Path and Name by property name' {
            $path = Join-Path -Path $TestDrive -ChildPath 'by-property.sock'
            $null = Start-SocketServer -Path $path

            $connection = [pscustomobject]@{ Path = $path; Name = 'unix-row' } | Connect-Socket

            $connection.Name | Should -Be 'unix-row'
            $connection.Transport | Should -Be 'Unix'
        }

        It 'connects a Unix datagram socket with -Protocol Udp, bound to a file of its own for replies' {
            $path = Join-Path -Path $TestDrive -ChildPath 'dgram.sock'
            $server = Start-SocketServer -Path $path -Protocol Udp

            $connection = Connect-Socket -Path $path -Protocol Udp

            $connection.Transport | Should -Be 'Unix-Dgram'
            $connection.Protocol | Should -Be 'Udp'
            $connection.IsDatagram | Should -BeTrue
            $connection.RemoteEndPoint.ToString() | Should -Be $path
            $ownPath = $connection.LocalEndPoint.ToString()
            Test-TestSocketFile -Path $ownPath | Should -BeTrue
            Send-SocketData -Connection $connection -InputObject 'unix datagram'
            $datagram = Receive-SocketData -Connection $server -TimeoutSeconds 20
            $datagram.Text | Should -BeExactly 'unix datagram'
            $datagram.RemoteEndPoint.ToString() | Should -Be $ownPath
            $datagram | Send-SocketData -InputObject 'unix reply'
            (Receive-SocketData -Connection $connection -TimeoutSeconds 20).Text | Should -BeExactly 'unix reply'

            Disconnect-Socket -Connection $connection

            Test-Path -LiteralPath $ownPath | Should -BeFalse -Because 'the client''s own socket file goes with it'
        }

        It 'resolves a relative -Path against the current location' {
            $path = Join-Path -Path $TestDrive -ChildPath 'relative-connect.sock'
            $server = Start-SocketServer -Path $path

            Push-Location -LiteralPath $TestDrive
            try {
                $connection = Connect-Socket -Path 'relative-connect.sock' -ErrorAction SilentlyContinue -ErrorVariable failures
            }
            finally {
                Pop-Location
            }

            $failures | Should -BeNullOrEmpty -Because 'relative-connect.sock is in the current location'
            $connection.RemoteEndPoint.ToString() | Should -Be $path
            (Wait-SocketConnection -Server $server -TimeoutSeconds 20).Transport | Should -Be 'Unix'
        }

        It 'writes a non-terminating HostNotFound error for a path that does not exist' {
            $missing = Join-Path -Path $TestDrive -ChildPath 'missing.sock'

            $connection = Connect-Socket -Path $missing -ErrorAction SilentlyContinue -ErrorVariable failures

            $connection | Should -BeNullOrEmpty
            $failures.Count | Should -Be 1
            $failures[0].FullyQualifiedErrorId | Should -BeExactly 'HostNotFound,SockPS.Commands.ConnectSocketCommand'
            $failures[0].CategoryInfo.Category | Should -Be 'ObjectNotFound'
            $failures[0].Exception.Message | Should -Match ([regex]::Escape($missing))
            $failures[0].Exception.Message | Should -Match 'does not exist'
            $failures[0].TargetObject | Should -Be $missing
        }

        It 'writes a non-terminating ConnectionRefused error for a stale socket file' {
            $stale = New-TestStaleSocketFile -Path (Join-Path -Path $TestDrive -ChildPath 'stale-connect.sock')

            $connection = Connect-Socket -Path $stale -ErrorAction SilentlyContinue -ErrorVariable failures

            $connection | Should -BeNullOrEmpty
            $failures.Count | Should -Be 1
            $failures[0].FullyQualifiedErrorId | Should -BeExactly 'ConnectionRefused,SockPS.Commands.ConnectSocketCommand'
            $failures[0].CategoryInfo.Category | Should -Be 'ConnectionError'
            $failures[0].Exception.Message | Should -Match 'nothing listens'
            Test-TestSocketFile -Path $stale | Should -BeTrue -Because 'connecting never removes a file'
        }

        It 'rejects unix://relative/path with a terminating InvalidUri error' {
            $err = { Connect-Socket -Uri 'unix://relative/path' -ErrorAction SilentlyContinue } |
                Should -Throw -ErrorId 'InvalidUri,SockPS.Commands.ConnectSocketCommand' -PassThru

            $err.CategoryInfo.Category | Should -Be 'InvalidArgument'
            $err.Exception.Message | Should -Match 'unix:///'
        }

        It 'rejects a path too long for a Unix socket with a non-terminating InvalidArgument error' {
            $tooLong = Join-Path -Path $TestDrive -ChildPath ('x' * 120)

            Connect-Socket -Path $tooLong -ErrorVariable failed -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
            $err = $failed[0]
            $err.FullyQualifiedErrorId | Should -Be 'InvalidArgument,SockPS.Commands.ConnectSocketCommand'

            $err.CategoryInfo.Category | Should -Be 'InvalidArgument'
            $err.Exception.Message | Should -Match 'cannot be a Unix socket path'
        }
    }

    Context 'IPv6 and names with several addresses' {
        It 'tries the addresses of a name in turn: the first refuses, the second connects' {
            if (-not (Test-TestIPv6Loopback)) {
                Set-ItResult -Skipped -Because 'this machine has no IPv6 loopback to refuse'
                return
            }
            # The server listens on 127.0.0.1 only, so [::1] refuses.
            $server = Start-SocketServer
            Set-TestHostLookup -Address ([System.Net.IPAddress]::IPv6Loopback), ([System.Net.IPAddress]::Loopback)

            $connection = Connect-Socket -ComputerName 'two-addresses.test' -Port $server.Port

            $connection.RemoteEndPoint | Should -Be $server.LocalEndPoint
            (Wait-SocketConnection -Server $server -TimeoutSeconds 20).RemoteEndPoint | Should -Be $connection.LocalEndPoint
        }

        It 'names the last failure when no address of a name connects' {
            $closedPort = Get-TestFreeTcpPort
            Set-TestHostLookup -Address ([System.Net.IPAddress]::IPv6Loopback), ([System.Net.IPAddress]::Loopback)

            $connection = Connect-Socket -ComputerName 'two-addresses.test' -Port $closedPort -ErrorAction SilentlyContinue -ErrorVariable failures

            $connection | Should -BeNullOrEmpty
            $failures.Count | Should -Be 1
            $failures[0].FullyQualifiedErrorId | Should -BeExactly 'ConnectionRefused,SockPS.Commands.ConnectSocketCommand'
            $failures[0].Exception.Message | Should -Match "two-addresses\.test:$closedPort \(127\.0\.0\.1:$closedPort\)"
        }

        It 'uses only the addresses of the -AddressFamily asked for' {
            if (-not (Test-TestIPv6Loopback)) {
                Set-ItResult -Skipped -Because 'this machine has no IPv6 loopback'
                return
            }
            $v6 = Start-SocketServer -AddressFamily InterNetworkV6
            Set-TestHostLookup -Address ([System.Net.IPAddress]::Loopback), ([System.Net.IPAddress]::IPv6Loopback)

            $connection = Connect-Socket -ComputerName 'two-addresses.test' -Port $v6.Port -AddressFamily InterNetworkV6
            $refused = Connect-Socket -ComputerName 'two-addresses.test' -Port $v6.Port -AddressFamily InterNetwork `
                -ErrorAction SilentlyContinue -ErrorVariable failures

            $connection.RemoteEndPoint.Address | Should -Be ([System.Net.IPAddress]::IPv6Loopback)
            $connection.AddressFamily | Should -Be 'InterNetworkV6'
            $refused | Should -BeNullOrEmpty
            $failures[0].FullyQualifiedErrorId | Should -Be 'ConnectionRefused,SockPS.Commands.ConnectSocketCommand'
            $failures[0].Exception.Message | Should -Match "127\.0\.0\.1:$($v6.Port)"
        }

        It 'sends datagrams over IPv6 with udp://[::1]:port' {
            if (-not (Test-TestIPv6Loopback)) {
                Set-ItResult -Skipped -Because 'this machine has no IPv6 loopback'
                return
            }
            $server = Start-SocketServer -Protocol Udp -Address '::1'

            $connection = Connect-Socket -Uri "udp://[::1]:$($server.Port)"
            Send-SocketData -Connection $connection -InputObject 'v6 datagram'

            $connection.AddressFamily | Should -Be 'InterNetworkV6'
            $connection.RemoteEndPoint.ToString() | Should -Be "[::1]:$($server.Port)"
            $datagram = Receive-SocketData -Connection $server -TimeoutSeconds 20
            $datagram.Text | Should -BeExactly 'v6 datagram'
            $datagram.RemoteEndPoint | Should -Be $connection.LocalEndPoint
        }

        It 'honours -AddressFamily for a UDP address literal of the other family, like TCP' {
            $connection = Connect-Socket -Protocol Udp -ComputerName 127.0.0.1 -Port 9 -AddressFamily InterNetworkV6 `
                -ErrorAction SilentlyContinue -ErrorVariable failures

            $connection | Should -BeNullOrEmpty -Because '127.0.0.1 is not an IPv6 address'
            $failures.Count | Should -Be 1
            $failures[0].Exception.Message | Should -Match 'IPv6'
        }
    }

    Context '-SocketOption' {
        It 'sets every known option on a TCP socket' {
            $server = Start-SocketServer
            $plain = Get-TestOsSocket (Connect-Socket -ComputerName 127.0.0.1 -Port $server.Port)

            $tuned = Get-TestOsSocket (Connect-Socket -ComputerName 127.0.0.1 -Port $server.Port -SocketOption @{
                    ReceiveBufferSize = 4096; SendBufferSize = 8192; Ttl = 9; ReuseAddress = $true; Linger = 3; DontFragment = $true
                })

            # Linux doubles buffer sizes for its bookkeeping; what matters is that they moved.
            $tuned.ReceiveBufferSize | Should -BeGreaterOrEqual 4096
            $tuned.ReceiveBufferSize | Should -BeLessThan $plain.ReceiveBufferSize
            $tuned.SendBufferSize | Should -BeGreaterOrEqual 8192
            $tuned.SendBufferSize | Should -BeLessThan $plain.SendBufferSize
            $plain.Ttl | Should -Not -Be 9
            $tuned.Ttl | Should -Be 9
            $plain.GetSocketOption('Socket', 'ReuseAddress') | Should -Be 0
            $tuned.GetSocketOption('Socket', 'ReuseAddress') | Should -Not -Be 0
            $plain.LingerState.Enabled | Should -BeFalse
            $tuned.LingerState.Enabled | Should -BeTrue
            $tuned.LingerState.LingerTime | Should -Be 3
            $plain.DontFragment | Should -BeFalse
            $tuned.DontFragment | Should -BeTrue
        }

        It 'sets options on a UDP socket, keys in any case' {
            $server = Start-SocketServer -Protocol Udp

            $connection = Connect-Socket -Protocol Udp -ComputerName 127.0.0.1 -Port $server.Port -SocketOption @{ ttl = 5; DONTFRAGMENT = $true }

            (Get-TestOsSocket $connection).Ttl | Should -Be 5
            (Get-TestOsSocket $connection).DontFragment | Should -BeTrue
            Send-SocketData -Connection $connection -InputObject 'tuned'
            (Receive-SocketData -Connection $server -TimeoutSeconds 20).Text | Should -BeExactly 'tuned'
        }

        It 'rejects an unknown key with a terminating InvalidArgument error that names the known ones' {
            $server = Start-SocketServer

            $err = { Connect-Socket -ComputerName 127.0.0.1 -Port $server.Port -SocketOption @{ RecieveBufferSize = 1 } -ErrorAction SilentlyContinue } |
                Should -Throw -ErrorId 'InvalidArgument,SockPS.Commands.ConnectSocketCommand' -PassThru

            $err.CategoryInfo.Category | Should -Be 'InvalidArgument'
            $err.Exception.Message | Should -Match "'RecieveBufferSize'"
            $err.Exception.Message | Should -Match 'ReceiveBufferSize, SendBufferSize, Ttl, ReuseAddress, Linger, DontFragment'
            Get-SocketConnection | Should -BeNullOrEmpty
        }

        It 'rejects <Key> = <Value> with a terminating InvalidArgument error saying <Hint>' -TestCases @(
            @{ Key = 'Ttl'; Value = 300; Hint = '1 to 255' }
            @{ Key = 'ReceiveBufferSize'; Value = 'lots'; Hint = 'whole number' }
            @{ Key = 'ReuseAddress'; Value = 'maybe'; Hint = '$true or $false' }
        ) {
            $server = Start-SocketServer

            $err = { Connect-Socket -ComputerName 127.0.0.1 -Port $server.Port -SocketOption @{ $Key = $Value } -ErrorAction SilentlyContinue } |
                Should -Throw -ErrorId 'InvalidArgument,SockPS.Commands.ConnectSocketCommand' -PassThru

            $err.CategoryInfo.Category | Should -Be 'InvalidArgument'
            $err.Exception.Message | Should -Match ([regex]::Escape($Hint))
            Get-SocketConnection | Should -BeNullOrEmpty
        }

        It 'rejects DontFragment on an IPv6 socket with a non-terminating InvalidArgument error' {
            if (-not (Test-TestIPv6Loopback)) {
                Set-ItResult -Skipped -Because 'this machine has no IPv6 loopback'
                return
            }
            $server = Start-SocketServer -Protocol Udp -Address '::1'

            Connect-Socket -Protocol Udp -ComputerName '::1' -Port $server.Port -SocketOption @{ DontFragment = $true } -ErrorVariable failed -ErrorAction SilentlyContinue |
                Should -BeNullOrEmpty
            $err = $failed[0]
            $err.FullyQualifiedErrorId | Should -Be 'InvalidArgument,SockPS.Commands.ConnectSocketCommand'

            $err.Exception.Message | Should -Match 'IPv4'
            Get-SocketConnection | Where-Object { $_.Server -eq $null } | Should -BeNullOrEmpty
        }
    }
}
