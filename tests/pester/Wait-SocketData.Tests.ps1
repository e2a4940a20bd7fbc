#Requires -Version 7.4
# Wait-SocketData: waiting on many connections at once. Without -Pattern it is select(): it
# returns the connections that have data to read or were closed, reading nothing, and nothing on
# timeout. With -Pattern it is expect: it waits for the buffered text to match, consumes through
# the match and leaves the rest.

BeforeAll {
    Import-Module $env:SOCKPS_MODULE_PATH -Force
    Import-Module "$PSScriptRoot/SockPS.TestHelpers.psm1" -Force
    Import-Module "$PSScriptRoot/SockPS.TlsTestHelpers.psm1" -Force

    # Three clients of one server, and their accepted ends, in the same order.
    function New-TestConnectionSet {
        $server = Start-SocketServer
        $clients = foreach ($index in 1..3) {
            Connect-Socket -ComputerName 127.0.0.1 -Port $server.Port -Name "select-client-$index"
        }
        $accepted = foreach ($client in $clients) {
            $connection = Wait-SocketConnection -Server $server -TimeoutSeconds 20
            $connection.RemoteEndPoint | Should -Be $client.LocalEndPoint
            $connection
        }
        [pscustomobject]@{ Server = $server; Clients = $clients; Accepted = $accepted }
    }
}

