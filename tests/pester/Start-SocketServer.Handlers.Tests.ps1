#Requires -Version 7.4
# Start-SocketServer for real servers (issue 6): -ScriptBlock handlers run concurrently in a pool
# of runspaces, -ThrottleLimit, -MaxConnections, -IdleTimeoutSeconds, -AllowAddress and
# -DenyAddress, all observed from the client side; and the events a server and a connection raise
# for Register-ObjectEvent. Start-SocketServer.Tests.ps1 covers binding and listening.

BeforeAll {
    Import-Module $env:SOCKPS_MODULE_PATH -Force
    Import-Module "$PSScriptRoot/SockPS.TestHelpers.psm1" -Force
    Import-Module "$PSScriptRoot/SockPS.TlsTestHelpers.psm1" -Force

    $certs = New-TestCertificateSet -Directory (Join-Path -Path $TestDrive -ChildPath 'certs')

    # A handler that echoes every line until the client closes its side.
    $echoLines = {
        param($Connection)
        while ($null -ne ($line = $Connection.ReceiveLine())) {
            $Connection.SendLine($line)
        }
    }

    # A plain .NET client, so the test sees exactly what the OS reports: connects to 127.0.0.1,
    # reads until the server closes or resets, and returns what came and how it ended.
    function Invoke-RawClient([int] $Port) {
        $socket = [System.Net.Sockets.Socket]::new('InterNetwork', 'Stream', 'Tcp')
        try {
            $socket.Connect([System.Net.IPAddress]::Loopback, $Port)
            $socket.ReceiveTimeout = 20000
            $received = [System.IO.MemoryStream]::new()
            $buffer = [byte[]]::new(4096)
            $ending = 'EndOfStream'
            try {
                while (($count = $socket.Receive($buffer)) -gt 0) {
                    $received.Write($buffer, 0, $count)
                }
            }
            catch [System.Net.Sockets.SocketException] {
                $ending = [string]$_.Exception.SocketErrorCode
            }
            [pscustomobject]@{
                Text   = [System.Text.Encoding]::UTF8.GetString($received.ToArray())
                Ending = $ending
            }
        }
        finally {
            $socket.Dispose()
        }
    }
}

