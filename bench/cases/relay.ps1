#Requires -Version 7.4
<#
.SYNOPSIS
    Case e, relay: the bulk case's -BulkSize source through a port forward.
.DESCRIPTION
    The C# bulk-send client, the forwarder, the C# bulk-recv target (1 MiB buffers at both ends,
    so only the forwarder differs): Start-SocketRelay, `socat -b65536 TCP-LISTEN TCP`, and no
    forwarder at all. Run by bench/Invoke-Benchmark.ps1.
#>
[CmdletBinding()]
param(
    [Parameter(Mandatory)]
    [long] $BulkSize
)

Set-StrictMode -Version Latest
$ErrorActionPreference = 'Stop'

$size = $BulkSize
Register-BenchCase -Name relay -Title "e. Relay: $(Format-BenchSize $size) through a port forward to /dev/null"
$targetSocat = Add-BenchTarget -Case relay -Name 'Relay: SockPS vs socat -b65536' -Goal 0.8 -Issue 6

$timeout = [timespan]::FromSeconds([Math]::Max(60, $size / 20MB))
$source = Get-BenchBulkSource -Size $size
$socat = Get-BenchTool socat

function ConvertTo-GBps([double] $Seconds) { $size / $Seconds / 1e9 }

function Measure-RelayBulk {
    # bulk-send -> forwarder -> bulk-recv: -StartForwarder gets the target port and returns
    # @{ Port; Relay; Process } (the port clients connect to, and the SockPS relay or the child
    # process to stop afterwards), or $null for no forwarder. Returns the receiver's own time
    # from accept to end.
    param([AllowNull()] [scriptblock] $StartForwarder)

    $receiver = $null
    $sender = $null
    $forwarder = $null
    try {
        $receiver = Start-BenchBaseline -ArgumentList @('bulk-recv', '/dev/null', [string]1MB)
        $port = Read-BenchPort -Process $receiver
        $clientPort = $port
        if ($StartForwarder) {
            $forwarder = & $StartForwarder $port
            $clientPort = $forwarder.Port
        }
        $sender = Start-BenchBaseline -ArgumentList @('bulk-send', [string]$clientPort, $source, [string]1MB)
        $result = Read-BenchResult -Process $receiver -Timeout $timeout
        $null = Wait-TestProcessExit -Process $sender -TimeoutSeconds $timeout.TotalSeconds -ExpectedExitCode 0
        $null = Wait-TestProcessExit -Process $receiver -TimeoutSeconds 30 -ExpectedExitCode 0
        if ([long]$result.bytes -ne $size) {
            throw "bulk-recv got $($result.bytes) bytes of $size."
        }
        if ($forwarder -and $forwarder.Relay -and $forwarder.Relay.BytesToTarget -ne $size) {
            throw "The relay counted $($forwarder.Relay.BytesToTarget) bytes to the target, not $size."
        }
        $result.seconds
    }
    finally {
        Stop-TestProcess -Process $sender, $receiver
        if ($forwarder -and $forwarder.Relay) { $forwarder.Relay.Stop() }
        if ($forwarder -and $forwarder.Process) { Stop-TestProcess -Process $forwarder.Process }
    }
}

$rowSockPS = New-BenchRow -Case relay -Name 'SockPS: Start-SocketRelay' -Unit 'GB/s' -Format 'N2'
$rowSocat = New-BenchRow -Case relay -Name 'socat -b65536 TCP-LISTEN TCP' -Unit 'GB/s' -Format 'N2' -Status $(if ($socat) { 'ok' } else { 'not installed' })
$rowDirect = New-BenchRow -Case relay -Name 'direct: no forwarder (bulk-send -> bulk-recv)' -Unit 'GB/s' -Format 'N2'

$startSockPS = {
    param([int] $TargetPort)
    $relay = Start-SocketRelay -ComputerName 127.0.0.1 -Port $TargetPort -ListenAddress 127.0.0.1
    [pscustomobject]@{ Port = $relay.Port; Relay = $relay; Process = $null }
}
$startSocat = {
    param([int] $TargetPort)
    # -d -d reports the port the OS picked; without fork socat serves one client and exits.
    $process = Start-BenchProcess -FilePath $socat -ArgumentList @('-d', '-d', '-b65536', 'TCP-LISTEN:0,bind=127.0.0.1,reuseaddr', "TCP:127.0.0.1:$TargetPort")
    $port = Read-BenchPort -Process $process -Stream Error -Pattern 'listening on .*:(\d+)\s*$' -TimeoutSeconds 15
    [pscustomobject]@{ Port = $port; Relay = $null; Process = $process }
}

$contenders = @(
    @{ Rows = $rowSockPS; Run = { ConvertTo-GBps (Measure-RelayBulk -StartForwarder $startSockPS) } }
    @{ Rows = $rowSocat; Run = { ConvertTo-GBps (Measure-RelayBulk -StartForwarder $startSocat) } }
    @{ Rows = $rowDirect; Run = { ConvertTo-GBps (Measure-RelayBulk -StartForwarder $null) } }
)
Invoke-BenchRounds -CaseName relay -Contenders $contenders

$sockps = Get-BenchRowMedian $rowSockPS
$targetSocat.Value = Add-BenchRatio -Case relay -Label 'SockPS relay vs socat -b65536' -Numerator $sockps -Denominator (Get-BenchRowMedian $rowSocat)
$null = Add-BenchRatio -Case relay -Label 'SockPS relay vs no forwarder' -Numerator $sockps -Denominator (Get-BenchRowMedian $rowDirect)
$null = Add-BenchRatio -Case relay -Label 'socat -b65536 vs no forwarder' -Numerator (Get-BenchRowMedian $rowSocat) -Denominator (Get-BenchRowMedian $rowDirect)
Add-BenchNote -Case relay -Text ("The same source as the bulk case; the C# bulk-send client and bulk-recv target (1 MiB buffers) at both ends of every contender, " +
    'so only the forwarder differs. Timed by the receiver, from accept to end. SockPS: Start-SocketRelay in this process (its count of bytes to the target is checked); ' +
    'socat: `socat -b65536 TCP-LISTEN:0,bind=127.0.0.1,reuseaddr TCP:127.0.0.1:<target>`, one client, then it exits.')
