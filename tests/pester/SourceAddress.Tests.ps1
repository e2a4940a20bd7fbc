#Requires -Version 7.4
# -LocalAddress and -LocalPort (netcat's -s and -p) on Connect-Socket, Invoke-SocketRequest,
# Test-SocketPort and the relay's outbound side. The peer is python3: a TCP server that tells
# every client the address it sees (getpeername) and prints it, so the source is read on the far
# side, not from SockPS's own objects. 127.0.0.2 is a second loopback address (Linux routes all of
# 127.0.0.0/8 to lo without setup).

BeforeAll {
    Import-Module $env:SOCKPS_MODULE_PATH -Force
    Import-Module "$PSScriptRoot/SockPS.TestHelpers.psm1" -Force

    $python = if (Test-Path -LiteralPath '/usr/bin/python3') { '/usr/bin/python3' } else { 'python3' }
    # Listens on 127.0.0.1 at a port the kernel picks and prints it; then, per client: prints
    # "peer <address>:<port>", sends the same line, and waits for the client to close first (so
    # the client's side is the one left in TIME_WAIT).
    $peerScript = @'
import socket, sys, threading
server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
server.bind(("127.0.0.1", 0))
server.listen(16)
print("port %d" % server.getsockname()[1], flush=True)
def serve(client, address):
    line = "%s:%d" % address
    print("peer " + line, flush=True)
    try:
        client.sendall((line + "\n").encode())
        while client.recv(4096):
            pass
    finally:
        client.close()
while True:
    client, address = server.accept()
    threading.Thread(target=serve, args=(client, address), daemon=True).start()
'@
    $script:Peer = Start-TestProcess -FilePath $python -ArgumentList @('-u', '-c', $peerScript)
    $script:PeerPort = [int](Wait-TestProcessLine -Process $script:Peer -Pattern '^port (\d+)$').Groups[1].Value

    # A port free on 127.0.0.2 a moment ago.
    function Get-FreeLocalPort([string] $Address = '127.0.0.2') {
        $probe = [System.Net.Sockets.Socket]::new('InterNetwork', 'Stream', 'Tcp')
        try {
            $probe.Bind([System.Net.IPEndPoint]::new([ipaddress]$Address, 0))
            $probe.LocalEndPoint.Port
        }
        finally {
            $probe.Dispose()
        }
    }

}

AfterAll {
    Get-SocketRelay | Stop-SocketRelay
    Get-SocketServer | Stop-SocketServer
    Get-SocketConnection | Disconnect-Socket
    Stop-TestProcess -All
}

