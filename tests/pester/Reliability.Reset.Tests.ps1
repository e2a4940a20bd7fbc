#Requires -Version 7.4
# Issue 10, item 1: data that arrived before a reset is always delivered first, then the reset
# is reported once, whatever receive is running when it comes; bulk transfers that fail say so
# with a SockPS error (never an AggregateException) that -ErrorAction can handle.
#
# The peer is python3: it sends random bytes, prints their SHA-256, waits for a line on its
# stdin and then closes with SO_LINGER 0, which sends a reset. The test releases it only once the
# receive under test has taken every byte, so the reset always lands in the middle of that
# receive: the race the issue found, made certain.

BeforeAll {
    Import-Module $env:SOCKPS_MODULE_PATH -Force
    Import-Module "$PSScriptRoot/SockPS.TestHelpers.psm1" -Force

    $resetter = @'
import hashlib, os, socket, struct, sys
size = int(sys.argv[1])
line_text = len(sys.argv) > 2 and sys.argv[2] == 'lines'
s = socket.socket()
s.bind(('127.0.0.1', 0))
s.listen(1)
print('port', s.getsockname()[1], flush=True)
c, _ = s.accept()
if line_text:
    data = b''.join(b'line %d\n' % i for i in range(size))
else:
    data = os.urandom(size)
c.sendall(data)
print('sent', len(data), hashlib.sha256(data).hexdigest(), flush=True)
sys.stdin.readline()
c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack('ii', 1, 0))
c.close()
print('reset', flush=True)
'@

    # Starts the peer and connects to it: @{ Peer; Connection; Length; Sha256 }.
    function Start-ResettingPeer {
        param([int] $Size, [switch] $Lines)

        $arguments = @('-c', $resetter, $Size)
        if ($Lines) { $arguments += 'lines' }
        $peer = Start-TestProcess -FilePath /usr/bin/python3 -ArgumentList $arguments
        $port = [int](Wait-TestProcessLine -Process $peer -Pattern '^port (\d+)').Groups[1].Value
        $connection = Connect-Socket -ComputerName 127.0.0.1 -Port $port
        $sent = Wait-TestProcessLine -Process $peer -Pattern '^sent (\d+) ([0-9a-f]+)'
        @{
            Peer       = $peer
            Connection = $connection
            Length     = [long]$sent.Groups[1].Value
            Sha256     = $sent.Groups[2].Value
        }
    }

    # Runs a script in a second runspace (the receive under test blocks its thread) with
    # $Connection set; returns the PowerShell instance and its async handle.
    function Start-Receive {
        param([scriptblock] $Script, $Connection, [hashtable] $Parameters = @{})

        $state = [System.Management.Automation.Runspaces.InitialSessionState]::CreateDefault2()
        $state.ImportPSModule($env:SOCKPS_MODULE_PATH)
        $runspace = [runspacefactory]::CreateRunspace($state)
        $runspace.Open()
        $shell = [powershell]::Create()
        $shell.Runspace = $runspace
        $null = $shell.AddScript($Script).AddParameter('Connection', $Connection).AddParameters($Parameters)
        @{ Shell = $shell; Handle = $shell.BeginInvoke(); Runspace = $runspace }
    }

    # Waits for the background receive to end: @{ Output; Errors }.
    function Complete-Receive {
        param($Started)

        if (-not $Started.Handle.AsyncWaitHandle.WaitOne([timespan]::FromSeconds(30))) {
            $Started.Shell.Stop()
            throw 'The receive did not end within 30 s of the reset.'
        }
        try {
            $output = $Started.Shell.EndInvoke($Started.Handle)
            @{ Output = @($output); Errors = @($Started.Shell.Streams.Error) }
        }
        finally {
            $Started.Shell.Dispose()
            $Started.Runspace.Dispose()
        }
    }

    # Lets the peer reset once the receive under test has taken every byte it sent.
    function Send-Reset {
        param($Started, $Pair)

        Wait-TestCondition -TimeoutSeconds 20 -Description 'the receive takes every byte the peer sent' -Condition {
            $Pair.Connection.BytesReceived -eq $Pair.Length -and $Pair.Connection.Available -eq 0
        }
        $Pair.Peer.WriteInput('go')
        $null = Wait-TestProcessLine -Process $Pair.Peer -Pattern '^reset'
    }

    function Get-BytesSha256 {
        param([byte[]] $Bytes)
        [System.Convert]::ToHexString([System.Security.Cryptography.SHA256]::HashData([byte[]]$Bytes)).ToLowerInvariant()
    }
}

