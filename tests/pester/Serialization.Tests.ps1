#Requires -Version 7.4
# Issue 13 items 1-3: SockPS objects away from home. Every output type goes through
# PSSerializer (what Export-Clixml, jobs and remoting use) and through a real Start-Job; its
# views are rendered with the module loaded, and in a pwsh without SockPS that has only the
# format data, with script blocks stripped as a remote session strips them (the nearest local
# equivalent of Import-Module -PSSession); a column or list item that comes out blank where the
# live object shows a value fails. A connection, server or relay that comes back from another
# process is refused with ConnectionInOtherProcess (ServerInOtherProcess, RelayInOtherProcess);
# one of this process resolves to the live object.

BeforeAll {
    Import-Module $env:SOCKPS_MODULE_PATH -Force
    Import-Module "$PSScriptRoot/SockPS.TestHelpers.psm1" -Force
    Import-Module "$PSScriptRoot/SockPS.TlsTestHelpers.psm1" -Force

    $script:ModuleRoot = Split-Path -Path (Get-Module -Name SockPS).Path -Parent
    $script:ManifestPath = Join-Path -Path $script:ModuleRoot -ChildPath 'SockPS.psd1'
    $certs = New-TestCertificateSet -Directory (Join-Path -Path $TestDrive -ChildPath 'certs')
    $script:CertPaths = @{ Cert = $certs.ServerPath; Key = $certs.ServerKeyPath; Ca = $certs.CaPath }

    # Makes one of every SockPS output type in this process, over loopback, and returns them by
    # name (an ordered dictionary), with what to close in 'Cleanup'. As text, so a job runs the
    # same code.
    $script:MakerSource = {
        param([hashtable] $CertPaths, [string] $TranscriptPath)

        $made = [ordered]@{}
        $server = Start-SocketServer -Port 0 -Name viewsrv -ErrorAction Stop
        $client = Connect-Socket -ComputerName 127.0.0.1 -Port $server.Port -Name viewcli -ErrorAction Stop
        $accepted = Wait-SocketConnection -Server $server -TimeoutSeconds 20 -ErrorAction Stop
        $null = Start-SocketTranscript -Connection $client -Path $TranscriptPath
        Send-SocketData -Connection $client -InputObject "hello`r`nworld`n"
        $match = Wait-SocketData -Connection $accepted -Pattern 'world' -TimeoutSeconds 20 -ErrorAction Stop
        Send-SocketData -Connection $accepted -InputObject "answer`n"
        $null = Receive-SocketData -Connection $client -Line -TimeoutSeconds 20

        $tlsServer = Start-SocketServer -Port 0 -Name tlssrv -CertificatePath $CertPaths.Cert -KeyPath $CertPaths.Key -ErrorAction Stop
        $tlsClient = Connect-Socket -ComputerName localhost -Port $tlsServer.Port -UseTls -CaCertificate $CertPaths.Ca -Name tlscli -ErrorAction Stop

        $udpServer = Start-SocketServer -Port 0 -Protocol Udp -Name udpsrv -ErrorAction Stop
        $udpClient = Connect-Socket -ComputerName 127.0.0.1 -Port $udpServer.Port -Protocol Udp -Name udpcli -ErrorAction Stop
        Send-SocketData -Connection $udpClient -InputObject "ping`tudp"
        $datagram = Receive-SocketData -Connection $udpServer -TimeoutSeconds 20 -ErrorAction Stop

        $relay = Start-SocketRelay -ComputerName 127.0.0.1 -Port $server.Port -Name viewrelay -ErrorAction Stop
        $echo = Start-SocketServer -Port 0 -Name echosrv -ErrorAction Stop -ScriptBlock {
            param($Connection)
            while ($null -ne ($line = $Connection.ReceiveLine())) { $Connection.SendLine($line.ToUpper()) }
        }

        $made.Server = $server
        $made.Connection = $client
        $made.Accepted = $accepted
        $made.TlsConnection = $tlsClient
        $made.UdpConnection = $udpClient
        $made.Datagram = $datagram
        $made.PatternMatch = $match
        $made.TranscriptEntry = @(Get-SocketTranscript -Connection $client)[0]
        $made.Relay = $relay
        $made.PortTestResult = Test-SocketPort -ComputerName 127.0.0.1 -Port $server.Port -TimeoutSeconds 20
        $made.PortTestRepeated = @(Test-SocketPort -ComputerName 127.0.0.1 -Port $server.Port -Count 1 -TimeoutSeconds 20)[0]
        $made.PortTestSummary = Test-SocketPort -ComputerName 127.0.0.1 -Port $server.Port -Count 2 -Summary -IntervalSeconds 0 -TimeoutSeconds 20
        $made.Certificate = Get-SocketCertificate -ComputerName localhost -Port $tlsServer.Port -CaCertificate $CertPaths.Ca -ErrorAction Stop
        $made.ResolvedAddress = @(Resolve-SocketAddress -ComputerName 127.0.0.1 -Port 80)[0]
        $made.RequestResult = Invoke-SocketRequest -ComputerName 127.0.0.1 -Port $echo.Port -InputObject 'req' -Line -TimeoutSeconds 20 -AsResult
        $made.HandlerStatus = $echo.Handlers
        $made.ProcessResult = Connect-Socket -ComputerName 127.0.0.1 -Port $echo.Port -ErrorAction Stop |
            Start-SocketProcess -FilePath sh -ArgumentList '-c', 'echo hi; read reply; echo "$reply" >&2' -ErrorAction Stop
        $made.Cleanup = { Get-SocketRelay | Stop-SocketRelay; Get-SocketConnection | Disconnect-Socket; Get-SocketServer | Stop-SocketServer }
        $made
    }.ToString()
    $script:Maker = [scriptblock]::Create($script:MakerSource)

    # What a view shows, cell by cell, read from Format-Table's and Format-List's own output
    # objects (not from text, so a wide value never shifts a column): one hashtable per view,
    # label -> text. As text, so a child pwsh runs the same code.
    $script:RenderSource = {
        param($InputObject)

        $views = [ordered]@{}
        foreach ($kind in 'Table', 'List') {
            $formatted = if ($kind -eq 'Table') { @($InputObject | Format-Table) } else { @($InputObject | Format-List) }
            $cells = [ordered]@{}
            $start = $formatted[0]
            if ($kind -eq 'Table') {
                $labels = @($start.shapeInfo.tableColumnInfoList | ForEach-Object { if ($_.label) { $_.label } else { $_.propertyName } })
                $entry = @($formatted | Where-Object { $_.GetType().Name -eq 'FormatEntryData' })[0]
                $values = @($entry.formatEntryInfo.formatPropertyFieldList)
                for ($i = 0; $i -lt $labels.Count; $i++) {
                    $cells[[string]$labels[$i]] = [string]$values[$i].propertyValue
                }
            }
            else {
                $entry = @($formatted | Where-Object { $_.GetType().Name -eq 'FormatEntryData' })[0]
                foreach ($field in $entry.formatEntryInfo.listViewFieldList) {
                    $label = if ($field.label) { $field.label } else { $field.propertyName }
                    $cells[[string]$label] = [string]$field.formatPropertyField.propertyValue
                }
            }
            $views[$kind] = $cells
        }
        $views
    }.ToString()
    $script:Render = [scriptblock]::Create($script:RenderSource)

    # Cells the live object may show with a value that a copy made a moment later shows
    # differently: none of them is blank in either.
    $script:Volatile = @('Available')

    function script:Assert-SameCells {
        param([string] $Name, $Live, $Copy, [string] $Where, [string[]] $Kinds = @('Table', 'List'))
        foreach ($kind in $Kinds) {
            $liveCells = $Live[$kind]
            $copyCells = $Copy[$kind]
            foreach ($label in $liveCells.Keys) {
                $copyCells.Contains($label) | Should -BeTrue -Because "$Name's $kind view $Where lists '$label' like the live object's"
                if ($label -in $script:Volatile) {
                    continue
                }
                $copyCells[$label] | Should -BeExactly $liveCells[$label] -Because "$Name's $kind view $Where shows '$label' as the live object does"
            }
            @($copyCells.Keys).Count | Should -Be @($liveCells.Keys).Count -Because "$Name's $kind view $Where has the live object's items: $(@($copyCells.Keys) -join ', ')"
        }
    }

    $script:Made = & $script:Maker -CertPaths $script:CertPaths -TranscriptPath (Join-Path -Path $TestDrive -ChildPath 'parent.jsonl')
    $script:Names = @($script:Made.Keys | Where-Object { $_ -ne 'Cleanup' })
    $script:Live = [ordered]@{}
    foreach ($name in $script:Names) {
        $script:Live[$name] = & $script:Render $script:Made[$name]
    }
}

