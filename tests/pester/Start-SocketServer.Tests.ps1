#Requires -Version 7.4
# Start-SocketServer: the seed's bind and listen. Servers bind free ports (-Port 0, the default);
# the only fixed port used is one a test has just been given by the OS.

BeforeAll {
    Import-Module $env:SOCKPS_MODULE_PATH -Force
    Import-Module "$PSScriptRoot/SockPS.TestHelpers.psm1" -Force

    function Get-OsSocket([SockPS.Core.SocketConnection] $Connection) {
        $field = $Connection.GetType().GetFields([System.Reflection.BindingFlags]'NonPublic, Instance') |
            Where-Object FieldType -EQ ([System.Net.Sockets.Socket]) |
            Select-Object -First 1
        $field | Should -Not -BeNullOrEmpty -Because 'SocketConnection keeps its Socket in a private field'
        $field.GetValue($Connection)
    }

    function Test-IPv6Loopback {
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
}

Describe 'Start-SocketServer' {
    AfterEach {
        Get-SocketConnection | Disconnect-Socket
        Get-SocketServer | Stop-SocketServer
    }

    Context 'listening' {
        It 'listens on 127.0.0.1 and a free port by default, and says so on the object' {
            $server = Start-SocketServer

            $server | Should -BeOfType ([SockPS.Core.SocketServer])
            $server.LocalEndPoint.Address | Should -Be ([System.Net.IPAddress]::Loopback)
            $server.Port | Should -BeGreaterThan 0
            $server.LocalEndPoint.Port | Should -Be $server.Port
            $server.State | Should -Be 'Listening'
            $server.Protocol | Should -Be 'Tcp'
            $server.Name | Should -Be "Server$($server.Id)"
            $server.InstanceId | Should -Not -Be ([guid]::Empty)
            $server.ConnectionCount | Should -Be 0
            $server.AcceptedCount | Should -Be 0
            $server.PendingCount | Should -Be 0
            (Get-SocketServer -Id $server.Id).InstanceId | Should -Be $server.InstanceId
        }

        It 'accepts a client' {
            $server = Start-SocketServer -Port 0

            $client = Connect-Socket -ComputerName 127.0.0.1 -Port $server.Port
            $accepted = Wait-SocketConnection -Server $server -TimeoutSeconds 20

            $accepted.RemoteEndPoint | Should -Be $client.LocalEndPoint
            $accepted.Server.InstanceId | Should -Be $server.InstanceId
        }

        It 'binds the port it is given, as a number or a numeric string' {
            $probe = Start-SocketServer
            $port = $probe.Port
            Stop-SocketServer -Server $probe

            $server = Start-SocketServer -Port ([string]$port)

            $server.Port | Should -Be $port
            $server.LocalEndPoint.Port | Should -Be $port
        }

        It 'accepts in the background, before anyone waits, and queues the connections in order' {
            $server = Start-SocketServer
            $first = Connect-Socket -ComputerName 127.0.0.1 -Port $server.Port
            $second = Connect-Socket -ComputerName 127.0.0.1 -Port $server.Port

            Wait-TestCondition -Condition { $server.PendingCount -eq 2 } -Description 'two accepted connections queued'

            $server.AcceptedCount | Should -Be 2
            $server.ConnectionCount | Should -Be 2
            (Wait-SocketConnection -Server $server -TimeoutSeconds 20).RemoteEndPoint | Should -Be $first.LocalEndPoint
            (Wait-SocketConnection -Server $server -TimeoutSeconds 20).RemoteEndPoint | Should -Be $second.LocalEndPoint
            $server.PendingCount | Should -Be 0
        }

        It 'starts receiving on accepted connections before they are handed out' {
            $server = Start-SocketServer
            $client = Connect-Socket -ComputerName 127.0.0.1 -Port $server.Port
            Send-SocketData -Connection $client -InputObject 'early' -Line

            $accepted = Wait-SocketConnection -Server $server -TimeoutSeconds 20

            Receive-SocketData -Connection $accepted -Line | Should -BeExactly 'early'
        }

        It 'gives each server a new, larger Id' {
            $first = Start-SocketServer
            Stop-SocketServer -Server $first

            $second = Start-SocketServer

            $second.Id | Should -BeGreaterThan $first.Id
        }

        It 'binds from pipeline property names Port and Address' {
            $server = [pscustomobject]@{ Port = 0; Address = '127.0.0.1' } | Start-SocketServer

            $server.LocalEndPoint.Address | Should -Be ([System.Net.IPAddress]::Loopback)
            $server.Port | Should -BeGreaterThan 0
        }
    }

    Context '-Address' {
        It 'binds <Address> as <Expected>' -TestCases @(
            @{ Address = 'Any'; Expected = '0.0.0.0' }
            @{ Address = '0.0.0.0'; Expected = '0.0.0.0' }
            @{ Address = ''; Expected = '0.0.0.0' }
            @{ Address = 'localhost'; Expected = '127.0.0.1' }
            @{ Address = '127.0.0.1'; Expected = '127.0.0.1' }
        ) {
            $server = Start-SocketServer -Address $Address

            $server.LocalEndPoint.Address.ToString() | Should -Be $Expected
            $client = Connect-Socket -ComputerName 127.0.0.1 -Port $server.Port
            (Wait-SocketConnection -Server $server -TimeoutSeconds 20).RemoteEndPoint | Should -Be $client.LocalEndPoint
        }

        It 'binds <Address> as every IPv6 address, reachable over IPv4 too' -TestCases @(
            @{ Address = 'IPv6Any' }
            @{ Address = '::' }
        ) {
            if (-not (Test-IPv6Loopback)) {
                Set-ItResult -Skipped -Because 'this machine has no IPv6 loopback'
                return
            }

            $server = Start-SocketServer -Address $Address

            $server.LocalEndPoint.Address | Should -Be ([System.Net.IPAddress]::IPv6Any)
            $v4 = Connect-Socket -ComputerName 127.0.0.1 -Port $server.Port
            $v6 = Connect-Socket -ComputerName '::1' -Port $server.Port
            $v4.State | Should -Be 'Open'
            $v6.State | Should -Be 'Open'
            Wait-TestCondition -Condition { $server.AcceptedCount -eq 2 } -Description 'both clients accepted'
        }

        It 'binds the IPv6 loopback' {
            if (-not (Test-IPv6Loopback)) {
                Set-ItResult -Skipped -Because 'this machine has no IPv6 loopback'
                return
            }

            $server = Start-SocketServer -Address '::1'

            $server.LocalEndPoint.Address | Should -Be ([System.Net.IPAddress]::IPv6Loopback)
            $server.LocalEndPoint.ToString() | Should -Be "[::1]:$($server.Port)"
        }

        It 'refuses an address that is not this machine''s with a terminating error' {
            # 192.0.2.1 is TEST-NET-1: never assigned to a real host.
            $err = { Start-SocketServer -Address '192.0.2.1' -ErrorAction SilentlyContinue } |
                Should -Throw -ErrorId 'AddressNotAvailable,SockPS.Commands.StartSocketServerCommand' -PassThru

            $err.CategoryInfo.Category | Should -Be 'InvalidArgument'
            $err.Exception.Message | Should -Match '192\.0\.2\.1'
            Get-SocketServer | Should -BeNullOrEmpty
        }

        It 'refuses a name that does not resolve with a terminating HostNotFound error' {
            $err = { Start-SocketServer -Address 'no-such-host.invalid' -ErrorAction SilentlyContinue } |
                Should -Throw -ErrorId 'HostNotFound,SockPS.Commands.StartSocketServerCommand' -PassThru

            $err.CategoryInfo.Category | Should -Be 'ObjectNotFound'
            $err.Exception.Message | Should -Match 'no-such-host\.invalid'
        }
    }

    Context 'errors' {
        It 'throws a terminating AddressInUse error when the port is taken' {
            $first = Start-SocketServer

            $err = { Start-SocketServer -Port $first.Port -ErrorAction SilentlyContinue } |
                Should -Throw -ErrorId 'AddressInUse,SockPS.Commands.StartSocketServerCommand' -PassThru

            $err.FullyQualifiedErrorId | Should -BeExactly 'AddressInUse,SockPS.Commands.StartSocketServerCommand'
            $err.CategoryInfo.Category | Should -Be 'ResourceUnavailable'
            $err.Exception.Message | Should -Match "127\.0\.0\.1:$($first.Port)"
            $err.Exception.Message | Should -Match 'already in use'
            @(Get-SocketServer).Count | Should -Be 1
            $first.State | Should -Be 'Listening'
        }

        It 'rejects an unknown service name with a terminating InvalidArgument error' {
            $err = { Start-SocketServer -Port 'no-such-service' -ErrorAction SilentlyContinue } |
                Should -Throw -ErrorId 'InvalidArgument,SockPS.Commands.StartSocketServerCommand' -PassThru

            $err.CategoryInfo.Category | Should -Be 'InvalidArgument'
            $err.Exception.Message | Should -Match "'no-such-service' is not a known tcp service name"
        }

        It 'rejects port <Port> with a terminating InvalidArgument error' -TestCases @(
            @{ Port = '65536' }
            @{ Port = '-5' }
        ) {
            $err = { Start-SocketServer -Port $Port -ErrorAction SilentlyContinue } |
                Should -Throw -ErrorId 'InvalidArgument,SockPS.Commands.StartSocketServerCommand' -PassThru

            $err.CategoryInfo.Category | Should -Be 'InvalidArgument'
            $err.Exception.Message | Should -Match '65535'
        }

        It 'rejects a -Backlog of 0' {
            { Start-SocketServer -Backlog 0 } |
                Should -Throw -ErrorId 'ParameterArgumentValidationError,SockPS.Commands.StartSocketServerCommand'
        }
    }

    Context 'options' {
        It 'keeps -Name and -Backlog' {
            $server = Start-SocketServer -Name 'web' -Backlog 5

            $server.Name | Should -Be 'web'
            $server.Backlog | Should -Be 5
            (Get-SocketServer -Name 'web').InstanceId | Should -Be $server.InstanceId
        }

        It 'gives accepted connections -Encoding, -NewLine and -ReceiveTimeoutSeconds' {
            $pair = New-TestConnectionPair -ServerParameters @{ Encoding = 'unicode'; NewLine = "`r`n"; ReceiveTimeoutSeconds = 4 }

            $pair.Accepted.Encoding.WebName | Should -Be 'utf-16'
            $pair.Accepted.NewLine | Should -Be "`r`n"
            $pair.Accepted.ReceiveTimeoutSeconds | Should -Be 4
            Send-SocketData -Connection $pair.Accepted -InputObject 'A' -Line
            $bytes = Receive-SocketData -Connection $pair.Client -ByteCount 6
            [System.Convert]::ToHexString($bytes) | Should -Be '41000D000A00'
        }

        It 'sets TCP_NODELAY and SO_KEEPALIVE on accepted connections only when asked' {
            $plain = New-TestConnectionPair
            $tuned = New-TestConnectionPair -ServerParameters @{ NoDelay = $true; KeepAlive = $true }

            (Get-OsSocket $plain.Accepted).NoDelay | Should -BeFalse
            (Get-OsSocket $plain.Accepted).GetSocketOption('Socket', 'KeepAlive') | Should -Be 0
            (Get-OsSocket $tuned.Accepted).NoDelay | Should -BeTrue
            (Get-OsSocket $tuned.Accepted).GetSocketOption('Socket', 'KeepAlive') | Should -Not -Be 0
        }
    }
}
