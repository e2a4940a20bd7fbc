@{
    Examples = @(
        @{
            Title   = 'Upgrade to TLS after STARTTLS'
            Code    = @'
# A stand-in mail server that offers STARTTLS; ./certs holds its certificate and the CA.
$smtp = Start-SocketServer -ArgumentList "$PWD/certs" -ScriptBlock {
    param($Connection, $Certs)
    $Connection.SendLine('220 localhost ESMTP ready')
    if ($Connection.ReceiveLine() -eq 'STARTTLS') {
        $Connection.SendLine('220 Go ahead')
        Protect-SocketConnection -Connection $Connection -CertificatePath "$Certs/server.pem" `
            -KeyPath "$Certs/server.key"
        $Connection.SendLine("250 Hello over $($Connection.TlsProtocol)")
        $null = $Connection.ReceiveLine()
    }
}

$c = Connect-Socket -ComputerName localhost -Port $smtp.Port
Receive-SocketData -Connection $c -Line
Send-SocketData -Connection $c -InputObject 'STARTTLS' -Line
Receive-SocketData -Connection $c -Line
Protect-SocketConnection -Connection $c -CaCertificate ./certs/ca.pem -PassThru
Receive-SocketData -Connection $c -Line
'@
            Output  = @'
220 localhost ESMTP ready
220 Go ahead
   Id Name         Protocol   RemoteEndPoint       State            Sent Received
   -- ----         --------   --------------       -----            ---- --------
    1 Connection1  Tls        127.0.0.1:38589      Open                9       60
250 Hello over Tls13
'@
            Remarks = @'
The client reads the server's go-ahead, then upgrades the same connection; the handler upgrades
its side as the TLS server (-CertificatePath with -KeyPath). Afterwards Protocol shows Tls and
everything sent and received is encrypted. Bytes that arrived before the upgrade but were not read
go to the handshake, so nothing is lost or read twice: read the go-ahead first, then upgrade.

The certificate files here come from examples/New-TestCertificate.ps1 in the SockPS repository.
'@
        }
        @{
            Title   = 'A certificate for another name is refused'
            Code    = @'
$smtp = Start-SocketServer -ArgumentList "$PWD/certs" -ScriptBlock {
    param($Connection, $Certs)
    $null = $Connection.ReceiveLine()
    $Connection.SendLine('220 Go ahead')
    Protect-SocketConnection -Connection $Connection -CertificatePath "$Certs/server.pem" `
        -KeyPath "$Certs/server.key"
}

$c = Connect-Socket -ComputerName localhost -Port $smtp.Port
Send-SocketData -Connection $c -InputObject 'STARTTLS' -Line -PassThru | Receive-SocketData -Line
Protect-SocketConnection -Connection $c -ServerName mail.example.com -CaCertificate ./certs/ca.pem
$Error[0].FullyQualifiedErrorId
$c.State
'@
            Output  = @'
220 Go ahead
Protect-SocketConnection: The certificate presented by 127.0.0.1:34989 is issued to localhost,
127.0.0.1, 0:0:0:0:0:0:0:1, not mail.example.com. Connect with the name on the certificate, or
give it with -ServerName.
TlsAuthenticationFailed,SockPS.Commands.ProtectSocketConnectionCommand
Disconnected
'@
            Remarks = @'
The certificate is checked as Connect-Socket -UseTls checks it: it must chain to a root this
machine trusts (or to -CaCertificate) and be issued to -ServerName, by default the name the
connection was made to. A failed upgrade is a TlsAuthenticationFailed error that says what is
wrong, and the connection is closed: nothing is ever sent in plain text after a failed upgrade.
'@
        }
        @{
            Title   = 'Upgrade against a test server without checks'
            Code    = @'
$test = Start-SocketServer -ArgumentList "$PWD/certs" -ScriptBlock {
    param($Connection, $Certs)
    Protect-SocketConnection -Connection $Connection -CertificatePath "$Certs/server.pem" `
        -KeyPath "$Certs/server.key"
    $Connection.SendLine('secret')
}

$c = Connect-Socket -ComputerName 127.0.0.1 -Port $test.Port
Protect-SocketConnection -Connection $c -SkipCertificateCheck
Receive-SocketData -Connection $c -Line
'@
            Output  = @'
WARNING: Certificate checks are off for 127.0.0.1:40193: the connection is encrypted, but
nothing proves who is at the other end.
secret
'@
            Remarks = @'
-SkipCertificateCheck accepts any certificate and writes a warning: the connection is encrypted,
but nothing proves who is at the other end. Use it only against test servers; -CaCertificate
trusts a private CA without giving up the check.
'@
        }
    )
    ParameterDefaults = @{
        ServerName  = 'The host the connection was made to'
        TlsProtocol = 'Tls12, Tls13'
        CheckRevocation = 'Off'
        TlsCipherSuite  = 'The operating system''s choice'
    }
    Outputs = @{
        'SockPS.Core.SocketConnection' = 'With -PassThru, each connection after its handshake (Protocol Tls; TlsProtocol, CipherSuite and RemoteCertificate set). Without it, nothing: the connection object itself is upgraded in place.'
    }
    Notes   = @(
        'Read the peer''s go-ahead (such as "220 Ready to start TLS") before upgrading; what the peer sends after it belongs to the TLS handshake.'
        'If the handshake fails, the connection is closed (State Disconnected). As a client, -SkipCertificateCheck writes a warning; as a server (-Certificate or -CertificatePath), -RequireClientCertificate asks the client for a certificate.'
        'Both sides must upgrade: one with Protect-SocketConnection as the client and the other as the server (-Certificate or -CertificatePath), or a TLS peer such as an SMTP server after STARTTLS.'
        'As the client, -CertificateThumbprint and -PublicKeySha256 trust exactly the pinned certificate or key instead of its chain and name (as Connect-Socket does), and -CheckRevocation checks revocation (Off by default). -ApplicationProtocol offers ALPN as the client and lists the accepted protocols as the server; the result is the connection''s NegotiatedApplicationProtocol. -ApplicationProtocol and -TlsCipherSuite need PowerShell 7; -TlsCipherSuite works on Linux and macOS only.'
    )
    Links   = @(
        'Connect-Socket'
        'Get-SocketCertificate'
        'Start-SocketServer'
        'Send-SocketData'
        'Receive-SocketData'
        'about_SockPS'
    )
}
