<#
.SYNOPSIS
    Reads a mailbox over POP3: login with USER/PASS, STAT and LIST, then RETR of one message,
    returned as an object with its headers and body.
.DESCRIPTION
    Writes two objects: the mailbox (MessageCount, TotalSize, and Messages: each message's Number
    and Size from LIST) and the retrieved message (Number, Size, Headers, Subject, From, Date,
    Body). Nothing is deleted. With -StartTls the connection is encrypted (STLS, RFC 2595) before
    the password is sent. A refused login stops the script with a Pop3LoginRefused error that
    carries the server's answer.
.EXAMPLE
    ./examples/protocols/pop3.ps1 -ComputerName pop.example.com -Credential (Get-Credential) -StartTls
.EXAMPLE
    (./examples/protocols/pop3.ps1 -ComputerName 127.0.0.1 -Port 1110 -Credential $credential -MessageNumber 2)[-1].Body
    # The body of the second message on a test server.
#>
[CmdletBinding()]
param(
    [string] $ComputerName = 'localhost',
    [int] $Port = 110,
    [Parameter(Mandatory)] [pscredential] $Credential,
    # The message to retrieve (1 is the oldest); 0 retrieves none.
    [int] $MessageNumber = 1,
    # Encrypt with STLS before logging in.
    [switch] $StartTls,
    # With -StartTls: the name the server's certificate must carry; default: -ComputerName.
    [string] $ServerName,
    # With -StartTls: trust this CA (a PEM or DER file) for the server's certificate.
    [string] $CaCertificate,
    # With -StartTls: accept any certificate (test servers only).
    [switch] $SkipCertificateCheck,
    # The module to import; by default an installed SockPS, else this repository's build.
    [string] $ModulePath
)

Set-StrictMode -Version Latest
$ErrorActionPreference = 'Stop'
if ($ModulePath) { Import-Module $ModulePath }
elseif (Get-Module -ListAvailable -Name SockPS) { Import-Module SockPS }
else { Import-Module (Join-Path $PSScriptRoot '../../out/SockPS/SockPS.psd1') }

# Sends a command (none for the greeting) and returns the status line's text after "+OK";
# "-ERR ..." stops the script with the server's words. -Multiline also returns the lines up to
# the lone "." that ends a multi-line answer, dot-unstuffed.
function Invoke-Pop3Command([string] $Command, [string] $Shown = $Command, [string] $ErrorId = 'Pop3CommandRefused', [switch] $Multiline) {
    if ($Command) { Send-SocketData -Connection $connection -InputObject $Command -Line }
    $status = Receive-SocketData -Connection $connection -Line
    if ($status -notmatch '^\+OK ?(.*)$') {
        $category = if ($ErrorId -eq 'Pop3LoginRefused') { 'AuthenticationError' } else { 'InvalidResult' }
        $PSCmdlet.ThrowTerminatingError([System.Management.Automation.ErrorRecord]::new(
                [System.InvalidOperationException]::new("The POP3 server at ${ComputerName}:$Port answered '$Shown' with: $status"),
                $ErrorId, $category, $status))
    }
    $Matches[1]
    if ($Multiline) {
        while (($line = Receive-SocketData -Connection $connection -Line) -ne '.') {
            if ($null -eq $line) { throw "The POP3 server at ${ComputerName}:$Port closed the connection during '$Shown'." }
            if ($line.StartsWith('..')) { $line.Substring(1) } else { $line }
        }
    }
}

# POP3 is a line protocol with CR LF line ends (-Crlf; -Uri pop3://host would set it too).
$connection = Connect-Socket -ComputerName $ComputerName -Port $Port -Crlf
try {
    $null = Invoke-Pop3Command -Command '' -Shown '(greeting)'
    if ($StartTls) {
        $null = Invoke-Pop3Command -Command 'STLS'
        $tls = @{ SkipCertificateCheck = $SkipCertificateCheck }
        if ($ServerName) { $tls.ServerName = $ServerName }
        if ($CaCertificate) { $tls.CaCertificate = $CaCertificate }
        Protect-SocketConnection -Connection $connection @tls
    }
    $null = Invoke-Pop3Command -Command "USER $($Credential.UserName)" -ErrorId 'Pop3LoginRefused'
    $null = Invoke-Pop3Command -Command "PASS $($Credential.GetNetworkCredential().Password)" -Shown 'PASS (password)' -ErrorId 'Pop3LoginRefused'

    $count, $size = (Invoke-Pop3Command -Command 'STAT').Split(' ')[0, 1]
    $null, $listing = Invoke-Pop3Command -Command 'LIST' -Multiline
    [pscustomobject]@{
        PSTypeName   = 'SockPS.Example.Pop3Mailbox'
        Server       = "${ComputerName}:$Port"
        UserName     = $Credential.UserName
        MessageCount = [int]$count
        TotalSize    = [long]$size
        Messages     = @(foreach ($entry in $listing) { $number, $octets = $entry.Split(' '); [pscustomobject]@{ Number = [int]$number; Size = [long]$octets } })
        TlsProtocol  = $connection.TlsProtocol
    }

    if ($MessageNumber -gt 0) {
        $status, $lines = Invoke-Pop3Command -Command "RETR $MessageNumber" -Multiline
        # The header ends at the first empty line; a line that starts with white space continues
        # the field above it (RFC 5322 folding).
        $head, $body = ($lines -join "`n") -split '\n\n', 2
        $headers = @(foreach ($field in ($head -replace '\n[ \t]+', ' ') -split '\n') {
                $name, $value = $field -split ':[ \t]*', 2
                [pscustomobject]@{ Name = $name; Value = $value }
            })
        $first = { param($name) @($headers | Where-Object Name -EQ $name)[0].Value }
        [pscustomobject]@{
            PSTypeName = 'SockPS.Example.Pop3Message'
            Number     = $MessageNumber
            Size       = [long]($status -replace '^(\d+).*$', '$1')
            Subject    = & $first 'Subject'
            From       = & $first 'From'
            Date       = & $first 'Date'
            Headers    = $headers
            Body       = "$body"
        }
    }
    $null = Invoke-Pop3Command -Command 'QUIT'
}
finally {
    Disconnect-Socket -Connection $connection
}
