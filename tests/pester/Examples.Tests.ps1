#Requires -Version 7.4
# The seed's example pair, examples/server.ps1 and examples/client.ps1, run as separate pwsh
# processes the way a user runs them. One client is client.ps1; the second is a SockPS
# connection from this process, so the endpoint the server prints can be checked exactly.

BeforeAll {
    Import-Module $env:SOCKPS_MODULE_PATH -Force
    Import-Module "$PSScriptRoot/SockPS.TestHelpers.psm1" -Force

    $examples = Join-Path -Path $PSScriptRoot -ChildPath '../../examples' -Resolve
}

AfterAll {
    Stop-TestProcess -All
}

Describe 'examples/server.ps1 and examples/client.ps1' {
    AfterEach {
        Get-SocketConnection | Disconnect-Socket
        Get-SocketServer | Stop-SocketServer
    }

    It 'serves two clients: each is greeted, the server names them and exits 0' {
        $server = Start-TestPwsh -File (Join-Path $examples 'server.ps1') -ArgumentList @(
            '-Port', '0', '-MaxClients', '2', '-ModulePath', $env:SOCKPS_MODULE_PATH)
        $client = $null
        try {
            $listening = Wait-TestProcessLine -Process $server -Pattern '^Listening on 127\.0\.0\.1:(\d+)$' -TimeoutSeconds 30
            $port = [int]$listening.Groups[1].Value
            $port | Should -BeGreaterThan 0

            # First client: examples/client.ps1 in its own pwsh.
            $client = Start-TestPwsh -File (Join-Path $examples 'client.ps1') -ArgumentList @(
                '-Port', [string]$port, '-ModulePath', $env:SOCKPS_MODULE_PATH)
            $null = Wait-TestProcessLine -Process $client -Pattern '^Thank you for connecting$' -TimeoutSeconds 30
            Wait-TestProcessExit -Process $client -TimeoutSeconds 30 | Should -Be 0 -Because $client.Transcript()
            $client.ErrorLines | Should -BeNullOrEmpty
            $first = Wait-TestProcessLine -Process $server -Pattern '^Got connection from (.+):(\d+)$' -TimeoutSeconds 30
            [System.Net.IPAddress]::IsLoopback([System.Net.IPAddress]::Parse($first.Groups[1].Value.Trim('[', ']'))) |
                Should -BeTrue -Because "the server printed '$($first.Value)'"

            # Second client: a connection from this process, whose local endpoint is known.
            $connection = Connect-Socket -ComputerName 127.0.0.1 -Port $port
            Receive-SocketData -Connection $connection -ToEnd -TimeoutSeconds 30 | Should -BeExactly 'Thank you for connecting'
            $second = Wait-TestProcessLine -Process $server -Pattern '^Got connection from (.+)$' -TimeoutSeconds 30
            $second.Groups[1].Value | Should -Be $connection.LocalEndPoint.ToString()

            Wait-TestProcessExit -Process $server -TimeoutSeconds 30 | Should -Be 0 -Because $server.Transcript()
            $server.ErrorLines | Should -BeNullOrEmpty
            @($server.OutputLines | Where-Object { $_ -like 'Got connection from *' }).Count | Should -Be 2
        }
        finally {
            Stop-TestProcess -Process $client, $server
        }
    }
}
