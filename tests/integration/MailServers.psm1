#Requires -Version 7.4
<#
    Private mail servers for the integration suite (issue 12): a Postfix 3.7 instance and a
    Dovecot 2.3 instance, each with its own configuration, queue, state and mailbox in a
    temporary folder, listening on free 127.0.0.1 ports, started in the foreground as children of
    the test and stopped by process id. Nothing here reads or changes the system-wide
    configuration (/etc/postfix, /etc/dovecot), creates system users, or needs systemd.

    Start-MailTestEnvironment / Stop-MailTestEnvironment
        The chain the mail examples test: a temporary folder, a CA and a localhost certificate
        made by openssl, a throw-away mailbox user with a random password, Dovecot (POP3, IMAP,
        IMAPS, and the SASL socket Postfix asks for SMTP AUTH) and Postfix (SMTP with STARTTLS,
        delivering into the Maildir Dovecot serves).
    Start-PostfixTestServer / Stop-PostfixTestServer
    Start-DovecotTestServer / Stop-DovecotTestServer
        One server each, for callers that want only one.
    New-MailTestCertificate   the openssl CA and server certificate.
    Wait-MailTestDelivery     bounded wait for a message with a given subject in a Maildir,
                              returned parsed (Headers, Subject, Body).
    Get-MailTestProcess       the processes working inside a folder (to check a stop left none).

    Both daemons must start as root (Postfix's master always; Dovecot to switch to the mailbox
    user). Mail belongs to a numeric uid/gid that no account or group on the machine has.

    Quirks worked out here (the Debian packages were installed with Postfix's "No configuration"):
    - Postfix runs from its own config_directory: `master -c <dir> -s -e 1800` stays in the
      foreground (-s keeps stdout, so maillog_file = /dev/stdout reaches the test; the
      master.cf.dist postlog service must stay) and calls setsid(), so a SIGTERM to its process
      id makes it terminate its whole process group, and it survives the death of the test run
      that started it: -e ends such an orphan after 30 minutes. `postfix -c <dir> start-fg`
      works too, but runs the master under a /bin/sh, after 3 to 6 s of checks.
    - The queue and data directories need the owners and modes /etc/postfix/postfix-files lists.
      `postfix -c <dir> check` creates them (the queue directory itself must exist first; a
      data_directory that already exists keeps its owner, root, and the daemons cannot write
      it), but it runs some 170 processes and takes 3 to 6 s here, so this module creates them.
    - master.cf is /usr/share/postfix/master.cf.dist with chroot off for every service (a chroot
      needs copies of /etc files inside the queue directory; `postconf -F '*/*/chroot = n'`)
      and the smtp inet service moved to 127.0.0.1:<port>.
    - The temporary folder must be 0755, not the 0700 of mktemp -d: the daemons drop to the
      postfix user, and virtual(8) to the mailbox uid, before they open anything in it.
    - Postfix re-reads a main.cf modified in the last second or two, every 0.3 s, until it is
      older (dict_load_file waits for an editor to finish): a freshly written main.cf costs
      1.5 to 2 s at every start, so its modification time is set a minute back.
    - Dovecot: `dovecot -F -c <conf>` with base_dir and state_dir in the folder, a passwd-file
      passdb/userdb with the numeric uid/gid, first_valid_uid/last_valid_uid around that uid,
      auth_failure_delay = 0 (the default 2 s would slow every wrong-password test), the auth
      penalty off (anvil-auth-penalty listener mode = 0, as Dovecot's docs say; else each
      failed login from 127.0.0.1, SMTP AUTH included, delays every later login from there by
      4 s, doubling up to 15 s, for half a minute; login_trusted_networks did not exempt
      loopback in 2.3.19) and the pop3s listener off (port = 0).
    - Neither daemon takes port 0: a free port comes from the kernel (bind 0, read, close) and a
      start that fails because a port was taken meanwhile is retried on new ports (3 tries).
      Dovecot says "Address already in use" on stderr; Postfix's master logs its fatal bind
      error only to syslog (/dev/log, absent in a container; postlogd is not running yet), so
      it exits with code 1 and no output, and the port is probed to tell why.
    - Starting a process costs 0.1 to 0.3 s on this machine, so the setup avoids helpers
      (getent, install, chown, postconf): it reads /etc/passwd and /etc/group and calls chown(2).
#>
Set-StrictMode -Version Latest

# The same instance the test file imported (no -Force: that would load a second copy with its own
# list of started processes).
Import-Module "$PSScriptRoot/../pester/SockPS.TestHelpers.psm1"

if (-not ('SockPS.Testing.MailNative' -as [type])) {
    Add-Type -TypeDefinition @'
using System.Runtime.InteropServices;

namespace SockPS.Testing
{
    /// <summary>The two system calls .NET lacks here: chown(2), and kill(2) with SIGTERM (both
    /// daemons shut down cleanly on it; Process.Kill sends SIGKILL).</summary>
    public static class MailNative
    {
        [DllImport("libc", SetLastError = true)]
        private static extern int kill(int pid, int sig);

        [DllImport("libc", SetLastError = true)]
        private static extern int chown(string path, int owner, int group);

        /// <summary>SIGTERM to one process. Refuses 0, -1 and 1: kill(2) reads those as "my
        /// process group", "every process" and init.</summary>
        public static bool Terminate(int pid)
        {
            if (pid <= 1)
            {
                throw new System.ArgumentOutOfRangeException(nameof(pid), pid, "Not a daemon's process id.");
            }

            return kill(pid, 15) == 0;
        }

        public static void ChangeOwner(string path, int owner, int group)
        {
            if (chown(path, owner, group) != 0)
            {
                throw new System.ComponentModel.Win32Exception(Marshal.GetLastWin32Error(), "chown " + path);
            }
        }
    }
}
'@ -Language CSharp
}

$script:PostfixMaster = '/usr/lib/postfix/sbin/master'
$script:PostfixMasterTemplate = '/usr/share/postfix/master.cf.dist'
$script:StartAttempts = 3
# Daemons already stopped (see Stop-MailTestDaemon).
$script:Stopped = [System.Collections.Generic.HashSet[SockPS.Testing.TestProcess]]::new()

function Get-MailTestFreePort {
    # A port on 127.0.0.1 the kernel just handed out; the caller retries if a daemon then finds it taken.
    $listener = [System.Net.Sockets.TcpListener]::new([System.Net.IPAddress]::Loopback, 0)
    $listener.Start()
    try {
        ([System.Net.IPEndPoint]$listener.LocalEndpoint).Port
    }
    finally {
        $listener.Stop()
    }
}

function Get-MailTestAccountTable {
    # name -> id from /etc/passwd or /etc/group.
    param([ValidateSet('passwd', 'group')] [string] $Database)
    $table = @{}
    foreach ($line in [System.IO.File]::ReadAllLines("/etc/$Database")) {
        $fields = $line.Split(':')
        if ($fields.Count -ge 3 -and $fields[2] -match '^\d+$') {
            $table[$fields[0]] = [int]$fields[2]
        }
    }
    $table
}

function Get-MailTestAccountId {
    # The uid of a system user or the gid of a group the Debian packages create.
    param([string] $User, [string] $Group)
    $database, $name = if ($User) { 'passwd', $User } else { 'group', $Group }
    $table = Get-MailTestAccountTable -Database $database
    if (-not $table.ContainsKey($name)) {
        throw "MailServers: no $(if ($User) { 'user' } else { 'group' }) '$name' in /etc/$database. Is the postfix/dovecot package installed?"
    }
    $table[$name]
}

function Get-MailTestUnusedId {
    # A number that is neither a uid nor a gid here, so the mailbox files belong to nobody real.
    # 60100-60199: Debian leaves the 60000s to the local administrator.
    $users = (Get-MailTestAccountTable -Database passwd).Values
    $groups = (Get-MailTestAccountTable -Database group).Values
    foreach ($id in 60100..60199) {
        if ($id -notin $users -and $id -notin $groups) {
            return $id
        }
    }
    throw 'MailServers: every uid/gid from 60100 to 60199 is in use.'
}

function New-MailTestDirectory {
    # Creates the folder with -Mode (default 0755: the daemons drop privileges before they look
    # into it) and, with -Owner/-Group, gives it away.
    param([string] $Path, [string] $Mode = '755', [int] $Owner = -1, [int] $Group = -1)
    $item = [System.IO.Directory]::CreateDirectory($Path)
    $item.UnixFileMode = [System.IO.UnixFileMode][Convert]::ToInt32($Mode, 8)
    if ($Owner -ge 0 -or $Group -ge 0) {
        [SockPS.Testing.MailNative]::ChangeOwner($item.FullName, $Owner, $Group)
    }
    $item.FullName
}

function Invoke-MailTestTool {
    # Runs a setup command to completion; throws with its output if it fails.
    param([string] $FilePath, [string[]] $ArgumentList)
    $process = Start-TestProcess -FilePath $FilePath -ArgumentList $ArgumentList
    try {
        $exitCode = Wait-TestProcessExit -Process $process -TimeoutSeconds 60
        if ($exitCode -ne 0) {
            throw "$FilePath $($ArgumentList -join ' ') failed with exit code $exitCode.`n$($process.Transcript())"
        }
        $process.OutputLines
    }
    finally {
        Stop-TestProcess -Process $process
    }
}

function New-MailTestCertificate {
    <#
    .SYNOPSIS
        Makes a private CA and a server certificate for localhost and 127.0.0.1 it signs (ECDSA
        P-256, valid two days) with openssl in -Directory. Returns CaPath, CertificatePath,
        KeyPath (PEM files; the keys are readable by root only).
    #>
    [CmdletBinding()]
    [OutputType([pscustomobject])]
    param(
        [Parameter(Mandatory)]
        [string] $Directory
    )

    $files = [pscustomobject]@{
        PSTypeName      = 'SockPS.Testing.MailCertificate'
        CaPath          = Join-Path $Directory 'ca.pem'
        CaKeyPath       = Join-Path $Directory 'ca.key'
        CertificatePath = Join-Path $Directory 'server.pem'
        KeyPath         = Join-Path $Directory 'server.key'
    }
    $key = @('-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '2')
    $null = Invoke-MailTestTool openssl (@('req', '-x509') + $key + @(
            '-keyout', $files.CaKeyPath, '-out', $files.CaPath, '-subj', '/CN=SockPS Mail Test CA',
            '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign'))
    # OpenSSL 3's req -x509 -CA signs the new key with the CA directly: no CSR, no x509 -req.
    $null = Invoke-MailTestTool openssl (@('req', '-x509', '-CA', $files.CaPath, '-CAkey', $files.CaKeyPath) + $key + @(
            '-keyout', $files.KeyPath, '-out', $files.CertificatePath, '-subj', '/CN=localhost',
            '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1', '-addext', 'extendedKeyUsage=serverAuth',
            '-addext', 'basicConstraints=critical,CA:FALSE', '-addext', 'keyUsage=critical,digitalSignature'))
    $files
}

function Wait-MailTestBanner {
    # Bounded wait until 127.0.0.1:$Port answers with a first line matching $Pattern; throws with
    # the daemon's output when it exits first, answers something else, or the time runs out.
    param(
        [SockPS.Testing.TestProcess] $Process,
        [int] $Port,
        [string] $Pattern,
        [double] $TimeoutSeconds = 20
    )

    $seen = @{ Banner = $null }
    $answered = {
        if ($Process.HasExited) {
            return $true
        }
        $client = [System.Net.Sockets.TcpClient]::new()
        try {
            # A refused connect fails at once on loopback; Wait-TestCondition paces the retries.
            $client.Connect([System.Net.IPAddress]::Loopback, $Port)
            # Whoever holds a taken port may accept and say nothing, while the daemon that
            # wanted it exits: wait for the line in short steps, watching the daemon.
            $line = [System.IO.StreamReader]::new($client.GetStream()).ReadLineAsync()
            $clock = [System.Diagnostics.Stopwatch]::StartNew()
            while (-not $line.Wait(50)) {
                if ($Process.HasExited) {
                    return $true
                }
                if ($clock.Elapsed.TotalSeconds -ge 2) {
                    # No banner on this connection; try a new one.
                    return $false
                }
            }
            $seen.Banner = $line.Result
            return $true
        }
        catch [System.Net.Sockets.SocketException], [System.IO.IOException], [System.AggregateException] {
            return $false
        }
        finally {
            $client.Dispose()
        }
    }

    try {
        Wait-TestCondition -Condition $answered -Description "a banner on 127.0.0.1:$Port" -TimeoutSeconds $TimeoutSeconds
    }
    catch {
        throw "$_`n$($Process.Transcript())"
    }
    if ($Process.HasExited -or "$($seen.Banner)" -notmatch $Pattern) {
        $null = $Process.WaitForExit([timespan]::FromSeconds(5))
        throw "Wait-MailTestBanner: 127.0.0.1:$Port answered '$($seen.Banner)', not /$Pattern/, or the daemon exited.`n$($Process.Transcript())"
    }
    $seen.Banner
}

function Test-MailTestAddressInUse {
    # True when a daemon that ended during start-up could not bind its port: it says so (Dovecot),
    # or the port is still taken (Postfix's master logs that fatal error only to syslog, which
    # this container does not have, so its output says nothing).
    param([SockPS.Testing.TestProcess] $Process, [int[]] $Port)
    # Give a daemon that is on its way out a moment to finish.
    $null = $Process.WaitForExit([timespan]::FromSeconds(5))
    if (-not $Process.HasExited) {
        return $false
    }
    if (@($Process.OutputLines) + @($Process.ErrorLines) | Where-Object { $_ -match 'Address already in use' }) {
        return $true
    }
    foreach ($number in $Port) {
        $listener = [System.Net.Sockets.TcpListener]::new([System.Net.IPAddress]::Loopback, $number)
        try {
            $listener.Start()
        }
        catch [System.Net.Sockets.SocketException] {
            return $true
        }
        finally {
            $listener.Stop()
        }
    }
    $false
}

function Stop-MailTestDaemon {
    # SIGTERM by process id to every daemon first (Dovecot takes about a second to wind down, so
    # they do it side by side), a bounded wait for each to exit, then SIGKILL to whatever is left.
    # Stopping twice is fine: a stopped TestProcess is disposed, and PowerShell then reads its Id
    # and HasExited as $null instead of failing, so they are never trusted after the first stop.
    param([AllowNull()] [SockPS.Testing.TestProcess[]] $Process, [double] $TimeoutSeconds = 15)
    $running = @($Process | Where-Object { $null -ne $_ -and $script:Stopped.Add($_) })
    foreach ($daemon in $running) {
        if ($daemon.HasExited -eq $false) {
            $null = [SockPS.Testing.MailNative]::Terminate($daemon.Id)
        }
    }
    foreach ($daemon in $running) {
        $null = $daemon.WaitForExit([timespan]::FromSeconds($TimeoutSeconds))
        Stop-TestProcess -Process $daemon
    }
}

function Get-MailTestProcess {
    <#
    .SYNOPSIS
        The processes whose working directory or root (chroot) is inside -Directory: the
        daemons of an instance and every child they started (each works from the instance's
        queue or base directory). Returns Id and Name; nothing once the instance is stopped.
    #>
    [CmdletBinding()]
    [OutputType([pscustomobject])]
    param(
        [Parameter(Mandatory)]
        [string] $Directory
    )

    $prefix = [System.IO.Path]::TrimEndingDirectorySeparator([System.IO.Path]::GetFullPath($Directory)) + '/'
    foreach ($entry in [System.IO.Directory]::GetDirectories('/proc')) {
        $id = Split-Path -Leaf $entry
        if ($id -notmatch '^\d+$') {
            continue
        }
        foreach ($link in 'cwd', 'root') {
            # Unreadable for a zombie or a process that has just gone: it is not running in the folder.
            $target = try { [System.IO.File]::ResolveLinkTarget("$entry/$link", $false).FullName } catch { $null }
            if ($target -and "$target/".StartsWith($prefix, [System.StringComparison]::Ordinal)) {
                [pscustomobject]@{ Id = [int]$id; Name = (Get-Content -LiteralPath "$entry/comm" -ErrorAction SilentlyContinue) }
                break
            }
        }
    }
}

function Get-MailTestLogValue {
    # The first capture of $Pattern in a daemon's output so far (its version, from the start-up line).
    param([SockPS.Testing.TestProcess] $Process, [string] $Pattern)
    foreach ($line in @($Process.OutputLines) + @($Process.ErrorLines)) {
        if ($line -match $Pattern) {
            return $Matches[1]
        }
    }
}

function Start-PostfixTestServer {
    <#
    .SYNOPSIS
        Starts a private Postfix whose files all live in -Directory: smtpd with STARTTLS on a
        free 127.0.0.1 port, delivering mail for -Domain into Maildirs under -MailboxBase as
        -Uid/-Gid. Returns Process, Port, ConfigDirectory, QueueDirectory, Version, Banner.
    .DESCRIPTION
        -Mailbox maps addresses to Maildirs relative to -MailboxBase (a trailing / means
        Maildir), for example @{ 'sockps@example.test' = 'sockps/Maildir/' }. With -SaslPath
        (the absolute path of Dovecot's auth socket) smtpd offers AUTH after STARTTLS. Mail for
        any other domain bounces: nothing leaves the machine. The log is the process's stdout.
    #>
    [CmdletBinding()]
    [OutputType([pscustomobject])]
    param(
        [Parameter(Mandatory)] [string] $Directory,
        [Parameter(Mandatory)] [pscustomobject] $Certificate,
        [Parameter(Mandatory)] [string] $MailboxBase,
        [Parameter(Mandatory)] [hashtable] $Mailbox,
        [Parameter(Mandatory)] [int] $Uid,
        [Parameter(Mandatory)] [int] $Gid,
        [string] $Domain = 'example.test',
        [string] $SaslPath,
        # The port to try first (default: one the kernel hands out); for testing the retry.
        [int] $FirstPort,
        [double] $TimeoutSeconds = 30
    )

    if ([Environment]::UserName -ne 'root') {
        throw 'Start-PostfixTestServer: Postfix''s master daemon must start as root.'
    }

    $Directory = New-MailTestDirectory $Directory
    $configDirectory = New-MailTestDirectory (Join-Path $Directory 'etc')
    $queueDirectory = Join-Path $Directory 'queue'
    $dataDirectory = Join-Path $Directory 'data'

    # The layout /etc/postfix/postfix-files prescribes: root owns the queue and pid/, the
    # postfix user the rest; maildrop/ and public/ are shared with the postdrop group.
    $postfix = Get-MailTestAccountId -User postfix
    $postdrop = Get-MailTestAccountId -Group postdrop
    $null = New-MailTestDirectory $queueDirectory -Owner 0 -Group 0
    $null = New-MailTestDirectory (Join-Path $queueDirectory 'pid') -Owner 0 -Group 0
    foreach ($name in 'active', 'bounce', 'corrupt', 'defer', 'deferred', 'flush', 'hold', 'incoming', 'private', 'saved', 'trace') {
        $null = New-MailTestDirectory (Join-Path $queueDirectory $name) -Mode 700 -Owner $postfix
    }
    $null = New-MailTestDirectory (Join-Path $queueDirectory 'maildrop') -Mode 730 -Owner $postfix -Group $postdrop
    $null = New-MailTestDirectory (Join-Path $queueDirectory 'public') -Mode 710 -Owner $postfix -Group $postdrop
    $null = New-MailTestDirectory $dataDirectory -Mode 700 -Owner $postfix

    $mailboxes = ($Mailbox.GetEnumerator() | ForEach-Object { "$($_.Key)=$($_.Value)" }) -join ', '
    $main = [System.Collections.Generic.List[string]]@(
        '# A throw-away instance for the SockPS integration tests.'
        'compatibility_level = 3.6'
        "queue_directory = $queueDirectory"
        "data_directory = $dataDirectory"
        'mail_owner = postfix'
        'setgid_group = postdrop'
        "myhostname = mail.$Domain"
        "mydomain = $Domain"
        'myorigin = $mydomain'
        'mydestination ='
        'inet_interfaces = 127.0.0.1'
        'inet_protocols = ipv4'
        'mynetworks = 127.0.0.0/8'
        'alias_maps ='
        'alias_database ='
        'local_recipient_maps ='
        'biff = no'
        'maillog_file = /dev/stdout'
        # Nothing leaves this machine: mail for any other domain bounces at once.
        'default_transport = error:this test instance delivers only to its own mailboxes'
        'relay_transport = error:this test instance delivers only to its own mailboxes'
        "virtual_mailbox_domains = $Domain"
        "virtual_mailbox_base = $MailboxBase"
        "virtual_mailbox_maps = inline:{ $mailboxes }"
        "virtual_uid_maps = static:$Uid"
        "virtual_gid_maps = static:$Gid"
        "virtual_minimum_uid = $Uid"
        "smtpd_tls_cert_file = $($Certificate.CertificatePath)"
        "smtpd_tls_key_file = $($Certificate.KeyPath)"
        'smtpd_tls_security_level = may'
        'smtpd_tls_loglevel = 1'
    )
    if ($SaslPath) {
        $main.AddRange([string[]]@(
                'smtpd_sasl_auth_enable = yes'
                'smtpd_sasl_type = dovecot'
                "smtpd_sasl_path = $SaslPath"
                'smtpd_tls_auth_only = yes'
            ))
    }
    $mainCf = Join-Path $configDirectory 'main.cf'
    Set-Content -LiteralPath $mainCf -Value $main
    # Postfix re-reads a main.cf written within the last second or two every 0.3 s until it is
    # older (so it never reads a file an editor is still writing): 1.5 to 2 s lost at every
    # start. A file dated a minute back is read once.
    [System.IO.File]::SetLastWriteTimeUtc($mainCf, [datetime]::UtcNow.AddMinutes(-1))
    $template = [System.IO.File]::ReadAllLines($script:PostfixMasterTemplate)

    for ($attempt = 1; ; $attempt++) {
        # master.cf.dist with every service's chroot column (the 5th) set to n, and smtpd on
        # 127.0.0.1:<port> instead of *:25; what `postconf -F '*/*/chroot = n'`, `postconf -M#
        # smtp/inet` and `postconf -M 127.0.0.1:<port>/inet=...` do, without three processes.
        $port = if ($attempt -eq 1 -and $FirstPort) { $FirstPort } else { Get-MailTestFreePort }
        $master = foreach ($line in $template) {
            if ($line -match '^smtp\s+inet\s') {
                "127.0.0.1:$port inet n - n - - smtpd"
            }
            elseif ($line -match '^([^#\s]\S*\s+\S+\s+\S+\s+\S+\s+)\S+(\s+.*)$') {
                "$($Matches[1])n$($Matches[2])"
            }
            else {
                $line
            }
        }
        Set-Content -LiteralPath (Join-Path $configDirectory 'master.cf') -Value $master

        # -e: a master orphaned by a test run that was killed (setsid() took it out of the run's
        # process group) ends by itself after half an hour, the whole CI budget.
        $process = Start-TestProcess -FilePath $script:PostfixMaster -ArgumentList @('-c', $configDirectory, '-s', '-e', '1800') -WorkingDirectory $Directory
        try {
            $banner = Wait-MailTestBanner -Process $process -Port $port -Pattern '^220 ' -TimeoutSeconds $TimeoutSeconds
            break
        }
        catch {
            $taken = Test-MailTestAddressInUse -Process $process -Port $port
            Stop-MailTestDaemon -Process $process
            if (-not $taken -or $attempt -ge $script:StartAttempts) {
                throw
            }
        }
    }

    [pscustomobject]@{
        PSTypeName      = 'SockPS.Testing.PostfixServer'
        Process         = $process
        Port            = $port
        ConfigDirectory = $configDirectory
        QueueDirectory  = $queueDirectory
        Version         = Get-MailTestLogValue -Process $process -Pattern 'daemon started -- version (\S+),'
        Banner          = $banner
    }
}

function Stop-PostfixTestServer {
    <#
    .SYNOPSIS
        Stops the instance by its master's process id (SIGTERM: the master terminates its
        process group), and kills what is left after a bounded wait.
    #>
    [CmdletBinding()]
    param(
        [Parameter(Mandatory, Position = 0, ValueFromPipeline)]
        [AllowNull()]
        [pscustomobject] $Server
    )

    process {
        if ($Server) {
            Stop-MailTestDaemon -Process $Server.Process
        }
    }
}

function Start-DovecotTestServer {
    <#
    .SYNOPSIS
        Starts a private Dovecot whose files all live in -Directory: POP3, IMAP and IMAPS on
        free 127.0.0.1 ports, one user from a passwd-file whose mail is the Maildir
        <-HomeDirectory>/Maildir, owned by -Uid/-Gid. Returns Process, Pop3Port, ImapPort,
        ImapsPort, ConfigPath, Version, Banner.
    .DESCRIPTION
        With -AuthSocketPath, Dovecot also serves SASL on that Unix socket (owned by the postfix
        user), so Postfix's SMTP AUTH checks the same password. The log is the process's stderr.
    #>
    [CmdletBinding()]
    [OutputType([pscustomobject])]
    param(
        [Parameter(Mandatory)] [string] $Directory,
        [Parameter(Mandatory)] [pscustomobject] $Certificate,
        [Parameter(Mandatory)] [string] $UserName,
        [Parameter(Mandatory)] [string] $Password,
        [Parameter(Mandatory)] [string] $HomeDirectory,
        [Parameter(Mandatory)] [int] $Uid,
        [Parameter(Mandatory)] [int] $Gid,
        [string] $AuthSocketPath,
        # The POP3 port to try first (default: one the kernel hands out); for testing the retry.
        [int] $FirstPort,
        [double] $TimeoutSeconds = 30
    )

    if ([Environment]::UserName -ne 'root') {
        throw 'Start-DovecotTestServer: Dovecot must start as root to switch to the mailbox user.'
    }

    $Directory = New-MailTestDirectory $Directory
    $runDirectory = New-MailTestDirectory (Join-Path $Directory 'run')
    $stateDirectory = New-MailTestDirectory (Join-Path $Directory 'state')
    $usersPath = Join-Path $Directory 'users'
    # user:password:uid:gid:gecos:home:shell
    Set-Content -LiteralPath $usersPath -Value "${UserName}:{PLAIN}${Password}:${Uid}:${Gid}::${HomeDirectory}::"
    $configPath = Join-Path $Directory 'dovecot.conf'
    $authListener = if ($AuthSocketPath) {
        "service auth {`n  unix_listener $AuthSocketPath {`n    mode = 0660`n    user = postfix`n    group = postfix`n  }`n}"
    }

    for ($attempt = 1; ; $attempt++) {
        $pop3Port = if ($attempt -eq 1 -and $FirstPort) { $FirstPort } else { Get-MailTestFreePort }
        $imapPort = Get-MailTestFreePort
        $imapsPort = Get-MailTestFreePort
        Set-Content -LiteralPath $configPath -Value @"
# A throw-away instance for the SockPS integration tests.
base_dir = $runDirectory
state_dir = $stateDirectory
instance_name = sockps-test-$(Split-Path -Leaf (Split-Path -Parent $Directory))
protocols = imap pop3
listen = 127.0.0.1
log_path = /dev/stderr
info_log_path = /dev/stderr
auth_verbose = yes
auth_failure_delay = 0
# No auth penalty: without this, each failed login from 127.0.0.1 delays every later one.
service anvil {
  unix_listener anvil-auth-penalty {
    mode = 0
  }
}
ssl = yes
ssl_cert = <$($Certificate.CertificatePath)
ssl_key = <$($Certificate.KeyPath)
disable_plaintext_auth = no
auth_mechanisms = plain login
passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%n $usersPath
}
userdb {
  driver = passwd-file
  args = username_format=%n $usersPath
}
mail_location = maildir:~/Maildir
first_valid_uid = $Uid
last_valid_uid = $Uid
first_valid_gid = $Gid
last_valid_gid = $Gid
service imap-login {
  inet_listener imap {
    address = 127.0.0.1
    port = $imapPort
  }
  inet_listener imaps {
    address = 127.0.0.1
    port = $imapsPort
    ssl = yes
  }
}
service pop3-login {
  inet_listener pop3 {
    address = 127.0.0.1
    port = $pop3Port
  }
  inet_listener pop3s {
    port = 0
  }
}
$authListener
"@

        $process = Start-TestProcess -FilePath dovecot -ArgumentList @('-F', '-c', $configPath) -WorkingDirectory $Directory
        try {
            # The master binds every listener before it starts a login process, so once POP3 and
            # IMAP answer, the IMAPS port is bound too.
            $banner = Wait-MailTestBanner -Process $process -Port $pop3Port -Pattern '^\+OK ' -TimeoutSeconds $TimeoutSeconds
            $null = Wait-MailTestBanner -Process $process -Port $imapPort -Pattern '^\* OK ' -TimeoutSeconds $TimeoutSeconds
            break
        }
        catch {
            $taken = Test-MailTestAddressInUse -Process $process -Port $pop3Port, $imapPort, $imapsPort
            Stop-MailTestDaemon -Process $process
            if (-not $taken -or $attempt -ge $script:StartAttempts) {
                throw
            }
        }
    }

    [pscustomobject]@{
        PSTypeName = 'SockPS.Testing.DovecotServer'
        Process    = $process
        Pop3Port   = $pop3Port
        ImapPort   = $imapPort
        ImapsPort  = $imapsPort
        ConfigPath = $configPath
        Version    = Get-MailTestLogValue -Process $process -Pattern 'Dovecot v(\S+ \(\w+\)) starting up'
        Banner     = $banner
    }
}

function Stop-DovecotTestServer {
    <#
    .SYNOPSIS
        Stops the instance by its master's process id (SIGTERM; Dovecot stops its services and
        exits), and kills what is left after a bounded wait.
    #>
    [CmdletBinding()]
    param(
        [Parameter(Mandatory, Position = 0, ValueFromPipeline)]
        [AllowNull()]
        [pscustomobject] $Server
    )

    process {
        if ($Server) {
            Stop-MailTestDaemon -Process $Server.Process
        }
    }
}

