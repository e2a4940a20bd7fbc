#Requires -Version 7.4
<#
.SYNOPSIS
    Builds, tests and demonstrates SockPS.
.DESCRIPTION
    Build  publishes src/SockPS twice, into out/SockPS/net8.0 (PowerShell 7.4+) and
           out/SockPS/netstandard2.0 (Windows PowerShell 5.1), copies module/ (manifest, the
           SockPS.psm1 that loads the build fitting the edition, formats, about help) and LICENSE
           next to them and writes the MAML help from the XML docs and module/help (see
           tools/New-MamlHelp.ps1): out/SockPS is the importable module folder.
    Package
           Build, then packs out/SockPS into out/packages/SockPS.<version>.nupkg, ready for the
           PowerShell Gallery (tools/New-ModulePackage.ps1, PSResourceGet's Compress-PSResource).
           Install it from there through a local repository; README's Install section shows how.
    Test   Build, then the xunit projects, the Pester suite and the integration suite
           (tests/integration: the examples/protocols scripts against real nginx, vsftpd, INN,
           telnetd, gophernicus, dnsmasq and mail servers, which .ci/run installs), each Pester
           suite in a fresh pwsh. The last line printed is "N passed, N failed, N skipped"; the
           exit code is 1 when anything failed, a runner crashed or produced no results, or
           nothing passed.
    Demo   Build, then examples/demo.ps1 in a fresh pwsh.
    Bench  Build, then bench/Invoke-Benchmark.ps1 in a fresh pwsh: SockPS against C#, pwsh, socat,
           ncat, iperf3 and python3 on loopback; the report goes to bench/results/latest.md. For
           other options (-Quick, -Case, sizes) run the script itself.
    Stress Build, then the fuzz tests (tests/*/Fuzz) with SOCKPS_FUZZ_CASES raised to
           -FuzzCases, then tests/stress/Invoke-Stress.ps1 in a fresh pwsh: the reliability
           scenarios (resets with -ToEnd/-Line/-OutFile, many clients x random-size round trips,
           connect/disconnect churn, a sender against an unread connection, silent clients vs a
           good client) for a fifth of -StressMinutes each (at least 20 s), and the soak (an echo
           handler server under 100 churning clients) for -StressMinutes (default 10). Prints the
           table of figures and writes it to out/stress/latest.md; exit code 1 on a SHA-256
           mismatch, an unexpected error id, leaked descriptors or a failed fuzz case.
    Clean  Removes out/ and every bin/ and obj/ folder.

    From a fresh clone: dotnet tool restore && dotnet pwsh ./build.ps1 -Task Test
#>
[CmdletBinding()]
param(
    [ValidateSet('Build', 'Package', 'Test', 'Demo', 'Bench', 'Stress', 'Clean')]
    [string] $Task = 'Build',

    [string] $Configuration = 'Release',

    # -Task Stress: the soak's length in minutes; the other scenarios run a fifth of it each.
    [ValidateRange(0.05, 1440)]
    [double] $StressMinutes = 10,

    # -Task Stress: cases per fuzz test (the normal suite runs a few hundred to 2,000).
    [ValidateRange(1, 100000000)]
    [int] $FuzzCases = 50000
)

Set-StrictMode -Version Latest
$ErrorActionPreference = 'Stop'
# Exit codes of native commands are checked by hand, after every call.
$PSNativeCommandUseErrorActionPreference = $false

$env:DOTNET_CLI_TELEMETRY_OPTOUT = '1'
$env:DOTNET_NOLOGO = '1'
$env:DOTNET_SKIP_FIRST_TIME_EXPERIENCE = '1'

$RepoRoot = $PSScriptRoot
$OutDirectory = Join-Path -Path $RepoRoot -ChildPath 'out'
$ModuleOutput = Join-Path -Path $OutDirectory -ChildPath 'SockPS'
$ResultsDirectory = Join-Path -Path $OutDirectory -ChildPath 'test-results'
$PackageDirectory = Join-Path -Path $OutDirectory -ChildPath 'packages'
$XunitProjects = @('tests/SockPS.Core.Tests', 'tests/SockPS.Tests')
# The module's builds, each in out/SockPS/<framework>: PowerShell 7.4+ and Windows PowerShell 5.1.
$ModuleFrameworks = @('net8.0', 'netstandard2.0')
$PesterRestoreProject = 'tests/pester/Pester.restore.csproj'

# Bounds on the child processes, so a hung test fails the run instead of eating the CI budget.
$XunitHangTimeout = '5m'                             # per test, enforced by `dotnet test --blame-hang`
$PesterTimeout = [timespan]::FromMinutes(18)         # the whole Pester suite (about 8 on a quiet 2-core machine)
$IntegrationTimeout = [timespan]::FromMinutes(10)    # the integration suite (real daemons)
$DemoTimeout = [timespan]::FromMinutes(5)
$PackageTimeout = [timespan]::FromMinutes(3)
$BenchTimeout = [timespan]::FromMinutes(30)
$FuzzTimeout = [timespan]::FromMinutes(30)          # the long fuzz run of -Task Stress

function Invoke-Dotnet {
    # Runs dotnet with its output on the console; throws when it fails.
    param([Parameter(Mandatory)] [string[]] $ArgumentList)

    & dotnet @ArgumentList | Out-Host
    if ($LASTEXITCODE -ne 0) {
        throw "dotnet $($ArgumentList -join ' ') failed with exit code $LASTEXITCODE."
    }
}

function Invoke-ChildProcess {
    # Runs a process that shares this console and returns its exit code; kills it (and its
    # children) when it outlives the timeout.
    param(
        [Parameter(Mandatory)] [string] $FilePath,
        [Parameter(Mandatory)] [string[]] $ArgumentList,
        [Parameter(Mandatory)] [timespan] $Timeout
    )

    $startInfo = [System.Diagnostics.ProcessStartInfo]::new($FilePath)
    foreach ($argument in $ArgumentList) {
        $startInfo.ArgumentList.Add($argument)
    }
    $startInfo.WorkingDirectory = $RepoRoot
    $startInfo.UseShellExecute = $false

    $process = [System.Diagnostics.Process]::Start($startInfo)
    try {
        if (-not $process.WaitForExit([int]$Timeout.TotalMilliseconds)) {
            Write-Host "$FilePath $($ArgumentList -join ' ') ran longer than $Timeout; killing it."
            $process.Kill($true)
            $process.WaitForExit()
            return -1
        }
        $process.WaitForExit()
        return $process.ExitCode
    }
    finally {
        $process.Dispose()
    }
}

function Invoke-Clean {
    if (Test-Path -LiteralPath $OutDirectory) {
        Remove-Item -LiteralPath $OutDirectory -Recurse -Force
    }

    $roots = @('src', 'tests', 'bench') |
        ForEach-Object { Join-Path -Path $RepoRoot -ChildPath $_ } |
        Where-Object { Test-Path -LiteralPath $_ }
    # Sorted so a parent goes before anything inside it; what went with its parent is skipped.
    $buildFolders = Get-ChildItem -LiteralPath $roots -Directory -Recurse -Force |
        Where-Object { $_.Name -in 'bin', 'obj' } |
        Sort-Object -Property FullName
    foreach ($folder in $buildFolders) {
        if (Test-Path -LiteralPath $folder.FullName) {
            Remove-Item -LiteralPath $folder.FullName -Recurse -Force
        }
    }

    Write-Host 'Cleaned out/ and every bin/ and obj/ folder.'
}

function Invoke-Build {
    # Publish into an empty folder, so nothing removed from the project lingers in the module.
    if (Test-Path -LiteralPath $ModuleOutput) {
        Remove-Item -LiteralPath $ModuleOutput -Recurse -Force
    }

    # One build per PowerShell edition, each in its own folder; SockPS.psm1 loads the one that
    # fits at import (ARCHITECTURE.md, "Builds").
    $project = Join-Path -Path $RepoRoot -ChildPath 'src/SockPS/SockPS.csproj'
    foreach ($framework in $ModuleFrameworks) {
        $frameworkOutput = Join-Path -Path $ModuleOutput -ChildPath $framework
        Invoke-Dotnet -ArgumentList @('publish', $project, '-c', $Configuration, '-f', $framework, '-o', $frameworkOutput, '--nologo')
        if (-not (Test-Path -LiteralPath (Join-Path -Path $frameworkOutput -ChildPath 'SockPS.dll'))) {
            throw "The build did not produce $frameworkOutput/SockPS.dll."
        }
    }

    $moduleSource = Join-Path -Path $RepoRoot -ChildPath 'module'
    if (Test-Path -LiteralPath $moduleSource) {
        # Without -Force: dot files such as .gitkeep stay out of the module.
        # module/help holds the sources of the MAML help, not module content.
        foreach ($item in Get-ChildItem -LiteralPath $moduleSource | Where-Object Name -ne 'help') {
            Copy-Item -LiteralPath $item.FullName -Destination $ModuleOutput -Recurse -Force
        }
    }

    # The gallery shows the license from the manifest's LicenseUri; the file travels with the module.
    Copy-Item -LiteralPath (Join-Path -Path $RepoRoot -ChildPath 'LICENSE') -Destination $ModuleOutput

    $manifestSource = Join-Path -Path $moduleSource -ChildPath 'SockPS.psd1'
    $manifestOutput = Join-Path -Path $ModuleOutput -ChildPath 'SockPS.psd1'
    if ((Test-Path -LiteralPath $manifestSource) -and -not (Test-Path -LiteralPath $manifestOutput)) {
        throw "module/SockPS.psd1 was not copied to $manifestOutput."
    }

    # The MAML help (en-US/SockPS.dll-Help.xml) from the XML docs and module/help. It imports the
    # built module, so it runs in its own pwsh. Gaps are warnings here; tests/pester/Help.Tests.ps1
    # fails on them.
    $helpExit = Invoke-ChildProcess -FilePath 'dotnet' -Timeout ([timespan]::FromMinutes(3)) -ArgumentList @(
        'pwsh', '-NoProfile', '-NonInteractive',
        '-File', (Join-Path -Path $RepoRoot -ChildPath 'tools/New-MamlHelp.ps1'),
        '-ModulePath', $ModuleOutput,
        '-HelpSource', (Join-Path -Path $moduleSource -ChildPath 'help'))
    if ($helpExit -ne 0) {
        throw "tools/New-MamlHelp.ps1 failed with exit code $helpExit."
    }
    # The XML docs were its input; the module needs only the MAML.
    foreach ($framework in $ModuleFrameworks) {
        Get-ChildItem -LiteralPath (Join-Path -Path $ModuleOutput -ChildPath $framework) -Filter 'SockPS*.xml' -File | Remove-Item -Force
    }

    Write-Host "Built module at out/SockPS ($($ModuleFrameworks -join ' and '))"
}

function Invoke-Package {
    Invoke-Build

    # In its own pwsh, like the help: Test-ModuleManifest loads SockPS.dll, which would otherwise
    # stay loaded (and, on Windows, locked) in this process.
    $quote = { param($Text) "'" + ($Text -replace "'", "''") + "'" }
    $script = Join-Path -Path $RepoRoot -ChildPath 'tools/New-ModulePackage.ps1'
    $command = "`$package = & $(& $quote $script) -ModulePath $(& $quote $ModuleOutput) -DestinationPath $(& $quote $PackageDirectory); 'Packed ' + `$package.FullName"
    $exitCode = Invoke-ChildProcess -FilePath 'dotnet' -Timeout $PackageTimeout -ArgumentList @(
        'pwsh', '-NoProfile', '-NonInteractive', '-Command', $command)
    if ($exitCode -ne 0) {
        throw "tools/New-ModulePackage.ps1 failed with exit code $exitCode."
    }
}

function New-SuiteResult {
    param(
        [Parameter(Mandatory)] [string] $Name,
        [int] $Passed = 0,
        [int] $Failed = 0,
        [int] $Skipped = 0,
        # Set when the runner crashed or left no results; the suite then counts as one failure.
        [string] $Problem = '',
        # Names of the failed tests, printed next to the summary so a log's tail says what broke.
        [string[]] $FailedTests = @()
    )

    [pscustomobject]@{
        Name    = $Name
        Passed  = $Passed
        Failed  = $Failed + $(if ($Problem) { 1 } else { 0 })
        Skipped = $Skipped
        Problem = $Problem
        FailedTests = $FailedTests
    }
}

function Invoke-XunitSuite {
    param([Parameter(Mandatory)] [string] $ProjectDirectory)

    $name = Split-Path -Path $ProjectDirectory -Leaf
    $trxPath = Join-Path -Path $ResultsDirectory -ChildPath "$name.trx"
    $project = Join-Path -Path $RepoRoot -ChildPath $ProjectDirectory

    # --blame-hang kills a test host stuck on one test, so the run ends with a failure.
    & dotnet test $project -c $Configuration --nologo `
        --logger "trx;LogFileName=$name.trx" --results-directory $ResultsDirectory `
        --blame-hang-timeout $XunitHangTimeout --blame-hang-dump-type none | Out-Host
    $exitCode = $LASTEXITCODE

    if (-not (Test-Path -LiteralPath $trxPath)) {
        return New-SuiteResult -Name $name -Problem "dotnet test exited with $exitCode and wrote no $name.trx"
    }

    # VSTest's trx: <ResultSummary outcome="Completed|Failed|..."><Counters total= executed=
    # passed= failed= error= timeout= aborted= notExecuted= .../>. xunit's skipped tests are in
    # total but not in executed (notExecuted stays 0).
    try {
        [xml]$trx = Get-Content -LiteralPath $trxPath -Raw
        $summary = $trx.TestRun.ResultSummary
        $counters = $summary.Counters
        $total = [int]$counters.total
        $passed = [int]$counters.passed
        $failed = [int]$counters.failed + [int]$counters.error + [int]$counters.timeout + [int]$counters.aborted
        $skipped = $total - [int]$counters.executed
        $failedTests = @($trx.TestRun.Results.UnitTestResult |
            Where-Object { $_.outcome -ne 'Passed' -and $_.outcome -ne 'NotExecuted' } |
            ForEach-Object {
                $message = [string]$_.Output.ErrorInfo.Message
                $firstLine = ($message -split "`n" | Select-Object -First 1).Trim()
                "$($_.testName) ($($_.outcome)): $firstLine"
            })
    }
    catch {
        return New-SuiteResult -Name $name -Problem "could not read the counters in $trxPath`: $_"
    }

    # A crashed or killed test host exits non-zero with no failed test in the counters.
    $problem = ''
    if ($exitCode -ne 0 -and $failed -eq 0) {
        $problem = "dotnet test exited with $exitCode (outcome $($summary.outcome)) but reported no failed test"
    }

    New-SuiteResult -Name $name -Passed $passed -Failed $failed -Skipped $skipped -Problem $problem -FailedTests $failedTests
}

function Get-NuGetGlobalPackagesFolder {
    if ($env:NUGET_PACKAGES) {
        return $env:NUGET_PACKAGES
    }

    # Prints "global-packages: /home/user/.nuget/packages/" (honours nuget.config too).
    $listing = & dotnet nuget locals global-packages --list
    if ($LASTEXITCODE -ne 0) {
        throw "dotnet nuget locals global-packages --list failed with exit code $LASTEXITCODE."
    }
    foreach ($line in $listing) {
        if ($line -match '^\s*global-packages:\s*(.+?)\s*$') {
            return $Matches[1]
        }
    }

    throw "Could not read the NuGet global packages folder from: $($listing -join ' ')"
}

function Get-PesterModulePath {
    $restoreProject = Join-Path -Path $RepoRoot -ChildPath $PesterRestoreProject
    Invoke-Dotnet -ArgumentList @('restore', $restoreProject, '--nologo')

    # The version lives in one place: the restore project's PackageDownload, e.g. "[5.9.1]".
    [xml]$projectXml = Get-Content -LiteralPath $restoreProject -Raw
    $download = $projectXml.Project.ItemGroup.PackageDownload | Where-Object { $_.Include -eq 'Pester' }
    $version = ([string]$download.Version).Trim('[', ']', ' ')

    $packages = Get-NuGetGlobalPackagesFolder
    $manifest = Join-Path -Path $packages -ChildPath "pester/$version/tools/Pester.psd1"
    if (-not (Test-Path -LiteralPath $manifest)) {
        throw "Pester $version was restored but $manifest does not exist."
    }
    return $manifest
}

function Invoke-PesterSuite {
    # Runs one folder of *.Tests.ps1 files in a fresh pwsh (tests/pester/Invoke-PesterSuite.ps1)
    # and reads back its counts: the Pester suite, and the integration suite against real daemons.
    param(
        [string] $Name = 'Pester',
        [string] $TestPath = 'tests/pester',
        [string] $ResultName = 'pester.json',
        [timespan] $Timeout = $PesterTimeout
    )

    $resultPath = Join-Path -Path $ResultsDirectory -ChildPath $ResultName
    try {
        $pesterPath = Get-PesterModulePath
        # Make sure `dotnet pwsh` resolves even when the caller used another pwsh.
        Invoke-Dotnet -ArgumentList @('tool', 'restore')
    }
    catch {
        return New-SuiteResult -Name $Name -Problem "Pester could not be set up: $_"
    }

    $exitCode = Invoke-ChildProcess -FilePath 'dotnet' -Timeout $Timeout -ArgumentList @(
        'pwsh', '-NoProfile', '-NonInteractive',
        '-File', (Join-Path -Path $RepoRoot -ChildPath 'tests/pester/Invoke-PesterSuite.ps1'),
        '-PesterPath', $pesterPath,
        '-ModulePath', $ModuleOutput,
        '-TestPath', (Join-Path -Path $RepoRoot -ChildPath $TestPath),
        '-ResultPath', $resultPath)

    if (-not (Test-Path -LiteralPath $resultPath)) {
        return New-SuiteResult -Name $Name -Problem "the $Name run exited with $exitCode and wrote no $ResultName"
    }

    try {
        $counts = Get-Content -LiteralPath $resultPath -Raw | ConvertFrom-Json
        $passed = [int]$counts.passed
        $failed = [int]$counts.failed
        $skipped = [int]$counts.skipped
        $failedTests = @($counts.failedTests | Where-Object { $_ })
    }
    catch {
        return New-SuiteResult -Name $Name -Problem "could not read the counts in $resultPath`: $_"
    }

    $problem = ''
    if ($exitCode -ne 0 -and $failed -eq 0) {
        $problem = "the $Name run exited with $exitCode but reported no failed test"
    }

    New-SuiteResult -Name $Name -Passed $passed -Failed $failed -Skipped $skipped -Problem $problem -FailedTests $failedTests
}

function Invoke-Test {
    $results = [System.Collections.Generic.List[object]]::new()
    try {
        Invoke-Build
    }
    catch {
        Write-Host "Build failed: $_"
        $results.Add((New-SuiteResult -Name 'build' -Problem 'the build failed'))
    }

    if ($results.Count -eq 0) {
        # Stale results must never be read as this run's.
        if (Test-Path -LiteralPath $ResultsDirectory) {
            Remove-Item -LiteralPath $ResultsDirectory -Recurse -Force
        }
        $null = New-Item -ItemType Directory -Path $ResultsDirectory

        # For tests that import the built module (the xunit runspace tests and Pester).
        $env:SOCKPS_MODULE_PATH = $ModuleOutput

        # Every suite runs and is counted, whatever happened to the one before.
        foreach ($project in $XunitProjects) {
            try {
                $results.Add((Invoke-XunitSuite -ProjectDirectory $project))
            }
            catch {
                $results.Add((New-SuiteResult -Name (Split-Path -Path $project -Leaf) -Problem "$_"))
            }
        }
        try {
            $results.Add((Invoke-PesterSuite))
        }
        catch {
            $results.Add((New-SuiteResult -Name 'Pester' -Problem "$_"))
        }
        # The protocol examples against real Debian daemons (.ci/run installs them).
        try {
            $results.Add((Invoke-PesterSuite -Name 'Integration' -TestPath 'tests/integration' `
                -ResultName 'integration.json' -Timeout $IntegrationTimeout))
        }
        catch {
            $results.Add((New-SuiteResult -Name 'Integration' -Problem "$_"))
        }
    }

    $passed = ($results | Measure-Object -Property Passed -Sum).Sum
    $failed = ($results | Measure-Object -Property Failed -Sum).Sum
    $skipped = ($results | Measure-Object -Property Skipped -Sum).Sum

    foreach ($result in $results) {
        foreach ($test in $result.FailedTests) {
            Write-Host "FAILED in $($result.Name): $test"
        }
    }
    foreach ($result in $results | Where-Object Problem) {
        Write-Host "$($result.Name): $($result.Problem)"
    }
    $breakdown = foreach ($result in $results) {
        $text = "$($result.Name) $($result.Passed)/$($result.Failed)/$($result.Skipped)"
        if ($result.Problem) { "$text (incomplete: see above)" } else { $text }
    }
    Write-Host "By suite (passed/failed/skipped): $($breakdown -join ', ')"
    Write-Host "$passed passed, $failed failed, $skipped skipped"

    if ($failed -gt 0 -or $passed -eq 0) {
        return 1
    }
    return 0
}

function Invoke-Demo {
    Invoke-Build

    $demo = Join-Path -Path $RepoRoot -ChildPath 'examples/demo.ps1'
    if (-not (Test-Path -LiteralPath $demo)) {
        throw "examples/demo.ps1 does not exist; there is no demo to run."
    }

    $exitCode = Invoke-ChildProcess -FilePath 'dotnet' -Timeout $DemoTimeout -ArgumentList @(
        'pwsh', '-NoProfile', '-File', $demo, '-ModulePath', $ModuleOutput)
    if ($exitCode -ne 0) {
        Write-Host "examples/demo.ps1 exited with code $exitCode."
    }
    return $exitCode
}

function Invoke-Bench {
    Invoke-Build

    $bench = Join-Path -Path $RepoRoot -ChildPath 'bench/Invoke-Benchmark.ps1'
    $exitCode = Invoke-ChildProcess -FilePath 'dotnet' -Timeout $BenchTimeout -ArgumentList @(
        'pwsh', '-NoProfile', '-File', $bench, '-ModulePath', $ModuleOutput)
    if ($exitCode -ne 0) {
        Write-Host "bench/Invoke-Benchmark.ps1 exited with code $exitCode."
    }
    return $exitCode
}

function Invoke-Stress {
    Invoke-Build
    $exitCode = 0

    # The fuzz tests, for many more cases than the normal suite runs.
    $env:SOCKPS_FUZZ_CASES = [string]$FuzzCases
    try {
        foreach ($project in $XunitProjects) {
            Write-Host "Fuzzing ($FuzzCases cases per test): $project"
            $fuzzExit = Invoke-ChildProcess -FilePath 'dotnet' -Timeout $FuzzTimeout -ArgumentList @(
                'test', (Join-Path -Path $RepoRoot -ChildPath $project), '-c', $Configuration, '--nologo',
                '--filter', 'FullyQualifiedName~.Fuzz.')
            if ($fuzzExit -ne 0) {
                Write-Host "The fuzz tests of $project failed (exit code $fuzzExit)."
                $exitCode = 1
            }
        }
    }
    finally {
        Remove-Item -Path Env:SOCKPS_FUZZ_CASES -ErrorAction SilentlyContinue
    }

    # The scenarios and the soak, in a fresh pwsh; bounded at twice their planned length.
    $planned = [timespan]::FromMinutes($StressMinutes + 5 * [math]::Max(20 / 60, $StressMinutes / 5))
    $stressExit = Invoke-ChildProcess -FilePath 'dotnet' -Timeout ($planned + $planned + [timespan]::FromMinutes(5)) -ArgumentList @(
        'pwsh', '-NoProfile', '-NonInteractive',
        '-File', (Join-Path -Path $RepoRoot -ChildPath 'tests/stress/Invoke-Stress.ps1'),
        '-ModulePath', $ModuleOutput,
        '-StressMinutes', $StressMinutes.ToString([cultureinfo]::InvariantCulture),
        '-OutputDirectory', (Join-Path -Path $OutDirectory -ChildPath 'stress'))
    if ($stressExit -ne 0) {
        Write-Host "tests/stress/Invoke-Stress.ps1 exited with code $stressExit."
        $exitCode = 1
    }
    return $exitCode
}

Push-Location -LiteralPath $RepoRoot
try {
    $exitCode = switch ($Task) {
        'Clean' { Invoke-Clean; 0 }
        'Build' { Invoke-Build; 0 }
        'Package' { Invoke-Package; 0 }
        'Test' { Invoke-Test }
        'Demo' { Invoke-Demo }
        'Bench' { Invoke-Bench }
        'Stress' { Invoke-Stress }
    }
}
finally {
    Pop-Location
}
exit $exitCode
