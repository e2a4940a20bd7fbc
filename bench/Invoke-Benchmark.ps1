#Requires -Version 7.4
<#
.SYNOPSIS
    Measures SockPS side by side with what a skilled user would otherwise use, on loopback, and
    prints min/median/max per contender, the ratios of the medians and the issue's targets.
.DESCRIPTION
    Seven cases (-Case selects them), each contender measured -Repeat times, round-robin so a slow
    moment of the machine spreads over every contender instead of hitting one:

    bulk  -BulkSize bytes (1 GiB) of random data from a file under /dev/shm to /dev/null:
          SockPS (Send-SocketData -Path to Receive-SocketData -OutFile in a second runspace), a C#
          NetworkStream copy with 64 KiB and 1 MiB buffers, a pwsh TcpClient 64 KiB loop, socat
          (defaults and -b65536), ncat and iperf3 (default writes and -l 1M). GB/s = 1e9 bytes/s.
          One extra SockPS transfer into a real file is checked by SHA-256.
    rr    -RoundTrips 64-byte request/response round trips against one C# echo server: the
          SockPS cmdlets, the connection's methods, raw NetworkStream calls in pwsh, a C# client.
    idle  -IdleConnections connections held by a SockPS server (bench/IdleServer.ps1 in its own
          pwsh) and by a minimal C# server: accept rate and resident memory per connection.
    udp   -Datagrams 512-byte datagrams: `$payloads | Send-SocketData`, a pwsh UdpClient loop and a
          C# sender, into a bound socket nobody reads.
    relay the bulk case's -BulkSize source through a port forward: the C# bulk-send client, the
          forwarder, the C# bulk-recv target (1 MiB buffers at both ends, so only the forwarder
          differs): Start-SocketRelay, `socat -b65536 TCP-LISTEN TCP` and no forwarder at all.
    handler -HandlerClients concurrent C# clients (rr-clients), -HandlerRoundTrips 64-byte round
          trips each, against a Start-SocketServer -ScriptBlock echo handler and against the C#
          echo server. Informational: no target.
    portscan -PortChecks TCP port checks of 127.0.0.1, half to listening ports (Open), half to
          ports bound but not listening (Refused), shuffled: Test-SocketPort, a naive pwsh loop (one
          TcpClient.ConnectAsync at a time, with a timeout), pwsh starting every ConnectAsync at
          once, and a sh loop running `ncat -z` per port (the first 100 only: ncat takes 0.1 s to
          start). Each contender's count of open ports is checked. Informational: no target
          (issue 7 asks for 1,000 checks "in seconds").

    The C# baselines (bench/Baselines) are built first into out/bench-baselines. socat, ncat and
    iperf3 are used where installed. Every child process has a bounded wait and is killed when it
    outlives it. The report goes to the console and, as Markdown, to -ResultPath.

    Exit code 0 when every contender that could run did (missed targets are reported, not
    failures); 1 when a contender or the correctness check failed.
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

$script:RunClock = [System.Diagnostics.Stopwatch]::StartNew()

function Get-LoadAverage {
    # The 1-minute load average (Linux), or '?': a busy machine explains a noisy run.
    if (Test-Path -LiteralPath '/proc/loadavg') {
        return ((Get-Content -LiteralPath '/proc/loadavg' -TotalCount 1) -split ' ')[0]
    }
    return '?'
}
$script:LoadAtStart = Get-LoadAverage
$script:RepoRoot = Split-Path -Path $PSScriptRoot -Parent
$script:Invariant = [cultureinfo]::InvariantCulture

if ($Quick) {
    # Quick sizes, unless a size was given explicitly.
    if (-not $PSBoundParameters.ContainsKey('Repeat')) { $Repeat = 1 }
    if (-not $PSBoundParameters.ContainsKey('BulkSize')) { $BulkSize = 8MB }
    if (-not $PSBoundParameters.ContainsKey('RoundTrips')) { $RoundTrips = 200 }
    if (-not $PSBoundParameters.ContainsKey('IdleConnections')) { $IdleConnections = @(100) }
    if (-not $PSBoundParameters.ContainsKey('Datagrams')) { $Datagrams = 2000 }
    if (-not $PSBoundParameters.ContainsKey('HandlerClients')) { $HandlerClients = 2 }
    if (-not $PSBoundParameters.ContainsKey('HandlerRoundTrips')) { $HandlerRoundTrips = 100 }
    if (-not $PSBoundParameters.ContainsKey('PortChecks')) { $PortChecks = 40 }
}
$IdleConnections = @($IdleConnections | Sort-Object -Unique)

#region Child processes ---------------------------------------------------------------------------

if (-not ('SockPSBench.Watchdog' -as [type])) {
    Add-Type -Language CSharp -TypeDefinition @'
using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Text;
using System.Text.RegularExpressions;
using System.Threading;

namespace SockPSBench
{
    /// <summary>
    /// A child process with stdin, stdout and stderr redirected; the output is collected line by
    /// line under a lock, so the benchmark can wait for a line with a timeout (the events arrive
    /// on thread-pool threads, where a script block has no runspace).
    /// </summary>
    public sealed class ChildProcess : IDisposable
    {
        private readonly object _gate = new object();
        private readonly List<string> _output = new List<string>();
        private readonly List<string> _error = new List<string>();
        private readonly List<string> _combined = new List<string>();
        private int _outputCursor;
        private int _errorCursor;
        private bool _outputClosed;
        private bool _errorClosed;
        private bool _disposed;

        public ChildProcess(string fileName, string[] arguments, string workingDirectory)
        {
            var startInfo = new ProcessStartInfo(fileName)
            {
                UseShellExecute = false,
                RedirectStandardInput = true,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                StandardOutputEncoding = new UTF8Encoding(false),
                StandardErrorEncoding = new UTF8Encoding(false),
                WorkingDirectory = workingDirectory,
            };
            foreach (string argument in arguments) startInfo.ArgumentList.Add(argument);
            startInfo.Environment["NO_COLOR"] = "1";

            CommandLine = fileName + " " + string.Join(" ", arguments);
            Process = new Process { StartInfo = startInfo };
            Process.OutputDataReceived += (sender, e) => Add(e.Data, false);
            Process.ErrorDataReceived += (sender, e) => Add(e.Data, true);
            Process.Start();
            Process.BeginOutputReadLine();
            Process.BeginErrorReadLine();
        }

        public Process Process { get; }

        public string CommandLine { get; }

        public bool HasExited => Process.HasExited;

        public string Output { get { lock (_gate) { return string.Join("\n", _output); } } }

        /// <summary>The first line after the previous match on the stream ("Output", "Error" or
        /// "Any") that matches; null when the timeout passes or the stream ends first.</summary>
        public Match WaitForLine(string pattern, string stream, TimeSpan timeout)
        {
            var regex = new Regex(pattern);
            bool useOutput = !string.Equals(stream, "Error", StringComparison.OrdinalIgnoreCase);
            bool useError = !string.Equals(stream, "Output", StringComparison.OrdinalIgnoreCase);
            var clock = Stopwatch.StartNew();
            lock (_gate)
            {
                while (true)
                {
                    if (useOutput)
                    {
                        for (; _outputCursor < _output.Count; _outputCursor++)
                        {
                            Match m = regex.Match(_output[_outputCursor]);
                            if (m.Success) { _outputCursor++; return m; }
                        }
                    }

                    if (useError)
                    {
                        for (; _errorCursor < _error.Count; _errorCursor++)
                        {
                            Match m = regex.Match(_error[_errorCursor]);
                            if (m.Success) { _errorCursor++; return m; }
                        }
                    }

                    bool ended = (!useOutput || _outputClosed) && (!useError || _errorClosed);
                    TimeSpan left = timeout - clock.Elapsed;
                    if (ended || left <= TimeSpan.Zero) return null;
                    Monitor.Wait(_gate, left);
                }
            }
        }

        /// <summary>Waits for the exit and then, briefly, for the output to drain. False on timeout.</summary>
        public bool WaitForExit(TimeSpan timeout)
        {
            var clock = Stopwatch.StartNew();
            if (!Process.WaitForExit(Milliseconds(timeout))) return false;
            lock (_gate)
            {
                TimeSpan drain = TimeSpan.FromSeconds(5);
                while (!(_outputClosed && _errorClosed))
                {
                    TimeSpan left = drain - clock.Elapsed;
                    if (left <= TimeSpan.Zero) break;
                    Monitor.Wait(_gate, left);
                }
            }

            return true;
        }

        public void CloseInput()
        {
            try { Process.StandardInput.Close(); }
            catch (Exception) { }
        }

        /// <summary>The command, the exit state and the last lines of output, for error messages.</summary>
        public string Transcript(int lines)
        {
            lock (_gate)
            {
                var sb = new StringBuilder();
                sb.Append("command: ").AppendLine(CommandLine);
                sb.Append("process ").Append(Process.Id).Append(": ");
                sb.AppendLine(Process.HasExited ? "exited with code " + Process.ExitCode : "still running");
                int first = Math.Max(0, _combined.Count - lines);
                if (first > 0) sb.Append("(").Append(first).AppendLine(" earlier line(s) left out)");
                for (int i = first; i < _combined.Count; i++) sb.AppendLine(_combined[i]);
                return sb.ToString().TrimEnd();
            }
        }

        /// <summary>Kills the process and its descendants if still running. Idempotent.</summary>
        public void Kill()
        {
            try
            {
                if (!Process.HasExited)
                {
                    Process.Kill(true);
                    Process.WaitForExit(10000);
                }
            }
            catch (InvalidOperationException) { }
            catch (System.ComponentModel.Win32Exception) { }
        }

        public void Dispose()
        {
            if (_disposed) return;
            _disposed = true;
            Kill();
            Process.Dispose();
        }

        private void Add(string line, bool isError)
        {
            lock (_gate)
            {
                if (line == null)
                {
                    if (isError) _errorClosed = true; else _outputClosed = true;
                }
                else
                {
                    (isError ? _error : _output).Add(line);
                    _combined.Add((isError ? "[err] " : "[out] ") + line);
                }

                Monitor.PulseAll(_gate);
            }
        }

        private static int Milliseconds(TimeSpan t) =>
            t <= TimeSpan.Zero ? 0 : t.TotalMilliseconds >= int.MaxValue ? int.MaxValue : (int)t.TotalMilliseconds;
    }

    /// <summary>
    /// The bound on work done in this process (a send or a receive loop that a hung peer would
    /// block forever): when the timeout passes, every registered socket, connection or server is
    /// disposed, which makes the blocked call throw. A script block cannot be a timer callback
    /// (the callback has no runspace), hence this class.
    /// </summary>
    public sealed class Watchdog : IDisposable
    {
        private readonly List<IDisposable> _targets = new List<IDisposable>();
        private readonly Timer _timer;

        public Watchdog(TimeSpan timeout)
        {
            Timeout = timeout;
            _timer = new Timer(_ => Fire(), null, timeout, System.Threading.Timeout.InfiniteTimeSpan);
        }

        public TimeSpan Timeout { get; }

        public bool Fired { get; private set; }

        public void Add(IDisposable target)
        {
            lock (_targets)
            {
                if (!Fired) { _targets.Add(target); return; }
            }

            target.Dispose();
        }

        public void Dispose() => _timer.Dispose();

        private void Fire()
        {
            IDisposable[] targets;
            lock (_targets)
            {
                Fired = true;
                targets = _targets.ToArray();
            }

            foreach (IDisposable target in targets)
            {
                try { target.Dispose(); }
                catch (Exception) { }
            }
        }
    }
}
'@
}