Describe 'Start-SocketServer -ScriptBlock' {
    BeforeEach {
        $gate = $null
    }

    AfterEach {
        # Handlers still waiting on a test's gate must not outlive the test.
        if ($gate) {
            $gate.Set()
        }
        Get-SocketConnection | Disconnect-Socket
        Get-SocketServer | Stop-SocketServer
    }

    Context 'many clients at once' {
        It 'echoes 500 lines for each of 200 concurrent clients, every line to the right client, in order' {
            $server = Start-SocketServer -ScriptBlock $echoLines
            $clients = foreach ($index in 0..199) {
                Connect-Socket -ComputerName 127.0.0.1 -Port $server.Port
            }
            $expected = foreach ($index in 0..199) {
                $(foreach ($line in 1..500) { "client $index line $line" }) -join "`n"
            }

            # Every client sends its 500 lines and half-closes; the server buffers what its
            # handlers have not read yet, so the test can send to all before reading any.
            for ($index = 0; $index -lt 200; $index++) {
                $clients[$index].Send($expected[$index] + "`n")
                Disconnect-Socket -Connection $clients[$index] -Shutdown Send
            }
            $wrong = for ($index = 0; $index -lt 200; $index++) {
                $echoed = Receive-SocketData -Connection $clients[$index] -ToEnd -TimeoutSeconds 20
                if ($echoed -cne $expected[$index] + "`n") {
                    "client $index got $(@("$echoed" -split "`n").Count - 1) line(s), not the 500 it sent"
                }
            }

            $wrong | Should -BeNullOrEmpty
            $server.AcceptedCount | Should -Be 200
            $server.Handlers.Completed | Should -Be 200
            $server.Handlers.Failed | Should -Be 0
            $server.State | Should -Be 'Listening'
            Receive-SocketServerOutput -Server $server -ErrorAction SilentlyContinue -ErrorVariable handlerErrors | Should -BeNullOrEmpty
            $handlerErrors | Should -BeNullOrEmpty
        }

        It 'passes the connection as the first argument and as $_, and -ArgumentList after it' {
            $server = Start-SocketServer -ArgumentList 'hello', 42 -ScriptBlock {
                param($Connection, $Greeting, $Number)
                $Connection.SendLine("$Greeting $Number $($Connection.RemoteEndPoint) $($_.RemoteEndPoint)")
            }
            $client = Connect-Socket -ComputerName 127.0.0.1 -Port $server.Port

            Receive-SocketData -Connection $client -Line -TimeoutSeconds 20 |
                Should -BeExactly "hello 42 $($client.LocalEndPoint) $($client.LocalEndPoint)"
        }

        It 'runs -InitializationScript once per runspace, before the handlers that use it' {
            $server = Start-SocketServer -ThrottleLimit 2 -InitializationScript {
                function Format-Greeting([string] $Name) { "hello, $Name" }
                $global:RunspaceTag = [guid]::NewGuid().ToString()
            } -ScriptBlock {
                param($Connection)
                $Connection.SendLine("$(Format-Greeting -Name $Connection.Id) from $global:RunspaceTag")
            }
            $clients = foreach ($index in 1..6) {
                Connect-Socket -ComputerName 127.0.0.1 -Port $server.Port
            }

            $lines = foreach ($client in $clients) {
                Receive-SocketData -Connection $client -Line -TimeoutSeconds 20
            }

            $lines | Should -HaveCount 6
            $lines | ForEach-Object { $_ | Should -Match '^hello, \d+ from [0-9a-f-]{36}$' }
            # At most -ThrottleLimit runspaces, each initialized once: a tag per runspace, not per client.
            $tags = @($lines | ForEach-Object { ($_ -split ' ')[-1] } | Sort-Object -Unique)
            $tags.Count | Should -BeIn @(1, 2)
        }

        It 'closes the connection when the block ends' {
            $server = Start-SocketServer -ScriptBlock {
                param($Connection)
                $Connection.SendLine('bye')
            }
            $client = Connect-Socket -ComputerName 127.0.0.1 -Port $server.Port

            Receive-SocketData -Connection $client -ToEnd -TimeoutSeconds 20 | Should -BeExactly "bye`n"
            $client.State | Should -Be 'Closed'
            Wait-TestCondition -Condition { $server.ConnectionCount -eq 0 } -Description 'the server forgetting the closed connection'
        }

        It 'keeps the connection open after the block when it sets $Connection.KeepOpen' {
            $server = Start-SocketServer -ScriptBlock {
                param($Connection)
                $Connection.KeepOpen = $true
                $Connection.SendLine('kept')
            }
            $client = Connect-Socket -ComputerName 127.0.0.1 -Port $server.Port
            Receive-SocketData -Connection $client -Line -TimeoutSeconds 20 | Should -BeExactly 'kept'
            Wait-TestCondition -Condition { $server.Handlers.Completed -eq 1 } -Description 'the handler ending'

            Wait-SocketData -Connection $client -Any -TimeoutSeconds 1 | Should -BeNullOrEmpty -Because 'the connection was neither closed nor written to'
            $kept = @(Get-SocketConnection -Server $server)
            $kept.Count | Should -Be 1
            $kept[0].State | Should -Be 'Open'
            Send-SocketData -Connection $kept[0] -InputObject 'still here' -Line
            Receive-SocketData -Connection $client -Line -TimeoutSeconds 20 | Should -BeExactly 'still here'
        }

        It 'serves a <Kind> server with the handler too' -TestCases @(
            @{ Kind = 'Unix domain socket'; Expected = 'Unix False' }
            @{ Kind = 'TLS'; Expected = 'Tls True' }
        ) {
            $handler = {
                param($Connection)
                $Connection.SendLine("$($Connection.Transport) $($Connection.IsTls) $($Connection.ReceiveLine())")
            }
            if ($Kind -eq 'TLS') {
                $server = Start-SocketServer -Certificate $certs.Server -ScriptBlock $handler
                $client = Connect-Socket -ComputerName localhost -Port $server.Port -UseTls -CaCertificate $certs.CaPath
            }
            else {
                $server = Start-SocketServer -Path (Join-Path -Path $TestDrive -ChildPath 'handled.sock') -ScriptBlock $handler
                $client = Connect-Socket -Path $server.Path
            }

            Send-SocketData -Connection $client -InputObject 'ping' -Line

            Receive-SocketData -Connection $client -ToEnd -TimeoutSeconds 20 | Should -BeExactly "$Expected ping`n"
        }

        It 'runs once per datagram on a UDP server, with $_ the SocketDatagram; piping it to Send-SocketData replies to its sender' {
            $server = Start-SocketServer -Protocol Udp -ScriptBlock {
                param($Datagram)
                $Datagram | Send-SocketData -InputObject "re: $($_.Text)"
                "$($Datagram.GetType().FullName) $($Datagram.Text)"
            }
            $first = Connect-Socket -ComputerName 127.0.0.1 -Port $server.Port -Protocol Udp
            $second = Connect-Socket -ComputerName 127.0.0.1 -Port $server.Port -Protocol Udp

            Send-SocketData -Connection $first -InputObject 'one'
            Send-SocketData -Connection $second -InputObject 'two'
            $toFirst = Receive-SocketData -Connection $first -TimeoutSeconds 20
            $toSecond = Receive-SocketData -Connection $second -TimeoutSeconds 20

            $toFirst | Should -BeOfType ([SockPS.Core.SocketDatagram])
            $toFirst.Text | Should -BeExactly 're: one'
            $toFirst.RemoteEndPoint | Should -Be $server.LocalEndPoint
            $toSecond.Text | Should -BeExactly 're: two'
            $output = @(Receive-SocketServerOutput -Server $server | Sort-Object)
            $output | Should -Be @('SockPS.Core.SocketDatagram one', 'SockPS.Core.SocketDatagram two')
        }
    }

    Context 'handler errors' {
        It 'reports an exception with its connection, closes that connection, and serves the other clients' {
            $server = Start-SocketServer -ScriptBlock {
                param($Connection)
                $line = $Connection.ReceiveLine()
                if ($line -eq 'fail') {
                    throw "cannot serve '$line'"
                }
                $Connection.SendLine("served $line")
            }
            $failing = Connect-Socket -ComputerName 127.0.0.1 -Port $server.Port
            $before = Connect-Socket -ComputerName 127.0.0.1 -Port $server.Port
            Send-SocketData -Connection $failing -InputObject 'fail' -Line
            Send-SocketData -Connection $before -InputObject 'one' -Line

            Receive-SocketData -Connection $failing -ToEnd -TimeoutSeconds 20 | Should -BeNullOrEmpty
            Receive-SocketData -Connection $before -Line -TimeoutSeconds 20 | Should -BeExactly 'served one'
            $after = Connect-Socket -ComputerName 127.0.0.1 -Port $server.Port
            Send-SocketData -Connection $after -InputObject 'two' -Line
            Receive-SocketData -Connection $after -Line -TimeoutSeconds 20 | Should -BeExactly 'served two'

            $null = Receive-SocketServerOutput -Server $server -ErrorAction SilentlyContinue -ErrorVariable failures
            $failures.Count | Should -Be 1
            $failures[0].FullyQualifiedErrorId | Should -BeExactly 'HandlerError,SockPS.Commands.ReceiveSocketServerOutputCommand'
            $failures[0].CategoryInfo.Category | Should -Be 'OperationStopped' -Because 'that is the category of a script''s throw'
            $failures[0].Exception.Message | Should -BeExactly "cannot serve 'fail'"
            $failures[0].TargetObject | Should -BeOfType ([SockPS.Core.SocketConnection])
            $failures[0].TargetObject.RemoteEndPoint | Should -Be $failing.LocalEndPoint
            $failures[0].ErrorDetails.Message | Should -Match "connection $($failures[0].TargetObject.Id) \(127\.0\.0\.1:$($failing.LocalEndPoint.Port)\)"
            $server.State | Should -Be 'Listening'
            $server.Handlers.Failed | Should -Be 1
            Wait-TestCondition -Condition { $server.Handlers.Completed -eq 2 } -Description 'the two other handlers ending'
        }

        It 'writes InvalidArgument for -<Parameter> without -ScriptBlock' -TestCases @(
            @{ Parameter = 'ArgumentList'; Splat = @{ ArgumentList = @(1) } }
            @{ Parameter = 'InitializationScript'; Splat = @{ InitializationScript = { 1 } } }
            @{ Parameter = 'ThrottleLimit'; Splat = @{ ThrottleLimit = 4 } }
        ) {
            $err = { Start-SocketServer @Splat } |
                Should -Throw -ErrorId 'InvalidArgument,SockPS.Commands.StartSocketServerCommand' -PassThru

            $err.CategoryInfo.Category | Should -Be 'InvalidArgument'
            $err.Exception.Message | Should -Match '-ScriptBlock'
            @(Get-SocketServer).Count | Should -Be 0
        }

        It 'rejects -ThrottleLimit <Value>' -TestCases @(
            @{ Value = 0 }
            @{ Value = 1025 }
        ) {
            { Start-SocketServer -ThrottleLimit $Value -ScriptBlock { } } |
                Should -Throw -ErrorId 'ParameterArgumentValidationError,SockPS.Commands.StartSocketServerCommand'
        }
    }

    Context '-ThrottleLimit' {
        It 'runs no more than -ThrottleLimit handlers at once; the other clients wait, then are served' {
            $state = [hashtable]::Synchronized(@{ Running = 0; Started = 0; Max = 0 })
            $gate = [System.Threading.ManualResetEventSlim]::new($false)
            $server = Start-SocketServer -ThrottleLimit 2 -ArgumentList $state, $gate -ScriptBlock {
                param($Connection, $State, $Gate)
                [System.Threading.Monitor]::Enter($State.SyncRoot)
                try {
                    $State.Running++
                    $State.Started++
                    $State.Max = [Math]::Max($State.Max, $State.Running)
                }
                finally {
                    [System.Threading.Monitor]::Exit($State.SyncRoot)
                }
                try {
                    # Held until the test opens the gate, so the other clients have to queue.
                    $null = $Gate.Wait([timespan]::FromSeconds(30))
                    $Connection.SendLine('served')
                }
                finally {
                    [System.Threading.Monitor]::Enter($State.SyncRoot)
                    try { $State.Running-- } finally { [System.Threading.Monitor]::Exit($State.SyncRoot) }
                }
            }
            $clients = foreach ($index in 1..6) {
                Connect-Socket -ComputerName 127.0.0.1 -Port $server.Port
            }

            Wait-TestCondition -Condition { $state.Started -ge 2 -and $server.Handlers.Waiting -eq 4 } -Description 'two handlers running and four waiting'
            $state.Started | Should -Be 2 -Because 'the other four wait for a free runspace'
            $server.Handlers.ThrottleLimit | Should -Be 2
            $server.Handlers.Running | Should -Be 2
            $gate.Set()
            $lines = foreach ($client in $clients) {
                Receive-SocketData -Connection $client -Line -TimeoutSeconds 20
            }

            $lines | Should -Be (@('served') * 6)
            $state.Started | Should -Be 6
            $state.Max | Should -Be 2
            Wait-TestCondition -Condition { $server.Handlers.Completed -eq 6 } -Description 'all six handlers ending'
            $server.Handlers.Running | Should -Be 0
            $server.Handlers.Waiting | Should -Be 0
        }
    }

    Context '-MaxConnections' {
        It 'serves two clients; a third connects but waits in the backlog, unserved, until one of the two leaves' {
            $server = Start-SocketServer -MaxConnections 2 -ScriptBlock {
                param($Connection)
                $Connection.SendLine("welcome $($Connection.RemoteEndPoint)")
                $null = $Connection.ReceiveLine()
            }
            $server.MaxConnections | Should -Be 2
            $first = Connect-Socket -ComputerName 127.0.0.1 -Port $server.Port
            $second = Connect-Socket -ComputerName 127.0.0.1 -Port $server.Port
            Receive-SocketData -Connection $first -Line -TimeoutSeconds 20 | Should -BeExactly "welcome $($first.LocalEndPoint)"
            Receive-SocketData -Connection $second -Line -TimeoutSeconds 20 | Should -BeExactly "welcome $($second.LocalEndPoint)"

            # The OS completes the handshake from its backlog; the server does not accept it.
            $third = Connect-Socket -ComputerName 127.0.0.1 -Port $server.Port
            $third.State | Should -Be 'Open'
            Wait-SocketData -Connection $third -Any -TimeoutSeconds 1 | Should -BeNullOrEmpty -Because 'the third client is not served yet'
            $server.AcceptedCount | Should -Be 2

            Disconnect-Socket -Connection $first
            Receive-SocketData -Connection $third -Line -TimeoutSeconds 20 | Should -BeExactly "welcome $($third.LocalEndPoint)"
            $server.AcceptedCount | Should -Be 3
        }

        It 'limits a server without a handler the same way' {
            $server = Start-SocketServer -MaxConnections 1
            $first = Connect-Socket -ComputerName 127.0.0.1 -Port $server.Port
            $acceptedFirst = Wait-SocketConnection -Server $server -TimeoutSeconds 20
            $second = Connect-Socket -ComputerName 127.0.0.1 -Port $server.Port

            { Wait-SocketConnection -Server $server -TimeoutSeconds 0.5 -ErrorAction Stop } |
                Should -Throw -ErrorId 'AcceptTimeout,SockPS.Commands.WaitSocketConnectionCommand'
            Disconnect-Socket -Connection $acceptedFirst

            (Wait-SocketConnection -Server $server -TimeoutSeconds 20).RemoteEndPoint | Should -Be $second.LocalEndPoint
        }
    }

    Context '-IdleTimeoutSeconds' {
        It 'closes a client that sends nothing for the timeout' {
            $server = Start-SocketServer -IdleTimeoutSeconds 1 -ReceiveTimeoutSeconds 0 -ScriptBlock {
                param($Connection)
                $null = $Connection.ReceiveLine()
            }
            $server.IdleTimeoutSeconds | Should -Be 1
            $client = Connect-Socket -ComputerName 127.0.0.1 -Port $server.Port

            Receive-SocketData -Connection $client -ToEnd -TimeoutSeconds 20 | Should -BeNullOrEmpty
            $client.State | Should -Be 'Closed'
            $client.CloseReason | Should -Match 'remote host closed'
        }

        It 'closes an idle accepted connection of a server without a handler, saying why' {
            $server = Start-SocketServer -IdleTimeoutSeconds 1
            $client = Connect-Socket -ComputerName 127.0.0.1 -Port $server.Port
            $accepted = Wait-SocketConnection -Server $server -TimeoutSeconds 20

            Receive-SocketData -Connection $client -ToEnd -TimeoutSeconds 20 | Should -BeNullOrEmpty
            $accepted.State | Should -Not -Be 'Open'
            $accepted.CloseReason | Should -Match 'Idle for 1 second \(the server''s idle timeout\)'
        }
    }

    Context '-AllowAddress and -DenyAddress' {
        It '<Case>' -TestCases @(
            @{ Case = 'refuses 127.0.0.1 with -DenyAddress 127.0.0.1/32'; Splat = @{ DenyAddress = '127.0.0.1/32' }; Served = $false }
            @{ Case = 'refuses 127.0.0.1 with -AllowAddress 10.0.0.0/8'; Splat = @{ AllowAddress = '10.0.0.0/8' }; Served = $false }
            @{ Case = 'refuses a client inside -AllowAddress that -DenyAddress names'; Splat = @{ AllowAddress = '127.0.0.0/8'; DenyAddress = '127.0.0.1' }; Served = $false }
            @{ Case = 'serves 127.0.0.1 with -AllowAddress 127.0.0.0/8'; Splat = @{ AllowAddress = '127.0.0.0/8' }; Served = $true }
            @{ Case = 'serves 127.0.0.1 with a list of single addresses'; Splat = @{ AllowAddress = '192.0.2.7', '127.0.0.1' }; Served = $true }
            @{ Case = 'serves 127.0.0.1 with -DenyAddress ::1/128'; Splat = @{ DenyAddress = '::1/128' }; Served = $true }
        ) {
            $server = Start-SocketServer @Splat -ScriptBlock {
                param($Connection)
                $Connection.SendLine('welcome')
            }

            $seen = Invoke-RawClient -Port $server.Port

            if ($Served) {
                $seen.Text | Should -BeExactly "welcome`n"
                $seen.Ending | Should -Be 'EndOfStream'
                $server.RefusedCount | Should -Be 0
                $server.AcceptedCount | Should -Be 1
            }
            else {
                $seen.Text | Should -BeExactly '' -Because 'a refused client gets no data'
                $seen.Ending | Should -Be 'ConnectionReset'
                $server.RefusedCount | Should -Be 1
                $server.AcceptedCount | Should -Be 0
            }
        }

        It 'never hands a refused client to Wait-SocketConnection, and counts every one' {
            $server = Start-SocketServer -DenyAddress 127.0.0.0/8

            (Invoke-RawClient -Port $server.Port).Ending | Should -Be 'ConnectionReset'
            (Invoke-RawClient -Port $server.Port).Ending | Should -Be 'ConnectionReset'

            $server.RefusedCount | Should -Be 2
            { Wait-SocketConnection -Server $server -TimeoutSeconds 0.2 -ErrorAction Stop } |
                Should -Throw -ErrorId 'AcceptTimeout,SockPS.Commands.WaitSocketConnectionCommand'
        }

        It 'drops and counts the datagrams of refused senders on a UDP server' {
            $server = Start-SocketServer -Protocol Udp -DenyAddress 127.0.0.1/32 -ScriptBlock {
                param($Datagram)
                "handled $($Datagram.Text)"
            }
            $client = Connect-Socket -ComputerName 127.0.0.1 -Port $server.Port -Protocol Udp

            Send-SocketData -Connection $client -InputObject 'refused'

            Wait-TestCondition -Condition { $server.RefusedCount -eq 1 } -Description 'the datagram being refused'
            Receive-SocketServerOutput -Server $server | Should -BeNullOrEmpty
        }

        It 'writes InvalidArgument for a range that is not an address or CIDR: <Range>' -TestCases @(
            @{ Range = 'not-an-address' }
            @{ Range = '10.0.0.0/33' }
            @{ Range = '::1/129' }
        ) {
            $err = { Start-SocketServer -AllowAddress $Range } |
                Should -Throw -ErrorId 'InvalidArgument,SockPS.Commands.StartSocketServerCommand' -PassThru

            $err.CategoryInfo.Category | Should -Be 'InvalidArgument'
            $err.Exception.Message | Should -Match ([regex]::Escape("'$Range'"))
            @(Get-SocketServer).Count | Should -Be 0
        }
    }
}

Describe 'Server and connection events with Register-ObjectEvent' {
    AfterEach {
        Get-EventSubscriber | Where-Object SourceIdentifier -Like 'SockPS.Test.*' | Unregister-Event
        Get-Event | Where-Object SourceIdentifier -Like 'SockPS.Test.*' | Remove-Event
        Get-SocketConnection | Disconnect-Socket
        Get-SocketServer | Stop-SocketServer
    }

    It 'raises ConnectionAccepted on the server for every client, with the new connection' {
        $server = Start-SocketServer
        $null = Register-ObjectEvent -InputObject $server -EventName ConnectionAccepted -SourceIdentifier 'SockPS.Test.Accepted'

        $client = Connect-Socket -ComputerName 127.0.0.1 -Port $server.Port
        $accepted = Wait-Event -SourceIdentifier 'SockPS.Test.Accepted' -Timeout 20

        $accepted | Should -Not -BeNullOrEmpty -Because 'the event should come within 20 s'
        $accepted.Sender.InstanceId | Should -Be $server.InstanceId
        $accepted.SourceEventArgs.Server.InstanceId | Should -Be $server.InstanceId
        $accepted.SourceEventArgs.Connection | Should -BeOfType ([SockPS.Core.SocketConnection])
        $accepted.SourceEventArgs.Connection.RemoteEndPoint | Should -Be $client.LocalEndPoint
        # The event hands the connection over without taking it from the queue.
        (Wait-SocketConnection -Server $server -TimeoutSeconds 20).InstanceId | Should -Be $accepted.SourceEventArgs.Connection.InstanceId
    }

    It 'raises ConnectionAccepted on a handler server too' {
        $server = Start-SocketServer -ScriptBlock { param($Connection) $Connection.SendLine('hi') }
        $null = Register-ObjectEvent -InputObject $server -EventName ConnectionAccepted -SourceIdentifier 'SockPS.Test.Accepted'

        $client = Connect-Socket -ComputerName 127.0.0.1 -Port $server.Port
        $accepted = Wait-Event -SourceIdentifier 'SockPS.Test.Accepted' -Timeout 20

        $accepted.SourceEventArgs.Connection.RemoteEndPoint | Should -Be $client.LocalEndPoint
        Receive-SocketData -Connection $client -Line -TimeoutSeconds 20 | Should -BeExactly 'hi'
    }

    It 'raises DataReceived on a connection when data arrives, leaving the data to be read' {
        $pair = New-TestConnectionPair
        $null = Register-ObjectEvent -InputObject $pair.Accepted -EventName DataReceived -SourceIdentifier 'SockPS.Test.Data'

        Send-SocketData -Connection $pair.Client -InputObject 'hello' -Line
        $arrived = Wait-Event -SourceIdentifier 'SockPS.Test.Data' -Timeout 20

        $arrived | Should -Not -BeNullOrEmpty -Because 'the event should come within 20 s'
        $arrived.SourceEventArgs.Connection.InstanceId | Should -Be $pair.Accepted.InstanceId
        $arrived.SourceEventArgs.Bytes | Should -BeGreaterThan 0
        Receive-SocketData -Connection $pair.Accepted -Line -TimeoutSeconds 20 | Should -BeExactly 'hello'
    }

    It 'raises Closed on a connection when the peer closes, with the reason' {
        $pair = New-TestConnectionPair
        $null = Register-ObjectEvent -InputObject $pair.Accepted -EventName Closed -SourceIdentifier 'SockPS.Test.Closed'

        Disconnect-Socket -Connection $pair.Client
        $closed = Wait-Event -SourceIdentifier 'SockPS.Test.Closed' -Timeout 20

        $closed | Should -Not -BeNullOrEmpty -Because 'the event should come within 20 s'
        $closed.SourceEventArgs.Connection.InstanceId | Should -Be $pair.Accepted.InstanceId
        $closed.SourceEventArgs.Reason | Should -Match 'remote host closed'
    }

    It 'raises Closed when the connection is closed on this side' {
        $pair = New-TestConnectionPair
        $null = Register-ObjectEvent -InputObject $pair.Client -EventName Closed -SourceIdentifier 'SockPS.Test.Closed'

        Disconnect-Socket -Connection $pair.Client
        $closed = Wait-Event -SourceIdentifier 'SockPS.Test.Closed' -Timeout 20

        $closed.SourceEventArgs.Connection.InstanceId | Should -Be $pair.Client.InstanceId
        $closed.SourceEventArgs.Reason | Should -Not -BeNullOrEmpty
    }
}

Describe 'Handler script blocks: $using: and the language mode' {
    AfterEach {
        Stop-TestProcess -All
        Get-SocketConnection | Disconnect-Socket
        Get-SocketServer | Stop-SocketServer
    }

    It 'gives $using: the values the variables had when the server started, in the block and in -InitializationScript' {
        $greeting = 'hello'
        $table = @{ Key = 'from a table' }
        $item = [pscustomobject]@{ Name = 'from a property' }
        $server = Start-SocketServer -InitializationScript {
            function Get-Greeting { "$using:greeting from init" }
        } -ScriptBlock {
            param($Connection)
            $Connection.SendLine("$using:greeting|$($using:table['Key'])|$($using:item.Name)|$(Get-Greeting)")
        }
        $greeting = 'changed after the start'

        $client = Connect-Socket -ComputerName 127.0.0.1 -Port $server.Port

        Receive-SocketData -Connection $client -Line -TimeoutSeconds 20 |
            Should -BeExactly 'hello|from a table|from a property|hello from init'
    }

    It 'leaves $using: inside a nested ForEach-Object -Parallel to the handler''s own scope' {
        $outer = 'outer'
        $server = Start-SocketServer -ScriptBlock {
            param($Connection)
            $inner = 'inner'
            $fromParallel = 1 | ForEach-Object -Parallel { $using:inner }
            $Connection.SendLine("$using:outer $fromParallel")
        }
        $client = Connect-Socket -ComputerName 127.0.0.1 -Port $server.Port

        Receive-SocketData -Connection $client -Line -TimeoutSeconds 20 | Should -BeExactly 'outer inner'
    }

    It 'writes UsingVariableIsUndefined for a $using: variable that does not exist, and starts nothing' {
        $err = { Start-SocketServer -ScriptBlock { param($Connection) $Connection.SendLine($using:sockpsNoSuchVariable) } } |
            Should -Throw -ErrorId 'UsingVariableIsUndefined,SockPS.Commands.StartSocketServerCommand' -PassThru

        $err.CategoryInfo.Category | Should -Be 'InvalidArgument'
        $err.Exception.Message | Should -Match ([regex]::Escape('$sockpsNoSuchVariable'))
        @(Get-SocketServer).Count | Should -Be 0
    }

    It 'writes InvalidArgument for a $using: value that is a script block' {
        $block = { 'runs in the caller''s runspace only' }
        $err = { Start-SocketServer -ScriptBlock { param($Connection) & $using:block } } |
            Should -Throw -ErrorId 'InvalidArgument,SockPS.Commands.StartSocketServerCommand' -PassThru

        $err.Exception.Message | Should -Match 'script block'
        @(Get-SocketServer).Count | Should -Be 0
    }

    It 'runs handlers in FullLanguage for a FullLanguage caller' {
        $server = Start-SocketServer -ScriptBlock {
            param($Connection)
            $Connection.SendLine($ExecutionContext.SessionState.LanguageMode)
        }
        $client = Connect-Socket -ComputerName 127.0.0.1 -Port $server.Port

        Receive-SocketData -Connection $client -Line -TimeoutSeconds 20 | Should -BeExactly 'FullLanguage'
    }

    It 'runs handlers in ConstrainedLanguage for a ConstrainedLanguage caller, $_, -ArgumentList, -InitializationScript and $using: included' {
        # A caller locked down to ConstrainedLanguage must not get FullLanguage handlers. Setting
        # the mode is one-way, so the caller is a fresh pwsh.
        $child = Start-TestPwsh -Command @"
`$ErrorActionPreference = 'Stop'
Import-Module '$($env:SOCKPS_MODULE_PATH)'
`$ExecutionContext.SessionState.LanguageMode = 'ConstrainedLanguage'
`$word = 'using'
`$server = Start-SocketServer -ArgumentList 'argument' -InitializationScript { function Get-Word { "init-`$using:word" } } -ScriptBlock {
    param(`$Connection, `$Extra)
    `$underscore = `$_.Id -eq `$Connection.Id
    `$escape = try { [System.Diagnostics.Process]::GetCurrentProcess().Id; 'escaped' } catch { 'blocked' }
    Send-SocketData -Connection `$Connection -Line -InputObject "`$(`$ExecutionContext.SessionState.LanguageMode) `$Extra `$underscore `$(Get-Word) `$using:word `$escape"
}
`$client = Connect-Socket -ComputerName 127.0.0.1 -Port `$server.Port
"caller `$(`$ExecutionContext.SessionState.LanguageMode)"
"handler `$(Receive-SocketData -Connection `$client -Line -TimeoutSeconds 60)"
Receive-SocketServerOutput -Server `$server
"@

        (Wait-TestProcessLine -Process $child -Pattern '^caller (\w+)' -TimeoutSeconds 120).Groups[1].Value | Should -Be 'ConstrainedLanguage'
        (Wait-TestProcessLine -Process $child -Pattern '^handler (.*)$' -TimeoutSeconds 120).Groups[1].Value |
            Should -BeExactly 'ConstrainedLanguage argument True init-using using blocked'
        Wait-TestProcessExit -Process $child -TimeoutSeconds 60 | Should -Be 0
    }
}

Describe 'Handler servers give back what they hold when they stop' {
    AfterEach {
        Stop-TestProcess -All
    }

    It 'leaves managed memory and threads near where they were after 200 handler servers start, serve and stop' {
        # In a fresh pwsh, so nothing else in the process moves the figures. Each handler writes
        # about 1 MB of output, kept on its server for Receive-SocketServerOutput: it must go
        # when the server object goes. The bounds are generous; a server that kept its runspace
        # or its output would be far past them.
        $child = Start-TestPwsh -Command @"
`$ErrorActionPreference = 'Stop'
Import-Module '$($env:SOCKPS_MODULE_PATH)'
function Invoke-Cycle {
    `$server = Start-SocketServer -ScriptBlock { param(`$Connection) `$Connection.SendLine('hi'); foreach (`$i in 1..500) { 'x' * 1000 } }
    `$client = Connect-Socket -ComputerName 127.0.0.1 -Port `$server.Port
    if (`$client.ReceiveLine() -ne 'hi') { throw 'no greeting' }
    `$null = Wait-SocketData -Connection `$client -Any -TimeoutSeconds 30
    `$client.Close()
    `$deadline = [datetime]::UtcNow.AddSeconds(30)
    while (`$server.Handlers.Completed -lt 1 -and [datetime]::UtcNow -lt `$deadline) { [System.Threading.Thread]::Sleep(5) }
    if (`$server.Handlers.OutputCount -ne 500) { throw "output: `$(`$server.Handlers.OutputCount)" }
    Stop-SocketServer -Server `$server
}
function Measure-Process {
    [GC]::Collect(); [GC]::WaitForPendingFinalizers(); [GC]::Collect()
    [pscustomobject]@{ Memory = [GC]::GetTotalMemory(`$true); Threads = [System.Diagnostics.Process]::GetCurrentProcess().Threads.Count }
}
Invoke-Cycle
Invoke-Cycle
`$before = Measure-Process
for (`$i = 0; `$i -lt 200; `$i++) { Invoke-Cycle }
# The workers end a moment after their server stops; wait (bounded) for the threads to go.
`$deadline = [datetime]::UtcNow.AddSeconds(60)
do { `$after = Measure-Process } while (`$after.Threads -gt `$before.Threads + 4 -and [datetime]::UtcNow -lt `$deadline -and -not [System.Threading.Thread]::Sleep(100))
"figures `$(`$before.Memory) `$(`$after.Memory) `$(`$before.Threads) `$(`$after.Threads)"
"@

        $figures = Wait-TestProcessLine -Process $child -Pattern '^figures (\d+) (\d+) (\d+) (\d+)$' -TimeoutSeconds 600
        $memoryBefore, $memoryAfter, $threadsBefore, $threadsAfter = [long[]]$figures.Groups[1..4].Value

        ($memoryAfter - $memoryBefore) / 1MB | Should -BeLessThan 32 -Because "200 servers' output is about 200 MB; managed memory went from $($memoryBefore / 1MB) MB to $($memoryAfter / 1MB) MB"
        $threadsAfter | Should -BeLessOrEqual ($threadsBefore + 4) -Because 'every handler worker thread ends with its server'
        Wait-TestProcessExit -Process $child -TimeoutSeconds 60 | Should -Be 0
    }
}
