@{
    Examples = @(
        @{
            Title   = 'Close a connection'
            Code    = @'
$server = Start-SocketServer
$client = Connect-Socket -ComputerName localhost -Port $server.Port
$peer = Wait-SocketConnection -Server $server

Disconnect-Socket -Connection $client
$client.State
Receive-SocketData -Connection $peer -Verbose
Get-SocketConnection
'@
            Output  = @'
Disconnected
VERBOSE: The remote host 127.0.0.1:41172 closed the connection and no data is left.
   Id Name         Protocol   RemoteEndPoint       State            Sent Received
   -- ----         --------   --------------       -----            ---- --------
    2 Connection2  Tcp        127.0.0.1:41172      Closed              0        0
'@
            Remarks = @'
Disconnect-Socket closes the connection (Python's close) and removes it from
Get-SocketConnection; its State becomes Disconnected. The peer sees the end of the stream: its
receive returns nothing, and its State becomes Closed. The peer's end stays listed until it is
disconnected too.
'@
        }
        @{
            Title   = 'Half-close, then read the answer'
            Code    = @'
# A stand-in service that sorts what it receives, once the client has sent everything.
$sort = Start-SocketServer -ScriptBlock {
    param($Connection)
    $lines = while ($null -ne ($line = $Connection.ReceiveLine())) { $line }
    $lines | Sort-Object | ForEach-Object { $Connection.SendLine($_) }
}

$c = Connect-Socket -ComputerName localhost -Port $sort.Port
'pear', 'apple', 'fig' | Send-SocketData -Connection $c -Line
Disconnect-Socket -Connection $c -Shutdown Send
Receive-SocketData -Connection $c -ToEnd
Get-SocketConnection
Disconnect-Socket -Connection $c
'@
            Output  = @'
apple
fig
pear
   Id Name         Protocol   RemoteEndPoint       State            Sent Received
   -- ----         --------   --------------       -----            ---- --------
    1 Connection1  Tcp        127.0.0.1:33257      Closed             15       15
'@
            Remarks = @'
-Shutdown Send half-closes the connection (Python's shutdown(SHUT_WR)): the peer's receive sees
the end of the stream, while this side can still receive. The service sorts and answers, then
closes; the connection shows Closed and stays listed, with anything unread still readable, until
Disconnect-Socket removes it.
'@
        }
        @{
            Title   = 'Clean up connections the peers closed'
            Code    = @'
$server = Start-SocketServer
$clients = 1..3 | ForEach-Object {
    Connect-Socket -ComputerName localhost -Port $server.Port -Name "client$_"
}
$peers = 1..3 | ForEach-Object { Wait-SocketConnection -Server $server }
Disconnect-Socket -Connection $peers[0], $peers[2]       # the server hangs up on two of them
Start-Sleep -Milliseconds 200

Get-SocketConnection -Name client* | Format-Table Id, Name, State, CloseReason
Get-SocketConnection -State Closed | Disconnect-Socket
(Get-SocketConnection -Name client*).Name
'@
            Output  = @'
Id Name     State CloseReason
-- ----     ----- -----------
 1 client1 Closed The remote host closed the connection.
 4 client2   Open
 6 client3 Closed The remote host closed the connection.
client2
'@
            Remarks = @'
A connection the peer closed stays listed, with State Closed and a CloseReason, so what it sent
before closing can still be read. Piping Get-SocketConnection -State Closed to Disconnect-Socket
removes them; -Id and -Name (wildcards allowed) pick connections too.
'@
        }
    )
    Outputs = @{
        'SockPS.Core.SocketConnection' = 'With -PassThru, each connection after closing it (State Disconnected) or shutting down its sending side (State SendShutdown, unless the peer has closed by then). Without it, nothing.'
    }
    Notes   = @(
        'Closing a connection that is already disconnected does nothing; -Shutdown Send on it is a ConnectionClosed error. Disconnect-Socket supports -WhatIf and -Confirm.'
        'A server''s connections that were handed out by Wait-SocketConnection stay open when the server stops; disconnect them yourself. Remove-Module SockPS closes every connection in the process.'
    )
    Links   = @(
        'Connect-Socket'
        'Get-SocketConnection'
        'Receive-SocketData'
        'Stop-SocketServer'
        'about_SockPS'
    )
}
