#Requires -Version 7.4
# Handler servers under hostile clients (issue 10): clients that connect and say nothing must not
# keep clients that talk from being served, with or without -IdleTimeoutSeconds, while servers
# that speak first keep every runspace. Also -SilentHandlerLimit, -FirstByteTimeoutSeconds,
# -QueueLimit, the order in which waiting clients are served, and faults that concern one client
# (a handler that throws, a client that resets) being counted without ending the dispatch.

BeforeAll {
    Import-Module $env:SOCKPS_MODULE_PATH -Force
    Import-Module "$PSScriptRoot/SockPS.TestHelpers.psm1" -Force

    # An echo handler: answers every line until the client closes.
    $echoLines = {
        param($Connection)
        while ($null -ne ($line = $Connection.ReceiveLine())) {
            $Connection.SendLine($line)
        }
    }

    # A handler held on a gate the test opens, touching nothing until then; it records which
    # client it served, in order, and answers the client's line if the connection is still open.
    $heldHandler = {
        param($Connection, $Gate, $Order)
        [void]$Order.Add($Connection.RemoteEndPoint.Port)
        $null = $Gate.Wait([timespan]::FromSeconds(60))
        if ($Connection.State -eq 'Open' -and $Connection.BytesReceived -gt 0) {
            $Connection.SendLine("served $($Connection.ReceiveLine())")
        }
    }

    function Connect-Silent([int] $Port, [int] $Count) {
        foreach ($index in 1..$Count) {
            Connect-Socket -ComputerName 127.0.0.1 -Port $Port
        }
    }
}

