#Requires -Version 7.4
<#
    Helpers for the Pester suite: start test peers (a fresh pwsh, socat, ncat, openssl, python3)
    and wait, with a bound, for the line that says they are ready.

    Why a small C# class: .NET raises OutputDataReceived/ErrorDataReceived on thread-pool
    threads, where a PowerShell script block has no runspace to run in. The class collects the
    lines under a lock and lets the test thread block on a Monitor with a timeout, so a test
    never sleeps to synchronise and never spins.

    Wait semantics are expect-like: each stream has a cursor, and a successful wait moves it past
    the matched line, so waiting twice for "Got connection" needs two such lines. -FromStart
    searches every line seen so far instead.

    Also: Wait-TestCondition (a bounded wait on a condition no event announces),
    New-TestConnectionPair (a SockPS server, a client and the accepted end; needs SockPS imported
    by the caller), New-TestRandomBytes and Get-TestSha256 (for checksummed transfers),
    New-TestStaleSocketFile and Test-TestSocketFile (Unix socket files), Set-TestHostLookup (a
    host name with several addresses; needs SockPS imported).
#>
Set-StrictMode -Version Latest

if (-not ('SockPS.Testing.TestProcess' -as [type])) {
    Add-Type -TypeDefinition @'
using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Text;
using System.Text.RegularExpressions;
using System.Threading;

namespace SockPS.Testing
{
    /// <summary>A started process whose stdout and stderr are captured line by line.</summary>
    public sealed class TestProcess : IDisposable
    {
        private readonly object _gate = new object();
        private readonly List<string> _output = new List<string>();
        private readonly List<string> _error = new List<string>();
        // Both streams in arrival order, prefixed, for failure messages.
        private readonly List<string> _combined = new List<string>();
        private int _outputCursor;
        private int _errorCursor;
        private bool _outputClosed;
        private bool _errorClosed;
        private bool _disposed;

        public TestProcess(ProcessStartInfo startInfo)
        {
            startInfo.UseShellExecute = false;
            startInfo.RedirectStandardOutput = true;
            startInfo.RedirectStandardError = true;
            // Always redirect stdin: an inherited console would let a child (pwsh above all)
            // read the terminal the test run is attached to.
            startInfo.RedirectStandardInput = true;
            startInfo.StandardOutputEncoding = new UTF8Encoding(false);
            startInfo.StandardErrorEncoding = new UTF8Encoding(false);
            startInfo.StandardInputEncoding = new UTF8Encoding(false);

            Process = new Process { StartInfo = startInfo, EnableRaisingEvents = true };
            Process.OutputDataReceived += (sender, e) => Add(e.Data, isError: false);
            Process.ErrorDataReceived += (sender, e) => Add(e.Data, isError: true);
            Process.Start();
            Process.BeginOutputReadLine();
            Process.BeginErrorReadLine();
            CommandLine = startInfo.FileName + " " + string.Join(" ", startInfo.ArgumentList);
        }

        public Process Process { get; }

        public string CommandLine { get; }

        public int Id => Process.Id;

        public bool HasExited => Process.HasExited;

        public string[] OutputLines { get { lock (_gate) { return _output.ToArray(); } } }

        public string[] ErrorLines { get { lock (_gate) { return _error.ToArray(); } } }

        /// <summary>True when the stream ("Output", "Error" or "Any": both) can bring no more lines.</summary>
        public bool HasStreamEnded(string stream)
        {
            lock (_gate)
            {
                if (string.Equals(stream, "Output", StringComparison.OrdinalIgnoreCase)) return _outputClosed;
                if (string.Equals(stream, "Error", StringComparison.OrdinalIgnoreCase)) return _errorClosed;
                return _outputClosed && _errorClosed;
            }
        }

        public void WriteInput(string line)
        {
            Process.StandardInput.WriteLine(line);
            Process.StandardInput.Flush();
        }

        public void CloseInput() => Process.StandardInput.Close();

        /// <summary>
        /// Blocks until a line on the stream ("Output", "Error" or "Any") matches, the stream
        /// ends (the process can print no more), or the timeout passes. Returns null when no
        /// line matched.
        /// </summary>
        public Match WaitForLine(Regex pattern, string stream, TimeSpan timeout, bool fromStart)
        {
            bool useOutput = !string.Equals(stream, "Error", StringComparison.OrdinalIgnoreCase);
            bool useError = !string.Equals(stream, "Output", StringComparison.OrdinalIgnoreCase);
            var deadline = Stopwatch.StartNew();
            lock (_gate)
            {
                if (fromStart)
                {
                    if (useOutput) _outputCursor = 0;
                    if (useError) _errorCursor = 0;
                }

                while (true)
                {
                    if (useOutput)
                    {
                        for (; _outputCursor < _output.Count; _outputCursor++)
                        {
                            Match m = pattern.Match(_output[_outputCursor]);
                            if (m.Success) { _outputCursor++; return m; }
                        }
                    }

                    if (useError)
                    {
                        for (; _errorCursor < _error.Count; _errorCursor++)
                        {
                            Match m = pattern.Match(_error[_errorCursor]);
                            if (m.Success) { _errorCursor++; return m; }
                        }
                    }

                    bool ended = (!useOutput || _outputClosed) && (!useError || _errorClosed);
                    TimeSpan left = timeout - deadline.Elapsed;
                    if (ended || left <= TimeSpan.Zero)
                    {
                        return null;
                    }

                    Monitor.Wait(_gate, left);
                }
            }
        }

        /// <summary>
        /// Waits for the process to exit and for both streams to be drained, so every line is
        /// captured. False on timeout.
        /// </summary>
        public bool WaitForExit(TimeSpan timeout)
        {
            var deadline = Stopwatch.StartNew();
            if (!Process.WaitForExit(ClampToMilliseconds(timeout)))
            {
                return false;
            }

            lock (_gate)
            {
                // A grandchild that inherited the pipes can keep them open after the process
                // has exited; then give up on the tail of the output rather than hang.
                while (!(_outputClosed && _errorClosed))
                {
                    TimeSpan left = timeout - deadline.Elapsed;
                    if (left <= TimeSpan.Zero) break;
                    Monitor.Wait(_gate, left);
                }
            }

            return true;
        }

        /// <summary>Everything printed so far, stdout and stderr interleaved in arrival order.</summary>
        public string Transcript()
        {
            lock (_gate)
            {
                var sb = new StringBuilder();
                sb.Append("--- command: ").AppendLine(CommandLine);
                sb.Append("--- process ").Append(Process.Id).Append(": ");
                if (Process.HasExited)
                {
                    sb.Append("exited with code ").Append(Process.ExitCode).AppendLine();
                }
                else
                {
                    sb.AppendLine("still running");
                }

                sb.Append("--- stdout ").Append(_output.Count).Append(" line(s), stderr ")
                  .Append(_error.Count).AppendLine(" line(s):");
                foreach (string line in _combined)
                {
                    sb.AppendLine(line);
                }

                sb.Append("--- end of output");
                return sb.ToString();
            }
        }

        /// <summary>Kills the process and its descendants if still running. Idempotent.</summary>
        public void Kill()
        {
            try
            {
                if (!Process.HasExited)
                {
                    Process.Kill(entireProcessTree: true);
                    Process.WaitForExit(10000);
                }
            }
            catch (InvalidOperationException)
            {
                // Exited between the check and the kill.
            }
        }

        public void Dispose()
        {
            if (_disposed) return;
            _disposed = true;
            Kill();
            Process.Dispose();
        }

        public override string ToString() => "TestProcess " + Process.Id + ": " + CommandLine;

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

        private static int ClampToMilliseconds(TimeSpan t) =>
            t <= TimeSpan.Zero ? 0 : t.TotalMilliseconds >= int.MaxValue ? int.MaxValue : (int)t.TotalMilliseconds;
    }
}
'@ -Language CSharp
}

