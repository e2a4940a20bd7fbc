@{
    Description = @(
        'Where the answer ends decides how to ask. By default the request ends with a half-close (the send side is shut down, as netcat -N and ncat do) and the answer is everything until the server closes: right for services that answer a complete request and hang up, like HTTP/1.0, memcached stats, whois or finger. -Until stops at a regular expression (a prompt, a status line, "\r\n" after one reply) and -ByteCount after a fixed length; both keep the send side open, for servers that wait for more after answering, like Redis or SMTP. -ToEnd reads until the server closes without half-closing first, for servers that take a half-close as a hang-up before they answer (many TLS servers treat the close_notify a TLS half-close sends that way).'
        'With -ComputerName, -Uri or -Path on the command line, everything piped in is one request, sent as it arrives in blocks of 64 KiB, while the answer is already being read: an echo of a request larger than every buffer on the way cannot stall both sides. Without them, each piped object names a target (ComputerName and Port, Uri, or Path, by property name, as Import-Csv gives them) and gets its own request, -InputObject being the request for all of them.'
        '-TimeoutSeconds bounds the connect, and then how long the exchange may stand idle (nothing sent, nothing received) before the answer counts as lost; a long upload or a slowly trickling answer is not idle. Over UDP the request is one datagram and the answer is the first datagram back; no answer within the timeout is a ReceiveTimeout error.'
    )
    Examples = @(
        @{
            Title   = 'Send a request and read the answer until the server closes (netcat style)'
            Code    = @'
# A stand-in service: it reads the whole request, then answers it in capitals.
$upper = Start-SocketServer -ScriptBlock {
    param($Connection)
    $request = Receive-SocketData -Connection $Connection -ToEnd
    Send-SocketData -Connection $Connection -InputObject $request.ToUpper()
}

'hello', 'world' | Invoke-SocketRequest -ComputerName localhost -Port $upper.Port -Line
'@
            Output  = @'
HELLO
WORLD
'@
            Remarks = @'
The two piped strings are one request, each with a line end (-Line). After the last one the send
side is closed, which is how the stand-in service knows the request is complete; it answers and
closes, and the answer is everything it sent: "HELLO`nWORLD`n". This is echo stats | nc -N host port.
The connection is closed when the cmdlet returns; nothing is left in Get-SocketConnection.
'@
        }
        @{
            Title   = 'Stop at the end of one reply with -Until (a line protocol such as Redis)'
            Code    = @'
# A stand-in for Redis: it answers every line with +PONG and keeps the connection open.
$redis = Start-SocketServer -ScriptBlock {
    param($Connection)
    while ($null -ne $Connection.ReceiveLine()) { $Connection.Send("+PONG`r`n") }
}

Invoke-SocketRequest -ComputerName localhost -Port $redis.Port -InputObject 'PING' -Line -NewLine "`r`n" -Until '\r\n'
'@
            Output  = @'
+PONG
'@
            Remarks = @'
A server that keeps the connection open after answering never ends the answer by closing.
-Until reads until the text matches the regular expression and returns the text up to and
including the match ("+PONG`r`n"); then the connection is closed. -NewLine "`r`n" makes -Line end
the request the way the protocol wants. Against a real Redis: -ComputerName redis01 -Port 6379.
'@
        }
        @{
            Title   = 'Ask a web server over TLS and read the page until it closes (-ToEnd)'
            Code    = @'
# A TLS web server on port 8443 whose certificate comes from a private CA, here
# openssl s_server -accept 8443 -www -cert ./certs/server.pem -key ./certs/server.key
$request = "GET / HTTP/1.0`r`nHost: localhost`r`n`r`n"
$page = Invoke-SocketRequest -Uri tls://localhost:8443 -CaCertificate ./certs/ca.pem -InputObject $request -ToEnd
($page -split "`r`n")[0]
'@
            Output  = @'
HTTP/1.0 200 ok
'@
            Remarks = @'
tls:// (or -UseTls) encrypts the connection and checks the server's certificate, with
-CaCertificate trusting a private CA, as Connect-Socket does. An HTTP/1.0 server closes the
connection after the page, so -ToEnd reads it all without half-closing first: some TLS servers
end the whole session when they receive the close_notify a half-close sends.
'@
        }
        @{
            Title   = 'One datagram out, one datagram back'
            Code    = @'
# A stand-in time service: it answers every datagram with the time.
$clock = Start-SocketServer -Protocol Udp -ScriptBlock {
    param($Datagram)
    $Datagram | Send-SocketData -InputObject (Get-Date -Format 'yyyy-MM-dd HH:mm:ss')
}

Invoke-SocketRequest -Uri "udp://127.0.0.1:$($clock.Port)" -InputObject 'time?'
'@
            Output  = @'
2026-11-25 19:55:07
'@
            Remarks = @'
Over UDP (-Protocol Udp or a udp:// URI) all input is sent as one datagram (an empty one when
there is no input) and the first datagram that comes back is the answer. UDP gives no sign of a
lost or ignored datagram: when nothing comes back within -TimeoutSeconds, the error is
ReceiveTimeout.
'@
        }
        @{
            Title   = 'Ask every service listed in a CSV file; a failure does not stop the others'
            Code    = @'
# Two stand-in services that greet every client with one line.
$web = Start-SocketServer -ScriptBlock { param($Connection) $Connection.SendLine('web01 ready') }
$db = Start-SocketServer -ScriptBlock { param($Connection) $Connection.SendLine('db01 ready') }
@"
ComputerName,Port
localhost,$($web.Port)
localhost,9
localhost,$($db.Port)
"@ | Set-Content -Path ./services.csv

Import-Csv -Path ./services.csv | Invoke-SocketRequest -Until '\n' -TimeoutSeconds 5
'@
            Output  = @'
web01 ready
Invoke-SocketRequest:
Line |
  11 |  … h ./services.csv | Invoke-SocketRequest -Until '\n' -TimeoutSeconds 5
     |                       ~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~
     | Connection to localhost:9 (127.0.0.1:9) was refused: nothing is listening on that port. Check the port number and that the service is running.
db01 ready
'@
            Remarks = @'
Without a target on the command line, every piped object is a target: ComputerName and Port (or
Uri, or Path) bind by property name, and each gets its own request. Here there is no request
(no -InputObject): each service is only asked for its greeting line. The port nothing listens
on is a non-terminating ConnectionRefused error, and the next row is still asked.
'@
        }
        @{
            Title   = 'Keep what arrived when the answer does not end in time'
            Code    = @'
# A stand-in service that answers half, then waits for more.
$slow = Start-SocketServer -ScriptBlock {
    param($Connection)
    $Connection.Send('partial answer')
    while ($null -ne $Connection.ReceiveLine()) { }
}

Invoke-SocketRequest -ComputerName localhost -Port $slow.Port -InputObject 'query' -Line -ToEnd -TimeoutSeconds 2 -ErrorVariable failed
$failed[0].FullyQualifiedErrorId
$failed[0].Exception.PartialResult
'@
            Output  = @'
Invoke-SocketRequest:
Line |
   8 |  Invoke-SocketRequest -ComputerName localhost -Port $slow.Port -InputO …
     |  ~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~
     | The server did not close the connection: nothing arrived from 127.0.0.1:41859 for 2 seconds. Leave out -ToEnd so the request ends with a half-close, or end the answer with -Until or -ByteCount. What arrived is in the error's Exception.PartialResult.
ReceiveTimeout,SockPS.Commands.InvokeSocketRequestCommand
partial answer
'@
            Remarks = @'
A request that fails writes an error and no answer; what had arrived is in the error's
Exception.PartialResult (text, or bytes with -AsByteArray). The message says what to change. The
connection is closed in any case, also when Ctrl+C stops the command.
'@
        }
        @{
            Title   = 'Fetch a page through an HTTP proxy'
            Code    = @'
# An HTTP proxy on 127.0.0.1:3128 (tinyproxy, squid), and a web server behind it.
$web = Start-SocketServer -ScriptBlock {
    param($Connection)
    while ($Connection.ReceiveLine()) { }
    $Connection.Send("HTTP/1.0 200 OK`r`n`r`nhello through the proxy")
}

$request = "GET / HTTP/1.0`r`nHost: localhost`r`n`r`n"
Invoke-SocketRequest -ComputerName localhost -Port $web.Port -Proxy http://127.0.0.1:3128 `
    -InputObject $request -ToEnd
'@
            Output  = @'
HTTP/1.0 200 OK

hello through the proxy
'@
            Remarks = @'
-Proxy http://host:port tunnels with CONNECT; socks5://, socks5h://, socks4:// and socks4a://
work the same way, with -ProxyCredential for proxies that want a user name and password. -ToEnd
reads without half-closing first: some proxies (tinyproxy, microsocks) end the whole tunnel when
the client half-closes, which the default (netcat -N) would do before the answer came back.
'@
        }
        @{
            Title   = 'One result per target, failures included'
            Code    = @'
$echo = Start-SocketServer -ScriptBlock {
    param($Connection)
    while ($null -ne ($line = $Connection.ReceiveLine())) { $Connection.SendLine($line.ToUpper()) }
}
$targets = @{ ComputerName = 'localhost'; Port = $echo.Port }, @{ ComputerName = 'localhost'; Port = 1 } |
    ForEach-Object { [pscustomobject]$_ }
$results = $targets | Invoke-SocketRequest -InputObject 'status' -Line -TimeoutSeconds 5 -AsResult
$results
$results[1].Error
'@
            Output  = @'
ComputerName      Port Protocol Status            Elapsed ms Response
------------      ---- -------- ------            ---------- --------
localhost        39269 Tcp      Answered               341.6 STATUS\n
localhost            1 Tcp      ConnectionRefused       17.1
Connection to localhost:1 (127.0.0.1:1) was refused: nothing is listening on that port. Check the port number and that the service is running.
'@
            Remarks = @'
With -AsResult every request returns one SocketRequestResult, answered or not: ComputerName, Port,
Protocol, Status (Answered or the error id), Response, Elapsed, and on failure Error, ErrorId and
PartialResponse (what had arrived). MachineName names the computer that made the request, so
results that come back from Invoke-Command -Session $sessions say both where they ran and what
they asked. A failure is a result rather than an error record, so a fan-out keeps one row per
target; -ErrorAction does not see it (Where-Object { -not $_.Succeeded } does).
'@
        }
    )
    Outputs = @{
        'System.String' = 'The answer, decoded with -Encoding: everything until the server closed, or the text up to and including the -Until match, or the text of the datagram that came back.'
        'System.Byte[]' = 'The answer as bytes: with -AsByteArray, and always with -ByteCount.'
        'SockPS.Commands.SockPSJob' = 'With -AsJob: the job (a SockPS.Commands.SockPSJob, PSJobTypeName SockPSJob), at once; Receive-Job returns what the command returns without -AsJob, as the live objects.'
        'SockPS.Core.SocketRequestResult' = 'With -AsResult: one object per request, answered or failed, naming the computer that asked (MachineName), the target (ComputerName, Port, Protocol, Transport, RemoteEndPoint), the answer (Response) or the failure (Status, Error, ErrorId, PartialResponse), Elapsed and the bytes sent and received. It travels through Invoke-Command and jobs with its view.'
    }
    Notes = @(
        'Errors carry this cmdlet''s ids: ConnectionRefused, HostNotFound, ConnectTimeout, TlsAuthenticationFailed, ReceiveTimeout (OperationTimeout), EndOfStream (the server closed before -Until matched or -ByteCount bytes came), ConnectionReset; InvalidArgument and InvalidUri stop the command for input that can never work.'
        '-TranscriptPath records the request and the answer, byte for byte, into a JSON-lines file that Get-SocketTranscript -Path reads back.'
        'With -UseTls, -CertificateThumbprint and -PublicKeySha256 pin the server''s certificate or key, -CheckRevocation checks revocation, and -ApplicationProtocol and -TlsCipherSuite negotiate, as on Connect-Socket.'
        '-AsJob runs the command as a job in this process (as Start-ThreadJob does) and returns the job at once: Get-Job lists it, Wait-Job waits for it, Receive-Job returns its output (the live objects: a connection is the one Get-SocketConnection lists) and its errors with the same ids as without -AsJob, Stop-Job cancels the work as Ctrl+C does. It runs in the caller''s current folder with the caller''s parameters and pipeline input; what it opens belongs to the caller''s runspace (Remove-Module). Jobs stay listed until Remove-Job or Receive-Job -AutoRemoveJob.'
    )
    Links = @('Connect-Socket', 'Send-SocketData', 'Receive-SocketData', 'Get-SocketTranscript', 'about_SockPS')
}
