#Requires -Version 7.4
# Issue 15 item 2: Enter-SocketSession -Stdio, the byte-exact bridge of a pwsh's standard input
# and output to a socket (socat STDIO, nc -N), run as a real child `pwsh -c` with its stdin and
# stdout as pipes: 64 MiB through a Python echo peer and back, compared by SHA-256; the half-close
# when stdin ends; the end when the peer closes first; a UDP socket; and a real OpenSSH `ssh -o
# ProxyCommand=...` through it to a throw-away sshd on loopback. Also the session's line mode
# with redirected stdin (pwsh -c ... < file) against a line service, and the errors of the
# parameters that do not go together (those need no console).

BeforeAll {
    Import-Module $env:SOCKPS_MODULE_PATH -Force
    Import-Module "$PSScriptRoot/SockPS.TestHelpers.psm1" -Force
    Import-Module "$PSScriptRoot/SockPS.RemotePeers.psm1" -Force

    $script:ModulePath = (Resolve-Path -LiteralPath $env:SOCKPS_MODULE_PATH).ProviderPath
    $script:Python = if (Test-Path -LiteralPath '/usr/bin/python3') { '/usr/bin/python3' } else { 'python3' }

    # A TCP peer in Python on a free loopback port; prints "port N" when it listens. Modes:
    # echo (everything back, then FIN after the client's FIN), first (sends a greeting and
    # closes at once, without reading), line (a small SMTP-like line service), udp (echoes each
    # datagram prefixed with "echo:").
    $script:PeerSource = @'
import socket, sys, threading
mode = sys.argv[1]
if mode == 'udp':
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    u.bind(('127.0.0.1', 0))
    print('port', u.getsockname()[1], flush=True)
    u.settimeout(120)
    while True:
        data, sender = u.recvfrom(65535)
        u.sendto(b'echo:' + data, sender)
l = socket.socket()
l.bind(('127.0.0.1', 0))
l.listen(8)
l.settimeout(120)
print('port', l.getsockname()[1], flush=True)
def serve(c):
    c.settimeout(120)
    if mode == 'echo':
        total = 0
        while True:
            d = c.recv(1 << 16)
            if not d:
                break
            total += len(d)
            c.sendall(d)
        print('echoed', total, flush=True)
        c.shutdown(socket.SHUT_WR)
    elif mode == 'first':
        c.sendall(b'greeting from the peer\n')
        c.shutdown(socket.SHUT_WR)
    elif mode == 'line':
        f = c.makefile('rb')
        c.sendall(b'220 sockps-test ready\r\n')
        for raw in f:
            line = raw.rstrip(b'\r\n').decode()
            print('line', repr(raw), flush=True)
            if line.upper().startswith('HELO '):
                c.sendall(('250 hello ' + line[5:] + '\r\n').encode())
            elif line.upper() == 'QUIT':
                c.sendall(b'221 bye\r\n')
                break
            else:
                c.sendall(b'500 what?\r\n')
        print('eof', flush=True)
    c.close()
while True:
    c, _ = l.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
'@

    function Start-Peer([string] $Mode) {
        $peer = Start-TestProcess -FilePath $script:Python -ArgumentList @('-u', '-c', $script:PeerSource, $Mode)
        $port = [int](Wait-TestProcessLine -Process $peer -Pattern '^port (\d+)$').Groups[1].Value
        [pscustomobject]@{ Process = $peer; Port = $port }
    }

    # A child pwsh running -Command with stdin and stdout as raw pipes (not the line-reading
    # TestProcess: the bytes must be compared as they are). stderr is collected as text.
    function Start-BridgePwsh([string] $Command) {
        $pwsh = Get-PwshCommand
        $info = [System.Diagnostics.ProcessStartInfo]::new($pwsh.FilePath)
        foreach ($argument in @($pwsh.Arguments) + @('-NoProfile', '-NonInteractive', '-Command', $Command)) {
            $info.ArgumentList.Add($argument)
        }
        $info.RedirectStandardInput = $true
        $info.RedirectStandardOutput = $true
        $info.RedirectStandardError = $true
        $info.UseShellExecute = $false
        $info.Environment['NO_COLOR'] = '1'
        $process = [System.Diagnostics.Process]::Start($info)
        [pscustomobject]@{
            Process = $process
            Error   = $process.StandardError.ReadToEndAsync()
        }
    }

    function Stop-BridgePwsh($Bridge) {
        if ($Bridge -and -not $Bridge.Process.HasExited) {
            $Bridge.Process.Kill($true)
        }
        $Bridge.Process.Dispose()
    }

    function Import-Line {
        "Import-Module '$($script:ModulePath)'"
    }
}

