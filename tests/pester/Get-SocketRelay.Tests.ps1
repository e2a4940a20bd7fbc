#Requires -Version 7.4
# Get-SocketRelay: the process-wide registry of running relays.

BeforeAll {
    Import-Module $env:SOCKPS_MODULE_PATH -Force
    Import-Module "$PSScriptRoot/SockPS.TestHelpers.psm1" -Force
}

Describe 'Get-SocketRelay' {
    BeforeEach {
        Get-SocketRelay | Stop-SocketRelay
        $target = Start-SocketServer
        $alpha = Start-SocketRelay -ComputerName 127.0.0.1 -Port $target.Port -Name 'alpha'
        $beta = Start-SocketRelay -ComputerName 127.0.0.1 -Port $target.Port -Name 'beta'
    }

    AfterEach {
        Get-SocketRelay | Stop-SocketRelay
        Get-SocketConnection | Disconnect-Socket
        Get-SocketServer | Stop-SocketServer
    }

    Context 'listing' {
        It 'lists every running relay, by Id' {
            $all = Get-SocketRelay

            $all.Count | Should -Be 2
            $all.InstanceId | Should -Be @($alpha.InstanceId, $beta.InstanceId)
            $all[0].Id | Should -BeLessThan $all[1].Id
            $all | ForEach-Object { $_ | Should -BeOfType ([SockPS.Core.SocketRelay]) }
        }

        It 'returns the live objects: counts move as clients are forwarded' {
            $listed = Get-SocketRelay -Name 'alpha'

            $client = Connect-Socket -ComputerName 127.0.0.1 -Port $alpha.Port
            $far = Wait-SocketConnection -Server $target -TimeoutSeconds 20
            Send-SocketData -Connection $client -InputObject 'four' -Line
            Receive-SocketData -Connection $far -Line -TimeoutSeconds 20 | Should -BeExactly 'four'

            # The relay counts a block just after passing it on.
            Wait-TestCondition -Condition { $listed.BytesToTarget -eq 5 } -Description 'the relay counting the bytes'
            $listed.ActiveClients | Should -Be 1
            $listed.ClientCount | Should -Be 1
        }

        It 'drops a stopped relay from the list' {
            Stop-SocketRelay -Relay $alpha

            (Get-SocketRelay).InstanceId | Should -Be @($beta.InstanceId)
        }

        It 'gives each relay a new, larger Id' {
            Stop-SocketRelay -Relay $beta

            $gamma = Start-SocketRelay -ComputerName 127.0.0.1 -Port $target.Port

            $gamma.Id | Should -BeGreaterThan $beta.Id
            (Get-SocketRelay).Id | Should -Be @($alpha.Id, $gamma.Id)
        }
    }

    Context 'filters' {
        It 'finds relays by -Id, by position and by property name' {
            (Get-SocketRelay -Id $beta.Id).InstanceId | Should -Be $beta.InstanceId
            (Get-SocketRelay $alpha.Id).InstanceId | Should -Be $alpha.InstanceId
            ([pscustomobject]@{ Id = $beta.Id } | Get-SocketRelay).InstanceId | Should -Be $beta.InstanceId
            (Get-SocketRelay -Id $beta.Id, $alpha.Id).Name | Should -Be @('beta', 'alpha')
        }

        It 'finds relays by -Name, with wildcards and ignoring case' {
            (Get-SocketRelay -Name 'ALPHA').InstanceId | Should -Be $alpha.InstanceId
            (Get-SocketRelay -Name '*a').Name | Should -Be @('alpha', 'beta')
            (Get-SocketRelay -Name 'b*').Name | Should -Be 'beta'
        }
    }

    Context 'errors' {
        It 'writes a non-terminating RelayNotFound error for an unknown -Id and outputs the rest' {
            $found = Get-SocketRelay -Id 999999, $alpha.Id -ErrorAction SilentlyContinue -ErrorVariable failures

            $found.InstanceId | Should -Be $alpha.InstanceId
            $failures.Count | Should -Be 1
            $failures[0].FullyQualifiedErrorId | Should -BeExactly 'RelayNotFound,SockPS.Commands.GetSocketRelayCommand'
            $failures[0].CategoryInfo.Category | Should -Be 'ObjectNotFound'
            $failures[0].Exception.Message | Should -Match '999999'
            $failures[0].TargetObject | Should -Be 999999
        }

        It 'throws RelayNotFound with -ErrorAction Stop for an unknown exact -Name' {
            $err = { Get-SocketRelay -Name 'gamma' -ErrorAction Stop } |
                Should -Throw -ErrorId 'RelayNotFound,SockPS.Commands.GetSocketRelayCommand' -PassThru

            $err.CategoryInfo.Category | Should -Be 'ObjectNotFound'
            $err.Exception.Message | Should -Match "'gamma'"
        }

        It 'returns nothing and no error for a wildcard that matches nothing' {
            Get-SocketRelay -Name 'gamma*' -ErrorAction Stop | Should -BeNullOrEmpty
        }

        It 'reports a stopped relay''s Id as not found' {
            Stop-SocketRelay -Relay $alpha

            { Get-SocketRelay -Id $alpha.Id -ErrorAction Stop } |
                Should -Throw -ErrorId 'RelayNotFound,SockPS.Commands.GetSocketRelayCommand'
        }
    }

    Context 'table view' {
        It 'shows Id, Name, LocalEndPoint, Target, active clients and the bytes each way' {
            $client = Connect-Socket -ComputerName 127.0.0.1 -Port $alpha.Port
            $far = Wait-SocketConnection -Server $target -TimeoutSeconds 20
            Send-SocketData -Connection $client -InputObject 'four' -Line
            Receive-SocketData -Connection $far -Line -TimeoutSeconds 20 | Should -BeExactly 'four'
            Send-SocketData -Connection $far -InputObject 'sixsix' -Line
            Receive-SocketData -Connection $client -Line -TimeoutSeconds 20 | Should -BeExactly 'sixsix'
            Wait-TestCondition -Condition { $alpha.BytesToTarget -eq 5 -and $alpha.BytesFromTarget -eq 7 } -Description 'the relay counting the bytes'

            $table = Get-SocketRelay -Name 'alpha' | Out-String -Width 200
            $lines = $table -split "`r?`n" | Where-Object { $_.Trim() }

            $lines[0] | Should -Match '^\s*Id\s+Name\s+LocalEndPoint\s+Target\s+Active\s+Up\s+Down\s*$'
            $row = $lines | Where-Object { $_ -match 'alpha' }
            $row | Should -Match "^\s*$($alpha.Id)\s+alpha\s+127\.0\.0\.1:$($alpha.Port)\s+127\.0\.0\.1:$($target.Port)\s+1\s+5\s+7\s*$"
        }
    }
}
