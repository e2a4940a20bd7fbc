#Requires -Version 7.4
# Start-SocketRelay: a port forward, socat's favourite job. Every client is joined to a new
# connection to the target and bytes are copied both ways until either side closes. Transfers are
# checked by SHA-256; each side of a full-duplex transfer sends from its own runspace, so neither
# direction waits for the other.

BeforeAll {
    Import-Module $env:SOCKPS_MODULE_PATH -Force
    Import-Module "$PSScriptRoot/SockPS.TestHelpers.psm1" -Force
    Import-Module "$PSScriptRoot/SockPS.TlsTestHelpers.psm1" -Force

    $certs = New-TestCertificateSet -Directory (Join-Path -Path $TestDrive -ChildPath 'certs')

    # A target handler that reads everything a client sends, until it half-closes, and sends it
    # all back; then the connection closes.
    $echoAfterEnd = {
        param($Connection)
        $bytes = Receive-SocketData -Connection $Connection -ToEnd -AsByteArray -TimeoutSeconds 20
        if ($bytes) {
            $Connection.Send($bytes)
        }
    }

    # Sends -Bytes on -Connection from a second runspace and half-closes; returns the side
    # command for Wait-TestSideCommand.
    function Start-TestSender([SockPS.Core.SocketConnection] $Connection, [byte[]] $Bytes) {
        Start-TestSideCommand -ArgumentList $Connection, $Bytes -ScriptBlock {
            param($Connection, $Bytes)
            $Connection.Send($Bytes)
            Disconnect-Socket -Connection $Connection -Shutdown Send
        }
    }

    # Sends -Bytes through the relay and half-closes, then reads to the end: what came back.
    function Invoke-TestEcho([SockPS.Core.SocketConnection] $Client, [byte[]] $Bytes) {
        $Client.Send($Bytes)
        Disconnect-Socket -Connection $Client -Shutdown Send
        , (Receive-SocketData -Connection $Client -ToEnd -AsByteArray -TimeoutSeconds 20)
    }
}

