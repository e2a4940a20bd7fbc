#Requires -Version 7.4
# Issue 15 item 1: Enter-SocketSession in a real terminal. tmux runs a pwsh in a pane of its own
# (its own server socket, -L, killed at the end); the tests type into it with send-keys and read
# it with capture-pane, against peers in Python on free loopback ports: an echo service, an
# SMTP-like line service, a recorder that answers with the bytes it got (for -Raw), a UDP echo;
# and against a SockPS server for -Server. Each wait polls the pane until the text is there, with a
# timeout that fails the test with the screen.

BeforeAll {
    $script:Tmux = $null
    Import-Module $env:SOCKPS_MODULE_PATH -Force
    Import-Module "$PSScriptRoot/SockPS.TestHelpers.psm1" -Force

    if (-not (Get-Command -Name 'tmux' -CommandType Application -ErrorAction SilentlyContinue)) {
        throw 'tmux is not installed; .ci/install-packages installs it.'
    }

    $script:ModulePath = (Resolve-Path -LiteralPath $env:SOCKPS_MODULE_PATH).ProviderPath
    $script:Python = if (Test-Path -LiteralPath '/usr/bin/python3') { '/usr/bin/python3' } else { 'python3' }

    $script:PeerSource = @'
import socket, sys, threading
mode = sys.argv[1]
if mode == 'udp':
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    u.bind(('127.0.0.1', 0))
    print('port', u.getsockname()[1], flush=True)
    while True:
        data, sender = u.recvfrom(65535)
        u.sendto(b'echo:' + data, sender)
l = socket.socket()
l.bind(('127.0.0.1', 0))
l.listen(8)
print('port', l.getsockname()[1], flush=True)
def serve(c):
    if mode == 'echo':
        total = 0
        while True:
            d = c.recv(65536)
            if not d:
                break
            total += len(d)
            c.sendall(d)
        print('echoed', total, flush=True)
        c.shutdown(socket.SHUT_WR)
    elif mode == 'raw':
        got = b''
        while True:
            d = c.recv(65536)
            if not d:
                break
            got += d
            if b'\x03' in got:
                c.sendall(('got ' + got.hex(' ') + '\r\n').encode())
                got = b''
    elif mode == 'line':
        f = c.makefile('rb')
        c.sendall(b'220 sockps-test ready\r\n')
        for raw in f:
            line = raw.rstrip(b'\r\n').decode()
            print('line', repr(raw), flush=True)
            if line.upper().startswith('HELO '):
                c.sendall(('250 hello ' + line[5:] + '\r\n').encode())
            elif line.upper() == 'BELL':
                c.sendall(b'250 ding\x07 \x1b[31mred\x1b[0m \xff end\r\n')
            elif line.upper() == 'QUIT':
                c.sendall(b'221 bye\r\n')
                break
            else:
                c.sendall(b'500 what?\r\n')
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

    # The pane: a pwsh equal to this one (Get-PwshCommand), 200x50 (no status line wraps), plain text, on a tmux server
    # of its own so nothing else's tmux is touched.
    $script:Tmux = "sockps-session-$PID-$([guid]::NewGuid().ToString('n').Substring(0, 8))"
    $pwsh = Get-PwshCommand
    $command = ((@($pwsh.FilePath) + @($pwsh.Arguments) | ForEach-Object { "'$_'" }) -join ' ') + ' -NoProfile -NoLogo'
    & tmux -L $script:Tmux -f /dev/null new-session -d -x 200 -y 50 -e NO_COLOR=1 -e TERM=xterm-256color $command
    if ($LASTEXITCODE -ne 0) {
        throw "tmux new-session failed ($LASTEXITCODE)."
    }

    function Send-Key([string[]] $Key) {
        & tmux -L $script:Tmux send-keys @Key
    }

    # Literal text (-l: no key names), then Enter unless -NoEnter.
    function Send-Text([string] $Text, [switch] $NoEnter) {
        & tmux -L $script:Tmux send-keys -l $Text
        if (-not $NoEnter) {
            & tmux -L $script:Tmux send-keys Enter
        }
    }

    # The pane and its history, each line's trailing blanks trimmed. Not -J: PSReadLine pads the
    # command line to the width, and tmux would join it with the output after it.
    function Get-Screen {
        ((& tmux -L $script:Tmux capture-pane -p -S -3000) | ForEach-Object { $_.TrimEnd() }) -join "`n"
    }

    # Polls the pane until -Pattern matches (multiline), at most -TimeoutSeconds; throws with the
    # screen when it does not.
    function Wait-Screen([string] $Pattern, [double] $TimeoutSeconds = 30) {
        $regex = [regex]::new($Pattern, 'Multiline')
        $clock = [System.Diagnostics.Stopwatch]::StartNew()
        while ($true) {
            $screen = Get-Screen
            $match = $regex.Match($screen)
            if ($match.Success) {
                return $match
            }
            if ($clock.Elapsed.TotalSeconds -ge $TimeoutSeconds) {
                throw "Wait-Screen: /$Pattern/ did not appear within $TimeoutSeconds s. The pane:`n$screen"
            }
            [System.Threading.Thread]::Sleep(50)
        }
    }

    # Runs a line at the prompt and waits for the marker it prints: the pane is ready for the next.
    $script:Step = 0
    function Invoke-Pane([string] $Line) {
        $script:Step++
        $marker = "done-$($script:Step)"
        Send-Text "$Line; '$marker'"
        $null = Wait-Screen "^$marker$"
    }

    # A fresh screen and history, so each test reads only its own output.
    function Clear-Pane {
        Invoke-Pane 'Clear-Host'
        & tmux -L $script:Tmux clear-history
    }

    # Keys typed before pwsh reads them are echoed by the terminal and lost: wait for the prompt.
    $null = Wait-Screen '^PS .*> ?$' -TimeoutSeconds 60
    Invoke-Pane "Import-Module '$($script:ModulePath)'"
}

