#Requires -Version 7.4
<#
    Helpers for the integration suite (tests/integration): real Debian daemons started by the test
    on loopback, each with a throw-away configuration in a temporary folder, stopped by process id.
    Built on tests/pester/SockPS.TestHelpers.psm1 (Start-TestProcess, Wait-TestProcessLine,
    Wait-TestCondition, Stop-TestProcess), which this module imports.

    Generic pieces, for any server (MailServers.psm1, written alongside, has its own versions of
    some of them today; these are meant to serve it too):

    New-TestTempFolder        a fresh folder under the temp path, mode 0755 so daemons that drop
                              to another user can still read their configuration
    Get-TestFreePort          a loopback port free a moment ago (TCP, UDP or both), for daemons
                              that cannot take port 0 and report it
    Test-TestPortFree         whether a loopback port can be bound right now
    Wait-TestPort             a bounded wait until a TCP port accepts (and, on Linux, is the
                              daemon's: Test-TestPortOwner); fails early, with the daemon's
                              output, when the daemon exits first
    Start-TestDaemon          starts a daemon on a free port and waits until it is ready; when it
                              dies because the port was taken in between, tries another (bounded)
    Stop-TestServer           stops a server object's processes by id, removes its user and
                              its folder; safe to call twice and with $null
    Test-TestRoot             whether this process runs as root (user accounts, privileged daemons)
    New-TestUser / Remove-TestUser
                              a throw-away local account with a random password (needs root)
    New-TestServerCertificate a private CA and a localhost certificate made by openssl at run time

    One Start-/Stop- pair per server, each returning [pscustomobject] with at least Name, Port,
    ProcessId, Process, Folder (and UserName, Password, Credential where there is a login):

    Start-TestNginx / Stop-TestNginx             HTTP, files served from Folder/www
    Start-TestVsftpd / Stop-TestVsftpd           FTP, anonymous, files from Folder/ftp (root)
    Start-TestInn / Stop-TestInn                 NNTP, INN 2.7 with a private inn.conf (INNCONF)
    Publish-TestInnArticle                       posts an article with INN's own inews
    Start-TestTelnetd / Stop-TestTelnetd         Telnet, inetutils telnetd under socat (root)
    Start-TestGophernicus / Stop-TestGophernicus Gopher, gophernicus under socat
    Start-TestDnsmasq / Stop-TestDnsmasq         DNS over UDP (and TCP), fixed answers
    Start-TestSyslogReceiver / Stop-TestSyslogReceiver
                                                 socat UDP-RECV or UNIX-RECV writing to a file
    Wait-TestFileContent                         a bounded wait until a file holds some text

    Every wait is bounded; nothing sleeps to synchronise. Daemons that fork per connection
    (vsftpd, innd's nnrpd, socat's children) are stopped with their whole process tree.
#>
Set-StrictMode -Version Latest

# The same instance the test file imported (no -Force: -Force would load a second copy with a
# second list of started processes, and Stop-TestProcess -All would miss ours).
Import-Module "$PSScriptRoot/../pester/SockPS.TestHelpers.psm1"

# How often Start-TestDaemon tries another port when the one it picked was taken in between.
$script:PortAttempts = 3

#region Generic helpers

function New-TestTempFolder {
    <#
    .SYNOPSIS
        Creates a fresh, empty folder under the temp path and returns its full path.
    .DESCRIPTION
        Mode 0755 (where the platform has Unix modes), so a daemon that drops to another user
        (nobody, news, ftp) can still reach its configuration and content inside.
    #>
    [CmdletBinding()]
    [OutputType([string])]
    param(
        # A prefix for the folder's name, so a left-over folder says who made it.
        [string] $Prefix = 'sockps-it-'
    )

    $folder = [System.IO.Directory]::CreateTempSubdirectory($Prefix).FullName
    if (-not $IsWindows) {
        [System.IO.File]::SetUnixFileMode($folder, [System.IO.UnixFileMode]'UserRead, UserWrite, UserExecute, GroupRead, GroupExecute, OtherRead, OtherExecute')
    }
    $folder
}

function Test-TestPortFree {
    <#
    .SYNOPSIS
        True when -Port can be bound on 127.0.0.1 right now (for TCP, UDP, or both).
    #>
    [CmdletBinding()]
    [OutputType([bool])]
    param(
        [Parameter(Mandatory)]
        [int] $Port,

        [ValidateSet('Tcp', 'Udp', 'Both')]
        [string] $Protocol = 'Tcp'
    )

    $kinds = [System.Collections.Generic.List[object]]::new()
    if ($Protocol -ne 'Udp') { $kinds.Add(@('Stream', 'Tcp')) }
    if ($Protocol -ne 'Tcp') { $kinds.Add(@('Dgram', 'Udp')) }
    foreach ($kind in $kinds) {
        $socket = [System.Net.Sockets.Socket]::new('InterNetwork', $kind[0], $kind[1])
        try {
            $socket.Bind([System.Net.IPEndPoint]::new([System.Net.IPAddress]::Loopback, $Port))
        }
        catch [System.Net.Sockets.SocketException] {
            return $false
        }
        finally {
            $socket.Dispose()
        }
    }
    $true
}

function Get-TestFreePort {
    <#
    .SYNOPSIS
        A port on 127.0.0.1 that was free a moment ago: bound on port 0, read, released.
    .DESCRIPTION
        Only for daemons that cannot bind port 0 and report the port they got. Another process
        can take the port before the daemon binds it, so start daemons with Start-TestDaemon,
        which tries another port then. -Protocol Both gives a port free for TCP and UDP alike
        (dnsmasq binds both).
    #>
    [CmdletBinding()]
    [OutputType([int])]
    param(
        [ValidateSet('Tcp', 'Udp', 'Both')]
        [string] $Protocol = 'Tcp'
    )

    for ($attempt = 1; $attempt -le 20; $attempt++) {
        $kind = if ($Protocol -eq 'Udp') { @('Dgram', 'Udp') } else { @('Stream', 'Tcp') }
        $socket = [System.Net.Sockets.Socket]::new('InterNetwork', $kind[0], $kind[1])
        try {
            $socket.Bind([System.Net.IPEndPoint]::new([System.Net.IPAddress]::Loopback, 0))
            $port = ([System.Net.IPEndPoint]$socket.LocalEndPoint).Port
        }
        finally {
            $socket.Dispose()
        }
        if ($Protocol -ne 'Both' -or (Test-TestPortFree -Port $port -Protocol Udp)) {
            return $port
        }
    }
    throw 'Get-TestFreePort: found no port free for both TCP and UDP in 20 tries.'
}

function Test-TestPortOwner {
    <#
    .SYNOPSIS
        On Linux: true when the TCP socket listening on -Port belongs to -ProcessId or one of its
        children (the socket's inode in /proc/net/tcp*, found among the process's open files).
        Elsewhere, and when the process's open files cannot be listed: true (no cheap way to
        tell).
    .DESCRIPTION
        A port that accepts connections is not proof that the daemon listens: when another
        process took the port between Get-TestFreePort and the daemon's bind, the connection
        reaches that process while the daemon dies of "address in use".
    #>
    [CmdletBinding()]
    [OutputType([bool])]
    param(
        [Parameter(Mandatory)]
        [int] $Port,

        [Parameter(Mandatory)]
        [int] $ProcessId
    )

    if (-not $IsLinux) {
        return $true
    }
    # /proc/net/tcp: "sl local_address rem_address st ... inode"; the port is hex after the
    # colon, st 0A is LISTEN, the inode is the tenth field.
    $portHex = ':{0:X4}' -f $Port
    $inodes = foreach ($table in '/proc/net/tcp', '/proc/net/tcp6') {
        if (-not (Test-Path -LiteralPath $table)) { continue }
        foreach ($line in [System.IO.File]::ReadAllLines($table) | Select-Object -Skip 1) {
            $fields = $line.Trim() -split '\s+'
            if ($fields.Count -ge 10 -and $fields[1].EndsWith($portHex) -and $fields[3] -eq '0A') {
                "socket:[$($fields[9])]"
            }
        }
    }
    if (-not $inodes) {
        return $false
    }

    $processIds = [System.Collections.Generic.List[int]]::new()
    $processIds.Add($ProcessId)
    for ($i = 0; $i -lt $processIds.Count; $i++) {
        foreach ($children in Get-Item -Path "/proc/$($processIds[$i])/task/*/children" -ErrorAction SilentlyContinue) {
            foreach ($child in ([System.IO.File]::ReadAllText($children.FullName) -split '\s+' | Where-Object { $_ })) {
                $processIds.Add([int]$child)
            }
        }
    }
    $unreadable = $false
    foreach ($id in $processIds) {
        $descriptors = Get-ChildItem -LiteralPath "/proc/$id/fd" -ErrorAction SilentlyContinue -ErrorVariable denied
        # A daemon that switched to another user is not dumpable: without CAP_SYS_PTRACE (a
        # container's root often lacks it) its open files cannot be listed.
        # (A process that has just exited is not found: that is no reason to doubt.)
        if ($denied | Where-Object { $_.Exception -is [System.UnauthorizedAccessException] -or $_.CategoryInfo.Category -eq 'PermissionDenied' }) {
            $unreadable = $true
        }
        foreach ($descriptor in $descriptors) {
            if ($descriptor.LinkTarget -in $inodes) {
                return $true
            }
        }
    }
    # Cannot tell: trust the connection, as without this check.
    $unreadable
}

