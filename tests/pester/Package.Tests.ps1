#Requires -Version 7.4
# The gallery package: tools/New-ModulePackage.ps1 (what build.ps1 -Task Package runs) packs the
# module under test; the .nupkg is published to a local folder repository, installed from there
# with Install-PSResource into a temporary module path, and imported in a fresh pwsh that holds a
# conversation and reads the help, as a user who installed it from the gallery would.
#
# The module is not rebuilt: the Test task builds it before the suite, and packing the folder it
# built is what a release does. PSResourceGet keeps its repository list, and Install-PSResource
# -Scope CurrentUser its modules, under the user's home; the child shells that use them get a
# temporary HOME (and XDG folders), so this user's settings and modules are never touched.
# (Install-PSResource has no -Path. On Windows, where the home folders come from the OS rather
# than the environment, the install step is Save-PSResource -Path and the repository is
# registered under a unique name and unregistered in a finally.)

BeforeAll {
    Import-Module "$PSScriptRoot/SockPS.TestHelpers.psm1" -Force

    $repoRoot = (Resolve-Path -LiteralPath "$PSScriptRoot/../..").ProviderPath
    $modulePath = (Resolve-Path -LiteralPath $env:SOCKPS_MODULE_PATH).ProviderPath
    $manifestData = Import-PowerShellDataFile -LiteralPath (Join-Path -Path $modulePath -ChildPath 'SockPS.psd1')
    $version = $manifestData.ModuleVersion

    $root = Join-Path -Path ([System.IO.Path]::GetTempPath()) -ChildPath "sockps-package-$([guid]::NewGuid().ToString('N'))"
    $packages = Join-Path -Path $root -ChildPath 'packages'
    $repository = Join-Path -Path $root -ChildPath 'repository'
    $fakeHome = Join-Path -Path $root -ChildPath 'home'
    $dataHome = Join-Path -Path $fakeHome -ChildPath '.local/share'
    $installRoot = if ($IsWindows) { Join-Path -Path $root -ChildPath 'modules' }
    else { Join-Path -Path $dataHome -ChildPath 'powershell/Modules' }
    foreach ($folder in $repository, $dataHome, (Join-Path -Path $fakeHome -ChildPath '.config'), (Join-Path -Path $fakeHome -ChildPath '.cache')) {
        # .NET reports a special folder that does not exist as "", and PSResourceGet would then
        # write its settings relative to the working folder.
        $null = New-Item -ItemType Directory -Path $folder -Force
    }

    # For the child shells: all of the user's folders point into $root.
    $childEnvironment = @{
        HOME                   = $fakeHome
        XDG_DATA_HOME          = $dataHome
        XDG_CONFIG_HOME        = Join-Path -Path $fakeHome -ChildPath '.config'
        XDG_CACHE_HOME         = Join-Path -Path $fakeHome -ChildPath '.cache'
        SOCKPS_PACKAGE_REPO    = $repository
        SOCKPS_PACKAGE_INSTALL = $installRoot
    }

    # The real repository list, to show it is the same afterwards.
    # DoNotVerify: in a fresh HOME the folder may not exist yet, and the store is then absent.
    $realStore = Join-Path -Path ([Environment]::GetFolderPath('LocalApplicationData', 'DoNotVerify')) -ChildPath 'PSResourceGet/PSResourceRepository.xml'
    function Get-StoreText([string] $Path) {
        if (Test-Path -LiteralPath $Path) { Get-Content -LiteralPath $Path -Raw } else { '(absent)' }
    }
    $realStoreBefore = Get-StoreText $realStore

    $package = & "$repoRoot/tools/New-ModulePackage.ps1" -ModulePath $modulePath -DestinationPath $packages

    function Get-PackageEntry([string] $Name) {
        $zip = [System.IO.Compression.ZipFile]::OpenRead($package.FullName)
        try {
            $entry = $zip.GetEntry($Name)
            if ($null -eq $entry) { return $null }
            $reader = [System.IO.StreamReader]::new($entry.Open())
            try { $reader.ReadToEnd() } finally { $reader.Dispose() }
        }
        finally {
            $zip.Dispose()
        }
    }
}

