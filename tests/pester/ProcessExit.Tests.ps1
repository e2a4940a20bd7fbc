#Requires -Version 7.4
# Process exit (issue 10): when a `pwsh -File` or `pwsh -c` script ends with SockPS objects still
# open, the process ends too, and SockPS closes what it had open on the way out (a Unix socket file
# is removed, a transcript file is complete). Each case runs in a fresh pwsh that must exit on its
# own; the bound on that wait only keeps a hang from hanging the suite, it is not a timing check.

BeforeAll {
    Import-Module $env:SOCKPS_MODULE_PATH -Force
    Import-Module "$PSScriptRoot/SockPS.TestHelpers.psm1" -Force

    # Generous: a fresh pwsh takes seconds to start on a busy machine, and the child does its
    # setup before it says "ready". After "ready" it has nothing left to do but exit.
    $script:ReadyTimeout = 120
    $script:ExitTimeout = 60

    # Runs a child script (as a file with -File, or inline with -c) that sets something up, prints
    # "ready ..." and ends; returns the child and the ready match once it has exited.
    function Invoke-ExitingChild {
        param(
            [Parameter(Mandatory)] [string] $Script,
            [Parameter(Mandatory)] [ValidateSet('File', 'Command')] [string] $Mode
        )

        $body = "Set-StrictMode -Version Latest`n`$ErrorActionPreference = 'Stop'`nImport-Module '$($env:SOCKPS_MODULE_PATH)'`n$Script"
        if ($Mode -eq 'File') {
            $file = Join-Path -Path $TestDrive -ChildPath "child-$([guid]::NewGuid().ToString('n')).ps1"
            Set-Content -LiteralPath $file -Value $body
            $child = Start-TestPwsh -File $file
        }
        else {
            $child = Start-TestPwsh -Command $body
        }

        $ready = Wait-TestProcessLine -Process $child -Pattern '^ready\b(.*)$' -TimeoutSeconds $script:ReadyTimeout
        $exitCode = Wait-TestProcessExit -Process $child -TimeoutSeconds $script:ExitTimeout
        [pscustomobject]@{
            Child    = $child
            Ready    = $ready.Groups[1].Value.Trim()
            ExitCode = $exitCode
        }
    }
}