Describe 'Wait-SocketData' {
    AfterEach {
        Get-SocketConnection | Disconnect-Socket
        Get-SocketServer | Stop-SocketServer
    }

    Context 'select: which connections are readable' {
        It 'returns nothing when no connection is readable within -TimeoutSeconds, as select does' {
            $set = New-TestConnectionSet

            $ready = Wait-SocketData -Connection $set.Accepted -Any -TimeoutSeconds 0.3

            $ready | Should -BeNullOrEmpty
            $set.Accepted | ForEach-Object State | Should -Be @('Open', 'Open', 'Open')
        }

        It 'returns exactly the connection that has data, and reads nothing' {
            $set = New-TestConnectionSet
            Send-SocketData -Connection $set.Clients[1] -InputObject 'second' -Line

            $ready = @(Wait-SocketData -Connection $set.Accepted -Any -TimeoutSeconds 20)

            $ready.Count | Should -Be 1
            $ready[0].InstanceId | Should -Be $set.Accepted[1].InstanceId
            Receive-SocketData -Connection $set.Accepted[1] -Line -TimeoutSeconds 20 | Should -BeExactly 'second'
        }

        It 'returns every connection that is readable at that moment, in the order given' {
            $set = New-TestConnectionSet
            Send-SocketData -Connection $set.Clients[2] -InputObject 'third' -Line
            Send-SocketData -Connection $set.Clients[0] -InputObject 'first' -Line
            Wait-TestCondition -Condition { $set.Accepted[0].Available -gt 0 -and $set.Accepted[2].Available -gt 0 } -Description 'both lines buffered'

            $ready = @(Wait-SocketData -Connection $set.Accepted -Any -TimeoutSeconds 20)

            $ready.InstanceId | Should -Be @($set.Accepted[0].InstanceId, $set.Accepted[2].InstanceId)
        }

        It 'counts a connection the peer closed as readable' {
            $set = New-TestConnectionSet
            Disconnect-Socket -Connection $set.Clients[2]

            $ready = @(Wait-SocketData -Connection $set.Accepted -Any -TimeoutSeconds 20)

            $ready.Count | Should -Be 1
            $ready[0].InstanceId | Should -Be $set.Accepted[2].InstanceId
            Receive-SocketData -Connection $set.Accepted[2] -ToEnd -TimeoutSeconds 20 | Should -BeNullOrEmpty
        }

        It 'wakes up for data that arrives while it waits' {
            $set = New-TestConnectionSet
            $side = Start-TestSideCommand -ArgumentList (, $set.Accepted) -ScriptBlock {
                param($Accepted)
                'waiting'
                Wait-SocketData -Connection $Accepted -Any -TimeoutSeconds 20
            }
            try {
                Wait-TestCondition -Condition { $side.Output.Count -ge 1 } -Description 'the wait starting'
                Send-SocketData -Connection $set.Clients[1] -InputObject 'late' -Line

                $result = Wait-TestSideCommand -Side $side
            }
            finally {
                Stop-TestSideCommand -Side $side
            }

            $result.Errors | Should -BeNullOrEmpty
            $result.Output.Count | Should -Be 2
            $result.Output[1].InstanceId | Should -Be $set.Accepted[1].InstanceId
        }

        It 'without -Any, waits until every connection is readable' {
            $set = New-TestConnectionSet
            Send-SocketData -Connection $set.Clients[0] -InputObject 'first' -Line

            Wait-SocketData -Connection $set.Accepted -TimeoutSeconds 0.3 | Should -BeNullOrEmpty -Because 'two of the three have nothing'
            Send-SocketData -Connection $set.Clients[1] -InputObject 'second' -Line
            Disconnect-Socket -Connection $set.Clients[2]
            $ready = @(Wait-SocketData -Connection $set.Accepted -TimeoutSeconds 20)

            $ready.InstanceId | Should -Be @($set.Accepted.InstanceId)
        }

        It 'takes connections from the pipeline, by -Id and by -Name' {
            $set = New-TestConnectionSet
            Send-SocketData -Connection $set.Clients[0] -InputObject 'first' -Line

            ($set.Accepted | Wait-SocketData -Any -TimeoutSeconds 20).InstanceId | Should -Be $set.Accepted[0].InstanceId
            (Wait-SocketData -Id $set.Accepted.Id -Any -TimeoutSeconds 20).InstanceId | Should -Be $set.Accepted[0].InstanceId
            Send-SocketData -Connection $set.Accepted[2] -InputObject 'to the client' -Line
            (Wait-SocketData -Name 'select-client-*' -Any -TimeoutSeconds 20).InstanceId | Should -Be $set.Clients[2].InstanceId
        }

        It 'works on a UDP socket: readable when a datagram is queued' {
            $server = Start-SocketServer -Protocol Udp
            $client = Connect-Socket -ComputerName 127.0.0.1 -Port $server.Port -Protocol Udp

            Wait-SocketData -Connection $client -Any -TimeoutSeconds 0.3 | Should -BeNullOrEmpty
            Send-SocketData -Connection $client -InputObject 'ping'
            $datagram = Receive-SocketData -Connection $server -TimeoutSeconds 20
            $datagram | Send-SocketData -InputObject 'pong'
            $ready = @(Wait-SocketData -Connection $client -Any -TimeoutSeconds 20)

            $ready.Count | Should -Be 1
            (Receive-SocketData -Connection $client -TimeoutSeconds 20).Text | Should -BeExactly 'pong'
        }

        It 'counts an empty datagram as readable, as select does' {
            $server = Start-SocketServer -Protocol Udp
            $client = Connect-Socket -ComputerName 127.0.0.1 -Port $server.Port -Protocol Udp

            Send-SocketData -Connection $client -InputObject ([byte[]]@())
            $ready = @(Wait-SocketData -Connection $server -Any -TimeoutSeconds 20)

            $ready.Count | Should -Be 1
            $datagram = Receive-SocketData -Connection $server -TimeoutSeconds 20
            $datagram.Length | Should -Be 0
        }

        It 'writes a non-terminating ConnectionNotFound error for an unknown -Id' {
            $err = { Wait-SocketData -Id 999999 -Any -TimeoutSeconds 1 -ErrorAction Stop } |
                Should -Throw -ErrorId 'ConnectionNotFound,SockPS.Commands.WaitSocketDataCommand' -PassThru

            $err.CategoryInfo.Category | Should -Be 'ObjectNotFound'
        }

        It 'rejects a negative -TimeoutSeconds' {
            $pair = New-TestConnectionPair

            { Wait-SocketData -Connection $pair.Accepted -TimeoutSeconds -1 } |
                Should -Throw -ErrorId 'ParameterArgumentValidationError,SockPS.Commands.WaitSocketDataCommand'
        }
    }

    Context 'expect: -Pattern' {
        It 'waits for the text to match, consumes through the match and leaves the rest' {
            $pair = New-TestConnectionPair
            Send-SocketData -Connection $pair.Client -InputObject "220 mail.example ESMTP ready`r`n250 next line`r`n"

            $match = Wait-SocketData -Connection $pair.Accepted -Pattern '^(\d{3}) (\S+)' -TimeoutSeconds 20

            $match | Should -BeOfType ([SockPS.Core.SocketPatternMatch])
            $match.Value | Should -BeExactly '220 mail.example'
            $match.Text | Should -BeExactly '220 mail.example'
            $match.Groups[1].Value | Should -BeExactly '220'
            $match.Groups[2].Value | Should -BeExactly 'mail.example'
            $match.Match.Groups[1].Value | Should -BeExactly '220'
            $match.Connection.InstanceId | Should -Be $pair.Accepted.InstanceId
            "$match" | Should -BeExactly '220 mail.example'
            Receive-SocketData -Connection $pair.Accepted -Line -TimeoutSeconds 20 | Should -BeExactly ' ESMTP ready'
            Receive-SocketData -Connection $pair.Accepted -Line -TimeoutSeconds 20 | Should -BeExactly '250 next line'
        }

        It 'shows a match as a table row: the connection, the value and the text' {
            $pair = New-TestConnectionPair -ClientParameters @{ Name = 'expecting' }
            Send-SocketData -Connection $pair.Accepted -InputObject "banner`r`nlogin: "

            $match = Wait-SocketData -Connection $pair.Client -Pattern 'login: ' -TimeoutSeconds 20
            $table = $match | Out-String -Width 200
            $lines = $table -split "`r?`n" | Where-Object { $_.Trim() }

            $lines[0] | Should -Match '^\s*Id\s+Connection\s+Value\s+Text\s*$'
            $lines[-1] | Should -Match "^\s*$($pair.Client.Id)\s+expecting\s+login:\s+banner\\r\\nlogin:\s*$" -Because 'the Text column shows CR and LF as \r and \n, as the transcript table does'
        }

        It 'returns the text before the match in Text, consumed with it' {
            $pair = New-TestConnectionPair
            Send-SocketData -Connection $pair.Client -InputObject "Welcome to the router`nlogin: rest"

            $match = Wait-SocketData -Connection $pair.Accepted -Pattern 'login: ' -TimeoutSeconds 20

            $match.Value | Should -BeExactly 'login: '
            $match.Text | Should -BeExactly "Welcome to the router`nlogin: "
            $match.Match.Index | Should -Be 22
            Receive-SocketData -Connection $pair.Accepted -TimeoutSeconds 20 | Should -BeExactly 'rest'
        }

        It 'waits for text that arrives in pieces, across the match' {
            $pair = New-TestConnectionPair
            $side = Start-TestSideCommand -ArgumentList $pair.Accepted -ScriptBlock {
                param($Accepted)
                'waiting'
                Wait-SocketData -Connection $Accepted -Pattern 'Password: ' -TimeoutSeconds 20
            }
            try {
                Wait-TestCondition -Condition { $side.Output.Count -ge 1 } -Description 'the wait starting'
                Send-SocketData -Connection $pair.Client -InputObject 'Pass'
                Wait-TestCondition -Condition { $pair.Accepted.BytesReceived -eq 4 } -Description 'the first piece arriving'
                Send-SocketData -Connection $pair.Client -InputObject 'word: and more'

                $result = Wait-TestSideCommand -Side $side
            }
            finally {
                Stop-TestSideCommand -Side $side
            }

            $result.Errors | Should -BeNullOrEmpty
            $result.Output.Count | Should -Be 2
            $result.Output[1].Value | Should -BeExactly 'Password: '
            Receive-SocketData -Connection $pair.Accepted -TimeoutSeconds 20 | Should -BeExactly 'and more'
        }

        It 'matches text in the connection''s encoding' {
            $pair = New-TestConnectionPair
            Send-SocketData -Connection $pair.Client -InputObject 'prix: 12€, ensuite'

            $match = Wait-SocketData -Connection $pair.Accepted -Pattern '\d+€' -TimeoutSeconds 20

            $match.Value | Should -BeExactly '12€'
            Receive-SocketData -Connection $pair.Accepted -TimeoutSeconds 20 | Should -BeExactly ', ensuite'
        }

        It 'writes a ReceiveTimeout error when nothing matches in time, and consumes nothing' {
            $pair = New-TestConnectionPair
            Send-SocketData -Connection $pair.Client -InputObject 'no prompt here'
            Wait-TestCondition -Condition { $pair.Accepted.Available -eq 14 } -Description 'the text buffered'

            $err = { Wait-SocketData -Connection $pair.Accepted -Pattern 'login: ' -TimeoutSeconds 0.3 -ErrorAction Stop } |
                Should -Throw -ErrorId 'ReceiveTimeout,SockPS.Commands.WaitSocketDataCommand' -PassThru

            $err.CategoryInfo.Category | Should -Be 'OperationTimeout'
            $err.Exception.Message | Should -Match 'Nothing was consumed'
            $err.TargetObject.InstanceId | Should -Be $pair.Accepted.InstanceId
            $pair.Accepted.State | Should -Be 'Open'
            $pair.Accepted.Available | Should -Be 14
            # Everything is still there for the next receive, without new data arriving.
            Receive-SocketData -Connection $pair.Accepted -TimeoutSeconds 2 | Should -BeExactly 'no prompt here'
        }

        It 'matches after a timeout when more text arrives' {
            $pair = New-TestConnectionPair
            Send-SocketData -Connection $pair.Client -InputObject 'log'

            { Wait-SocketData -Connection $pair.Accepted -Pattern 'login: ' -TimeoutSeconds 0.3 -ErrorAction Stop } |
                Should -Throw -ErrorId 'ReceiveTimeout,SockPS.Commands.WaitSocketDataCommand'
            Send-SocketData -Connection $pair.Client -InputObject 'in: '
            $match = Wait-SocketData -Connection $pair.Accepted -Pattern 'login: ' -TimeoutSeconds 20

            $match.Text | Should -BeExactly 'login: '
        }

        It 'returns nothing when the peer closes before the text matches, leaving the text' {
            $pair = New-TestConnectionPair
            Send-SocketData -Connection $pair.Client -InputObject 'goodbye'
            Disconnect-Socket -Connection $pair.Client

            $match = Wait-SocketData -Connection $pair.Accepted -Pattern 'login: ' -TimeoutSeconds 20

            $match | Should -BeNullOrEmpty
            Receive-SocketData -Connection $pair.Accepted -ToEnd -TimeoutSeconds 20 | Should -BeExactly 'goodbye'
        }

        It 'with -Any, returns the first match on any connection and leaves the others untouched' {
            $set = New-TestConnectionSet
            Send-SocketData -Connection $set.Clients[0] -InputObject 'nothing yet'
            Send-SocketData -Connection $set.Clients[2] -InputObject 'user@host$ tail'

            $match = @(Wait-SocketData -Connection $set.Accepted -Any -Pattern '\$ ' -TimeoutSeconds 20)

            $match.Count | Should -Be 1
            $match[0].Connection.InstanceId | Should -Be $set.Accepted[2].InstanceId
            $match[0].Text | Should -BeExactly 'user@host$ '
            Receive-SocketData -Connection $set.Accepted[2] -TimeoutSeconds 20 | Should -BeExactly 'tail'
            Receive-SocketData -Connection $set.Accepted[0] -TimeoutSeconds 2 | Should -BeExactly 'nothing yet'
        }

        It 'writes InvalidArgument for a -Pattern that is not a regular expression' {
            $pair = New-TestConnectionPair

            $err = { Wait-SocketData -Connection $pair.Accepted -Pattern '(unclosed' -TimeoutSeconds 1 } |
                Should -Throw -ErrorId 'InvalidArgument,SockPS.Commands.WaitSocketDataCommand' -PassThru

            $err.CategoryInfo.Category | Should -Be 'InvalidArgument'
            $err.Exception.Message | Should -Match 'not a valid regular expression'
        }

        It 'writes InvalidArgument for a UDP socket' {
            $server = Start-SocketServer -Protocol Udp
            $client = Connect-Socket -ComputerName 127.0.0.1 -Port $server.Port -Protocol Udp

            { Wait-SocketData -Connection $client -Pattern 'x' -TimeoutSeconds 1 -ErrorAction Stop } |
                Should -Throw -ErrorId 'InvalidArgument,SockPS.Commands.WaitSocketDataCommand'
        }
    }
}
