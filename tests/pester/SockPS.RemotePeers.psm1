#Requires -Version 7.4
<#
    Real daemons for remoting and proxy tests, each started on loopback with a throw-away
    configuration in its own temporary folder, on a port the kernel picked, and stopped by
    process id:

      Start-TestSshd / Stop-TestSshd                 OpenSSH's sshd with the PowerShell subsystem
      Get-TestSshClientArgument                      ssh arguments that reach that sshd (ssh -D, -W,
                                                     ProxyCommand), Get-TestSshSessionOption for
                                                     New-PSSession -Options
      Start-TestSocksProxy / Stop-TestSocksProxy     microsocks: SOCKS5, optionally user/password
      Start-TestDante / Stop-TestDante               dante-server: SOCKS4 and SOCKS5, no authentication
      Start-TestHttpProxy / Stop-TestHttpProxy       tinyproxy: HTTP CONNECT, optionally Basic auth
      Start-TestSshDynamicForward / Stop-...         ssh -N -D: SOCKS4, SOCKS4a and SOCKS5 via the sshd
      Start-TestHttpServer / Stop-TestHttpServer     python3 -m http.server: a target that says who it is
      Get-TestPwshExecutable                         a standalone pwsh (the repository's pinned version)

    How a daemon counts as ready: the process itself holds a listening socket on the port
    (read from /proc, so a port another program happens to hold never passes for ours), polled
    with Wait-TestCondition. A daemon that exits first because the port was taken between the
    kernel handing it out and the daemon binding it is started again on a new port, a bounded
    number of times; any other early exit throws with everything the daemon printed.

    Linux only (/proc, the Debian daemons). Imports SockPS.TestHelpers.psm1 itself (Start-TestProcess,
    Wait-TestCondition); Stop-TestProcess -All in a test file stops these daemons too when the
    test file imported SockPS.TestHelpers.psm1 first (the same module instance is shared).
#>
Set-StrictMode -Version Latest

Import-Module -Name (Join-Path -Path $PSScriptRoot -ChildPath 'SockPS.TestHelpers.psm1')

# How often a daemon is started again when its port was taken before it could bind it.
$script:PortAttempts = 5

function Get-TestRepositoryRoot {
    # tests/pester/ -> the repository.
    (Resolve-Path -LiteralPath (Join-Path -Path $PSScriptRoot -ChildPath '../..')).ProviderPath
}

function Get-TestPythonPath {
    # Debian's python3 where it exists: the one whose python3-* packages are installed.
    if (Test-Path -LiteralPath '/usr/bin/python3') {
        return '/usr/bin/python3'
    }
    $command = Get-Command -Name 'python3' -CommandType Application -ErrorAction SilentlyContinue | Select-Object -First 1
    if ($null -eq $command) {
        throw 'python3 is not installed; .ci/run installs it.'
    }
    $command.Source
}

function Get-TestRequiredProgram {
    <# The full path of a program, or a throw that names the Debian package that brings it. #>
    param(
        [Parameter(Mandatory)] [string] $Name,
        [Parameter(Mandatory)] [string] $Package
    )

    if ([System.IO.Path]::IsPathRooted($Name)) {
        if (Test-Path -LiteralPath $Name -PathType Leaf) {
            return $Name
        }
    }
    else {
        $command = Get-Command -Name $Name -CommandType Application -ErrorAction SilentlyContinue | Select-Object -First 1
        if ($null -ne $command) {
            return $command.Source
        }
        # Daemons live in /usr/sbin, which a non-login PATH may lack.
        foreach ($folder in '/usr/sbin', '/usr/bin', '/sbin') {
            $candidate = Join-Path -Path $folder -ChildPath $Name
            if (Test-Path -LiteralPath $candidate -PathType Leaf) {
                return $candidate
            }
        }
    }
    throw "$Name is not installed (Debian package $Package); .ci/run installs it."
}

function New-TestPeerDirectory {
    param([Parameter(Mandatory)] [string] $Prefix)

    # CreateTempSubdirectory makes the folder with mode 0700 on Unix: the keys in it stay ours.
    [System.IO.Directory]::CreateTempSubdirectory($Prefix).FullName
}

function Get-TestFreePort {
    <#
    .SYNOPSIS
        A TCP port the kernel handed out as free on every address in -Address (127.0.0.1 unless
        told): bound with port 0 on the first, the same port bound on the others, all closed
        again, the number returned. The caller's daemon binds it next; a daemon that loses the
        race is started again on a new port (see the module's notes).
    #>
    [CmdletBinding()]
    [OutputType([int])]
    param(
        [System.Net.IPAddress[]] $Address = @([System.Net.IPAddress]::Loopback)
    )

    for ($attempt = 1; $attempt -le 20; $attempt++) {
        $sockets = [System.Collections.Generic.List[System.Net.Sockets.Socket]]::new()
        try {
            $first = [System.Net.Sockets.Socket]::new($Address[0].AddressFamily, 'Stream', 'Tcp')
            $sockets.Add($first)
            $first.Bind([System.Net.IPEndPoint]::new($Address[0], 0))
            $port = $first.LocalEndPoint.Port
            $allBound = $true
            foreach ($other in @($Address | Select-Object -Skip 1)) {
                $socket = [System.Net.Sockets.Socket]::new($other.AddressFamily, 'Stream', 'Tcp')
                $sockets.Add($socket)
                if ($other.AddressFamily -eq 'InterNetworkV6') {
                    $socket.DualMode = $false
                }
                try {
                    $socket.Bind([System.Net.IPEndPoint]::new($other, $port))
                }
                catch [System.Net.Sockets.SocketException] {
                    $allBound = $false
                    break
                }
            }
            if ($allBound) {
                return $port
            }
        }
        finally {
            foreach ($socket in $sockets) {
                $socket.Dispose()
            }
        }
    }
    throw "Get-TestFreePort: no port was free on all of $($Address -join ', ') in 20 tries."
}

function ConvertFrom-TestProcNetAddress {
    # /proc/net/tcp{,6} print an address as the hex of its bytes in 32-bit host-order words.
    param([Parameter(Mandatory)] [string] $Hex)

    $bytes = [System.Convert]::FromHexString($Hex)
    if ([BitConverter]::IsLittleEndian) {
        for ($i = 0; $i -lt $bytes.Length; $i += 4) {
            [array]::Reverse($bytes, $i, 4)
        }
    }
    [System.Net.IPAddress]::new($bytes)
}

function Get-TestListeningEndPoint {
    <#
    .SYNOPSIS
        The TCP endpoints a process listens on, read from /proc: the socket inodes among the
        process's open files, matched against the LISTEN rows of /proc/net/tcp and tcp6.
    #>
    [CmdletBinding()]
    [OutputType([System.Net.IPEndPoint])]
    param(
        [Parameter(Mandatory)]
        [int] $ProcessId
    )

    $inodes = [System.Collections.Generic.HashSet[string]]::new()
    $fdDirectory = "/proc/$ProcessId/fd"
    try {
        foreach ($fd in [System.IO.Directory]::GetFiles($fdDirectory)) {
            try {
                $target = [System.IO.FileInfo]::new($fd).LinkTarget
            }
            catch [System.IO.IOException] {
                continue # closed while we looked
            }
            if ($target -and $target -match '^socket:\[(\d+)\]$') {
                [void]$inodes.Add($Matches[1])
            }
        }
    }
    catch [System.IO.DirectoryNotFoundException] {
        return # the process is gone
    }

    if ($inodes.Count -eq 0) {
        return
    }

    foreach ($table in '/proc/net/tcp', '/proc/net/tcp6') {
        if (-not (Test-Path -LiteralPath $table)) {
            continue
        }
        foreach ($row in [System.IO.File]::ReadAllLines($table) | Select-Object -Skip 1) {
            # sl local_address rem_address st tx:rx tr:tm retrnsmt uid timeout inode ...
            $fields = $row.Trim() -split '\s+'
            if ($fields.Length -lt 10 -or $fields[3] -ne '0A' -or -not $inodes.Contains($fields[9])) {
                continue
            }
            $addressHex, $portHex = $fields[1] -split ':'
            [System.Net.IPEndPoint]::new((ConvertFrom-TestProcNetAddress -Hex $addressHex), [System.Convert]::ToInt32($portHex, 16))
        }
    }
}

function Wait-TestListener {
    <#
    .SYNOPSIS
        Waits until the process listens on -Port on every address in -Address; returns $true.
        Returns $false when the process exited first because the port was taken (its output
        matches -InUsePattern), so the caller can start it again on another port. Throws on any
        other exit, or when -TimeoutSeconds pass, with everything the process printed.
    #>
    [CmdletBinding()]
    [OutputType([bool])]
    param(
        [Parameter(Mandatory)] [SockPS.Testing.TestProcess] $Process,
        [Parameter(Mandatory)] [int] $Port,
        [Parameter(Mandatory)] [System.Net.IPAddress[]] $Address,
        [string] $InUsePattern = 'in use',
        [double] $TimeoutSeconds = 30
    )

    $isListening = {
        $endPoints = @(Get-TestListeningEndPoint -ProcessId $Process.Id | Where-Object { $_.Port -eq $Port })
        foreach ($wanted in $Address) {
            if (-not ($endPoints | Where-Object { $_.Address.Equals($wanted) })) {
                return $false
            }
        }
        return $true
    }

    try {
        Wait-TestCondition -Description "$($Process.CommandLine) listening on port $Port" -TimeoutSeconds $TimeoutSeconds `
            -Condition { $Process.HasExited -or (& $isListening) }
    }
    catch {
        throw "$_`n$($Process.Transcript())"
    }

    if (& $isListening) {
        return $true
    }

    # Exited: let the streams drain so the transcript is complete.
    $null = $Process.WaitForExit([timespan]::FromSeconds(5))
    $printed = ($Process.OutputLines + $Process.ErrorLines) -join "`n"
    if ($printed -match $InUsePattern) {
        return $false
    }
    throw "$($Process.CommandLine) exited before it listened on port $Port.`n$($Process.Transcript())"
}

function Start-TestDaemon {
    <#
    .SYNOPSIS
        Starts a daemon on a free port and waits until it listens, starting it again on a new
        port when the port was taken first. -Prepare gets the port and returns @{ FilePath;
        ArgumentList }. Returns @{ Port; Process }.
    #>
    [CmdletBinding()]
    param(
        [Parameter(Mandatory)] [scriptblock] $Prepare,
        [System.Net.IPAddress[]] $Address = @([System.Net.IPAddress]::Loopback),
        [string] $InUsePattern = 'in use',
        [double] $TimeoutSeconds = 30,
        [string] $WorkingDirectory = [System.IO.Path]::GetTempPath()
    )

    $transcripts = [System.Collections.Generic.List[string]]::new()
    for ($attempt = 1; $attempt -le $script:PortAttempts; $attempt++) {
        $port = Get-TestFreePort -Address $Address
        $command = & $Prepare $port
        $process = Start-TestProcess -FilePath $command.FilePath -ArgumentList $command.ArgumentList `
            -WorkingDirectory $WorkingDirectory
        try {
            $listening = Wait-TestListener -Process $process -Port $port -Address $Address `
                -InUsePattern $InUsePattern -TimeoutSeconds $TimeoutSeconds
        }
        catch {
            Stop-TestProcess -Process $process
            throw
        }
        if ($listening) {
            return @{ Port = $port; Process = $process }
        }
        $transcripts.Add($process.Transcript())
        Stop-TestProcess -Process $process
    }
    throw "Start-TestDaemon: the port was taken every time in $($script:PortAttempts) tries.`n$($transcripts -join "`n")"
}

function Stop-TestPeer {
    <#
    .SYNOPSIS
        Stops a peer started by this module: kills its process (and its children) by process id,
        then removes its temporary folder. Safe to call twice and with $null.
    #>
    [CmdletBinding()]
    param(
        [Parameter(Mandatory, ValueFromPipeline, Position = 0)]
        [AllowNull()]
        [psobject[]] $Peer
    )

    process {
        foreach ($item in $Peer) {
            if ($null -eq $item) {
                continue
            }
            $process = $item.PSObject.Properties['Process']
            if ($process -and $process.Value) {
                # TestProcess.Kill: Process.Kill(entireProcessTree) on this process id, then a
                # bounded wait for its exit.
                Stop-TestProcess -Process $process.Value
            }
            $directory = $item.PSObject.Properties['Directory']
            if ($directory -and $directory.Value -and (Test-Path -LiteralPath $directory.Value)) {
                Remove-Item -LiteralPath $directory.Value -Recurse -Force
            }
        }
    }
}

function Get-TestPwshExecutable {
    <#
    .SYNOPSIS
        The path of a standalone pwsh executable of the repository's pinned version (from
        .config/dotnet-tools.json), installed once with `dotnet tool install PowerShell
        --tool-path` into out/tools/pwsh-<version> (git-ignored) and reused afterwards.
    .DESCRIPTION
        sshd's Subsystem line and ssh's ProxyCommand need one program to start; `dotnet pwsh`
        only works inside the repository, where the tool manifest is. The tool's `pwsh` is a
        small program that starts `dotnet pwsh.dll` from PATH (see the DOTNET_ROOT and PATH that
        Start-TestSshd gives its sessions). Installed into a folder beside the final one and
        renamed, so a run that stops half-way never leaves a broken cache behind.
    #>
    [CmdletBinding()]
    [OutputType([string])]
    param(
        [string] $CacheDirectory = (Join-Path -Path (Get-TestRepositoryRoot) -ChildPath 'out/tools')
    )

    $version = '7.6.9'
    $manifest = Join-Path -Path (Get-TestRepositoryRoot) -ChildPath '.config/dotnet-tools.json'
    if (Test-Path -LiteralPath $manifest) {
        $tools = (Get-Content -LiteralPath $manifest -Raw | ConvertFrom-Json).tools
        if ($tools.PSObject.Properties['powershell']) {
            $version = $tools.powershell.version
        }
    }

    $directory = Join-Path -Path $CacheDirectory -ChildPath "pwsh-$version"
    $executable = Join-Path -Path $directory -ChildPath 'pwsh'
    if (Test-Path -LiteralPath $executable -PathType Leaf) {
        return $executable
    }

    $null = New-Item -ItemType Directory -Path $CacheDirectory -Force
    $partial = "$directory.partial-$([System.Guid]::NewGuid().ToString('n'))"
    $install = Start-TestProcess -FilePath 'dotnet' -ArgumentList @(
        'tool', 'install', 'PowerShell', '--version', $version, '--tool-path', $partial)
    try {
        $exitCode = Wait-TestProcessExit -Process $install -TimeoutSeconds 300
        if ($exitCode -ne 0) {
            throw "dotnet tool install PowerShell --version $version failed with exit code $exitCode.`n$($install.Transcript())"
        }
    }
    finally {
        Stop-TestProcess -Process $install
    }

    try {
        Move-Item -LiteralPath $partial -Destination $directory -ErrorAction Stop
    }
    catch {
        # Another run finished first: use its copy.
        Remove-Item -LiteralPath $partial -Recurse -Force
        if (-not (Test-Path -LiteralPath $executable -PathType Leaf)) {
            throw
        }
    }
    $executable
}