AfterAll {
    if ($script:Made) {
        & $script:Made.Cleanup
    }
}

Describe 'SockPS views survive serialization' {
    It 'has a view for every output type and every table view names properties only' {
        [xml] $format = Get-Content -LiteralPath (Join-Path -Path $script:ModuleRoot -ChildPath 'SockPS.Format.ps1xml') -Raw
        @($format.SelectNodes('//ScriptBlock')).Count | Should -Be 0 -Because 'PowerShell drops script blocks from format data sent over a session'
        foreach ($name in $script:Names) {
            $typeName = $script:Made[$name].PSObject.TypeNames[0]
            @($format.SelectNodes("//View[ViewSelectedBy/TypeName='$typeName']")).Count | Should -BeGreaterThan 0 -Because "$name ($typeName) needs a view"
        }
    }

    It 'shows a value in every column of every default table (the objects are chosen to fill them)' {
        foreach ($name in $script:Names) {
            foreach ($label in $script:Live[$name].Table.Keys) {
                $script:Live[$name].Table[$label] | Should -Not -BeNullOrEmpty -Because "$name's table column '$label' must not be blank"
            }
        }
    }

    It 'fits every default table in 80 columns: no wrapped header, no cut-off fixed column' {
        foreach ($name in $script:Names) {
            $text = $script:Made[$name] | Format-Table | Out-String -Width 80
            $lines = @($text -split "`r?`n" | Where-Object { $_.Trim() })
            $header = $lines[0]
            foreach ($label in $script:Live[$name].Table.Keys) {
                $header | Should -Match "(^|\s)$([regex]::Escape($label))(\s|$)" -Because "$name's header must show '$label' whole at 80 columns:`n$text"
            }
            $lines.Count | Should -Be 3 -Because "$name's table is a header, a rule and one row at 80 columns:`n$text"
        }
    }

    It 'leaves a formatted cell empty when its value is null (a port that did not answer has no latency)' {
        $unanswered = Test-SocketPort -ComputerName 'no-such-host.invalid' -Port 80 -TimeoutSeconds 5
        $unanswered.LatencyMilliseconds | Should -BeNullOrEmpty
        foreach ($item in $unanswered, [System.Management.Automation.PSSerializer]::Deserialize([System.Management.Automation.PSSerializer]::Serialize($unanswered))) {
            (& $script:Render $item).Table.Latency | Should -BeExactly ''
        }
    }

    It 'round-trips every output type through PSSerializer and renders the same views from the copy' {
        foreach ($name in $script:Names) {
            $copy = [System.Management.Automation.PSSerializer]::Deserialize([System.Management.Automation.PSSerializer]::Serialize($script:Made[$name]))
            $copy.PSObject.TypeNames[0] | Should -BeLike 'Deserialized.SockPS.Core.*'
            Assert-SameCells -Name $name -Live $script:Live[$name] -Copy (& $script:Render $copy) -Where 'after PSSerializer'
        }
    }

    It 'serializes only a short list of properties (the type data''s PropertySerializationSet), each one a view shows included' {
        $copy = [System.Management.Automation.PSSerializer]::Deserialize([System.Management.Automation.PSSerializer]::Serialize($script:Made.Connection))
        $names = @($copy.PSObject.Properties.Name)
        $names | Should -Contain 'RemoteEndPointText'
        $names | Should -Contain 'MachineName'
        $names | Should -Contain 'ProcessInstanceId'
        $names | Should -Not -Contain 'Encoding' -Because 'the encoding object is shown by EncodingName'
        $names | Should -Not -Contain 'Server' -Because 'the server is named by ServerId and ServerName'
        $names.Count | Should -BeLessThan 45

        @($script:Made.Connection.PSStandardMembers.DefaultDisplayPropertySet.ReferencedPropertyNames) | Should -Be @('Id', 'Name', 'Transport', 'RemoteEndPointText', 'State', 'MachineName')
    }

    It 'serializes the connection a datagram or a pattern match arrived on as properties (depth), not as its name' {
        foreach ($name in 'Datagram', 'PatternMatch') {
            $copy = [System.Management.Automation.PSSerializer]::Deserialize([System.Management.Automation.PSSerializer]::Serialize($script:Made[$name]))
            $copy.Connection.PSObject.TypeNames[0] | Should -Be 'Deserialized.SockPS.Core.SocketConnection'
            $copy.Connection.Id | Should -Be $script:Made[$name].Connection.Id
            $copy.Connection.ProcessInstanceId | Should -Be $script:Made[$name].Connection.ProcessInstanceId
        }
    }

    It 'renders the copies in a pwsh without SockPS that has only the format data, script blocks stripped as a session strips them' {
        # What Import-Module -PSSession gives a caller: the views, minus their script blocks.
        [xml] $format = Get-Content -LiteralPath (Join-Path -Path $script:ModuleRoot -ChildPath 'SockPS.Format.ps1xml') -Raw
        foreach ($node in @($format.SelectNodes('//ScriptBlock'))) {
            $null = $node.ParentNode.RemoveChild($node)
        }
        $stripped = Join-Path -Path $TestDrive -ChildPath 'Stripped.Format.ps1xml'
        $format.Save($stripped)
        $clixml = Join-Path -Path $TestDrive -ChildPath 'objects.clixml'
        $script:Names | ForEach-Object { $script:Made[$_] } | Export-Clixml -LiteralPath $clixml
        $out = Join-Path -Path $TestDrive -ChildPath 'rendered.json'
        $child = Join-Path -Path $TestDrive -ChildPath 'render-without-sockps.ps1'
        Set-Content -LiteralPath $child -Encoding utf8NoBOM -Value @"
Set-StrictMode -Version Latest
`$ErrorActionPreference = 'Stop'
`$render = { $script:RenderSource }
Update-FormatData -PrependPath '$stripped'
`$objects = @(Import-Clixml -LiteralPath '$clixml')
[pscustomobject]@{
    SockPSHere = [bool]('SockPS.Core.SocketConnection' -as [type]) -or [bool](Get-Module -Name SockPS)
    Views      = @(`$objects | ForEach-Object { & `$render `$_ })
} | ConvertTo-Json -Depth 5 | Set-Content -LiteralPath '$out' -Encoding utf8NoBOM
"@
        $process = Start-TestPwsh -File $child
        try {
            Wait-TestProcessExit -Process $process -TimeoutSeconds 120 | Should -Be 0 -Because $process.Transcript()
        }
        finally {
            Stop-TestProcess -Process $process
        }

        $rendered = Get-Content -LiteralPath $out -Raw | ConvertFrom-Json -AsHashtable
        $rendered.SockPSHere | Should -BeFalse
        @($rendered.Views).Count | Should -Be $script:Names.Count
        for ($i = 0; $i -lt $script:Names.Count; $i++) {
            # The views SockPS defines (without one, PowerShell shows the type data's
            # DefaultDisplayPropertySet here and every serialized property there).
            $typeName = $script:Made[$script:Names[$i]].PSObject.TypeNames[0]
            $kinds = @(foreach ($control in 'Table', 'List') {
                    if ($format.SelectNodes("//View[ViewSelectedBy/TypeName='$typeName'][$($control)Control]").Count) { $control }
                })
            Assert-SameCells -Name $script:Names[$i] -Live $script:Live[$script:Names[$i]] -Copy $rendered.Views[$i] -Where 'without SockPS' -Kinds $kinds
        }
    }

    It 'round-trips every output type made in a Start-Job and renders it here as the job rendered the live object' {
        $transcript = Join-Path -Path $TestDrive -ChildPath 'job.jsonl'
        $job = Start-Job -ScriptBlock {
            param($ManifestPath, $MakerSource, $RenderSource, $CertPaths, $TranscriptPath)
            Import-Module -Name $ManifestPath -ErrorAction Stop
            $made = & ([scriptblock]::Create($MakerSource)) -CertPaths $CertPaths -TranscriptPath $TranscriptPath
            $names = @($made.Keys | Where-Object { $_ -ne 'Cleanup' })
            $render = [scriptblock]::Create($RenderSource)
            $views = [ordered]@{}
            foreach ($name in $names) { $views[$name] = & $render $made[$name] }
            foreach ($name in $names) { $made[$name] }
            ($views | ConvertTo-Json -Depth 5)
            & $made.Cleanup
        } -ArgumentList $script:ManifestPath, $script:MakerSource, $script:RenderSource, $script:CertPaths, $transcript
        try {
            $null = Wait-Job -Job $job -Timeout 180
            "$($job.State)" | Should -Be 'Completed' -Because ($job.ChildJobs[0].Error | Out-String)
            $output = @(Receive-Job -Job $job)
        }
        finally {
            Remove-Job -Job $job -Force
        }

        $expected = $output[-1] | ConvertFrom-Json -AsHashtable
        $objects = @($output[0..($output.Count - 2)])
        $objects.Count | Should -Be $script:Names.Count
        for ($i = 0; $i -lt $script:Names.Count; $i++) {
            $name = $script:Names[$i]
            $objects[$i].PSObject.TypeNames[0] | Should -Be "Deserialized.$($script:Made[$name].PSObject.TypeNames[0])"
            $objects[$i].MachineName | Should -Be ([System.Environment]::MachineName) -Because "$name says where it was made"
            Assert-SameCells -Name $name -Live $expected[$name] -Copy (& $script:Render $objects[$i]) -Where 'after Start-Job'
        }
        $script:FromJob = $objects
    }
}