# Every child started, so the final cleanup can stop whatever a failed run left behind.
$script:Children = [System.Collections.Generic.List[SockPSBench.ChildProcess]]::new()

function Start-Child {
    # Starts a process (a name on PATH or a full path) with every stream redirected.
    param(
        [Parameter(Mandatory)] [string] $FilePath,
        [string[]] $ArgumentList = @()
    )

    $child = [SockPSBench.ChildProcess]::new($FilePath, [string[]]$ArgumentList, $script:RepoRoot)
    $script:Children.Add($child)
    return $child
}

function Stop-Child {
    # Kills the process if it still runs and forgets it. Accepts $null; safe to call twice.
    param([AllowNull()] [object[]] $Child)

    foreach ($item in $Child) {
        if ($null -ne $item) {
            $item.Dispose()
            [void]$script:Children.Remove($item)
        }
    }
}

function Wait-ChildLine {
    # Waits for a line matching -Pattern; throws with the child's output when it does not come.
    param(
        [Parameter(Mandatory)] [SockPSBench.ChildProcess] $Child,
        [Parameter(Mandatory)] [string] $Pattern,
        [ValidateSet('Output', 'Error', 'Any')] [string] $Stream = 'Output',
        [Parameter(Mandatory)] [timespan] $Timeout
    )

    $match = $Child.WaitForLine($Pattern, $Stream, $Timeout)
    if ($null -eq $match) {
        $null = $Child.WaitForExit([timespan]::FromSeconds(1))
        throw "No line matching /$Pattern/ within $($Timeout.TotalSeconds) s.`n$($Child.Transcript(30))"
    }
    return $match
}

function Wait-ChildExit {
    # Waits for the exit; throws (with the output) on timeout or, unless -AnyExitCode, a non-zero code.
    param(
        [Parameter(Mandatory)] [SockPSBench.ChildProcess] $Child,
        [Parameter(Mandatory)] [timespan] $Timeout,
        [switch] $AnyExitCode
    )

    if (-not $Child.WaitForExit($Timeout)) {
        throw "Still running after $($Timeout.TotalSeconds) s.`n$($Child.Transcript(30))"
    }
    if (-not $AnyExitCode -and $Child.Process.ExitCode -ne 0) {
        throw "Exited with code $($Child.Process.ExitCode).`n$($Child.Transcript(30))"
    }
    return $Child.Process.ExitCode
}

function Read-ResultLine {
    # The "result key=value ..." line of a baseline (or of bench/IdleServer.ps1) as a hashtable.
    param(
        [Parameter(Mandatory)] [SockPSBench.ChildProcess] $Child,
        [Parameter(Mandatory)] [timespan] $Timeout
    )

    $match = Wait-ChildLine -Child $Child -Pattern '^result (.*)$' -Timeout $Timeout
    $values = @{}
    foreach ($pair in $match.Groups[1].Value -split '\s+') {
        $key, $value = $pair -split '=', 2
        $values[$key] = [double]::Parse($value, $script:Invariant)
    }
    return $values
}

function Get-FreeTcpPort {
    # For tools that cannot report an ephemeral port (ncat, iperf3): a port free a moment ago.
    $listener = [System.Net.Sockets.TcpListener]::new([System.Net.IPAddress]::Loopback, 0)
    $listener.Start()
    try {
        return ([System.Net.IPEndPoint]$listener.LocalEndpoint).Port
    }
    finally {
        $listener.Stop()
    }
}

function Start-ListenerOnFreePort {
    # Starts a listener (-Start receives the port) and waits for -ReadyPattern; when the port was
    # taken in between, tries once more with another.
    param(
        [Parameter(Mandatory)] [scriptblock] $Start,
        [Parameter(Mandatory)] [string] $ReadyPattern,
        [ValidateSet('Output', 'Error', 'Any')] [string] $Stream = 'Any'
    )

    for ($attempt = 1; ; $attempt++) {
        $port = Get-FreeTcpPort
        $child = & $Start $port
        if ($null -ne $child.WaitForLine($ReadyPattern, $Stream, [timespan]::FromSeconds(15))) {
            return [pscustomobject]@{ Port = $port; Child = $child }
        }
        $transcript = $child.Transcript(20)
        Stop-Child $child
        if ($attempt -ge 2) {
            throw "Did not start listening on a free port (two attempts).`n$transcript"
        }
    }
}

function Get-PwshCommand {
    # How to start a pwsh like this one: under `dotnet pwsh` the process is dotnet and the shell
    # is $PSHOME/pwsh.dll.
    $processPath = [Environment]::ProcessPath
    $pwshDll = Join-Path -Path $PSHOME -ChildPath 'pwsh.dll'
    if ([System.IO.Path]::GetFileNameWithoutExtension($processPath) -eq 'dotnet' -and (Test-Path -LiteralPath $pwshDll)) {
        return @{ FilePath = $processPath; Arguments = @($pwshDll) }
    }
    return @{ FilePath = $processPath; Arguments = @() }
}

function Get-DotnetPath {
    $processPath = [Environment]::ProcessPath
    if ([System.IO.Path]::GetFileNameWithoutExtension($processPath) -eq 'dotnet') {
        return $processPath
    }
    $command = Get-Command -Name dotnet -CommandType Application -ErrorAction SilentlyContinue | Select-Object -First 1
    if ($null -eq $command) {
        throw 'dotnet is not on PATH; the C# baselines need it.'
    }
    return $command.Source
}

function Start-Baseline {
    # One of the C# baseline programs (bench/Baselines/Program.cs).
    param([Parameter(Mandatory)] [string[]] $ArgumentList)

    Start-Child -FilePath $script:DotnetPath -ArgumentList (@($script:BaselineDll) + $ArgumentList)
}

function Get-Tool {
    # The full path of a tool on PATH, or $null.
    param([Parameter(Mandatory)] [string] $Name)

    $command = Get-Command -Name $Name -CommandType Application -ErrorAction SilentlyContinue | Select-Object -First 1
    if ($command) { return $command.Source }
    return $null
}

#endregion

#region Runspaces ---------------------------------------------------------------------------------

function New-BenchRunspace {
    # A second runspace of this process, with SockPS imported, for the receiving side.
    $runspace = [runspacefactory]::CreateRunspace()
    $runspace.Open()
    $ps = [powershell]::Create()
    try {
        $ps.Runspace = $runspace
        $null = $ps.AddScript('param($Path) $ErrorActionPreference = "Stop"; Import-Module -Name $Path').AddArgument($script:ModuleManifest)
        $null = $ps.Invoke()
    }
    finally {
        $ps.Dispose()
    }
    return $runspace
}

function Start-RunspaceJob {
    # Runs a script (text, compiled in the target runspace) there without waiting.
    param(
        [Parameter(Mandatory)] [System.Management.Automation.Runspaces.Runspace] $Runspace,
        [Parameter(Mandatory)] [string] $Script,
        [object[]] $ArgumentList = @()
    )

    $ps = [powershell]::Create()
    $ps.Runspace = $Runspace
    $null = $ps.AddScript($Script)
    foreach ($argument in $ArgumentList) {
        $null = $ps.AddArgument($argument)
    }
    [pscustomobject]@{ PowerShell = $ps; Handle = $ps.BeginInvoke() }
}

function Receive-RunspaceJob {
    # The job's output, waiting at most -Timeout; throws what the job threw.
    param(
        [Parameter(Mandatory)] [object] $Job,
        [Parameter(Mandatory)] [timespan] $Timeout
    )

    if (-not $Job.Handle.AsyncWaitHandle.WaitOne($Timeout)) {
        throw "The receiving runspace did not finish within $($Timeout.TotalSeconds) s."
    }
    $output = $Job.PowerShell.EndInvoke($Job.Handle)
    if ($Job.PowerShell.Streams.Error.Count -gt 0) {
        throw "The receiving runspace failed: $($Job.PowerShell.Streams.Error[0])"
    }
    return $output
}

function Stop-RunspaceJob {
    # Stops the job if it still runs (with a bound) and disposes it. Accepts $null.
    param([AllowNull()] [object] $Job)

    if ($null -eq $Job) {
        return
    }
    if (-not $Job.Handle.IsCompleted) {
        $stopping = $Job.PowerShell.BeginStop($null, $null)
        $null = $stopping.AsyncWaitHandle.WaitOne(10000)
    }
    $Job.PowerShell.Dispose()
}

#endregion

#region Results -----------------------------------------------------------------------------------

$script:Rows = [System.Collections.Generic.List[object]]::new()
$script:Ratios = [System.Collections.Generic.List[object]]::new()
$script:Notes = [System.Collections.Generic.List[object]]::new()
$script:Failures = [System.Collections.Generic.List[string]]::new()

function New-Row {
    # One contender's measurements in one case (Status: ok, failed, not installed).
    param(
        [Parameter(Mandatory)] [string] $Case,
        [Parameter(Mandatory)] [string] $Name,
        [Parameter(Mandatory)] [string] $Unit,
        [string] $Status = 'ok',
        [string] $Format = 'N0'
    )

    $row = [pscustomobject]@{
        Case   = $Case
        Name   = $Name
        Unit   = $Unit
        Format = $Format
        Values = [System.Collections.Generic.List[double]]::new()
        Status = $Status
        Error  = ''
    }
    $script:Rows.Add($row)
    return $row
}

function Get-Median {
    param([double[]] $Values)

    if ($Values.Count -eq 0) {
        return $null
    }
    $sorted = [double[]]($Values | Sort-Object)
    $middle = [int][Math]::Floor($sorted.Count / 2)
    if ($sorted.Count % 2 -eq 1) {
        return $sorted[$middle]
    }
    return ($sorted[$middle - 1] + $sorted[$middle]) / 2
}

function Get-RowMedian {
    # The median of a row that ran, else $null.
    param([AllowNull()] [object] $Row)

    if ($null -eq $Row -or $Row.Status -ne 'ok' -or $Row.Values.Count -eq 0) {
        return $null
    }
    return Get-Median -Values $Row.Values.ToArray()
}

function Add-Ratio {
    # A ratio of two medians (either may be missing: then it reads "not measured").
    param(
        [Parameter(Mandatory)] [string] $Case,
        [Parameter(Mandatory)] [string] $Label,
        [AllowNull()] [object] $Numerator,
        [AllowNull()] [object] $Denominator
    )

    $value = $null
    if ($null -ne $Numerator -and $null -ne $Denominator -and [double]$Denominator -ne 0) {
        $value = [double]$Numerator / [double]$Denominator
    }
    $script:Ratios.Add([pscustomobject]@{ Case = $Case; Label = $Label; Value = $value })
    return $value
}

function Add-Note {
    param([Parameter(Mandatory)] [string] $Case, [Parameter(Mandatory)] [string] $Text)

    $script:Notes.Add([pscustomobject]@{ Case = $Case; Text = $Text })
}

function Format-Value {
    param([AllowNull()] [object] $Value, [string] $Format = 'N0')

    if ($null -eq $Value) {
        return '-'
    }
    return ([double]$Value).ToString($Format, $script:Invariant)
}

function Format-Ratio {
    param([AllowNull()] [object] $Value)

    if ($null -eq $Value) {
        return 'not measured'
    }
    return ([double]$Value).ToString('0.00', $script:Invariant) + 'x'
}

function Format-Count {
    param([double] $Value)
    return $Value.ToString('N0', $script:Invariant)
}