function Get-TestDotnetPath {
    # The dotnet host this test run uses, links resolved: its folder goes first on the PATH of
    # every ssh session, and its folder is DOTNET_ROOT, so the tool's pwsh finds the same runtime.
    $candidate = [Environment]::ProcessPath
    if ([System.IO.Path]::GetFileNameWithoutExtension($candidate) -ne 'dotnet') {
        $command = Get-Command -Name 'dotnet' -CommandType Application -ErrorAction SilentlyContinue | Select-Object -First 1
        if ($null -eq $command) {
            throw 'dotnet is not on PATH.'
        }
        $candidate = $command.Source
    }
    $target = [System.IO.File]::ResolveLinkTarget($candidate, $true)
    if ($target) { $target.FullName } else { $candidate }
}

function Start-TestSshd {
    <#
    .SYNOPSIS
        Starts OpenSSH's sshd (`/usr/sbin/sshd -D -e -f <config>`) on 127.0.0.1 and ::1 at a free
        port, with the PowerShell SSH subsystem, a throw-away host key and a throw-away user key.
    .DESCRIPTION
        Everything lives in a new 0700 temporary folder: host key, user key, authorized_keys,
        known_hosts (already holding the host key, so clients check it strictly), sshd_config,
        the pid file. Password, keyboard-interactive and PAM are off: only the throw-away key
        logs in, and only as the current user (AllowUsers). Run as root - as this CI machine
        does - that user is root: sshd can only log a session in as an existing system user, and
        making one would change the machine's /etc/passwd for a test. The risk stays small: the
        server listens on loopback only, for the test's lifetime, and accepts nothing but a key
        made a moment ago in a folder only root can read (PermitRootLogin prohibit-password).
        StrictModes is off because the folder sits under /tmp, which is world-writable.

        sshd needs its privilege-separation folder /run/sshd (compiled in); the Debian service
        makes it at boot through systemd, which does not run here, so it is made when missing.

        Ready when sshd listens on every address and 127.0.0.1 answers with an SSH banner.
        Returns HostName (127.0.0.1), Port, ProcessId, Process, UserName, KeyFilePath,
        KnownHostsPath, HostKeyPath, Directory, ConfigPath, PidFilePath, PwshPath, Address.
        Stop it with Stop-TestSshd.
    #>
    [CmdletBinding()]
    [OutputType([pscustomobject])]
    param(
        # The program behind `Subsystem powershell`; Get-TestPwshExecutable when not given.
        [string] $PwshPath,

        # Leave the PowerShell subsystem out (for tests of plain ssh forwarding).
        [switch] $NoPowerShellSubsystem,

        [double] $TimeoutSeconds = 30
    )

    $sshd = Get-TestRequiredProgram -Name '/usr/sbin/sshd' -Package 'openssh-server'
    $keygen = Get-TestRequiredProgram -Name 'ssh-keygen' -Package 'openssh-client'
    if (-not $NoPowerShellSubsystem -and -not $PwshPath) {
        $PwshPath = Get-TestPwshExecutable
    }

    if (-not (Test-Path -LiteralPath '/run/sshd')) {
        $null = New-Item -ItemType Directory -Path '/run/sshd'
        # sshd refuses a privilege-separation folder that others can write to.
        & chmod 0755 /run/sshd
    }

    $addresses = [System.Collections.Generic.List[System.Net.IPAddress]]::new()
    $addresses.Add([System.Net.IPAddress]::Loopback)
    if (Test-TestIPv6Loopback) {
        $addresses.Add([System.Net.IPAddress]::IPv6Loopback)
    }

    $directory = New-TestPeerDirectory -Prefix 'sockps-sshd-'
    try {
        $hostKey = Join-Path -Path $directory -ChildPath 'ssh_host_ed25519_key'
        $userKey = Join-Path -Path $directory -ChildPath 'id_ed25519'
        foreach ($key in @(@($hostKey, 'sockps-test-host'), @($userKey, 'sockps-test-user'))) {
            $output = & $keygen -q -t ed25519 -N '' -C $key[1] -f $key[0] 2>&1
            if ($LASTEXITCODE -ne 0) {
                throw "ssh-keygen failed for $($key[0]): $output"
            }
        }

        $userName = [Environment]::UserName
        $authorizedKeys = Join-Path -Path $directory -ChildPath 'authorized_keys'
        Copy-Item -LiteralPath "$userKey.pub" -Destination $authorizedKeys
        $configPath = Join-Path -Path $directory -ChildPath 'sshd_config'
        $pidFile = Join-Path -Path $directory -ChildPath 'sshd.pid'
        $knownHosts = Join-Path -Path $directory -ChildPath 'known_hosts'
        $dotnet = Get-TestDotnetPath
        $dotnetDirectory = Split-Path -Path $dotnet -Parent

        $prepare = {
            param([int] $port)

            $listen = foreach ($address in $addresses) {
                if ($address.AddressFamily -eq 'InterNetworkV6') { "ListenAddress [$address]:$port" } else { "ListenAddress ${address}:$port" }
            }
            $lines = @(
                '# Throw-away sshd for SockPS tests: loopback only, key only, this user only.'
                $listen
                "HostKey $hostKey"
                "PidFile $pidFile"
                "AuthorizedKeysFile $authorizedKeys"
                'AuthorizedPrincipalsFile none'
                'StrictModes no'
                'UsePAM no'
                'PubkeyAuthentication yes'
                'PasswordAuthentication no'
                'KbdInteractiveAuthentication no'
                'HostbasedAuthentication no'
                'PermitEmptyPasswords no'
                'PermitRootLogin prohibit-password'
                "AllowUsers $userName"
                'UseDNS no'
                'PrintMotd no'
                'PrintLastLog no'
                'X11Forwarding no'
                'AllowAgentForwarding no'
                # ssh -D, -L and -W (ProxyCommand) need TCP forwarding.
                'AllowTcpForwarding yes'
                'GatewayPorts no'
                'PermitTunnel no'
                # Several sessions open at once (New-PSSession to two names, ThrottleLimit).
                'MaxStartups 50:30:100'
                'MaxSessions 50'
                'LogLevel VERBOSE'
                # The tool's pwsh starts `dotnet` from PATH; give every session this run's dotnet.
                "SetEnv DOTNET_ROOT=$dotnetDirectory PATH=${dotnetDirectory}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin NO_COLOR=1"
                'Subsystem sftp internal-sftp'
            )
            if (-not $NoPowerShellSubsystem) {
                $lines += "Subsystem powershell $PwshPath -sshs -NoLogo -NoProfile"
            }
            Set-Content -LiteralPath $configPath -Value $lines -Encoding utf8NoBOM

            # The client checks the host key strictly against this file instead of trusting
            # whatever answers on the port.
            $hostPublicKey = (Get-Content -LiteralPath "$hostKey.pub" -Raw).Trim()
            $names = @("[127.0.0.1]:$port", "[localhost]:$port")
            if ($addresses.Count -gt 1) {
                $names += "[::1]:$port"
            }
            Set-Content -LiteralPath $knownHosts -Value "$($names -join ',') $hostPublicKey" -Encoding utf8NoBOM

            @{ FilePath = $sshd; ArgumentList = @('-D', '-e', '-f', $configPath) }
        }.GetNewClosure()

        $started = Start-TestDaemon -Prepare $prepare -Address $addresses -InUsePattern 'Address already in use' `
            -TimeoutSeconds $TimeoutSeconds -WorkingDirectory $directory
    }
    catch {
        Remove-Item -LiteralPath $directory -Recurse -Force -ErrorAction SilentlyContinue
        throw
    }

    $peer = [pscustomobject]@{
        PSTypeName     = 'SockPS.Testing.Sshd'
        HostName       = '127.0.0.1'
        Port           = $started.Port
        ProcessId      = $started.Process.Id
        Process        = $started.Process
        UserName       = $userName
        KeyFilePath    = $userKey
        KnownHostsPath = $knownHosts
        HostKeyPath    = $hostKey
        Directory      = $directory
        ConfigPath     = $configPath
        PidFilePath    = $pidFile
        PwshPath       = $PwshPath
        Address        = $addresses.ToArray()
    }

    try {
        $banner = Read-TestBanner -Address ([System.Net.IPAddress]::Loopback) -Port $peer.Port -TimeoutSeconds $TimeoutSeconds
        if ($banner -notmatch '^SSH-2\.0-') {
            throw "Start-TestSshd: port $($peer.Port) answered '$banner', not an SSH banner.`n$($peer.Process.Transcript())"
        }
    }
    catch {
        Stop-TestPeer -Peer $peer
        throw
    }
    $peer
}

