<#
.SYNOPSIS
    Looks into a mailbox over IMAP4rev1: LOGIN, LIST the folders, SELECT INBOX, FETCH one
    message's subject, sender, date and size; with -UseTls over IMAPS (TLS from the first byte).
.DESCRIPTION
    Writes two objects: the selected INBOX (Exists, Recent, UidValidity, UidNext, Flags,
    TlsProtocol, and Folders: every folder LIST returned, with its Name, Delimiter and
    Attributes) and the fetched message (Number, Uid, Size, Subject, From, Date). Nothing is
    changed: BODY.PEEK leaves the \Seen flag alone. A refused login stops the script with an
    ImapLoginRefused error that carries the server's answer; a certificate that does not check
    out stops it with SockPS's TlsAuthenticationFailed.
.EXAMPLE
    ./examples/protocols/imap.ps1 -ComputerName imap.example.com -UseTls -Credential (Get-Credential)
.EXAMPLE
    ./examples/protocols/imap.ps1 -ComputerName 127.0.0.1 -Port 10993 -UseTls -CaCertificate ./ca.pem -ServerName localhost -Credential $credential -MessageNumber 1
    # A test server whose certificate a private CA signed, for the name localhost.
#>
[CmdletBinding()]
param(
    [string] $ComputerName = 'localhost',
    # Default: 993 with -UseTls, else 143.
    [int] $Port,
    [Parameter(Mandatory)] [pscredential] $Credential,
    # The message to fetch; default: the newest in INBOX.
    [int] $MessageNumber,
    # IMAPS: TLS from the start (port 993).
    [switch] $UseTls,
    # With -UseTls: the name the server's certificate must carry; default: -ComputerName.
    [string] $ServerName,
    # With -UseTls: trust this CA (a PEM or DER file) for the server's certificate.
    [string] $CaCertificate,
    # With -UseTls: accept any certificate (test servers only).
    [switch] $SkipCertificateCheck,
    # The module to import; by default an installed SockPS, else this repository's build.
    [string] $ModulePath
)

Set-StrictMode -Version Latest
$ErrorActionPreference = 'Stop'
if ($ModulePath) { Import-Module $ModulePath }
elseif (Get-Module -ListAvailable -Name SockPS) { Import-Module SockPS }
else { Import-Module (Join-Path $PSScriptRoot '../../out/SockPS/SockPS.psd1') }

# Sends "<tag> <command>", waits for the tagged status line, and returns the untagged lines that
# came before it; NO or BAD stops the script with the server's words.
$script:tagNumber = 0
function Invoke-ImapCommand([string] $Command, [string] $Shown = $Command, [string] $ErrorId = 'ImapCommandRefused') {
    $script:tagNumber++
    $tag = "A$script:tagNumber"
    Send-SocketData -Connection $connection -InputObject "$tag $Command" -Line
    # -Pattern ignores case (as IMAP does) and gives up after 30 s with what did come.
    $done = Wait-SocketData -Connection $connection -Pattern "(?m)^$tag (OK|NO|BAD)\b([^\r\n]*)\r?\n"
    if ($null -eq $done) { throw "The IMAP server at ${ComputerName}:$Port closed the connection during '$Shown'." }
    if ($done.Groups[1].Value -ne 'OK') {
        $category = if ($ErrorId -eq 'ImapLoginRefused') { 'AuthenticationError' } else { 'InvalidResult' }
        $PSCmdlet.ThrowTerminatingError([System.Management.Automation.ErrorRecord]::new(
                [System.InvalidOperationException]::new("The IMAP server at ${ComputerName}:$Port answered '$Shown' with: $($done.Value.Trim())"),
                $ErrorId, $category, $done.Value.Trim()))
    }
    $done.Text.Substring(0, $done.Match.Index)
}

# A quoted string (RFC 3501 4.3): backslash and double quote escaped.
function ConvertTo-ImapString([string] $Value) { '"' + ($Value -replace '(["\\])', '\$1') + '"' }

