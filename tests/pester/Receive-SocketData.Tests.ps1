#Requires -Version 7.4
# Receive-SocketData: Python's socket recv, with framing (available / line / delimiter / byte count /
# to end), continuous reading, timeouts that leave the connection usable, and a decoder kept per
# connection. Data is sent from the other end of a loopback pair; where a test depends on what
# has already arrived, it waits for it (BytesReceived / Available), never for a guessed time.

BeforeAll {
    Import-Module $env:SOCKPS_MODULE_PATH -Force
    Import-Module "$PSScriptRoot/SockPS.TestHelpers.psm1" -Force

    function Wait-Arrived([SockPS.Core.SocketConnection] $Connection, [long] $Bytes) {
        Wait-TestCondition -Condition { $Connection.BytesReceived -ge $Bytes } -Description "$Bytes byte(s) arriving on $Connection"
    }

    # Sends $Text on $Sender from another runspace once a receive is waiting on $Receiver, so a
    # test can prove a receive waits for data that is not there yet. SocketConnection has an
    # internal ReceiveInProgress flag meant for exactly this.
    function Start-SendWhenReceiving([SockPS.Core.SocketConnection] $Sender, [SockPS.Core.SocketConnection] $Receiver, [string] $Text) {
        $flag = [SockPS.Core.SocketConnection].GetProperty('ReceiveInProgress', [System.Reflection.BindingFlags]'NonPublic, Instance')
        $flag | Should -Not -BeNullOrEmpty -Because 'SocketConnection.ReceiveInProgress tells a test that a receive is waiting'
        $shell = [powershell]::Create()
        $null = $shell.AddScript({
                param($Sender, $Receiver, $Text, $Flag)
                $clock = [System.Diagnostics.Stopwatch]::StartNew()
                while (-not $Flag.GetValue($Receiver)) {
                    if ($clock.Elapsed.TotalSeconds -gt 20) { throw 'no receive started within 20 s' }
                    [System.Threading.Thread]::Yield()
                }
                $Sender.Send($Text)
            }).AddArgument($Sender).AddArgument($Receiver).AddArgument($Text).AddArgument($flag)
        [pscustomobject]@{ Shell = $shell; Handle = $shell.BeginInvoke() }
    }

    function Complete-Background($Background) {
        try {
            $Background.Handle.AsyncWaitHandle.WaitOne([timespan]::FromSeconds(30)) | Should -BeTrue -Because 'the background sender finishes'
            $Background.Shell.EndInvoke($Background.Handle)
            $Background.Shell.HadErrors | Should -BeFalse
        }
        finally {
            $Background.Shell.Dispose()
        }
    }
}

