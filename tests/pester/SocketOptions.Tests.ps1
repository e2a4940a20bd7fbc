#Requires -Version 7.4
# Keep-alive timing, multicast sending options and SO_REUSEPORT: every option is read back from
# the OS socket behind the SockPS object with getsockopt (Socket.GetRawSocketOption, so the
# value is the kernel's, not .NET's idea of it), and the multicast interface and SO_REUSEPORT
# are shown working with real traffic. Linux option numbers: IPPROTO_TCP 6 (TCP_KEEPIDLE 4,
# TCP_KEEPINTVL 5, TCP_KEEPCNT 6), SOL_SOCKET 1 (SO_KEEPALIVE 9, SO_REUSEPORT 15), IPPROTO_IP 0
# (IP_MULTICAST_IF 32, IP_MULTICAST_TTL 33, IP_MULTICAST_LOOP 34).

BeforeAll {
    Import-Module $env:SOCKPS_MODULE_PATH -Force
    Import-Module "$PSScriptRoot/SockPS.TestHelpers.psm1" -Force

    # getsockopt as the kernel answers it: an int, or the raw bytes with -Bytes.
    function Get-RawOption([System.Net.Sockets.Socket] $Socket, [int] $Level, [int] $Name, [int] $Size = 4, [switch] $Bytes) {
        $buffer = [byte[]]::new($Size)
        $length = $Socket.GetRawSocketOption($Level, $Name, $buffer)
        if ($Bytes) {
            return , [byte[]]$buffer[0..($length - 1)]
        }
        if ($length -eq 1) {
            return [int]$buffer[0]
        }
        [BitConverter]::ToInt32($buffer, 0)
    }
}

AfterAll {
    Get-SocketConnection | Disconnect-Socket
    Get-SocketServer | Stop-SocketServer
}

Describe 'Keep-alive timing' {
    AfterEach {
        Get-SocketConnection | Disconnect-Socket
        Get-SocketServer | Stop-SocketServer
    }

    It 'Connect-Socket -KeepAliveSeconds 17 -KeepAliveIntervalSeconds 5 -KeepAliveCount 3 sets SO_KEEPALIVE and all three' {
        $server = Start-SocketServer
        $client = Connect-Socket -ComputerName 127.0.0.1 -Port $server.Port -KeepAliveSeconds 17 -KeepAliveIntervalSeconds 5 -KeepAliveCount 3
        $socket = Get-TestOsSocket $client

        Get-RawOption $socket 1 9 | Should -Be 1
        Get-RawOption $socket 6 4 | Should -Be 17
        Get-RawOption $socket 6 5 | Should -Be 5
        Get-RawOption $socket 6 6 | Should -Be 3
    }

    It 'one timing alone turns keep-alive on and leaves the others at the OS defaults' {
        $server = Start-SocketServer
        $plain = Get-TestOsSocket (Connect-Socket -ComputerName 127.0.0.1 -Port $server.Port)
        $client = Connect-Socket -ComputerName 127.0.0.1 -Port $server.Port -KeepAliveSeconds 42
        $socket = Get-TestOsSocket $client

        Get-RawOption $plain 1 9 | Should -Be 0 -Because 'a connection that did not ask has no keep-alive'
        Get-RawOption $socket 1 9 | Should -Be 1
        Get-RawOption $socket 6 4 | Should -Be 42
        Get-RawOption $socket 6 5 | Should -Be (Get-RawOption $plain 6 5)
    }

    It 'Start-SocketServer gives every accepted connection the timing' {
        $server = Start-SocketServer -KeepAliveSeconds 21 -KeepAliveIntervalSeconds 4 -KeepAliveCount 2
        $null = Connect-Socket -ComputerName 127.0.0.1 -Port $server.Port
        $null = Connect-Socket -ComputerName 127.0.0.1 -Port $server.Port

        foreach ($accepted in (Wait-SocketConnection -Server $server -TimeoutSeconds 20), (Wait-SocketConnection -Server $server -TimeoutSeconds 20)) {
            $socket = Get-TestOsSocket $accepted
            Get-RawOption $socket 1 9 | Should -Be 1
            Get-RawOption $socket 6 4 | Should -Be 21
            Get-RawOption $socket 6 5 | Should -Be 4
            Get-RawOption $socket 6 6 | Should -Be 2
        }
    }

    It 'refuses keep-alive on <Case>' -ForEach @(
        @{ Case = 'a UDP connection'; Command = { Connect-Socket -ComputerName 127.0.0.1 -Port 9 -Protocol Udp -KeepAliveSeconds 10 }; Id = 'InvalidArgument,SockPS.Commands.ConnectSocketCommand' }
        @{ Case = 'a UDP server'; Command = { Start-SocketServer -Protocol Udp -KeepAliveSeconds 10 }; Id = 'InvalidArgument,SockPS.Commands.StartSocketServerCommand' }
    ) {
        $Command | Should -Throw -ErrorId $Id -ExpectedMessage '*UDP*keep-alive*'
    }

    It 'validates the ranges (<Parameter> <Value>)' -ForEach @(
        @{ Parameter = 'KeepAliveSeconds'; Value = 0 }
        @{ Parameter = 'KeepAliveIntervalSeconds'; Value = 40000 }
        @{ Parameter = 'KeepAliveCount'; Value = 128 }
    ) {
        $parameters = @{ ComputerName = '127.0.0.1'; Port = 9; $Parameter = $Value }
        { Connect-Socket @parameters } | Should -Throw -ErrorId "ParameterArgumentValidationError,SockPS.Commands.ConnectSocketCommand"
    }
}