function Format-Size {
    param([double] $Bytes)

    if ($Bytes -ge 1GB -and $Bytes % 1GB -eq 0) { return "$($Bytes / 1GB) GiB" }
    if ($Bytes -ge 1MB -and $Bytes % 1MB -eq 0) { return "$($Bytes / 1MB) MiB" }
    if ($Bytes -ge 1KB -and $Bytes % 1KB -eq 0) { return "$($Bytes / 1KB) KiB" }
    return "$(Format-Count $Bytes) bytes"
}

function Invoke-Rounds {
    <#
        Runs every contender -Repeat times, round-robin. A contender is @{ Rows; Run }: Run returns
        one value per row (in order). A contender that throws is marked failed and not run again.
    #>
    param(
        [Parameter(Mandatory)] [string] $CaseName,
        [Parameter(Mandatory)] [object[]] $Contenders
    )

    for ($benchRound = 1; $benchRound -le $Repeat; $benchRound++) {
        foreach ($benchContender in $Contenders) {
            $benchRows = @($benchContender.Rows)
            if ($benchRows[0].Status -ne 'ok') {
                continue
            }
            [GC]::Collect()
            [GC]::WaitForPendingFinalizers()
            try {
                $benchValues = @(& $benchContender.Run)
                if ($benchValues.Count -ne $benchRows.Count) {
                    throw "The run returned $($benchValues.Count) value(s) for $($benchRows.Count) row(s): $($benchValues -join ', ')"
                }
                $benchText = for ($benchIndex = 0; $benchIndex -lt $benchRows.Count; $benchIndex++) {
                    $benchRows[$benchIndex].Values.Add([double]$benchValues[$benchIndex])
                    "$(Format-Value $benchValues[$benchIndex] $benchRows[$benchIndex].Format) $($benchRows[$benchIndex].Unit)"
                }
                Write-Host "  [$CaseName $benchRound/$Repeat] $($benchRows[0].Name): $($benchText -join ', ')"
            }
            catch {
                foreach ($benchRow in $benchRows) {
                    $benchRow.Status = 'failed'
                    $benchRow.Error = "$_"
                }
                $script:Failures.Add("$CaseName / $($benchRows[0].Name): $_")
                Write-Host "  [$CaseName $benchRound/$Repeat] $($benchRows[0].Name): FAILED: $_"
            }
        }
    }
}

#endregion

#region Case a: bulk ------------------------------------------------------------------------------

function New-RandomFile {
    # -Size random bytes in a new file under /dev/shm when it exists (so the disk stays out of
    # the measurement), else in the temp folder.
    param([Parameter(Mandatory)] [long] $Size, [Parameter(Mandatory)] [string] $Tag)

    $folder = if (Test-Path -LiteralPath '/dev/shm' -PathType Container) { '/dev/shm' } else { [System.IO.Path]::GetTempPath() }
    $path = Join-Path -Path $folder -ChildPath "sockps-bench-$PID-$Tag.bin"
    # Unseeded: the xoshiro generator, ten times faster than a seeded System.Random.
    $random = [System.Random]::new()
    $block = [byte[]]::new([Math]::Min($Size, 1MB))
    $file = [System.IO.FileStream]::new($path, [System.IO.FileMode]::Create, [System.IO.FileAccess]::Write, [System.IO.FileShare]::Read, 1)
    try {
        for ($left = $Size; $left -gt 0; $left -= $count) {
            $count = [int][Math]::Min($left, $block.Length)
            $random.NextBytes($block)
            $file.Write($block, 0, $count)
        }
    }
    finally {
        $file.Dispose()
    }
    $script:TempFiles.Add($path)
    return $path
}

function Get-BulkSource {
    # The -BulkSize random file the bulk and relay cases both send, made once per run.
    if (-not ($script:BulkSource -and (Test-Path -LiteralPath $script:BulkSource))) {
        $script:BulkSource = New-RandomFile -Size $BulkSize -Tag 'bulk'
    }
    return $script:BulkSource
}

$script:SockPSReceiver = @'
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

$script:PwshReceiver = @'
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

    $size = (Get-Item -LiteralPath $Source).Length
    $server = Start-SocketServer -Port 0 -Address 127.0.0.1
    $client = $null
    $job = $null
    $watchdog = [SockPSBench.Watchdog]::new($Timeout)
    try {
        $watchdog.Add($server)
        $job = Start-RunspaceJob -Runspace $Runspace -Script $script:SockPSReceiver -ArgumentList @($server, $OutFile, $Timeout.TotalSeconds)
        $watch = [System.Diagnostics.Stopwatch]::StartNew()
        $client = Connect-Socket -ComputerName 127.0.0.1 -Port $server.Port
        $watchdog.Add($client)
        Send-SocketData -Connection $client -Path $Source
        Disconnect-Socket -Connection $client -Shutdown Send
        $received = @(Receive-RunspaceJob -Job $job -Timeout $Timeout)
        $watch.Stop()
        if ($received.Count -ne 1 -or [long]$received[0] -ne $size) {
            throw "The receiver got $($received -join ', ') bytes of $size."
        }
        return $watch.Elapsed.TotalSeconds
    }
    catch {
        if ($watchdog.Fired) { throw "The transfer did not finish within $($Timeout.TotalSeconds) s: $_" }
        throw
    }
    finally {
        $watchdog.Dispose()
        if ($client) { try { $client.Close() } catch { Write-Verbose "close: $_" } }
        $server.Stop()
        Stop-RunspaceJob -Job $job
    }
}

function Measure-PwshBulk {
    # A pwsh script over TcpClient streams with a 64 KiB loop; the receiver in $Runspace.
    param(
        [Parameter(Mandatory)] [string] $Source,
        [Parameter(Mandatory)] [System.Management.Automation.Runspaces.Runspace] $Runspace,
        [Parameter(Mandatory)] [timespan] $Timeout
    )

    $size = (Get-Item -LiteralPath $Source).Length
    $listener = [System.Net.Sockets.TcpListener]::new([System.Net.IPAddress]::Loopback, 0)
    $listener.Start()
    $client = $null
    $file = $null
    $job = $null
    $watchdog = [SockPSBench.Watchdog]::new($Timeout)
    try {
        $job = Start-RunspaceJob -Runspace $Runspace -Script $script:PwshReceiver -ArgumentList @($listener, '/dev/null')
        $watch = [System.Diagnostics.Stopwatch]::StartNew()
        $client = [System.Net.Sockets.TcpClient]::new()
        $watchdog.Add($client)
        $client.Connect([System.Net.IPAddress]::Loopback, ([System.Net.IPEndPoint]$listener.LocalEndpoint).Port)
        $stream = $client.GetStream()
        $file = [System.IO.FileStream]::new($Source, [System.IO.FileMode]::Open, [System.IO.FileAccess]::Read, [System.IO.FileShare]::Read, 1)
        $buffer = [byte[]]::new(65536)
        while (($n = $file.Read($buffer, 0, $buffer.Length)) -gt 0) {
            $stream.Write($buffer, 0, $n)
        }
        $client.Client.Shutdown([System.Net.Sockets.SocketShutdown]::Send)
        $received = @(Receive-RunspaceJob -Job $job -Timeout $Timeout)
        $watch.Stop()
        if ($received.Count -ne 1 -or [long]$received[0] -ne $size) {
            throw "The receiver got $($received -join ', ') bytes of $size."
        }
        return $watch.Elapsed.TotalSeconds
    }
    catch {
        if ($watchdog.Fired) { throw "The transfer did not finish within $($Timeout.TotalSeconds) s: $_" }
        throw
    }
    finally {
        $watchdog.Dispose()
        if ($file) { $file.Dispose() }
        if ($client) { $client.Dispose() }
        $listener.Stop()
        Stop-RunspaceJob -Job $job
    }
}

function Measure-CSharpBulk {
    # bulk-send -> bulk-recv; the receiver's own time from accept to end.
    param(
        [Parameter(Mandatory)] [string] $Source,
        [Parameter(Mandatory)] [int] $BufferSize,
        [Parameter(Mandatory)] [timespan] $Timeout
    )

    $size = (Get-Item -LiteralPath $Source).Length
    $receiver = $null
    $sender = $null
    try {
        $receiver = Start-Baseline -ArgumentList @('bulk-recv', '/dev/null', [string]$BufferSize)
        $port = (Wait-ChildLine -Child $receiver -Pattern '^port (\d+)$' -Timeout ([timespan]::FromSeconds(30))).Groups[1].Value
        $sender = Start-Baseline -ArgumentList @('bulk-send', $port, $Source, [string]$BufferSize)
        $result = Read-ResultLine -Child $receiver -Timeout $Timeout
        $null = Wait-ChildExit -Child $sender -Timeout $Timeout
        $null = Wait-ChildExit -Child $receiver -Timeout ([timespan]::FromSeconds(30))
        if ([long]$result.bytes -ne $size) {
            throw "bulk-recv got $($result.bytes) bytes of $size."
        }
        return $result.seconds
    }
    finally {
        Stop-Child $sender, $receiver
    }
}

function Measure-ToolBulk {
    # A listener child and a sender child; timed from starting the sender to the listener's exit
    # (both are small C programs: their start is a millisecond or two).
    param(
        [Parameter(Mandatory)] [scriptblock] $StartListener,   # returns @{ Port; Child }
        [Parameter(Mandatory)] [scriptblock] $StartSender,     # receives the port, returns a child
        [Parameter(Mandatory)] [timespan] $Timeout
    )

    $listening = $null
    $sender = $null
    try {
        $listening = & $StartListener
        $watch = [System.Diagnostics.Stopwatch]::StartNew()
        $sender = & $StartSender $listening.Port
        $null = Wait-ChildExit -Child $listening.Child -Timeout $Timeout
        $watch.Stop()
        $null = Wait-ChildExit -Child $sender -Timeout ([timespan]::FromSeconds(30))
        return $watch.Elapsed.TotalSeconds
    }
    finally {
        Stop-Child $sender
        if ($listening) { Stop-Child $listening.Child }
    }
}

function Measure-Iperf3 {
    # iperf3 -s -1 and iperf3 -c -n <size> -J; the receiver-side rate from the JSON, in GB/s.
    param(
        [Parameter(Mandatory)] [string] $Iperf3,
        [Parameter(Mandatory)] [long] $Size,
        [string[]] $ExtraArguments = @(),
        [Parameter(Mandatory)] [timespan] $Timeout
    )

    $listening = $null
    $client = $null
    try {
        $listening = Start-ListenerOnFreePort -Stream Output -ReadyPattern 'Server listening on' -Start {
            param($port)
            Start-Child -FilePath $Iperf3 -ArgumentList @('-s', '-1', '-B', '127.0.0.1', '-p', [string]$port, '--forceflush')
        }
        $client = Start-Child -FilePath $Iperf3 -ArgumentList (@('-c', '127.0.0.1', '-p', [string]$listening.Port, '-n', [string]$Size, '-J') + $ExtraArguments)
        $null = Wait-ChildExit -Child $client -Timeout $Timeout
        $null = Wait-ChildExit -Child $listening.Child -Timeout ([timespan]::FromSeconds(30))
        $json = $client.Output | ConvertFrom-Json
        if ($json.PSObject.Properties['error']) {
            throw "iperf3 reported: $($json.error)"
        }
        return [double]$json.end.sum_received.bits_per_second / 8 / 1e9
    }
    finally {
        Stop-Child $client
        if ($listening) { Stop-Child $listening.Child }
    }
}

