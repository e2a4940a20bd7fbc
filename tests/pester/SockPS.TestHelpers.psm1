#Requires -Version 7.4
<#
    Helpers for the Pester suite, and the child-process side of bench/ (bench/BenchHarness.psm1
    imports this module): start test peers (a fresh pwsh, socat, ncat, openssl, python3) and
    wait, with a bound, for the line that says they are ready.

    The watcher is a small C# class, SockPS.Testing.TestProcess in tests/shared/TestProcess.cs:
    .NET raises OutputDataReceived/ErrorDataReceived on thread-pool threads, where a PowerShell
    script block has no runspace to run in. The class collects the lines under a lock and lets
    the caller block on a Monitor with a timeout, so a test never sleeps to synchronise and
    never spins. Every wait is bounded; Stop-TestProcess kills the whole process tree.

    Wait semantics are expect-like: each stream has a cursor, and a successful wait moves it past
    the matched line, so waiting twice for "Got connection" needs two such lines. -FromStart
    searches every line seen so far instead.

    Also, the helpers that test files used to define each for itself:
    Get-TestFreeTcpPort (a port free a moment ago: nothing listens there), Start-TestListeningPeer
    (a peer that takes its port on the command line), Start-/Wait-/Stop-TestSideCommand (a script
    block in a second runspace with the module imported), Test-TestIPv6Loopback, Get-TestOsSocket
    (the OS socket behind a connection); and Wait-TestCondition (a bounded wait on a condition no
    event announces), New-TestConnectionPair (a SockPS server, a client and the accepted end;
    needs SockPS imported by the caller), New-TestRandomBytes and Get-TestSha256 (for checksummed
    transfers), New-TestStaleSocketFile and Test-TestSocketFile (Unix socket files),
    Set-TestHostLookup (a host name with several addresses; needs SockPS imported).
#>
Set-StrictMode -Version Latest

if (-not ('SockPS.Testing.TestProcess' -as [type])) {
    # One source for the suite and bench/ (which imports this module): see the file's header.
    Add-Type -Path (Join-Path -Path $PSScriptRoot -ChildPath '../shared/TestProcess.cs')
}

# Every process started here, so an AfterAll can stop whatever a failed test left running.
$script:Started = [System.Collections.Generic.List[SockPS.Testing.TestProcess]]::new()

function Get-PwshCommand {
    <#
    .SYNOPSIS
        How to start a fresh pwsh equal to the running one: @{ FilePath; Arguments }.
    .DESCRIPTION
        Under the repository's pinned tool (`dotnet pwsh`) the process is dotnet itself and the
        shell is $PSHOME/pwsh.dll; starting "pwsh" from PATH could pick another version.
    #>
    [CmdletBinding()]
    [OutputType([hashtable])]
    param()

    $processPath = [Environment]::ProcessPath
    $processName = [System.IO.Path]::GetFileNameWithoutExtension($processPath)
    $pwshDll = Join-Path -Path $PSHOME -ChildPath 'pwsh.dll'
    if ($processName -eq 'dotnet' -and (Test-Path -LiteralPath $pwshDll)) {
        return @{ FilePath = $processPath; Arguments = @($pwshDll) }
    }

    return @{ FilePath = $processPath; Arguments = @() }
}

function Start-TestProcess {
    <#
    .SYNOPSIS
        Starts a process with stdin, stdout and stderr redirected; returns a
        [SockPS.Testing.TestProcess] (Process, OutputLines, ErrorLines, WriteInput(),
        CloseInput(), Transcript()).
    #>
    [CmdletBinding()]
    [OutputType([SockPS.Testing.TestProcess])]
    param(
        [Parameter(Mandatory)]
        [string] $FilePath,

        [string[]] $ArgumentList = @(),

        [string] $WorkingDirectory = (Get-Location -PSProvider FileSystem).ProviderPath,

        # Extra environment variables for the child; the rest is inherited.
        [hashtable] $Environment = @{}
    )

    $resolved = $FilePath
    if (-not [System.IO.Path]::IsPathRooted($FilePath)) {
        $command = Get-Command -Name $FilePath -CommandType Application -ErrorAction SilentlyContinue |
            Select-Object -First 1
        if ($null -eq $command) {
            throw "Start-TestProcess: '$FilePath' was not found on PATH."
        }
        $resolved = $command.Source
    }

    $startInfo = [System.Diagnostics.ProcessStartInfo]::new($resolved)
    foreach ($argument in $ArgumentList) {
        $startInfo.ArgumentList.Add($argument)
    }
    $startInfo.WorkingDirectory = $WorkingDirectory
    foreach ($key in $Environment.Keys) {
        $startInfo.Environment[[string]$key] = [string]$Environment[$key]
    }

    $testProcess = [SockPS.Testing.TestProcess]::new($startInfo)
    $script:Started.Add($testProcess)
    return $testProcess
}

