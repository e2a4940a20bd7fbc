#Requires -Version 7.4
<#
    Helpers for the TLS part of the Pester suite (issue 4), next to SockPS.TestHelpers.psm1 and
    built on it: test files import SockPS.TestHelpers.psm1 first, then this module.

    New-TestCertificateSet   a private CA and the certificates it signs (server, wrong name,
                             expired, client) plus a self-signed server, made at run time and
                             written as PEM/PKCS#8/PFX files for openssl, ncat and -*Path
                             parameters. Nothing is ever committed.
    Get-TestFreeTcpPort      a loopback port free a moment ago, for peers that cannot report an
                             ephemeral port (openssl s_server, ncat -l).
    Start-TestListeningPeer  starts such a peer on a free port and waits, bounded, for the line
                             that says it listens; tries a second port once when the first was
                             taken in between.
    Start-TestSideCommand /  runs a script block in a second runspace (the module under test
    Wait-TestSideCommand     imported), for the other end of a handshake: both ends of a TLS
                             handshake block until it is done, so they cannot share a thread.
#>
Set-StrictMode -Version Latest

# The same instance the test file imported (no -Force: -Force would load a second copy with a
# second list of started processes).
Import-Module "$PSScriptRoot/SockPS.TestHelpers.psm1"

function New-TestCertificateSet {
    <#
    .SYNOPSIS
        Makes a private CA and certificates it signs, with ECDSA P-256 keys, and writes the files
        openssl, ncat and the -*Path parameters need into -Directory.
    .DESCRIPTION
        Returns [pscustomobject] with X509Certificate2 objects:
            Ca          the CA, with its key
            CaPublic    the CA without its key, as a user passes it to -CaCertificate
            Server      CN=localhost, SAN localhost, 127.0.0.1, ::1 (serverAuth)
            WrongName   CN=elsewhere.example, SAN elsewhere.example only (serverAuth)
            Expired     CN=localhost, SAN localhost, 127.0.0.1, expired two days ago (serverAuth)
            Client      CN=sockps-client (clientAuth)
            SelfSigned  CN=localhost, SAN localhost, 127.0.0.1, signed by itself (serverAuth)
        and the paths written:
            CaPath (ca.pem), ServerPath/ServerKeyPath (server.pem/server.key),
            ClientPath/ClientKeyPath (client.pem/client.key), WrongNamePath/WrongNameKeyPath,
            ExpiredPath/ExpiredKeyPath, SelfSignedPath/SelfSignedKeyPath, ServerPfxPath
            (server.pfx) and ClientPfxPath (client.pfx) protected by PfxPassword (a
            SecureString; PfxPasswordText is the same in plain text).
        Keys are PKCS#8 PEM. Every certificate is reloaded through a PKCS#12 round trip, which
        gives a key every platform's SslStream accepts.
    #>
    [CmdletBinding()]
    [OutputType([pscustomobject])]
    param(
        [Parameter(Mandatory)]
        [string] $Directory,

        [string] $PfxPasswordText = 'sockps-test-pfx'
    )

    $null = New-Item -ItemType Directory -Path $Directory -Force
    $now = [DateTimeOffset]::UtcNow
    $loopbacks = @([System.Net.IPAddress]::Loopback, [System.Net.IPAddress]::IPv6Loopback)

    $ca = New-TestCaCertificate -Name 'SockPS Pester Test CA' -NotBefore $now.AddDays(-30) -NotAfter $now.AddYears(1)
    $server = New-TestLeafCertificate -Issuer $ca -Name 'localhost' -DnsName 'localhost' -IPAddress $loopbacks `
        -NotBefore $now.AddDays(-1) -NotAfter $now.AddDays(30) -Usage ServerAuth
    $wrongName = New-TestLeafCertificate -Issuer $ca -Name 'elsewhere.example' -DnsName 'elsewhere.example' `
        -NotBefore $now.AddDays(-1) -NotAfter $now.AddDays(30) -Usage ServerAuth
    $expired = New-TestLeafCertificate -Issuer $ca -Name 'localhost' -DnsName 'localhost' -IPAddress ([System.Net.IPAddress]::Loopback) `
        -NotBefore $now.AddDays(-20) -NotAfter $now.AddDays(-2) -Usage ServerAuth
    $client = New-TestLeafCertificate -Issuer $ca -Name 'sockps-client' `
        -NotBefore $now.AddDays(-1) -NotAfter $now.AddDays(30) -Usage ClientAuth
    $selfSigned = New-TestLeafCertificate -Name 'localhost' -DnsName 'localhost' -IPAddress ([System.Net.IPAddress]::Loopback) `
        -NotBefore $now.AddDays(-1) -NotAfter $now.AddDays(30) -Usage ServerAuth

    $caPublic = [System.Security.Cryptography.X509Certificates.X509CertificateLoader]::LoadCertificate($ca.RawData)
    $password = ConvertTo-SecureString -String $PfxPasswordText -AsPlainText -Force

    $set = [ordered]@{
        PSTypeName      = 'SockPS.Testing.CertificateSet'
        Ca              = $ca
        CaPublic        = $caPublic
        Server          = $server
        WrongName       = $wrongName
        Expired         = $expired
        Client          = $client
        SelfSigned      = $selfSigned
        Directory       = $Directory
        CaPath          = Join-Path -Path $Directory -ChildPath 'ca.pem'
        PfxPassword     = $password
        PfxPasswordText = $PfxPasswordText
    }
    [System.IO.File]::WriteAllText($set.CaPath, $ca.ExportCertificatePem() + "`n")

    foreach ($entry in @(
            @{ Key = 'Server'; File = 'server' }
            @{ Key = 'Client'; File = 'client' }
            @{ Key = 'WrongName'; File = 'wrongname' }
            @{ Key = 'Expired'; File = 'expired' }
            @{ Key = 'SelfSigned'; File = 'selfsigned' }
        )) {
        $certificate = $set[$entry.Key]
        $pemPath = Join-Path -Path $Directory -ChildPath "$($entry.File).pem"
        $keyPath = Join-Path -Path $Directory -ChildPath "$($entry.File).key"
        [System.IO.File]::WriteAllText($pemPath, $certificate.ExportCertificatePem() + "`n")
        $key = [System.Security.Cryptography.X509Certificates.ECDsaCertificateExtensions]::GetECDsaPrivateKey($certificate)
        try {
            [System.IO.File]::WriteAllText($keyPath, $key.ExportPkcs8PrivateKeyPem() + "`n")
        }
        finally {
            $key.Dispose()
        }
        $set["$($entry.Key)Path"] = $pemPath
        $set["$($entry.Key)KeyPath"] = $keyPath
    }

    $set.ServerPfxPath = Join-Path -Path $Directory -ChildPath 'server.pfx'
    $set.ClientPfxPath = Join-Path -Path $Directory -ChildPath 'client.pfx'
    $pkcs12 = [System.Security.Cryptography.X509Certificates.X509ContentType]::Pkcs12
    [System.IO.File]::WriteAllBytes($set.ServerPfxPath, $server.Export($pkcs12, $PfxPasswordText))
    [System.IO.File]::WriteAllBytes($set.ClientPfxPath, $client.Export($pkcs12, $PfxPasswordText))

    [pscustomobject]$set
}