function Invoke-BulkCase {
    $size = $BulkSize
    $timeout = [timespan]::FromSeconds([Math]::Max(60, $size / 20MB))
    $toGBps = { param($seconds) $size / $seconds / 1e9 }.GetNewClosure()
    Write-Host "== a. bulk: $(Format-Size $size), $Repeat run(s) per contender"
    $source = Get-BulkSource

    $socat = Get-Tool socat
    $ncat = Get-Tool ncat
    $iperf3 = Get-Tool iperf3
    $sh = Get-Tool sh
    $notInstalled = { param($tool) if ($tool) { 'ok' } else { 'not installed' } }

    $runspace = New-BenchRunspace
    try {
        $rowSockPS = New-Row -Case bulk -Name 'SockPS: Send-SocketData -Path -> Receive-SocketData -OutFile' -Unit 'GB/s' -Format 'N2'
        $rowCs64 = New-Row -Case bulk -Name 'C# NetworkStream copy, 64 KiB buffer' -Unit 'GB/s' -Format 'N2'
        $rowCs1M = New-Row -Case bulk -Name 'C# NetworkStream copy, 1 MiB buffer' -Unit 'GB/s' -Format 'N2'
        $rowPwsh = New-Row -Case bulk -Name 'pwsh TcpClient streams, 64 KiB loop' -Unit 'GB/s' -Format 'N2'
        $rowSocat = New-Row -Case bulk -Name 'socat (defaults: 8 KiB blocks)' -Unit 'GB/s' -Format 'N2' -Status (& $notInstalled $socat)
        $rowSocat64 = New-Row -Case bulk -Name 'socat -b65536' -Unit 'GB/s' -Format 'N2' -Status (& $notInstalled $socat)
        $rowNcat = New-Row -Case bulk -Name 'ncat --send-only -> ncat -l --recv-only' -Unit 'GB/s' -Format 'N2' -Status (& $notInstalled ($ncat -and $sh))
        $rowIperf = New-Row -Case bulk -Name 'iperf3 (default 128 KiB writes)' -Unit 'GB/s' -Format 'N2' -Status (& $notInstalled $iperf3)
        $rowIperf1M = New-Row -Case bulk -Name 'iperf3 -l 1M' -Unit 'GB/s' -Format 'N2' -Status (& $notInstalled $iperf3)

        $startSocat = {
            param([string[]] $Options)
            $listening = Start-Child -FilePath $socat -ArgumentList (@('-d', '-d', '-u') + $Options + @('TCP-LISTEN:0,bind=127.0.0.1', 'OPEN:/dev/null'))
            $port = (Wait-ChildLine -Child $listening -Stream Error -Pattern 'listening on .*:(\d+)\s*$' -Timeout ([timespan]::FromSeconds(15))).Groups[1].Value
            [pscustomobject]@{ Port = [int]$port; Child = $listening }
        }
        $sendSocat = {
            param([string[]] $Options, [int] $Port)
            Start-Child -FilePath $socat -ArgumentList (@('-u') + $Options + @("OPEN:$source", "TCP:127.0.0.1:$Port"))
        }

        $contenders = @(
            @{ Rows = $rowSockPS; Run = { & $toGBps (Measure-SockPSBulk -Source $source -OutFile '/dev/null' -Runspace $runspace -Timeout $timeout) } }
            @{ Rows = $rowCs64; Run = { & $toGBps (Measure-CSharpBulk -Source $source -BufferSize 64KB -Timeout $timeout) } }
            @{ Rows = $rowCs1M; Run = { & $toGBps (Measure-CSharpBulk -Source $source -BufferSize 1MB -Timeout $timeout) } }
            @{ Rows = $rowPwsh; Run = { & $toGBps (Measure-PwshBulk -Source $source -Runspace $runspace -Timeout $timeout) } }
            @{ Rows = $rowSocat; Run = {
                    & $toGBps (Measure-ToolBulk -Timeout $timeout -StartListener { & $startSocat @() } -StartSender { param($port) & $sendSocat @() $port })
                }
            }
            @{ Rows = $rowSocat64; Run = {
                    & $toGBps (Measure-ToolBulk -Timeout $timeout -StartListener { & $startSocat @('-b65536') } -StartSender { param($port) & $sendSocat @('-b65536') $port })
                }
            }
            @{ Rows = $rowNcat; Run = {
                    $listen = {
                        Start-ListenerOnFreePort -Stream Error -ReadyPattern 'Listening on' -Start {
                            param($port)
                            Start-Child -FilePath $sh -ArgumentList @('-c', 'exec "$0" -v -l --recv-only 127.0.0.1 "$1" > /dev/null', $ncat, [string]$port)
                        }
                    }
                    $send = {
                        param($port)
                        Start-Child -FilePath $sh -ArgumentList @('-c', 'exec "$0" --send-only 127.0.0.1 "$1" < "$2"', $ncat, [string]$port, $source)
                    }
                    & $toGBps (Measure-ToolBulk -Timeout $timeout -StartListener $listen -StartSender $send)
                }
            }
            @{ Rows = $rowIperf; Run = { Measure-Iperf3 -Iperf3 $iperf3 -Size $size -Timeout $timeout } }
            @{ Rows = $rowIperf1M; Run = { Measure-Iperf3 -Iperf3 $iperf3 -Size $size -Timeout $timeout -ExtraArguments @('-l', '1M') } }
        )
        # Once, untimed and first (so it also warms the SockPS path up): the same SockPS transfer
        # into a real file, compared by SHA-256. Not a whole number of blocks, so the tail counts.
        try {
            $checkSource = New-RandomFile -Size (8MB + 12345) -Tag 'check-source'
            $checkOutput = [System.IO.Path]::ChangeExtension($checkSource, '.out')
            $script:TempFiles.Add($checkOutput)
            $null = Measure-SockPSBulk -Source $checkSource -OutFile $checkOutput -Runspace $runspace -Timeout ([timespan]::FromSeconds(60))
            $expected = (Get-FileHash -LiteralPath $checkSource -Algorithm SHA256).Hash
            $actual = (Get-FileHash -LiteralPath $checkOutput -Algorithm SHA256).Hash
            if ($expected -ne $actual) {
                throw "SHA-256 differs: sent $expected, received $actual ($((Get-Item -LiteralPath $checkOutput).Length) bytes)."
            }
            Add-Note -Case bulk -Text "Correctness: SockPS moved $(Format-Count (8MB + 12345)) random bytes into a real file; SHA-256 matches ($($expected.Substring(0, 16))...)."
        }
        catch {
            $script:Failures.Add("bulk / correctness check: $_")
            Add-Note -Case bulk -Text "Correctness check FAILED: $_"
        }

        Invoke-Rounds -CaseName bulk -Contenders $contenders
    }
    finally {
        $runspace.Dispose()
    }

    $sockps = Get-RowMedian $rowSockPS
    $fastest = @($rowCs64, $rowCs1M) | Where-Object { $null -ne (Get-RowMedian $_) } |
        Sort-Object -Property { Get-RowMedian $_ } -Descending | Select-Object -First 1
    $fastestName = if ($fastest) { $fastest.Name } else { 'C#' }
    $script:Targets.BulkCSharp = Add-Ratio -Case bulk -Label "SockPS vs the fastest C# row ($fastestName)" -Numerator $sockps -Denominator (Get-RowMedian $fastest)
    $script:Targets.BulkNcat = Add-Ratio -Case bulk -Label 'SockPS vs ncat' -Numerator $sockps -Denominator (Get-RowMedian $rowNcat)
    $null = Add-Ratio -Case bulk -Label 'SockPS vs the pwsh TcpClient 64 KiB loop' -Numerator $sockps -Denominator (Get-RowMedian $rowPwsh)
    $null = Add-Ratio -Case bulk -Label 'SockPS vs socat -b65536' -Numerator $sockps -Denominator (Get-RowMedian $rowSocat64)
    $null = Add-Ratio -Case bulk -Label 'SockPS vs iperf3 -l 1M' -Numerator $sockps -Denominator (Get-RowMedian $rowIperf1M)
    Add-Note -Case bulk -Text ("Source: $(Format-Size $size) of random bytes in $(Split-Path -Path $source -Parent); every receiver writes to /dev/null. " +
        'SockPS and pwsh: timed in this process from the connect to the receiving runspace''s end; C#: the receiver''s own time from accept to end; ' +
        'socat and ncat: from starting the sender to the listener''s exit; iperf3: its receiver-side rate.')
}

#endregion

#region Case b: request/response ------------------------------------------------------------------