# Every process started here, so an AfterAll can stop whatever a failed test left running.
$script:Started = [System.Collections.Generic.List[SockPS.Testing.TestProcess]]::new()

function Get-PwshCommand {
    <#
    .SYNOPSIS
        How to start a fresh pwsh equal to the running one: @{ FilePath; Arguments }.
    .DESCRIPTION
        Under the repository's pinned tool (`dotnet pwsh`) the process is dotnet itself and the
        shell is $PSHOME/pwsh.dll; starting "pwsh" from PATH could pick another version.
    #>
    [CmdletBinding()]
    [OutputType([hashtable])]
    param()

    $processPath = [Environment]::ProcessPath
    $processName = [System.IO.Path]::GetFileNameWithoutExtension($processPath)
    $pwshDll = Join-Path -Path $PSHOME -ChildPath 'pwsh.dll'
    if ($processName -eq 'dotnet' -and (Test-Path -LiteralPath $pwshDll)) {
        return @{ FilePath = $processPath; Arguments = @($pwshDll) }
    }

    return @{ FilePath = $processPath; Arguments = @() }
}

function Start-TestProcess {
    <#
    .SYNOPSIS
        Starts a process with stdin, stdout and stderr redirected; returns a
        [SockPS.Testing.TestProcess] (Process, OutputLines, ErrorLines, WriteInput(),
        CloseInput(), Transcript()).
    #>
    [CmdletBinding()]
    [OutputType([SockPS.Testing.TestProcess])]
    param(
        [Parameter(Mandatory)]
        [string] $FilePath,

        [string[]] $ArgumentList = @(),

        [string] $WorkingDirectory = (Get-Location -PSProvider FileSystem).ProviderPath,

        # Extra environment variables for the child; the rest is inherited.
        [hashtable] $Environment = @{}
    )

    $resolved = $FilePath
    if (-not [System.IO.Path]::IsPathRooted($FilePath)) {
        $command = Get-Command -Name $FilePath -CommandType Application -ErrorAction SilentlyContinue |
            Select-Object -First 1
        if ($null -eq $command) {
            throw "Start-TestProcess: '$FilePath' was not found on PATH."
        }
        $resolved = $command.Source
    }

    $startInfo = [System.Diagnostics.ProcessStartInfo]::new($resolved)
    foreach ($argument in $ArgumentList) {
        $startInfo.ArgumentList.Add($argument)
    }
    $startInfo.WorkingDirectory = $WorkingDirectory
    foreach ($key in $Environment.Keys) {
        $startInfo.Environment[[string]$key] = [string]$Environment[$key]
    }

    $testProcess = [SockPS.Testing.TestProcess]::new($startInfo)
    $script:Started.Add($testProcess)
    return $testProcess
}

