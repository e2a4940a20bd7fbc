#Requires -Version 7.4
<#
.SYNOPSIS
    Measures SockPS side by side with what a skilled user would otherwise use, on loopback, and
    prints min/median/max per contender, the ratios of the medians and every target, met or
    missed.
.DESCRIPTION
    Seven cases (-Case selects them), one file each in bench/cases, over the shared harness
    bench/BenchHarness.psm1. Each contender is measured -Repeat times, round-robin, so a slow
    moment of the machine spreads over every contender instead of hitting one.

    bulk     -BulkSize bytes (1 GiB) of random data from /dev/shm to /dev/null: SockPS
             (Send-SocketData -Path to Receive-SocketData -OutFile in a second runspace), C#
             NetworkStream copies (64 KiB, 1 MiB), a pwsh TcpClient loop, socat, ncat, iperf3.
    rr       -RoundTrips 64-byte round trips. The echo peer is chosen first: every candidate (C#
             with a blocking thread per connection, C# async, python3, socat) is measured with the
             C# client and the fastest serves every contender (the SockPS cmdlets, the
             connection's methods, a raw pwsh NetworkStream loop, a C# client); microseconds
             per round trip and what SockPS adds to the raw loop.
    idle     -IdleConnections connections held by a SockPS server (bench/IdleServer.ps1 in its
             own pwsh) and a minimal C# server: accept rate and resident memory per connection.
    udp      -Datagrams 512-byte datagrams (`$payloads | Send-SocketData`) and -UdpArrays distinct
             byte arrays piped from a variable, each against a raw UdpClient loop, into the
             fastest of the candidate sinks (measured with the C# sender).
    relay    the bulk source through a port forward: Start-SocketRelay, socat, no forwarder.
    handler  -HandlerClients concurrent C# clients x -HandlerRoundTrips round trips against a
             Start-SocketServer -ScriptBlock echo handler and the C# echo servers.
    portscan -PortChecks TCP port checks: Test-SocketPort, pwsh loops, ncat -z.

    The C# baselines (bench/Baselines) are built first into out/bench-baselines. socat, ncat,
    iperf3 and python3 are used where installed. Every child process has a bounded wait and is
    killed when it outlives it (the watcher of the test suite, tests/shared/TestProcess.cs). The
    report goes to the console and, as Markdown, to -ResultPath.

    Exit code 0 when every contender that could run did (missed targets are reported, not
    failures); 1 when a contender or a correctness check failed.
.EXAMPLE
    dotnet pwsh -NoProfile -File bench/Invoke-Benchmark.ps1 -Quick
.EXAMPLE
    ./bench/Invoke-Benchmark.ps1 -Case bulk,rr -Repeat 5 -ModulePath /tmp/mod/SockPS
#>
[CmdletBinding()]
param(
    # The SockPS module to measure: a module folder or its .psd1.
    [string] $ModulePath = (Join-Path -Path $PSScriptRoot -ChildPath '../out/SockPS'),

    [ValidateSet('bulk', 'rr', 'idle', 'udp', 'relay', 'handler', 'portscan')]
    [string[]] $Case = @('bulk', 'rr', 'idle', 'udp', 'relay', 'handler', 'portscan'),

    # Tiny sizes and one repetition, for the test suite: every path runs, nothing is measured.
    [switch] $Quick,

    [ValidateRange(1, 100)]
    [int] $Repeat = 3,

    [ValidateRange(1, 64GB)]
    [long] $BulkSize = 1GB,

    [ValidateRange(1, 100000000)]
    [int] $RoundTrips = 20000,

    [ValidateRange(1, 15000)]
    [int[]] $IdleConnections = @(1000, 10000),

    [ValidateRange(1, 100000000)]
    [int] $Datagrams = 200000,

    # udp: distinct byte arrays piped from a variable.
    [ValidateRange(1, 10000000)]
    [int] $UdpArrays = 30000,

    # handler: concurrent clients, and round trips per client.
    [ValidateRange(1, 1024)]
    [int] $HandlerClients = 8,

    [ValidateRange(1, 100000000)]
    [int] $HandlerRoundTrips = 5000,

    # portscan: port checks per run (half open, half refused).
    [ValidateRange(2, 100000)]
    [int] $PortChecks = 1000,

    # Where the Markdown report goes.
    [string] $ResultPath = (Join-Path -Path $PSScriptRoot -ChildPath 'results/latest.md')
)

Set-StrictMode -Version Latest
$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'
# Exit codes of native commands are checked by hand.
$PSNativeCommandUseErrorActionPreference = $false
$env:DOTNET_CLI_TELEMETRY_OPTOUT = '1'
$env:DOTNET_NOLOGO = '1'
$env:DOTNET_SKIP_FIRST_TIME_EXPERIENCE = '1'

if ($Quick) {
    # Quick sizes, unless a size was given explicitly.
    if (-not $PSBoundParameters.ContainsKey('Repeat')) { $Repeat = 1 }
    if (-not $PSBoundParameters.ContainsKey('BulkSize')) { $BulkSize = 8MB }
    if (-not $PSBoundParameters.ContainsKey('RoundTrips')) { $RoundTrips = 200 }
    if (-not $PSBoundParameters.ContainsKey('IdleConnections')) { $IdleConnections = @(100) }
    if (-not $PSBoundParameters.ContainsKey('Datagrams')) { $Datagrams = 2000 }
    if (-not $PSBoundParameters.ContainsKey('UdpArrays')) { $UdpArrays = 300 }
    if (-not $PSBoundParameters.ContainsKey('HandlerClients')) { $HandlerClients = 2 }
    if (-not $PSBoundParameters.ContainsKey('HandlerRoundTrips')) { $HandlerRoundTrips = 100 }
    if (-not $PSBoundParameters.ContainsKey('PortChecks')) { $PortChecks = 40 }
}

# Every case in report order, with the parameters its file takes.
$caseParameters = [ordered]@{
    bulk     = @{ BulkSize = $BulkSize }
    rr       = @{ RoundTrips = $RoundTrips }
    idle     = @{ IdleConnections = [int[]]@($IdleConnections | Sort-Object -Unique) }
    udp      = @{ Datagrams = $Datagrams; UdpArrays = $UdpArrays }
    relay    = @{ BulkSize = $BulkSize }
    handler  = @{ HandlerClients = $HandlerClients; HandlerRoundTrips = $HandlerRoundTrips }
    portscan = @{ PortChecks = $PortChecks }
}

$repoRoot = Split-Path -Path $PSScriptRoot -Parent
# The test helpers first: the harness imports the same instance (child processes, one list).
Import-Module (Join-Path -Path $repoRoot -ChildPath 'tests/pester/SockPS.TestHelpers.psm1')
Import-Module (Join-Path -Path $PSScriptRoot -ChildPath 'BenchHarness.psm1') -Force

$exitCode = 0
try {
    # The module: a folder or a manifest, resolved now so a relative path survives the runspaces
    # and child processes.
    if (-not (Test-Path -LiteralPath $ModulePath)) {
        throw "There is no SockPS module at $ModulePath; build it first (dotnet pwsh ./build.ps1 -Task Build)."
    }
    $resolved = (Resolve-Path -LiteralPath $ModulePath).ProviderPath
    $manifest = if (Test-Path -LiteralPath $resolved -PathType Container) { Join-Path -Path $resolved -ChildPath 'SockPS.psd1' } else { $resolved }
    if (-not (Test-Path -LiteralPath $manifest)) {
        throw "$manifest does not exist; -ModulePath must be the SockPS module folder or its .psd1."
    }
    Import-Module -Name $manifest -Force
    if (-not [System.IO.Path]::IsPathRooted($ResultPath)) {
        $ResultPath = Join-Path -Path (Get-Location -PSProvider FileSystem).ProviderPath -ChildPath $ResultPath
    }

    Initialize-Bench -RepoRoot $repoRoot -ModuleManifest $manifest -Repeat $Repeat -Quick:$Quick -Case $Case -AllCases @($caseParameters.Keys)

    foreach ($name in $caseParameters.Keys) {
        if ($name -notin $Case) {
            continue
        }
        $caseClock = [System.Diagnostics.Stopwatch]::StartNew()
        $caseLoad = Get-BenchLoadAverage
        $caseParameter = $caseParameters[$name]
        try {
            & (Join-Path -Path $PSScriptRoot -ChildPath "cases/$name.ps1") @caseParameter
        }
        catch {
            Add-BenchFailure -Text "$name (the case stopped): $_`n$($_.ScriptStackTrace)"
            Write-Host "== $name stopped: $_"
        }
        finally {
            # Whatever a failed run left behind.
            Stop-TestProcess -All
            Add-BenchNote -Case $name -Text "This case took $([Math]::Round($caseClock.Elapsed.TotalSeconds)) s; the 1-minute load average was $caseLoad at its start."
        }
    }
    Get-SocketRelay | Stop-SocketRelay -ErrorAction SilentlyContinue
    Get-SocketConnection | Disconnect-Socket -ErrorAction SilentlyContinue
    Get-SocketServer | Stop-SocketServer -ErrorAction SilentlyContinue

    $report = @(Get-BenchReport)
    Write-Host ''
    $report | ForEach-Object { Write-Host $_ }

    $resultDirectory = Split-Path -Path $ResultPath -Parent
    if ($resultDirectory -and -not (Test-Path -LiteralPath $resultDirectory)) {
        $null = New-Item -ItemType Directory -Path $resultDirectory
    }
    Set-Content -LiteralPath $ResultPath -Value $report -Encoding utf8NoBOM
    Write-Host ''
    Write-Host "Wrote $ResultPath ($([Math]::Round((Get-BenchContext).Clock.Elapsed.TotalSeconds)) s)."

    $failures = (Get-BenchContext).Failures.Count
    if ($failures -gt 0) {
        Write-Host "$failures failure(s); see the Failures section."
        $exitCode = 1
    }
}
catch {
    Write-Host "The benchmark failed: $_`n$($_.ScriptStackTrace)"
    $exitCode = 1
}
finally {
    Complete-Bench
}
exit $exitCode
