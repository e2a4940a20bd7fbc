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
        @{
            Title   = 'Connect through a SOCKS or HTTP proxy'
            Code    = @'
# A SOCKS proxy on port 1080, such as OpenSSH's: ssh -N -D 1080 bastion.example
$db = Start-SocketServer -ScriptBlock { param($c) $c.SendLine('+OK stand-in database') }

$c = Connect-Socket -ComputerName localhost -Port $db.Port -Proxy socks5h://127.0.0.1:1080
Receive-SocketData -Connection $c -Line
$c | Format-List Id, Proxy, RemoteEndPoint, LocalEndPoint
'@
            Output  = @'
+OK stand-in database

Id             : 1
Proxy          : socks5h://127.0.0.1:1080
RemoteEndPoint : localhost:43227
LocalEndPoint  : 127.0.0.1:55726
'@
            Remarks = @'
-Proxy takes socks5:// (the name is resolved here), socks5h:// (the proxy resolves it, as here),
socks4://, socks4a:// and http:// (an HTTP proxy that tunnels with CONNECT, such as squid or
tinyproxy). -ProxyCredential (Get-Credential) gives a user name and password; a password in the
URI is refused, since it would be kept in the command history.

RemoteEndPoint is the target, not the proxy: here the name, since the proxy resolved it.
LocalEndPoint is this side of the connection to the proxy. -UseTls runs TLS end to end through
the tunnel and checks the target's certificate, never the proxy's.
'@
        }
        @{
            Title   = 'See why a proxy could not connect'
            Code    = @'
Connect-Socket -ComputerName 127.0.0.1 -Port 9 -Proxy socks5://127.0.0.1:1080
$Error[0].FullyQualifiedErrorId
Connect-Socket -ComputerName 127.0.0.1 -Port 9 -Proxy socks5://127.0.0.1:1079
$Error[0].FullyQualifiedErrorId
'@
            Output  = @'
Connect-Socket: The SOCKS5 proxy 127.0.0.1:1080 could not connect to 127.0.0.1:9: it answered 5,
connection refused (nothing listens on that port, as the proxy sees it). Check the port, and that
the service runs.
ProxyTargetUnreachable,SockPS.Commands.ConnectSocketCommand
Connect-Socket: Could not reach the SOCKS5 proxy 127.0.0.1:1079: the connection was refused:
nothing listens on that port. Check -Proxy's host and port, and that the proxy runs.
ProxyRefused,SockPS.Commands.ConnectSocketCommand
'@
            Remarks = @'
Every proxy failure has its own error id, and the message quotes the proxy's answer in words:
ProxyRefused (the proxy's port is closed), ProxyHostNotFound, ProxyTimeout,
ProxyAuthenticationFailed (credentials missing or refused), ProxyDenied (the proxy's rules forbid
the target), ProxyTargetUnreachable (the proxy could not reach the target) and ProxyProtocolError
(not a proxy of that kind). Like every failure about one target, they are non-terminating.
'@
        }
        @{
            Title   = 'Connect from a chosen address and port'
            Code    = @'
$peer = Start-SocketServer      # a stand-in service on 127.0.0.1

$c = Connect-Socket -ComputerName 127.0.0.1 -Port $peer.Port -LocalAddress 127.0.0.2 -LocalPort 40000
$c.LocalEndPoint
(Wait-SocketConnection -Server $peer).RemoteEndPoint
Connect-Socket -ComputerName 127.0.0.1 -Port $peer.Port -LocalAddress 127.0.0.2 -LocalPort 40000
'@
            Output  = @'
AddressFamily Address    Port
------------- -------    ----
 InterNetwork 127.0.0.2 40000
 InterNetwork 127.0.0.2 40000
Connect-Socket: Cannot connect from 127.0.0.2:40000 to 127.0.0.1:40709: a connection from that
local port to the same target exists already (or is closing, in TIME_WAIT). Pick another
-LocalPort, or leave it out so the OS picks one.
'@
            Remarks = @'
-LocalAddress and -LocalPort are netcat's -s and -p: the socket is bound to them before it
connects, and the server sees the connection come from there. Only the target's addresses of
-LocalAddress's family are tried. A local port that is taken is an AddressInUse error for that
target. (On Linux every 127.x.y.z address is this machine's, so 127.0.0.2 needs no setup.)
'@
        }
        @{
            Title   = 'Send to a multicast group on a chosen interface'
            Code    = @'
# A member of the group 239.255.0.1 on the loopback interface, and a sender that keeps there.
$member = Start-SocketServer -Protocol Udp -Address 0.0.0.0 -MulticastGroup 239.255.0.1 `
    -MulticastInterface 127.0.0.1
$sender = Connect-Socket -ComputerName 239.255.0.1 -Port $member.Port -Protocol Udp `
    -MulticastInterface 127.0.0.1 -MulticastTimeToLive 1

Send-SocketData -Connection $sender -InputObject 'hello, group'
Receive-SocketData -Connection $member
'@
            Output  = @'
ReceivedAt   RemoteEndPoint           Length Text
----------   --------------           ------ ----
16:00:34.521 127.0.0.1:41925              12 hello, group
'@
            Remarks = @'
A UDP connection to a group address is a multicast sender. -MulticastInterface picks the
interface the datagrams leave from, -MulticastTimeToLive how many routers they may cross (the OS
default, 1, keeps them on the local network), and -MulticastLoopback $false stops them being
delivered to members on this machine as well. Each is checked against the OS: on TCP they are
InvalidArgument errors.
'@
        }
        @{
            Title   = 'Trust exactly one key (pinning)'
            Code    = @'
$pin = (Get-SocketCertificate -ComputerName localhost -Port 8444).PublicKeySha256
$c = Connect-Socket -ComputerName localhost -Port 8444 -UseTls -PublicKeySha256 $pin
$c | Format-List Transport, TlsProtocol, @{ n = 'Certificate'; e = { $_.RemoteCertificate.Subject } }
Connect-Socket -ComputerName localhost -Port 8443 -UseTls -PublicKeySha256 $pin
'@
            Output  = @'
Transport   : Tls
TlsProtocol : Tls13
Certificate : CN=printer.local

Connect-Socket: The certificate presented by localhost:8443 (localhost) does not match
the pinned public key
sha256//POW39icdxijHfxuhH+r7BzwoPTb0qvUeRcVv6qhFvy8=: it presented
public key sha256//6V6TmRQ9NObNxjUdDsNxIsfbhYT62WaKLeI3N8zgIBg=,
thumbprint 34721D9F609E4198E42B5FE50F61422415501FA8 (SHA-1),
C29DFDA991B55C71903088332AF1CF60445D4D6514471B63E02D0C01E35CD2BA
(SHA-256). Check the pin, or whether the service changed its certificate
or key.
'@
            Remarks = @'
Port 8444 presents a self-signed certificate for printer.local, which fails the chain and name
checks; a pin trusts exactly its key instead (curl --insecure --pinnedpubkey sha256//...: curl
without --insecure would check the chain and name too, SockPS replaces them with the pin). Port
8443 presents another key, and is refused with TlsAuthenticationFailed naming both.
-CertificateThumbprint pins the whole certificate by its SHA-1 thumbprint or SHA-256 fingerprint.
'@
        }
        @{
            Title   = 'Negotiate HTTP/2 (ALPN) or a cipher suite'
            Code    = @'
$c = Connect-Socket -ComputerName localhost -Port 8443 -UseTls -CaCertificate ./certs/ca.pem -ApplicationProtocol h2, http/1.1
$c | Format-List TlsProtocol, CipherSuite, NegotiatedApplicationProtocol
$c2 = Connect-Socket -ComputerName localhost -Port 8443 -UseTls -CaCertificate ./certs/ca.pem -TlsProtocol Tls12 `
    -TlsCipherSuite TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256
$c2 | Format-List TlsProtocol, CipherSuite
'@
            Output  = @'
TlsProtocol                   : Tls13
CipherSuite                   : TLS_AES_256_GCM_SHA384
NegotiatedApplicationProtocol : h2


TlsProtocol : Tls12
CipherSuite : TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256
'@
            Remarks = @'
The server here is openssl s_server -alpn h2,http/1.1. -ApplicationProtocol offers protocols with
ALPN, most wanted first (openssl s_client -alpn); the server's choice is
NegotiatedApplicationProtocol, empty when it chose none. -TlsCipherSuite allows only the suites
named (IANA names; tab completion lists them): PowerShell 7 on Linux and macOS only.
'@
        }
        @{
            Title   = 'Talk to a WebSocket server, one message at a time'
            Code    = @'
$c = Connect-Socket -Uri ws://127.0.0.1:32819/chat -SubProtocol chat.v1
'hello', [byte[]](1, 2, 3) | Send-SocketData -Connection $c
Receive-SocketData -Connection $c | Format-List MessageType, Length, Text
(Receive-SocketData -Connection $c).MessageType
'close' | Send-SocketData -Connection $c
Receive-SocketData -Connection $c
$c | Format-List State, CloseReason, WebSocketCloseStatus
'@
            Output  = @'
MessageType : Text
Length      : 5
Text        : hello

Binary

State                : Closed
CloseReason          : The remote host closed the WebSocket: 4001 (application-
                       defined) 'bye now'.
WebSocketCloseStatus : 4001
'@
            Remarks = @'
The server is Python's websockets, echoing every message and closing with code 4001 when told
"close". Every Receive-SocketData returns one whole message, Text or Binary; a string goes out as
a text message, a byte array as a binary one. The close code and reason show in CloseReason and
WebSocketCloseStatus. wss:// adds TLS, checked as for -UseTls (-CaCertificate, pins, -ServerName);
-Header adds request headers. Not on Windows PowerShell 5.1, where it is the error NotSupported.
'@
        }
    )
    ParameterDefaults = @{
        AddressFamily            = 'IPv4 and IPv6'
        Name                     = 'Connection<Id>'
        ServerName               = '-ComputerName'
        TlsProtocol              = 'Tls12, Tls13'
        LocalAddress             = 'The OS chooses'
        LocalPort                = '0 (the OS chooses)'
        KeepAliveSeconds         = 'The OS default (7200 on Linux and Windows)'
        KeepAliveIntervalSeconds = 'The OS default (75 on Linux, 1 on Windows)'
        KeepAliveCount           = 'The OS default (9 on Linux, 10 on Windows)'
        MulticastTimeToLive      = 'The OS default (1)'
        MulticastLoopback        = 'The OS default ($true)'
        MulticastInterface       = 'The interface of the route to the group'
        Proxy                    = 'None: connect directly'
        CheckRevocation          = 'Off'
        TlsCipherSuite           = 'The operating system''s choice'
    }
    Inputs  = @{
        'System.Management.Automation.PSObject' = 'Objects with ComputerName and Port properties (or Uri, or Path), such as rows from Import-Csv, bind by property name: one connection per object.'
    }
    Outputs = @{
        'SockPS.Core.SocketConnection' = 'The open connection: a live object whose State and byte counts change as it is used. Pass it to Send-SocketData, Receive-SocketData and Disconnect-Socket, or find it later with Get-SocketConnection.'
    }
    Notes   = @(
        'What arrives on a connection is buffered (up to 1 MiB of unread data; past that the sender is slowed, nothing is dropped) until Receive-SocketData reads it. On Linux and macOS a plain connection leaves it in the system''s socket buffer until something reads or looks (a receive, State, Available, an event handler, Wait-SocketData), so a script''s $c.Send() / $c.Receive() loop runs as fast as a raw socket''s; TLS connections and every connection on Windows read in the background from the start (about_SockPS, RECEIVING).'
        'A name with several addresses is tried address by address until one connects; -AddressFamily keeps to IPv4 or IPv6. Resolve-SocketAddress shows the addresses in the order they are tried.'
        'Through a proxy, RemoteEndPoint is the target (its address when resolved here, otherwise its name as a HostEndPoint), Proxy shows the proxy, and -TimeoutSeconds bounds reaching the proxy, its handshake and the TLS handshake together. No proxy environment variable (ALL_PROXY, HTTPS_PROXY) is read.'
        '-SkipCertificateCheck accepts any certificate and writes a warning: the connection is encrypted, but nothing proves who is at the other end. Prefer -CaCertificate for a private CA.'
        'Pins (-CertificateThumbprint, -PublicKeySha256) are checked against the server''s own certificate, the leaf, as curl does. A certificate that matches is accepted whatever its chain, dates and name say, so they cannot go with -CaCertificate or -SkipCertificateCheck; -CheckRevocation, when given, still applies. One that matches no pin is refused even when its chain is trusted.'
        '-CheckRevocation is Off by default, as in .NET''s SslStream and HttpClient, curl and openssl: Online fetches revocation lists from the addresses the certificates name, which stalls or fails where they cannot be reached (and a soft failure would prove nothing). Offline uses only lists already cached on this machine.'
        'Windows PowerShell 5.1 cannot negotiate ALPN or restrict cipher suites: -ApplicationProtocol and -TlsCipherSuite are NotSupported there, as -TlsCipherSuite is on Windows in PowerShell 7 (Windows chooses the suites for every program).'
        'Connections stay open until Disconnect-Socket, $connection.Close() or Remove-Module SockPS closes them; a connection the peer closed stays listed (State Closed) until you disconnect it.'
    )
    Links   = @(
        'Send-SocketData'
        'Receive-SocketData'
        'Disconnect-Socket'
        'Get-SocketConnection'
        'Protect-SocketConnection'
        'Get-SocketCertificate'
        'Start-SocketServer'
        'Resolve-SocketAddress'
        'about_SockPS'
    )
}
