#Requires -Version 7.4
# Issue 10, item 1: no AggregateException or other raw .NET exception ever reaches the user. Every
# scenario below makes a cmdlet fail for a reason a script can meet (a refused port, a closed
# connection, a path that does not exist, a peer that is not a TLS server, ...). Every error it
# writes or throws must carry a SockPS error id (a word, not a .NET type name, and not the
# last-resort UnexpectedError), a category other than NotSpecified, and a message free of the
# runtime's boilerplate.

BeforeDiscovery {
    # Each scenario: the cmdlet that fails, what it does, and whether the failure concerns one
    # target (non-terminating, so the script goes on) or the whole call.
    $scenarios = @(
        @{ Cmdlet = 'Connect-Socket'; Case = 'a refused port'; Script = { Connect-Socket -ComputerName 127.0.0.1 -Port $closedPort } }
        @{ Cmdlet = 'Connect-Socket'; Case = 'an unknown host'; Script = { Connect-Socket -ComputerName 'no-such-host.invalid' -Port 80 } }
        @{ Cmdlet = 'Connect-Socket'; Case = 'an unknown service name'; Script = { Connect-Socket -ComputerName 127.0.0.1 -Port 'no-such-service' } }
        @{ Cmdlet = 'Connect-Socket'; Case = 'an unknown URI scheme'; Script = { Connect-Socket -Uri 'gopher+x://127.0.0.1:70' } }
        @{ Cmdlet = 'Connect-Socket'; Case = 'a Unix socket that does not exist'; Script = { Connect-Socket -Path (Join-Path $TestDrive 'nothing.sock') } }
        @{ Cmdlet = 'Connect-Socket'; Case = 'a Unix socket path over 108 bytes'; Script = { Connect-Socket -Path ('/tmp/' + 'x' * 120) } }
        @{ Cmdlet = 'Connect-Socket'; Case = 'an unbalanced [ in the host'; Script = { Connect-Socket -ComputerName '[::1' -Port $closedPort } }
        @{ Cmdlet = 'Connect-Socket'; Case = 'an unbalanced ] in the host'; Script = { Connect-Socket -ComputerName '::1]' -Port $closedPort } }
        @{ Cmdlet = 'Connect-Socket'; Case = 'TLS to a peer that closes'; Script = { Connect-Socket -ComputerName 127.0.0.1 -Port $closingPort -UseTls -TimeoutSeconds 5 } }
        @{ Cmdlet = 'Send-SocketData'; Case = 'a closed connection'; Script = { Send-SocketData -Connection $closedConnection -InputObject 'x' } }
        @{ Cmdlet = 'Send-SocketData'; Case = 'an unknown -Id'; Script = { Send-SocketData -Id 987654 -InputObject 'x' } }
        @{ Cmdlet = 'Send-SocketData'; Case = 'an unknown -Name'; Script = { Send-SocketData -Name 'no-such-connection' -InputObject 'x' } }
        @{ Cmdlet = 'Send-SocketData'; Case = 'a -Path that does not exist'; Script = { Send-SocketData -Connection $pair.Client -Path (Join-Path $TestDrive 'missing.bin') } }
        @{ Cmdlet = 'Send-SocketData'; Case = 'a datagram over 64 KiB'; Script = { Send-SocketData -Connection $udp -InputObject ([byte[]]::new(70000)) } }
        @{ Cmdlet = 'Send-SocketData'; Case = 'sending after -Shutdown Send'; Script = { Send-SocketData -Connection $halfClosed -InputObject 'x' } }
        @{ Cmdlet = 'Receive-SocketData'; Case = 'a closed connection'; Script = { Receive-SocketData -Connection $closedConnection } }
        @{ Cmdlet = 'Receive-SocketData'; Case = 'a timeout'; Script = { Receive-SocketData -Connection $pair.Accepted -TimeoutSeconds 0.2 } }
        @{ Cmdlet = 'Receive-SocketData'; Case = '-ToEnd timing out'; Script = { Receive-SocketData -Connection $pair.Accepted -ToEnd -TimeoutSeconds 0.2 } }
        @{ Cmdlet = 'Receive-SocketData'; Case = '-OutFile into a folder that does not exist'; Script = { Receive-SocketData -Connection $pair.Accepted -OutFile (Join-Path $TestDrive 'no/such/folder/x.bin') -TimeoutSeconds 1 } }
        @{ Cmdlet = 'Receive-SocketData'; Case = '-OutFile timing out'; Script = { Receive-SocketData -Connection $pair.Accepted -OutFile (Join-Path $TestDrive 'idle.bin') -TimeoutSeconds 0.2 } }
        @{ Cmdlet = 'Receive-SocketData'; Case = '-Line on a datagram socket'; Script = { Receive-SocketData -Connection $udp -Line -TimeoutSeconds 0.2 } }
        @{ Cmdlet = 'Receive-SocketData'; Case = 'an unknown -Id'; Script = { Receive-SocketData -Id 987654 } }
        @{ Cmdlet = 'Disconnect-Socket'; Case = 'an unknown -Id'; Script = { Disconnect-Socket -Id 987654 } }
        @{ Cmdlet = 'Disconnect-Socket'; Case = '-Shutdown Send on a UDP socket with no peer'; Script = { Disconnect-Socket -Connection $udpServer.DatagramSocket -Shutdown Send } }
        @{ Cmdlet = 'Get-SocketConnection'; Case = 'an unknown -Id'; Script = { Get-SocketConnection -Id 987654 } }
        @{ Cmdlet = 'Enter-SocketSession'; Case = 'a refused port'; Script = { Enter-SocketSession -ComputerName 127.0.0.1 -Port $closedPort } }
        @{ Cmdlet = 'Enter-SocketSession'; Case = 'a closed connection'; Script = { Enter-SocketSession -Connection $closedConnection } }
        @{ Cmdlet = 'Enter-SocketSession'; Case = 'a stopped server'; Script = { Enter-SocketSession -Server $stoppedServer } }
        @{ Cmdlet = 'Enter-SocketSession'; Case = 'an unknown server name'; Script = { Enter-SocketSession -Server 'no-such-server' } }
        @{ Cmdlet = 'Enter-SocketSession'; Case = 'Connect-Socket settings with -Connection'; Script = { Enter-SocketSession -Connection $pair.Client -Crlf } }
        @{ Cmdlet = 'Enter-SocketSession'; Case = '-Stdio with -Raw'; Script = { Enter-SocketSession -Connection $pair.Client -Stdio -Raw } }
        @{ Cmdlet = 'Wait-SocketConnection'; Case = 'an accept timeout'; Script = { Wait-SocketConnection -Server $acceptServer -TimeoutSeconds 0.2 } }
        @{ Cmdlet = 'Wait-SocketConnection'; Case = 'a stopped server'; Script = { Wait-SocketConnection -Server $stoppedServer -TimeoutSeconds 1 } }
        @{ Cmdlet = 'Wait-SocketConnection'; Case = 'an unknown server name'; Script = { Wait-SocketConnection -Server 'no-such-server' -TimeoutSeconds 1 } }
        @{ Cmdlet = 'Wait-SocketData'; Case = 'a timeout'; Script = { Wait-SocketData -Connection $pair.Accepted -TimeoutSeconds 0.2 -Pattern 'never' } }
        @{ Cmdlet = 'Wait-SocketData'; Case = 'a pattern that is not a regular expression'; Script = { Wait-SocketData -Connection $pair.Accepted -Pattern '([' -TimeoutSeconds 1 } }
        @{ Cmdlet = 'Wait-SocketData'; Case = 'a closed connection'; Script = { Wait-SocketData -Connection $closedConnection -TimeoutSeconds 1 } }
        @{ Cmdlet = 'Start-SocketServer'; Case = 'a port in use'; Script = { Start-SocketServer -Port $idleServer.Port } }
        @{ Cmdlet = 'Start-SocketServer'; Case = 'a Unix socket in a folder that does not exist'; Script = { Start-SocketServer -Path (Join-Path $TestDrive 'no/such/folder/s.sock') } }
        @{ Cmdlet = 'Start-SocketServer'; Case = 'an allow list entry that is not an address'; Script = { Start-SocketServer -AllowAddress '10.0.0.0/33' } }
        @{ Cmdlet = 'Start-SocketServer'; Case = 'a certificate file that does not exist'; Script = { Start-SocketServer -Certificate (Join-Path $TestDrive 'missing.pfx') } }
        @{ Cmdlet = 'Start-SocketServer'; Case = 'a -FilePath program that does not exist'; Script = { Start-SocketServer -FilePath 'no-such-program-sockps' } }
        @{ Cmdlet = 'Start-SocketProcess'; Case = 'a program that does not exist'; Script = { $pair.Client | Start-SocketProcess -FilePath 'no-such-program-sockps' } }
        @{ Cmdlet = 'Start-SocketProcess'; Case = 'a closed connection'; Script = { $closedConnection | Start-SocketProcess -FilePath 'true' } }
        @{ Cmdlet = 'Start-SocketProcess'; Case = 'a UDP socket'; Script = { $udp | Start-SocketProcess -FilePath 'cat' } }
        @{ Cmdlet = 'Stop-SocketServer'; Case = 'an unknown -Id'; Script = { Stop-SocketServer -Id 987654 } }
        @{ Cmdlet = 'Get-SocketServer'; Case = 'an unknown -Id'; Script = { Get-SocketServer -Id 987654 } }
        @{ Cmdlet = 'Start-SocketRelay'; Case = 'a listening port in use'; Script = { Start-SocketRelay -ListenPort $idleServer.Port -ComputerName 127.0.0.1 -Port $closedPort } }
        @{ Cmdlet = 'Stop-SocketRelay'; Case = 'an unknown -Id'; Script = { Stop-SocketRelay -Id 987654 } }
        @{ Cmdlet = 'Get-SocketRelay'; Case = 'an unknown -Id'; Script = { Get-SocketRelay -Id 987654 } }
        @{ Cmdlet = 'Protect-SocketConnection'; Case = 'a UDP socket'; Script = { Protect-SocketConnection -Connection $udp -ServerName localhost } }
        @{ Cmdlet = 'Protect-SocketConnection'; Case = 'a closed connection'; Script = { Protect-SocketConnection -Connection $closedConnection -ServerName localhost } }
        @{ Cmdlet = 'Protect-SocketConnection'; Case = 'a peer that is not a TLS server'; Script = { Protect-SocketConnection -Connection (Connect-Socket -ComputerName 127.0.0.1 -Port $closingPort) -ServerName localhost -TimeoutSeconds 5 } }
        @{ Cmdlet = 'Test-SocketPort'; Case = 'a port range backwards'; Script = { Test-SocketPort -ComputerName 127.0.0.1 -Port '5-2' } }
        @{ Cmdlet = 'Invoke-SocketRequest'; Case = 'a refused port'; Script = { Invoke-SocketRequest -ComputerName 127.0.0.1 -Port $closedPort -InputObject 'x' } }
        @{ Cmdlet = 'Invoke-SocketRequest'; Case = 'an unknown host'; Script = { Invoke-SocketRequest -ComputerName 'no-such-host.invalid' -Port 80 -InputObject 'x' } }
        @{ Cmdlet = 'Invoke-SocketRequest'; Case = 'a silent peer'; Script = { Invoke-SocketRequest -ComputerName 127.0.0.1 -Port $silentServer.Port -InputObject 'x' -TimeoutSeconds 0.3 -NoShutdown } }
        @{ Cmdlet = 'Resolve-SocketAddress'; Case = 'an unknown host'; Script = { Resolve-SocketAddress -ComputerName 'no-such-host.invalid' } }
        @{ Cmdlet = 'Start-SocketTranscript'; Case = 'a folder that does not exist'; Script = { Start-SocketTranscript -Connection $pair.Client -Path (Join-Path $TestDrive 'no/such/folder/t.jsonl') } }
        @{ Cmdlet = 'Stop-SocketTranscript'; Case = 'no transcript running'; Script = { Stop-SocketTranscript -Connection $pair.Accepted } }
        @{ Cmdlet = 'Get-SocketTranscript'; Case = 'a file that does not exist'; Script = { Get-SocketTranscript -Path (Join-Path $TestDrive 'missing.jsonl') } }
        @{ Cmdlet = 'Receive-SocketServerOutput'; Case = 'an unknown server name'; Script = { Receive-SocketServerOutput -Server 'no-such-server' } }
    )
}