function Start-TestPwsh {
    <#
    .SYNOPSIS
        Starts a fresh `pwsh -NoProfile -NonInteractive` (the same version as the running one)
        running a script file or a command string.
    #>
    [CmdletBinding(DefaultParameterSetName = 'Command')]
    [OutputType([SockPS.Testing.TestProcess])]
    param(
        [Parameter(Mandatory, ParameterSetName = 'File')]
        [string] $File,

        [Parameter(Mandatory, ParameterSetName = 'Command')]
        [string] $Command,

        [Parameter(ParameterSetName = 'File')]
        [string[]] $ArgumentList = @(),

        [string] $WorkingDirectory = (Get-Location -PSProvider FileSystem).ProviderPath,

        [hashtable] $Environment = @{}
    )

    $pwsh = Get-PwshCommand
    $arguments = [System.Collections.Generic.List[string]]::new()
    $arguments.AddRange([string[]]$pwsh.Arguments)
    $arguments.AddRange([string[]]@('-NoProfile', '-NonInteractive'))
    if ($PSCmdlet.ParameterSetName -eq 'File') {
        $arguments.Add('-File')
        $arguments.Add($File)
        $arguments.AddRange([string[]]$ArgumentList)
    }
    else {
        $arguments.Add('-Command')
        $arguments.Add($Command)
    }

    # Plain text on the redirected streams, so patterns don't have to skip ANSI sequences.
    $childEnvironment = @{ NO_COLOR = '1' }
    foreach ($key in $Environment.Keys) {
        $childEnvironment[$key] = $Environment[$key]
    }

    Start-TestProcess -FilePath $pwsh.FilePath -ArgumentList $arguments -WorkingDirectory $WorkingDirectory `
        -Environment $childEnvironment
}

function Wait-TestProcessLine {
    <#
    .SYNOPSIS
        Waits, at most -TimeoutSeconds, for a line matching -Pattern and returns the
        [System.Text.RegularExpressions.Match]. Throws with the process's whole output when the
        line does not come (timeout, or the stream ended).
    #>
    [CmdletBinding()]
    [OutputType([System.Text.RegularExpressions.Match])]
    param(
        [Parameter(Mandatory)]
        [SockPS.Testing.TestProcess] $Process,

        [Parameter(Mandatory)]
        [string] $Pattern,

        [ValidateSet('Output', 'Error', 'Any')]
        [string] $Stream = 'Output',

        # Up to a day: a benchmark transfer of many GiB may take long; a test should use seconds.
        [ValidateRange(0.1, 86400)]
        [double] $TimeoutSeconds = 20,

        # Search every line seen so far instead of only those after the previous match.
        [switch] $FromStart
    )

    $regex = [regex]::new($Pattern)
    $match = $Process.WaitForLine($regex, $Stream, [timespan]::FromSeconds($TimeoutSeconds), $FromStart.IsPresent)
    if ($null -eq $match) {
        $why = "$TimeoutSeconds s passed"
        if ($Process.HasStreamEnded($Stream)) {
            # The stream closes a moment before the exit is reaped; wait briefly so the message
            # can carry the exit code.
            $null = $Process.Process.WaitForExit(2000)
            $why = 'the stream ended first: the process closed it or exited'
        }
        throw "Wait-TestProcessLine: no line on $Stream matched /$Pattern/ ($why).`n$($Process.Transcript())"
    }

    return $match
}