function New-TestCaCertificate {
    [CmdletBinding()]
    [OutputType([System.Security.Cryptography.X509Certificates.X509Certificate2])]
    param(
        [Parameter(Mandatory)] [string] $Name,
        [Parameter(Mandatory)] [DateTimeOffset] $NotBefore,
        [Parameter(Mandatory)] [DateTimeOffset] $NotAfter
    )

    $key = [System.Security.Cryptography.ECDsa]::Create([System.Security.Cryptography.ECCurve+NamedCurves]::nistP256)
    try {
        $request = [System.Security.Cryptography.X509Certificates.CertificateRequest]::new(
            "CN=$Name", $key, [System.Security.Cryptography.HashAlgorithmName]::SHA256)
        $request.CertificateExtensions.Add(
            [System.Security.Cryptography.X509Certificates.X509BasicConstraintsExtension]::new($true, $false, 0, $true))
        $request.CertificateExtensions.Add(
            [System.Security.Cryptography.X509Certificates.X509KeyUsageExtension]::new(
                [System.Security.Cryptography.X509Certificates.X509KeyUsageFlags]'KeyCertSign, CrlSign', $true))
        $request.CertificateExtensions.Add(
            [System.Security.Cryptography.X509Certificates.X509SubjectKeyIdentifierExtension]::new($request.PublicKey, $false))
        ConvertTo-TestReloadedCertificate -Certificate $request.CreateSelfSigned($NotBefore, $NotAfter)
    }
    finally {
        $key.Dispose()
    }
}