Describe 'Handler servers under clients that connect and say nothing' {
    BeforeEach {
        $gate = $null
    }

    AfterEach {
        if ($gate) {
            $gate.Set()
        }
        Get-SocketConnection | Disconnect-Socket
        Get-SocketServer | Stop-SocketServer
    }

    It 'answers a client that talks while 300 silent clients hold every runspace or wait (<Case>)' -TestCases @(
        @{ Case = 'no idle timeout'; Splat = @{} }
        @{ Case = '-IdleTimeoutSeconds 1'; Splat = @{ IdleTimeoutSeconds = 1 } }
    ) {
        $server = Start-SocketServer @Splat -ReceiveTimeoutSeconds 0 -ScriptBlock $echoLines
        $silent = @(Connect-Silent -Port $server.Port -Count 300)
        Wait-TestCondition -Condition { $server.Handlers.Running -eq 32 -and $server.Handlers.RunningSilent -eq 32 } `
            -Description 'all 32 runspaces serving silent clients' -TimeoutSeconds 60

        $good = Connect-Socket -ComputerName 127.0.0.1 -Port $server.Port -ReceiveTimeoutSeconds 30
        $good.SendLine('hello')
        $answer = $good.ReceiveLine()

        $answer | Should -BeExactly 'hello'
        $good.State | Should -Be 'Open' -Because 'a client whose request waits is not idle'
        ($silent | Measure-Object -Property BytesReceived -Sum).Sum | Should -Be 0 -Because 'no silent client was served anything'
        if ($Splat.Count -eq 0) {
            # One silent client made room, the longest-silent one; the other 299 are still connected.
            $server.Handlers.Evicted | Should -Be 1
            Wait-TestCondition -Condition { @($silent | Where-Object State -NE 'Open').Count -ge 1 } -Description 'the evicted client seeing its connection close'
            @($silent | Where-Object State -EQ 'Open').Count | Should -Be 299
            $server.Handlers.Waiting | Should -Be 268 -Because 'the silent clients beyond the 32 runspaces still wait, connected'
        }
        else {
            # Silent clients that had a handler for a second are closed as idle; the ones that
            # wait are not (the clock runs only while a handler has the connection).
            $closed = @($silent | Where-Object State -NE 'Open').Count
            $served = $server.Handlers.Completed + $server.Handlers.Failed + $server.Handlers.Evicted + $server.Handlers.RunningSilent
            $closed | Should -BeLessOrEqual $served -Because 'only silent clients that had a handler were closed'
        }
    }

    It 'serves waiting clients that have sent data before silent ones that came earlier' {
        $gate = [System.Threading.ManualResetEventSlim]::new($false)
        $order = [System.Collections.ArrayList]::Synchronized([System.Collections.ArrayList]::new())
        $server = Start-SocketServer -ThrottleLimit 1 -SilentHandlerLimit 1 -ArgumentList $gate, $order -ScriptBlock $heldHandler
        $first = Connect-Socket -ComputerName 127.0.0.1 -Port $server.Port
        Wait-TestCondition -Condition { $server.Handlers.Running -eq 1 } -Description 'the first client''s handler running'
        $silentOne = Connect-Socket -ComputerName 127.0.0.1 -Port $server.Port
        $silentTwo = Connect-Socket -ComputerName 127.0.0.1 -Port $server.Port
        $talker = Connect-Socket -ComputerName 127.0.0.1 -Port $server.Port
        $talker.SendLine('me first')
        Wait-TestCondition -Condition { $server.Handlers.Waiting -eq 3 -and $server.Handlers.WaitingSilent -eq 2 } `
            -Description 'three waiting, two of them silent'

        $gate.Set()
        Wait-TestCondition -Condition { $server.Handlers.Completed -eq 4 } -Description 'all four handlers ending'

        $talker.ReceiveLine() | Should -BeExactly 'served me first'
        @($order) | Should -Be @($first.LocalEndPoint.Port, $talker.LocalEndPoint.Port, $silentOne.LocalEndPoint.Port, $silentTwo.LocalEndPoint.Port)
        $server.Handlers.Evicted | Should -Be 0 -Because '-SilentHandlerLimit 1 lets the one silent handler stay'
    }

    It 'ends silent handlers beyond -SilentHandlerLimit, one per waiting client with data, longest-silent first' {
        $server = Start-SocketServer -ThrottleLimit 4 -ReceiveTimeoutSeconds 0 -ScriptBlock $echoLines
        $server.Handlers.SilentHandlerLimit | Should -Be 2 -Because 'the default is half of -ThrottleLimit'
        $silent = @(Connect-Silent -Port $server.Port -Count 4)
        Wait-TestCondition -Condition { $server.Handlers.RunningSilent -eq 4 } -Description 'four silent handlers running'

        $talkers = foreach ($index in 1..3) {
            $talker = Connect-Socket -ComputerName 127.0.0.1 -Port $server.Port
            $talker.SendLine("talker $index")
            $talker
        }
        $talkers[0].ReceiveLine() | Should -BeExactly 'talker 1'
        $talkers[1].ReceiveLine() | Should -BeExactly 'talker 2'
        Wait-TestCondition -Condition { $server.Handlers.Evicted -eq 2 -and $server.Handlers.Waiting -eq 1 } `
            -Description 'two silent handlers ended and the third talker waiting'

        # Two silent handlers are left, as -SilentHandlerLimit allows: the third talker waits.
        $server.Handlers.RunningSilent | Should -Be 2
        Wait-SocketData -Connection $talkers[2] -Any -TimeoutSeconds 1 | Should -BeNullOrEmpty
        # The two that connected first went; their clients see the server close.
        $null = Receive-SocketData -Connection $silent[0], $silent[1] -ToEnd -TimeoutSeconds 20
        $silent[0].State | Should -Be 'Closed'
        $silent[1].State | Should -Be 'Closed'
        $silent[2].State | Should -Be 'Open'
        $silent[3].State | Should -Be 'Open'

        # A talker leaving frees a runspace for the waiting one.
        Disconnect-Socket -Connection $talkers[0]
        $talkers[2].ReceiveLine() | Should -BeExactly 'talker 3'
    }

    It 'keeps every runspace for a server that greets first, while no client with data waits' {
        $server = Start-SocketServer -ThrottleLimit 4 -ReceiveTimeoutSeconds 0 -ScriptBlock {
            param($Connection)
            $Connection.SendLine('welcome')
            $null = $Connection.ReceiveLine()
        }
        $clients = @(Connect-Silent -Port $server.Port -Count 6)

        $greeted = foreach ($client in $clients[0..3]) { $client.ReceiveLine() }

        $greeted | Should -Be (@('welcome') * 4)
        Wait-TestCondition -Condition { $server.Handlers.Waiting -eq 2 } -Description 'the two clients beyond -ThrottleLimit waiting'
        $server.Handlers.Running | Should -Be 4
        $server.Handlers.Evicted | Should -Be 0
        $clients[0].SendLine('bye')
        $clients[4].ReceiveLine() | Should -BeExactly 'welcome'
    }

    It 'does not count the time a connection waits for a runspace as idle' {
        $gate = [System.Threading.ManualResetEventSlim]::new($false)
        $order = [System.Collections.ArrayList]::Synchronized([System.Collections.ArrayList]::new())
        $server = Start-SocketServer -ThrottleLimit 2 -SilentHandlerLimit 2 -IdleTimeoutSeconds 1 -ArgumentList $gate, $order -ScriptBlock $heldHandler
        $held = @(Connect-Silent -Port $server.Port -Count 2)
        Wait-TestCondition -Condition { $server.Handlers.Running -eq 2 } -Description 'both runspaces held'
        $waiting = Connect-Socket -ComputerName 127.0.0.1 -Port $server.Port
        $waiting.SendLine('still here')
        Wait-TestCondition -Condition { $server.Handlers.Waiting -eq 1 -and $server.Handlers.WaitingSilent -eq 0 } -Description 'the talking client waiting'
        # Activity on the held connections after the waiting client's last: when they are closed
        # as idle, the waiting one has been idle longer, by the old clock.
        $held | ForEach-Object { $_.Send('.') }

        $null = Receive-SocketData -Connection $held -ToEnd -TimeoutSeconds 20
        $held | ForEach-Object { $_.State | Should -Be 'Closed' -Because 'a connection its handler holds idle is closed' }
        $waiting.State | Should -Be 'Open'
        $server.Handlers.Waiting | Should -Be 1
        $gate.Set()

        $waiting.ReceiveLine() | Should -BeExactly 'served still here'
    }

    It 'closes waiting connections that send nothing within -FirstByteTimeoutSeconds, and no others' {
        $gate = [System.Threading.ManualResetEventSlim]::new($false)
        $order = [System.Collections.ArrayList]::Synchronized([System.Collections.ArrayList]::new())
        $server = Start-SocketServer -ThrottleLimit 1 -SilentHandlerLimit 1 -FirstByteTimeoutSeconds 1 -ArgumentList $gate, $order -ScriptBlock $heldHandler
        $server.Handlers.FirstByteTimeoutSeconds | Should -Be 1
        $first = Connect-Socket -ComputerName 127.0.0.1 -Port $server.Port
        Wait-TestCondition -Condition { $server.Handlers.Running -eq 1 } -Description 'the first client''s handler running'
        $silent = Connect-Socket -ComputerName 127.0.0.1 -Port $server.Port
        $talker = Connect-Socket -ComputerName 127.0.0.1 -Port $server.Port
        $talker.SendLine('hi')

        Wait-TestCondition -Condition { $server.Handlers.TimedOut -eq 1 } -Description 'the silent waiting client timing out'
        $null = Receive-SocketData -Connection $silent -ToEnd -TimeoutSeconds 20
        $silent.State | Should -Be 'Closed'
        $first.State | Should -Be 'Open' -Because 'a connection a handler has is not subject to -FirstByteTimeoutSeconds'
        $server.Handlers.Waiting | Should -Be 1
        $gate.Set()
        $talker.ReceiveLine() | Should -BeExactly 'served hi'
    }

    It 'bounds the waiting connections with -QueueLimit, closing the longest-silent to make room' {
        $gate = [System.Threading.ManualResetEventSlim]::new($false)
        $order = [System.Collections.ArrayList]::Synchronized([System.Collections.ArrayList]::new())
        $server = Start-SocketServer -ThrottleLimit 1 -SilentHandlerLimit 1 -QueueLimit 2 -ArgumentList $gate, $order -ScriptBlock $heldHandler
        $null = Connect-Socket -ComputerName 127.0.0.1 -Port $server.Port
        Wait-TestCondition -Condition { $server.Handlers.Running -eq 1 } -Description 'the first client''s handler running'
        $silentOne = Connect-Socket -ComputerName 127.0.0.1 -Port $server.Port
        $silentTwo = Connect-Socket -ComputerName 127.0.0.1 -Port $server.Port
        Wait-TestCondition -Condition { $server.Handlers.Waiting -eq 2 } -Description 'two waiting'

        $talker = Connect-Socket -ComputerName 127.0.0.1 -Port $server.Port
        $talker.SendLine('hi')
        Wait-TestCondition -Condition { $server.Handlers.Dropped -eq 1 -and $server.Handlers.Waiting -eq 2 } -Description 'one dropped to make room'
        $null = Receive-SocketData -Connection $silentOne -ToEnd -TimeoutSeconds 20

        $silentOne.State | Should -Be 'Closed' -Because 'it had waited longest without sending anything'
        $silentTwo.State | Should -Be 'Open'
        $server.Handlers.QueueLimit | Should -Be 2
        $gate.Set()
        $talker.ReceiveLine() | Should -BeExactly 'served hi'
    }

    It 'counts a handler that throws and a client that resets, and goes on serving' {
        $server = Start-SocketServer -ThrottleLimit 2 -ReceiveTimeoutSeconds 0 -ScriptBlock {
            param($Connection)
            while ($null -ne ($line = $Connection.ReceiveLine())) {
                if ($line -eq 'throw') {
                    throw 'asked to fail'
                }
                $Connection.SendLine($line)
            }
        }
        # A client that resets while its handler waits in ReceiveLine.
        $resetting = [System.Net.Sockets.Socket]::new('InterNetwork', 'Stream', 'Tcp')
        $resetting.Connect([System.Net.IPAddress]::Loopback, $server.Port)
        $resetting.Send([System.Text.Encoding]::UTF8.GetBytes("first`n")) | Out-Null
        $buffer = [byte[]]::new(16)
        $resetting.ReceiveTimeout = 20000
        $resetting.Receive($buffer) | Should -Be 6
        $resetting.LingerState = [System.Net.Sockets.LingerOption]::new($true, 0)
        $resetting.Close()
        # A client whose handler throws.
        $throwing = Connect-Socket -ComputerName 127.0.0.1 -Port $server.Port
        $throwing.SendLine('throw')
        $null = Receive-SocketData -Connection $throwing -ToEnd -TimeoutSeconds 20

        Wait-TestCondition -Condition { $server.Handlers.Completed + $server.Handlers.Failed -eq 2 } -Description 'both handlers ending'
        $good = Connect-Socket -ComputerName 127.0.0.1 -Port $server.Port
        $good.SendLine('still serving')

        $good.ReceiveLine() | Should -BeExactly 'still serving'
        $server.State | Should -Be 'Listening'
        $server.Handlers.Failed | Should -BeGreaterOrEqual 1 -Because 'the throwing handler failed'
        $server.Handlers.Faults | Should -Be 0 -Because 'these were the clients'' and the block''s faults, not the dispatch''s'
        $null = Receive-SocketServerOutput -Server $server -ErrorAction SilentlyContinue -ErrorVariable handlerErrors
        @($handlerErrors | Where-Object { $_.Exception.Message -eq 'asked to fail' }).Count | Should -Be 1
        @($handlerErrors | Where-Object { $_.Exception.Message -match 'reset' }).Count | Should -Be 1 -Because 'the reset reached the handler as an error, reported with its connection'
    }

    It 'writes InvalidArgument for -<Parameter> without -ScriptBlock' -TestCases @(
        @{ Parameter = 'SilentHandlerLimit'; Splat = @{ SilentHandlerLimit = 1 } }
        @{ Parameter = 'QueueLimit'; Splat = @{ QueueLimit = 5 } }
        @{ Parameter = 'FirstByteTimeoutSeconds'; Splat = @{ FirstByteTimeoutSeconds = 5 } }
    ) {
        $err = { Start-SocketServer @Splat } |
            Should -Throw -ErrorId 'InvalidArgument,SockPS.Commands.StartSocketServerCommand' -PassThru

        $err.CategoryInfo.Category | Should -Be 'InvalidArgument'
        $err.Exception.Message | Should -Match "-$Parameter"
        @(Get-SocketServer).Count | Should -Be 0
    }
}
