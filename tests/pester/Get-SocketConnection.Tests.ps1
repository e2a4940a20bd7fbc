#Requires -Version 7.4
# Get-SocketConnection: the process-wide registry of connections, and the SocketConnection
# object it returns (properties, Python's socket socket methods, the table view).

BeforeAll {
    Import-Module $env:SOCKPS_MODULE_PATH -Force
    Import-Module "$PSScriptRoot/SockPS.TestHelpers.psm1" -Force
}

Describe 'Get-SocketConnection' {
    BeforeEach {
        # Start from an empty registry whatever an earlier file left behind.
        Get-SocketConnection | Disconnect-Socket
        $pair = New-TestConnectionPair -ClientParameters @{ Name = 'client-one' }
        $client = $pair.Client
        $accepted = $pair.Accepted
    }

    AfterEach {
        Get-SocketConnection | Disconnect-Socket
        Get-SocketServer | Stop-SocketServer
    }

    Context 'listing' {
        It 'lists both ends of a loopback connection, by Id' {
            $all = Get-SocketConnection

            $all.Count | Should -Be 2
            $all.InstanceId | Should -Contain $client.InstanceId
            $all.InstanceId | Should -Contain $accepted.InstanceId
            $all[0].Id | Should -BeLessThan $all[1].Id
            $all | ForEach-Object { $_ | Should -BeOfType ([SockPS.Core.SocketConnection]) }
        }

        It 'returns the live objects: a change is seen through what it returned' {
            $listed = Get-SocketConnection -Id $client.Id

            Send-SocketData -Connection $client -InputObject 'abc'

            $listed.BytesSent | Should -Be 3
        }

        It 'returns a snapshot, so its output can be piped to Disconnect-Socket' {
            $null = New-TestConnectionPair

            Get-SocketConnection | Disconnect-Socket

            Get-SocketConnection | Should -BeNullOrEmpty
        }

        It 'keeps a connection the peer closed, with State Closed and a reason, until it is disconnected' {
            Disconnect-Socket -Connection $client
            Wait-TestCondition -Condition { $accepted.State -eq 'Closed' } -Description 'the accepted end seeing the close'

            $listed = Get-SocketConnection -Id $accepted.Id

            $listed.State | Should -Be 'Closed'
            $listed.CloseReason | Should -Not -BeNullOrEmpty
            Get-SocketConnection -Id $client.Id -ErrorAction SilentlyContinue | Should -BeNullOrEmpty

            Disconnect-Socket -Connection $accepted
            Get-SocketConnection | Should -BeNullOrEmpty
        }
    }

    Context 'filters' {
        It 'finds connections by -Id, several at once' {
            $found = Get-SocketConnection -Id $accepted.Id, $client.Id

            $found.InstanceId | Should -Be @($accepted.InstanceId, $client.InstanceId)
        }

        It 'takes -Id by position and by property name' {
            (Get-SocketConnection $client.Id).InstanceId | Should -Be $client.InstanceId
            ([pscustomobject]@{ Id = $accepted.Id } | Get-SocketConnection).InstanceId | Should -Be $accepted.InstanceId
        }

        It 'finds connections by -Name, with wildcards and ignoring case' {
            $null = New-TestConnectionPair -ClientParameters @{ Name = 'client-two' }

            (Get-SocketConnection -Name 'client-one').InstanceId | Should -Be $client.InstanceId
            (Get-SocketConnection -Name 'CLIENT-*').Name | Should -Be @('client-one', 'client-two')
            (Get-SocketConnection -Name $accepted.Name).InstanceId | Should -Be $accepted.InstanceId
        }

        It 'filters by -State' {
            $other = New-TestConnectionPair
            Disconnect-Socket -Connection $client -Shutdown Send
            Disconnect-Socket -Connection $other.Client
            Wait-TestCondition -Condition { $other.Accepted.State -eq 'Closed' } -Description 'the peer seeing the close'

            (Get-SocketConnection -State SendShutdown).InstanceId | Should -Be @($client.InstanceId)
            (Get-SocketConnection -State Closed).InstanceId | Should -Contain $other.Accepted.InstanceId
            Get-SocketConnection -State Open | ForEach-Object InstanceId | Should -Not -Contain $client.InstanceId
            (Get-SocketConnection -State Open, SendShutdown).InstanceId | Should -Contain $client.InstanceId
        }

        It 'filters by the -Server that accepted them' {
            $other = New-TestConnectionPair

            $fromFirst = Get-SocketConnection -Server $pair.Server

            $fromFirst.InstanceId | Should -Be @($accepted.InstanceId)
            (Get-SocketConnection -Server $other.Server).InstanceId | Should -Be @($other.Accepted.InstanceId)
            (Get-SocketConnection -Server $pair.Server, $other.Server).Count | Should -Be 2
        }
    }

    Context 'errors' {
        It 'writes a non-terminating ConnectionNotFound error for an unknown -Id and outputs the rest' {
            $found = Get-SocketConnection -Id 999999, $client.Id -ErrorAction SilentlyContinue -ErrorVariable failures

            $found.InstanceId | Should -Be $client.InstanceId
            $failures.Count | Should -Be 1
            $failures[0].FullyQualifiedErrorId | Should -BeExactly 'ConnectionNotFound,SockPS.Commands.GetSocketConnectionCommand'
            $failures[0].CategoryInfo.Category | Should -Be 'ObjectNotFound'
            $failures[0].Exception.Message | Should -Match 'No connection with Id 999999'
            $failures[0].Exception.Message | Should -Match 'Get-SocketConnection'
        }

        It 'throws ConnectionNotFound with -ErrorAction Stop for an unknown exact -Name' {
            $err = { Get-SocketConnection -Name 'no-such-connection' -ErrorAction Stop } |
                Should -Throw -ErrorId 'ConnectionNotFound,SockPS.Commands.GetSocketConnectionCommand' -PassThru

            $err.CategoryInfo.Category | Should -Be 'ObjectNotFound'
            $err.Exception.Message | Should -Match "'no-such-connection'"
            $err.TargetObject | Should -Be 'no-such-connection'
        }

        It 'returns nothing and no error for a wildcard that matches nothing' {
            $found = Get-SocketConnection -Name 'nothing-*' -ErrorAction Stop

            $found | Should -BeNullOrEmpty
        }
    }

    Context 'table view' {
        It 'shows Id, Name, Protocol, RemoteEndPoint, State, Sent and Received' {
            Send-SocketData -Connection $client -InputObject 'twelve bytes'

            $table = Get-SocketConnection -Id $client.Id | Out-String -Width 200
            $lines = $table -split "`r?`n" | Where-Object { $_.Trim() }

            $lines[0] | Should -Match '^\s*Id\s+Name\s+Protocol\s+RemoteEndPoint\s+State\s+Sent\s+Received\s*$'
            $row = $lines | Where-Object { $_ -match 'client-one' }
            $row | Should -Match "^\s*$($client.Id)\s+client-one\s+Tcp\s+$([regex]::Escape($client.RemoteEndPoint.ToString()))\s+Open\s+12\s+0\s*$"
        }

        It 'shows the encoding by name, NewLine escaped and the server by name in the list view' {
            $list = $accepted | Format-List | Out-String -Width 200

            $list | Should -Match '(?m)^Encoding\s+: utf-8\s*$'
            $list | Should -Match '(?m)^NewLine\s+: `n\s*$'
            # Plain properties (issue 13), so the list survives serialization: ServerId, ServerName, ServerEndPoint.
            $list | Should -Match "(?m)^ServerId\s+: $($pair.Server.Id)\s*$"
            $list | Should -Match "(?m)^ServerName\s+: $([regex]::Escape($pair.Server.Name))\s*$"
            $list | Should -Match "(?m)^ServerEndPoint\s+: $([regex]::Escape($pair.Server.LocalEndPoint.ToString()))\s*$"
            $list | Should -Match "(?m)^RemoteEndPoint\s+: $([regex]::Escape($accepted.RemoteEndPoint.ToString()))\s*$"
        }
    }
}