Describe 'Multicast sending: -MulticastTimeToLive, -MulticastLoopback, -MulticastInterface' {
    BeforeAll {
        # A group in the administratively scoped range, kept on this machine by the interface.
        $script:Group = [ipaddress]'239.255.77.13'
    }

    AfterEach {
        Get-SocketConnection | Disconnect-Socket
        Get-SocketServer | Stop-SocketServer
    }

    It 'Connect-Socket -Protocol Udp sets IP_MULTICAST_TTL, IP_MULTICAST_LOOP and IP_MULTICAST_IF' {
        $sender = Connect-Socket -ComputerName $script:Group -Port 5007 -Protocol Udp -MulticastTimeToLive 7 -MulticastLoopback $false -MulticastInterface 127.0.0.1
        $socket = Get-TestOsSocket $sender

        Get-RawOption $socket 0 33 | Should -Be 7
        Get-RawOption $socket 0 34 | Should -Be 0
        [ipaddress]::new([byte[]](Get-RawOption $socket 0 32 -Bytes)) | Should -Be ([ipaddress]::Loopback)
    }

    It 'leaves the OS defaults (TTL 1, loopback on) when not asked' {
        $socket = Get-TestOsSocket (Connect-Socket -ComputerName $script:Group -Port 5007 -Protocol Udp)

        Get-RawOption $socket 0 33 | Should -Be 1
        Get-RawOption $socket 0 34 | Should -Be 1
    }

    It 'Start-SocketServer -Protocol Udp sets them on the server''s socket, -MulticastInterface included' {
        $server = Start-SocketServer -Protocol Udp -MulticastTimeToLive 12 -MulticastLoopback $true -MulticastInterface 127.0.0.1 -MulticastGroup $script:Group
        $socket = Get-TestOsSocket $server.DatagramSocket

        Get-RawOption $socket 0 33 | Should -Be 12
        Get-RawOption $socket 0 34 | Should -Be 1
        [ipaddress]::new([byte[]](Get-RawOption $socket 0 32 -Bytes)) | Should -Be ([ipaddress]::Loopback)
    }

    It 'a datagram sent to the group on the loopback interface reaches a member joined there' {
        $member = Start-SocketServer -Protocol Udp -Address 0.0.0.0 -MulticastGroup $script:Group -MulticastInterface 127.0.0.1
        $sender = Connect-Socket -ComputerName $script:Group -Port $member.Port -Protocol Udp -MulticastInterface 127.0.0.1 -MulticastTimeToLive 1

        Send-SocketData -Connection $sender -InputObject 'to the group'
        $datagram = Receive-SocketData -Connection $member -TimeoutSeconds 20
        $datagram.Text | Should -BeExactly 'to the group'
        "$($datagram.RemoteEndPoint)" | Should -BeExactly "$($sender.LocalEndPoint)"
    }

    It 'refuses multicast options on TCP (<Case>)' -ForEach @(
        @{ Case = 'Connect-Socket'; Command = { Connect-Socket -ComputerName 127.0.0.1 -Port 9 -MulticastTimeToLive 4 }; Id = 'InvalidArgument,SockPS.Commands.ConnectSocketCommand' }
        @{ Case = 'Start-SocketServer'; Command = { Start-SocketServer -MulticastLoopback $false }; Id = 'InvalidArgument,SockPS.Commands.StartSocketServerCommand' }
    ) {
        $Command | Should -Throw -ErrorId $Id -ExpectedMessage '*UDP*'
    }

    It 'an interface address that is not this machine''s is AddressNotAvailable' {
        { Connect-Socket -ComputerName $script:Group -Port 5007 -Protocol Udp -MulticastInterface 192.0.2.1 -ErrorAction Stop } |
            Should -Throw -ErrorId 'AddressNotAvailable,SockPS.Commands.ConnectSocketCommand'
    }
}

Describe 'Start-SocketServer -ReusePort (SO_REUSEPORT)' {
    AfterEach {
        Get-SocketConnection | Disconnect-Socket
        Get-SocketServer | Stop-SocketServer
    }

    It 'two servers share one port, SO_REUSEPORT reads back as set, and both accept' {
        $first = Start-SocketServer -ReusePort
        $second = Start-SocketServer -ReusePort -Port $first.Port

        $second.Port | Should -Be $first.Port
        foreach ($server in $first, $second) {
            Get-RawOption (Get-TestOsSocket $server) 1 15 | Should -Be 1
        }

        # Linux spreads new connections by a hash of their addresses and ports: each connection
        # from a new source port lands on either one. Connect until both have accepted (bounded).
        for ($i = 0; $i -lt 200 -and ($first.AcceptedCount -eq 0 -or $second.AcceptedCount -eq 0); $i++) {
            $client = Connect-Socket -ComputerName 127.0.0.1 -Port $first.Port
            Wait-TestCondition -Description 'the connection being accepted' -Condition { $first.AcceptedCount + $second.AcceptedCount -gt $i }
            Disconnect-Socket -Connection $client
        }
        $first.AcceptedCount | Should -BeGreaterThan 0
        $second.AcceptedCount | Should -BeGreaterThan 0
    }

    It 'shares a UDP port too' {
        $first = Start-SocketServer -Protocol Udp -ReusePort
        $second = Start-SocketServer -Protocol Udp -ReusePort -Port $first.Port

        Get-RawOption (Get-TestOsSocket $second.DatagramSocket) 1 15 | Should -Be 1
        $second.Port | Should -Be $first.Port
    }

    It 'without it on both, the second server cannot bind: AddressInUse' {
        $first = Start-SocketServer -ReusePort
        Get-RawOption (Get-TestOsSocket (Start-SocketServer)) 1 15 | Should -Be 0 -Because 'a server that did not ask has no SO_REUSEPORT'
        { Start-SocketServer -Port $first.Port } | Should -Throw -ErrorId 'AddressInUse,SockPS.Commands.StartSocketServerCommand'
    }
}
