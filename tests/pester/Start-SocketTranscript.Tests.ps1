#Requires -Version 7.4
# Start-SocketTranscript and Connect-Socket -TranscriptPath: recording starts where asked, in
# memory and in a file, and several connections can share one file.

BeforeAll {
    Import-Module $env:SOCKPS_MODULE_PATH -Force
    Import-Module "$PSScriptRoot/SockPS.TestHelpers.psm1" -Force
}

Describe 'Start-SocketTranscript' {
    BeforeEach {
        $server = Start-SocketServer
    }

    AfterEach {
        Get-SocketConnection | Disconnect-Socket
        Get-SocketServer | Stop-SocketServer
    }

    It 'records from the first byte with Connect-Socket -TranscriptPath: a greeting sent on accept is the first entry' {
        $greeter = Start-SocketServer -ScriptBlock {
            param($Connection)
            $Connection.SendLine('220 ready')
            $null = $Connection.ReceiveLine()
        }
        $path = Join-Path -Path $TestDrive -ChildPath 'greeting.jsonl'

        $client = Connect-Socket -ComputerName 127.0.0.1 -Port $greeter.Port -TranscriptPath $path
        Receive-SocketData -Connection $client -Line -TimeoutSeconds 20 | Should -BeExactly '220 ready'
        Send-SocketData -Connection $client -InputObject 'QUIT' -Line
        Disconnect-Socket -Connection $client

        $entries = Get-SocketTranscript -Path $path
        $entries[0].Direction | Should -BeExactly 'Received'
        $entries[0].Text | Should -BeExactly "220 ready`n"
        $entries[-1].Direction | Should -BeExactly 'Sent'
        $entries[-1].Text | Should -BeExactly "QUIT`n"
        $entries.ConnectionId | Select-Object -Unique | Should -Be $client.Id
    }

    It 'records in memory from then on; -PassThru outputs the connection, whose Transcript says what is recorded' {
        $client = Connect-Socket -ComputerName 127.0.0.1 -Port $server.Port
        $accepted = Wait-SocketConnection -Server $server -TimeoutSeconds 20
        Send-SocketData -Connection $client -InputObject 'before' -Line

        $passed = Start-SocketTranscript -Connection $client -PassThru
        Send-SocketData -Connection $client -InputObject 'after' -Line

        $passed | Should -Be $client
        $client.Transcript.IsRecording | Should -BeTrue
        $client.Transcript.Path | Should -BeNullOrEmpty
        $client.Transcript.BytesSent | Should -Be 6
        (Get-SocketTranscript -Connection $client).Text | Should -Be "after`n"
        ($client | Format-List | Out-String) | Should -Match 'Transcript\s+: memory, 1 entries'
        Receive-SocketData -Connection $accepted -Line -TimeoutSeconds 20 | Should -BeExactly 'before'
    }

    It 'records every connection piped in into one shared file, each line naming its connection' {
        $path = Join-Path -Path $TestDrive -ChildPath 'shared.jsonl'
        $clients = 1..3 | ForEach-Object { Connect-Socket -ComputerName 127.0.0.1 -Port $server.Port -Name "shared$_" }

        Get-SocketConnection -Name 'shared*' | Start-SocketTranscript -Path $path
        foreach ($client in $clients) {
            Send-SocketData -Connection $client -InputObject "from $($client.Name)" -Line
        }
        $clients | Stop-SocketTranscript

        $entries = Get-SocketTranscript -Path $path
        $entries.Count | Should -Be 3
        foreach ($client in $clients) {
            ($entries | Where-Object ConnectionId -EQ $client.Id).Text | Should -BeExactly "from $($client.Name)`n"
        }
        @(Get-Content -Path $path | Where-Object { $_ -like '{"SockPSTranscript":1,*' }).Count | Should -Be 3
    }

    It 'records every connection a server accepts from the first byte with Start-SocketServer -TranscriptPath' {
        $path = Join-Path -Path $TestDrive -ChildPath 'server.jsonl'
        # Each request arrives before a handler could start a transcript itself.
        $greeter = Start-SocketServer -TranscriptPath $path -ScriptBlock {
            param($Connection)
            while ($null -ne ($line = $Connection.ReceiveLine())) { $Connection.SendLine("you said $line") }
        }

        $answers = 1..2 | ForEach-Object { Invoke-SocketRequest -ComputerName 127.0.0.1 -Port $greeter.Port -InputObject "hi $_" -Line -TimeoutSeconds 20 }
        Stop-SocketServer -Server $greeter

        $answers | Should -Be @("you said hi 1`n", "you said hi 2`n")
        $entries = Get-SocketTranscript -Path $path
        $byConnection = $entries | Group-Object -Property ConnectionId
        $byConnection.Count | Should -Be 2
        foreach ($group in $byConnection) {
            $n = if ($group.Group.Text -contains "hi 1`n") { 1 } else { 2 }
            $group.Group.Direction | Should -Be @('Received', 'Sent')
            $group.Group.Text | Should -Be @("hi $n`n", "you said hi $n`n")
        }
    }

    It 'writes TranscriptAlreadyStarted for a connection already recorded, and goes on with the next' {
        $first = Connect-Socket -ComputerName 127.0.0.1 -Port $server.Port
        $second = Connect-Socket -ComputerName 127.0.0.1 -Port $server.Port
        Start-SocketTranscript -Connection $first

        Start-SocketTranscript -Connection $first, $second -ErrorAction SilentlyContinue -ErrorVariable failures

        $failures.Count | Should -Be 1
        $failures[0].FullyQualifiedErrorId | Should -BeExactly 'TranscriptAlreadyStarted,SockPS.Commands.StartSocketTranscriptCommand'
        $failures[0].TargetObject | Should -Be $first
        $second.Transcript.IsRecording | Should -BeTrue
    }

    It 'stops with InvalidArgument for a path it cannot write, before starting anything' {
        $client = Connect-Socket -ComputerName 127.0.0.1 -Port $server.Port

        { Start-SocketTranscript -Connection $client -Path (Join-Path -Path $TestDrive -ChildPath 'no/such/folder/t.jsonl') } |
            Should -Throw -ErrorId 'InvalidArgument,SockPS.Commands.StartSocketTranscriptCommand'
        $client.Transcript | Should -BeNullOrEmpty
    }
}
