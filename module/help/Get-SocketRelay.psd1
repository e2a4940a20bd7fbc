@{
    Examples = @(
        @{
            Title   = 'List the relays'
            Code    = @'
$web = Start-SocketServer
$db = Start-SocketServer
$null = Start-SocketRelay -ComputerName localhost -Port $web.Port -Name web
$null = Start-SocketRelay -ComputerName localhost -Port $db.Port -Name db
$client = Connect-Socket -ComputerName localhost -Port (Get-SocketRelay -Name db).Port

Get-SocketRelay
'@
            Output  = @'
   Id Name       LocalEndPoint        Target             Active       Up     Down
   -- ----       -------------        ------             ------       --     ----
    1 web        127.0.0.1:45789      localhost:35173         0        0        0
    2 db         127.0.0.1:35003      localhost:39253         1        0        0
'@
            Remarks = @'
Get-SocketRelay lists every running relay in the process, by Id: where it listens, its target,
the clients connected now (Active) and the bytes copied to the target (Up) and back (Down).
'@
        }
        @{
            Title   = 'Find out why a relay''s clients are cut off'
            Code    = @'
$null = Start-SocketRelay -ComputerName 127.0.0.1 -Port 9 -Name broken
$c = Connect-Socket -ComputerName localhost -Port (Get-SocketRelay -Name broken).Port
Receive-SocketData -Connection $c -Verbose

Get-SocketRelay -Name b* | Format-List Name, Target, ClientCount, ErrorCount, LastError
'@
            Output  = @'
VERBOSE: The remote host 127.0.0.1:44375 closed the connection and no data is left.
Name        : broken
Target      : 127.0.0.1:9
ClientCount : 1
ErrorCount  : 1
LastError   : Connection to 127.0.0.1:9 was refused: nothing is listening on that port. Check the
              port number and that the service is running.
'@
            Remarks = @'
A client whose relay cannot reach the target is disconnected at once; it sees the end of the
stream. The relay counts the failure and keeps the last one in LastError. -Name takes wildcards;
-Id takes the relays' Ids.
'@
        }
    )
    Outputs = @{
        'SockPS.Core.SocketRelay' = 'One live object per running relay, by Id.'
    }
    Notes   = @(
        'The list is a snapshot of the process-wide registry; stopped relays are not listed. An Id or exact name that no relay has is a RelayNotFound error; a wildcard that matches nothing returns nothing.'
    )
    Links   = @(
        'Start-SocketRelay'
        'Stop-SocketRelay'
        'about_SockPS'
    )
}