function Invoke-RequestResponseCase {
    $count = $RoundTrips
    $warmup = [Math]::Min(500, [Math]::Max(10, [int]($count / 10)))
    $timeout = [timespan]::FromSeconds([Math]::Max(60, $count / 500))
    Write-Host "== b. request/response: $(Format-Count $count) round trips of 64 bytes, $Repeat run(s) per contender"

    $request = [byte[]]::new(64)
    [System.Random]::new(64).NextBytes($request)
    $echo = $null
    try {
        $echo = Start-Baseline -ArgumentList @('echo-server')
        $port = [int](Wait-ChildLine -Child $echo -Pattern '^port (\d+)$' -Timeout ([timespan]::FromSeconds(30))).Groups[1].Value

        $rowCmdlets = New-Row -Case rr -Name 'SockPS cmdlets: Send-SocketData + Receive-SocketData -ByteCount 64' -Unit 'round trips/s'
        $rowMethods = New-Row -Case rr -Name 'SockPS methods: $c.Send() + $c.Receive(64)' -Unit 'round trips/s'
        $rowRaw = New-Row -Case rr -Name 'pwsh raw: NetworkStream.Write + Read loop' -Unit 'round trips/s'
        $rowCs = New-Row -Case rr -Name 'C# rr-client: NetworkStream.Write + ReadExactly' -Unit 'round trips/s'
        $rowCeiling = New-Row -Case rr -Name 'ceiling: the raw loop + two no-op binary cmdlet calls (Write-Output)' -Unit 'round trips/s'

        $checkEcho = {
            param([byte[]] $Response)
            if ($null -eq $Response -or [System.Convert]::ToHexString($Response) -ne [System.Convert]::ToHexString($request)) {
                throw 'The last response is not the request echoed.'
            }
        }

        $contenders = @(
            @{ Rows = $rowCmdlets; Run = {
                    $bytes = $request; $n = $count; $w = $warmup
                    $c = Connect-Socket -ComputerName 127.0.0.1 -Port $port -NoDelay
                    $watchdog = [SockPSBench.Watchdog]::new($timeout)
                    $watchdog.Add($c)
                    try {
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
                        & $checkEcho (Receive-SocketData -Connection $c -ByteCount 64)
                    }
                    finally {
                        $watchdog.Dispose()
                        Disconnect-Socket -Connection $c
                    }
                    $count / $watch.Elapsed.TotalSeconds
                }
            }
            @{ Rows = $rowMethods; Run = {
                    $bytes = $request; $n = $count; $w = $warmup
                    $c = Connect-Socket -ComputerName 127.0.0.1 -Port $port -NoDelay
                    $watchdog = [SockPSBench.Watchdog]::new($timeout)
                    $watchdog.Add($c)
                    try {
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
                        & $checkEcho $c.Receive(64)
                    }
                    finally {
                        $watchdog.Dispose()
                        Disconnect-Socket -Connection $c
                    }
                    $count / $watch.Elapsed.TotalSeconds
                }
            }
            @{ Rows = $rowRaw; Run = {
                    $bytes = $request; $n = $count; $w = $warmup
                    $tcp = [System.Net.Sockets.TcpClient]::new()
                    $watchdog = [SockPSBench.Watchdog]::new($timeout)
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
                                if ($read -le 0) { throw 'The echo server closed the connection.' }
                                $got += $read
                            }
                        }
                        [System.Array]::Clear($response)
                        $watch = [System.Diagnostics.Stopwatch]::StartNew()
                        for ($i = 0; $i -lt $n; $i++) {
                            $stream.Write($bytes, 0, 64)
                            $got = 0
                            while ($got -lt 64) {
                                $read = $stream.Read($response, $got, 64 - $got)
                                if ($read -le 0) { throw 'The echo server closed the connection.' }
                                $got += $read
                            }
                        }
                        $watch.Stop()
                        & $checkEcho $response
                    }
                    finally {
                        $watchdog.Dispose()
                        $tcp.Dispose()
                    }
                    $count / $watch.Elapsed.TotalSeconds
                }
            }
            @{ Rows = $rowCeiling; Run = {
                    $bytes = $request; $n = $count; $w = $warmup
                    $tcp = [System.Net.Sockets.TcpClient]::new()
                    $watchdog = [SockPSBench.Watchdog]::new($timeout)
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
                                if ($read -le 0) { throw 'The echo server closed the connection.' }
                                $got += $read
                            }
                        }
                        [System.Array]::Clear($response)
                        $watch = [System.Diagnostics.Stopwatch]::StartNew()
                        for ($i = 0; $i -lt $n; $i++) {
                            # What PowerShell itself spends invoking two binary cmdlets per round trip.
                            $null = Write-Output -InputObject $bytes -NoEnumerate
                            $null = Write-Output -InputObject $response -NoEnumerate
                            $stream.Write($bytes, 0, 64)
                            $got = 0
                            while ($got -lt 64) {
                                $read = $stream.Read($response, $got, 64 - $got)
                                if ($read -le 0) { throw 'The echo server closed the connection.' }
                                $got += $read
                            }
                        }
                        $watch.Stop()
                        & $checkEcho $response
                    }
                    finally {
                        $watchdog.Dispose()
                        $tcp.Dispose()
                    }
                    $count / $watch.Elapsed.TotalSeconds
                }
            }
            @{ Rows = $rowCs; Run = {
                    $client = Start-Baseline -ArgumentList @('rr-client', [string]$port, [string]$count, '64')
                    try {
                        $result = Read-ResultLine -Child $client -Timeout $timeout
                        $null = Wait-ChildExit -Child $client -Timeout ([timespan]::FromSeconds(30))
                    }
                    finally {
                        Stop-Child $client
                    }
                    $result.count / $result.seconds
                }
            }
        )
        Invoke-Rounds -CaseName rr -Contenders $contenders
    }
    finally {
        if ($echo) {
            $echo.CloseInput()
            $null = $echo.WaitForExit([timespan]::FromSeconds(10))
            Stop-Child $echo
        }
    }

    $raw = Get-RowMedian $rowRaw
    $script:Targets.RrCmdlets = Add-Ratio -Case rr -Label 'cmdlets vs raw pwsh' -Numerator (Get-RowMedian $rowCmdlets) -Denominator $raw
    $script:Targets.RrMethods = Add-Ratio -Case rr -Label 'methods vs raw pwsh' -Numerator (Get-RowMedian $rowMethods) -Denominator $raw
    $null = Add-Ratio -Case rr -Label 'raw pwsh vs C# (for scale)' -Numerator $raw -Denominator (Get-RowMedian $rowCs)
    $null = Add-Ratio -Case rr -Label 'ceiling for any cmdlet pair: raw + 2 no-op cmdlets vs raw pwsh' -Numerator (Get-RowMedian $rowCeiling) -Denominator $raw
    $null = Add-Ratio -Case rr -Label 'cmdlets vs that ceiling (what SockPS itself costs)' -Numerator (Get-RowMedian $rowCmdlets) -Denominator (Get-RowMedian $rowCeiling)
    Add-Note -Case rr -Text ("All five against one C# echo server (bench/Baselines echo-server), NoDelay on every client. " +
        "The pwsh loops run $(Format-Count $warmup) untimed round trips first on the same connection; the last response is checked.")
}

#endregion

#region Case c: idle connections ------------------------------------------------------------------

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
        $port = (Wait-ChildLine -Child $server -Pattern '^port (\d+)$' -Timeout ([timespan]::FromSeconds(60))).Groups[1].Value
        $clients = Start-Baseline -ArgumentList @('idle-client', $port, [string]$Count)
        $result = Read-ResultLine -Child $server -Timeout $timeout
        $null = Read-ResultLine -Child $clients -Timeout $timeout
        if ([int]$result.count -ne $Count) {
            throw "The server reports $($result.count) connections of $Count."
        }
        # The server closes first, so the TIME_WAIT entries sit on its one listening port rather
        # than on thousands of the client's ephemeral ports.
        $server.CloseInput()
        $null = Wait-ChildExit -Child $server -Timeout ([timespan]::FromSeconds(60))
        $clients.CloseInput()
        $null = Wait-ChildExit -Child $clients -Timeout ([timespan]::FromSeconds(60))

        $rate = if ($result.seconds -gt 0) { ($Count - 1) / $result.seconds } else { [double]::NaN }
        return @($rate, ($result.bytesPerConnection / 1KB))
    }
    finally {
        Stop-Child $clients, $server
    }
}

function Invoke-IdleCase {
    Write-Host "== c. idle connections: $(($IdleConnections | ForEach-Object { Format-Count $_ }) -join ' and '), $Repeat run(s) per contender"
    $pwsh = Get-PwshCommand
    $idleScript = Join-Path -Path $PSScriptRoot -ChildPath 'IdleServer.ps1'

    foreach ($count in $IdleConnections) {
        $label = Format-Count $count
        $rowRate = New-Row -Case idle -Name "SockPS Start-SocketServer + `$server.Accept(), $label connections" -Unit 'accepts/s'
        $rowMemory = New-Row -Case idle -Name "SockPS Start-SocketServer + `$server.Accept(), $label connections" -Unit 'KiB/connection' -Format 'N2'
        $rowCsRate = New-Row -Case idle -Name "C# idle-server (zero-byte reads), $label connections" -Unit 'accepts/s'
        $rowCsMemory = New-Row -Case idle -Name "C# idle-server (zero-byte reads), $label connections" -Unit 'KiB/connection' -Format 'N2'

        $contenders = @(
            @{ Rows = @($rowRate, $rowMemory); Run = {
                    Measure-IdleServer -Count $count -StartServer {
                        Start-Child -FilePath $pwsh.FilePath -ArgumentList (@($pwsh.Arguments) + @('-NoProfile', '-NonInteractive', '-File', $idleScript,
                                '-ModulePath', $script:ModuleManifest, '-Count', [string]$count, '-Backlog', '4096'))
                    }
                }
            }
            @{ Rows = @($rowCsRate, $rowCsMemory); Run = {
                    Measure-IdleServer -Count $count -StartServer { Start-Baseline -ArgumentList @('idle-server', [string]$count) }
                }
            }
        )
        Invoke-Rounds -CaseName "idle $label" -Contenders $contenders

        $ratio = Add-Ratio -Case idle -Label "SockPS accept rate vs C#, $label connections" -Numerator (Get-RowMedian $rowRate) -Denominator (Get-RowMedian $rowCsRate)
        $memory = Get-RowMedian $rowMemory
        $script:Ratios.Add([pscustomobject]@{ Case = 'idle'; Label = "SockPS KiB per connection, $label connections (C#: $(Format-Value (Get-RowMedian $rowCsMemory) 'N2'))"; Value = $memory; Unit = 'KiB' })
        # The target is for 10,000; with other counts the largest one stands in (and says so).
        $script:Targets.IdleCount = $count
        $script:Targets.IdleAccept = $ratio
        $script:Targets.IdleMemory = $memory
    }
    Add-Note -Case idle -Text ("Each server runs in its own process (SockPS: bench/IdleServer.ps1 in a fresh pwsh; C#: bench/Baselines idle-server) with a backlog of 4096; " +
        'the clients come from the C# idle-client (256 connects in flight) in another process. Accept rate: connections after the first, over the time from the first accept to the last. ' +
        'Memory: growth of the server''s VmRSS after full collections, from before the first accept to after the last, per connection.')
}

#endregion

#region Case d: UDP -------------------------------------------------------------------------------

function Invoke-UdpCase {
    $count = $Datagrams
    $warmup = [Math]::Min(1000, [Math]::Max(10, [int]($count / 10)))
    $timeout = [timespan]::FromSeconds([Math]::Max(60, $count / 2000))
    Write-Host "== d. UDP: $(Format-Count $count) datagrams of 512 bytes, $Repeat run(s) per contender"

    $payload = [byte[]]::new(512)
    [System.Random]::new(512).NextBytes($payload)
    # Built before timing: the same array N times, so what is measured is the per-item pipeline
    # binding and send, not allocation.
    $payloads = [object[]]::new($count)
    for ($i = 0; $i -lt $count; $i++) { $payloads[$i] = $payload }
    $warmPayloads = [object[]]::new($warmup)
    for ($i = 0; $i -lt $warmup; $i++) { $warmPayloads[$i] = $payload }

    # The sink: a bound socket nobody reads; the kernel drops what does not fit.
    $sink = [System.Net.Sockets.Socket]::new([System.Net.Sockets.AddressFamily]::InterNetwork,
        [System.Net.Sockets.SocketType]::Dgram, [System.Net.Sockets.ProtocolType]::Udp)
    try {
        $sink.Bind([System.Net.IPEndPoint]::new([System.Net.IPAddress]::Loopback, 0))
        $port = ([System.Net.IPEndPoint]$sink.LocalEndPoint).Port

        $rowSockPS = New-Row -Case udp -Name 'SockPS: $payloads | Send-SocketData' -Unit 'datagrams/s'
        $rowRaw = New-Row -Case udp -Name 'pwsh raw: UdpClient.Send loop' -Unit 'datagrams/s'
        $rowCs = New-Row -Case udp -Name 'C# udp-send: Socket.Send loop' -Unit 'datagrams/s'

        $contenders = @(
            @{ Rows = $rowSockPS; Run = {
                    $items = $payloads
                    $udp = Connect-Socket -ComputerName 127.0.0.1 -Port $port -Protocol Udp
                    try {
                        $warmPayloads | Send-SocketData -Connection $udp
                        $before = $udp.DatagramsSent
                        $watch = [System.Diagnostics.Stopwatch]::StartNew()
                        $items | Send-SocketData -Connection $udp
                        $watch.Stop()
                        $sent = $udp.DatagramsSent - $before
                        if ($sent -ne $count) {
                            throw "SockPS counted $sent datagrams sent, not $count."
                        }
                    }
                    finally {
                        Disconnect-Socket -Connection $udp
                    }
                    $count / $watch.Elapsed.TotalSeconds
                }
            }
            @{ Rows = $rowRaw; Run = {
                    $bytes = $payload; $n = $count; $w = $warmup
                    $udp = [System.Net.Sockets.UdpClient]::new()
                    try {
                        $udp.Connect([System.Net.IPAddress]::Loopback, $port)
                        for ($i = 0; $i -lt $w; $i++) {
                            $null = $udp.Send($bytes, 512)
                        }
                        $watch = [System.Diagnostics.Stopwatch]::StartNew()
                        for ($i = 0; $i -lt $n; $i++) {
                            $null = $udp.Send($bytes, 512)
                        }
                        $watch.Stop()
                    }
                    finally {
                        $udp.Dispose()
                    }
                    $count / $watch.Elapsed.TotalSeconds
                }
            }
            @{ Rows = $rowCs; Run = {
                    $sender = Start-Baseline -ArgumentList @('udp-send', [string]$port, [string]$count, '512')
                    try {
                        $result = Read-ResultLine -Child $sender -Timeout $timeout
                        $null = Wait-ChildExit -Child $sender -Timeout ([timespan]::FromSeconds(30))
                    }
                    finally {
                        Stop-Child $sender
                    }
                    $result.count / $result.seconds
                }
            }
        )
        Invoke-Rounds -CaseName udp -Contenders $contenders
    }
    finally {
        $sink.Dispose()
    }

    $raw = Get-RowMedian $rowRaw
    $script:Targets.Udp = Add-Ratio -Case udp -Label 'SockPS vs the raw pwsh loop' -Numerator (Get-RowMedian $rowSockPS) -Denominator $raw
    $null = Add-Ratio -Case udp -Label 'raw pwsh loop vs C# (for scale)' -Numerator $raw -Denominator (Get-RowMedian $rowCs)
    Add-Note -Case udp -Text ("Into a bound UDP socket in this process that nobody reads (only the send rate counts). " +
        "The pwsh loops send $(Format-Count $warmup) untimed datagrams first; SockPS's count of datagrams sent is checked.")
}

