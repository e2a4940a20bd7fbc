#Requires -Version 7.4
# A peer nobody here wrote: socat, as an echo server for Connect-Socket and as a client of
# Start-SocketServer, over TCP, Unix domain sockets (stream and datagram) and UDP. Large transfers
# are compared by SHA-256.

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

Describe 'socat as a Unix socket echo server for Connect-Socket' {
    BeforeEach {
        # A new file per test: socat, killed, leaves its socket file behind.
        $path = Join-Path -Path $TestDrive -ChildPath "echo-$([guid]::NewGuid().ToString('N').Substring(0, 8)).sock"
        # -d -d makes socat say "listening on AF=1 ..." once the socket file is bound and listening.
        # EXEC:cat, not PIPE: on this machine socat's PIPE stalls now and then under full-duplex
        # load (socat spins with its pipe full and stops reading the socket; python3 sees it too).
        $echo = Start-TestProcess -FilePath 'socat' -ArgumentList @('-d', '-d', "UNIX-LISTEN:$path,fork", 'EXEC:cat')
        $null = Wait-TestProcessLine -Process $echo -Stream Error -Pattern 'listening on AF=1'
        Wait-TestCondition -Condition { Test-TestSocketFile -Path $path } -Description "socat's socket file $path appearing"
    }

    AfterEach {
        Get-SocketConnection | Disconnect-Socket
        Get-SocketServer | Stop-SocketServer
        Stop-TestProcess -Process $echo
    }

    It 'echoes 1 MiB of random bytes sent in chunks from a thread job while this thread receives (SHA-256)' {
        $connection = Connect-Socket -Path $path -Name 'to-socat-unix'
        $data = New-TestRandomBytes -Count 1MB -Seed 31
        $job = Start-ThreadJob -ScriptBlock {
            param($ModulePath, $Id, $Data)
            Import-Module $ModulePath
            # Uneven chunks, so nothing lines up with a buffer size by luck.
            $random = [System.Random]::new(5)
            for ($offset = 0; $offset -lt $Data.Length; $offset += $count) {
                $count = [Math]::Min($random.Next(1, 96KB), $Data.Length - $offset)
                $chunk = [byte[]]::new($count)
                [Array]::Copy($Data, $offset, $chunk, 0, $count)
                Send-SocketData -Id $Id -InputObject $chunk -ErrorAction Stop
            }
        } -ArgumentList $env:SOCKPS_MODULE_PATH, $connection.Id, $data
        try {
            $echoed = Receive-SocketData -Connection $connection -ByteCount $data.Length -TimeoutSeconds 30

            $null = Wait-Job -Job $job -Timeout 30
            Receive-Job -Job $job -ErrorAction SilentlyContinue -ErrorVariable jobErrors
            $jobErrors | Should -BeNullOrEmpty
            $job.State | Should -Be 'Completed'
            $echoed.Length | Should -Be $data.Length
            Get-TestSha256 $echoed | Should -Be (Get-TestSha256 $data)
            $connection.BytesSent | Should -Be $data.Length
            $connection.BytesReceived | Should -Be $data.Length
        }
        finally {
            Remove-Job -Job $job -Force
        }
    }

    It 'echoes lines over unix:///path, UTF-8 included' {
        $connection = Connect-Socket -Uri "unix://$path"
        $lines = 'hello socat', 'ünïcödé €', '', 'last'

        Send-SocketData -Connection $connection -InputObject $lines -Line

        foreach ($line in $lines) {
            Receive-SocketData -Connection $connection -Line -TimeoutSeconds 20 | Should -BeExactly $line
        }
        $connection.Transport | Should -Be 'Unix'
    }

    It 'gets everything back after a half-close, then the end of the stream' {
        $connection = Connect-Socket -Path $path

        Send-SocketData -Connection $connection -InputObject 'sent before the half-close'
        Disconnect-Socket -Connection $connection -Shutdown Send

        Receive-SocketData -Connection $connection -ToEnd -TimeoutSeconds 30 | Should -BeExactly 'sent before the half-close'
        $connection.State | Should -Be 'Closed'
    }
}