function Wait-TestPort {
    <#
    .SYNOPSIS
        Waits, at most -TimeoutSeconds, until a TCP connection to -ComputerName:-Port succeeds
        (and, with -Process, on Linux, until the listening socket is that process's). Throws when
        it does not, or as soon as -Process exits, with the process's output.
    .DESCRIPTION
        Between attempts it waits on the process's exit (25 ms at most), so a daemon that dies
        at start-up fails the wait at once instead of after the whole timeout.
    #>
    [CmdletBinding()]
    param(
        [Parameter(Mandatory)]
        [int] $Port,

        [string] $ComputerName = '127.0.0.1',

        # The daemon that should be listening; its exit ends the wait early.
        [SockPS.Testing.TestProcess] $Process,

        [ValidateRange(0.1, 600)]
        [double] $TimeoutSeconds = 30
    )

    $clock = [System.Diagnostics.Stopwatch]::StartNew()
    $pace = [System.Threading.ManualResetEventSlim]::new($false)
    try {
        while ($true) {
            $client = [System.Net.Sockets.TcpClient]::new()
            try {
                $connect = $client.ConnectAsync($ComputerName, $Port)
                if ($connect.Wait(2000) -and $client.Connected -and
                    (-not $Process -or (Test-TestPortOwner -Port $Port -ProcessId $Process.Id))) {
                    return
                }
            }
            catch {
                # Refused: not listening yet.
                $null = $_
            }
            finally {
                $client.Dispose()
            }

            if ($Process) {
                if ($Process.WaitForExit([timespan]::FromMilliseconds(25))) {
                    throw "Wait-TestPort: the daemon exited (code $($Process.Process.ExitCode)) before port $Port accepted connections.`n$($Process.Transcript())"
                }
            }
            else {
                $null = $pace.Wait(25)
            }

            if ($clock.Elapsed.TotalSeconds -ge $TimeoutSeconds) {
                $output = if ($Process) { "`n$($Process.Transcript())" } else { '' }
                throw "Wait-TestPort: nothing accepted connections on ${ComputerName}:$Port within $TimeoutSeconds s.$output"
            }
        }
    }
    finally {
        $pace.Dispose()
    }
}

function Start-TestDaemon {
    <#
    .SYNOPSIS
        Starts a daemon on a free loopback port and waits until it is ready; returns
        [pscustomobject]@{ Port; Process }.
    .DESCRIPTION
        -ArgumentList is a script block that gets the port, writes whatever configuration needs
        it, and returns the daemon's arguments. Ready means the TCP port accepts connections, or,
        with -ReadyPattern, that a line of the daemon's output matches (for UDP-only daemons).
        The readiness check connects and closes at once: a daemon that serves only one
        connection (socat without fork) has to be made ready another way (-ReadyPattern).
        When the daemon ends before it is ready and the port is taken (the port was free when
        picked, and someone bound it in between) or its output says the address is in use, it is
        started again on another port, at most three times in all.
    #>
    [CmdletBinding()]
    [OutputType([pscustomobject])]
    param(
        [Parameter(Mandatory)]
        [string] $FilePath,

        [Parameter(Mandatory)]
        [scriptblock] $ArgumentList,

        [ValidateSet('Tcp', 'Udp', 'Both')]
        [string] $PortProtocol = 'Tcp',

        # A regular expression for the line that says the daemon is ready, instead of a TCP
        # connect (which a UDP-only daemon never accepts).
        [string] $ReadyPattern,

        [ValidateSet('Output', 'Error', 'Any')]
        [string] $ReadyStream = 'Any',

        # Ports to try before free ones (the tests use it to provoke a taken port).
        [int[]] $Port = @(),

        [hashtable] $Environment = @{},

        [string] $WorkingDirectory = [System.IO.Path]::GetTempPath(),

        [double] $TimeoutSeconds = 30
    )

    for ($attempt = 1; ; $attempt++) {
        $candidate = if ($attempt -le $Port.Count) { $Port[$attempt - 1] } else { Get-TestFreePort -Protocol $PortProtocol }
        $arguments = [string[]]@(& $ArgumentList $candidate)
        $process = Start-TestProcess -FilePath $FilePath -ArgumentList $arguments -Environment $Environment `
            -WorkingDirectory $WorkingDirectory
        try {
            if ($ReadyPattern) {
                $null = Wait-TestProcessLine -Process $process -Pattern $ReadyPattern -Stream $ReadyStream -TimeoutSeconds $TimeoutSeconds
            }
            else {
                Wait-TestPort -Port $candidate -Process $process -TimeoutSeconds $TimeoutSeconds
            }
            return [pscustomobject]@{
                PSTypeName = 'SockPS.Testing.Daemon'
                Port       = $candidate
                Process    = $process
            }
        }
        catch {
            $failure = $_
            $exited = $process.WaitForExit([timespan]::FromSeconds(5))
            $output = @($process.OutputLines) + @($process.ErrorLines)
            $inUse = $exited -and (
                ($output -match '(?i)address (already )?in use') -or
                -not (Test-TestPortFree -Port $candidate -Protocol $PortProtocol))
            Stop-TestProcess -Process $process
            if (-not $inUse -or $attempt -ge $script:PortAttempts) {
                throw $failure
            }
            Write-Verbose "Port $candidate was taken before $FilePath could bind it; trying another."
        }
    }
}

function Stop-TestServer {
    <#
    .SYNOPSIS
        Stops what a Start-Test* function started: kills its processes by id (with their
        children), removes its throw-away user and deletes its folder. Safe to call twice and
        with $null, for AfterAll.
    #>
    [CmdletBinding()]
    param(
        [Parameter(ValueFromPipeline)]
        [AllowNull()]
        [object] $Server
    )

    process {
        if ($null -eq $Server) {
            return
        }
        $properties = $Server.PSObject.Properties
        if ($properties['Process'] -and $Server.Process) {
            # TestProcess.Kill: Process.Kill(entireProcessTree) on the process id it started.
            Stop-TestProcess -Process $Server.Process
        }
        if ($properties['UserName'] -and $properties['RemoveUser'] -and $Server.RemoveUser -and $Server.UserName) {
            Remove-TestUser -UserName $Server.UserName
        }
        if ($properties['Folder'] -and $Server.Folder -and (Test-Path -LiteralPath $Server.Folder)) {
            Remove-Item -LiteralPath $Server.Folder -Recurse -Force
        }
    }
}

function Test-TestRoot {
    <#
    .SYNOPSIS
        True when this process runs as root (uid 0): needed to add users, for /bin/login, and for
        daemons that insist on starting as root and dropping privileges (innd, vsftpd).
    #>
    [CmdletBinding()]
    [OutputType([bool])]
    param()

    if ($IsWindows) {
        return $false
    }
    (& id -u) -eq '0'
}

function New-TestUser {
    <#
    .SYNOPSIS
        Adds a throw-away local user with a random password (useradd, chpasswd); returns
        [pscustomobject]@{ UserName; Password; Credential; Home }. Needs root.
    .DESCRIPTION
        The name is sockps-<random>, the group the system default, the shell /bin/sh, the home
        -HomeDirectory (created and given to the user). Remove it with Remove-TestUser.
    #>
    [CmdletBinding()]
    [OutputType([pscustomobject])]
    param(
        [Parameter(Mandatory)]
        [string] $HomeDirectory,

        [string] $Prefix = 'sockps-'
    )

    if (-not (Test-TestRoot)) {
        throw 'New-TestUser: adding a user needs root.'
    }
    $alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789'
    $suffix = -join (1..8 | ForEach-Object { $alphabet[[System.Security.Cryptography.RandomNumberGenerator]::GetInt32($alphabet.Length)] })
    $userName = "$Prefix$suffix"
    $password = -join (1..20 | ForEach-Object { $alphabet[[System.Security.Cryptography.RandomNumberGenerator]::GetInt32($alphabet.Length)] })

    $output = & useradd --no-create-home --no-user-group --home-dir $HomeDirectory --shell /bin/sh $userName 2>&1
    if ($LASTEXITCODE -ne 0) {
        throw "New-TestUser: useradd $userName failed ($LASTEXITCODE): $output"
    }
    try {
        $output = "${userName}:$password" | & chpasswd 2>&1
        if ($LASTEXITCODE -ne 0) {
            throw "New-TestUser: chpasswd for $userName failed ($LASTEXITCODE): $output"
        }
        $null = New-Item -ItemType Directory -Path $HomeDirectory -Force
        & chown $userName $HomeDirectory
        if ($LASTEXITCODE -ne 0) {
            throw "New-TestUser: chown $userName $HomeDirectory failed ($LASTEXITCODE)."
        }
    }
    catch {
        Remove-TestUser -UserName $userName
        throw
    }

    [pscustomobject]@{
        PSTypeName = 'SockPS.Testing.User'
        UserName   = $userName
        Password   = $password
        Credential = [pscredential]::new($userName, (ConvertTo-SecureString -String $password -AsPlainText -Force))
        Home       = $HomeDirectory
    }
}

function Remove-TestUser {
    <#
    .SYNOPSIS
        Deletes a user made by New-TestUser (userdel; the home folder is the caller's). Only
        names New-TestUser makes are accepted, so a typo cannot delete a real account.
    #>
    [CmdletBinding()]
    param(
        [Parameter(Mandatory)]
        [ValidatePattern('^sockps-[a-z0-9]{8}$')]
        [string] $UserName
    )

    $null = & getent passwd $UserName
    if ($LASTEXITCODE -ne 0) {
        return
    }
    $output = & userdel $UserName 2>&1
    if ($LASTEXITCODE -ne 0) {
        throw "Remove-TestUser: userdel $UserName failed ($LASTEXITCODE): $output"
    }
}

function New-TestServerCertificate {
    <#
    .SYNOPSIS
        Makes, with openssl at run time, a private CA and a server certificate it signs (EC P-256,
        CN and SAN localhost, 127.0.0.1, ::1), and returns the paths:
        [pscustomobject]@{ CaPath; CertificatePath; KeyPath; ChainPath }.
    .DESCRIPTION
        ChainPath holds the server certificate followed by the CA (what most daemons want as
        their certificate file). Keys are unencrypted PEM, mode 0644 so a daemon that has
        already dropped privileges can read them: they are throw-away, in a throw-away folder.
        Trust the CA on the client side with -CaCertificate CaPath.
    #>
    [CmdletBinding()]
    [OutputType([pscustomobject])]
    param(
        [Parameter(Mandatory)]
        [string] $Directory,

        [string] $CommonName = 'localhost',

        [string[]] $SubjectAlternativeName = @('DNS:localhost', 'IP:127.0.0.1', 'IP:::1')
    )

    $null = New-Item -ItemType Directory -Path $Directory -Force
    $ca = Join-Path $Directory 'ca.pem'
    $caKey = Join-Path $Directory 'ca.key'
    $key = Join-Path $Directory 'server.key'
    $request = Join-Path $Directory 'server.csr'
    $certificate = Join-Path $Directory 'server.pem'
    $chain = Join-Path $Directory 'server-chain.pem'
    $extensions = Join-Path $Directory 'server.ext'
    Set-Content -LiteralPath $extensions -Value @(
        'basicConstraints = critical, CA:FALSE'
        'keyUsage = critical, digitalSignature'
        'extendedKeyUsage = serverAuth'
        "subjectAltName = $($SubjectAlternativeName -join ', ')"
    )

    $steps = @(
        , @('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', $caKey,
            '-out', $ca, '-days', '2', '-subj', '/CN=SockPS Integration Test CA',
            '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign')
        , @('req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', $key,
            '-out', $request, '-subj', "/CN=$CommonName")
        , @('x509', '-req', '-in', $request, '-CA', $ca, '-CAkey', $caKey, '-CAcreateserial', '-days', '2',
            '-extfile', $extensions, '-out', $certificate)
    )
    foreach ($step in $steps) {
        $output = & openssl @step 2>&1
        if ($LASTEXITCODE -ne 0) {
            throw "New-TestServerCertificate: openssl $($step[0]) failed ($LASTEXITCODE): $output"
        }
    }
    Set-Content -LiteralPath $chain -Value ((Get-Content -LiteralPath $certificate -Raw) + (Get-Content -LiteralPath $ca -Raw)) -NoNewline
    if (-not $IsWindows) {
        [System.IO.File]::SetUnixFileMode($key, [System.IO.UnixFileMode]'UserRead, UserWrite, GroupRead, OtherRead')
    }

    [pscustomobject]@{
        PSTypeName      = 'SockPS.Testing.ServerCertificate'
        CaPath          = $ca
        CertificatePath = $certificate
        KeyPath         = $key
        ChainPath       = $chain
    }
}

function Wait-TestFileContent {
    <#
    .SYNOPSIS
        Waits, at most -TimeoutSeconds, until the file exists and its text matches -Pattern;
        returns the text. Throws with what the file held when it does not.
    #>
    [CmdletBinding()]
    [OutputType([string])]
    param(
        [Parameter(Mandatory)]
        [string] $Path,

        [Parameter(Mandatory)]
        [string] $Pattern,

        [double] $TimeoutSeconds = 20
    )

    $read = {
        if (Test-Path -LiteralPath $Path) { [System.IO.File]::ReadAllText($Path) } else { $null }
    }
    try {
        Wait-TestCondition -Description "text matching /$Pattern/ in $Path" -TimeoutSeconds $TimeoutSeconds -Condition {
            $text = & $read
            $null -ne $text -and $text -match $Pattern
        }
    }
    catch {
        throw "$_ The file held: $(& $read | ConvertTo-Json)"
    }
    & $read
}

function New-TestServerObject {
    # The object every Start-Test* function returns; extra properties are added by the caller.
    param(
        [Parameter(Mandatory)] [string] $Name,
        [int] $Port,
        [SockPS.Testing.TestProcess] $Process,
        [Parameter(Mandatory)] [string] $Folder
    )

    [pscustomobject]@{
        PSTypeName = 'SockPS.Testing.Server'
        Name       = $Name
        ComputerName = '127.0.0.1'
        Port       = $Port
        ProcessId  = if ($Process) { $Process.Id } else { 0 }
        Process    = $Process
        Folder     = $Folder
        UserName   = $null
        Password   = $null
        Credential = $null
        RemoveUser = $false
    }
}

function Write-TestFiles {
    # Writes -Files (relative path -> string or byte[]) under -Root, readable by everyone.
    param(
        [Parameter(Mandatory)] [string] $Root,
        [hashtable] $Files = @{}
    )

    $null = New-Item -ItemType Directory -Path $Root -Force
    foreach ($relative in $Files.Keys) {
        $path = Join-Path $Root ($relative.TrimStart('/'))
        $null = New-Item -ItemType Directory -Path (Split-Path $path -Parent) -Force
        $content = $Files[$relative]
        if ($content -is [byte[]]) {
            [System.IO.File]::WriteAllBytes($path, $content)
        }
        else {
            [System.IO.File]::WriteAllText($path, [string]$content)
        }
    }
    if (-not $IsWindows) {
        & chmod -R 'a+rX' $Root
    }
}

#endregion

#region nginx (HTTP)

function Start-TestNginx {
    <#
    .SYNOPSIS
        Starts nginx on a free loopback port, serving -Files from Folder/www, in the foreground
        with one process (master_process off), logging to its stderr.
    #>
    [CmdletBinding()]
    [OutputType([pscustomobject])]
    param(
        # Relative path -> content (string or byte[]).
        [hashtable] $Files = @{ 'index.html' = "Hello from nginx`n" }
    )

    $folder = New-TestTempFolder -Prefix 'sockps-nginx-'
    try {
        $www = Join-Path $folder 'www'
        Write-TestFiles -Root $www -Files $Files
        $null = New-Item -ItemType Directory -Path (Join-Path $folder 'tmp')
        $configuration = Join-Path $folder 'nginx.conf'
        $daemon = Start-TestDaemon -FilePath 'nginx' -WorkingDirectory $folder -ArgumentList {
            param($Port)
            Set-Content -LiteralPath $configuration -Value @"
daemon off;
master_process off;
pid $folder/nginx.pid;
error_log stderr notice;
events { worker_connections 64; }
http {
    access_log off;
    client_body_temp_path $folder/tmp/body;
    proxy_temp_path $folder/tmp/proxy;
    fastcgi_temp_path $folder/tmp/fastcgi;
    uwsgi_temp_path $folder/tmp/uwsgi;
    scgi_temp_path $folder/tmp/scgi;
    types { text/html html; text/plain txt; application/octet-stream bin; }
    default_type application/octet-stream;
    server {
        listen 127.0.0.1:$Port;
        server_name localhost;
        root $www;
    }
}
"@
            '-p', $folder, '-c', $configuration, '-e', 'stderr'
        }
    }
    catch {
        Remove-Item -LiteralPath $folder -Recurse -Force
        throw
    }

    $server = New-TestServerObject -Name 'nginx' -Port $daemon.Port -Process $daemon.Process -Folder $folder
    $server | Add-Member -NotePropertyName Root -NotePropertyValue $www -PassThru
}

function Stop-TestNginx {
    [CmdletBinding()]
    param([Parameter(ValueFromPipeline)] [AllowNull()] [object] $Server)
    process { Stop-TestServer -Server $Server }
}

#endregion

#region vsftpd (FTP)

function Start-TestVsftpd {
    <#
    .SYNOPSIS
        Starts vsftpd (standalone, foreground) on a free loopback port: anonymous read-only
        login (any password) to Folder/ftp, passive mode on 127.0.0.1, active mode off. Needs
        root (vsftpd chroots the anonymous session) and the ftp account Debian's package adds.
    .DESCRIPTION
        With -Certificate (what New-TestServerCertificate returns), vsftpd also offers explicit
        TLS (AUTH TLS, RFC 4217) with that certificate, for anonymous sessions too, without
        requiring it; without, it answers AUTH TLS as an unknown command before login.
    #>
    [CmdletBinding()]
    [OutputType([pscustomobject])]
    param(
        [hashtable] $Files = @{ 'readme.txt' = "Hello from vsftpd`n" },

        [pscustomobject] $Certificate
    )

    if (-not (Test-TestRoot)) {
        throw 'Start-TestVsftpd: vsftpd chroots the anonymous session, which needs root; run the suite as root.'
    }
    $folder = New-TestTempFolder -Prefix 'sockps-vsftpd-'
    try {
        $root = Join-Path $folder 'ftp'
        Write-TestFiles -Root $root -Files $Files
        # vsftpd refuses a chroot the session user can write to, and wants an empty,
        # root-owned directory for its unprivileged processes.
        $empty = Join-Path $folder 'empty'
        $null = New-Item -ItemType Directory -Path $empty
        & chmod 0755 $root $empty
        $configuration = Join-Path $folder 'vsftpd.conf'
        # vsftpd's default ssl_ciphers (DES-CBC3-SHA) is one OpenSSL 3 no longer offers.
        $tls = if ($Certificate) {
            @"
ssl_enable=YES
rsa_cert_file=$($Certificate.CertificatePath)
rsa_private_key_file=$($Certificate.KeyPath)
ssl_ciphers=HIGH
allow_anon_ssl=YES
force_anon_logins_ssl=NO
force_anon_data_ssl=NO
require_ssl_reuse=NO
"@
        }
        else {
            'ssl_enable=NO'
        }
        $daemon = Start-TestDaemon -FilePath 'vsftpd' -WorkingDirectory $folder -ArgumentList {
            param($Port)
            Set-Content -LiteralPath $configuration -Value @"
listen=YES
listen_ipv6=NO
listen_address=127.0.0.1
listen_port=$Port
background=NO
anonymous_enable=YES
no_anon_password=NO
anon_root=$root
ftp_username=ftp
local_enable=NO
write_enable=NO
pasv_enable=YES
pasv_address=127.0.0.1
port_enable=NO
secure_chroot_dir=$empty
seccomp_sandbox=NO
xferlog_enable=YES
vsftpd_log_file=$folder/vsftpd.log
syslog_enable=NO
$tls
"@
            $configuration
        }
    }
    catch {
        Remove-Item -LiteralPath $folder -Recurse -Force
        throw
    }

    $server = New-TestServerObject -Name 'vsftpd' -Port $daemon.Port -Process $daemon.Process -Folder $folder
    $server.UserName = 'anonymous'
    $server.Password = 'sockps@example.test'
    $server.Credential = [pscredential]::new('anonymous', (ConvertTo-SecureString -String $server.Password -AsPlainText -Force))
    $server | Add-Member -NotePropertyName Root -NotePropertyValue $root -PassThru
}

function Stop-TestVsftpd {
    [CmdletBinding()]
    param([Parameter(ValueFromPipeline)] [AllowNull()] [object] $Server)
    process { Stop-TestServer -Server $Server }
}

#endregion

#region INN (NNTP)

function Start-TestInn {
    <#
    .SYNOPSIS
        Starts INN's innd (foreground, -d) on a free loopback port with a private inn.conf (the
        INNCONF environment variable points innd, nnrpd, makedbz and inews at it), an empty
        history made by makedbz, and the groups -Group in its active file. Readers from
        loopback may read and post (readers.conf); innd hands them to nnrpd. Needs root: innd
        starts as root and becomes the news user, which owns Folder.
    #>
    [CmdletBinding()]
    [OutputType([pscustomobject])]
    param(
        [string[]] $Group = @('local.test')
    )

    if (-not (Test-TestRoot)) {
        throw 'Start-TestInn: innd starts as root and becomes the news user; run the suite as root.'
    }
    $innBin = '/usr/lib/news/bin'
    $folder = New-TestTempFolder -Prefix 'sockps-inn-'
    try {
        $paths = [ordered]@{}
        foreach ($name in 'etc', 'db', 'spool', 'articles', 'overview', 'incoming', 'tmp', 'outgoing', 'archive', 'log', 'run', 'http', 'filter') {
            $paths[$name] = Join-Path $folder $name
            $null = New-Item -ItemType Directory -Path $paths[$name]
        }
        $innConf = Join-Path $paths.etc 'inn.conf'
        $active = @('control 0000000000 0000000001 n', 'control.cancel 0000000000 0000000001 n', 'junk 0000000000 0000000001 n') +
            @($Group | ForEach-Object { "$_ 0000000000 0000000001 y" })
        Set-Content -LiteralPath (Join-Path $paths.db 'active') -Value $active
        Set-Content -LiteralPath (Join-Path $paths.db 'newsgroups') -Value @($Group | ForEach-Object { "$_`tSockPS integration test group" })
        Set-Content -LiteralPath (Join-Path $paths.db 'active.times') -Value @() -NoNewline
        Set-Content -LiteralPath (Join-Path $paths.db 'history') -Value @() -NoNewline
        Set-Content -LiteralPath (Join-Path $paths.etc 'newsfeeds') -Value 'ME:*,!junk,!control,!control.*::'
        # No peers: every connection is a reader and goes to nnrpd.
        Set-Content -LiteralPath (Join-Path $paths.etc 'incoming.conf') -Value 'max-connections: 8'
        Set-Content -LiteralPath (Join-Path $paths.etc 'readers.conf') -Value @'
auth "local" {
    hosts: "127.0.0.1, localhost, ::1, stdin"
    default: "<local>"
}
access "local" {
    users: "<local>"
    newsgroups: "*"
    access: RPA
}
'@
        Set-Content -LiteralPath (Join-Path $paths.etc 'storage.conf') -Value "method tradspool {`n    newsgroups: *`n    class: 0`n}"
        Set-Content -LiteralPath (Join-Path $paths.etc 'expire.ctl') -Value @('/remember/:11', '*:A:1:10:never')

        $writeConfiguration = {
            param($Port)
            Set-Content -LiteralPath $innConf -Value @"
domain: sockps.test
pathhost: sockps.test
organization: "SockPS integration test"
server: 127.0.0.1
port: $Port
bindaddress: 127.0.0.1
nnrpdpostport: $Port
ovmethod: tradindexed
hismethod: hisv6
enableoverview: true
pgpverify: false
docancels: none
nnrpdloadlimit: 0
mta: "/bin/false %s"
pathnews: /usr/lib/news
pathbin: $innBin
pathcontrol: $innBin/control
pathfilter: $($paths.filter)
pathetc: $($paths.etc)
pathdb: $($paths.db)
pathspool: $($paths.spool)
patharticles: $($paths.articles)
pathoverview: $($paths.overview)
pathincoming: $($paths.incoming)
pathtmp: $($paths.tmp)
pathoutgoing: $($paths.outgoing)
patharchive: $($paths.archive)
pathlog: $($paths.log)
pathrun: $($paths.run)
pathhttp: $($paths.http)
"@
            & chown -R news:news $folder
            if ($LASTEXITCODE -ne 0) { throw "chown -R news:news $folder failed ($LASTEXITCODE)." }
        }

        # The history database: makedbz over the empty history file, as the news user.
        & $writeConfiguration 119
        $makedbz = Start-TestProcess -FilePath 'setpriv' -WorkingDirectory $paths.db -Environment @{ INNCONF = $innConf } -ArgumentList @(
            '--reuid=news', '--regid=news', '--init-groups', "$innBin/makedbz", '-i', '-o')
        if ((Wait-TestProcessExit -Process $makedbz -TimeoutSeconds 60) -ne 0) {
            throw "makedbz failed.`n$($makedbz.Transcript())"
        }
        Stop-TestProcess -Process $makedbz

        $daemon = Start-TestDaemon -FilePath "$innBin/innd" -WorkingDirectory $paths.db -Environment @{ INNCONF = $innConf; HOME = $folder } -ArgumentList {
            param($Port)
            & $writeConfiguration $Port
            '-d'
        }
    }
    catch {
        Remove-Item -LiteralPath $folder -Recurse -Force
        throw
    }

    $server = New-TestServerObject -Name 'innd' -Port $daemon.Port -Process $daemon.Process -Folder $folder
    $server | Add-Member -NotePropertyMembers @{ Group = $Group; InnConf = $innConf } -PassThru
}

