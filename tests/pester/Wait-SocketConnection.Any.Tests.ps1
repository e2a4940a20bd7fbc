#Requires -Version 7.4
# Wait-SocketConnection -Any: accept on several servers at once and return the first connection
# any of them has, taking nothing from the others (Wait-SocketConnection.Tests.ps1 covers one
# server at a time).

BeforeAll {
    Import-Module $env:SOCKPS_MODULE_PATH -Force
    Import-Module "$PSScriptRoot/SockPS.TestHelpers.psm1" -Force
    Import-Module "$PSScriptRoot/SockPS.TlsTestHelpers.psm1" -Force
}

Describe 'Wait-SocketConnection -Any' {
    BeforeEach {
        $first = Start-SocketServer -Name 'any-first'
        $second = Start-SocketServer -Name 'any-second'
        $side = $null
    }

    AfterEach {
        Stop-TestSideCommand -Side $side
        Get-SocketConnection | Disconnect-Socket
        Get-SocketServer | Stop-SocketServer
    }

    Context 'the first connection of any server' {
        It 'returns the one connection of whichever server a client connected to' {
            $client = Connect-Socket -ComputerName 127.0.0.1 -Port $second.Port

            $accepted = @(Wait-SocketConnection -Server $first, $second -Any -TimeoutSeconds 20)

            $accepted.Count | Should -Be 1
            $accepted[0].RemoteEndPoint | Should -Be $client.LocalEndPoint
            $accepted[0].Server.InstanceId | Should -Be $second.InstanceId
        }

        It 'returns one connection when several servers have one, and leaves the others queued' {
            $toFirst = Connect-Socket -ComputerName 127.0.0.1 -Port $first.Port
            $toSecond = Connect-Socket -ComputerName 127.0.0.1 -Port $second.Port
            Wait-TestCondition -Condition { $first.PendingCount -eq 1 -and $second.PendingCount -eq 1 } -Description 'a connection queued on each server'

            $accepted = @(Wait-SocketConnection -Server $first, $second -Any -TimeoutSeconds 20)

            $accepted.Count | Should -Be 1
            ($first.PendingCount + $second.PendingCount) | Should -Be 1
            $next = @(Wait-SocketConnection -Server $first, $second -Any -TimeoutSeconds 20)
            $next.Count | Should -Be 1
            @($accepted[0].RemoteEndPoint, $next[0].RemoteEndPoint) | Sort-Object -Property Port |
                Should -Be (@($toFirst.LocalEndPoint, $toSecond.LocalEndPoint) | Sort-Object -Property Port)
            $first.PendingCount | Should -Be 0
            $second.PendingCount | Should -Be 0
        }

        It 'takes the servers from the pipeline, by -Id and by -Name' {
            $null = Connect-Socket -ComputerName 127.0.0.1 -Port $first.Port
            ($first, $second | Wait-SocketConnection -Any -TimeoutSeconds 20).Server.InstanceId | Should -Be $first.InstanceId
            $null = Connect-Socket -ComputerName 127.0.0.1 -Port $second.Port
            (Wait-SocketConnection -Id $first.Id, $second.Id -Any -TimeoutSeconds 20).Server.InstanceId | Should -Be $second.InstanceId
            $null = Connect-Socket -ComputerName 127.0.0.1 -Port $second.Port
            (Wait-SocketConnection -Name 'any-*' -Any -TimeoutSeconds 20).Server.InstanceId | Should -Be $second.InstanceId
        }

        It 'waits for a client that connects after the wait began' {
            $side = Start-TestSideCommand -ArgumentList $first, $second -ScriptBlock {
                param($First, $Second)
                'waiting'
                Wait-SocketConnection -Server $First, $Second -Any -TimeoutSeconds 20
            }
            Wait-TestCondition -Condition { $side.Output.Count -ge 1 } -Description 'the wait starting'

            $client = Connect-Socket -ComputerName 127.0.0.1 -Port $second.Port
            $result = Wait-TestSideCommand -Side $side

            $result.Errors | Should -BeNullOrEmpty
            $result.Output.Count | Should -Be 2
            $result.Output[1].RemoteEndPoint | Should -Be $client.LocalEndPoint
        }

        It 'waits on the servers still listening when one has stopped' {
            Stop-SocketServer -Server $first
            $client = Connect-Socket -ComputerName 127.0.0.1 -Port $second.Port

            $accepted = @(Wait-SocketConnection -Server $first, $second -Any -TimeoutSeconds 20 -ErrorAction Stop)

            $accepted.Count | Should -Be 1
            $accepted[0].RemoteEndPoint | Should -Be $client.LocalEndPoint
        }

        It 'works across a TCP and a Unix domain socket server' {
            $unix = Start-SocketServer -Path (Join-Path -Path $TestDrive -ChildPath 'any.sock')
            $client = Connect-Socket -Path $unix.Path

            $accepted = Wait-SocketConnection -Server $first, $unix -Any -TimeoutSeconds 20

            $accepted.Server.InstanceId | Should -Be $unix.InstanceId
            $accepted.Transport | Should -Be 'Unix'
            Send-SocketData -Connection $client -InputObject 'over unix' -Line
            Receive-SocketData -Connection $accepted -Line -TimeoutSeconds 20 | Should -BeExactly 'over unix'
        }
    }

    Context 'timeouts and errors' {
        It 'writes one non-terminating AcceptTimeout error naming every server, and they keep listening' {
            $accepted = Wait-SocketConnection -Server $first, $second -Any -TimeoutSeconds 0.3 -ErrorAction SilentlyContinue -ErrorVariable failures

            $accepted | Should -BeNullOrEmpty
            $failures.Count | Should -Be 1
            $failures[0].FullyQualifiedErrorId | Should -BeExactly 'AcceptTimeout,SockPS.Commands.WaitSocketConnectionCommand'
            $failures[0].CategoryInfo.Category | Should -Be 'OperationTimeout'
            $failures[0].Exception.Message | Should -Match 'any-first, any-second'
            $failures[0].Exception.Message | Should -Match '0\.3 seconds'
            $first.State | Should -Be 'Listening'
            $second.State | Should -Be 'Listening'
        }

        It 'writes ServerStopped when every server is stopped' {
            Stop-SocketServer -Server $first, $second

            $err = { Wait-SocketConnection -Server $first, $second -Any -TimeoutSeconds 20 -ErrorAction Stop } |
                Should -Throw -ErrorId 'ServerStopped,SockPS.Commands.WaitSocketConnectionCommand' -PassThru

            $err.CategoryInfo.Category | Should -Be 'InvalidOperation'
        }

        It 'ends a wait in progress with ServerStopped when the servers stop' {
            $side = Start-TestSideCommand -ArgumentList $first, $second -ScriptBlock {
                param($First, $Second)
                'waiting'
                Wait-SocketConnection -Server $First, $Second -Any -TimeoutSeconds 20
            }
            Wait-TestCondition -Condition { $side.Output.Count -ge 1 } -Description 'the wait starting'

            Stop-SocketServer -Server $first, $second
            $result = Wait-TestSideCommand -Side $side

            $result.Output.Count | Should -Be 1
            $result.Errors.Count | Should -Be 1
            $result.Errors[0].FullyQualifiedErrorId | Should -BeExactly 'ServerStopped,SockPS.Commands.WaitSocketConnectionCommand'
        }

        It 'writes InvalidArgument for a UDP server among them' {
            $udp = Start-SocketServer -Protocol Udp

            $err = { Wait-SocketConnection -Server $udp, $first -Any -TimeoutSeconds 1 -ErrorAction Stop } |
                Should -Throw -ErrorId 'InvalidArgument,SockPS.Commands.WaitSocketConnectionCommand' -PassThru

            $err.CategoryInfo.Category | Should -Be 'InvalidArgument'
            $err.Exception.Message | Should -Match 'datagram server'
        }
    }
}
