#Requires -Version 7.4
# Wait-SocketConnection: Python's socket accept. Servers accept in the background; this hands out the
# next connection, waiting (bounded here) when none is queued.

BeforeAll {
    Import-Module $env:SOCKPS_MODULE_PATH -Force
    Import-Module "$PSScriptRoot/SockPS.TestHelpers.psm1" -Force
}

Describe 'Wait-SocketConnection' {
    BeforeEach {
        $server = Start-SocketServer -Name 'waiting-server'
    }

    AfterEach {
        Get-SocketConnection | Disconnect-Socket
        Get-SocketServer | Stop-SocketServer
    }

    Context 'handing out connections' {
        It 'returns the accepted connection, live and listed' {
            $client = Connect-Socket -ComputerName 127.0.0.1 -Port $server.Port

            $accepted = Wait-SocketConnection -Server $server -TimeoutSeconds 20

            $accepted | Should -BeOfType ([SockPS.Core.SocketConnection])
            $accepted.State | Should -Be 'Open'
            $accepted.RemoteEndPoint | Should -Be $client.LocalEndPoint
            $accepted.LocalEndPoint | Should -Be $client.RemoteEndPoint
            $accepted.Server.InstanceId | Should -Be $server.InstanceId
            $accepted.Name | Should -Be "Connection$($accepted.Id)"
            (Get-SocketConnection -Server $server).InstanceId | Should -Be @($accepted.InstanceId)
        }

        It 'takes the server by position and from the pipeline' {
            $first = Connect-Socket -ComputerName 127.0.0.1 -Port $server.Port
            $second = Connect-Socket -ComputerName 127.0.0.1 -Port $server.Port

            (Wait-SocketConnection $server -TimeoutSeconds 20).RemoteEndPoint | Should -Be $first.LocalEndPoint
            ($server | Wait-SocketConnection -TimeoutSeconds 20).RemoteEndPoint | Should -Be $second.LocalEndPoint
        }

        It 'finds the server by -Id and by -Name' {
            $first = Connect-Socket -ComputerName 127.0.0.1 -Port $server.Port
            $second = Connect-Socket -ComputerName 127.0.0.1 -Port $server.Port

            (Wait-SocketConnection -Id $server.Id -TimeoutSeconds 20).RemoteEndPoint | Should -Be $first.LocalEndPoint
            (Wait-SocketConnection -Name 'waiting-*' -TimeoutSeconds 20).RemoteEndPoint | Should -Be $second.LocalEndPoint
        }

        It 'returns one connection per server given' {
            $other = Start-SocketServer
            $toFirst = Connect-Socket -ComputerName 127.0.0.1 -Port $server.Port
            $toOther = Connect-Socket -ComputerName 127.0.0.1 -Port $other.Port

            $accepted = Wait-SocketConnection -Server $server, $other -TimeoutSeconds 20

            $accepted.Count | Should -Be 2
            $accepted[0].RemoteEndPoint | Should -Be $toFirst.LocalEndPoint
            $accepted[1].RemoteEndPoint | Should -Be $toOther.LocalEndPoint
        }

        It 'waits for a client that connects after the wait began' {
            $server.AcceptedCount | Should -Be 0
            $shell = [powershell]::Create()
            $null = $shell.AddScript({
                    param($ModulePath, $Id)
                    Import-Module $ModulePath
                    'waiting'
                    Wait-SocketConnection -Id $Id -TimeoutSeconds 30
                }).AddArgument($env:SOCKPS_MODULE_PATH).AddArgument($server.Id)
            $output = [System.Management.Automation.PSDataCollection[psobject]]::new()
            $handle = $shell.BeginInvoke([System.Management.Automation.PSDataCollection[psobject]]::new(), $output)
            try {
                Wait-TestCondition -Condition { $output.Count -ge 1 } -Description 'the background accept starting'

                $client = Connect-Socket -ComputerName 127.0.0.1 -Port $server.Port

                $handle.AsyncWaitHandle.WaitOne([timespan]::FromSeconds(30)) | Should -BeTrue
                $shell.HadErrors | Should -BeFalse
                $output.Count | Should -Be 2
                $output[1].RemoteEndPoint | Should -Be $client.LocalEndPoint
            }
            finally {
                $shell.Dispose()
            }
        }

        It 'hands out connections with the methods too: Accept() and Accept([timespan])' {
            $first = Connect-Socket -ComputerName 127.0.0.1 -Port $server.Port
            $second = Connect-Socket -ComputerName 127.0.0.1 -Port $server.Port
            Wait-TestCondition -Condition { $server.PendingCount -eq 2 } -Description 'two connections queued'

            $server.Accept([timespan]::FromSeconds(20)).RemoteEndPoint | Should -Be $first.LocalEndPoint
            $server.Accept().RemoteEndPoint | Should -Be $second.LocalEndPoint
        }
    }

    Context 'timeouts and errors' {
        It 'writes a non-terminating AcceptTimeout error, and the server keeps listening' {
            $err = { Wait-SocketConnection -Server $server -TimeoutSeconds 0.2 -ErrorAction Stop } |
                Should -Throw -ErrorId 'AcceptTimeout,SockPS.Commands.WaitSocketConnectionCommand' -PassThru

            $err.FullyQualifiedErrorId | Should -BeExactly 'AcceptTimeout,SockPS.Commands.WaitSocketConnectionCommand'
            $err.CategoryInfo.Category | Should -Be 'OperationTimeout'
            $err.Exception.Message | Should -Match 'waiting-server'
            $err.Exception.Message | Should -Match '0\.2 seconds'
            $server.State | Should -Be 'Listening'

            $client = Connect-Socket -ComputerName 127.0.0.1 -Port $server.Port
            (Wait-SocketConnection -Server $server -TimeoutSeconds 20).RemoteEndPoint | Should -Be $client.LocalEndPoint
        }

        It 'goes on with the next server after a timeout' {
            $other = Start-SocketServer
            $client = Connect-Socket -ComputerName 127.0.0.1 -Port $other.Port

            $accepted = Wait-SocketConnection -Server $server, $other -TimeoutSeconds 0.2 -ErrorAction SilentlyContinue -ErrorVariable failures

            $failures.Count | Should -Be 1
            $failures[0].FullyQualifiedErrorId | Should -Be 'AcceptTimeout,SockPS.Commands.WaitSocketConnectionCommand'
            $accepted.RemoteEndPoint | Should -Be $client.LocalEndPoint
        }

        It 'throws a timeout from Accept([timespan])' {
            $err = { $server.Accept([timespan]::FromSeconds(0.2)) } | Should -Throw -PassThru

            $err.Exception.InnerException | Should -BeOfType ([SockPS.Core.SocketOperationException])
            $err.Exception.InnerException.Kind | Should -Be 'AcceptTimeout'
        }

        It 'writes ServerStopped for a stopped server' {
            Stop-SocketServer -Server $server

            $err = { Wait-SocketConnection -Server $server -TimeoutSeconds 20 -ErrorAction Stop } |
                Should -Throw -ErrorId 'ServerStopped,SockPS.Commands.WaitSocketConnectionCommand' -PassThru

            $err.CategoryInfo.Category | Should -Be 'InvalidOperation'
            $err.Exception.Message | Should -Match 'stopped'
            $err.Exception.Message | Should -Match 'Start-SocketServer'
        }

        It 'ends a wait in progress with ServerStopped when the server stops' {
            $shell = [powershell]::Create()
            $null = $shell.AddScript({
                    param($ModulePath, $Server)
                    Import-Module $ModulePath
                    'waiting'
                    # The object, not -Id: a stop that comes first must still read as ServerStopped.
                    Wait-SocketConnection -Server $Server -TimeoutSeconds 30
                }).AddArgument($env:SOCKPS_MODULE_PATH).AddArgument($server)
            $output = [System.Management.Automation.PSDataCollection[psobject]]::new()
            $handle = $shell.BeginInvoke([System.Management.Automation.PSDataCollection[psobject]]::new(), $output)
            try {
                Wait-TestCondition -Condition { $output.Count -ge 1 } -Description 'the background wait starting'

                Stop-SocketServer -Server $server

                $handle.AsyncWaitHandle.WaitOne([timespan]::FromSeconds(30)) | Should -BeTrue
                $output.Count | Should -Be 1
                $shell.Streams.Error.Count | Should -Be 1
                $shell.Streams.Error[0].FullyQualifiedErrorId | Should -BeLike 'ServerStopped,*'
            }
            finally {
                $shell.Dispose()
            }
        }

        It 'writes a non-terminating ServerNotFound error for an unknown -Id' {
            $err = { Wait-SocketConnection -Id 999999 -TimeoutSeconds 1 -ErrorAction Stop } |
                Should -Throw -ErrorId 'ServerNotFound,SockPS.Commands.WaitSocketConnectionCommand' -PassThru

            $err.CategoryInfo.Category | Should -Be 'ObjectNotFound'
            $err.Exception.Message | Should -Match 'No server with Id 999999'
        }

        It 'rejects a negative -TimeoutSeconds' {
            { Wait-SocketConnection -Server $server -TimeoutSeconds -1 } |
                Should -Throw -ErrorId 'ParameterArgumentValidationError,SockPS.Commands.WaitSocketConnectionCommand'
        }
    }
}