Describe 'Connect-Socket -LocalAddress and -LocalPort' {
    AfterEach {
        Get-SocketConnection | Disconnect-Socket
        Get-SocketServer | Stop-SocketServer
    }

    It 'connects from 127.0.0.2: the peer sees it, and LocalEndPoint shows it' {
        $connection = Connect-Socket -ComputerName 127.0.0.1 -Port $script:PeerPort -LocalAddress 127.0.0.2

        $seen = Receive-SocketData -Connection $connection -Line -TimeoutSeconds 20
        $seen | Should -Match '^127\.0\.0\.2:\d+$'
        "$($connection.LocalEndPoint)" | Should -BeExactly $seen
    }

    It 'connects from a chosen port, and again from the same port right after closing first (TIME_WAIT)' {
        $port = Get-FreeLocalPort
        $first = Connect-Socket -ComputerName 127.0.0.1 -Port $script:PeerPort -LocalAddress 127.0.0.2 -LocalPort $port
        Receive-SocketData -Connection $first -Line -TimeoutSeconds 20 | Should -BeExactly "127.0.0.2:$port"
        # This side closes first, so its end of the connection waits out TIME_WAIT.
        Disconnect-Socket -Connection $first

        # Another target (the 4-tuple differs): only the local bind is in question.
        $other = Start-SocketServer
        $second = Connect-Socket -ComputerName 127.0.0.1 -Port $other.Port -LocalAddress 127.0.0.2 -LocalPort $port
        $accepted = Wait-SocketConnection -Server $other -TimeoutSeconds 20
        "$($accepted.RemoteEndPoint)" | Should -BeExactly "127.0.0.2:$port"
        $second.LocalEndPoint.Port | Should -Be $port
    }

    It 'a local port in use is AddressInUse (ResourceUnavailable), for that target only' {
        $holder = Start-SocketServer -Address 127.0.0.2
        $record = Get-TestWrittenError { Connect-Socket -ComputerName 127.0.0.1 -Port $script:PeerPort -LocalAddress 127.0.0.2 -LocalPort $holder.Port }

        $record.FullyQualifiedErrorId | Should -BeExactly 'AddressInUse,SockPS.Commands.ConnectSocketCommand'
        $record.CategoryInfo.Category | Should -Be 'ResourceUnavailable'
        "$record" | Should -Match "127\.0\.0\.2:$($holder.Port).*in use"

        # Non-terminating: a pipeline of targets goes on after it (each fails on its own).
        $errors = $null
        $made = @(
            @([pscustomobject]@{ ComputerName = '127.0.0.1'; Port = $script:PeerPort }, [pscustomobject]@{ ComputerName = '127.0.0.1'; Port = $script:PeerPort }) |
                Connect-Socket -LocalAddress 127.0.0.2 -LocalPort $holder.Port -ErrorVariable errors -ErrorAction SilentlyContinue
        )
        $made.Count | Should -Be 0
        @($errors).Count | Should -Be 2
        @($errors.FullyQualifiedErrorId | Select-Object -Unique) | Should -Be 'AddressInUse,SockPS.Commands.ConnectSocketCommand'
    }

    It 'a local port that already carries a connection to the same target is AddressInUse too' {
        $port = Get-FreeLocalPort
        $first = Connect-Socket -ComputerName 127.0.0.1 -Port $script:PeerPort -LocalAddress 127.0.0.2 -LocalPort $port
        $first.State | Should -Be 'Open'

        $record = Get-TestWrittenError { Connect-Socket -ComputerName 127.0.0.1 -Port $script:PeerPort -LocalAddress 127.0.0.2 -LocalPort $port }

        $record.FullyQualifiedErrorId | Should -BeExactly 'AddressInUse,SockPS.Commands.ConnectSocketCommand'
        "$record" | Should -Match "127\.0\.0\.2:$port to 127\.0\.0\.1:$($script:PeerPort): a connection from that local port to the same target exists already"
    }

    It 'an address that is not this machine''s is AddressNotAvailable' {
        $record = Get-TestWrittenError { Connect-Socket -ComputerName 127.0.0.1 -Port $script:PeerPort -LocalAddress 192.0.2.1 }

        $record.FullyQualifiedErrorId | Should -BeExactly 'AddressNotAvailable,SockPS.Commands.ConnectSocketCommand'
        "$record" | Should -Match '192\.0\.2\.1 is not an address of this machine'
    }

    It 'an IPv4 -LocalAddress cannot reach an IPv6 target: HostNotFound, saying why' {
        $record = Get-TestWrittenError { Connect-Socket -ComputerName ::1 -Port $script:PeerPort -LocalAddress 127.0.0.2 }

        $record.FullyQualifiedErrorId | Should -BeExactly 'HostNotFound,SockPS.Commands.ConnectSocketCommand'
        "$record" | Should -Match '::1 is an IPv6 address, and the local address 127\.0\.0\.2 can reach IPv4 addresses only\. Give a -LocalAddress of the target''s family, or leave it out\.'
    }

    It 'refuses -LocalAddress of another family than -AddressFamily' {
        { Connect-Socket -ComputerName localhost -Port $script:PeerPort -LocalAddress 127.0.0.2 -AddressFamily InterNetworkV6 } |
            Should -Throw -ErrorId 'InvalidArgument,SockPS.Commands.ConnectSocketCommand'
    }

    It 'binds a UDP socket too: the receiver sees the datagram come from 127.0.0.2 and the port' {
        $collector = Start-SocketServer -Protocol Udp
        $port = Get-FreeLocalPort
        $udp = Connect-Socket -ComputerName 127.0.0.1 -Port $collector.Port -Protocol Udp -LocalAddress 127.0.0.2 -LocalPort $port

        Send-SocketData -Connection $udp -InputObject 'from two'
        $datagram = Receive-SocketData -Connection $collector -TimeoutSeconds 20
        $datagram.Text | Should -BeExactly 'from two'
        "$($datagram.RemoteEndPoint)" | Should -BeExactly "127.0.0.2:$port"
        "$($udp.LocalEndPoint)" | Should -BeExactly "127.0.0.2:$port"
    }
}