Describe 'SocketConnection object' {
    BeforeEach {
        $pair = New-TestConnectionPair
        $client = $pair.Client
        $accepted = $pair.Accepted
    }

    AfterEach {
        Get-SocketConnection | Disconnect-Socket
        Get-SocketServer | Stop-SocketServer
    }

    It 'has the documented properties' {
        $names = $client.PSObject.Properties.Name

        foreach ($property in 'Id', 'InstanceId', 'Name', 'Protocol', 'LocalEndPoint', 'RemoteEndPoint', 'State',
            'BytesSent', 'BytesReceived', 'Available', 'ConnectedAt', 'CloseReason', 'Server', 'Encoding', 'NewLine',
            'ReceiveTimeoutSeconds') {
            $names | Should -Contain $property
        }
    }

    It 'does not expose the raw socket or stream' {
        $raw = $client.PSObject.Properties | Where-Object {
            $_.TypeNameOfValue -in 'System.Net.Sockets.Socket', 'System.Net.Sockets.NetworkStream', 'System.IO.Stream'
        }

        $raw | Should -BeNullOrEmpty
    }

    It 'links an accepted connection to its server' {
        $accepted.Server.InstanceId | Should -Be $pair.Server.InstanceId
        $accepted.LocalEndPoint.Port | Should -Be $pair.Server.Port
        $client.Server | Should -BeNullOrEmpty
    }

    It 'counts bytes both ways and shows what is waiting in Available' {
        Send-SocketData -Connection $client -InputObject 'hello'
        Wait-TestCondition -Condition { $accepted.Available -eq 5 } -Description '5 bytes waiting'

        $accepted.BytesReceived | Should -Be 5
        $null = Receive-SocketData -Connection $accepted -ByteCount 2
        $accepted.Available | Should -Be 3
        $accepted.BytesReceived | Should -Be 5
        $client.BytesSent | Should -Be 5
    }

    It 'gives increasing Ids that are never reused' {
        $before = $client.Id
        Disconnect-Socket -Connection $client, $accepted

        $next = New-TestConnectionPair

        $next.Client.Id | Should -BeGreaterThan $before
        $next.Accepted.Id | Should -BeGreaterThan $before
        $next.Client.Id | Should -Not -Be $next.Accepted.Id
        $next.Client.InstanceId | Should -Not -Be $client.InstanceId
    }

    Context 'the Python socket tutorial''s socket methods' {
        It 'Send(string), SendLine and ReceiveLine' {
            $client.Send('part ')
            $client.SendLine('one')

            $accepted.ReceiveLine() | Should -BeExactly 'part one'
        }

        It 'Send(byte[]) and Receive(n)' {
            $client.Send([byte[]](9, 8, 7, 6))

            [System.Convert]::ToHexString($accepted.Receive(3)) | Should -Be '090807'
            [System.Convert]::ToHexString($accepted.Receive(1)) | Should -Be '06'
        }

        It 'ReceiveAvailable and ReceiveAvailableBytes' {
            $client.Send('text')
            $accepted.ReceiveAvailable() | Should -BeExactly 'text'

            $client.Send([byte[]](0xFF))
            [System.Convert]::ToHexString($accepted.ReceiveAvailableBytes()) | Should -Be 'FF'
        }

        It 'returns $null at end of stream' {
            $client.ShutdownSend()
            $client.State | Should -Be 'SendShutdown'

            $accepted.ReceiveLine() | Should -BeNullOrEmpty
            $accepted.ReceiveAvailable() | Should -BeNullOrEmpty
            $accepted.Receive(1) | Should -BeNullOrEmpty
            # Half-closed: the other direction still works.
            $accepted.SendLine('back')
            $client.ReceiveLine() | Should -BeExactly 'back'
        }

        It 'throws a ReceiveTimeout SocketOperationException after ReceiveTimeoutSeconds, and stays usable' {
            $accepted.ReceiveTimeoutSeconds = 0.2

            $err = { $accepted.ReceiveLine() } | Should -Throw -PassThru

            $err.Exception.InnerException | Should -BeOfType ([SockPS.Core.SocketOperationException])
            $err.Exception.InnerException.Kind | Should -Be 'ReceiveTimeout'
            $client.SendLine('later')
            $accepted.ReceiveLine() | Should -BeExactly 'later'
        }

        It 'rejects a negative ReceiveTimeoutSeconds' {
            { $accepted.ReceiveTimeoutSeconds = -1 } | Should -Throw
            $accepted.ReceiveTimeoutSeconds | Should -Be 30
        }

        It 'Close() disconnects and removes it' {
            $client.Close()

            $client.State | Should -Be 'Disconnected'
            Get-SocketConnection | ForEach-Object InstanceId | Should -Not -Contain $client.InstanceId
            $accepted.ReceiveAvailable() | Should -BeNullOrEmpty
        }

        It 'changing Encoding changes how text is sent and received' {
            $client.Encoding = [System.Text.Encoding]::Unicode
            $accepted.Encoding = [System.Text.Encoding]::Unicode

            $client.SendLine('ü')

            $accepted.ReceiveLine() | Should -BeExactly 'ü'
            $client.BytesSent | Should -Be 4
        }
    }
}

