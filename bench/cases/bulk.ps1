#Requires -Version 7.4
<#
.SYNOPSIS
    Case a, bulk: -BulkSize bytes of random data from a file under /dev/shm to /dev/null.
.DESCRIPTION
    SockPS (Send-SocketData -Path to Receive-SocketData -OutFile in a second runspace), a C#
    NetworkStream copy with 64 KiB and 1 MiB buffers, a pwsh TcpClient 64 KiB loop, socat
    (defaults and -b65536), ncat and iperf3 (default writes and -l 1M). GB/s = 1e9 bytes/s. One
    extra SockPS transfer into a real file is checked by SHA-256. Run by bench/Invoke-Benchmark.ps1.
#>
[CmdletBinding()]
param(
    [Parameter(Mandatory)]
    [long] $BulkSize
)

Set-StrictMode -Version Latest
$ErrorActionPreference = 'Stop'

$size = $BulkSize
Register-BenchCase -Name bulk -Title "a. Bulk transfer: $(Format-BenchSize $size) over loopback to /dev/null"
$targetCSharp = Add-BenchTarget -Case bulk -Name 'Bulk: SockPS vs the fastest C# baseline' -Goal 1.0 -Issue 11
$targetNcat = Add-BenchTarget -Case bulk -Name 'Bulk: SockPS vs ncat' -Goal 3.0 -Issue 5

$timeout = [timespan]::FromSeconds([Math]::Max(60, $size / 20MB))
$source = Get-BenchBulkSource -Size $size
$socat = Get-BenchTool socat
$ncat = Get-BenchTool ncat
$iperf3 = Get-BenchTool iperf3
$sh = Get-BenchTool sh

function ConvertTo-GBps([double] $Seconds) { $size / $Seconds / 1e9 }
function Get-Status($Tool) { if ($Tool) { 'ok' } else { 'not installed' } }

$sockpsReceiver = @'
param($Server, [string] $OutFile, [double] $TimeoutSeconds)
$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'
$connection = Wait-SocketConnection -Server $Server -TimeoutSeconds $TimeoutSeconds
try {
    $null = Receive-SocketData -Connection $connection -OutFile $OutFile
    $connection.BytesReceived
}
finally {
    Disconnect-Socket -Connection $connection
}
'@

$pwshReceiver = @'
param([System.Net.Sockets.TcpListener] $Listener, [string] $OutFile)
$ErrorActionPreference = 'Stop'
$client = $Listener.AcceptTcpClient()
$out = $null
try {
    $stream = $client.GetStream()
    $out = [System.IO.FileStream]::new($OutFile, [System.IO.FileMode]::Create, [System.IO.FileAccess]::Write, [System.IO.FileShare]::ReadWrite, 1)
    $buffer = [byte[]]::new(65536)
    [long] $total = 0
    while (($n = $stream.Read($buffer, 0, $buffer.Length)) -gt 0) {
        $out.Write($buffer, 0, $n)
        $total += $n
    }
    $total
}
finally {
    if ($out) { $out.Dispose() }
    $client.Dispose()
}
'@

function Measure-SockPSBulk {
    # One SockPS transfer: Send-SocketData -Path here, Receive-SocketData -OutFile in $Runspace.
    # Timed from the connect to the receiver's end. Returns the seconds.
    param(
        [Parameter(Mandatory)] [string] $Source,
        [Parameter(Mandatory)] [string] $OutFile,
        [Parameter(Mandatory)] [System.Management.Automation.Runspaces.Runspace] $Runspace,
        [Parameter(Mandatory)] [timespan] $Timeout
    )

    $expected = (Get-Item -LiteralPath $Source).Length
    $server = Start-SocketServer -Port 0 -Address 127.0.0.1
    $client = $null
    $job = $null
    $watchdog = New-BenchWatchdog -Timeout $Timeout
    try {
        $watchdog.Add($server)
        $job = Start-BenchRunspaceJob -Runspace $Runspace -Script $sockpsReceiver -ArgumentList @($server, $OutFile, $Timeout.TotalSeconds)
        $watch = [System.Diagnostics.Stopwatch]::StartNew()
        $client = Connect-Socket -ComputerName 127.0.0.1 -Port $server.Port
        $watchdog.Add($client)
        Send-SocketData -Connection $client -Path $Source
        Disconnect-Socket -Connection $client -Shutdown Send
        $received = @(Receive-BenchRunspaceJob -Job $job -Timeout $Timeout)
        $watch.Stop()
        if ($received.Count -ne 1 -or [long]$received[0] -ne $expected) {
            throw "The receiver got $($received -join ', ') bytes of $expected."
        }
        $watch.Elapsed.TotalSeconds
    }
    catch {
        if ($watchdog.Fired) { throw "The transfer did not finish within $($Timeout.TotalSeconds) s: $_" }
        throw
    }
    finally {
        $watchdog.Dispose()
        if ($client) { try { $client.Close() } catch { Write-Verbose "close: $_" } }
        $server.Stop()
        Stop-BenchRunspaceJob -Job $job
    }
}