AfterAll {
    Stop-TestProcess -All
    if ($root -and (Test-Path -LiteralPath $root)) {
        Remove-Item -LiteralPath $root -Recurse -Force
    }
}

Describe 'The gallery package' {
    It 'is SockPS.<version>.nupkg and holds the manifest, loader, both builds, format file, help and LICENSE, and no XML docs' {
        $package.Name | Should -Be "SockPS.$version.nupkg"

        $zip = [System.IO.Compression.ZipFile]::OpenRead($package.FullName)
        try {
            $entries = @($zip.Entries | ForEach-Object { [uri]::UnescapeDataString($_.FullName) })
        }
        finally {
            $zip.Dispose()
        }

        foreach ($file in 'SockPS.psd1', 'SockPS.psm1', 'SockPS.Format.ps1xml', 'SockPS.Types.ps1xml',
            'net8.0/SockPS.dll', 'net8.0/SockPS.Core.dll', 'net8.0/System.IO.Pipelines.dll',
            'netstandard2.0/SockPS.dll', 'netstandard2.0/SockPS.Core.dll', 'netstandard2.0/System.IO.Pipelines.dll', 'netstandard2.0/System.Threading.Channels.dll',
            'en-US/SockPS.dll-Help.xml', 'en-US/about_SockPS.help.txt', 'LICENSE', 'SockPS.nuspec') {
            $entries | Should -Contain $file
        }
        # [Content_Types].xml is the package format's own; SockPS.xml and SockPS.Core.xml (the
        # compiler's docs) must not travel, from the module folder or a build's folder.
        @($entries | Where-Object { $_ -match '^([^/]+/)?[^/]+\.xml$' -and $_ -ne '[Content_Types].xml' -and $_ -notmatch '^en-US/' }) | Should -BeNullOrEmpty
        Get-PackageEntry 'LICENSE' | Should -BeExactly (Get-Content -LiteralPath "$repoRoot/LICENSE" -Raw)
        Get-PackageEntry 'LICENSE' | Should -Match 'MIT License[\s\S]*Copyright \(c\) 2026 SockPS contributors'
    }

    It 'has gallery metadata in its .nuspec, taken from the manifest' {
        [xml]$nuspec = Get-PackageEntry 'SockPS.nuspec'
        $metadata = $nuspec.package.metadata

        $metadata.id | Should -Be 'SockPS'
        $metadata.version | Should -Be $version
        $metadata.authors | Should -Be $manifestData.Author
        $metadata.description | Should -Be $manifestData.Description
        $metadata.projectUrl | Should -Be $manifestData.PrivateData.PSData.ProjectUri
        $metadata.licenseUrl | Should -Be $manifestData.PrivateData.PSData.LicenseUri
        $metadata.releaseNotes | Should -Match ([regex]::Escape($version))
        $tags = -split $metadata.tags
        foreach ($tag in 'PSModule', 'Socket', 'TCP', 'UDP', 'TLS', 'Netcat', 'Socat', 'Linux', 'Windows', 'MacOS', 'PSEdition_Core', 'PSEdition_Desktop') {
            $tags | Should -Contain $tag
        }
    }

    It 'has a manifest that passes Test-ModuleManifest, with the version in one place' {
        $manifest = Test-ModuleManifest -Path (Join-Path -Path $modulePath -ChildPath 'SockPS.psd1') -ErrorAction Stop

        $manifest.Author | Should -Not -BeNullOrEmpty
        $manifest.CompanyName | Should -Not -BeNullOrEmpty
        $manifest.Copyright | Should -Match '2026 SockPS contributors'
        $manifest.Description | Should -Not -BeNullOrEmpty
        $manifest.PowerShellVersion | Should -Be ([version]'5.1')
        $manifest.CompatiblePSEditions | Should -Be @('Desktop', 'Core')
        ([uri]$manifest.ProjectUri).IsAbsoluteUri | Should -BeTrue
        ([uri]$manifest.LicenseUri).IsAbsoluteUri | Should -BeTrue
        # Directory.Build.props reads ModuleVersion, so the DLLs carry the manifest's version.
        foreach ($dll in 'net8.0/SockPS.dll', 'net8.0/SockPS.Core.dll', 'netstandard2.0/SockPS.dll', 'netstandard2.0/SockPS.Core.dll') {
            $assemblyVersion = [System.Reflection.AssemblyName]::GetAssemblyName((Join-Path -Path $modulePath -ChildPath $dll)).Version
            '{0}.{1}.{2}' -f $assemblyVersion.Major, $assemblyVersion.Minor, $assemblyVersion.Build | Should -Be $version
        }
    }

    It 'publishes to a local repository and installs from it into a temporary module path, leaving the user''s settings alone' {
        $repositoryName = "SockPS-test-$([guid]::NewGuid().ToString('N'))"
        $environment = $childEnvironment.Clone()
        $environment.SOCKPS_PACKAGE_NAME = $repositoryName
        $environment.SOCKPS_PACKAGE_NUPKG = $package.FullName
        $installer = Start-TestPwsh -Environment $environment -Command @'
$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest
$name = $env:SOCKPS_PACKAGE_NAME
Register-PSResourceRepository -Name $name -Uri $env:SOCKPS_PACKAGE_REPO -Trusted
try {
    Publish-PSResource -NupkgPath $env:SOCKPS_PACKAGE_NUPKG -Repository $name
    $found = Find-PSResource -Name SockPS -Repository $name
    "found $($found.Version)"
    if ($IsWindows) {
        Save-PSResource -Name SockPS -Version $found.Version -Repository $name -Path $env:SOCKPS_PACKAGE_INSTALL -TrustRepository
    }
    else {
        Install-PSResource -Name SockPS -Version $found.Version -Repository $name -Scope CurrentUser -TrustRepository
    }
    $installed = Get-InstalledPSResource -Name SockPS -Path $env:SOCKPS_PACKAGE_INSTALL
    "installed $($installed.Version) at $($installed.InstalledLocation)"
}
finally {
    Unregister-PSResourceRepository -Name $name
}
"repositories $(@(Get-PSResourceRepository).Name -join ',')"
'@
        try {
            $found = Wait-TestProcessLine -Process $installer -Pattern '^found (\S+)$' -TimeoutSeconds 60
            $installed = Wait-TestProcessLine -Process $installer -Pattern '^installed (\S+) at (.+)$' -TimeoutSeconds 60
            $repositories = Wait-TestProcessLine -Process $installer -Pattern '^repositories (.*)$' -TimeoutSeconds 30
            Wait-TestProcessExit -Process $installer -TimeoutSeconds 30 | Should -Be 0 -Because $installer.Transcript()
        }
        finally {
            Stop-TestProcess -Process $installer
        }

        $found.Groups[1].Value | Should -Be $version
        Test-Path -LiteralPath (Join-Path -Path $repository -ChildPath "SockPS.$version.nupkg") | Should -BeTrue
        $installed.Groups[1].Value | Should -Be $version
        Test-Path -LiteralPath (Join-Path -Path $installRoot -ChildPath "SockPS/$version/SockPS.psd1") | Should -BeTrue
        Test-Path -LiteralPath (Join-Path -Path $installRoot -ChildPath "SockPS/$version/en-US/SockPS.dll-Help.xml") | Should -BeTrue
        # Unregistered again, and the user's own repository list is as it was (byte for byte on
        # Linux, where packing and the children use throw-away folders; elsewhere the children
        # register and unregister in the real list, which may rewrite it).
        $repositories.Groups[1].Value -split ',' | Should -Not -Contain $repositoryName
        Get-StoreText $realStore | Should -Not -Match ([regex]::Escape($repositoryName))
        if ($IsLinux) {
            Get-StoreText $realStore | Should -BeExactly $realStoreBefore
        }
        if ($IsLinux) {
            # The child really used the temporary store (else the check above proves nothing).
            Test-Path -LiteralPath (Join-Path -Path $dataHome -ChildPath 'PSResourceGet/PSResourceRepository.xml') | Should -BeTrue
        }
        $script:installedModule = Join-Path -Path $installRoot -ChildPath 'SockPS'
    }

    It 'imports from the install path in a fresh pwsh, holds a conversation, and shows the cmdlet help' {
        if (-not (Get-Variable -Name installedModule -Scope Script -ErrorAction SilentlyContinue)) {
            throw 'The install test before this one failed; there is nothing installed to import.'
        }
        # The synopsis the MAML in the package holds; without the MAML, Get-Help would show the
        # syntax instead.
        [xml]$maml = Get-Content -LiteralPath (Join-Path -Path $modulePath -ChildPath 'en-US/SockPS.dll-Help.xml') -Raw
        $namespaces = @{ command = 'http://schemas.microsoft.com/maml/dev/command/2004/10'; maml = 'http://schemas.microsoft.com/maml/2004/10' }
        $expectedSynopsis = (Select-Xml -Xml $maml -Namespace $namespaces `
                -XPath "//command:command[command:details/command:name='Connect-Socket']/command:details/maml:description/maml:para").Node.InnerText.Trim()
        $expectedSynopsis | Should -Not -BeNullOrEmpty

        $environment = $childEnvironment.Clone()
        $environment.SOCKPS_PACKAGE_MODULE = $script:installedModule
        $user = Start-TestPwsh -Environment $environment -Command @'
$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest
Import-Module -Name $env:SOCKPS_PACKAGE_MODULE
$module = Get-Module -Name SockPS
$server = Start-SocketServer -Port 0
$client = Connect-Socket -ComputerName 127.0.0.1 -Port $server.Port
Send-SocketData -Connection $client -InputObject 'hello from the package' -Line
$peer = Wait-SocketConnection -Server $server -TimeoutSeconds 20
$received = Receive-SocketData -Connection $peer -Line -TimeoutSeconds 20
Send-SocketData -Connection $peer -InputObject "back: $received" -Line
$reply = Receive-SocketData -Connection $client -Line -TimeoutSeconds 20
$result = [ordered]@{
    ModuleBase = $module.ModuleBase
    Loaded     = [SockPS.Commands.ModuleLifecycle].Assembly.Location
    Version    = "$($module.Version)"
    Received   = $received
    Reply      = $reply
    Synopsis   = (Get-Help -Name Connect-Socket).Synopsis
}
'result ' + ($result | ConvertTo-Json -Compress)
'@
        try {
            $line = Wait-TestProcessLine -Process $user -Pattern '^result (.+)$' -TimeoutSeconds 60
            Wait-TestProcessExit -Process $user -TimeoutSeconds 30 | Should -Be 0 -Because $user.Transcript()
        }
        finally {
            Stop-TestProcess -Process $user
        }
        $result = $line.Groups[1].Value | ConvertFrom-Json

        $result.ModuleBase | Should -Be (Join-Path -Path $script:installedModule -ChildPath $version)
        $result.Loaded | Should -Be ([System.IO.Path]::Combine($script:installedModule, $version, 'net8.0', 'SockPS.dll'))
        $result.Version | Should -Be $version
        $result.Received | Should -BeExactly 'hello from the package'
        $result.Reply | Should -BeExactly 'back: hello from the package'
        $result.Synopsis | Should -BeExactly $expectedSynopsis
    }
}
