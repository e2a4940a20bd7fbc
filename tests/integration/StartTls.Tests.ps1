#Requires -Version 7.4
# Get-SocketCertificate -StartTls (issue 14 item 3) against real servers that switch from plain
# text to TLS, each started here with a throw-away configuration and a certificate openssl made
# at run time: Postfix (SMTP, EHLO + STARTTLS) and Dovecot (IMAP STARTTLS, POP3 STLS) from
# MailServers.psm1, and vsftpd (FTP AUTH TLS) from SockPS.IntegrationHelpers.psm1. A vsftpd
# without TLS is the server that refuses. Each certificate is compared with the file the server
# was given, and each server's own log or answer confirms the TLS session.

BeforeDiscovery {
    # Postfix, Dovecot and vsftpd all start as root and drop privileges.
    $notRoot = $IsWindows -or (& id -u) -ne '0'
}

BeforeAll {
    Import-Module $env:SOCKPS_MODULE_PATH -Force
    Import-Module "$PSScriptRoot/../pester/SockPS.TestHelpers.psm1" -Force
    Import-Module "$PSScriptRoot/SockPS.IntegrationHelpers.psm1" -Force
    Import-Module "$PSScriptRoot/MailServers.psm1" -Force

    function Get-PemThumbprint([string] $Path) {
        [System.Security.Cryptography.X509Certificates.X509CertificateLoader]::LoadCertificateFromFile($Path).Thumbprint
    }
}

AfterAll {
    Stop-TestProcess -All
}