function Measure-PwshBulk {
    # A pwsh script over TcpClient streams with a 64 KiB loop; the receiver in $Runspace.
    param(
        [Parameter(Mandatory)] [System.Management.Automation.Runspaces.Runspace] $Runspace
    )

    $listener = [System.Net.Sockets.TcpListener]::new([System.Net.IPAddress]::Loopback, 0)
    $listener.Start()
    $client = $null
    $file = $null
    $job = $null
    $watchdog = New-BenchWatchdog -Timeout $timeout
    try {
        $job = Start-BenchRunspaceJob -Runspace $Runspace -Script $pwshReceiver -ArgumentList @($listener, '/dev/null')
        $watch = [System.Diagnostics.Stopwatch]::StartNew()
        $client = [System.Net.Sockets.TcpClient]::new()
        $watchdog.Add($client)
        $client.Connect([System.Net.IPAddress]::Loopback, ([System.Net.IPEndPoint]$listener.LocalEndpoint).Port)
        $stream = $client.GetStream()
        $file = [System.IO.FileStream]::new($source, [System.IO.FileMode]::Open, [System.IO.FileAccess]::Read, [System.IO.FileShare]::Read, 1)
        $buffer = [byte[]]::new(65536)
        while (($n = $file.Read($buffer, 0, $buffer.Length)) -gt 0) {
            $stream.Write($buffer, 0, $n)
        }
        $client.Client.Shutdown([System.Net.Sockets.SocketShutdown]::Send)
        $received = @(Receive-BenchRunspaceJob -Job $job -Timeout $timeout)
        $watch.Stop()
        if ($received.Count -ne 1 -or [long]$received[0] -ne $size) {
            throw "The receiver got $($received -join ', ') bytes of $size."
        }
        $watch.Elapsed.TotalSeconds
    }
    catch {
        if ($watchdog.Fired) { throw "The transfer did not finish within $($timeout.TotalSeconds) s: $_" }
        throw
    }
    finally {
        $watchdog.Dispose()
        if ($file) { $file.Dispose() }
        if ($client) { $client.Dispose() }
        $listener.Stop()
        Stop-BenchRunspaceJob -Job $job
    }
}

function Measure-CSharpBulk {
    # bulk-send -> bulk-recv; the receiver's own time from accept to end.
    param([Parameter(Mandatory)] [int] $BufferSize)

    $receiver = $null
    $sender = $null
    try {
        $receiver = Start-BenchBaseline -ArgumentList @('bulk-recv', '/dev/null', [string]$BufferSize)
        $port = Read-BenchPort -Process $receiver
        $sender = Start-BenchBaseline -ArgumentList @('bulk-send', [string]$port, $source, [string]$BufferSize)
        $result = Read-BenchResult -Process $receiver -Timeout $timeout
        $null = Wait-TestProcessExit -Process $sender -TimeoutSeconds $timeout.TotalSeconds -ExpectedExitCode 0
        $null = Wait-TestProcessExit -Process $receiver -TimeoutSeconds 30 -ExpectedExitCode 0
        if ([long]$result.bytes -ne $size) {
            throw "bulk-recv got $($result.bytes) bytes of $size."
        }
        $result.seconds
    }
    finally {
        Stop-TestProcess -Process $sender, $receiver
    }
}

function Measure-ToolBulk {
    # A listener child and a sender child; timed from starting the sender to the listener's exit
    # (both are small C programs: their start is a millisecond or two).
    param(
        [Parameter(Mandatory)] [scriptblock] $StartListener,   # returns @{ Port; Process }
        [Parameter(Mandatory)] [scriptblock] $StartSender      # receives the port, returns a process
    )

    $listening = $null
    $sender = $null
    try {
        $listening = & $StartListener
        $watch = [System.Diagnostics.Stopwatch]::StartNew()
        $sender = & $StartSender $listening.Port
        $null = Wait-TestProcessExit -Process $listening.Process -TimeoutSeconds $timeout.TotalSeconds -ExpectedExitCode 0
        $watch.Stop()
        $null = Wait-TestProcessExit -Process $sender -TimeoutSeconds 30 -ExpectedExitCode 0
        $watch.Elapsed.TotalSeconds
    }
    finally {
        Stop-TestProcess -Process $sender
        if ($listening) { Stop-TestProcess -Process $listening.Process }
    }
}

