#Requires -Version 7.4
# Start-SocketServer: Python's socket bind and listen. Servers bind free ports (-Port 0, the default);
# the only fixed port used is one a test has just been given by the OS.

BeforeAll {
    Import-Module $env:SOCKPS_MODULE_PATH -Force
    Import-Module "$PSScriptRoot/SockPS.TestHelpers.psm1" -Force
}

Describe 'Start-SocketServer' {
    AfterEach {
        Get-SocketConnection | Disconnect-Socket
        Get-SocketServer | Stop-SocketServer
    }

    Context 'listening' {
        It 'listens on 127.0.0.1 and a free port by default, and says so on the object' {
            $server = Start-SocketServer

            $server | Should -BeOfType ([SockPS.Core.SocketServer])
            $server.LocalEndPoint.Address | Should -Be ([System.Net.IPAddress]::Loopback)
            $server.Port | Should -BeGreaterThan 0
            $server.LocalEndPoint.Port | Should -Be $server.Port
            $server.State | Should -Be 'Listening'
            $server.Protocol | Should -Be 'Tcp'
            $server.Name | Should -Be "Server$($server.Id)"
            $server.InstanceId | Should -Not -Be ([guid]::Empty)
            $server.ConnectionCount | Should -Be 0
            $server.AcceptedCount | Should -Be 0
            $server.PendingCount | Should -Be 0
            (Get-SocketServer -Id $server.Id).InstanceId | Should -Be $server.InstanceId
        }

        It 'accepts a client' {
            $server = Start-SocketServer -Port 0

            $client = Connect-Socket -ComputerName 127.0.0.1 -Port $server.Port
            $accepted = Wait-SocketConnection -Server $server -TimeoutSeconds 20

            $accepted.RemoteEndPoint | Should -Be $client.LocalEndPoint
            $accepted.Server.InstanceId | Should -Be $server.InstanceId
        }

        It 'binds the port it is given, as a number or a numeric string' {
            $probe = Start-SocketServer
            $port = $probe.Port
            Stop-SocketServer -Server $probe

            $server = Start-SocketServer -Port ([string]$port)

            $server.Port | Should -Be $port
            $server.LocalEndPoint.Port | Should -Be $port
        }

        It 'accepts in the background, before anyone waits, and queues the connections in order' {
            $server = Start-SocketServer
            $first = Connect-Socket -ComputerName 127.0.0.1 -Port $server.Port
            $second = Connect-Socket -ComputerName 127.0.0.1 -Port $server.Port

            Wait-TestCondition -Condition { $server.PendingCount -eq 2 } -Description 'two accepted connections queued'

            $server.AcceptedCount | Should -Be 2
            $server.ConnectionCount | Should -Be 2
            (Wait-SocketConnection -Server $server -TimeoutSeconds 20).RemoteEndPoint | Should -Be $first.LocalEndPoint
            (Wait-SocketConnection -Server $server -TimeoutSeconds 20).RemoteEndPoint | Should -Be $second.LocalEndPoint
            $server.PendingCount | Should -Be 0
        }

        It 'starts receiving on accepted connections before they are handed out' {
            $server = Start-SocketServer
            $client = Connect-Socket -ComputerName 127.0.0.1 -Port $server.Port
            Send-SocketData -Connection $client -InputObject 'early' -Line

            $accepted = Wait-SocketConnection -Server $server -TimeoutSeconds 20

            Receive-SocketData -Connection $accepted -Line | Should -BeExactly 'early'
        }

        It 'gives each server a new, larger Id' {
            $first = Start-SocketServer
            Stop-SocketServer -Server $first

            $second = Start-SocketServer

            $second.Id | Should -BeGreaterThan $first.Id
        }

        It 'binds from pipeline property names Port and Address' {
            $server = [pscustomobject]@{ Port = 0; Address = '127.0.0.1' } | Start-SocketServer

            $server.LocalEndPoint.Address | Should -Be ([System.Net.IPAddress]::Loopback)
            $server.Port | Should -BeGreaterThan 0
        }
    }

    Context '-Address' {
        It 'binds <Address> as <Expected>' -TestCases @(
            @{ Address = 'Any'; Expected = '0.0.0.0' }
            @{ Address = '0.0.0.0'; Expected = '0.0.0.0' }
            @{ Address = ''; Expected = '0.0.0.0' }
            @{ Address = 'localhost'; Expected = '127.0.0.1' }
            @{ Address = '127.0.0.1'; Expected = '127.0.0.1' }
        ) {
            $server = Start-SocketServer -Address $Address

            $server.LocalEndPoint.Address.ToString() | Should -Be $Expected
            $client = Connect-Socket -ComputerName 127.0.0.1 -Port $server.Port
            (Wait-SocketConnection -Server $server -TimeoutSeconds 20).RemoteEndPoint | Should -Be $client.LocalEndPoint
        }

        It 'binds <Address> as every IPv6 address, reachable over IPv4 too' -TestCases @(
            @{ Address = 'IPv6Any' }
            @{ Address = '::' }
        ) {
            if (-not (Test-TestIPv6Loopback)) {
                Set-ItResult -Skipped -Because 'this machine has no IPv6 loopback'
                return
            }

            $server = Start-SocketServer -Address $Address

            $server.LocalEndPoint.Address | Should -Be ([System.Net.IPAddress]::IPv6Any)
            $v4 = Connect-Socket -ComputerName 127.0.0.1 -Port $server.Port
            $v6 = Connect-Socket -ComputerName '::1' -Port $server.Port
            $v4.State | Should -Be 'Open'
            $v6.State | Should -Be 'Open'
            Wait-TestCondition -Condition { $server.AcceptedCount -eq 2 } -Description 'both clients accepted'
        }

        It 'binds the IPv6 loopback' {
            if (-not (Test-TestIPv6Loopback)) {
                Set-ItResult -Skipped -Because 'this machine has no IPv6 loopback'
                return
            }

            $server = Start-SocketServer -Address '::1'

            $server.LocalEndPoint.Address | Should -Be ([System.Net.IPAddress]::IPv6Loopback)
            $server.LocalEndPoint.ToString() | Should -Be "[::1]:$($server.Port)"
        }

        It 'refuses an address that is not this machine''s with a terminating error' {
            # 192.0.2.1 is TEST-NET-1: never assigned to a real host.
            $err = { Start-SocketServer -Address '192.0.2.1' -ErrorAction SilentlyContinue } |
                Should -Throw -ErrorId 'AddressNotAvailable,SockPS.Commands.StartSocketServerCommand' -PassThru

            $err.CategoryInfo.Category | Should -Be 'InvalidArgument'
            $err.Exception.Message | Should -Match '192\.0\.2\.1'
            Get-SocketServer | Should -BeNullOrEmpty
        }

        It 'refuses a name that does not resolve with a terminating HostNotFound error' {
            $err = { Start-SocketServer -Address 'no-such-host.invalid' -ErrorAction SilentlyContinue } |
                Should -Throw -ErrorId 'HostNotFound,SockPS.Commands.StartSocketServerCommand' -PassThru

            $err.CategoryInfo.Category | Should -Be 'ObjectNotFound'
            $err.Exception.Message | Should -Match 'no-such-host\.invalid'
        }
    }

    Context 'errors' {
        It 'throws a terminating AddressInUse error when the port is taken' {
            $first = Start-SocketServer

            $err = { Start-SocketServer -Port $first.Port -ErrorAction SilentlyContinue } |
                Should -Throw -ErrorId 'AddressInUse,SockPS.Commands.StartSocketServerCommand' -PassThru

            $err.FullyQualifiedErrorId | Should -BeExactly 'AddressInUse,SockPS.Commands.StartSocketServerCommand'
            $err.CategoryInfo.Category | Should -Be 'ResourceUnavailable'
            $err.Exception.Message | Should -Match "127\.0\.0\.1:$($first.Port)"
            $err.Exception.Message | Should -Match 'already in use'
            @(Get-SocketServer).Count | Should -Be 1
            $first.State | Should -Be 'Listening'
        }

        It 'rejects an unknown service name with a terminating InvalidArgument error' {
            $err = { Start-SocketServer -Port 'no-such-service' -ErrorAction SilentlyContinue } |
                Should -Throw -ErrorId 'InvalidArgument,SockPS.Commands.StartSocketServerCommand' -PassThru

            $err.CategoryInfo.Category | Should -Be 'InvalidArgument'
            $err.Exception.Message | Should -Match "'no-such-service' is not a known tcp service name"
        }

        It 'rejects port <Port> with a terminating InvalidArgument error' -TestCases @(
            @{ Port = '65536' }
            @{ Port = '-5' }
        ) {
            $err = { Start-SocketServer -Port $Port -ErrorAction SilentlyContinue } |
                Should -Throw -ErrorId 'InvalidArgument,SockPS.Commands.StartSocketServerCommand' -PassThru

            $err.CategoryInfo.Category | Should -Be 'InvalidArgument'
            $err.Exception.Message | Should -Match '65535'
        }

        It 'rejects a -Backlog of 0' {
            { Start-SocketServer -Backlog 0 } |
                Should -Throw -ErrorId 'ParameterArgumentValidationError,SockPS.Commands.StartSocketServerCommand'
        }
    }

    Context 'options' {
        It 'keeps -Name and -Backlog' {
            $server = Start-SocketServer -Name 'web' -Backlog 5

            $server.Name | Should -Be 'web'
            $server.Backlog | Should -Be 5
            (Get-SocketServer -Name 'web').InstanceId | Should -Be $server.InstanceId
        }

        It 'gives accepted connections -Encoding, -NewLine and -ReceiveTimeoutSeconds' {
            $pair = New-TestConnectionPair -ServerParameters @{ Encoding = 'unicode'; NewLine = "`r`n"; ReceiveTimeoutSeconds = 4 }

            $pair.Accepted.Encoding.WebName | Should -Be 'utf-16'
            $pair.Accepted.NewLine | Should -Be "`r`n"
            $pair.Accepted.ReceiveTimeoutSeconds | Should -Be 4
            Send-SocketData -Connection $pair.Accepted -InputObject 'A' -Line
            $bytes = Receive-SocketData -Connection $pair.Client -ByteCount 6
            [System.Convert]::ToHexString($bytes) | Should -Be '41000D000A00'
        }

        It 'sets TCP_NODELAY and SO_KEEPALIVE on accepted connections only when asked' {
            $plain = New-TestConnectionPair
            $tuned = New-TestConnectionPair -ServerParameters @{ NoDelay = $true; KeepAlive = $true }

            (Get-TestOsSocket $plain.Accepted).NoDelay | Should -BeFalse
            (Get-TestOsSocket $plain.Accepted).GetSocketOption('Socket', 'KeepAlive') | Should -Be 0
            (Get-TestOsSocket $tuned.Accepted).NoDelay | Should -BeTrue
            (Get-TestOsSocket $tuned.Accepted).GetSocketOption('Socket', 'KeepAlive') | Should -Not -Be 0
        }
    }
}

