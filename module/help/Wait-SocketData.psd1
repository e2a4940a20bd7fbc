@{
    Examples = @(
        @{
            Title   = 'Find out which connections have data (select)'
            Code    = @'
$server = Start-SocketServer
$a = Connect-Socket -ComputerName localhost -Port $server.Port -Name a
$b = Connect-Socket -ComputerName localhost -Port $server.Port -Name b
$peerA = Wait-SocketConnection -Server $server
$peerB = Wait-SocketConnection -Server $server
Send-SocketData -Connection $peerB -InputObject 'ping' -Line

Wait-SocketData -Connection $a, $b -Any -TimeoutSeconds 5
Receive-SocketData -Connection $b -Line
'@
            Output  = @'
   Id Name         Protocol   RemoteEndPoint       State            Sent Received
   -- ----         --------   --------------       -----            ---- --------
    4 b            Tcp        127.0.0.1:33693      Open                0        5
ping
'@
            Remarks = @'
With -Any, Wait-SocketData returns as soon as one of the connections is readable, with every
connection that is readable at that moment: data buffered, a datagram queued, or closed by the
peer (a receive then returns nothing). It reads nothing; Receive-SocketData then does. This is
Python's select() on sockets waiting to be read.
'@
        }
        @{
            Title   = 'Serve whichever client speaks next'
            Code    = @'
$server = Start-SocketServer
$clients = 1..3 | ForEach-Object { Connect-Socket -ComputerName localhost -Port $server.Port }
$peers = 1..3 | ForEach-Object { Wait-SocketConnection -Server $server }
Send-SocketData -Connection $clients[2] -InputObject 'hello from the third' -Line
Send-SocketData -Connection $clients[0] -InputObject 'hello from the first' -Line

foreach ($ready in Wait-SocketData -Connection $peers -Any -TimeoutSeconds 5) {
    "$($ready.RemoteEndPoint): $(Receive-SocketData -Connection $ready -Line)"
}
'@
            Output  = @'
127.0.0.1:48284: hello from the first
127.0.0.1:48292: hello from the third
'@
            Remarks = @'
One session serves many connections without a thread each: wait until any is readable, serve
those, and wait again. Run in a loop, this is the classic select() server.
'@
        }
        @{
            Title   = 'Wait for a prompt, then answer it (expect)'
            Code    = @'
# A stand-in for a device's console that asks for a login.
$device = Start-SocketServer -ScriptBlock {
    param($Connection)
    $Connection.Send("Router OS 7.1`r`nlogin: ")
    $Connection.SendLine("Welcome, $($Connection.ReceiveLine())")
}

$c = Connect-Socket -ComputerName localhost -Port $device.Port
$prompt = Wait-SocketData -Connection $c -Pattern 'login:\s*$' -TimeoutSeconds 5
$prompt
Send-SocketData -Connection $c -InputObject 'admin' -Line
Receive-SocketData -Connection $c -Line
'@
            Output  = @'
   Id Connection   Value                    Text
   -- ----------   -----                    ----
    2 Connection2  login:                   Router OS 7.1\nlogin:
Welcome, admin
'@
            Remarks = @'
With -Pattern, Wait-SocketData waits until the text buffered on the connection matches the
regular expression, consumes the text through the end of the match, and returns a
SocketPatternMatch: Value (the match), Groups, and Text (everything consumed). What follows the
match stays buffered for the next receive. A prompt has no line end, so -Line could not have
read it.
'@
        }
        @{
            Title   = 'A pattern that does not come in time'
            Code    = @'
$server = Start-SocketServer
$c = Connect-Socket -ComputerName localhost -Port $server.Port
$peer = Wait-SocketConnection -Server $server
Send-SocketData -Connection $peer -InputObject 'Router OS 7.1' -Line

Wait-SocketData -Connection $c -Pattern 'Password:' -TimeoutSeconds 1
Receive-SocketData -Connection $c -Line
'@
            Output  = @'
Wait-SocketData: The text from 127.0.0.1:37601 did not match /Password:/ within 1 second.
14 bytes arrived, ending with "Router OS 7.1`n". Nothing was consumed; the connection is still open.
Router OS 7.1
'@
            Remarks = @'
When the text does not match in time, Wait-SocketData writes a ReceiveTimeout error that shows the
end of what did arrive (escaped, as pexpect shows `before`), so a pattern that is almost right is
easy to spot. It consumes nothing: the text is still there for the next receive. When the peer closes the
connection before the text matches, it returns nothing.
'@
        }
    )
    Outputs = @{
        'SockPS.Core.SocketConnection' = 'Without -Pattern: the connections that are readable (data buffered, a datagram queued, or closed by the peer). Nothing when the time runs out first.'
        'SockPS.Core.SocketPatternMatch' = 'With -Pattern: the match, with the Connection it was found on, Value, Groups (the regular expression''s groups), Match, and Text (everything consumed, up to and including the match).'
    }
    Notes   = @(
        'Without -Any, Wait-SocketData waits until every connection given is readable, and returns them all; when the time runs out first it returns nothing, even if some were readable.'
        'The pattern is matched against the buffered text decoded with each connection''s encoding, ignoring case as -match, Select-String and switch -Regex do; -CaseSensitive matches case exactly. Use (?m) for ^ and $ at line ends. Bytes that are not valid in the encoding (a Telnet negotiation, binary) never break the wait: they show as U+FFFD in the text and are consumed with it. With -Any and several connections, the first match on any of them is returned and the others consume nothing.'
        'With -Pattern the wait lasts 30 seconds unless -TimeoutSeconds says otherwise (pexpect''s default), so a pattern that never matches cannot hang a script; -TimeoutSeconds 0 waits forever. Without -Pattern, the default is 0: wait until the connections are readable. Ctrl+C stops any wait and leaves the connections usable.'
    )
    Links   = @(
        'Receive-SocketData'
        'Send-SocketData'
        'Wait-SocketConnection'
        'about_SockPS'
    )
}
