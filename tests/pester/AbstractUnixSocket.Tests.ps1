#Requires -Version 7.4
# Linux abstract Unix socket names (-AbstractName, unix-abstract:name) against socat's
# ABSTRACT-LISTEN, ABSTRACT-CONNECT, ABSTRACT-SENDTO and ABSTRACT-RECV, with real bytes both
# ways, stream and datagram; a path that starts with NUL is refused with the way to the abstract
# form, and -Path @name stays a file. Every name carries a random part: the abstract namespace
# is shared by the whole machine (its network namespace).

BeforeAll {
    Import-Module $env:SOCKPS_MODULE_PATH -Force
    Import-Module "$PSScriptRoot/SockPS.TestHelpers.psm1" -Force

    if (-not (Get-Command -Name socat -CommandType Application -ErrorAction SilentlyContinue)) {
        throw 'socat is not installed; .ci/run installs it.'
    }

    function New-AbstractName {
        "sockps-test-$([System.Guid]::NewGuid().ToString('n').Substring(0, 12))"
    }

    # socat -d -d says "listening on" once its abstract socket listens.
    function Start-SocatListener([string[]] $Arguments) {
        $socat = Start-TestProcess -FilePath 'socat' -ArgumentList (@('-d', '-d') + $Arguments)
        $null = Wait-TestProcessLine -Process $socat -Stream Error -Pattern 'listening on|starting data transfer loop'
        $socat
    }
}

AfterAll {
    Get-SocketConnection | Disconnect-Socket
    Get-SocketServer | Stop-SocketServer
    Stop-TestProcess -All
}

Describe 'Connect-Socket -AbstractName against socat ABSTRACT-LISTEN' {
    AfterEach {
        Get-SocketConnection | Disconnect-Socket
        Stop-TestProcess -All
    }

    It 'talks both ways with socat''s echo (EXEC:cat)' {
        $name = New-AbstractName
        $null = Start-SocatListener -Arguments @("ABSTRACT-LISTEN:$name", 'EXEC:cat')

        $connection = Connect-Socket -AbstractName $name

        $connection.Protocol | Should -Be 'Tcp'
        $connection.AddressFamily | Should -Be 'Unix'
        "$($connection.RemoteEndPoint)" | Should -BeExactly "@$name"
        Send-SocketData -Connection $connection -InputObject 'ping über abstract' -Line
        Receive-SocketData -Connection $connection -Line -TimeoutSeconds 20 | Should -BeExactly 'ping über abstract'
    }

    It 'takes the name as a unix-abstract: URI (Invoke-SocketRequest)' {
        $name = New-AbstractName
        $null = Start-SocatListener -Arguments @("ABSTRACT-LISTEN:$name", 'SYSTEM:echo hello from socat')

        Invoke-SocketRequest -Uri "unix-abstract:$name" -TimeoutSeconds 20 | Should -BeExactly "hello from socat`n"
    }

    It 'sends datagrams to socat ABSTRACT-RECV (-Protocol Udp)' {
        $name = New-AbstractName
        $socat = Start-SocatListener -Arguments @('-u', "ABSTRACT-RECV:$name", 'STDOUT')

        $connection = Connect-Socket -AbstractName $name -Protocol Udp
        Send-SocketData -Connection $connection -InputObject "one datagram`n"
        $null = Wait-TestProcessLine -Process $socat -Pattern '^one datagram$'
    }

    It 'nothing listening on the name is ConnectionRefused, naming it with its @' {
        $name = New-AbstractName
        $errors = $null
        $result = Connect-Socket -AbstractName $name -ErrorVariable errors -ErrorAction SilentlyContinue

        $result | Should -BeNullOrEmpty
        $errors[0].FullyQualifiedErrorId | Should -BeExactly 'ConnectionRefused,SockPS.Commands.ConnectSocketCommand'
        "$($errors[0])" | Should -Match "abstract Unix socket @$name was refused"
    }
}

Describe 'Start-SocketServer -AbstractName against socat ABSTRACT-CONNECT' {
    AfterEach {
        Get-SocketConnection | Disconnect-Socket
        Get-SocketServer | Stop-SocketServer
        Stop-TestProcess -All
    }

    It 'accepts socat, and bytes go both ways' {
        $name = New-AbstractName
        $server = Start-SocketServer -AbstractName $name
        "$($server.LocalEndPoint)" | Should -BeExactly "@$name"
        $server.Path | Should -BeNullOrEmpty -Because 'an abstract socket has no file'

        $socat = Start-TestProcess -FilePath 'socat' -ArgumentList @('-', "ABSTRACT-CONNECT:$name")
        $accepted = Wait-SocketConnection -Server $server -TimeoutSeconds 20
        $socat.WriteInput('hello from socat')
        Receive-SocketData -Connection $accepted -Line -TimeoutSeconds 20 | Should -BeExactly 'hello from socat'
        Send-SocketData -Connection $accepted -InputObject 'hello from SockPS' -Line
        $null = Wait-TestProcessLine -Process $socat -Pattern '^hello from SockPS$'
    }

    It 'receives socat ABSTRACT-SENDTO datagrams on a -Protocol Udp server' {
        $name = New-AbstractName
        $server = Start-SocketServer -AbstractName $name -Protocol Udp

        $socat = Start-TestProcess -FilePath 'socat' -ArgumentList @('-u', '-', "ABSTRACT-SENDTO:$name")
        $socat.WriteInput('a datagram from socat')
        $datagram = Receive-SocketData -Connection $server -TimeoutSeconds 20
        $datagram.Text | Should -BeExactly "a datagram from socat`n"
    }

    It 'a name another socket holds is AddressInUse; the name is free again once the server stops' {
        $name = New-AbstractName
        $first = Start-SocketServer -AbstractName $name

        { Start-SocketServer -AbstractName $name } | Should -Throw -ErrorId 'AddressInUse,SockPS.Commands.StartSocketServerCommand'

        Stop-SocketServer -Server $first
        $again = Start-SocketServer -AbstractName $name
        "$($again.LocalEndPoint)" | Should -BeExactly "@$name"
    }

    It 'Connect-Socket -AbstractName reaches Start-SocketServer -AbstractName' {
        $name = New-AbstractName
        $server = Start-SocketServer -AbstractName $name
        $client = Connect-Socket -AbstractName $name
        $accepted = Wait-SocketConnection -Server $server -TimeoutSeconds 20

        Send-SocketData -Connection $client -InputObject 'round trip' -Line
        Receive-SocketData -Connection $accepted -Line -TimeoutSeconds 20 | Should -BeExactly 'round trip'
    }
}

