#Requires -Version 7.4
# Resolve-SocketAddress: Python's socket getaddrinfo. Literals resolve to themselves; this machine's
# resolver knows no name with several addresses, so those tests plug a fixed answer into the
# core's lookup seam (Set-TestHostLookup) and take it out again after each test.

BeforeAll {
    Import-Module $env:SOCKPS_MODULE_PATH -Force
    Import-Module "$PSScriptRoot/SockPS.TestHelpers.psm1" -Force

    $bothLoopbacks = [System.Net.IPAddress[]]@([System.Net.IPAddress]::IPv6Loopback, [System.Net.IPAddress]::Loopback)
}

Describe 'Resolve-SocketAddress' {
    AfterEach {
        Set-TestHostLookup -Reset
    }

    Context 'resolving' {
        It 'resolves an IPv4 literal to itself, with port 0 when none is asked for' {
            $resolved = @(Resolve-SocketAddress -ComputerName 127.0.0.1)

            $resolved.Count | Should -Be 1
            $resolved[0] | Should -BeOfType ([SockPS.Core.ResolvedAddress])
            $resolved[0].ComputerName | Should -BeExactly '127.0.0.1'
            $resolved[0].Address | Should -Be ([System.Net.IPAddress]::Loopback)
            $resolved[0].AddressFamily | Should -Be 'InterNetwork'
            $resolved[0].Port | Should -Be 0
            $resolved[0].EndPoint | Should -BeOfType ([System.Net.IPEndPoint])
            $resolved[0].EndPoint | Should -Be ([System.Net.IPEndPoint]::new([System.Net.IPAddress]::Loopback, 0))
            $resolved[0].ToString() | Should -BeExactly '127.0.0.1:0'
        }

        It 'resolves the IPv6 literal ::1 to itself and writes it in brackets with its port' {
            $resolved = @(Resolve-SocketAddress -ComputerName '::1' -Port 53)

            $resolved.Count | Should -Be 1
            $resolved[0].Address | Should -Be ([System.Net.IPAddress]::IPv6Loopback)
            $resolved[0].AddressFamily | Should -Be 'InterNetworkV6'
            $resolved[0].Port | Should -Be 53
            $resolved[0].EndPoint | Should -Be ([System.Net.IPEndPoint]::new([System.Net.IPAddress]::IPv6Loopback, 53))
            $resolved[0].ToString() | Should -BeExactly '[::1]:53'
        }

        It 'resolves localhost with the system resolver, every address in its order' {
            $expected = @([System.Net.Dns]::GetHostAddresses('localhost') | ForEach-Object { $_.ToString() })

            $resolved = @(Resolve-SocketAddress -ComputerName localhost)

            $resolved | ForEach-Object { $_.Address.ToString() } | Should -Be $expected
            $resolved | ForEach-Object ComputerName | Should -Be (@('localhost') * $expected.Count)
            $resolved | ForEach-Object Address | Should -Contain ([System.Net.IPAddress]::Loopback)
        }

        It 'returns every address of a name with several, in the resolver''s order, each with the port' {
            Set-TestHostLookup -Address $bothLoopbacks

            $resolved = @(Resolve-SocketAddress -ComputerName 'two-addresses.test' -Port 8080)

            $resolved.Count | Should -Be 2
            $resolved | ForEach-Object { $_.ToString() } | Should -Be @('[::1]:8080', '127.0.0.1:8080')
            $resolved | ForEach-Object AddressFamily | Should -Be @('InterNetworkV6', 'InterNetwork')
            $resolved | ForEach-Object ComputerName | Should -Be @('two-addresses.test', 'two-addresses.test')
        }

        It 'resolves several names in the order given' {
            $resolved = Resolve-SocketAddress -ComputerName '::1', '127.0.0.1' -Port 7

            $resolved | ForEach-Object ComputerName | Should -Be @('::1', '127.0.0.1')
            $resolved | ForEach-Object Port | Should -Be @(7, 7)
        }

        It 'takes the name and the port by position' {
            $resolved = Resolve-SocketAddress '127.0.0.1' '8080'

            $resolved.EndPoint | Should -Be ([System.Net.IPEndPoint]::new([System.Net.IPAddress]::Loopback, 8080))
        }

        It 'gives an EndPoint that Send-SocketData -RemoteEndPoint sends to' {
            $receiver = Start-SocketServer -Protocol Udp
            $sender = Start-SocketServer -Protocol Udp
            try {
                $target = Resolve-SocketAddress -ComputerName 127.0.0.1 -Port $receiver.Port -Protocol Udp

                Send-SocketData -Connection $sender -InputObject 'to a resolved address' -RemoteEndPoint $target.EndPoint

                (Receive-SocketData -Connection $receiver -TimeoutSeconds 20).Text | Should -BeExactly 'to a resolved address'
            }
            finally {
                Get-SocketServer | Stop-SocketServer
            }
        }
    }

    Context 'pipeline input' {
        It 'resolves names piped in' {
            $resolved = '127.0.0.1', '::1' | Resolve-SocketAddress -Port 80

            $resolved | ForEach-Object { $_.ToString() } | Should -Be @('127.0.0.1:80', '[::1]:80')
        }

        It 'binds ComputerName (or its alias HostName) and Port by property name' {
            $rows = @(
                [pscustomobject]@{ ComputerName = '127.0.0.1'; Port = 'http' }
                [pscustomobject]@{ HostName = '::1'; Port = 443 }
            )

            $resolved = $rows | Resolve-SocketAddress

            $resolved | ForEach-Object { $_.ToString() } | Should -Be @('127.0.0.1:80', '[::1]:443')
        }

        It 'binds CSV rows, the port as a service name' {
            $csv = "ComputerName,Port`n127.0.0.1,smtp`n::1,22"

            $resolved = $csv | ConvertFrom-Csv | Resolve-SocketAddress

            $resolved | ForEach-Object { $_.ToString() } | Should -Be @('127.0.0.1:25', '[::1]:22')
        }
    }

    Context '-Port' {
        It 'resolves <Port> (<Protocol>) to <Expected>' -TestCases @(
            @{ Port = '80'; Protocol = 'Tcp'; Expected = 80 }
            @{ Port = ' 443 '; Protocol = 'Tcp'; Expected = 443 }
            @{ Port = '0'; Protocol = 'Tcp'; Expected = 0 }
            @{ Port = 'smtp'; Protocol = 'Tcp'; Expected = 25 }
            @{ Port = 'HTTP'; Protocol = 'Tcp'; Expected = 80 }
            @{ Port = 'domain'; Protocol = 'Tcp'; Expected = 53 }
            @{ Port = 'domain'; Protocol = 'Udp'; Expected = 53 }
            @{ Port = 'tftp'; Protocol = 'Udp'; Expected = 69 }
            @{ Port = 'syslog'; Protocol = 'Udp'; Expected = 514 }
        ) {
            $resolved = Resolve-SocketAddress -ComputerName 127.0.0.1 -Port $Port -Protocol $Protocol

            $resolved.Port | Should -Be $Expected
        }

        It 'looks names up in the tcp table by default: <Port> is <Protocol> only' -TestCases @(
            @{ Port = 'tftp'; Protocol = 'udp'; Other = 'Tcp' }
            @{ Port = 'ssh'; Protocol = 'tcp'; Other = 'Udp' }
        ) {
            $asked = $Other.ToLowerInvariant()
            $err = { Resolve-SocketAddress -ComputerName 127.0.0.1 -Port $Port -Protocol $Other -ErrorAction SilentlyContinue } |
                Should -Throw -ErrorId 'InvalidArgument,SockPS.Commands.ResolveSocketAddressCommand' -PassThru

            $err.CategoryInfo.Category | Should -Be 'InvalidArgument'
            $err.Exception.Message | Should -Match "'$Port' is not a known $asked service name"
            (Resolve-SocketAddress -ComputerName 127.0.0.1 -Port $Port -Protocol $Protocol).Port | Should -BeGreaterThan 0
        }

        It 'rejects an unknown service name with a terminating InvalidArgument error that suggests names' {
            $output = [System.Collections.Generic.List[object]]::new()

            $err = { Resolve-SocketAddress -ComputerName 127.0.0.1, '::1' -Port 'no-such-service' -ErrorAction SilentlyContinue |
                    ForEach-Object { $output.Add($_) } } |
                Should -Throw -ErrorId 'InvalidArgument,SockPS.Commands.ResolveSocketAddressCommand' -PassThru

            $err.CategoryInfo.Category | Should -Be 'InvalidArgument'
            $err.Exception.Message | Should -Match "'no-such-service' is not a known tcp service name"
            $err.Exception.Message | Should -Match 'http, smtp or domain'
            $err.TargetObject | Should -Be 'no-such-service'
            $output.Count | Should -Be 0
        }

        It 'rejects port <Port> with a terminating InvalidArgument error' -TestCases @(
            @{ Port = '65536'; Says = '0 \(any free port\) to 65535' }
            @{ Port = '-1'; Says = 'not a valid port' }
        ) {
            $err = { Resolve-SocketAddress -ComputerName 127.0.0.1 -Port $Port -ErrorAction SilentlyContinue } |
                Should -Throw -ErrorId 'InvalidArgument,SockPS.Commands.ResolveSocketAddressCommand' -PassThru

            $err.CategoryInfo.Category | Should -Be 'InvalidArgument'
            $err.Exception.Message | Should -Match $Says
        }
    }

    Context '-AddressFamily' {
        It 'keeps only the <Family> addresses of a name' -TestCases @(
            @{ Family = 'InterNetwork'; Expected = '127.0.0.1' }
            @{ Family = 'InterNetworkV6'; Expected = '::1' }
        ) {
            Set-TestHostLookup -Address $bothLoopbacks

            $resolved = @(Resolve-SocketAddress -ComputerName 'two-addresses.test' -AddressFamily $Family)

            $resolved.Count | Should -Be 1
            $resolved[0].Address.ToString() | Should -Be $Expected
            $resolved[0].AddressFamily | Should -Be $Family
        }

        It 'keeps a literal of the family asked for' {
            (Resolve-SocketAddress -ComputerName 127.0.0.1 -AddressFamily InterNetwork).Address | Should -Be ([System.Net.IPAddress]::Loopback)
            (Resolve-SocketAddress -ComputerName '::1' -AddressFamily InterNetworkV6).Address | Should -Be ([System.Net.IPAddress]::IPv6Loopback)
        }

        It 'writes a non-terminating HostNotFound error for <Literal> with -AddressFamily <Family>, and goes on' -TestCases @(
            @{ Literal = '127.0.0.1'; Family = 'InterNetworkV6'; Says = 'IPv4 address, but the address family asked for is IPv6. Give an -AddressFamily that matches the address'; Other = '::1' }
            @{ Literal = '::1'; Family = 'InterNetwork'; Says = 'IPv6 address, but the address family asked for is IPv4. Give an -AddressFamily that matches the address'; Other = '127.0.0.1' }
        ) {
            $resolved = Resolve-SocketAddress -ComputerName $Literal, $Other -AddressFamily $Family -ErrorAction SilentlyContinue -ErrorVariable failures

            @($resolved).Count | Should -Be 1
            $resolved.ComputerName | Should -Be $Other
            $failures.Count | Should -Be 1
            $failures[0].FullyQualifiedErrorId | Should -BeExactly 'HostNotFound,SockPS.Commands.ResolveSocketAddressCommand'
            $failures[0].CategoryInfo.Category | Should -Be 'ObjectNotFound'
            $failures[0].Exception.Message | Should -Match ([regex]::Escape($Says))
            $failures[0].TargetObject | Should -Be $Literal
        }

        It 'writes HostNotFound for a name with no address of the family asked for' {
            Set-TestHostLookup -Address ([System.Net.IPAddress]::Loopback)

            $resolved = Resolve-SocketAddress -ComputerName 'v4-only.test' -AddressFamily InterNetworkV6 -ErrorAction SilentlyContinue -ErrorVariable failures

            $resolved | Should -BeNullOrEmpty
            $failures.Count | Should -Be 1
            $failures[0].FullyQualifiedErrorId | Should -BeExactly 'HostNotFound,SockPS.Commands.ResolveSocketAddressCommand'
            $failures[0].CategoryInfo.Category | Should -Be 'ObjectNotFound'
            $failures[0].Exception.Message | Should -Match "'v4-only\.test' has no IPv6 address"
        }

        It 'accepts only InterNetwork and InterNetworkV6' {
            { Resolve-SocketAddress -ComputerName 127.0.0.1 -AddressFamily Unix } |
                Should -Throw -ErrorId 'ParameterArgumentValidationError,SockPS.Commands.ResolveSocketAddressCommand'
        }
    }

    Context 'errors' {
        It 'writes a non-terminating HostNotFound error for an unknown name and resolves the rest' {
            $resolved = Resolve-SocketAddress -ComputerName 'no-such-host.invalid', '127.0.0.1' -ErrorAction SilentlyContinue -ErrorVariable failures

            @($resolved).Count | Should -Be 1
            $resolved.ComputerName | Should -Be '127.0.0.1'
            $failures.Count | Should -Be 1
            $failures[0].FullyQualifiedErrorId | Should -BeExactly 'HostNotFound,SockPS.Commands.ResolveSocketAddressCommand'
            $failures[0].CategoryInfo.Category | Should -Be 'ObjectNotFound'
            $failures[0].Exception.Message | Should -Match 'no-such-host\.invalid'
            $failures[0].Exception | Should -BeOfType ([SockPS.Core.SocketOperationException])
            $failures[0].TargetObject | Should -Be 'no-such-host.invalid'
        }

        It 'throws HostNotFound with -ErrorAction Stop' {
            { Resolve-SocketAddress -ComputerName 'no-such-host.invalid' -ErrorAction Stop } |
                Should -Throw -ErrorId 'HostNotFound,SockPS.Commands.ResolveSocketAddressCommand'
        }

        It 'rejects an empty name' {
            { Resolve-SocketAddress -ComputerName '' } |
                Should -Throw -ErrorId 'ParameterArgumentValidationError,SockPS.Commands.ResolveSocketAddressCommand'
        }
    }

    Context 'output' {
        It 'declares ResolvedAddress as its output type' {
            (Get-Command -Name Resolve-SocketAddress).OutputType.Type | Should -Contain ([SockPS.Core.ResolvedAddress])
        }

        It 'shows ComputerName, Address, AddressFamily and Port in a table' {
            $table = Resolve-SocketAddress -ComputerName '::1' -Port 25 | Out-String -Width 200
            $lines = $table -split "`r?`n" | Where-Object { $_.Trim() }

            $lines[0] | Should -Match '^\s*ComputerName\s+Address\s+AddressFamily\s+Port\s*$'
            $lines[2] | Should -Match '^\s*::1\s+::1\s+InterNetworkV6\s+25\s*$'
        }
    }
}
