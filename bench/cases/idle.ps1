#Requires -Version 7.4
<#
.SYNOPSIS
    Case c, idle connections: -IdleConnections connections held by a SockPS server and by a
    minimal C# server; accept rate and resident memory per connection.
.DESCRIPTION
    Each server runs in its own process (SockPS: bench/IdleServer.ps1 in a fresh pwsh; C#:
    bench/Baselines idle-server, a zero-byte read per connection); the clients come from the C#
    idle-client in another process. Run by bench/Invoke-Benchmark.ps1.
#>
[CmdletBinding()]
param(
    [Parameter(Mandatory)]
    [int[]] $IdleConnections
)

Set-StrictMode -Version Latest
$ErrorActionPreference = 'Stop'

$counts = @($IdleConnections | Sort-Object -Unique)
$largest = Format-BenchCount $counts[-1]
Register-BenchCase -Name idle -Title "c. Idle connections: $(($counts | ForEach-Object { Format-BenchCount $_ }) -join ' and ') held open"
# The targets are for 10,000 connections; with other counts the largest stands in (and says so).
$targetMemory = Add-BenchTarget -Case idle -Name "Idle: server memory, $largest connections" -Goal 3.0 -Kind AtMostKiB -Issue 11
$targetAccept = Add-BenchTarget -Case idle -Name "Idle: SockPS accept rate vs C#, $largest connections" -Goal 0.7 -Issue 5

$context = Get-BenchContext
$pwsh = Get-PwshCommand
$idleScript = Join-Path -Path $context.RepoRoot -ChildPath 'bench/IdleServer.ps1'

function Measure-IdleServer {
    # A server child that prints "port" and one result line; the C# idle-client opens the
    # connections. Returns the accept rate (connections/s) and KiB per connection.
    param(
        [Parameter(Mandatory)] [scriptblock] $StartServer,
        [Parameter(Mandatory)] [int] $Count
    )

    $timeout = [timespan]::FromSeconds(60 + $Count / 100)
    $server = $null
    $clients = $null
    try {
        $server = & $StartServer
        $port = Read-BenchPort -Process $server -TimeoutSeconds 60
        $clients = Start-BenchBaseline -ArgumentList @('idle-client', [string]$port, [string]$Count)
        $result = Read-BenchResult -Process $server -Timeout $timeout
        $null = Read-BenchResult -Process $clients -Timeout $timeout
        if ([int]$result.count -ne $Count) {
            throw "The server reports $($result.count) connections of $Count."
        }
        # The server closes first, so the TIME_WAIT entries sit on its one listening port rather
        # than on thousands of the client's ephemeral ports.
        $server.CloseInput()
        $null = Wait-TestProcessExit -Process $server -TimeoutSeconds 60 -ExpectedExitCode 0
        $clients.CloseInput()
        $null = Wait-TestProcessExit -Process $clients -TimeoutSeconds 60 -ExpectedExitCode 0

        $rate = if ($result.seconds -gt 0) { ($Count - 1) / $result.seconds } else { [double]::NaN }
        $rate, ($result.bytesPerConnection / 1KB)
    }
    finally {
        Stop-TestProcess -Process $clients, $server
    }
}

foreach ($count in $counts) {
    $label = Format-BenchCount $count
    $rowRate = New-BenchRow -Case idle -Name "SockPS Start-SocketServer + `$server.Accept(), $label connections" -Unit 'accepts/s'
    $rowMemory = New-BenchRow -Case idle -Name "SockPS Start-SocketServer + `$server.Accept(), $label connections" -Unit 'KiB/connection' -Format 'N2'
    $rowCsRate = New-BenchRow -Case idle -Name "C# idle-server (zero-byte reads), $label connections" -Unit 'accepts/s'
    $rowCsMemory = New-BenchRow -Case idle -Name "C# idle-server (zero-byte reads), $label connections" -Unit 'KiB/connection' -Format 'N2'

    $contenders = @(
        @{ Rows = @($rowRate, $rowMemory); Run = {
                Measure-IdleServer -Count $count -StartServer {
                    Start-BenchProcess -FilePath $pwsh.FilePath -ArgumentList (@($pwsh.Arguments) + @('-NoProfile', '-NonInteractive', '-File', $idleScript,
                            '-ModulePath', $context.ModuleManifest, '-Count', [string]$count, '-Backlog', '4096'))
                }
            }
        }
        @{ Rows = @($rowCsRate, $rowCsMemory); Run = {
                Measure-IdleServer -Count $count -StartServer { Start-BenchBaseline -ArgumentList @('idle-server', [string]$count) }
            }
        }
    )
    Invoke-BenchRounds -CaseName "idle $label" -Contenders $contenders

    $ratio = Add-BenchRatio -Case idle -Label "SockPS accept rate vs C#, $label connections" -Numerator (Get-BenchRowMedian $rowRate) -Denominator (Get-BenchRowMedian $rowCsRate)
    $memory = Get-BenchRowMedian $rowMemory
    $null = Add-BenchRatio -Case idle -Label "SockPS KiB per connection, $label connections (C#: $(Format-BenchValue (Get-BenchRowMedian $rowCsMemory) 'N2'))" -Numerator $memory -Unit 'KiB'
    # Sorted ascending, so the last count sets the targets.
    $targetAccept.Value = $ratio
    $targetMemory.Value = $memory
}
Add-BenchNote -Case idle -Text ("Each server runs in its own process (SockPS: bench/IdleServer.ps1 in a fresh pwsh; C#: bench/Baselines idle-server) with a backlog of 4096; " +
    'the clients come from the C# idle-client (256 connects in flight) in another process. Accept rate: connections after the first, over the time from the first accept to the last. ' +
    'Memory: growth of the server''s VmRSS after full collections, from before the first accept to after the last, per connection.')
