#Requires -Version 7.4
<#
.SYNOPSIS
    Case b, request/response: -RoundTrips round trips of 64 bytes, one connection per contender.
.DESCRIPTION
    First the echo peer: each candidate (the C# server with a blocking thread per connection,
    the C# async server, a python3 socket loop, socat) is measured with the C# client, and the
    fastest serves every contender, so the peer is never what limits them (an echo server slower
    than the client hides the very cost this case is meant to show).

    Then, against that peer: the SockPS cmdlets (Send-SocketData + Receive-SocketData -ByteCount
    64), the connection's methods ($c.Send + $c.Receive(64)), a raw pwsh NetworkStream loop, the
    raw loop plus a do-nothing binary cmdlet pair of the same shape (Invoke-BenchNoOp: what
    PowerShell itself costs any such pair, the floor for one), and a C# client. Each in round
    trips/s and microseconds per round trip, and what SockPS adds to the raw loop. Run by
    bench/Invoke-Benchmark.ps1.
#>
[CmdletBinding()]
param(
    [Parameter(Mandatory)]
    [int] $RoundTrips
)

Set-StrictMode -Version Latest
$ErrorActionPreference = 'Stop'

$count = $RoundTrips
Register-BenchCase -Name rr -Title "b. Request/response: $(Format-BenchCount $count) round trips of 64 bytes"
$targetCmdlets = Add-BenchTarget -Case rr -Name 'Request/response: cmdlets vs raw pwsh' -Goal 0.5 -Issue 11
$targetMethods = Add-BenchTarget -Case rr -Name 'Request/response: methods vs raw pwsh' -Goal 0.95 -Issue 11

Import-Module -Assembly (Get-BenchFloorAssembly)

$warmup = [Math]::Min(500, [Math]::Max(10, [int]($count / 10)))
$timeout = [timespan]::FromSeconds([Math]::Max(60, $count / 500))
# The peers are compared with at most 10,000 round trips each: enough to rank them.
$probeCount = [Math]::Min($count, 10000)
$request = [byte[]]::new(64)
[System.Random]::new(64).NextBytes($request)

$python = if (Test-Path -LiteralPath '/usr/bin/python3') { '/usr/bin/python3' } else { Get-BenchTool python3 }
$socat = Get-BenchTool socat
# A thread per connection, TCP_NODELAY, recv/sendall: what a Python user writes. Ends when its
# stdin closes.
$pythonEcho = @'
import os, socket, sys, threading
listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
listener.bind(('127.0.0.1', 0))
listener.listen(64)
print('port', listener.getsockname()[1], flush=True)
def serve(conn):
    conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    with conn:
        try:
            while True:
                data = conn.recv(65536)
                if not data:
                    break
                conn.sendall(data)
        except OSError:
            pass
def watch_stdin():
    sys.stdin.read()
    os._exit(0)
threading.Thread(target=watch_stdin, daemon=True).start()
while True:
    conn, _ = listener.accept()
    threading.Thread(target=serve, args=(conn,), daemon=True).start()
'@

function Measure-RrClient([int] $Port, [int] $Count) {
    # The C# rr-client: round trips/s, by its own clock.
    $client = Start-BenchBaseline -ArgumentList @('rr-client', [string]$Port, [string]$Count, '64')
    try {
        $result = Read-BenchResult -Process $client -Timeout $timeout
        $null = Wait-TestProcessExit -Process $client -TimeoutSeconds 30 -ExpectedExitCode 0
    }
    finally {
        Stop-TestProcess -Process $client
    }
    $result.count / $result.seconds
}

function Measure-SockPSLoop([switch] $Cmdlets) {
    # The SockPS cmdlet pair or the connection's methods: round trips/s and us per round trip.
    # The timed loops are written out, one per path, so nothing but the calls is in them.
    $bytes = $request; $n = $count; $w = $warmup
    $c = Connect-Socket -ComputerName 127.0.0.1 -Port $port -NoDelay
    $watchdog = New-BenchWatchdog -Timeout $timeout
    $watchdog.Add($c)
    try {
        if ($Cmdlets) {
            for ($i = 0; $i -lt $w; $i++) {
                Send-SocketData -Connection $c -InputObject $bytes
                $null = Receive-SocketData -Connection $c -ByteCount 64
            }
            $watch = [System.Diagnostics.Stopwatch]::StartNew()
            for ($i = 0; $i -lt $n; $i++) {
                Send-SocketData -Connection $c -InputObject $bytes
                $null = Receive-SocketData -Connection $c -ByteCount 64
            }
            $watch.Stop()
            Send-SocketData -Connection $c -InputObject $bytes
            Assert-Echo (Receive-SocketData -Connection $c -ByteCount 64)
        }
        else {
            for ($i = 0; $i -lt $w; $i++) {
                $c.Send($bytes)
                $null = $c.Receive(64)
            }
            $watch = [System.Diagnostics.Stopwatch]::StartNew()
            for ($i = 0; $i -lt $n; $i++) {
                $c.Send($bytes)
                $null = $c.Receive(64)
            }
            $watch.Stop()
            $c.Send($bytes)
            Assert-Echo $c.Receive(64)
        }
    }
    finally {
        $watchdog.Dispose()
        Disconnect-Socket -Connection $c
    }
    $rate = $n / $watch.Elapsed.TotalSeconds
    $rate, (1e6 / $rate)
}

function Measure-RawLoop([switch] $WithNoOpCmdlets) {
    # NetworkStream.Write + Read in pwsh; -WithNoOpCmdlets adds a do-nothing binary cmdlet pair
    # per round trip, called as the SockPS pair is (a connection, the request; a connection, a
    # byte count, a byte array out): what PowerShell itself costs such a pair, the floor for one.
    $bytes = $request; $n = $count; $w = $warmup
    $tcp = [System.Net.Sockets.TcpClient]::new()
    $watchdog = New-BenchWatchdog -Timeout $timeout
    $watchdog.Add($tcp)
    try {
        $tcp.NoDelay = $true
        $tcp.Connect([System.Net.IPAddress]::Loopback, $port)
        $stream = $tcp.GetStream()
        $response = [byte[]]::new(64)
        for ($i = 0; $i -lt $w; $i++) {
            $stream.Write($bytes, 0, 64)
            $got = 0
            while ($got -lt 64) {
                $read = $stream.Read($response, $got, 64 - $got)
                if ($read -le 0) { throw 'The echo peer closed the connection.' }
                $got += $read
            }
        }
        [System.Array]::Clear($response)
        if ($WithNoOpCmdlets) {
            $watch = [System.Diagnostics.Stopwatch]::StartNew()
            for ($i = 0; $i -lt $n; $i++) {
                Invoke-BenchNoOp -Connection $tcp -InputObject $bytes
                $null = Invoke-BenchNoOp -Connection $tcp -ByteCount 64
                $stream.Write($bytes, 0, 64)
                $got = 0
                while ($got -lt 64) {
                    $read = $stream.Read($response, $got, 64 - $got)
                    if ($read -le 0) { throw 'The echo peer closed the connection.' }
                    $got += $read
                }
            }
            $watch.Stop()
        }
        else {
            $watch = [System.Diagnostics.Stopwatch]::StartNew()
            for ($i = 0; $i -lt $n; $i++) {
                $stream.Write($bytes, 0, 64)
                $got = 0
                while ($got -lt 64) {
                    $read = $stream.Read($response, $got, 64 - $got)
                    if ($read -le 0) { throw 'The echo peer closed the connection.' }
                    $got += $read
                }
            }
            $watch.Stop()
        }
        Assert-Echo $response
    }
    finally {
        $watchdog.Dispose()
        $tcp.Dispose()
    }
    $rate = $n / $watch.Elapsed.TotalSeconds
    $rate, (1e6 / $rate)
}

function Assert-Echo([byte[]] $Response) {
    if ($null -eq $Response -or [System.Convert]::ToHexString($Response) -ne [System.Convert]::ToHexString($request)) {
        throw 'The last response is not the request echoed.'
    }
}

#region The echo peer: the fastest candidate ------------------------------------------------------

$peers = @(
    [pscustomobject]@{
        Name = 'C# echo-server-threads (a blocking thread per connection)'; Installed = $true; StopByInput = $true
        Start = { Start-BenchBaseline -ArgumentList @('echo-server-threads') }; Pattern = '^port (\d+)$'; Stream = 'Output'
        Process = $null; Port = 0; Row = $null
    }
    [pscustomobject]@{
        Name = 'C# echo-server (async, a task per connection)'; Installed = $true; StopByInput = $true
        Start = { Start-BenchBaseline -ArgumentList @('echo-server') }; Pattern = '^port (\d+)$'; Stream = 'Output'
        Process = $null; Port = 0; Row = $null
    }
    [pscustomobject]@{
        Name = 'python3 socket loop (a thread per connection, TCP_NODELAY)'; Installed = [bool]$python; StopByInput = $true
        Start = { Start-BenchProcess -FilePath $python -ArgumentList @('-c', $pythonEcho) }; Pattern = '^port (\d+)$'; Stream = 'Output'
        Process = $null; Port = 0; Row = $null
    }
    [pscustomobject]@{
        # socat never reads its stdin here: it is stopped by killing its process tree.
        Name = 'socat TCP-LISTEN:0,fork,nodelay PIPE (a process per connection)'; Installed = [bool]$socat; StopByInput = $false
        Start = { Start-BenchProcess -FilePath $socat -ArgumentList @('-d', '-d', 'TCP-LISTEN:0,bind=127.0.0.1,fork,reuseaddr,nodelay', 'PIPE') }
        Pattern = 'listening on .*:(\d+)\s*$'; Stream = 'Error'
        Process = $null; Port = 0; Row = $null
    }
)

function Stop-Peer($Peer) {
    if ($Peer.StopByInput) { Stop-BenchPeer -Process $Peer.Process } else { Stop-TestProcess -Process $Peer.Process }
    $Peer.Process = $null
}

try {
    foreach ($peer in $peers) {
        $status = if ($peer.Installed) { 'ok' } else { 'not installed' }
        $peer.Row = New-BenchRow -Case rr -Name "echo peer: $($peer.Name)" -Unit 'round trips/s, C# rr-client' -Status $status
    }
    # All started before any is measured: a start is not part of the comparison.
    foreach ($peer in $peers | Where-Object { $_.Row.Status -eq 'ok' }) {
        try {
            $peer.Process = & $peer.Start
            $peer.Port = Read-BenchPort -Process $peer.Process -Pattern $peer.Pattern -Stream $peer.Stream
        }
        catch {
            $peer.Row.Status = 'failed'
            $peer.Row.Error = "$_"
            Add-BenchFailure -Text "rr / echo peer $($peer.Name): did not start: $_"
        }
    }
    Invoke-BenchRounds -CaseName 'rr peers' -Contenders @(
        foreach ($peer in $peers) {
            @{ Rows = $peer.Row; Peer = $peer; Run = { param($contender) Measure-RrClient -Port $contender.Peer.Port -Count $probeCount } }
        })

    $chosen = Select-BenchFastest -Candidates $peers
    if ($null -eq $chosen) {
        throw 'No echo peer could be measured; see the failures.'
    }
    foreach ($peer in $peers | Where-Object { $_ -ne $chosen }) {
        Stop-Peer $peer
    }
    $port = $chosen.Port
    $peerRate = Get-BenchRowMedian $chosen.Row
    $measured = @($peers | Where-Object { $null -ne (Get-BenchRowMedian $_.Row) })
    Write-Host "  echo peer for every contender: $($chosen.Name) ($(Format-BenchCount $peerRate) round trips/s with the C# client, the fastest of $($measured.Count))"
    Add-BenchLine -Case rr -Text ("Echo peer used by every contender: $($chosen.Name), the fastest of $($measured.Count) candidates with the C# rr-client " +
        "($(Format-BenchCount $peerRate) round trips/s, median of $(Format-BenchCount $probeCount) round trips each).")

    #endregion

    #region The contenders, against that peer ------------------------------------------------------

    function New-RrRows([string] $Name) {
        @(
            New-BenchRow -Case rr -Name $Name -Unit 'round trips/s'
            New-BenchRow -Case rr -Name $Name -Unit 'us/round trip' -Format 'N2'
        )
    }
    $rowsCmdlets = New-RrRows 'SockPS cmdlets: Send-SocketData + Receive-SocketData -ByteCount 64'
    $rowsMethods = New-RrRows 'SockPS methods: $c.Send() + $c.Receive(64)'
    $rowsRaw = New-RrRows 'pwsh raw: NetworkStream.Write + Read loop'
    $rowsFloor = New-RrRows 'floor: the raw loop + a do-nothing binary cmdlet pair of the same shape (Invoke-BenchNoOp)'
    $rowsCs = New-RrRows 'C# rr-client: NetworkStream.Write + ReadExactly'

    $contenders = @(
        @{ Rows = $rowsCmdlets; Run = { Measure-SockPSLoop -Cmdlets } }
        @{ Rows = $rowsMethods; Run = { Measure-SockPSLoop } }
        @{ Rows = $rowsRaw; Run = { Measure-RawLoop } }
        @{ Rows = $rowsFloor; Run = { Measure-RawLoop -WithNoOpCmdlets } }
        @{ Rows = $rowsCs; Run = {
                $rate = Measure-RrClient -Port $port -Count $count
                $rate, (1e6 / $rate)
            }
        }
    )
    Invoke-BenchRounds -CaseName rr -Contenders $contenders
}
finally {
    foreach ($peer in $peers) {
        if ($peer.Process) { Stop-Peer $peer }
    }
}

#endregion

$raw = Get-BenchRowMedian $rowsRaw[0]
$targetCmdlets.Value = Add-BenchRatio -Case rr -Label 'cmdlets vs raw pwsh' -Numerator (Get-BenchRowMedian $rowsCmdlets[0]) -Denominator $raw
$targetMethods.Value = Add-BenchRatio -Case rr -Label 'methods vs raw pwsh' -Numerator (Get-BenchRowMedian $rowsMethods[0]) -Denominator $raw
$null = Add-BenchRatio -Case rr -Label 'raw pwsh vs C# (for scale)' -Numerator $raw -Denominator (Get-BenchRowMedian $rowsCs[0])
$null = Add-BenchRatio -Case rr -Label 'the most any cmdlet pair can reach: raw + a do-nothing pair vs raw pwsh' -Numerator (Get-BenchRowMedian $rowsFloor[0]) -Denominator $raw
$null = Add-BenchRatio -Case rr -Label 'cmdlets vs that floor (what SockPS itself costs)' -Numerator (Get-BenchRowMedian $rowsCmdlets[0]) -Denominator (Get-BenchRowMedian $rowsFloor[0])

# Microseconds per round trip, from the median rates.
$usRaw = ConvertTo-BenchMicroseconds $raw
$usMethods = ConvertTo-BenchMicroseconds (Get-BenchRowMedian $rowsMethods[0])
$usCmdlets = ConvertTo-BenchMicroseconds (Get-BenchRowMedian $rowsCmdlets[0])
$usFloor = ConvertTo-BenchMicroseconds (Get-BenchRowMedian $rowsFloor[0])
$usCs = ConvertTo-BenchMicroseconds (Get-BenchRowMedian $rowsCs[0])
function Format-Us([AllowNull()] [object] $Value) {
    if ($null -eq $Value) { 'not measured' } else { "$(Format-BenchValue $Value 'N2') us" }
}
function Format-Adds([AllowNull()] [object] $Value, [AllowNull()] [object] $Base) {
    if ($null -eq $Value -or $null -eq $Base) { return 'not measured' }
    Format-Us ($Value - $Base)
}
Add-BenchLine -Case rr -Text "pwsh raw loop: $(Format-Us $usRaw) per round trip (the base line); C# rr-client: $(Format-Us $usCs)"
Add-BenchLine -Case rr -Text "SockPS methods: $(Format-Us $usMethods) per round trip; SockPS adds $(Format-Adds $usMethods $usRaw) to the raw pwsh loop"
Add-BenchLine -Case rr -Text ("SockPS cmdlets: $(Format-Us $usCmdlets) per round trip; SockPS adds $(Format-Adds $usCmdlets $usRaw) to the raw pwsh loop, " +
    "of which PowerShell's invocation of a do-nothing cmdlet pair is $(Format-Adds $usFloor $usRaw) (the floor row) and SockPS's own work $(Format-Adds $usCmdlets $usFloor)")
Add-BenchNote -Case rr -Text ("Every contender against the one echo peer named above, NoDelay on every client, one connection each. " +
    "The pwsh loops run $(Format-BenchCount $warmup) untimed round trips first on the same connection (the C# client a few too); the last response is checked. " +
    'Microseconds per round trip are 1e6 / round trips/s; "SockPS adds" compares the medians.')
