#Requires -Version 7.4
# Issue 13, item 6: -AsJob on the cmdlets that can run long. The job runs in this process (like
# Start-ThreadJob): Get-Job lists it, Receive-Job returns the live objects (not deserialized
# copies) and the errors with the same SockPS ids as without -AsJob, Stop-Job cancels the work.
# Peers are python3 processes started here.

BeforeAll {
    Import-Module $env:SOCKPS_MODULE_PATH -Force
    Import-Module "$PSScriptRoot/SockPS.TestHelpers.psm1" -Force

    $python = Get-Command -Name python3 -CommandType Application -ErrorAction SilentlyContinue | Select-Object -First 1
    if (-not $python) {
        throw 'python3 is not installed; .ci/run installs it (apt-get install python3).'
    }

    # Listens on a loopback port (printed), accepts one client and, by mode:
    #   send <file>   sends the file's bytes and closes;
    #   hold <text>   sends the text and keeps the connection open until stdin closes;
    #   sink          reads until the client half-closes, prints 'got <count> <sha256>';
    #   upper         reads until the client half-closes, answers it upper-cased, closes.
    $peerScript = @'
import hashlib, socket, sys
mode = sys.argv[1]
l = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
l.bind(('127.0.0.1', 0))
l.listen(1)
l.settimeout(60)
print('port', l.getsockname()[1], flush=True)
c, _ = l.accept()
c.settimeout(60)
if mode == 'send':
    with open(sys.argv[2], 'rb') as f:
        c.sendall(f.read())
    c.close()
elif mode == 'hold':
    c.sendall(sys.argv[2].encode())
    sys.stdin.read()
    c.close()
else:
    data = bytearray()
    while True:
        chunk = c.recv(65536)
        if not chunk:
            break
        data += chunk
    if mode == 'sink':
        print('got', len(data), hashlib.sha256(data).hexdigest().upper(), flush=True)
    else:
        c.sendall(bytes(data).upper())
    c.close()
'@

    function Start-PythonPeer {
        param([Parameter(Mandatory)] [string[]] $Arguments)
        $process = Start-TestProcess -FilePath 'python3' -ArgumentList (@('-c', $peerScript) + $Arguments)
        $port = [int](Wait-TestProcessLine -Process $process -Pattern '^port (\d+)$' -TimeoutSeconds 30).Groups[1].Value
        [pscustomobject]@{ Process = $process; Port = $port }
    }

    # Waits for the job to finish, with a bound; the test fails if it does not.
    function Wait-TestJob {
        param([Parameter(Mandatory)] $Job, [double] $TimeoutSeconds = 60)
        if (-not (Wait-Job -Job $Job -Timeout $TimeoutSeconds)) {
            throw "The job is still $($Job.State) after $TimeoutSeconds s."
        }
    }
}

AfterAll {
    Stop-TestProcess -All
}

