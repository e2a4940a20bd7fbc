#Requires -Version 7.4
# Tab completion of live objects, -Server by name or Id, and binding by property name from
# objects other cmdlets make (Import-Csv, Get-SocketConnection).

BeforeAll {
    Import-Module $env:SOCKPS_MODULE_PATH -Force
    Import-Module "$PSScriptRoot/SockPS.TestHelpers.psm1" -Force

    function Get-Completion([string] $Line) {
        (TabExpansion2 -inputScript $Line -cursorColumn $Line.Length).CompletionMatches
    }
}

Describe 'Tab completion' {
    BeforeAll {
        $web = Start-SocketServer -Name 'web'
        $spaced = Start-SocketServer -Name 'my server'
        $client = Connect-Socket -ComputerName 127.0.0.1 -Port $web.Port -Name 'client1'
        $accepted = Wait-SocketConnection -Server $web -TimeoutSeconds 20
        $relay = Start-SocketRelay -ComputerName 127.0.0.1 -Port $web.Port -Name 'fwd'
    }

    AfterAll {
        Get-SocketRelay | Stop-SocketRelay
        Get-SocketConnection | Disconnect-Socket
        Get-SocketServer | Stop-SocketServer
    }

    It 'completes server ids with the name and endpoint in the tooltip' {
        $matches = Get-Completion 'Stop-SocketServer -Id '

        $matches.CompletionText | Should -Contain "$($web.Id)"
        $match = $matches | Where-Object CompletionText -EQ "$($web.Id)"
        $match.ListItemText | Should -BeExactly "$($web.Id) web"
        $match.ToolTip | Should -Match ([regex]::Escape("127.0.0.1:$($web.Port)"))
    }

    It 'completes server names, quoting the ones with spaces' {
        $matches = Get-Completion 'Get-SocketServer -Name '

        $matches.CompletionText | Should -Contain 'web'
        $matches.CompletionText | Should -Contain "'my server'"
        (Get-Completion 'Get-SocketServer -Name my').CompletionText | Should -Be @("'my server'")
    }

    It 'completes -Server with server names on <_>' -ForEach 'Wait-SocketConnection', 'Receive-SocketServerOutput', 'Get-SocketConnection' {
        $matches = Get-Completion "$_ -Server w"

        $matches.CompletionText | Should -Be @('web')
        $matches[0].ToolTip | Should -Match ([regex]::Escape("127.0.0.1:$($web.Port)"))
    }

    It 'completes connection ids and names on <_>, with both endpoints in the tooltip' -ForEach 'Disconnect-Socket', 'Send-SocketData', 'Receive-SocketData', 'Wait-SocketData', 'Get-SocketConnection' {
        $ids = Get-Completion "$_ -Id "
        $ids.CompletionText | Should -Contain "$($client.Id)"
        $ids.CompletionText | Should -Contain "$($accepted.Id)"
        ($ids | Where-Object CompletionText -EQ "$($client.Id)").ToolTip |
            Should -Match ([regex]::Escape("$($client.LocalEndPoint) -> 127.0.0.1:$($web.Port)"))

        (Get-Completion "$_ -Name cli").CompletionText | Should -Be @('client1')
    }

    It 'completes relay ids and names on <_>' -ForEach 'Stop-SocketRelay', 'Get-SocketRelay' {
        ($_ | ForEach-Object { Get-Completion "$_ -Name f" }).CompletionText | Should -Be @('fwd')
        $ids = Get-Completion "$_ -Id "
        $ids.CompletionText | Should -Contain "$($relay.Id)"
        ($ids | Where-Object CompletionText -EQ "$($relay.Id)").ToolTip | Should -Match ([regex]::Escape("127.0.0.1:$($web.Port)"))
    }

    It 'offers nothing for an id no live object has' {
        Get-Completion 'Stop-SocketServer -Id 99999' | Should -BeNullOrEmpty
    }

    It 'completes -Encoding names on <_>' -ForEach 'Connect-Socket', 'Send-SocketData', 'Start-SocketServer' {
        $matches = Get-Completion "$_ -Encoding lat"

        $matches.CompletionText | Should -Contain 'latin1'
    }

    It 'completes -Protocol on <_>' -ForEach 'Connect-Socket', 'Start-SocketServer', 'Start-SocketRelay' {
        (Get-Completion "$_ -Protocol ").CompletionText | Should -Be @('Tcp', 'Udp')
    }
}

