<#
.SYNOPSIS
    An echo server: every client gets each line it sends back, many clients at once.
.DESCRIPTION
    Start-SocketServer -ScriptBlock runs the block once per client, concurrently, each in a
    runspace of its own (Python's socketserver with a thread per client). The connection closes when the
    block ends: here, when the client closes its side.
.EXAMPLE
    ./examples/echo-server.ps1 -Port 7000     # then: ncat localhost 7000; Ctrl+C stops the server
.EXAMPLE
    ./examples/echo-server.ps1 -Port 0        # a free port, printed on the first line
#>
param(
    # 0 lets the OS pick a free one (printed on the first line).
    [string] $Port = '7000',
    # Where to listen; loopback unless told otherwise ('' or Any for every interface).
    [string] $Address = '127.0.0.1',
    # The module to import; by default an installed SockPS, else this repository's build.
    [string] $ModulePath
)

$ErrorActionPreference = 'Stop'
if ($ModulePath) { Import-Module $ModulePath }
elseif (Get-Module -ListAvailable -Name SockPS) { Import-Module SockPS }
else { Import-Module (Join-Path $PSScriptRoot '../out/SockPS/SockPS.psd1') }

# -ReceiveTimeoutSeconds 0: a quiet client may stay as long as it likes.
$server = Start-SocketServer -Port $Port -Address $Address -ReceiveTimeoutSeconds 0 -ScriptBlock {
    param($Connection)
    while ($null -ne ($line = $Connection.ReceiveLine())) {
        $Connection.SendLine($line)
    }
}
"Listening on $($server.LocalEndPoint)"
try {
    while ($true) {
        # What the handlers wrote, and their errors, each tagged with its connection.
        Receive-SocketServerOutput -Server $server
        Start-Sleep -Seconds 1
    }
}
finally {
    Stop-SocketServer -Server $server
}