Describe 'Receive-SocketData' {
    BeforeEach {
        $pair = New-TestConnectionPair
        $client = $pair.Client
        $accepted = $pair.Accepted
    }

    AfterEach {
        Get-SocketConnection | Disconnect-Socket
        Get-SocketServer | Stop-SocketServer
    }

    Context 'by default: what is available' {
        It 'returns everything that has arrived as one string' {
            Send-SocketData -Connection $client -InputObject "first`n"
            Send-SocketData -Connection $client -InputObject 'second'
            Wait-Arrived $accepted 12

            $text = Receive-SocketData -Connection $accepted

            $text | Should -BeOfType ([string])
            $text | Should -BeExactly "first`nsecond"
            $accepted.Available | Should -Be 0
        }

        It 'waits for the first byte when nothing has arrived yet' {
            $sender = Start-SendWhenReceiving -Sender $client -Receiver $accepted -Text 'late'

            $text = Receive-SocketData -Connection $accepted -TimeoutSeconds 30

            Complete-Background $sender
            $text | Should -BeExactly 'late'
        }

        It 'returns bytes with -AsByteArray' {
            Send-SocketData -Connection $client -InputObject ([byte[]](0, 1, 254, 255))
            Wait-Arrived $accepted 4

            $bytes = Receive-SocketData -Connection $accepted -AsByteArray

            , $bytes | Should -BeOfType ([byte[]])
            [System.Convert]::ToHexString($bytes) | Should -Be '0001FEFF'
        }

        It 'decodes with the connection''s encoding' {
            $accepted.Encoding = [System.Text.Encoding]::Unicode
            Send-SocketData -Connection $client -InputObject ([byte[]](0x68, 0x00, 0xE9, 0x00))
            Wait-Arrived $accepted 4

            Receive-SocketData -Connection $accepted | Should -BeExactly 'hé'
        }

        It 'decodes a UTF-8 character split across two sends whole' {
            # "A" then the first byte of "é" (C3 A9); the second byte comes in a later send.
            Send-SocketData -Connection $client -InputObject ([byte[]](0x41, 0xC3))
            Wait-Arrived $accepted 2
            $first = Receive-SocketData -Connection $accepted

            Send-SocketData -Connection $client -InputObject ([byte[]](0xA9, 0x42))
            Wait-Arrived $accepted 4
            $second = Receive-SocketData -Connection $accepted

            $first | Should -BeExactly 'A'
            $second | Should -BeExactly 'éB'
        }

        It 'decodes a four-byte UTF-8 character split 1 + 3 whole' {
            $emoji = [System.Text.Encoding]::UTF8.GetBytes([char]::ConvertFromUtf32(0x1F600))
            Send-SocketData -Connection $client -InputObject ([byte[]]$emoji[0])
            Wait-Arrived $accepted 1
            Send-SocketData -Connection $client -InputObject ([byte[]]$emoji[1..3])
            Wait-Arrived $accepted 4

            $text = Receive-SocketData -Connection $accepted

            $text | Should -BeExactly ([char]::ConvertFromUtf32(0x1F600))
            $text.Length | Should -Be 2
        }

        It 'receives from every connection given, in order' {
            $other = New-TestConnectionPair
            Send-SocketData -Connection $client -InputObject 'one'
            Send-SocketData -Connection $other.Client -InputObject 'two'
            Wait-Arrived $accepted 3
            Wait-Arrived $other.Accepted 3

            $texts = Receive-SocketData -Connection $accepted, $other.Accepted

            $texts | Should -Be @('one', 'two')
        }

        It 'finds the connection by -Id and by -Name' {
            $named = New-TestConnectionPair -ServerParameters @{ Name = 'named-server' }
            Send-SocketData -Connection $client -InputObject 'by id'
            Send-SocketData -Connection $named.Client -InputObject 'by name'
            Wait-Arrived $accepted 5
            Wait-Arrived $named.Accepted 7

            Receive-SocketData -Id $accepted.Id | Should -BeExactly 'by id'
            Receive-SocketData -Name $named.Accepted.Name | Should -BeExactly 'by name'
        }
    }

    Context '-Line' {
        It 'returns one line at a time without its LF or CRLF terminator' {
            Send-SocketData -Connection $client -InputObject "unix`nwindows`r`n`nlast`n"

            Receive-SocketData -Connection $accepted -Line | Should -BeExactly 'unix'
            Receive-SocketData -Connection $accepted -Line | Should -BeExactly 'windows'
            Receive-SocketData -Connection $accepted -Line | Should -BeExactly ''
            Receive-SocketData -Connection $accepted -Line | Should -BeExactly 'last'
        }

        It 'waits for the end of a line sent in pieces' {
            Send-SocketData -Connection $client -InputObject 'hel'
            Wait-Arrived $accepted 3
            $sender = Start-SendWhenReceiving -Sender $client -Receiver $accepted -Text "lo`nnext"

            $line = Receive-SocketData -Connection $accepted -Line -TimeoutSeconds 30

            Complete-Background $sender
            $line | Should -BeExactly 'hello'
            Wait-Arrived $accepted 10
            Receive-SocketData -Connection $accepted | Should -BeExactly 'next'
        }

        It 'returns the last line without a terminator once the peer closes' {
            Send-SocketData -Connection $client -InputObject "done`ntail"
            Disconnect-Socket -Connection $client

            Receive-SocketData -Connection $accepted -Line | Should -BeExactly 'done'
            Receive-SocketData -Connection $accepted -Line | Should -BeExactly 'tail'
        }
    }

    Context '-Delimiter' {
        It 'returns the text before a multi-character delimiter and consumes the delimiter' {
            Send-SocketData -Connection $client -InputObject 'a|b||c|d||rest'

            Receive-SocketData -Connection $accepted -Delimiter '||' | Should -BeExactly 'a|b'
            Receive-SocketData -Connection $accepted -Delimiter '||' | Should -BeExactly 'c|d'
            Wait-Arrived $accepted 14
            Receive-SocketData -Connection $accepted | Should -BeExactly 'rest'
        }

        It 'encodes the delimiter with the connection''s encoding' {
            $unicode = New-TestConnectionPair -ServerParameters @{ Encoding = 'unicode' } -ClientParameters @{ Encoding = 'unicode' }
            Send-SocketData -Connection $unicode.Client -InputObject 'x;y;'

            Receive-SocketData -Connection $unicode.Accepted -Delimiter ';' | Should -BeExactly 'x'
            Receive-SocketData -Connection $unicode.Accepted -Delimiter ';' | Should -BeExactly 'y'
            $unicode.Accepted.BytesReceived | Should -Be 8
        }

        It 'returns bytes with -AsByteArray' {
            Send-SocketData -Connection $client -InputObject ([byte[]](1, 2, 0x3B, 3))

            $bytes = Receive-SocketData -Connection $accepted -Delimiter ';' -AsByteArray

            [System.Convert]::ToHexString($bytes) | Should -Be '0102'
        }
    }

    Context '-ByteCount' {
        It 'returns exactly that many bytes as byte[] and leaves the rest' {
            Send-SocketData -Connection $client -InputObject 'abcdefgh'
            Wait-Arrived $accepted 8

            $bytes = Receive-SocketData -Connection $accepted -ByteCount 3

            , $bytes | Should -BeOfType ([byte[]])
            $bytes.Length | Should -Be 3
            [System.Text.Encoding]::ASCII.GetString($bytes) | Should -BeExactly 'abc'
            Receive-SocketData -Connection $accepted | Should -BeExactly 'defgh'
        }

        It 'gathers a count that arrives in several sends' {
            $data = New-TestRandomBytes -Count 200000 -Seed 11
            # Three sends of uneven size; the receive must put them together.
            Send-SocketData -Connection $client -InputObject ([byte[]]$data[0..9])
            Send-SocketData -Connection $client -InputObject ([byte[]]$data[10..150000])
            Send-SocketData -Connection $client -InputObject ([byte[]]$data[150001..199999])

            $bytes = Receive-SocketData -Connection $accepted -ByteCount 200000

            Get-TestSha256 $bytes | Should -Be (Get-TestSha256 $data)
        }

        It 'writes EndOfStream when the peer closes early, and the bytes stay readable' {
            Send-SocketData -Connection $client -InputObject ([byte[]](7, 8, 9))
            Disconnect-Socket -Connection $client

            $err = { Receive-SocketData -Connection $accepted -ByteCount 10 -ErrorAction Stop } |
                Should -Throw -ErrorId 'EndOfStream,SockPS.Commands.ReceiveSocketDataCommand' -PassThru

            $err.CategoryInfo.Category | Should -Be 'ReadError'
            $err.Exception.Message | Should -Match '3 of the 10 bytes'
            $rest = Receive-SocketData -Connection $accepted -AsByteArray
            [System.Convert]::ToHexString($rest) | Should -Be '070809'
        }
    }

    Context '-ToEnd' {
        It 'reads text until the peer closes' {
            Send-SocketData -Connection $client -InputObject "line 1`nline 2`n"
            Send-SocketData -Connection $client -InputObject 'no newline'
            Disconnect-Socket -Connection $client

            Receive-SocketData -Connection $accepted -ToEnd | Should -BeExactly "line 1`nline 2`nno newline"
            $accepted.State | Should -Be 'Closed'
        }

        It 'completes when the peer only shuts down sending' {
            Send-SocketData -Connection $client -InputObject 'half'
            Disconnect-Socket -Connection $client -Shutdown Send

            Receive-SocketData -Connection $accepted -ToEnd | Should -BeExactly 'half'
        }

        It 'reads 2 MiB sent from a thread job, byte for byte (SHA-256)' {
            $data = New-TestRandomBytes -Count (2MB + 17) -Seed 3
            $job = Start-ThreadJob -ScriptBlock {
                param($ModulePath, $Id, $Data)
                Import-Module $ModulePath
                Send-SocketData -Id $Id -InputObject $Data -ErrorAction Stop
                Disconnect-Socket -Id $Id -Shutdown Send -ErrorAction Stop
            } -ArgumentList $env:SOCKPS_MODULE_PATH, $client.Id, $data
            try {
                $received = Receive-SocketData -Connection $accepted -ToEnd -AsByteArray -TimeoutSeconds 30

                $null = Wait-Job -Job $job -Timeout 30
                $job.State | Should -Be 'Completed'
                $received.Length | Should -Be $data.Length
                Get-TestSha256 $received | Should -Be (Get-TestSha256 $data)
            }
            finally {
                Remove-Job -Job $job -Force
            }
        }

        It 'returns what arrived before a timeout, with a ReceiveTimeout error' {
            Send-SocketData -Connection $client -InputObject 'partial'
            Wait-Arrived $accepted 7

            $text = Receive-SocketData -Connection $accepted -ToEnd -TimeoutSeconds 0.2 -ErrorAction SilentlyContinue -ErrorVariable failures

            $text | Should -BeExactly 'partial'
            $failures.Count | Should -Be 1
            $failures[0].FullyQualifiedErrorId | Should -Be 'ReceiveTimeout,SockPS.Commands.ReceiveSocketDataCommand'
            $accepted.State | Should -Be 'Open'
        }
    }

    Context '-Continuous' {
        It 'emits lines until the peer closes' {
            Send-SocketData -Connection $client -InputObject 'a', 'b', 'c' -Line
            Disconnect-Socket -Connection $client

            $lines = Receive-SocketData -Connection $accepted -Line -Continuous

            $lines | Should -Be @('a', 'b', 'c')
        }

        It 'stops cleanly under Select-Object -First 3 and leaves the connection open with the rest readable' {
            Send-SocketData -Connection $client -InputObject (1..5 | ForEach-Object { "item $_" }) -Line

            $firstThree = Receive-SocketData -Connection $accepted -Line -Continuous | Select-Object -First 3

            $firstThree | Should -Be @('item 1', 'item 2', 'item 3')
            $accepted.State | Should -Be 'Open'
            Receive-SocketData -Connection $accepted -Line | Should -BeExactly 'item 4'
            Receive-SocketData -Connection $accepted -Line | Should -BeExactly 'item 5'
            Send-SocketData -Connection $accepted -InputObject 'still open' -Line
            Receive-SocketData -Connection $client -Line | Should -BeExactly 'still open'
        }

        It 'emits chunks that add up to everything sent when there is no framing' {
            $data = New-TestRandomBytes -Count 300000 -Seed 5
            Send-SocketData -Connection $client -InputObject $data
            Disconnect-Socket -Connection $client

            $gathered = [System.IO.MemoryStream]::new()
            Receive-SocketData -Connection $accepted -Continuous -AsByteArray |
                ForEach-Object { $gathered.Write($_, 0, $_.Length) }
            $all = $gathered.ToArray()

            $all.Length | Should -Be $data.Length
            Get-TestSha256 $all | Should -Be (Get-TestSha256 $data)
        }

        It 'emits fixed-size records with -ByteCount' {
            Send-SocketData -Connection $client -InputObject 'aabbcc'
            Disconnect-Socket -Connection $client

            $records = Receive-SocketData -Connection $accepted -ByteCount 2 -Continuous

            $records.Count | Should -Be 3
            ($records | ForEach-Object { [System.Text.Encoding]::ASCII.GetString($_) }) | Should -Be @('aa', 'bb', 'cc')
        }

        It 'treats -TimeoutSeconds as an idle timeout: output so far, then ReceiveTimeout' {
            Send-SocketData -Connection $client -InputObject 'only' -Line

            $lines = Receive-SocketData -Connection $accepted -Line -Continuous -TimeoutSeconds 0.2 `
                -ErrorAction SilentlyContinue -ErrorVariable failures

            $lines | Should -BeExactly 'only'
            $failures.Count | Should -Be 1
            $failures[0].FullyQualifiedErrorId | Should -Be 'ReceiveTimeout,SockPS.Commands.ReceiveSocketDataCommand'
        }
    }

    Context 'timeouts' {
        It 'writes a non-terminating ReceiveTimeout error and the connection stays usable' {
            $err = { Receive-SocketData -Connection $accepted -TimeoutSeconds 0.2 -ErrorAction Stop } |
                Should -Throw -ErrorId 'ReceiveTimeout,SockPS.Commands.ReceiveSocketDataCommand' -PassThru

            $err.FullyQualifiedErrorId | Should -BeExactly 'ReceiveTimeout,SockPS.Commands.ReceiveSocketDataCommand'
            $err.CategoryInfo.Category | Should -Be 'OperationTimeout'
            $err.Exception.Message | Should -Match '0\.2 seconds'
            $err.Exception.Message | Should -Match 'still open'
            $accepted.State | Should -Be 'Open'

            Send-SocketData -Connection $client -InputObject 'after the timeout' -Line
            Receive-SocketData -Connection $accepted -Line | Should -BeExactly 'after the timeout'
        }

        It 'is non-terminating: the next connection is still read' {
            $other = New-TestConnectionPair
            Send-SocketData -Connection $other.Client -InputObject 'ready'
            Wait-Arrived $other.Accepted 5

            $texts = Receive-SocketData -Connection $accepted, $other.Accepted -TimeoutSeconds 0.2 `
                -ErrorAction SilentlyContinue -ErrorVariable failures

            $texts | Should -BeExactly 'ready'
            $failures.Count | Should -Be 1
        }

        It 'uses the connection''s ReceiveTimeoutSeconds when -TimeoutSeconds is not given' {
            $accepted.ReceiveTimeoutSeconds = 0.25

            $err = { Receive-SocketData -Connection $accepted -Line -ErrorAction Stop } |
                Should -Throw -ErrorId 'ReceiveTimeout,SockPS.Commands.ReceiveSocketDataCommand' -PassThru

            $err.Exception.Message | Should -Match '0\.25 seconds'
        }

        It 'does not lose a partial line to a timeout' {
            Send-SocketData -Connection $client -InputObject 'par'
            Wait-Arrived $accepted 3
            Receive-SocketData -Connection $accepted -Line -TimeoutSeconds 0.2 -ErrorAction SilentlyContinue | Should -BeNullOrEmpty

            Send-SocketData -Connection $client -InputObject "tial`n"

            Receive-SocketData -Connection $accepted -Line | Should -BeExactly 'partial'
        }
    }

    Context 'end of stream and closed connections' {
        It 'returns what the peer sent before closing, then nothing and no error' {
            Send-SocketData -Connection $client -InputObject 'bye'
            Disconnect-Socket -Connection $client
            Wait-TestCondition -Condition { $accepted.State -eq 'Closed' } -Description 'the accepted end seeing the close'

            Receive-SocketData -Connection $accepted | Should -BeExactly 'bye'
            $more = Receive-SocketData -Connection $accepted -ErrorAction Stop
            $moreLines = Receive-SocketData -Connection $accepted -Line -ErrorAction Stop
            $moreBytes = Receive-SocketData -Connection $accepted -AsByteArray -ErrorAction Stop

            $more | Should -BeNullOrEmpty
            $moreLines | Should -BeNullOrEmpty
            $moreBytes | Should -BeNullOrEmpty
        }

        It 'writes ConnectionClosed for a disconnected connection' {
            Disconnect-Socket -Connection $accepted

            $err = { Receive-SocketData -Connection $accepted -ErrorAction Stop } |
                Should -Throw -ErrorId 'ConnectionClosed,SockPS.Commands.ReceiveSocketDataCommand' -PassThru

            $err.CategoryInfo.Category | Should -Be 'InvalidOperation'
            $err.Exception.Message | Should -Match 'is closed'
        }

        It 'writes ConnectionNotFound for an unknown -Id and still reads the known one' {
            Send-SocketData -Connection $client -InputObject 'known'
            Wait-Arrived $accepted 5

            $texts = Receive-SocketData -Id 999999, $accepted.Id -ErrorAction SilentlyContinue -ErrorVariable failures

            $texts | Should -BeExactly 'known'
            $failures.Count | Should -Be 1
            $failures[0].FullyQualifiedErrorId | Should -BeExactly 'ConnectionNotFound,SockPS.Commands.ReceiveSocketDataCommand'
            $failures[0].CategoryInfo.Category | Should -Be 'ObjectNotFound'
        }
    }

    Context 'invalid input' {
        It 'rejects <Combination> with a terminating InvalidArgument error' -TestCases @(
            @{ Combination = '-Line -ToEnd'; Parameters = @{ Line = $true; ToEnd = $true } }
            @{ Combination = '-Line -ByteCount'; Parameters = @{ Line = $true; ByteCount = 2 } }
            @{ Combination = '-Delimiter -Line'; Parameters = @{ Delimiter = ';'; Line = $true } }
            @{ Combination = '-ToEnd -Continuous'; Parameters = @{ ToEnd = $true; Continuous = $true } }
        ) {
            $err = { Receive-SocketData -Connection $accepted @Parameters -ErrorAction SilentlyContinue } |
                Should -Throw -ErrorId 'InvalidArgument,SockPS.Commands.ReceiveSocketDataCommand' -PassThru

            $err.CategoryInfo.Category | Should -Be 'InvalidArgument'
            $err.Exception.Message | Should -Match '-(Line|ToEnd|Continuous)'
        }

        It 'rejects a negative -TimeoutSeconds and a -ByteCount of 0' {
            { Receive-SocketData -Connection $accepted -TimeoutSeconds -1 } |
                Should -Throw -ErrorId 'ParameterArgumentValidationError,SockPS.Commands.ReceiveSocketDataCommand'
            { Receive-SocketData -Connection $accepted -ByteCount 0 } |
                Should -Throw -ErrorId 'ParameterArgumentValidationError,SockPS.Commands.ReceiveSocketDataCommand'
        }
    }
}