AfterAll {
    Stop-TestProcess -All
}

Describe 'Enter-SocketSession -Stdio' {
    It 'carries 64 MiB from stdin to an echo peer and back to stdout unchanged (SHA-256), half-closing when stdin ends' {
        $peer = Start-Peer echo
        $bridge = Start-BridgePwsh "$(Import-Line); Connect-Socket -ComputerName 127.0.0.1 -Port $($peer.Port) | Enter-SocketSession -Stdio"
        try {
            $data = New-TestRandomBytes -Count 64MB -Seed 1515
            $received = [System.IO.MemoryStream]::new()
            $reading = $bridge.Process.StandardOutput.BaseStream.CopyToAsync($received)
            # Written here while stdout drains on its own: a bridge that did not read and write
            # at once would stall both pipes.
            $stdin = $bridge.Process.StandardInput.BaseStream
            $stdin.Write($data, 0, $data.Length)
            $stdin.Close()

            $bridge.Process.WaitForExit(120000) | Should -BeTrue -Because 'the peer''s FIN after stdin''s end ends the bridge'
            $reading.Wait(10000) | Should -BeTrue
            $bridge.Error.Result | Should -BeNullOrEmpty
            $bridge.Process.ExitCode | Should -Be 0

            $received.Length | Should -Be $data.Length
            Get-TestSha256 -Bytes $received.ToArray() | Should -Be (Get-TestSha256 -Bytes $data)
            # The peer saw the end of the stream (the half-close) and counted every byte.
            (Wait-TestProcessLine -Process $peer.Process -Pattern '^echoed (\d+)$').Groups[1].Value | Should -Be $data.Length
        }
        finally {
            Stop-BridgePwsh $bridge
            Stop-TestProcess -Process $peer.Process
        }
    }

    It 'ends when the peer closes first, with stdin still open, and writes only the peer''s bytes to stdout' {
        $peer = Start-Peer first
        $bridge = Start-BridgePwsh "$(Import-Line); Enter-SocketSession -Stdio -ComputerName 127.0.0.1 -Port $($peer.Port) -Verbose"
        try {
            $reading = $bridge.Process.StandardOutput.BaseStream
            $received = [System.IO.MemoryStream]::new()
            $copy = $reading.CopyToAsync($received)
            # stdin stays open: the peer's end alone ends the session.
            $bridge.Process.WaitForExit(60000) | Should -BeTrue
            $copy.Wait(10000) | Should -BeTrue
            $bridge.Process.ExitCode | Should -Be 0
            # pwsh -c writes -Verbose to stdout too (so a ProxyCommand leaves it out); the peer's
            # line is there intact, between the verbose lines.
            $text = [System.Text.Encoding]::UTF8.GetString($received.ToArray())
            $text | Should -Match "(?m)^VERBOSE: Bridging standard input and output to Connection\d+ \(127\.0\.0\.1:$($peer.Port)\)\.\r?\ngreeting from the peer\n" -Because $text
            $text | Should -Match 'Sent 0 bytes from standard input and wrote 23 to standard output\. The peer ended the session: The remote host closed the connection\.'
        }
        finally {
            Stop-BridgePwsh $bridge
            Stop-TestProcess -Process $peer.Process
        }
    }

    It 'sends each read of stdin as one datagram on a UDP socket and writes the answers, ending after stdin ends' {
        $peer = Start-Peer udp
        $bridge = Start-BridgePwsh "$(Import-Line); Enter-SocketSession -Stdio -Uri udp://127.0.0.1:$($peer.Port)"
        try {
            $received = [System.IO.MemoryStream]::new()
            $copy = $bridge.Process.StandardOutput.BaseStream.CopyToAsync($received)
            $stdin = $bridge.Process.StandardInput.BaseStream
            $stdin.Write([byte[]][char[]]"ping`n", 0, 5)
            $stdin.Flush()
            Wait-TestCondition -Condition { $received.Length -ge 10 } -Description 'the echoed datagram'
            $stdin.Close()
            $bridge.Process.WaitForExit(30000) | Should -BeTrue -Because 'a datagram socket ends soon after its input'
            $copy.Wait(10000) | Should -BeTrue
            $bridge.Process.ExitCode | Should -Be 0
            [System.Text.Encoding]::ASCII.GetString($received.ToArray()) | Should -BeExactly "echo:ping`n"
        }
        finally {
            Stop-BridgePwsh $bridge
            Stop-TestProcess -Process $peer.Process
        }
    }

    It 'is the ProxyCommand of a real ssh to a throw-away sshd: a command runs, and 1 MiB goes there and back intact' {
        $sshd = Start-TestSshd -NoPowerShellSubsystem
        try {
            $pwsh = Get-PwshCommand
            $program = (@($pwsh.FilePath) + @($pwsh.Arguments) | ForEach-Object { "'$_'" }) -join ' '
            $proxy = "$program -NoProfile -NonInteractive -Command ""Import-Module '$($script:ModulePath)'; Enter-SocketSession -Stdio -ComputerName %h -Port %p"""
            $arguments = @(Get-TestSshClientArgument $sshd) + @('-o', "ProxyCommand=$proxy", '127.0.0.1')

            $ssh = Start-TestProcess -FilePath 'ssh' -ArgumentList ($arguments + @('echo proxied-$((6*7)) via $SSH_CONNECTION'))
            Wait-TestProcessExit -Process $ssh -TimeoutSeconds 120 -ExpectedExitCode 0 | Out-Null
            $line = $ssh.OutputLines | Select-Object -First 1
            $line | Should -Match '^proxied-42 via 127\.0\.0\.1 \d+ 127\.0\.0\.1 \d+$' -Because "ssh's output: $($ssh.Transcript())"
            # sshd saw the connection come from a pwsh bridge's socket, not from ssh itself.
            $line | Should -Not -Match " $($sshd.Port)\s.*$($sshd.Port)$"

            $file = Join-Path $TestDrive 'payload.bin'
            $data = New-TestRandomBytes -Count 1MB -Seed 22
            [System.IO.File]::WriteAllBytes($file, $data)
            $sum = Start-TestProcess -FilePath 'bash' -ArgumentList @('-c', "ssh $(($arguments | ForEach-Object { "'$($_ -replace "'", "'\''")'" }) -join ' ') 'cat' < '$file' | sha256sum")
            Wait-TestProcessExit -Process $sum -TimeoutSeconds 120 -ExpectedExitCode 0 | Out-Null
            ($sum.OutputLines[0] -split ' ')[0] | Should -Be (Get-TestSha256 -Bytes $data).ToLowerInvariant()
        }
        finally {
            Stop-TestSshd $sshd
        }
    }
}

