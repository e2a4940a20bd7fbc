<#
.SYNOPSIS
    A port forward (socat TCP-LISTEN:8080,fork TCP:host:80): every client that connects here is
    joined to a new connection to the target, both directions, until either side closes.
.EXAMPLE
    ./examples/port-forward.ps1 -Port 8080 -TargetHost example.com -TargetPort 80
.EXAMPLE
    ./examples/port-forward.ps1 -Port 0 -TargetHost 127.0.0.1 -TargetPort 5432   # a free local port
#>
param(
    # The local port to listen on; 0 lets the OS pick a free one (printed on the first line).
    [string] $Port = '8080',
    # Where to listen; loopback unless told otherwise ('' or Any for every interface).
    [string] $Address = '127.0.0.1',
    # Where to forward to.
    [Parameter(Mandatory)] [string] $TargetHost,
    [Parameter(Mandatory)] [string] $TargetPort,
    # The module to import; by default an installed SockPS, else this repository's build.
    [string] $ModulePath
)

$ErrorActionPreference = 'Stop'
if ($ModulePath) { Import-Module $ModulePath }
elseif (Get-Module -ListAvailable -Name SockPS) { Import-Module SockPS }
else { Import-Module (Join-Path $PSScriptRoot '../out/SockPS/SockPS.psd1') }

$relay = Start-SocketRelay -ListenPort $Port -ListenAddress $Address -ComputerName $TargetHost -Port $TargetPort
"Listening on $($relay.LocalEndPoint), forwarding to $($relay.Target)"
try {
    $shown = ''
    while ($true) {
        # The relay counts as it goes: clients now and in all, bytes each way, failures.
        $status = "$($relay.ActiveClients) active, $($relay.ClientCount) in all, $($relay.BytesToTarget) bytes up, " +
            "$($relay.BytesFromTarget) down, $($relay.ErrorCount) failed $($relay.LastError)"
        if ($status -ne $shown) { $status; $shown = $status }
        Start-Sleep -Seconds 1
    }
}
finally {
    Stop-SocketRelay -Relay $relay
}
