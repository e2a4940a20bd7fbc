#Requires -Version 7.4
# How -Connection, -Server and -Relay reach PowerShell's binder. Their transformations hand over an
# array of the parameter's own type, so PowerShell binds the value as it is. A lone object (or an
# object[] of them) would otherwise go through the binder's collection encoding, which converts it
# element by element: about 10 us of each `Send-SocketData -Connection $c` call on the 2-core CI
# machine, a third of the call. No timing here: PowerShell's own ParameterBinding trace says which
# way it bound.

BeforeAll {
    Import-Module $env:SOCKPS_MODULE_PATH -Force
    Import-Module "$PSScriptRoot/SockPS.TestHelpers.psm1" -Force

    # The ParameterBinding trace of one command, as text.
    function Get-BindingTrace([scriptblock] $Command) {
        $path = Join-Path $TestDrive "binding-$([guid]::NewGuid()).txt"
        Trace-Command -Name ParameterBinding -FilePath $path -Expression $Command
        Get-Content -LiteralPath $path -Raw
    }
}

Describe 'target parameters bind as their own type' {
    BeforeAll {
        $server = Start-SocketServer
        $a = Connect-Socket -ComputerName 127.0.0.1 -Port $server.Port
        $b = Connect-Socket -ComputerName 127.0.0.1 -Port $server.Port
        $relay = Start-SocketRelay -ComputerName 127.0.0.1 -Port $server.Port
    }

    AfterAll {
        Get-SocketRelay | Stop-SocketRelay
        Get-SocketConnection | Disconnect-Socket
        Get-SocketServer | Stop-SocketServer
    }

    It 'binds -Connection <Case> without encoding a collection' -ForEach @(
        @{ Case = 'one connection'; Command = { Send-SocketData -Connection $a -InputObject 'x' } }
        @{ Case = 'two connections (an object[])'; Command = { Send-SocketData -Connection $a, $b -InputObject 'x' } }
        @{ Case = 'piped'; Command = { $a | Send-SocketData -InputObject 'x' } }
    ) {
        $trace = Get-BindingTrace $Command

        # The transformation handed over the parameter's own type...
        $trace | Should -Match 'result returned from DATA GENERATION: SockPS\.Core\.SocketConnection\[\]'
        $trace | Should -Match 'BIND arg \[SockPS\.Core\.SocketConnection\[\]\] to param \[Connection\] SUCCESSFUL'
        # ...so the binder did not build a collection of its own, element by element.
        $trace | Should -Not -Match 'Binding collection parameter Connection'
    }

    It 'binds -Server and -Relay without encoding a collection' {
        $trace = Get-BindingTrace { $null = Get-SocketConnection -Server $server; Stop-SocketRelay -Relay $relay -WhatIf 6> $null }

        $trace | Should -Match 'BIND arg \[SockPS\.Core\.SocketServer\[\]\] to param \[Server\] SUCCESSFUL'
        $trace | Should -Match 'BIND arg \[SockPS\.Core\.SocketRelay\[\]\] to param \[Relay\] SUCCESSFUL'
        $trace | Should -Not -Match 'Binding collection parameter (Server|Relay)'
    }

    It 'still sends to each connection given' {
        $listener = Start-SocketServer
        $one = Connect-Socket -ComputerName 127.0.0.1 -Port $listener.Port
        $two = Connect-Socket -ComputerName 127.0.0.1 -Port $listener.Port
        $far = @(1, 2 | ForEach-Object { Wait-SocketConnection -Server $listener -TimeoutSeconds 20 })

        Send-SocketData -Connection $one, $two -InputObject 'both' -Line
        $far | ForEach-Object { Receive-SocketData -Connection $_ -Line -TimeoutSeconds 20 } | Should -Be @('both', 'both')
    }
}
