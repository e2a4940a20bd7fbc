#Requires -Version 7.4
<#
    The stress and fault scenarios of issue 10 (item 5), one function per scenario. Each runs for
    -Seconds (looping until the time is up, always at least one round), then cleans up and returns
    one figures object (New-StressFigures): clients, operations, bytes, SHA-256 mismatches,
    errors by SockPS error id (expected and unexpected), and the process's descriptors, threads
    and working set at the start and the end.

    tests/stress/Invoke-Stress.ps1 runs them for minutes (build.ps1 -Task Stress) and prints the
    table; tests/pester/Stress.Tests.ps1 runs them for a few seconds each in the normal suite.

    Needs SockPS imported by the caller (Import-Module <out/SockPS> -Force) and the test helpers
    (tests/pester/SockPS.TestHelpers.psm1, imported here) for the peers: python3 at
    /usr/bin/python3 (resets with SO_LINGER 0) and socat (an echo peer). The process figures are
    read from /proc (Linux).
#>
Set-StrictMode -Version Latest

Import-Module (Join-Path -Path $PSScriptRoot -ChildPath '../pester/SockPS.TestHelpers.psm1') -Force

# The SockPS module's path, for the runspaces the scenarios start (a module imported by path is
# not visible in them until imported there).
function Get-StressModulePath {
    $module = Get-Module -Name SockPS | Select-Object -First 1
    if (-not $module) {
        throw 'SockPS.Stress: import SockPS first.'
    }
    # SockPS.psm1 loads the build fitting the edition; the folder is what runspaces import.
    Split-Path -Path $module.Path -Parent
}

function Get-StressProcessSample {
    <#
    .SYNOPSIS
        This process's open descriptors (/proc/self/fd), threads, working set (MiB) and managed
        heap (MiB, after a full collection).
    #>
    [CmdletBinding()]
    param()

    [GC]::Collect()
    [GC]::WaitForPendingFinalizers()
    [GC]::Collect()
    $process = [System.Diagnostics.Process]::GetCurrentProcess()
    try {
        [pscustomobject]@{
            Descriptors = @([System.IO.Directory]::GetFileSystemEntries('/proc/self/fd')).Count
            Threads     = $process.Threads.Count
            WorkingSetMiB = [math]::Round($process.WorkingSet64 / 1MB, 1)
            HeapMiB     = [math]::Round([GC]::GetTotalMemory($true) / 1MB, 1)
        }
    }
    finally {
        $process.Dispose()
    }
}

function Wait-StressSettled {
    <#
    .SYNOPSIS
        After a scenario's cleanup: waits (at most -TimeoutSeconds) for the descriptors to come
        back within -Slack of -Start (closes finish on other threads), then returns a sample,
        settled or not: the figures report what was measured.
    #>
    param([Parameter(Mandatory)] $Start, [int] $Slack = 8, [double] $TimeoutSeconds = 15)

    $clock = [System.Diagnostics.Stopwatch]::StartNew()
    while ($true) {
        $sample = Get-StressProcessSample
        if ($sample.Descriptors -le $Start.Descriptors + $Slack -or $clock.Elapsed.TotalSeconds -ge $TimeoutSeconds) {
            return $sample
        }
        # A bounded wait between samples; nothing announces that a descriptor was closed.
        $null = [System.Threading.WaitHandle]::WaitAny(@([System.Threading.ManualResetEvent]::new($false)), 250)
    }
}

function New-StressErrorTally {
    # Error ids -> counts; Add-StressError fills it.
    [System.Collections.Generic.SortedDictionary[string, int]]::new([System.StringComparer]::Ordinal)
}

function Get-StressErrorId {
    <#
    .SYNOPSIS
        The SockPS error id of a failure: the first part of an ErrorRecord's
        FullyQualifiedErrorId, or the Kind of the SocketOperationException behind an exception
        a connection method threw; anything else is named by its .NET type, so it stands out.
    #>
    param([Parameter(Mandatory)] $Failure)

    if ($Failure -is [System.Management.Automation.ErrorRecord]) {
        $exception = $Failure.Exception
        $socketError = $exception -as [SockPS.Core.SocketOperationException]
        if ($socketError -or "$($Failure.FullyQualifiedErrorId)" -like '*,SockPS.*') {
            return ("$($Failure.FullyQualifiedErrorId)" -split ',')[0]
        }
    }
    else {
        $exception = $Failure
    }

    for ($current = $exception; $null -ne $current; $current = $current.InnerException) {
        if ($current -is [SockPS.Core.SocketOperationException]) {
            return [string]$current.Kind
        }
    }
    "raw:$($exception.GetType().FullName)"
}

