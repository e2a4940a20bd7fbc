<#
.SYNOPSIS
    Telnet by hand: logs in at the login: and Password: prompts, runs one command at the shell
    prompt, and returns its output lines as an object.
.DESCRIPTION
    A Telnet server starts by negotiating options (IAC DO/WILL <option>, bytes 255 253/251 x).
    This script refuses every one, as nc -t does, so the session stays a plain network virtual
    terminal, and strips the negotiation from the text it matches prompts against.
.EXAMPLE
    ./examples/protocols/telnet.ps1 -ComputerName router.example -Credential (Get-Credential) -Command 'uptime'
.EXAMPLE
    (./examples/protocols/telnet.ps1 -Credential $cred -Command 'id -un').Output
#>
param(
    [string] $ComputerName = 'localhost',
    # TODO(issue 12): -Uri telnet://host would know port 23 and CRLF.
    [string] $Port = '23',
    [Parameter(Mandatory)] [pscredential] $Credential,
    [string] $Command = 'uname -a',
    # A regular expression for the shell prompt at the end of the text.
    [string] $Prompt = '[$#>]\s*$',
    [double] $TimeoutSeconds = 10,
    # The module to import; by default an installed SockPS, else this repository's build.
    [string] $ModulePath
)

Set-StrictMode -Version Latest
$ErrorActionPreference = 'Stop'
if ($ModulePath) { Import-Module $ModulePath }
elseif (Get-Module -ListAvailable -Name SockPS) { Import-Module SockPS }
else { Import-Module (Join-Path $PSScriptRoot '../../out/SockPS/SockPS.psd1') }

# TODO(issue 12): a hand-written option refuser; replace Read-TelnetText with Connect-Socket -Telnet
# and Wait-SocketData -Pattern (which today breaks on the IAC bytes, invalid in UTF-8).
$decoder = [System.Text.Encoding]::UTF8.GetDecoder()
function Read-TelnetText {
    # Reads until the text, Telnet commands removed, matches -Pattern; answers DO x with WONT x
    # and WILL x with DONT x. No subnegotiation can come: every option stays off.
    param([string] $Pattern)
    $text, $carry = '', [byte[]]@()
    $deadline = [datetime]::UtcNow.AddSeconds($TimeoutSeconds)
    while ($text -notmatch $Pattern) {
        $left = ($deadline - [datetime]::UtcNow).TotalSeconds
        if ($left -le 0) { throw "No text matching /$Pattern/ came from ${ComputerName}:$Port within $TimeoutSeconds s. Got: $text" }
        $received = Receive-SocketData -Connection $telnet -AsByteArray -TimeoutSeconds $left
        if ($null -eq $received) { throw "${ComputerName}:$Port closed the connection. Got: $text" }
        [byte[]]$bytes = $carry + $received
        $data, $replies, $carry = [System.IO.MemoryStream]::new(), [System.IO.MemoryStream]::new(), [byte[]]@()
        for ($i = 0; $i -lt $bytes.Length; $i++) {
            if ($bytes[$i] -ne 255) { $data.WriteByte($bytes[$i]); continue }
            $verb = if ($i + 1 -lt $bytes.Length) { $bytes[$i + 1] } else { -1 }
            if ($verb -eq 255) { $data.WriteByte(255); $i++; continue }          # an escaped 255
            if ($verb -in 251..254) {                                             # WILL WONT DO DONT
                if ($i + 2 -ge $bytes.Length) { $carry = $bytes[$i..($bytes.Length - 1)]; break }
                if ($verb -eq 253) { $replies.Write([byte[]](255, 252, $bytes[$i + 2]), 0, 3) }   # DO -> WONT
                if ($verb -eq 251) { $replies.Write([byte[]](255, 254, $bytes[$i + 2]), 0, 3) }   # WILL -> DONT
                $i += 2; continue
            }
            if ($verb -eq -1) { $carry = [byte[]](255); break }
            $i++                                                                   # another command: skip it
        }
        if ($replies.Length) { Send-SocketData -Connection $telnet -InputObject $replies.ToArray() }
        $chars = [char[]]::new($data.Length)
        $text += [string]::new($chars, 0, $decoder.GetChars($data.ToArray(), 0, [int]$data.Length, $chars, 0))
    }
    $text
}

# TODO(issue 12): -NewLine "`r`n" (Telnet ends lines with CR LF); -Crlf or -Uri telnet:// would set it.
$telnet = Connect-Socket -ComputerName $ComputerName -Port $Port -NewLine "`r`n" -TimeoutSeconds $TimeoutSeconds
try {
    $null = Read-TelnetText '(?i)login:\s*$'
    Send-SocketData -Connection $telnet -InputObject $Credential.UserName -Line
    $null = Read-TelnetText '(?i)password:\s*$'
    Send-SocketData -Connection $telnet -InputObject $Credential.GetNetworkCredential().Password -Line
    if ((Read-TelnetText "$Prompt|(?i)login incorrect") -match '(?i)login incorrect') {
        throw "${ComputerName}:$Port refused the login of $($Credential.UserName)."
    }
    Send-SocketData -Connection $telnet -InputObject $Command -Line
    $lines = @((Read-TelnetText $Prompt) -split '\r?\n')
    Send-SocketData -Connection $telnet -InputObject 'exit' -Line
}
finally {
    Disconnect-Socket -Connection $telnet
}

# The terminal echoes the command first; the prompt comes last.
$first = if ($lines[0].Trim() -eq $Command) { 1 } else { 0 }
[pscustomobject]@{
    ComputerName = $ComputerName
    UserName     = $Credential.UserName
    Command      = $Command
    Output       = [string[]]@($lines | Select-Object -Skip $first | Select-Object -SkipLast 1)
}