# imap:// is port 143, imaps:// port 993 with TLS from the first byte; both end lines with CR LF.
$scheme = if ($UseTls) { 'imaps' } else { 'imap' }
$uri = [System.UriBuilder]::new($scheme, $ComputerName, $(if ($Port) { $Port } else { -1 })).Uri
if (-not $Port) { $Port = if ($UseTls) { 993 } else { 143 } }   # for the messages
$tls = @{}
if ($UseTls) {
    $tls = @{ SkipCertificateCheck = $SkipCertificateCheck }
    if ($ServerName) { $tls.ServerName = $ServerName }
    if ($CaCertificate) { $tls.CaCertificate = $CaCertificate }
}
$connection = Connect-Socket -Uri $uri @tls
try {
    $greeting = Receive-SocketData -Connection $connection -Line
    if ($greeting -notmatch '^\* OK') { throw "The IMAP server at ${ComputerName}:$Port greeted with: $greeting" }
    $null = Invoke-ImapCommand -Command "LOGIN $(ConvertTo-ImapString $Credential.UserName) $(ConvertTo-ImapString $Credential.GetNetworkCredential().Password)" `
        -Shown 'LOGIN (credentials)' -ErrorId 'ImapLoginRefused'

    # * LIST (\HasNoChildren) "." INBOX
    $folders = foreach ($line in (Invoke-ImapCommand -Command 'LIST "" "*"') -split '\r?\n') {
        if ($line -match '^\* LIST \(([^)]*)\) (NIL|"(?:[^"\\]|\\.)*") (.+)$') {
            [pscustomobject]@{
                PSTypeName = 'SockPS.Example.ImapFolder'
                Name       = $Matches[3].Trim('"')
                Delimiter  = if ($Matches[2] -eq 'NIL') { $null } else { $Matches[2].Trim('"') }
                Attributes = @($Matches[1] -split ' ' | Where-Object { $_ })
            }
        }
    }

    $selected = Invoke-ImapCommand -Command 'SELECT INBOX'
    $number = { param($pattern) if ($selected -match $pattern) { [long]$Matches[1] } else { $null } }
    $mailbox = [pscustomobject]@{
        PSTypeName  = 'SockPS.Example.ImapMailbox'
        Name        = 'INBOX'
        Exists      = & $number '(?m)^\* (\d+) EXISTS'
        Recent      = & $number '(?m)^\* (\d+) RECENT'
        UidValidity = & $number '\[UIDVALIDITY (\d+)\]'
        UidNext     = & $number '\[UIDNEXT (\d+)\]'
        Flags       = if ($selected -match '(?m)^\* FLAGS \(([^)]*)\)') { @($Matches[1] -split ' ') } else { @() }
        TlsProtocol = $connection.TlsProtocol
        Folders     = @($folders)
    }
    $mailbox

    if (-not $MessageNumber) { $MessageNumber = $mailbox.Exists }
    if ($MessageNumber -gt 0) {
        # * 1 FETCH (UID 1 RFC822.SIZE 585 BODY[HEADER.FIELDS (SUBJECT FROM DATE)] {92}
        # Subject: ...            <- a literal: {92} octets of header fields, ended by an empty line
        $fetched = Invoke-ImapCommand -Command "FETCH $MessageNumber (UID RFC822.SIZE BODY.PEEK[HEADER.FIELDS (SUBJECT FROM DATE)])"
        $fields = @{}
        if ($fetched -match '(?s)\{\d+\}\r?\n(.*?)\r?\n\r?\n') {
            foreach ($field in ($Matches[1] -replace '\r?\n[ \t]+', ' ') -split '\r?\n') {
                $name, $value = $field -split ':[ \t]*', 2
                $fields[$name] = $value
            }
        }
        [pscustomobject]@{
            PSTypeName = 'SockPS.Example.ImapMessage'
            Number     = $MessageNumber
            Uid        = if ($fetched -match '\bUID (\d+)') { [long]$Matches[1] } else { $null }
            Size       = if ($fetched -match '\bRFC822\.SIZE (\d+)') { [long]$Matches[1] } else { $null }
            Subject    = $fields['Subject']
            From       = $fields['From']
            Date       = $fields['Date']
        }
    }
    $null = Invoke-ImapCommand -Command 'LOGOUT'
}
finally {
    Disconnect-Socket -Connection $connection
}
