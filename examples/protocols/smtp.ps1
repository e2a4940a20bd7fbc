<#
.SYNOPSIS
    Sends one mail over SMTP, encrypted with STARTTLS: banner, EHLO, STARTTLS, EHLO, optional
    AUTH PLAIN, MAIL FROM, RCPT TO, DATA, QUIT.
.DESCRIPTION
    Writes one object per server reply (Command, Code, Text) as the conversation goes, and a
    result at the end (Sent, QueueId, MessageId, TlsProtocol, CipherSuite, ...; its Command,
    Code and Text sum it up as the last line of the conversation). The mail is never sent in
    clear text: a server that does not offer STARTTLS, or whose certificate does not check out, is
    an error. A reply other than the one expected (a refused recipient, a wrong password) stops the
    script with an error that carries the server's reply.
.EXAMPLE
    ./examples/protocols/smtp.ps1 -ComputerName mail.example.com -Port 587 -Credential (Get-Credential) -From me@example.com -To you@example.com -Subject 'Hello' -Body 'Sent with SockPS'
.EXAMPLE
    ./examples/protocols/smtp.ps1 -ComputerName 127.0.0.1 -Port 2525 -CaCertificate ./ca.pem -ServerName localhost -From a@example.test -To b@example.test -Subject Test -Body 'One line'
    # A test server whose certificate a private CA signed, for the name localhost.
#>
[CmdletBinding()]
param(
    [string] $ComputerName = 'localhost',
    [int] $Port = 25,
    [Parameter(Mandatory)] [string] $From,
    [Parameter(Mandatory)] [string[]] $To,
    [string] $Subject = '',
    [string] $Body = '',
    # Log in (AUTH PLAIN, only ever after STARTTLS).
    [pscredential] $Credential,
    # The name the server's certificate must carry; default: -ComputerName.
    [string] $ServerName,
    # Trust this CA (a PEM or DER file) for the server's certificate, besides the machine's roots.
    [string] $CaCertificate,
    # Accept any certificate: encrypted, but nothing proves who the server is. Test servers only.
    [switch] $SkipCertificateCheck,
    # The module to import; by default an installed SockPS, else this repository's build.
    [string] $ModulePath
)

Set-StrictMode -Version Latest
$ErrorActionPreference = 'Stop'
if ($ModulePath) { Import-Module $ModulePath }
elseif (Get-Module -ListAvailable -Name SockPS) { Import-Module SockPS }
else { Import-Module (Join-Path $PSScriptRoot '../../out/SockPS/SockPS.psd1') }

# Stops the script with an error record a caller can tell apart by its id.
function Stop-Smtp([string] $Message, [string] $ErrorId, [string] $Category = 'InvalidResult', [object] $Target) {
    $PSCmdlet.ThrowTerminatingError([System.Management.Automation.ErrorRecord]::new(
            [System.InvalidOperationException]::new($Message), $ErrorId, $Category, $Target))
}

# Sends a command (none for the banner), reads the reply (lines "250-..." go on, "250 ..." ends
# it), writes it out, and stops with the server's words when the code is not the expected one.
function Invoke-SmtpCommand([string] $Command, [int] $Expect, [string] $Shown = $Command, [string] $ErrorId = 'SmtpCommandRefused') {
    if ($Command) { Send-SocketData -Connection $connection -InputObject $Command -Line }
    $lines = @(do {
            $line = Receive-SocketData -Connection $connection -Line
            if ($null -eq $line) { Stop-Smtp "The SMTP server at ${ComputerName}:$Port closed the connection after '$Shown'." 'SmtpConnectionClosed' }
            $line
        } while ($line -match '^\d{3}-'))
    $reply = [pscustomobject]@{
        PSTypeName = 'SockPS.Example.SmtpReply'
        Command    = $Shown
        Code       = [int]$lines[-1].Substring(0, 3)
        Text       = ($lines | ForEach-Object { $_.Substring([Math]::Min(4, $_.Length)) }) -join "`n"
    }
    $reply
    if ($reply.Code -ne $Expect) {
        $category = if ($ErrorId -like '*Authentication*') { 'AuthenticationError' } else { 'InvalidResult' }
        Stop-Smtp "The SMTP server at ${ComputerName}:$Port answered '$Shown' with $($reply.Code) $($reply.Text)" $ErrorId $category $reply
    }
}

