#Requires -Version 7.4
# A peer nobody here wrote: socat, as an echo server for Connect-Socket and as a client of
# Start-SocketServer. Large transfers are compared by SHA-256.

BeforeAll {
    Import-Module $env:SOCKPS_MODULE_PATH -Force
    Import-Module "$PSScriptRoot/SockPS.TestHelpers.psm1" -Force

    $socat = Get-Command -Name socat -CommandType Application -ErrorAction SilentlyContinue | Select-Object -First 1
    if (-not $socat) {
        throw 'socat is not installed; .ci/run installs it (apt-get install socat).'
    }
}

AfterAll {
    Stop-TestProcess -All
}

Describe 'socat as an echo server for Connect-Socket' {
    BeforeEach {
        $echo = Start-SocatEcho
        $connection = Connect-Socket -ComputerName 127.0.0.1 -Port $echo.Port -Name 'to-socat'
    }

    AfterEach {
        Get-SocketConnection | Disconnect-Socket
        Get-SocketServer | Stop-SocketServer
        Stop-TestProcess -Process $echo.Process
    }

    It 'echoes lines, UTF-8 included' {
        $lines = 'hello socat', 'ünïcödé €', '', 'last'

        Send-SocketData -Connection $connection -InputObject $lines -Line

        foreach ($line in $lines) {
            Receive-SocketData -Connection $connection -Line | Should -BeExactly $line
        }
    }

    It 'echoes 1.5 MiB of random bytes unchanged (SHA-256)' {
        $data = New-TestRandomBytes -Count (1536KB + 3) -Seed 42
        $back = [System.IO.MemoryStream]::new()
        $block = 256KB

        # Block by block, reading each echo back before the next, so neither side's buffers
        # have to hold the whole transfer.
        for ($offset = 0; $offset -lt $data.Length; $offset += $block) {
            $count = [Math]::Min($block, $data.Length - $offset)
            $chunk = [byte[]]::new($count)
            [Array]::Copy($data, $offset, $chunk, 0, $count)
            Send-SocketData -Connection $connection -InputObject $chunk
            $echoed = Receive-SocketData -Connection $connection -ByteCount $count -TimeoutSeconds 30
            $back.Write($echoed, 0, $echoed.Length)
        }

        $back.Length | Should -Be $data.Length
        Get-TestSha256 $back.ToArray() | Should -Be (Get-TestSha256 $data)
        $connection.BytesSent | Should -Be $data.Length
        $connection.BytesReceived | Should -Be $data.Length
    }

    It 'gets everything back after a half-close, then the end of the stream' {
        Send-SocketData -Connection $connection -InputObject 'sent before the half-close'

        Disconnect-Socket -Connection $connection -Shutdown Send

        Receive-SocketData -Connection $connection -ToEnd -TimeoutSeconds 30 | Should -BeExactly 'sent before the half-close'
        $connection.State | Should -Be 'Closed'
    }
}

Describe 'socat as a client of Start-SocketServer' {
    BeforeEach {
        $server = Start-SocketServer
        $client = $null
    }

    AfterEach {
        Get-SocketConnection | Disconnect-Socket
        Get-SocketServer | Stop-SocketServer
        Stop-TestProcess -Process $client
    }

    It 'receives a 1.5 MiB file socat sends, byte for byte (SHA-256)' {
        $data = New-TestRandomBytes -Count (1536KB + 5) -Seed 9
        $file = Join-Path -Path $TestDrive -ChildPath 'payload.bin'
        [System.IO.File]::WriteAllBytes($file, $data)

        $client = Start-TestProcess -FilePath 'socat' -ArgumentList @('-u', "OPEN:$file", "TCP:127.0.0.1:$($server.Port)")
        $accepted = Wait-SocketConnection -Server $server -TimeoutSeconds 30
        $received = Receive-SocketData -Connection $accepted -ToEnd -AsByteArray -TimeoutSeconds 30

        $received.Length | Should -Be $data.Length
        Get-TestSha256 $received | Should -Be (Get-TestSha256 $data)
        Wait-TestProcessExit -Process $client -TimeoutSeconds 30 | Should -Be 0 -Because $client.Transcript()
    }

    It 'talks both ways with socat on stdin and stdout' {
        $client = Start-TestProcess -FilePath 'socat' -ArgumentList @('-', "TCP:127.0.0.1:$($server.Port)")
        $accepted = Wait-SocketConnection -Server $server -TimeoutSeconds 30

        # socat's stdin goes to SockPS...
        $client.WriteInput('line from socat')
        $client.WriteInput('ünïcödé from socat')
        Receive-SocketData -Connection $accepted -Line -TimeoutSeconds 30 | Should -BeExactly 'line from socat'
        Receive-SocketData -Connection $accepted -Line -TimeoutSeconds 30 | Should -BeExactly 'ünïcödé from socat'

        # ...and what SockPS sends, socat prints.
        Send-SocketData -Connection $accepted -InputObject 'line from SockPS', 'ünïcödé from SockPS' -Line
        $null = Wait-TestProcessLine -Process $client -Pattern '^line from SockPS$' -TimeoutSeconds 30
        $null = Wait-TestProcessLine -Process $client -Pattern '^ünïcödé from SockPS$' -TimeoutSeconds 30

        # Closing stdin half-closes socat's side: SockPS sees the end, and socat exits cleanly
        # once SockPS closes too.
        $client.CloseInput()
        Receive-SocketData -Connection $accepted -ToEnd -TimeoutSeconds 30 | Should -BeExactly ''
        Disconnect-Socket -Connection $accepted
        Wait-TestProcessExit -Process $client -TimeoutSeconds 30 | Should -Be 0 -Because $client.Transcript()
    }
}
