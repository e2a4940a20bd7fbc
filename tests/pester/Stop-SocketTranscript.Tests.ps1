#Requires -Version 7.4
# Stop-SocketTranscript: recording ends, the file is complete when it returns, and what was
# recorded stays readable; closing a connection ends its transcript too.

BeforeAll {
    Import-Module $env:SOCKPS_MODULE_PATH -Force
    Import-Module "$PSScriptRoot/SockPS.TestHelpers.psm1" -Force
}

Describe 'Stop-SocketTranscript' {
    BeforeEach {
        $server = Start-SocketServer
        $client = Connect-Socket -ComputerName 127.0.0.1 -Port $server.Port
        $accepted = Wait-SocketConnection -Server $server -TimeoutSeconds 20
        $path = Join-Path -Path $TestDrive -ChildPath "stop-$([guid]::NewGuid()).jsonl"
    }

    AfterEach {
        Get-SocketConnection | Disconnect-Socket
        Get-SocketServer | Stop-SocketServer
    }

    It 'stops recording; the file holds every entry when it returns, and the entries stay readable' {
        Start-SocketTranscript -Connection $client -Path $path
        # Less than the peer buffers unread, so the sends never wait for it to read.
        $data = New-TestRandomBytes -Count 100KB -Seed 5
        1..8 | ForEach-Object { Send-SocketData -Connection $client -InputObject $data }

        $passed = Stop-SocketTranscript -Connection $client -PassThru
        Send-SocketData -Connection $client -InputObject 'not recorded' -Line

        $passed | Should -Be $client
        $client.Transcript.IsRecording | Should -BeFalse
        $client.Transcript.StoppedAt | Should -Not -BeNullOrEmpty
        # Read at once, with no wait: Stop returned only once the writer had caught up.
        @(Get-Content -Path $path).Count | Should -Be 9
        $fromFile = Get-SocketTranscript -Path $path
        $fromFile.Count | Should -Be 8
        $fromFile | ForEach-Object { Get-TestSha256 -Bytes $_.Data } | Select-Object -Unique | Should -Be (Get-TestSha256 -Bytes $data)
        (Get-SocketTranscript -Connection $client).Count | Should -Be 8
        $received = Receive-SocketData -Connection $accepted -ByteCount (800KB) -TimeoutSeconds 30
        $received.Length | Should -Be 800KB
    }

    It 'is done by Disconnect-Socket too: closing ends the transcript and completes the file' {
        Start-SocketTranscript -Connection $client -Path $path
        Send-SocketData -Connection $client -InputObject 'last words' -Line

        Disconnect-Socket -Connection $client

        $client.Transcript.IsRecording | Should -BeFalse
        (Get-SocketTranscript -Path $path).Text | Should -BeExactly "last words`n"
        (Get-SocketTranscript -Connection $client).Text | Should -BeExactly "last words`n"
    }

    It 'writes TranscriptNotStarted for a connection that is not being recorded' {
        Stop-SocketTranscript -Connection $client -ErrorAction SilentlyContinue -ErrorVariable failures

        $failures.Count | Should -Be 1
        $failures[0].FullyQualifiedErrorId | Should -BeExactly 'TranscriptNotStarted,SockPS.Commands.StopSocketTranscriptCommand'
        $failures[0].CategoryInfo.Category | Should -Be 'InvalidOperation'
    }
}