function New-TestLeafCertificate {
    <#
    .SYNOPSIS
        A leaf certificate signed by -Issuer, or self-signed without it.
    #>
    [CmdletBinding()]
    [OutputType([System.Security.Cryptography.X509Certificates.X509Certificate2])]
    param(
        [System.Security.Cryptography.X509Certificates.X509Certificate2] $Issuer,
        [Parameter(Mandatory)] [string] $Name,
        [string[]] $DnsName = @(),
        [System.Net.IPAddress[]] $IPAddress = @(),
        [Parameter(Mandatory)] [DateTimeOffset] $NotBefore,
        [Parameter(Mandatory)] [DateTimeOffset] $NotAfter,
        [Parameter(Mandatory)] [ValidateSet('ServerAuth', 'ClientAuth')] [string] $Usage
    )

    $key = [System.Security.Cryptography.ECDsa]::Create([System.Security.Cryptography.ECCurve+NamedCurves]::nistP256)
    try {
        $request = [System.Security.Cryptography.X509Certificates.CertificateRequest]::new(
            "CN=$Name", $key, [System.Security.Cryptography.HashAlgorithmName]::SHA256)
        $request.CertificateExtensions.Add(
            [System.Security.Cryptography.X509Certificates.X509BasicConstraintsExtension]::new($false, $false, 0, $false))
        $request.CertificateExtensions.Add(
            [System.Security.Cryptography.X509Certificates.X509KeyUsageExtension]::new(
                [System.Security.Cryptography.X509Certificates.X509KeyUsageFlags]::DigitalSignature, $true))
        $usages = [System.Security.Cryptography.OidCollection]::new()
        $null = $usages.Add([System.Security.Cryptography.Oid]::new($(if ($Usage -eq 'ServerAuth') { '1.3.6.1.5.5.7.3.1' } else { '1.3.6.1.5.5.7.3.2' })))
        $request.CertificateExtensions.Add(
            [System.Security.Cryptography.X509Certificates.X509EnhancedKeyUsageExtension]::new($usages, $false))
        if ($DnsName.Count + $IPAddress.Count -gt 0) {
            $san = [System.Security.Cryptography.X509Certificates.SubjectAlternativeNameBuilder]::new()
            foreach ($dns in $DnsName) {
                $san.AddDnsName($dns)
            }
            foreach ($address in $IPAddress) {
                $san.AddIpAddress($address)
            }
            $request.CertificateExtensions.Add($san.Build())
        }

        if ($null -eq $Issuer) {
            return ConvertTo-TestReloadedCertificate -Certificate $request.CreateSelfSigned($NotBefore, $NotAfter)
        }

        $serial = [System.Security.Cryptography.RandomNumberGenerator]::GetBytes(12)
        $serial[0] = $serial[0] -band 0x7F
        $issued = $request.Create($Issuer, $NotBefore, $NotAfter, $serial)
        try {
            ConvertTo-TestReloadedCertificate -Certificate (
                [System.Security.Cryptography.X509Certificates.ECDsaCertificateExtensions]::CopyWithPrivateKey($issued, $key))
        }
        finally {
            $issued.Dispose()
        }
    }
    finally {
        $key.Dispose()
    }
}

