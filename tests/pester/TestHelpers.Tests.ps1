#Requires -Version 7.4
# Proves the helpers that other test files rely on: a test peer is started, its readiness line
# is awaited with a bound, its exit code is read, and a failed wait says what the peer printed.

BeforeAll {
    Import-Module (Join-Path -Path $PSScriptRoot -ChildPath 'SockPS.TestHelpers.psm1') -Force
}

AfterAll {
    Stop-TestProcess -All
}

Describe 'Get-PwshCommand' {
    It 'names an executable that exists' {
        $pwsh = Get-PwshCommand

        Test-Path -LiteralPath $pwsh.FilePath -PathType Leaf | Should -BeTrue
        foreach ($argument in $pwsh.Arguments) {
            Test-Path -LiteralPath $argument -PathType Leaf | Should -BeTrue
        }
    }

    It 'starts the same PowerShell version as the running one' {
        $child = Start-TestPwsh -Command '"version=$($PSVersionTable.PSVersion)"'
        try {
            $match = Wait-TestProcessLine -Process $child -Pattern '^version=(.+)$'

            $match.Groups[1].Value | Should -Be $PSVersionTable.PSVersion.ToString()
            Wait-TestProcessExit -Process $child | Should -Be 0
        }
        finally {
            Stop-TestProcess -Process $child
        }
    }
}

Describe 'Start-TestPwsh and Wait-TestProcessLine' {
    AfterEach {
        Stop-TestProcess -Process $child
    }

    It 'captures a line on stdout and the exit code' {
        $child = Start-TestPwsh -Command '"hello 42"; exit 3'

        $match = Wait-TestProcessLine -Process $child -Pattern '^hello (\d+)$'

        $match.Groups[1].Value | Should -Be '42'
        Wait-TestProcessExit -Process $child | Should -Be 3
    }

    It 'captures a line on stderr' {
        $child = Start-TestPwsh -Command '[Console]::Error.WriteLine("problem: disk on fire"); exit 0'

        $match = Wait-TestProcessLine -Process $child -Stream Error -Pattern '^problem: (.+)$'

        $match.Groups[1].Value | Should -Be 'disk on fire'
        $child.OutputLines | Should -BeNullOrEmpty
    }

    It 'runs a script file with arguments' {
        $script = Join-Path -Path $TestDrive -ChildPath 'echo-arguments.ps1'
        Set-Content -LiteralPath $script -Value 'param($First, $Second) "first=$First second=$Second"'

        $child = Start-TestPwsh -File $script -ArgumentList @('-First', 'a b', '-Second', 'c')

        (Wait-TestProcessLine -Process $child -Pattern '^first=.*$').Value | Should -Be 'first=a b second=c'
        Wait-TestProcessExit -Process $child | Should -Be 0
    }

    It 'consumes lines in order, so a repeated line is awaited once per occurrence' {
        $child = Start-TestPwsh -Command '"tick 1"; "tick 2"; "done"'

        (Wait-TestProcessLine -Process $child -Pattern '^tick (\d)$').Groups[1].Value | Should -Be '1'
        (Wait-TestProcessLine -Process $child -Pattern '^tick (\d)$').Groups[1].Value | Should -Be '2'
        (Wait-TestProcessLine -Process $child -Pattern '^tick (\d)$' -FromStart).Groups[1].Value | Should -Be '1'
    }

    It 'talks to the child through stdin' {
        $child = Start-TestPwsh -Command '"ready"; $line = [Console]::In.ReadLine(); "got $line"; exit 7'
        $null = Wait-TestProcessLine -Process $child -Pattern '^ready$'

        $child.WriteInput('ping')

        (Wait-TestProcessLine -Process $child -Pattern '^got (.+)$').Groups[1].Value | Should -Be 'ping'
        Wait-TestProcessExit -Process $child | Should -Be 7
    }

    It 'throws on timeout with everything the process printed' {
        $child = Start-TestPwsh -Command '"ready"; [Console]::Error.WriteLine("warming up"); $null = [Console]::In.ReadLine()'
        $null = Wait-TestProcessLine -Process $child -Pattern '^ready$'
        $null = Wait-TestProcessLine -Process $child -Stream Error -Pattern '^warming up$'

        $failure = { Wait-TestProcessLine -Process $child -Pattern '^never$' -TimeoutSeconds 1 } |
            Should -Throw -PassThru

        $failure.Exception.Message | Should -Match 'no line on Output matched /\^never\$/'
        $failure.Exception.Message | Should -Match '\[out\] ready'
        $failure.Exception.Message | Should -Match '\[err\] warming up'
        $failure.Exception.Message | Should -Match 'still running'
    }

    It 'fails at once when the process ends without the line' {
        $child = Start-TestPwsh -Command '"bye"; exit 2'
        $clock = [System.Diagnostics.Stopwatch]::StartNew()

        { Wait-TestProcessLine -Process $child -Pattern '^never$' -TimeoutSeconds 60 } |
            Should -Throw -ExpectedMessage '*stream ended first*exited with code 2*bye*'
        $clock.Elapsed.TotalSeconds | Should -BeLessThan 30
    }
}

