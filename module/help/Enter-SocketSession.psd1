@{
    Examples = @(
        @{
            Title   = 'Talk to a line service, as nc host port'
            Code    = @'
$smtp = Start-SocketServer -ScriptBlock {      # a stand-in service
    param($c)
    $c.SendLine('220 demo ready')
    while ($null -ne ($l = $c.ReceiveLine())) {
        if ($l -eq 'QUIT') { $c.SendLine('221 bye'); break }
        $c.SendLine("250 ok $l`a")
    }
}
Enter-SocketSession -ComputerName localhost -Port $smtp.Port
'@
            Output  = @'
Connected to 127.0.0.1:45481. Ctrl+] leaves and closes the connection.
220 demo ready
HELO me
250 ok HELO me\x07
QUIT
221 bye
Connection closed by 127.0.0.1:45481: The remote host closed the connection.
'@
            Remarks = @'
HELO me and QUIT are typed; each goes out with the connection's NewLine when Enter is pressed
(-Crlf or an smtp:// URI makes that CRLF). What the service sends is shown as it arrives: the BEL
it ends its answer with is shown as \x07, not rung, as every control character but tab and the
line ends is. When the service closes, the session ends and says why; it opened the connection,
so it is closed.
'@
        }
        @{
            Title   = 'Leave with Ctrl+], keep the connection'
            Code    = @'
$echo = Start-SocketServer -ScriptBlock {
    param($c) while ($null -ne ($l = $c.ReceiveLine())) { $c.SendLine($l.ToUpper()) }
}
$c = Connect-Socket -ComputerName localhost -Port $echo.Port
Enter-SocketSession -Connection $c -Hex
$c | Select-Object Name, State, BytesSent, BytesReceived
'@
            Output  = @'
Session on Connection4 (Tcp 127.0.0.1:37521). Ctrl+] leaves; Connection4 stays open.
hello, wörld
00000000  48 45 4c 4c 4f 2c 20 57  c3 96 52 4c 44 0a        |HELLO, W..RLD.|
Left the session; Connection4 is still open.

Name        State BytesSent BytesReceived
----        ----- --------- -------------
Connection4  Open        14            14
'@
            Remarks = @'
"hello, wörld" is typed and Ctrl+] pressed after the answer. -Hex shows what arrives as
hexdump -C lines (here the UTF-8 of Ö), the offset running on over the session. A connection
given with -Connection (or piped in) stays open when the session is left with Ctrl+]: the script
can go on with Send-SocketData and Receive-SocketData.
'@
        }
        @{
            Title   = 'Datagrams, each with its sender'
            Code    = @'
$udp = Start-SocketServer -Protocol Udp
$pong = Start-ThreadJob {
    Receive-SocketData -Connection $using:udp -Continuous |
        ForEach-Object { $_ | Send-SocketData -InputObject "pong $($_.Text)" }
}
Enter-SocketSession -Uri "udp://127.0.0.1:$($udp.Port)"
'@
            Output  = @'
Connected to 127.0.0.1:40506. Each line is one datagram. Ctrl+] leaves and closes the connection.
ping
[from 127.0.0.1:40506] pong ping
again
[from 127.0.0.1:40506] pong again
Left the session; the connection is closed.
'@
            Remarks = @'
On a UDP socket every line typed is one datagram (with the connection's NewLine, as nc -u sends
it) and every datagram that arrives is shown on a line of its own after its sender.
'@
        }
        @{
            Title   = 'Wait for one client, as nc -l'
            Code    = @'
$s = Start-SocketServer -Name desk
$job = Start-ThreadJob {
    $c = Connect-Socket localhost ($using:s).Port
    $c.SendLine('hi, anyone there?'); "client got: $($c.ReceiveLine())"; $c.Close()
}
Enter-SocketSession -Server $s
Receive-Job $job -Wait
'@
            Output  = @'
Waiting for a client on 127.0.0.1:38685 (desk); Ctrl+C stops waiting.
Accepted 127.0.0.1:40598 on desk. Ctrl+] leaves and closes the connection.
hi, anyone there?
yes, here
Connection closed by 127.0.0.1:40598: The remote host closed the connection.
client got: yes, here
'@
            Remarks = @'