function Start-SocatSink([string[]] $Options) {
    $listening = Start-BenchProcess -FilePath $socat -ArgumentList (@('-d', '-d', '-u') + $Options + @('TCP-LISTEN:0,bind=127.0.0.1', 'OPEN:/dev/null'))
    $port = Read-BenchPort -Process $listening -Stream Error -Pattern 'listening on .*:(\d+)\s*$' -TimeoutSeconds 15
    [pscustomobject]@{ Port = $port; Process = $listening }
}

function Start-SocatSender([string[]] $Options, [int] $Port) {
    Start-BenchProcess -FilePath $socat -ArgumentList (@('-u') + $Options + @("OPEN:$source", "TCP:127.0.0.1:$Port"))
}

function Measure-Iperf3 {
    # iperf3 -s -1 and iperf3 -c -n <size> -J; the receiver-side rate from the JSON, in GB/s.
    param([string[]] $ExtraArguments = @())

    $listening = $null
    $client = $null
    try {
        $listening = Start-TestListeningPeer -FilePath $iperf3 -ReadyStream Output -ReadyPattern 'Server listening on' -ArgumentList {
            param($port)
            @('-s', '-1', '-B', '127.0.0.1', '-p', [string]$port, '--forceflush')
        }
        $client = Start-BenchProcess -FilePath $iperf3 -ArgumentList (@('-c', '127.0.0.1', '-p', [string]$listening.Port, '-n', [string]$size, '-J') + $ExtraArguments)
        $null = Wait-TestProcessExit -Process $client -TimeoutSeconds $timeout.TotalSeconds -ExpectedExitCode 0
        $null = Wait-TestProcessExit -Process $listening.Process -TimeoutSeconds 30 -ExpectedExitCode 0
        $json = $client.Output | ConvertFrom-Json
        if ($json.PSObject.Properties['error']) {
            throw "iperf3 reported: $($json.error)"
        }
        [double]$json.end.sum_received.bits_per_second / 8 / 1e9
    }
    finally {
        Stop-TestProcess -Process $client
        if ($listening) { Stop-TestProcess -Process $listening.Process }
    }
}