Describe 'SockPS objects from another process' {
    BeforeAll {
        $job = Start-Job -ScriptBlock {
            param($ManifestPath, $Port)
            Import-Module -Name $ManifestPath -ErrorAction Stop
            $server = Start-SocketServer -Port 0 -Name jobsrv
            $connection = Connect-Socket -ComputerName 127.0.0.1 -Port $Port -Name jobcli
            $relay = Start-SocketRelay -ComputerName 127.0.0.1 -Port $Port -Name jobrelay
            $udp = Start-SocketServer -Port 0 -Protocol Udp -Name jobudp
            $sender = Connect-Socket -ComputerName 127.0.0.1 -Port $udp.Port -Protocol Udp
            Send-SocketData -Connection $sender -InputObject 'from the job'
            $datagram = Receive-SocketData -Connection $udp -TimeoutSeconds 20
            $server, $connection, $relay, $datagram, $PID
        } -ArgumentList $script:ManifestPath, $script:Made.Server.Port
        $null = Wait-Job -Job $job -Timeout 120
        $script:JobOutput = @(Receive-Job -Job $job)
        Remove-Job -Job $job -Force
        $script:JobServer, $script:JobConnection, $script:JobRelay, $script:JobDatagram, $script:JobPid = $script:JobOutput
    }

    It 'says that a connection from a job lives in another process, whether piped or given to -Connection' {
        $script:JobConnection.PSObject.TypeNames[0] | Should -Be 'Deserialized.SockPS.Core.SocketConnection'

        $piped = Get-TestWrittenError { $script:JobConnection | Send-SocketData -InputObject 'x' }
        $piped.FullyQualifiedErrorId | Should -Be 'ConnectionInOtherProcess,SockPS.Commands.SendSocketDataCommand' -Because 'not AmbiguousParameterSet'
        "$($piped.CategoryInfo.Category)" | Should -Be 'ObjectNotFound'
        $piped.Exception.Message | Should -Match 'another process'
        $piped.Exception.Message | Should -Match "process $($script:JobPid) on"
        $piped.Exception.Message | Should -Match 'Invoke-Command -Session'
        $piped.Exception.Message | Should -Match "-Id $($script:JobConnection.Id)\b"

        $named = Get-TestWrittenError { Send-SocketData -Connection $script:JobConnection -InputObject 'x' }
        $named.FullyQualifiedErrorId | Should -Be 'ConnectionInOtherProcess,SockPS.Commands.SendSocketDataCommand'

        $received = Get-TestWrittenError { Receive-SocketData -Connection $script:JobConnection -TimeoutSeconds 1 }
        $received.FullyQualifiedErrorId | Should -Be 'ConnectionInOtherProcess,SockPS.Commands.ReceiveSocketDataCommand'
    }

    It 'reports a datagram from a job piped back for a reply: its Connection lives in another process' {
        $replied = Get-TestWrittenError { $script:JobDatagram | Send-SocketData -InputObject 'reply' }
        $replied.FullyQualifiedErrorId | Should -Be 'ConnectionInOtherProcess,SockPS.Commands.SendSocketDataCommand'
    }

    It 'says so for servers and relays too' {
        $server = Get-TestWrittenError { $script:JobServer | Stop-SocketServer }
        $server.FullyQualifiedErrorId | Should -Be 'ServerInOtherProcess,SockPS.Commands.StopSocketServerCommand'
        "$($server.CategoryInfo.Category)" | Should -Be 'ObjectNotFound'
        $waited = Get-TestWrittenError { Wait-SocketConnection -Server $script:JobServer -TimeoutSeconds 1 }
        $waited.FullyQualifiedErrorId | Should -Be 'ServerInOtherProcess,SockPS.Commands.WaitSocketConnectionCommand'
        $relay = Get-TestWrittenError { $script:JobRelay | Stop-SocketRelay }
        $relay.FullyQualifiedErrorId | Should -Be 'RelayInOtherProcess,SockPS.Commands.StopSocketRelayCommand'
    }

    It 'acts on the live object when the copy was made in this process, and on the live ones among copies from elsewhere' {
        $pair = New-TestConnectionPair
        try {
            $copy = [System.Management.Automation.PSSerializer]::Deserialize([System.Management.Automation.PSSerializer]::Serialize($pair.Client))
            $copy.ProcessInstanceId | Should -Be ([SockPS.Core.SocketOrigin]::InstanceId)
            $sent = $copy | Send-SocketData -InputObject "via the copy`n" -PassThru
            [object]::ReferenceEquals($sent, $pair.Client) | Should -BeTrue -Because 'the copy resolves to the live connection'
            Receive-SocketData -Connection $pair.Accepted -Line -TimeoutSeconds 20 | Should -BeExactly 'via the copy'

            $serverCopy = [System.Management.Automation.PSSerializer]::Deserialize([System.Management.Automation.PSSerializer]::Serialize($pair.Server))
            @(Get-SocketConnection -Server $serverCopy).Id | Should -Be @($pair.Accepted.Id)

            $errors = $null
            Disconnect-Socket -Connection $copy, $script:JobConnection -ErrorVariable errors -ErrorAction SilentlyContinue
            "$($pair.Client.State)" | Should -Be 'Disconnected'
            @($errors).Count | Should -Be 1
            $errors[0].FullyQualifiedErrorId | Should -Be 'ConnectionInOtherProcess,SockPS.Commands.DisconnectSocketCommand'

            $closed = Get-TestWrittenError { $copy | Send-SocketData -InputObject 'x' }
            $closed.FullyQualifiedErrorId | Should -Be 'ConnectionNotFound,SockPS.Commands.SendSocketDataCommand' -Because 'the connection it stands for is closed'
            $closed.Exception.Message | Should -Match 'this process'
        }
        finally {
            $pair.Client, $pair.Accepted | Disconnect-Socket
            $pair.Server | Stop-SocketServer
        }
    }
}
