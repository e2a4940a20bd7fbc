<#
.SYNOPSIS
    The example scenario behind `./build.ps1 -Task Demo`: the tutorial's server and client as two
    processes, then the same conversation step by step as objects in one session.
#>
param(
    # The built module (out/SockPS); build.ps1 passes it.
    [string] $ModulePath = (Join-Path $PSScriptRoot '../out/SockPS/SockPS.psd1')
)

Set-StrictMode -Version Latest
$ModulePath = (Resolve-Path -LiteralPath $ModulePath).Path
$ErrorActionPreference = 'Stop'

function Start-Pwsh {
    # A fresh pwsh like this one: `dotnet pwsh.dll` when running as a .NET tool, else this executable.
    param([string[]] $ArgumentList)
    $startInfo = [System.Diagnostics.ProcessStartInfo]::new([Environment]::ProcessPath)
    $dll = Join-Path $PSHOME 'pwsh.dll'
    if ((Split-Path -Leaf ([Environment]::ProcessPath)) -match '^dotnet(\.exe)?$' -and (Test-Path $dll)) {
        $startInfo.ArgumentList.Add($dll)
    }
    foreach ($argument in @('-NoProfile', '-NonInteractive') + $ArgumentList) { $startInfo.ArgumentList.Add($argument) }
    $startInfo.RedirectStandardOutput = $true
    $startInfo.UseShellExecute = $false
    [System.Diagnostics.Process]::Start($startInfo)
}

function Read-Line {
    # One line of a child's output, waiting at most 30 seconds.
    param([System.Diagnostics.Process] $Process)
    $read = $Process.StandardOutput.ReadLineAsync()
    if (-not $read.Wait([timespan]::FromSeconds(30))) { throw "No output from process $($Process.Id) within 30 seconds." }
    $read.Result
}

Write-Host "== 1. The tutorial's pair as two processes: examples/server.ps1 and examples/client.ps1"
$server = Start-Pwsh -ArgumentList @('-File', (Join-Path $PSScriptRoot 'server.ps1'), '-Port', '0', '-MaxClients', '2', '-ModulePath', $ModulePath)
try {
    $listening = Read-Line $server
    Write-Host "[server] $listening"
    if ($listening -notmatch ':(\d+)$') { throw "The server did not say where it listens: $listening" }
    $port = $Matches[1]

    foreach ($round in 1, 2) {
        $client = Start-Pwsh -ArgumentList @('-File', (Join-Path $PSScriptRoot 'client.ps1'), '-Port', $port, '-ModulePath', $ModulePath)
        if (-not $client.WaitForExit(60000)) { $client.Kill(); throw 'The client did not finish within 60 seconds.' }
        Write-Host "[server] $(Read-Line $server)"
        foreach ($line in $client.StandardOutput.ReadToEnd() -split "`r?`n" | Where-Object { $_ }) { Write-Host "[client $round] $line" }
        if ($client.ExitCode -ne 0) { throw "The client exited with $($client.ExitCode)." }
    }
    if (-not $server.WaitForExit(30000)) { throw 'The server did not exit after its two clients.' }
    if ($server.ExitCode -ne 0) { throw "The server exited with $($server.ExitCode)." }
}
finally {
    if (-not $server.HasExited) { $server.Kill($true) }
}

Write-Host ''
Write-Host '== 2. The same steps in one session, every step an object'
Import-Module $ModulePath

Write-Host '> $server = Start-SocketServer -Name demo        # bind 127.0.0.1, port 0 = any free port'
$demoServer = Start-SocketServer -Name demo
$demoServer | Format-Table | Out-Host

Write-Host '> $client = Connect-Socket -ComputerName localhost -Port $server.Port -Name client'
$client = Connect-Socket -ComputerName localhost -Port $demoServer.Port -Name client
Write-Host '> $accepted = Wait-SocketConnection -Server $server'
$accepted = Wait-SocketConnection -Server $demoServer -TimeoutSeconds 10

Write-Host "> Send-SocketData -Connection `$client -InputObject 'HELO from PowerShell' -Line"
Send-SocketData -Connection $client -InputObject 'HELO from PowerShell' -Line
Write-Host '> Receive-SocketData -Connection $accepted -Line'
Receive-SocketData -Connection $accepted -Line | Out-Host

Write-Host "> 'Thank you', 'for connecting' | Send-SocketData -Connection `$accepted -Line"
'Thank you', 'for connecting' | Send-SocketData -Connection $accepted -Line
Write-Host '> Receive-SocketData -Connection $client -Line -Continuous | Select-Object -First 2'
Receive-SocketData -Connection $client -Line -Continuous | Select-Object -First 2 | Out-Host

Write-Host '> Get-SocketConnection'
Get-SocketConnection | Format-Table | Out-Host

Write-Host '> Disconnect-Socket -Connection $client; Receive-SocketData -Connection $accepted -ToEnd; $accepted.State'
Disconnect-Socket -Connection $client
$rest = Receive-SocketData -Connection $accepted -ToEnd
Write-Host "(rest of stream: '$rest')"
$accepted.State | Out-Host

Write-Host '> Receive-SocketData -Connection $client    # a closed connection is a clear error'
Receive-SocketData -Connection $client -ErrorAction SilentlyContinue -ErrorVariable failure
Write-Host "$($failure[0].FullyQualifiedErrorId): $($failure[0])"

Get-SocketConnection | Disconnect-Socket
Stop-SocketServer -Server $demoServer
Write-Host ''
Write-Host 'Demo finished.'