Describe 'Receive-SocketData on datagram sockets' {
    BeforeEach {
        $server = Start-SocketServer -Protocol Udp
        $client = Connect-Socket -Protocol Udp -ComputerName 127.0.0.1 -Port $server.Port
        $socket = $server.DatagramSocket
    }

    AfterEach {
        Get-SocketConnection | Disconnect-Socket
        Get-SocketServer | Stop-SocketServer
    }

    Context 'one datagram per receive' {
        It 'returns a SocketDatagram: data, length, text, both ends, when, and the socket it came in on' {
            Send-SocketData -Connection $client -InputObject 'héllo'

            $datagram = Receive-SocketData -Connection $server -TimeoutSeconds 20

            $datagram | Should -BeOfType ([SockPS.Core.SocketDatagram])
            , $datagram.Data | Should -BeOfType ([byte[]])
            [System.Convert]::ToHexString($datagram.Data) | Should -Be '68C3A96C6C6F'
            $datagram.Length | Should -Be 6
            $datagram.Text | Should -BeExactly 'héllo'
            $datagram.ToString() | Should -BeExactly 'héllo'
            $datagram.RemoteEndPoint | Should -Be $client.LocalEndPoint
            $datagram.LocalEndPoint | Should -Be $server.LocalEndPoint
            $datagram.ReceivedAt | Should -BeOfType ([datetime])
            $datagram.ReceivedAt | Should -BeLessOrEqual (Get-Date)
            $datagram.Connection.InstanceId | Should -Be $socket.InstanceId
            $socket.DatagramsReceived | Should -Be 1
            $socket.BytesReceived | Should -Be 6
        }

        It 'never merges datagrams that have all arrived' {
            Send-SocketData -Connection $client -InputObject 'first'
            Send-SocketData -Connection $client -InputObject 'second'
            Wait-TestCondition -Condition { $socket.DatagramsReceived -ge 2 } -Description 'two datagrams queued'
            $socket.Available | Should -Be 11

            (Receive-SocketData -Connection $server).Text | Should -BeExactly 'first'
            $socket.Available | Should -Be 6
            (Receive-SocketData -Connection $server).Text | Should -BeExactly 'second'
            $socket.Available | Should -Be 0
        }

        It 'waits for a datagram that has not arrived yet' {
            $sender = Start-SendWhenReceiving -Sender $client -Receiver $socket -Text 'late'

            $datagram = Receive-SocketData -Connection $server -TimeoutSeconds 30

            Complete-Background $sender
            $datagram.Text | Should -BeExactly 'late'
        }

        It 'returns only the Data with -AsByteArray' {
            Send-SocketData -Connection $client -InputObject ([byte[]](0, 1, 254, 255))

            $bytes = Receive-SocketData -Connection $server -AsByteArray -TimeoutSeconds 20

            , $bytes | Should -BeOfType ([byte[]])
            [System.Convert]::ToHexString($bytes) | Should -Be '0001FEFF'
        }

        It 'keeps a datagram of the largest UDP size whole' {
            $data = New-TestRandomBytes -Count 65507 -Seed 21

            Send-SocketData -Connection $client -InputObject $data

            $datagram = Receive-SocketData -Connection $server -TimeoutSeconds 20
            $datagram.Length | Should -Be 65507
            Get-TestSha256 $datagram.Data | Should -Be (Get-TestSha256 $data)
        }

        It 'decodes Text with the encoding the socket had when the datagram arrived' {
            $socket.Encoding = [System.Text.Encoding]::Unicode
            Send-SocketData -Connection $client -InputObject 'hé' -Encoding unicode

            $datagram = Receive-SocketData -Connection $server -TimeoutSeconds 20

            $datagram.Length | Should -Be 4
            $datagram.Text | Should -BeExactly 'hé'
        }

        It 'reads the client side too: replies arrive as datagrams from the server' {
            Send-SocketData -Connection $server -InputObject 'to the client' -RemoteEndPoint $client.LocalEndPoint

            $datagram = Receive-SocketData -Connection $client -TimeoutSeconds 20

            $datagram.Text | Should -BeExactly 'to the client'
            $datagram.RemoteEndPoint | Should -Be $server.LocalEndPoint
            $datagram.Connection.InstanceId | Should -Be $client.InstanceId
        }

        It 'receives from several sockets in the order given, and by -Id and -Name' {
            $other = Start-SocketServer -Protocol Udp
            Send-SocketData -Connection $client -InputObject 'to first'
            Send-SocketData -Connection $client -InputObject 'to second' -RemoteEndPoint "127.0.0.1:$($other.Port)"
            Send-SocketData -Connection $client -InputObject 'by id'
            Send-SocketData -Connection $client -InputObject 'by name' -RemoteEndPoint "127.0.0.1:$($other.Port)"

            $texts = Receive-SocketData -Connection $server, $other -TimeoutSeconds 20 | ForEach-Object Text

            $texts | Should -Be @('to first', 'to second')
            (Receive-SocketData -Id $socket.Id -TimeoutSeconds 20).Text | Should -BeExactly 'by id'
            (Receive-SocketData -Name $other.DatagramSocket.Name -TimeoutSeconds 20).Text | Should -BeExactly 'by name'
        }

        It 'takes a UDP server from the pipeline' {
            Send-SocketData -Connection $client -InputObject 'piped server'

            $datagram = $server | Receive-SocketData -TimeoutSeconds 20

            $datagram.Text | Should -BeExactly 'piped server'
        }

        It 'takes the socket from the pipeline' {
            Send-SocketData -Connection $client -InputObject 'piped socket'

            ($socket | Receive-SocketData -TimeoutSeconds 20).Text | Should -BeExactly 'piped socket'
        }

        It 'shows ReceivedAt, RemoteEndPoint, Length and Text in a table, control characters escaped (\t, \n)' {
            Send-SocketData -Connection $client -InputObject "two`tparts" -Line
            $datagram = Receive-SocketData -Connection $server -TimeoutSeconds 20

            $table = $datagram | Out-String -Width 200
            $lines = $table -split "`r?`n" | Where-Object { $_.Trim() }

            $lines[0] | Should -Match '^\s*ReceivedAt\s+RemoteEndPoint\s+Length\s+Text\s*$'
            $lines[2] | Should -Match "^\d\d:\d\d:\d\d\.\d{3}\s+$([regex]::Escape($client.LocalEndPoint.ToString()))\s+10\s+two\\tparts\\n\s*$"
        }
    }

    Context '-Continuous' {
        It 'streams datagrams; Select-Object -First 3 stops cleanly and leaves the rest readable' {
            1..5 | ForEach-Object { "datagram $_" } | Send-SocketData -Connection $client

            $firstThree = Receive-SocketData -Connection $server -Continuous -TimeoutSeconds 20 | Select-Object -First 3

            $firstThree | ForEach-Object Text | Should -Be @('datagram 1', 'datagram 2', 'datagram 3')
            $socket.State | Should -Be 'Open'
            (Receive-SocketData -Connection $server -TimeoutSeconds 20).Text | Should -BeExactly 'datagram 4'
            (Receive-SocketData -Connection $server -TimeoutSeconds 20).Text | Should -BeExactly 'datagram 5'
        }

        It 'treats -TimeoutSeconds as an idle timeout: the datagrams so far, then ReceiveTimeout' {
            'a', 'b' | Send-SocketData -Connection $client
            Wait-TestCondition -Condition { $socket.DatagramsReceived -ge 2 } -Description 'two datagrams queued'

            $datagrams = Receive-SocketData -Connection $server -Continuous -TimeoutSeconds 0.2 `
                -ErrorAction SilentlyContinue -ErrorVariable failures

            $datagrams | ForEach-Object Text | Should -Be @('a', 'b')
            $failures.Count | Should -Be 1
            $failures[0].FullyQualifiedErrorId | Should -Be 'ReceiveTimeout,SockPS.Commands.ReceiveSocketDataCommand'
        }

        It 'streams byte arrays with -AsByteArray' {
            [byte[]](1, 2) | Send-SocketData -Connection $client
            , [byte[]](3) | Send-SocketData -Connection $client

            $chunks = @(Receive-SocketData -Connection $server -Continuous -AsByteArray -TimeoutSeconds 20 | Select-Object -First 2)

            $chunks.Count | Should -Be 2
            [System.Convert]::ToHexString($chunks[0]) | Should -Be '0102'
            [System.Convert]::ToHexString($chunks[1]) | Should -Be '03'
        }
    }

    Context 'boundaries' {
        It 'keeps the boundaries and contents of 1,000 datagrams of random sizes up to 8 KiB, in order' {
            $random = [System.Random]::new(7)
            $expected = [System.Collections.Generic.List[string]]::new()
            $received = [System.Collections.Generic.List[string]]::new()
            $describe = { param([byte[]] $Bytes) "$($Bytes.Length):$(Get-TestSha256 $Bytes)" }
            $batch = 50
            for ($first = 0; $first -lt 1000; $first += $batch) {
                $datagrams = for ($i = $first; $i -lt $first + $batch; $i++) {
                    $data = [byte[]]::new($random.Next(1, 8193))
                    $random.NextBytes($data)
                    $expected.Add((& $describe $data))
                    , $data
                }
                # One pipeline per batch, one datagram per item. Before producing the next item
                # the producer waits until the receive loop has taken the last one from the
                # kernel: this test is about boundaries, not about drops.
                $index = $first
                $datagrams | ForEach-Object {
                    Wait-TestCondition -Condition { $socket.DatagramsReceived -ge $index } -Description "datagram $index arriving"
                    $index++
                    , $_
                } | Send-SocketData -Connection $client
                Wait-TestCondition -Condition { $socket.DatagramsReceived -ge $first + $batch } -Description "datagram $($first + $batch) arriving"

                Receive-SocketData -Connection $server -Continuous -TimeoutSeconds 20 | Select-Object -First $batch |
                    ForEach-Object { $received.Add((& $describe $_.Data)) }
            }

            $socket.DroppedCount | Should -Be 0
            $socket.DatagramsReceived | Should -Be 1000
            $client.DatagramsSent | Should -Be 1000
            $received.Count | Should -Be 1000
            $received | Should -Be $expected
        }
    }

    Context 'drops' {
        It 'drops and counts datagrams nobody reads once its buffer is full, keeps the earliest, and makes room again' {
            # 80 datagrams of 60,000 bytes (4.8 MB) are more than SockPS buffers unread.
            $data = New-TestRandomBytes -Count 60000 -Seed 4
            for ($i = 0; $i -lt 80; $i++) {
                $data[0] = $i
                Send-SocketData -Connection $client -InputObject $data
                Wait-TestCondition -Condition { $socket.DatagramsReceived -gt $i } -Description "datagram $i taken from the kernel"
            }

            $dropped = $socket.DroppedCount
            $kept = 80 - $dropped
            $dropped | Should -BeGreaterThan 0
            $socket.Available | Should -Be ($kept * 60000)
            $firstBytes = Receive-SocketData -Connection $server -Continuous -AsByteArray -TimeoutSeconds 20 | Select-Object -First $kept |
                ForEach-Object { $_[0] }
            $firstBytes | Should -Be (0..($kept - 1))
            $socket.Available | Should -Be 0

            Send-SocketData -Connection $client -InputObject 'room again'
            (Receive-SocketData -Connection $server -TimeoutSeconds 20).Text | Should -BeExactly 'room again'
            $socket.DroppedCount | Should -Be $dropped
        }
    }

    Context 'errors' {
        It 'writes a non-terminating InvalidArgument error for <Framing>, and the datagram stays queued' -TestCases @(
            @{ Framing = '-Line'; Parameters = @{ Line = $true } }
            @{ Framing = '-Delimiter'; Parameters = @{ Delimiter = ';' } }
            @{ Framing = '-ByteCount'; Parameters = @{ ByteCount = 3 } }
            @{ Framing = '-ToEnd'; Parameters = @{ ToEnd = $true } }
        ) {
            Send-SocketData -Connection $client -InputObject 'a;b'
            Wait-TestCondition -Condition { $socket.DatagramsReceived -ge 1 } -Description 'the datagram queued'

            $output = Receive-SocketData -Connection $server @Parameters -ErrorAction SilentlyContinue -ErrorVariable failures

            $output | Should -BeNullOrEmpty
            $failures.Count | Should -Be 1
            $failures[0].FullyQualifiedErrorId | Should -BeExactly 'InvalidArgument,SockPS.Commands.ReceiveSocketDataCommand'
            $failures[0].CategoryInfo.Category | Should -Be 'InvalidArgument'
            $failures[0].Exception.Message | Should -Match 'datagram socket'
            $failures[0].TargetObject.InstanceId | Should -Be $socket.InstanceId
            (Receive-SocketData -Connection $server).Text | Should -BeExactly 'a;b'
        }

        It 'goes on with a stream connection after the InvalidArgument of a datagram socket' {
            $pair = New-TestConnectionPair
            Send-SocketData -Connection $pair.Client -InputObject 'a line' -Line

            $lines = Receive-SocketData -Connection $server, $pair.Accepted -Line -ErrorAction SilentlyContinue -ErrorVariable failures

            $lines | Should -BeExactly 'a line'
            $failures.Count | Should -Be 1
            $failures[0].FullyQualifiedErrorId | Should -Be 'InvalidArgument,SockPS.Commands.ReceiveSocketDataCommand'
        }

        It 'writes a non-terminating ReceiveTimeout error, and the socket stays usable' {
            $err = { Receive-SocketData -Connection $server -TimeoutSeconds 0.2 -ErrorAction Stop } |
                Should -Throw -ErrorId 'ReceiveTimeout,SockPS.Commands.ReceiveSocketDataCommand' -PassThru

            $err.CategoryInfo.Category | Should -Be 'OperationTimeout'
            $err.Exception.Message | Should -Match '0\.2 seconds'
            $socket.State | Should -Be 'Open'
            Send-SocketData -Connection $client -InputObject 'after the timeout'
            (Receive-SocketData -Connection $server -TimeoutSeconds 20).Text | Should -BeExactly 'after the timeout'
        }

        It 'reports a refused datagram (ICMP port unreachable) once, on the next receive, and the socket stays open' {
            $gone = Start-SocketServer -Protocol Udp
            $closedPort = $gone.Port
            Stop-SocketServer -Server $gone
            $lonely = Connect-Socket -Protocol Udp -ComputerName 127.0.0.1 -Port $closedPort
            Send-SocketData -Connection $lonely -InputObject 'anyone?'

            $err = { Receive-SocketData -Connection $lonely -TimeoutSeconds 20 -ErrorAction Stop } |
                Should -Throw -ErrorId 'ConnectionRefused,SockPS.Commands.ReceiveSocketDataCommand' -PassThru

            $err.CategoryInfo.Category | Should -Be 'ConnectionError'
            $err.Exception.Message | Should -Match "127\.0\.0\.1:$closedPort"
            $err.Exception.Message | Should -Match 'still open'
            $lonely.State | Should -Be 'Open'
            { Receive-SocketData -Connection $lonely -TimeoutSeconds 0.2 -ErrorAction Stop } |
                Should -Throw -ErrorId 'ReceiveTimeout,SockPS.Commands.ReceiveSocketDataCommand'
        }

        It 'writes ConnectionClosed for the socket of a stopped server' {
            Stop-SocketServer -Server $server

            $err = { Receive-SocketData -Connection $socket -ErrorAction Stop } |
                Should -Throw -ErrorId 'ConnectionClosed,SockPS.Commands.ReceiveSocketDataCommand' -PassThru

            $err.CategoryInfo.Category | Should -Be 'InvalidOperation'
        }

        It 'refuses a TCP server as -Connection, pointing to Wait-SocketConnection' {
            $tcp = Start-SocketServer

            $err = { Receive-SocketData -Connection $tcp } |
                Should -Throw -ErrorId 'ParameterArgumentTransformationError,SockPS.Commands.ReceiveSocketDataCommand' -PassThru

            $err.Exception.Message | Should -Match 'Wait-SocketConnection'
        }
    }
}

Describe 'Receive-SocketData on Unix sockets' {
    AfterEach {
        Get-SocketConnection | Disconnect-Socket
        Get-SocketServer | Stop-SocketServer
    }

    It 'reads lines and the end of the stream from a Unix stream socket' {
        $server = Start-SocketServer -Path (Join-Path -Path $TestDrive -ChildPath 'lines.sock')
        $client = Connect-Socket -Path $server.Path
        $accepted = Wait-SocketConnection -Server $server -TimeoutSeconds 20

        Send-SocketData -Connection $client -InputObject 'one', 'two' -Line
        Disconnect-Socket -Connection $client

        Receive-SocketData -Connection $accepted -Line -Continuous | Should -Be @('one', 'two')
        $accepted.State | Should -Be 'Closed'
    }

    It 'keeps Unix datagrams larger than UDP allows whole' {
        $server = Start-SocketServer -Path (Join-Path -Path $TestDrive -ChildPath 'big.sock') -Protocol Udp -SocketOption @{ ReceiveBufferSize = 1MB }
        $client = Connect-Socket -Path $server.Path -Protocol Udp -SocketOption @{ SendBufferSize = 1MB }
        $data = New-TestRandomBytes -Count 100000 -Seed 8

        Send-SocketData -Connection $client -InputObject $data

        $datagram = Receive-SocketData -Connection $server -TimeoutSeconds 20
        $datagram.Length | Should -Be 100000
        Get-TestSha256 $datagram.Data | Should -Be (Get-TestSha256 $data)
    }

    It 'shows a datagram from an unnamed Unix socket with no RemoteEndPoint, as (unnamed) in the table' {
        $server = Start-SocketServer -Path (Join-Path -Path $TestDrive -ChildPath 'unnamed.sock') -Protocol Udp
        $anonymous = [System.Net.Sockets.Socket]::new('Unix', 'Dgram', 'Unspecified')
        try {
            $null = $anonymous.SendTo([System.Text.Encoding]::UTF8.GetBytes('anonymous'), [System.Net.Sockets.UnixDomainSocketEndPoint]::new($server.Path))
        }
        finally {
            $anonymous.Dispose()
        }

        $datagram = Receive-SocketData -Connection $server -TimeoutSeconds 20

        $datagram.Text | Should -BeExactly 'anonymous'
        $datagram.RemoteEndPoint | Should -BeNullOrEmpty
        ($datagram | Out-String -Width 200) | Should -Match '\(unnamed\)\s+9\s+anonymous'
    }
}
