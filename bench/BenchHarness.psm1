#Requires -Version 7.4
<#
    The shared harness of bench/Invoke-Benchmark.ps1; the cases (bench/cases/*.ps1) use it.

    Results     Register-BenchCase, New-BenchRow, Invoke-BenchRounds (every contender -Repeat
                times, round-robin, so a slow moment of the machine spreads over every contender
                instead of hitting one), Add-BenchRatio, Add-BenchNote, Add-BenchTarget,
                Get-BenchRowMedian, Select-BenchFastest (a reference peer must never be the
                bottleneck: measure the candidates and use the fastest).
    Report      Get-BenchReport: the Markdown the console and -ResultPath get.
    Processes   Start-BenchBaseline, Read-BenchResult, Get-BenchTool, on the child-process
                watcher of the test suite (tests/pester/SockPS.TestHelpers.psm1: bounded line
                waits, bounded exit waits, kill of the whole tree on Stop-TestProcess).
    In-process  New-BenchWatchdog (disposes sockets when a loop outlives its bound),
                New-BenchRunspace and Start-/Receive-/Stop-BenchRunspaceJob (the receiving side
                of an in-process transfer).
    Files       New-BenchRandomFile, Get-BenchBulkSource (made once per run, removed at the end).
#>
Set-StrictMode -Version Latest

# The same instance the entry script imported (no -Force), so Stop-TestProcess -All there stops
# what the cases started.
Import-Module (Join-Path -Path $PSScriptRoot -ChildPath '../tests/pester/SockPS.TestHelpers.psm1')

$script:Invariant = [cultureinfo]::InvariantCulture
$script:Context = $null

#region Run context -------------------------------------------------------------------------------

function Initialize-Bench {
    <#
    .SYNOPSIS
        Starts a run: remembers the module, -Repeat and -Quick, empties the results, and builds
        the C# baselines (bench/Baselines) into out/bench-baselines.
    #>
    [CmdletBinding()]
    param(
        [Parameter(Mandatory)] [string] $RepoRoot,
        [Parameter(Mandatory)] [string] $ModuleManifest,
        [Parameter(Mandatory)] [int] $Repeat,
        # The cases this run measures, and every case there is (for the summary's note).
        [Parameter(Mandatory)] [string[]] $Case,
        [Parameter(Mandatory)] [string[]] $AllCases,
        [switch] $Quick
    )

    # The build PowerShell 7 loads (the module holds one per edition).
    $moduleDll = [System.IO.Path]::Combine((Split-Path -Path $ModuleManifest -Parent), 'net8.0', 'SockPS.dll')
    $built = if (Test-Path -LiteralPath $moduleDll) {
        (Get-Item -LiteralPath $moduleDll).LastWriteTimeUtc.ToString('yyyy-MM-dd HH:mm', $script:Invariant) + ' UTC'
    }
    else { 'at an unknown time' }

    $script:Context = [pscustomobject]@{
        RepoRoot       = $RepoRoot
        ModuleManifest = $ModuleManifest
        ModuleVersion  = (Import-PowerShellDataFile -LiteralPath $ModuleManifest).ModuleVersion
        ModuleBuilt    = $built
        Repeat         = $Repeat
        Quick          = $Quick.IsPresent
        Cases          = $Case
        AllCases       = $AllCases
        Clock          = [System.Diagnostics.Stopwatch]::StartNew()
        LoadAtStart    = Get-BenchLoadAverage
        DotnetPath     = $null
        BaselineDll    = $null
        BulkSource     = $null
        TempFiles      = [System.Collections.Generic.List[string]]::new()
        CaseList       = [System.Collections.Generic.List[object]]::new()
        Rows           = [System.Collections.Generic.List[object]]::new()
        Ratios         = [System.Collections.Generic.List[object]]::new()
        Notes          = [System.Collections.Generic.List[object]]::new()
        Targets        = [System.Collections.Generic.List[object]]::new()
        Failures       = [System.Collections.Generic.List[string]]::new()
    }

    # The C# baselines, built from source so the run works from a fresh clone.
    $script:Context.DotnetPath = Get-BenchDotnetPath
    $output = Join-Path -Path $RepoRoot -ChildPath 'out/bench-baselines'
    $project = Join-Path -Path $RepoRoot -ChildPath 'bench/Baselines/Baselines.csproj'
    Write-Host "Building the C# baselines into $output"
    $buildOutput = & $script:Context.DotnetPath build $project -c Release -o $output --nologo 2>&1
    if ($LASTEXITCODE -ne 0) {
        throw "dotnet build of bench/Baselines failed with exit code $LASTEXITCODE`n$($buildOutput -join "`n")"
    }
    $script:Context.BaselineDll = Join-Path -Path $output -ChildPath 'Baselines.dll'
}

function Get-BenchContext {
    <#
    .SYNOPSIS
        The run's settings (RepoRoot, ModuleManifest, Repeat, Quick, ...), for the cases.
    #>
    [CmdletBinding()]
    [OutputType([pscustomobject])]
    param()

    if ($null -eq $script:Context) {
        throw 'Initialize-Bench first.'
    }
    $script:Context
}

function Complete-Bench {
    <#
    .SYNOPSIS
        Ends a run: stops every child process and removes the temporary files.
    #>
    [CmdletBinding()]
    param()

    Stop-TestProcess -All
    if ($null -ne $script:Context) {
        foreach ($path in $script:Context.TempFiles) {
            Remove-Item -LiteralPath $path -Force -ErrorAction SilentlyContinue
        }
        $script:Context.TempFiles.Clear()
    }
}

function Get-BenchLoadAverage {
    <#
    .SYNOPSIS
        The 1-minute load average (Linux), or '?': a busy machine explains a noisy run.
    #>
    [CmdletBinding()]
    [OutputType([string])]
    param()

    if (Test-Path -LiteralPath '/proc/loadavg') {
        return ((Get-Content -LiteralPath '/proc/loadavg' -TotalCount 1) -split ' ')[0]
    }
    '?'
}

#endregion

#region Results -----------------------------------------------------------------------------------

function Register-BenchCase {
    <#
    .SYNOPSIS
        Opens a case: its section in the report (in the order cases register), and a line on
        the console.
    #>
    [CmdletBinding()]
    param(
        [Parameter(Mandatory)] [string] $Name,
        # The section heading, without '## '.
        [Parameter(Mandatory)] [string] $Title
    )

    $context = Get-BenchContext
    $context.CaseList.Add([pscustomobject]@{ Name = $Name; Title = $Title })
    Write-Host "== $Title; $($context.Repeat) run(s) per contender; load average $(Get-BenchLoadAverage)"
}

function New-BenchRow {
    <#
    .SYNOPSIS
        One contender's measurements in one case (Status: ok, failed, not installed). A
        contender may own several rows (e.g. round trips/s and microseconds per round trip).
    #>
    [CmdletBinding()]
    [OutputType([pscustomobject])]
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
    (Get-BenchContext).Rows.Add($row)
    $row
}

function Get-BenchMedian {
    [CmdletBinding()]
    param([double[]] $Values)

    if ($Values.Count -eq 0) {
        return $null
    }
    $sorted = [double[]]($Values | Sort-Object)
    $middle = [int][Math]::Floor($sorted.Count / 2)
    if ($sorted.Count % 2 -eq 1) {
        return $sorted[$middle]
    }
    ($sorted[$middle - 1] + $sorted[$middle]) / 2
}

function Get-BenchRowMedian {
    <#
    .SYNOPSIS
        The median of a row that ran, else $null.
    #>
    [CmdletBinding()]
    param([AllowNull()] [object] $Row)

    if ($null -eq $Row -or $Row.Status -ne 'ok' -or $Row.Values.Count -eq 0) {
        return $null
    }
    Get-BenchMedian -Values $Row.Values.ToArray()
}

function Select-BenchFastest {
    <#
    .SYNOPSIS
        Of -Candidates (objects with a Row), the one whose row has the highest median; $null
        when none ran.
    #>
    [CmdletBinding()]
    param([Parameter(Mandatory)] [object[]] $Candidates)

    $Candidates | Where-Object { $null -ne (Get-BenchRowMedian $_.Row) } |
        Sort-Object -Property { Get-BenchRowMedian $_.Row } -Descending | Select-Object -First 1
}

function Add-BenchRatio {
    <#
    .SYNOPSIS
        A line under a case's table: the ratio of two medians (either may be missing: then it
        reads "not measured"), or with -Unit a plain value (KiB, us).
    #>
    [CmdletBinding()]
    param(
        [Parameter(Mandatory)] [string] $Case,
        [Parameter(Mandatory)] [string] $Label,
        [AllowNull()] [object] $Numerator,
        [AllowNull()] [object] $Denominator,
        # A value, not a ratio: -Numerator is shown with this unit.
        [string] $Unit
    )

    $value = $null
    if ($Unit) {
        $value = $Numerator
    }
    elseif ($null -ne $Numerator -and $null -ne $Denominator -and [double]$Denominator -ne 0) {
        $value = [double]$Numerator / [double]$Denominator
    }
    (Get-BenchContext).Ratios.Add([pscustomobject]@{ Case = $Case; Label = $Label; Value = $value; Unit = $Unit })
    $value
}

function Add-BenchLine {
    <#
    .SYNOPSIS
        A line of text among a case's ratios (e.g. what SockPS adds per call), in order.
    #>
    [CmdletBinding()]
    param([Parameter(Mandatory)] [string] $Case, [Parameter(Mandatory)] [string] $Text)

    (Get-BenchContext).Ratios.Add([pscustomobject]@{ Case = $Case; Label = $Text; Value = $null; Unit = 'text' })
}

function Add-BenchNote {
    [CmdletBinding()]
    param([Parameter(Mandatory)] [string] $Case, [Parameter(Mandatory)] [string] $Text)

    (Get-BenchContext).Notes.Add([pscustomobject]@{ Case = $Case; Text = $Text })
}

function Add-BenchTarget {
    <#
    .SYNOPSIS
        Declares a target of the summary and returns it; the case sets its Value once measured
        (left $null it reads "not measured"). Declare targets first in a case, so a case that
        stops early still lists them.
    #>
    [CmdletBinding()]
    [OutputType([pscustomobject])]
    param(
        [Parameter(Mandatory)] [string] $Case,
        [Parameter(Mandatory)] [string] $Name,
        [Parameter(Mandatory)] [double] $Goal,
        # AtLeast: a ratio that must reach the goal; AtMostKiB: a size that must stay under it.
        [ValidateSet('AtLeast', 'AtMostKiB')] [string] $Kind = 'AtLeast',
        # The issue that set the goal.
        [Parameter(Mandatory)] [int] $Issue
    )

    $target = [pscustomobject]@{ Case = $Case; Name = $Name; Goal = $Goal; Kind = $Kind; Issue = $Issue; Value = $null }
    (Get-BenchContext).Targets.Add($target)
    $target
}

function Add-BenchFailure {
    [CmdletBinding()]
    param([Parameter(Mandatory)] [string] $Text)

    (Get-BenchContext).Failures.Add($Text)
}

function Invoke-BenchRounds {
    <#
    .SYNOPSIS
        Runs every contender -Repeat times, round-robin.
    .DESCRIPTION
        A contender is @{ Rows; Run } (more keys are welcome): Run gets the contender as its
        argument and returns one value per row, in order. A contender that throws is marked
        failed and not run again; its rows stay in the report with the error.
    #>
    [CmdletBinding()]
    param(
        [Parameter(Mandatory)] [string] $CaseName,
        [Parameter(Mandatory)] [object[]] $Contenders
    )

    $context = Get-BenchContext
    for ($round = 1; $round -le $context.Repeat; $round++) {
        foreach ($contender in $Contenders) {
            $rows = @($contender.Rows)
            if ($rows[0].Status -ne 'ok') {
                continue
            }
            [GC]::Collect()
            [GC]::WaitForPendingFinalizers()
            try {
                $values = @(& $contender.Run $contender)
                if ($values.Count -ne $rows.Count) {
                    throw "The run returned $($values.Count) value(s) for $($rows.Count) row(s): $($values -join ', ')"
                }
                $text = for ($index = 0; $index -lt $rows.Count; $index++) {
                    $rows[$index].Values.Add([double]$values[$index])
                    "$(Format-BenchValue $values[$index] $rows[$index].Format) $($rows[$index].Unit)"
                }
                Write-Host "  [$CaseName $round/$($context.Repeat)] $($rows[0].Name): $($text -join ', ')"
            }
            catch {
                foreach ($row in $rows) {
                    $row.Status = 'failed'
                    $row.Error = "$_"
                }
                Add-BenchFailure -Text "$CaseName / $($rows[0].Name): $_"
                Write-Host "  [$CaseName $round/$($context.Repeat)] $($rows[0].Name): FAILED: $_"
            }
        }
    }
}

#endregion

#region Formatting --------------------------------------------------------------------------------

function Format-BenchValue {
    [CmdletBinding()]
    param([AllowNull()] [object] $Value, [string] $Format = 'N0')

    if ($null -eq $Value) {
        return '-'
    }
    ([double]$Value).ToString($Format, $script:Invariant)
}

function Format-BenchRatio {
    [CmdletBinding()]
    param([AllowNull()] [object] $Value)

    if ($null -eq $Value) {
        return 'not measured'
    }
    ([double]$Value).ToString('0.00', $script:Invariant) + 'x'
}

function ConvertTo-BenchMicroseconds {
    <#
    .SYNOPSIS
        Microseconds per operation from a rate in operations/s; $null for a rate not measured.
    #>
    [CmdletBinding()]
    param([AllowNull()] [object] $Rate)

    if ($null -eq $Rate -or [double]$Rate -le 0) { return $null }
    1e6 / [double]$Rate
}

function Format-BenchCount {
    [CmdletBinding()]
    param([double] $Value)

    $Value.ToString('N0', $script:Invariant)
}

function Format-BenchSize {
    [CmdletBinding()]
    param([double] $Bytes)

    if ($Bytes -ge 1GB -and $Bytes % 1GB -eq 0) { return "$($Bytes / 1GB) GiB" }
    if ($Bytes -ge 1MB -and $Bytes % 1MB -eq 0) { return "$($Bytes / 1MB) MiB" }
    if ($Bytes -ge 1KB -and $Bytes % 1KB -eq 0) { return "$($Bytes / 1KB) KiB" }
    "$(Format-BenchCount $Bytes) bytes"
}

#endregion

#region Child processes ---------------------------------------------------------------------------

function Get-BenchFloorAssembly {
    <#
    .SYNOPSIS
        Two binary cmdlets that do the least a cmdlet can, for the floor rows:
        what PowerShell itself costs any cmdlet of that shape, so "SockPS adds" can be split into
        PowerShell's share and SockPS's own.
    .DESCRIPTION
        Invoke-BenchNoOp -Connection <object> [-InputObject <object>] [-ByteCount <int>]: does
        nothing, and with -ByteCount outputs a new byte array of that length (as a receive does).
        Send-BenchSocket -Socket <Socket>, byte arrays piped in: Socket.Send of each, nothing else.
        -Connection is a plain object parameter, so PowerShell binds it with no conversion at all.
        Compiled once per process (Add-Type); the case imports the assembly this returns
        (Import-Module -Assembly), since a module imported from inside this one would be this
        module's alone.
    #>
    [CmdletBinding()]
    param()

    if ($null -eq ('SockPSBench.InvokeBenchNoOpCommand' -as [type])) {
        Add-Type -TypeDefinition @'
using System.Management.Automation;
using System.Net.Sockets;
namespace SockPSBench
{
    [Cmdlet(VerbsLifecycle.Invoke, "BenchNoOp")]
    public sealed class InvokeBenchNoOpCommand : PSCmdlet
    {
        [Parameter(Mandatory = true, Position = 0)] public object Connection { get; set; }
        [Parameter] public object InputObject { get; set; }
        [Parameter] public int ByteCount { get; set; }
        protected override void ProcessRecord()
        {
            if (ByteCount > 0) { WriteObject(new byte[ByteCount]); }
        }
    }

    [Cmdlet(VerbsCommunications.Send, "BenchSocket")]
    public sealed class SendBenchSocketCommand : PSCmdlet
    {
        [Parameter(ValueFromPipeline = true)] public object InputObject { get; set; }
        [Parameter(Mandatory = true)] public Socket Socket { get; set; }
        protected override void ProcessRecord()
        {
            object value = InputObject is PSObject wrapped ? wrapped.BaseObject : InputObject;
            Socket.Send((byte[])value);
        }
    }
}
'@
    }
    [SockPSBench.InvokeBenchNoOpCommand].Assembly
}

function Get-BenchDotnetPath {
    $processPath = [Environment]::ProcessPath
    if ([System.IO.Path]::GetFileNameWithoutExtension($processPath) -eq 'dotnet') {
        return $processPath
    }
    $command = Get-Command -Name dotnet -CommandType Application -ErrorAction SilentlyContinue | Select-Object -First 1
    if ($null -eq $command) {
        throw 'dotnet is not on PATH; the C# baselines need it.'
    }
    $command.Source
}

function Get-BenchTool {
    <#
    .SYNOPSIS
        The full path of a tool on PATH, or $null (the contender then reads "not installed").
    #>
    [CmdletBinding()]
    [OutputType([string])]
    param([Parameter(Mandatory)] [string] $Name)

    $command = Get-Command -Name $Name -CommandType Application -ErrorAction SilentlyContinue | Select-Object -First 1
    if ($command) { return $command.Source }
    $null
}

function Start-BenchProcess {
    <#
    .SYNOPSIS
        Start-TestProcess from the repository root with NO_COLOR=1 (plain text for the line
        patterns).
    #>
    [CmdletBinding()]
    [OutputType([SockPS.Testing.TestProcess])]
    param(
        [Parameter(Mandatory)] [string] $FilePath,
        [string[]] $ArgumentList = @()
    )

    Start-TestProcess -FilePath $FilePath -ArgumentList $ArgumentList -WorkingDirectory (Get-BenchContext).RepoRoot -Environment @{ NO_COLOR = '1' }
}

function Start-BenchBaseline {
    <#
    .SYNOPSIS
        One of the C# baseline programs (bench/Baselines/Program.cs lists the modes).
    #>
    [CmdletBinding()]
    [OutputType([SockPS.Testing.TestProcess])]
    param([Parameter(Mandatory)] [string[]] $ArgumentList)

    $context = Get-BenchContext
    Start-BenchProcess -FilePath $context.DotnetPath -ArgumentList (@($context.BaselineDll) + $ArgumentList)
}

function Read-BenchResult {
    <#
    .SYNOPSIS
        The next "result key=value ..." line of a baseline (or of bench/IdleServer.ps1) as a
        hashtable of doubles; throws with the process's output when it does not come in time.
    #>
    [CmdletBinding()]
    [OutputType([hashtable])]
    param(
        [Parameter(Mandatory)] [SockPS.Testing.TestProcess] $Process,
        [Parameter(Mandatory)] [timespan] $Timeout
    )

    $match = Wait-TestProcessLine -Process $Process -Pattern '^result (.*)$' -TimeoutSeconds $Timeout.TotalSeconds
    $values = @{}
    foreach ($pair in $match.Groups[1].Value -split '\s+') {
        $key, $value = $pair -split '=', 2
        $values[$key] = [double]::Parse($value, $script:Invariant)
    }
    $values
}

function Read-BenchPort {
    <#
    .SYNOPSIS
        The port a child prints ("port <n>" on stdout by default; socat -d -d says "listening on
        ...:<n>" on stderr).
    #>
    [CmdletBinding()]
    [OutputType([int])]
    param(
        [Parameter(Mandatory)] [SockPS.Testing.TestProcess] $Process,
        [string] $Pattern = '^port (\d+)$',
        [ValidateSet('Output', 'Error', 'Any')] [string] $Stream = 'Output',
        [double] $TimeoutSeconds = 30
    )

    [int](Wait-TestProcessLine -Process $Process -Pattern $Pattern -Stream $Stream -TimeoutSeconds $TimeoutSeconds).Groups[1].Value
}

function Stop-BenchPeer {
    <#
    .SYNOPSIS
        Ends a peer that runs until its stdin closes (the C# servers, python3): closes stdin,
        waits a little for a clean exit, then kills whatever is left. Accepts $null.
    #>
    [CmdletBinding()]
    param([AllowNull()] [SockPS.Testing.TestProcess] $Process)

    if ($null -eq $Process) {
        return
    }
    $Process.CloseInput()
    $null = $Process.WaitForExit([timespan]::FromSeconds(10))
    Stop-TestProcess -Process $Process
}

#endregion

#region In-process work ---------------------------------------------------------------------------

function New-BenchWatchdog {
    <#
    .SYNOPSIS
        A [SockPS.Testing.Watchdog]: Add() sockets, connections or servers; when -Timeout passes
        they are disposed, which ends a loop a hung peer would block forever. Dispose() it when
        the work is done.
    #>
    [CmdletBinding()]
    [OutputType([SockPS.Testing.Watchdog])]
    param([Parameter(Mandatory)] [timespan] $Timeout)

    [SockPS.Testing.Watchdog]::new($Timeout)
}

function New-BenchRunspace {
    <#
    .SYNOPSIS
        A second runspace of this process with SockPS imported, for the receiving side of an
        in-process transfer (reused across runs, so the import is not timed).
    #>
    [CmdletBinding()]
    param()

    $runspace = [runspacefactory]::CreateRunspace()
    $runspace.Open()
    $ps = [powershell]::Create()
    try {
        $ps.Runspace = $runspace
        $null = $ps.AddScript('param($Path) $ErrorActionPreference = "Stop"; Import-Module -Name $Path').AddArgument((Get-BenchContext).ModuleManifest)
        $null = $ps.Invoke()
    }
    finally {
        $ps.Dispose()
    }
    $runspace
}

function Start-BenchRunspaceJob {
    <#
    .SYNOPSIS
        Runs a script (text, compiled in the target runspace) there without waiting.
    #>
    [CmdletBinding()]
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

function Receive-BenchRunspaceJob {
    <#
    .SYNOPSIS
        The job's output, waiting at most -Timeout; throws what the job threw.
    #>
    [CmdletBinding()]
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
    $output
}

function Stop-BenchRunspaceJob {
    <#
    .SYNOPSIS
        Stops the job if it still runs (with a bound) and disposes it. Accepts $null.
    #>
    [CmdletBinding()]
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

#region Files -------------------------------------------------------------------------------------

function New-BenchRandomFile {
    <#
    .SYNOPSIS
        -Size random bytes in a new file under /dev/shm when it exists (so the disk stays out of
        the measurement), else in the temp folder. Removed by Complete-Bench.
    #>
    [CmdletBinding()]
    [OutputType([string])]
    param([Parameter(Mandatory)] [long] $Size, [Parameter(Mandatory)] [string] $Tag)

    $folder = if (Test-Path -LiteralPath '/dev/shm' -PathType Container) { '/dev/shm' } else { [System.IO.Path]::GetTempPath() }
    $path = Join-Path -Path $folder -ChildPath "sockps-bench-$PID-$Tag.bin"
    (Get-BenchContext).TempFiles.Add($path)
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
    $path
}

function Add-BenchTempFile {
    <#
    .SYNOPSIS
        A path Complete-Bench removes at the end of the run.
    #>
    [CmdletBinding()]
    param([Parameter(Mandatory)] [string] $Path)

    (Get-BenchContext).TempFiles.Add($Path)
}

function Get-BenchBulkSource {
    <#
    .SYNOPSIS
        The -Size random file the bulk and relay cases both send, made once per run.
    #>
    [CmdletBinding()]
    [OutputType([string])]
    param([Parameter(Mandatory)] [long] $Size)

    $context = Get-BenchContext
    $source = $context.BulkSource
    if (-not ($source -and (Test-Path -LiteralPath $source) -and (Get-Item -LiteralPath $source).Length -eq $Size)) {
        $context.BulkSource = New-BenchRandomFile -Size $Size -Tag "bulk-$Size"
    }
    $context.BulkSource
}

#endregion

#region Report ------------------------------------------------------------------------------------

function Get-BenchMachineLines {
    $context = Get-BenchContext
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
    $gitTool = Get-BenchTool git
    if ($gitTool) {
        $head = & $gitTool -C $context.RepoRoot rev-parse --short HEAD 2>$null
        if ($LASTEXITCODE -eq 0 -and $head) {
            $dirty = & $gitTool -C $context.RepoRoot status --porcelain -- src module 2>$null
            $git = "; repository at $head$(if ($dirty) { ' (src/ or module/ changed since; the module may or may not include that)' })"
        }
    }

    $tools = foreach ($tool in 'socat', 'ncat', 'iperf3', 'python3') {
        $path = Get-BenchTool $tool
        if (-not $path) { "$tool not installed"; continue }
        $versionArgument, $pattern = switch ($tool) {
            'socat' { '-V', 'socat version (\S+)' }
            'ncat' { '--version', 'Version (\S+)' }
            'iperf3' { '--version', '^iperf (\S+)' }
            'python3' { '--version', '^Python (\S+)' }
        }
        $found = & $path $versionArgument 2>&1 | ForEach-Object { "$_" } | Select-String -Pattern $pattern | Select-Object -First 1
        if ($found) { "$tool $($found.Matches[0].Groups[1].Value)" } else { $tool }
    }

    $mode = if ($context.Quick) { 'quick (-Quick: tiny sizes, nothing here is a measurement)' } else { 'full' }
    @(
        "- Date: $([DateTime]::UtcNow.ToString('yyyy-MM-dd HH:mm', $script:Invariant)) UTC"
        "- Machine: $cpu, $([Environment]::ProcessorCount) logical cores$memory; $os"
        "- Runtime: $([System.Runtime.InteropServices.RuntimeInformation]::FrameworkDescription), PowerShell $($PSVersionTable.PSVersion)"
        "- SockPS $($context.ModuleVersion) from $($context.ModuleManifest), built $($context.ModuleBuilt)$git"
        "- Tools: $($tools -join ', ')"
        "- Run: $mode; $($context.Repeat) run(s) per contender, round-robin; cases: $($context.Cases -join ', '); loopback only"
    )
}

function Format-BenchTable {
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

function Get-BenchCaseLines {
    param([Parameter(Mandatory)] [string] $CaseName)

    $context = Get-BenchContext
    $body = @(foreach ($row in $context.Rows | Where-Object Case -EQ $CaseName) {
            if ($row.Status -eq 'ok' -and $row.Values.Count -gt 0) {
                $values = $row.Values.ToArray()
                $min = ($values | Measure-Object -Minimum).Minimum
                $max = ($values | Measure-Object -Maximum).Maximum
                $median = Get-BenchMedian -Values $values
                $spread = if ($median -ne 0) { ([Math]::Abs($max - $min) / [Math]::Abs($median) * 100).ToString('0', $script:Invariant) + '%' } else { '-' }
                , @($row.Name, $row.Unit, (Format-BenchValue $min $row.Format), (Format-BenchValue $median $row.Format), (Format-BenchValue $max $row.Format), $spread, [string]$values.Count)
            }
            else {
                $status = if ($row.Status -eq 'ok') { 'not run' } else { $row.Status }
                , @($row.Name, $row.Unit, $status, $status, $status, '-', [string]$row.Values.Count)
            }
        })
    Format-BenchTable -Header @('Contender', 'Unit', 'Min', 'Median', 'Max', 'Spread', 'Runs') -Body @($body) -RightAligned @($false, $false, $true, $true, $true, $true, $true)
    ''
    'Ratios of medians:'
    ''
    foreach ($ratio in $context.Ratios | Where-Object Case -EQ $CaseName) {
        if ($ratio.Unit -eq 'text') {
            "- $($ratio.Label)"
        }
        elseif ($ratio.Unit) {
            "- $($ratio.Label): $(if ($null -eq $ratio.Value) { 'not measured' } else { (Format-BenchValue $ratio.Value 'N2') + ' ' + $ratio.Unit })"
        }
        else {
            "- $($ratio.Label): $(Format-BenchRatio $ratio.Value)"
        }
    }
    # In table order, once per contender (a contender may have several rows).
    $seen = [System.Collections.Generic.HashSet[string]]::new()
    $failed = @($context.Rows | Where-Object { $_.Case -eq $CaseName -and $_.Status -eq 'failed' -and $seen.Add($_.Name) })
    $notes = @($context.Notes | Where-Object Case -EQ $CaseName)
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

function Get-BenchSummaryLines {
    $context = Get-BenchContext
    $body = @(foreach ($target in $context.Targets) {
            if ($target.Kind -eq 'AtMostKiB') {
                $goal = "<= $(Format-BenchValue $target.Goal 'N0') KiB each"
                $measured = if ($null -ne $target.Value) { "$(Format-BenchValue $target.Value 'N2') KiB" } else { '' }
            }
            else {
                $goal = ">= $(Format-BenchRatio $target.Goal)"
                $measured = if ($null -ne $target.Value) { Format-BenchRatio $target.Value } else { '' }
            }
            if ($null -eq $target.Value -or [double]::IsNaN([double]$target.Value)) {
                $measured = 'not measured'
                $result = 'missed: not measured'
            }
            else {
                $value = [double]$target.Value
                $met = if ($target.Kind -eq 'AtMostKiB') { $value -le $target.Goal } else { $value -ge $target.Goal }
                $result = if ($met) { 'met' }
                elseif ($target.Kind -eq 'AtMostKiB') { "missed: $((($value / $target.Goal - 1) * 100).ToString('0', $script:Invariant))% over" }
                else { "missed: $(((1 - $value / $target.Goal) * 100).ToString('0', $script:Invariant))% short" }
            }
            , @($target.Name, $goal, $measured, $result, "#$($target.Issue)")
        })
    Format-BenchTable -Header @('Target', 'Goal', 'Measured (medians)', 'Result', 'Issue') -Body @($body) -RightAligned @($false, $false, $true, $false, $false)
    $notRun = @($context.AllCases | Where-Object { $_ -notin $context.Cases })
    if ($notRun.Count -gt 0) {
        ''
        "(Cases not run, so their targets are not listed: $($notRun -join ', ').)"
    }
    if ($context.Quick) {
        ''
        '(-Quick: tiny sizes and one run; these numbers check that the harness works, they measure nothing.)'
    }
}

function Get-BenchReport {
    <#
    .SYNOPSIS
        The report as lines of Markdown: the machine, every registered case (table, ratios,
        notes), the summary of targets with met/missed, and the failures.
    #>
    [CmdletBinding()]
    [OutputType([string])]
    param()

    $context = Get-BenchContext
    '# SockPS benchmark'
    ''
    Get-BenchMachineLines
    "- Duration: $([Math]::Round($context.Clock.Elapsed.TotalSeconds)) s; 1-minute load average $($context.LoadAtStart) at the start, $(Get-BenchLoadAverage) at the end (other work on these $([Environment]::ProcessorCount) cores skews every number; each case notes the load at its start)"
    foreach ($case in $context.CaseList) {
        ''
        "## $($case.Title)"
        ''
        Get-BenchCaseLines -CaseName $case.Name
    }
    ''
    '## Summary: targets'
    ''
    Get-BenchSummaryLines
    if ($context.Failures.Count -gt 0) {
        ''
        '## Failures'
        ''
        foreach ($failure in $context.Failures) {
            '```'
            $failure.TrimEnd()
            '```'
        }
    }
}

#endregion

Export-ModuleMember -Function @(
    'Initialize-Bench'
    'Get-BenchContext'
    'Complete-Bench'
    'Get-BenchLoadAverage'
    'Register-BenchCase'
    'New-BenchRow'
    'Get-BenchMedian'
    'Get-BenchRowMedian'
    'Select-BenchFastest'
    'Add-BenchRatio'
    'Add-BenchLine'
    'Add-BenchNote'
    'Add-BenchTarget'
    'Add-BenchFailure'
    'Invoke-BenchRounds'
    'Format-BenchValue'
    'Format-BenchRatio'
    'ConvertTo-BenchMicroseconds'
    'Format-BenchCount'
    'Format-BenchSize'
    'Get-BenchFloorAssembly'
    'Get-BenchTool'
    'Start-BenchProcess'
    'Start-BenchBaseline'
    'Read-BenchResult'
    'Read-BenchPort'
    'Stop-BenchPeer'
    'New-BenchWatchdog'
    'New-BenchRunspace'
    'Start-BenchRunspaceJob'
    'Receive-BenchRunspaceJob'
    'Stop-BenchRunspaceJob'
    'New-BenchRandomFile'
    'Add-BenchTempFile'
    'Get-BenchBulkSource'
    'Get-BenchReport'
)