function Read-TestBanner {
    <# Connects and reads the first line the server sends, waiting at most -TimeoutSeconds. #>
    [CmdletBinding()]
    [OutputType([string])]
    param(
        [Parameter(Mandatory)] [System.Net.IPAddress] $Address,
        [Parameter(Mandatory)] [int] $Port,
        [double] $TimeoutSeconds = 20
    )

    $client = [System.Net.Sockets.TcpClient]::new($Address.AddressFamily)
    try {
        $milliseconds = [int]($TimeoutSeconds * 1000)
        if (-not $client.ConnectAsync($Address, $Port).Wait($milliseconds)) {
            throw "Read-TestBanner: no connection to ${Address}:$Port within $TimeoutSeconds s."
        }
        $client.ReceiveTimeout = $milliseconds
        $reader = [System.IO.StreamReader]::new($client.GetStream(), [System.Text.Encoding]::ASCII)
        $reader.ReadLine()
    }
    finally {
        $client.Dispose()
    }
}

function Stop-TestSshd {
    <#
    .SYNOPSIS
        Stops a Start-TestSshd server by process id (its per-connection children and the pwsh
        subsystems they started go with it) and removes its temporary folder.
    #>
    [CmdletBinding()]
    param(
        [Parameter(Mandatory, ValueFromPipeline, Position = 0)]
        [AllowNull()]
        [psobject[]] $Sshd
    )
    process { Stop-TestPeer -Peer $Sshd }
}