function Start-TestPwsh {
    <#
    .SYNOPSIS
        Starts a fresh `pwsh -NoProfile -NonInteractive` (the same version as the running one)
        running a script file or a command string.
    #>
    [CmdletBinding(DefaultParameterSetName = 'Command')]
    [OutputType([SockPS.Testing.TestProcess])]
    param(
        [Parameter(Mandatory, ParameterSetName = 'File')]
        [string] $File,

        [Parameter(Mandatory, ParameterSetName = 'Command')]
        [string] $Command,

        [Parameter(ParameterSetName = 'File')]
        [string[]] $ArgumentList = @(),

        [string] $WorkingDirectory = (Get-Location -PSProvider FileSystem).ProviderPath,

        [hashtable] $Environment = @{}
    )

    $pwsh = Get-PwshCommand
    $arguments = [System.Collections.Generic.List[string]]::new()
    $arguments.AddRange([string[]]$pwsh.Arguments)
    $arguments.AddRange([string[]]@('-NoProfile', '-NonInteractive'))
    if ($PSCmdlet.ParameterSetName -eq 'File') {
        $arguments.Add('-File')
        $arguments.Add($File)
        $arguments.AddRange([string[]]$ArgumentList)
    }
    else {
        $arguments.Add('-Command')
        $arguments.Add($Command)
    }

    # Plain text on the redirected streams, so patterns don't have to skip ANSI sequences.
    $childEnvironment = @{ NO_COLOR = '1' }
    foreach ($key in $Environment.Keys) {
        $childEnvironment[$key] = $Environment[$key]
    }

    Start-TestProcess -FilePath $pwsh.FilePath -ArgumentList $arguments -WorkingDirectory $WorkingDirectory `
        -Environment $childEnvironment
}

function Wait-TestProcessLine {
    <#
    .SYNOPSIS
        Waits, at most -TimeoutSeconds, for a line matching -Pattern and returns the
        [System.Text.RegularExpressions.Match]. Throws with the process's whole output when the
        line does not come (timeout, or the stream ended).
    #>
    [CmdletBinding()]
    [OutputType([System.Text.RegularExpressions.Match])]
    param(
        [Parameter(Mandatory)]
        [SockPS.Testing.TestProcess] $Process,

        [Parameter(Mandatory)]
        [string] $Pattern,

        [ValidateSet('Output', 'Error', 'Any')]
        [string] $Stream = 'Output',

        [ValidateRange(0.1, 600)]
        [double] $TimeoutSeconds = 20,

        # Search every line seen so far instead of only those after the previous match.
        [switch] $FromStart
    )

    $regex = [regex]::new($Pattern)
    $match = $Process.WaitForLine($regex, $Stream, [timespan]::FromSeconds($TimeoutSeconds), $FromStart.IsPresent)
    if ($null -eq $match) {
        $why = "$TimeoutSeconds s passed"
        if ($Process.HasStreamEnded($Stream)) {
            # The stream closes a moment before the exit is reaped; wait briefly so the message
            # can carry the exit code.
            $null = $Process.Process.WaitForExit(2000)
            $why = 'the stream ended first: the process closed it or exited'
        }
        throw "Wait-TestProcessLine: no line on $Stream matched /$Pattern/ ($why).`n$($Process.Transcript())"
    }

    return $match
}