BeforeAll {
    Import-Module $env:SOCKPS_MODULE_PATH -Force
    Import-Module "$PSScriptRoot/SockPS.TestHelpers.psm1" -Force

    # A port nothing listens on: bound, read, released.
    $probe = [System.Net.Sockets.TcpListener]::new([System.Net.IPAddress]::Loopback, 0)
    $probe.Start()
    $closedPort = $probe.LocalEndpoint.Port
    $probe.Stop()

    # A peer that accepts and closes at once: neither a TLS server nor a TLS client.
    $closingServer = Start-SocketServer -ScriptBlock { param($Connection) }
    $closingPort = $closingServer.Port

    $pair = New-TestConnectionPair
    $idleServer = Start-SocketServer
    $silentServer = Start-SocketServer -ReceiveTimeoutSeconds 0 -ScriptBlock {
        param($Connection)
        $null = $Connection.ReceiveAvailable()
    }
    $stoppedServer = Start-SocketServer
    Stop-SocketServer -Server $stoppedServer
    $udpServer = Start-SocketServer -Protocol Udp
    $udp = Connect-Socket -ComputerName 127.0.0.1 -Port $udpServer.Port -Protocol Udp
    $closedConnection = Connect-Socket -ComputerName 127.0.0.1 -Port $idleServer.Port
    Disconnect-Socket -Connection $closedConnection
    $halfClosed = Connect-Socket -ComputerName 127.0.0.1 -Port $idleServer.Port
    Disconnect-Socket -Connection $halfClosed -Shutdown Send
    $acceptServer = Start-SocketServer

    # Every ErrorRecord a script produces, written (non-terminating) or thrown (terminating).
    function Get-ScenarioErrors {
        param([scriptblock] $Script)

        $ErrorActionPreference = 'Continue'
        @(& {
                try { & $Script } catch { $_ }
            } 2>&1 | Where-Object { $_ -is [System.Management.Automation.ErrorRecord] })
    }
}