Describe 'Wait-TestProcessExit and Stop-TestProcess' {
    It 'throws on timeout while the process runs, and Stop-TestProcess ends it' {
        $child = Start-TestPwsh -Command '"ready"; $null = [Console]::In.ReadLine()'
        $processId = $child.Id
        try {
            $null = Wait-TestProcessLine -Process $child -Pattern '^ready$'

            { Wait-TestProcessExit -Process $child -TimeoutSeconds 1 } |
                Should -Throw -ExpectedMessage '*did not exit within 1 s*ready*'
            $process = $child.Process
            $process.HasExited | Should -BeFalse
        }
        finally {
            Stop-TestProcess -Process $child
        }

        $stillThere = Get-Process -Id $processId -ErrorAction SilentlyContinue
        $stillThere | Should -BeNullOrEmpty
    }

    It 'throws with the output when the exit code is not -ExpectedExitCode' {
        $child = Start-TestProcess -FilePath 'sh' -ArgumentList @('-c', 'echo partial; exit 4')
        try {
            Wait-TestProcessExit -Process $child -ExpectedExitCode 4 | Should -Be 4

            { Wait-TestProcessExit -Process $child -ExpectedExitCode 0 } |
                Should -Throw -ExpectedMessage '*exited with code 4, not 0*partial*'
        }
        finally {
            Stop-TestProcess -Process $child
        }
    }

    It 'keeps only the last lines in Transcript(n)' {
        $child = Start-TestProcess -FilePath 'sh' -ArgumentList @('-c', 'echo one; echo two; echo three')
        try {
            $null = Wait-TestProcessExit -Process $child -ExpectedExitCode 0

            $transcript = $child.Transcript(2)

            $transcript | Should -Match '\(1 earlier line\(s\) left out\)'
            $transcript | Should -Not -Match '\[out\] one'
            $transcript | Should -Match '\[out\] two'
            $transcript | Should -Match '\[out\] three'
        }
        finally {
            Stop-TestProcess -Process $child
        }
    }

    It 'is safe to call twice' {
        $child = Start-TestPwsh -Command 'exit 0'

        Stop-TestProcess -Process $child
        { Stop-TestProcess -Process $child } | Should -Not -Throw
    }
}

Describe 'Start-SocatEcho' {
    AfterEach {
        if ($echo) {
            Stop-TestProcess -Process $echo.Process
        }
    }

    It 'listens on a free loopback port and echoes what it receives' {
        $echo = Start-SocatEcho
        $echo.Port | Should -BeGreaterThan 0

        $client = [System.Net.Sockets.TcpClient]::new()
        try {
            $client.ReceiveTimeout = 10000
            $client.Connect([System.Net.IPAddress]::Loopback, $echo.Port)
            $stream = $client.GetStream()
            $sent = [System.Text.Encoding]::UTF8.GetBytes("hello socat`n")
            $stream.Write($sent, 0, $sent.Length)

            $received = [byte[]]::new($sent.Length)
            $total = 0
            while ($total -lt $received.Length) {
                $read = $stream.Read($received, $total, $received.Length - $total)
                if ($read -eq 0) { break }
                $total += $read
            }

            $total | Should -Be $sent.Length
            [System.Text.Encoding]::UTF8.GetString($received, 0, $total) | Should -Be "hello socat`n"
        }
        finally {
            $client.Dispose()
        }
    }

    It 'serves several connections with -Fork' {
        $echo = Start-SocatEcho -Fork

        foreach ($attempt in 1..2) {
            $client = [System.Net.Sockets.TcpClient]::new()
            try {
                $client.ReceiveTimeout = 10000
                $client.Connect([System.Net.IPAddress]::Loopback, $echo.Port)
                $stream = $client.GetStream()
                $stream.WriteByte([byte]$attempt)

                $stream.ReadByte() | Should -Be $attempt
            }
            finally {
                $client.Dispose()
            }
        }
    }
}

Describe 'Wait-TestCondition' {
    It 'returns once the condition holds' {
        $counter = [ref]0

        Wait-TestCondition -Condition { $counter.Value++; $counter.Value -ge 3 } -Description 'three checks'

        $counter.Value | Should -Be 3
    }

    It 'throws with the description when the condition never holds' {
        { Wait-TestCondition -Condition { $false } -Description 'the impossible' -TimeoutSeconds 0.2 } |
            Should -Throw -ExpectedMessage '*the impossible did not happen within 0.2 s*'
    }
}

Describe 'New-TestRandomBytes and Get-TestSha256' {
    It 'makes the same bytes from the same seed, and different bytes from another' {
        $first = New-TestRandomBytes -Count 1000 -Seed 1
        $again = New-TestRandomBytes -Count 1000 -Seed 1
        $other = New-TestRandomBytes -Count 1000 -Seed 2

        , $first | Should -BeOfType ([byte[]])
        $first.Length | Should -Be 1000
        Get-TestSha256 $again | Should -Be (Get-TestSha256 $first)
        Get-TestSha256 $other | Should -Not -Be (Get-TestSha256 $first)
    }

    It 'hashes with SHA-256' {
        Get-TestSha256 ([System.Text.Encoding]::ASCII.GetBytes('abc')) |
            Should -Be 'BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD'
        Get-TestSha256 ([byte[]]@()) | Should -Be 'E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855'
    }
}