function Get-TestSshClientArgument {
    <#
    .SYNOPSIS
        Arguments for OpenSSH's ssh that reach a Start-TestSshd server as its user: add the host
        (127.0.0.1, localhost or ::1) and what to do, e.g.
        ssh @(Get-TestSshClientArgument $sshd) -N -D 127.0.0.1:0 127.0.0.1
    .DESCRIPTION
        No configuration file (-F none) so the user's ~/.ssh/config cannot change the test;
        only the throw-away key; the host key checked strictly against the server's own
        known_hosts file; never a prompt (BatchMode).
    #>
    [CmdletBinding()]
    [OutputType([string[]])]
    param(
        [Parameter(Mandatory, Position = 0)]
        [psobject] $Sshd
    )

    @(
        '-F', 'none'
        '-i', $Sshd.KeyFilePath
        '-p', [string]$Sshd.Port
        '-l', $Sshd.UserName
        '-o', 'IdentitiesOnly=yes'
        '-o', 'BatchMode=yes'
        '-o', 'StrictHostKeyChecking=yes'
        '-o', "UserKnownHostsFile=$($Sshd.KnownHostsPath)"
        '-o', 'GlobalKnownHostsFile=/dev/null'
        '-o', 'ConnectTimeout=20'
        '-o', 'LogLevel=ERROR'
    )
}

