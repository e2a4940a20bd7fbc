@{
    Examples = @(
        @{
            Title   = 'Accept the next client, or give up'
            Code    = @'
$server = Start-SocketServer
Wait-SocketConnection -Server $server -TimeoutSeconds 1

$client = Connect-Socket -ComputerName localhost -Port $server.Port
Wait-SocketConnection -Server $server -TimeoutSeconds 1
'@
            Output  = @'
Wait-SocketConnection: No client connected to Server1 (127.0.0.1:45677) within 1 second. The
server keeps listening. Wait again, or raise -TimeoutSeconds (0 waits forever).
   Id Name         Protocol   RemoteEndPoint       State            Sent Received
   -- ----         --------   --------------       -----            ---- --------
    2 Connection2  Tcp        127.0.0.1:42208      Open                0        0
'@
            Remarks = @'
The server accepts in the background; Wait-SocketConnection hands out the next connection it
accepted (Python's accept), waiting for one if there is none. With no client within the time
given it writes an AcceptTimeout error and the server keeps listening. Without -TimeoutSeconds it
waits until a client comes; Ctrl+C stops the wait.
'@
        }
        @{
            Title   = 'Serve clients one at a time'
            Code    = @'
$server = Start-SocketServer
1..2 | ForEach-Object {        # two clients, each with a request
    $c = Connect-Socket -ComputerName localhost -Port $server.Port
    Send-SocketData -Connection $c -InputObject "request $_" -Line
}

while ($client = Wait-SocketConnection -Server $server -TimeoutSeconds 2 -ErrorAction Ignore) {
    $request = Receive-SocketData -Connection $client -Line
    "$($client.RemoteEndPoint) asked for $request"
    Send-SocketData -Connection $client -InputObject 'done' -Line
    Disconnect-Socket -Connection $client
}
'@
            Output  = @'
127.0.0.1:41178 asked for request 1
127.0.0.1:41180 asked for request 2
'@
            Remarks = @'
A serial server: each client is accepted, served and disconnected before the next. The loop ends
when no client has come for two seconds (-ErrorAction Ignore keeps the AcceptTimeout error quiet).
For clients served side by side, give Start-SocketServer a -ScriptBlock instead.
'@
        }
        @{
            Title   = 'Accept from whichever server is first'
            Code    = @'
$http = Start-SocketServer -Name http
$admin = Start-SocketServer -Name admin
$client = Connect-Socket -ComputerName localhost -Port $admin.Port

$c = Wait-SocketConnection -Server $http, $admin -Any -TimeoutSeconds 10
"$($c.Server.Name) accepted $($c.RemoteEndPoint)"
'@
            Output  = @'
admin accepted 127.0.0.1:56230
'@
            Remarks = @'
With -Any, Wait-SocketConnection returns the first connection any of the servers accepts; the
connection's Server property says which one. Without -Any it takes one connection from each
server in turn.
'@
        }
    )
    Outputs = @{
        'SockPS.Core.SocketConnection' = 'The accepted connection, open (for a TLS server, with its handshake done). Its Server property is the server that accepted it and RemoteEndPoint the client.'
        'SockPS.Commands.SockPSJob' = 'With -AsJob: the job (a SockPS.Commands.SockPSJob, PSJobTypeName SockPSJob), at once; Receive-Job returns what the command returns without -AsJob, as the live objects.'
    }
    Notes   = @(
        'Clients that connect before Wait-SocketConnection is called are accepted and wait on the server (PendingCount) until they are handed out; Stop-SocketServer closes the ones nobody took.'
        'Waiting on a stopped server is a ServerStopped error.'
        '-AsJob runs the command as a job in this process (as Start-ThreadJob does) and returns the job at once: Get-Job lists it, Wait-Job waits for it, Receive-Job returns its output (the live objects: a connection is the one Get-SocketConnection lists) and its errors with the same ids as without -AsJob, Stop-Job cancels the work as Ctrl+C does. It runs in the caller''s current folder with the caller''s parameters and pipeline input; what it opens belongs to the caller''s runspace (Remove-Module). Jobs stay listed until Remove-Job or Receive-Job -AutoRemoveJob.'
    )
    Links   = @(
        'Start-SocketServer'
        'Stop-SocketServer'
        'Receive-SocketData'
        'Send-SocketData'
        'Connect-Socket'
        'about_SockPS'
    )
}
