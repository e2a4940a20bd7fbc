#Requires -Version 7.4
# The module as a whole: what it exports, its manifest, cmdlet metadata, the process-wide
# registry (thread jobs, ForEach-Object -Parallel), stopping a blocking cmdlet, and
# Remove-Module closing every socket (in a child pwsh, so this session's module stays loaded).

BeforeDiscovery {
    # Test cases are built at discovery, before any BeforeAll runs.
    $cmdletCases = @(
        'Connect-Socket', 'Disconnect-Socket', 'Get-SocketConnection', 'Get-SocketHostName', 'Get-SocketServer',
        'Protect-SocketConnection', 'Receive-SocketData', 'Resolve-SocketAddress', 'Send-SocketData', 'Start-SocketServer', 'Stop-SocketServer', 'Wait-SocketConnection',
        'Invoke-SocketRequest', 'Start-SocketTranscript', 'Stop-SocketTranscript', 'Get-SocketTranscript', 'Test-SocketPort',
        'Get-SocketCertificate'
    ) | ForEach-Object { @{ Name = $_ } }
}

BeforeAll {
    Import-Module $env:SOCKPS_MODULE_PATH -Force
    Import-Module "$PSScriptRoot/SockPS.TestHelpers.psm1" -Force

    $expectedCmdlets = @(
        'Connect-Socket'
        'Disconnect-Socket'
        'Enter-SocketSession'
        'Get-SocketCertificate'
        'Get-SocketConnection'
        'Get-SocketHostName'
        'Get-SocketRelay'
        'Get-SocketServer'
        'Get-SocketTranscript'
        'Invoke-SocketRequest'
        'Protect-SocketConnection'
        'Receive-SocketData'
        'Receive-SocketServerOutput'
        'Resolve-SocketAddress'
        'Send-SocketData'
        'Start-SocketProcess'
        'Start-SocketRelay'
        'Start-SocketServer'
        'Start-SocketTranscript'
        'Stop-SocketRelay'
        'Stop-SocketServer'
        'Stop-SocketTranscript'
        'Test-SocketPort'
        'Wait-SocketConnection'
        'Wait-SocketData'
    )
}

AfterAll {
    Stop-TestProcess -All
}