#endregion

#region Case e: relay -----------------------------------------------------------------------------

function Measure-RelayBulk {
    # bulk-send -> forwarder -> bulk-recv: -StartForwarder gets the target port and returns
    # @{ Port; Relay; Child } (the port clients connect to, and the SockPS relay or the child
    # process to stop afterwards), or $null for no forwarder. Returns the receiver's own time
    # from accept to end.
    param(
        [Parameter(Mandatory)] [string] $Source,
        [AllowNull()] [scriptblock] $StartForwarder,
        [Parameter(Mandatory)] [timespan] $Timeout
    )

    $size = (Get-Item -LiteralPath $Source).Length
    $receiver = $null
    $sender = $null
    $forwarder = $null
    try {
        $receiver = Start-Baseline -ArgumentList @('bulk-recv', '/dev/null', [string]1MB)
        $port = [int](Wait-ChildLine -Child $receiver -Pattern '^port (\d+)$' -Timeout ([timespan]::FromSeconds(30))).Groups[1].Value
        $clientPort = $port
        if ($StartForwarder) {
            $forwarder = & $StartForwarder $port
            $clientPort = $forwarder.Port
        }
        $sender = Start-Baseline -ArgumentList @('bulk-send', [string]$clientPort, $Source, [string]1MB)
        $result = Read-ResultLine -Child $receiver -Timeout $Timeout
        $null = Wait-ChildExit -Child $sender -Timeout $Timeout
        $null = Wait-ChildExit -Child $receiver -Timeout ([timespan]::FromSeconds(30))
        if ([long]$result.bytes -ne $size) {
            throw "bulk-recv got $($result.bytes) bytes of $size."
        }
        return $result.seconds
    }
    finally {
        Stop-Child $sender, $receiver
        if ($forwarder -and $forwarder.Relay) { $forwarder.Relay.Stop() }
        if ($forwarder -and $forwarder.Child) { Stop-Child $forwarder.Child }
    }
}

function Invoke-RelayCase {
    $size = $BulkSize
    $timeout = [timespan]::FromSeconds([Math]::Max(60, $size / 20MB))
    $toGBps = { param($seconds) $size / $seconds / 1e9 }.GetNewClosure()
    Write-Host "== e. relay: $(Format-Size $size) through a port forward, $Repeat run(s) per contender"
    $source = Get-BulkSource
    $socat = Get-Tool socat

    $rowSockPS = New-Row -Case relay -Name 'SockPS: Start-SocketRelay' -Unit 'GB/s' -Format 'N2'
    $rowSocat = New-Row -Case relay -Name 'socat -b65536 TCP-LISTEN TCP' -Unit 'GB/s' -Format 'N2' -Status $(if ($socat) { 'ok' } else { 'not installed' })
    $rowDirect = New-Row -Case relay -Name 'direct: no forwarder (bulk-send -> bulk-recv)' -Unit 'GB/s' -Format 'N2'

    $startSockPS = {
        param([int] $TargetPort)
        $relay = Start-SocketRelay -ComputerName 127.0.0.1 -Port $TargetPort -ListenAddress 127.0.0.1
        [pscustomobject]@{ Port = $relay.Port; Relay = $relay; Child = $null }
    }
    $startSocat = {
        param([int] $TargetPort)
        # -d -d reports the port the OS picked; without fork socat serves one client and exits.
        $child = Start-Child -FilePath $socat -ArgumentList @('-d', '-d', '-b65536', 'TCP-LISTEN:0,bind=127.0.0.1,reuseaddr', "TCP:127.0.0.1:$TargetPort")
        $port = (Wait-ChildLine -Child $child -Stream Error -Pattern 'listening on .*:(\d+)\s*$' -Timeout ([timespan]::FromSeconds(15))).Groups[1].Value
        [pscustomobject]@{ Port = [int]$port; Relay = $null; Child = $child }
    }

    $contenders = @(
        @{ Rows = $rowSockPS; Run = {
                $script:LastRelay = $null
                $seconds = Measure-RelayBulk -Source $source -Timeout $timeout -StartForwarder {
                    param($port)
                    $forwarder = & $startSockPS $port
                    $script:LastRelay = $forwarder.Relay
                    $forwarder
                }
                if ($script:LastRelay.BytesToTarget -ne $size) {
                    throw "The relay counted $($script:LastRelay.BytesToTarget) bytes to the target, not $size."
                }
                & $toGBps $seconds
            }
        }
        @{ Rows = $rowSocat; Run = { & $toGBps (Measure-RelayBulk -Source $source -Timeout $timeout -StartForwarder $startSocat) } }
        @{ Rows = $rowDirect; Run = { & $toGBps (Measure-RelayBulk -Source $source -Timeout $timeout -StartForwarder $null) } }
    )
    Invoke-Rounds -CaseName relay -Contenders $contenders

    $sockps = Get-RowMedian $rowSockPS
    $script:Targets.Relay = Add-Ratio -Case relay -Label 'SockPS relay vs socat -b65536' -Numerator $sockps -Denominator (Get-RowMedian $rowSocat)
    $null = Add-Ratio -Case relay -Label 'SockPS relay vs no forwarder' -Numerator $sockps -Denominator (Get-RowMedian $rowDirect)
    $null = Add-Ratio -Case relay -Label 'socat -b65536 vs no forwarder' -Numerator (Get-RowMedian $rowSocat) -Denominator (Get-RowMedian $rowDirect)
    Add-Note -Case relay -Text ("The same source as the bulk case; the C# bulk-send client and bulk-recv target (1 MiB buffers) at both ends of every contender, " +
        'so only the forwarder differs. Timed by the receiver, from accept to end. SockPS: Start-SocketRelay in this process; ' +
        'socat: `socat -b65536 TCP-LISTEN:0,bind=127.0.0.1,reuseaddr TCP:127.0.0.1:<target>`, one client, then it exits.')
}

#endregion

#region Case f: handler server ---------------------------------------------------------------------

function Measure-HandlerClients {
    # rr-clients against -Port: -HandlerClients clients at once, -HandlerRoundTrips each; the
    # total round trips per second. rr-clients makes one untimed round trip per client first, so
    # every connection (and a handler server's runspace for it) is going before the clock starts.
    param(
        [Parameter(Mandatory)] [int] $Port,
        [Parameter(Mandatory)] [timespan] $Timeout
    )

    $clients = $null
    try {
        $clients = Start-Baseline -ArgumentList @('rr-clients', [string]$Port, [string]$HandlerClients, [string]$HandlerRoundTrips, '64')
        $result = Read-ResultLine -Child $clients -Timeout $Timeout
        $null = Wait-ChildExit -Child $clients -Timeout ([timespan]::FromSeconds(30))
        if ([long]$result.count -ne [long]$HandlerClients * $HandlerRoundTrips) {
            throw "rr-clients reports $($result.count) round trips, not $([long]$HandlerClients * $HandlerRoundTrips)."
        }
        return $result.count / $result.seconds
    }
    finally {
        Stop-Child $clients
    }
}

function Invoke-HandlerCase {
    $total = [long]$HandlerClients * $HandlerRoundTrips
    $timeout = [timespan]::FromSeconds([Math]::Max(60, $total / 500))
    Write-Host "== f. handler: $HandlerClients clients x $(Format-Count $HandlerRoundTrips) round trips of 64 bytes, $Repeat run(s) per contender"

    $server = $null
    $echo = $null
    try {
        # What a user writes: one block per client, the connection's methods in a loop.
        $server = Start-SocketServer -Port 0 -Address 127.0.0.1 -NoDelay -ReceiveTimeoutSeconds 0 -ThrottleLimit $HandlerClients -ScriptBlock {
            param($Connection)
            while ($null -ne ($bytes = $Connection.ReceiveAvailableBytes())) {
                $Connection.Send($bytes)
            }
        }
        $echo = Start-Baseline -ArgumentList @('echo-server')
        $echoPort = [int](Wait-ChildLine -Child $echo -Pattern '^port (\d+)$' -Timeout ([timespan]::FromSeconds(30))).Groups[1].Value

        $rowSockPS = New-Row -Case handler -Name 'SockPS: Start-SocketServer -ScriptBlock echo handler' -Unit 'round trips/s'
        $rowCs = New-Row -Case handler -Name 'C# echo-server' -Unit 'round trips/s'

        $contenders = @(
            @{ Rows = $rowSockPS; Run = { Measure-HandlerClients -Port $server.Port -Timeout $timeout } }
            @{ Rows = $rowCs; Run = { Measure-HandlerClients -Port $echoPort -Timeout $timeout } }
        )
        Invoke-Rounds -CaseName handler -Contenders $contenders

        # Handler errors are lost unless asked for; any here would make the numbers meaningless.
        $handlerErrors = @(Receive-SocketServerOutput -Server $server 2>&1 | Where-Object { $_ -is [System.Management.Automation.ErrorRecord] })
        if ($handlerErrors.Count -gt 0) {
            throw "The SockPS handlers wrote $($handlerErrors.Count) error(s), the first: $($handlerErrors[0])"
        }
    }
    finally {
        if ($server) { $server.Stop() }
        if ($echo) {
            $echo.CloseInput()
            $null = $echo.WaitForExit([timespan]::FromSeconds(10))
            Stop-Child $echo
        }
    }

    $null = Add-Ratio -Case handler -Label 'SockPS handler server vs C# echo-server (informational, no target)' -Numerator (Get-RowMedian $rowSockPS) -Denominator (Get-RowMedian $rowCs)
    Add-Note -Case handler -Text ("$HandlerClients C# clients at once (bench/Baselines rr-clients, one thread each, NoDelay), each sending a 64-byte request and " +
        "reading the 64-byte echo, $(Format-Count $HandlerRoundTrips) times; total round trips over the time from a common start to the last client's end. " +
        "SockPS: Start-SocketServer -ScriptBlock in this process (-ThrottleLimit $HandlerClients, -NoDelay), the handler looping on " +
        '$Connection.ReceiveAvailableBytes() and $Connection.Send(); C#: bench/Baselines echo-server (an async task per connection). ' +
        'Every client makes one untimed round trip first, so the handlers are running before the clock starts.')
}

#endregion

#region Case g: port scan ---------------------------------------------------------------------------