Describe 'Enter-SocketSession with redirected stdin (pwsh -c ... < file)' {
    It 'sends each line of stdin with the connection''s line end, shows the answers, and ends when the peer closes' {
        $peer = Start-Peer line
        $bridge = Start-BridgePwsh "$(Import-Line); Enter-SocketSession -ComputerName 127.0.0.1 -Port $($peer.Port) -Crlf"
        try {
            $stdout = $bridge.Process.StandardOutput.ReadToEndAsync()
            $bridge.Process.StandardInput.Write("HELO pester`nQUIT`n")
            $bridge.Process.StandardInput.Flush()
            $bridge.Process.WaitForExit(60000) | Should -BeTrue
            $bridge.Process.ExitCode | Should -Be 0
            $stdout.Wait(10000) | Should -BeTrue
            # Output is redirected: only what the peer sent, no banner or status lines.
            $stdout.Result -split "`n" | Should -Be @('220 sockps-test ready', '250 hello pester', '221 bye', '')
            Wait-TestProcessLine -Process $peer.Process -Pattern "^line b'HELO pester\\r\\n'$" -FromStart | Out-Null
        }
        finally {
            Stop-BridgePwsh $bridge
            Stop-TestProcess -Process $peer.Process
        }
    }

    It 'half-closes when stdin ends and still shows what the peer sends after that' {
        $peer = Start-Peer echo
        $bridge = Start-BridgePwsh "$(Import-Line); Enter-SocketSession -ComputerName 127.0.0.1 -Port $($peer.Port)"
        try {
            $stdout = $bridge.Process.StandardOutput.ReadToEndAsync()
            $bridge.Process.StandardInput.Write("one`ntwo`n")
            $bridge.Process.StandardInput.Close()
            $bridge.Process.WaitForExit(60000) | Should -BeTrue
            $stdout.Wait(10000) | Should -BeTrue
            $stdout.Result -split "`n" | Should -Be @('one', 'two', '')
            Wait-TestProcessLine -Process $peer.Process -Pattern '^echoed 8$' | Out-Null
        }
        finally {
            Stop-BridgePwsh $bridge
            Stop-TestProcess -Process $peer.Process
        }
    }
}

