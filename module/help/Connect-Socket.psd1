@{
    Examples = @(
        @{
            Title   = 'Connect over TCP and read a banner'
            Code    = @'
# A stand-in for a mail server: it greets every client with one line.
$smtp = Start-SocketServer -ScriptBlock {
    param($Connection)
    $Connection.SendLine('220 localhost ESMTP ready')
}

$c = Connect-Socket -ComputerName localhost -Port $smtp.Port -Name mail
Receive-SocketData -Connection $c -Line
$c
'@
            Output  = @'
220 localhost ESMTP ready
   Id Name         Protocol   RemoteEndPoint       State            Sent Received
   -- ----         --------   --------------       -----            ---- --------
    2 mail         Tcp        127.0.0.1:39577      Closed              0       26
'@
            Remarks = @'
Connect-Socket resolves localhost, connects, and returns the connection; Receive-SocketData -Line
reads the greeting. Against a real server the first line would be
Connect-Socket -ComputerName mail.contoso.com -Port smtp: -Port takes a service name as well as a
number.

The connection is a live object. Its State is Closed because the stand-in server hung up after
its greeting; what it sent can still be read, and the connection stays in Get-SocketConnection
until Disconnect-Socket removes it.
'@
        }
        @{
            Title   = 'Send a syslog message over UDP with a URI'
            Code    = @'
$collector = Start-SocketServer -Protocol Udp     # a stand-in for a syslog collector

$syslog = Connect-Socket -Uri "udp://127.0.0.1:$($collector.Port)"
Send-SocketData -Connection $syslog -InputObject '<14>web01 deploy: release 4.2 is live'
Receive-SocketData -Connection $collector
'@
            Output  = @'
ReceivedAt   RemoteEndPoint           Length Text
----------   --------------           ------ ----
19:01:07.066 127.0.0.1:55297              37 <14>web01 deploy: release 4.2 is live
'@
            Remarks = @'
-Uri takes tcp://host:port, tls://host:port, udp://host:port and unix:///path (IPv6 addresses in
brackets: tcp://[::1]:8080). A UDP connection is a datagram socket tied to one peer: every
Send-SocketData item is one datagram. The last line shows the datagram arriving at the collector,
with its sender.
'@
        }
        @{
            Title   = 'Connect with TLS and trust a private CA'
            Code    = @'
# A TLS server whose certificate comes from a private CA.
$tls = Start-SocketServer -CertificatePath ./certs/server.pem -KeyPath ./certs/server.key

Connect-Socket -ComputerName localhost -Port $tls.Port -UseTls
$c = Connect-Socket -ComputerName localhost -Port $tls.Port -UseTls -CaCertificate ./certs/ca.pem
$c | Format-List Transport, TlsProtocol, CipherSuite
$c.RemoteCertificate.Subject
'@
            Output  = @'
Connect-Socket: The certificate presented by localhost:40159 (localhost) is issued by SockPS
Example CA, which this machine does not trust. Trust that CA for this connection with
-CaCertificate <path>, or use -SkipCertificateCheck for a test server.
Transport   : Tls
TlsProtocol : Tls13
CipherSuite : TLS_AES_256_GCM_SHA384
CN=localhost
'@
            Remarks = @'
-UseTls checks that the server's certificate chain leads to a root this machine trusts and that
the certificate is issued to the name connected to (or to -ServerName). The first attempt fails
because the private CA is not trusted here; -CaCertificate trusts it for this one connection,
without touching the machine's certificate store.

The certificate files in this example come from examples/New-TestCertificate.ps1 in the SockPS
repository, which makes a test CA and a certificate for localhost.
'@
        }
        @{
            Title   = 'Talk HTTP over a Unix domain socket'
            Code    = @'
# A stand-in for an API on a Unix socket, such as /run/docker.sock.
$api = Start-SocketServer -Path /tmp/api.sock -ScriptBlock {
    param($Connection)
    while ($Connection.ReceiveLine()) { }      # read the request up to its empty line
    $Connection.Send("HTTP/1.0 200 OK`r`nContent-Type: text/plain`r`n`r`npong")
}

$c = Connect-Socket -Path /tmp/api.sock -NewLine "`r`n"
'GET /_ping HTTP/1.0', '' | Send-SocketData -Connection $c -Line
Receive-SocketData -Connection $c -ToEnd
'@
            Output  = @'
HTTP/1.0 200 OK
Content-Type: text/plain

pong
'@
            Remarks = @'
-Path connects to a Unix domain socket (add -Protocol Udp for a Unix datagram socket). -NewLine
"`r`n" makes Send-SocketData -Line end each line the way HTTP wants, and Receive-SocketData
-ToEnd reads until the server closes the connection.
'@
        }
        @{
            Title   = 'Connect to every endpoint in a list'
            Code    = @'
$web = Start-SocketServer; $db = Start-SocketServer      # two local stand-ins
$endpoints = @"
ComputerName,Port
127.0.0.1,$($web.Port)
localhost,$($db.Port)
127.0.0.1,9
"@ | ConvertFrom-Csv

$endpoints | Connect-Socket -TimeoutSeconds 3
'@
            Output  = @'
   Id Name         Protocol   RemoteEndPoint       State            Sent Received
   -- ----         --------   --------------       -----            ---- --------
    2 Connection2  Tcp        127.0.0.1:39931      Open                0        0
    4 Connection4  Tcp        127.0.0.1:45735      Open                0        0
Connect-Socket: Connection to 127.0.0.1:9 was refused: nothing is listening on that port. Check
the port number and that the service is running.
'@
            Remarks = @'
-ComputerName and -Port (and -Uri, -Path, -Protocol and -Name) bind by property name, so objects
from Import-Csv or ConvertFrom-Csv connect one by one. A failure is reported for its own endpoint
and the pipeline goes on with the next. The Id column skips numbers because the servers'
accepted sides of these connections took Ids too: every connection in the process gets the next
Id, and Ids are never reused.
'@
        }
        @{
            Title   = 'See why a connection failed'
            Code    = @'
Connect-Socket -ComputerName 127.0.0.1 -Port 9 -TimeoutSeconds 5
$Error[0].FullyQualifiedErrorId
'@
            Output  = @'
Connect-Socket: Connection to 127.0.0.1:9 was refused: nothing is listening on that port. Check
the port number and that the service is running.
ConnectionRefused,SockPS.Commands.ConnectSocketCommand
'@
            Remarks = @'
A connection that fails is a non-terminating error with a stable id (ConnectionRefused,
ConnectTimeout, HostNotFound, TlsAuthenticationFailed, ...), so a script can tell the cases apart
with -ErrorAction and -ErrorVariable, or try/catch with -ErrorAction Stop. -TimeoutSeconds bounds
the whole attempt, name lookup included.
'@
        }
    )
    ParameterDefaults = @{
        AddressFamily = 'IPv4 and IPv6'
        Name          = 'Connection<Id>'
        ServerName    = '-ComputerName'
        TlsProtocol   = 'Tls12, Tls13'
    }
    Inputs  = @{
        'System.Management.Automation.PSObject' = 'Objects with ComputerName and Port properties (or Uri, or Path), such as rows from Import-Csv, bind by property name: one connection per object.'
    }
    Outputs = @{
        'SockPS.Core.SocketConnection' = 'The open connection: a live object whose State and byte counts change as it is used. Pass it to Send-SocketData, Receive-SocketData and Disconnect-Socket, or find it later with Get-SocketConnection.'
    }
    Notes   = @(
        'What arrives on a connection is buffered in the background (up to 1 MiB of unread data; past that the sender is slowed, nothing is dropped) until Receive-SocketData reads it.'
        'A name with several addresses is tried address by address until one connects; -AddressFamily keeps to IPv4 or IPv6. Resolve-SocketAddress shows the addresses in the order they are tried.'
        '-SkipCertificateCheck accepts any certificate and writes a warning: the connection is encrypted, but nothing proves who is at the other end. Prefer -CaCertificate for a private CA.'
        'Connections stay open until Disconnect-Socket, $connection.Close() or Remove-Module SockPS closes them; a connection the peer closed stays listed (State Closed) until you disconnect it.'
    )
    Links   = @(
        'Send-SocketData'
        'Receive-SocketData'
        'Disconnect-Socket'
        'Get-SocketConnection'
        'Protect-SocketConnection'
        'Start-SocketServer'
        'Resolve-SocketAddress'
        'about_SockPS'
    )
}
