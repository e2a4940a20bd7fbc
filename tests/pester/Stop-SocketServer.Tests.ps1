#Requires -Version 7.4
# Stop-SocketServer: stop listening. Connections already handed out stay open; connections
# accepted but never handed out are closed; the port is free again.

BeforeAll {
    Import-Module $env:SOCKPS_MODULE_PATH -Force
    Import-Module "$PSScriptRoot/SockPS.TestHelpers.psm1" -Force
}

Describe 'Stop-SocketServer' {
    BeforeEach {
        $server = Start-SocketServer -Name 'to-stop'
    }

    AfterEach {
        Get-SocketConnection | Disconnect-Socket
        Get-SocketServer | Stop-SocketServer
    }

    Context 'stopping' {
        It 'stops listening: State Stopped, no longer listed, new clients refused' {
            $output = Stop-SocketServer -Server $server

            $output | Should -BeNullOrEmpty
            $server.State | Should -Be 'Stopped'
            Get-SocketServer | ForEach-Object InstanceId | Should -Not -Contain $server.InstanceId
            $err = { Connect-Socket -ComputerName 127.0.0.1 -Port $server.Port -ErrorAction Stop } |
                Should -Throw -ErrorId 'ConnectionRefused,SockPS.Commands.ConnectSocketCommand' -PassThru
            $err.CategoryInfo.Category | Should -Be 'ConnectionError'
        }

        It 'frees the port for a new server' {
            $port = $server.Port

            Stop-SocketServer -Server $server
            $again = Start-SocketServer -Port $port

            $again.Port | Should -Be $port
            $again.State | Should -Be 'Listening'
        }

        It 'leaves connections already handed out open' {
            $client = Connect-Socket -ComputerName 127.0.0.1 -Port $server.Port
            $accepted = Wait-SocketConnection -Server $server -TimeoutSeconds 20

            Stop-SocketServer -Server $server

            $accepted.State | Should -Be 'Open'
            Send-SocketData -Connection $client -InputObject 'still here' -Line
            Receive-SocketData -Connection $accepted -Line | Should -BeExactly 'still here'
            Send-SocketData -Connection $accepted -InputObject 'me too' -Line
            Receive-SocketData -Connection $client -Line | Should -BeExactly 'me too'
        }

        It 'closes connections accepted but never handed out, so their clients see the end' {
            $client = Connect-Socket -ComputerName 127.0.0.1 -Port $server.Port
            Wait-TestCondition -Condition { $server.PendingCount -eq 1 } -Description 'the connection queued on the server'

            Stop-SocketServer -Server $server

            $server.PendingCount | Should -Be 0
            Receive-SocketData -Connection $client -ToEnd -TimeoutSeconds 20 | Should -BeExactly ''
            $client.State | Should -Be 'Closed'
            Get-SocketConnection | ForEach-Object RemoteEndPoint | Should -Not -Contain $client.LocalEndPoint
        }

        It 'is harmless on a server already stopped' {
            Stop-SocketServer -Server $server

            { Stop-SocketServer -Server $server -ErrorAction Stop } | Should -Not -Throw
            $server.State | Should -Be 'Stopped'
        }

        It 'outputs the stopped server with -PassThru' {
            $output = Stop-SocketServer -Server $server -PassThru

            $output.InstanceId | Should -Be $server.InstanceId
            $output.State | Should -Be 'Stopped'
        }

        It 'stops with the Stop() method too' {
            $server.Stop()

            $server.State | Should -Be 'Stopped'
            Get-SocketServer | Should -BeNullOrEmpty
        }
    }

    Context 'targets' {
        It 'stops by -Id' {
            Stop-SocketServer -Id $server.Id

            $server.State | Should -Be 'Stopped'
        }

        It 'stops every server whose -Name matches a wildcard, and no other' {
            $a = Start-SocketServer -Name 'batch-a'
            $b = Start-SocketServer -Name 'batch-b'

            Stop-SocketServer -Name 'batch-*'

            $a.State | Should -Be 'Stopped'
            $b.State | Should -Be 'Stopped'
            $server.State | Should -Be 'Listening'
        }

        It 'stops what Get-SocketServer pipes to it' {
            $other = Start-SocketServer

            Get-SocketServer | Stop-SocketServer

            $server.State | Should -Be 'Stopped'
            $other.State | Should -Be 'Stopped'
            Get-SocketServer | Should -BeNullOrEmpty
        }

        It 'binds -Id by property name from the pipeline' {
            [pscustomobject]@{ Id = $server.Id } | Stop-SocketServer

            $server.State | Should -Be 'Stopped'
        }

        It 'writes a non-terminating ServerNotFound error for an unknown -Id and stops the rest' {
            Stop-SocketServer -Id 999999, $server.Id -ErrorAction SilentlyContinue -ErrorVariable failures

            $failures.Count | Should -Be 1
            $failures[0].FullyQualifiedErrorId | Should -BeExactly 'ServerNotFound,SockPS.Commands.StopSocketServerCommand'
            $failures[0].CategoryInfo.Category | Should -Be 'ObjectNotFound'
            $failures[0].Exception.Message | Should -Match 'No server with Id 999999'
            $server.State | Should -Be 'Stopped'
        }

        It 'throws ServerNotFound with -ErrorAction Stop for an unknown -Name' {
            $err = { Stop-SocketServer -Name 'no-such-server' -ErrorAction Stop } |
                Should -Throw -ErrorId 'ServerNotFound,SockPS.Commands.StopSocketServerCommand' -PassThru

            $err.CategoryInfo.Category | Should -Be 'ObjectNotFound'
            $err.Exception.Message | Should -Match 'no-such-server'
            $server.State | Should -Be 'Listening'
        }
    }

    Context '-WhatIf' {
        It 'stops nothing with -WhatIf' {
            Stop-SocketServer -Server $server -WhatIf -PassThru | Should -BeNullOrEmpty

            $server.State | Should -Be 'Listening'
            $client = Connect-Socket -ComputerName 127.0.0.1 -Port $server.Port
            $client.State | Should -Be 'Open'
        }
    }
}

