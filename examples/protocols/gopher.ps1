<#
.SYNOPSIS
    Reads a Gopher menu and returns its items as objects: Type, TypeName, Display, Selector,
    Host and Port (where each item leads).
.DESCRIPTION
    A Gopher request is one line, the selector (empty for the root menu); the server answers and
    closes. A menu line is <type><display>TAB<selector>TAB<host>TAB<port>, and a line holding a
    single dot ends the menu.
.EXAMPLE
    ./examples/protocols/gopher.ps1 -ComputerName gopher.floodgap.com
.EXAMPLE
    ./examples/protocols/gopher.ps1 -Selector /docs | Where-Object TypeName -eq 'Text'
#>
param(
    [string] $ComputerName = 'localhost',
    # A port number or a service name: 'gopher' is 70.
    [string] $Port = 'gopher',
    [string] $Selector = '',
    [double] $TimeoutSeconds = 10,
    # The module to import; by default an installed SockPS, else this repository's build.
    [string] $ModulePath
)

Set-StrictMode -Version Latest
$ErrorActionPreference = 'Stop'
if ($ModulePath) { Import-Module $ModulePath }
elseif (Get-Module -ListAvailable -Name SockPS) { Import-Module SockPS }
else { Import-Module (Join-Path $PSScriptRoot '../../out/SockPS/SockPS.psd1') }

# The request is the selector and a CR LF (-Line -Crlf); the answer ends when the server closes.
$menu = Invoke-SocketRequest -ComputerName $ComputerName -Port $Port -InputObject $Selector -Line -Crlf -TimeoutSeconds $TimeoutSeconds

foreach ($line in $menu -split '\r?\n') {
    if ($line -eq '.') { break }
    if ($line -eq '') { continue }
    $display, $itemSelector, $itemHost, $itemPort = $line.Substring(1) -split "`t"
    [pscustomobject]@{
        Type     = $line[0]
        TypeName = switch -CaseSensitive ([string]$line[0]) {
            '0' { 'Text' } '1' { 'Menu' } '3' { 'Error' } '7' { 'Search' } '8' { 'Telnet' } '9' { 'Binary' }
            'g' { 'Gif' } 'I' { 'Image' } 'h' { 'Html' } 'i' { 'Info' } default { 'Other' }
        }
        Display  = $display
        Selector = $itemSelector
        Host     = $itemHost
        Port     = $itemPort -as [int]
    }
}