function Get-TestSshSessionOption {
    <#
    .SYNOPSIS
        The hashtable for `New-PSSession -Options` (PowerShell 7.3+) that goes with a
        Start-TestSshd server: strict host key checking against its known_hosts, no prompts.
    #>
    [CmdletBinding()]
    [OutputType([hashtable])]
    param(
        [Parameter(Mandatory, Position = 0)]
        [psobject] $Sshd
    )

    @{
        StrictHostKeyChecking = 'yes'
        UserKnownHostsFile    = $Sshd.KnownHostsPath
        GlobalKnownHostsFile  = '/dev/null'
        IdentitiesOnly        = 'yes'
        BatchMode             = 'yes'
        ConnectTimeout        = '20'
    }
}

function Start-TestSocksProxy {
    <#
    .SYNOPSIS
        Starts microsocks, a SOCKS5 proxy, on 127.0.0.1 at a free port; with -UserName and
        -Password it demands RFC 1929 username/password authentication (and refuses clients
        without it). Returns HostName, Port, ProcessId, Process, UserName, Password, Uri
        (socks5://127.0.0.1:port), Directory. Stop it with Stop-TestSocksProxy.
    #>
    [CmdletBinding(DefaultParameterSetName = 'NoAuth')]
    [OutputType([pscustomobject])]
    param(
        [Parameter(Mandatory, ParameterSetName = 'Password')]
        [string] $UserName,

        [Parameter(Mandatory, ParameterSetName = 'Password')]
        [string] $Password,

        [double] $TimeoutSeconds = 30
    )

    $microsocks = Get-TestRequiredProgram -Name 'microsocks' -Package 'microsocks'
    $directory = New-TestPeerDirectory -Prefix 'sockps-microsocks-'
    try {
        # No -1 ("auth once"): it would let a client in without a password after another one
        # authenticated from the same address.
        $prepare = {
            param([int] $port)
            $arguments = @('-i', '127.0.0.1', '-p', [string]$port)
            if ($UserName) {
                $arguments += @('-u', $UserName, '-P', $Password)
            }
            @{ FilePath = $microsocks; ArgumentList = $arguments }
        }.GetNewClosure()
        $started = Start-TestDaemon -Prepare $prepare -InUsePattern 'Address already in use' `
            -TimeoutSeconds $TimeoutSeconds -WorkingDirectory $directory
    }
    catch {
        Remove-Item -LiteralPath $directory -Recurse -Force -ErrorAction SilentlyContinue
        throw
    }

    [pscustomobject]@{
        PSTypeName = 'SockPS.Testing.SocksProxy'
        HostName   = '127.0.0.1'
        Port       = $started.Port
        ProcessId  = $started.Process.Id
        Process    = $started.Process
        UserName   = if ($UserName) { $UserName } else { $null }
        Password   = if ($UserName) { $Password } else { $null }
        Uri        = "socks5://127.0.0.1:$($started.Port)"
        Directory  = $directory
    }
}

function Stop-TestSocksProxy {
    <# .SYNOPSIS Stops a Start-TestSocksProxy proxy by process id and removes its folder. #>
    [CmdletBinding()]
    param(
        [Parameter(Mandatory, ValueFromPipeline, Position = 0)]
        [AllowNull()]
        [psobject[]] $Proxy
    )
    process { Stop-TestPeer -Peer $Proxy }
}

function Start-TestDante {
    <#
    .SYNOPSIS
        Starts dante-server (`danted -f <conf>`) on 127.0.0.1 at a free port: SOCKS4 and SOCKS5
        without authentication, connecting only to loopback targets.
    .DESCRIPTION
        No username/password here: Debian's dante checks a SOCKS5 username and password only
        against the system's password file (method "username") or PAM ("pam.username"), so a
        password test would need a system user. microsocks (Start-TestSocksProxy -UserName
        -Password) covers SOCKS5 with a password instead. Dante 1.4.2 also does not take the
        SOCKS4a form (a host name after a 0.0.0.x address): it answers 91, rejected; ssh -D
        (Start-TestSshDynamicForward) serves SOCKS4a.

        Rules: clients from 127.0.0.0/8; CONNECT only to 127.0.0.0/8 (and, with -AllowedPort,
        only to those ports), everything else blocked with SOCKS reply 2 ("connection not
        allowed by ruleset") - a real refusal for tests to see. Run as root, its children drop to
        the user nobody. It logs every pass and block to stderr (see .Process.ErrorLines).

        Returns HostName, Port, ProcessId, Process, Uri (socks5://127.0.0.1:port), Directory,
        ConfigPath. Stop it with Stop-TestDante.
    #>
    [CmdletBinding()]
    [OutputType([pscustomobject])]
    param(
        # The only target ports CONNECT may reach; all ports on loopback when not given.
        [int[]] $AllowedPort,

        [double] $TimeoutSeconds = 30
    )

    $danted = Get-TestRequiredProgram -Name 'danted' -Package 'dante-server'
    $directory = New-TestPeerDirectory -Prefix 'sockps-dante-'
    $configPath = Join-Path -Path $directory -ChildPath 'danted.conf'
    $pidFile = Join-Path -Path $directory -ChildPath 'danted.pid'
    $isRoot = (& id -u) -eq '0'
    try {
        $prepare = {
            param([int] $port)
            $passRules = if ($AllowedPort) {
                foreach ($allowed in $AllowedPort) {
                    "socks pass {`n    from: 127.0.0.0/8 to: 127.0.0.0/8 port = $allowed`n    command: connect`n    log: error connect`n}"
                }
            }
            else {
                "socks pass {`n    from: 127.0.0.0/8 to: 127.0.0.0/8`n    command: connect`n    log: error connect`n}"
            }
            $lines = @(
                '# Throw-away dante for SockPS tests: loopback only, no authentication.'
                'logoutput: stderr'
                "internal: 127.0.0.1 port = $port"
                'external: 127.0.0.1'
                'clientmethod: none'
                'socksmethod: none'
            )
            if ($isRoot) {
                $lines += @('user.privileged: root', 'user.unprivileged: nobody')
            }
            $lines += @(
                "client pass {`n    from: 127.0.0.0/8 to: 0.0.0.0/0`n    log: error`n}"
                "client block {`n    from: 0.0.0.0/0 to: 0.0.0.0/0`n    log: error`n}"
                $passRules
                "socks block {`n    from: 0.0.0.0/0 to: 0.0.0.0/0`n    log: error connect`n}"
            )
            Set-Content -LiteralPath $configPath -Value $lines -Encoding utf8NoBOM
            @{ FilePath = $danted; ArgumentList = @('-f', $configPath, '-p', $pidFile) }
        }.GetNewClosure()
        $started = Start-TestDaemon -Prepare $prepare -InUsePattern 'in use' -TimeoutSeconds $TimeoutSeconds `
            -WorkingDirectory $directory
    }
    catch {
        Remove-Item -LiteralPath $directory -Recurse -Force -ErrorAction SilentlyContinue
        throw
    }

    [pscustomobject]@{
        PSTypeName = 'SockPS.Testing.Dante'
        HostName   = '127.0.0.1'
        Port       = $started.Port
        ProcessId  = $started.Process.Id
        Process    = $started.Process
        Uri        = "socks5://127.0.0.1:$($started.Port)"
        Directory  = $directory
        ConfigPath = $configPath
    }
}

function Stop-TestDante {
    <# .SYNOPSIS Stops a Start-TestDante server and its children by process id and removes its folder. #>
    [CmdletBinding()]
    param(
        [Parameter(Mandatory, ValueFromPipeline, Position = 0)]
        [AllowNull()]
        [psobject[]] $Proxy
    )
    process { Stop-TestPeer -Peer $Proxy }
}

function Start-TestHttpProxy {
    <#
    .SYNOPSIS
        Starts tinyproxy (`tinyproxy -d -c <conf>`) on 127.0.0.1 at a free port, an HTTP proxy
        that tunnels with CONNECT; with -UserName and -Password it demands HTTP Basic
        authentication (407 without it).
    .DESCRIPTION
        Allow 127.0.0.1 only. -ConnectPort limits CONNECT to those target ports (403 for any
        other), as tinyproxy's ConnectPort does; without it CONNECT may reach any port. Run as
        root, tinyproxy drops to nobody:nogroup after binding. It logs to its standard streams.
        Returns HostName, Port, ProcessId, Process, UserName, Password, Uri
        (http://127.0.0.1:port), Directory, ConfigPath. Stop it with Stop-TestHttpProxy.
    #>
    [CmdletBinding(DefaultParameterSetName = 'NoAuth')]
    [OutputType([pscustomobject])]
    param(
        [Parameter(Mandatory, ParameterSetName = 'Password')]
        [string] $UserName,

        [Parameter(Mandatory, ParameterSetName = 'Password')]
        [string] $Password,

        [int[]] $ConnectPort,

        [double] $TimeoutSeconds = 30
    )

    $tinyproxy = Get-TestRequiredProgram -Name 'tinyproxy' -Package 'tinyproxy'
    $directory = New-TestPeerDirectory -Prefix 'sockps-tinyproxy-'
    $configPath = Join-Path -Path $directory -ChildPath 'tinyproxy.conf'
    $isRoot = (& id -u) -eq '0'
    try {
        $prepare = {
            param([int] $port)
            $lines = @(
                '# Throw-away tinyproxy for SockPS tests: loopback only.'
                "Port $port"
                'Listen 127.0.0.1'
                'Allow 127.0.0.1'
                'Timeout 60'
                'MaxClients 50'
                'LogLevel Info'
                'DisableViaHeader Yes'
            )
            if ($isRoot) {
                $lines += @('User nobody', 'Group nogroup')
            }
            if ($UserName) {
                $lines += "BasicAuth $UserName $Password"
            }
            foreach ($allowed in @($ConnectPort | Where-Object { $_ })) {
                $lines += "ConnectPort $allowed"
            }
            Set-Content -LiteralPath $configPath -Value $lines -Encoding utf8NoBOM
            @{ FilePath = $tinyproxy; ArgumentList = @('-d', '-c', $configPath) }
        }.GetNewClosure()
        # tinyproxy says only "Could not create listening sockets." when its port is taken.
        $started = Start-TestDaemon -Prepare $prepare -InUsePattern 'in use|Could not create listening sockets' `
            -TimeoutSeconds $TimeoutSeconds -WorkingDirectory $directory
    }
    catch {
        Remove-Item -LiteralPath $directory -Recurse -Force -ErrorAction SilentlyContinue
        throw
    }

    [pscustomobject]@{
        PSTypeName = 'SockPS.Testing.HttpProxy'
        HostName   = '127.0.0.1'
        Port       = $started.Port
        ProcessId  = $started.Process.Id
        Process    = $started.Process
        UserName   = if ($UserName) { $UserName } else { $null }
        Password   = if ($UserName) { $Password } else { $null }
        Uri        = "http://127.0.0.1:$($started.Port)"
        Directory  = $directory
        ConfigPath = $configPath
    }
}