Describe 'pwsh exits with SockPS objects still open' {
    AfterEach {
        Stop-TestProcess -All
        Get-SocketConnection | Disconnect-Socket
        Get-SocketServer | Stop-SocketServer
    }

    It 'a handler server whose handler waits in ReceiveLine with -ReceiveTimeoutSeconds 0 (<Mode>)' -TestCases @(
        @{ Mode = 'File' }
        @{ Mode = 'Command' }
    ) {
        # README's own echo pattern, one client connected and served once, the handler back in
        # ReceiveLine waiting forever: the script's last line is the end of the process.
        $run = Invoke-ExitingChild -Mode $Mode -Script @'
$server = Start-SocketServer -ReceiveTimeoutSeconds 0 -ScriptBlock {
    param($Connection)
    while ($null -ne ($line = $Connection.ReceiveLine())) { $Connection.SendLine($line) }
}
$client = Connect-Socket -ComputerName 127.0.0.1 -Port $server.Port
$client.SendLine('one')
if ($client.ReceiveLine() -ne 'one') { throw 'no echo' }
"ready $($server.Handlers.Running)"
'@

        $run.Ready | Should -Be '1' -Because 'the handler was running, waiting for the next line'
        $run.ExitCode | Should -Be 0
    }

    It 'an open client connection with data waiting unread (<Mode>)' -TestCases @(
        @{ Mode = 'Command' }
    ) {
        # The server greets, then keeps its end open: the child's connection has a line buffered.
        $server = Start-SocketServer -ScriptBlock {
            param($Connection)
            $Connection.KeepOpen = $true
            $Connection.SendLine('pending')
        }
        $run = Invoke-ExitingChild -Mode $Mode -Script @"
`$client = Connect-Socket -ComputerName 127.0.0.1 -Port $($server.Port)
`$null = Wait-SocketData -Connection `$client -Any -TimeoutSeconds 60
"ready `$(`$client.Available)"
"@

        $run.Ready | Should -Be '8' -Because 'the greeting waited, unread'
        $run.ExitCode | Should -Be 0
        Wait-TestCondition -Condition { @($server.Connections | Where-Object State -EQ 'Open').Count -eq 0 } -Description 'the server seeing the child''s end close'
    }

    It 'a listening TCP server (<Mode>)' -TestCases @(
        @{ Mode = 'File' }
    ) {
        $run = Invoke-ExitingChild -Mode $Mode -Script @'
$server = Start-SocketServer
"ready $($server.Port)"
'@

        $run.ExitCode | Should -Be 0
        (Test-SocketPort -ComputerName 127.0.0.1 -Port ([int]$run.Ready) -TimeoutSeconds 5).Status | Should -Be 'Refused'
    }

    It 'a UDP server that received a datagram (<Mode>)' -TestCases @(
        @{ Mode = 'Command' }
    ) {
        $run = Invoke-ExitingChild -Mode $Mode -Script @'
$server = Start-SocketServer -Protocol Udp
$client = Connect-Socket -ComputerName 127.0.0.1 -Port $server.Port -Protocol Udp
Send-SocketData -Connection $client -InputObject 'hello'
$null = Wait-SocketData -Connection $server -Any -TimeoutSeconds 60
"ready $($server.DatagramSocket.Available)"
'@

        $run.Ready | Should -Not -Be '0' -Because 'the datagram waited, unread'
        $run.ExitCode | Should -Be 0
    }

    It 'a Unix socket server, whose socket file is removed (<Mode>)' -TestCases @(
        @{ Mode = 'File' }
    ) {
        $path = Join-Path -Path $TestDrive -ChildPath 'exit.sock'
        $run = Invoke-ExitingChild -Mode $Mode -Script @"
`$server = Start-SocketServer -Path '$path'
`$client = Connect-Socket -Path '$path'
"ready `$(Test-Path -LiteralPath '$path')"
"@

        $run.Ready | Should -Be 'True'
        $run.ExitCode | Should -Be 0
        Test-Path -LiteralPath $path | Should -BeFalse -Because 'the server removes its socket file when it stops, process exit included'
    }

    It 'a relay with a live forward (<Mode>)' -TestCases @(
        @{ Mode = 'Command' }
    ) {
        $echo = Start-SocatEcho -Fork
        $run = Invoke-ExitingChild -Mode $Mode -Script @"
`$relay = Start-SocketRelay -ListenPort 0 -ComputerName 127.0.0.1 -Port $($echo.Port)
`$client = Connect-Socket -ComputerName 127.0.0.1 -Port `$relay.LocalEndPoint.Port
`$client.SendLine('through')
if (`$client.ReceiveLine() -ne 'through') { throw 'no echo through the relay' }
"ready `$(`$relay.LocalEndPoint.Port)"
"@

        $run.ExitCode | Should -Be 0
        (Test-SocketPort -ComputerName 127.0.0.1 -Port ([int]$run.Ready) -TimeoutSeconds 5).Status | Should -Be 'Refused'
    }

    It 'a transcript being written: the file holds every byte sent, in whole lines (<Mode>)' -TestCases @(
        @{ Mode = 'File' }
    ) {
        $server = Start-SocketServer
        $transcript = Join-Path -Path $TestDrive -ChildPath 'exit.jsonl'
        # 20,000 small sends, each an entry line for the transcript's writer, queued faster than
        # it writes them: the script ends with entries still queued.
        $run = Invoke-ExitingChild -Mode $Mode -Script @"
`$client = Connect-Socket -ComputerName 127.0.0.1 -Port $($server.Port) -TranscriptPath '$transcript'
`$block = [byte[]]::new(50)
[System.Random]::new(5).NextBytes(`$block)
for (`$i = 0; `$i -lt 20000; `$i++) { `$client.Send(`$block) }
"ready `$(`$client.BytesSent)"
"@
        $accepted = Wait-SocketConnection -Server $server -TimeoutSeconds 20
        $received = Receive-SocketData -Connection $accepted -ToEnd -AsByteArray -TimeoutSeconds 60

        $run.ExitCode | Should -Be 0
        $run.Ready | Should -Be (20000 * 50)
        $received.Length | Should -Be (20000 * 50)
        $entries = @(Get-SocketTranscript -Path $transcript)
        ($entries | Where-Object Direction -EQ 'Sent' | Measure-Object -Property Length -Sum).Sum |
            Should -Be (20000 * 50) -Because 'every send was written out before the process ended'
        (Get-Content -LiteralPath $transcript -Tail 1) | Should -Match '\}$' -Because 'the last line is whole'
    }

    It 'a Wait-SocketConnection waiting forever in a thread job (<Mode>)' -TestCases @(
        @{ Mode = 'File' }
        @{ Mode = 'Command' }
    ) {
        # The thread job's pipeline runs on a foreground thread, which .NET waits for before it
        # raises ProcessExit: only closing the server when pwsh closes its runspace ends the wait.
        $run = Invoke-ExitingChild -Mode $Mode -Script @'
$server = Start-SocketServer
$module = (Get-Module -Name SockPS).Path
$job = Start-ThreadJob -ScriptBlock {
    Import-Module $using:module
    'waiting'
    Wait-SocketConnection -Server $using:server -TimeoutSeconds 0
}
$deadline = [datetime]::UtcNow.AddSeconds(60)
while (@($job.Output) -notcontains 'waiting' -and [datetime]::UtcNow -lt $deadline) { Start-Sleep -Milliseconds 20 }
"ready $($job.State)"
'@

        $run.Ready | Should -Be 'Running'
        $run.ExitCode | Should -Be 0
    }
}
