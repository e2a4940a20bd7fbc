#Requires -Version 7.4
# Send-SocketData: the seed's send. What the cmdlet sends is read back byte for byte on the
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

        It 'sends a hashtable as one string, not its entries' {
            Send-SocketData -Connection $client -InputObject @{ a = 1 } -Line

            Receive-SocketData -Connection $accepted -Line | Should -BeExactly 'System.Collections.Hashtable'
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