function Add-StressError {
    param([Parameter(Mandatory)] $Tally, [Parameter(Mandatory)] $Failure)

    $id = Get-StressErrorId -Failure $Failure
    $count = 0
    $null = $Tally.TryGetValue($id, [ref]$count)
    $Tally[$id] = $count + 1
}

function New-StressFigures {
    <#
    .SYNOPSIS
        One scenario's figures. Unexpected counts the errors whose id is not in -Expected (and
        for scenarios that expect an exact number of an id, the difference).
    #>
    param(
        [Parameter(Mandatory)] [string] $Scenario,
        [Parameter(Mandatory)] [double] $Seconds,
        [long] $Clients,
        [long] $Operations,
        [long] $Bytes,
        [long] $Mismatches,
        $Errors = (New-StressErrorTally),
        [string[]] $Expected = @(),
        [long] $Unexpected = 0,
        [Parameter(Mandatory)] $Start,
        [Parameter(Mandatory)] $End,
        [string] $Notes = ''
    )

    foreach ($id in $Errors.Keys) {
        if ($id -notin $Expected) {
            $Unexpected += $Errors[$id]
        }
    }

    [pscustomobject]@{
        PSTypeName     = 'SockPS.Stress.Figures'
        Scenario       = $Scenario
        Seconds        = [math]::Round($Seconds, 1)
        Clients        = $Clients
        Operations     = $Operations
        Bytes          = $Bytes
        Mismatches     = $Mismatches
        Errors         = if ($Errors.Count) { ($Errors.GetEnumerator() | ForEach-Object { "$($_.Key)=$($_.Value)" }) -join ' ' } else { '-' }
        ErrorCounts    = $Errors
        Unexpected     = $Unexpected
        DescriptorsStart = $Start.Descriptors
        DescriptorsEnd = $End.Descriptors
        ThreadsStart   = $Start.Threads
        ThreadsEnd     = $End.Threads
        WorkingSetStartMiB = $Start.WorkingSetMiB
        WorkingSetEndMiB = $End.WorkingSetMiB
        HeapStartMiB   = $Start.HeapMiB
        HeapEndMiB     = $End.HeapMiB
        Notes          = $Notes
    }
}

# The reference stream both sides can compute: for bytes, the SHA-256 digests of "seed:0",
# "seed:1", ... end to end, cut at the size; for lines, their hex forms, one a line.
function Get-StressContent {
    param([int] $Seed, [int] $Size, [switch] $Lines)

    $sha = [System.Security.Cryptography.SHA256]
    $utf8 = [System.Text.Encoding]::UTF8
    if ($Lines) {
        $builder = [System.Text.StringBuilder]::new($Size * 65)
        for ($i = 0; $i -lt $Size; $i++) {
            $null = $builder.Append([System.Convert]::ToHexString($sha::HashData($utf8.GetBytes("${Seed}:$i"))).ToLowerInvariant()).Append("`n")
        }
        return , $utf8.GetBytes($builder.ToString())
    }

    $bytes = [byte[]]::new($Size)
    for ($i = 0; $i * 32 -lt $Size; $i++) {
        $digest = $sha::HashData($utf8.GetBytes("${Seed}:$i"))
        [System.Array]::Copy($digest, 0, $bytes, $i * 32, [math]::Min(32, $Size - $i * 32))
    }
    , $bytes
}

function Get-StressSha256 {
    param([AllowEmptyCollection()] [byte[]] $Bytes)
    [System.Convert]::ToHexString([System.Security.Cryptography.SHA256]::HashData([byte[]]$Bytes))
}

$script:ResetPeer = @'
import hashlib, socket, struct, sys, threading