-Server waits for the next client the server accepts (Ctrl+C stops the wait) and talks to it; the
server keeps listening for others. "yes, here" is typed.
'@
        }
        @{
            Title   = 'pwsh as an ssh ProxyCommand'
            Code    = @'
ssh -F ./ssh_config -o ProxyCommand="pwsh -NoProfile -c 'Enter-SocketSession -Stdio %h %p'" `
    127.0.0.1 'echo $SSH_CONNECTION; uname -s'
'@
            Output  = @'
127.0.0.1 47462 127.0.0.1 46583
Linux
'@
            Remarks = @'
-Stdio copies standard input to the socket and the socket to standard output, byte for byte; the
end of standard input half-closes the connection and the peer's end of the stream ends the
session. ssh talks through it as through socat STDIO or nc: here to an sshd on port 46583 (its
key and known_hosts are in ./ssh_config), which sees the connection come from the bridge's port.
Any Connect-Socket parameter goes with it, such as -Proxy socks5h://gateway:1080 or -UseTls.
Nothing else may be written to standard output, so leave -Verbose out.
'@
        }
        @{
            Title   = '64 MiB through a pipe and back (bash)'
            Code    = @'
# In bash, with an echo service: socat TCP-LISTEN:7777,bind=127.0.0.1,reuseaddr EXEC:cat &
head -c 64M /dev/urandom > blob; sha256sum < blob
pwsh -NoProfile -c 'Enter-SocketSession -Stdio 127.0.0.1 7777' < blob | sha256sum
'@
            Output  = @'
14d6bba2f18a3c6ec6500387a664d9c3246cfeca6f2c3c4b13417f1a1b06b670  -
14d6bba2f18a3c6ec6500387a664d9c3246cfeca6f2c3c4b13417f1a1b06b670  -
'@
            Remarks = @'
The bytes come back as they went: the bridge reads and writes both ways at once, and flushes
standard output after every write. A connection can be piped in too:
Connect-Socket -Uri tls://host:443 | Enter-SocketSession -Stdio.
'@
        }
    )
    Inputs = @{
        'SockPS.Core.SocketConnection' = 'A connection to talk on (-Connection); a UDP server stands for its socket.'
    }
    Outputs = @{
        'None' = 'Nothing: what arrives is shown on the console (with -Stdio, written to standard output as it is); errors are written as usual.'
    }
    Notes = @(
        'Keys in the session: Ctrl+] leaves (a connection given with -Connection stays open; one the session opened or accepted is closed). Enter sends the line with the connection''s NewLine; Backspace edits it. Ctrl+D on an empty line half-closes and the session shows what arrives until the peer closes. Ctrl+C stops the command, as it stops any other. With -Raw every key goes out as typed, Ctrl+C as 0x03; only Ctrl+] stays here.'
        'What arrives is decoded with the connection''s Encoding. CRLF and LF end lines and tab stays; every other control character (ESC too, so the peer cannot drive the terminal), a lone CR and each byte that does not decode is shown as an escape: \x07, \x1b, \r, \xff. -Hex shows hexdump -C lines instead.'
        'With standard input redirected (pwsh -c ''...'' < file), the lines of standard input are sent instead of keys, the connection is half-closed at their end, and the session ends when the peer closes. With standard output redirected, only what arrives is written; the session''s own lines go to the verbose stream.'
        'Standard input and output are the session''s only in a console host: in a remote session (where they carry the session itself) or a host without a console, -Stdio and redirected input stop with the error NoConsole, as does an interactive session where no keys can be read.'
        'Windows: the same on Windows PowerShell 5.1 and PowerShell 7, though tried only on Linux; a console without VT processing shows the sequences that redraw the line being typed as text.'
    )
    Links = @(
        'Connect-Socket'
        'Send-SocketData'
        'Receive-SocketData'
        'Wait-SocketConnection'
        'about_SockPS'
    )
}
