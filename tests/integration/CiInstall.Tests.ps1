#Requires -Version 7.4
# .ci/install-packages, the install part of .ci/run: installs the Debian packages when missing,
# with the install quirks handled, and does nothing the second time.
#
# Uninstalling packages on a shared machine to watch them come back is not an option, so most
# cases run against a stand-in system: SOCKPS_CI_ROOT points the script's writes (policy-rc.d,
# /etc/postfix, /etc/news) at a folder, and small stand-ins for dpkg-query, apt-get, dpkg and
# debconf-set-selections come first on PATH. They keep each package's status in a file and act
# the way the real ones did here: inn2's postinst fails while inn.conf names no domain or
# postfix's main.cf is missing. The last case runs the script for real on this machine.

BeforeDiscovery {
    $notDebian = $IsWindows -or -not (Get-Command -Name dpkg-query -CommandType Application -ErrorAction SilentlyContinue)
}

BeforeAll {
    Import-Module "$PSScriptRoot/../pester/SockPS.TestHelpers.psm1" -Force

    $script = Join-Path -Path $PSScriptRoot -ChildPath '../../.ci/install-packages' -Resolve
    # The package list, read from the script itself, so the test follows it.
    $scriptText = Get-Content -LiteralPath $script -Raw
    $allPackages = @([regex]::Match($scriptText, '(?s)packages=\((.*?)\n\)').Groups[1].Value -split '\n' |
        Where-Object { $_ -notmatch '^\s*#' } | ForEach-Object { $_.Trim() -split '\s+' } | Where-Object { $_ })

    function New-StandInSystem {
        # A folder standing for /, the stand-in commands and their state; -Installed packages
        # start as installed ("ii ").
        param([string[]] $Installed = @())

        $base = Join-Path -Path $TestDrive -ChildPath ([guid]::NewGuid().ToString('n'))
        $system = [pscustomobject]@{
            Root  = Join-Path $base 'root'
            Bin   = Join-Path $base 'bin'
            State = Join-Path $base 'state'
        }
        foreach ($folder in $system.Root, $system.Bin, (Join-Path $system.State 'status')) {
            $null = New-Item -ItemType Directory -Path $folder -Force
        }
        foreach ($package in $Installed) {
            Set-TestPackageStatus -System $system -Package $package -Status 'ii '
        }
        $quirksFixed = '[[ -f $SOCKPS_CI_ROOT/etc/postfix/main.cf ]] && grep -q "^domain: " "$SOCKPS_CI_ROOT/etc/news/inn.conf"'
        $standIns = @{
            # dpkg-query -W -f='${Package} ${db:Status-Abbrev}\n' <package>...
            'dpkg-query'             = @'
shift 2; found=0
for package in "$@"; do
    if [[ -f $STATE/status/$package ]]; then echo "$package $(cat "$STATE/status/$package")"; else echo "dpkg-query: no packages found matching $package" >&2; found=1; fi
done
exit $found
'@
            'debconf-set-selections' = @'
echo "debconf-set-selections" >> "$STATE/calls.log"
cat >> "$STATE/debconf"
'@
            'apt-get'                = @"
echo "apt-get `$*" >> "`$STATE/calls.log"
[[ `$1 == install ]] || exit 0
"`$SOCKPS_CI_ROOT/usr/sbin/policy-rc.d" start; echo `$? >> "`$STATE/policy-rc.d.log"
shift; failed=0
while ((`$# > 0)); do
    case `$1 in
        -o) shift 2; continue ;;
        -*) shift; continue ;;
        postfix)
            mkdir -p "`$SOCKPS_CI_ROOT/etc/postfix"
            grep -q 'main_mailer_type select No configuration' "`$STATE/debconf" 2>/dev/null || echo postfix >> "`$STATE/asked.log"
            printf 'ii ' > "`$STATE/status/postfix" ;;
        inn2)
            mkdir -p "`$SOCKPS_CI_ROOT/etc/news"
            [[ -f `$SOCKPS_CI_ROOT/etc/news/inn.conf ]] || printf 'organization: "from the package"\n' > "`$SOCKPS_CI_ROOT/etc/news/inn.conf"
            if $quirksFixed; then printf 'ii ' > "`$STATE/status/inn2"; else printf 'iF ' > "`$STATE/status/inn2"; failed=1; fi ;;
        *) printf 'ii ' > "`$STATE/status/`$1" ;;
    esac
    shift
done
exit `$((failed * 100))
"@
            'dpkg'                   = @"
echo "dpkg `$*" >> "`$STATE/calls.log"
[[ `$* == '--configure -a' ]] || exit 2
for file in "`$STATE"/status/*; do
    [[ `$(cat "`$file") == 'iF ' ]] || continue
    if $quirksFixed; then printf 'ii ' > "`$file"; else exit 1; fi
done
"@
        }
        foreach ($name in $standIns.Keys) {
            $path = Join-Path $system.Bin $name
            Set-Content -LiteralPath $path -Value "#!/usr/bin/env bash`nset -u`n$($standIns[$name])"
            & chmod 0755 $path
        }
        $system
    }

    function Set-TestPackageStatus {
        param($System, [string] $Package, [string] $Status)
        [System.IO.File]::WriteAllText((Join-Path $System.State "status/$Package"), $Status)
    }

    function Get-TestPackageStatus {
        param($System, [string] $Package)
        $path = Join-Path $System.State "status/$Package"
        if (Test-Path -LiteralPath $path) { [System.IO.File]::ReadAllText($path) } else { '' }
    }

    function Get-TestCall {
        param($System)
        $path = Join-Path $System.State 'calls.log'
        if (Test-Path -LiteralPath $path) { @(Get-Content -LiteralPath $path) } else { @() }
    }

    function Invoke-InstallScript {
        # Runs .ci/install-packages against -System (or, without it, this machine with
        # -Path first on PATH); returns [pscustomobject]@{ ExitCode; Output }.
        param($System, [string] $Path)

        $environment = @{}
        if ($System) {
            $environment = @{ SOCKPS_CI_ROOT = $System.Root; STATE = $System.State; PATH = "$($System.Bin):$env:PATH" }
        }
        elseif ($Path) {
            $environment = @{ PATH = "${Path}:$env:PATH" }
        }
        $process = Start-TestProcess -FilePath bash -ArgumentList @($script) -Environment $environment
        try {
            $exitCode = Wait-TestProcessExit -Process $process -TimeoutSeconds 120
            [pscustomobject]@{
                ExitCode = $exitCode
                Output   = @($process.OutputLines) + @($process.ErrorLines)
                Transcript = $process.Transcript()
            }
        }
        finally {
            Stop-TestProcess -Process $process
        }
    }
}

AfterAll {
    Stop-TestProcess -All
}

Describe '.ci/install-packages on a stand-in system' {
    It 'knows every package the issues ask for' {
        foreach ($package in 'socat', 'ncat', 'openssl', 'python3', 'nginx', 'vsftpd', 'inn2', 'inetutils-telnetd', 'gophernicus',
            'dnsmasq', 'postfix', 'dovecot-imapd', 'dovecot-pop3d', 'tmux', 'openssh-server', 'microsocks', 'dante-server',
            'tinyproxy', 'node-ws', 'python3-websockets') {
            $allPackages | Should -Contain $package
        }
    }

    It 'installs everything, with no service started and the quirks handled, then does nothing the second time' {
        $system = New-StandInSystem

        $first = Invoke-InstallScript -System $system

        $first.ExitCode | Should -Be 0 -Because $first.Transcript
        $calls = Get-TestCall -System $system
        $calls | Should -BeExactly @(
            'debconf-set-selections'
            'apt-get update -q'
            "apt-get install -y -q --no-install-recommends -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold $($allPackages -join ' ')"
            'dpkg --configure -a'
        )
        # postfix was preseeded before apt-get, so it asked nothing.
        Test-Path -LiteralPath (Join-Path $system.State 'asked.log') | Should -BeFalse
        # The policy-rc.d stood during the install and said no (101) to starting anything ...
        Get-Content -LiteralPath (Join-Path $system.State 'policy-rc.d.log') | Should -BeExactly '101'
        # ... and went away after it, as it was not there before.
        Test-Path -LiteralPath (Join-Path $system.Root 'usr/sbin/policy-rc.d') | Should -BeFalse
        Test-Path -LiteralPath (Join-Path $system.Root 'etc/postfix/main.cf') | Should -BeTrue
        $innConf = Get-Content -LiteralPath (Join-Path $system.Root 'etc/news/inn.conf')
        $innConf | Should -Contain 'organization: "from the package"'
        @($innConf -match '^domain: ') | Should -BeExactly @('domain: localdomain')
        foreach ($package in $allPackages) {
            Get-TestPackageStatus -System $system -Package $package | Should -BeExactly 'ii ' -Because "$package should be installed"
        }

        $second = Invoke-InstallScript -System $system

        $second.ExitCode | Should -Be 0 -Because $second.Transcript
        $second.Output | Should -Contain "install-packages: all $($allPackages.Count) packages are installed; nothing to do."
        Get-TestCall -System $system | Should -BeExactly $calls -Because 'the second run must not call apt-get, dpkg or debconf'
        @((Get-Content -LiteralPath (Join-Path $system.Root 'etc/news/inn.conf')) -match '^domain: ') | Should -HaveCount 1
    }

    It 'installs only what is missing and keeps a policy-rc.d that was there before' {
        $system = New-StandInSystem -Installed ($allPackages | Where-Object { $_ -ne 'tmux' })
        $policy = Join-Path $system.Root 'usr/sbin/policy-rc.d'
        $null = New-Item -ItemType Directory -Path (Split-Path $policy) -Force
        Set-Content -LiteralPath $policy -Value "#!/bin/sh`n# the machine's own`nexit 101"
        & chmod 0755 $policy

        $result = Invoke-InstallScript -System $system

        $result.ExitCode | Should -Be 0 -Because $result.Transcript
        $calls = Get-TestCall -System $system
        $calls | Should -Contain 'apt-get install -y -q --no-install-recommends -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold tmux'
        $calls | Should -Not -Contain 'debconf-set-selections' -Because 'postfix was installed already'
        Get-Content -LiteralPath $policy | Should -Contain "# the machine's own"
        Get-TestPackageStatus -System $system -Package tmux | Should -BeExactly 'ii '
    }

    It 'finishes a package an earlier failed run left half-configured, without apt-get' {
        $system = New-StandInSystem -Installed ($allPackages | Where-Object { $_ -ne 'inn2' })
        Set-TestPackageStatus -System $system -Package inn2 -Status 'iF '
        $null = New-Item -ItemType Directory -Path (Join-Path $system.Root 'etc/news'), (Join-Path $system.Root 'etc/postfix') -Force
        Set-Content -LiteralPath (Join-Path $system.Root 'etc/news/inn.conf') -Value '#domain: commented out does not count'
        Set-Content -LiteralPath (Join-Path $system.Root 'etc/postfix/main.cf') -Value '# the machine''s own'

        $result = Invoke-InstallScript -System $system

        $result.ExitCode | Should -Be 0 -Because $result.Transcript
        Get-TestCall -System $system | Should -BeExactly @('dpkg --configure -a')
        Get-TestPackageStatus -System $system -Package inn2 | Should -BeExactly 'ii '
        Get-Content -LiteralPath (Join-Path $system.Root 'etc/news/inn.conf') | Should -Contain 'domain: localdomain'
        Get-Content -LiteralPath (Join-Path $system.Root 'etc/postfix/main.cf') | Should -BeExactly "# the machine's own"
    }

    It 'fails, naming the package, when a package still is not installed at the end' {
        $system = New-StandInSystem -Installed ($allPackages | Where-Object { $_ -ne 'nginx' })
        # An apt-get that installs nothing (a package the mirror lacks, say).
        Set-Content -LiteralPath (Join-Path $system.Bin 'apt-get') -Value "#!/usr/bin/env bash`necho `"apt-get `$*`" >> `"`$STATE/calls.log`""

        $result = Invoke-InstallScript -System $system

        $result.ExitCode | Should -Be 1
        $result.Output | Should -Contain 'install-packages: still not installed: nginx '
    }
}

Describe '.ci/install-packages on this machine' -Skip:$notDebian {
    It 'does nothing, twice, when every package is installed' {
        # apt-get, dpkg and debconf-set-selections that fail loudly if called at all.
        $bin = Join-Path $TestDrive 'refuse'
        $null = New-Item -ItemType Directory -Path $bin
        foreach ($name in 'apt-get', 'dpkg', 'debconf-set-selections', 'sudo') {
            Set-Content -LiteralPath (Join-Path $bin $name) -Value "#!/bin/sh`necho `"called $name `$*`" >&2`nexit 99"
            & chmod 0755 (Join-Path $bin $name)
        }
        $status = Get-FileHash -LiteralPath /var/lib/dpkg/status

        foreach ($run in 1, 2) {
            $result = Invoke-InstallScript -Path $bin
            $result.ExitCode | Should -Be 0 -Because $result.Transcript
            $result.Output | Should -BeExactly @("install-packages: all $($allPackages.Count) packages are installed; nothing to do.")
        }
        (Get-FileHash -LiteralPath /var/lib/dpkg/status).Hash | Should -BeExactly $status.Hash
    }
}