Describe 'Enter-SocketSession parameters that do not go together' {
    BeforeAll {
        $script:Pair = New-TestConnectionPair
    }
    AfterAll {
        $script:Pair.Client, $script:Pair.Accepted | Disconnect-Socket
        Stop-SocketServer -Server $script:Pair.Server
    }

    It 'refuses Connect-Socket''s settings with -Connection, naming them, and leaves the connection as it was' {
        $err = { Enter-SocketSession -Connection $script:Pair.Client -Encoding ascii -UseTls } | Should -Throw -PassThru
        $err.FullyQualifiedErrorId | Should -Be 'InvalidArgument,SockPS.Commands.EnterSocketSessionCommand'
        $err.Exception.Message | Should -Match '-Encoding, -UseTls say how to open a connection'
        $script:Pair.Client.State | Should -Be 'Open'
    }

    It 'refuses -Raw and -Hex with -Stdio' {
        $err = { Enter-SocketSession -Connection $script:Pair.Client -Stdio -Hex } | Should -Throw -PassThru
        $err.FullyQualifiedErrorId | Should -Be 'InvalidArgument,SockPS.Commands.EnterSocketSessionCommand'
    }

    It 'says ConnectionClosed for a closed connection' {
        $closed = Connect-Socket -ComputerName 127.0.0.1 -Port $script:Pair.Server.Port
        Disconnect-Socket -Connection $closed
        $err = Get-TestWrittenError { Enter-SocketSession -Connection $closed }
        $err.FullyQualifiedErrorId | Should -Be 'ConnectionClosed,SockPS.Commands.EnterSocketSessionCommand'
        $err.CategoryInfo.Category | Should -Be 'InvalidOperation'
    }

    It 'takes a connection from the pipeline and binds every Connect-Socket parameter in its own sets' {
        $command = Get-Command Enter-SocketSession
        $connect = Get-Command Connect-Socket
        foreach ($name in $connect.Parameters.Keys) {
            $command.Parameters.Keys | Should -Contain $name
        }
        $command.ParameterSets.Name | Should -Contain 'Connection'
        $command.ParameterSets.Name | Should -Contain 'Server'
        ($command.Parameters['Connection'].Attributes | Where-Object { $_ -is [System.Management.Automation.ParameterAttribute] }).ValueFromPipeline | Should -Contain $true
        # A piped connection binds -Name from its own Name: that is no connect setting refused
        # (a closed one, so the session goes no further than its check).
        $closed = Connect-Socket -ComputerName 127.0.0.1 -Port $script:Pair.Server.Port
        Disconnect-Socket -Connection $closed
        $err = Get-TestWrittenError { $closed | Enter-SocketSession }
        $err.FullyQualifiedErrorId | Should -Be 'ConnectionClosed,SockPS.Commands.EnterSocketSessionCommand'
        { $script:Pair.Client | Enter-SocketSession -Name renamed -Stdio } | Should -Throw -ExpectedMessage '-Name says how to open a connection*'
    }
}
