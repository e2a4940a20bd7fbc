#Requires -Version 7.4
# Issue 13, items 4 and 5: SockPS in the runspaces of one process (ForEach-Object -Parallel,
# Start-ThreadJob). Remove-Module in one runspace closes only what that runspace opened while
# another still has the module; the last removal closes the rest. A module imported by path is
# found by name in those runspaces. Each case runs in a fresh pwsh, because it removes the module
# from the runspace it was imported in (the suite's own runspace keeps its module); the child
# prints one JSON line of what it saw.

BeforeAll {
    Import-Module "$PSScriptRoot/SockPS.TestHelpers.psm1" -Force
    $script:Module = $env:SOCKPS_MODULE_PATH

    # Runs $Script in a fresh pwsh after importing the module by path, and returns the object
    # the script printed as a line 'result <json>'.
    function Invoke-Child {
        param([Parameter(Mandatory)] [string] $Script)

        $body = "Set-StrictMode -Version Latest`n`$ErrorActionPreference = 'Stop'`n`$m = '$script:Module'`nImport-Module `$m`n$Script"
        $file = Join-Path -Path $TestDrive -ChildPath "child-$([guid]::NewGuid().ToString('n')).ps1"
        Set-Content -LiteralPath $file -Value $body
        $child = Start-TestPwsh -File $file
        try {
            $line = Wait-TestProcessLine -Process $child -Pattern '^result (.*)$' -TimeoutSeconds 120
            $null = Wait-TestProcessExit -Process $child -TimeoutSeconds 60 -ExpectedExitCode 0
            $line.Groups[1].Value | ConvertFrom-Json
        }
        finally {
            Stop-TestProcess -Process $child
        }
    }
}

Describe 'Remove-Module SockPS with several runspaces' {
    It 'ForEach-Object -Parallel: the iteration''s removal closes its own connection, not the caller''s server and connections' {
        $r = Invoke-Child @'
$s = Start-SocketServer -Port 0
$c = Connect-Socket 127.0.0.1 $s.LocalEndPoint.Port
$accepted = Wait-SocketConnection $s -TimeoutSeconds 20
$inner = 1 | ForEach-Object -Parallel {
    Import-Module $using:m
    $x = Connect-Socket 127.0.0.1 ($using:s).LocalEndPoint.Port
    $count = [SockPS.Commands.SocketRegistry]::ImportCount
    Remove-Module SockPS
    [pscustomobject]@{ Count = $count; State = "$($x.State)"; Reason = "$($x.CloseReason)"; Id = $x.Id }
}
$after = [pscustomobject]@{ Server = "$($s.State)"; Client = "$($c.State)"; Accepted = "$($accepted.State)"
    Count = [SockPS.Commands.SocketRegistry]::ImportCount; Listed = @(Get-SocketConnection).Count }
Remove-Module SockPS
$last = [pscustomobject]@{ Server = "$($s.State)"; Client = "$($c.State)"; Accepted = "$($accepted.State)" }
'result ' + (@{ Inner = $inner; After = $after; Last = $last } | ConvertTo-Json -Compress -Depth 3)
'@
        $r.Inner.Count | Should -Be 2 -Because 'the caller and the iteration had the module'
        $r.Inner.State | Should -Be 'Disconnected'
        $r.Inner.Reason | Should -Match 'module was removed'
        $r.After.Server | Should -Be 'Listening'
        $r.After.Client | Should -Be 'Open'
        $r.After.Accepted | Should -Be 'Open'
        $r.After.Count | Should -Be 1
        # The server's side of the iteration's connection (accepted by the caller's server) is the
        # caller's: it stays (client, its accepted end, and the accepted end of the inner one).
        $r.After.Listed | Should -Be 3
        $r.Last.Server | Should -Be 'Stopped'
        $r.Last.Client | Should -Be 'Disconnected'
        $r.Last.Accepted | Should -Be 'Disconnected'
    }

    It 'Start-ThreadJob: the caller''s removal leaves the job''s server and connection open; the job''s (last) removal closes them' {
        $r = Invoke-Child @'
$s = Start-SocketServer -Port 0
$c = Connect-Socket 127.0.0.1 $s.LocalEndPoint.Port
$ready = [System.Threading.ManualResetEventSlim]::new($false)
$go = [System.Threading.ManualResetEventSlim]::new($false)
$job = Start-ThreadJob {
    Import-Module $using:m
    $t = Start-SocketServer -Port 0
    $x = Connect-Socket 127.0.0.1 $t.LocalEndPoint.Port
    ($using:ready).Set()
    if (-not ($using:go).Wait(60000)) { throw 'the caller did not signal' }
    $before = [pscustomobject]@{ Server = "$($t.State)"; Client = "$($x.State)"; Count = [SockPS.Commands.SocketRegistry]::ImportCount }
    Remove-Module SockPS
    [pscustomobject]@{ Before = $before; Server = "$($t.State)"; Client = "$($x.State)" }
}
if (-not $ready.Wait(60000)) { throw "the job did not start: $($job.State) $($job.Error)" }
Remove-Module SockPS
$caller = [pscustomobject]@{ Server = "$($s.State)"; Client = "$($c.State)" }
$go.Set()
$fromJob = Receive-Job $job -Wait -AutoRemoveJob
'result ' + (@{ Caller = $caller; Job = $fromJob } | ConvertTo-Json -Compress -Depth 3)
'@
        $r.Caller.Server | Should -Be 'Stopped' -Because 'the caller removed the module: what it opened closes'
        $r.Caller.Client | Should -Be 'Disconnected'
        $r.Job.Before.Server | Should -Be 'Listening' -Because 'the job still had the module imported'
        $r.Job.Before.Client | Should -Be 'Open'
        $r.Job.Before.Count | Should -Be 1
        $r.Job.Server | Should -Be 'Stopped' -Because 'the job''s removal was the last'
        $r.Job.Client | Should -Be 'Disconnected'
    }

    It 'a thread job that ends without removing the module stops counting and leaves what it handed over open' {
        $r = Invoke-Child @'
$s = Start-SocketServer -Port 0
$x = Start-ThreadJob { Import-Module $using:m; Connect-Socket 127.0.0.1 ($using:s).LocalEndPoint.Port } | Receive-Job -Wait -AutoRemoveJob
$state = "$($x.State)"
$count = [SockPS.Commands.SocketRegistry]::ImportCount
Remove-Module SockPS
'result ' + (@{ State = $state; Count = $count; After = "$($x.State)"; Server = "$($s.State)" } | ConvertTo-Json -Compress)
'@
        $r.State | Should -Be 'Open'
        $r.Count | Should -Be 1 -Because 'the job''s runspace closed'
        $r.After | Should -Be 'Disconnected' -Because 'the caller''s removal was the last: it closes everything'
        $r.Server | Should -Be 'Stopped'
    }
}