Describe '-Server by name or Id' {
    BeforeEach {
        $web = Start-SocketServer -Name 'web'
        $other = Start-SocketServer -Name 'other'
    }

    AfterEach {
        Get-SocketConnection | Disconnect-Socket
        Get-SocketServer | Stop-SocketServer
    }

    It 'takes the completed name: Wait-SocketConnection -Server web' {
        $client = Connect-Socket -ComputerName 127.0.0.1 -Port $web.Port

        $accepted = Wait-SocketConnection -Server web -TimeoutSeconds 20

        $accepted.Server | Should -Be $web
        $accepted.RemoteEndPoint | Should -Be $client.LocalEndPoint
    }

    It 'takes an Id and wildcards: Get-SocketConnection -Server' {
        $null = Connect-Socket -ComputerName 127.0.0.1 -Port $web.Port
        $null = Connect-Socket -ComputerName 127.0.0.1 -Port $other.Port
        $fromWeb = Wait-SocketConnection -Server $web.Id -TimeoutSeconds 20
        $fromOther = Wait-SocketConnection -Server $other -TimeoutSeconds 20

        (Get-SocketConnection -Server $web.Id).Id | Should -Be @($fromWeb.Id)
        (Get-SocketConnection -Server '*e*').Id | Sort-Object | Should -Be (@($fromWeb.Id, $fromOther.Id) | Sort-Object)
    }

    It 'stops a server named on the command line' {
        Stop-SocketServer -Server other

        $other.State | Should -Be 'Stopped'
        $web.State | Should -Be 'Listening'
    }

    It 'fails to bind a name no server has, saying how to list them' {
        { Wait-SocketConnection -Server 'nosuch' -TimeoutSeconds 1 } |
            Should -Throw -ErrorId 'ParameterArgumentTransformationError,SockPS.Commands.WaitSocketConnectionCommand' -ExpectedMessage "*No server named 'nosuch' exists*Get-SocketServer*"
    }
}

Describe 'Binding by property name' {
    BeforeEach {
        $server = Start-SocketServer
        $csv = Join-Path $TestDrive 'endpoints.csv'
    }

    AfterEach {
        Get-SocketConnection | Disconnect-Socket
        Get-SocketServer | Stop-SocketServer
    }

    It 'connects to every row of a CSV with ComputerName, Port and Name columns' {
        @(
            [pscustomobject]@{ ComputerName = '127.0.0.1'; Port = "$($server.Port)"; Name = 'first' }
            [pscustomobject]@{ ComputerName = 'localhost'; Port = "$($server.Port)"; Name = 'second' }
        ) | Export-Csv -LiteralPath $csv

        $connections = Import-Csv -LiteralPath $csv | Connect-Socket -TimeoutSeconds 20

        $connections.Name | Should -Be @('first', 'second')
        $connections.State | Should -Be @('Open', 'Open')
        $connections.RemoteEndPoint.Port | Should -Be @($server.Port, $server.Port)
        $connections.ComputerName | Should -Be @('127.0.0.1', 'localhost')
    }

    It 'connects to every row of a CSV with a Uri column, each with its own protocol' {
        $udp = Start-SocketServer -Protocol Udp
        "Uri`ntcp://127.0.0.1:$($server.Port)`nudp://127.0.0.1:$($udp.Port)" | Set-Content -LiteralPath $csv

        $connections = Import-Csv -LiteralPath $csv | Connect-Socket -TimeoutSeconds 20

        $connections.Protocol | Should -Be @('Tcp', 'Udp')
        $connections.RemoteEndPoint.Port | Should -Be @($server.Port, $udp.Port)
    }

    It 'closes every connection piped from Get-SocketConnection' {
        $clients = 1..3 | ForEach-Object { Connect-Socket -ComputerName 127.0.0.1 -Port $server.Port }
        # Connect-Socket returns when the kernel has finished the handshake; the server's accept
        # loop publishes its side a moment later, and those are to be closed too.
        Wait-TestCondition { @(Get-SocketConnection -Server $server).Count -eq 3 } -Description 'the server accepting the three clients'

        Get-SocketConnection | Disconnect-Socket

        $clients.State | Should -Be @('Disconnected', 'Disconnected', 'Disconnected')
        Get-SocketConnection | Should -BeNullOrEmpty
    }

    It 'leaves every connection open with -WhatIf' {
        $clients = 1..2 | ForEach-Object { Connect-Socket -ComputerName 127.0.0.1 -Port $server.Port }

        Get-SocketConnection | Disconnect-Socket -WhatIf

        $clients.State | Should -Be @('Open', 'Open')
        (Get-SocketConnection).Id | Should -Contain $clients[0].Id
        (Get-SocketConnection).Id | Should -Contain $clients[1].Id
    }
}