function Publish-TestInnArticle {
    <#
    .SYNOPSIS
        Posts an article to a Start-TestInn server with INN's own inews (through nnrpd, as a
        reader would), and returns [pscustomobject]@{ MessageId; Subject; Group; Body }.
    #>
    [CmdletBinding()]
    [OutputType([pscustomobject])]
    param(
        [Parameter(Mandatory)]
        [object] $Server,

        [Parameter(Mandatory)]
        [string] $Subject,

        [string] $Body = "Posted by the SockPS integration suite.`n",

        [string] $Group = $Server.Group[0],

        [string] $From = 'SockPS Test <test@sockps.test>'
    )

    $messageId = "<sockps.$([guid]::NewGuid().ToString('n'))@sockps.test>"
    $article = "From: $From`nNewsgroups: $Group`nSubject: $Subject`nMessage-ID: $messageId`n`n$Body"
    # HOME: inews keeps an article it could not post in ~/dead.article; keep that in the folder.
    $inews = Start-TestProcess -FilePath '/usr/lib/news/bin/inews' -ArgumentList @('-h', '-p', [string]$Server.Port) `
        -Environment @{ INNCONF = $Server.InnConf; HOME = $Server.Folder } -WorkingDirectory $Server.Folder
    try {
        $inews.Process.StandardInput.Write($article)
        $inews.CloseInput()
        $exitCode = Wait-TestProcessExit -Process $inews -TimeoutSeconds 30
        if ($exitCode -ne 0 -or $inews.ErrorLines.Count -gt 0) {
            throw "inews did not post the article (exit code $exitCode).`n$($inews.Transcript())"
        }
    }
    finally {
        Stop-TestProcess -Process $inews
    }

    [pscustomobject]@{
        PSTypeName = 'SockPS.Testing.InnArticle'
        MessageId  = $messageId
        Subject    = $Subject
        Group      = $Group
        Body       = $Body
    }
}

