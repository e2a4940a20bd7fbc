#Requires -Version 7.4
# Tests of the harness in SockPS.RemotePeers.psm1: every daemon it starts really works, proven
# with clients nobody here wrote (OpenSSH's ssh, curl) against a python3 http.server whose page
# holds a random token, so a body that comes back through a proxy can only have come from the
# target. Wrong passwords are refused, and every daemon stops by process id with its children.

BeforeAll {
    Import-Module "$PSScriptRoot/SockPS.TestHelpers.psm1" -Force
    Import-Module "$PSScriptRoot/SockPS.RemotePeers.psm1" -Force

    foreach ($tool in 'curl', 'ssh', 'ssh-keygen') {
        if (-not (Get-Command -Name $tool -CommandType Application -ErrorAction SilentlyContinue)) {
            throw "$tool is not installed; .ci/run installs it."
        }
    }

    # curl with a bound on the whole transfer; stdout and stderr kept apart.
    function Invoke-TestCurl {
        param([Parameter(Mandatory)] [string[]] $ArgumentList)

        $curl = Start-TestProcess -FilePath 'curl' -ArgumentList (@('--silent', '--show-error', '--max-time', '20') + $ArgumentList)
        try {
            $exitCode = Wait-TestProcessExit -Process $curl -TimeoutSeconds 40
            [pscustomobject]@{
                ExitCode = $exitCode
                Output   = $curl.OutputLines -join "`n"
                Error    = $curl.ErrorLines -join "`n"
            }
        }
        finally {
            Stop-TestProcess -Process $curl
        }
    }

    # OpenSSH's ssh, bounded; returns ExitCode, Output, Error.
    function Invoke-TestSsh {
        param([Parameter(Mandatory)] [string[]] $ArgumentList)

        $ssh = Start-TestProcess -FilePath 'ssh' -ArgumentList $ArgumentList
        try {
            $exitCode = Wait-TestProcessExit -Process $ssh -TimeoutSeconds 60
            [pscustomobject]@{
                ExitCode = $exitCode
                Output   = $ssh.OutputLines -join "`n"
                Error    = $ssh.ErrorLines -join "`n"
            }
        }
        finally {
            Stop-TestProcess -Process $ssh
        }
    }

    # Every process below -ProcessId, from the parent ids in /proc/*/stat.
    function Get-TestDescendantProcessId {
        param([Parameter(Mandatory)] [int] $ProcessId)

        $parentOf = @{}
        foreach ($directory in [System.IO.Directory]::GetDirectories('/proc')) {
            $name = [System.IO.Path]::GetFileName($directory)
            if ($name -notmatch '^\d+$') {
                continue
            }
            try {
                $stat = [System.IO.File]::ReadAllText("$directory/stat")
            }
            catch {
                continue # exited while we looked
            }
            # pid (comm) state ppid ...: comm may hold spaces and parentheses, so read after the last ')'.
            $fields = $stat.Substring($stat.LastIndexOf(')') + 2) -split ' '
            $parentOf[[int]$name] = [int]$fields[1]
        }

        $found = [System.Collections.Generic.List[int]]::new()
        $queue = [System.Collections.Generic.Queue[int]]::new()
        $queue.Enqueue($ProcessId)
        while ($queue.Count -gt 0) {
            $parent = $queue.Dequeue()
            foreach ($child in @($parentOf.Keys | Where-Object { $parentOf[$_] -eq $parent })) {
                $found.Add($child)
                $queue.Enqueue($child)
            }
        }
        $found.ToArray()
    }

    function Test-TestProcessAlive {
        param([Parameter(Mandatory)] [int] $ProcessId)
        # A zombie still has a /proc entry: count it as gone.
        $statPath = "/proc/$ProcessId/stat"
        if (-not (Test-Path -LiteralPath $statPath)) {
            return $false
        }
        try {
            $stat = [System.IO.File]::ReadAllText($statPath)
        }
        catch {
            return $false
        }
        $stat.Substring($stat.LastIndexOf(')') + 2)[0] -ne 'Z'
    }

    $script:Web = Start-TestHttpServer
}

