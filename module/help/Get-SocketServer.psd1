@{
    Examples = @(
        @{
            Title   = 'List the servers'
            Code    = @'
$null = Start-SocketServer -Name web
$null = Start-SocketServer -Name syslog -Protocol Udp
$null = Start-SocketServer -Name api -Path /tmp/api.sock

Get-SocketServer
'@
            Output  = @'
   Id Name       Protocol   LocalEndPoint          State     Connections Accepted
   -- ----       --------   -------------          -----     ----------- --------
    1 web        Tcp        127.0.0.1:46057        Listening           0        0
    2 syslog     Udp        127.0.0.1:40612        Listening           0        0
    3 api        Unix       /tmp/api.sock          Listening           0        0
'@
            Remarks = @'
Get-SocketServer lists every listening server in the process, whichever runspace started it, by
Id. Protocol shows Tcp, Udp, Unix or Unix-Dgram; LocalEndPoint is the address and port (or socket
file) it listens on.
'@
        }
        @{
            Title   = 'Find a server by name and look at it in full'
            Code    = @'
$null = Start-SocketServer -Name web -MaxConnections 50
$client = Connect-Socket -ComputerName localhost -Port (Get-SocketServer -Name web).Port

Get-SocketServer -Name w* | Format-List
'@
            Output  = @'
Id                 : 1
Name               : web
Protocol           : Tcp
AddressFamily      : InterNetwork
LocalEndPoint      : 127.0.0.1:40927
Port               : 40927
State              : Listening
ConnectionCount    : 1
AcceptedCount      : 1
PendingCount       : 1
AcceptErrorCount   : 0
RefusedCount       : 0
MaxConnections     : 50
IdleTimeoutSeconds : 0
LastAcceptError    :
Backlog            : 128
StartedAt          : 11/25/2026 7:20:58 PM
InstanceId         : 3bca8a7d-d8e5-4f10-a044-0ebf94b126f3
'@
            Remarks = @'
-Name takes wildcards (and -Id numbers). Format-List shows everything the server counts:
connections open now, accepted in all, waiting to be handed out (PendingCount), refused by
-AllowAddress or -DenyAddress, and accept errors.
'@
        }
        @{
            Title   = 'List the connections a server accepted'
            Code    = @'
$web = Start-SocketServer -Name web
1..2 | ForEach-Object { $null = Connect-Socket -ComputerName localhost -Port $web.Port }

Get-SocketServer -Name web | Get-SocketConnection
'@
            Output  = @'
   Id Name         Protocol   RemoteEndPoint       State            Sent Received
   -- ----         --------   --------------       -----            ---- --------
    2 Connection2  Tcp        127.0.0.1:48972      Open                0        0
    3 Connection3  Tcp        127.0.0.1:48986      Open                0        0
'@
            Remarks = @'
Piping servers to Get-SocketConnection lists only the connections they accepted: here the
servers' ends of the two client connections, whether or not Wait-SocketConnection has handed them
out yet.
'@
        }
    )
    Outputs = @{
        'SockPS.Core.SocketServer' = 'One live object per listening server, by Id.'
    }
    Notes   = @(
        'The list is a snapshot of the process-wide registry: servers started in thread jobs or ForEach-Object -Parallel runspaces are listed too. Stopped servers are not listed.'
        'An Id that no server has, or an exact name that none has, is a ServerNotFound error; a wildcard that matches nothing returns nothing.'
    )
    Links   = @(
        'Start-SocketServer'
        'Stop-SocketServer'
        'Get-SocketConnection'
        'Wait-SocketConnection'
        'about_SockPS'
    )
}
