#Requires -Version 7.4
# Test-SocketPort -Count, -Continuous, -IntervalSeconds and -Summary (issue 14 item 7): tcping,
# as Test-Connection -Repeat is ping. The open ports are SockPS servers (their AcceptedCount
# proves how many attempts really connected), the closed ones sockets bound and never listening.
# Nothing here asserts on time: intervals are short so the tests are quick, and every wait is
# bounded.

BeforeAll {
    Import-Module $env:SOCKPS_MODULE_PATH -Force
    Import-Module "$PSScriptRoot/SockPS.TestHelpers.psm1" -Force

    $script:Owned = [System.Collections.Generic.List[System.IDisposable]]::new()

    # A TCP port that refuses: bound and never listening.
    function New-ClosedPort {
        $socket = [System.Net.Sockets.Socket]::new('InterNetwork', 'Stream', 'Tcp')
        $socket.Bind([System.Net.IPEndPoint]::new([System.Net.IPAddress]::Loopback, 0))
        $script:Owned.Add($socket)
        $socket.LocalEndPoint.Port
    }
}

AfterAll {
    Stop-TestProcess -All
}

Describe 'Test-SocketPort repeated checks' {
    AfterEach {
        foreach ($item in $script:Owned) { $item.Dispose() }
        $script:Owned.Clear()
        Get-SocketConnection | Disconnect-Socket
        Get-SocketServer | Stop-SocketServer
    }

    Context '-Count' {
        It 'checks an open port N times, a result per attempt with its Sequence, each a real connection' {
            $server = Start-SocketServer

            $results = Test-SocketPort -ComputerName 127.0.0.1 -Port $server.Port -Count 3 -IntervalSeconds 0.1

            $results | Should -HaveCount 3
            $results.Sequence | Should -Be @(1, 2, 3)
            $results.Status | Should -Be @('Open', 'Open', 'Open')
            foreach ($result in $results) {
                $result | Should -BeOfType ([SockPS.Core.PortTestResult])
                $result.PSObject.TypeNames[0] | Should -Be 'SockPS.Core.PortTestResult#Repeated'
                $result.LatencyMilliseconds | Should -Be $result.Latency.TotalMilliseconds
                $result.Attempts | Should -Be 1
            }
            Wait-TestCondition -Condition { $server.AcceptedCount -eq 3 } -Description 'the server accepting three connections'
        }

        It 'checks a closed port N times: Refused each time' {
            $closed = New-ClosedPort

            $results = Test-SocketPort -ComputerName 127.0.0.1 -Port $closed -Count 2 -IntervalSeconds 0

            $results.Sequence | Should -Be @(1, 2)
            $results.Status | Should -Be @('Refused', 'Refused')
        }

        It 'checks every target in each round, in input order, round after round' {
            $server = Start-SocketServer
            $closed = New-ClosedPort

            $results = Test-SocketPort -ComputerName 127.0.0.1 -Port $server.Port, $closed -Count 2 -IntervalSeconds 0

            $results.Sequence | Should -Be @(1, 1, 2, 2)
            $results.Port | Should -Be @($server.Port, $closed, $server.Port, $closed)
            $results.Status | Should -Be @('Open', 'Refused', 'Open', 'Refused')
        }

        It 'repeats UDP checks too: an answer each time is Open' {
            $udp = Start-SocketServer -Protocol Udp -ScriptBlock { param($Datagram) $Datagram | Send-SocketData -InputObject 'pong' }

            $results = Test-SocketPort -ComputerName 127.0.0.1 -Port $udp.Port -Protocol Udp -Count 2 -IntervalSeconds 0 -TimeoutSeconds 20

            $results.Status | Should -Be @('Open', 'Open')
            $results.Protocol | Should -Be @('Udp', 'Udp')
            $results[1].Message | Should -BeExactly 'An answer came back to an empty datagram (4 bytes).'
        }

        It 'returns $true or $false per attempt with -Quiet' {
            $server = Start-SocketServer
            $closed = New-ClosedPort

            Test-SocketPort -ComputerName 127.0.0.1 -Port $server.Port, $closed -Count 2 -IntervalSeconds 0 -Quiet | Should -Be @($true, $false, $true, $false)
        }

        It 'shows Seq, ComputerName, Port, Status, Latency ms and Message within 80 columns' {
            $server = Start-SocketServer

            $lines = Test-SocketPort -ComputerName 127.0.0.1 -Port $server.Port -Count 2 -IntervalSeconds 0 | Out-String -Width 80 -Stream | Where-Object { $_.Trim() }

            $lines[0] | Should -Match '^\s*Seq ComputerName\s+Port Status\s+Latency ms Message$'
            $lines[2] | Should -Match "^\s+1 127\.0\.0\.1\s+$($server.Port) Open\s+\d+\.\d A TCP connection was"
            $lines[3] | Should -Match "^\s+2 127\.0\.0\.1\s+$($server.Port) Open"
            $lines | ForEach-Object { $_.Length | Should -BeLessOrEqual 80 }
        }
    }

    Context '-Summary' {
        It 'summarises each target: sent, answered, loss and the latency of the answers' {
            $server = Start-SocketServer
            $closed = New-ClosedPort

            $summaries = Test-SocketPort -ComputerName 127.0.0.1 -Port $server.Port, $closed -Count 3 -IntervalSeconds 0 -Summary

            $summaries | Should -HaveCount 2
            $open, $refused = $summaries
            $open | Should -BeOfType ([SockPS.Core.PortTestSummary])
            $open.Port | Should -Be $server.Port
            $open.Protocol | Should -Be 'Tcp'
            $open.RemoteAddress | Should -Be ([System.Net.IPAddress]::Loopback)
            $open.Sent | Should -Be 3
            $open.Answered | Should -Be 3
            $open.LossPercent | Should -Be 0
            $open.Minimum | Should -BeGreaterThan 0
            $open.Minimum | Should -BeLessOrEqual $open.Average
            $open.Average | Should -BeLessOrEqual $open.Maximum
            $open.StandardDeviation | Should -BeLessOrEqual ($open.Maximum - $open.Minimum)
            $open.LastStatus | Should -Be 'Open'
            Wait-TestCondition -Condition { $server.AcceptedCount -eq 3 } -Description 'three connections, as the summary says'

            $refused.Port | Should -Be $closed
            $refused.Sent | Should -Be 3
            $refused.Answered | Should -Be 0
            $refused.LossPercent | Should -Be 100
            $refused.Minimum, $refused.Average, $refused.Maximum, $refused.StandardDeviation | Should -Be @($null, $null, $null, $null)
            $refused.LastStatus | Should -Be 'Refused'
        }

        It 'makes 4 attempts when -Count is not given, as ping does' {
            $server = Start-SocketServer

            $summary = Test-SocketPort -ComputerName 127.0.0.1 -Port $server.Port -Summary -IntervalSeconds 0

            $summary.Sent | Should -Be 4
            Wait-TestCondition -Condition { $server.AcceptedCount -eq 4 } -Description 'four connections'
        }

        It 'counts a port that stops answering as loss: 1 of 2 answered is 50 %' {
            # A UDP socket whose reader answers the first probe and no other.
            $udp = Start-SocketServer -Protocol Udp
            $side = Start-TestSideCommand -ScriptBlock {
                param($Udp)
                'ready'
                Receive-SocketData -Connection $Udp -TimeoutSeconds 60 | Send-SocketData -InputObject 'pong'
            } -ArgumentList @($udp)
            try {
                Wait-TestCondition -Condition { $side.Output.Count -ge 1 } -Description 'the reader to start'

                $summary = Test-SocketPort -ComputerName 127.0.0.1 -Port $udp.Port -Protocol Udp -Count 2 -IntervalSeconds 0 -TimeoutSeconds 3 -Summary
            }
            finally {
                Stop-TestSideCommand -Side $side
            }

            $summary.Sent | Should -Be 2
            $summary.Answered | Should -Be 1
            $summary.LossPercent | Should -Be 50
            $summary.LastStatus | Should -Be 'NoAnswer'
            $summary.Minimum | Should -Be $summary.Maximum
            $summary.StandardDeviation | Should -Be 0
        }

        It 'shows the summary as a table within 80 columns' {
            $server = Start-SocketServer

            $lines = Test-SocketPort -ComputerName 127.0.0.1 -Port $server.Port -Count 2 -IntervalSeconds 0 -Summary | Out-String -Width 80 -Stream | Where-Object { $_.Trim() }

            $lines[0] | Should -Match '^ComputerName\s+Port\s+Sent\s+Answered\s+Loss %\s+Min ms\s+Avg ms\s+Max ms\s+StdDev$'
            $lines[2] | Should -Match "^127\.0\.0\.1\s+$($server.Port)\s+2\s+2\s+0(\s+\d+\.\d){4}$"
            $lines | ForEach-Object { $_.Length | Should -BeLessOrEqual 80 }
        }
    }

    Context '-Continuous' {
        It 'stops cleanly when Select-Object -First has had enough' {
            $server = Start-SocketServer
            $side = Start-TestSideCommand -ScriptBlock {
                param($Port)
                Test-SocketPort -ComputerName 127.0.0.1 -Port $Port -Continuous -IntervalSeconds 0.05 | Select-Object -First 3
            } -ArgumentList @($server.Port)

            $done = Wait-TestSideCommand -Side $side -TimeoutSeconds 30

            $done.Errors | Should -BeNullOrEmpty
            $done.Output | Should -HaveCount 3
            $done.Output.Sequence | Should -Be @(1, 2, 3)
            $done.Output.Status | Should -Be @('Open', 'Open', 'Open')
        }

        It 'stops when the pipeline is stopped, as Ctrl+C does, after streaming results as they come' {
            $closed = New-ClosedPort
            $side = Start-TestSideCommand -ScriptBlock {
                param($Port)
                Test-SocketPort -ComputerName 127.0.0.1 -Port $Port -Continuous -IntervalSeconds 0.05
            } -ArgumentList @($closed)
            try {
                Wait-TestCondition -Condition { $side.Output.Count -ge 2 } -Description 'two attempts streamed before the stop'

                $stop = $side.Shell.BeginStop($null, $null)

                $stop.AsyncWaitHandle.WaitOne([timespan]::FromSeconds(20)) | Should -BeTrue -Because 'a stop ends -Continuous'
                $side.Shell.InvocationStateInfo.State | Should -Be 'Stopped'
                $results = @($side.Output.ReadAll())
                $results.Count | Should -BeGreaterOrEqual 2
                $results.Sequence | Should -Be (1..$results.Count)
                $results.Status | Sort-Object -Unique | Should -Be 'Refused'
            }
            finally {
                Stop-TestSideCommand -Side $side
            }
        }

        It 'stops during the pause between attempts, at once, with a long -IntervalSeconds' {
            $server = Start-SocketServer
            $side = Start-TestSideCommand -ScriptBlock {
                param($Port)
                Test-SocketPort -ComputerName 127.0.0.1 -Port $Port -Continuous -IntervalSeconds 3600
            } -ArgumentList @($server.Port)
            try {
                Wait-TestCondition -Condition { $side.Output.Count -ge 1 } -Description 'the first attempt'

                $stop = $side.Shell.BeginStop($null, $null)

                $stop.AsyncWaitHandle.WaitOne([timespan]::FromSeconds(20)) | Should -BeTrue -Because 'the pause waits on the stop signal'
                $side.Output.Count | Should -Be 1
            }
            finally {
                Stop-TestSideCommand -Side $side
            }
        }
    }

    Context 'combinations that cannot work' {
        It 'stops with InvalidArgument for <Case>' -ForEach @(
            @{ Case = '-Count with -Continuous'; Splat = @{ Count = 2; Continuous = $true }; Says = '*use one of them*' }
            @{ Case = '-Summary with -Continuous'; Splat = @{ Summary = $true; Continuous = $true }; Says = '*use -Count with -Summary*' }
            @{ Case = '-Wait with -Count'; Splat = @{ Wait = $true; Count = 2 }; Says = '*Use one or the other*' }
            @{ Case = '-Quiet with -Summary'; Splat = @{ Quiet = $true; Summary = $true }; Says = '*use one of them*' }
            @{ Case = '-IntervalSeconds alone'; Splat = @{ IntervalSeconds = 1 }; Says = '*add one of them*' }
            @{ Case = 'a negative -IntervalSeconds'; Splat = @{ Count = 2; IntervalSeconds = -1 }; Says = '*must be 0 or a positive number*' }
        ) {
            { Test-SocketPort -ComputerName 127.0.0.1 -Port 9 @Splat -ErrorAction Stop } |
                Should -Throw -ErrorId 'InvalidArgument,SockPS.Commands.TestSocketPortCommand' -ExpectedMessage $Says
        }

        It 'refuses -Count 0 at binding' {
            { Test-SocketPort -ComputerName 127.0.0.1 -Port 9 -Count 0 -ErrorAction Stop } |
                Should -Throw -ErrorId 'ParameterArgumentValidationError,SockPS.Commands.TestSocketPortCommand'
        }

        It 'declares PortTestSummary as an output type' {
            (Get-Command -Name Test-SocketPort).OutputType.Type | Should -Contain ([SockPS.Core.PortTestSummary])
        }
    }
}
