#Requires -Version 7.4
<#
.SYNOPSIS
    Case f, handler server: -HandlerClients concurrent C# clients, -HandlerRoundTrips 64-byte
    round trips each, against a Start-SocketServer -ScriptBlock echo handler and the C# echo
    servers (async and a thread per connection). Informational: no target.
.DESCRIPTION
    Run by bench/Invoke-Benchmark.ps1.
#>
[CmdletBinding()]
param(
    [Parameter(Mandatory)]
    [int] $HandlerClients,

    [Parameter(Mandatory)]
    [int] $HandlerRoundTrips
)

Set-StrictMode -Version Latest
$ErrorActionPreference = 'Stop'

Register-BenchCase -Name handler -Title "f. Handler server: $HandlerClients concurrent clients x $(Format-BenchCount $HandlerRoundTrips) round trips of 64 bytes"
$total = [long]$HandlerClients * $HandlerRoundTrips
$timeout = [timespan]::FromSeconds([Math]::Max(60, $total / 500))

function Measure-HandlerClients([int] $Port) {
    # rr-clients against -Port; the total round trips per second. rr-clients makes one untimed
    # round trip per client first, so every connection (and a handler server's runspace for it)
    # is going before the clock starts.
    $clients = Start-BenchBaseline -ArgumentList @('rr-clients', [string]$Port, [string]$HandlerClients, [string]$HandlerRoundTrips, '64')
    try {
        $result = Read-BenchResult -Process $clients -Timeout $timeout
        $null = Wait-TestProcessExit -Process $clients -TimeoutSeconds 30 -ExpectedExitCode 0
        if ([long]$result.count -ne $total) {
            throw "rr-clients reports $($result.count) round trips, not $total."
        }
    }
    finally {
        Stop-TestProcess -Process $clients
    }
    $result.count / $result.seconds
}

$server = $null
$echoServers = @()
try {
    # What a user writes: one block per client, the connection's methods in a loop.
    $server = Start-SocketServer -Port 0 -Address 127.0.0.1 -NoDelay -ReceiveTimeoutSeconds 0 -ThrottleLimit $HandlerClients -ScriptBlock {
        param($Connection)
        while ($null -ne ($bytes = $Connection.ReceiveAvailableBytes())) {
            $Connection.Send($bytes)
        }
    }
    foreach ($mode in 'echo-server', 'echo-server-threads') {
        $process = Start-BenchBaseline -ArgumentList @($mode)
        $echoServers += [pscustomobject]@{ Mode = $mode; Process = $process; Port = (Read-BenchPort -Process $process) }
    }

    $rowSockPS = New-BenchRow -Case handler -Name 'SockPS: Start-SocketServer -ScriptBlock echo handler' -Unit 'round trips/s'
    $rowCs = New-BenchRow -Case handler -Name 'C# echo-server (async, a task per connection)' -Unit 'round trips/s'
    $rowCsThreads = New-BenchRow -Case handler -Name 'C# echo-server-threads (a blocking thread per connection)' -Unit 'round trips/s'

    $contenders = @(
        @{ Rows = $rowSockPS; Run = { Measure-HandlerClients -Port $server.Port } }
        @{ Rows = $rowCs; Run = { Measure-HandlerClients -Port $echoServers[0].Port } }
        @{ Rows = $rowCsThreads; Run = { Measure-HandlerClients -Port $echoServers[1].Port } }
    )
    Invoke-BenchRounds -CaseName handler -Contenders $contenders

    # Handler errors are lost unless asked for; any here would make the numbers meaningless.
    $handlerErrors = @(Receive-SocketServerOutput -Server $server 2>&1 | Where-Object { $_ -is [System.Management.Automation.ErrorRecord] })
    if ($handlerErrors.Count -gt 0) {
        throw "The SockPS handlers wrote $($handlerErrors.Count) error(s), the first: $($handlerErrors[0])"
    }
}
finally {
    if ($server) { $server.Stop() }
    foreach ($echo in $echoServers) {
        Stop-BenchPeer -Process $echo.Process
    }
}

$fastest = Select-BenchFastest -Candidates @(@{ Row = $rowCs }, @{ Row = $rowCsThreads })
$fastestRow = if ($fastest) { $fastest.Row } else { $null }
$fastestName = if ($fastestRow) { $fastestRow.Name } else { 'C#' }
$null = Add-BenchRatio -Case handler -Label "SockPS handler server vs the faster C# server, $fastestName (informational, no target)" -Numerator (Get-BenchRowMedian $rowSockPS) -Denominator (Get-BenchRowMedian $fastestRow)
Add-BenchNote -Case handler -Text ("$HandlerClients C# clients at once (bench/Baselines rr-clients, one thread each, NoDelay), each sending a 64-byte request and " +
    "reading the 64-byte echo, $(Format-BenchCount $HandlerRoundTrips) times; total round trips over the time from a common start to the last client's end. " +
    "SockPS: Start-SocketServer -ScriptBlock in this process (-ThrottleLimit $HandlerClients, -NoDelay), the handler looping on " +
    '$Connection.ReceiveAvailableBytes() and $Connection.Send(); C#: bench/Baselines echo-server (async) and echo-server-threads. ' +
    'Every client makes one untimed round trip first, so the handlers are running before the clock starts.')
