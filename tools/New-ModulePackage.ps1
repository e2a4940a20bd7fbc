#Requires -Version 7.4
<#
.SYNOPSIS
    Packs a built SockPS module folder into a PowerShell Gallery ready .nupkg.
.DESCRIPTION
    build.ps1 -Task Package runs this on out/SockPS; tests/pester/Package.Tests.ps1 runs it on
    the module under test, so the package the tests install is made the way a release is.

    The package is made by PSResourceGet's Compress-PSResource: the same code Publish-PSResource
    uses to write the .nuspec from the manifest (id, version, authors, description, tags, project
    and license URIs, release notes) and pack the folder, without registering a repository, so the
    user's PSResourceGet settings are left as they were. Publishing to the gallery is then
    `Publish-PSResource -NupkgPath <this file> -Repository PSGallery -ApiKey ...`.

    Before packing it checks what a gallery user would trip over: Test-ModuleManifest, the files
    the module needs (the loader SockPS.psm1 and both builds' DLLs, format file, MAML and about
    help, LICENSE), and no build leftovers (the compiler's XML docs, a stale .nupkg). After
    packing it checks the .nupkg holds them.

    Returns the .nupkg as a FileInfo.
#>
[CmdletBinding()]
[OutputType([System.IO.FileInfo])]
param(
    # The built module folder (holds SockPS.psd1).
    [Parameter(Mandatory)]
    [string] $ModulePath,

    # Where the .nupkg goes; created when missing. An older SockPS.<same version>.nupkg there is replaced.
    [Parameter(Mandatory)]
    [string] $DestinationPath
)

Set-StrictMode -Version Latest
$ErrorActionPreference = 'Stop'

$ModulePath = (Resolve-Path -LiteralPath $ModulePath).ProviderPath
$manifestPath = Join-Path -Path $ModulePath -ChildPath 'SockPS.psd1'
if (-not (Test-Path -LiteralPath $manifestPath)) {
    throw "$ModulePath holds no SockPS.psd1: build the module first (./build.ps1 -Task Build)."
}

# Compress-PSResource came with PSResourceGet 1.1 (PowerShell 7.5+); the repository's pinned
# pwsh 7.6.9 ships 1.2.
$psResourceGet = Get-Module -ListAvailable -Name Microsoft.PowerShell.PSResourceGet |
    Where-Object Version -GE ([version]'1.1.0') |
    Sort-Object -Property Version -Descending |
    Select-Object -First 1
if ($null -eq $psResourceGet) {
    throw "Packing needs Microsoft.PowerShell.PSResourceGet 1.1 or later (Compress-PSResource); it ships with PowerShell 7.5+. Run through the repository's pinned pwsh: dotnet tool restore && dotnet pwsh ./build.ps1 -Task Package"
}
Import-Module -ModuleInfo $psResourceGet

$manifest = Test-ModuleManifest -Path $manifestPath -ErrorAction Stop
$version = $manifest.Version.ToString()

# Paths relative to the module folder, '/'-separated, as they appear in the .nupkg.
# One build per PowerShell edition (SockPS.psm1 loads the one that fits).
$required = @(
    'SockPS.psd1'
    'SockPS.psm1'
    'net8.0/SockPS.dll'
    'net8.0/SockPS.Core.dll'
    'netstandard2.0/SockPS.dll'
    'netstandard2.0/SockPS.Core.dll'
    'SockPS.Format.ps1xml'
    'SockPS.Types.ps1xml'
    'en-US/SockPS.dll-Help.xml'
    'en-US/about_SockPS.help.txt'
    'LICENSE'
)
$files = @(Get-ChildItem -LiteralPath $ModulePath -Recurse -File -Force |
    ForEach-Object { [System.IO.Path]::GetRelativePath($ModulePath, $_.FullName).Replace('\', '/') })

$missing = @($required | Where-Object { $_ -notin $files })
if ($missing) {
    throw "The module folder $ModulePath lacks $($missing -join ', '): run ./build.ps1 -Task Build."
}
# The compiler's XML docs (SockPS.xml, SockPS.Core.xml, beside a build's DLLs) fed the MAML help
# and are not module content; neither are packages or dot files. The .pdb files stay on purpose:
# they put file and line numbers into the stack traces users paste into bug reports, for ~80 KiB.
$junk = @($files | Where-Object { $_ -match '^[^/]+\.xml$' -or $_ -match '^[^/]+/SockPS(\.Core)?\.xml$' -or $_ -match '\.nupkg$' -or $_ -match '(^|/)\.' })
if ($junk) {
    throw "The module folder $ModulePath holds files that are not module content: $($junk -join ', ')."
}

if (-not (Test-Path -LiteralPath $DestinationPath)) {
    $null = New-Item -ItemType Directory -Path $DestinationPath
}
$DestinationPath = (Resolve-Path -LiteralPath $DestinationPath).ProviderPath
$packagePath = Join-Path -Path $DestinationPath -ChildPath "SockPS.$version.nupkg"
if (Test-Path -LiteralPath $packagePath) {
    Remove-Item -LiteralPath $packagePath -Force
}

# Compress-PSResource shares Publish-PSResource's code, which writes PSResourceGet's repository list
# (PSGallery alone) under the user's local app data when there is none yet. On Linux .NET finds
# that folder through XDG_DATA_HOME each time it is asked, so a throw-away folder there keeps
# packing from writing anything of the user's. (On Windows and macOS the folder comes from the OS;
# there a first-ever PSResourceGet use may create that default list, as any other use would.)
$scratch = Join-Path -Path ([System.IO.Path]::GetTempPath()) -ChildPath "sockps-pack-$([guid]::NewGuid().ToString('N'))"
$null = New-Item -ItemType Directory -Path $scratch   # must exist: .NET reports a missing folder as ""
$savedDataHome = $env:XDG_DATA_HOME
try {
    $env:XDG_DATA_HOME = $scratch
    Compress-PSResource -Path $ModulePath -DestinationPath $DestinationPath
}
finally {
    $env:XDG_DATA_HOME = $savedDataHome
    Remove-Item -LiteralPath $scratch -Recurse -Force -ErrorAction SilentlyContinue
}
if (-not (Test-Path -LiteralPath $packagePath)) {
    throw "Compress-PSResource did not write $packagePath."
}

# Read it back: what a user installs is what is in the zip, not what was in the folder.
Add-Type -AssemblyName System.IO.Compression.FileSystem
$zip = [System.IO.Compression.ZipFile]::OpenRead($packagePath)
try {
    $entries = @($zip.Entries | ForEach-Object { [uri]::UnescapeDataString($_.FullName) })
}
finally {
    $zip.Dispose()
}
$notPacked = @($required + 'SockPS.nuspec' | Where-Object { $_ -notin $entries })
if ($notPacked) {
    throw "$packagePath lacks $($notPacked -join ', ')."
}

Get-Item -LiteralPath $packagePath
