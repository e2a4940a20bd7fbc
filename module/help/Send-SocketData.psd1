@{
    Examples = @(
        @{
            Title   = 'Send lines'
            Code    = @'
$server = Start-SocketServer
$client = Connect-Socket -ComputerName localhost -Port $server.Port
$peer = Wait-SocketConnection -Server $server

'first line', 'second line' | Send-SocketData -Connection $client -Line
Receive-SocketData -Connection $peer -Line -Continuous | Select-Object -First 2
'@
            Output  = @'
first line
second line
'@
            Remarks = @'
Strings are encoded with the connection's encoding (UTF-8 unless Connect-Socket -Encoding said
otherwise) and sent as they are; -Line appends the connection's NewLine ("`n" by default) to each.
Every string piped in is sent as it arrives, in one invocation of Send-SocketData.
'@
        }
        @{
            Title   = 'Send a request and read the reply'
            Code    = @'
# A stand-in web server: it reads the request up to its empty line and answers.
$web = Start-SocketServer -ScriptBlock {
    param($Connection)
    while ($Connection.ReceiveLine()) { }
    $Connection.Send("HTTP/1.0 200 OK`r`nServer: stand-in`r`nContent-Length: 2`r`n`r`nok")
}

$c = Connect-Socket -ComputerName localhost -Port $web.Port -NewLine "`r`n"
'HEAD / HTTP/1.0', 'Host: localhost', '' |
    Send-SocketData -Connection $c -Line -PassThru |
    Receive-SocketData -Line -Continuous |
    Select-Object -First 1
'@
            Output  = @'
HTTP/1.0 200 OK
'@
            Remarks = @'
-PassThru outputs the connection once everything piped in has been sent, so Receive-SocketData
can read the reply in the same pipeline. The connection's NewLine is "`r`n" here, so every -Line
ends the way HTTP wants; the empty string ends the request headers.
'@
        }
        @{
            Title   = 'Send bytes exactly as given'
            Code    = @'
$server = Start-SocketServer
$client = Connect-Socket -ComputerName localhost -Port $server.Port
$peer = Wait-SocketConnection -Server $server

# A length-prefixed message: a 2-byte big-endian length, then the payload.
$payload = [System.Text.Encoding]::UTF8.GetBytes('hello')
Send-SocketData -Connection $client -InputObject ([byte[]](0, $payload.Length) + $payload)
$bytes = Receive-SocketData -Connection $peer -ByteCount 7
[System.Convert]::ToHexString($bytes)
'@
            Output  = @'
000568656C6C6F
'@
            Remarks = @'
A byte array is sent as it is, with no encoding and no line end (unless -Line is given); the
receiving side gets the same seven bytes back as a byte array with -ByteCount. A byte
array piped in arrives byte by byte (PowerShell unrolls it); Send-SocketData gathers the bytes
again, so piping bytes sends them in blocks, and one datagram on a UDP socket.
'@
        }
        @{
            Title   = 'Stream a file to another machine'
            Code    = @'
# Here both ends run in one session; the receiving end runs in a thread job.
$server = Start-SocketServer
$sender = Connect-Socket -ComputerName localhost -Port $server.Port
$receiver = Wait-SocketConnection -Server $server
$job = Start-ThreadJob { Receive-SocketData -Connection $using:receiver -OutFile ./copy.tar.gz }

Send-SocketData -Connection $sender -Path ./backup.tar.gz -Verbose
Disconnect-Socket -Connection $sender        # the end of the stream completes -OutFile
$job | Wait-Job | Receive-Job
Get-FileHash ./backup.tar.gz, ./copy.tar.gz | Format-Table Hash, Path
'@
            Output  = @'
VERBOSE: Sent 16777216 bytes of /tmp/demo/backup.tar.gz to 127.0.0.1:45309.
Hash                                                             Path
----                                                             ----
79A5E646CF6EEDF7A1C79FD81A2E7FD1846DD638E861D43CF8AB2FF38B6B94B1 /tmp/demo/backup.tar.gz
79A5E646CF6EEDF7A1C79FD81A2E7FD1846DD638E861D43CF8AB2FF38B6B94B1 /tmp/demo/copy.tar.gz
'@
            Remarks = @'
-Path streams files in 1 MiB blocks without creating a pipeline object per block, and shows
progress when a transfer takes longer than a second. Between two machines the receiving side
would run Start-SocketServer -Address 0.0.0.0 -Port 9000, Wait-SocketConnection and
Receive-SocketData -OutFile, and the sending side Connect-Socket and Send-SocketData -Path.

Disconnecting the sender tells the receiver that the file is complete; Disconnect-Socket -Shutdown
Send does the same while keeping the connection open for a reply.
'@
        }
        @{
            Title   = 'Send a datagram to any address; reply'
            Code    = @'
$statsd = Start-SocketServer -Protocol Udp      # a stand-in for a statsd daemon
$udp = Start-SocketServer -Protocol Udp         # an unconnected UDP socket of our own

$target = "127.0.0.1:$($statsd.Port)"
Send-SocketData -Connection $udp -InputObject 'deploys:1|c' -RemoteEndPoint $target
$datagram = Receive-SocketData -Connection $statsd
$datagram
$datagram | Send-SocketData -InputObject 'ack'
(Receive-SocketData -Connection $udp).Text
'@
            Output  = @'
ReceivedAt   RemoteEndPoint           Length Text
----------   --------------           ------ ----
19:14:44.586 127.0.0.1:34068              11 deploys:1|c
ack
'@
            Remarks = @'
A UDP server's socket is not connected to anyone: -RemoteEndPoint says where each datagram goes
(Python's sendto). A received SocketDatagram piped to Send-SocketData stands for the socket it
arrived on and carries its sender, so -InputObject goes back to that sender from that socket.
'@
        }
        @{
            Title   = 'Send objects as JSON, one per line'
            Code    = @'
$server = Start-SocketServer
$client = Connect-Socket -ComputerName localhost -Port $server.Port
$peer = Wait-SocketConnection -Server $server

[pscustomobject]@{ Name = 'web01'; Ports = 80, 443; Owner = @{ Team = 'ops' } },
    [pscustomobject]@{ Name = 'db01'; Ports = @(5432); Owner = @{ Team = 'data' } } |
    Send-SocketData -Connection $client -AsJson
Receive-SocketData -Connection $peer -AsJson -Continuous | Select-Object -First 2 |
    Select-Object Name, Ports, @{ Name = 'Team'; Expression = { $_.Owner.Team } }
'@
            Output  = @'
Name  Ports     Team
----  -----     ----
web01 {80, 443} ops
db01  {5432}    data
'@
            Remarks = @'
-AsJson sends each object as one line of compact JSON, nested objects included (to -Depth 10 by
default); Receive-SocketData -AsJson on the other side, in this session or another one, turns each
line back into an object. Without -AsJson, an object that has no text form of its own (such as a
PSCustomObject or a hashtable) is sent as PowerShell displays it, the text Out-String makes.
'@
        }
    )
    ParameterDefaults = @{
        Depth          = '10'
        Encoding       = 'The connection''s Encoding'
        RemoteEndPoint = 'The connected peer'
    }
    Inputs  = @{
        'System.Object'             = 'What to send: strings, byte arrays, SocketDatagram objects (their Data is sent), values such as numbers and dates as their text, and other objects as PowerShell displays them (Out-String), or as JSON with -AsJson.'
        'SockPS.Core.SocketDatagram' = 'A received datagram piped in stands for the socket it arrived on and carries its sender, so -InputObject (or the datagram itself) is sent back to that sender.'
    }
    Outputs = @{
        'SockPS.Core.SocketConnection' = 'With -PassThru, each connection sent to, once all input has been sent. Without it, nothing.'
        'SockPS.Commands.SockPSJob' = 'With -AsJob: the job (a SockPS.Commands.SockPSJob, PSJobTypeName SockPSJob), at once; Receive-Job returns what the command returns without -AsJob, as the live objects.'
    }
    Notes   = @(
        'Send-SocketData returns when the data has been handed to the OS, not when the peer has read it. On a stream connection the OS may deliver what was sent in one call in several pieces, or several sends in one piece: frame messages with lines, delimiters or length prefixes, and receive them with the matching Receive-SocketData parameter.'
        'A connection that fails (reset, closed) gets one error and no more data from the same invocation; the other connections given go on.'
        'For a tight loop of many small sends, $connection.Send() and $connection.SendLine() avoid the cost of a cmdlet call per message.'
        '-AsJob runs the command as a job in this process (as Start-ThreadJob does) and returns the job at once: Get-Job lists it, Wait-Job waits for it, Receive-Job returns its output (the live objects: a connection is the one Get-SocketConnection lists) and its errors with the same ids as without -AsJob, Stop-Job cancels the work as Ctrl+C does. It runs in the caller''s current folder with the caller''s parameters and pipeline input; what it opens belongs to the caller''s runspace (Remove-Module). Jobs stay listed until Remove-Job or Receive-Job -AutoRemoveJob. -AsJob goes with -Path (AsJobNotSupported otherwise).'
        'A connection (or a datagram''s Connection) that came back from a job or Invoke-Command is a copy of its properties: when this process made it, it stands for the live connection; when another process did, the error ConnectionInOtherProcess (ObjectNotFound) says so. Run the command in that process instead: Invoke-Command -Session $session { Send-SocketData -Id 3 ... }.'
    )
    Links   = @(
        'Receive-SocketData'
        'Connect-Socket'
        'Disconnect-Socket'
        'Wait-SocketData'
        'about_SockPS'
    )
}