AfterAll {
    Get-SocketConnection | Disconnect-Socket
    Get-SocketServer | Stop-SocketServer
    Get-SocketRelay | Stop-SocketRelay
}

Describe 'Every failure a cmdlet meets is a SockPS error' {
    It '<Cmdlet> on <Case>: a SockPS error id, a real category, no runtime boilerplate' -TestCases $scenarios {
        $errors = @(Get-ScenarioErrors -Script $Script)
        $errors.Count | Should -BeGreaterThan 0 -Because "$Cmdlet must fail on $Case"
        foreach ($record in $errors) {
            $id, $command = $record.FullyQualifiedErrorId -split ',', 2
            $detail = "$($record.FullyQualifiedErrorId) [$($record.CategoryInfo.Category)]: $record"
            $command | Should -BeLike 'SockPS.Commands.*' -Because "the error comes from the SockPS cmdlet ($detail)"
            $id | Should -Match '^[A-Z][A-Za-z]+$' -Because "the id is a SockPS word, not a .NET type name ($detail)"
            $id | Should -Not -Be 'UnexpectedError' -Because "the failure is one SockPS expects ($detail)"
            $record.CategoryInfo.Category | Should -Not -Be 'NotSpecified' -Because $detail
            $record.Exception | Should -Not -BeOfType ([System.AggregateException])
            "$record" | Should -Not -Match 'One or more errors occurred|\(Parameter ''|Actual value was' -Because $detail
        }
    }
}
