#Requires -Version 7.4
# bench/Invoke-Benchmark.ps1 -Quick in a fresh pwsh, so the harness never rots: every case and
# every contender runs with tiny sizes. Nothing here looks at a number (DESIGN.md section 6: no
# timed assertion in tests); only that the run succeeds and the report has all its parts.

BeforeAll {
    Import-Module "$PSScriptRoot/SockPS.TestHelpers.psm1" -Force

    $benchmark = Join-Path -Path $PSScriptRoot -ChildPath '../../bench/Invoke-Benchmark.ps1' -Resolve
    $resultPath = Join-Path -Path ([System.IO.Path]::GetTempPath()) -ChildPath "sockps-bench-test-$PID-$([guid]::NewGuid().ToString('N')).md"
}

AfterAll {
    Stop-TestProcess -All
    if ($resultPath -and (Test-Path -LiteralPath $resultPath)) {
        Remove-Item -LiteralPath $resultPath -Force
    }
}

Describe 'bench/Invoke-Benchmark.ps1 -Quick' {
    BeforeAll {
        $run = Start-TestPwsh -File $benchmark -ArgumentList @(
            '-Quick', '-ModulePath', $env:SOCKPS_MODULE_PATH, '-ResultPath', $resultPath)
        try {
            # The C# baselines build first (a few seconds when up to date, longer from clean).
            $exitCode = Wait-TestProcessExit -Process $run -TimeoutSeconds 300
            $transcript = $run.Transcript()
        }
        finally {
            Stop-TestProcess -Process $run
        }
        $report = if (Test-Path -LiteralPath $resultPath) { Get-Content -LiteralPath $resultPath -Raw } else { '' }
    }

    It 'exits 0' {
        $exitCode | Should -Be 0 -Because $transcript
    }

    It 'writes the report to -ResultPath with the machine it ran on' {
        $resultPath | Should -Exist
        $report | Should -Match '(?m)^# SockPS benchmark$'
        $report | Should -Match '(?m)^- Machine: .+ logical cores'
        $report | Should -Match '(?m)^- Runtime: .+PowerShell'
    }

    It 'has the section of case <Title>' -ForEach @(
        @{ Title = 'a. Bulk transfer' }
        @{ Title = 'b. Request/response' }
        @{ Title = 'c. Idle connections' }
        @{ Title = 'd. UDP' }
        @{ Title = 'e. Relay' }
        @{ Title = 'f. Handler server' }
        @{ Title = 'g. Port scan' }
    ) {
        $report | Should -Match "(?m)^## $([regex]::Escape($Title))"
    }

    It 'lists every contender of every case with a result' {
        foreach ($contender in @(
                'SockPS: Send-SocketData -Path', 'C# NetworkStream copy, 64 KiB', 'C# NetworkStream copy, 1 MiB',
                'pwsh TcpClient streams', 'socat (defaults', 'socat -b65536', 'ncat', 'iperf3 (default', 'iperf3 -l 1M',
                'echo peer: C# echo-server-threads', 'echo peer: C# echo-server (async', 'echo peer: python3', 'echo peer: socat',
                'SockPS cmdlets', 'SockPS methods', 'pwsh raw: NetworkStream', 'floor: the raw loop + a do-nothing binary cmdlet pair', 'C# rr-client',
                'SockPS Start-SocketServer', 'C# idle-server',
                'sink: a bound socket in this process', 'sink: C# udp-sink',
                'SockPS: $payloads | Send-SocketData', 'pwsh raw: UdpClient.Send loop over $payloads', 'C# udp-send',
                'SockPS: $arrays | Send-SocketData', 'pwsh raw: UdpClient.Send loop over $arrays', 'floor: $payloads | Send-BenchSocket',
                'SockPS: Start-SocketRelay', 'socat -b65536 TCP-LISTEN TCP', 'direct: no forwarder',
                'SockPS: Start-SocketServer -ScriptBlock', 'C# echo-server (async', 'C# echo-server-threads',
                'SockPS: Test-SocketPort', 'pwsh raw: every TcpClient.ConnectAsync at once', 'pwsh raw: TcpClient.ConnectAsync + Wait(1000)',
                'ncat -z -w 1')) {
            # A | in a cell is written \| (Markdown).
            $report | Should -Match "(?m)^\| $([regex]::Escape($contender.Replace('|', '\|')))" -Because "the report should have a row for $contender"
        }
        # "not installed" is an answer; "failed" is not.
        $report | Should -Not -Match '\|\s*failed\s*\|'
        $report | Should -Not -Match '(?m)^## Failures'
    }

    It 'checks the SockPS bulk transfer by SHA-256' {
        $report | Should -Match 'SHA-256 matches'
    }

    It 'names the echo peer the request/response case chose, and the microseconds SockPS adds' {
        $report | Should -Match '(?m)^- Echo peer used by every contender: .+, the fastest of \d+ candidates with the C# rr-client'
        $report | Should -Match '(?m)^\| SockPS methods: .+\| us/round trip +\|'
        $report | Should -Match '(?m)^- SockPS methods: [\d.,]+ us per round trip; SockPS adds -?[\d.,]+ us to the raw pwsh loop'
        $report | Should -Match '(?m)^- SockPS cmdlets: [\d.,]+ us per round trip; SockPS adds -?[\d.,]+ us to the raw pwsh loop'
    }

    It 'names the UDP sink it chose and how much faster the sink is than the senders' {
        $report | Should -Match '(?m)^- Sink used by every contender: .+, the faster of \d+ candidates with the C# udp-send'
        $report | Should -Match '(?m)^- sink headroom: .+: [\d.]+x$'
        $report | Should -Match '(?m)^- Per datagram: raw UdpClient loop [\d.,]+ us, the floor [\d.,]+ us, SockPS [\d.,]+ us; SockPS adds -?[\d.,]+ us'
    }

    It 'ends with the summary of every target, each met or missed' {
        $report | Should -Match '(?m)^## Summary: targets$'
        foreach ($target in @(
                'Bulk: SockPS vs the fastest C# baseline', 'Bulk: SockPS vs ncat',
                'Request/response: cmdlets vs raw pwsh', 'Request/response: methods vs raw pwsh',
                'Idle: server memory', 'Idle: SockPS accept rate vs C#',
                'UDP: $payloads | Send-SocketData vs the raw UdpClient loop', 'UDP: byte arrays piped from a variable',
                'Relay: SockPS vs socat -b65536')) {
            $row = [regex]::Match($report, "(?m)^\| $([regex]::Escape($target.Replace('|', '\|'))).*$")
            $row.Success | Should -BeTrue -Because "the summary should have a row for $target"
            $row.Value | Should -Match '\| (met|missed: [^|]+) +\| #\d+ +\|$' -Because "the target $target should say met or missed"
        }
    }
}