def content(seed, size, lines):
    if lines:
        return b''.join(hashlib.sha256(b'%d:%d' % (seed, i)).hexdigest().encode() + b'\n' for i in range(size))
    out = b''.join(hashlib.sha256(b'%d:%d' % (seed, i)).digest() for i in range((size + 31) // 32))
    return out[:size]

def read_line(c):
    line = b''
    while not line.endswith(b'\n'):
        b = c.recv(1)
        if not b:
            return None
        line += b
    return line.decode().strip()

def serve(c):
    try:
        request = read_line(c)
        if request is None:
            return
        mode, seed, size = request.split()
        c.sendall(content(int(seed), int(size), mode == 'lines'))
        # Reset only once the client says it has every byte: a reset discards what is still
        # in this side's send buffer, and the test is about bytes that did arrive.
        if read_line(c) is None:
            return
        c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack('ii', 1, 0))
    except OSError:
        pass
    finally:
        c.close()

s = socket.socket()
s.bind(('127.0.0.1', 0))
s.listen(128)
print('port', s.getsockname()[1], flush=True)
while True:
    c, _ = s.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
'@

function Invoke-StressResetDelivery {
    <#
    .SYNOPSIS
        Peers that send data and then reset (SO_LINGER 0), received with -ToEnd -AsByteArray,
        -Line -Continuous and -OutFile in turn: every byte must come first (SHA-256 equal), then
        exactly one ConnectionReset, and the next receive must see a plain end.
    #>
    [CmdletBinding()]
    param([double] $Seconds = 5, [int] $MaxSize = 300000, [int] $Seed = 1)

    $start = Get-StressProcessSample
    $errors = New-StressErrorTally
    $random = [System.Random]::new($Seed)
    $folder = Join-Path -Path ([System.IO.Path]::GetTempPath()) -ChildPath "sockps-stress-$PID-$([guid]::NewGuid().ToString('N').Substring(0, 8))"
    $null = New-Item -ItemType Directory -Path $folder
    $peer = Start-TestProcess -FilePath /usr/bin/python3 -ArgumentList @('-c', $script:ResetPeer)
    $operations = 0; $bytes = 0; $mismatches = 0; $unexpected = 0
    $clock = [System.Diagnostics.Stopwatch]::StartNew()
    try {
        $port = [int](Wait-TestProcessLine -Process $peer -Pattern '^port (\d+)').Groups[1].Value
        do {
            $kind = @('ToEnd', 'Line', 'OutFile')[$operations % 3]
            $lines = $kind -eq 'Line'
            $size = if ($lines) { $random.Next(1, [math]::Max(2, [int]($MaxSize / 65))) } else { $random.Next(1, $MaxSize) }
            $contentSeed = $random.Next()
            $expected = Get-StressContent -Seed $contentSeed -Size $size -Lines:$lines

            $connection = Connect-Socket -ComputerName 127.0.0.1 -Port $port -ErrorAction Stop
            try {
                $connection.SendLine("$(if ($lines) { 'lines' } else { 'bytes' }) $contentSeed $size")
                Wait-TestCondition -TimeoutSeconds 30 -Description "the peer's $($expected.Length) bytes arriving" -Condition {
                    $connection.BytesReceived -ge $expected.Length
                }
                # The reset is on its way while the receive starts: it lands before or during it.
                $connection.SendLine('go')
                $failed = $null
                switch ($kind) {
                    'ToEnd' {
                        $received = Receive-SocketData -Connection $connection -ToEnd -AsByteArray -TimeoutSeconds 30 -ErrorVariable failed -ErrorAction SilentlyContinue
                        $got = if ($null -eq $received) { [byte[]]@() } else { [byte[]]$received }
                    }
                    'Line' {
                        $received = @(Receive-SocketData -Connection $connection -Line -Continuous -TimeoutSeconds 30 -ErrorVariable failed -ErrorAction SilentlyContinue)
                        $got = [System.Text.Encoding]::UTF8.GetBytes((@($received | ForEach-Object { "$_`n" }) -join ''))
                    }
                    'OutFile' {
                        $file = Join-Path -Path $folder -ChildPath "reset-$operations.bin"
                        Receive-SocketData -Connection $connection -OutFile $file -TimeoutSeconds 30 -ErrorVariable failed -ErrorAction SilentlyContinue
                        $got = if (Test-Path -LiteralPath $file) { [System.IO.File]::ReadAllBytes($file) } else { [byte[]]@() }
                        Remove-Item -LiteralPath $file -ErrorAction SilentlyContinue
                    }
                }
                foreach ($record in @($failed)) {
                    Add-StressError -Tally $errors -Failure $record
                }
                $resets = @($failed | Where-Object { (Get-StressErrorId -Failure $_) -eq 'ConnectionReset' }).Count
                if ($resets -ne 1) {
                    # Exactly one reset per connection: none (lost) or two (reported twice) is a fault.
                    $unexpected += [math]::Max(1, [math]::Abs($resets - 1))
                }
                if ((Get-StressSha256 $got) -ne (Get-StressSha256 $expected)) {
                    $mismatches++
                }
                $bytes += $got.Length

                # Reported once: the next receive sees the end, with no second error.
                $again = $null
                $null = Receive-SocketData -Connection $connection -TimeoutSeconds 5 -ErrorVariable again -ErrorAction SilentlyContinue
                foreach ($record in @($again)) {
                    Add-StressError -Tally $errors -Failure $record
                    $unexpected++
                }
            }
            finally {
                Disconnect-Socket -Connection $connection -ErrorAction SilentlyContinue
            }
            $operations++
        } while ($clock.Elapsed.TotalSeconds -lt $Seconds)
    }
    finally {
        Stop-TestProcess -Process $peer
        Remove-Item -LiteralPath $folder -Recurse -Force -ErrorAction SilentlyContinue
    }
    $elapsed = $clock.Elapsed.TotalSeconds

    New-StressFigures -Scenario 'reset: data first, one reset' -Seconds $elapsed -Clients $operations -Operations $operations `
        -Bytes $bytes -Mismatches $mismatches -Errors $errors -Expected @('ConnectionReset') -Unexpected $unexpected `
        -Start $start -End (Wait-StressSettled -Start $start) -Notes "python3 peers resetting (SO_LINGER 0); -ToEnd, -Line -Continuous, -OutFile in turn, up to $MaxSize bytes"
}

function Invoke-StressRoundTrip {
    <#
    .SYNOPSIS
        -Clients SockPS clients at once (ForEach-Object -Parallel), each doing random-size round
        trips (1 byte to -MaxSize) through a socat echo peer until the time is up; every echo's
        SHA-256 must equal what was sent.
    #>
    [CmdletBinding()]
    param([double] $Seconds = 5, [int] $Clients = 50, [int] $MaxSize = 262144, [int] $Seed = 2)

    $start = Get-StressProcessSample
    $errors = New-StressErrorTally
    $echo = Start-SocatEcho -Fork
    $echoPort = $echo.Port
    $modulePath = Get-StressModulePath
    $clock = [System.Diagnostics.Stopwatch]::StartNew()
    try {
        $results = 1..$Clients | ForEach-Object -ThrottleLimit $Clients -Parallel {
            Import-Module $using:modulePath
            $deadline = [datetime]::UtcNow.AddSeconds($using:Seconds)
            $random = [System.Random]::new($using:Seed * 1000 + $_)
            $result = @{ Trips = 0; Bytes = 0L; Mismatches = 0; Errors = [System.Collections.Generic.List[string]]::new() }
            try {
                $connection = Connect-Socket -ComputerName 127.0.0.1 -Port $using:echoPort -ReceiveTimeoutSeconds 60 -ErrorAction Stop
                try {
                    do {
                        # Mostly small, sometimes large: 1 byte to MaxSize.
                        $size = if ($random.Next(4) -eq 0) { $random.Next(1, $using:MaxSize + 1) } else { $random.Next(1, 16385) }
                        $data = [byte[]]::new($size)
                        $random.NextBytes($data)
                        $connection.Send($data)
                        $back = $connection.Receive($size)
                        if ($null -eq $back -or [System.Convert]::ToHexString([System.Security.Cryptography.SHA256]::HashData([byte[]]$back)) -ne
                            [System.Convert]::ToHexString([System.Security.Cryptography.SHA256]::HashData($data))) {
                            $result.Mismatches++
                        }
                        $result.Trips++
                        $result.Bytes += 2L * $size
                    } while ([datetime]::UtcNow -lt $deadline)
                }
                finally {
                    $connection.Close()
                }
            }
            catch {
                $result.Errors.Add($(for ($e = $_.Exception; $e; $e = $e.InnerException) { if ($e -is [SockPS.Core.SocketOperationException]) { [string]$e.Kind; break } }) ?? "raw:$($_.Exception.GetType().FullName)")
            }
            [pscustomobject]$result
        }
    }
    finally {
        Stop-TestProcess -Process $echo.Process
    }
    $elapsed = $clock.Elapsed.TotalSeconds
    foreach ($result in $results) {
        foreach ($id in $result.Errors) {
            $count = 0; $null = $errors.TryGetValue($id, [ref]$count); $errors[$id] = $count + 1
        }
    }

    New-StressFigures -Scenario 'round trips, SHA-256 equal' -Seconds $elapsed -Clients $Clients `
        -Operations ($results | Measure-Object -Property Trips -Sum).Sum -Bytes ($results | Measure-Object -Property Bytes -Sum).Sum `
        -Mismatches ($results | Measure-Object -Property Mismatches -Sum).Sum -Errors $errors -Start $start -End (Wait-StressSettled -Start $start) `
        -Notes "socat echo peer; random sizes 1 B to $([math]::Round($MaxSize / 1KB)) KiB; bytes counted both ways"
}

function Invoke-StressChurn {
    <#
    .SYNOPSIS
        Connect, one line each way, disconnect, as fast as it goes, against a SockPS echo handler
        server: descriptors, threads and heap must come back to where they started.
    #>
    [CmdletBinding()]
    param([double] $Seconds = 5)

    $echoLines = {
        param($Connection)
        while ($null -ne ($line = $Connection.ReceiveLine())) {
            $Connection.SendLine($line)
        }
    }
    $server = Start-SocketServer -ScriptBlock $echoLines -ErrorAction Stop
    $errors = New-StressErrorTally
    $cycles = 0; $bytes = 0; $mismatches = 0
    try {
        # Warm up first (the runspace pool, JIT), so the start figures are the steady state.
        foreach ($i in 1..20) {
            $connection = Connect-Socket -ComputerName 127.0.0.1 -Port $server.Port -ErrorAction Stop
            $connection.SendLine('warm'); $null = $connection.ReceiveLine(); $connection.Close()
        }
        $start = Get-StressProcessSample
        $clock = [System.Diagnostics.Stopwatch]::StartNew()
        do {
            try {
                $connection = Connect-Socket -ComputerName 127.0.0.1 -Port $server.Port -ReceiveTimeoutSeconds 30 -ErrorAction Stop
                try {
                    $text = "cycle $cycles"
                    $connection.SendLine($text)
                    if ($connection.ReceiveLine() -cne $text) {
                        $mismatches++
                    }
                    $bytes += 2 * ($text.Length + 1)
                }
                finally {
                    Disconnect-Socket -Connection $connection
                }
            }
            catch {
                Add-StressError -Tally $errors -Failure $_
            }
            $cycles++
        } while ($clock.Elapsed.TotalSeconds -lt $Seconds)
        $elapsed = $clock.Elapsed.TotalSeconds
        # The last handler may still be closing its end; give it a bounded moment.
        try {
            Wait-TestCondition -TimeoutSeconds 10 -Description 'the last connections closing' -Condition { @(Get-SocketConnection).Count -eq 0 }
        }
        catch {
            # Reported in the figures below.
        }
        $openAfter = @(Get-SocketConnection).Count
    }
    finally {
        Stop-SocketServer -Server $server
    }

    New-StressFigures -Scenario 'connect/disconnect churn' -Seconds $elapsed -Clients $cycles -Operations $cycles -Bytes $bytes `
        -Mismatches $mismatches -Errors $errors -Start $start -End (Wait-StressSettled -Start $start) `
        -Notes "SockPS echo handler server; $openAfter connections listed after the last cycle; start figures after 20 warm-up cycles"
}

function Invoke-StressUnreadSender {
    <#
    .SYNOPSIS
        A sender pushing 1 MiB blocks at a connection whose receiving end nobody reads, for the
        time given: the sender must be held back (BytesSent stops growing) and memory must stay
        flat; then the receiving end reads everything and its SHA-256 must equal what was sent.
    #>
    [CmdletBinding()]
    param([double] $Seconds = 5, [int] $ChunkSize = 1MB)

    $start = Get-StressProcessSample
    $errors = New-StressErrorTally
    $server = Start-SocketServer -ErrorAction Stop
    $client = Connect-Socket -ComputerName 127.0.0.1 -Port $server.Port -ErrorAction Stop
    $accepted = Wait-SocketConnection -Server $server -TimeoutSeconds 20 -ErrorAction Stop
    $chunk = Get-StressContent -Seed 7 -Size $ChunkSize
    $stop = [System.Threading.ManualResetEventSlim]::new($false)

    # The sender: its own runspace, so its blocked sends do not block the measuring.
    $state = [System.Management.Automation.Runspaces.InitialSessionState]::CreateDefault2()
    $state.ImportPSModule((Get-StressModulePath))
    $runspace = [runspacefactory]::CreateRunspace($state)
    $runspace.Open()
    $shell = [powershell]::Create()
    $shell.Runspace = $runspace
    $null = $shell.AddScript({
        param($Connection, $Chunk, $Stop)
        $sent = 0
        while (-not $Stop.IsSet) {
            $Connection.Send($Chunk)
            $sent++
        }
        $sent
    }).AddArgument($client).AddArgument($chunk).AddArgument($stop)
    $handle = $shell.BeginInvoke()

    $clock = [System.Diagnostics.Stopwatch]::StartNew()
    $peakWorkingSet = 0.0
    $halfway = $null
    $mismatches = 0; $bytes = 0
    try {
        # Sample once a second while the receiver stays unread; the wait is on the sender's
        # handle, which ends the loop early if the sender fails.
        while ($clock.Elapsed.TotalSeconds -lt $Seconds -and -not $handle.IsCompleted) {
            $null = $handle.AsyncWaitHandle.WaitOne(1000)
            $process = [System.Diagnostics.Process]::GetCurrentProcess()
            $peakWorkingSet = [math]::Max($peakWorkingSet, $process.WorkingSet64 / 1MB)
            $process.Dispose()
            if ($null -eq $halfway -and $clock.Elapsed.TotalSeconds -ge $Seconds / 2) {
                $halfway = $client.BytesSent
            }
        }
        $held = $client.BytesSent
        if ($null -eq $halfway) { $halfway = $held }

        # Release the sender and read everything it sent.
        $stop.Set()
        $hash = [System.Security.Cryptography.IncrementalHash]::CreateHash('SHA256')
        $received = 0L
        $drain = [System.Diagnostics.Stopwatch]::StartNew()
        while (-not ($handle.IsCompleted -and $received -ge $client.BytesSent)) {
            if ($drain.Elapsed.TotalSeconds -gt 120) {
                throw "The unread connection was not drained within 120 s: $received of $($client.BytesSent) bytes."
            }
            if ($accepted.Available -gt 0 -or $received -lt $client.BytesSent) {
                $piece = $accepted.ReceiveAvailableBytes()
                if ($null -eq $piece) { break }
                $hash.AppendData([byte[]]$piece)
                $received += $piece.Length
            }
            else {
                # Nothing buffered yet: wait for the sender to end or for the next bytes.
                $null = $handle.AsyncWaitHandle.WaitOne(20)
            }
        }
        $sentChunks = $shell.EndInvoke($handle) | Select-Object -Last 1
        foreach ($record in $shell.Streams.Error) {
            Add-StressError -Tally $errors -Failure $record
        }
        $expectedHash = [System.Security.Cryptography.IncrementalHash]::CreateHash('SHA256')
        for ($i = 0; $i -lt $sentChunks; $i++) { $expectedHash.AppendData($chunk) }
        if ([System.Convert]::ToHexString($hash.GetHashAndReset()) -ne [System.Convert]::ToHexString($expectedHash.GetHashAndReset())) {
            $mismatches++
        }
        $bytes = $received
    }
    catch {
        Add-StressError -Tally $errors -Failure $_
    }
    finally {
        $stop.Set()
        $client, $accepted | Disconnect-Socket -ErrorAction SilentlyContinue
        Stop-SocketServer -Server $server
        $shell.Dispose()
        $runspace.Dispose()
    }
    $elapsed = $clock.Elapsed.TotalSeconds
    $unexpected = 0
    # Held back: no progress in the second half, and no more in flight than buffers hold.
    if ($held -ne $halfway -or $held -gt 64MB) { $unexpected++ }

    New-StressFigures -Scenario 'sender vs unread connection' -Seconds $elapsed -Clients 1 -Operations $sentChunks -Bytes $bytes `
        -Mismatches $mismatches -Errors $errors -Unexpected $unexpected -Start $start -End (Wait-StressSettled -Start $start) `
        -Notes ("held at {0:N1} MiB sent (halfway {1:N1} MiB); peak working set {2:N0} MiB" -f ($held / 1MB), ($halfway / 1MB), $peakWorkingSet)
}

function Invoke-StressHostileClients {
    <#
    .SYNOPSIS
        -SilentClients clients connect to a SockPS echo handler server and say nothing (some are
        replaced as it goes), while a good client connects, sends a line and waits for the echo,
        again and again: every good round trip must succeed, and the slowest is reported.
    #>
    [CmdletBinding()]
    param([double] $Seconds = 5, [int] $SilentClients = 300, [int] $Seed = 5)

    $echoLines = {
        param($Connection)
        while ($null -ne ($line = $Connection.ReceiveLine())) {
            $Connection.SendLine($line)
        }
    }
    $start = Get-StressProcessSample
    $errors = New-StressErrorTally
    $random = [System.Random]::new($Seed)
    $server = Start-SocketServer -ReceiveTimeoutSeconds 0 -ScriptBlock $echoLines -ErrorAction Stop
    $silent = [System.Collections.Generic.List[object]]::new()
    $rounds = 0; $mismatches = 0; $bytes = 0; $replaced = 0
    $latencies = [System.Collections.Generic.List[double]]::new()
    $clock = [System.Diagnostics.Stopwatch]::StartNew()
    try {
        foreach ($i in 1..$SilentClients) {
            $silent.Add((Connect-Socket -ComputerName 127.0.0.1 -Port $server.Port -ErrorAction Stop))
        }
        # The time given is for the good client, once every silent one is in.
        $clock.Restart()
        do {
            try {
                $watch = [System.Diagnostics.Stopwatch]::StartNew()
                $good = Connect-Socket -ComputerName 127.0.0.1 -Port $server.Port -ReceiveTimeoutSeconds 10 -ErrorAction Stop
                try {
                    $text = "good $rounds"
                    $good.SendLine($text)
                    if ($good.ReceiveLine() -cne $text) { $mismatches++ }
                    $latencies.Add($watch.Elapsed.TotalMilliseconds)
                    $bytes += 2 * ($text.Length + 1)
                }
                finally {
                    $good.Close()
                }
            }
            catch {
                Add-StressError -Tally $errors -Failure $_
            }
            $rounds++

            # Churn among the silent: a few leave, as many new ones come.
            if ($rounds % 5 -eq 0) {
                foreach ($n in 1..10) {
                    $at = $random.Next($silent.Count)
                    $silent[$at].Close()
                    $silent[$at] = Connect-Socket -ComputerName 127.0.0.1 -Port $server.Port -ErrorAction Stop
                    $replaced++
                }
            }
        } while ($clock.Elapsed.TotalSeconds -lt $Seconds)
        $evicted = $server.Handlers.Evicted
    }
    finally {
        foreach ($connection in $silent) { $connection.Close() }
        Stop-SocketServer -Server $server
    }
    $elapsed = $clock.Elapsed.TotalSeconds
    $sorted = @($latencies | Sort-Object)
    $max = if ($sorted.Count) { $sorted[-1] } else { 0 }
    $p99 = if ($sorted.Count) { $sorted[[math]::Min($sorted.Count - 1, [int][math]::Floor($sorted.Count * 0.99))] } else { 0 }

    New-StressFigures -Scenario 'silent clients vs a good client' -Seconds $elapsed -Clients ($SilentClients + $replaced + $rounds) `
        -Operations $rounds -Bytes $bytes -Mismatches $mismatches -Errors $errors -Start $start -End (Wait-StressSettled -Start $start) `
        -Notes ("{0} silent at once, {1} replaced, {2} evicted; good round trip p99 {3:N0} ms, max {4:N0} ms" -f $SilentClients, $replaced, $evicted, $p99, $max)
}

function Invoke-StressSoak {
    <#
    .SYNOPSIS
        The soak: a SockPS echo handler server (Start-SocketServer -ScriptBlock) under -Clients
        clients at once for -Seconds, the clients churning (each connection lives for a random
        number of round trips, then a new one takes its place). Clients run in -Workers
        runspaces (ForEach-Object -Parallel), each keeping Clients/Workers connections busy:
        a line to every connection, then every echo; each must equal what was sent.
    #>
    [CmdletBinding()]
    param([double] $Seconds = 10, [int] $Clients = 100, [int] $Workers = 10, [int] $Seed = 6)

    $echoLines = {
        param($Connection)
        while ($null -ne ($line = $Connection.ReceiveLine())) {
            $Connection.SendLine($line)
        }
    }
    $start = Get-StressProcessSample
    $errors = New-StressErrorTally
    $server = Start-SocketServer -ScriptBlock $echoLines -ThrottleLimit ($Clients + 10) -ErrorAction Stop
    $modulePath = Get-StressModulePath
    $serverPort = $server.Port
    $perWorker = [math]::Ceiling($Clients / $Workers)
    $clock = [System.Diagnostics.Stopwatch]::StartNew()
    $samples = [System.Collections.Generic.List[object]]::new()
    try {
        $results = 1..$Workers | ForEach-Object -ThrottleLimit $Workers -Parallel {
            Import-Module $using:modulePath
            $deadline = [datetime]::UtcNow.AddSeconds($using:Seconds)
            $random = [System.Random]::new($using:Seed * 1000 + $_)
            $port = $using:serverPort
            $alphabet = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 .,:;!?-_=+*/()[]{}<>"''éüß€日本😀'
            $result = @{ Connections = 0; Trips = 0; Bytes = 0L; Mismatches = 0; Errors = [System.Collections.Generic.List[string]]::new() }
            $slots = @(for ($i = 0; $i -lt $using:perWorker; $i++) { @{ Connection = $null; Left = 0; Sent = $null } })
            function Get-Id($ErrorRecord) {
                for ($e = $ErrorRecord.Exception; $e; $e = $e.InnerException) {
                    if ($e -is [SockPS.Core.SocketOperationException]) { return [string]$e.Kind }
                }
                "raw:$($ErrorRecord.Exception.GetType().FullName)"
            }
            do {
                foreach ($slot in $slots) {
                    try {
                        if ($slot.Left -le 0) {
                            if ($slot.Connection) { $slot.Connection.Close() }
                            $slot.Connection = Connect-Socket -ComputerName 127.0.0.1 -Port $port -ReceiveTimeoutSeconds 60 -ErrorAction Stop
                            $slot.Left = $random.Next(1, 40)
                            $result.Connections++
                        }
                        $builder = [System.Text.StringBuilder]::new()
                        $length = $random.Next(0, 2000)
                        for ($i = 0; $i -lt $length; $i++) { $null = $builder.Append($alphabet[$random.Next($alphabet.Length)]) }
                        $slot.Sent = $builder.ToString()
                        $slot.Connection.SendLine($slot.Sent)
                    }
                    catch {
                        $result.Errors.Add((Get-Id $_)); $slot.Left = 0; $slot.Sent = $null
                    }
                }
                foreach ($slot in $slots) {
                    if ($null -eq $slot.Sent) { continue }
                    try {
                        $back = $slot.Connection.ReceiveLine()
                        $utf8 = [System.Text.Encoding]::UTF8
                        if ($null -eq $back -or [System.Convert]::ToHexString([System.Security.Cryptography.SHA256]::HashData($utf8.GetBytes($back))) -ne
                            [System.Convert]::ToHexString([System.Security.Cryptography.SHA256]::HashData($utf8.GetBytes($slot.Sent)))) {
                            $result.Mismatches++
                        }
                        $result.Trips++
                        $result.Bytes += 2L * ($utf8.GetByteCount($slot.Sent) + 1)
                        $slot.Left--
                    }
                    catch {
                        $result.Errors.Add((Get-Id $_)); $slot.Left = 0
                    }
                    $slot.Sent = $null
                }
            } while ([datetime]::UtcNow -lt $deadline)
            foreach ($slot in $slots) { if ($slot.Connection) { $slot.Connection.Close() } }
            [pscustomobject]$result
        }
        $handlers = $server.Handlers
        $handlerNote = "handlers: $($handlers.Completed) completed, $($handlers.Failed) failed"
    }
    finally {
        Stop-SocketServer -Server $server
    }
    $elapsed = $clock.Elapsed.TotalSeconds
    foreach ($result in $results) {
        foreach ($id in $result.Errors) {
            $count = 0; $null = $errors.TryGetValue($id, [ref]$count); $errors[$id] = $count + 1
        }
    }

    New-StressFigures -Scenario 'soak: echo handler server' -Seconds $elapsed -Clients ($results | Measure-Object -Property Connections -Sum).Sum `
        -Operations ($results | Measure-Object -Property Trips -Sum).Sum -Bytes ($results | Measure-Object -Property Bytes -Sum).Sum `
        -Mismatches ($results | Measure-Object -Property Mismatches -Sum).Sum -Errors $errors -Start $start -End (Wait-StressSettled -Start $start) `
        -Notes "$Clients clients at once in $Workers runspaces, connections churning (1-39 round trips each, lines of 0-2000 chars with non-ASCII); $handlerNote"
}

function Format-StressTable {
    <#
    .SYNOPSIS
        The figures as a Markdown table (README's Reliability section, out/stress/latest.md).
    #>
    param([Parameter(Mandatory)] [object[]] $Figures)

    '| Scenario | Seconds | Clients | Operations | Bytes | SHA-256 mismatches | Errors by id | Unexpected | Descriptors start/end | Threads start/end | Working set MiB start/end |'
    '|---|---:|---:|---:|---:|---:|---|---:|---:|---:|---:|'
    foreach ($f in $Figures) {
        '| {0} | {1:N0} | {2:N0} | {3:N0} | {4:N0} | {5} | {6} | {7} | {8} / {9} | {10} / {11} | {12:N0} / {13:N0} |' -f $f.Scenario, $f.Seconds, $f.Clients,
            $f.Operations, $f.Bytes, $f.Mismatches, $f.Errors, $f.Unexpected, $f.DescriptorsStart, $f.DescriptorsEnd, $f.ThreadsStart,
            $f.ThreadsEnd, $f.WorkingSetStartMiB, $f.WorkingSetEndMiB
    }
}

Export-ModuleMember -Function @(
    'Get-StressProcessSample'
    'Invoke-StressResetDelivery'
    'Invoke-StressRoundTrip'
    'Invoke-StressChurn'
    'Invoke-StressUnreadSender'
    'Invoke-StressHostileClients'
    'Invoke-StressSoak'
    'Format-StressTable'
)