Describe 'Start-SocketRelay with abstract names' {
    AfterEach {
        Get-SocketRelay | Stop-SocketRelay
        Get-SocketConnection | Disconnect-Socket
        Stop-TestProcess -All
    }

    It 'forwards a TCP port to socat ABSTRACT-LISTEN (-AbstractName)' {
        $name = New-AbstractName
        $null = Start-SocatListener -Arguments @("ABSTRACT-LISTEN:$name", 'EXEC:cat')
        $relay = Start-SocketRelay -AbstractName $name

        $relay.Target | Should -BeExactly "@$name"
        $client = Connect-Socket -ComputerName 127.0.0.1 -Port $relay.Port
        Send-SocketData -Connection $client -InputObject 'via the relay' -Line
        Receive-SocketData -Connection $client -Line -TimeoutSeconds 20 | Should -BeExactly 'via the relay'
    }

    It 'listens on an abstract name (-ListenAbstractName) for socat ABSTRACT-CONNECT' {
        $name = New-AbstractName
        $echo = Start-SocatEcho
        $relay = Start-SocketRelay -ListenAbstractName $name -ComputerName 127.0.0.1 -Port $echo.Port

        "$($relay.LocalEndPoint)" | Should -BeExactly "@$name"
        $socat = Start-TestProcess -FilePath 'socat' -ArgumentList @('-', "ABSTRACT-CONNECT:$name")
        $socat.WriteInput('echo through an abstract relay')
        $null = Wait-TestProcessLine -Process $socat -Pattern '^echo through an abstract relay$'
    }
}

Describe 'The abstract form only when asked for' {
    AfterEach {
        Get-SocketConnection | Disconnect-Socket
        Get-SocketServer | Stop-SocketServer
    }

    It '-Path @name is a file named @name, not the abstract name' {
        $name = New-AbstractName
        $null = Start-SocketServer -AbstractName $name
        Push-Location -LiteralPath $TestDrive
        try {
            $errors = $null
            $result = Connect-Socket -Path "@$name" -ErrorVariable errors -ErrorAction SilentlyContinue
            $result | Should -BeNullOrEmpty
            $errors[0].FullyQualifiedErrorId | Should -BeExactly 'HostNotFound,SockPS.Commands.ConnectSocketCommand'
            "$($errors[0])" | Should -Match ([regex]::Escape((Join-Path -Path $TestDrive -ChildPath "@$name")))

            $server = Start-SocketServer -Path "@$name"
            Test-Path -LiteralPath (Join-Path -Path $TestDrive -ChildPath "@$name") | Should -BeTrue
            Stop-SocketServer -Server $server
        }
        finally {
            Pop-Location
        }
    }

    It 'a path that starts with NUL is InvalidArgument, pointing to -AbstractName (<Cmdlet>)' -ForEach @(
        @{ Cmdlet = 'Connect-Socket'; Command = { Connect-Socket -Path "`0sockps-app" }; Id = 'InvalidArgument,SockPS.Commands.ConnectSocketCommand' }
        @{ Cmdlet = 'Start-SocketServer'; Command = { Start-SocketServer -Path "`0sockps-app" }; Id = 'InvalidArgument,SockPS.Commands.StartSocketServerCommand' }
        @{ Cmdlet = 'Invoke-SocketRequest'; Command = { Invoke-SocketRequest -Path "`0sockps-app" -InputObject 'x' }; Id = 'InvalidArgument,SockPS.Commands.InvokeSocketRequestCommand' }
        @{ Cmdlet = 'Start-SocketRelay'; Command = { Start-SocketRelay -Path "`0sockps-app" }; Id = 'InvalidArgument,SockPS.Commands.StartSocketRelayCommand' }
    ) {
        $Command | Should -Throw -ErrorId $Id -ExpectedMessage '*starts with a NUL character*sockps-app*-AbstractName*'
    }

    It 'refuses an empty unix-abstract: URI' {
        { Connect-Socket -Uri 'unix-abstract:' } | Should -Throw -ErrorId 'InvalidUri,SockPS.Commands.ConnectSocketCommand'
    }
}
