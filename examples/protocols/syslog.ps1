<#
.SYNOPSIS
    Sends a syslog message (RFC 5424) as one datagram, over UDP to a log server or to a local
    Unix datagram socket such as /dev/log, and returns what was sent as an object.
.DESCRIPTION
    The priority is facility * 8 + severity: user.notice (1 * 8 + 5) is <13>. Syslog over UDP and
    over /dev/log is fire-and-forget: nothing answers, so success means the datagram left.
.EXAMPLE
    ./examples/protocols/syslog.ps1 -Message 'backup finished' -ComputerName logs.example -Port 514
.EXAMPLE
    ./examples/protocols/syslog.ps1 -Message 'disk almost full' -Path /dev/log -Severity Warning
#>
[CmdletBinding(DefaultParameterSetName = 'Udp')]
param(
    [Parameter(Mandatory, Position = 0)] [string] $Message,
    [Parameter(ParameterSetName = 'Udp')] [string] $ComputerName = 'localhost',
    [Parameter(ParameterSetName = 'Udp')] [string] $Port = '514',
    # A Unix datagram socket, such as /dev/log, instead of UDP.
    [Parameter(Mandatory, ParameterSetName = 'Unix')] [string] $Path,
    [ValidateRange(0, 23)] [int] $Facility = 1,                 # 1 user, 3 daemon, 16-23 local0-7
    [ValidateSet('Emergency', 'Alert', 'Critical', 'Error', 'Warning', 'Notice', 'Informational', 'Debug')]
    [string] $Severity = 'Notice',
    [string] $AppName = 'sockps',
    # The module to import; by default an installed SockPS, else this repository's build.
    [string] $ModulePath
)

Set-StrictMode -Version Latest
$ErrorActionPreference = 'Stop'
if ($ModulePath) { Import-Module $ModulePath }
elseif (Get-Module -ListAvailable -Name SockPS) { Import-Module SockPS }
else { Import-Module (Join-Path $PSScriptRoot '../../out/SockPS/SockPS.psd1') }

$severities = 'Emergency', 'Alert', 'Critical', 'Error', 'Warning', 'Notice', 'Informational', 'Debug'
$priority = $Facility * 8 + $severities.IndexOf($Severity)
# <PRI>VERSION TIMESTAMP HOSTNAME APP-NAME PROCID MSGID STRUCTURED-DATA MSG
$timestamp = [datetimeoffset]::Now.ToString('yyyy-MM-ddTHH:mm:ss.ffffffK', [cultureinfo]::InvariantCulture)
$text = "<$priority>1 $timestamp $([System.Net.Dns]::GetHostName()) $AppName $PID - - $Message"

$target = if ($Path) { @{ Path = $Path } } else { @{ ComputerName = $ComputerName; Port = $Port } }
# -Protocol Udp: a datagram socket (with -Path, a Unix datagram socket).
$connection = Connect-Socket @target -Protocol Udp
try {
    Send-SocketData -Connection $connection -InputObject $text
    $sent = $connection.BytesSent
}
finally {
    Disconnect-Socket -Connection $connection
}

[pscustomobject]@{
    Transport = if ($Path) { 'Unix' } else { 'Udp' }
    Target    = if ($Path) { $Path } else { "${ComputerName}:$Port" }
    Priority  = $priority
    Bytes     = $sent
    Text      = $text
}
