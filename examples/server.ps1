<#
.SYNOPSIS
    The seed tutorial's server.py, in PowerShell: accept a client, greet it, close, repeat.
.EXAMPLE
    ./examples/server.ps1                  # port 12345 as in the tutorial; Ctrl+C stops it
.EXAMPLE
    ./examples/server.ps1 -Port 0 -MaxClients 1   # a free port, one client, then exit
#>
param(
    # The tutorial's port. 0 lets the OS pick a free one (printed on the first line).
    [string] $Port = '12345',
    # Where to listen; loopback unless told otherwise ('' or Any for every interface).
    [string] $Address = '127.0.0.1',
    # How many clients to serve before exiting; 0 serves until Ctrl+C.
    [int] $MaxClients = 0,
    # The module to import; by default an installed SockPS, else this repository's build.
    [string] $ModulePath
)

$ErrorActionPreference = 'Stop'
if ($ModulePath) { Import-Module $ModulePath }
elseif (Get-Module -ListAvailable -Name SockPS) { Import-Module SockPS }
else { Import-Module (Join-Path $PSScriptRoot '../out/SockPS/SockPS.psd1') }

$server = Start-SocketServer -Port $Port -Address $Address       # s.bind((host, port)); s.listen(5)
"Listening on $($server.LocalEndPoint)"
try {
    $served = 0
    while ($MaxClients -eq 0 -or $served -lt $MaxClients) {
        $connection = Wait-SocketConnection -Server $server      # c, addr = s.accept()
        "Got connection from $($connection.RemoteEndPoint)"
        Send-SocketData -Connection $connection -InputObject 'Thank you for connecting'
        Disconnect-Socket -Connection $connection                # c.close()
        $served++
    }
}
finally {
    Stop-SocketServer -Server $server
}
