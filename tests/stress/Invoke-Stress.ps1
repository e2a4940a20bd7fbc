#Requires -Version 7.4
<#
.SYNOPSIS
    Runs SockPS's stress and fault scenarios for minutes and prints their figures.
.DESCRIPTION
    build.ps1 -Task Stress starts this in a fresh pwsh after the build (and after the long fuzz
    run). Each scenario of tests/stress/SockPS.Stress.psm1 runs for -ScenarioSeconds, the soak
    for -StressMinutes; then the table of figures is printed and written, as Markdown and JSON,
    to -OutputDirectory (latest.md, latest.json).

    Exit code 1 when any scenario had a SHA-256 mismatch, an unexpected error (an error id the
    scenario does not expect, a reset reported twice or not at all, a sender that was not held
    back), or ended with more than -DescriptorSlack descriptors above its start.
.EXAMPLE
    dotnet pwsh tests/stress/Invoke-Stress.ps1 -ModulePath out/SockPS -StressMinutes 2
#>
[CmdletBinding()]
param(
    [Parameter(Mandatory)]
    [string] $ModulePath,

    # The soak's length; the other scenarios get a fifth of it each (at least 20 s).
    [ValidateRange(0.05, 1440)]
    [double] $StressMinutes = 10,

    # Overrides each non-soak scenario's length.
    [double] $ScenarioSeconds = 0,

    # Clients at once in the soak and in the round trips.
    [int] $SoakClients = 100,
    [int] $RoundTripClients = 50,
    [int] $SilentClients = 300,

    [int] $DescriptorSlack = 16,

    [string] $OutputDirectory = (Join-Path -Path $PSScriptRoot -ChildPath '../../out/stress')
)

Set-StrictMode -Version Latest
$ErrorActionPreference = 'Stop'

# A relative path would be looked up as a module name.
$ModulePath = (Resolve-Path -LiteralPath $ModulePath).ProviderPath
Import-Module $ModulePath -Force
Import-Module (Join-Path -Path $PSScriptRoot -ChildPath 'SockPS.Stress.psm1') -Force

if ($ScenarioSeconds -le 0) {
    $ScenarioSeconds = [math]::Max(20, $StressMinutes * 60 / 5)
}
$soakSeconds = $StressMinutes * 60

$scenarios = @(
    @{ Name = 'reset'; Run = { Invoke-StressResetDelivery -Seconds $ScenarioSeconds } }
    @{ Name = 'round trips'; Run = { Invoke-StressRoundTrip -Seconds $ScenarioSeconds -Clients $RoundTripClients } }
    @{ Name = 'churn'; Run = { Invoke-StressChurn -Seconds $ScenarioSeconds } }
    @{ Name = 'unread sender'; Run = { Invoke-StressUnreadSender -Seconds $ScenarioSeconds } }
    @{ Name = 'hostile clients'; Run = { Invoke-StressHostileClients -Seconds $ScenarioSeconds -SilentClients $SilentClients } }
    @{ Name = 'soak'; Run = { Invoke-StressSoak -Seconds $soakSeconds -Clients $SoakClients } }
)

$machine = @(
    "$([System.Runtime.InteropServices.RuntimeInformation]::OSDescription)"
    "$([Environment]::ProcessorCount) cores"
    "PowerShell $($PSVersionTable.PSVersion)"
    ".NET $([Environment]::Version)"
) -join ', '
$load = if (Test-Path -LiteralPath /proc/loadavg) { (Get-Content -LiteralPath /proc/loadavg -Raw).Trim() } else { 'n/a' }
Write-Host "SockPS stress run: $machine; load average at start $load"
Write-Host ("Each scenario {0:N0} s, the soak {1:N1} min." -f $ScenarioSeconds, $StressMinutes)

$figures = [System.Collections.Generic.List[object]]::new()
$failures = [System.Collections.Generic.List[string]]::new()
foreach ($scenario in $scenarios) {
    Write-Host "Running $($scenario.Name)..."
    try {
        $result = & $scenario.Run
        $figures.Add($result)
        Write-Host ("  {0}: {1:N0} operations, {2:N0} bytes, {3} mismatches, errors {4}, unexpected {5}; descriptors {6} -> {7}. {8}" -f
            $result.Scenario, $result.Operations, $result.Bytes, $result.Mismatches, $result.Errors, $result.Unexpected,
            $result.DescriptorsStart, $result.DescriptorsEnd, $result.Notes)
        if ($result.Mismatches -gt 0) { $failures.Add("$($result.Scenario): $($result.Mismatches) SHA-256 mismatches") }
        if ($result.Unexpected -gt 0) { $failures.Add("$($result.Scenario): $($result.Unexpected) unexpected errors ($($result.Errors))") }
        if ($result.DescriptorsEnd -gt $result.DescriptorsStart + $DescriptorSlack) {
            $failures.Add("$($result.Scenario): descriptors $($result.DescriptorsStart) -> $($result.DescriptorsEnd)")
        }
    }
    catch {
        $failures.Add("$($scenario.Name) failed: $_")
        Write-Host "  $($scenario.Name) failed: $_`n$($_.ScriptStackTrace)"
    }
}
$loadEnd = if (Test-Path -LiteralPath /proc/loadavg) { (Get-Content -LiteralPath /proc/loadavg -Raw).Trim() } else { 'n/a' }

$figures | Format-Table -AutoSize -Property Scenario, Seconds, Clients, Operations, Bytes, Mismatches, Errors, Unexpected,
    @{ Name = 'Fds'; Expression = { "$($_.DescriptorsStart)->$($_.DescriptorsEnd)" } },
    @{ Name = 'Threads'; Expression = { "$($_.ThreadsStart)->$($_.ThreadsEnd)" } },
    @{ Name = 'WS MiB'; Expression = { "$($_.WorkingSetStartMiB)->$($_.WorkingSetEndMiB)" } } | Out-Host

$markdown = @(
    "SockPS stress run, $([datetime]::UtcNow.ToString('yyyy-MM-dd HH:mm')) UTC: $machine."
    "Load average at start: $load; at end: $loadEnd."
    ''
    Format-StressTable -Figures $figures
    ''
    foreach ($f in $figures) { "- $($f.Scenario): $($f.Notes)" }
) -join "`n"
Write-Host $markdown

$null = New-Item -ItemType Directory -Path $OutputDirectory -Force
Set-Content -LiteralPath (Join-Path -Path $OutputDirectory -ChildPath 'latest.md') -Value $markdown
$figures | Select-Object -Property * -ExcludeProperty ErrorCounts | ConvertTo-Json -Depth 4 |
    Set-Content -LiteralPath (Join-Path -Path $OutputDirectory -ChildPath 'latest.json')

if ($failures.Count -gt 0) {
    Write-Host "STRESS FAILED:`n  $($failures -join "`n  ")"
    exit 1
}
Write-Host 'Stress passed: no mismatches, no unexpected errors, descriptors back.'
exit 0
