@{
    Examples = @(
        @{
            Title   = 'Accept a client (the tutorial''s server)'
            Code    = @'
$server = Start-SocketServer -Port 0 -Name tutorial
$server

$client = Connect-Socket -ComputerName localhost -Port $server.Port   # usually another machine
$c = Wait-SocketConnection -Server $server
"Got connection from $($c.RemoteEndPoint)"
Send-SocketData -Connection $c -InputObject 'Thank you for connecting'
Disconnect-Socket -Connection $c
Receive-SocketData -Connection $client -ToEnd
'@
            Output  = @'
   Id Name       Protocol   LocalEndPoint          State     Connections Accepted
   -- ----       --------   -------------          -----     ----------- --------
    1 tutorial   Tcp        127.0.0.1:42307        Listening           0        0
Got connection from 127.0.0.1:36504
Thank you for connecting
'@
            Remarks = @'
Start-SocketServer binds and listens (Python's bind and listen) and accepts clients in the
background; Wait-SocketConnection hands out the next one (accept). -Port 0, the default, lets the
OS pick a free port, which the server object shows. The server listens on 127.0.0.1 only, so
nothing outside this machine can connect until -Address says so.
'@
        }
        @{
            Title   = 'Listen on every interface, with limits'
            Code    = @'
$limits = @{ MaxConnections = 100; IdleTimeoutSeconds = 300; DenyAddress = '10.0.0.0/8' }
$web = Start-SocketServer -Address 0.0.0.0 -Port 8080 -Name web @limits
$web | Format-List Name, LocalEndPoint, State, MaxConnections, IdleTimeoutSeconds, RefusedCount
'@
            Output  = @'
Name               : web
LocalEndPoint      : 0.0.0.0:8080
State              : Listening
MaxConnections     : 100
IdleTimeoutSeconds : 300
RefusedCount       : 0
'@
            Remarks = @'
-Address 0.0.0.0 (or Any) listens on every IPv4 address, :: (or IPv6Any) on every address. At most
100 connections are served at once; further clients wait in the OS backlog until one closes.
Connections idle for 300 seconds are closed, and clients from 10.0.0.0/8 are reset at once and
counted in RefusedCount (-AllowAddress does the opposite: only the ranges given are served).
'@
        }
        @{
            Title   = 'Serve many clients with a script block'
            Code    = @'
$echo = Start-SocketServer -Name echo -ScriptBlock {
    param($Connection)
    while ($null -ne ($line = $Connection.ReceiveLine())) {
        $Connection.SendLine($line.ToUpper())
        "echoed $line"
    }
}

$clients = 1..3 | ForEach-Object {
    $c = Connect-Socket -ComputerName localhost -Port $echo.Port
    Send-SocketData -Connection $c -InputObject "hi from client $_" -Line -PassThru
}
$clients | Receive-SocketData -Line
$echo.Handlers
$clients | Disconnect-Socket
Receive-SocketServerOutput -Server $echo
'@
            Output  = @'
HI FROM CLIENT 1
HI FROM CLIENT 2
HI FROM CLIENT 3
ThrottleLimit : 32
Running       : 3
RunningSilent : 0
Waiting       : 0
WaitingSilent : 0
Completed     : 0
Failed        : 0
Evicted       : 0
Dropped       : 0
TimedOut      : 0
OutputCount   : 3
DroppedOutput : 0
echoed hi from client 1
echoed hi from client 2
echoed hi from client 3
'@
            Remarks = @'
With -ScriptBlock the server serves every client itself, concurrently, like Python's
socketserver with a thread per client: the block runs once per connection in runspaces of its own
(at most -ThrottleLimit, default 32, at a time) with the connection as its first argument. The
connection closes when the block returns. The Handlers property counts running, waiting,
completed and failed blocks; what the blocks write waits on the server for
Receive-SocketServerOutput.

The block runs in another runspace, in the language mode of the session that started the server:
give it data with $using:name (the value when the server started) or -ArgumentList.
'@
        }
        @{
            Title   = 'Serve every client with a program (ncat -k -e)'
            Code    = @'
$upper = Start-SocketServer -Name upper -FilePath tr -ArgumentList 'a-z', 'A-Z'
$c = Connect-Socket -ComputerName localhost -Port $upper.Port
Send-SocketData -Connection $c -InputObject 'make this loud' -Line
Disconnect-Socket -Connection $c -Shutdown Send      # end of input: tr finishes and exits
Receive-SocketData -Connection $c -ToEnd
Receive-SocketServerOutput -Server $upper
'@
            Output  = @'
MAKE THIS LOUD

ProcessId ExitCode   BytesIn  BytesOut Seconds EndReason
--------- --------   -------  -------- ------- ---------
    25518        0        15        15    0.04 The program exited with code 0.
'@
            Remarks = @'
With -FilePath every client gets a program of its own, its standard input reading what the
client sends and its standard output going back: `ncat -k -l -e`, `socat TCP-LISTEN:p,fork EXEC:`.
The client's half-close is the end of the program's input; the program's exit closes the
connection; a client that resets, -IdleTimeoutSeconds and Stop-SocketServer stop it. The program
is found when the server starts (on PATH, or from the current location) and -ArgumentList reaches
it as it is, with no shell. -ThrottleLimit, -MaxConnections, the access lists, TLS and
-TranscriptPath apply as for -ScriptBlock; Receive-SocketServerOutput returns each program's
result.
'@
        }
        @{
            Title   = 'A shell for this machine only'
            Code    = @'
$shell = Start-SocketServer -FilePath /bin/sh -MergeStandardError -ThrottleLimit 1 `
    -IdleTimeoutSeconds 600
$c = Connect-Socket -ComputerName localhost -Port $shell.Port
$commands = 'echo "you are $SOCKPS_REMOTE_ADDR"; ls /nonexistent; exit 7'
Send-SocketData -Connection $c -InputObject $commands -Line
Receive-SocketData -Connection $c -ToEnd
(Receive-SocketServerOutput -Server $shell).EndReason
'@
            Output  = @'
you are 127.0.0.1
ls: cannot access '/nonexistent': No such file or directory

The program exited with code 7.
'@
            Remarks = @'
A shell on a socket gives everyone who can connect a shell on this machine, with your rights:
no password, nothing logged but what -TranscriptPath records. This server binds 127.0.0.1 (the
default), so only local users can reach it, one at a time, and an idle one is cut off. To expose
such a server beyond this machine, bind the one address needed, list who may connect with
-AllowAddress, and require TLS client certificates: -Certificate with -RequireClientCertificate
and -CaCertificate. -MergeStandardError sends the shell's errors to the client too.
'@
        }
        @{
            Title   = 'Keep serving while clients connect and say nothing'
            Code    = @'
$greeting = 'Welcome to the lab'
$banned = @('root', 'admin')
$lab = Start-SocketServer -Name lab -ThrottleLimit 8 -FirstByteTimeoutSeconds 10 -IdleTimeoutSeconds 60 -ScriptBlock {
    param($Connection)
    $user = $Connection.ReceiveLine()
    if ($user -in $using:banned) { $Connection.SendLine('Go away.'); return }
    $Connection.SendLine("$using:greeting, $user.")
}

$quiet = 1..20 | ForEach-Object { Connect-Socket -ComputerName localhost -Port $lab.Port }   # say nothing
$alice = Connect-Socket -ComputerName localhost -Port $lab.Port
Send-SocketData -Connection $alice -InputObject 'alice' -Line
Receive-SocketData -Connection $alice -Line
$lab.Handlers
'@
            Output  = @'
Welcome to the lab, alice.
ThrottleLimit : 8
Running       : 8
RunningSilent : 7
Waiting       : 12
WaitingSilent : 12
Completed     : 0
Failed        : 0
Evicted       : 1
Dropped       : 0
TimedOut      : 0
OutputCount   : 0
DroppedOutput : 0
'@
            Remarks = @'
Twenty clients connect and send nothing: the first eight get a handler each, waiting in
ReceiveLine, and twelve wait. A client that has sent data is served before every silent one that
waits, and when every runspace is busy, a handler whose client has sent nothing at all is ended
(its connection closed, longest-silent first) to make room, as long as more than
-SilentHandlerLimit (default: half of -ThrottleLimit) such handlers run. So alice is answered at
once and one silent client was evicted. A server that greets first keeps all its runspaces: its
clients wait for the greeting, so no client with data waits.

-FirstByteTimeoutSeconds 10 closes clients that are still waiting, silent, 10 seconds after they
connected; -IdleTimeoutSeconds counts only while a handler has the connection, so a request that
waits for a runspace is never closed as idle. -QueueLimit (default 1024) bounds how many wait.
$using:greeting and $using:banned carry the caller's values into the handlers' runspaces.
'@
        }
        @{
            Title   = 'Echo UDP datagrams to their senders'
            Code    = @'
$udp = Start-SocketServer -Protocol Udp -Port 0 -Name echo
$c = Connect-Socket -Uri "udp://127.0.0.1:$($udp.Port)"
'ping', 'pong' | Send-SocketData -Connection $c

Receive-SocketData -Connection $udp -Continuous | Select-Object -First 2 | Send-SocketData
Receive-SocketData -Connection $c -Continuous | Select-Object -First 2
'@
            Output  = @'
ReceivedAt   RemoteEndPoint           Length Text
----------   --------------           ------ ----
19:18:19.780 127.0.0.1:42948               4 ping
19:18:19.780 127.0.0.1:42948               4 pong
'@
            Remarks = @'
A UDP server is one datagram socket that receives from everyone. Each received SocketDatagram
piped to Send-SocketData goes back to its sender, on the socket it arrived on, so
Receive-SocketData -Connection $udp -Continuous | Send-SocketData is a complete echo server;
Select-Object -First 2 stops it after two datagrams here.
'@
        }
        @{
            Title   = 'Serve TLS'
            Code    = @'
$tls = Start-SocketServer -CertificatePath ./certs/server.pem -KeyPath ./certs/server.key
$client = Connect-Socket -Uri "tls://localhost:$($tls.Port)" -CaCertificate ./certs/ca.pem
$peer = Wait-SocketConnection -Server $tls
$peer | Format-Table Id, Transport, TlsProtocol, CipherSuite

# A client that does not speak TLS is counted and dropped; the server goes on.
$plain = Connect-Socket -ComputerName localhost -Port $tls.Port
Send-SocketData -Connection $plain -InputObject "GET / HTTP/1.0`r`n`r`n"
Start-Sleep -Seconds 1
$tls | Format-List Name, TlsFailureCount, LastTlsError
'@
            Output  = @'
Id Transport TlsProtocol CipherSuite
-- --------- ----------- -----------
 1 Tls       Tls13       TLS_AES_256_GCM_SHA384
Name            : Server1
TlsFailureCount : 1
LastTlsError    : The TLS handshake with 127.0.0.1:42788 failed: Cannot determine the frame size or
                  a corrupted frame was received. Check that the peer speaks TLS here and that the
                  versions (-TlsProtocol) and certificates match.
'@
            Remarks = @'
With -CertificatePath and -KeyPath (PEM files), -CertificatePath alone (a PFX file, with
-CertificatePassword), or -Certificate (an X509Certificate2 with its private key), every accepted
connection completes a TLS handshake before Wait-SocketConnection hands it out.
-RequireClientCertificate with -CaCertificate asks clients for certificates (mutual TLS).

The certificate files here come from examples/New-TestCertificate.ps1 in the SockPS repository.
'@
        }
        @{
            Title   = 'Offer HTTP/2 and HTTP/1.1 (ALPN)'
            Code    = @'
$h2 = Start-SocketServer -Port 8443 -CertificatePath ./certs/server.pem -KeyPath ./certs/server.key `
    -ApplicationProtocol h2, http/1.1
'' | openssl s_client -connect 127.0.0.1:8443 -alpn http/1.1 -CAfile ./certs/ca.pem -servername localhost 2>&1 |
    Select-String 'ALPN protocol'
(Wait-SocketConnection -Server $h2).NegotiatedApplicationProtocol
'@
            Output  = @'
ALPN protocol: http/1.1
http/1.1
'@
            Remarks = @'
-ApplicationProtocol lists what the server speaks, preferred first; of the protocols a client
offers, the first in that list wins, and each accepted connection shows it in
NegotiatedApplicationProtocol. A client that offers ALPN but none of these fails its handshake
(counted in TlsFailureCount); one that offers no ALPN is accepted without a protocol.
-TlsCipherSuite limits the cipher suites (Linux and macOS). Both need PowerShell 7.
'@
        }
        @{
            Title   = 'Listen on a Unix domain socket'
            Code    = @'
$unix = Start-SocketServer -Path /tmp/app.sock
$unix
$client = Connect-Socket -Path /tmp/app.sock
Wait-SocketConnection -Server $unix

Stop-SocketServer -Server $unix
Test-Path -Path /tmp/app.sock
'@
            Output  = @'
   Id Name       Protocol   LocalEndPoint          State     Connections Accepted
   -- ----       --------   -------------          -----     ----------- --------
    1 Server1    Unix       /tmp/app.sock          Listening           0        0
   Id Name         Protocol   RemoteEndPoint       State            Sent Received
   -- ----         --------   --------------       -----            ---- --------
    2 Connection2  Unix       (unnamed)            Open                0        0
False
'@
            Remarks = @'
-Path listens on a Unix domain socket file (-Protocol Udp for a Unix datagram socket). A stale
socket file that nobody listens on is replaced; a file someone listens on is an AddressInUse
error, and a file that is not a socket is never touched. The file is removed when the server
stops. A client that did not bind a path of its own shows as (unnamed).
'@
        }
        @{
            Title   = 'Share one port between servers'
            Code    = @'
$a = Start-SocketServer -ReusePort -Name worker1 -KeepAliveSeconds 60 -KeepAliveIntervalSeconds 10
$b = Start-SocketServer -ReusePort -Name worker2 -Port $a.Port -KeepAliveSeconds 60
1..20 | ForEach-Object { Connect-Socket -ComputerName 127.0.0.1 -Port $a.Port } | Out-Null
Get-SocketServer | Format-Table Name, LocalEndPoint, AcceptedCount
'@
            Output  = @'
Name    LocalEndPoint   AcceptedCount
----    -------------   -------------
worker1 127.0.0.1:45667             8
worker2 127.0.0.1:45667            12
'@
            Remarks = @'
-ReusePort sets SO_REUSEPORT: every server (in this process or another of the same user) that
asks for it may listen on the same port, and the OS spreads new connections among them. Linux,
macOS and the BSDs have it; on Windows it is a NotSupported error.

-KeepAliveSeconds, -KeepAliveIntervalSeconds and -KeepAliveCount turn TCP keep-alive on for every
accepted connection with that timing (TCP_KEEPIDLE, TCP_KEEPINTVL, TCP_KEEPCNT), so a client that
vanished is noticed after minutes rather than the system's two hours.
'@
        }
        @{
            Title   = 'Listen on a Linux abstract socket name'
            Code    = @'
$app = Start-SocketServer -AbstractName myapp
$app | Format-Table Name, Protocol, LocalEndPoint, State

# socat - ABSTRACT-CONNECT:myapp reaches it as well.
$c = Connect-Socket -AbstractName myapp
"$($c.RemoteEndPoint)"
'@
            Output  = @'
Name    Protocol LocalEndPoint     State
----    -------- -------------     -----
Server1      Tcp @myapp        Listening

@myapp
'@
            Remarks = @'
-AbstractName listens on an abstract Unix socket (Linux only): a name with no file behind it,
shown as @name. Nothing is left behind when the server stops, and file permissions do not apply:
any local process may connect. -Path @myapp would instead make a file named @myapp.
'@
        }
        @{
            Title   = 'A WebSocket echo server'
            Code    = @'
$s = Start-SocketServer -WebSocket -WebSocketPath /echo -ScriptBlock {
    param($Connection)
    while ($null -ne ($m = Receive-SocketData -Connection $Connection -TimeoutSeconds 0)) {
        $m | Send-SocketData -Connection $Connection
    }
}
$s
$e = Connect-Socket -Uri "ws://localhost:$($s.Port)/echo"
'ping?' | Send-SocketData -Connection $e
(Receive-SocketData -Connection $e).Text
'@
            Output  = @'
   Id Name       Protocol   LocalEndPoint          State     Connections Accept
                                                                             ed
   -- ----       --------   -------------          -----     ----------- ------
    1 Server1    Ws         127.0.0.1:44185        Listening           0      0

ping?
'@
            Remarks = @'
-WebSocket answers each client's HTTP upgrade before the handler sees the connection; then each
receive is one message, and a message piped back goes out as it came (text as text, binary as
binary). -WebSocketPath answers other paths 404; with -Certificate, clients connect with wss://.
Browsers, Node's ws and Python's websockets connect to it. Not on Windows PowerShell 5.1.
'@
        }
    )
    ParameterDefaults = @{
        Address                  = '127.0.0.1'
        Name                     = 'Server<Id>'
        TlsProtocol              = 'Tls12, Tls13'
        KeepAliveSeconds         = 'The OS default (7200 on Linux and Windows)'
        KeepAliveIntervalSeconds = 'The OS default (75 on Linux, 1 on Windows)'
        KeepAliveCount           = 'The OS default (9 on Linux, 10 on Windows)'
        MulticastTimeToLive      = 'The OS default (1)'
        MulticastLoopback        = 'The OS default ($true)'
        TlsCipherSuite           = 'The operating system''s choice'
    }
    Outputs = @{
        'SockPS.Core.SocketServer' = 'The listening server: a live object showing its LocalEndPoint and Port (the one the OS picked for -Port 0), State, ConnectionCount, AcceptedCount, RefusedCount, and for TLS servers TlsFailureCount and LastTlsError. A UDP server also stands for its datagram socket wherever a -Connection is expected.'
    }
    Notes   = @(
        'A server listens on 127.0.0.1 (or ::1) unless -Address says otherwise, so a test server is not reachable from the network by accident. -Address 0.0.0.0 or :: opens it to every interface; check the firewall too.'
        'The server accepts in the background from the moment it starts; clients that arrive before Wait-SocketConnection is called wait, accepted, on the server (PendingCount). A server that cannot bind its address (AddressInUse, AccessDenied) is a terminating error.'
        'Stop-SocketServer closes the listener and the accepted connections nobody took; connections already handed out stay open. On a handler server it also stops the running script blocks and closes their connections; their threads and runspaces end with the server, and what they wrote stays readable with Receive-SocketServerOutput for as long as the server object is kept.'
        'Handlers run on background threads: a script that ends with a handler server still running ends its process, and SockPS closes the server and its connections on the way out.'
        'A -FilePath server runs its program as you for anyone who can connect: a shell or an interpreter there (sh, cmd.exe, pwsh, python) is a remote shell for them. Keep the default loopback bind, or limit clients with -AllowAddress / -DenyAddress and TLS client certificates (-RequireClientCertificate). The programs get SOCKPS_REMOTE_ADDR, SOCKPS_REMOTE_PORT, SOCKPS_LOCAL_ADDR and SOCKPS_LOCAL_PORT. Stop-SocketServer (and the end of the session) stops the programs still running, with the programs they started (not in Windows PowerShell 5.1, which stops only the program itself).'
    )
    Links   = @(
        'Wait-SocketConnection'
        'Stop-SocketServer'
        'Get-SocketServer'
        'Receive-SocketServerOutput'
        'Receive-SocketData'
        'Start-SocketRelay'
        'Connect-Socket'
        'about_SockPS'
    )
}