function Invoke-PortScanCase {
    $count = $PortChecks
    $timeout = [timespan]::FromSeconds([Math]::Max(120, $count / 10))
    Write-Host "== g. portscan: $(Format-Count $count) TCP port checks of 127.0.0.1, $Repeat run(s) per contender"
    $ncat = Get-Tool ncat
    $sh = Get-Tool sh

    # Targets whose answer is certain: listeners (the kernel completes the handshake; $drain
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
        $drain = {
            foreach ($listener in $listeners) {
                while ($listener.Poll(0, [System.Net.Sockets.SelectMode]::SelectRead)) { $listener.Accept().Dispose() }
            }
        }.GetNewClosure()
        $check = {
            param([string] $Who, [int] $Open, [int] $Checks = $count, [int] $Expected = $expectedOpen)
            if ($Open -ne $Expected) {
                throw "$Who found $Open open ports in $Checks checks, not $Expected."
            }
        }.GetNewClosure()
        # ncat takes about a tenth of a second per run (its own start-up), so it checks the first
        # 100 ports of the list; its rate is per check all the same.
        $ncatPorts = [int[]]@($ports | Select-Object -First 100)
        $ncatOpen = @($ncatPorts | Where-Object { $openPorts.Contains($_) }).Count

        $rowSockPS = New-Row -Case portscan -Name 'SockPS: Test-SocketPort -Port $ports (-ThrottleLimit 100)' -Unit 'checks/s'
        $rowAtOnce = New-Row -Case portscan -Name 'pwsh raw: every TcpClient.ConnectAsync at once, one WaitAll' -Unit 'checks/s'
        $rowLoop = New-Row -Case portscan -Name 'pwsh raw: TcpClient.ConnectAsync + Wait(1000), one at a time' -Unit 'checks/s'
        $rowNcat = New-Row -Case portscan -Name 'ncat -z -w 1, one process per check (sh loop; the first 100 checks)' -Unit 'checks/s' -Status $(if ($ncat -and $sh) { 'ok' } else { 'not installed' })
        $script:PortScanSeconds = [System.Collections.Generic.List[double]]::new()

        $contenders = @(
            @{ Rows = $rowSockPS; Run = {
                    & $drain
                    $watch = [System.Diagnostics.Stopwatch]::StartNew()
                    $results = Test-SocketPort -ComputerName 127.0.0.1 -Port $ports -TimeoutSeconds 5
                    $watch.Stop()
                    & $check 'Test-SocketPort' @($results | Where-Object Status -EQ 'Open').Count
                    if (@($results).Count -ne $count) {
                        throw "Test-SocketPort returned $(@($results).Count) results for $count checks."
                    }
                    $script:PortScanSeconds.Add($watch.Elapsed.TotalSeconds)
                    $count / $watch.Elapsed.TotalSeconds
                }
            }
            @{ Rows = $rowAtOnce; Run = {
                    & $drain
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
                    & $check 'The all-at-once loop' $open
                    $count / $watch.Elapsed.TotalSeconds
                }
            }
            @{ Rows = $rowLoop; Run = {
                    & $drain
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
                    & $check 'The one-at-a-time loop' $open
                    $count / $watch.Elapsed.TotalSeconds
                }
            }
            @{ Rows = $rowNcat; Run = {
                    & $drain
                    $loop = 'open=0; for p in "$@"; do if ncat -z -w 1 127.0.0.1 "$p" 2>/dev/null; then open=$((open+1)); fi; done; echo "open $open"'
                    $watch = [System.Diagnostics.Stopwatch]::StartNew()
                    $child = Start-Child -FilePath $sh -ArgumentList (@('-c', $loop, 'sh') + [string[]]$ncatPorts)
                    try {
                        $found = Wait-ChildLine -Child $child -Pattern '^open (\d+)$' -Timeout $timeout
                        $watch.Stop()
                        $null = Wait-ChildExit -Child $child -Timeout ([timespan]::FromSeconds(30))
                    }
                    finally {
                        Stop-Child $child
                    }
                    & $check 'The ncat loop' ([int]$found.Groups[1].Value) $ncatPorts.Count $ncatOpen
                    $ncatPorts.Count / $watch.Elapsed.TotalSeconds
                }
            }
        )
        Invoke-Rounds -CaseName portscan -Contenders $contenders
    }
    finally {
        foreach ($socket in $sockets) { $socket.Dispose() }
    }

    $sockps = Get-RowMedian $rowSockPS
    $null = Add-Ratio -Case portscan -Label 'Test-SocketPort vs the one-at-a-time pwsh loop' -Numerator $sockps -Denominator (Get-RowMedian $rowLoop)
    $null = Add-Ratio -Case portscan -Label 'Test-SocketPort vs every ConnectAsync at once in pwsh' -Numerator $sockps -Denominator (Get-RowMedian $rowAtOnce)
    $null = Add-Ratio -Case portscan -Label 'Test-SocketPort vs ncat -z per check' -Numerator $sockps -Denominator (Get-RowMedian $rowNcat)
    $seconds = if ($script:PortScanSeconds.Count -gt 0) { (Get-Median -Values $script:PortScanSeconds.ToArray()).ToString('0.000', $script:Invariant) + ' s' } else { 'not measured' }
    Add-Note -Case portscan -Text ("$(Format-Count $count) checks of 127.0.0.1: half to $perKind listening ports (Open), half to $perKind ports bound but not listening (Refused), " +
        "shuffled, the same list for every contender; each contender's count of open ports is checked. Test-SocketPort took $seconds for all of them (median), " +
        'results included. ncat checks only the first 100 ports of the list (each run of ncat takes about 0.1 s to start). The all-at-once pwsh loop is what a skilled user writes; it has no throttle, no name lookup, no per-check result and no reason for a failure.')
}

#endregion

#region Report ------------------------------------------------------------------------------------

function Get-MachineLines {
    $cpu = 'unknown CPU'
    if (Test-Path -LiteralPath '/proc/cpuinfo') {
        $model = Select-String -LiteralPath '/proc/cpuinfo' -Pattern '^model name\s*:\s*(.+)$' | Select-Object -First 1
        if ($model) { $cpu = $model.Matches[0].Groups[1].Value.Trim() }
    }
    $os = [System.Runtime.InteropServices.RuntimeInformation]::OSDescription
    if (Test-Path -LiteralPath '/etc/os-release') {
        $pretty = Select-String -LiteralPath '/etc/os-release' -Pattern '^PRETTY_NAME="?([^"]*)"?' | Select-Object -First 1
        $kernel = if (Test-Path -LiteralPath '/proc/sys/kernel/osrelease') { (Get-Content -LiteralPath '/proc/sys/kernel/osrelease' -TotalCount 1).Trim() } else { '' }
        if ($pretty) { $os = "$($pretty.Matches[0].Groups[1].Value), kernel $kernel" }
    }
    $memory = ''
    if (Test-Path -LiteralPath '/proc/meminfo') {
        $total = Select-String -LiteralPath '/proc/meminfo' -Pattern '^MemTotal:\s*(\d+)' | Select-Object -First 1
        if ($total) { $memory = ", $([Math]::Round([double]$total.Matches[0].Groups[1].Value / 1MB, 1)) GiB RAM" }
    }

    $git = ''
    $gitTool = Get-Tool git
    if ($gitTool) {
        $head = & $gitTool -C $script:RepoRoot rev-parse --short HEAD 2>$null
        if ($LASTEXITCODE -eq 0 -and $head) {
            $dirty = & $gitTool -C $script:RepoRoot status --porcelain -- src module 2>$null
            $git = "; repository at $head$(if ($dirty) { ' (src/ or module/ changed since; the module may or may not include that)' })"
        }
    }

    $tools = foreach ($tool in 'socat', 'ncat', 'iperf3') {
        $path = Get-Tool $tool
        if (-not $path) { "$tool not installed"; continue }
        $versionArgument, $pattern = switch ($tool) {
            'socat' { '-V', 'socat version (\S+)' }
            'ncat' { '--version', 'Version (\S+)' }
            'iperf3' { '--version', '^iperf (\S+)' }
        }
        $found = & $path $versionArgument 2>&1 | ForEach-Object { "$_" } | Select-String -Pattern $pattern | Select-Object -First 1
        if ($found) { "$tool $($found.Matches[0].Groups[1].Value)" } else { $tool }
    }

    $mode = if ($Quick) { 'quick (-Quick: tiny sizes, nothing here is a measurement)' } else { 'full' }
    @(
        "- Date: $([DateTime]::UtcNow.ToString('yyyy-MM-dd HH:mm', $script:Invariant)) UTC"
        "- Machine: $cpu, $([Environment]::ProcessorCount) logical cores$memory; $os"
        "- Runtime: $([System.Runtime.InteropServices.RuntimeInformation]::FrameworkDescription), PowerShell $($PSVersionTable.PSVersion)"
        "- SockPS $($script:ModuleVersion) from $($script:ModuleManifest), built $($script:ModuleBuilt)$git"
        "- Tools: $($tools -join ', ')"
        "- Run: $mode; $Repeat run(s) per contender, round-robin; cases: $($Case -join ', '); loopback only"
    )
}

function Format-MarkdownTable {
    # An aligned Markdown table (numbers right-aligned): readable on the console as it is.
    param(
        [Parameter(Mandatory)] [string[]] $Header,
        [Parameter(Mandatory)] [AllowEmptyCollection()] [object[]] $Body,
        [bool[]] $RightAligned
    )

    # A | inside a cell would end it in Markdown.
    $Body = @(foreach ($cells in $Body) { , @($cells | ForEach-Object { ([string]$_).Replace('|', '\|') }) })
    $widths = for ($column = 0; $column -lt $Header.Count; $column++) {
        $cells = @($Header[$column]) + @($Body | ForEach-Object { [string]$_[$column] })
        [Math]::Max(3, ($cells | Measure-Object -Property Length -Maximum).Maximum)
    }
    $pad = {
        param([string] $text, [int] $column)
        if ($RightAligned[$column]) { $text.PadLeft($widths[$column]) } else { $text.PadRight($widths[$column]) }
    }
    $line = { param($cells) '| ' + ((0..($Header.Count - 1) | ForEach-Object { & $pad ([string]$cells[$_]) $_ }) -join ' | ') + ' |' }
    & $line $Header
    '|' + ((0..($Header.Count - 1) | ForEach-Object {
                if ($RightAligned[$_]) { ' ' + ('-' * ($widths[$_] - 1)) + ': ' } else { ' ' + ('-' * $widths[$_]) + ' ' }
            }) -join '|') + '|'
    foreach ($cells in $Body) {
        & $line $cells
    }
}

