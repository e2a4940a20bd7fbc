@{
    Description = @(
        'The handshake accepts any certificate, so the report comes back for a server this machine would refuse, and says why it would: every problem in words in ValidationErrors, and as flags in Problems (NameMismatch, UntrustedRoot, Expired, NotYetValid, Revoked, RevocationUnknown, PinMismatch, InvalidChain). IsTrusted is what Connect-Socket -UseTls would decide with the same -ServerName, -CaCertificate, pins and -CheckRevocation. Nothing but the handshake (and a -StartTls dialogue) is sent, and the connection is closed at once.'
        'PublicKeySha256 is the SHA-256 of the certificate''s SubjectPublicKeyInfo in curl''s sha256//base64 form: what curl --pinnedpubkey and -PublicKeySha256 take. Thumbprint (SHA-1) and ThumbprintSha256 are what -CertificateThumbprint takes.'
        '-StartTls Smtp sends EHLO and STARTTLS (the server''s greeting and EHLO answer may span several lines), Imap sends a001 STARTTLS, Pop3 sends STLS and Ftp sends AUTH TLS, each line ending in CRLF, and the handshake starts once the server says to go ahead. A server that says no, closes, or answers as another protocol is a StartTlsRefused error that quotes it.'
    )
    Examples    = @(
        @{
            Title   = 'Check the certificates of several ports'
            Code    = @'
Get-SocketCertificate -ComputerName localhost -Port 8443, 8444, 8445 -CaCertificate ./certs/ca.pem
'@
            Output  = @'
EndPoint               CommonName           DaysLeft Trusted Problems
--------               ----------           -------- ------- --------
localhost:8443         localhost                  89 True    None
localhost:8444         printer.local              29 False   NameMismatch, Unt…
Get-SocketCertificate: Connection to localhost:8445 (127.0.0.1:8445) was refused: nothing is
listening on that port. Check the port number and that the service is running.
'@
            Remarks = @'
Each host and port is checked at once (at most -ThrottleLimit at a time) and the results come out
in input order. Port 8443 presents a certificate from the private CA in ./certs/ca.pem; 8444 a
self-signed one for another name; nothing listens on 8445, which is a non-terminating error, and
the others go on. -CaCertificate trusts a CA for this report only (openssl s_client -CAfile).
'@
        }
        @{
            Title   = 'Everything about one certificate'
            Code    = @'
Get-SocketCertificate -ComputerName localhost -Port 8443 -CaCertificate ./certs/ca.pem -ApplicationProtocol h2, http/1.1 |
    Format-List
'@
            Output  = @'
EndPoint                      : localhost:8443
RemoteAddress                 : 127.0.0.1
StartTls                      :
Subject                       : CN=localhost
DnsNames                      : {localhost}
IPAddresses                   : {127.0.0.1, ::1}
Issuer                        : CN=SockPS Example CA
NotBefore                     : 12/01/2026 16:12:20
NotAfter                      : 03/02/2027 16:12:20
DaysLeft                      : 89
Thumbprint                    : 34721D9F609E4198E42B5FE50F61422415501FA8
PublicKeySha256               : sha256//6V6TmRQ9NObNxjUdDsNxIsfbhYT62WaKLeI3N8z
                                gIBg=
Chain                         : {CN=localhost, CN=SockPS Example CA}
IsTrusted                     : True
Problems                      : None
ValidationErrors              : {}
PinMatched                    :
RevocationCheck               : Off
TlsProtocol                   : Tls13
CipherSuite                   : TLS_AES_256_GCM_SHA384
NegotiatedApplicationProtocol : h2
'@
            Remarks = @'
What openssl s_client -showcerts and openssl x509 -text tell, as properties. The chain ends in the
CA given with -CaCertificate (without it, the report would say UntrustedRoot, without failing).
-ApplicationProtocol offers ALPN, and NegotiatedApplicationProtocol is what the server chose. Format-List * adds
ThumbprintSha256, PublicKeySha256Hex, SerialNumber, SignatureAlgorithm, ServerName and the
Certificate itself; each Chain element has Subject, Issuer, Thumbprint, NotAfter and Certificate.
'@
        }
        @{
            Title   = 'Pin the key a device presents'
            Code    = @'
$pin = (Get-SocketCertificate -ComputerName localhost -Port 8444).PublicKeySha256
$pin
$c = Connect-Socket -ComputerName localhost -Port 8444 -UseTls -PublicKeySha256 $pin
$c | Format-List Transport, TlsProtocol, @{ n = 'Certificate'; e = { $_.RemoteCertificate.Subject } }
'@
            Output  = @'
sha256//POW39icdxijHfxuhH+r7BzwoPTb0qvUeRcVv6qhFvy8=

Transport   : Tls
TlsProtocol : Tls13
Certificate : CN=printer.local
'@
            Remarks = @'
A self-signed certificate (a printer, a switch, a test server) fails every chain check; pinning its
key trusts exactly that key and nothing else, which -SkipCertificateCheck never does. The same
value works for curl --pinnedpubkey. Check the pin once over a path you trust before relying on it.
'@
        }
        @{
            Title   = 'Mail servers that start in plain text (STARTTLS)'
            Code    = @'
'Smtp', 'Imap', 'Pop3' | ForEach-Object { [pscustomobject]@{ ComputerName = 'localhost'; StartTls = $_ } } |
    Get-SocketCertificate -CaCertificate ./mail-ca.pem
'@
            Output  = @'
EndPoint               CommonName           DaysLeft Trusted Problems
--------               ----------           -------- ------- --------
localhost:25           localhost                   1 True    None
localhost:143          localhost                   1 True    None
localhost:110          localhost                   1 True    None
'@
            Remarks = @'
Postfix on port 25 and Dovecot on 143 (IMAP) and 110 (POP3). Without -Port, each check uses the
port of its -StartTls protocol (443 without one). ComputerName, Port and StartTls bind from the
properties of piped objects, so one call checks services of different kinds: openssl s_client
-starttls smtp, -starttls imap and -starttls pop3 in one go.
'@
        }
        @{
            Title   = 'An FTP server that refuses AUTH TLS'
            Code    = @'
Get-SocketCertificate -ComputerName localhost -StartTls Ftp
$Error[0].FullyQualifiedErrorId
'@
            Output  = @'
Get-SocketCertificate: The FTP server at localhost:21 refused AUTH TLS: "530 Please login with
USER and PASS.". TLS was not started.
StartTlsRefused,SockPS.Commands.GetSocketCertificateCommand
'@
            Remarks = @'
vsftpd without TLS answers AUTH TLS as an unknown command. The error quotes the server's own
answer; its id is StartTlsRefused (category ProtocolError), also when the server closes the
connection or answers as another protocol would.
'@
        }
        @{
            Title   = 'Certificates that expire within 30 days'
            Code    = @'
Get-SocketCertificate -ComputerName (Get-Content ./hosts.txt) -Port 443 -ErrorAction SilentlyContinue |
    Where-Object DaysLeft -lt 30 | Sort-Object DaysLeft | Select-Object EndPoint, NotAfter, DaysLeft
'@
            Output  = @'
EndPoint      NotAfter            DaysLeft
--------      --------            --------
localhost:443 12/04/2026 16:14:29        1
'@
            Remarks = @'
hosts.txt names localhost and 127.0.0.2, where nothing listens. DaysLeft counts whole days until
NotAfter and is negative once the certificate has expired, so one filter finds both the expired
and the soon-to-expire. A host that cannot be reached is an error (silenced here) and does not
stop the others.
'@
        }
    )
    Inputs      = @{
        'System.String'                          = 'Host names or addresses to check, one per object.'
        'System.Management.Automation.PSObject' = 'Objects with ComputerName (or Host, HostName, CN), Port and StartTls properties bind by property name: one check per object and port.'
    }
    Outputs     = @{
        'SockPS.Core.SocketCertificate' = 'One per host and port that completed a handshake: ComputerName, Port, RemoteAddress, EndPoint, ServerName, StartTls, Subject, CommonName, DnsNames, IPAddresses, Issuer, NotBefore, NotAfter, DaysLeft, SerialNumber, SignatureAlgorithm, Thumbprint, ThumbprintSha256, PublicKeySha256, PublicKeySha256Hex, Chain, IsTrusted, Problems, ValidationErrors, PinMatched, RevocationCheck, TlsProtocol, CipherSuite, NegotiatedApplicationProtocol and Certificate (the X509Certificate2).'
    }
    ParameterDefaults = @{
        Port        = '443; with -StartTls 25 (Smtp), 143 (Imap), 110 (Pop3) or 21 (Ftp)'
        ServerName  = '-ComputerName'
        TlsProtocol = 'Tls12, Tls13'
        CheckRevocation = 'Off'
        TlsCipherSuite  = 'The operating system''s choice'
    }
    Notes       = @(
        'With a pin (-CertificateThumbprint, -PublicKeySha256) the chain and name problems are still listed, marked "(Not decisive: the certificate matches a pin.)", and IsTrusted is what a pinned Connect-Socket would decide: true when the pin matches (and, with -CheckRevocation, the certificate is not revoked).'
        'Revocation is checked only with -CheckRevocation Offline or Online, and only along a chain that ends in a trusted root (the machine''s, or -CaCertificate): .NET checks no revocation on an untrusted chain, and the report then says the status was not checked.'
        'Windows PowerShell 5.1: -ApplicationProtocol and -TlsCipherSuite are NotSupported, and CipherSuite shows the cipher, hash and key exchange algorithms instead of the suite''s name. -TlsCipherSuite is NotSupported on Windows in any PowerShell: the OS chooses the suites.'
    )
    Links       = @(
        'Connect-Socket'
        'Protect-SocketConnection'
        'Test-SocketPort'
        'about_SockPS'
    )
}