AfterAll {
    Stop-TestHttpServer -Server $script:Web
}

Describe 'Start-TestHttpServer (the target behind every proxy)' {
    It 'serves its token on loopback, straight to curl' {
        $answer = Invoke-TestCurl -ArgumentList @($script:Web.Url)

        $answer.ExitCode | Should -Be 0 -Because $answer.Error
        $answer.Output | Should -BeExactly $script:Web.Token
        $script:Web.Token | Should -Match '^sockps-http-[0-9a-f]{32}$'
    }
}

Describe 'Get-TestListeningEndPoint and the readiness check' {
    BeforeAll {
        $script:Held = [System.Net.Sockets.Socket]::new('InterNetwork', 'Stream', 'Tcp')
        $script:Held.Bind([System.Net.IPEndPoint]::new([System.Net.IPAddress]::Loopback, 0))
        $script:Held.Listen(1)
        $script:HeldPort = $script:Held.LocalEndPoint.Port
    }

    AfterAll {
        $script:Held.Dispose()
    }

    It 'finds the listening sockets of this very process, and no others' {
        $mine = @(Get-TestListeningEndPoint -ProcessId $PID)

        $mine | Where-Object { $_.Port -eq $script:HeldPort -and $_.Address.Equals([System.Net.IPAddress]::Loopback) } |
            Should -Not -BeNullOrEmpty
        # The http.server's port belongs to python3, not to us.
        $mine | Where-Object { $_.Port -eq $script:Web.Port } | Should -BeNullOrEmpty
        @(Get-TestListeningEndPoint -ProcessId $script:Web.ProcessId).Port | Should -Contain $script:Web.Port
    }

    It 'tells a daemon that lost its port (it exits saying so) from one that listens' {
        # microsocks on a port this process holds: it cannot bind, says so and exits.
        $loser = Start-TestProcess -FilePath 'microsocks' -ArgumentList @('-i', '127.0.0.1', '-p', [string]$script:HeldPort)
        try {
            $module = Get-Module -Name 'SockPS.RemotePeers'
            $listening = & $module {
                param($process, $port)
                Wait-TestListener -Process $process -Port $port -Address ([System.Net.IPAddress]::Loopback) -InUsePattern 'Address already in use'
            } $loser $script:HeldPort

            $listening | Should -BeFalse
            $loser.ErrorLines -join "`n" | Should -Match 'Address already in use'
        }
        finally {
            Stop-TestProcess -Process $loser
        }
    }
}