Describe 'Get-SocketCertificate -StartTls against Postfix and Dovecot' -Skip:$notRoot {
    BeforeAll {
        $mail = Start-MailTestEnvironment
        $serverCertificate = Join-Path -Path $mail.Directory -ChildPath 'tls/server.pem'
        $thumbprint = Get-PemThumbprint $serverCertificate
    }

    AfterAll {
        Get-SocketConnection | Disconnect-Socket
        if (Get-Variable -Name mail -ErrorAction SilentlyContinue) {
            Stop-MailTestEnvironment -Environment $mail
        }
    }

    It 'runs EHLO and STARTTLS with Postfix, then reports its certificate as trusted by the run-time CA' {
        $result = Get-SocketCertificate -ComputerName 127.0.0.1 -Port $mail.Postfix.Port -StartTls Smtp -ServerName localhost -CaCertificate $mail.CaPath

        $result.StartTls | Should -Be 'Smtp'
        $result.Thumbprint | Should -Be $thumbprint
        $result.Subject | Should -Be 'CN=localhost'
        $result.DnsNames | Should -Be @('localhost')
        $result.IsTrusted | Should -BeTrue
        $result.Problems | Should -Be 'None'
        @($result.Chain.Subject) | Should -Be @('CN=localhost', 'CN=SockPS Mail Test CA')
        $result.TlsProtocol | Should -BeIn @('Tls12', 'Tls13')
        # Postfix's own word: the STARTTLS session was established with this client.
        $null = Wait-TestProcessLine -Process $mail.Postfix.Process -Pattern 'TLS connection established from localhost\[127\.0\.0\.1\]: TLSv1\.[23]' -FromStart
    }

    It 'runs a001 STARTTLS with Dovecot''s IMAP, and STLS with its POP3' {
        $imap = Get-SocketCertificate -ComputerName 127.0.0.1 -Port $mail.Dovecot.ImapPort -StartTls Imap -ServerName localhost -CaCertificate $mail.CaPath
        $pop3 = Get-SocketCertificate -ComputerName 127.0.0.1 -Port $mail.Dovecot.Pop3Port -StartTls Pop3 -ServerName localhost -CaCertificate $mail.CaPath

        $imap.Thumbprint | Should -Be $thumbprint
        $imap.IsTrusted | Should -BeTrue
        $pop3.Thumbprint | Should -Be $thumbprint
        $pop3.IsTrusted | Should -BeTrue
        # Dovecot logs each login process's session end, and says when it was over TLS.
        $null = Wait-TestProcessLine -Process $mail.Dovecot.Process -Stream Any -Pattern 'imap-login: .*rip=127\.0\.0\.1.*\bTLS\b' -FromStart
        $null = Wait-TestProcessLine -Process $mail.Dovecot.Process -Stream Any -Pattern 'pop3-login: .*rip=127\.0\.0\.1.*\bTLS\b' -FromStart
    }

    It 'checks SMTP, IMAP, POP3 and IMAPS at once, each with its own -StartTls by property name, in input order' {
        $targets = @(
            [pscustomobject]@{ ComputerName = '127.0.0.1'; Port = $mail.Dovecot.Pop3Port; StartTls = 'Pop3' }
            [pscustomobject]@{ ComputerName = '127.0.0.1'; Port = $mail.Postfix.Port; StartTls = 'Smtp' }
            [pscustomobject]@{ ComputerName = '127.0.0.1'; Port = $mail.Dovecot.ImapsPort; StartTls = $null }
            [pscustomobject]@{ ComputerName = '127.0.0.1'; Port = $mail.Dovecot.ImapPort; StartTls = 'Imap' }
        )

        $results = $targets | Get-SocketCertificate -ServerName localhost -CaCertificate $mail.CaPath

        $results.Port | Should -Be $targets.Port
        @($results | ForEach-Object { "$($_.StartTls)" }) | Should -Be @('Pop3', 'Smtp', '', 'Imap')
        $results.Thumbprint | Sort-Object -Unique | Should -Be $thumbprint
        $results.IsTrusted | Should -Be @($true, $true, $true, $true)
    }

    It 'reports a name mismatch when -ServerName is not on the certificate' {
        $result = Get-SocketCertificate -ComputerName localhost -Port $mail.Postfix.Port -StartTls Smtp -ServerName mail.example.test -CaCertificate $mail.CaPath

        $result.IsTrusted | Should -BeFalse
        $result.Problems | Should -Be 'NameMismatch'
        $result.ValidationErrors[0] | Should -BeLike '*is issued to localhost, 127.0.0.1, not mail.example.test*'
    }

    It 'says what the server answered when the -StartTls protocol is the wrong one (IMAP asked, POP3 there)' {
        $result = Get-SocketCertificate -ComputerName 127.0.0.1 -Port $mail.Dovecot.Pop3Port -StartTls Imap -ErrorAction SilentlyContinue -ErrorVariable failures

        $result | Should -BeNullOrEmpty
        $failures | Should -HaveCount 1
        $failures[0].FullyQualifiedErrorId | Should -Be 'StartTlsRefused,SockPS.Commands.GetSocketCertificateCommand'
        $failures[0].Exception.Message | Should -BeLike "The server at 127.0.0.1:$($mail.Dovecot.Pop3Port) does not answer as an IMAP server: it said `"$($mail.Dovecot.Banner)`"*"
    }
}

Describe 'Get-SocketCertificate -StartTls Ftp against vsftpd' -Skip:$notRoot {
    BeforeAll {
        $tlsFolder = Join-Path -Path $TestDrive -ChildPath 'ftp-tls'
        $certificate = New-TestServerCertificate -Directory $tlsFolder
        $secure = Start-TestVsftpd -Certificate $certificate
        $plain = Start-TestVsftpd
    }

    AfterAll {
        Stop-TestVsftpd -Server $secure
        Stop-TestVsftpd -Server $plain
    }

    It 'runs AUTH TLS with vsftpd and reports the certificate it was given' {
        $result = Get-SocketCertificate -ComputerName 127.0.0.1 -Port $secure.Port -StartTls Ftp -CaCertificate $certificate.CaPath

        $result.StartTls | Should -Be 'Ftp'
        $result.Thumbprint | Should -Be (Get-PemThumbprint $certificate.CertificatePath)
        $result.IPAddresses | ForEach-Object ToString | Should -Contain '127.0.0.1'
        $result.IsTrusted | Should -BeTrue
        @($result.Chain.Subject) | Should -Be @('CN=localhost', 'CN=SockPS Integration Test CA')
    }

    It 'quotes vsftpd''s refusal when it has no TLS: StartTlsRefused' {
        $result = Get-SocketCertificate -ComputerName 127.0.0.1 -Port $plain.Port -StartTls Ftp -ErrorAction SilentlyContinue -ErrorVariable failures

        $result | Should -BeNullOrEmpty
        $failures | Should -HaveCount 1
        $failures[0].FullyQualifiedErrorId | Should -Be 'StartTlsRefused,SockPS.Commands.GetSocketCertificateCommand'
        $failures[0].CategoryInfo.Category | Should -Be 'ProtocolError'
        $failures[0].TargetObject | Should -Be "127.0.0.1:$($plain.Port)"
        $failures[0].Exception.Message | Should -Be "The FTP server at 127.0.0.1:$($plain.Port) refused AUTH TLS: `"530 Please login with USER and PASS.`". TLS was not started."
    }
}
