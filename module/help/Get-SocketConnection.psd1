@{
    Examples = @(
        @{
            Title   = 'List the connections'
            Code    = @'
$web = Start-SocketServer -Name web
$client = Connect-Socket -ComputerName localhost -Port $web.Port -Name browser
$peer = Wait-SocketConnection -Server $web
Send-SocketData -Connection $client -InputObject 'GET / HTTP/1.0' -Line

Get-SocketConnection
'@
            Output  = @'
   Id Name         Protocol   RemoteEndPoint       State            Sent Received
   -- ----         --------   --------------       -----            ---- --------
    1 browser      Tcp        127.0.0.1:35269      Open               15        0
    2 Connection2  Tcp        127.0.0.1:53444      Open                0       15
'@
            Remarks = @'
Get-SocketConnection lists every connection in the process, whichever runspace opened it, by Id:
both ends of this loopback connection, with the bytes each has sent and received. Protocol shows
Tcp, Tls, Udp, Unix or Unix-Dgram.
'@
        }
        @{
            Title   = 'Find connections by name, state or server'
            Code    = @'
$web = Start-SocketServer -Name web
$clients = 1..3 | ForEach-Object {
    Connect-Socket -ComputerName localhost -Port $web.Port -Name "worker$_"
}
$peers = 1..3 | ForEach-Object { Wait-SocketConnection -Server $web }
Disconnect-Socket -Connection $peers[1]        # the server hangs up on worker2
Start-Sleep -Milliseconds 200

Get-SocketConnection -Name worker* -State Open | Select-Object -ExpandProperty Name
Get-SocketConnection -State Closed | Format-Table Id, Name, State, CloseReason
(Get-SocketConnection -Server $web).Count
'@
            Output  = @'
worker1
worker3
Id Name     State CloseReason
-- ----     ----- -----------
 4 worker2 Closed The remote host closed the connection.
2
'@
            Remarks = @'
-Name takes wildcards, -State keeps connections in the states given (Open, SendShutdown, Closed),
and -Server keeps the connections a server accepted (Get-SocketServer output can be piped in).
A connection the peer closed stays listed as Closed, with its CloseReason, until
Disconnect-Socket removes it.
'@
        }
        @{
            Title   = 'Look at one connection in full'
            Code    = @'
$web = Start-SocketServer -Name web
$client = Connect-Socket -ComputerName localhost -Port $web.Port -Name browser
$peer = Wait-SocketConnection -Server $web
Send-SocketData -Connection $client -InputObject 'GET / HTTP/1.0' -Line

Get-SocketConnection -Id $peer.Id | Format-List
'@
            Output  = @'
Id                    : 2
Name                  : Connection2
Protocol              : Tcp
AddressFamily         : InterNetwork
LocalEndPoint         : 127.0.0.1:43767
RemoteEndPoint        : 127.0.0.1:48102
State                 : Open
BytesSent             : 0
BytesReceived         : 15
Available             : 15
ConnectedAt           : 11/25/2026 7:23:58 PM
CloseReason           :
Server                : web (127.0.0.1:43767)
Encoding              : utf-8
NewLine               : `n
ReceiveTimeoutSeconds : 30
InstanceId            : 439dacd9-fd9c-4428-b259-c19c8973b317
'@
            Remarks = @'
The list view shows everything about a connection: both endpoints, byte counts, what has arrived
and not been read yet (Available), the server that accepted it, and its encoding, line end and
receive timeout. TLS connections show their protocol, cipher suite and the peer's certificate
too. An Id that does not exist is a ConnectionNotFound error; Ids are never reused.
'@
        }
    )
    Inputs  = @{
        'SockPS.Core.SocketServer' = 'Servers piped in (from Get-SocketServer or Start-SocketServer) bind to -Server: only the connections they accepted are returned.'
    }
    Outputs = @{
        'SockPS.Core.SocketConnection' = 'One live object per connection, by Id: open ones, half-closed ones (SendShutdown), and ones the peer closed (Closed) that are not yet disconnected.'
    }
    Notes   = @(
        'The list is a snapshot of the process-wide registry: connections made in thread jobs and ForEach-Object -Parallel runspaces are listed too, and can be used from any runspace.'
        'An Id that no connection has, or an exact name that none has, is a ConnectionNotFound error; a wildcard that matches nothing returns nothing.'
    )
    Links   = @(
        'Connect-Socket'
        'Disconnect-Socket'
        'Get-SocketServer'
        'Wait-SocketConnection'
        'about_SockPS'
    )
}
