#Requires -Version 7.4
# Get-SocketServer: the process-wide registry of listening servers.

BeforeAll {
    Import-Module $env:SOCKPS_MODULE_PATH -Force
    Import-Module "$PSScriptRoot/SockPS.TestHelpers.psm1" -Force
}

Describe 'Get-SocketServer' {
    BeforeEach {
        Get-SocketServer | Stop-SocketServer
        $alpha = Start-SocketServer -Name 'alpha'
        $beta = Start-SocketServer -Name 'beta'
    }

    AfterEach {
        Get-SocketConnection | Disconnect-Socket
        Get-SocketServer | Stop-SocketServer
    }

    Context 'listing' {
        It 'lists every listening server, by Id' {
            $all = Get-SocketServer

            $all.Count | Should -Be 2
            $all.InstanceId | Should -Be @($alpha.InstanceId, $beta.InstanceId)
            $all[0].Id | Should -BeLessThan $all[1].Id
            $all | ForEach-Object { $_ | Should -BeOfType ([SockPS.Core.SocketServer]) }
        }

        It 'returns the live objects: counts move as clients connect' {
            $listed = Get-SocketServer -Name 'alpha'

            $null = Connect-Socket -ComputerName 127.0.0.1 -Port $alpha.Port
            Wait-TestCondition -Condition { $listed.AcceptedCount -eq 1 } -Description 'the server accepting'

            $listed.ConnectionCount | Should -Be 1
            $listed.PendingCount | Should -Be 1
            $null = Wait-SocketConnection -Server $listed -TimeoutSeconds 20
            $listed.PendingCount | Should -Be 0
        }

        It 'drops a stopped server from the list' {
            Stop-SocketServer -Server $alpha

            (Get-SocketServer).InstanceId | Should -Be @($beta.InstanceId)
        }
    }

    Context 'filters' {
        It 'finds servers by -Id, by position and by property name' {
            (Get-SocketServer -Id $beta.Id).InstanceId | Should -Be $beta.InstanceId
            (Get-SocketServer $alpha.Id).InstanceId | Should -Be $alpha.InstanceId
            ([pscustomobject]@{ Id = $beta.Id } | Get-SocketServer).InstanceId | Should -Be $beta.InstanceId
            (Get-SocketServer -Id $beta.Id, $alpha.Id).Name | Should -Be @('beta', 'alpha')
        }

        It 'finds servers by -Name, with wildcards and ignoring case' {
            (Get-SocketServer -Name 'ALPHA').InstanceId | Should -Be $alpha.InstanceId
            (Get-SocketServer -Name '*a').Name | Should -Be @('alpha', 'beta')
            (Get-SocketServer -Name 'b*').Name | Should -Be 'beta'
        }
    }

    Context 'errors' {
        It 'writes a non-terminating ServerNotFound error for an unknown -Id and outputs the rest' {
            $found = Get-SocketServer -Id 999999, $alpha.Id -ErrorAction SilentlyContinue -ErrorVariable failures

            $found.InstanceId | Should -Be $alpha.InstanceId
            $failures.Count | Should -Be 1
            $failures[0].FullyQualifiedErrorId | Should -BeExactly 'ServerNotFound,SockPS.Commands.GetSocketServerCommand'
            $failures[0].CategoryInfo.Category | Should -Be 'ObjectNotFound'
            $failures[0].Exception.Message | Should -Match 'No server with Id 999999'
            $failures[0].TargetObject | Should -Be 999999
        }

        It 'throws ServerNotFound with -ErrorAction Stop for an unknown exact -Name' {
            $err = { Get-SocketServer -Name 'gamma' -ErrorAction Stop } |
                Should -Throw -ErrorId 'ServerNotFound,SockPS.Commands.GetSocketServerCommand' -PassThru

            $err.CategoryInfo.Category | Should -Be 'ObjectNotFound'
            $err.Exception.Message | Should -Match "'gamma'"
            $err.Exception.Message | Should -Match 'Get-SocketServer'
        }

        It 'returns nothing and no error for a wildcard that matches nothing' {
            Get-SocketServer -Name 'gamma*' -ErrorAction Stop | Should -BeNullOrEmpty
        }

        It 'reports a stopped server''s Id as not found' {
            Stop-SocketServer -Server $alpha

            { Get-SocketServer -Id $alpha.Id -ErrorAction Stop } |
                Should -Throw -ErrorId 'ServerNotFound,SockPS.Commands.GetSocketServerCommand'
        }
    }

    Context 'table view' {
        It 'shows Id, Name, Protocol, LocalEndPoint, State, Connections and Accepted' {
            $null = Connect-Socket -ComputerName 127.0.0.1 -Port $alpha.Port
            Wait-TestCondition -Condition { $alpha.AcceptedCount -eq 1 } -Description 'the server accepting'

            $table = Get-SocketServer -Name 'alpha' | Out-String -Width 200
            $lines = $table -split "`r?`n" | Where-Object { $_.Trim() }

            $lines[0] | Should -Match '^\s*Id\s+Name\s+Protocol\s+LocalEndPoint\s+State\s+Connections\s+Accepted\s*$'
            $row = $lines | Where-Object { $_ -match 'alpha' }
            $row | Should -Match "^\s*$($alpha.Id)\s+alpha\s+Tcp\s+127\.0\.0\.1:$($alpha.Port)\s+Listening\s+1\s+1\s*$"
        }
    }
}