function Wait-TestProcessExit {
    <#
    .SYNOPSIS
        Waits, at most -TimeoutSeconds, for the process to exit and returns its exit code.
        Throws with the process's whole output on timeout (the process is left running; stop it
        with Stop-TestProcess), and with -ExpectedExitCode when the code is another.
    #>
    [CmdletBinding()]
    [OutputType([int])]
    param(
        [Parameter(Mandatory)]
        [SockPS.Testing.TestProcess] $Process,

        [ValidateRange(0.1, 86400)]
        [double] $TimeoutSeconds = 20,

        [System.Nullable[int]] $ExpectedExitCode
    )

    if (-not $Process.WaitForExit([timespan]::FromSeconds($TimeoutSeconds))) {
        throw "Wait-TestProcessExit: the process did not exit within $TimeoutSeconds s.`n$($Process.Transcript())"
    }

    $exitCode = $Process.Process.ExitCode
    if ($null -ne $ExpectedExitCode -and $exitCode -ne $ExpectedExitCode) {
        throw "Wait-TestProcessExit: the process exited with code $exitCode, not $ExpectedExitCode.`n$($Process.Transcript())"
    }

    return $exitCode
}

function Stop-TestProcess {
    <#
    .SYNOPSIS
        Kills the process tree if it is still running and disposes it. -All does that for every
        process started by this module. Safe to call twice.
    #>
    [CmdletBinding(DefaultParameterSetName = 'Process')]
    param(
        [Parameter(Mandatory, ParameterSetName = 'Process', ValueFromPipeline, Position = 0)]
        [AllowNull()]
        [SockPS.Testing.TestProcess[]] $Process,

        [Parameter(Mandatory, ParameterSetName = 'All')]
        [switch] $All
    )

    process {
        $targets = if ($All) { $script:Started.ToArray() } else { $Process }
        foreach ($target in $targets) {
            if ($null -eq $target) {
                continue
            }
            $target.Dispose()
            [void]$script:Started.Remove($target)
        }
    }
}