function Stop-TestInn {
    [CmdletBinding()]
    param([Parameter(ValueFromPipeline)] [AllowNull()] [object] $Server)
    process { Stop-TestServer -Server $Server }
}

#endregion

#region inetutils telnetd (Telnet)

function Start-TestTelnetd {
    <#
    .SYNOPSIS
        Starts inetutils telnetd the way inetd would, one per connection, under
        `socat TCP-LISTEN:0,fork EXEC:telnetd,nofork` (nofork: the accepted TCP socket itself
        becomes telnetd's stdin and stdout), and adds a throw-away user for the login, which
        telnetd hands to the real /bin/login. Needs root (telnetd, login, useradd).
    .DESCRIPTION
        socat binds port 0 and says which port it got, so there is no race for the port.
    #>
    [CmdletBinding()]
    [OutputType([pscustomobject])]
    param()

    if (-not (Test-TestRoot)) {
        throw 'Start-TestTelnetd: telnetd, /bin/login and useradd need root.'
    }
    $folder = New-TestTempFolder -Prefix 'sockps-telnetd-'
    $user = $null
    try {
        $user = New-TestUser -HomeDirectory (Join-Path $folder 'home')
        $socat = Start-TestProcess -FilePath 'socat' -WorkingDirectory $folder -ArgumentList @(
            '-d', '-d', 'TCP-LISTEN:0,bind=127.0.0.1,reuseaddr,fork', 'EXEC:/usr/sbin/telnetd,nofork')
        $listening = Wait-TestProcessLine -Process $socat -Stream Error -Pattern 'listening on .*:(\d+)\s*$' -TimeoutSeconds 30
    }
    catch {
        if ($user) { Remove-TestUser -UserName $user.UserName }
        Remove-Item -LiteralPath $folder -Recurse -Force
        throw
    }

    $server = New-TestServerObject -Name 'telnetd' -Port ([int]$listening.Groups[1].Value) -Process $socat -Folder $folder
    $server.UserName = $user.UserName
    $server.Password = $user.Password
    $server.Credential = $user.Credential
    $server.RemoveUser = $true
    $server
}

function Stop-TestTelnetd {
    # The user goes after the processes: userdel refuses while the user's shell still runs.
    [CmdletBinding()]
    param([Parameter(ValueFromPipeline)] [AllowNull()] [object] $Server)
    process { Stop-TestServer -Server $Server }
}

#endregion

#region gophernicus (Gopher)

function Start-TestGophernicus {
    <#
    .SYNOPSIS
        Starts gophernicus the way inetd would, one per connection, under
        `socat TCP-LISTEN:0,fork`, serving -Files from Folder/gopher (plus a gophermap when
        -Gophermap is given). gophernicus refuses to run as root, so as root it runs as nobody.
    .DESCRIPTION
        The menus it writes name the port to come back to; socat passes the port it bound in
        SOCAT_SOCKPORT, and a shell hands that to gophernicus -p, so port 0 works.
    #>
    [CmdletBinding()]
    [OutputType([pscustomobject])]
    param(
        [hashtable] $Files = @{ 'hello.txt' = "Hello from gophernicus`n" },

        # The root menu's gophermap, as gophernicus reads it (lines of type, text, TAB, selector).
        [string] $Gophermap
    )

    $folder = New-TestTempFolder -Prefix 'sockps-gopher-'
    try {
        $root = Join-Path $folder 'gopher'
        $content = @{} + $Files
        if ($Gophermap) {
            $content['gophermap'] = $Gophermap
        }
        Write-TestFiles -Root $root -Files $content
        # -nv: no virtual hosts, -nf: no footer, -nu: no ~user spaces.
        $wrapper = Join-Path $folder 'gophernicus.sh'
        Set-Content -LiteralPath $wrapper -Value "#!/bin/sh`nexec /usr/sbin/gophernicus -h 127.0.0.1 -p `"`$SOCAT_SOCKPORT`" -r '$root' -nv -nf -nu"
        if (-not $IsWindows) { & chmod 0755 $wrapper }
        $exec = "EXEC:$wrapper,nofork"
        if (Test-TestRoot) {
            $exec += ',su=nobody'
        }
        $socat = Start-TestProcess -FilePath 'socat' -WorkingDirectory $folder -ArgumentList @(
            '-d', '-d', 'TCP-LISTEN:0,bind=127.0.0.1,reuseaddr,fork', $exec)
        $listening = Wait-TestProcessLine -Process $socat -Stream Error -Pattern 'listening on .*:(\d+)\s*$' -TimeoutSeconds 30
    }
    catch {
        Remove-Item -LiteralPath $folder -Recurse -Force
        throw
    }

    $server = New-TestServerObject -Name 'gophernicus' -Port ([int]$listening.Groups[1].Value) -Process $socat -Folder $folder
    $server | Add-Member -NotePropertyName Root -NotePropertyValue $root -PassThru
}

function Stop-TestGophernicus {
    [CmdletBinding()]
    param([Parameter(ValueFromPipeline)] [AllowNull()] [object] $Server)
    process { Stop-TestServer -Server $Server }
}

#endregion

#region dnsmasq (DNS)

function Start-TestDnsmasq {
    <#
    .SYNOPSIS
        Starts dnsmasq in the foreground on a free loopback port (UDP and TCP), answering
        -Address (domain -> IPv4 address, subdomains included) and nothing else: no upstream
        servers, no /etc/hosts, no configuration file. Queries are logged to its stderr.
    #>
    [CmdletBinding()]
    [OutputType([pscustomobject])]
    param(
        [hashtable] $Address = @{ 'example.test' = '192.0.2.1' }
    )

    $folder = New-TestTempFolder -Prefix 'sockps-dnsmasq-'
    try {
        $daemon = Start-TestDaemon -FilePath 'dnsmasq' -PortProtocol Both -WorkingDirectory $folder -ArgumentList {
            param($Port)
            '--no-daemon', '--conf-file=/dev/null', '--no-resolv', '--no-hosts', '--no-poll',
            "--port=$Port", '--listen-address=127.0.0.1', '--bind-interfaces', '--pid-file=',
            '--log-queries', '--log-facility=-', '--local-ttl=300'
            foreach ($domain in $Address.Keys) { "--address=/$domain/$($Address[$domain])" }
            # As root dnsmasq drops to an unprivileged user; name one every system has.
            if (Test-TestRoot) { '--user=nobody', '--group=nogroup' }
        }
    }
    catch {
        Remove-Item -LiteralPath $folder -Recurse -Force
        throw
    }

    $server = New-TestServerObject -Name 'dnsmasq' -Port $daemon.Port -Process $daemon.Process -Folder $folder
    $server | Add-Member -NotePropertyName Address -NotePropertyValue $Address -PassThru
}

function Stop-TestDnsmasq {
    [CmdletBinding()]
    param([Parameter(ValueFromPipeline)] [AllowNull()] [object] $Server)
    process { Stop-TestServer -Server $Server }
}

#endregion

#region syslog receivers

function Start-TestSyslogReceiver {
    <#
    .SYNOPSIS
        Starts a syslog receiver nobody here wrote: socat UDP-RECV on a free loopback port, or
        UNIX-RECV on Folder/log.sock (a Unix datagram socket, as /dev/log is), appending every
        datagram it gets to LogPath. Returns the server object with Port or Path, and LogPath.
    #>
    [CmdletBinding()]
    [OutputType([pscustomobject])]
    param(
        [ValidateSet('Udp', 'Unix')]
        [string] $Transport = 'Udp'
    )

    $folder = New-TestTempFolder -Prefix 'sockps-syslog-'
    $log = Join-Path $folder 'received.log'
    $socketPath = Join-Path $folder 'log.sock'
    $sink = "OPEN:$log,creat,append"
    # -d -d: socat says "starting data transfer loop" once the socket is bound.
    $ready = 'starting data transfer loop'
    try {
        if ($Transport -eq 'Udp') {
            $daemon = Start-TestDaemon -FilePath 'socat' -PortProtocol Udp -ReadyPattern $ready -ReadyStream Error -WorkingDirectory $folder -ArgumentList {
                param($Port)
                '-d', '-d', '-u', "UDP-RECV:$Port,bind=127.0.0.1", $sink
            }
            $process = $daemon.Process
            $port = $daemon.Port
        }
        else {
            $process = Start-TestProcess -FilePath 'socat' -WorkingDirectory $folder -ArgumentList @(
                '-d', '-d', '-u', "UNIX-RECV:$socketPath", $sink)
            $null = Wait-TestProcessLine -Process $process -Stream Error -Pattern $ready -TimeoutSeconds 30
            $port = 0
        }
    }
    catch {
        Remove-Item -LiteralPath $folder -Recurse -Force
        throw
    }

    $server = New-TestServerObject -Name "socat $Transport receiver" -Port $port -Process $process -Folder $folder
    $server | Add-Member -NotePropertyMembers @{
        Transport = $Transport
        Path      = if ($Transport -eq 'Unix') { $socketPath } else { $null }
        LogPath   = $log
    } -PassThru
}

function Stop-TestSyslogReceiver {
    [CmdletBinding()]
    param([Parameter(ValueFromPipeline)] [AllowNull()] [object] $Server)
    process { Stop-TestServer -Server $Server }
}

#endregion

Export-ModuleMember -Function @(
    'New-TestTempFolder'
    'Test-TestPortFree'
    'Get-TestFreePort'
    'Test-TestPortOwner'
    'Wait-TestPort'
    'Start-TestDaemon'
    'Stop-TestServer'
    'Test-TestRoot'
    'New-TestUser'
    'Remove-TestUser'
    'New-TestServerCertificate'
    'Wait-TestFileContent'
    'Start-TestNginx'
    'Stop-TestNginx'
    'Start-TestVsftpd'
    'Stop-TestVsftpd'
    'Start-TestInn'
    'Publish-TestInnArticle'
    'Stop-TestInn'
    'Start-TestTelnetd'
    'Stop-TestTelnetd'
    'Start-TestGophernicus'
    'Stop-TestGophernicus'
    'Start-TestDnsmasq'
    'Stop-TestDnsmasq'
    'Start-TestSyslogReceiver'
    'Stop-TestSyslogReceiver'
)
