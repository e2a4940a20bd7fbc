#Requires -Version 7.4
# Stop-SocketRelay: stop forwarding. The listener closes (new clients are refused), every
# forwarded connection is closed on both sides, and the relay leaves Get-SocketRelay.

BeforeAll {
    Import-Module $env:SOCKPS_MODULE_PATH -Force
    Import-Module "$PSScriptRoot/SockPS.TestHelpers.psm1" -Force
}

Describe 'Stop-SocketRelay' {
    BeforeEach {
        $target = Start-SocketServer
        $relay = Start-SocketRelay -ComputerName 127.0.0.1 -Port $target.Port -Name 'to-stop'
    }

    AfterEach {
        Get-SocketRelay | Stop-SocketRelay
        Get-SocketConnection | Disconnect-Socket
        Get-SocketServer | Stop-SocketServer
    }

    Context 'stopping' {
        It 'stops listening: State Stopped, no longer listed, new clients refused' {
            $output = Stop-SocketRelay -Relay $relay

            $output | Should -BeNullOrEmpty
            $relay.State | Should -Be 'Stopped'
            Get-SocketRelay | ForEach-Object InstanceId | Should -Not -Contain $relay.InstanceId
            $err = { Connect-Socket -ComputerName 127.0.0.1 -Port $relay.Port -ErrorAction Stop } |
                Should -Throw -ErrorId 'ConnectionRefused,SockPS.Commands.ConnectSocketCommand' -PassThru
            $err.CategoryInfo.Category | Should -Be 'ConnectionError'
        }

        It 'closes every forwarded connection, on both sides' {
            $client = Connect-Socket -ComputerName 127.0.0.1 -Port $relay.Port
            $far = Wait-SocketConnection -Server $target -TimeoutSeconds 20
            Send-SocketData -Connection $client -InputObject 'through' -Line
            Receive-SocketData -Connection $far -Line -TimeoutSeconds 20 | Should -BeExactly 'through'

            Stop-SocketRelay -Relay $relay

            Receive-SocketData -Connection $client -ToEnd -TimeoutSeconds 20 -ErrorAction Stop | Should -BeNullOrEmpty
            Receive-SocketData -Connection $far -ToEnd -TimeoutSeconds 20 -ErrorAction Stop | Should -BeNullOrEmpty
            Wait-TestCondition -Condition { $relay.ActiveClients -eq 0 } -Description 'the relay dropping the client'
        }

        It 'frees the port for a new relay' {
            $port = $relay.Port

            Stop-SocketRelay -Relay $relay
            $again = Start-SocketRelay -ListenPort $port -ComputerName 127.0.0.1 -Port $target.Port

            $again.Port | Should -Be $port
            $again.State | Should -Be 'Listening'
        }

        It 'removes the socket file of a relay listening on -ListenPath' {
            $path = Join-Path -Path $TestDrive -ChildPath 'stop-relay.sock'
            $unix = Start-SocketRelay -ListenPath $path -ComputerName 127.0.0.1 -Port $target.Port
            Test-TestSocketFile -Path $path | Should -BeTrue

            Stop-SocketRelay -Relay $unix

            $path | Should -Not -Exist
        }

        It 'is harmless on a relay already stopped' {
            Stop-SocketRelay -Relay $relay

            { Stop-SocketRelay -Relay $relay -ErrorAction Stop } | Should -Not -Throw
            $relay.State | Should -Be 'Stopped'
        }

        It 'outputs the stopped relay with -PassThru' {
            $output = Stop-SocketRelay -Relay $relay -PassThru

            $output.InstanceId | Should -Be $relay.InstanceId
            $output.State | Should -Be 'Stopped'
        }

        It 'stops nothing with -WhatIf' {
            Stop-SocketRelay -Relay $relay -WhatIf

            $relay.State | Should -Be 'Listening'
        }

        It 'stops with the Stop() method too' {
            $relay.Stop()

            $relay.State | Should -Be 'Stopped'
            Get-SocketRelay | Should -BeNullOrEmpty
        }
    }

    Context 'targets' {
        It 'stops by position and by -Id' {
            $other = Start-SocketRelay -ComputerName 127.0.0.1 -Port $target.Port

            Stop-SocketRelay $relay
            Stop-SocketRelay -Id $other.Id

            $relay.State | Should -Be 'Stopped'
            $other.State | Should -Be 'Stopped'
        }

        It 'stops every relay whose -Name matches a wildcard, and no other' {
            $a = Start-SocketRelay -ComputerName 127.0.0.1 -Port $target.Port -Name 'batch-a'
            $b = Start-SocketRelay -ComputerName 127.0.0.1 -Port $target.Port -Name 'batch-b'

            Stop-SocketRelay -Name 'batch-*'

            $a.State | Should -Be 'Stopped'
            $b.State | Should -Be 'Stopped'
            $relay.State | Should -Be 'Listening'
        }

        It 'stops what Get-SocketRelay pipes to it' {
            $other = Start-SocketRelay -ComputerName 127.0.0.1 -Port $target.Port

            Get-SocketRelay | Stop-SocketRelay

            $relay.State | Should -Be 'Stopped'
            $other.State | Should -Be 'Stopped'
            Get-SocketRelay | Should -BeNullOrEmpty
        }

        It 'binds -Id by property name from the pipeline' {
            [pscustomobject]@{ Id = $relay.Id } | Stop-SocketRelay

            $relay.State | Should -Be 'Stopped'
        }
    }

    Context 'errors' {
        It 'writes a non-terminating RelayNotFound error for an unknown -Id and stops the rest' {
            Stop-SocketRelay -Id 999999, $relay.Id -ErrorAction SilentlyContinue -ErrorVariable failures

            $failures.Count | Should -Be 1
            $failures[0].FullyQualifiedErrorId | Should -BeExactly 'RelayNotFound,SockPS.Commands.StopSocketRelayCommand'
            $failures[0].CategoryInfo.Category | Should -Be 'ObjectNotFound'
            $failures[0].Exception.Message | Should -Match '999999'
            $relay.State | Should -Be 'Stopped'
        }

        It 'throws RelayNotFound with -ErrorAction Stop for an unknown exact -Name' {
            $err = { Stop-SocketRelay -Name 'nonesuch' -ErrorAction Stop } |
                Should -Throw -ErrorId 'RelayNotFound,SockPS.Commands.StopSocketRelayCommand' -PassThru

            $err.CategoryInfo.Category | Should -Be 'ObjectNotFound'
            $err.Exception.Message | Should -Match "'nonesuch'"
        }
    }
}
