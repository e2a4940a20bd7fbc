#Requires -Version 7.4
# The mail examples (issue 12) against the real servers, started here from a throw-away
# configuration (MailServers.psm1): examples/protocols/smtp.ps1 sends a mail through a private
# Postfix with STARTTLS and SMTP AUTH; Postfix delivers it into the Maildir a private Dovecot
# serves; pop3.ps1 and imap.ps1 read that same mail back over POP3, IMAP and IMAPS. One chain,
# SMTP -> mailbox -> POP3/IMAP, with the delivered file checked on disk in between.
#
# The examples run in this process (the module under test is already imported, and the scripts
# are handed -ModulePath so they never pick an installed SockPS), so their output is objects.

BeforeAll {
    Import-Module $env:SOCKPS_MODULE_PATH -Force
    Import-Module "$PSScriptRoot/../pester/SockPS.TestHelpers.psm1" -Force
    Import-Module "$PSScriptRoot/MailServers.psm1" -Force

    $examples = Join-Path -Path $PSScriptRoot -ChildPath '../../examples/protocols' -Resolve
    $mail = Start-MailTestEnvironment
    $wrongPassword = [pscredential]::new($mail.UserName, (ConvertTo-SecureString -String 'not-the-password' -AsPlainText -Force))
    $typeOf = { param($objects, $type) @($objects | Where-Object { $_.PSObject.TypeNames -contains $type }) }

    # The mail every test reads back: a unique subject, a line that starts with a dot (SMTP
    # doubles it on the wire, the server must undouble it) and text that is not ASCII.
    $subject = "SockPS integration $([guid]::NewGuid().ToString('n').Substring(0, 8))"
    $body = "First line`n.a line that starts with a dot`nGrüße aus PowerShell"
    $smtpOutput = & "$examples/smtp.ps1" -ComputerName 127.0.0.1 -Port $mail.Postfix.Port -ServerName localhost `
        -CaCertificate $mail.CaPath -Credential $mail.Credential -From 'sender@example.test' -To $mail.Address `
        -Subject $subject -Body $body -ModulePath $env:SOCKPS_MODULE_PATH
    $delivered = Wait-MailTestDelivery -Maildir $mail.Maildir -Subject $subject
}

AfterAll {
    Get-SocketConnection | Disconnect-Socket
    if (Get-Variable -Name mail -ErrorAction SilentlyContinue) {
        Stop-MailTestEnvironment -Environment $mail
    }
    Stop-TestProcess -All
}