function Start-SocatEcho {
    <#
    .SYNOPSIS
        Starts `socat TCP-LISTEN:0,bind=127.0.0.1 PIPE` (an echo server on a free loopback port)
        and returns [pscustomobject]@{ Port; Process } once socat is listening.
    .PARAMETER Fork
        Serve any number of connections (socat forks one child per connection); without it socat
        exits after the first connection closes.
    #>
    [CmdletBinding()]
    [OutputType([pscustomobject])]
    param(
        [switch] $Fork,

        [double] $TimeoutSeconds = 20
    )

    $listen = 'TCP-LISTEN:0,bind=127.0.0.1'
    if ($Fork) {
        $listen += ',fork'
    }

    # -d -d makes socat report "listening on AF=2 127.0.0.1:PORT" on stderr: the port the OS
    # picked, and the sign that it is ready.
    $socat = Start-TestProcess -FilePath 'socat' -ArgumentList @('-d', '-d', $listen, 'PIPE')
    try {
        $match = Wait-TestProcessLine -Process $socat -Stream Error -Pattern 'listening on .*:(\d+)\s*$' `
            -TimeoutSeconds $TimeoutSeconds
    }
    catch {
        Stop-TestProcess -Process $socat
        throw
    }

    [pscustomobject]@{
        PSTypeName = 'SockPS.Testing.SocatEcho'
        Port       = [int]$match.Groups[1].Value
        Process    = $socat
    }
}

function Get-TestWrittenError {
    <#
    .SYNOPSIS
        Runs a command that should fail with one non-terminating error and output nothing, and
        returns that ErrorRecord. Works under the suite's $ErrorActionPreference = 'Stop' (which
        would turn the error into a terminating one) by running the command with Continue.
    #>
    [CmdletBinding()]
    [OutputType([System.Management.Automation.ErrorRecord])]
    param(
        [Parameter(Mandatory)]
        [scriptblock] $Command
    )

    # The script block runs in the caller's session state, so its preference is the caller's:
    # set it there for the call, and put it back.
    $callerPreferences = $PSCmdlet.SessionState.PSVariable
    $before = $callerPreferences.GetValue('ErrorActionPreference')
    $callerPreferences.Set('ErrorActionPreference', 'Continue')
    try {
        $all = @(& $Command 2>&1)
    }
    finally {
        $callerPreferences.Set('ErrorActionPreference', $before)
    }
    $errors = @($all | Where-Object { $_ -is [System.Management.Automation.ErrorRecord] })
    $others = @($all | Where-Object { $_ -isnot [System.Management.Automation.ErrorRecord] })
    if ($others.Count -ne 0) {
        throw "Get-TestWrittenError: the command output $($others.Count) object(s); a failed command outputs nothing."
    }
    if ($errors.Count -ne 1) {
        throw "Get-TestWrittenError: the command wrote $($errors.Count) errors; one non-terminating error was expected. $($errors -join ' | ')"
    }
    $errors[0]
}

function Get-TestFreeTcpPort {
    <#
    .SYNOPSIS
        A TCP port on 127.0.0.1 that was free a moment ago: bound on port 0, read, released.
        Nothing listens there, so it is also the port for "connection refused". Only for peers
        that cannot bind port 0 and report it; another process can take the port in between, so
        callers retry once (Start-TestListeningPeer does).
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
        Wait-TestSideCommand (or use its Shell, Handle and Output directly, e.g. to stop it as
        Ctrl+C would). Arguments are passed by position (param() in the block).
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

    # One statement, not a batch (AddStatement): PowerShell runs a batch's statements on a
    # thread-pool item that reads the runspace's variables between them, and a batch stopped and
    # disposed at the wrong moment reads a closed runspace and takes the whole process down.
    $shell = [powershell]::Create()
    $null = $shell.AddScript(
        "param(`$SockPSTestModulePath, [object[]] `$SockPSTestArguments) Set-StrictMode -Version Latest; Import-Module `$SockPSTestModulePath; & {`n$($ScriptBlock.ToString())`n} @SockPSTestArguments").
        AddArgument($env:SOCKPS_MODULE_PATH).AddArgument([object[]]$ArgumentList)

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

function Test-TestIPv6Loopback {
    <#
    .SYNOPSIS
        True when this machine can listen on ::1 (some containers have no IPv6 loopback).
    #>
    [CmdletBinding()]
    [OutputType([bool])]
    param()

    try {
        $listener = [System.Net.Sockets.TcpListener]::new([System.Net.IPAddress]::IPv6Loopback, 0)
        $listener.Start()
        $listener.Stop()
        $true
    }
    catch {
        $false
    }
}

function Get-TestOsSocket {
    <#
    .SYNOPSIS
        The OS socket behind a SockPS object (a connection, a datagram socket, a server's
        listener), for options no public property shows (NoDelay, KeepAlive, Ttl, buffer sizes).
        Throws when it cannot be found.
    .DESCRIPTION
        Found by type, not by field name, breadth-first through the object's non-public fields
        and the SockPS objects (and streams) they hold, so a test does not depend on which
        internal part of the object owns the socket.
    #>
    [CmdletBinding()]
    [OutputType([System.Net.Sockets.Socket])]
    param(
        [Parameter(Mandatory, Position = 0)]
        [object] $InputObject
    )

    $flags = [System.Reflection.BindingFlags]'NonPublic, Public, Instance, DeclaredOnly'
    $root = $InputObject.psobject.BaseObject
    $seen = [System.Collections.Generic.HashSet[object]]::new([System.Collections.Generic.ReferenceEqualityComparer]::Instance)
    $queue = [System.Collections.Generic.Queue[object]]::new()
    $queue.Enqueue($root)
    $null = $seen.Add($root)
    while ($queue.Count -gt 0 -and $seen.Count -lt 1000) {
        $current = $queue.Dequeue()
        for ($type = $current.GetType(); $null -ne $type -and $type -ne [object]; $type = $type.BaseType) {
            foreach ($field in $type.GetFields($flags)) {
                if ($field.FieldType.IsValueType) {
                    continue
                }
                $value = $field.GetValue($current)
                if ($value -is [System.Net.Sockets.Socket]) {
                    return $value
                }
                # Only into SockPS's own objects and streams (a NetworkStream holds its socket).
                $descend = $null -ne $value -and
                    ("$($value.GetType().Namespace)".StartsWith('SockPS') -or $value -is [System.IO.Stream])
                if ($descend -and $seen.Add($value)) {
                    $queue.Enqueue($value)
                }
            }
        }
    }

    throw "Get-TestOsSocket: no System.Net.Sockets.Socket found behind $($root.GetType().FullName)."
}

function Wait-TestCondition {
    <#
    .SYNOPSIS
        Waits, at most -TimeoutSeconds, until -Condition returns true; throws with -Description
        when it does not. For conditions no event announces (a byte count, a server's queue).
    .DESCRIPTION
        Spins with [System.Threading.SpinWait], which yields and then sleeps for a millisecond at
        a time: a bounded wait on a real condition, never a guess at how long something takes.
    #>
    [CmdletBinding()]
    param(
        [Parameter(Mandatory)]
        [scriptblock] $Condition,

        [Parameter(Mandatory)]
        [string] $Description,

        [ValidateRange(0.1, 600)]
        [double] $TimeoutSeconds = 20
    )

    $clock = [System.Diagnostics.Stopwatch]::StartNew()
    $spin = [System.Threading.SpinWait]::new()
    while (-not (& $Condition)) {
        if ($clock.Elapsed.TotalSeconds -ge $TimeoutSeconds) {
            throw "Wait-TestCondition: $Description did not happen within $TimeoutSeconds s."
        }
        $spin.SpinOnce()
    }
}

function New-TestConnectionPair {
    <#
    .SYNOPSIS
        Starts a SockPS server on a free port, connects to it and accepts: returns
        [pscustomobject]@{ Server; Client; Accepted }. Needs SockPS imported by the caller.
    #>
    [CmdletBinding()]
    [OutputType([pscustomobject])]
    param(
        # Splatted onto Start-SocketServer (the port is always 0 unless given here).
        [hashtable] $ServerParameters = @{},

        # Splatted onto Connect-Socket.
        [hashtable] $ClientParameters = @{}
    )

    $server = Start-SocketServer @ServerParameters -ErrorAction Stop
    $listening = $server.LocalEndPoint.Address
    $target = if ($listening.Equals([System.Net.IPAddress]::Any)) { '127.0.0.1' }
    elseif ($listening.Equals([System.Net.IPAddress]::IPv6Any)) { '::1' }
    else { $listening.ToString() }

    $client = Connect-Socket -ComputerName $target -Port $server.Port @ClientParameters -ErrorAction Stop
    $accepted = Wait-SocketConnection -Server $server -TimeoutSeconds 20 -ErrorAction Stop

    [pscustomobject]@{
        PSTypeName = 'SockPS.Testing.ConnectionPair'
        Server     = $server
        Client     = $client
        Accepted   = $accepted
    }
}

function New-TestRandomBytes {
    <#
    .SYNOPSIS
        -Count random bytes from a seeded generator, so a failing run can be repeated.
    #>
    [CmdletBinding()]
    [OutputType([byte[]])]
    param(
        [Parameter(Mandatory)]
        [int] $Count,

        [int] $Seed = 12345
    )

    $bytes = [byte[]]::new($Count)
    [System.Random]::new($Seed).NextBytes($bytes)
    , $bytes
}

function Get-TestSha256 {
    <#
    .SYNOPSIS
        The SHA-256 of a byte array as a hex string, for comparing large transfers.
    #>
    [CmdletBinding()]
    [OutputType([string])]
    param(
        [Parameter(Mandatory)]
        [AllowEmptyCollection()]
        [byte[]] $Bytes
    )

    [System.Convert]::ToHexString([System.Security.Cryptography.SHA256]::HashData($Bytes))
}

function New-TestStaleSocketFile {
    <#
    .SYNOPSIS
        Leaves a Unix socket file at -Path that nothing listens on, as a crashed server would,
        and returns the path.
    .DESCRIPTION
        .NET deletes the file of a bound Unix socket when the socket is disposed. So the socket
        is bound under another name, the file is renamed to -Path (a rename keeps it a socket
        file), and only then is the socket disposed: .NET deletes the old name, which is gone.
    #>
    [CmdletBinding()]
    [OutputType([string])]
    param(
        [Parameter(Mandatory)]
        [string] $Path,

        [ValidateSet('Stream', 'Dgram')]
        [string] $SocketType = 'Stream'
    )

    $bound = "$Path.binding"
    $socket = [System.Net.Sockets.Socket]::new('Unix', $SocketType, 'Unspecified')
    try {
        $socket.Bind([System.Net.Sockets.UnixDomainSocketEndPoint]::new($bound))
        Move-Item -LiteralPath $bound -Destination $Path
    }
    finally {
        $socket.Dispose()
    }

    if (-not (Test-TestSocketFile -Path $Path)) {
        throw "New-TestStaleSocketFile: $Path is not a socket file after the rename."
    }

    $Path
}

function Test-TestSocketFile {
    <#
    .SYNOPSIS
        True when -Path is a socket file (its Unix mode starts with 's'), false when it is
        missing or anything else.
    #>
    [CmdletBinding()]
    [OutputType([bool])]
    param(
        [Parameter(Mandatory)]
        [string] $Path
    )

    $item = Get-Item -LiteralPath $Path -Force -ErrorAction SilentlyContinue
    if ($null -eq $item) {
        return $false
    }

    $mode = $item.PSObject.Properties['UnixMode']
    [bool]($mode -and "$($mode.Value)".StartsWith('s'))
}

function Set-TestHostLookup {
    <#
    .SYNOPSIS
        Makes SockPS answer every host name lookup (never an IP literal) with -Address, in that
        order; -Reset gives the lookup back to the system resolver. Needs SockPS imported.
    .DESCRIPTION
        This machine's resolver knows no name with several addresses, and the tests need one.
        SockPS's core has a seam for that: the internal static
        SockPS.Core.SocketConnector.HostLookupOverride, set here by reflection. The answer is a
        compiled constant, so the lookup may run on any thread, with no runspace. Reset it in
        an AfterEach: it is process-wide.
    #>
    [CmdletBinding(DefaultParameterSetName = 'Address')]
    param(
        [Parameter(Mandatory, ParameterSetName = 'Address')]
        [System.Net.IPAddress[]] $Address,

        [Parameter(Mandatory, ParameterSetName = 'Reset')]
        [switch] $Reset
    )

    $connector = 'SockPS.Core.SocketConnector' -as [type]
    if (-not $connector) {
        throw 'Set-TestHostLookup: import SockPS first.'
    }
    $property = $connector.GetProperty('HostLookupOverride', [System.Reflection.BindingFlags]'NonPublic, Static')
    if (-not $property) {
        throw 'Set-TestHostLookup: SockPS.Core.SocketConnector has no HostLookupOverride seam.'
    }

    $lookup = $null
    if (-not $Reset) {
        $taskType = [System.Threading.Tasks.Task[System.Net.IPAddress[]]]
        $answer = [System.Threading.Tasks.Task]::FromResult[System.Net.IPAddress[]]($Address)
        $name = [System.Linq.Expressions.Expression]::Parameter([string], 'name')
        $body = [System.Linq.Expressions.Expression]::Constant($answer, $taskType)
        $lookup = [System.Linq.Expressions.Expression]::Lambda([System.Func[string, System.Threading.Tasks.Task[System.Net.IPAddress[]]]],
            $body, [System.Linq.Expressions.ParameterExpression[]]@($name)).Compile()
    }

    $property.SetValue($null, $lookup)
}

Export-ModuleMember -Function @(
    'Get-PwshCommand'
    'Start-TestProcess'
    'Start-TestPwsh'
    'Wait-TestProcessLine'
    'Wait-TestProcessExit'
    'Stop-TestProcess'
    'Start-SocatEcho'
    'Get-TestFreeTcpPort'
    'Get-TestWrittenError'
    'Start-TestListeningPeer'
    'Start-TestSideCommand'
    'Wait-TestSideCommand'
    'Stop-TestSideCommand'
    'Test-TestIPv6Loopback'
    'Get-TestOsSocket'
    'Wait-TestCondition'
    'New-TestConnectionPair'
    'New-TestRandomBytes'
    'Get-TestSha256'
    'New-TestStaleSocketFile'
    'Test-TestSocketFile'
    'Set-TestHostLookup'
)