$runspace = New-BenchRunspace
try {
    $rowSockPS = New-BenchRow -Case bulk -Name 'SockPS: Send-SocketData -Path -> Receive-SocketData -OutFile' -Unit 'GB/s' -Format 'N2'
    $rowCs64 = New-BenchRow -Case bulk -Name 'C# NetworkStream copy, 64 KiB buffer' -Unit 'GB/s' -Format 'N2'
    $rowCs1M = New-BenchRow -Case bulk -Name 'C# NetworkStream copy, 1 MiB buffer' -Unit 'GB/s' -Format 'N2'
    $rowPwsh = New-BenchRow -Case bulk -Name 'pwsh TcpClient streams, 64 KiB loop' -Unit 'GB/s' -Format 'N2'
    $rowSocat = New-BenchRow -Case bulk -Name 'socat (defaults: 8 KiB blocks)' -Unit 'GB/s' -Format 'N2' -Status (Get-Status $socat)
    $rowSocat64 = New-BenchRow -Case bulk -Name 'socat -b65536' -Unit 'GB/s' -Format 'N2' -Status (Get-Status $socat)
    $rowNcat = New-BenchRow -Case bulk -Name 'ncat --send-only -> ncat -l --recv-only' -Unit 'GB/s' -Format 'N2' -Status (Get-Status ($ncat -and $sh))
    $rowIperf = New-BenchRow -Case bulk -Name 'iperf3 (default 128 KiB writes)' -Unit 'GB/s' -Format 'N2' -Status (Get-Status $iperf3)
    $rowIperf1M = New-BenchRow -Case bulk -Name 'iperf3 -l 1M' -Unit 'GB/s' -Format 'N2' -Status (Get-Status $iperf3)

    $contenders = @(
        @{ Rows = $rowSockPS; Run = { ConvertTo-GBps (Measure-SockPSBulk -Source $source -OutFile '/dev/null' -Runspace $runspace -Timeout $timeout) } }
        @{ Rows = $rowCs64; Run = { ConvertTo-GBps (Measure-CSharpBulk -BufferSize 64KB) } }
        @{ Rows = $rowCs1M; Run = { ConvertTo-GBps (Measure-CSharpBulk -BufferSize 1MB) } }
        @{ Rows = $rowPwsh; Run = { ConvertTo-GBps (Measure-PwshBulk -Runspace $runspace) } }
        @{ Rows = $rowSocat; Run = {
                ConvertTo-GBps (Measure-ToolBulk -StartListener { Start-SocatSink @() } -StartSender { param($port) Start-SocatSender @() $port })
            }
        }
        @{ Rows = $rowSocat64; Run = {
                ConvertTo-GBps (Measure-ToolBulk -StartListener { Start-SocatSink @('-b65536') } -StartSender { param($port) Start-SocatSender @('-b65536') $port })
            }
        }
        @{ Rows = $rowNcat; Run = {
                $listen = {
                    Start-TestListeningPeer -FilePath $sh -ReadyStream Error -ReadyPattern 'Listening on' -ArgumentList {
                        param($port)
                        @('-c', 'exec "$0" -v -l --recv-only 127.0.0.1 "$1" > /dev/null', $ncat, [string]$port)
                    }
                }
                $send = {
                    param($port)
                    Start-BenchProcess -FilePath $sh -ArgumentList @('-c', 'exec "$0" --send-only 127.0.0.1 "$1" < "$2"', $ncat, [string]$port, $source)
                }
                ConvertTo-GBps (Measure-ToolBulk -StartListener $listen -StartSender $send)
            }
        }
        @{ Rows = $rowIperf; Run = { Measure-Iperf3 } }
        @{ Rows = $rowIperf1M; Run = { Measure-Iperf3 -ExtraArguments @('-l', '1M') } }
    )

    # Once, untimed and first (so it also warms the SockPS path up): the same SockPS transfer
    # into a real file, compared by SHA-256. Not a whole number of blocks, so the tail counts.
    try {
        $checkSize = 8MB + 12345
        $checkSource = New-BenchRandomFile -Size $checkSize -Tag 'check-source'
        $checkOutput = [System.IO.Path]::ChangeExtension($checkSource, '.out')
        Add-BenchTempFile -Path $checkOutput
        $null = Measure-SockPSBulk -Source $checkSource -OutFile $checkOutput -Runspace $runspace -Timeout ([timespan]::FromSeconds(60))
        $expected = (Get-FileHash -LiteralPath $checkSource -Algorithm SHA256).Hash
        $actual = (Get-FileHash -LiteralPath $checkOutput -Algorithm SHA256).Hash
        if ($expected -ne $actual) {
            throw "SHA-256 differs: sent $expected, received $actual ($((Get-Item -LiteralPath $checkOutput).Length) bytes)."
        }
        Add-BenchNote -Case bulk -Text "Correctness: SockPS moved $(Format-BenchCount $checkSize) random bytes into a real file; SHA-256 matches ($($expected.Substring(0, 16))...)."
    }
    catch {
        Add-BenchFailure -Text "bulk / correctness check: $_"
        Add-BenchNote -Case bulk -Text "Correctness check FAILED: $_"
    }

    Invoke-BenchRounds -CaseName bulk -Contenders $contenders
}
finally {
    $runspace.Dispose()
}

$sockps = Get-BenchRowMedian $rowSockPS
$fastest = Select-BenchFastest -Candidates @(@{ Row = $rowCs64 }, @{ Row = $rowCs1M })
$fastestRow = if ($fastest) { $fastest.Row } else { $null }
$fastestName = if ($fastestRow) { $fastestRow.Name } else { 'C#' }
$targetCSharp.Value = Add-BenchRatio -Case bulk -Label "SockPS vs the fastest C# row ($fastestName)" -Numerator $sockps -Denominator (Get-BenchRowMedian $fastestRow)
$targetNcat.Value = Add-BenchRatio -Case bulk -Label 'SockPS vs ncat' -Numerator $sockps -Denominator (Get-BenchRowMedian $rowNcat)
$null = Add-BenchRatio -Case bulk -Label 'SockPS vs the pwsh TcpClient 64 KiB loop' -Numerator $sockps -Denominator (Get-BenchRowMedian $rowPwsh)
$null = Add-BenchRatio -Case bulk -Label 'SockPS vs socat -b65536' -Numerator $sockps -Denominator (Get-BenchRowMedian $rowSocat64)
$null = Add-BenchRatio -Case bulk -Label 'SockPS vs iperf3 -l 1M' -Numerator $sockps -Denominator (Get-BenchRowMedian $rowIperf1M)
Add-BenchNote -Case bulk -Text ("Source: $(Format-BenchSize $size) of random bytes in $(Split-Path -Path $source -Parent); every receiver writes to /dev/null. " +
    'SockPS and pwsh: timed in this process from the connect to the receiving runspace''s end; C#: the receiver''s own time from accept to end; ' +
    'socat and ncat: from starting the sender to the listener''s exit; iperf3: its receiver-side rate.')
