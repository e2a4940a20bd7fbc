#Requires -Version 7.4
# Receive-SocketServerOutput: what a server's -ScriptBlock handlers wrote. They run in background
# runspaces, so their output and errors wait on the server, each tagged with the connection it
# came from, until this takes them.

BeforeAll {
    Import-Module $env:SOCKPS_MODULE_PATH -Force
    Import-Module "$PSScriptRoot/SockPS.TestHelpers.psm1" -Force

    # Connects, sends one line, and reads until the handler ends (it closes the connection), so
    # everything the handler wrote is on the server when this returns. Returns the client.
    function Invoke-TestHandler([SockPS.Core.SocketServer] $Server, [string] $Line) {
        $client = Connect-Socket -ComputerName 127.0.0.1 -Port $Server.Port
        Send-SocketData -Connection $client -InputObject $Line -Line
        $null = Receive-SocketData -Connection $client -ToEnd -TimeoutSeconds 20
        $client
    }
}

Describe 'Receive-SocketServerOutput' {
    BeforeEach {
        $server = Start-SocketServer -Name 'output-server' -ScriptBlock {
            param($Connection)
            $line = $Connection.ReceiveLine()
            switch ($line) {
                'fail' { throw "cannot serve '$line'" }
                'warn' { Write-Error -Message "odd line '$line'" -ErrorId 'OddLine' -Category InvalidData }
            }
            "got $line"
            [pscustomobject]@{ Line = $line; Length = $line.Length }
        }
    }

    AfterEach {
        Get-SocketConnection | Disconnect-Socket
        Get-SocketServer | Stop-SocketServer
    }

    Context 'output' {
        It 'returns what the handlers wrote, oldest first, each tagged with its connection' {
            $first = Invoke-TestHandler -Server $server -Line 'one'
            $second = Invoke-TestHandler -Server $server -Line 'two'

            $output = @(Receive-SocketServerOutput -Server $server)

            $output.Count | Should -Be 4
            $output[0] | Should -BeExactly 'got one'
            $output[1].Line | Should -BeExactly 'one'
            $output[1].Length | Should -Be 3
            $output[2] | Should -BeExactly 'got two'
            $output[3].Line | Should -BeExactly 'two'
            $output[0].SocketConnection | Should -BeOfType ([SockPS.Core.SocketConnection])
            $output[0].SocketConnection.RemoteEndPoint | Should -Be $first.LocalEndPoint
            $output[1].SocketConnection.RemoteEndPoint | Should -Be $first.LocalEndPoint
            $output[2].SocketConnection.RemoteEndPoint | Should -Be $second.LocalEndPoint
            $output[3].SocketConnection.Server.InstanceId | Should -Be $server.InstanceId
        }

        It 'takes the records, so a second call returns only what came since' {
            $null = Invoke-TestHandler -Server $server -Line 'one'
            @(Receive-SocketServerOutput -Server $server).Count | Should -Be 2

            Receive-SocketServerOutput -Server $server | Should -BeNullOrEmpty
            $null = Invoke-TestHandler -Server $server -Line 'two'
            (Receive-SocketServerOutput -Server $server)[0] | Should -BeExactly 'got two'
        }

        It 'leaves the records on the server with -Keep' {
            $null = Invoke-TestHandler -Server $server -Line 'one'

            @(Receive-SocketServerOutput -Server $server -Keep).Count | Should -Be 2
            @(Receive-SocketServerOutput -Server $server -Keep).Count | Should -Be 2
            @(Receive-SocketServerOutput -Server $server).Count | Should -Be 2
            Receive-SocketServerOutput -Server $server | Should -BeNullOrEmpty
        }

        It 'finds the server by position, from the pipeline, by -Id and by -Name' {
            $null = Invoke-TestHandler -Server $server -Line 'a'
            (Receive-SocketServerOutput $server)[0] | Should -BeExactly 'got a'
            $null = Invoke-TestHandler -Server $server -Line 'b'
            ($server | Receive-SocketServerOutput)[0] | Should -BeExactly 'got b'
            $null = Invoke-TestHandler -Server $server -Line 'c'
            (Receive-SocketServerOutput -Id $server.Id)[0] | Should -BeExactly 'got c'
            $null = Invoke-TestHandler -Server $server -Line 'd'
            (Receive-SocketServerOutput -Name 'output-*')[0] | Should -BeExactly 'got d'
        }

        It 'still returns the output after the server stopped' {
            $null = Invoke-TestHandler -Server $server -Line 'late'
            Stop-SocketServer -Server $server

            (Receive-SocketServerOutput -Server $server)[0] | Should -BeExactly 'got late'
        }

        It 'tags the output of a UDP handler with the server''s datagram socket' {
            $udp = Start-SocketServer -Protocol Udp -ScriptBlock {
                param($Datagram)
                "datagram $($Datagram.Text) from $($Datagram.RemoteEndPoint)"
                $Datagram | Send-SocketData -InputObject 'ok'
            }
            $client = Connect-Socket -ComputerName 127.0.0.1 -Port $udp.Port -Protocol Udp
            Send-SocketData -Connection $client -InputObject 'ping'
            (Receive-SocketData -Connection $client -TimeoutSeconds 20).Text | Should -BeExactly 'ok'

            $output = @(Receive-SocketServerOutput -Server $udp)

            $output.Count | Should -Be 1
            $output[0] | Should -BeExactly "datagram ping from $($client.LocalEndPoint)"
            $output[0].SocketConnection.LocalEndPoint | Should -Be $udp.LocalEndPoint
        }
    }

    Context 'handler errors' {
        It 'writes a thrown exception as a non-terminating HandlerError that targets the connection' {
            $client = Invoke-TestHandler -Server $server -Line 'fail'
            $null = Invoke-TestHandler -Server $server -Line 'after'

            $output = @(Receive-SocketServerOutput -Server $server -ErrorAction SilentlyContinue -ErrorVariable failures)

            $failures.Count | Should -Be 1
            $failures[0].FullyQualifiedErrorId | Should -BeExactly 'HandlerError,SockPS.Commands.ReceiveSocketServerOutputCommand'
            $failures[0].CategoryInfo.Category | Should -Be 'OperationStopped'
            $failures[0].Exception.Message | Should -BeExactly "cannot serve 'fail'"
            $failures[0].TargetObject.RemoteEndPoint | Should -Be $client.LocalEndPoint
            $failures[0].ErrorDetails.Message | Should -BeLike "Handler for connection $($failures[0].TargetObject.Id) (*)*cannot serve 'fail'"
            # The error stream does not stop the output that came after it.
            $output[0] | Should -BeExactly 'got after'
        }

        It 'keeps a Write-Error''s category and its original error id' {
            $client = Invoke-TestHandler -Server $server -Line 'warn'

            $output = @(Receive-SocketServerOutput -Server $server -ErrorAction SilentlyContinue -ErrorVariable failures)

            $failures.Count | Should -Be 1
            $failures[0].FullyQualifiedErrorId | Should -BeExactly 'HandlerError,SockPS.Commands.ReceiveSocketServerOutputCommand'
            $failures[0].CategoryInfo.Category | Should -Be 'InvalidData'
            $failures[0].OriginalErrorId | Should -BeLike 'OddLine*'
            $failures[0].Exception.Message | Should -BeExactly "odd line 'warn'"
            $failures[0].TargetObject.RemoteEndPoint | Should -Be $client.LocalEndPoint
            # A non-terminating error: the handler went on.
            $output[0] | Should -BeExactly 'got warn'
        }

        It 'throws the handler error with -ErrorAction Stop' {
            $null = Invoke-TestHandler -Server $server -Line 'fail'

            { Receive-SocketServerOutput -Server $server -ErrorAction Stop } |
                Should -Throw -ErrorId 'HandlerError,SockPS.Commands.ReceiveSocketServerOutputCommand'
        }

        It 'writes a non-terminating NoHandler error for a server without -ScriptBlock, and goes on' {
            $plain = Start-SocketServer -Name 'plain-server'
            $null = Invoke-TestHandler -Server $server -Line 'one'

            $output = @(Receive-SocketServerOutput -Server $plain, $server -ErrorAction SilentlyContinue -ErrorVariable failures)

            $failures.Count | Should -Be 1
            $failures[0].FullyQualifiedErrorId | Should -BeExactly 'NoHandler,SockPS.Commands.ReceiveSocketServerOutputCommand'
            $failures[0].CategoryInfo.Category | Should -Be 'InvalidArgument'
            $failures[0].Exception.Message | Should -Match 'plain-server'
            $failures[0].Exception.Message | Should -Match '-ScriptBlock'
            $failures[0].TargetObject.InstanceId | Should -Be $plain.InstanceId
            $output[0] | Should -BeExactly 'got one'
        }

        It 'writes a non-terminating ServerNotFound error for an unknown -Id' {
            $err = { Receive-SocketServerOutput -Id 999999 -ErrorAction Stop } |
                Should -Throw -ErrorId 'ServerNotFound,SockPS.Commands.ReceiveSocketServerOutputCommand' -PassThru

            $err.CategoryInfo.Category | Should -Be 'ObjectNotFound'
        }
    }
}
