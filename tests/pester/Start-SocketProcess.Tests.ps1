#Requires -Version 7.4
# Start-SocketProcess (issue 15, item 3): a program on one connection, as `ncat host port -e prog`
# and socat's EXEC: do, against real peers (a python3 server, socat's echo) and on connections a
# SockPS server accepted. The result object says how it ended. Start-SocketServer.Process.Tests.ps1
# covers the server that runs a program per client.

BeforeAll {
    Import-Module $env:SOCKPS_MODULE_PATH -Force
    Import-Module "$PSScriptRoot/SockPS.TestHelpers.psm1" -Force

    # A python3 server for one client: sends argv[1] (with \n for newlines), half-closes, reads
    # until the client closes, prints what came as "got <repr>", and exits.
    $listsThenReads = @'
import socket, sys
listener = socket.socket()
listener.bind(("127.0.0.1", 0))
listener.listen(1)
print("port %d" % listener.getsockname()[1], flush=True)
conn, _ = listener.accept()
conn.sendall(sys.argv[1].replace("\\n", "\n").encode())
conn.shutdown(socket.SHUT_WR)
data = b""
while True:
    chunk = conn.recv(65536)
    if not chunk:
        break
    data += chunk
print("got %r" % data.decode(), flush=True)
conn.close()
'@

    function Wait-TestProcessGone([int] $ProcessId, [string] $Description) {
        Wait-TestCondition -Description $Description -Condition {
            $null -eq (Get-Process -Id $ProcessId -ErrorAction SilentlyContinue)
        }
    }
}

AfterAll {
    Stop-TestProcess -All
}

