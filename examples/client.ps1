<#
.SYNOPSIS
    The seed tutorial's client.py, in PowerShell: connect and print what the server says.
.EXAMPLE
    ./examples/client.ps1                       # localhost:12345, as in the tutorial
.EXAMPLE
    ./examples/client.ps1 -Port 40123
#>
param(
    [string] $ComputerName = 'localhost',
    [string] $Port = '12345',
    # The module to import; by default an installed SockPS, else this repository's build.
    [string] $ModulePath
)

$ErrorActionPreference = 'Stop'
if ($ModulePath) { Import-Module $ModulePath }
elseif (Get-Module -ListAvailable -Name SockPS) { Import-Module SockPS }
else { Import-Module (Join-Path $PSScriptRoot '../out/SockPS/SockPS.psd1') }

$connection = Connect-Socket -ComputerName $ComputerName -Port $Port   # s.connect((host, port))
Receive-SocketData -Connection $connection -ToEnd                      # print(s.recv(1024)); the server closes
Disconnect-Socket -Connection $connection                              # s.close()