Describe 'Get-SocketConnection: UDP and Unix domain sockets' {
    BeforeEach {
        Get-SocketConnection | Disconnect-Socket
        Get-SocketServer | Stop-SocketServer
    }

    AfterEach {
        Get-SocketConnection | Disconnect-Socket
        Get-SocketServer | Stop-SocketServer
    }

    Context 'listing' {
        It 'lists a UDP server''s socket, with no remote end, and finds it with -Server' {
            $server = Start-SocketServer -Protocol Udp
            $tcp = New-TestConnectionPair

            $listed = @(Get-SocketConnection -Server $server)

            $listed.Count | Should -Be 1
            $listed[0].InstanceId | Should -Be $server.DatagramSocket.InstanceId
            $listed[0].RemoteEndPoint | Should -BeNullOrEmpty
            $listed[0].LocalEndPoint | Should -Be $server.LocalEndPoint
            (Get-SocketConnection -Server $tcp.Server).InstanceId | Should -Be @($tcp.Accepted.InstanceId)
            Get-SocketConnection | ForEach-Object InstanceId | Should -Contain $server.DatagramSocket.InstanceId
        }

        It 'lists a UDP client and both ends of a Unix connection' {
            $udp = Start-SocketServer -Protocol Udp
            $client = Connect-Socket -Protocol Udp -ComputerName 127.0.0.1 -Port $udp.Port -Name 'udp-client'
            $unix = Start-SocketServer -Path (Join-Path -Path $TestDrive -ChildPath 'listed.sock')
            $unixClient = Connect-Socket -Path $unix.Path -Name 'unix-client'
            $unixAccepted = Wait-SocketConnection -Server $unix -TimeoutSeconds 20

            $all = Get-SocketConnection

            $all.Count | Should -Be 4
            $all | ForEach-Object Transport | Sort-Object | Should -Be @('Udp', 'Udp', 'Unix', 'Unix')
            (Get-SocketConnection -Name 'udp-client').InstanceId | Should -Be $client.InstanceId
            (Get-SocketConnection -Name 'unix-client').InstanceId | Should -Be $unixClient.InstanceId
            (Get-SocketConnection -Server $unix).InstanceId | Should -Be @($unixAccepted.InstanceId)
            (Get-SocketConnection -State Open).Count | Should -Be 4
        }
    }

    Context 'table view' {
        It 'shows a UDP server''s socket as Udp with remote end (any)' {
            $server = Start-SocketServer -Protocol Udp
            $socket = $server.DatagramSocket

            $table = Get-SocketConnection -Id $socket.Id | Out-String -Width 200
            $row = $table -split "`r?`n" | Where-Object { $_ -match "^\s*$($socket.Id)\s" }

            # The Name column is narrow: ConnectionNN may be cut short with an ellipsis.
            $row | Should -Match "^\s*$($socket.Id)\s+\S+\s+Udp\s+\(any\)\s+Open\s+0\s+0\s*$"
        }

        It 'shows a UDP client''s peer and the datagram bytes sent' {
            $server = Start-SocketServer -Protocol Udp
            $client = Connect-Socket -Protocol Udp -ComputerName 127.0.0.1 -Port $server.Port -Name 'udp-row'
            Send-SocketData -Connection $client -InputObject 'seven b'

            $table = Get-SocketConnection -Id $client.Id | Out-String -Width 200
            $row = $table -split "`r?`n" | Where-Object { $_ -match 'udp-row' }

            $row | Should -Match "^\s*$($client.Id)\s+udp-row\s+Udp\s+$([regex]::Escape($server.LocalEndPoint.ToString()))\s+Open\s+7\s+0\s*$"
        }

        It 'shows Unix connections as Unix, the client''s peer as the path and the accepted end''s as (unnamed)' {
            $server = Start-SocketServer -Path (Join-Path -Path $TestDrive -ChildPath 'table.sock')
            $client = Connect-Socket -Path $server.Path -Name 'unix-row'
            $accepted = Wait-SocketConnection -Server $server -TimeoutSeconds 20

            $table = Get-SocketConnection | Out-String -Width 200
            $clientRow = $table -split "`r?`n" | Where-Object { $_ -match 'unix-row' }
            $acceptedRow = $table -split "`r?`n" | Where-Object { $_ -match "^\s*$($accepted.Id)\s" }

            # A long path is cut short with an ellipsis in the fixed-width column.
            $clientRow | Should -Match "^\s*$($client.Id)\s+unix-row\s+Unix\s+$([regex]::Escape($server.Path.Substring(0, 10)))\S*\s+Open\s+0\s+0\s*$"
            $acceptedRow | Should -Match '\s+Unix\s+\(unnamed\)\s+Open\s'
        }
    }

    Context 'the datagram side of SocketConnection' {
        It 'has the properties <Names>' -TestCases @(
            @{ Names = 'Protocol, Transport, AddressFamily, IsDatagram' }
            @{ Names = 'DroppedCount, DatagramsReceived, DatagramsSent, Broadcast' }
        ) {
            $server = Start-SocketServer -Protocol Udp
            $pair = New-TestConnectionPair

            foreach ($connection in $server.DatagramSocket, $pair.Client) {
                $properties = $connection.PSObject.Properties.Name
                foreach ($name in $Names -split ', ') {
                    $properties | Should -Contain $name
                }
            }
            $pair.Client.IsDatagram | Should -BeFalse
            $pair.Client.Transport | Should -Be 'Tcp'
        }

        It 'SendTo(text, "host:port") and SendTo(bytes, ...) send one datagram each, ReceiveFrom() returns it' {
            $a = Start-SocketServer -Protocol Udp
            $b = Start-SocketServer -Protocol Udp
            $socketA = $a.DatagramSocket
            $socketB = $b.DatagramSocket

            $socketA.SendTo('as text', "127.0.0.1:$($b.Port)")
            $socketA.SendTo([byte[]](65, 66), "localhost:$($b.Port)")
            $socketA.SendTo([byte[]](67), [System.Net.IPEndPoint]$b.LocalEndPoint)

            $first = $socketB.ReceiveFrom()
            $first | Should -BeOfType ([SockPS.Core.SocketDatagram])
            $first.Text | Should -BeExactly 'as text'
            $first.RemoteEndPoint | Should -Be $a.LocalEndPoint
            $socketB.ReceiveFrom().Text | Should -BeExactly 'AB'
            $socketB.ReceiveFrom().Text | Should -BeExactly 'C'
            $socketA.DatagramsSent | Should -Be 3
        }

        It 'Send() on a connected UDP socket, and a reply through the datagram''s Connection' {
            $server = Start-SocketServer -Protocol Udp
            $client = Connect-Socket -Protocol Udp -ComputerName 127.0.0.1 -Port $server.Port

            $client.Send('ping')
            $ping = $server.DatagramSocket.ReceiveFrom()
            $ping.Connection.SendTo('pong', $ping.RemoteEndPoint.ToString())

            $client.ReceiveFrom().Text | Should -BeExactly 'pong'
        }

        It 'throws SocketOperationException <Kind> from <Call>' -TestCases @(
            @{ Call = 'Send() without a peer'; Kind = 'InvalidArgument'; Script = { param($Udp, $Tcp) $Udp.Send('where to?') } }
            @{ Call = 'ReceiveFrom() on a stream'; Kind = 'InvalidArgument'; Script = { param($Udp, $Tcp) $Tcp.ReceiveFrom() } }
            @{ Call = 'SendTo() on a stream'; Kind = 'InvalidArgument'; Script = { param($Udp, $Tcp) $Tcp.SendTo('x', '127.0.0.1:9') } }
            @{ Call = 'ReceiveFrom() with nothing sent'; Kind = 'ReceiveTimeout'; Script = { param($Udp, $Tcp) $Udp.ReceiveTimeoutSeconds = 0.2; $Udp.ReceiveFrom() } }
            @{ Call = 'SendTo() of 65508 bytes'; Kind = 'DatagramTooLarge'; Script = { param($Udp, $Tcp) $Udp.SendTo([byte[]]::new(65508), '127.0.0.1:9') } }
        ) {
            $udp = (Start-SocketServer -Protocol Udp).DatagramSocket
            $tcp = (New-TestConnectionPair).Client

            $err = { & $Script $udp $tcp } | Should -Throw -PassThru

            $err.Exception.InnerException | Should -BeOfType ([SockPS.Core.SocketOperationException])
            $err.Exception.InnerException.Kind | Should -Be $Kind
            $udp.State | Should -Be 'Open'
        }
    }
}
