@{
    Examples = @(
        @{
            Title   = 'Stop a server; its connections stay open'
            Code    = @'
$server = Start-SocketServer -Name web
$client = Connect-Socket -ComputerName localhost -Port $server.Port
$peer = Wait-SocketConnection -Server $server

Stop-SocketServer -Server $server -PassThru
$peer.State
Connect-Socket -ComputerName localhost -Port $server.Port
'@
            Output  = @'
   Id Name       Protocol   LocalEndPoint          State     Connections Accepted
   -- ----       --------   -------------          -----     ----------- --------
    1 web        Tcp        127.0.0.1:36327        Stopped             1        1
Open
Connect-Socket: Connection to localhost:36327 (127.0.0.1:36327) was refused: nothing is
listening on that port. Check the port number and that the service is running.
'@
            Remarks = @'
Stopping closes the listening socket: new clients are refused. A connection already handed out by
Wait-SocketConnection stays open, as in Python, where closing the listening socket leaves
accepted sockets alone; close it with Disconnect-Socket. -PassThru outputs the stopped server.
'@
        }
        @{
            Title   = 'Stop servers by name, after checking which'
            Code    = @'
$null = Start-SocketServer -Name test-a
$null = Start-SocketServer -Name test-b
$null = Start-SocketServer -Name web

Stop-SocketServer -Name test-* -WhatIf
Stop-SocketServer -Name test-*
Get-SocketServer
'@
            Output  = @'
What if: Performing the operation "Stop server" on target "tcp 127.0.0.1:41557 (Listening)".
What if: Performing the operation "Stop server" on target "tcp 127.0.0.1:46175 (Listening)".
   Id Name       Protocol   LocalEndPoint          State     Connections Accepted
   -- ----       --------   -------------          -----     ----------- --------
    3 web        Tcp        127.0.0.1:43887        Listening           0        0
'@
            Remarks = @'
-Name takes wildcards; -WhatIf shows what would be stopped. A stopped server leaves
Get-SocketServer. Get-SocketServer | Stop-SocketServer stops every server in the session.
'@
        }
    )
    Inputs  = @{
        'SockPS.Core.SocketServer' = 'Servers from Start-SocketServer or Get-SocketServer bind to -Server.'
    }
    Outputs = @{
        'SockPS.Core.SocketServer' = 'With -PassThru, each stopped server (State Stopped). Without it, nothing.'
    }
    Notes   = @(
        'Accepted connections that nobody took with Wait-SocketConnection are closed. On a server started with -ScriptBlock, the running handlers are stopped and the connections they hold are closed; what they wrote can still be read with Receive-SocketServerOutput. On a server started with -FilePath, the running programs are stopped at once, with the programs they started (Windows PowerShell 5.1 stops only the program itself), and their results are kept for Receive-SocketServerOutput.'
        'A Unix socket server removes its socket file when it stops. Remove-Module SockPS stops every server in the process.'
    )
    Links   = @(
        'Start-SocketServer'
        'Get-SocketServer'
        'Wait-SocketConnection'
        'Disconnect-Socket'
        'about_SockPS'
    )
}