function Start-MailTestEnvironment {
    <#
    .SYNOPSIS
        A temporary folder, an openssl CA and certificate, a mailbox user with a random
        password, and Dovecot and Postfix sharing one Maildir. Returns Directory, Domain,
        UserName, Address, Password, Credential, CaPath, Maildir, Postfix, Dovecot. Pair it with
        Stop-MailTestEnvironment; a failed start cleans up after itself.
    #>
    [CmdletBinding()]
    [OutputType([pscustomobject])]
    param(
        [string] $Directory = (Join-Path ([System.IO.Path]::GetTempPath()) "sockps-mail-$([guid]::NewGuid().ToString('n').Substring(0, 8))"),
        [string] $Domain = 'example.test',
        [string] $UserName = 'sockps'
    )

    $alphabet = 'abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789'
    $password = -join (1..24 | ForEach-Object { $alphabet[[System.Security.Cryptography.RandomNumberGenerator]::GetInt32($alphabet.Length)] })
    $environment = [pscustomobject]@{
        PSTypeName = 'SockPS.Testing.MailEnvironment'
        Directory  = $Directory
        Domain     = $Domain
        UserName   = $UserName
        Address    = "$UserName@$Domain"
        Password   = $password
        Credential = [pscredential]::new($UserName, (ConvertTo-SecureString -String $password -AsPlainText -Force))
        CaPath     = $null
        Maildir    = $null
        Postfix    = $null
        Dovecot    = $null
    }
    try {
        $environment.Directory = New-MailTestDirectory $Directory
        $id = Get-MailTestUnusedId
        $certificate = New-MailTestCertificate -Directory (New-MailTestDirectory (Join-Path $Directory 'tls'))
        $environment.CaPath = $certificate.CaPath
        $mailboxBase = New-MailTestDirectory (Join-Path $Directory 'vmail') -Owner $id -Group $id
        $homeDirectory = New-MailTestDirectory (Join-Path $mailboxBase $UserName) -Mode 700 -Owner $id -Group $id
        $environment.Maildir = Join-Path $homeDirectory 'Maildir'

        # Dovecot first: it serves the SASL socket smtpd asks when a client sends AUTH. The socket
        # is outside Postfix's queue directory, so neither daemon writes into a folder the other
        # owns; smtpd runs unchrooted and takes the absolute path.
        $saslSocket = Join-Path (New-MailTestDirectory (Join-Path $Directory 'sasl')) 'auth'
        $environment.Dovecot = Start-DovecotTestServer -Directory (Join-Path $Directory 'dovecot') -Certificate $certificate `
            -UserName $UserName -Password $password -HomeDirectory $homeDirectory -Uid $id -Gid $id -AuthSocketPath $saslSocket
        $environment.Postfix = Start-PostfixTestServer -Directory (Join-Path $Directory 'postfix') -Certificate $certificate `
            -MailboxBase $mailboxBase -Mailbox @{ $environment.Address = "$UserName/Maildir/" } -Uid $id -Gid $id `
            -Domain $Domain -SaslPath $saslSocket
    }
    catch {
        Stop-MailTestEnvironment -Environment $environment
        throw
    }
    $environment
}

function Stop-MailTestEnvironment {
    <#
    .SYNOPSIS
        Stops Postfix and Dovecot by process id and removes the temporary folder.
    #>
    [CmdletBinding()]
    param(
        [Parameter(Mandatory)]
        [AllowNull()]
        [pscustomobject] $Environment
    )

    if ($null -eq $Environment) {
        return
    }
    Stop-MailTestDaemon -Process @($Environment.Postfix, $Environment.Dovecot | Where-Object { $_ } | ForEach-Object Process)
    if ($Environment.Directory -and (Test-Path -LiteralPath $Environment.Directory)) {
        Remove-Item -LiteralPath $Environment.Directory -Recurse -Force
    }
}

function ConvertFrom-MailTestMessage {
    # RFC 5322 text -> headers (unfolded; name -> values) and body.
    param([string] $Text, [string] $Path)
    $normalized = $Text -replace "`r`n", "`n"
    $split = $normalized.IndexOf("`n`n")
    $head = if ($split -ge 0) { $normalized.Substring(0, $split) } else { $normalized }
    $body = if ($split -ge 0) { $normalized.Substring($split + 2) } else { '' }
    $headers = [ordered]@{}
    foreach ($line in ($head -replace "`n[ `t]+", ' ') -split "`n") {
        if ($line -match '^([^:\s]+):\s?(.*)$') {
            $headers[$Matches[1]] = @(if ($headers.Contains($Matches[1])) { $headers[$Matches[1]] }) + $Matches[2]
        }
    }
    [pscustomobject]@{
        PSTypeName = 'SockPS.Testing.MailMessage'
        Path       = $Path
        Headers    = $headers
        Subject    = if ($headers.Contains('Subject')) { $headers['Subject'][0] }
        Body       = $body.TrimEnd("`n")
        Text       = $Text
    }
}

function Wait-MailTestDelivery {
    <#
    .SYNOPSIS
        Waits, at most -TimeoutSeconds, for a message whose Subject is -Subject in the Maildir
        (new/ or cur/), and returns it parsed: Path, Headers (name -> values), Subject, Body (LF
        line ends, as Postfix stores it, without the last line end), and Text (the whole file as
        read then: a POP3 or IMAP session moves it from new/ to cur/ and renames it).
    #>
    [CmdletBinding()]
    [OutputType([pscustomobject])]
    param(
        [Parameter(Mandatory)] [string] $Maildir,
        [Parameter(Mandatory)] [string] $Subject,
        [double] $TimeoutSeconds = 20
    )

    $seen = @{ Message = $null }
    $found = {
        foreach ($folder in 'new', 'cur') {
            $path = Join-Path $Maildir $folder
            if (-not [System.IO.Directory]::Exists($path)) {
                continue
            }
            foreach ($file in [System.IO.Directory]::GetFiles($path)) {
                $message = ConvertFrom-MailTestMessage -Text ([System.IO.File]::ReadAllText($file)) -Path $file
                if ($message.Subject -ceq $Subject) {
                    $seen.Message = $message
                    return $true
                }
            }
        }
        $false
    }
    Wait-TestCondition -Condition $found -Description "a message with Subject '$Subject' in $Maildir" -TimeoutSeconds $TimeoutSeconds
    $seen.Message
}

Export-ModuleMember -Function @(
    'New-MailTestCertificate'
    'Start-PostfixTestServer'
    'Stop-PostfixTestServer'
    'Start-DovecotTestServer'
    'Stop-DovecotTestServer'
    'Start-MailTestEnvironment'
    'Stop-MailTestEnvironment'
    'Wait-MailTestDelivery'
    'Get-MailTestProcess'
)