Describe 'New-TestStaleSocketFile and Test-TestSocketFile' {
    It 'leaves a socket file nothing listens on, and nothing else' {
        $path = Join-Path -Path $TestDrive -ChildPath 'stale.sock'

        New-TestStaleSocketFile -Path $path | Should -Be $path

        Test-TestSocketFile -Path $path | Should -BeTrue
        Test-Path -LiteralPath "$path.binding" | Should -BeFalse
        $probe = [System.Net.Sockets.Socket]::new('Unix', 'Stream', 'Unspecified')
        try {
            { $probe.Connect([System.Net.Sockets.UnixDomainSocketEndPoint]::new($path)) } | Should -Throw
        }
        finally {
            $probe.Dispose()
        }
    }

    It 'tells a socket file from a regular file and a missing one' {
        $regular = Join-Path -Path $TestDrive -ChildPath 'regular.txt'
        Set-Content -LiteralPath $regular -Value 'text'

        Test-TestSocketFile -Path $regular | Should -BeFalse
        Test-TestSocketFile -Path (Join-Path -Path $TestDrive -ChildPath 'missing.sock') | Should -BeFalse
    }
}

Describe 'Set-TestHostLookup' {
    BeforeAll {
        Import-Module $env:SOCKPS_MODULE_PATH -Force
    }

    AfterEach {
        Set-TestHostLookup -Reset
    }

    It 'makes a name resolve to the addresses given, in order, until reset' {
        Set-TestHostLookup -Address ([System.Net.IPAddress]::IPv6Loopback), ([System.Net.IPAddress]::Loopback)

        Resolve-SocketAddress -ComputerName 'made-up.test' | ForEach-Object { $_.Address.ToString() } | Should -Be @('::1', '127.0.0.1')

        Set-TestHostLookup -Reset
        Resolve-SocketAddress -ComputerName 'made-up.test' -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
    }
}

Describe 'Get-TestOsSocket' {
    It 'finds the socket behind an object by type, through the streams it holds' {
        $listener = [System.Net.Sockets.TcpListener]::new([System.Net.IPAddress]::Loopback, 0)
        $listener.Start()
        $client = [System.Net.Sockets.TcpClient]::new()
        try {
            $client.Connect([System.Net.IPAddress]::Loopback, $listener.LocalEndpoint.Port)
            $holder = [System.IO.BufferedStream]::new($client.GetStream())

            $found = Get-TestOsSocket $holder

            [object]::ReferenceEquals($found, $client.Client) | Should -BeTrue
        }
        finally {
            $client.Dispose()
            $listener.Stop()
        }
    }

    It 'throws when there is no socket to find' {
        { Get-TestOsSocket ([System.IO.MemoryStream]::new()) } |
            Should -Throw -ExpectedMessage '*no System.Net.Sockets.Socket found behind System.IO.MemoryStream*'
    }
}

Describe 'Invoke-PesterSuite (the runner build.ps1 uses)' {
    It 'puts the head and the actual value of a long failure message in the summary it writes' {
        # A failing test with a 40-line -Because, as a child's transcript makes one.
        $suite = New-Item -ItemType Directory -Path (Join-Path -Path $TestDrive -ChildPath 'suite')
        Set-Content -LiteralPath (Join-Path -Path $suite -ChildPath 'Long.Tests.ps1') -Value @'
Describe 'long' { It 'fails' { 1 | Should -Be 2 -Because ("line one`n" + ((1..40 | ForEach-Object { "transcript line $_" }) -join "`n")) } }
'@
        $result = Join-Path -Path $TestDrive -ChildPath 'result.json'
        $pester = (Get-Module -Name Pester).Path
        $runner = Join-Path -Path $PSScriptRoot -ChildPath 'Invoke-PesterSuite.ps1'
        $child = Start-TestPwsh -File $runner -ArgumentList @('-PesterPath', $pester, '-ModulePath', $env:SOCKPS_MODULE_PATH, '-TestPath', $suite.FullName, '-ResultPath', $result)
        try {
            $null = Wait-TestProcessExit -Process $child -TimeoutSeconds 120 -ExpectedExitCode 1
        }
        finally {
            Stop-TestProcess -Process $child
        }

        $counts = Get-Content -LiteralPath $result -Raw | ConvertFrom-Json
        $counts.failed | Should -Be 1
        $summary = @($counts.failedTests)[0]
        $summary | Should -Match '^long\.fails: Expected 2, because line one'
        $summary | Should -Match 'transcript line 19\b'
        $summary | Should -Match 'line\(s\) left out'
        $summary | Should -Match 'transcript line 40, but got 1\.$' -Because 'the actual value comes after the -Because text'
    }
}
