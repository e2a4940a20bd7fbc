#Requires -Version 7.4
# Start-SocketServer -FilePath (issue 15, item 3): a program per accepted client, its standard
# input and output joined to the connection (ncat -k -e). Real programs (cat, sh, printf, sleep)
# on loopback, watched from the client side and by process id: half-close is end of input, the
# program's exit closes the connection, a reset or a stopped server stops the program, and the
# server's limits, access lists, TLS and transcripts apply as they do to -ScriptBlock handlers.
# Start-SocketProcess.Tests.ps1 covers the one-connection cmdlet.

BeforeAll {
    Import-Module $env:SOCKPS_MODULE_PATH -Force
    Import-Module "$PSScriptRoot/SockPS.TestHelpers.psm1" -Force
    Import-Module "$PSScriptRoot/SockPS.TlsTestHelpers.psm1" -Force

    $certs = New-TestCertificateSet -Directory (Join-Path -Path $TestDrive -ChildPath 'certs')

    # Waits until no process has this id (the program was stopped, or exited, and was reaped).
    function Wait-TestProcessGone([int] $ProcessId, [string] $Description) {
        Wait-TestCondition -Description $Description -Condition {
            $null -eq (Get-Process -Id $ProcessId -ErrorAction SilentlyContinue)
        }
    }

    # The first line a program sends: here always its process id ("echo $$").
    function Receive-ProcessId([SockPS.Core.SocketConnection] $Connection) {
        [int](Receive-SocketData -Connection $Connection -Line -TimeoutSeconds 20)
    }

    # A plain .NET socket, so a test can reset (RST) the connection as a crashed client would.
    function Connect-RawClient([int] $Port) {
        $socket = [System.Net.Sockets.Socket]::new('InterNetwork', 'Stream', 'Tcp')
        $socket.Connect([System.Net.IPAddress]::Loopback, $Port)
        $socket.ReceiveTimeout = 20000
        $socket
    }

    function Receive-RawLine([System.Net.Sockets.Socket] $Socket) {
        $line = [System.Collections.Generic.List[byte]]::new()
        $one = [byte[]]::new(1)
        while ($Socket.Receive($one) -eq 1 -and $one[0] -ne 10) {
            $line.Add($one[0])
        }
        [System.Text.Encoding]::ASCII.GetString($line.ToArray())
    }

    # Every program result a server kept, waiting until there are -Count of them.
    function Receive-ProcessResult([SockPS.Core.SocketServer] $Server, [int] $Count = 1) {
        Wait-TestCondition -Description "$Count program result(s) on the server" -Condition {
            $Server.Handlers.OutputCount -ge $Count
        }
        Receive-SocketServerOutput -Server $Server
    }
}

