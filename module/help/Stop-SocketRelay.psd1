@{
    Examples = @(
        @{
            Title   = 'Stop a relay; its clients are disconnected'
            Code    = @'
$service = Start-SocketServer
$relay = Start-SocketRelay -ComputerName localhost -Port $service.Port -Name db
$client = Connect-Socket -ComputerName localhost -Port $relay.Port
Start-Sleep -Milliseconds 200

Stop-SocketRelay -Relay $relay
Receive-SocketData -Connection $client -Verbose
Get-SocketRelay
'@
            Output  = @'
VERBOSE: The remote host 127.0.0.1:45339 closed the connection and no data is left.
'@
            Remarks = @'
Stopping a relay closes its listener and every forwarded connection, on both sides: the client
sees the end of the stream. The relay leaves Get-SocketRelay.
'@
        }
        @{
            Title   = 'Stop relays by name, after checking which'
            Code    = @'
$service = Start-SocketServer
$null = Start-SocketRelay -ComputerName localhost -Port $service.Port -Name test-1
$null = Start-SocketRelay -ComputerName localhost -Port $service.Port -Name test-2

Stop-SocketRelay -Name test-* -WhatIf
Get-SocketRelay | Stop-SocketRelay -PassThru | Format-Table Id, Name, State
'@
            Output  = @'
What if: Performing the operation "Stop relay" on target "tcp 127.0.0.1:41519 -> localhost:38487 (Listening)".
What if: Performing the operation "Stop relay" on target "tcp 127.0.0.1:44045 -> localhost:38487 (Listening)".
Id Name     State
-- ----     -----
 1 test-1 Stopped
 2 test-2 Stopped
'@
            Remarks = @'
-Name takes wildcards and -WhatIf shows what would be stopped. Get-SocketRelay | Stop-SocketRelay
stops every relay in the process; -PassThru outputs the stopped relays.
'@
        }
    )
    Inputs  = @{
        'SockPS.Core.SocketRelay' = 'Relays from Start-SocketRelay or Get-SocketRelay bind to -Relay.'
    }
    Outputs = @{
        'SockPS.Core.SocketRelay' = 'With -PassThru, each stopped relay (State Stopped). Without it, nothing.'
    }
    Notes   = @(
        'Remove-Module SockPS stops every relay in the process. A relay listening on a Unix socket (-ListenPath) removes its socket file when it stops.'
    )
    Links   = @(
        'Start-SocketRelay'
        'Get-SocketRelay'
        'about_SockPS'
    )
}