Describe 'Start-TestSshd' {
    BeforeAll {
        $script:Sshd = Start-TestSshd
        $script:SshArguments = Get-TestSshClientArgument -Sshd $script:Sshd
    }

    AfterAll {
        Stop-TestSshd -Sshd $script:Sshd
    }

    It 'listens on 127.0.0.1 and ::1 at the port it reports, in the process it reports, and answers with an SSH banner' {
        $endPoints = @(Get-TestListeningEndPoint -ProcessId $script:Sshd.ProcessId | Where-Object { $_.Port -eq $script:Sshd.Port })
        # ForEach-Object, not .Address: an array has an Address() method of its own.
        $addresses = @($endPoints | ForEach-Object -MemberName Address)
        $addresses | Should -Contain ([System.Net.IPAddress]::Loopback)
        if ($script:Sshd.Address.Count -gt 1) {
            $addresses | Should -Contain ([System.Net.IPAddress]::IPv6Loopback)
        }
        # Never anything but loopback.
        $endPoints | Where-Object { -not [System.Net.IPAddress]::IsLoopback($_.Address) } | Should -BeNullOrEmpty

        (Get-Content -LiteralPath $script:Sshd.PidFilePath -Raw).Trim() | Should -Be ([string]$script:Sshd.ProcessId)
        Read-TestBanner -Address ([System.Net.IPAddress]::Loopback) -Port $script:Sshd.Port | Should -Match '^SSH-2\.0-OpenSSH'
        $script:Sshd.Process.ErrorLines -join "`n" | Should -Match "Server listening on 127\.0\.0\.1 port $($script:Sshd.Port)\."
    }

    It 'lets the throw-away key in as <_>, with the host key checked strictly' -ForEach @('127.0.0.1', 'localhost', '::1') {
        if ($_ -eq '::1' -and $script:Sshd.Address.Count -lt 2) {
            Set-ItResult -Skipped -Because 'IPv6 loopback cannot be bound on this machine'
        }

        $answer = Invoke-TestSsh -ArgumentList ($script:SshArguments + @($_, 'id -un; echo "$SSH_CONNECTION"'))

        $answer.ExitCode | Should -Be 0 -Because $answer.Error
        $lines = $answer.Output -split "`n"
        $lines[0] | Should -BeExactly $script:Sshd.UserName
        # SSH_CONNECTION: client address, client port, server address, server port.
        ($lines[1] -split ' ')[3] | Should -Be ([string]$script:Sshd.Port)
    }

    It 'refuses a key it was not given' {
        $otherKey = Join-Path -Path $TestDrive -ChildPath 'other_key'
        $null = & ssh-keygen -q -t ed25519 -N '' -C 'not-authorized' -f $otherKey
        $arguments = [string[]]$script:SshArguments.Clone()
        $arguments[[array]::IndexOf($arguments, '-i') + 1] = $otherKey

        $answer = Invoke-TestSsh -ArgumentList ($arguments + @('127.0.0.1', 'true'))

        $answer.ExitCode | Should -Be 255
        $answer.Error | Should -Match 'Permission denied \(publickey\)'
    }

    It 'is refused by a client that expects another host key (the client checks strictly)' {
        $otherHostKey = Join-Path -Path $TestDrive -ChildPath 'other_host_key'
        $null = & ssh-keygen -q -t ed25519 -N '' -C 'someone-else' -f $otherHostKey
        $wrongKnownHosts = Join-Path -Path $TestDrive -ChildPath 'wrong_known_hosts'
        Set-Content -LiteralPath $wrongKnownHosts -Value "[127.0.0.1]:$($script:Sshd.Port) $((Get-Content -LiteralPath "$otherHostKey.pub" -Raw).Trim())"
        $arguments = [string[]]$script:SshArguments.Clone()
        $arguments[[array]::IndexOf($arguments, "UserKnownHostsFile=$($script:Sshd.KnownHostsPath)")] = "UserKnownHostsFile=$wrongKnownHosts"

        $answer = Invoke-TestSsh -ArgumentList ($arguments + @('127.0.0.1', 'true'))

        $answer.ExitCode | Should -Be 255
        $answer.Error | Should -Match 'Host key verification failed|REMOTE HOST IDENTIFICATION HAS CHANGED'
    }

    It 'runs the PowerShell subsystem with a standalone pwsh of the pinned version' {
        $manifest = Get-Content -LiteralPath "$PSScriptRoot/../../.config/dotnet-tools.json" -Raw | ConvertFrom-Json
        $session = New-PSSession -HostName 127.0.0.1 -Port $script:Sshd.Port -UserName $script:Sshd.UserName `
            -KeyFilePath $script:Sshd.KeyFilePath -Options (Get-TestSshSessionOption -Sshd $script:Sshd) -ConnectingTimeout 120000 -ErrorAction Stop
        try {
            $remote = Invoke-Command -Session $session -ScriptBlock {
                [pscustomobject]@{ Version = $PSVersionTable.PSVersion.ToString(); ProcessId = $PID; User = [Environment]::UserName }
            }
        }
        finally {
            Remove-PSSession -Session $session
        }

        $remote.Version | Should -Be $manifest.tools.powershell.version
        $remote.ProcessId | Should -Not -Be $PID
        $remote.User | Should -Be $script:Sshd.UserName
        $script:Sshd.PwshPath | Should -BeLike '*/out/tools/pwsh-*/pwsh'
    }

    It 'stops by process id: sshd, its session children and its folder are gone' {
        $own = Start-TestSshd -NoPowerShellSubsystem
        $session = $null
        try {
            # An open session: sshd forks a child for it, which must go too.
            $session = Start-TestProcess -FilePath 'ssh' -ArgumentList ((Get-TestSshClientArgument -Sshd $own) + @('-N', '127.0.0.1'))
            Wait-TestCondition -Description 'sshd forking a child for the session' -Condition {
                @(Get-TestDescendantProcessId -ProcessId $own.ProcessId).Count -gt 0
            }
            $children = @(Get-TestDescendantProcessId -ProcessId $own.ProcessId)

            Stop-TestSshd -Sshd $own

            Test-TestProcessAlive -ProcessId $own.ProcessId | Should -BeFalse
            foreach ($child in $children) {
                Test-TestProcessAlive -ProcessId $child | Should -BeFalse -Because "sshd's child $child must stop with it"
            }
            Test-Path -LiteralPath $own.Directory | Should -BeFalse
            # The client saw its server go away.
            Wait-TestProcessExit -Process $session | Should -Be 255
        }
        finally {
            Stop-TestProcess -Process $session
            Stop-TestSshd -Sshd $own
        }
    }
}

Describe 'Start-TestSocksProxy (microsocks, SOCKS5)' {
    BeforeAll {
        $script:Open = Start-TestSocksProxy
        $script:Locked = Start-TestSocksProxy -UserName 'alice' -Password 'op3n sesame'
    }

    AfterAll {
        Stop-TestSocksProxy -Proxy $script:Open, $script:Locked
    }

    It 'forwards to the target without a password (socks5 and socks5h)' {
        $byAddress = Invoke-TestCurl -ArgumentList @('--proxy', "socks5://127.0.0.1:$($script:Open.Port)", $script:Web.Url)
        $byName = Invoke-TestCurl -ArgumentList @('--proxy', "socks5h://127.0.0.1:$($script:Open.Port)", "http://localhost:$($script:Web.Port)/index.html")

        $byAddress.ExitCode | Should -Be 0 -Because $byAddress.Error
        $byAddress.Output | Should -BeExactly $script:Web.Token
        $byName.ExitCode | Should -Be 0 -Because $byName.Error
        $byName.Output | Should -BeExactly $script:Web.Token
        $script:Open.Uri | Should -Be "socks5://127.0.0.1:$($script:Open.Port)"
    }

    It 'forwards with the right username and password' {
        $answer = Invoke-TestCurl -ArgumentList @('--socks5-hostname', "127.0.0.1:$($script:Locked.Port)",
            '--proxy-user', "$($script:Locked.UserName):$($script:Locked.Password)", $script:Web.Url)

        $answer.ExitCode | Should -Be 0 -Because $answer.Error
        $answer.Output | Should -BeExactly $script:Web.Token
    }

    It 'refuses a wrong password, and a client that offers none' {
        $wrong = Invoke-TestCurl -ArgumentList @('--socks5', "127.0.0.1:$($script:Locked.Port)",
            '--proxy-user', "$($script:Locked.UserName):wrong", $script:Web.Url)
        $none = Invoke-TestCurl -ArgumentList @('--socks5', "127.0.0.1:$($script:Locked.Port)", $script:Web.Url)

        # curl's 97: CURLE_PROXY, the proxy said no.
        $wrong.ExitCode | Should -Be 97
        $wrong.Error | Should -Match 'rejected'
        $wrong.Output | Should -Not -Match $script:Web.Token
        $none.ExitCode | Should -Be 97
        $none.Error | Should -Match 'No authentication method was acceptable'
        $none.Output | Should -Not -Match $script:Web.Token
    }

    It 'stops by process id' {
        $own = Start-TestSocksProxy
        Stop-TestSocksProxy -Proxy $own

        Test-TestProcessAlive -ProcessId $own.ProcessId | Should -BeFalse
        Test-Path -LiteralPath $own.Directory | Should -BeFalse
    }
}

Describe 'Start-TestDante (dante-server, SOCKS4 and SOCKS5 without authentication)' {
    BeforeAll {
        $script:Dante = Start-TestDante
        # Only the web server's port may be reached through this one.
        $script:Strict = Start-TestDante -AllowedPort $script:Web.Port
    }

    AfterAll {
        Stop-TestDante -Proxy $script:Dante, $script:Strict
    }

    It 'forwards to the target over <_>' -ForEach @('socks5', 'socks5h', 'socks4') {
        $target = if ($_ -eq 'socks5h') { "http://localhost:$($script:Web.Port)/index.html" } else { $script:Web.Url }
        $answer = Invoke-TestCurl -ArgumentList @('--proxy', "$($_)://127.0.0.1:$($script:Dante.Port)", $target)

        $answer.ExitCode | Should -Be 0 -Because $answer.Error
        $answer.Output | Should -BeExactly $script:Web.Token
        # Dante logs each tunnel it passes.
        Wait-TestProcessLine -Process $script:Dante.Process -Stream Error -Pattern "pass\(\d+\): tcp/connect .* -> .*127\.0\.0\.1\.$($script:Web.Port)\b" |
            Should -Not -BeNullOrEmpty
    }

    It 'refuses a target its rules do not allow (SOCKS5 reply 2, not allowed by ruleset)' {
        $allowed = Invoke-TestCurl -ArgumentList @('--proxy', "socks5://127.0.0.1:$($script:Strict.Port)", $script:Web.Url)
        # The proxy's own port: on loopback, but not in the rules.
        $refused = Invoke-TestCurl -ArgumentList @('--proxy', "socks5://127.0.0.1:$($script:Strict.Port)", "http://127.0.0.1:$($script:Strict.Port)/")

        $allowed.ExitCode | Should -Be 0 -Because $allowed.Error
        $allowed.Output | Should -BeExactly $script:Web.Token
        $refused.ExitCode | Should -Be 97
        $refused.Error | Should -Match '\(2\)'
        Wait-TestProcessLine -Process $script:Strict.Process -Stream Error -Pattern "block\(\d+\): tcp/connect .*127\.0\.0\.1\.$($script:Strict.Port)\b" |
            Should -Not -BeNullOrEmpty
    }

    It 'stops by process id, with every child it forked' {
        $own = Start-TestDante
        try {
            # Dante forks its negotiate, request and io children once it listens.
            Wait-TestCondition -Description 'dante forking its children' -Condition {
                @(Get-TestDescendantProcessId -ProcessId $own.ProcessId).Count -ge 3
            }
            $children = @(Get-TestDescendantProcessId -ProcessId $own.ProcessId)

            Stop-TestDante -Proxy $own

            Test-TestProcessAlive -ProcessId $own.ProcessId | Should -BeFalse
            foreach ($child in $children) {
                Test-TestProcessAlive -ProcessId $child | Should -BeFalse -Because "dante's child $child must stop with it"
            }
            Test-Path -LiteralPath $own.Directory | Should -BeFalse
        }
        finally {
            Stop-TestDante -Proxy $own
        }
    }
}

Describe 'Start-TestHttpProxy (tinyproxy, HTTP CONNECT)' {
    BeforeAll {
        $script:Tiny = Start-TestHttpProxy -UserName 'bob' -Password 'pa55word' -ConnectPort $script:Web.Port
        $script:TinyOpen = Start-TestHttpProxy
    }

    AfterAll {
        Stop-TestHttpProxy -Proxy $script:Tiny, $script:TinyOpen
    }

    It 'tunnels with CONNECT and the right Basic credentials' {
        # --proxytunnel: CONNECT even for http://, the way SockPS will use the proxy.
        $answer = Invoke-TestCurl -ArgumentList @('--proxytunnel', '--proxy', "http://bob:pa55word@127.0.0.1:$($script:Tiny.Port)", $script:Web.Url)

        $answer.ExitCode | Should -Be 0 -Because $answer.Error
        $answer.Output | Should -BeExactly $script:Web.Token
        Wait-TestProcessLine -Process $script:Tiny.Process -Pattern "Request \(file descriptor \d+\): CONNECT 127\.0\.0\.1:$($script:Web.Port) " |
            Should -Not -BeNullOrEmpty
    }

    It 'tunnels without credentials when none are configured' {
        $answer = Invoke-TestCurl -ArgumentList @('--proxytunnel', '--proxy', $script:TinyOpen.Uri, $script:Web.Url)

        $answer.ExitCode | Should -Be 0 -Because $answer.Error
        $answer.Output | Should -BeExactly $script:Web.Token
    }

    It 'refuses a wrong password (401) and missing credentials (407)' {
        $wrong = Invoke-TestCurl -ArgumentList @('--proxytunnel', '--proxy', "http://bob:wrong@127.0.0.1:$($script:Tiny.Port)", $script:Web.Url)
        $none = Invoke-TestCurl -ArgumentList @('--proxytunnel', '--proxy', $script:Tiny.Uri, $script:Web.Url)

        # tinyproxy 1.11 answers wrong Basic credentials with "401 Unauthorized", none with 407.
        $wrong.ExitCode | Should -Be 56
        $wrong.Error | Should -Match 'CONNECT tunnel failed, response 401'
        $wrong.Output | Should -Not -Match $script:Web.Token
        $none.ExitCode | Should -Be 56
        $none.Error | Should -Match 'CONNECT tunnel failed, response 407'
    }

    It 'refuses CONNECT to a port that is not a ConnectPort (403)' {
        $answer = Invoke-TestCurl -ArgumentList @('--proxytunnel', '--proxy', "http://bob:pa55word@127.0.0.1:$($script:Tiny.Port)",
            "http://127.0.0.1:$($script:Tiny.Port)/")

        $answer.ExitCode | Should -Be 56
        $answer.Error | Should -Match 'CONNECT tunnel failed, response 403'
    }

    It 'stops by process id' {
        $own = Start-TestHttpProxy
        Stop-TestHttpProxy -Proxy $own

        Test-TestProcessAlive -ProcessId $own.ProcessId | Should -BeFalse
        Test-Path -LiteralPath $own.Directory | Should -BeFalse
    }
}

Describe 'Start-TestSshDynamicForward (ssh -D: SOCKS through the test sshd)' {
    BeforeAll {
        $script:ForwardSshd = Start-TestSshd -NoPowerShellSubsystem
        $script:Forward = Start-TestSshDynamicForward -Sshd $script:ForwardSshd
    }

    AfterAll {
        Stop-TestSshDynamicForward -Forward $script:Forward
        Stop-TestSshd -Sshd $script:ForwardSshd
    }

    It 'forwards to the target over <_>' -ForEach @('socks5', 'socks5h', 'socks4', 'socks4a') {
        $target = if ($_ -in 'socks5h', 'socks4a') { "http://localhost:$($script:Web.Port)/index.html" } else { $script:Web.Url }
        $answer = Invoke-TestCurl -ArgumentList @('--proxy', "$($_)://127.0.0.1:$($script:Forward.Port)", $target)

        $answer.ExitCode | Should -Be 0 -Because $answer.Error
        $answer.Output | Should -BeExactly $script:Web.Token
    }

    It 'stops by process id, leaving the sshd up' {
        $own = Start-TestSshDynamicForward -Sshd $script:ForwardSshd
        Stop-TestSshDynamicForward -Forward $own

        Test-TestProcessAlive -ProcessId $own.ProcessId | Should -BeFalse
        Test-TestProcessAlive -ProcessId $script:ForwardSshd.ProcessId | Should -BeTrue
        Read-TestBanner -Address ([System.Net.IPAddress]::Loopback) -Port $script:ForwardSshd.Port | Should -Match '^SSH-2\.0-'
    }
}