function ConvertTo-TestReloadedCertificate {
    # A PKCS#12 round trip gives a key every platform's SslStream accepts.
    [CmdletBinding()]
    [OutputType([System.Security.Cryptography.X509Certificates.X509Certificate2])]
    param(
        [Parameter(Mandatory)]
        [System.Security.Cryptography.X509Certificates.X509Certificate2] $Certificate
    )

    try {
        [System.Security.Cryptography.X509Certificates.X509CertificateLoader]::LoadPkcs12(
            $Certificate.Export([System.Security.Cryptography.X509Certificates.X509ContentType]::Pkcs12), $null,
            [System.Security.Cryptography.X509Certificates.X509KeyStorageFlags]::Exportable)
    }
    finally {
        $Certificate.Dispose()
    }
}

function Get-TestFreeTcpPort {
    <#
    .SYNOPSIS
        A TCP port on 127.0.0.1 that was free a moment ago: bound on port 0, read, released.
        Only for peers that cannot bind port 0 and report it; another process can take the port
        in between, so callers retry once (Start-TestListeningPeer does).
    #>
    [CmdletBinding()]
    [OutputType([int])]
    param()

    $listener = [System.Net.Sockets.TcpListener]::new([System.Net.IPAddress]::Loopback, 0)
    $listener.Start()
    try {
        ([System.Net.IPEndPoint]$listener.LocalEndpoint).Port
    }
    finally {
        $listener.Stop()
    }
}

function Start-TestListeningPeer {
    <#
    .SYNOPSIS
        Starts a peer that listens on a port given on its command line (openssl s_server,
        ncat -l) on a free loopback port, and waits for -ReadyPattern. Returns
        [pscustomobject]@{ Port; Process }.
    .DESCRIPTION
        -ArgumentList is a script block that gets the port and returns the arguments. When the
        process ends before it is ready and said the address was in use (the port was taken
        between Get-TestFreeTcpPort and the bind), it is started once more on another port.
    #>
    [CmdletBinding()]
    [OutputType([pscustomobject])]
    param(
        [Parameter(Mandatory)]
        [string] $FilePath,

        [Parameter(Mandatory)]
        [scriptblock] $ArgumentList,

        [Parameter(Mandatory)]
        [string] $ReadyPattern,

        [ValidateSet('Output', 'Error', 'Any')]
        [string] $ReadyStream = 'Any',

        [double] $TimeoutSeconds = 20
    )

    for ($attempt = 1; ; $attempt++) {
        $port = Get-TestFreeTcpPort
        $arguments = [string[]]@(& $ArgumentList $port)
        $process = Start-TestProcess -FilePath $FilePath -ArgumentList $arguments
        try {
            $null = Wait-TestProcessLine -Process $process -Stream $ReadyStream -Pattern $ReadyPattern -TimeoutSeconds $TimeoutSeconds
            return [pscustomobject]@{
                PSTypeName = 'SockPS.Testing.ListeningPeer'
                Port       = $port
                Process    = $process
            }
        }
        catch {
            # It ended before it was ready: let it finish (both streams drained), then look for
            # the reason.
            $ended = $process.HasStreamEnded($ReadyStream) -and $process.WaitForExit([timespan]::FromSeconds(5))
            $taken = $ended -and
                (@($process.ErrorLines) + @($process.OutputLines) | Where-Object { $_ -match 'Address already in use' })
            Stop-TestProcess -Process $process
            if ($attempt -ge 2 -or -not $taken) {
                throw
            }
        }
    }
}