function Stop-TestHttpProxy {
    <# .SYNOPSIS Stops a Start-TestHttpProxy proxy by process id and removes its folder. #>
    [CmdletBinding()]
    param(
        [Parameter(Mandatory, ValueFromPipeline, Position = 0)]
        [AllowNull()]
        [psobject[]] $Proxy
    )
    process { Stop-TestPeer -Peer $Proxy }
}

function Start-TestSshDynamicForward {
    <#
    .SYNOPSIS
        Starts `ssh -N -D 127.0.0.1:<free port>` to a Start-TestSshd server: OpenSSH's own SOCKS
        proxy (SOCKS4, SOCKS4a and SOCKS5, no authentication), whose connections leave from the
        sshd. ExitOnForwardFailure makes a taken port an exit, so it is started again on another.
        Returns HostName, Port, ProcessId, Process, Uri (socks5://127.0.0.1:port), Sshd.
        Stop it with Stop-TestSshDynamicForward (the sshd stays up).
    #>
    [CmdletBinding()]
    [OutputType([pscustomobject])]
    param(
        [Parameter(Mandatory, Position = 0)]
        [psobject] $Sshd,

        [double] $TimeoutSeconds = 30
    )

    $ssh = Get-TestRequiredProgram -Name 'ssh' -Package 'openssh-client'
    $clientArguments = Get-TestSshClientArgument -Sshd $Sshd
    $prepare = {
        param([int] $port)
        @{
            FilePath     = $ssh
            ArgumentList = @($clientArguments) + @('-o', 'ExitOnForwardFailure=yes', '-N', '-D', "127.0.0.1:$port", $Sshd.HostName)
        }
    }.GetNewClosure()
    $started = Start-TestDaemon -Prepare $prepare -InUsePattern 'in use' -TimeoutSeconds $TimeoutSeconds `
        -WorkingDirectory $Sshd.Directory

    [pscustomobject]@{
        PSTypeName = 'SockPS.Testing.SshDynamicForward'
        HostName   = '127.0.0.1'
        Port       = $started.Port
        ProcessId  = $started.Process.Id
        Process    = $started.Process
        Uri        = "socks5://127.0.0.1:$($started.Port)"
        Sshd       = $Sshd
    }
}

function Stop-TestSshDynamicForward {
    <# .SYNOPSIS Stops a Start-TestSshDynamicForward ssh client by process id. #>
    [CmdletBinding()]
    param(
        [Parameter(Mandatory, ValueFromPipeline, Position = 0)]
        [AllowNull()]
        [psobject[]] $Forward
    )
    process { Stop-TestPeer -Peer $Forward }
}

function Start-TestHttpServer {
    <#
    .SYNOPSIS
        Starts `python3 -m http.server` on 127.0.0.1 at a free port, serving a new folder whose
        index.html holds a random token: a target behind a proxy that proves, by that token,
        that the answer came from it. Returns HostName, Port, ProcessId, Process, Directory,
        Token, Url (http://127.0.0.1:port/index.html). Stop it with Stop-TestHttpServer.
    #>
    [CmdletBinding()]
    [OutputType([pscustomobject])]
    param(
        [double] $TimeoutSeconds = 30
    )

    $python = Get-TestPythonPath
    $directory = New-TestPeerDirectory -Prefix 'sockps-http-'
    $token = "sockps-http-$([System.Guid]::NewGuid().ToString('n'))"
    Set-Content -LiteralPath (Join-Path -Path $directory -ChildPath 'index.html') -Value $token -Encoding utf8NoBOM -NoNewline
    try {
        # http.server binds port 0 itself and prints the port it got: no race to lose.
        $process = Start-TestProcess -FilePath $python -ArgumentList @(
            '-u', '-m', 'http.server', '0', '--bind', '127.0.0.1', '--directory', $directory) -WorkingDirectory $directory
        try {
            $match = Wait-TestProcessLine -Process $process -Pattern 'Serving HTTP on \S+ port (\d+)' -TimeoutSeconds $TimeoutSeconds
        }
        catch {
            Stop-TestProcess -Process $process
            throw
        }
    }
    catch {
        Remove-Item -LiteralPath $directory -Recurse -Force -ErrorAction SilentlyContinue
        throw
    }

    $port = [int]$match.Groups[1].Value
    [pscustomobject]@{
        PSTypeName = 'SockPS.Testing.HttpServer'
        HostName   = '127.0.0.1'
        Port       = $port
        ProcessId  = $process.Id
        Process    = $process
        Directory  = $directory
        Token      = $token
        Url        = "http://127.0.0.1:$port/index.html"
    }
}

function Stop-TestHttpServer {
    <# .SYNOPSIS Stops a Start-TestHttpServer server by process id and removes its folder. #>
    [CmdletBinding()]
    param(
        [Parameter(Mandatory, ValueFromPipeline, Position = 0)]
        [AllowNull()]
        [psobject[]] $Server
    )
    process { Stop-TestPeer -Peer $Server }
}

Export-ModuleMember -Function @(
    'Get-TestFreePort'
    'Get-TestListeningEndPoint'
    'Get-TestPwshExecutable'
    'Start-TestSshd'
    'Stop-TestSshd'
    'Get-TestSshClientArgument'
    'Get-TestSshSessionOption'
    'Start-TestSocksProxy'
    'Stop-TestSocksProxy'
    'Start-TestDante'
    'Stop-TestDante'
    'Start-TestHttpProxy'
    'Stop-TestHttpProxy'
    'Start-TestSshDynamicForward'
    'Stop-TestSshDynamicForward'
    'Start-TestHttpServer'
    'Stop-TestHttpServer'
    'Stop-TestPeer'
    'Read-TestBanner'
)
