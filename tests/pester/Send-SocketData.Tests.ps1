#Requires -Version 7.4
# Send-SocketData: Python's socket send. What the cmdlet sends is read back byte for byte on the
# accepted end of a loopback pair, with -ByteCount (exact) or -Line (framed), never "whatever has
# arrived", so no assertion depends on how TCP split the data.

BeforeAll {
    Import-Module $env:SOCKPS_MODULE_PATH -Force
    Import-Module "$PSScriptRoot/SockPS.TestHelpers.psm1" -Force

    function Receive-Hex([SockPS.Core.SocketConnection] $Connection, [int] $Count) {
        $bytes = Receive-SocketData -Connection $Connection -ByteCount $Count -TimeoutSeconds 20 -ErrorAction Stop
        [System.Convert]::ToHexString($bytes)
    }
}

Describe 'Send-SocketData' {
    BeforeEach {
        $pair = New-TestConnectionPair
        $client = $pair.Client
        $accepted = $pair.Accepted
    }

    AfterEach {
        Get-SocketConnection | Disconnect-Socket
        Get-SocketServer | Stop-SocketServer
    }

    Context 'what is sent' {
        It 'encodes a string with the connection''s encoding (UTF-8 by default) and counts the bytes' {
            Send-SocketData -Connection $client -InputObject 'héllo €'

            Receive-Hex $accepted 10 | Should -Be '68C3A96C6C6F20E282AC'
            $client.BytesSent | Should -Be 10
            $accepted.BytesReceived | Should -Be 10
        }

        It 'takes the connection and the data by position' {
            Send-SocketData $client 'positional'

            Receive-SocketData -Connection $accepted -ByteCount 10 | ForEach-Object { [System.Text.Encoding]::UTF8.GetString($_) } |
                Should -BeExactly 'positional'
        }

        It 'sends a byte array as it is: every byte value' {
            $all = [byte[]](0..255)

            Send-SocketData -Connection $client -InputObject $all

            Receive-Hex $accepted 256 | Should -Be ([System.Convert]::ToHexString($all))
            $client.BytesSent | Should -Be 256
        }

        It 'appends the connection''s NewLine with -Line, for text and for bytes' {
            $client.NewLine = "`r`n"

            Send-SocketData -Connection $client -InputObject 'ab' -Line
            Send-SocketData -Connection $client -InputObject ([byte[]](0x01, 0x02)) -Line

            Receive-Hex $accepted 8 | Should -Be '61620D0A01020D0A'
        }

        It 'sends -Line with a default NewLine of LF' {
            Send-SocketData -Connection $client -InputObject 'x' -Line

            Receive-Hex $accepted 2 | Should -Be '780A'
        }

        It 'sends other objects as their invariant string form' {
            $saved = [System.Globalization.CultureInfo]::CurrentCulture
            try {
                # A culture with a decimal comma: the wire format must not depend on it.
                [System.Globalization.CultureInfo]::CurrentCulture = 'de-DE'
                Send-SocketData -Connection $client -InputObject 3.5 -Line
                Send-SocketData -Connection $client -InputObject 42 -Line
            }
            finally {
                [System.Globalization.CultureInfo]::CurrentCulture = $saved
            }

            Receive-SocketData -Connection $accepted -Line | Should -BeExactly '3.5'
            Receive-SocketData -Connection $accepted -Line | Should -BeExactly '42'
        }

        It 'sends a hashtable as one piece of text showing its entries, not element by element nor as its type name' {
            Send-SocketData -Connection $client -InputObject @{ a = 1 } -Line

            $text = Receive-SocketData -Connection $accepted
            $text | Should -Match '^Name\s+Value'
            $text | Should -Match '(?m)^a\s+1$'
            $text | Should -Not -Match 'System\.Collections\.Hashtable'
        }

        It 'sends an array element by element, each with -Line' {
            Send-SocketData -Connection $client -InputObject @('one', 'two', 'three') -Line

            Receive-SocketData -Connection $accepted -Line | Should -BeExactly 'one'
            Receive-SocketData -Connection $accepted -Line | Should -BeExactly 'two'
            Receive-SocketData -Connection $accepted -Line | Should -BeExactly 'three'
        }

        It 'sends a mixed array: strings encoded, byte arrays raw, numbers as text' {
            Send-SocketData -Connection $client -InputObject @('a', [byte[]](0x00, 0xFF), 7)

            Receive-Hex $accepted 4 | Should -Be '6100FF37'
        }

        It 'sends nothing for $null or an empty string, and only the NewLine for $null -Line' {
            Send-SocketData -Connection $client -InputObject $null
            Send-SocketData -Connection $client -InputObject ''
            $client.BytesSent | Should -Be 0

            Send-SocketData -Connection $client -InputObject $null -Line

            $client.BytesSent | Should -Be 1
            Receive-SocketData -Connection $accepted -Line | Should -BeExactly ''
        }

        It 'encodes with -Encoding instead of the connection''s encoding' {
            Send-SocketData -Connection $client -InputObject 'é' -Encoding latin1
            Send-SocketData -Connection $client -InputObject 'é'

            Receive-Hex $accepted 3 | Should -Be 'E9C3A9'
            $client.Encoding.WebName | Should -Be 'utf-8'
        }
    }

    Context 'pipeline input' {
        It 'sends each piped string in one invocation' {
            'alpha', 'beta', 'gamma' | Send-SocketData -Connection $client -Line

            Receive-SocketData -Connection $accepted -Line | Should -BeExactly 'alpha'
            Receive-SocketData -Connection $accepted -Line | Should -BeExactly 'beta'
            Receive-SocketData -Connection $accepted -Line | Should -BeExactly 'gamma'
        }

        It 'streams: an item is on the wire before the next one is produced' {
            $produce = {
                'first'
                # Only go on once the peer has the first item; a cmdlet that held the input
                # until the end would make this wait fail.
                Wait-TestCondition -Condition { $accepted.BytesReceived -ge 6 } -Description 'the first item arriving'
                'second'
            }

            & $produce | Send-SocketData -Connection $client -Line

            Receive-SocketData -Connection $accepted -Line | Should -BeExactly 'first'
            Receive-SocketData -Connection $accepted -Line | Should -BeExactly 'second'
        }

        It 'gathers bytes unrolled by the pipeline into the same byte stream' {
            # Larger than one 64 KiB block, so the gathering flushes more than once.
            $data = New-TestRandomBytes -Count 70001 -Seed 7

            $data | Send-SocketData -Connection $client

            $client.BytesSent | Should -Be 70001
            $received = Receive-SocketData -Connection $accepted -ByteCount 70001 -TimeoutSeconds 20
            Get-TestSha256 $received | Should -Be (Get-TestSha256 $data)
        }

        It 'sends piped bytes raw with -Line too, never as decimal text' {
            [byte[]](0x41, 0x42) | Send-SocketData -Connection $client -Line
            Disconnect-Socket -Connection $client -Shutdown Send

            $received = Receive-SocketData -Connection $accepted -ToEnd -AsByteArray

            # Where the NewLine goes (after each byte or after the run) is the cmdlet's choice;
            # the bytes themselves must arrive as bytes, not as "65" and "66".
            $withoutNewLines = [byte[]]@($received | Where-Object { $_ -ne 0x0A })
            [System.Convert]::ToHexString($withoutNewLines) | Should -Be '4142'
        }

        It 'sends a byte array passed whole through the pipeline' {
            , [byte[]](0x10, 0x20, 0x30) | Send-SocketData -Connection $client

            Receive-Hex $accepted 3 | Should -Be '102030'
        }

        It 'keeps text and gathered bytes in order' {
            $items = @('<', [byte]0x41, [byte]0x42, '>')

            $items | Send-SocketData -Connection $client

            Receive-Hex $accepted 4 | Should -Be '3C41423E'
        }

        It 'takes the connection from the pipeline with -InputObject named' {
            $client | Send-SocketData -InputObject 'piped connection' -Line

            Receive-SocketData -Connection $accepted -Line | Should -BeExactly 'piped connection'
        }
    }

    Context 'targets' {
        It 'sends to every connection given' {
            $other = New-TestConnectionPair

            Send-SocketData -Connection $client, $other.Client -InputObject 'both' -Line

            Receive-SocketData -Connection $accepted -Line | Should -BeExactly 'both'
            Receive-SocketData -Connection $other.Accepted -Line | Should -BeExactly 'both'
        }

        It 'finds the connection by -Id' {
            Send-SocketData -Id $client.Id -InputObject 'by id' -Line

            Receive-SocketData -Connection $accepted -Line | Should -BeExactly 'by id'
        }

        It 'finds connections by -Name, wildcards included' {
            $named = New-TestConnectionPair -ClientParameters @{ Name = 'sender-a' }
            $namedToo = New-TestConnectionPair -ClientParameters @{ Name = 'sender-b' }

            Send-SocketData -Name 'sender-*' -InputObject 'by name' -Line

            Receive-SocketData -Connection $named.Accepted -Line | Should -BeExactly 'by name'
            Receive-SocketData -Connection $namedToo.Accepted -Line | Should -BeExactly 'by name'
            $client.BytesSent | Should -Be 0
        }

        It 'outputs each connection once, at the end, with -PassThru' {
            $other = New-TestConnectionPair

            $output = 'a', 'b', 'c' | Send-SocketData -Connection $client, $other.Client -PassThru

            $output.Count | Should -Be 2
            $output[0].InstanceId | Should -Be $client.InstanceId
            $output[1].InstanceId | Should -Be $other.Client.InstanceId
            $client.BytesSent | Should -Be 3
        }

        It 'outputs nothing without -PassThru' {
            Send-SocketData -Connection $client -InputObject 'quiet' | Should -BeNullOrEmpty
        }

        It 'chains into Receive-SocketData with -PassThru' {
            Send-SocketData -Connection $accepted -InputObject 'reply' -Line

            $reply = Send-SocketData -Connection $client -InputObject 'request' -Line -PassThru |
                Receive-SocketData -Line

            $reply | Should -BeExactly 'reply'
            Receive-SocketData -Connection $accepted -Line | Should -BeExactly 'request'
        }
    }

    Context 'errors' {
        It 'writes a non-terminating ConnectionNotFound error for an unknown -Id' {
            $err = { Send-SocketData -Id 999999 -InputObject 'x' -ErrorAction Stop } |
                Should -Throw -ErrorId 'ConnectionNotFound,SockPS.Commands.SendSocketDataCommand' -PassThru

            $err.FullyQualifiedErrorId | Should -BeExactly 'ConnectionNotFound,SockPS.Commands.SendSocketDataCommand'
            $err.CategoryInfo.Category | Should -Be 'ObjectNotFound'
            $err.Exception.Message | Should -Match 'No connection with Id 999999'
            $err.TargetObject | Should -Be 999999
        }

        It 'still sends to the Ids that exist' {
            Send-SocketData -Id 999999, $client.Id -InputObject 'found' -Line -ErrorAction SilentlyContinue -ErrorVariable failures

            $failures.Count | Should -Be 1
            $failures[0].FullyQualifiedErrorId | Should -Be 'ConnectionNotFound,SockPS.Commands.SendSocketDataCommand'
            Receive-SocketData -Connection $accepted -Line | Should -BeExactly 'found'
        }

        It 'writes ConnectionNotFound for an exact -Name that matches nothing, but not for a wildcard' {
            $err = { Send-SocketData -Name 'no-such-connection' -InputObject 'x' -ErrorAction Stop } |
                Should -Throw -ErrorId 'ConnectionNotFound,SockPS.Commands.SendSocketDataCommand' -PassThru
            $err.CategoryInfo.Category | Should -Be 'ObjectNotFound'
            $err.Exception.Message | Should -Match "no-such-connection"

            { Send-SocketData -Name 'no-such-*' -InputObject 'x' -ErrorAction Stop } | Should -Not -Throw
        }

        It 'writes ConnectionClosed for a disconnected connection' {
            Disconnect-Socket -Connection $client

            $err = { Send-SocketData -Connection $client -InputObject 'late' -ErrorAction Stop } |
                Should -Throw -ErrorId 'ConnectionClosed,SockPS.Commands.SendSocketDataCommand' -PassThru

            $err.CategoryInfo.Category | Should -Be 'InvalidOperation'
            $err.Exception.Message | Should -Match 'closed'
            $err.TargetObject.InstanceId | Should -Be $client.InstanceId
        }

        It 'writes ConnectionClosed after -Shutdown Send, saying why' {
            Disconnect-Socket -Connection $client -Shutdown Send

            $err = { Send-SocketData -Connection $client -InputObject 'late' -ErrorAction Stop } |
                Should -Throw -ErrorId 'ConnectionClosed,SockPS.Commands.SendSocketDataCommand' -PassThru

            $err.CategoryInfo.Category | Should -Be 'InvalidOperation'
            $err.Exception.Message | Should -Match 'Shutdown Send'
        }

        It 'gives a failed connection one error and goes on with the others' {
            $other = New-TestConnectionPair
            Disconnect-Socket -Connection $client

            Send-SocketData -Connection $client, $other.Client -InputObject 'a', 'b', 'c' -ErrorAction SilentlyContinue -ErrorVariable failures

            $failures.Count | Should -Be 1
            $failures[0].FullyQualifiedErrorId | Should -Be 'ConnectionClosed,SockPS.Commands.SendSocketDataCommand'
            Receive-SocketData -Connection $other.Accepted -ByteCount 3 |
                ForEach-Object { [System.Text.Encoding]::ASCII.GetString($_) } | Should -BeExactly 'abc'
        }
    }
}

