#Requires -Version 7.4
# Issue 13 item 8: SockPS fanned out over PowerShell remoting, against a real engine. The test
# starts OpenSSH's sshd on loopback with a throw-away host key and user key and the PowerShell SSH
# subsystem (SockPS.RemotePeers.psm1), opens `New-PSSession -HostName localhost, 127.0.0.1`, and
# runs Test-SocketPort and Invoke-SocketRequest on the far side with `Invoke-Command -Session
# -ThrottleLimit`, against peers nobody here wrote: socat (a listening echo service) and a port
# that refuses (bound, never listening). The far side is this machine, so the built module
# (SOCKPS_MODULE_PATH) is there too. Everything stops at the end, by process id.
#
# It skips, with its reason, only where sshd cannot run: no /usr/sbin/sshd (Debian
# openssh-server, which .ci/run installs).

BeforeAll {
    Import-Module $env:SOCKPS_MODULE_PATH -Force
    Import-Module "$PSScriptRoot/SockPS.TestHelpers.psm1" -Force
    Import-Module "$PSScriptRoot/SockPS.RemotePeers.psm1" -Force

    $script:SkipReason = $null
    $script:Sshd = $null
    $script:Echo = $null
    $script:Closed = $null
    $script:Sessions = @()

    if (-not (Test-Path -LiteralPath '/usr/sbin/sshd' -PathType Leaf)) {
        $script:SkipReason = 'OpenSSH''s sshd (/usr/sbin/sshd, Debian package openssh-server) is not installed; .ci/run installs it'
        return
    }
    if (-not (Get-Command -Name 'socat' -CommandType Application -ErrorAction SilentlyContinue)) {
        throw 'socat is not installed; .ci/run installs it.'
    }

    # The far side imports the module by full path: its working folder is the user's home.
    $script:ModulePath = (Resolve-Path -LiteralPath $env:SOCKPS_MODULE_PATH).ProviderPath

    # The table cells a view renders, by column label, read from Format-Table's own output
    # objects rather than from the text, so a wide value never shifts a column. Kept as text too,
    # so a child pwsh can run the same code.
    $script:GetTableCellsSource = {
        param([object[]] $InputObject)

        $formatted = @($InputObject | Format-Table)
        $labels = @($formatted[0].shapeInfo.tableColumnInfoList | ForEach-Object {
                if ($_.label) { $_.label } else { $_.propertyName }
            })
        foreach ($entry in $formatted) {
            if ($entry.GetType().Name -ne 'FormatEntryData') {
                continue
            }
            $values = @($entry.formatEntryInfo.formatPropertyFieldList)
            $row = [ordered]@{}
            for ($i = 0; $i -lt $labels.Count; $i++) {
                $row[$labels[$i]] = [string]$values[$i].propertyValue
            }
            [pscustomobject]$row
        }
    }.ToString()
    $script:GetTableCells = [scriptblock]::Create($script:GetTableCellsSource)

    # A bound on opening a session (pwsh's default is to wait for ever); generous, because each
    # session starts a pwsh behind sshd, which takes seconds on a busy machine.
    $script:ConnectingTimeoutMilliseconds = 120000

    $script:Sshd = Start-TestSshd
    $script:Echo = Start-SocatEcho -Fork
    # Refuses: bound, never listening, and held for the whole file so nothing else takes it.
    $script:Closed = [System.Net.Sockets.Socket]::new('InterNetwork', 'Stream', 'Tcp')
    $script:Closed.Bind([System.Net.IPEndPoint]::new([System.Net.IPAddress]::Loopback, 0))
    $script:ClosedPort = $script:Closed.LocalEndPoint.Port

    $script:Sessions = @(New-PSSession -HostName 'localhost', '127.0.0.1' -Port $script:Sshd.Port -UserName $script:Sshd.UserName `
            -KeyFilePath $script:Sshd.KeyFilePath -Options (Get-TestSshSessionOption -Sshd $script:Sshd) `
            -ConnectingTimeout $script:ConnectingTimeoutMilliseconds -ErrorAction Stop)
}

AfterAll {
    if ($script:Sessions) {
        Remove-PSSession -Session $script:Sessions
    }
    if ($script:Echo) {
        Stop-TestProcess -Process $script:Echo.Process
    }
    if ($script:Closed) {
        $script:Closed.Dispose()
    }
    Stop-TestSshd -Sshd $script:Sshd
}

