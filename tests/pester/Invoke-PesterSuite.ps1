#Requires -Version 7.4
<#
.SYNOPSIS
    Runs the Pester suite against a built module and writes the counts as JSON.
.DESCRIPTION
    build.ps1 starts this in a fresh `pwsh -NoProfile`, so the module under test is imported into
    a clean session, never into the session that built it. Test files import the module with
    `Import-Module $env:SOCKPS_MODULE_PATH -Force` in their BeforeAll.

    ResultPath receives { "passed": N, "failed": N, "skipped": N, "total": N, "failedTests": [...] }. Failed blocks
    (a throwing BeforeAll) and failed containers (a file that does not parse) count as failures;
    tests that did not run count as skipped. Exit code 1 when anything failed.
#>
[CmdletBinding()]
param(
    [Parameter(Mandatory)]
    [string] $PesterPath,

    [Parameter(Mandatory)]
    [string] $ModulePath,

    [Parameter(Mandatory)]
    [string] $TestPath,

    [Parameter(Mandatory)]
    [string] $ResultPath
)

Set-StrictMode -Version Latest
$ErrorActionPreference = 'Stop'

Import-Module -Name $PesterPath -Force
$env:SOCKPS_MODULE_PATH = $ModulePath

$configuration = New-PesterConfiguration
$configuration.Run.Path = $TestPath
$configuration.Run.PassThru = $true
$configuration.Run.Exit = $false
$configuration.Output.Verbosity = 'Detailed'

$run = Invoke-Pester -Configuration $configuration

# The slowest files, so a CI log shows where the time goes.
Write-Host 'Slowest test files (setup included):'
foreach ($container in $run.Containers | Sort-Object -Property Duration -Descending | Select-Object -First 12) {
    Write-Host ('  {0,7:N1} s  {1}' -f $container.Duration.TotalSeconds, (Split-Path -Path "$($container.Item)" -Leaf))
}

# A failure's message, indented under its name: all of it up to 30 lines, else the first 20 and
# the last 10 (Pester puts the actual value, "but got ...", after a long -Because), each line cut
# at 1,000 characters (an actual value is often one long line).
function Format-FailureMessage([string] $Text) {
    $lines = @($Text.TrimEnd() -split "`r?`n" | ForEach-Object { if ($_.Length -gt 1000) { $_.Substring(0, 1000) + ' [...]' } else { $_ } })
    if ($lines.Count -gt 30) {
        $lines = @($lines[0..19]) + "[... $($lines.Count - 30) line(s) left out ...]" + @($lines[($lines.Count - 10)..($lines.Count - 1)])
    }
    $lines -join "`n      "
}

$failed = $run.FailedCount + $run.FailedBlocksCount + $run.FailedContainersCount
$skipped = $run.SkippedCount + $run.NotRunCount + $run.InconclusiveCount
$counts = [ordered]@{
    passed  = $run.PassedCount
    failed  = $failed
    skipped = $skipped
    total   = $run.PassedCount + $failed + $skipped
    # Names and the error (head and tail, see Format-FailureMessage; a test's -Because often
    # carries a child process's transcript): build.ps1 prints them beside the summary line, which
    # is all of a CI log some readers get to see, so an intermittent failure can be understood
    # from it.
    failedTests = @(
        foreach ($test in $run.Failed) {
            $message = if ($test.ErrorRecord) { Format-FailureMessage -Text "$($test.ErrorRecord[0])" } else { '' }
            "$($test.ExpandedPath): $message"
        }
        foreach ($block in $run.FailedBlocks) { "$($block.Path -join '.') (block): $($block.ErrorRecord | Select-Object -First 1)" }
        foreach ($container in $run.FailedContainers) { "$($container.Item) (file): $($container.ErrorRecord | Select-Object -First 1)" }
    )
}

$resultDirectory = Split-Path -Path $ResultPath -Parent
if ($resultDirectory -and -not (Test-Path -LiteralPath $resultDirectory)) {
    $null = New-Item -ItemType Directory -Path $resultDirectory
}
$counts | ConvertTo-Json | Set-Content -LiteralPath $ResultPath -Encoding utf8NoBOM

exit $(if ($failed -gt 0) { 1 } else { 0 })
