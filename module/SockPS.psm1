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