Describe 'SockPS over SSH remoting: Invoke-Command -Session (localhost, 127.0.0.1) -ThrottleLimit 2' {
    BeforeEach {
        if ($script:SkipReason) {
            Set-ItResult -Skipped -Because $script:SkipReason
        }
    }

    BeforeAll {
        if ($script:SkipReason) {
            return
        }

        $script:Message = "ping $([System.Guid]::NewGuid().ToString('n'))"
        $fanOut = {
            param($ModulePath, $OpenPort, $ClosedPort, $Message)

            Import-Module -Name $ModulePath -ErrorAction Stop
            [pscustomobject]@{ PSTypeName = 'Test.RemoteProcess'; ProcessId = $PID; HasModule = [bool](Get-Module -Name SockPS) }
            Test-SocketPort -ComputerName 127.0.0.1 -Port $OpenPort, $ClosedPort -TimeoutSeconds 20
            Invoke-SocketRequest -ComputerName 127.0.0.1 -Port $OpenPort -InputObject "$Message from $PID" -Line -TimeoutSeconds 20
        }
        $script:Results = @(Invoke-Command -Session $script:Sessions -ThrottleLimit 2 -ScriptBlock $fanOut `
                -ArgumentList $script:ModulePath, $script:Echo.Port, $script:ClosedPort, $script:Message -ErrorAction Stop)
        $script:Processes = @($script:Results | Where-Object { $_.PSObject.TypeNames -contains 'Deserialized.Test.RemoteProcess' })
        $script:PortResults = @($script:Results | Where-Object { $_.PSObject.TypeNames -contains 'Deserialized.SockPS.Core.PortTestResult' })
        $script:Answers = @($script:Results | Where-Object { $_ -is [string] })
    }

    It 'opens one SSH session per name, each a pwsh of its own behind sshd with SockPS imported' {
        $script:Sessions.Count | Should -Be 2
        ($script:Sessions | ForEach-Object -MemberName ComputerName | Sort-Object) | Should -Be @('127.0.0.1', 'localhost')
        $script:Sessions | ForEach-Object {
            $_.Transport | Should -Be 'SSH'
            "$($_.State)" | Should -Be 'Opened'
        }

        $script:Processes.Count | Should -Be 2
        ($script:Processes | ForEach-Object -MemberName PSComputerName | Sort-Object) | Should -Be @('127.0.0.1', 'localhost')
        $script:Processes | ForEach-Object { $_.HasModule | Should -BeTrue }
        $remoteIds = @($script:Processes | ForEach-Object -MemberName ProcessId)
        ($remoteIds | Sort-Object -Unique).Count | Should -Be 2 -Because 'each session is its own process'
        $remoteIds | Should -Not -Contain $PID
    }

    It 'brings back Test-SocketPort results from both computers: Open for the listener, Refused for the closed port' {
        $script:PortResults.Count | Should -Be 4
        foreach ($computer in 'localhost', '127.0.0.1') {
            $mine = @($script:PortResults | Where-Object { $_.PSComputerName -eq $computer })
            $mine.Count | Should -Be 2 -Because "$computer tested two ports"
            $open = @($mine | Where-Object { $_.Port -eq $script:Echo.Port })
            $refused = @($mine | Where-Object { $_.Port -eq $script:ClosedPort })
            $open.Count | Should -Be 1
            $refused.Count | Should -Be 1
            "$($open[0].Status)" | Should -Be 'Open'
            $open[0].IsOpen | Should -BeTrue
            "$($refused[0].Status)" | Should -Be 'Refused'
            $refused[0].IsOpen | Should -BeFalse
            $open[0].ComputerName | Should -Be '127.0.0.1'
            "$($open[0].RemoteAddress)" | Should -Be '127.0.0.1'
            "$($open[0].Protocol)" | Should -Be 'Tcp'
        }
    }

    It 'keeps the numbers typed across the wire: Port an int, Latency a TimeSpan' {
        foreach ($result in $script:PortResults) {
            $result.Port | Should -BeOfType [int]
            $result.Latency | Should -BeOfType [timespan]
            $result.Latency | Should -BeGreaterThan ([timespan]::Zero)
            $result.Attempts | Should -BeOfType [int]
        }
    }

    It 'brings back the echo service''s answer to Invoke-SocketRequest from both computers' {
        $script:Answers.Count | Should -Be 2
        foreach ($process in $script:Processes) {
            $answer = @($script:Answers | Where-Object { $_.PSComputerName -eq $process.PSComputerName })
            $answer.Count | Should -Be 1
            # The echo sends the request line back; the request named the remote process.
            $answer[0].TrimEnd("`r", "`n") | Should -BeExactly "$($script:Message) from $($process.ProcessId)"
        }
    }

    It 'marks every object with the computer whose session made it (PSComputerName, RunspaceId)' {
        foreach ($item in $script:Results) {
            $item.PSComputerName | Should -BeIn @('localhost', '127.0.0.1')
        }
        ($script:Results | ForEach-Object -MemberName PSComputerName | Sort-Object -Unique) | Should -Be @('127.0.0.1', 'localhost')
        foreach ($session in $script:Sessions) {
            $fromSession = @($script:Results | Where-Object { $_.RunspaceId -eq $session.InstanceId })
            $fromSession.Count | Should -Be 4 -Because "session $($session.ComputerName) returned one process, two port results and one answer"
            $fromSession | ForEach-Object { $_.PSComputerName | Should -Be $session.ComputerName }
        }
    }

    It 'reports a failed request on each computer as a non-terminating error that names it, and the script goes on' {
        $failing = {
            param($ModulePath, $ClosedPort)
            Import-Module -Name $ModulePath -ErrorAction Stop
            Invoke-SocketRequest -ComputerName 127.0.0.1 -Port $ClosedPort -InputObject 'hello' -TimeoutSeconds 20
            "went on after the error on $PID"
        }

        $errors = $null
        $output = @(Invoke-Command -Session $script:Sessions -ThrottleLimit 2 -ScriptBlock $failing `
                -ArgumentList $script:ModulePath, $script:ClosedPort -ErrorVariable errors -ErrorAction SilentlyContinue)

        $output.Count | Should -Be 2
        $output | ForEach-Object { $_ | Should -Match '^went on after the error on \d+$' }
        $errors.Count | Should -Be 2
        foreach ($record in $errors) {
            $record.FullyQualifiedErrorId | Should -Be 'ConnectionRefused,SockPS.Commands.InvokeSocketRequestCommand'
            "$($record.CategoryInfo.Category)" | Should -Be 'ConnectionError'
            $record.Exception.Message | Should -Match "127\.0\.0\.1:$($script:ClosedPort)"
        }
        ($errors | ForEach-Object { $_.OriginInfo.PSComputerName } | Sort-Object) | Should -Be @('127.0.0.1', 'localhost')
    }

    It 'reaches a session without SockPS by Copy-Item -ToSession, as about_SockPS SCALE-OUT shows' {
        $copies = @()
        try {
            foreach ($one in $script:Sessions) {
                $remoteTemp = Invoke-Command -Session $one -ScriptBlock {
                    (New-Item -ItemType Directory -Path ([System.IO.Path]::Combine([System.IO.Path]::GetTempPath(), "sockps-copy-$([guid]::NewGuid().ToString('n'))"))).FullName
                }
                $destination = [System.IO.Path]::Combine($remoteTemp, 'SockPS')
                Copy-Item -Path $script:ModulePath -Destination $destination -Recurse -ToSession $one -Force
                $copies += [pscustomobject]@{ Session = $one; Root = $remoteTemp; Module = $destination }
            }

            $results = @(foreach ($copy in $copies) {
                    Invoke-Command -Session $copy.Session -ArgumentList $copy.Module, $script:Echo.Port -ScriptBlock {
                        param($Path, $Port)
                        Remove-Module SockPS -ErrorAction Ignore      # the session imported the original
                        Import-Module -Name $Path -Force -ErrorAction Stop
                        [pscustomobject]@{ Base = (Get-Module SockPS).ModuleBase; Status = "$((Test-SocketPort -ComputerName 127.0.0.1 -Port $Port).Status)" }
                    }
                })
            $results.Count | Should -Be 2
            foreach ($r in $results) {
                $r.Status | Should -Be 'Open'
                $expected = ($copies | Where-Object { $_.Session.ComputerName -eq $r.PSComputerName }).Module
                $r.Base | Should -Be $expected -Because 'the session loaded the copied module'
            }
        }
        finally {
            foreach ($copy in $copies) {
                # The session goes back to the original module before the copy is deleted: a
                # session keeps the format and type files it loaded, and the next import there
                # (the tests below) would reload them from the deleted folder.
                Invoke-Command -Session $copy.Session -ArgumentList $copy.Root, $script:ModulePath -ScriptBlock {
                    param($Root, $Original)
                    Remove-Module SockPS -ErrorAction Ignore
                    Import-Module -Name $Original -Force -ErrorAction Stop
                    Remove-Item -LiteralPath $Root -Recurse -Force -ErrorAction Ignore
                }
            }
        }
    }

    It 'keeps a failed remote request''s partial answer in the serialized exception (SerializedRemoteException.PartialResult)' {
        $peerScript = @"
import socket
l = socket.socket()
l.bind(('127.0.0.1', 0))
l.listen(2)
l.settimeout(60)
print('port', l.getsockname()[1], flush=True)
for _ in range(2):
    c, _ = l.accept()
    c.recv(100)
    c.sendall(b'partial answer')
    c.close()
"@
        $peer = Start-TestProcess -FilePath 'python3' -ArgumentList @('-c', $peerScript)
        try {
            $port = [int](Wait-TestProcessLine -Process $peer -Pattern '^port (\d+)$' -TimeoutSeconds 30).Groups[1].Value
            $errors = $null
            $output = @(Invoke-Command -Session $script:Sessions -ThrottleLimit 2 -ArgumentList $port -ErrorVariable errors -ErrorAction SilentlyContinue -ScriptBlock {
                    param($Port)
                    Invoke-SocketRequest -ComputerName 127.0.0.1 -Port $Port -InputObject 'x' -Until 'END' -TimeoutSeconds 20
                })
            $output.Count | Should -Be 0
            $errors.Count | Should -Be 2
            foreach ($record in $errors) {
                $record.FullyQualifiedErrorId | Should -Match ',SockPS\.Commands\.InvokeSocketRequestCommand$'
                $record.Exception.SerializedRemoteException.PartialResult | Should -Be 'partial answer'
                $record.OriginInfo.PSComputerName | Should -BeIn @('localhost', '127.0.0.1')
            }
        }
        finally {
            Stop-TestProcess -Process $peer
        }
    }

    It 'renders the remote results with SockPS''s table view here: Port and Latency filled, PSComputerName added' -Tag 'Issue13Views' {
        $rows = @(& $script:GetTableCells $script:PortResults)
        $text = $script:PortResults | Format-Table | Out-String -Width 200

        $rows.Count | Should -Be 4
        # Not blank, and the numbers the results carry (today's view shows "37617/tcp" and "6.9 ms").
        foreach ($row in $rows) {
            $row.Port | Should -Match "^($($script:Echo.Port)|$($script:ClosedPort))\b"
            $row.Latency | Should -Match '^\d+(\.\d+)?( ?ms)?$'
            $row.Status | Should -BeIn @('Open', 'Refused')
            $row.PSComputerName | Should -BeIn @('localhost', '127.0.0.1')
            $text | Should -Match ([regex]::Escape($row.Port))
            $text | Should -Match ([regex]::Escape($row.Latency))
        }
    }

    It 'brings back Invoke-SocketRequest -AsResult results that name the target and the computer that asked, and refuses a remote connection here' {
        $fanOut = {
            param($ModulePath, $OpenPort, $ClosedPort, $Message)
            Import-Module -Name $ModulePath -ErrorAction Stop
            foreach ($port in $OpenPort, $ClosedPort) {
                Invoke-SocketRequest -ComputerName 127.0.0.1 -Port $port -InputObject $Message -Line -TimeoutSeconds 20 -AsResult
            }
            Connect-Socket -ComputerName 127.0.0.1 -Port $OpenPort -Name remote
        }
        $results = @(Invoke-Command -Session $script:Sessions -ThrottleLimit 2 -ScriptBlock $fanOut `
                -ArgumentList $script:ModulePath, $script:Echo.Port, $script:ClosedPort, $script:Message -ErrorAction Stop)
        $requests = @($results | Where-Object { $_.PSObject.TypeNames -contains 'Deserialized.SockPS.Core.SocketRequestResult' })
        $connections = @($results | Where-Object { $_.PSObject.TypeNames -contains 'Deserialized.SockPS.Core.SocketConnection' })
        $requests.Count | Should -Be 4
        $connections.Count | Should -Be 2
        foreach ($computer in 'localhost', '127.0.0.1') {
            $mine = @($requests | Where-Object { $_.PSComputerName -eq $computer })
            $answered = @($mine | Where-Object { $_.Port -eq $script:Echo.Port })
            $refused = @($mine | Where-Object { $_.Port -eq $script:ClosedPort })
            $answered.Count | Should -Be 1
            $refused.Count | Should -Be 1
            $answered[0].ComputerName | Should -Be '127.0.0.1'
            $answered[0].Status | Should -Be 'Answered'
            $answered[0].Response.TrimEnd("`r", "`n") | Should -BeExactly $script:Message
            $answered[0].Elapsed | Should -BeOfType [timespan]
            $answered[0].MachineName | Should -Be ([System.Environment]::MachineName) -Because 'the far side is this machine'
            $refused[0].Status | Should -Be 'ConnectionRefused'
            $refused[0].Error | Should -Match "127\.0\.0\.1:$($script:ClosedPort)"
        }

        $rows = @(& $script:GetTableCells $requests)
        foreach ($row in $rows) {
            $row.ComputerName | Should -Be '127.0.0.1'
            $row.Status | Should -BeIn @('Answered', 'ConnectionRefused')
            $row.'Elapsed ms' | Should -Match '^\d+\.\d$'
        }

        $fromRemote = Get-TestWrittenError { $connections[0] | Send-SocketData -InputObject 'x' }
        $fromRemote.FullyQualifiedErrorId | Should -Be 'ConnectionInOtherProcess,SockPS.Commands.SendSocketDataCommand'
        $fromRemote.Exception.Message | Should -Match 'Invoke-Command -Session'
        Invoke-Command -Session $script:Sessions -ScriptBlock { Get-SocketConnection | Disconnect-Socket }
    }

    # Issue 13 item 1: the view's columns name properties (PortText, LatencyMilliseconds with a
    # FormatString), which survive the format data a session sends, where script blocks do not.
    It 'renders Port and Latency for a caller without SockPS that imports its commands and views from the session' -Tag 'Issue13Views' {
        $child = Join-Path -Path $TestDrive -ChildPath 'implicit-remoting.ps1'
        Set-Content -LiteralPath $child -Encoding utf8NoBOM -Value @"
param([int] `$SshPort, [string] `$UserName, [string] `$KeyFilePath, [string] `$OptionsJson, [string] `$ModulePath, [int] `$OpenPort, [int] `$ClosedPort)
Set-StrictMode -Version Latest
`$ErrorActionPreference = 'Stop'
`$getTableCells = { $script:GetTableCellsSource }
`$options = @{}
(`$OptionsJson | ConvertFrom-Json).PSObject.Properties | ForEach-Object { `$options[`$_.Name] = [string]`$_.Value }
`$session = New-PSSession -HostName 127.0.0.1 -Port `$SshPort -UserName `$UserName -KeyFilePath `$KeyFilePath -Options `$options ``
    -ConnectingTimeout $($script:ConnectingTimeoutMilliseconds)
try {
    Invoke-Command -Session `$session -ScriptBlock { param(`$path) Import-Module -Name `$path } -ArgumentList `$ModulePath
    `$null = Import-PSSession -Session `$session -Module SockPS -FormatTypeName 'SockPS.*' -DisableNameChecking
    `$results = @(Test-SocketPort -ComputerName 127.0.0.1 -Port `$OpenPort, `$ClosedPort -TimeoutSeconds 20)
    [pscustomobject]@{
        SockPSHere = [bool]('SockPS.Core.PortTestResult' -as [type])
        Text       = `$results | Format-Table | Out-String -Width 200
        Rows       = @(& `$getTableCells `$results)
    } | ConvertTo-Json -Depth 4 -Compress
}
finally {
    Remove-PSSession -Session `$session
}
"@
        $optionsJson = Get-TestSshSessionOption -Sshd $script:Sshd | ConvertTo-Json -Compress
        $process = Start-TestPwsh -File $child -ArgumentList @(
            '-SshPort', [string]$script:Sshd.Port, '-UserName', $script:Sshd.UserName, '-KeyFilePath', $script:Sshd.KeyFilePath,
            '-OptionsJson', $optionsJson, '-ModulePath', $script:ModulePath,
            '-OpenPort', [string]$script:Echo.Port, '-ClosedPort', [string]$script:ClosedPort)
        try {
            Wait-TestProcessExit -Process $process -TimeoutSeconds 300 | Should -Be 0 -Because $process.Transcript()
            $json = @($process.OutputLines | Where-Object { $_.StartsWith('{') }) | Select-Object -Last 1
            $json | Should -Not -BeNullOrEmpty -Because $process.Transcript()
            $rendered = $json | ConvertFrom-Json
        }
        finally {
            Stop-TestProcess -Process $process
        }

        $rendered.SockPSHere | Should -BeFalse -Because 'the caller has no SockPS of its own: only the session''s commands and views'
        @($rendered.Rows).Count | Should -Be 2
        foreach ($row in $rendered.Rows) {
            $row.Port | Should -Match "^($($script:Echo.Port)|$($script:ClosedPort))\b" -Because "the Port column must not be blank:`n$($rendered.Text)"
            $row.Latency | Should -Match '^\d+(\.\d+)?( ?ms)?$' -Because "the Latency column must not be blank:`n$($rendered.Text)"
        }
    }
}