Describe 'socat as a Unix socket client of Start-SocketServer -Path' {
    BeforeEach {
        $client = $null
    }

    AfterEach {
        Get-SocketConnection | Disconnect-Socket
        Get-SocketServer | Stop-SocketServer
        Stop-TestProcess -Process $client
    }

    It 'receives a 1 MiB file socat sends with UNIX-CONNECT, byte for byte (SHA-256)' {
        $server = Start-SocketServer -Path (Join-Path -Path $TestDrive -ChildPath 'upload.sock')
        $data = New-TestRandomBytes -Count (1MB + 7) -Seed 13
        $file = Join-Path -Path $TestDrive -ChildPath 'upload.bin'
        [System.IO.File]::WriteAllBytes($file, $data)

        $client = Start-TestProcess -FilePath 'socat' -ArgumentList @('-u', "OPEN:$file", "UNIX-CONNECT:$($server.Path)")
        $accepted = Wait-SocketConnection -Server $server -TimeoutSeconds 30
        $received = Receive-SocketData -Connection $accepted -ToEnd -AsByteArray -TimeoutSeconds 30

        $received.Length | Should -Be $data.Length
        Get-TestSha256 $received | Should -Be (Get-TestSha256 $data)
        Wait-TestProcessExit -Process $client -TimeoutSeconds 30 | Should -Be 0 -Because $client.Transcript()
    }

    It 'talks both ways with socat on stdin and stdout' {
        $server = Start-SocketServer -Path (Join-Path -Path $TestDrive -ChildPath 'talk.sock')
        $client = Start-TestProcess -FilePath 'socat' -ArgumentList @('-', "UNIX-CONNECT:$($server.Path)")
        $accepted = Wait-SocketConnection -Server $server -TimeoutSeconds 30

        $client.WriteInput('line from socat')
        Receive-SocketData -Connection $accepted -Line -TimeoutSeconds 30 | Should -BeExactly 'line from socat'
        Send-SocketData -Connection $accepted -InputObject 'line from SockPS' -Line
        $null = Wait-TestProcessLine -Process $client -Pattern '^line from SockPS$' -TimeoutSeconds 30

        $client.CloseInput()
        Receive-SocketData -Connection $accepted -ToEnd -TimeoutSeconds 30 | Should -BeExactly ''
        Disconnect-Socket -Connection $accepted
        Wait-TestProcessExit -Process $client -TimeoutSeconds 30 | Should -Be 0 -Because $client.Transcript()
    }

    It 'receives the datagrams socat sends with UNIX-SENDTO, each whole' {
        $server = Start-SocketServer -Path (Join-Path -Path $TestDrive -ChildPath 'dgram-in.sock') -Protocol Udp
        $data = New-TestRandomBytes -Count 20000 -Seed 17
        $file = Join-Path -Path $TestDrive -ChildPath 'dgram.bin'
        [System.IO.File]::WriteAllBytes($file, $data)

        # socat reads the file in blocks of 8192 bytes (its -b default) and sends each as a datagram.
        $client = Start-TestProcess -FilePath 'socat' -ArgumentList @('-u', '-b', '8192', "OPEN:$file", "UNIX-SENDTO:$($server.Path)")
        $datagrams = Receive-SocketData -Connection $server -Continuous -TimeoutSeconds 30 | Select-Object -First 3

        $datagrams | ForEach-Object Length | Should -Be @(8192, 8192, 3616)
        $gathered = [System.IO.MemoryStream]::new()
        $datagrams | ForEach-Object { $gathered.Write($_.Data, 0, $_.Length) }
        Get-TestSha256 $gathered.ToArray() | Should -Be (Get-TestSha256 $data)
        $server.DatagramSocket.DroppedCount | Should -Be 0
        Wait-TestProcessExit -Process $client -TimeoutSeconds 30 | Should -Be 0 -Because $client.Transcript()
    }
}

Describe 'socat as a UDP peer' {
    BeforeEach {
        $peer = $null
    }

    AfterEach {
        Get-SocketConnection | Disconnect-Socket
        Get-SocketServer | Stop-SocketServer
        Stop-TestProcess -Process $peer
    }

    It 'echoes datagrams of <Sizes> bytes one by one, each whole (UDP-LISTEN ... PIPE)' -TestCases @(
        @{ Sizes = @(1, 1000, 8192) }
    ) {
        # socat takes the first sender as its peer and echoes what it sends; -d -d prints the port.
        $peer = Start-TestProcess -FilePath 'socat' -ArgumentList @('-d', '-d', 'UDP-LISTEN:0,bind=127.0.0.1', 'PIPE')
        $port = [int](Wait-TestProcessLine -Process $peer -Stream Error -Pattern 'listening on UDP AF=2 127\.0\.0\.1:(\d+)').Groups[1].Value
        $connection = Connect-Socket -Protocol Udp -ComputerName 127.0.0.1 -Port $port

        $seed = 0
        foreach ($size in $Sizes) {
            $data = New-TestRandomBytes -Count $size -Seed (++$seed)

            Send-SocketData -Connection $connection -InputObject $data
            $echo = Receive-SocketData -Connection $connection -TimeoutSeconds 20

            $echo.Length | Should -Be $size
            Get-TestSha256 $echo.Data | Should -Be (Get-TestSha256 $data)
            $echo.RemoteEndPoint.Port | Should -Be $port
        }
        $connection.DatagramsReceived | Should -Be $Sizes.Count
    }

    It 'sends a file to a SockPS UDP server as datagrams (UDP-SENDTO), all from one address' {
        $server = Start-SocketServer -Protocol Udp
        $data = New-TestRandomBytes -Count 20000 -Seed 19
        $file = Join-Path -Path $TestDrive -ChildPath 'udp.bin'
        [System.IO.File]::WriteAllBytes($file, $data)

        $peer = Start-TestProcess -FilePath 'socat' -ArgumentList @('-u', '-b', '8192', "OPEN:$file", "UDP-SENDTO:127.0.0.1:$($server.Port)")
        $datagrams = Receive-SocketData -Connection $server -Continuous -TimeoutSeconds 30 | Select-Object -First 3

        $datagrams | ForEach-Object Length | Should -Be @(8192, 8192, 3616)
        $gathered = [System.IO.MemoryStream]::new()
        $datagrams | ForEach-Object { $gathered.Write($_.Data, 0, $_.Length) }
        Get-TestSha256 $gathered.ToArray() | Should -Be (Get-TestSha256 $data)
        @($datagrams | ForEach-Object { $_.RemoteEndPoint.ToString() } | Select-Object -Unique).Count | Should -Be 1
        $datagrams[0].RemoteEndPoint.Address | Should -Be ([System.Net.IPAddress]::Loopback)
        $server.DatagramSocket.DroppedCount | Should -Be 0
        Wait-TestProcessExit -Process $peer -TimeoutSeconds 30 | Should -Be 0 -Because $peer.Transcript()
    }
}