function Wait-TestProcessExit {
    <#
    .SYNOPSIS
        Waits, at most -TimeoutSeconds, for the process to exit and returns its exit code.
        Throws with the process's whole output on timeout (the process is left running; stop it
        with Stop-TestProcess).
    #>
    [CmdletBinding()]
    [OutputType([int])]
    param(
        [Parameter(Mandatory)]
        [SockPS.Testing.TestProcess] $Process,

        [ValidateRange(0.1, 600)]
        [double] $TimeoutSeconds = 20
    )

    if (-not $Process.WaitForExit([timespan]::FromSeconds($TimeoutSeconds))) {
        throw "Wait-TestProcessExit: the process did not exit within $TimeoutSeconds s.`n$($Process.Transcript())"
    }

    return $Process.Process.ExitCode
}

function Stop-TestProcess {
    <#
    .SYNOPSIS
        Kills the process tree if it is still running and disposes it. -All does that for every
        process started by this module. Safe to call twice.
    #>
    [CmdletBinding(DefaultParameterSetName = 'Process')]
    param(
        [Parameter(Mandatory, ParameterSetName = 'Process', ValueFromPipeline, Position = 0)]
        [AllowNull()]
        [SockPS.Testing.TestProcess[]] $Process,

        [Parameter(Mandatory, ParameterSetName = 'All')]
        [switch] $All
    )

    process {
        $targets = if ($All) { $script:Started.ToArray() } else { $Process }
        foreach ($target in $targets) {
            if ($null -eq $target) {
                continue
            }
            $target.Dispose()
            [void]$script:Started.Remove($target)
        }
    }
}