function Start-TestSideCommand {
    <#
    .SYNOPSIS
        Starts -ScriptBlock in a second runspace with the module under test
        ($env:SOCKPS_MODULE_PATH) imported, and returns at once: the handle for
        Wait-TestSideCommand. Arguments are passed by position (param() in the block).
    .DESCRIPTION
        SockPS objects (connections, servers, certificates) can be passed: they are the same
        .NET objects in both runspaces. The block is passed as text, so it runs in the new
        runspace, not the caller's.
    #>
    [CmdletBinding()]
    [OutputType([pscustomobject])]
    param(
        [Parameter(Mandatory)]
        [scriptblock] $ScriptBlock,

        [object[]] $ArgumentList = @()
    )

    $shell = [powershell]::Create()
    $null = $shell.AddScript('param($ModulePath) Set-StrictMode -Version Latest; Import-Module $ModulePath').
        AddArgument($env:SOCKPS_MODULE_PATH).AddStatement()
    $null = $shell.AddScript($ScriptBlock.ToString())
    foreach ($argument in $ArgumentList) {
        $null = $shell.AddArgument($argument)
    }

    $output = [System.Management.Automation.PSDataCollection[psobject]]::new()
    $handle = $shell.BeginInvoke([System.Management.Automation.PSDataCollection[psobject]]::new(), $output)
    [pscustomobject]@{
        PSTypeName = 'SockPS.Testing.SideCommand'
        Shell      = $shell
        Handle     = $handle
        Output     = $output
    }
}

function Wait-TestSideCommand {
    <#
    .SYNOPSIS
        Waits, at most -TimeoutSeconds, for a Start-TestSideCommand block to finish; returns
        [pscustomobject]@{ Output; Errors } (Errors: the ErrorRecords it wrote or threw) and
        disposes the runspace. Throws on timeout, after stopping the block.
    #>
    [CmdletBinding()]
    [OutputType([pscustomobject])]
    param(
        [Parameter(Mandatory)]
        [pscustomobject] $Side,

        [double] $TimeoutSeconds = 30
    )

    try {
        if (-not $Side.Handle.AsyncWaitHandle.WaitOne([timespan]::FromSeconds($TimeoutSeconds))) {
            throw "Wait-TestSideCommand: the side command did not finish within $TimeoutSeconds s."
        }

        $errors = [System.Collections.Generic.List[System.Management.Automation.ErrorRecord]]::new()
        foreach ($record in $Side.Shell.Streams.Error) {
            $errors.Add($record)
        }
        try {
            $null = $Side.Shell.EndInvoke($Side.Handle)
        }
        catch [System.Management.Automation.RuntimeException] {
            $errors.Add($_.Exception.ErrorRecord)
        }
        catch {
            # EndInvoke wraps a terminating error of the block in a MethodInvocationException.
            $inner = $_.Exception.InnerException
            if ($inner -is [System.Management.Automation.IContainsErrorRecord]) {
                $errors.Add($inner.ErrorRecord)
            }
            else {
                throw
            }
        }

        [pscustomobject]@{
            PSTypeName = 'SockPS.Testing.SideResult'
            # ReadAll, not the pipeline: an array the block output whole (a byte[]) stays one item.
            Output     = @($Side.Output.ReadAll())
            Errors     = @($errors | ForEach-Object { $_ })
        }
    }
    finally {
        Stop-TestSideCommand -Side $Side
    }
}

function Stop-TestSideCommand {
    <#
    .SYNOPSIS
        Stops (if still running) and disposes a Start-TestSideCommand runspace. Safe to call twice
        and with $null, for AfterEach.
    #>
    [CmdletBinding()]
    param(
        [AllowNull()]
        [object] $Side
    )

    if ($null -eq $Side) {
        return
    }
    $shell = $Side.Shell
    if ($shell.InvocationStateInfo.State -eq 'Running') {
        $shell.Stop()
    }
    $shell.Dispose()
}

Export-ModuleMember -Function @(
    'New-TestCertificateSet'
    'Get-TestFreeTcpPort'
    'Start-TestListeningPeer'
    'Start-TestSideCommand'
    'Wait-TestSideCommand'
    'Stop-TestSideCommand'
)