Describe 'Start-SocketProcess' {
    AfterEach {
        Get-Job | Where-Object PSJobTypeName -EQ 'SockPSJob' | Remove-Job -Force
        Get-SocketConnection | Disconnect-Socket
        Get-SocketServer | Stop-SocketServer
        Stop-TestProcess -All
    }

    It 'runs sort on a connection to a python3 server: the server''s lines go in, sorted lines come back' {
        $peer = Start-TestProcess -FilePath python3 -ArgumentList '-c', $listsThenReads, 'pear\napple\nfig\n'
        $port = [int](Wait-TestProcessLine -Process $peer -Pattern '^port (\d+)$').Groups[1].Value

        $result = Connect-Socket -ComputerName 127.0.0.1 -Port $port | Start-SocketProcess sort

        $null = Wait-TestProcessLine -Process $peer -Pattern ([regex]::Escape("got 'apple\nfig\npear\n'"))
        $result | Should -BeOfType ([SockPS.Core.SocketProcessResult])
        $result.ExitCode | Should -Be 0
        $result.Stopped | Should -BeFalse
        $result.BytesIn | Should -Be 15
        $result.BytesOut | Should -Be 15
        $result.RemoteEndPointText | Should -Be "127.0.0.1:$port"
        $result.EndReason | Should -BeExactly 'The program exited with code 0.'
        (Get-SocketConnection -Id $result.ConnectionId -ErrorAction SilentlyContinue) | Should -BeNullOrEmpty -Because 'the program''s exit closed the connection'
    }

    It 'runs a shell script against socat''s echo: what it writes comes back as its input' {
        $echo = Start-SocatEcho
        $connection = Connect-Socket -ComputerName 127.0.0.1 -Port $echo.Port

        $result = $connection | Start-SocketProcess -FilePath sh -ArgumentList '-c', 'echo marco; read reply; echo "heard $reply" >&2'

        $result.StandardError | Should -BeExactly "heard marco`n"
        $result.BytesOut | Should -Be 6
        $result.BytesIn | Should -Be 6
        $connection.State | Should -Be 'Disconnected'
    }

    It 'feeds the program what was received but not read yet, first' {
        $server = Start-SocketServer
        $client = Connect-Socket -ComputerName 127.0.0.1 -Port $server.Port
        $accepted = Wait-SocketConnection -Server $server -TimeoutSeconds 20
        Send-SocketData -Connection $client -InputObject "early`nlate`n"
        Wait-TestCondition -Description 'the bytes arriving' -Condition { $accepted.BytesReceived -eq 11 }
        Receive-SocketData -Connection $accepted -Line | Should -BeExactly 'early'
        Disconnect-Socket -Connection $client -Shutdown Send

        $result = $accepted | Start-SocketProcess -FilePath cat

        Receive-SocketData -Connection $client -ToEnd -TimeoutSeconds 20 | Should -BeExactly "late`n"
        $result.BytesIn | Should -Be 5
    }

    It 'serves an accepted connection with -AsJob: half-close is end of input, and the program''s exit closes the connection' {
        $server = Start-SocketServer
        $client = Connect-Socket -ComputerName 127.0.0.1 -Port $server.Port
        $job = Wait-SocketConnection -Server $server -TimeoutSeconds 20 |
            Start-SocketProcess -FilePath sh -ArgumentList '-c', 'tr a-z A-Z; echo "from $SOCKPS_REMOTE_ADDR:$SOCKPS_REMOTE_PORT"' -AsJob
        $job.PSJobTypeName | Should -Be 'SockPSJob'

        Send-SocketData -Connection $client -InputObject 'shout this' -Line
        Disconnect-Socket -Connection $client -Shutdown Send

        Receive-SocketData -Connection $client -ToEnd -TimeoutSeconds 20 |
            Should -BeExactly "SHOUT THIS`nfrom 127.0.0.1:$($client.LocalEndPoint.Port)`n"
        $result = $job | Receive-Job -Wait -AutoRemoveJob
        $result.ExitCode | Should -Be 0
        $result.BytesIn | Should -Be 11
    }

    It 'Stop-Job stops the program and closes the connection' {
        $server = Start-SocketServer
        $client = Connect-Socket -ComputerName 127.0.0.1 -Port $server.Port
        $job = Wait-SocketConnection -Server $server -TimeoutSeconds 20 |
            Start-SocketProcess -FilePath sh -ArgumentList '-c', 'echo $$; exec sleep 300' -AsJob
        $programId = [int](Receive-SocketData -Connection $client -Line -TimeoutSeconds 20)

        $job | Stop-Job

        Wait-TestProcessGone -ProcessId $programId -Description 'the program stopping with its job'
        Receive-SocketData -Connection $client -ToEnd -TimeoutSeconds 20 | Should -BeNullOrEmpty
        $job.State | Should -Be 'Stopped'
    }

    It 'a peer that resets stops the program; the result says so' {
        $server = Start-SocketServer
        $socket = [System.Net.Sockets.Socket]::new('InterNetwork', 'Stream', 'Tcp')
        $socket.Connect([System.Net.IPAddress]::Loopback, $server.Port)
        $socket.ReceiveTimeout = 20000
        $job = Wait-SocketConnection -Server $server -TimeoutSeconds 20 |
            Start-SocketProcess -FilePath sh -ArgumentList '-c', 'echo $$; exec sleep 300' -AsJob
        $line = [System.Text.StringBuilder]::new()
        $one = [byte[]]::new(1)
        while ($socket.Receive($one) -eq 1 -and $one[0] -ne 10) {
            $null = $line.Append([char]$one[0])
        }
        $programId = [int]$line.ToString()

        $socket.LingerState = [System.Net.Sockets.LingerOption]::new($true, 0)
        $socket.Dispose()

        $result = $job | Receive-Job -Wait -AutoRemoveJob
        $result.ProcessId | Should -Be $programId
        $result.Stopped | Should -BeTrue
        $result.EndReason | Should -Match 'reset the connection\. The program was stopped\.$'
        Wait-TestProcessGone -ProcessId $programId -Description 'the program being gone'
    }

    Context 'errors' {
        It 'a program that does not exist is ProgramNotFound, and the connection stays open' {
            $server = Start-SocketServer
            $client = Connect-Socket -ComputerName 127.0.0.1 -Port $server.Port

            { $client | Start-SocketProcess -FilePath 'no-such-program-sockps' -ErrorAction Stop } |
                Should -Throw -ErrorId 'ProgramNotFound,SockPS.Commands.StartSocketProcessCommand'
            $client.State | Should -Be 'Open'
        }

        It 'a UDP socket is refused with InvalidArgument, without starting the program' {
            $udp = Connect-Socket -ComputerName 127.0.0.1 -Port 9 -Protocol Udp

            $udp | Start-SocketProcess -FilePath cat -ErrorVariable failures -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
            $failures[0].FullyQualifiedErrorId | Should -Be 'InvalidArgument,SockPS.Commands.StartSocketProcessCommand'
            $failures[0].Exception.Message | Should -Match 'stream connections only'
        }

        It 'a closed connection is ConnectionClosed; the next piped connection is still served' {
            $server = Start-SocketServer
            $closed = Connect-Socket -ComputerName 127.0.0.1 -Port $server.Port
            Disconnect-Socket -Connection $closed
            $open = Connect-Socket -ComputerName 127.0.0.1 -Port $server.Port

            $results = $closed, $open | Start-SocketProcess -FilePath true -ErrorVariable failures -ErrorAction SilentlyContinue

            $failures.Count | Should -Be 1
            $failures[0].FullyQualifiedErrorId | Should -Be 'ConnectionClosed,SockPS.Commands.StartSocketProcessCommand'
            @($results).Count | Should -Be 1
            $results.ExitCode | Should -Be 0
        }
    }
}
