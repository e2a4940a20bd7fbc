#Requires -Version 7.4
<#
.SYNOPSIS
    Case d, UDP sends: -Datagrams 512-byte datagrams piped into Send-SocketData, and -UdpArrays
    distinct byte arrays piped from a variable, each beside a raw UdpClient loop, and the floor:
    the same datagrams piped into a binary cmdlet that only calls Socket.Send (what PowerShell's
    pipeline costs any cmdlet), so SockPS's own share per datagram shows.
.DESCRIPTION
    The receiving side must never be what limits a sender, so it is chosen and measured first:
    each candidate sink (a bound socket in this process that nobody reads, where the kernel drops
    what does not fit; a C# reader draining its socket in its own process) takes the C# sender's
    datagrams, and the fastest serves every contender. After the rounds, the sink's rate is set
    beside the fastest pwsh contender's: the headroom says whether the sink could have been the
    bottleneck. Run by bench/Invoke-Benchmark.ps1.
#>
[CmdletBinding()]
param(
    [Parameter(Mandatory)]
    [int] $Datagrams,

    [Parameter(Mandatory)]
    [int] $UdpArrays
)

Set-StrictMode -Version Latest
$ErrorActionPreference = 'Stop'

$count = $Datagrams
$arrayCount = $UdpArrays
$size = 512
Register-BenchCase -Name udp -Title "d. UDP: $(Format-BenchCount $count) datagrams of $size bytes, and $(Format-BenchCount $arrayCount) byte arrays piped from a variable"
$targetPayloads = Add-BenchTarget -Case udp -Name 'UDP: $payloads | Send-SocketData vs the raw UdpClient loop' -Goal 0.5 -Issue 11
$targetArrays = Add-BenchTarget -Case udp -Name "UDP: byte arrays piped from a variable (`$arrays | Send-SocketData, $(Format-BenchCount $arrayCount)) vs the raw UdpClient loop" -Goal 0.5 -Issue 11

Import-Module -Assembly (Get-BenchFloorAssembly)

$warmup = [Math]::Min(1000, [Math]::Max(10, [int]($count / 10)))
$timeout = [timespan]::FromSeconds([Math]::Max(60, $count / 2000))
# The sinks are compared with at most 100,000 datagrams each: enough to rank them.
$probeCount = [Math]::Min($count, 100000)

$payload = [byte[]]::new($size)
[System.Random]::new(512).NextBytes($payload)
# Built before timing: the same array N times, so what is measured is the per-item pipeline
# binding and send, not allocation.
$payloads = [object[]]::new($count)
for ($i = 0; $i -lt $count; $i++) { $payloads[$i] = $payload }
$warmPayloads = [object[]]::new($warmup)
for ($i = 0; $i -lt $warmup; $i++) { $warmPayloads[$i] = $payload }
# Distinct arrays, as a script that built its datagrams first holds them.
$random = [System.Random]::new(30000)
$arrays = [object[]]::new($arrayCount)
for ($i = 0; $i -lt $arrayCount; $i++) {
    $arrays[$i] = [byte[]]::new($size)
    $random.NextBytes($arrays[$i])
}

function Measure-CSharpSend([int] $Port, [int] $Count) {
    # The C# udp-send: datagrams/s, by its own clock.
    $sender = Start-BenchBaseline -ArgumentList @('udp-send', [string]$Port, [string]$Count, [string]$size)
    try {
        $result = Read-BenchResult -Process $sender -Timeout $timeout
        $null = Wait-TestProcessExit -Process $sender -TimeoutSeconds 30 -ExpectedExitCode 0
    }
    finally {
        Stop-TestProcess -Process $sender
    }
    $result.count / $result.seconds
}

#region The sink: the fastest candidate -----------------------------------------------------------

$unread = [pscustomobject]@{
    Name = 'a bound socket in this process that nobody reads (the kernel drops what does not fit)'
    Socket = $null; Process = $null; Port = 0; Row = $null
}
$reader = [pscustomobject]@{
    Name = 'C# udp-sink: a blocking reader in its own process'
    Socket = $null; Process = $null; Port = 0; Row = $null
}
$sinks = @($unread, $reader)

function Stop-Sink($Sink) {
    if ($Sink.Socket) { $Sink.Socket.Dispose(); $Sink.Socket = $null }
    if ($Sink.Process) { Stop-BenchPeer -Process $Sink.Process; $Sink.Process = $null }
}

try {
    foreach ($sink in $sinks) {
        $sink.Row = New-BenchRow -Case udp -Name "sink: $($sink.Name)" -Unit 'datagrams/s, C# udp-send'
    }
    $unread.Socket = [System.Net.Sockets.Socket]::new([System.Net.Sockets.AddressFamily]::InterNetwork,
        [System.Net.Sockets.SocketType]::Dgram, [System.Net.Sockets.ProtocolType]::Udp)
    $unread.Socket.Bind([System.Net.IPEndPoint]::new([System.Net.IPAddress]::Loopback, 0))
    $unread.Port = ([System.Net.IPEndPoint]$unread.Socket.LocalEndPoint).Port
    $reader.Process = Start-BenchBaseline -ArgumentList @('udp-sink')
    $reader.Port = Read-BenchPort -Process $reader.Process

    Invoke-BenchRounds -CaseName 'udp sinks' -Contenders @(
        foreach ($sink in $sinks) {
            @{ Rows = $sink.Row; Sink = $sink; Run = { param($contender) Measure-CSharpSend -Port $contender.Sink.Port -Count $probeCount } }
        })

    $chosen = Select-BenchFastest -Candidates $sinks
    if ($null -eq $chosen) {
        throw 'No UDP sink could be measured; see the failures.'
    }
    foreach ($sink in $sinks | Where-Object { $_ -ne $chosen }) {
        Stop-Sink $sink
    }
    $port = $chosen.Port
    $sinkRate = Get-BenchRowMedian $chosen.Row
    Write-Host "  sink for every contender: $($chosen.Name) ($(Format-BenchCount $sinkRate) datagrams/s from the C# sender)"
    Add-BenchLine -Case udp -Text ("Sink used by every contender: $($chosen.Name), the faster of $($sinks.Count) candidates with the C# udp-send " +
        "($(Format-BenchCount $sinkRate) datagrams/s, median of $(Format-BenchCount $probeCount) datagrams each).")

    #endregion

    #region The contenders, into that sink ---------------------------------------------------------

    $rowSockPS = New-BenchRow -Case udp -Name 'SockPS: $payloads | Send-SocketData' -Unit 'datagrams/s'
    $rowRaw = New-BenchRow -Case udp -Name 'pwsh raw: UdpClient.Send loop over $payloads' -Unit 'datagrams/s'
    $rowCs = New-BenchRow -Case udp -Name 'C# udp-send: Socket.Send loop' -Unit 'datagrams/s'
    $rowArrays = New-BenchRow -Case udp -Name "SockPS: `$arrays | Send-SocketData ($(Format-BenchCount $arrayCount) distinct byte arrays)" -Unit 'datagrams/s'
    $rowRawArrays = New-BenchRow -Case udp -Name "pwsh raw: UdpClient.Send loop over `$arrays ($(Format-BenchCount $arrayCount))" -Unit 'datagrams/s'
    $rowFloor = New-BenchRow -Case udp -Name 'floor: $payloads | Send-BenchSocket (a binary cmdlet that only calls Socket.Send)' -Unit 'datagrams/s'

    function Measure-SockPSPipe([object[]] $Items) {
        $expected = $Items.Count
        $udp = Connect-Socket -ComputerName 127.0.0.1 -Port $port -Protocol Udp
        try {
            $warmPayloads | Send-SocketData -Connection $udp
            $before = $udp.DatagramsSent
            $watch = [System.Diagnostics.Stopwatch]::StartNew()
            $Items | Send-SocketData -Connection $udp
            $watch.Stop()
            $sent = $udp.DatagramsSent - $before
            if ($sent -ne $expected) {
                throw "SockPS counted $sent datagrams sent, not $expected."
            }
        }
        finally {
            Disconnect-Socket -Connection $udp
        }
        $expected / $watch.Elapsed.TotalSeconds
    }

    function Measure-FloorPipe([object[]] $Items) {
        # What any piped binary cmdlet costs: PowerShell's pipeline and one Socket.Send per item.
        $socket = [System.Net.Sockets.Socket]::new([System.Net.Sockets.AddressFamily]::InterNetwork,
            [System.Net.Sockets.SocketType]::Dgram, [System.Net.Sockets.ProtocolType]::Udp)
        try {
            $socket.Connect([System.Net.IPAddress]::Loopback, $port)
            $warmPayloads | Send-BenchSocket -Socket $socket
            $watch = [System.Diagnostics.Stopwatch]::StartNew()
            $Items | Send-BenchSocket -Socket $socket
            $watch.Stop()
        }
        finally {
            $socket.Dispose()
        }
        $Items.Count / $watch.Elapsed.TotalSeconds
    }

    function Measure-RawLoop([object[]] $Items) {
        # What a pwsh user writes without SockPS: UdpClient.Send over the same items.
        $w = $warmup; $bytes = $payload
        $udp = [System.Net.Sockets.UdpClient]::new()
        try {
            $udp.Connect([System.Net.IPAddress]::Loopback, $port)
            for ($i = 0; $i -lt $w; $i++) {
                $null = $udp.Send($bytes, $bytes.Length)
            }
            $watch = [System.Diagnostics.Stopwatch]::StartNew()
            foreach ($item in $Items) {
                $null = $udp.Send($item, $item.Length)
            }
            $watch.Stop()
        }
        finally {
            $udp.Dispose()
        }
        $Items.Count / $watch.Elapsed.TotalSeconds
    }

    # One untimed pass of each pwsh contender first. .NET's tiered JIT compiles hot code on a
    # background thread after a delay, so a first pass runs partly unoptimized: the SockPS pipe's
    # first round ran at a third of the later rounds' rate even after 20,000 warm-up datagrams,
    # which decided the median of three.
    $null = Measure-SockPSPipe $payloads
    $null = Measure-RawLoop $payloads
    $null = Measure-SockPSPipe $arrays
    $null = Measure-RawLoop $arrays
    $null = Measure-FloorPipe $payloads

    $contenders = @(
        @{ Rows = $rowSockPS; Run = { Measure-SockPSPipe $payloads } }
        @{ Rows = $rowRaw; Run = { Measure-RawLoop $payloads } }
        @{ Rows = $rowCs; Run = { Measure-CSharpSend -Port $port -Count $count } }
        @{ Rows = $rowArrays; Run = { Measure-SockPSPipe $arrays } }
        @{ Rows = $rowRawArrays; Run = { Measure-RawLoop $arrays } }
        @{ Rows = $rowFloor; Run = { Measure-FloorPipe $payloads } }
    )
    Invoke-BenchRounds -CaseName udp -Contenders $contenders
}
finally {
    foreach ($sink in $sinks) {
        Stop-Sink $sink
    }
}

#endregion

$raw = Get-BenchRowMedian $rowRaw
$targetPayloads.Value = Add-BenchRatio -Case udp -Label '$payloads | Send-SocketData vs the raw UdpClient loop' -Numerator (Get-BenchRowMedian $rowSockPS) -Denominator $raw
$targetArrays.Value = Add-BenchRatio -Case udp -Label '$arrays | Send-SocketData vs the raw UdpClient loop over $arrays' -Numerator (Get-BenchRowMedian $rowArrays) -Denominator (Get-BenchRowMedian $rowRawArrays)
$null = Add-BenchRatio -Case udp -Label 'raw pwsh loop vs C# (for scale)' -Numerator $raw -Denominator (Get-BenchRowMedian $rowCs)
$null = Add-BenchRatio -Case udp -Label 'the most any piped cmdlet can reach: the floor row vs the raw UdpClient loop' -Numerator (Get-BenchRowMedian $rowFloor) -Denominator $raw
$null = Add-BenchRatio -Case udp -Label '$payloads | Send-SocketData vs that floor (what SockPS itself costs)' -Numerator (Get-BenchRowMedian $rowSockPS) -Denominator (Get-BenchRowMedian $rowFloor)

# Microseconds per datagram, from the median rates.
$usRaw = ConvertTo-BenchMicroseconds $raw
$usSockPS = ConvertTo-BenchMicroseconds (Get-BenchRowMedian $rowSockPS)
$usFloor = ConvertTo-BenchMicroseconds (Get-BenchRowMedian $rowFloor)
if ($null -ne $usRaw -and $null -ne $usSockPS -and $null -ne $usFloor) {
    Add-BenchLine -Case udp -Text ("Per datagram: raw UdpClient loop $(Format-BenchValue $usRaw 'N2') us, the floor $(Format-BenchValue $usFloor 'N2') us, " +
        "SockPS $(Format-BenchValue $usSockPS 'N2') us; SockPS adds $(Format-BenchValue ($usSockPS - $usRaw) 'N2') us to the raw loop, of which PowerShell's " +
        "pipeline (the floor row) is $(Format-BenchValue ($usFloor - $usRaw) 'N2') us and SockPS's own work $(Format-BenchValue ($usSockPS - $usFloor) 'N2') us")
}

# Could the sink have capped a pwsh contender (and so flattered SockPS's ratio against it)? Not
# if a faster sender got more through it: the C# sender, in the probe before the rounds and as a
# contender in the same rounds (the higher of the two is the best evidence of what it takes).
$sinkCapacity = @($sinkRate, (Get-BenchRowMedian $rowCs) | Where-Object { $null -ne $_ } | Sort-Object -Descending)[0]
$fastestPwsh = @($rowSockPS, $rowRaw, $rowArrays, $rowRawArrays, $rowFloor | ForEach-Object { Get-BenchRowMedian $_ } | Where-Object { $null -ne $_ } | Sort-Object -Descending)
$headroom = Add-BenchRatio -Case udp -Label 'sink headroom: the most the C# sender got through the sink vs the fastest pwsh contender (above 1: the sink did not cap them)' `
    -Numerator $sinkCapacity -Denominator $(if ($fastestPwsh.Count -gt 0) { $fastestPwsh[0] } else { $null })
if ($null -ne $headroom -and $headroom -lt 1.0) {
    Add-BenchLine -Case udp -Text ('WARNING: a pwsh contender sent faster than the C# sender into this sink, so this run does not show that the sink ' +
        '(or the kernel''s send path into it) left the pwsh rows uncapped; a ratio against a capped row would read high.')
}
Add-BenchNote -Case udp -Text ("$size-byte datagrams over a connected UDP socket to 127.0.0.1. Each pwsh contender makes one untimed pass before the rounds, and sends $(Format-BenchCount $warmup) untimed datagrams at the start of each; " +
    'SockPS''s count of datagrams sent is checked. $payloads is one array -Datagrams times; $arrays holds distinct arrays built before timing.')
