#Requires -Version 7.4
# The issue-6 examples, each run as a separate pwsh process the way a user runs it, and checked
# from the client side: examples/echo-server.ps1, examples/chat-broker.ps1 and
# examples/port-forward.ps1.

BeforeAll {
    Import-Module $env:SOCKPS_MODULE_PATH -Force
    Import-Module "$PSScriptRoot/SockPS.TestHelpers.psm1" -Force

    $examples = Join-Path -Path $PSScriptRoot -ChildPath '../../examples' -Resolve

    # Starts an example on a free port and returns @{ Process; Port } once it says where it listens.
    function Start-TestExample([string] $Name, [string[]] $ArgumentList = @()) {
        $process = Start-TestPwsh -File (Join-Path -Path $examples -ChildPath $Name) -ArgumentList (
            @('-Port', '0', '-ModulePath', $env:SOCKPS_MODULE_PATH) + $ArgumentList)
        $listening = Wait-TestProcessLine -Process $process -Pattern '^Listening on 127\.0\.0\.1:(\d+)' -TimeoutSeconds 30
        [pscustomobject]@{ Process = $process; Port = [int]$listening.Groups[1].Value }
    }
}

AfterAll {
    Stop-TestProcess -All
}

Describe 'examples/echo-server.ps1' {
    BeforeEach {
        $example = $null
    }

    AfterEach {
        if ($example) {
            Stop-TestProcess -Process $example.Process
        }
        Get-SocketConnection | Disconnect-Socket
    }

    It 'echoes every line to its own client, for several clients at once' {
        $example = Start-TestExample -Name 'echo-server.ps1'
        $clients = foreach ($index in 1..3) {
            Connect-Socket -ComputerName 127.0.0.1 -Port $example.Port
        }

        foreach ($index in 0..2) {
            Send-SocketData -Connection $clients[$index] -InputObject "line one from $index", "line two from $index" -Line
        }
        $echoed = foreach ($index in 0..2) {
            Receive-SocketData -Connection $clients[$index] -Line -TimeoutSeconds 20
            Receive-SocketData -Connection $clients[$index] -Line -TimeoutSeconds 20
        }

        $echoed | Should -Be @('line one from 0', 'line two from 0', 'line one from 1', 'line two from 1', 'line one from 2', 'line two from 2')
        Disconnect-Socket -Connection $clients[0] -Shutdown Send
        Receive-SocketData -Connection $clients[0] -ToEnd -TimeoutSeconds 20 | Should -BeNullOrEmpty -Because 'the server closes when the client is done'
        $example.Process.HasExited | Should -BeFalse
        $example.Process.ErrorLines | Should -BeNullOrEmpty
    }
}

Describe 'examples/chat-broker.ps1' {
    BeforeEach {
        $example = $null
    }

    AfterEach {
        if ($example) {
            Stop-TestProcess -Process $example.Process
        }
        Get-SocketConnection | Disconnect-Socket
    }

    It 'passes a line from one client to the two others, and not back to the sender' {
        $example = Start-TestExample -Name 'chat-broker.ps1'
        $alice = Connect-Socket -ComputerName 127.0.0.1 -Port $example.Port
        Receive-SocketData -Connection $alice -Line -TimeoutSeconds 20 | Should -Match '^Welcome, .*0 other\(s\) here\.$'
        $bob = Connect-Socket -ComputerName 127.0.0.1 -Port $example.Port
        Receive-SocketData -Connection $bob -Line -TimeoutSeconds 20 | Should -Match '^Welcome, .*1 other\(s\) here\.$'
        $carol = Connect-Socket -ComputerName 127.0.0.1 -Port $example.Port
        Receive-SocketData -Connection $carol -Line -TimeoutSeconds 20 | Should -Match '^Welcome, .*2 other\(s\) here\.$'

        Send-SocketData -Connection $alice -InputObject 'hello from alice' -Line

        Receive-SocketData -Connection $bob -Line -TimeoutSeconds 20 | Should -BeExactly "[$($alice.LocalEndPoint)] hello from alice"
        Receive-SocketData -Connection $carol -Line -TimeoutSeconds 20 | Should -BeExactly "[$($alice.LocalEndPoint)] hello from alice"
        # Alice's next line is Bob's: her own never came back to her.
        Send-SocketData -Connection $bob -InputObject 'hi alice' -Line
        Receive-SocketData -Connection $alice -Line -TimeoutSeconds 20 | Should -BeExactly "[$($bob.LocalEndPoint)] hi alice"
        Receive-SocketData -Connection $carol -Line -TimeoutSeconds 20 | Should -BeExactly "[$($bob.LocalEndPoint)] hi alice"
        Wait-SocketData -Connection $bob -Any -TimeoutSeconds 0.5 | Should -BeNullOrEmpty -Because 'Bob''s own line does not come back to him either'

        # One leaves; the others go on chatting.
        Disconnect-Socket -Connection $carol
        $null = Wait-TestProcessLine -Process $example.Process -Pattern "^$([regex]::Escape("$($carol.LocalEndPoint)")) left$" -TimeoutSeconds 20
        Send-SocketData -Connection $alice -InputObject 'still here?' -Line
        Receive-SocketData -Connection $bob -Line -TimeoutSeconds 20 | Should -BeExactly "[$($alice.LocalEndPoint)] still here?"
        $example.Process.ErrorLines | Should -BeNullOrEmpty
    }
}

Describe 'examples/port-forward.ps1' {
    BeforeEach {
        $example = $null
    }

    AfterEach {
        if ($example) {
            Stop-TestProcess -Process $example.Process
        }
        Get-SocketConnection | Disconnect-Socket
        Get-SocketServer | Stop-SocketServer
    }

    It 'forwards clients to a SockPS server, both ways, and reports the traffic' {
        $target = Start-SocketServer -ScriptBlock {
            param($Connection)
            $Connection.SendLine("target here, you are $($Connection.RemoteEndPoint)")
            while ($null -ne ($line = $Connection.ReceiveLine())) {
                $Connection.SendLine($line.ToUpperInvariant())
            }
        }
        $example = Start-TestExample -Name 'port-forward.ps1' -ArgumentList @('-TargetHost', '127.0.0.1', '-TargetPort', [string]$target.Port)
        $null = Wait-TestProcessLine -Process $example.Process -Pattern "forwarding to 127\.0\.0\.1:$($target.Port)$" -FromStart -TimeoutSeconds 20

        $client = Connect-Socket -ComputerName 127.0.0.1 -Port $example.Port
        $greeting = Receive-SocketData -Connection $client -Line -TimeoutSeconds 20
        Send-SocketData -Connection $client -InputObject 'shout this' -Line
        $answer = Receive-SocketData -Connection $client -Line -TimeoutSeconds 20
        Disconnect-Socket -Connection $client -Shutdown Send

        $greeting | Should -Match '^target here, you are 127\.0\.0\.1:\d+$'
        $greeting | Should -Not -BeExactly "target here, you are $($client.LocalEndPoint)" -Because 'the target sees the forwarder, not the client'
        $answer | Should -BeExactly 'SHOUT THIS'
        Receive-SocketData -Connection $client -ToEnd -TimeoutSeconds 20 | Should -BeNullOrEmpty
        $null = Wait-TestProcessLine -Process $example.Process -Pattern '^0 active, 1 in all, 11 bytes up, \d+ down, 0 failed' -TimeoutSeconds 20
        $example.Process.ErrorLines | Should -BeNullOrEmpty
    }
}
