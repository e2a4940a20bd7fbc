<#
.SYNOPSIS
    Telnet by hand: logs in at the login: and Password: prompts, runs one command at the shell
    prompt, and returns its output lines as an object.
.DESCRIPTION
    A Telnet server starts by negotiating options (IAC DO/WILL <option>, bytes 255 253/251 x).
    Connect-Socket -Telnet refuses every one, as nc -t does, so the session stays a plain network
    virtual terminal, and strips the negotiation from the text the prompts are matched against.
.EXAMPLE
    ./examples/protocols/telnet.ps1 -ComputerName router.example -Credential (Get-Credential) -Command 'uptime'
.EXAMPLE
    (./examples/protocols/telnet.ps1 -Credential $cred -Command 'id -un').Output
#>
param(
    [string] $ComputerName = 'localhost',
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

# -Telnet refuses every option the server offers (DO x -> WONT x, WILL x -> DONT x), as nc -t
# does, and strips the negotiation from what is received; -Crlf ends lines as Telnet does.
$telnet = Connect-Socket -ComputerName $ComputerName -Port $Port -Telnet -Crlf -TimeoutSeconds $TimeoutSeconds
function Read-TelnetText([string] $Pattern) {
    # Waits until the text matches (case-insensitive, as -match) and returns everything read;
    # no match in time is a ReceiveTimeout error that shows what did come.
    $match = Wait-SocketData -Connection $telnet -Pattern $Pattern -TimeoutSeconds $TimeoutSeconds
    if (-not $match) { throw "${ComputerName}:$Port closed the connection before /$Pattern/ came." }
    $match.Text
}

try {
    $null = Read-TelnetText 'login:\s*$'
    Send-SocketData -Connection $telnet -InputObject $Credential.UserName -Line
    $null = Read-TelnetText 'password:\s*$'
    Send-SocketData -Connection $telnet -InputObject $Credential.GetNetworkCredential().Password -Line
    if ((Read-TelnetText "$Prompt|login incorrect") -match 'login incorrect') {
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