Describe 'SockPS module' {
    AfterEach {
        Get-SocketConnection | Disconnect-Socket
        Get-SocketServer | Stop-SocketServer
    }

    Context 'exports and manifest' {
        It 'exports exactly its cmdlets and nothing else' {
            $module = Get-Module -Name SockPS

            @($module.ExportedCmdlets.Keys | Sort-Object) | Should -Be $expectedCmdlets
            $module.ExportedFunctions.Count | Should -Be 0
            $module.ExportedAliases.Count | Should -Be 0
            $module.ExportedVariables.Count | Should -Be 0
        }

        It 'has a valid manifest for Desktop and Core, PowerShell 5.1 and later' {
            $manifest = Test-ModuleManifest -Path (Join-Path -Path $env:SOCKPS_MODULE_PATH -ChildPath 'SockPS.psd1') -ErrorAction Stop

            $manifest.CompatiblePSEditions | Should -Contain 'Desktop'
            $manifest.CompatiblePSEditions | Should -Contain 'Core'
            $manifest.PowerShellVersion | Should -BeLessOrEqual ([version]'5.1')
            $manifest.RootModule | Should -Be 'SockPS.psm1'
            @($manifest.ExportedCmdlets.Keys | Sort-Object) | Should -Be $expectedCmdlets
        }

        It 'ships about_SockPS help, which says what Remove-Module closes' {
            $help = Get-Help -Name about_SockPS | Out-String

            $help | Should -Match 'about_SockPS'
            $help | Should -Match 'Remove-Module'
        }

        It 'loads the table views from its format file' {
            $data = Get-FormatData -TypeName 'SockPS.Core.SocketConnection', 'SockPS.Core.SocketServer'

            $data.TypeNames | Should -Contain 'SockPS.Core.SocketConnection'
            $data.TypeNames | Should -Contain 'SockPS.Core.SocketServer'
        }
    }

    Context 'the build for this edition' {
        BeforeAll {
            $moduleFolder = (Resolve-Path -LiteralPath $env:SOCKPS_MODULE_PATH).ProviderPath
            if (-not (Test-Path -LiteralPath $moduleFolder -PathType Container)) {
                $moduleFolder = Split-Path -Path $moduleFolder -Parent
            }
            $net8Dll = [System.IO.Path]::Combine($moduleFolder, 'net8.0', 'SockPS.dll')
        }

        It 'loads the net8.0 build in PowerShell 7, as the one nested module of SockPS.psm1' {
            $module = Get-Module -Name SockPS

            $module.Path | Should -Be (Join-Path -Path $moduleFolder -ChildPath 'SockPS.psm1')
            $nested = @($module.NestedModules)
            $nested.Count | Should -Be 1
            $nested[0].ModuleType | Should -Be 'Binary'
            $nested[0].Path | Should -Be $net8Dll
            $cmdlets = [SockPS.Commands.ModuleLifecycle].Assembly
            $cmdlets.Location | Should -Be $net8Dll
            $cmdlets.GetCustomAttributes([System.Runtime.Versioning.TargetFrameworkAttribute], $false).FrameworkName | Should -Be '.NETCoreApp,Version=v8.0'
            [SockPS.Core.SocketConnection].Assembly.Location | Should -Be ([System.IO.Path]::Combine($moduleFolder, 'net8.0', 'SockPS.Core.dll'))
            (Get-Command -Name Connect-Socket).ImplementingType.Assembly | Should -Be $cmdlets
        }

        It 'finds the cmdlet help in the module folder''s en-US, beside the builds' {
            # Without the MAML, Get-Help would make a syntax-only page with no examples.
            (Get-Help -Name Connect-Socket -Examples).examples.example.Count | Should -BeGreaterOrEqual 2
            # The path is filled in once Get-Help has found the file.
            (Get-Command -Name Connect-Socket).HelpFile | Should -Be ([System.IO.Path]::Combine($moduleFolder, 'en-US', 'SockPS.dll-Help.xml'))
        }

        It 'imports the whole module, by its manifest, in a handler server''s runspaces' {
            $server = Start-SocketServer -ScriptBlock {
                param($Connection)
                $module = Get-Module -Name SockPS
                $Connection.SendLine("$($module.Path)|$(@($module.NestedModules).Path -join ',')|$(@(Get-Command -Module SockPS).Count)")
            }
            $client = Connect-Socket -ComputerName 127.0.0.1 -Port $server.Port

            $reply = Receive-SocketData -Connection $client -Line -TimeoutSeconds 30

            $reply | Should -BeExactly "$(Join-Path -Path $moduleFolder -ChildPath 'SockPS.psm1')|$net8Dll|$($expectedCmdlets.Count)"
        }
    }

    Context 'cmdlet metadata' {
        It '<Name> declares an [OutputType]' -TestCases $cmdletCases {
            (Get-Command -Name $Name).OutputType | Should -Not -BeNullOrEmpty
        }

        It '<Name> uses an approved verb' -TestCases $cmdletCases {
            (Get-Verb).Verb | Should -Contain (Get-Command -Name $Name).Verb
        }

        It '<Name> takes -Connection from the pipeline, and -Id and -Name by property name' -TestCases @(
            @{ Name = 'Send-SocketData' }
            @{ Name = 'Receive-SocketData' }
            @{ Name = 'Disconnect-Socket' }
            @{ Name = 'Start-SocketTranscript' }
            @{ Name = 'Stop-SocketTranscript' }
            @{ Name = 'Get-SocketTranscript' }
        ) {
            $parameters = (Get-Command -Name $Name).Parameters

            $connection = $parameters['Connection'].Attributes | Where-Object { $_ -is [System.Management.Automation.ParameterAttribute] }
            $connection.ValueFromPipeline | Should -Contain $true
            $connection.Position | Should -Contain 0
            $parameters['Connection'].ParameterType | Should -Be ([SockPS.Core.SocketConnection[]])
            foreach ($by in 'Id', 'Name') {
                $attribute = $parameters[$by].Attributes | Where-Object { $_ -is [System.Management.Automation.ParameterAttribute] }
                $attribute.ValueFromPipelineByPropertyName | Should -Contain $true
            }
        }

        It '<Name> takes -Server from the pipeline, and -Id and -Name by property name' -TestCases @(
            @{ Name = 'Wait-SocketConnection' }
            @{ Name = 'Stop-SocketServer' }
        ) {
            $parameters = (Get-Command -Name $Name).Parameters

            $server = $parameters['Server'].Attributes | Where-Object { $_ -is [System.Management.Automation.ParameterAttribute] }
            $server.ValueFromPipeline | Should -Contain $true
            $parameters['Server'].ParameterType | Should -Be ([SockPS.Core.SocketServer[]])
            foreach ($by in 'Id', 'Name') {
                $attribute = $parameters[$by].Attributes | Where-Object { $_ -is [System.Management.Automation.ParameterAttribute] }
                $attribute.ValueFromPipelineByPropertyName | Should -Contain $true
            }
        }
    }

    Context 'one registry for the whole process' {
        It 'lets a thread job use a connection made here, by -Id, and keeps it open after the job ends' {
            $pair = New-TestConnectionPair
            $job = Start-ThreadJob -ScriptBlock {
                param($ModulePath, $Id)
                Import-Module $ModulePath
                Send-SocketData -Id $Id -InputObject 'from a thread job' -Line -ErrorAction Stop
                (Get-SocketConnection -Id $Id -ErrorAction Stop).InstanceId
            } -ArgumentList $env:SOCKPS_MODULE_PATH, $pair.Client.Id
            try {
                $null = Wait-Job -Job $job -Timeout 60
                $job.State | Should -Be 'Completed'
                Receive-Job -Job $job | Should -Be $pair.Client.InstanceId
            }
            finally {
                Remove-Job -Job $job -Force
            }

            Receive-SocketData -Connection $pair.Accepted -Line | Should -BeExactly 'from a thread job'
            $pair.Client.State | Should -Be 'Open'
            Send-SocketData -Connection $pair.Client -InputObject 'after the job' -Line
            Receive-SocketData -Connection $pair.Accepted -Line | Should -BeExactly 'after the job'
        }

        It 'sees here the connections and servers a thread job made' {
            $job = Start-ThreadJob -ScriptBlock {
                param($ModulePath)
                Import-Module $ModulePath
                $server = Start-SocketServer -Name 'made-in-job'
                $client = Connect-Socket -ComputerName 127.0.0.1 -Port $server.Port -Name 'made-in-job'
                $client.Id
            } -ArgumentList $env:SOCKPS_MODULE_PATH
            try {
                $null = Wait-Job -Job $job -Timeout 60
                $job.State | Should -Be 'Completed'
                $id = Receive-Job -Job $job
            }
            finally {
                Remove-Job -Job $job -Force
            }

            (Get-SocketConnection -Id $id).Name | Should -Be 'made-in-job'
            (Get-SocketServer -Name 'made-in-job').State | Should -Be 'Listening'
            $accepted = Wait-SocketConnection -Name 'made-in-job' -TimeoutSeconds 20
            Send-SocketData -Id $id -InputObject 'crossing runspaces' -Line
            Receive-SocketData -Connection $accepted -Line | Should -BeExactly 'crossing runspaces'
        }

        It 'lets ForEach-Object -Parallel send on a connection by -Id' {
            $pair = New-TestConnectionPair
            $modulePath = $env:SOCKPS_MODULE_PATH
            $id = $pair.Client.Id

            1..3 | ForEach-Object -ThrottleLimit 3 -Parallel {
                Import-Module $using:modulePath
                Send-SocketData -Id $using:id -InputObject "parallel $_" -Line -ErrorAction Stop
            }

            $lines = 1..3 | ForEach-Object { Receive-SocketData -Connection $pair.Accepted -Line }
            $lines | Sort-Object | Should -Be @('parallel 1', 'parallel 2', 'parallel 3')
            $pair.Client.State | Should -Be 'Open'
        }
    }

    Context 'stopping a blocking cmdlet, as Ctrl+C does' {
        It 'stops Receive-SocketData -TimeoutSeconds 0, and the connection stays usable with nothing lost' {
            $pair = New-TestConnectionPair
            $background = Start-TestSideCommand -ScriptBlock {
                param($Id)
                'receiving'
                Receive-SocketData -Id $Id -TimeoutSeconds 0
            } -ArgumentList @($pair.Accepted.Id)
            try {
                Wait-TestCondition -Condition { $background.Output.Count -ge 1 } -Description 'the background receive starting'
                # The internal flag says the receive is really waiting (the stop must interrupt a
                # wait, not beat it to the start).
                $flag = [SockPS.Core.SocketConnection].GetProperty('ReceiveInProgress', [System.Reflection.BindingFlags]'NonPublic, Instance')
                if ($flag) {
                    Wait-TestCondition -Condition { $flag.GetValue($pair.Accepted) } -Description 'the receive waiting for data'
                }

                $stop = $background.Shell.BeginStop($null, $null)

                $stop.AsyncWaitHandle.WaitOne([timespan]::FromSeconds(20)) | Should -BeTrue -Because 'a stop ends a receive that waits forever'
                $background.Shell.InvocationStateInfo.State | Should -Be 'Stopped'
                $background.Output.Count | Should -Be 1
            }
            finally {
                $background.Shell.Dispose()
            }

            $pair.Accepted.State | Should -Be 'Open'
            Send-SocketData -Connection $pair.Client -InputObject 'after the stop' -Line
            Receive-SocketData -Connection $pair.Accepted -Line | Should -BeExactly 'after the stop'
        }

        It 'stops Wait-SocketConnection with no timeout, and the server keeps listening' {
            $server = Start-SocketServer
            $background = Start-TestSideCommand -ScriptBlock {
                param($Id)
                'waiting'
                Wait-SocketConnection -Id $Id
            } -ArgumentList @($server.Id)
            try {
                Wait-TestCondition -Condition { $background.Output.Count -ge 1 } -Description 'the background wait starting'

                $stop = $background.Shell.BeginStop($null, $null)

                $stop.AsyncWaitHandle.WaitOne([timespan]::FromSeconds(20)) | Should -BeTrue -Because 'a stop ends a wait with no timeout'
                $background.Shell.InvocationStateInfo.State | Should -Be 'Stopped'
            }
            finally {
                $background.Shell.Dispose()
            }

            $server.State | Should -Be 'Listening'
            $client = Connect-Socket -ComputerName 127.0.0.1 -Port $server.Port
            (Wait-SocketConnection -Server $server -TimeoutSeconds 20).RemoteEndPoint | Should -Be $client.LocalEndPoint
        }
    }

    Context 'Remove-Module' {
        It 'closes every socket the module opened, while the process lives on' {
            $server = Start-SocketServer
            $child = Start-TestPwsh -Command @"
`$ErrorActionPreference = 'Stop'
Import-Module '$($env:SOCKPS_MODULE_PATH)'
`$childServer = Start-SocketServer
`$client = Connect-Socket -ComputerName 127.0.0.1 -Port $($server.Port)
"ready `$(`$childServer.Port) `$(`$childServer.Id)"
`$null = [Console]::In.ReadLine()
Remove-Module SockPS
"removed client=`$(`$client.State) server=`$(`$childServer.State) modules=`$(@(Get-Module -All -Name SockPS).Count)"
Import-Module '$($env:SOCKPS_MODULE_PATH)'
`$again = Start-SocketServer
"reimported listed=`$(@(Get-SocketConnection).Count) newId=`$(`$again.Id)"
`$null = [Console]::In.ReadLine()
"bye"
"@
            try {
                $ready = Wait-TestProcessLine -Process $child -Pattern '^ready (\d+) (\d+)$' -TimeoutSeconds 30
                $childPort = [int]$ready.Groups[1].Value
                $childServerId = [int]$ready.Groups[2].Value
                $accepted = Wait-SocketConnection -Server $server -TimeoutSeconds 30
                $accepted.State | Should -Be 'Open'

                $child.WriteInput('remove')

                $null = Wait-TestProcessLine -Process $child -Pattern '^removed client=Disconnected server=Stopped modules=0$' -TimeoutSeconds 30
                $reimported = Wait-TestProcessLine -Process $child -Pattern '^reimported listed=(\d+) newId=(\d+)$' -TimeoutSeconds 30
                $child.HasExited | Should -BeFalse -Because 'the sockets must close on Remove-Module, not on exit'
                # This end sees the child's connection end...
                Receive-SocketData -Connection $accepted -ToEnd -TimeoutSeconds 30 | Should -BeExactly ''
                $accepted.State | Should -Be 'Closed'
                # ...and the child's server no longer listens.
                { Connect-Socket -ComputerName 127.0.0.1 -Port $childPort -ErrorAction Stop } |
                    Should -Throw -ErrorId 'ConnectionRefused,SockPS.Commands.ConnectSocketCommand'
                # Importing again starts empty, and Ids go on rather than restart.
                [int]$reimported.Groups[1].Value | Should -Be 0
                [int]$reimported.Groups[2].Value | Should -BeGreaterThan $childServerId

                $child.WriteInput('exit')
                $null = Wait-TestProcessLine -Process $child -Pattern '^bye$' -TimeoutSeconds 30
                Wait-TestProcessExit -Process $child -TimeoutSeconds 30 | Should -Be 0 -Because $child.Transcript()
            }
            finally {
                Stop-TestProcess -Process $child
            }
        }
    }
}