function Get-CaseLines {
    param([Parameter(Mandatory)] [string] $CaseName)

    $body = @(foreach ($row in $script:Rows | Where-Object Case -EQ $CaseName) {
        if ($row.Status -eq 'ok' -and $row.Values.Count -gt 0) {
            $values = $row.Values.ToArray()
            $min = ($values | Measure-Object -Minimum).Minimum
            $max = ($values | Measure-Object -Maximum).Maximum
            $median = Get-Median -Values $values
            $spread = if ($median -ne 0) { ([Math]::Abs($max - $min) / [Math]::Abs($median) * 100).ToString('0', $script:Invariant) + '%' } else { '-' }
            , @($row.Name, $row.Unit, (Format-Value $min $row.Format), (Format-Value $median $row.Format), (Format-Value $max $row.Format), $spread, [string]$values.Count)
        }
        else {
            $status = if ($row.Status -eq 'ok') { 'not run' } else { $row.Status }
            , @($row.Name, $row.Unit, $status, $status, $status, '-', [string]$row.Values.Count)
        }
    })
    Format-MarkdownTable -Header @('Contender', 'Unit', 'Min', 'Median', 'Max', 'Spread', 'Runs') -Body @($body) -RightAligned @($false, $false, $true, $true, $true, $true, $true)
    ''
    'Ratios of medians:'
    ''
    foreach ($ratio in $script:Ratios | Where-Object Case -EQ $CaseName) {
        if ($ratio.PSObject.Properties['Unit']) {
            "- $($ratio.Label): $(if ($null -eq $ratio.Value) { 'not measured' } else { (Format-Value $ratio.Value 'N2') + ' ' + $ratio.Unit })"
        }
        else {
            "- $($ratio.Label): $(Format-Ratio $ratio.Value)"
        }
    }
    # In table order, once per contender (an idle contender has two rows).
    $seen = [System.Collections.Generic.HashSet[string]]::new()
    $failed = @($script:Rows | Where-Object { $_.Case -eq $CaseName -and $_.Status -eq 'failed' -and $seen.Add($_.Name) })
    $notes = @($script:Notes | Where-Object Case -EQ $CaseName)
    if ($failed.Count -gt 0 -or $notes.Count -gt 0) {
        ''
    }
    foreach ($row in $failed) {
        $first = ($row.Error -split "`n")[0]
        "- FAILED: $($row.Name): $first"
    }
    foreach ($note in $notes) {
        "- $($note.Text)"
    }
}

function Get-SummaryLines {
    $targets = $script:Targets
    $idleLabel = if ($null -ne $targets.IdleCount) { Format-Count $targets.IdleCount } else { '10,000' }
    $items = @(
        @{ Case = 'bulk'; Target = 'Bulk: SockPS vs the fastest C# baseline'; Goal = 0.9; Kind = 'ratio-min'; Value = $targets.BulkCSharp }
        @{ Case = 'bulk'; Target = 'Bulk: SockPS vs ncat'; Goal = 3.0; Kind = 'ratio-min'; Value = $targets.BulkNcat }
        @{ Case = 'rr'; Target = 'Request/response: cmdlets vs raw pwsh'; Goal = 0.5; Kind = 'ratio-min'; Value = $targets.RrCmdlets }
        @{ Case = 'rr'; Target = 'Request/response: methods vs raw pwsh'; Goal = 0.9; Kind = 'ratio-min'; Value = $targets.RrMethods }
        @{ Case = 'idle'; Target = "Idle: server memory, $idleLabel connections"; Goal = 4.0; Kind = 'kib-max'; Value = $targets.IdleMemory }
        @{ Case = 'idle'; Target = "Idle: SockPS accept rate vs C#, $idleLabel connections"; Goal = 0.7; Kind = 'ratio-min'; Value = $targets.IdleAccept }
        @{ Case = 'udp'; Target = 'UDP: SockPS vs the raw pwsh loop'; Goal = 0.5; Kind = 'ratio-min'; Value = $targets.Udp }
        @{ Case = 'relay'; Target = 'Relay: SockPS vs socat -b65536 (issue 6)'; Goal = 0.8; Kind = 'ratio-min'; Value = $targets.Relay }
    )
    $body = @(foreach ($item in $items) {
        if ($item.Kind -eq 'kib-max') {
            $goal = "<= $(Format-Value $item.Goal 'N0') KiB each"
            $measured = if ($null -ne $item.Value) { "$(Format-Value $item.Value 'N2') KiB" } else { '' }
        }
        else {
            $goal = ">= $(Format-Ratio $item.Goal)"
            $measured = if ($null -ne $item.Value) { Format-Ratio $item.Value } else { '' }
        }
        if ($item.Case -notin $Case) {
            $measured = 'not run (-Case)'
            $result = '-'
        }
        elseif ($null -eq $item.Value -or [double]::IsNaN([double]$item.Value)) {
            $measured = 'not measured'
            $result = '-'
        }
        else {
            $value = [double]$item.Value
            $met = if ($item.Kind -eq 'kib-max') { $value -le $item.Goal } else { $value -ge $item.Goal }
            $result = if ($met) { 'met' }
            elseif ($item.Kind -eq 'kib-max') { "missed: $((($value / $item.Goal - 1) * 100).ToString('0', $script:Invariant))% over" }
            else { "missed: $(((1 - $value / $item.Goal) * 100).ToString('0', $script:Invariant))% short" }
        }
        , @($item.Target, $goal, $measured, $result)
    })
    Format-MarkdownTable -Header @('Target', 'Goal', 'Measured (medians)', 'Result') -Body @($body) -RightAligned @($false, $false, $true, $false)
    if ($Quick) {
        ''
        '(-Quick: tiny sizes and one run; these numbers check that the harness works, they measure nothing.)'
    }
}

function Get-ReportLines {
    $titles = [ordered]@{
        bulk = "## a. Bulk transfer: $(Format-Size $BulkSize) over loopback to /dev/null"
        rr   = "## b. Request/response: $(Format-Count $RoundTrips) round trips of 64 bytes"
        idle = "## c. Idle connections: $(($IdleConnections | ForEach-Object { Format-Count $_ }) -join ' and ') held open"
        udp  = "## d. UDP: $(Format-Count $Datagrams) datagrams of 512 bytes"
        relay = "## e. Relay: $(Format-Size $BulkSize) through a port forward to /dev/null"
        handler = "## f. Handler server: $HandlerClients concurrent clients x $(Format-Count $HandlerRoundTrips) round trips of 64 bytes"
        portscan = "## g. Port scan: $(Format-Count $PortChecks) TCP port checks on loopback"
    }
    '# SockPS benchmark'
    ''
    Get-MachineLines
    "- Duration: $([Math]::Round($script:RunClock.Elapsed.TotalSeconds)) s; 1-minute load average $($script:LoadAtStart) at the start, $(Get-LoadAverage) at the end (other work on these $([Environment]::ProcessorCount) cores skews every number)"
    foreach ($name in $titles.Keys) {
        if ($name -in $Case) {
            ''
            $titles[$name]
            ''
            Get-CaseLines -CaseName $name
        }
    }
    ''
    '## Summary: the targets of issues 5 and 6'
    ''
    Get-SummaryLines
    if ($script:Failures.Count -gt 0) {
        ''
        '## Failures'
        ''
        foreach ($failure in $script:Failures) {
            '```'
            $failure.TrimEnd()
            '```'
        }
    }
}

#endregion

#region Main --------------------------------------------------------------------------------------

$script:TempFiles = [System.Collections.Generic.List[string]]::new()
$script:BulkSource = $null
$script:LastRelay = $null
$script:Targets = @{
    BulkCSharp = $null; BulkNcat = $null; RrCmdlets = $null; RrMethods = $null
    IdleCount = $null; IdleAccept = $null; IdleMemory = $null; Udp = $null; Relay = $null
}
$exitCode = 0
try {
    # The module: a folder or a manifest, resolved now so a relative path survives the runspaces
    # and child processes.
    if (-not (Test-Path -LiteralPath $ModulePath)) {
        throw "There is no SockPS module at $ModulePath; build it first (dotnet pwsh ./build.ps1 -Task Build)."
    }
    $resolved = (Resolve-Path -LiteralPath $ModulePath).ProviderPath
    $script:ModuleManifest = if (Test-Path -LiteralPath $resolved -PathType Container) { Join-Path -Path $resolved -ChildPath 'SockPS.psd1' } else { $resolved }
    if (-not (Test-Path -LiteralPath $script:ModuleManifest)) {
        throw "$script:ModuleManifest does not exist; -ModulePath must be the SockPS module folder or its .psd1."
    }
    $module = Import-Module -Name $script:ModuleManifest -PassThru -Force
    $script:ModuleVersion = $module.Version
    $moduleDll = Join-Path -Path (Split-Path -Path $script:ModuleManifest -Parent) -ChildPath 'SockPS.dll'
    $script:ModuleBuilt = if (Test-Path -LiteralPath $moduleDll) {
        (Get-Item -LiteralPath $moduleDll).LastWriteTimeUtc.ToString('yyyy-MM-dd HH:mm', $script:Invariant) + ' UTC'
    }
    else { 'at an unknown time' }

    if (-not [System.IO.Path]::IsPathRooted($ResultPath)) {
        $ResultPath = Join-Path -Path (Get-Location -PSProvider FileSystem).ProviderPath -ChildPath $ResultPath
    }

    # The C# baselines, built from source so the run works from a fresh clone.
    $script:DotnetPath = Get-DotnetPath
    $baselineOutput = Join-Path -Path $script:RepoRoot -ChildPath 'out/bench-baselines'
    $baselineProject = Join-Path -Path $PSScriptRoot -ChildPath 'Baselines/Baselines.csproj'
    Write-Host "Building the C# baselines into $baselineOutput"
    $buildOutput = & $script:DotnetPath build $baselineProject -c Release -o $baselineOutput --nologo 2>&1
    if ($LASTEXITCODE -ne 0) {
        throw "dotnet build of bench/Baselines failed with exit code $LASTEXITCODE`n$($buildOutput -join "`n")"
    }
    $script:BaselineDll = Join-Path -Path $baselineOutput -ChildPath 'Baselines.dll'

    foreach ($name in 'bulk', 'rr', 'idle', 'udp', 'relay', 'handler', 'portscan') {
        if ($name -notin $Case) {
            continue
        }
        $caseClock = [System.Diagnostics.Stopwatch]::StartNew()
        try {
            switch ($name) {
                'bulk' { Invoke-BulkCase }
                'rr' { Invoke-RequestResponseCase }
                'idle' { Invoke-IdleCase }
                'udp' { Invoke-UdpCase }
                'relay' { Invoke-RelayCase }
                'handler' { Invoke-HandlerCase }
                'portscan' { Invoke-PortScanCase }
            }
        }
        catch {
            $script:Failures.Add("$name (the case stopped): $_`n$($_.ScriptStackTrace)")
            Write-Host "== $name stopped: $_"
        }
        finally {
            # Whatever a failed run left behind.
            Stop-Child @($script:Children.ToArray())
            Add-Note -Case $name -Text "This case took $([Math]::Round($caseClock.Elapsed.TotalSeconds)) s."
        }
    }
    Get-SocketRelay | Stop-SocketRelay -ErrorAction SilentlyContinue
    Get-SocketConnection | Disconnect-Socket -ErrorAction SilentlyContinue
    Get-SocketServer | Stop-SocketServer -ErrorAction SilentlyContinue

    $report = @(Get-ReportLines)
    Write-Host ''
    $report | ForEach-Object { Write-Host $_ }

    $resultDirectory = Split-Path -Path $ResultPath -Parent
    if ($resultDirectory -and -not (Test-Path -LiteralPath $resultDirectory)) {
        $null = New-Item -ItemType Directory -Path $resultDirectory
    }
    Set-Content -LiteralPath $ResultPath -Value $report -Encoding utf8NoBOM
    Write-Host ''
    Write-Host "Wrote $ResultPath ($([Math]::Round($script:RunClock.Elapsed.TotalSeconds)) s)."

    if ($script:Failures.Count -gt 0) {
        Write-Host "$($script:Failures.Count) failure(s); see the Failures section."
        $exitCode = 1
    }
}
catch {
    Write-Host "The benchmark failed: $_`n$($_.ScriptStackTrace)"
    $exitCode = 1
}
finally {
    Stop-Child @($script:Children.ToArray())
    foreach ($path in $script:TempFiles) {
        Remove-Item -LiteralPath $path -Force -ErrorAction SilentlyContinue
    }
}
exit $exitCode

#endregion