Describe 'Start-SocketServer -FilePath' {
    AfterEach {
        Get-SocketServer | Stop-SocketServer
        Get-SocketConnection | Disconnect-Socket
    }

    Context 'moving bytes' {
        It 'runs cat for a client: a few MiB come back byte for byte, half-close ends its input and its exit closes the connection' {
            $bytes = New-TestRandomBytes -Count (3MB + 4321)
            $source = Join-Path -Path $TestDrive -ChildPath 'cat-in.bin'
            $target = Join-Path -Path $TestDrive -ChildPath 'cat-out.bin'
            [System.IO.File]::WriteAllBytes($source, $bytes)
            $server = Start-SocketServer -FilePath cat
            $client = Connect-Socket -ComputerName 127.0.0.1 -Port $server.Port

            # Receiving runs beside sending: cat answers while the file is still going out.
            $receiving = Receive-SocketData -Connection $client -OutFile $target -TimeoutSeconds 60 -AsJob
            Send-SocketData -Connection $client -Path $source
            Disconnect-Socket -Connection $client -Shutdown Send
            $null = Wait-Job -Job $receiving -Timeout 120
            $receiving.State | Should -Be 'Completed'
            @($receiving.Error).Count | Should -Be 0

            Get-TestSha256 ([System.IO.File]::ReadAllBytes($target)) | Should -Be (Get-TestSha256 $bytes)
            $client.State | Should -Be 'Closed' -Because 'cat saw end of input, exited, and the server closed the connection'
            $result = Receive-ProcessResult -Server $server
            $result | Should -BeOfType ([SockPS.Core.SocketProcessResult])
            $result.FilePath | Should -Be (Get-Command -Name cat -CommandType Application | Select-Object -First 1).Source
            $result.ExitCode | Should -Be 0
            $result.Stopped | Should -BeFalse
            $result.BytesIn | Should -Be $bytes.Length
            $result.BytesOut | Should -Be $bytes.Length
            $result.EndReason | Should -BeExactly 'The program exited with code 0.'
            $result.SocketConnection.Id | Should -Be $result.ConnectionId
            $server.Handlers.Completed | Should -Be 1
            $server.Handlers.FilePath | Should -Be $result.FilePath
        }

        It 'runs a shell script that reads a line and answers it' {
            $server = Start-SocketServer -FilePath sh -ArgumentList '-c', 'read line; echo "got $line"'
            $client = Connect-Socket -ComputerName 127.0.0.1 -Port $server.Port

            Send-SocketData -Connection $client -InputObject 'hello there' -Line

            Receive-SocketData -Connection $client -ToEnd -TimeoutSeconds 20 | Should -BeExactly "got hello there`n"
        }

        It 'passes -ArgumentList to the program as it is: no shell splits or expands it' {
            $server = Start-SocketServer -FilePath printf -ArgumentList '%s|', 'a b', '$HOME', '*', '', '"q"'
            $client = Connect-Socket -ComputerName 127.0.0.1 -Port $server.Port

            Receive-SocketData -Connection $client -ToEnd -TimeoutSeconds 20 | Should -BeExactly 'a b|$HOME|*||"q"|'
        }

        It 'serves clients at once, each with a program of its own' {
            $server = Start-SocketServer -FilePath sh -ArgumentList '-c', 'echo $$; read line; echo "$line from $$"'
            $first = Connect-Socket -ComputerName 127.0.0.1 -Port $server.Port
            $second = Connect-Socket -ComputerName 127.0.0.1 -Port $server.Port
            $firstId = Receive-ProcessId $first
            $secondId = Receive-ProcessId $second

            $firstId | Should -Not -Be $secondId
            $server.Handlers.Running | Should -Be 2
            Send-SocketData -Connection $second -InputObject 'two' -Line
            Send-SocketData -Connection $first -InputObject 'one' -Line
            Receive-SocketData -Connection $second -ToEnd -TimeoutSeconds 20 | Should -BeExactly "two from $secondId`n"
            Receive-SocketData -Connection $first -ToEnd -TimeoutSeconds 20 | Should -BeExactly "one from $firstId`n"
        }
    }

    Context 'how it ends' {
        It 'a program that exits early: the client gets its output, then end of stream' {
            $server = Start-SocketServer -FilePath sh -ArgumentList '-c', 'echo bye'
            $client = Connect-Socket -ComputerName 127.0.0.1 -Port $server.Port

            Receive-SocketData -Connection $client -ToEnd -TimeoutSeconds 20 | Should -BeExactly "bye`n"
            $client.State | Should -Be 'Closed'
            (Receive-ProcessResult -Server $server).ExitCode | Should -Be 0
        }

        It 'keeps the exit code and the end of standard error, which the client does not get' {
            $server = Start-SocketServer -FilePath sh -ArgumentList '-c', 'echo out; echo oops >&2; exit 3'
            $client = Connect-Socket -ComputerName 127.0.0.1 -Port $server.Port

            Receive-SocketData -Connection $client -ToEnd -TimeoutSeconds 20 | Should -BeExactly "out`n"
            $result = Receive-ProcessResult -Server $server
            $result.ExitCode | Should -Be 3
            $result.StandardError | Should -BeExactly "oops`n"
            $result.EndReason | Should -BeExactly 'The program exited with code 3.'
            $result.Stopped | Should -BeFalse
            $server.Handlers.Completed | Should -Be 1 -Because 'a program that exits on its own has completed, whatever its code'
        }

        It '-MergeStandardError sends standard error to the client too' {
            $server = Start-SocketServer -FilePath sh -ArgumentList '-c', 'echo oops >&2' -MergeStandardError
            $client = Connect-Socket -ComputerName 127.0.0.1 -Port $server.Port

            Receive-SocketData -Connection $client -ToEnd -TimeoutSeconds 20 | Should -BeExactly "oops`n"
            (Receive-ProcessResult -Server $server).StandardError | Should -BeNullOrEmpty
        }

        It 'after a half-close the program still answers: end of input is not the end of the connection' {
            $server = Start-SocketServer -FilePath sh -ArgumentList '-c', 'wc -c; echo done'
            $client = Connect-Socket -ComputerName 127.0.0.1 -Port $server.Port

            Send-SocketData -Connection $client -InputObject 'twelve bytes'
            Disconnect-Socket -Connection $client -Shutdown Send

            (Receive-SocketData -Connection $client -ToEnd -TimeoutSeconds 20) -replace ' ', '' | Should -BeExactly "12`ndone`n"
        }

        It 'a client that resets stops a program that would run on' {
            $server = Start-SocketServer -FilePath sh -ArgumentList '-c', 'echo $$; exec sleep 300'
            $socket = Connect-RawClient -Port $server.Port
            $programId = [int](Receive-RawLine $socket)
            Get-Process -Id $programId | Should -Not -BeNullOrEmpty

            $socket.LingerState = [System.Net.Sockets.LingerOption]::new($true, 0)
            $socket.Dispose()

            Wait-TestProcessGone -ProcessId $programId -Description 'the program stopping after its client reset'
            $result = Receive-ProcessResult -Server $server
            $result.ProcessId | Should -Be $programId
            $result.Stopped | Should -BeTrue
            $result.EndReason | Should -Match 'reset the connection\. The program was stopped\.$'
            $server.Handlers.Failed | Should -Be 1
        }

        It 'a client that closes while the program writes stops it (the next send fails), with the programs it started' {
            $server = Start-SocketServer -FilePath sh -ArgumentList '-c', 'echo $$; while :; do echo tick; sleep 0.1; done'
            $client = Connect-Socket -ComputerName 127.0.0.1 -Port $server.Port
            $programId = Receive-ProcessId $client
            Receive-SocketData -Connection $client -Line -TimeoutSeconds 20 | Should -BeExactly 'tick'

            Disconnect-Socket -Connection $client

            Wait-TestProcessGone -ProcessId $programId -Description 'the program stopping after its client left'
            (Receive-ProcessResult -Server $server).Stopped | Should -BeTrue
        }

        It 'a program that never reads holds up only its own client, until the server stops' {
            $server = Start-SocketServer -FilePath sh -ArgumentList '-c', 'echo $$; exec sleep 300'
            $stuck = Connect-Socket -ComputerName 127.0.0.1 -Port $server.Port
            $stuckId = Receive-ProcessId $stuck
            # More than the pipe and both socket buffers hold: the send waits on TCP flow control.
            $source = Join-Path -Path $TestDrive -ChildPath 'never-read.bin'
            [System.IO.File]::WriteAllBytes($source, (New-TestRandomBytes -Count 16MB))
            $sending = Send-SocketData -Connection $stuck -Path $source -AsJob
            Wait-TestCondition -Description 'the server reading some of it' -Condition {
                ($server.Connections | Where-Object { $_.RemoteEndPoint.Port -eq $stuck.LocalEndPoint.Port }).BytesReceived -gt 0
            }

            $other = Connect-Socket -ComputerName 127.0.0.1 -Port $server.Port
            $otherId = Receive-ProcessId $other
            $otherId | Should -Not -Be $stuckId
            $server.Handlers.Running | Should -Be 2
            $sending.State | Should -Be 'Running' -Because 'the program reads nothing, so the client cannot send it all'

            Stop-SocketServer -Server $server

            Wait-TestProcessGone -ProcessId $stuckId -Description 'the stuck program stopping with its server'
            Wait-TestProcessGone -ProcessId $otherId -Description 'the other program stopping with its server'
            $null = Wait-Job -Job $sending -Timeout 60
            $sending.State | Should -Not -Be 'Running'
            @($sending.Error)[0].FullyQualifiedErrorId | Should -BeLike 'ConnectionReset,*' -Because 'the server closed the connection under the send'
            (Receive-ProcessResult -Server $server -Count 2).Stopped | Should -Be $true, $true
        }

        It '-IdleTimeoutSeconds stops a program whose connection has gone quiet' {
            $server = Start-SocketServer -FilePath sh -ArgumentList '-c', 'echo $$; exec sleep 300' -IdleTimeoutSeconds 1
            $client = Connect-Socket -ComputerName 127.0.0.1 -Port $server.Port
            $programId = Receive-ProcessId $client

            Wait-TestProcessGone -ProcessId $programId -Description 'the idle timeout stopping the program'
            $result = Receive-ProcessResult -Server $server
            $result.EndReason | Should -Match '^Idle for 1 second \(the server''s idle timeout\)\. The program was stopped\.$'
            $result.Stopped | Should -BeTrue
        }

        It 'Stop-SocketServer stops the programs that are running and closes their connections' {
            $server = Start-SocketServer -FilePath sh -ArgumentList '-c', 'echo $$; exec sleep 300'
            $first = Connect-Socket -ComputerName 127.0.0.1 -Port $server.Port
            $second = Connect-Socket -ComputerName 127.0.0.1 -Port $server.Port
            $ids = (Receive-ProcessId $first), (Receive-ProcessId $second)

            Stop-SocketServer -Server $server

            foreach ($id in $ids) {
                Wait-TestProcessGone -ProcessId $id -Description "program $id stopping with its server"
            }
            Receive-SocketData -Connection $first -ToEnd -TimeoutSeconds 20 | Should -BeNullOrEmpty
            Receive-SocketData -Connection $second -ToEnd -TimeoutSeconds 20 | Should -BeNullOrEmpty
            $results = Receive-ProcessResult -Server $server -Count 2
            $results.EndReason | Should -Match '^The connection was closed on this side: The server stopped\.|^The server stopped\.'
        }
    }

    Context 'what the program is told' {
        It 'sets SOCKPS_REMOTE_ADDR, SOCKPS_REMOTE_PORT, SOCKPS_LOCAL_ADDR, SOCKPS_LOCAL_PORT and -Environment' {
            $server = Start-SocketServer -FilePath sh -Environment @{ GREETING = 'hi there'; HOME = $null } -ArgumentList '-c',
                'echo "$SOCKPS_REMOTE_ADDR $SOCKPS_REMOTE_PORT $SOCKPS_LOCAL_ADDR $SOCKPS_LOCAL_PORT $GREETING ${HOME-unset}"'
            $client = Connect-Socket -ComputerName 127.0.0.1 -Port $server.Port

            Receive-SocketData -Connection $client -ToEnd -TimeoutSeconds 20 |
                Should -BeExactly "127.0.0.1 $($client.LocalEndPoint.Port) 127.0.0.1 $($server.Port) hi there unset`n"
        }

        It 'starts the program in -WorkingDirectory' {
            $folder = New-Item -ItemType Directory -Path (Join-Path -Path $TestDrive -ChildPath 'work dir')
            $server = Start-SocketServer -FilePath pwd -ArgumentList '-P' -WorkingDirectory $folder.FullName
            $client = Connect-Socket -ComputerName 127.0.0.1 -Port $server.Port

            Receive-SocketData -Connection $client -ToEnd -TimeoutSeconds 20 |
                Should -BeExactly "$((Resolve-Path -LiteralPath $folder.FullName).ProviderPath)`n"
        }

        It 'finds a program by a path relative to the current location' {
            $script = Join-Path -Path $TestDrive -ChildPath 'hello.sh'
            Set-Content -LiteralPath $script -Value "#!/bin/sh`necho hello from the script"
            chmod +x $script
            Push-Location -LiteralPath $TestDrive
            try {
                $server = Start-SocketServer -FilePath ./hello.sh
            }
            finally {
                Pop-Location
            }
            $client = Connect-Socket -ComputerName 127.0.0.1 -Port $server.Port

            Receive-SocketData -Connection $client -ToEnd -TimeoutSeconds 20 | Should -BeExactly "hello from the script`n"
        }
    }

    Context 'the server''s limits, access lists, TLS and transcripts' {
        It '-DenyAddress refuses a client before any program starts' {
            $server = Start-SocketServer -FilePath sh -ArgumentList '-c', 'echo served' -DenyAddress 127.0.0.1/32
            $socket = Connect-RawClient -Port $server.Port
            try {
                $null = $socket.Receive([byte[]]::new(16))
                $ending = 'EndOfStream'
            }
            catch {
                $ending = [string]$_.Exception.InnerException.SocketErrorCode
            }
            finally {
                $socket.Dispose()
            }

            $ending | Should -Be 'ConnectionReset' -Because 'a refused client is reset and gets no data'

            $server.RefusedCount | Should -Be 1
            $server.Handlers.Completed + $server.Handlers.Failed + $server.Handlers.Running | Should -Be 0
        }

        It '-MaxConnections 1 runs one program; the next client is served when it ends' {
            $server = Start-SocketServer -FilePath sh -ArgumentList '-c', 'echo $$; cat' -MaxConnections 1
            $first = Connect-Socket -ComputerName 127.0.0.1 -Port $server.Port
            $firstId = Receive-ProcessId $first
            $second = Connect-Socket -ComputerName 127.0.0.1 -Port $server.Port
            Wait-SocketData -Connection $second -Any -TimeoutSeconds 1 | Should -BeNullOrEmpty -Because 'the second client waits in the backlog'
            $server.AcceptedCount | Should -Be 1

            Disconnect-Socket -Connection $first -Shutdown Send
            Wait-TestProcessGone -ProcessId $firstId -Description 'cat ending at end of input'

            Receive-ProcessId $second | Should -Not -Be $firstId
            $server.AcceptedCount | Should -Be 2
        }

        It '-ThrottleLimit 1 runs one program at a time; the next client waits, open, for it' {
            $server = Start-SocketServer -FilePath sh -ArgumentList '-c', 'echo $$; cat' -ThrottleLimit 1
            $first = Connect-Socket -ComputerName 127.0.0.1 -Port $server.Port
            $firstId = Receive-ProcessId $first
            $second = Connect-Socket -ComputerName 127.0.0.1 -Port $server.Port
            Wait-TestCondition -Description 'the second client waiting for a handler' -Condition { $server.Handlers.Waiting -eq 1 }

            Disconnect-Socket -Connection $first -Shutdown Send

            Receive-ProcessId $second | Should -Not -Be $firstId
        }

        It 'serves TLS clients that present a client certificate, and refuses those that do not' {
            $server = Start-SocketServer -FilePath cat -Certificate $certs.Server -RequireClientCertificate -CaCertificate $certs.CaPath
            $client = Connect-Socket -ComputerName localhost -Port $server.Port -UseTls -CaCertificate $certs.CaPath -ClientCertificate $certs.Client

            Send-SocketData -Connection $client -InputObject 'over TLS' -Line
            Receive-SocketData -Connection $client -Line -TimeoutSeconds 20 | Should -BeExactly 'over TLS'
            Disconnect-Socket -Connection $client -Shutdown Send
            Receive-SocketData -Connection $client -ToEnd -TimeoutSeconds 20 | Should -BeNullOrEmpty
            (Receive-ProcessResult -Server $server).ExitCode | Should -Be 0

            $null = Connect-Socket -ComputerName localhost -Port $server.Port -UseTls -CaCertificate $certs.CaPath -ErrorAction SilentlyContinue
            Wait-TestCondition -Description 'the client without a certificate being refused' -Condition { $server.TlsFailureCount -ge 1 }
            $server.Handlers.Completed + $server.Handlers.Running | Should -Be 1 -Because 'no program ran for the refused client'
        }

        It '-TranscriptPath records what the program was sent and what it answered' {
            $transcript = Join-Path -Path $TestDrive -ChildPath 'process.jsonl'
            $server = Start-SocketServer -FilePath sh -ArgumentList '-c', 'read line; echo "got $line"' -TranscriptPath $transcript
            $client = Connect-Socket -ComputerName 127.0.0.1 -Port $server.Port
            Send-SocketData -Connection $client -InputObject 'ping' -Line
            $null = Receive-SocketData -Connection $client -ToEnd -TimeoutSeconds 20
            $null = Receive-ProcessResult -Server $server
            Stop-SocketServer -Server $server

            $entries = @(Get-SocketTranscript -Path $transcript)
            ($entries | Where-Object Direction -EQ 'Received').Text -join '' | Should -BeExactly "ping`n"
            ($entries | Where-Object Direction -EQ 'Sent').Text -join '' | Should -BeExactly "got ping`n"
        }
    }

    Context 'errors' {
        It 'a program that does not exist fails Start-SocketServer with ProgramNotFound' {
            { Start-SocketServer -FilePath 'no-such-program-sockps' -ErrorAction Stop } |
                Should -Throw -ErrorId 'ProgramNotFound,SockPS.Commands.StartSocketServerCommand'
            { Start-SocketServer -FilePath (Join-Path -Path $TestDrive -ChildPath 'missing/prog') -ErrorAction Stop } |
                Should -Throw -ErrorId 'ProgramNotFound,SockPS.Commands.StartSocketServerCommand'
            Get-SocketServer | Should -BeNullOrEmpty
        }

        It 'a program the OS will not start costs its client only: ProgramStartFailed in the output, Failed and LastError counted' {
            $notExecutable = Join-Path -Path $TestDrive -ChildPath 'not-executable.sh'
            Set-Content -LiteralPath $notExecutable -Value 'echo never'
            chmod 644 $notExecutable
            $server = Start-SocketServer -FilePath $notExecutable
            $client = Connect-Socket -ComputerName 127.0.0.1 -Port $server.Port

            Receive-SocketData -Connection $client -ToEnd -TimeoutSeconds 20 | Should -BeNullOrEmpty
            Wait-TestCondition -Description 'the failure being counted' -Condition { $server.Handlers.Failed -eq 1 }
            $server.Handlers.Faults | Should -Be 1
            $server.Handlers.LastError | Should -Match "could not be started"
            $server.State | Should -Be 'Listening'
            $null = Receive-SocketServerOutput -Server $server -ErrorVariable failures -ErrorAction SilentlyContinue
            $failures.Count | Should -Be 1
            $failures[0].FullyQualifiedErrorId | Should -BeLike 'HandlerError,*'
            $failures[0].OriginalErrorId | Should -Be 'ProgramStartFailed'
            $failures[0].CategoryInfo.Category | Should -Be 'OpenError'
        }

        It 'refuses <Case>' -TestCases @(
            @{ Case = '-FilePath with -ScriptBlock'; Splat = @{ FilePath = 'cat'; ScriptBlock = { } } }
            @{ Case = '-FilePath with -Protocol Udp'; Splat = @{ FilePath = 'cat'; Protocol = 'Udp' } }
            @{ Case = '-FilePath with -WebSocket'; Splat = @{ FilePath = 'cat'; WebSocket = $true } }
            @{ Case = '-FilePath with -InitializationScript'; Splat = @{ FilePath = 'cat'; InitializationScript = { } } }
            @{ Case = '-MergeStandardError without -FilePath'; Splat = @{ MergeStandardError = $true } }
            @{ Case = '-WorkingDirectory that does not exist'; Splat = @{ FilePath = 'cat'; WorkingDirectory = '/no/such/folder' } }
        ) {
            { Start-SocketServer @Splat -ErrorAction Stop } | Should -Throw -ErrorId 'InvalidArgument,SockPS.Commands.StartSocketServerCommand'
            Get-SocketServer | Should -BeNullOrEmpty
        }
    }
}
