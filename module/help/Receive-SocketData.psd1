@{
    Examples = @(
        @{
            Title   = 'Read what has arrived, then the end'
            Code    = @'
# The Python tutorial's server: it thanks every client and hangs up.
$server = Start-SocketServer -ScriptBlock {
    param($Connection)
    $Connection.Send('Thank you for connecting')
}

$c = Connect-Socket -ComputerName localhost -Port $server.Port
Receive-SocketData -Connection $c
Receive-SocketData -Connection $c -Verbose
'@
            Output  = @'
Thank you for connecting
VERBOSE: The remote host 127.0.0.1:44405 closed the connection and no data is left.
'@
            Remarks = @'
Without a framing parameter, Receive-SocketData returns the text that has arrived, waiting for the
first character if nothing has (Python's recv). Once the peer has closed the connection and
everything has been read, a receive returns nothing, not an error, as recv returns b''; -Verbose
says why. A script tests for it with $null -eq $data.
'@
        }
        @{
            Title   = 'Read lines as they come'
            Code    = @'
$server = Start-SocketServer
$client = Connect-Socket -ComputerName localhost -Port $server.Port
$peer = Wait-SocketConnection -Server $server
1..5 | ForEach-Object { "event $_" } | Send-SocketData -Connection $peer -Line

Receive-SocketData -Connection $client -Line -Continuous | Select-Object -First 3
Receive-SocketData -Connection $client -Line
$client.State
'@
            Output  = @'
event 1
event 2
event 3
event 4
Open
'@
            Remarks = @'
-Line returns one line (ended by LF or CRLF) without its line end. -Continuous keeps returning
lines until the peer closes or the pipeline stops: Select-Object -First 3 stops it after three,
and the connection stays open with the rest still buffered for the next receive.
'@
        }
        @{
            Title   = 'Read an HTTP response by delimiter and length'
            Code    = @'
# A stand-in web server.
$web = Start-SocketServer -ScriptBlock {
    param($Connection)
    while ($Connection.ReceiveLine()) { }
    $Connection.Send("HTTP/1.1 200 OK`r`nContent-Type: application/json`r`n" +
        "Content-Length: 15`r`n`r`n{`"status`":`"ok`"}")
}

$c = Connect-Socket -ComputerName localhost -Port $web.Port -NewLine "`r`n"
'GET /health HTTP/1.1', 'Host: localhost', '' | Send-SocketData -Connection $c -Line
$headers = Receive-SocketData -Connection $c -Delimiter "`r`n`r`n"
$headers
if ($headers -match 'Content-Length: (\d+)') {
    $body = Receive-SocketData -Connection $c -ByteCount $Matches[1]
    [System.Text.Encoding]::UTF8.GetString($body)
}
'@
            Output  = @'
HTTP/1.1 200 OK
Content-Type: application/json
Content-Length: 15
{"status":"ok"}
'@
            Remarks = @'
-Delimiter returns everything up to the delimiter and consumes the delimiter; -ByteCount returns
exactly that many bytes, as a byte array, waiting until they have all arrived. Together they read
protocols that frame a message with a header and a length.
'@
        }
        @{
            Title   = 'Wait at most a second'
            Code    = @'
$server = Start-SocketServer
$c = Connect-Socket -ComputerName localhost -Port $server.Port

Receive-SocketData -Connection $c -Line -TimeoutSeconds 1
$c.State
'@
            Output  = @'
Receive-SocketData: No data arrived from 127.0.0.1:42231 within 1 second. The connection is
still open. Try again, or raise -TimeoutSeconds (0 waits forever).
Open
'@
            Remarks = @'
Nothing arrives, so after one second Receive-SocketData writes a ReceiveTimeout error. A timeout
consumes nothing and leaves the connection open: receive again, or raise -TimeoutSeconds. Without
-TimeoutSeconds a receive waits for the connection's ReceiveTimeoutSeconds (30 unless set with
Connect-Socket -ReceiveTimeoutSeconds); 0 waits forever.
'@
        }
        @{
            Title   = 'Receive UDP datagrams with their senders'
            Code    = @'
$syslog = Start-SocketServer -Protocol Udp -Name syslog
$app = Connect-Socket -Uri "udp://127.0.0.1:$($syslog.Port)"
$db = Connect-Socket -Uri "udp://127.0.0.1:$($syslog.Port)"
Send-SocketData -Connection $app -InputObject '<14>app: started'
Send-SocketData -Connection $db -InputObject '<11>db: disk full'

Receive-SocketData -Connection $syslog -Continuous -TimeoutSeconds 5 | Select-Object -First 2
'@
            Output  = @'
ReceivedAt   RemoteEndPoint           Length Text
----------   --------------           ------ ----
19:16:17.229 127.0.0.1:47000              16 <14>app: started
19:16:17.234 127.0.0.1:49084              17 <11>db: disk full
'@
            Remarks = @'
On a datagram socket (a UDP server, a UDP connection, or a Unix datagram socket) every receive
returns one whole datagram as a SocketDatagram (Python's recvfrom): Data, Text, Length,
RemoteEndPoint (the sender) and ReceivedAt. -Line, -Delimiter, -ByteCount and -ToEnd do not apply
to datagrams. With -Continuous, -TimeoutSeconds bounds the wait for each datagram: when it runs
out, the stream ends with a ReceiveTimeout error.
'@
        }
        @{
            Title   = 'Receive a file whose size is announced'
            Code    = @'
# A stand-in server: it sends "SIZE <bytes>", then the file.
$files = Start-SocketServer -ArgumentList "$PWD/backup.tar.gz" -ScriptBlock {
    param($Connection, $Path)
    $Connection.SendLine("SIZE $((Get-Item -Path $Path).Length)")
    Send-SocketData -Connection $Connection -Path $Path
}

$c = Connect-Socket -ComputerName localhost -Port $files.Port
$size = [long]((Receive-SocketData -Connection $c -Line) -replace '^SIZE ')
Receive-SocketData -Connection $c -ByteCount $size -OutFile ./download.tar.gz
(Get-Item -Path ./download.tar.gz).Length
'@
            Output  = @'
16777216
'@
            Remarks = @'
-OutFile writes what arrives straight to a file (replacing it), in large blocks and without a
pipeline object per block. With -ByteCount it stops after that many bytes, which may be more than
a byte array holds, and the rest stays buffered for the next receive; without -ByteCount it reads
until the peer closes. A transfer that takes longer than a second shows progress.
'@
        }
    )
    ParameterDefaults = @{
        TimeoutSeconds = 'The connection''s ReceiveTimeoutSeconds'
    }
    Outputs = @{
        'System.String'              = 'Text, decoded with the connection''s encoding: what has arrived, one line (-Line), one record (-Delimiter) or everything until the peer closed (-ToEnd). -Continuous writes one string per line, record or chunk.'
        'System.Byte[]'              = 'One byte array per receive: with -ByteCount, or with -AsByteArray (with -Continuous, one per line, record or chunk).'
        'SockPS.Core.SocketDatagram' = 'On a datagram socket, one object per datagram, with its sender (RemoteEndPoint), Data, Text, Length and ReceivedAt.'
        'System.Management.Automation.PSObject' = 'With -AsJson, one object per received line (or datagram, or -Delimiter record), as ConvertFrom-Json makes it.'
        'SockPS.Commands.SockPSJob' = 'With -AsJob: the job (a SockPS.Commands.SockPSJob, PSJobTypeName SockPSJob), at once; Receive-Job returns what the command returns without -AsJob, as the live objects.'
    }
    Notes   = @(
        'When the peer has closed the connection and nothing is left to read, Receive-SocketData returns nothing rather than an error (-Verbose says so). Check for $null, or look at the connection''s State and CloseReason.'
        'A timeout is a ReceiveTimeout error that consumes nothing: the connection stays usable. With -ToEnd, what arrived before the timeout is returned before the error.'
        'Nothing received is lost when the peer resets the connection: what arrived before the reset is returned first (with -OutFile it is in the file, and the error says so), then the reset is reported once as a non-terminating ConnectionReset error.'
        'Text is decoded with one decoder per connection, so a character split across two network reads comes out whole. A line or record longer than 16 MiB fails with FrameTooLong and stays buffered.'
        'In a tight request/response loop, the connection''s methods ($c.ReceiveLine(), $c.Receive(64), $c.ReceiveAvailable()) avoid the cost of a cmdlet call per message.'
        '-AsJob runs the command as a job in this process (as Start-ThreadJob does) and returns the job at once: Get-Job lists it, Wait-Job waits for it, Receive-Job returns its output (the live objects: a connection is the one Get-SocketConnection lists) and its errors with the same ids as without -AsJob, Stop-Job cancels the work as Ctrl+C does. It runs in the caller''s current folder with the caller''s parameters and pipeline input; what it opens belongs to the caller''s runspace (Remove-Module). Jobs stay listed until Remove-Job or Receive-Job -AutoRemoveJob. -AsJob goes with -OutFile or -ToEnd (AsJobNotSupported otherwise).'
    )
    Links   = @(
        'Send-SocketData'
        'Wait-SocketData'
        'Connect-Socket'
        'Wait-SocketConnection'
        'Disconnect-Socket'
        'about_SockPS'
    )
}