Describe 'Reliability under resets and failed transfers' {
AfterEach {
    Get-SocketConnection | Disconnect-Socket
    Get-SocketServer | Stop-SocketServer
    Stop-TestProcess -All
}

Describe 'A reset after data: the data comes first, then one ConnectionReset' {
    It 'Receive-SocketData -ToEnd -AsByteArray returns every byte (SHA-256), then reports the reset once' {
        $pair = Start-ResettingPeer -Size 100000
        $started = Start-Receive -Connection $pair.Connection -Script {
            param($Connection)
            Receive-SocketData -Connection $Connection -ToEnd -AsByteArray -TimeoutSeconds 30
        }
        Send-Reset -Started $started -Pair $pair
        $result = Complete-Receive $started

        $result.Output.Count | Should -Be 1
        Get-BytesSha256 ([byte[]]$result.Output[0]) | Should -Be $pair.Sha256
        $result.Errors.Count | Should -Be 1
        $result.Errors[0].FullyQualifiedErrorId | Should -Be 'ConnectionReset,SockPS.Commands.ReceiveSocketDataCommand'
        $result.Errors[0].CategoryInfo.Category | Should -Be 'ConnectionError'

        # Reported once: the next receive sees a plain end of stream.
        Receive-SocketData -Connection $pair.Connection -ErrorVariable again -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        $again | Should -BeNullOrEmpty
    }

    It 'Receive-SocketData -ToEnd returns the text before the reset' {
        $pair = Start-ResettingPeer -Size 50 -Lines
        $started = Start-Receive -Connection $pair.Connection -Script {
            param($Connection)
            Receive-SocketData -Connection $Connection -ToEnd -TimeoutSeconds 30
        }
        Send-Reset -Started $started -Pair $pair
        $result = Complete-Receive $started

        $result.Output.Count | Should -Be 1
        ([string]$result.Output[0]).Split("`n", [System.StringSplitOptions]::RemoveEmptyEntries).Count | Should -Be 50
        ([string]$result.Output[0]) | Should -BeLike 'line 0*line 49*'
        $result.Errors.FullyQualifiedErrorId | Should -Be 'ConnectionReset,SockPS.Commands.ReceiveSocketDataCommand'
    }

    It 'Receive-SocketData -Line -Continuous returns every line, then the reset' {
        $pair = Start-ResettingPeer -Size 200 -Lines
        $started = Start-Receive -Connection $pair.Connection -Script {
            param($Connection)
            Receive-SocketData -Connection $Connection -Line -Continuous
        }
        Send-Reset -Started $started -Pair $pair
        $result = Complete-Receive $started

        $result.Output.Count | Should -Be 200
        $result.Output[0] | Should -Be 'line 0'
        $result.Output[199] | Should -Be 'line 199'
        $result.Errors.Count | Should -Be 1
        $result.Errors[0].FullyQualifiedErrorId | Should -Be 'ConnectionReset,SockPS.Commands.ReceiveSocketDataCommand'
    }

    It 'Receive-SocketData -OutFile keeps every byte in the file, says so, and reports the reset once as a non-terminating error' {
        $pair = Start-ResettingPeer -Size 300000
        $file = Join-Path -Path $TestDrive -ChildPath 'partial.bin'
        $started = Start-Receive -Connection $pair.Connection -Parameters @{ File = $file } -Script {
            param($Connection, $File)
            Receive-SocketData -Connection $Connection -OutFile $File -TimeoutSeconds 30
            'went on'
        }
        Send-Reset -Started $started -Pair $pair
        $result = Complete-Receive $started

        # Non-terminating: the script went on after the error.
        $result.Output | Should -Be 'went on'
        $result.Errors.Count | Should -Be 1
        $result.Errors[0].FullyQualifiedErrorId | Should -Be 'ConnectionReset,SockPS.Commands.ReceiveSocketDataCommand'
        $result.Errors[0].Exception | Should -BeOfType ([SockPS.Core.SocketOperationException])
        "$($result.Errors[0])" | Should -BeLike "*$file holds the 300000 bytes*"
        (Get-FileHash -LiteralPath $file -Algorithm SHA256).Hash.ToLowerInvariant() | Should -Be $pair.Sha256

        Receive-SocketData -Connection $pair.Connection -ErrorVariable again -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        $again | Should -BeNullOrEmpty
    }

    It 'the connection methods return every line, then throw the reset once, then return null' {
        $pair = Start-ResettingPeer -Size 20 -Lines
        $lines = foreach ($i in 1..20) { $pair.Connection.ReceiveLine() }
        $lines[19] | Should -Be 'line 19'
        $pair.Peer.WriteInput('go')
        $null = Wait-TestProcessLine -Process $pair.Peer -Pattern '^reset'

        $thrown = $null
        try { $null = $pair.Connection.ReceiveLine() } catch { $thrown = $_ }
        $thrown | Should -Not -BeNullOrEmpty
        $thrown.Exception.InnerException.Kind | Should -Be 'ConnectionReset'
        $pair.Connection.ReceiveLine() | Should -BeNullOrEmpty
    }
}

Describe 'A reset during -ByteCount' {
    It 'is reported once, as a reset, and the bytes that arrived stay buffered' {
        $pair = Start-ResettingPeer -Size 1000
        $started = Start-Receive -Connection $pair.Connection -Script {
            param($Connection)
            Receive-SocketData -Connection $Connection -ByteCount 5000 -TimeoutSeconds 30
        }
        # -ByteCount leaves the bytes buffered until all have come, so wait for them to arrive.
        Wait-TestCondition -TimeoutSeconds 20 -Description 'the 1000 bytes arrive' -Condition { $pair.Connection.BytesReceived -eq 1000 }
        $pair.Peer.WriteInput('go')
        $result = Complete-Receive $started

        $result.Output | Should -BeNullOrEmpty
        $result.Errors.Count | Should -Be 1
        $result.Errors[0].FullyQualifiedErrorId | Should -Be 'ConnectionReset,SockPS.Commands.ReceiveSocketDataCommand'
        "$($result.Errors[0])" | Should -BeLike '*reset*after 1000 of the 5000 bytes*'

        $rest = Receive-SocketData -Connection $pair.Connection -AsByteArray -ErrorVariable again -ErrorAction SilentlyContinue
        Get-BytesSha256 $rest | Should -Be $pair.Sha256
        $again | Should -BeNullOrEmpty
    }
}

Describe 'Bulk transfers that fail' {
    It 'Send-SocketData -Path to a peer that dies is a ConnectionReset error that -ErrorAction handles' {
        # The peer reads a little, then exits with unread data, so its kernel resets.
        $peer = Start-TestProcess -FilePath /usr/bin/python3 -ArgumentList @('-c', @'
import os, socket
s = socket.socket()
s.bind(('127.0.0.1', 0))
s.listen(1)
print('port', s.getsockname()[1], flush=True)
c, _ = s.accept()
c.recv(65536)
os._exit(0)
'@)
        $port = [int](Wait-TestProcessLine -Process $peer -Pattern '^port (\d+)').Groups[1].Value
        $file = Join-Path -Path $TestDrive -ChildPath 'big.bin'
        [System.IO.File]::WriteAllBytes($file, (New-TestRandomBytes -Count 64MB))
        $connection = Connect-Socket -ComputerName 127.0.0.1 -Port $port

        Send-SocketData -Connection $connection -Path $file -ErrorVariable failed -ErrorAction SilentlyContinue
        $after = 'went on'

        $after | Should -Be 'went on'
        $failed.Count | Should -Be 1
        $failed[0].FullyQualifiedErrorId | Should -Be 'ConnectionReset,SockPS.Commands.SendSocketDataCommand'
        $failed[0].CategoryInfo.Category | Should -Be 'ConnectionError'
        $failed[0].Exception | Should -BeOfType ([SockPS.Core.SocketOperationException])
    }

    It 'Receive-SocketData -OutFile -ByteCount on an early close is EndOfStream, non-terminating, naming the file' {
        $peer = Start-TestProcess -FilePath /usr/bin/python3 -ArgumentList @('-c', @'
import socket
s = socket.socket()
s.bind(('127.0.0.1', 0))
s.listen(1)
print('port', s.getsockname()[1], flush=True)
c, _ = s.accept()
c.sendall(b'x' * 4096)
c.close()
'@)
        $port = [int](Wait-TestProcessLine -Process $peer -Pattern '^port (\d+)').Groups[1].Value
        $connection = Connect-Socket -ComputerName 127.0.0.1 -Port $port
        $file = Join-Path -Path $TestDrive -ChildPath 'early.bin'

        Receive-SocketData -Connection $connection -OutFile $file -ByteCount 10000 -ErrorVariable failed -ErrorAction SilentlyContinue
        $failed.Count | Should -Be 1
        $failed[0].FullyQualifiedErrorId | Should -Be 'EndOfStream,SockPS.Commands.ReceiveSocketDataCommand'
        "$($failed[0])" | Should -BeLike "*$file holds what arrived*"
        (Get-Item -LiteralPath $file).Length | Should -Be 4096
    }

    It 'Receive-SocketData -OutFile that times out is ReceiveTimeout, non-terminating, and the connection stays usable' {
        $pair = New-TestConnectionPair
        $file = Join-Path -Path $TestDrive -ChildPath 'idle.bin'
        Send-SocketData -Connection $pair.Client -InputObject 'abc'

        Receive-SocketData -Connection $pair.Accepted -OutFile $file -TimeoutSeconds 0.3 -ErrorVariable failed -ErrorAction SilentlyContinue
        $failed.Count | Should -Be 1
        $failed[0].FullyQualifiedErrorId | Should -Be 'ReceiveTimeout,SockPS.Commands.ReceiveSocketDataCommand'
        $failed[0].CategoryInfo.Category | Should -Be 'OperationTimeout'
        Get-Content -LiteralPath $file -Raw | Should -Be 'abc'

        Send-SocketData -Connection $pair.Client -InputObject 'more'
        Receive-SocketData -Connection $pair.Accepted | Should -Be 'more'
    }
}
}