Describe 'Start-SocketRelay' {
    BeforeEach {
        $sides = [System.Collections.Generic.List[object]]::new()
    }

    AfterEach {
        foreach ($side in $sides) {
            Stop-TestSideCommand -Side $side
        }
        Get-SocketRelay | Stop-SocketRelay
        Get-SocketConnection | Disconnect-Socket
        Get-SocketServer | Stop-SocketServer
    }

    Context 'TCP' {
        It 'listens on 127.0.0.1 and a free port by default, and shows where it forwards' {
            $target = Start-SocketServer

            $relay = Start-SocketRelay -ComputerName 127.0.0.1 -Port $target.Port

            $relay | Should -BeOfType ([SockPS.Core.SocketRelay])
            $relay.LocalEndPoint.Address | Should -Be ([System.Net.IPAddress]::Loopback)
            $relay.Port | Should -BeGreaterThan 0
            $relay.LocalEndPoint.Port | Should -Be $relay.Port
            $relay.Target | Should -Be "127.0.0.1:$($target.Port)"
            $relay.Protocol | Should -Be 'Tcp'
            $relay.State | Should -Be 'Listening'
            $relay.Name | Should -Be "Relay$($relay.Id)"
            $relay.ActiveClients | Should -Be 0
            $relay.ClientCount | Should -Be 0
            $relay.BytesToTarget | Should -Be 0
            $relay.BytesFromTarget | Should -Be 0
            $relay.ErrorCount | Should -Be 0
            "$relay" | Should -Be "tcp 127.0.0.1:$($relay.Port) -> 127.0.0.1:$($target.Port) (Listening)"
            (Get-SocketRelay -Id $relay.Id).InstanceId | Should -Be $relay.InstanceId
        }

        It 'forwards several MiB both ways at once, byte-exact, to a <Kind> target' -TestCases @(
            @{ Kind = 'TCP' }
            @{ Kind = 'Unix domain socket' }
        ) {
            if ($Kind -eq 'TCP') {
                $target = Start-SocketServer
                $relay = Start-SocketRelay -ComputerName 127.0.0.1 -Port $target.Port
            }
            else {
                $target = Start-SocketServer -Path (Join-Path -Path $TestDrive -ChildPath 'relay-target.sock')
                $relay = Start-SocketRelay -Path $target.Path
                $relay.Target | Should -Be $target.Path
            }
            # Not a whole number of blocks, so the tails count.
            $up = New-TestRandomBytes -Count (4MB + 4321) -Seed 61
            $down = New-TestRandomBytes -Count (3MB + 1234) -Seed 62
            $client = Connect-Socket -ComputerName 127.0.0.1 -Port $relay.Port
            $far = Wait-SocketConnection -Server $target -TimeoutSeconds 20

            $sides.Add((Start-TestSender -Connection $client -Bytes $up))
            $sides.Add((Start-TestSender -Connection $far -Bytes $down))
            $gotUp = Receive-SocketData -Connection $far -ToEnd -AsByteArray -TimeoutSeconds 30
            $gotDown = Receive-SocketData -Connection $client -ToEnd -AsByteArray -TimeoutSeconds 30

            foreach ($side in $sides) {
                (Wait-TestSideCommand -Side $side).Errors | Should -BeNullOrEmpty
            }
            $gotUp.Length | Should -Be $up.Length
            Get-TestSha256 -Bytes $gotUp | Should -Be (Get-TestSha256 -Bytes $up)
            $gotDown.Length | Should -Be $down.Length
            Get-TestSha256 -Bytes $gotDown | Should -Be (Get-TestSha256 -Bytes $down)
            $relay.BytesToTarget | Should -Be $up.Length
            $relay.BytesFromTarget | Should -Be $down.Length
            $relay.ClientCount | Should -Be 1
            Wait-TestCondition -Condition { $relay.ActiveClients -eq 0 } -Description 'the relay forgetting the finished client'
        }

        It 'forwards several clients at once, each with its own connection to the target' {
            $target = Start-SocketServer -ScriptBlock $echoAfterEnd
            $relay = Start-SocketRelay -ComputerName 127.0.0.1 -Port $target.Port
            $payloads = foreach ($index in 1..5) {
                , (New-TestRandomBytes -Count (1MB + $index) -Seed (70 + $index))
            }
            $clients = foreach ($index in 1..5) {
                Connect-Socket -ComputerName 127.0.0.1 -Port $relay.Port
            }
            Wait-TestCondition -Condition { $relay.ActiveClients -eq 5 } -Description 'five clients being forwarded'

            # All five send before any reads; the target's handlers run side by side.
            for ($index = 0; $index -lt 5; $index++) {
                $clients[$index].Send($payloads[$index])
                Disconnect-Socket -Connection $clients[$index] -Shutdown Send
            }
            $wrong = for ($index = 0; $index -lt 5; $index++) {
                $echoed = Receive-SocketData -Connection $clients[$index] -ToEnd -AsByteArray -TimeoutSeconds 30
                if ($null -eq $echoed -or (Get-TestSha256 -Bytes $echoed) -ne (Get-TestSha256 -Bytes $payloads[$index])) {
                    "client $index got back $(if ($echoed) { $echoed.Length } else { 0 }) bytes that are not the $($payloads[$index].Length) it sent"
                }
            }

            $wrong | Should -BeNullOrEmpty
            $target.AcceptedCount | Should -Be 5
            $relay.ClientCount | Should -Be 5
            Wait-TestCondition -Condition { $relay.ActiveClients -eq 0 } -Description 'the relay forgetting the finished clients'
            $relay.BytesToTarget | Should -Be (5 * 1MB + 15)
            $relay.BytesFromTarget | Should -Be (5 * 1MB + 15)
        }

        It 'passes a half-close on: the target reads to the end and can still answer' {
            $target = Start-SocketServer
            $relay = Start-SocketRelay -ComputerName 127.0.0.1 -Port $target.Port
            $client = Connect-Socket -ComputerName 127.0.0.1 -Port $relay.Port
            $far = Wait-SocketConnection -Server $target -TimeoutSeconds 20

            Send-SocketData -Connection $client -InputObject "GET / HTTP/1.0`r`n`r`n"
            Disconnect-Socket -Connection $client -Shutdown Send
            Receive-SocketData -Connection $far -ToEnd -TimeoutSeconds 20 | Should -BeExactly "GET / HTTP/1.0`r`n`r`n"
            Send-SocketData -Connection $far -InputObject "HTTP/1.0 200 OK`r`n`r`nhello"
            Disconnect-Socket -Connection $far

            Receive-SocketData -Connection $client -ToEnd -TimeoutSeconds 20 | Should -BeExactly "HTTP/1.0 200 OK`r`n`r`nhello"
            Wait-TestCondition -Condition { $relay.ActiveClients -eq 0 } -Description 'the relay forgetting the finished client'
        }

        It 'counts the client as active until both sides have closed' {
            $target = Start-SocketServer
            $relay = Start-SocketRelay -ComputerName 127.0.0.1 -Port $target.Port
            $client = Connect-Socket -ComputerName 127.0.0.1 -Port $relay.Port
            $far = Wait-SocketConnection -Server $target -TimeoutSeconds 20

            Wait-TestCondition -Condition { $relay.ActiveClients -eq 1 } -Description 'the client being forwarded'
            $relay.ClientCount | Should -Be 1
            Disconnect-Socket -Connection $client
            # The client's close reaches the target as an end of stream; the target closes too.
            Receive-SocketData -Connection $far -ToEnd -TimeoutSeconds 20 | Should -BeNullOrEmpty
            Disconnect-Socket -Connection $far

            Wait-TestCondition -Condition { $relay.ActiveClients -eq 0 } -Description 'the relay forgetting the client'
            $relay.ClientCount | Should -Be 1
        }

        It 'listens on a Unix domain socket with -ListenPath' {
            $target = Start-SocketServer -ScriptBlock $echoAfterEnd
            $path = Join-Path -Path $TestDrive -ChildPath 'relay-listen.sock'

            $relay = Start-SocketRelay -ListenPath $path -ComputerName 127.0.0.1 -Port $target.Port

            "$($relay.LocalEndPoint)" | Should -Be $path
            $relay.Port | Should -Be 0
            Test-TestSocketFile -Path $path | Should -BeTrue
            $client = Connect-Socket -Path $path
            $bytes = New-TestRandomBytes -Count 100000 -Seed 63
            Get-TestSha256 -Bytes (Invoke-TestEcho -Client $client -Bytes $bytes) | Should -Be (Get-TestSha256 -Bytes $bytes)
        }

        It 'takes -Name, and -ListenPort as a port it is given' {
            $target = Start-SocketServer
            $probe = Start-SocketServer
            $port = $probe.Port
            Stop-SocketServer -Server $probe

            $relay = Start-SocketRelay -ListenPort ([string]$port) -ComputerName 127.0.0.1 -Port $target.Port -Name 'db-forward'

            $relay.Port | Should -Be $port
            $relay.Name | Should -Be 'db-forward'
        }

        It 'closes a client it cannot forward, and counts the failure' {
            $gone = Start-SocketServer
            $port = $gone.Port
            Stop-SocketServer -Server $gone
            $relay = Start-SocketRelay -ComputerName 127.0.0.1 -Port $port

            $client = Connect-Socket -ComputerName 127.0.0.1 -Port $relay.Port
            Receive-SocketData -Connection $client -ToEnd -TimeoutSeconds 20 -ErrorAction Stop | Should -BeNullOrEmpty

            Wait-TestCondition -Condition { $relay.ErrorCount -eq 1 } -Description 'the failure being counted'
            $relay.LastError | Should -Match 'refused'
            $relay.State | Should -Be 'Listening'
            Wait-TestCondition -Condition { $relay.ActiveClients -eq 0 } -Description 'the relay forgetting the client'
        }
    }

    Context 'TLS' {
        It 'speaks TLS to the target with -UseTls, byte-exact' {
            $target = Start-SocketServer -Certificate $certs.Server -ScriptBlock {
                param($Connection)
                $Connection.SendLine("$($Connection.Transport) $($Connection.ReceiveLine())")
                $bytes = Receive-SocketData -Connection $Connection -ToEnd -AsByteArray -TimeoutSeconds 20
                $Connection.Send($bytes)
            }
            $relay = Start-SocketRelay -ComputerName localhost -Port $target.Port -UseTls -CaCertificate $certs.CaPath
            $client = Connect-Socket -ComputerName 127.0.0.1 -Port $relay.Port

            Send-SocketData -Connection $client -InputObject 'hello' -Line
            Receive-SocketData -Connection $client -Line -TimeoutSeconds 20 | Should -BeExactly 'Tls hello'
            $bytes = New-TestRandomBytes -Count (1MB + 77) -Seed 64
            Get-TestSha256 -Bytes (Invoke-TestEcho -Client $client -Bytes $bytes) | Should -Be (Get-TestSha256 -Bytes $bytes)
            $client.IsTls | Should -BeFalse
            $relay.ErrorCount | Should -Be 0
        }

        It 'does not forward to a target whose certificate it does not trust, and says why' {
            $target = Start-SocketServer -Certificate $certs.SelfSigned
            $relay = Start-SocketRelay -ComputerName localhost -Port $target.Port -UseTls

            $client = Connect-Socket -ComputerName 127.0.0.1 -Port $relay.Port
            Receive-SocketData -Connection $client -ToEnd -TimeoutSeconds 20 -ErrorAction Stop | Should -BeNullOrEmpty

            Wait-TestCondition -Condition { $relay.ErrorCount -eq 1 } -Description 'the failed handshake being counted'
            $relay.LastError | Should -Match 'does not trust'
        }

        It 'warns that -SkipCertificateCheck proves nothing, and forwards' {
            $target = Start-SocketServer -Certificate $certs.SelfSigned -ScriptBlock {
                param($Connection)
                $Connection.SendLine("hello over $($Connection.Transport)")
            }

            $relay = Start-SocketRelay -ComputerName localhost -Port $target.Port -UseTls -SkipCertificateCheck -WarningVariable warnings -WarningAction SilentlyContinue

            $warnings.Count | Should -Be 1
            "$($warnings[0])" | Should -Match 'localhost'
            $client = Connect-Socket -ComputerName 127.0.0.1 -Port $relay.Port
            Receive-SocketData -Connection $client -Line -TimeoutSeconds 20 | Should -BeExactly 'hello over Tls'
        }

        It 'listens with TLS (-Certificate) and forwards in plain text, byte-exact' {
            $target = Start-SocketServer -ScriptBlock {
                param($Connection)
                $Connection.SendLine("$($Connection.Transport) $($Connection.ReceiveLine())")
                $bytes = Receive-SocketData -Connection $Connection -ToEnd -AsByteArray -TimeoutSeconds 20
                $Connection.Send($bytes)
            }
            $relay = Start-SocketRelay -ComputerName 127.0.0.1 -Port $target.Port -Certificate $certs.Server

            $client = Connect-Socket -ComputerName localhost -Port $relay.Port -UseTls -CaCertificate $certs.CaPath

            $client.IsTls | Should -BeTrue
            $client.RemoteCertificate.Thumbprint | Should -Be $certs.Server.Thumbprint
            Send-SocketData -Connection $client -InputObject 'hello' -Line
            Receive-SocketData -Connection $client -Line -TimeoutSeconds 20 | Should -BeExactly 'Tcp hello'
            $bytes = New-TestRandomBytes -Count (1MB + 99) -Seed 65
            Get-TestSha256 -Bytes (Invoke-TestEcho -Client $client -Bytes $bytes) | Should -Be (Get-TestSha256 -Bytes $bytes)
        }
    }

    Context 'UDP' {
        It 'forwards datagrams both ways, each client with its own socket towards the target' {
            $target = Start-SocketServer -Protocol Udp -ScriptBlock {
                param($Datagram)
                $Datagram | Send-SocketData -InputObject "re: $($Datagram.Text) from $($Datagram.RemoteEndPoint)"
            }
            $relay = Start-SocketRelay -Protocol Udp -ComputerName 127.0.0.1 -Port $target.Port
            $first = Connect-Socket -ComputerName 127.0.0.1 -Port $relay.Port -Protocol Udp
            $second = Connect-Socket -ComputerName 127.0.0.1 -Port $relay.Port -Protocol Udp

            Send-SocketData -Connection $first -InputObject 'one'
            $toFirst = Receive-SocketData -Connection $first -TimeoutSeconds 20
            Send-SocketData -Connection $second -InputObject 'two'
            $toSecond = Receive-SocketData -Connection $second -TimeoutSeconds 20
            Send-SocketData -Connection $first -InputObject 'three'
            $againToFirst = Receive-SocketData -Connection $first -TimeoutSeconds 20

            $relay.Protocol | Should -Be 'Udp'
            $toFirst.RemoteEndPoint | Should -Be $relay.LocalEndPoint
            $toFirst.Text | Should -Match '^re: one from 127\.0\.0\.1:(\d+)$'
            $firstUpstream = ($toFirst.Text -split ' ')[-1]
            $firstUpstream | Should -Not -Be "$($first.LocalEndPoint)" -Because 'the target sees the relay''s socket'
            $toSecond.Text | Should -Match '^re: two from '
            ($toSecond.Text -split ' ')[-1] | Should -Not -Be $firstUpstream
            $againToFirst.Text | Should -BeExactly "re: three from $firstUpstream"
            $relay.ActiveClients | Should -Be 2
            $relay.ClientCount | Should -Be 2
            # The relay counts a datagram just after passing it on.
            Wait-TestCondition -Condition { $relay.BytesToTarget -eq 11 } -Description 'the relay counting 11 bytes sent to the target'
        }
    }

    Context 'errors' {
        It 'writes a terminating AddressInUse error for a port that is taken' {
            $taken = Start-SocketServer

            $err = { Start-SocketRelay -ListenPort $taken.Port -ComputerName 127.0.0.1 -Port 9 } |
                Should -Throw -ErrorId 'AddressInUse,SockPS.Commands.StartSocketRelayCommand' -PassThru

            $err.CategoryInfo.Category | Should -Be 'ResourceUnavailable'
            $err.Exception.Message | Should -Match "$($taken.Port)"
            @(Get-SocketRelay).Count | Should -Be 0
        }

        It 'writes InvalidArgument for -<Parameter> without -UseTls' -TestCases @(
            @{ Parameter = 'ServerName'; Splat = @{ ServerName = 'localhost' } }
            @{ Parameter = 'SkipCertificateCheck'; Splat = @{ SkipCertificateCheck = $true } }
            @{ Parameter = 'CaCertificate'; Splat = @{ CaCertificate = 'ca.pem' } }
        ) {
            $err = { Start-SocketRelay -ComputerName 127.0.0.1 -Port 9 @Splat } |
                Should -Throw -ErrorId 'InvalidArgument,SockPS.Commands.StartSocketRelayCommand' -PassThru

            $err.CategoryInfo.Category | Should -Be 'InvalidArgument'
            $err.Exception.Message | Should -Match '-UseTls'
            @(Get-SocketRelay).Count | Should -Be 0
        }

        It 'writes InvalidArgument for TLS on a UDP relay' {
            $err = { Start-SocketRelay -Protocol Udp -ComputerName 127.0.0.1 -Port 9 -Certificate $certs.Server } |
                Should -Throw -ErrorId 'InvalidArgument,SockPS.Commands.StartSocketRelayCommand' -PassThru

            $err.CategoryInfo.Category | Should -Be 'InvalidArgument'
            $err.Exception.Message | Should -Match 'UDP'
        }
    }
}
