#Requires -Version 7.4
<#
.SYNOPSIS
    Case g, port scan: -PortChecks TCP port checks of 127.0.0.1, half to listening ports (Open),
    half to ports bound but not listening (Refused), shuffled.
.DESCRIPTION
    Test-SocketPort, a naive pwsh loop (one TcpClient.ConnectAsync at a time, with a timeout),
    pwsh starting every ConnectAsync at once, and a sh loop running `ncat -z` per port (the
    first 100 only: ncat takes 0.1 s to start). Each contender's count of open ports is
    checked. Informational: no target (issue 7 asks for 1,000 checks "in seconds"). Run by
    bench/Invoke-Benchmark.ps1.
#>
[CmdletBinding()]
param(
    [Parameter(Mandatory)]
    [int] $PortChecks
)

Set-StrictMode -Version Latest
$ErrorActionPreference = 'Stop'

$count = $PortChecks
Register-BenchCase -Name portscan -Title "g. Port scan: $(Format-BenchCount $count) TCP port checks on loopback"
$timeout = [timespan]::FromSeconds([Math]::Max(120, $count / 10))
$ncat = Get-BenchTool ncat
$sh = Get-BenchTool sh

function Assert-OpenCount([string] $Who, [int] $Open, [int] $Checks, [int] $Expected) {
    if ($Open -ne $Expected) {
        throw "$Who found $Open open ports in $Checks checks, not $Expected."
    }
}

# Targets whose answer is certain: listeners (the kernel completes the handshake; Clear-Backlog
# accepts and closes what a run left in their queues, untimed) and sockets bound but not
# listening (refused; bound, so no other program can take the port meanwhile).
$perKind = [Math]::Min(100, [Math]::Max(1, [int][Math]::Ceiling($count / 10)))
$sockets = [System.Collections.Generic.List[System.Net.Sockets.Socket]]::new()
try {
    $openPorts = [System.Collections.Generic.List[int]]::new()
    $closedPorts = [System.Collections.Generic.List[int]]::new()
    $listeners = [System.Collections.Generic.List[System.Net.Sockets.Socket]]::new()
    for ($i = 0; $i -lt $perKind; $i++) {
        foreach ($listening in $true, $false) {
            $socket = [System.Net.Sockets.Socket]::new('InterNetwork', 'Stream', 'Tcp')
            $sockets.Add($socket)
            $socket.Bind([System.Net.IPEndPoint]::new([System.Net.IPAddress]::Loopback, 0))
            if ($listening) {
                $socket.Listen(4096)
                $listeners.Add($socket)
                $openPorts.Add($socket.LocalEndPoint.Port)
            }
            else {
                $closedPorts.Add($socket.LocalEndPoint.Port)
            }
        }
    }
    $ports = [int[]]::new($count)
    for ($i = 0; $i -lt $count; $i++) {
        $slot = [int][Math]::Floor($i / 2) % $perKind
        $ports[$i] = if ($i % 2 -eq 0) { $openPorts[$slot] } else { $closedPorts[$slot] }
    }
    $ports = [int[]]($ports | Get-Random -Shuffle -SetSeed 7)
    $expectedOpen = [int][Math]::Ceiling($count / 2)
    function Clear-Backlog {
        foreach ($listener in $listeners) {
            while ($listener.Poll(0, [System.Net.Sockets.SelectMode]::SelectRead)) { $listener.Accept().Dispose() }
        }
    }
    # ncat takes about a tenth of a second per run (its own start-up), so it checks the first
    # 100 ports of the list; its rate is per check all the same.
    $ncatPorts = [int[]]@($ports | Select-Object -First 100)
    $ncatOpen = @($ncatPorts | Where-Object { $openPorts.Contains($_) }).Count

    $rowSockPS = New-BenchRow -Case portscan -Name 'SockPS: Test-SocketPort -Port $ports (-ThrottleLimit 100)' -Unit 'checks/s'
    $rowAtOnce = New-BenchRow -Case portscan -Name 'pwsh raw: every TcpClient.ConnectAsync at once, one WaitAll' -Unit 'checks/s'
    $rowLoop = New-BenchRow -Case portscan -Name 'pwsh raw: TcpClient.ConnectAsync + Wait(1000), one at a time' -Unit 'checks/s'
    $rowNcat = New-BenchRow -Case portscan -Name 'ncat -z -w 1, one process per check (sh loop; the first 100 checks)' -Unit 'checks/s' -Status $(if ($ncat -and $sh) { 'ok' } else { 'not installed' })
    $sockpsSeconds = [System.Collections.Generic.List[double]]::new()

    $contenders = @(
        @{ Rows = $rowSockPS; Run = {
                Clear-Backlog
                $watch = [System.Diagnostics.Stopwatch]::StartNew()
                $results = Test-SocketPort -ComputerName 127.0.0.1 -Port $ports -TimeoutSeconds 5
                $watch.Stop()
                Assert-OpenCount 'Test-SocketPort' @($results | Where-Object Status -EQ 'Open').Count $count $expectedOpen
                if (@($results).Count -ne $count) {
                    throw "Test-SocketPort returned $(@($results).Count) results for $count checks."
                }
                $sockpsSeconds.Add($watch.Elapsed.TotalSeconds)
                $count / $watch.Elapsed.TotalSeconds
            }
        }
        @{ Rows = $rowAtOnce; Run = {
                Clear-Backlog
                $loopback = [System.Net.IPAddress]::Loopback
                $watch = [System.Diagnostics.Stopwatch]::StartNew()
                $clients = [System.Net.Sockets.TcpClient[]]::new($count)
                $tasks = [System.Threading.Tasks.Task[]]::new($count)
                try {
                    for ($i = 0; $i -lt $count; $i++) {
                        $clients[$i] = [System.Net.Sockets.TcpClient]::new()
                        $tasks[$i] = $clients[$i].ConnectAsync($loopback, $ports[$i])
                    }
                    try { $null = [System.Threading.Tasks.Task]::WaitAll($tasks, 5000) } catch [System.AggregateException] { }
                    $open = 0
                    foreach ($task in $tasks) { if ($task.Status -eq 'RanToCompletion') { $open++ } }
                }
                finally {
                    foreach ($client in $clients) { if ($client) { $client.Dispose() } }
                }
                $watch.Stop()
                Assert-OpenCount 'The all-at-once loop' $open $count $expectedOpen
                $count / $watch.Elapsed.TotalSeconds
            }
        }
        @{ Rows = $rowLoop; Run = {
                Clear-Backlog
                $loopback = [System.Net.IPAddress]::Loopback
                $open = 0
                $watch = [System.Diagnostics.Stopwatch]::StartNew()
                foreach ($port in $ports) {
                    $client = [System.Net.Sockets.TcpClient]::new()
                    try {
                        if ($client.ConnectAsync($loopback, $port).Wait(1000)) { $open++ }
                    }
                    catch [System.AggregateException] {
                        # Refused.
                    }
                    finally {
                        $client.Dispose()
                    }
                }
                $watch.Stop()
                Assert-OpenCount 'The one-at-a-time loop' $open $count $expectedOpen
                $count / $watch.Elapsed.TotalSeconds
            }
        }
        @{ Rows = $rowNcat; Run = {
                Clear-Backlog
                $loop = 'open=0; for p in "$@"; do if ncat -z -w 1 127.0.0.1 "$p" 2>/dev/null; then open=$((open+1)); fi; done; echo "open $open"'
                $watch = [System.Diagnostics.Stopwatch]::StartNew()
                $process = Start-BenchProcess -FilePath $sh -ArgumentList (@('-c', $loop, 'sh') + [string[]]$ncatPorts)
                try {
                    $found = Wait-TestProcessLine -Process $process -Pattern '^open (\d+)$' -TimeoutSeconds $timeout.TotalSeconds
                    $watch.Stop()
                    $null = Wait-TestProcessExit -Process $process -TimeoutSeconds 30 -ExpectedExitCode 0
                }
                finally {
                    Stop-TestProcess -Process $process
                }
                Assert-OpenCount 'The ncat loop' ([int]$found.Groups[1].Value) $ncatPorts.Count $ncatOpen
                $ncatPorts.Count / $watch.Elapsed.TotalSeconds
            }
        }
    )
    Invoke-BenchRounds -CaseName portscan -Contenders $contenders
}
finally {
    foreach ($socket in $sockets) { $socket.Dispose() }
}

