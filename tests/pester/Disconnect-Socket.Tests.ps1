#Requires -Version 7.4
# Disconnect-Socket: the seed's close, and the half-close (-Shutdown Send). What the peer sees is
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
