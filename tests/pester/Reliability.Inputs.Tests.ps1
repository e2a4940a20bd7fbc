#Requires -Version 7.4
# Issue 10, items 4 and 7: objects in, no surprises out (structured objects are sent as PowerShell
# displays them, never as an empty string or a type name; -AsJson carries objects between two
# PowerShell sessions), and input that is almost right is refused with a message saying what is
# wrong instead of being quietly "fixed" or answered with the runtime's words.

BeforeAll {
    Import-Module $env:SOCKPS_MODULE_PATH -Force
    Import-Module "$PSScriptRoot/SockPS.TestHelpers.psm1" -Force
}

Describe 'Reliability of inputs' {
    AfterEach {
        Get-SocketConnection | Disconnect-Socket
        Get-SocketServer | Stop-SocketServer
        Stop-TestProcess -All
    }

    Context 'objects sent as text' {
        BeforeEach {
            $pair = New-TestConnectionPair
        }

        It 'a PSCustomObject (what ConvertFrom-Json and Import-Csv make) is sent as PowerShell shows it, not as nothing' {
            '{"Name":"web01","Port":8443}' | ConvertFrom-Json | Send-SocketData -Connection $pair.Client -Line
            $text = Receive-SocketData -Connection $pair.Accepted -TimeoutSeconds 10
            $text | Should -Match 'Name\s+Port'
            $text | Should -Match 'web01\s+8443'
        }

        It 'rows from Import-Csv each arrive with their values' {
            $csv = Join-Path -Path $TestDrive -ChildPath 'hosts.csv'
            Set-Content -LiteralPath $csv -Value "Host,Role`nalpha,db`nbeta,web"
            Import-Csv -LiteralPath $csv | Send-SocketData -Connection $pair.Client -Line
            Disconnect-Socket -Connection $pair.Client -Shutdown Send
            $text = Receive-SocketData -Connection $pair.Accepted -ToEnd -TimeoutSeconds 10
            $text | Should -Match 'alpha\s+db'
            $text | Should -Match 'beta\s+web'
        }

        It 'a hashtable is sent as its keys and values, not as System.Collections.Hashtable' {
            @{ colour = 'green' } | Send-SocketData -Connection $pair.Client -Line
            $text = Receive-SocketData -Connection $pair.Accepted -TimeoutSeconds 10
            $text | Should -Not -Match 'System\.Collections\.Hashtable'
            $text | Should -Match 'colour\s+green'
        }

        It 'values with a text form of their own are sent as that text' {
            Send-SocketData -Connection $pair.Client -Line -InputObject 42
            Send-SocketData -Connection $pair.Client -Line -InputObject ([ipaddress]'192.0.2.7')
            Send-SocketData -Connection $pair.Client -Line -InputObject ([version]'1.2.3')
            Receive-SocketData -Connection $pair.Accepted -Line | Should -Be '42'
            Receive-SocketData -Connection $pair.Accepted -Line | Should -Be '192.0.2.7'
            Receive-SocketData -Connection $pair.Accepted -Line | Should -Be '1.2.3'
        }
    }

    Context '-AsJson' {
        It 'carries nested objects and Unicode from one pwsh process to another, one line each' {
            $server = Start-SocketServer
            $sender = Start-TestPwsh -Command @"
Import-Module '$env:SOCKPS_MODULE_PATH'
`$c = Connect-Socket -ComputerName 127.0.0.1 -Port $($server.Port)
[pscustomobject]@{ Name = 'Zoë 🚀'; Tags = @('a', 'b'); Inner = [pscustomobject]@{ Depth = 2; Deeper = @{ Key = 'värde' } } },
    [pscustomobject]@{ Name = 'second'; Number = 3.5; When = [datetime]'2026-12-02T10:00:00Z' } |
    Send-SocketData -Connection `$c -AsJson
Disconnect-Socket -Connection `$c
'sent'
"@
            $peer = Wait-SocketConnection -Server $server -TimeoutSeconds 30
            $objects = @(Receive-SocketData -Connection $peer -AsJson -Continuous -TimeoutSeconds 30)
            $null = Wait-TestProcessLine -Process $sender -Pattern '^sent'

            $objects.Count | Should -Be 2
            $objects[0].Name | Should -Be 'Zoë 🚀'
            $objects[0].Tags | Should -Be @('a', 'b')
            $objects[0].Inner.Depth | Should -Be 2
            $objects[0].Inner.Deeper.Key | Should -Be 'värde'
            $objects[1].Number | Should -Be 3.5
            $objects[1].When | Should -BeOfType ([datetime])
            $objects[1].When.ToUniversalTime() | Should -Be ([datetime]::new(2026, 12, 2, 10, 0, 0, [DateTimeKind]::Utc))
        }

        It 'sends exactly one compact JSON line per object' {
            $pair = New-TestConnectionPair
            Send-SocketData -Connection $pair.Client -AsJson -InputObject @([pscustomobject]@{ a = 1 }, [pscustomobject]@{ a = 2 })
            Disconnect-Socket -Connection $pair.Client -Shutdown Send
            Receive-SocketData -Connection $pair.Accepted -ToEnd -TimeoutSeconds 10 | Should -Be "{`"a`":1}`n{`"a`":2}`n"
        }

        It 'stops cleanly under Select-Object -First and leaves the rest buffered' {
            $pair = New-TestConnectionPair
            1..3 | ForEach-Object { [pscustomobject]@{ n = $_ } } | Send-SocketData -Connection $pair.Client -AsJson
            $first = @(Receive-SocketData -Connection $pair.Accepted -AsJson -Continuous -ErrorVariable bad | Select-Object -First 2)
            $first.n | Should -Be @(1, 2)
            $bad | Should -BeNullOrEmpty
            (Receive-SocketData -Connection $pair.Accepted -AsJson).n | Should -Be 3
        }

        It 'a line that is not JSON is a non-terminating InvalidJson error, and the next object still arrives' {
            $pair = New-TestConnectionPair
            Send-SocketData -Connection $pair.Client -Line -InputObject 'not json'
            Send-SocketData -Connection $pair.Client -AsJson -InputObject ([pscustomobject]@{ ok = $true })
            Disconnect-Socket -Connection $pair.Client -Shutdown Send
            $objects = @(Receive-SocketData -Connection $pair.Accepted -AsJson -Continuous -ErrorVariable bad -ErrorAction SilentlyContinue)
            $objects.Count | Should -Be 1
            $objects[0].ok | Should -BeTrue
            $bad.Count | Should -Be 1
            $bad[0].FullyQualifiedErrorId | Should -Be 'InvalidJson,SockPS.Commands.ReceiveSocketDataCommand'
            $bad[0].CategoryInfo.Category | Should -Be 'InvalidData'
        }

        It 'over UDP each object is one datagram' {
            $server = Start-SocketServer -Protocol Udp
            $client = Connect-Socket -ComputerName 127.0.0.1 -Port $server.Port -Protocol Udp
            Send-SocketData -Connection $client -AsJson -InputObject ([pscustomobject]@{ n = 1 }), ([pscustomobject]@{ n = 2 })
            $datagram = Receive-SocketData -Connection $server.DatagramSocket -TimeoutSeconds 10
            $datagram.Text | Should -Be '{"n":1}'
            (Receive-SocketData -Connection $server.DatagramSocket -AsJson -TimeoutSeconds 10).n | Should -Be 2
        }

        It 'refuses combinations that cannot mean anything' {
            $pair = New-TestConnectionPair
            { Receive-SocketData -Connection $pair.Accepted -AsJson -ToEnd } |
                Should -Throw -ErrorId 'InvalidArgument,SockPS.Commands.ReceiveSocketDataCommand'
            { Send-SocketData -Connection $pair.Client -AsJson -Path $PSCommandPath } |
                Should -Throw -ErrorId 'InvalidArgument,SockPS.Commands.SendSocketDataCommand'
        }
    }

    Context 'input that is almost right' {
        It 'a host with a bracket on one side only is refused, not trimmed into ::1' {
            $server = Start-SocketServer -Address ::1
            foreach ($name in '[::1', '::1]') {
                Connect-Socket -ComputerName $name -Port $server.Port -ErrorVariable refused -ErrorAction SilentlyContinue |
                    Should -BeNullOrEmpty
                $refused[0].FullyQualifiedErrorId | Should -Be 'InvalidArgument,SockPS.Commands.ConnectSocketCommand'
                "$($refused[0])" | Should -BeLike '*bracket on one side only*'
            }
            $server.AcceptedCount | Should -Be 0
            (Connect-Socket -ComputerName '[::1]' -Port $server.Port).RemoteEndPoint.Address | Should -Be ([ipaddress]::IPv6Loopback)
        }

        It '-TimeoutSeconds <Value> says it is not a number of seconds, not that it is no Int32' -TestCases @(
            @{ Value = [double]::NaN }, @{ Value = [double]::PositiveInfinity }, @{ Value = -1 }
        ) {
            $thrown = { Receive-SocketData -Id 1 -TimeoutSeconds $Value } | Should -Throw -PassThru
            $thrown.FullyQualifiedErrorId | Should -Be 'ParameterArgumentValidationError,SockPS.Commands.ReceiveSocketDataCommand'
            "$thrown" | Should -BeLike '*is not a number of seconds*'
            "$thrown" | Should -Not -BeLike '*Int32*'
        }

        It 'a Unix socket path over 108 bytes says how long it is, without the runtime''s parameter text' {
            $path = '/tmp/' + ('p' * 120) + '.sock'
            # About this target only: non-terminating, so a list of targets goes on.
            Connect-Socket -Path $path -ErrorVariable refused -ErrorAction SilentlyContinue
            $refused = $refused[0]
            $refused.FullyQualifiedErrorId | Should -Be 'InvalidArgument,SockPS.Commands.ConnectSocketCommand'
            "$refused" | Should -BeLike '*is 130 bytes long*at most 108*'
            "$refused" | Should -Not -BeLike "*(Parameter 'path')*"
            "$refused" | Should -Not -BeLike '*Actual value was*'
        }
    }
}