Describe 'Send-SocketData on datagram sockets' {
    BeforeAll {
        function Receive-Datagram([SockPS.Core.SocketConnection] $Socket) {
            Receive-SocketData -Connection $Socket -TimeoutSeconds 20 -ErrorAction Stop
        }
    }

    BeforeEach {
        $server = Start-SocketServer -Protocol Udp
        $client = Connect-Socket -Protocol Udp -ComputerName 127.0.0.1 -Port $server.Port
    }

    AfterEach {
        Get-SocketConnection | Disconnect-Socket
        Get-SocketServer | Stop-SocketServer
    }

    Context 'one datagram per item' {
        It 'sends a string as one datagram in the connection''s encoding, and counts it' {
            Send-SocketData -Connection $client -InputObject 'héllo €'

            $datagram = Receive-Datagram $server
            [System.Convert]::ToHexString($datagram.Data) | Should -Be '68C3A96C6C6F20E282AC'
            $client.DatagramsSent | Should -Be 1
            $client.BytesSent | Should -Be 10
            $server.DatagramSocket.DatagramsReceived | Should -Be 1
            $server.DatagramSocket.BytesReceived | Should -Be 10
        }

        It 'sends each pipeline item as a datagram of its own' {
            'a', 'bb', 'ccc' | Send-SocketData -Connection $client

            $client.DatagramsSent | Should -Be 3
            (Receive-Datagram $server).Text | Should -BeExactly 'a'
            (Receive-Datagram $server).Text | Should -BeExactly 'bb'
            (Receive-Datagram $server).Text | Should -BeExactly 'ccc'
        }

        It 'sends an array given to -InputObject element by element' {
            Send-SocketData -Connection $client -InputObject 'one', 'two'

            (Receive-Datagram $server).Text | Should -BeExactly 'one'
            (Receive-Datagram $server).Text | Should -BeExactly 'two'
        }

        It 'sends a byte array unrolled by the pipeline as one datagram' {
            [byte[]]$bytes = 1..200

            $bytes | Send-SocketData -Connection $client

            $client.DatagramsSent | Should -Be 1
            $datagram = Receive-Datagram $server
            $datagram.Length | Should -Be 200
            [System.Convert]::ToHexString($datagram.Data) | Should -Be ([System.Convert]::ToHexString($bytes))
        }

        It 'sends a byte array passed whole as one datagram' {
            , [byte[]](0, 255, 0) | Send-SocketData -Connection $client

            [System.Convert]::ToHexString((Receive-Datagram $server).Data) | Should -Be '00FF00'
        }

        It 'keeps a run of piped bytes and the text around it as separate datagrams, in order' {
            @('<', [byte]0x41, [byte]0x42, '>') | Send-SocketData -Connection $client

            $client.DatagramsSent | Should -Be 3
            (Receive-Datagram $server).Text | Should -BeExactly '<'
            (Receive-Datagram $server).Text | Should -BeExactly 'AB'
            (Receive-Datagram $server).Text | Should -BeExactly '>'
        }

        It 'puts the NewLine of -Line inside the same datagram, for text and for bytes' {
            Send-SocketData -Connection $client -InputObject 'l' -Line
            [byte[]](1, 2, 3) | Send-SocketData -Connection $client -Line

            $client.DatagramsSent | Should -Be 2
            [System.Convert]::ToHexString((Receive-Datagram $server).Data) | Should -Be '6C0A'
            [System.Convert]::ToHexString((Receive-Datagram $server).Data) | Should -Be '0102030A'
        }

        It 'sends an empty string as one empty datagram, and nothing for $null' {
            Send-SocketData -Connection $client -InputObject $null
            $client.DatagramsSent | Should -Be 0

            Send-SocketData -Connection $client -InputObject ''

            $client.DatagramsSent | Should -Be 1
            $datagram = Receive-Datagram $server
            $datagram.Length | Should -Be 0
            $datagram.Text | Should -BeExactly ''
        }

        It 'streams: each datagram is sent before the next item is produced' {
            $produce = {
                'first'
                Wait-TestCondition -Condition { $server.DatagramSocket.DatagramsReceived -ge 1 } -Description 'the first datagram arriving'
                'second'
            }

            & $produce | Send-SocketData -Connection $client

            (Receive-Datagram $server).Text | Should -BeExactly 'first'
            (Receive-Datagram $server).Text | Should -BeExactly 'second'
        }

        It 'sends the Data of a SocketDatagram given as -InputObject' {
            Send-SocketData -Connection $client -InputObject ([byte[]](9, 8, 7))
            $received = Receive-Datagram $server
            $other = Start-SocketServer -Protocol Udp
            $forwarder = Connect-Socket -Protocol Udp -ComputerName 127.0.0.1 -Port $other.Port

            Send-SocketData -Connection $forwarder -InputObject $received

            [System.Convert]::ToHexString((Receive-Datagram $other).Data) | Should -Be '090807'
        }

        It 'takes a UDP socket from the pipeline' {
            $client | Send-SocketData -InputObject 'piped socket'

            (Receive-Datagram $server).Text | Should -BeExactly 'piped socket'
        }

        It 'finds a datagram socket by -Id and by -Name' {
            $named = Connect-Socket -Protocol Udp -ComputerName 127.0.0.1 -Port $server.Port -Name 'udp-sender'

            Send-SocketData -Id $client.Id -InputObject 'by id'
            Send-SocketData -Name 'udp-*' -InputObject 'by name'

            (Receive-Datagram $server).RemoteEndPoint | Should -Be $client.LocalEndPoint
            (Receive-Datagram $server).RemoteEndPoint | Should -Be $named.LocalEndPoint
        }
    }

    Context '-RemoteEndPoint (sendto)' {
        It 'sends to <Form>' -TestCases @(
            @{ Form = 'host:port text'; Make = { param($Port) "127.0.0.1:$Port" } }
            @{ Form = 'a host name and port'; Make = { param($Port) "localhost:$Port" } }
            @{ Form = 'an IPEndPoint'; Make = { param($Port) [System.Net.IPEndPoint]::new([System.Net.IPAddress]::Loopback, $Port) } }
        ) {
            $other = Start-SocketServer -Protocol Udp

            Send-SocketData -Connection $server -InputObject 'sendto' -RemoteEndPoint (& $Make $other.Port)

            $datagram = Receive-Datagram $other
            $datagram.Text | Should -BeExactly 'sendto'
            $datagram.RemoteEndPoint | Should -Be $server.LocalEndPoint
            $server.DatagramSocket.DatagramsSent | Should -Be 1
        }

        It 'takes a service name as the port' {
            # Nothing listens on discard (9); the datagram is sent all the same.
            Send-SocketData -Connection $server -InputObject 'to discard' -RemoteEndPoint '127.0.0.1:discard' -ErrorAction Stop

            $server.DatagramSocket.DatagramsSent | Should -Be 1
        }

        It 'sends every item to the same -RemoteEndPoint' {
            $other = Start-SocketServer -Protocol Udp

            'x', 'y' | Send-SocketData -Connection $server -RemoteEndPoint "127.0.0.1:$($other.Port)"

            (Receive-Datagram $other).Text | Should -BeExactly 'x'
            (Receive-Datagram $other).Text | Should -BeExactly 'y'
        }

        It 'sends to [::1]:port from an IPv6 socket' {
            if (-not (Test-TestIPv6Loopback)) {
                Set-ItResult -Skipped -Because 'this machine has no IPv6 loopback'
                return
            }
            $v6 = Start-SocketServer -Protocol Udp -AddressFamily InterNetworkV6
            $v6Other = Start-SocketServer -Protocol Udp -AddressFamily InterNetworkV6

            Send-SocketData -Connection $v6 -InputObject 'six' -RemoteEndPoint "[::1]:$($v6Other.Port)"

            $datagram = Receive-Datagram $v6Other
            $datagram.Text | Should -BeExactly 'six'
            $datagram.RemoteEndPoint | Should -Be $v6.LocalEndPoint
        }

        It 'sends to a Unix socket path from a Unix datagram socket' {
            $from = Start-SocketServer -Path (Join-Path -Path $TestDrive -ChildPath 'from.sock') -Protocol Udp
            $to = Start-SocketServer -Path (Join-Path -Path $TestDrive -ChildPath 'to.sock') -Protocol Udp

            Send-SocketData -Connection $from -InputObject 'between files' -RemoteEndPoint $to.Path

            $datagram = Receive-Datagram $to
            $datagram.Text | Should -BeExactly 'between files'
            $datagram.RemoteEndPoint.ToString() | Should -Be $from.Path
        }

        It 'replies to the sender by piping the datagram: it stands for the socket it arrived on and remembers its sender' {
            $second = Connect-Socket -Protocol Udp -ComputerName 127.0.0.1 -Port $server.Port
            Send-SocketData -Connection $client -InputObject 'ping from one'
            Send-SocketData -Connection $second -InputObject 'ping from two'

            $fromOne = Receive-Datagram $server
            $fromTwo = Receive-Datagram $server
            $fromTwo | Send-SocketData -InputObject 'pong two'
            $fromOne | Send-SocketData -InputObject 'pong one'

            $toOne = Receive-Datagram $client
            $toOne.Text | Should -BeExactly 'pong one'
            $toOne.RemoteEndPoint | Should -Be $server.LocalEndPoint
            (Receive-Datagram $second).Text | Should -BeExactly 'pong two'
            $server.DatagramSocket.DatagramsSent | Should -Be 2
        }

        It 'replies to each of several piped datagrams'' senders in one pipeline, and to a datagram given as -Connection' {
            $second = Connect-Socket -Protocol Udp -ComputerName 127.0.0.1 -Port $server.Port
            Send-SocketData -Connection $client -InputObject 'ping from one'
            Send-SocketData -Connection $second -InputObject 'ping from two'
            $pings = @((Receive-Datagram $server), (Receive-Datagram $server))

            # Each record's reply address belongs to the datagram that bound in that record.
            $pings | Send-SocketData -InputObject 'pong'
            Send-SocketData -Connection $pings[0] -InputObject 'again'

            (Receive-Datagram $client).Text | Should -BeExactly 'pong'
            (Receive-Datagram $second).Text | Should -BeExactly 'pong'
            (Receive-Datagram $client).Text | Should -BeExactly 'again'
            $second.Available | Should -Be 0
            $server.DatagramSocket.DatagramsSent | Should -Be 3
        }

        It 'sends other piped objects with a RemoteEndPoint property to the connected peer, not to that property' {
            # -RemoteEndPoint is not bound by property name: only a SocketDatagram is a reply.
            $other = Start-SocketServer -Protocol Udp
            [pscustomobject]@{ RemoteEndPoint = "127.0.0.1:$($other.Port)" } | Send-SocketData -Connection $client -AsJson

            (Receive-Datagram $server).Text | Should -BeExactly ('{"RemoteEndPoint":"127.0.0.1:' + $other.Port + '"}')
            $other.DatagramSocket.DatagramsReceived | Should -Be 0
        }

        It 'forwards piped datagrams through another socket to that socket''s peer, and replies through the socket they came in on' {
            $upstream = Start-SocketServer -Protocol Udp
            $forward = Connect-Socket -Protocol Udp -ComputerName 127.0.0.1 -Port $upstream.Port
            Send-SocketData -Connection $client -InputObject 'to forward'
            Send-SocketData -Connection $client -InputObject 'to answer'
            $first = Receive-Datagram $server
            $second = Receive-Datagram $server

            # A datagram's sender is a reply address on its own socket only.
            $first | Send-SocketData -Connection $forward
            $second | Send-SocketData -Connection $server

            $forwarded = Receive-Datagram $upstream
            $forwarded.Text | Should -BeExactly 'to forward'
            $forwarded.RemoteEndPoint | Should -Be $forward.LocalEndPoint
            (Receive-Datagram $client).Text | Should -BeExactly 'to answer'
            $client.Available | Should -Be 0
        }

        It 'is a UDP echo server: Receive-SocketData -Continuous | Select-Object -First 3 | Send-SocketData' {
            [byte[]]$bytes = 0..199
            Send-SocketData -Connection $client -InputObject 'one'
            Send-SocketData -Connection $client -InputObject $bytes
            $bytes | Send-SocketData -Connection $client

            Receive-SocketData -Connection $server -Continuous -TimeoutSeconds 20 | Select-Object -First 3 | Send-SocketData

            (Receive-Datagram $client).Text | Should -BeExactly 'one'
            [System.Convert]::ToHexString((Receive-Datagram $client).Data) | Should -Be ([System.Convert]::ToHexString($bytes))
            (Receive-Datagram $client).Length | Should -Be 200
            $server.DatagramSocket.State | Should -Be 'Open'
        }

        It 'lets an explicit -RemoteEndPoint win over the piped datagram''s sender' {
            $other = Start-SocketServer -Protocol Udp
            Send-SocketData -Connection $client -InputObject 'ping'
            $ping = Receive-Datagram $server

            $ping | Send-SocketData -InputObject 'redirected' -RemoteEndPoint "127.0.0.1:$($other.Port)"

            (Receive-Datagram $other).Text | Should -BeExactly 'redirected'
            $client.Available | Should -Be 0
        }
    }

    Context 'errors' {
        It 'refuses a datagram larger than UDP carries over IPv4, before sending anything' {
            $err = { Send-SocketData -Connection $client -InputObject ([byte[]]::new(65508)) -ErrorAction Stop } |
                Should -Throw -ErrorId 'DatagramTooLarge,SockPS.Commands.SendSocketDataCommand' -PassThru

            $err.CategoryInfo.Category | Should -Be 'InvalidArgument'
            $err.Exception.Message | Should -Match '65508 bytes'
            $err.Exception.Message | Should -Match '65507'
            $err.Exception.Message | Should -Match 'Nothing was sent'
            $err.TargetObject.InstanceId | Should -Be $client.InstanceId
            $client.DatagramsSent | Should -Be 0
            $client.BytesSent | Should -Be 0

            # The largest that fits goes, and is the first thing to arrive.
            Send-SocketData -Connection $client -InputObject ([byte[]]::new(65507)) -ErrorAction Stop
            (Receive-Datagram $server).Length | Should -Be 65507
        }

        It 'refuses more than 65527 bytes over IPv6' {
            if (-not (Test-TestIPv6Loopback)) {
                Set-ItResult -Skipped -Because 'this machine has no IPv6 loopback'
                return
            }
            $v6 = Start-SocketServer -Protocol Udp -Address '::1'
            $v6Client = Connect-Socket -Protocol Udp -ComputerName '::1' -Port $v6.Port

            { Send-SocketData -Connection $v6Client -InputObject ([byte[]]::new(65528)) -ErrorAction Stop } |
                Should -Throw -ErrorId 'DatagramTooLarge,SockPS.Commands.SendSocketDataCommand'
            Send-SocketData -Connection $v6Client -InputObject ([byte[]]::new(65508)) -ErrorAction Stop

            (Receive-Datagram $v6).Length | Should -Be 65508
        }

        It 'writes a non-terminating InvalidArgument error for a socket with no peer and no -RemoteEndPoint' {
            Send-SocketData -Connection $server, $client -InputObject 'nowhere' -ErrorAction SilentlyContinue -ErrorVariable failures

            $failures.Count | Should -Be 1
            $failures[0].FullyQualifiedErrorId | Should -BeExactly 'InvalidArgument,SockPS.Commands.SendSocketDataCommand'
            $failures[0].CategoryInfo.Category | Should -Be 'InvalidArgument'
            $failures[0].Exception.Message | Should -Match '-RemoteEndPoint'
            $server.DatagramSocket.DatagramsSent | Should -Be 0
            (Receive-Datagram $server).Text | Should -BeExactly 'nowhere' -Because 'the client, given second, still sent'
        }

        It 'writes the same InvalidArgument error when a socket with no peer is piped in' {
            $server.DatagramSocket | Send-SocketData -InputObject 'nowhere' -ErrorAction SilentlyContinue -ErrorVariable failures

            $failures.Count | Should -Be 1
            $failures[0].FullyQualifiedErrorId | Should -BeExactly 'InvalidArgument,SockPS.Commands.SendSocketDataCommand'
            $failures[0].Exception.Message | Should -Match '-RemoteEndPoint'
        }

        It 'says there is nobody to reply to for a datagram from an unnamed Unix socket' {
            $unix = Start-SocketServer -Path (Join-Path -Path $TestDrive -ChildPath 'anonymous.sock') -Protocol Udp
            $anonymous = [System.Net.Sockets.Socket]::new('Unix', 'Dgram', 'Unspecified')
            try {
                $null = $anonymous.SendTo([System.Text.Encoding]::UTF8.GetBytes('who am I'), [System.Net.Sockets.UnixDomainSocketEndPoint]::new($unix.Path))
            }
            finally {
                $anonymous.Dispose()
            }
            $datagram = Receive-Datagram $unix
            $datagram.RemoteEndPoint | Should -BeNullOrEmpty

            $datagram | Send-SocketData -InputObject 'reply' -ErrorAction SilentlyContinue -ErrorVariable failures

            $failures.Count | Should -Be 1
            $failures[0].FullyQualifiedErrorId | Should -BeExactly 'InvalidArgument,SockPS.Commands.SendSocketDataCommand'
            $failures[0].CategoryInfo.Category | Should -Be 'InvalidArgument'
        }

        It 'writes a non-terminating AccessDenied error for a broadcast address without -Broadcast' {
            $err = { Send-SocketData -Connection $server -InputObject 'x' -RemoteEndPoint '127.255.255.255:9' -ErrorAction Stop } |
                Should -Throw -ErrorId 'AccessDenied,SockPS.Commands.SendSocketDataCommand' -PassThru

            $err.CategoryInfo.Category | Should -Be 'PermissionDenied'
            $err.Exception.Message | Should -Match '127\.255\.255\.255:9'
            $err.Exception.Message | Should -Match '-Broadcast'
            $server.DatagramSocket.State | Should -Be 'Open'
        }

        It 'writes InvalidArgument for -RemoteEndPoint on a stream connection' {
            $pair = New-TestConnectionPair

            $err = { Send-SocketData -Connection $pair.Client -InputObject 'x' -RemoteEndPoint "127.0.0.1:$($server.Port)" -ErrorAction Stop } |
                Should -Throw -ErrorId 'InvalidArgument,SockPS.Commands.SendSocketDataCommand' -PassThru

            $err.Exception.Message | Should -Match 'stream socket'
            $pair.Client.BytesSent | Should -Be 0
        }

        It 'writes InvalidArgument for an IPv6 -RemoteEndPoint on an IPv4 socket' {
            $err = { Send-SocketData -Connection $server -InputObject 'x' -RemoteEndPoint "[::1]:$($server.Port)" -ErrorAction Stop } |
                Should -Throw -ErrorId 'InvalidArgument,SockPS.Commands.SendSocketDataCommand' -PassThru

            $err.Exception.Message | Should -Match 'IPv6'
        }

        It 'writes HostNotFound for a -RemoteEndPoint name that does not resolve' {
            $err = { Send-SocketData -Connection $server -InputObject 'x' -RemoteEndPoint 'no-such-host.invalid:9' -ErrorAction Stop } |
                Should -Throw -ErrorId 'HostNotFound,SockPS.Commands.SendSocketDataCommand' -PassThru

            $err.CategoryInfo.Category | Should -Be 'ObjectNotFound'
            $err.Exception.Message | Should -Match 'no-such-host\.invalid'
        }

        It 'rejects -RemoteEndPoint <Text> while binding, saying <Says>' -TestCases @(
            @{ Text = 'nonsense'; Says = 'has no port' }
            @{ Text = '127.0.0.1:no-such-service'; Says = 'not a known udp service name' }
        ) {
            $err = { Send-SocketData -Connection $server -InputObject 'x' -RemoteEndPoint $Text } |
                Should -Throw -ErrorId 'ParameterArgumentTransformationError,SockPS.Commands.SendSocketDataCommand' -PassThru

            $err.Exception.Message | Should -Match $Says
            $server.DatagramSocket.DatagramsSent | Should -Be 0
        }

        It 'writes ConnectionClosed on the socket of a stopped server' {
            $socket = $server.DatagramSocket
            Stop-SocketServer -Server $server

            $err = { Send-SocketData -Connection $socket -InputObject 'late' -RemoteEndPoint "127.0.0.1:$($client.LocalEndPoint.Port)" -ErrorAction Stop } |
                Should -Throw -ErrorId 'ConnectionClosed,SockPS.Commands.SendSocketDataCommand' -PassThru

            $err.CategoryInfo.Category | Should -Be 'InvalidOperation'
        }
    }
}
