#Requires -Version 7.4
# Disconnect-Socket: Python's socket close, and the half-close (-Shutdown Send). What the peer sees is
# checked on the other end of a loopback pair.

BeforeAll {
    Import-Module $env:SOCKPS_MODULE_PATH -Force
    Import-Module "$PSScriptRoot/SockPS.TestHelpers.psm1" -Force
}

Describe 'Disconnect-Socket' {
    BeforeEach {
        $pair = New-TestConnectionPair
        $client = $pair.Client
        $accepted = $pair.Accepted
    }

    AfterEach {
        Get-SocketConnection | Disconnect-Socket
        Get-SocketServer | Stop-SocketServer
    }

    Context 'closing' {
        It 'closes the connection and removes it from Get-SocketConnection' {
            $output = Disconnect-Socket -Connection $client

            $output | Should -BeNullOrEmpty
            $client.State | Should -Be 'Disconnected'
            $client.CloseReason | Should -Match 'this side'
            Get-SocketConnection -Id $client.Id -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
            Get-SocketConnection | ForEach-Object InstanceId | Should -Not -Contain $client.InstanceId
        }

        It 'lets the peer see the end of the stream, after the data sent before closing' {
            Send-SocketData -Connection $client -InputObject 'last words'

            Disconnect-Socket -Connection $client

            Receive-SocketData -Connection $accepted -ToEnd | Should -BeExactly 'last words'
            $accepted.State | Should -Be 'Closed'
            $accepted.CloseReason | Should -Match 'remote host closed'
        }

        It 'is harmless on a connection already disconnected' {
            Disconnect-Socket -Connection $client

            { Disconnect-Socket -Connection $client -ErrorAction Stop } | Should -Not -Throw
            $client.State | Should -Be 'Disconnected'
        }

        It 'removes a connection the peer closed' {
            Disconnect-Socket -Connection $client
            Wait-TestCondition -Condition { $accepted.State -eq 'Closed' } -Description 'the accepted end seeing the close'
            (Get-SocketConnection -State Closed).InstanceId | Should -Contain $accepted.InstanceId

            Disconnect-Socket -Connection $accepted

            Get-SocketConnection | ForEach-Object InstanceId | Should -Not -Contain $accepted.InstanceId
            $accepted.State | Should -Be 'Disconnected'
        }

        It 'lowers the accepting server''s ConnectionCount' {
            $pair.Server.ConnectionCount | Should -Be 1

            Disconnect-Socket -Connection $accepted

            $pair.Server.ConnectionCount | Should -Be 0
            $pair.Server.AcceptedCount | Should -Be 1
        }
    }

    Context 'targets' {
        It 'closes by -Id' {
            Disconnect-Socket -Id $client.Id

            $client.State | Should -Be 'Disconnected'
            $accepted.State | Should -Not -Be 'Disconnected'
        }

        It 'closes every connection whose -Name matches a wildcard, and no other' {
            $first = New-TestConnectionPair -ClientParameters @{ Name = 'temp-1' }
            $second = New-TestConnectionPair -ClientParameters @{ Name = 'temp-2' }

            Disconnect-Socket -Name 'temp-*'

            $first.Client.State | Should -Be 'Disconnected'
            $second.Client.State | Should -Be 'Disconnected'
            $client.State | Should -Be 'Open'
        }

        It 'closes what Get-SocketConnection pipes to it' {
            $other = New-TestConnectionPair -ClientParameters @{ Name = 'piped' }

            Get-SocketConnection -Name 'piped' | Disconnect-Socket

            $other.Client.State | Should -Be 'Disconnected'
            $client.State | Should -Be 'Open'
        }

        It 'binds -Id by property name from the pipeline' {
            [pscustomobject]@{ Id = $client.Id } | Disconnect-Socket

            $client.State | Should -Be 'Disconnected'
        }

        It 'writes a non-terminating ConnectionNotFound error for an unknown -Id and closes the rest' {
            Disconnect-Socket -Id 999999, $client.Id -ErrorAction SilentlyContinue -ErrorVariable failures

            $failures.Count | Should -Be 1
            $failures[0].FullyQualifiedErrorId | Should -BeExactly 'ConnectionNotFound,SockPS.Commands.DisconnectSocketCommand'
            $failures[0].CategoryInfo.Category | Should -Be 'ObjectNotFound'
            $failures[0].Exception.Message | Should -Match '999999'
            $client.State | Should -Be 'Disconnected'
        }

        It 'throws ConnectionNotFound with -ErrorAction Stop for an unknown -Name' {
            $err = { Disconnect-Socket -Name 'no-such-connection' -ErrorAction Stop } |
                Should -Throw -ErrorId 'ConnectionNotFound,SockPS.Commands.DisconnectSocketCommand' -PassThru

            $err.CategoryInfo.Category | Should -Be 'ObjectNotFound'
            $err.Exception.Message | Should -Match 'no-such-connection'
        }
    }

    Context '-Shutdown Send' {
        It 'half-closes: the peer''s -ToEnd completes and data still flows back' {
            Send-SocketData -Connection $client -InputObject 'request'

            Disconnect-Socket -Connection $client -Shutdown Send

            $client.State | Should -Be 'SendShutdown'
            (Get-SocketConnection -Id $client.Id).State | Should -Be 'SendShutdown'
            Receive-SocketData -Connection $accepted -ToEnd | Should -BeExactly 'request'
            Send-SocketData -Connection $accepted -InputObject 'response'
            Disconnect-Socket -Connection $accepted
            Receive-SocketData -Connection $client -ToEnd | Should -BeExactly 'response'
        }

        It 'outputs the connection with -PassThru' {
            $output = Disconnect-Socket -Connection $client -Shutdown Send -PassThru

            $output.InstanceId | Should -Be $client.InstanceId
            $output.State | Should -Be 'SendShutdown'
        }

        It 'is listed by Get-SocketConnection -State SendShutdown' {
            Disconnect-Socket -Connection $client -Shutdown Send

            (Get-SocketConnection -State SendShutdown).InstanceId | Should -Be @($client.InstanceId)
        }

        It 'writes ConnectionClosed on a disconnected connection' {
            Disconnect-Socket -Connection $client

            $err = { Disconnect-Socket -Connection $client -Shutdown Send -ErrorAction Stop } |
                Should -Throw -ErrorId 'ConnectionClosed,SockPS.Commands.DisconnectSocketCommand' -PassThru

            $err.CategoryInfo.Category | Should -Be 'InvalidOperation'
            $err.Exception.Message | Should -Match 'closed'
        }

        It 'accepts only Send' {
            { Disconnect-Socket -Connection $client -Shutdown Receive } |
                Should -Throw -ErrorId 'ParameterArgumentValidationError,SockPS.Commands.DisconnectSocketCommand'
            $client.State | Should -Be 'Open'
        }
    }

    Context '-WhatIf' {
        It 'closes nothing with -WhatIf' {
            Disconnect-Socket -Connection $client -WhatIf

            $client.State | Should -Be 'Open'
            Send-SocketData -Connection $client -InputObject 'alive' -Line
            Receive-SocketData -Connection $accepted -Line | Should -BeExactly 'alive'
        }

        It 'shuts nothing down with -Shutdown Send -WhatIf' {
            Disconnect-Socket -Connection $client -Shutdown Send -WhatIf -PassThru | Should -BeNullOrEmpty

            $client.State | Should -Be 'Open'
        }
    }
}

