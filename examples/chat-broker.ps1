<#
.SYNOPSIS
    A chat broker (ncat --broker): every line one client sends goes to all the others.
.DESCRIPTION
    Each client gets a handler (Start-SocketServer -ScriptBlock). The handlers share the set of
    connections through the server itself: $Connection.Server.Connections lists every client
    still connected. Each line is passed on as "[sender address] line".
.EXAMPLE
    ./examples/chat-broker.ps1 -Port 7001     # then several: ncat localhost 7001
#>
param(
    # 0 lets the OS pick a free one (printed on the first line).
    [string] $Port = '7001',
    # Where to listen; loopback unless told otherwise ('' or Any for every interface).
    [string] $Address = '127.0.0.1',
    # How many clients may chat at once (each holds a handler while connected).
    [int] $MaxClients = 100,
    # The module to import; by default an installed SockPS, else this repository's build.
    [string] $ModulePath
)

$ErrorActionPreference = 'Stop'
if ($ModulePath) { Import-Module $ModulePath }
elseif (Get-Module -ListAvailable -Name SockPS) { Import-Module SockPS }
else { Import-Module (Join-Path $PSScriptRoot '../out/SockPS/SockPS.psd1') }

# Chat clients may only listen, never sending a byte: -SilentHandlerLimit $MaxClients keeps such
# clients connected even while others wait (by default, half the handlers serve silent clients at
# most when a client with data needs a runspace).
$server = Start-SocketServer -Port $Port -Address $Address -ThrottleLimit $MaxClients -SilentHandlerLimit $MaxClients -ReceiveTimeoutSeconds 0 -ScriptBlock {
    param($Connection)
    $others = { $Connection.Server.Connections | Where-Object Id -NE $Connection.Id }
    $Connection.SendLine("Welcome, $($Connection.RemoteEndPoint). $(@(& $others).Count) other(s) here.")
    "$($Connection.RemoteEndPoint) joined"
    while ($null -ne ($line = $Connection.ReceiveLine())) {
        foreach ($other in & $others) {
            # A client that left a moment ago is no reason to stop.
            try { $other.SendLine("[$($Connection.RemoteEndPoint)] $line") } catch { Write-Verbose "$other left: $_" }
        }
    }
    "$($Connection.RemoteEndPoint) left"
}
"Listening on $($server.LocalEndPoint)"
try {
    while ($true) {
        Receive-SocketServerOutput -Server $server    # the joined/left lines, and any handler error
        Start-Sleep -Seconds 1
    }
}
finally {
    Stop-SocketServer -Server $server
}