Describe 'examples/protocols/smtp.ps1 against Postfix' {
    It 'writes every reply in order and ends with a result that says the mail was queued' {
        $replies = & $typeOf $smtpOutput 'SockPS.Example.SmtpReply'
        $ehlo = "EHLO $(Get-SocketHostName)"
        $replies.Command | Should -Be @('(banner)', $ehlo, 'STARTTLS', $ehlo, 'AUTH PLAIN (credentials)',
            'MAIL FROM:<sender@example.test>', "RCPT TO:<$($mail.Address)>", 'DATA', '(message data)', 'QUIT')
        $replies.Code | Should -Be @(220, 250, 220, 250, 235, 250, 250, 354, 250, 221)
        $replies[0].Text | Should -Be ($mail.Postfix.Banner -replace '^220 ')

        $result = $smtpOutput[-1]
        $result.PSObject.TypeNames | Should -Contain 'SockPS.Example.SmtpResult'
        $result.Sent | Should -BeTrue
        $result.Authenticated | Should -BeTrue
        $result.QueueId | Should -Match '^[0-9A-F]{6,}$'
        $replies[8].Text | Should -BeLike "*queued as $($result.QueueId)"
        $result.Command, $result.Code, $result.Text | Should -Be @('(result)', 250, "Sent to $($mail.Address) over $($result.TlsProtocol), queued as $($result.QueueId)")
    }

    It 'upgrades to TLS with STARTTLS, checked against the run-time CA, before AUTH and the mail' {
        $result = $smtpOutput[-1]
        $result.TlsProtocol | Should -BeIn @('Tls12', 'Tls13')
        $result.CipherSuite | Should -Not -BeNullOrEmpty
        $replies = & $typeOf $smtpOutput 'SockPS.Example.SmtpReply'
        $replies[1].Text | Should -Match '(?m)^STARTTLS$'
        $replies[1].Text | Should -Not -Match '(?m)^AUTH ' -Because 'Postfix offers AUTH only inside TLS (smtpd_tls_auth_only)'
        $replies[3].Text | Should -Match '(?m)^AUTH .*PLAIN'
        # The server's own word: the session was encrypted, and the mail went through it.
        $null = Wait-TestProcessLine -Process $mail.Postfix.Process -Pattern 'TLS connection established from localhost\[127\.0\.0\.1\]: TLSv1\.[23]' -FromStart
        @($delivered.Headers['Received'])[0] | Should -Match "with ESMTPSA id $($result.QueueId)\b" -Because 'ESMTPSA is ESMTP over TLS, authenticated (RFC 3848)'
    }

    It 'delivered the mail into the Maildir with its subject, headers and body intact' {
        $result = $smtpOutput[-1]
        Split-Path -Parent $delivered.Path | Should -Be (Join-Path $mail.Maildir 'new')
        $delivered.Subject | Should -BeExactly $subject
        $delivered.Body | Should -BeExactly $body -Because 'the dot line is undoubled and the UTF-8 text arrives as sent'
        $delivered.Headers['Message-ID'] | Should -Be @($result.MessageId)
        $delivered.Headers['From'] | Should -Be @('<sender@example.test>')
        $delivered.Headers['Delivered-To'] | Should -Be @($mail.Address)
    }

    It 'stops with the server''s refusal when the password is wrong, and leaves no connection open' {
        $refusal = { & "$examples/smtp.ps1" -ComputerName 127.0.0.1 -Port $mail.Postfix.Port -ServerName localhost `
                -CaCertificate $mail.CaPath -Credential $wrongPassword -From 'sender@example.test' -To $mail.Address `
                -Subject 'never sent' -ModulePath $env:SOCKPS_MODULE_PATH } |
            Should -Throw -ErrorId 'SmtpAuthenticationFailed,*' -ExpectedMessage '*AUTH PLAIN*535 5.7.8*authentication failed*' -PassThru
        $refusal.CategoryInfo.Category | Should -Be 'AuthenticationError'
        $refusal.TargetObject.Code | Should -Be 535
        Get-SocketConnection | Should -BeNullOrEmpty
    }

    It 'refuses to go on when the server''s certificate is not from a CA it trusts' {
        { & "$examples/smtp.ps1" -ComputerName 127.0.0.1 -Port $mail.Postfix.Port -Credential $mail.Credential `
                -From 'sender@example.test' -To $mail.Address -Subject 'never sent' -ModulePath $env:SOCKPS_MODULE_PATH } |
            Should -Throw -ErrorId 'TlsAuthenticationFailed,SockPS.Commands.ProtectSocketConnectionCommand' -ExpectedMessage '*SockPS Mail Test CA*'
        Get-SocketConnection | Should -BeNullOrEmpty
    }
}

Describe 'examples/protocols/pop3.ps1 against Dovecot' {
    It 'logs in with USER/PASS, lists the mailbox and retrieves the mail SMTP delivered' {
        $output = & "$examples/pop3.ps1" -ComputerName 127.0.0.1 -Port $mail.Dovecot.Pop3Port -Credential $mail.Credential `
            -ModulePath $env:SOCKPS_MODULE_PATH
        $mailbox = & $typeOf $output 'SockPS.Example.Pop3Mailbox'
        $message = & $typeOf $output 'SockPS.Example.Pop3Message'
        $mailbox.MessageCount | Should -Be 1
        $mailbox.Messages.Number | Should -Be 1
        $mailbox.TotalSize | Should -Be $mailbox.Messages[0].Size
        $mailbox.TlsProtocol | Should -BeNullOrEmpty
        $message.Subject | Should -BeExactly $subject
        $message.From | Should -Be '<sender@example.test>'
        $message.Body | Should -BeExactly $body
        $message.Size | Should -Be $mailbox.Messages[0].Size
        ($message.Headers | Where-Object Name -EQ 'Message-ID').Value | Should -Be $smtpOutput[-1].MessageId
    }

    It 'encrypts the session with STLS before the password is sent (-StartTls)' {
        $output = & "$examples/pop3.ps1" -ComputerName 127.0.0.1 -Port $mail.Dovecot.Pop3Port -Credential $mail.Credential `
            -StartTls -ServerName localhost -CaCertificate $mail.CaPath -ModulePath $env:SOCKPS_MODULE_PATH
        (& $typeOf $output 'SockPS.Example.Pop3Mailbox').TlsProtocol | Should -BeIn @('Tls12', 'Tls13')
        (& $typeOf $output 'SockPS.Example.Pop3Message').Subject | Should -BeExactly $subject
        $null = Wait-TestProcessLine -Process $mail.Dovecot.Process -Stream Error -FromStart `
            -Pattern "pop3-login: Info: Login: user=<$($mail.UserName)>, method=PLAIN, .*\bTLS\b"
    }

    It 'stops with the server''s refusal when the password is wrong, and leaves no connection open' {
        $refusal = { & "$examples/pop3.ps1" -ComputerName 127.0.0.1 -Port $mail.Dovecot.Pop3Port -Credential $wrongPassword `
                -ModulePath $env:SOCKPS_MODULE_PATH } |
            Should -Throw -ErrorId 'Pop3LoginRefused,*' -ExpectedMessage '*PASS (password)*-ERR*Authentication failed*' -PassThru
        $refusal.CategoryInfo.Category | Should -Be 'AuthenticationError'
        $refusal.Exception.Message | Should -Not -Match 'not-the-password' -Because 'the password is never echoed'
        Get-SocketConnection | Should -BeNullOrEmpty
    }
}

Describe 'examples/protocols/imap.ps1 against Dovecot' {
    It 'lists the folders, selects INBOX and fetches the subject of the mail SMTP delivered' {
        $output = & "$examples/imap.ps1" -ComputerName 127.0.0.1 -Port $mail.Dovecot.ImapPort -Credential $mail.Credential `
            -ModulePath $env:SOCKPS_MODULE_PATH
        $inbox = & $typeOf $output 'SockPS.Example.ImapMailbox'
        $inbox.Folders.Name | Should -Contain 'INBOX'
        $inbox.Folders[0].Delimiter | Should -Be '.'
        $inbox.Exists | Should -Be 1
        $inbox.UidValidity | Should -BeGreaterThan 0
        $inbox.Flags | Should -Contain '\Seen'
        $inbox.TlsProtocol | Should -BeNullOrEmpty
        $message = & $typeOf $output 'SockPS.Example.ImapMessage'
        $message.Number | Should -Be 1
        $message.Subject | Should -BeExactly $subject
        $message.From | Should -Be '<sender@example.test>'
        $message.Date | Should -Be $delivered.Headers['Date'][0]
        # RFC822.SIZE counts CRLF line ends; Postfix stores LF.
        $message.Size | Should -Be ([System.Text.Encoding]::UTF8.GetByteCount(($delivered.Text -replace "`n", "`r`n")))
    }

    It 'over IMAPS (-UseTls) checks the server''s certificate against the run-time CA' {
        $output = & "$examples/imap.ps1" -ComputerName 127.0.0.1 -Port $mail.Dovecot.ImapsPort -UseTls -ServerName localhost `
            -CaCertificate $mail.CaPath -Credential $mail.Credential -ModulePath $env:SOCKPS_MODULE_PATH
        (& $typeOf $output 'SockPS.Example.ImapMailbox').TlsProtocol | Should -BeIn @('Tls12', 'Tls13')
        (& $typeOf $output 'SockPS.Example.ImapMessage').Subject | Should -BeExactly $subject
    }

    It 'over IMAPS refuses the certificate when it is not told about the CA, and takes any with a warning when told to' {
        { & "$examples/imap.ps1" -ComputerName 127.0.0.1 -Port $mail.Dovecot.ImapsPort -UseTls -ServerName localhost `
                -Credential $mail.Credential -ModulePath $env:SOCKPS_MODULE_PATH } |
            Should -Throw -ErrorId 'TlsAuthenticationFailed,SockPS.Commands.ConnectSocketCommand' -ExpectedMessage '*SockPS Mail Test CA*'
        Get-SocketConnection | Should -BeNullOrEmpty

        $output = & "$examples/imap.ps1" -ComputerName 127.0.0.1 -Port $mail.Dovecot.ImapsPort -UseTls -SkipCertificateCheck `
            -Credential $mail.Credential -ModulePath $env:SOCKPS_MODULE_PATH 3>&1
        ($output | Where-Object { $_ -is [System.Management.Automation.WarningRecord] }).Message | Should -BeLike 'Certificate checks are off*'
        (& $typeOf $output 'SockPS.Example.ImapMessage').Subject | Should -BeExactly $subject
    }

    It 'stops with the server''s refusal when the password is wrong, and leaves no connection open' {
        $refusal = { & "$examples/imap.ps1" -ComputerName 127.0.0.1 -Port $mail.Dovecot.ImapPort -Credential $wrongPassword `
                -ModulePath $env:SOCKPS_MODULE_PATH } |
            Should -Throw -ErrorId 'ImapLoginRefused,*' -ExpectedMessage '*LOGIN (credentials)*NO*AUTHENTICATIONFAILED*' -PassThru
        $refusal.CategoryInfo.Category | Should -Be 'AuthenticationError'
        Get-SocketConnection | Should -BeNullOrEmpty
    }
}

