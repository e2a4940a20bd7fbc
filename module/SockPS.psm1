# SockPS ships two builds of its cmdlets and loads the one this PowerShell runs (ARCHITECTURE.md,
# "Builds"): net8.0/ for PowerShell 7.4 and later, netstandard2.0/ for Windows PowerShell 5.1.
# The chosen SockPS.dll becomes this module's nested module; its cmdlets are what SockPS exports
# (the manifest's CmdletsToExport). Written for Windows PowerShell 5.1 as well as PowerShell 7.

Set-StrictMode -Version Latest

if ($PSVersionTable.ContainsKey('PSEdition') -and $PSVersionTable.PSEdition -eq 'Core') {
    # The net8.0 build needs the .NET 8 runtime, which PowerShell 7.4 brought.
    if ([System.Environment]::Version.Major -lt 8) {
        throw "SockPS needs PowerShell 7.4 or later (this is PowerShell $($PSVersionTable.PSVersion) on .NET $([System.Environment]::Version)), or Windows PowerShell 5.1. Install a current PowerShell: https://aka.ms/powershell"
    }
    $framework = 'net8.0'
}
else {
    $framework = 'netstandard2.0'
}

Import-Module -Name (Join-Path -Path $PSScriptRoot -ChildPath "$framework/SockPS.dll") -ErrorAction Stop

# Runspaces of this process (Start-ThreadJob, ForEach-Object -Parallel, Start-SocketServer
# handlers' own) find modules through $env:PSModulePath, not through the caller's session, so a
# module imported by path would be unknown there ("The term 'Send-SocketData' is not recognized").
# When this folder is a module folder (...\SockPS or ...\SockPS\<version>) whose parent is not on
# the path yet, the parent goes first on this process's PSModulePath: `Import-Module SockPS` and
# command auto-loading in those runspaces then load this same copy, not another installed one.
# The change lives only as long as this process (it is not saved anywhere).
$sockPSModuleRoot = $null
$sockPSModuleFolder = Split-Path -Path $PSScriptRoot -Leaf
$sockPSModuleParent = Split-Path -Path $PSScriptRoot -Parent
if ($sockPSModuleFolder -eq 'SockPS') {
    $sockPSModuleRoot = $sockPSModuleParent
}
elseif ($sockPSModuleFolder -as [version] -and (Split-Path -Path $sockPSModuleParent -Leaf) -eq 'SockPS') {
    $sockPSModuleRoot = Split-Path -Path $sockPSModuleParent -Parent
}

if ($sockPSModuleRoot) {
    $sockPSSeparator = [System.IO.Path]::PathSeparator
    $sockPSComparison = if ([System.IO.Path]::DirectorySeparatorChar -eq '\') { [System.StringComparison]::OrdinalIgnoreCase } else { [System.StringComparison]::Ordinal }
    $sockPSTrim = [char[]]@([System.IO.Path]::DirectorySeparatorChar, [System.IO.Path]::AltDirectorySeparatorChar)
    $sockPSWanted = $sockPSModuleRoot.TrimEnd($sockPSTrim)
    $sockPSCurrent = [System.Environment]::GetEnvironmentVariable('PSModulePath')
    $sockPSEntries = if ($sockPSCurrent) { $sockPSCurrent.Split($sockPSSeparator) } else { @() }
    $sockPSKnown = $false
    foreach ($sockPSEntry in $sockPSEntries) {
        if ([string]::Equals($sockPSEntry.TrimEnd($sockPSTrim), $sockPSWanted, $sockPSComparison)) {
            $sockPSKnown = $true
        }
    }

    if (-not $sockPSKnown) {
        $sockPSNew = if ($sockPSCurrent) { $sockPSWanted + $sockPSSeparator + $sockPSCurrent } else { $sockPSWanted }
        [System.Environment]::SetEnvironmentVariable('PSModulePath', $sockPSNew)
    }
}

Remove-Variable -Name sockPS* -ErrorAction Ignore