AfterAll {
    if ($script:Tmux) {
        & tmux -L $script:Tmux kill-server 2>$null
    }
    Stop-TestProcess -All
}

Describe 'Enter-SocketSession in a terminal' {
    BeforeEach {
        Clear-Pane
    }

    It 'sends typed lines to an echo peer and shows the echo; Ctrl+] leaves with the given connection still open' {
        $peer = Start-Peer echo
        try {
            Invoke-Pane "`$c = Connect-Socket -ComputerName 127.0.0.1 -Port $($peer.Port)"
            Send-Text 'Enter-SocketSession -Connection $c'
            $null = Wait-Screen "^Session on (Connection\d+) \(Tcp 127\.0\.0\.1:$($peer.Port)\)\. Ctrl\+\] leaves; Connection\d+ stays open\.$"

            Send-Text 'hello tmux'
            # The line as typed (echoed here), then as the peer sent it back.
            $null = Wait-Screen '^hello tmux\nhello tmux$'

            # Backspace edits the line before it goes.
            Send-Text 'typo-x' -NoEnter
            Send-Key BSpace, BSpace
            Send-Text 'ok'
            $null = Wait-Screen '^typook\ntypook$'

            Send-Key 'C-]'
            $null = Wait-Screen '^Left the session; Connection\d+ is still open\.$'
            Invoke-Pane '"state=$($c.State)"; Send-SocketData -Connection $c -InputObject after -Line; "again=$(Receive-SocketData -Connection $c -Line -TimeoutSeconds 20)"'
            $null = Wait-Screen '^state=Open$'
            $null = Wait-Screen '^again=after$'
            Invoke-Pane 'Disconnect-Socket -Connection $c'
            # The peer saw every byte: 'hello tmux', 'typook', 'after' and their line ends.
            $null = Wait-TestProcessLine -Process $peer.Process -Pattern '^echoed 24$'
        }
        finally {
            Stop-TestProcess -Process $peer.Process
        }
    }

    It 'talks to a line service with its line end, shows control bytes as escapes, and ends with the reason when the peer closes' {
        $peer = Start-Peer line
        try {
            Send-Text "Enter-SocketSession -ComputerName 127.0.0.1 -Port $($peer.Port) -Crlf"
            $null = Wait-Screen "^Connected to 127\.0\.0\.1:$($peer.Port)\. Ctrl\+\] leaves and closes the connection\.\n220 sockps-test ready$"

            Send-Text 'HELO tmux'
            $null = Wait-Screen '^250 hello tmux$'
            $null = Wait-TestProcessLine -Process $peer.Process -Pattern "^line b'HELO tmux\\r\\n'$"

            Send-Text 'BELL'
            # BEL, ESC and an undecodable byte are shown, not obeyed: the pane shows no red.
            $null = Wait-Screen ([regex]::Escape('250 ding\x07 \x1b[31mred\x1b[0m \xff end') + '$')

            Send-Text 'QUIT'
            $null = Wait-Screen "^221 bye\nConnection closed by 127\.0\.0\.1:$($peer.Port): The remote host closed the connection\.$"
            # The session opened the connection, so it closed it.
            Invoke-Pane "`"left=`$(@(Get-SocketConnection | Where-Object RemoteEndPointText -EQ '127.0.0.1:$($peer.Port)').Count)`""
            $null = Wait-Screen '^left=0$'
        }
        finally {
            Stop-TestProcess -Process $peer.Process
        }
    }

    It 'shows what arrives as hexdump -C lines with -Hex, and Ctrl+D on an empty line half-closes' {
        $peer = Start-Peer echo
        try {
            Send-Text "Enter-SocketSession -ComputerName 127.0.0.1 -Port $($peer.Port) -Hex"
            $null = Wait-Screen "^Connected to 127\.0\.0\.1:$($peer.Port)\."
            Send-Text 'hi'
            # hexdump -C's own layout (printf 'hi\n' | hexdump -C prints the same line).
            $null = Wait-Screen '^00000000  68 69 0a {42}\|hi\.\|$'
            Send-Text 'more'
            $null = Wait-Screen '^00000003  6d 6f 72 65 0a {36}\|more\.\|$'

            Send-Key 'C-d'
            $null = Wait-Screen '^Sent the end of the stream \(half-close\); waiting for the peer to close\. Ctrl\+\] leaves\.$'
            # The echo peer answers the end of the stream with its own.
            $null = Wait-Screen "^Connection closed by 127\.0\.0\.1:$($peer.Port): The remote host closed the connection\.$"
            $null = Wait-TestProcessLine -Process $peer.Process -Pattern '^echoed 8$'
        }
        finally {
            Stop-TestProcess -Process $peer.Process
        }
    }

    It 'sends every key as typed with -Raw (Ctrl+C too, as 0x03), without echo; Ctrl+] still leaves' {
        $peer = Start-Peer raw
        try {
            Invoke-Pane "`$r = Connect-Socket -ComputerName 127.0.0.1 -Port $($peer.Port)"
            Send-Text 'Enter-SocketSession -Connection $r -Raw'
            $null = Wait-Screen 'Keys go out as typed \(Ctrl\+C too\)\. Ctrl\+\] leaves; Connection\d+ stays open\.$'
            Send-Text 'ab' -NoEnter
            Send-Key Tab, Enter, Up, BSpace, 'C-c'
            # The recorder answers with every byte it got once 0x03 arrives: the session was still
            # running after Ctrl+C, and nothing was echoed here before the answer.
            $null = Wait-Screen 'Ctrl\+\] leaves; Connection\d+ stays open\.\ngot 61 62 09 0d 1b 5b 41 7f 03$'

            Send-Key 'C-]'
            $null = Wait-Screen '^Left the session; Connection\d+ is still open\.$'
            Invoke-Pane '"raw-state=$($r.State)"; Disconnect-Socket -Connection $r'
            $null = Wait-Screen '^raw-state=Open$'
        }
        finally {
            Stop-TestProcess -Process $peer.Process
        }
    }

    It 'sends each line as one datagram over UDP and shows each datagram with its sender' {
        $peer = Start-Peer udp
        try {
            Send-Text "Enter-SocketSession -Uri udp://127.0.0.1:$($peer.Port)"
            $null = Wait-Screen "^Connected to 127\.0\.0\.1:$($peer.Port)\. Each line is one datagram\. Ctrl\+\] leaves and closes the connection\.$"
            Send-Text 'ping-udp'
            $null = Wait-Screen "^ping-udp\n\[from 127\.0\.0\.1:$($peer.Port)\] echo:ping-udp$"
            Send-Text 'second'
            $null = Wait-Screen "^second\n\[from 127\.0\.0\.1:$($peer.Port)\] echo:second$"
            Send-Key 'C-]'
            $null = Wait-Screen '^Left the session; the connection is closed\.$'
        }
        finally {
            Stop-TestProcess -Process $peer.Process
        }
    }

    It 'sends each line as one text message on a WebSocket and shows each message on a line' {
        Invoke-Pane '$w = Start-SocketServer -WebSocket -ScriptBlock { param($Connection) while ($null -ne ($m = Receive-SocketData -Connection $Connection -TimeoutSeconds 0)) { Send-SocketData -Connection $Connection -InputObject "$($m.MessageType): [$($m.Text)]" } }'
        Send-Text 'Enter-SocketSession -Uri "ws://127.0.0.1:$($w.Port)/"'
        $null = Wait-Screen '^Connected to 127\.0\.0\.1:\d+\. Ctrl\+\] leaves and closes the connection\.$'
        Send-Text 'hello ws'
        # The server saw one text message holding the line without its line end.
        $null = Wait-Screen '^hello ws\nText: \[hello ws\]$'
        Send-Key 'C-]'
        $null = Wait-Screen '^Left the session; the connection is closed\.$'
        Invoke-Pane 'Stop-SocketServer -Server $w'
    }

    It 'waits on a server for one client with -Server, talks to it, and ends when the client closes; the server keeps listening' {
        Send-Text '$s = Start-SocketServer -Name tmux-session; Enter-SocketSession -Server $s'
        $port = [int](Wait-Screen '^Waiting for a client on 127\.0\.0\.1:(\d+) \(tmux-session\); Ctrl\+C stops waiting\.$').Groups[1].Value

        $client = Connect-Socket -ComputerName 127.0.0.1 -Port $port
        try {
            $null = Wait-Screen "^Accepted 127\.0\.0\.1:$($client.LocalEndPoint.Port) on tmux-session\. Ctrl\+\] leaves and closes the connection\.$"
            Send-SocketData -Connection $client -InputObject 'from the client' -Line
            $null = Wait-Screen '^from the client$'
            Send-Text 'from the session'
            Receive-SocketData -Connection $client -Line -TimeoutSeconds 20 | Should -BeExactly 'from the session'

            Disconnect-Socket -Connection $client
            $null = Wait-Screen "^Connection closed by 127\.0\.0\.1:$($client.LocalEndPoint.Port): "
            Invoke-Pane '"server=$($s.State)"; Stop-SocketServer -Server $s'
            $null = Wait-Screen '^server=Listening$'
        }
        finally {
            Disconnect-Socket -Connection $client -ErrorAction SilentlyContinue
        }
    }

    It 'talks on a UDP server''s socket with -Server, answering the sender of the last datagram' {
        Invoke-Pane '$u = Start-SocketServer -Protocol Udp -Name udpdesk; "udp-port=$($u.Port)"'
        $port = [int](Wait-Screen '^udp-port=(\d+)$').Groups[1].Value
        Send-Text 'Enter-SocketSession -Server $u'
        $null = Wait-Screen 'Each line is one datagram\. Ctrl\+\] leaves; \S+ stays open\.$'

        $client = Connect-Socket -Uri "udp://127.0.0.1:$port"
        try {
            Send-SocketData -Connection $client -InputObject 'anyone on udp?'
            $null = Wait-Screen "^\[from 127\.0\.0\.1:$($client.LocalEndPoint.Port)\] anyone on udp\?$"
            Send-Text 'here'
            (Receive-SocketData -Connection $client -TimeoutSeconds 20).Text | Should -BeExactly "here`n"
            Send-Key 'C-]'
            $null = Wait-Screen '^Left the session; \S+ is still open\.$'
            Invoke-Pane '"udp-state=$($u.State)"; Stop-SocketServer -Server $u'
            $null = Wait-Screen '^udp-state=Listening$'
        }
        finally {
            Disconnect-Socket -Connection $client
        }
    }

    It 'ends on Ctrl+C in line mode (as any command does), leaving a given connection open' {
        $peer = Start-Peer echo
        try {
            Invoke-Pane "`$k = Connect-Socket -ComputerName 127.0.0.1 -Port $($peer.Port)"
            Send-Text 'Enter-SocketSession -Connection $k'
            $null = Wait-Screen 'Ctrl\+\] leaves; Connection\d+ stays open\.$'
            Send-Key 'C-c'
            # The prompt must be back before the next line is typed: keys that arrive while the
            # stop is still on its way are read by the session (and lost with it).
            $null = Wait-Screen 'stays open\.\n(?:.*\n)*?PS [^\n]*>$'
            Invoke-Pane '"k-state=$($k.State)"; Disconnect-Socket -Connection $k'
            $null = Wait-Screen '^k-state=Open$'
        }
        finally {
            Stop-TestProcess -Process $peer.Process
        }
    }
}