Describe 'MailServers.psm1' {
    BeforeEach {
        $directory = Join-Path ([System.IO.Path]::GetTempPath()) "sockps-mail-retry-$([guid]::NewGuid().ToString('n').Substring(0, 8))"
        $taken = [System.Net.Sockets.TcpListener]::new([System.Net.IPAddress]::Loopback, 0)
        $taken.Start()
        $postfix = $dovecot = $null
    }

    AfterEach {
        Stop-PostfixTestServer -Server $postfix
        Stop-DovecotTestServer -Server $dovecot
        $taken.Stop()
        Remove-Item -LiteralPath $directory -Recurse -Force -ErrorAction SilentlyContinue
    }

    It 'starts each daemon on another port when the one it got is taken, and stops every process it started by id' {
        $null = New-Item -ItemType Directory -Path $directory
        $certificate = New-MailTestCertificate -Directory $directory
        $null = New-Item -ItemType Directory -Path "$directory/vmail"
        $takenPort = ([System.Net.IPEndPoint]$taken.LocalEndpoint).Port

        $postfix = Start-PostfixTestServer -Directory "$directory/postfix" -Certificate $certificate -MailboxBase "$directory/vmail" `
            -Mailbox @{ 'nobody@example.test' = 'nobody/' } -Uid 60199 -Gid 60199 -FirstPort $takenPort
        $postfix.Port | Should -Not -Be $takenPort
        $postfix.Banner | Should -BeExactly '220 mail.example.test ESMTP Postfix'
        $dovecot = Start-DovecotTestServer -Directory "$directory/dovecot" -Certificate $certificate -UserName nobody `
            -Password unused -HomeDirectory "$directory/vmail/nobody" -Uid 60199 -Gid 60199 -FirstPort $takenPort
        $dovecot.Pop3Port | Should -Not -Be $takenPort
        $dovecot.Banner | Should -Match '^\+OK Dovecot .*ready\.$'

        $running = @(Get-MailTestProcess -Directory $directory)
        $running.Id | Should -Contain $postfix.Process.Id
        $running.Id | Should -Contain $dovecot.Process.Id
        $running.Name | Should -Contain 'smtpd' -Because 'the master started smtpd to answer the banner'
        Stop-PostfixTestServer -Server $postfix
        Stop-DovecotTestServer -Server $dovecot
        Get-MailTestProcess -Directory $directory | Should -BeNullOrEmpty
    }
}