function Start-SocatEcho {
    <#
    .SYNOPSIS
        Starts `socat TCP-LISTEN:0,bind=127.0.0.1 PIPE` (an echo server on a free loopback port)
        and returns [pscustomobject]@{ Port; Process } once socat is listening.
    .PARAMETER Fork
        Serve any number of connections (socat forks one child per connection); without it socat
        exits after the first connection closes.
    #>
    [CmdletBinding()]
    [OutputType([pscustomobject])]
    param(
        [switch] $Fork,

        [double] $TimeoutSeconds = 20
    )

    $listen = 'TCP-LISTEN:0,bind=127.0.0.1'
    if ($Fork) {
        $listen += ',fork'
    }

    # -d -d makes socat report "listening on AF=2 127.0.0.1:PORT" on stderr: the port the OS
    # picked, and the sign that it is ready.
    $socat = Start-TestProcess -FilePath 'socat' -ArgumentList @('-d', '-d', $listen, 'PIPE')
    try {
        $match = Wait-TestProcessLine -Process $socat -Stream Error -Pattern 'listening on .*:(\d+)\s*$' `
            -TimeoutSeconds $TimeoutSeconds
    }
    catch {
        Stop-TestProcess -Process $socat
        throw
    }

    [pscustomobject]@{
        PSTypeName = 'SockPS.Testing.SocatEcho'
        Port       = [int]$match.Groups[1].Value
        Process    = $socat
    }
}

function Wait-TestCondition {
    <#
    .SYNOPSIS
        Waits, at most -TimeoutSeconds, until -Condition returns true; throws with -Description
        when it does not. For conditions no event announces (a byte count, a server's queue).
    .DESCRIPTION
        Spins with [System.Threading.SpinWait], which yields and then sleeps for a millisecond at
        a time: a bounded wait on a real condition, never a guess at how long something takes.
    #>
    [CmdletBinding()]
    param(
        [Parameter(Mandatory)]
        [scriptblock] $Condition,

        [Parameter(Mandatory)]
        [string] $Description,

        [ValidateRange(0.1, 600)]
        [double] $TimeoutSeconds = 20
    )

    $clock = [System.Diagnostics.Stopwatch]::StartNew()
    $spin = [System.Threading.SpinWait]::new()
    while (-not (& $Condition)) {
        if ($clock.Elapsed.TotalSeconds -ge $TimeoutSeconds) {
            throw "Wait-TestCondition: $Description did not happen within $TimeoutSeconds s."
        }
        $spin.SpinOnce()
    }
}

function New-TestConnectionPair {
    <#
    .SYNOPSIS
        Starts a SockPS server on a free port, connects to it and accepts: returns
        [pscustomobject]@{ Server; Client; Accepted }. Needs SockPS imported by the caller.
    #>
    [CmdletBinding()]
    [OutputType([pscustomobject])]
    param(
        # Splatted onto Start-SocketServer (the port is always 0 unless given here).
        [hashtable] $ServerParameters = @{},

        # Splatted onto Connect-Socket.
        [hashtable] $ClientParameters = @{}
    )

    $server = Start-SocketServer @ServerParameters -ErrorAction Stop
    $listening = $server.LocalEndPoint.Address
    $target = if ($listening.Equals([System.Net.IPAddress]::Any)) { '127.0.0.1' }
    elseif ($listening.Equals([System.Net.IPAddress]::IPv6Any)) { '::1' }
    else { $listening.ToString() }

    $client = Connect-Socket -ComputerName $target -Port $server.Port @ClientParameters -ErrorAction Stop
    $accepted = Wait-SocketConnection -Server $server -TimeoutSeconds 20 -ErrorAction Stop

    [pscustomobject]@{
        PSTypeName = 'SockPS.Testing.ConnectionPair'
        Server     = $server
        Client     = $client
        Accepted   = $accepted
    }
}

function New-TestRandomBytes {
    <#
    .SYNOPSIS
        -Count random bytes from a seeded generator, so a failing run can be repeated.
    #>
    [CmdletBinding()]
    [OutputType([byte[]])]
    param(
        [Parameter(Mandatory)]
        [int] $Count,

        [int] $Seed = 12345
    )

    $bytes = [byte[]]::new($Count)
    [System.Random]::new($Seed).NextBytes($bytes)
    , $bytes
}

function Get-TestSha256 {
    <#
    .SYNOPSIS
        The SHA-256 of a byte array as a hex string, for comparing large transfers.
    #>
    [CmdletBinding()]
    [OutputType([string])]
    param(
        [Parameter(Mandatory)]
        [AllowEmptyCollection()]
        [byte[]] $Bytes
    )

    [System.Convert]::ToHexString([System.Security.Cryptography.SHA256]::HashData($Bytes))
}

function New-TestStaleSocketFile {
    <#
    .SYNOPSIS
        Leaves a Unix socket file at -Path that nothing listens on, as a crashed server would,
        and returns the path.
    .DESCRIPTION
        .NET deletes the file of a bound Unix socket when the socket is disposed. So the socket
        is bound under another name, the file is renamed to -Path (a rename keeps it a socket
        file), and only then is the socket disposed: .NET deletes the old name, which is gone.
    #>
    [CmdletBinding()]
    [OutputType([string])]
    param(
        [Parameter(Mandatory)]
        [string] $Path,

        [ValidateSet('Stream', 'Dgram')]
        [string] $SocketType = 'Stream'
    )

    $bound = "$Path.binding"
    $socket = [System.Net.Sockets.Socket]::new('Unix', $SocketType, 'Unspecified')
    try {
        $socket.Bind([System.Net.Sockets.UnixDomainSocketEndPoint]::new($bound))
        Move-Item -LiteralPath $bound -Destination $Path
    }
    finally {
        $socket.Dispose()
    }

    if (-not (Test-TestSocketFile -Path $Path)) {
        throw "New-TestStaleSocketFile: $Path is not a socket file after the rename."
    }

    $Path
}

function Test-TestSocketFile {
    <#
    .SYNOPSIS
        True when -Path is a socket file (its Unix mode starts with 's'), false when it is
        missing or anything else.
    #>
    [CmdletBinding()]
    [OutputType([bool])]
    param(
        [Parameter(Mandatory)]
        [string] $Path
    )

    $item = Get-Item -LiteralPath $Path -Force -ErrorAction SilentlyContinue
    if ($null -eq $item) {
        return $false
    }

    $mode = $item.PSObject.Properties['UnixMode']
    [bool]($mode -and "$($mode.Value)".StartsWith('s'))
}

function Set-TestHostLookup {
    <#
    .SYNOPSIS
        Makes SockPS answer every host name lookup (never an IP literal) with -Address, in that
        order; -Reset gives the lookup back to the system resolver. Needs SockPS imported.
    .DESCRIPTION
        This machine's resolver knows no name with several addresses, and the tests need one.
        SockPS's core has a seam for that: the internal static
        SockPS.Core.SocketConnector.HostLookupOverride, set here by reflection. The answer is a
        compiled constant, so the lookup may run on any thread, with no runspace. Reset it in
        an AfterEach: it is process-wide.
    #>
    [CmdletBinding(DefaultParameterSetName = 'Address')]
    param(
        [Parameter(Mandatory, ParameterSetName = 'Address')]
        [System.Net.IPAddress[]] $Address,

        [Parameter(Mandatory, ParameterSetName = 'Reset')]
        [switch] $Reset
    )

    $connector = 'SockPS.Core.SocketConnector' -as [type]
    if (-not $connector) {
        throw 'Set-TestHostLookup: import SockPS first.'
    }
    $property = $connector.GetProperty('HostLookupOverride', [System.Reflection.BindingFlags]'NonPublic, Static')
    if (-not $property) {
        throw 'Set-TestHostLookup: SockPS.Core.SocketConnector has no HostLookupOverride seam.'
    }

    $lookup = $null
    if (-not $Reset) {
        $taskType = [System.Threading.Tasks.Task[System.Net.IPAddress[]]]
        $answer = [System.Threading.Tasks.Task]::FromResult[System.Net.IPAddress[]]($Address)
        $name = [System.Linq.Expressions.Expression]::Parameter([string], 'name')
        $body = [System.Linq.Expressions.Expression]::Constant($answer, $taskType)
        $lookup = [System.Linq.Expressions.Expression]::Lambda([System.Func[string, System.Threading.Tasks.Task[System.Net.IPAddress[]]]],
            $body, [System.Linq.Expressions.ParameterExpression[]]@($name)).Compile()
    }

    $property.SetValue($null, $lookup)
}

Export-ModuleMember -Function @(
    'Get-PwshCommand'
    'Start-TestProcess'
    'Start-TestPwsh'
    'Wait-TestProcessLine'
    'Wait-TestProcessExit'
    'Stop-TestProcess'
    'Start-SocatEcho'
    'Wait-TestCondition'
    'New-TestConnectionPair'
    'New-TestRandomBytes'
    'Get-TestSha256'
    'New-TestStaleSocketFile'
    'Test-TestSocketFile'
    'Set-TestHostLookup'
)