Describe 'Start-SocketServer: UDP, Unix domain sockets, IPv6 and socket options' {
    BeforeAll {
        # A datagram sent from a plain .NET socket, so the receiving side is the only SockPS code.
        function Send-RawDatagram([string] $Text, [System.Net.IPEndPoint] $To, [switch] $MulticastOnLoopback) {
            $socket = [System.Net.Sockets.Socket]::new('InterNetwork', 'Dgram', 'Udp')
            try {
                if ($MulticastOnLoopback) {
                    $socket.SetSocketOption('IP', 'MulticastInterface', [System.Net.IPAddress]::Loopback.GetAddressBytes())
                }
                $null = $socket.SendTo([System.Text.Encoding]::UTF8.GetBytes($Text), $To)
            }
            finally {
                $socket.Dispose()
            }
        }
    }

    AfterEach {
        Get-SocketConnection | Disconnect-Socket
        Get-SocketServer | Stop-SocketServer
    }

    Context 'UDP' {
        It 'binds one datagram socket on 127.0.0.1 and a free port, and says so on the object' {
            $server = Start-SocketServer -Protocol Udp

            $server | Should -BeOfType ([SockPS.Core.SocketServer])
            $server.Protocol | Should -Be 'Udp'
            $server.Transport | Should -Be 'Udp'
            $server.AddressFamily | Should -Be 'InterNetwork'
            $server.LocalEndPoint.Address | Should -Be ([System.Net.IPAddress]::Loopback)
            $server.Port | Should -BeGreaterThan 0
            $server.LocalEndPoint.Port | Should -Be $server.Port
            $server.State | Should -Be 'Listening'
            $server.Path | Should -BeNullOrEmpty
            $server.ConnectionCount | Should -Be 0
            $socket = $server.DatagramSocket
            $socket | Should -BeOfType ([SockPS.Core.SocketConnection])
            $socket.IsDatagram | Should -BeTrue
            $socket.Protocol | Should -Be 'Udp'
            $socket.LocalEndPoint | Should -Be $server.LocalEndPoint
            $socket.RemoteEndPoint | Should -BeNullOrEmpty
            $socket.Server.InstanceId | Should -Be $server.InstanceId
            (Get-SocketServer -Id $server.Id).InstanceId | Should -Be $server.InstanceId
            (Get-SocketConnection -Id $socket.Id).InstanceId | Should -Be $socket.InstanceId
        }

        It 'stands for its socket wherever a connection is expected' {
            $server = Start-SocketServer -Protocol Udp
            $other = Start-SocketServer -Protocol Udp

            ([SockPS.Core.SocketConnection]$server).InstanceId | Should -Be $server.DatagramSocket.InstanceId
            Send-SocketData -Connection $server -InputObject 'from the server' -RemoteEndPoint "127.0.0.1:$($other.Port)"
            $datagram = Receive-SocketData -Connection $other -TimeoutSeconds 20
            $datagram.Text | Should -BeExactly 'from the server'
            $datagram.RemoteEndPoint | Should -Be $server.LocalEndPoint
            $datagram.Connection.InstanceId | Should -Be $other.DatagramSocket.InstanceId
        }

        It 'receives datagrams sent before anyone reads' {
            $server = Start-SocketServer -Protocol Udp

            Send-RawDatagram -Text 'early' -To $server.LocalEndPoint
            Wait-TestCondition -Condition { $server.DatagramSocket.DatagramsReceived -ge 1 } -Description 'the datagram queued'

            $server.DatagramSocket.Available | Should -Be 5
            (Receive-SocketData -Connection $server).Text | Should -BeExactly 'early'
        }

        It 'binds the UDP port it is given, also when a TCP server has that port number' {
            # TCP and UDP ports are separate spaces. The second bind can still meet a socket of
            # another process that holds the number in its own space by chance, so each pair gets
            # a few fresh numbers; a real conflict between the spaces fails every try.
            $udpOnTcpPort = $null
            foreach ($try in 1..5) {
                $tcp = Start-SocketServer
                $udpOnTcpPort = try { Start-SocketServer -Protocol Udp -Port $tcp.Port } catch { $null }
                if ($udpOnTcpPort) { break }
                Stop-SocketServer -Server $tcp
            }
            $tcpOnUdpPort = $null
            foreach ($try in 1..5) {
                $udp = Start-SocketServer -Protocol Udp
                $tcpOnUdpPort = try { Start-SocketServer -Port $udp.Port } catch { $null }
                if ($tcpOnUdpPort) { break }
                Stop-SocketServer -Server $udp
            }

            $udpOnTcpPort.Port | Should -Be $tcp.Port
            $udpOnTcpPort.Protocol | Should -Be 'Udp'
            $tcpOnUdpPort.Port | Should -Be $udp.Port
            $tcpOnUdpPort.Protocol | Should -Be 'Tcp'
        }

        It 'binds from pipeline property names Protocol and Port' {
            $server = [pscustomobject]@{ Protocol = 'Udp'; Port = 0 } | Start-SocketServer

            $server.Protocol | Should -Be 'Udp'
            $server.DatagramSocket | Should -Not -BeNullOrEmpty
        }

        It 'gives its socket -Encoding, -NewLine and -ReceiveTimeoutSeconds' {
            $server = Start-SocketServer -Protocol Udp -Encoding unicode -NewLine "`r`n" -ReceiveTimeoutSeconds 4

            $server.DatagramSocket.Encoding.WebName | Should -Be 'utf-16'
            $server.DatagramSocket.NewLine | Should -Be "`r`n"
            $server.DatagramSocket.ReceiveTimeoutSeconds | Should -Be 4
            Send-RawDatagram -Text 'ignored' -To $server.LocalEndPoint
            $datagram = Receive-SocketData -Connection $server -TimeoutSeconds 20
            # UTF-8 bytes read as UTF-16: the socket's encoding decides the Text.
            $datagram.Text | Should -Not -Be 'ignored'
            [System.Text.Encoding]::UTF8.GetString($datagram.Data) | Should -BeExactly 'ignored'
        }

        It 'throws a terminating AddressInUse error when the UDP port is taken' {
            $first = Start-SocketServer -Protocol Udp

            $err = { Start-SocketServer -Protocol Udp -Port $first.Port -ErrorAction SilentlyContinue } |
                Should -Throw -ErrorId 'AddressInUse,SockPS.Commands.StartSocketServerCommand' -PassThru

            $err.CategoryInfo.Category | Should -Be 'ResourceUnavailable'
            $err.Exception.Message | Should -Match "127\.0\.0\.1:$($first.Port)"
            @(Get-SocketServer).Count | Should -Be 1
            $first.State | Should -Be 'Listening'
        }

        It 'looks -Port names up in the table of its protocol' {
            $tcpErr = { Start-SocketServer -Port tftp -ErrorAction SilentlyContinue } |
                Should -Throw -ErrorId 'InvalidArgument,SockPS.Commands.StartSocketServerCommand' -PassThru
            $udpErr = { Start-SocketServer -Protocol Udp -Port ssh -ErrorAction SilentlyContinue } |
                Should -Throw -ErrorId 'InvalidArgument,SockPS.Commands.StartSocketServerCommand' -PassThru

            $tcpErr.Exception.Message | Should -Match "'tftp' is not a known tcp service name"
            $udpErr.Exception.Message | Should -Match "'ssh' is not a known udp service name"
            Get-SocketServer | Should -BeNullOrEmpty
        }
    }

    Context 'broadcast and multicast' {
        It 'sets SO_BROADCAST with -Broadcast, so its socket can send to 127.255.255.255' {
            # Linux gives loopback broadcasts only to sockets bound to the wildcard address.
            $listener = Start-SocketServer -Protocol Udp -Address Any
            $plain = Start-SocketServer -Protocol Udp

            $server = Start-SocketServer -Protocol Udp -Broadcast

            $server.DatagramSocket.Broadcast | Should -BeTrue
            $plain.DatagramSocket.Broadcast | Should -BeFalse
            (Get-TestOsSocket $server.DatagramSocket).EnableBroadcast | Should -BeTrue
            Send-SocketData -Connection $server -InputObject 'broadcast' -RemoteEndPoint "127.255.255.255:$($listener.Port)"
            (Receive-SocketData -Connection $listener -TimeoutSeconds 20).Text | Should -BeExactly 'broadcast'
        }

        It 'rejects -Broadcast without -Protocol Udp with a terminating InvalidArgument error' {
            $err = { Start-SocketServer -Broadcast -ErrorAction SilentlyContinue } |
                Should -Throw -ErrorId 'InvalidArgument,SockPS.Commands.StartSocketServerCommand' -PassThru

            $err.CategoryInfo.Category | Should -Be 'InvalidArgument'
            $err.Exception.Message | Should -Match '-Broadcast needs -Protocol Udp'
            Get-SocketServer | Should -BeNullOrEmpty
        }

        It 'joins -MulticastGroup on -MulticastInterface and receives what is sent to the group' {
            $group = [System.Net.IPAddress]::Parse('239.255.77.9')
            $member = Start-SocketServer -Protocol Udp -Address Any -MulticastGroup $group -MulticastInterface 127.0.0.1
            $outsider = Start-SocketServer -Protocol Udp -Address Any

            Send-RawDatagram -Text 'to the group' -To ([System.Net.IPEndPoint]::new($group, $member.Port)) -MulticastOnLoopback

            (Receive-SocketData -Connection $member -TimeoutSeconds 20).Text | Should -BeExactly 'to the group'
            $outsider.DatagramSocket.DatagramsReceived | Should -Be 0
        }

        It 'rejects -MulticastGroup <Group> with a terminating InvalidArgument error saying <Says>' -TestCases @(
            @{ Group = '10.1.2.3'; Protocol = 'Udp'; Says = 'multicast' }
            @{ Group = 'ff02::1'; Protocol = 'Udp'; Says = 'IPv6, but the server is IPv4' }
            @{ Group = '239.255.77.10'; Protocol = 'Tcp'; Says = 'needs -Protocol Udp' }
        ) {
            $err = { Start-SocketServer -Protocol $Protocol -MulticastGroup $Group -ErrorAction SilentlyContinue } |
                Should -Throw -ErrorId 'InvalidArgument,SockPS.Commands.StartSocketServerCommand' -PassThru

            $err.CategoryInfo.Category | Should -Be 'InvalidArgument'
            $err.Exception.Message | Should -Match ([regex]::Escape($Says))
            Get-SocketServer | Should -BeNullOrEmpty
        }
    }

    Context 'IPv6' {
        It 'binds ::1 with -AddressFamily InterNetworkV6 over <Protocol>' -TestCases @(
            @{ Protocol = 'Tcp' }
            @{ Protocol = 'Udp' }
        ) {
            if (-not (Test-TestIPv6Loopback)) {
                Set-ItResult -Skipped -Because 'this machine has no IPv6 loopback'
                return
            }

            $server = Start-SocketServer -Protocol $Protocol -AddressFamily InterNetworkV6

            $server.AddressFamily | Should -Be 'InterNetworkV6'
            $server.LocalEndPoint.Address | Should -Be ([System.Net.IPAddress]::IPv6Loopback)
            $server.LocalEndPoint.ToString() | Should -Be "[::1]:$($server.Port)"
        }

        It 'receives datagrams on -Address ::1 from an IPv6 client' {
            if (-not (Test-TestIPv6Loopback)) {
                Set-ItResult -Skipped -Because 'this machine has no IPv6 loopback'
                return
            }
            $server = Start-SocketServer -Protocol Udp -Address '::1'
            $client = Connect-Socket -Protocol Udp -ComputerName '::1' -Port $server.Port

            Send-SocketData -Connection $client -InputObject 'six'

            $datagram = Receive-SocketData -Connection $server -TimeoutSeconds 20
            $datagram.Text | Should -BeExactly 'six'
            $datagram.RemoteEndPoint | Should -Be $client.LocalEndPoint
            $datagram.RemoteEndPoint.AddressFamily | Should -Be 'InterNetworkV6'
        }

        It 'rejects an -Address of the other family than -AddressFamily with a terminating InvalidArgument error' {
            $err = { Start-SocketServer -Address 127.0.0.1 -AddressFamily InterNetworkV6 -ErrorAction SilentlyContinue } |
                Should -Throw -ErrorId 'InvalidArgument,SockPS.Commands.StartSocketServerCommand' -PassThru

            $err.CategoryInfo.Category | Should -Be 'InvalidArgument'
            $err.Exception.Message | Should -Match 'not an IPv6 address'
            Get-SocketServer | Should -BeNullOrEmpty
        }
    }

    Context 'Unix domain sockets' {
        It 'listens on a socket file with -Path and says so on the object' {
            $path = Join-Path -Path $TestDrive -ChildPath 'listen.sock'

            $server = Start-SocketServer -Path $path

            $server.Transport | Should -Be 'Unix'
            $server.Protocol | Should -Be 'Tcp'
            $server.AddressFamily | Should -Be 'Unix'
            $server.Path | Should -Be $path
            $server.LocalEndPoint.ToString() | Should -Be $path
            $server.State | Should -Be 'Listening'
            $server.DatagramSocket | Should -BeNullOrEmpty
            Test-TestSocketFile -Path $path | Should -BeTrue
            $client = Connect-Socket -Path $path
            $accepted = Wait-SocketConnection -Server $server -TimeoutSeconds 20
            $accepted.Server.InstanceId | Should -Be $server.InstanceId
            $accepted.Transport | Should -Be 'Unix'
            $client.State | Should -Be 'Open'
        }

        It 'binds a Unix datagram socket with -Path -Protocol Udp' {
            $path = Join-Path -Path $TestDrive -ChildPath 'listen-dgram.sock'

            $server = Start-SocketServer -Path $path -Protocol Udp

            $server.Transport | Should -Be 'Unix-Dgram'
            $server.Protocol | Should -Be 'Udp'
            $server.Path | Should -Be $path
            $server.DatagramSocket.Transport | Should -Be 'Unix-Dgram'
            Test-TestSocketFile -Path $path | Should -BeTrue
            $client = Connect-Socket -Path $path -Protocol Udp
            Send-SocketData -Connection $client -InputObject 'dgram'
            (Receive-SocketData -Connection $server -TimeoutSeconds 20).Text | Should -BeExactly 'dgram'
        }

        It 'binds Path and Protocol by property name' {
            $path = Join-Path -Path $TestDrive -ChildPath 'piped.sock'

            $server = [pscustomobject]@{ Path = $path; Protocol = 'Udp' } | Start-SocketServer

            $server.Transport | Should -Be 'Unix-Dgram'
            $server.Path | Should -Be $path
        }

        It 'resolves a relative -Path against the current location' {
            $expected = Join-Path -Path $TestDrive -ChildPath 'relative.sock'

            Push-Location -LiteralPath $TestDrive
            try {
                $server = Start-SocketServer -Path 'relative.sock'
            }
            finally {
                Pop-Location
            }

            $server.Path | Should -Be $expected
            Test-TestSocketFile -Path $expected | Should -BeTrue
        }

        It 'replaces a stale <SocketType> socket file nothing listens on' -TestCases @(
            @{ SocketType = 'Stream'; Protocol = 'Tcp' }
            @{ SocketType = 'Dgram'; Protocol = 'Udp' }
        ) {
            $path = New-TestStaleSocketFile -Path (Join-Path -Path $TestDrive -ChildPath "stale-$SocketType.sock") -SocketType $SocketType

            $server = Start-SocketServer -Path $path -Protocol $Protocol

            $server.State | Should -Be 'Listening'
            $client = Connect-Socket -Path $path -Protocol $Protocol
            $client.State | Should -Be 'Open'
            Stop-SocketServer -Server $server
            Test-Path -LiteralPath $path | Should -BeFalse
        }

        It 'throws a terminating AddressInUse error for a live <Live> socket file, and the live server goes on' -TestCases @(
            @{ Live = 'Tcp'; Second = 'Tcp' }
            @{ Live = 'Udp'; Second = 'Udp' }
            @{ Live = 'Udp'; Second = 'Tcp' }
            @{ Live = 'Tcp'; Second = 'Udp' }
        ) {
            $path = Join-Path -Path $TestDrive -ChildPath "live-$Live-$Second.sock"
            $first = Start-SocketServer -Path $path -Protocol $Live

            $err = { Start-SocketServer -Path $path -Protocol $Second -ErrorAction SilentlyContinue } |
                Should -Throw -ErrorId 'AddressInUse,SockPS.Commands.StartSocketServerCommand' -PassThru

            $err.CategoryInfo.Category | Should -Be 'ResourceUnavailable'
            $err.Exception.Message | Should -Match ([regex]::Escape($path))
            $err.Exception.Message | Should -Match 'another server is listening'
            $err.TargetObject | Should -Be $path
            @(Get-SocketServer).Count | Should -Be 1
            $first.State | Should -Be 'Listening'
            Test-TestSocketFile -Path $path | Should -BeTrue
            (Connect-Socket -Path $path -Protocol $Live).State | Should -Be 'Open'
        }

        It 'never deletes a regular file in the way: AddressInUse, and the file is untouched' {
            $path = Join-Path -Path $TestDrive -ChildPath 'precious.txt'
            Set-Content -LiteralPath $path -Value 'precious' -NoNewline

            $err = { Start-SocketServer -Path $path -ErrorAction SilentlyContinue } |
                Should -Throw -ErrorId 'AddressInUse,SockPS.Commands.StartSocketServerCommand' -PassThru

            $err.CategoryInfo.Category | Should -Be 'ResourceUnavailable'
            $err.Exception.Message | Should -Match 'not a socket'
            Get-Content -LiteralPath $path -Raw | Should -BeExactly 'precious'
            Get-SocketServer | Should -BeNullOrEmpty
        }

        It 'never deletes a directory in the way' {
            $path = Join-Path -Path $TestDrive -ChildPath 'a-directory'
            $null = New-Item -ItemType Directory -Path $path

            { Start-SocketServer -Path $path -ErrorAction SilentlyContinue } |
                Should -Throw -ErrorId 'AddressInUse,SockPS.Commands.StartSocketServerCommand'

            Test-Path -LiteralPath $path -PathType Container | Should -BeTrue
        }

        It 'says the directory is missing when it is, not that an address is foreign' {
            $path = Join-Path -Path $TestDrive -ChildPath 'no-such-directory/server.sock'

            $err = { Start-SocketServer -Path $path -ErrorAction SilentlyContinue } | Should -Throw -PassThru

            $err.FullyQualifiedErrorId | Should -BeLike '*,SockPS.Commands.StartSocketServerCommand'
            $err.Exception.Message | Should -Match ([regex]::Escape($path))
            $err.Exception.Message | Should -Not -Match '127\.0\.0\.1' -Because 'IP addresses are no help for a Unix socket path'
            $err.Exception.Message | Should -Match 'director'
        }

        It 'rejects a path too long for a Unix socket with a terminating InvalidArgument error' {
            $path = Join-Path -Path $TestDrive -ChildPath ('x' * 120)

            $err = { Start-SocketServer -Path $path -ErrorAction SilentlyContinue } |
                Should -Throw -ErrorId 'InvalidArgument,SockPS.Commands.StartSocketServerCommand' -PassThru

            $err.CategoryInfo.Category | Should -Be 'InvalidArgument'
            $err.Exception.Message | Should -Match 'cannot be a Unix socket path'
        }

        It 'rejects an IP-only socket option on a Unix socket' {
            $path = Join-Path -Path $TestDrive -ChildPath 'ttl.sock'

            $err = { Start-SocketServer -Path $path -SocketOption @{ Ttl = 9 } -ErrorAction SilentlyContinue } |
                Should -Throw -ErrorId 'InvalidArgument,SockPS.Commands.StartSocketServerCommand' -PassThru

            $err.Exception.Message | Should -Match 'not Unix sockets'
            Test-Path -LiteralPath $path | Should -BeFalse
        }

        It 'does not take -Port together with -Path' {
            { Start-SocketServer -Path (Join-Path -Path $TestDrive -ChildPath 'both.sock') -Port 5 } |
                Should -Throw -ErrorId 'AmbiguousParameterSet,SockPS.Commands.StartSocketServerCommand'
        }
    }

    Context '-SocketOption' {
        It 'sets options on the listener and on the connections it accepts' {
            $plain = Start-SocketServer

            $server = Start-SocketServer -SocketOption @{ ReceiveBufferSize = 4096; Ttl = 9; ReuseAddress = $true }
            $client = Connect-Socket -ComputerName 127.0.0.1 -Port $server.Port
            $accepted = Wait-SocketConnection -Server $server -TimeoutSeconds 20

            foreach ($socket in (Get-TestOsSocket $server), (Get-TestOsSocket $accepted)) {
                $socket.Ttl | Should -Be 9
                $socket.GetSocketOption('Socket', 'ReuseAddress') | Should -Not -Be 0
                $socket.ReceiveBufferSize | Should -BeLessThan (Get-TestOsSocket $plain).ReceiveBufferSize
            }
            (Get-TestOsSocket $plain).Ttl | Should -Not -Be 9
            (Get-TestOsSocket $client).Ttl | Should -Not -Be 9 -Because 'the client did not ask'
        }

        It 'sets options on a UDP server''s socket' {
            $plain = Start-SocketServer -Protocol Udp

            $server = Start-SocketServer -Protocol Udp -SocketOption @{ ReceiveBufferSize = 4096; Ttl = 9 }

            (Get-TestOsSocket $server.DatagramSocket).Ttl | Should -Be 9
            (Get-TestOsSocket $plain.DatagramSocket).Ttl | Should -Not -Be 9
            (Get-TestOsSocket $server.DatagramSocket).ReceiveBufferSize | Should -BeLessThan (Get-TestOsSocket $plain.DatagramSocket).ReceiveBufferSize
        }

        It 'lets two UDP servers share a port when both ask for ReuseAddress' {
            $first = Start-SocketServer -Protocol Udp -SocketOption @{ ReuseAddress = $true }

            $second = Start-SocketServer -Protocol Udp -Port $first.Port -SocketOption @{ ReuseAddress = $true }

            $second.Port | Should -Be $first.Port
            { Start-SocketServer -Protocol Udp -Port $first.Port -ErrorAction SilentlyContinue } |
                Should -Throw -ErrorId 'AddressInUse,SockPS.Commands.StartSocketServerCommand'
        }

        It 'rejects an unknown key with a terminating InvalidArgument error that names the known ones' {
            $err = { Start-SocketServer -Protocol Udp -SocketOption @{ Bogus = 1 } -ErrorAction SilentlyContinue } |
                Should -Throw -ErrorId 'InvalidArgument,SockPS.Commands.StartSocketServerCommand' -PassThru

            $err.CategoryInfo.Category | Should -Be 'InvalidArgument'
            $err.Exception.Message | Should -Match "'Bogus'"
            $err.Exception.Message | Should -Match 'ReceiveBufferSize, SendBufferSize, Ttl, ReuseAddress, Linger, DontFragment'
            Get-SocketServer | Should -BeNullOrEmpty
        }
    }
}