Describe '-AsJob' {
    AfterEach {
        Get-Job | Where-Object PSJobTypeName -EQ 'SockPSJob' | Remove-Job -Force
        Get-SocketConnection | Disconnect-Socket
        Get-SocketServer | Stop-SocketServer
        Stop-TestProcess -All
    }

    Context 'Test-SocketPort' {
        It 'returns a job Get-Job lists, whose output is the live PortTestResult objects, one per piped target' {
            $server = Start-SocketServer -Port 0
            $job = '127.0.0.1', 'localhost' | Test-SocketPort -Port $server.Port -AsJob
            $job | Should -BeOfType ([System.Management.Automation.Job2])
            $job.PSJobTypeName | Should -Be 'SockPSJob'
            $job.Command | Should -Match '^\(2 inputs\) \| Test-SocketPort -Port \d+$'
            (Get-Job -Id $job.Id).InstanceId | Should -Be $job.InstanceId
            Wait-TestJob $job
            $job.State | Should -Be 'Completed'
            $results = @(Receive-Job -Job $job)
            $results.Count | Should -Be 2
            $results | ForEach-Object { $_ | Should -BeOfType ([SockPS.Core.PortTestResult]) }
            $results.ComputerName | Should -Be @('127.0.0.1', 'localhost')
            $results.Status | Should -Be @('Open', 'Open')
            $results[0].Latency | Should -BeOfType ([timespan])
        }

        It 'Stop-Job ends a -Continuous test; what it measured before is in the job' {
            $server = Start-SocketServer -Port 0
            $job = Test-SocketPort -ComputerName 127.0.0.1 -Port $server.Port -Continuous -IntervalSeconds 0.1 -AsJob
            Wait-TestCondition -Condition { $job.Output.Count -ge 2 } -Description 'two results from the running job' -TimeoutSeconds 30
            $job.State | Should -Be 'Running'
            Stop-Job -Job $job
            $job.State | Should -Be 'Stopped'
            @(Receive-Job -Job $job).Count | Should -BeGreaterOrEqual 2
        }
    }

    Context 'sessions' {
        It 'lists a job only in the session that started it; another runspace''s Get-Job and Remove-Job leave it alone' {
            $server = Start-SocketServer -Port 0
            $mine = Test-SocketPort -ComputerName 127.0.0.1 -Port $server.Port -AsJob
            Wait-TestJob $mine
            # The other runspace starts a SockPS job of its own, so its JobManager has the adapter.
            $seen = Start-ThreadJob -ArgumentList $env:SOCKPS_MODULE_PATH, $server.Port -ScriptBlock {
                param($ModulePath, $Port)
                Import-Module $ModulePath
                $theirs = Test-SocketPort -ComputerName 127.0.0.1 -Port $Port -AsJob
                $null = Wait-Job -Job $theirs -Timeout 60
                $listed = @(Get-Job | Where-Object PSJobTypeName -EQ 'SockPSJob' | ForEach-Object InstanceId)
                Get-Job | Where-Object PSJobTypeName -EQ 'SockPSJob' | Remove-Job -Force
                [pscustomobject]@{ Theirs = $theirs.InstanceId; Listed = $listed }
            } | Receive-Job -Wait -AutoRemoveJob
            $seen.Listed | Should -Be @($seen.Theirs)
            (Get-Job -InstanceId $mine.InstanceId).InstanceId | Should -Be $mine.InstanceId
            Receive-Job -Job $mine -Wait -AutoRemoveJob | ForEach-Object Status | Should -Be 'Open'
            Get-Job | Where-Object InstanceId -EQ $mine.InstanceId | Should -BeNullOrEmpty
        }
    }

    Context 'Invoke-SocketRequest' {
        It 'returns the reply of a real peer through the job' {
            $peer = Start-PythonPeer -Arguments 'upper'
            $job = Invoke-SocketRequest -ComputerName 127.0.0.1 -Port $peer.Port -InputObject 'hello job' -AsJob
            Wait-TestJob $job
            Receive-Job -Job $job | Should -BeExactly 'HELLO JOB'
            $job.State | Should -Be 'Completed'
        }

        It 'a refused connection is the job''s error, with the id the command has without -AsJob' {
            $port = Get-TestFreeTcpPort
            $direct = Get-TestWrittenError { Invoke-SocketRequest -ComputerName 127.0.0.1 -Port $port -InputObject 'x' }
            $job = Invoke-SocketRequest -ComputerName 127.0.0.1 -Port $port -InputObject 'x' -AsJob
            Wait-TestJob $job
            @($job.Error).Count | Should -Be 1
            $job.Error[0].FullyQualifiedErrorId | Should -Be $direct.FullyQualifiedErrorId
            $job.Error[0].FullyQualifiedErrorId | Should -Match '^ConnectionRefused,SockPS\.'
            $job.Error[0].CategoryInfo.Category | Should -Be $direct.CategoryInfo.Category
        }
    }

    Context 'Wait-SocketConnection' {
        It 'returns the accepted connection itself: the object Get-SocketConnection lists' {
            $server = Start-SocketServer -Port 0
            $job = Wait-SocketConnection -Server $server -AsJob
            $job.State | Should -BeIn @('NotStarted', 'Running')
            $client = Start-TestProcess -FilePath 'python3' -ArgumentList @('-c', "import socket,sys; s=socket.create_connection(('127.0.0.1', $($server.Port))); s.sendall(b'from python'); print('sent', flush=True); sys.stdin.read()")
            $null = Wait-TestProcessLine -Process $client -Pattern '^sent$' -TimeoutSeconds 30
            Wait-TestJob $job
            $accepted = Receive-Job -Job $job
            $accepted | Should -BeOfType ([SockPS.Core.SocketConnection])
            [object]::ReferenceEquals($accepted, (Get-SocketConnection -Id $accepted.Id)) | Should -BeTrue
            $bytes = Receive-SocketData -Connection $accepted -ByteCount 11 -TimeoutSeconds 20
            [System.Text.Encoding]::ASCII.GetString($bytes) | Should -BeExactly 'from python'
        }

        It 'Stop-Job cancels the wait and leaves the server listening' {
            $server = Start-SocketServer -Port 0
            $job = Wait-SocketConnection -Server $server -AsJob
            Wait-TestCondition -Condition { $job.State -eq 'Running' } -Description 'the job running' -TimeoutSeconds 30
            Stop-Job -Job $job
            $job.State | Should -Be 'Stopped'
            $server.State | Should -Be 'Listening'
            $client = Connect-Socket -ComputerName 127.0.0.1 -Port $server.Port
            (Wait-SocketConnection -Server $server -TimeoutSeconds 20).RemoteEndPoint.Port | Should -Be $client.LocalEndPoint.Port
        }

        It 'Receive-Job -Wait -AutoRemoveJob removes the job' {
            $server = Start-SocketServer -Port 0
            $job = Wait-SocketConnection -Server $server -AsJob
            $client = Connect-Socket -ComputerName 127.0.0.1 -Port $server.Port
            $accepted = $job | Receive-Job -Wait -AutoRemoveJob
            $accepted.RemoteEndPoint.Port | Should -Be $client.LocalEndPoint.Port
            Get-Job -Id $job.Id -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        }
    }

    Context 'Receive-SocketData' {
        It '-OutFile -AsJob writes the peer''s bytes to a file relative to the caller''s location' {
            $bytes = New-TestRandomBytes -Count (3MB + 17)
            $source = Join-Path -Path $TestDrive -ChildPath 'source.bin'
            [System.IO.File]::WriteAllBytes($source, $bytes)
            $peer = Start-PythonPeer -Arguments 'send', $source
            $connection = Connect-Socket -ComputerName 127.0.0.1 -Port $peer.Port
            Push-Location -LiteralPath $TestDrive
            try {
                $job = Receive-SocketData -Connection $connection -OutFile 'received.bin' -AsJob
            }
            finally {
                Pop-Location
            }
            Wait-TestJob $job
            $job.State | Should -Be 'Completed'
            @($job.Error).Count | Should -Be 0
            Get-TestSha256 ([System.IO.File]::ReadAllBytes((Join-Path -Path $TestDrive -ChildPath 'received.bin'))) |
                Should -Be (Get-TestSha256 $bytes)
        }

        It '-ToEnd -AsJob returns the text; a piped connection works' {
            $source = Join-Path -Path $TestDrive -ChildPath 'text.txt'
            [System.IO.File]::WriteAllText($source, "line one`nline two")
            $peer = Start-PythonPeer -Arguments 'send', $source
            $connection = Connect-Socket -ComputerName 127.0.0.1 -Port $peer.Port
            $job = $connection | Receive-SocketData -ToEnd -AsJob
            Wait-TestJob $job
            Receive-Job -Job $job | Should -BeExactly "line one`nline two"
        }

        It 'Stop-Job cancels a -ToEnd receive from a peer that keeps the connection open' {
            $peer = Start-PythonPeer -Arguments 'hold', 'partial'
            $connection = Connect-Socket -ComputerName 127.0.0.1 -Port $peer.Port
            $job = Receive-SocketData -Connection $connection -ToEnd -AsJob
            Wait-TestCondition -Condition { $job.State -eq 'Running' } -Description 'the job running' -TimeoutSeconds 30
            Stop-Job -Job $job
            $job.State | Should -Be 'Stopped'
        }

        It 'without -OutFile or -ToEnd, -AsJob is refused with AsJobNotSupported' {
            $peer = Start-PythonPeer -Arguments 'hold', 'x'
            $connection = Connect-Socket -ComputerName 127.0.0.1 -Port $peer.Port
            { Receive-SocketData -Connection $connection -Line -AsJob } |
                Should -Throw -ErrorId 'AsJobNotSupported,SockPS.Commands.ReceiveSocketDataCommand'
        }
    }

    Context 'Send-SocketData' {
        It '-Path -AsJob sends the file; the peer got every byte' {
            $bytes = New-TestRandomBytes -Count (2MB + 5) -Seed 7
            $source = Join-Path -Path $TestDrive -ChildPath 'upload.bin'
            [System.IO.File]::WriteAllBytes($source, $bytes)
            $peer = Start-PythonPeer -Arguments 'sink'
            $connection = Connect-Socket -ComputerName 127.0.0.1 -Port $peer.Port
            $job = Send-SocketData -Connection $connection -Path $source -AsJob
            Wait-TestJob $job
            $job.State | Should -Be 'Completed'
            @($job.Error).Count | Should -Be 0
            $connection.ShutdownSend()
            $got = Wait-TestProcessLine -Process $peer.Process -Pattern '^got (\d+) ([0-9A-F]+)$' -TimeoutSeconds 30
            [int]$got.Groups[1].Value | Should -Be $bytes.Length
            $got.Groups[2].Value | Should -Be (Get-TestSha256 $bytes)
        }

        It 'a missing file is the job''s error, with the id the command has without -AsJob' {
            $peer = Start-PythonPeer -Arguments 'sink'
            $connection = Connect-Socket -ComputerName 127.0.0.1 -Port $peer.Port
            $missing = Join-Path -Path $TestDrive -ChildPath 'missing.bin'
            $direct = $null
            try { Send-SocketData -Connection $connection -Path $missing } catch { $direct = $_ }
            if ($null -eq $direct) { $direct = Get-TestWrittenError { Send-SocketData -Connection $connection -Path $missing } }
            $job = Send-SocketData -Connection $connection -Path $missing -AsJob
            Wait-TestJob $job
            @($job.Error).Count | Should -BeGreaterOrEqual 1
            $job.Error[0].FullyQualifiedErrorId | Should -Be $direct.FullyQualifiedErrorId
            $job.Error[0].FullyQualifiedErrorId | Should -Match ',SockPS\.Commands\.SendSocketDataCommand$'
        }

        It 'without -Path, -AsJob is refused with AsJobNotSupported' {
            $peer = Start-PythonPeer -Arguments 'sink'
            $connection = Connect-Socket -ComputerName 127.0.0.1 -Port $peer.Port
            { Send-SocketData -Connection $connection -InputObject 'x' -AsJob } |
                Should -Throw -ErrorId 'AsJobNotSupported,SockPS.Commands.SendSocketDataCommand'
        }
    }
}