# SMTP needs CR LF line ends (-Crlf; -Uri smtp://host would set it too); servers that accept a
# bare LF would hide the mistake.
$connection = Connect-Socket -ComputerName $ComputerName -Port $Port -Crlf
try {
    Invoke-SmtpCommand -Command '' -Shown '(banner)' -Expect 220
    $helo = "EHLO $(Get-SocketHostName)"
    $features = Invoke-SmtpCommand -Command $helo -Expect 250
    $features
    if ($features.Text -notmatch '(?m)^STARTTLS$') {
        Stop-Smtp "The SMTP server at ${ComputerName}:$Port does not offer STARTTLS; the mail is not sent in clear text." 'SmtpStartTlsUnavailable' 'SecurityError' $features
    }
    Invoke-SmtpCommand -Command 'STARTTLS' -Expect 220
    # The 220 is read, so nothing plain-text is left in the buffer when the handshake starts.
    $tls = @{ SkipCertificateCheck = $SkipCertificateCheck }
    if ($ServerName) { $tls.ServerName = $ServerName }
    if ($CaCertificate) { $tls.CaCertificate = $CaCertificate }
    Protect-SocketConnection -Connection $connection @tls
    # After STARTTLS the server forgets the first EHLO (RFC 3207); AUTH is offered only now.
    $features = Invoke-SmtpCommand -Command $helo -Expect 250
    $features

    if ($Credential) {
        $secret = [System.Text.Encoding]::UTF8.GetBytes("`0$($Credential.UserName)`0$($Credential.GetNetworkCredential().Password)")
        Invoke-SmtpCommand -Command "AUTH PLAIN $([Convert]::ToBase64String($secret))" -Shown 'AUTH PLAIN (credentials)' -Expect 235 -ErrorId 'SmtpAuthenticationFailed'
    }
    Invoke-SmtpCommand -Command "MAIL FROM:<$From>" -Expect 250
    foreach ($recipient in $To) {
        Invoke-SmtpCommand -Command "RCPT TO:<$recipient>" -Expect 250
    }
    Invoke-SmtpCommand -Command 'DATA' -Expect 354

    # Headers that are not ASCII need RFC 2047's encoded-word; the body goes as 8-bit UTF-8.
    $encodedSubject = if ($Subject -match '[^\x20-\x7e]') { "=?utf-8?B?$([Convert]::ToBase64String([System.Text.Encoding]::UTF8.GetBytes($Subject)))?=" } else { $Subject }
    $messageId = "<$([guid]::NewGuid().ToString('n'))@$($From.Split('@')[-1])>"
    $message = @(
        "From: <$From>"
        "To: $(($To | ForEach-Object { "<$_>" }) -join ', ')"
        "Subject: $encodedSubject"
        "Date: $([DateTimeOffset]::Now.ToString('ddd, dd MMM yyyy HH:mm:ss ', [cultureinfo]::InvariantCulture))$([DateTimeOffset]::Now.ToString('zzz').Replace(':', ''))"
        "Message-ID: $messageId"
        'MIME-Version: 1.0'
        'Content-Type: text/plain; charset=utf-8'
        'Content-Transfer-Encoding: 8bit'
        ''
    ) + ($Body -split '\r?\n')
    # A line that starts with a dot gets a second one (RFC 5321 4.5.2); a lone dot ends the data.
    $message = @($message | ForEach-Object { if ($_.StartsWith('.')) { ".$_" } else { $_ } }) + '.'
    Send-SocketData -Connection $connection -InputObject $message -Line
    $queued = Invoke-SmtpCommand -Command '' -Shown '(message data)' -Expect 250
    $queued
    $tlsProtocol, $cipherSuite = $connection.TlsProtocol, $connection.CipherSuite
    Invoke-SmtpCommand -Command 'QUIT' -Expect 221

    # Command, Code and Text first: in the console the result is the last line of the
    # conversation's table, a summary of what happened.
    $queueId = if ($queued.Text -match 'queued as (\S+)') { $Matches[1] } else { $null }
    [pscustomobject]@{
        PSTypeName    = 'SockPS.Example.SmtpResult'
        Command       = '(result)'
        Code          = $queued.Code
        Text          = "Sent to $($To -join ', ') over $tlsProtocol, queued as $queueId"
        Sent          = $true
        Server        = "${ComputerName}:$Port"
        From          = $From
        To            = $To
        Subject       = $Subject
        MessageId     = $messageId
        QueueId       = $queueId
        Authenticated = $null -ne $Credential
        TlsProtocol   = $tlsProtocol
        CipherSuite   = $cipherSuite
    }
}
finally {
    Disconnect-Socket -Connection $connection
}
