#Requires -Version 7.4
<#
.SYNOPSIS
    The SockPS side of the idle-connections case of bench/Invoke-Benchmark.ps1: a server that
    accepts -Count connections and holds them, in a process of its own so its memory is measured
    alone.
.DESCRIPTION
    Speaks the same protocol as the C# idle-server in bench/Baselines: prints "port <n>" once it
    listens, accepts -Count connections with $server.Accept() (timed from the first accept to the
    last), then prints one line

        result count=<n> seconds=<s> bytesPerConnection=<b>

    where bytesPerConnection is the growth of the process's resident memory (VmRSS, after two full
    collections) from just before the first accept to just after the last, divided by -Count. It
    then holds every connection until its standard input closes.
#>
[CmdletBinding()]
param(
    [Parameter(Mandatory)]
    [string] $ModulePath,

    [Parameter(Mandatory)]
    [ValidateRange(1, 1000000)]
    [int] $Count,

    [ValidateRange(1, 65535)]
    [int] $Backlog = 4096,

    # How long one Accept() may wait; a client that never comes fails the run instead of hanging it.
    [ValidateRange(1, 3600)]
    [double] $AcceptTimeoutSeconds = 120
)

Set-StrictMode -Version Latest
$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'

Import-Module -Name $ModulePath

function Get-ResidentBytes {
    # Resident memory after a full collection, as the C# idle-server measures it.
    [GC]::Collect()
    [GC]::WaitForPendingFinalizers()
    [GC]::Collect()
    foreach ($line in [System.IO.File]::ReadLines('/proc/self/status')) {
        if ($line.StartsWith('VmRSS:', [StringComparison]::Ordinal)) {
            return [long]($line -split '\s+')[1] * 1024
        }
    }
    return [Environment]::WorkingSet
}

$server = Start-SocketServer -Port 0 -Address 127.0.0.1 -Backlog $Backlog
$held = [System.Collections.Generic.List[object]]::new($Count)
$timeout = [timespan]::FromSeconds($AcceptTimeoutSeconds)

$before = Get-ResidentBytes
[Console]::Out.WriteLine("port $($server.Port)")
[Console]::Out.Flush()

$held.Add($server.Accept($timeout))
$watch = [System.Diagnostics.Stopwatch]::StartNew()
for ($i = 1; $i -lt $Count; $i++) {
    $held.Add($server.Accept($timeout))
}
$seconds = $watch.Elapsed.TotalSeconds
$after = Get-ResidentBytes

$perConnection = [long][Math]::Round(($after - $before) / $Count)
[Console]::Out.WriteLine([string]::Format([cultureinfo]::InvariantCulture,
        'result count={0} seconds={1:0.000000} bytesPerConnection={2}', $Count, $seconds, $perConnection))
[Console]::Out.Flush()

# Hold every connection until the benchmark closes our standard input.
$null = [Console]::In.ReadToEnd()
[GC]::KeepAlive($held)
$server.Stop()
