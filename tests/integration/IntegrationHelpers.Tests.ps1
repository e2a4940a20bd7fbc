#Requires -Version 7.4
# The shared pieces of SockPS.IntegrationHelpers.psm1 that every server helper relies on: free
# ports, the retry when a port is taken, the bounded port wait, stopping by process id, throw-away
# users and certificates.

BeforeDiscovery {
    $notRoot = $IsWindows -or (& id -u) -ne '0'
}

BeforeAll {
    Import-Module $env:SOCKPS_MODULE_PATH -Force
    Import-Module "$PSScriptRoot/../pester/SockPS.TestHelpers.psm1" -Force
    Import-Module "$PSScriptRoot/SockPS.IntegrationHelpers.psm1" -Force
}

AfterAll {
    Stop-TestProcess -All
}

Describe 'Get-TestFreePort and Test-TestPortFree' {
    It 'gives a <Protocol> port that can be bound' -TestCases @(
        @{ Protocol = 'Tcp' }, @{ Protocol = 'Udp' }, @{ Protocol = 'Both' }
    ) {
        $port = Get-TestFreePort -Protocol $Protocol

        $port | Should -BeGreaterThan 0
        Test-TestPortFree -Port $port -Protocol $Protocol | Should -BeTrue
    }

    It 'says a bound port is not free' {
        $listener = [System.Net.Sockets.TcpListener]::new([System.Net.IPAddress]::Loopback, 0)
        $listener.Start()
        try {
            Test-TestPortFree -Port $listener.LocalEndpoint.Port | Should -BeFalse
        }
        finally {
            $listener.Stop()
        }
    }
}

Describe 'Start-TestDaemon' {
    It 'starts the daemon again on another port when the first one was taken' {
        # The first port offered is held here, as if another process took it after it was picked.
        $listener = [System.Net.Sockets.TcpListener]::new([System.Net.IPAddress]::Loopback, 0)
        $listener.Start()
        $daemon = $null
        try {
            $taken = $listener.LocalEndpoint.Port
            $daemon = Start-TestDaemon -FilePath socat -Port $taken -ArgumentList {
                param($Port)
                "TCP-LISTEN:$Port,bind=127.0.0.1,fork", 'PIPE'
            }

            $daemon.Port | Should -Not -Be $taken
            $daemon.Process.HasExited | Should -BeFalse
            Invoke-SocketRequest -ComputerName 127.0.0.1 -Port $daemon.Port -InputObject 'echo' -TimeoutSeconds 10 |
                Should -BeExactly 'echo'
        }
        finally {
            $listener.Stop()
            Stop-TestServer -Server $daemon
        }
    }

    It 'does not take a port another process answers on for the daemon being ready' {
        $listener = [System.Net.Sockets.TcpListener]::new([System.Net.IPAddress]::Loopback, 0)
        $listener.Start()
        $socat = $null
        try {
            $socat = Start-TestDaemon -FilePath socat -ArgumentList { param($Port) "TCP-LISTEN:$Port,bind=127.0.0.1,fork", 'PIPE' }

            Test-TestPortOwner -Port $socat.Port -ProcessId $socat.Process.Id | Should -BeTrue
            Test-TestPortOwner -Port $listener.LocalEndpoint.Port -ProcessId $socat.Process.Id | Should -BeFalse
            Test-TestPortOwner -Port $listener.LocalEndpoint.Port -ProcessId $PID | Should -BeTrue
        }
        finally {
            $listener.Stop()
            Stop-TestServer -Server $socat
        }
    }

    It 'fails at once, with the output of the daemon, when it exits before it is ready' {
        { Start-TestDaemon -FilePath socat -ArgumentList { param($Port) 'NO-SUCH-ADDRESS:1', 'PIPE' } -TimeoutSeconds 60 } |
            Should -Throw -ExpectedMessage '*exited*before port*NO-SUCH-ADDRESS*'
    }
}

Describe 'Wait-TestPort' {
    It 'gives up after the timeout when nothing listens' {
        $port = Get-TestFreePort
        { Wait-TestPort -Port $port -TimeoutSeconds 0.5 } | Should -Throw -ExpectedMessage "*127.0.0.1:$port within 0.5 s*"
    }
}

Describe 'Stop-TestServer' {
    It 'kills the process by its id, with its children, and removes the folder' {
        $folder = New-TestTempFolder
        $parent = Start-TestProcess -FilePath sh -ArgumentList @('-c', 'sleep 300 & echo child $!; wait')
        $child = [int](Wait-TestProcessLine -Process $parent -Pattern '^child (\d+)$').Groups[1].Value
        $server = [pscustomobject]@{ Process = $parent; Folder = $folder }
        $parentId = $parent.Id

        Stop-TestServer -Server $server
        Stop-TestServer -Server $server     # twice is fine

        foreach ($id in $parentId, $child) {
            Wait-TestCondition -Description "process $id gone" -TimeoutSeconds 10 -Condition {
                $null -eq (Get-Process -Id $id -ErrorAction SilentlyContinue)
            }
        }
        Test-Path -LiteralPath $folder | Should -BeFalse
    }
}

Describe 'New-TestUser and Remove-TestUser' -Skip:$notRoot {
    It 'adds a user that can be looked up and removes it again' {
        $folder = New-TestTempFolder
        try {
            $user = New-TestUser -HomeDirectory (Join-Path $folder 'home')

            $user.UserName | Should -Match '^sockps-[a-z0-9]{8}$'
            $user.Credential.GetNetworkCredential().Password | Should -BeExactly $user.Password
            (& getent passwd $user.UserName) | Should -Match "^$($user.UserName):x:\d+:\d+:.*:$([regex]::Escape($user.Home)):/bin/sh$"

            Remove-TestUser -UserName $user.UserName
            $null = & getent passwd $user.UserName
            $LASTEXITCODE | Should -Be 2 -Because 'getent exits 2 for a name it does not know'
        }
        finally {
            Remove-Item -LiteralPath $folder -Recurse -Force
        }
    }

    It 'refuses to remove a name it did not make' {
        { Remove-TestUser -UserName 'root' } | Should -Throw -ErrorId 'ParameterArgumentValidationError,Remove-TestUser'
    }
}

Describe 'New-TestServerCertificate' {
    It 'makes a certificate that openssl serves and SockPS trusts through the CA file' {
        $folder = New-TestTempFolder
        $server = $null
        $connection = $null
        try {
            $certificate = New-TestServerCertificate -Directory $folder
            $verify = & openssl verify -CAfile $certificate.CaPath $certificate.CertificatePath 2>&1
            $LASTEXITCODE | Should -Be 0 -Because "$verify"

            $server = Start-TestDaemon -FilePath openssl -ArgumentList {
                param($Port)
                's_server', '-accept', "127.0.0.1:$Port", '-cert', $certificate.ChainPath, '-key', $certificate.KeyPath, '-quiet'
            }
            $connection = Connect-Socket -ComputerName localhost -Port $server.Port -UseTls -CaCertificate $certificate.CaPath -TimeoutSeconds 10

            $connection.RemoteCertificate.Subject | Should -BeExactly 'CN=localhost'
        }
        finally {
            if ($connection) { Disconnect-Socket -Connection $connection }
            Stop-TestServer -Server $server
            Remove-Item -LiteralPath $folder -Recurse -Force
        }
    }
}