Describe 'Stop-SocketServer: UDP and Unix domain sockets' {
    AfterEach {
        Get-SocketConnection | Disconnect-Socket
        Get-SocketServer | Stop-SocketServer
    }

    Context 'UDP' {
        It 'closes a UDP server''s socket, lists neither, and frees the port' {
            $server = Start-SocketServer -Protocol Udp -Name 'udp-to-stop'
            $socket = $server.DatagramSocket
            $port = $server.Port

            Stop-SocketServer -Server $server

            $server.State | Should -Be 'Stopped'
            $socket.State | Should -Be 'Disconnected'
            Get-SocketServer | ForEach-Object InstanceId | Should -Not -Contain $server.InstanceId
            Get-SocketConnection | ForEach-Object InstanceId | Should -Not -Contain $socket.InstanceId
            (Start-SocketServer -Protocol Udp -Port $port).Port | Should -Be $port
        }

        It 'ends a receive waiting on the UDP server with ConnectionClosed' {
            $server = Start-SocketServer -Protocol Udp
            $socket = $server.DatagramSocket
            $flag = [SockPS.Core.SocketConnection].GetProperty('ReceiveInProgress', [System.Reflection.BindingFlags]'NonPublic, Instance')
            $flag | Should -Not -BeNullOrEmpty -Because 'SocketConnection.ReceiveInProgress tells a test that a receive is waiting'
            $shell = [powershell]::Create()
            $null = $shell.AddScript({
                    param($ModulePath, $Socket)
                    Import-Module $ModulePath
                    Receive-SocketData -Connection $Socket -TimeoutSeconds 30
                }).AddArgument($env:SOCKPS_MODULE_PATH).AddArgument($socket)
            $handle = $shell.BeginInvoke()
            try {
                Wait-TestCondition -Condition { $flag.GetValue($socket) } -Description 'the background receive waiting'

                Stop-SocketServer -Server $server

                $handle.AsyncWaitHandle.WaitOne([timespan]::FromSeconds(30)) | Should -BeTrue
                $output = $shell.EndInvoke($handle)
                $output.Count | Should -Be 0
                $shell.Streams.Error.Count | Should -Be 1
                $shell.Streams.Error[0].FullyQualifiedErrorId | Should -BeLike 'ConnectionClosed,*'
            }
            finally {
                $shell.Dispose()
            }
        }

        It 'stops UDP and TCP servers alike by -Name and from Get-SocketServer' {
            $null = Start-SocketServer -Protocol Udp -Name 'mixed-udp'
            $null = Start-SocketServer -Name 'mixed-tcp'
            $other = Start-SocketServer -Protocol Udp

            Stop-SocketServer -Name 'mixed-*'

            Get-SocketServer | ForEach-Object InstanceId | Should -Be @($other.InstanceId)
            Get-SocketServer | Stop-SocketServer
            Get-SocketServer | Should -BeNullOrEmpty
            Get-SocketConnection | Should -BeNullOrEmpty
        }
    }

    Context 'Unix domain sockets' {
        It 'removes the socket file of a Unix <Protocol> server' -TestCases @(
            @{ Protocol = 'Tcp' }
            @{ Protocol = 'Udp' }
        ) {
            $path = Join-Path -Path $TestDrive -ChildPath "stop-$Protocol.sock"
            $server = Start-SocketServer -Path $path -Protocol $Protocol
            Test-TestSocketFile -Path $path | Should -BeTrue

            Stop-SocketServer -Server $server

            $server.State | Should -Be 'Stopped'
            Test-Path -LiteralPath $path | Should -BeFalse
            $err = { Connect-Socket -Path $path -Protocol $Protocol -ErrorAction Stop } |
                Should -Throw -ErrorId 'HostNotFound,SockPS.Commands.ConnectSocketCommand' -PassThru
            $err.Exception.Message | Should -Match 'does not exist'
        }

        It 'leaves Unix connections already handed out open' {
            $path = Join-Path -Path $TestDrive -ChildPath 'handed-out.sock'
            $server = Start-SocketServer -Path $path
            $client = Connect-Socket -Path $path
            $accepted = Wait-SocketConnection -Server $server -TimeoutSeconds 20

            Stop-SocketServer -Server $server

            $accepted.State | Should -Be 'Open'
            Send-SocketData -Connection $client -InputObject 'still here' -Line
            Receive-SocketData -Connection $accepted -Line | Should -BeExactly 'still here'
        }

        It 'lets a new server take the path at once' {
            $path = Join-Path -Path $TestDrive -ChildPath 'again.sock'
            Stop-SocketServer -Server (Start-SocketServer -Path $path)

            $again = Start-SocketServer -Path $path

            $again.State | Should -Be 'Listening'
        }

        It 'keeps the file with -WhatIf' {
            $path = Join-Path -Path $TestDrive -ChildPath 'what-if.sock'
            $server = Start-SocketServer -Path $path

            Stop-SocketServer -Server $server -WhatIf

            $server.State | Should -Be 'Listening'
            Test-TestSocketFile -Path $path | Should -BeTrue
        }
    }
}
