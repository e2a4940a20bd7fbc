@{
    Examples = @(
        @{
            Title   = 'Sort what a peer sends, and send it back'
            Code    = @'
$peer = Start-SocketServer -ScriptBlock {
    param($Connection)
    $Connection.Send("pear`napple`nfig`n")
    $Connection.ShutdownSend()                       # the list is complete
    Receive-SocketData -Connection $Connection -ToEnd
}

Connect-Socket -ComputerName localhost -Port $peer.Port | Start-SocketProcess sort
Receive-SocketServerOutput -Server $peer
'@
            Output  = @'
ProcessId ExitCode   BytesIn  BytesOut Seconds EndReason
--------- --------   -------  -------- ------- ---------
    24610        0        15        15    0.17 The program exited with code 0.
apple
fig
pear
'@
            Remarks = @'
What `ncat localhost PORT -e sort` does. The peer's bytes go to sort's standard input as they are;
the peer's half-close (ShutdownSend, a FIN) is the end of sort's input, so sort writes its answer,
which goes back to the peer, and exits; its exit closes the connection. The command waits until
then and returns the result: the exit code, the bytes in (to the program) and out (to the peer),
and why it ended.
'@
        }
        @{
            Title   = 'Serve one accepted client, in the background'
            Code    = @'
$server = Start-SocketServer
$client = Connect-Socket -ComputerName localhost -Port $server.Port
$script = 'read name; echo "Hello, $name. You are $SOCKPS_REMOTE_ADDR:$SOCKPS_REMOTE_PORT."'
$job = Wait-SocketConnection -Server $server |
    Start-SocketProcess -FilePath sh -ArgumentList '-c', $script -AsJob

Send-SocketData -Connection $client -InputObject 'Ada' -Line
Receive-SocketData -Connection $client -ToEnd
$job | Receive-Job -Wait -AutoRemoveJob |
    Format-List ProcessId, ExitCode, BytesIn, BytesOut, EndReason
'@
            Output  = @'
Hello, Ada. You are 127.0.0.1:39236.

ProcessId : 24827
ExitCode  : 0
BytesIn   : 4
BytesOut  : 37
EndReason : The program exited with code 0.
'@
            Remarks = @'
What `ncat -l -e` does for one client. -ArgumentList reaches the program as it is, with no shell
in between (here sh itself is the program, and the script its argument); the received name is
only ever data. The program learns who is connected from SOCKPS_REMOTE_ADDR and
SOCKPS_REMOTE_PORT (and SOCKPS_LOCAL_ADDR, SOCKPS_LOCAL_PORT). -AsJob returns at once; Stop-Job
would stop the program and close the connection. To serve every client, use Start-SocketServer
-FilePath.
'@
        }
        @{
            Title   = 'See why a program failed'
            Code    = @'
$server = Start-SocketServer
$client = Connect-Socket -ComputerName localhost -Port $server.Port
$script = 'echo working; echo "disk full" >&2; exit 2'
$job = Wait-SocketConnection -Server $server |
    Start-SocketProcess -FilePath sh -ArgumentList '-c', $script -AsJob

Receive-SocketData -Connection $client -ToEnd
$result = $job | Receive-Job -Wait -AutoRemoveJob
$result.ExitCode
$result.StandardError
'@
            Output  = @'
working

2
disk full
'@
            Remarks = @'
Standard error does not go to the peer unless -MergeStandardError says so; the last 4 KiB of it
are kept in the result's StandardError, next to the exit code.
'@
        }
    )
    Inputs  = @{
        'SockPS.Core.SocketConnection' = 'Stream connections (TCP, TLS, Unix stream sockets) from Connect-Socket, Wait-SocketConnection or Get-SocketConnection bind to -Connection; each gets the program in turn.'
    }
    Outputs = @{
        'SockPS.Core.SocketProcessResult' = 'One per connection, when its program has ended and the connection is closed: FilePath, ArgumentList, ProcessId, ExitCode, Stopped (true when SockPS had to stop the program), BytesIn (to the program), BytesOut (to the peer), StartedAt, Duration, EndReason and StandardError (its last 4 KiB, unless merged).'
        'SockPS.Commands.SockPSJob'       = 'With -AsJob: the job (a SockPS.Commands.SockPSJob, PSJobTypeName SockPSJob), at once; Receive-Job returns what the command returns without -AsJob, as the live objects.'
    }
    Notes   = @(
        'How it ends: when the peer half-closes, the program''s standard input is closed (it sees end of file) and its output still goes out. When the program closes its output, the connection''s sending side is shut down (FIN); when it has also exited, the connection is closed. When the peer resets the connection, a send to it fails, or it is closed here (Disconnect-Socket, Ctrl+C, Stop-Job), the program''s input is closed and it gets 2 seconds to exit before it is stopped, with the programs it started. A peer that closes without a reset looks like a half-close: a program that neither reads nor writes then runs on until it exits. A program that leaves a background process holding its output keeps the connection open until that one lets go of it too, as a pipe would.'
        'SECURITY: received data is never evaluated by SockPS, and -ArgumentList is passed without a shell. But a program that is itself a shell or an interpreter (sh, bash, cmd.exe, pwsh, python) runs whatever the peer sends, as you. Connect such a program only to peers you trust.'
        'Programs buffer their output when it is not a terminal: a program that writes a line and waits for an answer may need to flush (stdbuf -oL, python -u, sed -u, grep --line-buffered) for the line to leave before it exits.'
        'A program that never reads is not a problem for SockPS: its input pipe fills, the connection stops being read, and TCP makes the peer wait; nothing else is held up.'
        'Windows: any console program works; arguments are passed as a list. In Windows PowerShell 5.1 they are joined into one command line quoted for the C runtime''s rules (what programs built with it, and .NET, split back exactly), and stopping a program does not stop the programs it started.'
    )
    Links   = @(
        'Start-SocketServer'
        'Connect-Socket'
        'Wait-SocketConnection'
        'Receive-SocketServerOutput'
        'about_SockPS'
    )
}
