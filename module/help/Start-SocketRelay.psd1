@{
    Examples = @(
        @{
            Title   = 'Forward a local port to a service'
            Code    = @'
# A stand-in service: it answers every line in upper case.
$echo = Start-SocketServer -ScriptBlock {
    param($Connection)
    while ($null -ne ($line = $Connection.ReceiveLine())) {
        $Connection.SendLine($line.ToUpper())
    }
}

$relay = Start-SocketRelay -ListenPort 0 -ComputerName localhost -Port $echo.Port -Name to-echo
$c = Connect-Socket -ComputerName localhost -Port $relay.Port
Send-SocketData -Connection $c -InputObject 'through the relay' -Line -PassThru |
    Receive-SocketData -Line
$relay
'@
            Output  = @'
THROUGH THE RELAY
   Id Name       LocalEndPoint        Target             Active       Up     Down
   -- ----       -------------        ------             ------       --     ----
    1 to-echo    127.0.0.1:41913      localhost:40397         1       18       18
'@
            Remarks = @'
Every client of the relay gets its own connection to the target, and bytes are copied both ways
until either side closes, as socat TCP-LISTEN:port,fork TCP:host:port does. The relay object shows
where it listens, the target, the clients connected now (Active) and the bytes sent to the target
(Up) and back (Down). Between machines the target would be another host, such as
-ComputerName db01 -Port 5432, and -ListenAddress 0.0.0.0 would open the relay to the network.
'@
        }
        @{
            Title   = 'Put TLS in front of a plain-text service'
            Code    = @'
$echo = Start-SocketServer -ScriptBlock {
    param($Connection)
    while ($null -ne ($line = $Connection.ReceiveLine())) {
        $Connection.SendLine($line.ToUpper())
    }
}
$front = Start-SocketRelay -CertificatePath ./certs/server.pem -KeyPath ./certs/server.key `
    -ComputerName localhost -Port $echo.Port -Name tls-front

$c = Connect-Socket -Uri "tls://localhost:$($front.Port)" -CaCertificate ./certs/ca.pem
Send-SocketData -Connection $c -InputObject 'secret' -Line -PassThru | Receive-SocketData -Line
$c.TlsProtocol
'@
            Output  = @'
SECRET
Tls13
'@
            Remarks = @'
With -Certificate or -CertificatePath, clients speak TLS to the relay, which speaks plain text to
the target: TLS termination. -UseTls does the opposite, speaking TLS to the target (checked as
Connect-Socket -UseTls checks it) for clients that speak plain text. The certificate files here
come from examples/New-TestCertificate.ps1 in the SockPS repository.
'@
        }
        @{
            Title   = 'Reach a Unix socket over TCP'
            Code    = @'
# A stand-in for a service on a Unix socket, such as /run/docker.sock.
$api = Start-SocketServer -Path /tmp/api.sock -ScriptBlock {
    param($Connection)
    $Connection.SendLine('hello from the Unix socket')
}

$relay = Start-SocketRelay -Path /tmp/api.sock -ListenPort 0 -Name api
$c = Connect-Socket -ComputerName localhost -Port $relay.Port
Receive-SocketData -Connection $c -Line
$relay
'@
            Output  = @'
hello from the Unix socket
   Id Name       LocalEndPoint        Target             Active       Up     Down
   -- ----       -------------        ------             ------       --     ----
    1 api        127.0.0.1:33959      /tmp/api.sock           1        0       27
'@
            Remarks = @'
-Path forwards to a Unix socket file instead of a host and port; -ListenPath listens on one.
Either side can be a Unix socket, so a relay also gives a TCP-only tool access to a Unix socket,
or a Unix-socket client access to a TCP service.
'@
        }
        @{
            Title   = 'Relay UDP datagrams'
            Code    = @'
# A stand-in for a DNS-like service: it answers every datagram.
$dns = Start-SocketServer -Protocol Udp -ScriptBlock {
    param($Datagram)
    $Datagram | Send-SocketData -InputObject "answer to $($Datagram.Text)"
}

$relay = Start-SocketRelay -Protocol Udp -ComputerName 127.0.0.1 -Port $dns.Port
$client = Connect-Socket -Uri "udp://127.0.0.1:$($relay.Port)"
Send-SocketData -Connection $client -InputObject 'query 1'
(Receive-SocketData -Connection $client).Text
$relay
'@
            Output  = @'
answer to query 1
   Id Name       LocalEndPoint        Target             Active       Up     Down
   -- ----       -------------        ------             ------       --     ----
    1 Relay1     127.0.0.1:41886      127.0.0.1:51783         1        7       17
'@
            Remarks = @'
With -Protocol Udp every client address gets its own socket towards the target, so answers go
back to the client that asked; a client's socket is closed after a minute of silence.
'@
        }
        @{
            Title   = 'Forward a port through a SOCKS proxy'
            Code    = @'
# A SOCKS proxy on 127.0.0.1:1080, and a service behind it that greets.
$db = Start-SocketServer -ScriptBlock { param($c) $c.SendLine('+OK stand-in database') }

$relay = Start-SocketRelay -ComputerName 127.0.0.1 -Port $db.Port -Proxy socks5://127.0.0.1:1080
"$relay"
$c = Connect-Socket -ComputerName 127.0.0.1 -Port $relay.Port
Receive-SocketData -Connection $c -Line
'@
            Output  = @'
tcp 127.0.0.1:41557 -> 127.0.0.1:38001 via socks5://127.0.0.1:1080 (Listening)
+OK stand-in database
'@
            Remarks = @'
Every client of the relay gets its own tunnel through the proxy (socat's
TCP-LISTEN:port,fork SOCKS4A:proxy:host:port). A proxy's refusal is recorded in the relay's
ErrorCount and LastError, in the proxy's words, and that client is disconnected.
-LocalAddress and -LocalPort choose where the relay's connections to the target (or to the
proxy) come from.
'@
        }
    )
    ParameterDefaults = @{
        ListenAddress = '127.0.0.1'
        Name          = 'Relay<Id>'
        ServerName    = '-ComputerName'
        CheckRevocation = 'Off'
        TlsCipherSuite  = 'The operating system''s choice'
    }
    Outputs = @{
        'SockPS.Core.SocketRelay' = 'The running relay: a live object showing LocalEndPoint and Port (where it listens), Target, Proxy, ActiveClients, ClientCount, BytesToTarget, BytesFromTarget, and failures to reach the target (ErrorCount, LastError).'
    }
    Notes   = @(
        'A relay listens on 127.0.0.1 unless -ListenAddress says otherwise (0.0.0.0 or :: for every interface).'
        'When the target cannot be reached, the client is disconnected and the failure is counted on the relay (ErrorCount, LastError); the relay goes on.'
        'When one side ends its stream, the end is passed on as a half-close; the other side may go on sending for -HalfCloseTimeoutSeconds (default 60) before the relay closes both.'
        '-SkipCertificateCheck towards the target writes a warning: the relay encrypts, but nothing proves who the target is.'
        'Towards the target, -CertificateThumbprint and -PublicKeySha256 trust exactly the pinned certificate or key instead of its chain and name, -CheckRevocation checks revocation (Off by default), and -ApplicationProtocol and -TlsCipherSuite negotiate as Connect-Socket does. A target whose certificate fails the checks is not forwarded to: the client is disconnected and the reason kept in LastError.'
    )
    Links   = @(
        'Get-SocketRelay'
        'Stop-SocketRelay'
        'Start-SocketServer'
        'Connect-Socket'
        'about_SockPS'
    )
}