Describe 'a module imported by path, in thread jobs and -Parallel' {
    It 'puts its parent folder first on this process''s PSModulePath, once: -Parallel auto-loads and thread jobs import it by name' {
        $r = Invoke-Child @'
Import-Module $m   # a second import adds nothing
$s = Start-SocketServer -Port 0
$parallel = 1..2 | ForEach-Object -Parallel {
    # No Import-Module: the command auto-loads from the module path.
    $c = Connect-Socket 127.0.0.1 ($using:s).LocalEndPoint.Port
    Send-SocketData -Connection $c -InputObject "hi $_" -Line
    Disconnect-Socket -Connection $c
    (Get-Module SockPS).ModuleBase
}
$job = Start-ThreadJob { Import-Module SockPS; (Get-Module SockPS).ModuleBase } | Receive-Job -Wait -AutoRemoveJob
$entries = $env:PSModulePath.Split([System.IO.Path]::PathSeparator)
'result ' + (@{ First = $entries[0]; Times = @($entries | Where-Object { $_ -eq $entries[0] }).Count
    Parallel = @($parallel); Job = $job; Base = (Get-Module SockPS).ModuleBase } | ConvertTo-Json -Compress)
'@
        $r.First | Should -Be (Split-Path -Path $script:Module -Parent)
        $r.Times | Should -Be 1
        $r.Parallel | Should -Be @($r.Base, $r.Base) -Because 'each -Parallel iteration auto-loaded this copy'
        $r.Job | Should -Be $r.Base -Because 'Import-Module SockPS in a thread job found this copy by name'
    }

    It 'leaves PSModulePath alone when the folder is already on it' {
        $parent = Split-Path -Path $script:Module -Parent
        $r = Invoke-Child @"
`$entries = `$env:PSModulePath.Split([System.IO.Path]::PathSeparator)
'result ' + (@{ Count = @(`$entries | Where-Object { `$_.TrimEnd('/', '\') -eq '$parent' }).Count; First = `$entries[0] } | ConvertTo-Json -Compress)
"@
        $r.Count | Should -Be 1
        $r.First | Should -Be $parent
        # Now with the folder already listed (second in line) before the import:
        $body = "Set-StrictMode -Version Latest`n`$ErrorActionPreference = 'Stop'`n`$before = `$env:PSModulePath`nImport-Module '$script:Module'`n'result ' + (@{ Same = (`$env:PSModulePath -eq `$before) } | ConvertTo-Json -Compress)"
        $file = Join-Path -Path $TestDrive -ChildPath 'listed.ps1'
        Set-Content -LiteralPath $file -Value $body
        $child = Start-TestPwsh -File $file -Environment @{ PSModulePath = "$([System.IO.Path]::GetTempPath())$([System.IO.Path]::PathSeparator)$parent/" }
        try {
            $line = Wait-TestProcessLine -Process $child -Pattern '^result (.*)$' -TimeoutSeconds 120
            ($line.Groups[1].Value | ConvertFrom-Json).Same | Should -BeTrue
        }
        finally {
            Stop-TestProcess -Process $child
        }
    }

    It 'README''s STARTTLS example runs as written after Import-Module by path (the thread job finds the module)' {
        $readme = Get-Content -LiteralPath (Join-Path -Path $PSScriptRoot -ChildPath '../../README.md')
        $start = [array]::IndexOf($readme, 'PS> $plain = Start-SocketServer')
        $end = [array]::IndexOf($readme, 'PS> $client.Transport')
        $start | Should -BeGreaterThan 0 -Because 'README still has the STARTTLS example'
        $end | Should -BeGreaterThan $start
        $lines = $readme[$start..$end] | Where-Object { $_.StartsWith('PS> ') } | ForEach-Object { $_.Substring(4) }
        ($lines -join "`n") | Should -Match 'Start-ThreadJob'

        $work = New-Item -ItemType Directory -Path (Join-Path -Path $TestDrive -ChildPath 'starttls')
        $newCert = Join-Path -Path $PSScriptRoot -ChildPath '../../examples/New-TestCertificate.ps1' -Resolve
        $body = @(
            'Set-StrictMode -Version Latest'
            "`$ErrorActionPreference = 'Stop'"
            "& '$newCert' -Path ./certs | Out-Null"
            "Import-Module '$script:Module'"
            $lines
            "'end'"
        ) -join "`n"
        $file = Join-Path -Path $work -ChildPath 'starttls.ps1'
        Set-Content -LiteralPath $file -Value $body
        $child = Start-TestPwsh -File $file -WorkingDirectory $work.FullName
        try {
            $null = Wait-TestProcessExit -Process $child -TimeoutSeconds 120
            $child.ErrorLines | Should -BeNullOrEmpty -Because $child.Transcript()
            @($child.OutputLines) | Should -Be @('STARTTLS', '220 Go ahead', 'EHLO secret', 'Tls', 'end') -Because $child.Transcript()
        }
        finally {
            Stop-TestProcess -Process $child
        }
    }

    It 'README''s fan-out example runs as written after Import-Module by path (-AsJob, -Parallel without importing)' {
        $readme = Get-Content -LiteralPath (Join-Path -Path $PSScriptRoot -ChildPath '../../README.md')
        $start = [array]::IndexOf($readme, 'PS> $web = Start-SocketServer -Name web')
        $start | Should -BeGreaterThan 0 -Because 'README still has the fan-out example'
        $end = $start
        while ($readme[$end] -ne '```') { $end++ }
        $lines = $readme[$start..$end] | Where-Object { $_.StartsWith('PS> ') } | ForEach-Object { $_.Substring(4) }
        ($lines -join "`n") | Should -Match 'ForEach-Object -Parallel'

        $body = @(
            'Set-StrictMode -Version Latest'
            "`$ErrorActionPreference = 'Stop'"
            "Import-Module '$script:Module'"
            $lines
            "'end'"
        ) -join "`n"
        $work = New-Item -ItemType Directory -Path (Join-Path -Path $TestDrive -ChildPath 'fanout')
        $file = Join-Path -Path $work -ChildPath 'fanout.ps1'
        Set-Content -LiteralPath $file -Value $body
        $child = Start-TestPwsh -File $file -WorkingDirectory $work.FullName
        try {
            $null = Wait-TestProcessExit -Process $child -TimeoutSeconds 180
            # What it wrote to stderr first: a CI log shows the head of a failure's message.
            $child.ErrorLines | Should -BeNullOrEmpty -Because ("the example wrote to stderr:`n" + (@($child.ErrorLines) -join "`n") + "`n" + $child.Transcript())
            $out = @($child.OutputLines)
            $out | Should -Contain '2050' -Because $child.Transcript()
            @($out | Where-Object { $_ -match '^ *\d+ SockPSJob +(Running|Completed) +Test-SocketPort ' }).Count | Should -Be 1 -Because $child.Transcript()
            @($out | Where-Object { $_ -match '^(localhost|127\.0\.0\.1) .* Open ' }).Count | Should -BeGreaterOrEqual 2 -Because $child.Transcript()
            @($out | Where-Object { $_ -match '^client \d got HELLO \d$' } | Sort-Object) | Should -Be @('client 1 got HELLO 1', 'client 2 got HELLO 2', 'client 3 got HELLO 3')
            @($out | Where-Object { $_.Trim() })[-1] | Should -Be 'end'
        }
        finally {
            Stop-TestProcess -Process $child
        }
    }
}