Describe 'Disconnect-Socket: UDP and Unix domain sockets' {
    AfterEach {
        Get-SocketConnection | Disconnect-Socket
        Get-SocketServer | Stop-SocketServer
    }

    Context 'UDP' {
        BeforeEach {
            $server = Start-SocketServer -Protocol Udp
            $client = Connect-Socket -Protocol Udp -ComputerName 127.0.0.1 -Port $server.Port
        }

        It 'closes a UDP socket: Disconnected, unlisted, and sends and receives write ConnectionClosed' {
            Disconnect-Socket -Connection $client

            $client.State | Should -Be 'Disconnected'
            Get-SocketConnection | ForEach-Object InstanceId | Should -Not -Contain $client.InstanceId
            { Send-SocketData -Connection $client -InputObject 'late' -ErrorAction Stop } |
                Should -Throw -ErrorId 'ConnectionClosed,SockPS.Commands.SendSocketDataCommand'
            { Receive-SocketData -Connection $client -ErrorAction Stop } |
                Should -Throw -ErrorId 'ConnectionClosed,SockPS.Commands.ReceiveSocketDataCommand'
            $server.State | Should -Be 'Listening' -Because 'UDP has no connection for the server to lose'
        }

        It 'stops a UDP server when its socket is disconnected' {
            Disconnect-Socket -Connection $server

            $server.State | Should -Be 'Stopped'
            $server.DatagramSocket.State | Should -Be 'Disconnected'
            Get-SocketServer | ForEach-Object InstanceId | Should -Not -Contain $server.InstanceId
        }

        It 'shuts down sending on a connected UDP socket, which still receives' {
            Disconnect-Socket -Connection $client -Shutdown Send

            $client.State | Should -Be 'SendShutdown'
            $err = { Send-SocketData -Connection $client -InputObject 'late' -ErrorAction Stop } |
                Should -Throw -ErrorId 'ConnectionClosed,SockPS.Commands.SendSocketDataCommand' -PassThru
            $err.Exception.Message | Should -Match 'Shutdown Send'
            Send-SocketData -Connection $server -InputObject 'still heard' -RemoteEndPoint $client.LocalEndPoint
            (Receive-SocketData -Connection $client -TimeoutSeconds 20).Text | Should -BeExactly 'still heard'
        }

        It 'does not blame the remote host for -Shutdown Send on a socket that has none' {
            Disconnect-Socket -Connection $server -Shutdown Send -ErrorAction SilentlyContinue -ErrorVariable failures

            $failures | ForEach-Object FullyQualifiedErrorId | Should -Not -Be 'ConnectionReset,SockPS.Commands.DisconnectSocketCommand'
            $failures | ForEach-Object { $_.Exception.Message } | Should -Not -Match 'reset by the remote host'
            $server.DatagramSocket.State | Should -Not -Be 'Closed'
        }
    }

    Context 'Unix domain sockets' {
        It 'closes a Unix stream connection: the peer reads what was sent, then the end' {
            $server = Start-SocketServer -Path (Join-Path -Path $TestDrive -ChildPath 'close.sock')
            $client = Connect-Socket -Path $server.Path
            $accepted = Wait-SocketConnection -Server $server -TimeoutSeconds 20
            Send-SocketData -Connection $client -InputObject 'last words'

            Disconnect-Socket -Connection $client

            $client.State | Should -Be 'Disconnected'
            Receive-SocketData -Connection $accepted -ToEnd -TimeoutSeconds 20 | Should -BeExactly 'last words'
            $accepted.State | Should -Be 'Closed'
        }

        It 'half-closes a Unix stream connection with -Shutdown Send' {
            $server = Start-SocketServer -Path (Join-Path -Path $TestDrive -ChildPath 'half.sock')
            $client = Connect-Socket -Path $server.Path
            $accepted = Wait-SocketConnection -Server $server -TimeoutSeconds 20
            Send-SocketData -Connection $client -InputObject 'request'

            Disconnect-Socket -Connection $client -Shutdown Send

            Receive-SocketData -Connection $accepted -ToEnd -TimeoutSeconds 20 | Should -BeExactly 'request'
            Send-SocketData -Connection $accepted -InputObject 'response'
            Disconnect-Socket -Connection $accepted
            Receive-SocketData -Connection $client -ToEnd -TimeoutSeconds 20 | Should -BeExactly 'response'
        }

        It 'removes the socket file when a Unix datagram server''s socket is disconnected' {
            $server = Start-SocketServer -Path (Join-Path -Path $TestDrive -ChildPath 'dgram-close.sock') -Protocol Udp

            Disconnect-Socket -Connection $server.DatagramSocket

            $server.State | Should -Be 'Stopped'
            Test-Path -LiteralPath $server.Path | Should -BeFalse
        }
    }
}