Describe 'Wait-SocketConnection: UDP and Unix domain sockets' {
    AfterEach {
        Get-SocketConnection | Disconnect-Socket
        Get-SocketServer | Stop-SocketServer
    }

    It 'writes a non-terminating InvalidArgument error for a <Kind> server, pointing to Receive-SocketData' -TestCases @(
        @{ Kind = 'UDP'; Parameters = @{ Protocol = 'Udp' } }
        @{ Kind = 'Unix datagram'; Parameters = @{ Protocol = 'Udp'; Path = 'dgram.sock' } }
    ) {
        $splat = $Parameters.Clone()
        if ($splat.ContainsKey('Path')) {
            $splat.Path = Join-Path -Path $TestDrive -ChildPath $splat.Path
        }
        $server = Start-SocketServer @splat

        $err = { Wait-SocketConnection -Server $server -TimeoutSeconds 20 -ErrorAction Stop } |
            Should -Throw -ErrorId 'InvalidArgument,SockPS.Commands.WaitSocketConnectionCommand' -PassThru

        $err.CategoryInfo.Category | Should -Be 'InvalidArgument'
        $err.Exception.Message | Should -Match 'datagram server'
        $err.Exception.Message | Should -Match 'Receive-SocketData'
        $err.TargetObject.InstanceId | Should -Be $server.InstanceId
        $server.State | Should -Be 'Listening'
    }

    It 'goes on with the next server after a UDP one' {
        $udp = Start-SocketServer -Protocol Udp
        $tcp = Start-SocketServer
        $client = Connect-Socket -ComputerName 127.0.0.1 -Port $tcp.Port

        $accepted = Wait-SocketConnection -Server $udp, $tcp -TimeoutSeconds 20 -ErrorAction SilentlyContinue -ErrorVariable failures

        $failures.Count | Should -Be 1
        $failures[0].FullyQualifiedErrorId | Should -Be 'InvalidArgument,SockPS.Commands.WaitSocketConnectionCommand'
        $accepted.RemoteEndPoint | Should -Be $client.LocalEndPoint
    }

    It 'throws InvalidArgument from Accept() on a UDP server' {
        $udp = Start-SocketServer -Protocol Udp

        $err = { $udp.Accept([timespan]::FromSeconds(1)) } | Should -Throw -PassThru

        $err.Exception.InnerException | Should -BeOfType ([SockPS.Core.SocketOperationException])
        $err.Exception.InnerException.Kind | Should -Be 'InvalidArgument'
    }

    It 'hands out the connections of a Unix stream server in order, by -Server, -Id and -Name' {
        $server = Start-SocketServer -Path (Join-Path -Path $TestDrive -ChildPath 'accept.sock') -Name 'unix-waiting'
        $clients = 1..3 | ForEach-Object { Connect-Socket -Path $server.Path -Name "unix-client-$_" }
        Wait-TestCondition -Condition { $server.PendingCount -eq 3 } -Description 'three Unix connections queued'
        $clients | ForEach-Object { Send-SocketData -Connection $_ -InputObject $_.Name -Line }

        $accepted = @(
            Wait-SocketConnection -Server $server -TimeoutSeconds 20
            Wait-SocketConnection -Id $server.Id -TimeoutSeconds 20
            Wait-SocketConnection -Name 'unix-*' -TimeoutSeconds 20
        )

        $accepted | ForEach-Object Transport | Should -Be @('Unix', 'Unix', 'Unix')
        $accepted | ForEach-Object { $_.Server.InstanceId } | Should -Be (@($server.InstanceId) * 3)
        $accepted | ForEach-Object { Receive-SocketData -Connection $_ -Line -TimeoutSeconds 20 } |
            Should -Be @('unix-client-1', 'unix-client-2', 'unix-client-3')
    }

    It 'writes AcceptTimeout for a Unix stream server nobody connects to' {
        $server = Start-SocketServer -Path (Join-Path -Path $TestDrive -ChildPath 'lonely.sock')

        { Wait-SocketConnection -Server $server -TimeoutSeconds 0.2 -ErrorAction Stop } |
            Should -Throw -ErrorId 'AcceptTimeout,SockPS.Commands.WaitSocketConnectionCommand'
        $server.State | Should -Be 'Listening'
    }
}