Describe 'Invoke-SocketRequest -LocalAddress' {
    It 'makes its request from 127.0.0.2' {
        Invoke-SocketRequest -ComputerName 127.0.0.1 -Port $script:PeerPort -LocalAddress 127.0.0.2 -Until '\n' -TimeoutSeconds 20 |
            Should -Match '^127\.0\.0\.2:\d+\n$'
    }
}

Describe 'Test-SocketPort -LocalAddress and -LocalPort' {
    It 'checks from 127.0.0.2, shows the local endpoint, and the peer saw that very endpoint' {
        $result = Test-SocketPort -ComputerName 127.0.0.1 -Port $script:PeerPort -LocalAddress 127.0.0.2

        $result.Status | Should -Be 'Open'
        $result.LocalEndPoint.Address | Should -Be ([ipaddress]'127.0.0.2')
        $null = Wait-TestProcessLine -Process $script:Peer -Pattern "^peer $([regex]::Escape("$($result.LocalEndPoint)"))$" -FromStart
    }

    It 'checks several ports from one fixed local port, one after another' {
        $port = Get-FreeLocalPort
        $closed = Get-FreeLocalPort -Address 127.0.0.1
        $results = @(Test-SocketPort -ComputerName 127.0.0.1 -Port $script:PeerPort, $closed -LocalAddress 127.0.0.2 -LocalPort $port)

        $results.Status | Should -Be @('Open', 'Refused')
        $results | ForEach-Object { "$($_.LocalEndPoint)" | Should -BeExactly "127.0.0.2:$port" }
        $null = Wait-TestProcessLine -Process $script:Peer -Pattern "^peer 127\.0\.0\.2:$port$" -FromStart
    }

    It 'a local port in use fails the check (Failed, saying why) without trying the port' {
        $holder = Start-SocketServer -Address 127.0.0.2
        try {
            $result = Test-SocketPort -ComputerName 127.0.0.1 -Port $script:PeerPort -LocalAddress 127.0.0.2 -LocalPort $holder.Port
            $result.Status | Should -Be 'Failed'
            $result.Message | Should -Match 'in use'
        }
        finally {
            Stop-SocketServer -Server $holder
        }
    }
}

Describe 'Start-SocketRelay -LocalAddress: the outbound side' {
    AfterEach {
        Get-SocketRelay | Stop-SocketRelay
        Get-SocketConnection | Disconnect-Socket
    }

    It 'connects to the target from 127.0.0.2 for every client' {
        $relay = Start-SocketRelay -ComputerName 127.0.0.1 -Port $script:PeerPort -LocalAddress 127.0.0.2

        $client = Connect-Socket -ComputerName 127.0.0.1 -Port $relay.Port
        Receive-SocketData -Connection $client -Line -TimeoutSeconds 20 | Should -Match '^127\.0\.0\.2:\d+$'
    }

    It 'connects from a fixed local port' {
        $port = Get-FreeLocalPort
        $relay = Start-SocketRelay -ComputerName 127.0.0.1 -Port $script:PeerPort -LocalAddress 127.0.0.2 -LocalPort $port

        $client = Connect-Socket -ComputerName 127.0.0.1 -Port $relay.Port
        Receive-SocketData -Connection $client -Line -TimeoutSeconds 20 | Should -BeExactly "127.0.0.2:$port"
    }
}