$sockps = Get-BenchRowMedian $rowSockPS
$null = Add-BenchRatio -Case portscan -Label 'Test-SocketPort vs the one-at-a-time pwsh loop' -Numerator $sockps -Denominator (Get-BenchRowMedian $rowLoop)
$null = Add-BenchRatio -Case portscan -Label 'Test-SocketPort vs every ConnectAsync at once in pwsh' -Numerator $sockps -Denominator (Get-BenchRowMedian $rowAtOnce)
$null = Add-BenchRatio -Case portscan -Label 'Test-SocketPort vs ncat -z per check' -Numerator $sockps -Denominator (Get-BenchRowMedian $rowNcat)
$seconds = if ($sockpsSeconds.Count -gt 0) { (Get-BenchMedian -Values $sockpsSeconds.ToArray()).ToString('0.000', [cultureinfo]::InvariantCulture) + ' s' } else { 'not measured' }
Add-BenchNote -Case portscan -Text ("$(Format-BenchCount $count) checks of 127.0.0.1: half to $perKind listening ports (Open), half to $perKind ports bound but not listening (Refused), " +
    "shuffled, the same list for every contender; each contender's count of open ports is checked. Test-SocketPort took $seconds for all of them (median), " +
    'results included. ncat checks only the first 100 ports of the list (each run of ncat takes about 0.1 s to start). The all-at-once pwsh loop is what a skilled user writes; it has no throttle, no name lookup, no per-check result and no reason for a failure.')
