#Requires -Version 7.4
# The stress and fault scenarios of issue 10 (tests/stress/SockPS.Stress.psm1), a few seconds
# each, with fewer clients: the same code build.ps1 -Task Stress runs for minutes. Each asserts
# no SHA-256 mismatch, no error id the scenario does not expect, and descriptors back near where
# they started. The peers are python3 (resets) and socat (an echo peer); .ci/install-packages
# installs both.

BeforeAll {
    Import-Module $env:SOCKPS_MODULE_PATH -Force
    Import-Module "$PSScriptRoot/../stress/SockPS.Stress.psm1" -Force

    # Descriptors may stay a few above the start: the runtime's own (epoll, timers) can grow.
    $slack = 16

    function Assert-StressFigures {
        param($Figures, [string[]] $AllowedErrors = @())

        $Figures.Operations | Should -BeGreaterThan 0 -Because 'the scenario did some work'
        $Figures.Mismatches | Should -Be 0 -Because "every SHA-256 must match ($($Figures.Notes))"
        $Figures.Unexpected | Should -Be 0 -Because "only $($AllowedErrors -join ', ') may occur; errors: $($Figures.Errors); $($Figures.Notes)"
        foreach ($id in $Figures.ErrorCounts.Keys) {
            $id | Should -BeIn $AllowedErrors -Because 'no other error id is expected'
        }
        $Figures.DescriptorsEnd | Should -BeLessOrEqual ($Figures.DescriptorsStart + $slack) -Because 'descriptors come back near the start'
    }
}

Describe 'Stress scenarios, short' {
    AfterEach {
        Get-SocketConnection | Disconnect-Socket
        Get-SocketServer | Stop-SocketServer
    }

    It 'resets: every byte first (-ToEnd, -Line, -OutFile), then exactly one ConnectionReset' {
        $figures = Invoke-StressResetDelivery -Seconds 3 -MaxSize 100000
        Assert-StressFigures -Figures $figures -AllowedErrors 'ConnectionReset'
        $figures.Operations | Should -BeGreaterOrEqual 3 -Because 'each of -ToEnd, -Line and -OutFile ran'
        $figures.ErrorCounts['ConnectionReset'] | Should -Be $figures.Operations -Because 'each reset is reported once'
    }

    It 'many clients x random-size round trips: SHA-256 equal' {
        $figures = Invoke-StressRoundTrip -Seconds 3 -Clients 8 -MaxSize 131072
        Assert-StressFigures -Figures $figures
        $figures.Bytes | Should -BeGreaterThan 1MB
    }

    It 'connect/disconnect churn: descriptors back where they started' {
        $figures = Invoke-StressChurn -Seconds 3
        Assert-StressFigures -Figures $figures
        $figures.Operations | Should -BeGreaterThan 20
        $figures.Notes | Should -BeLike '*; 0 connections listed after the last cycle*'
    }

    It 'a sender against an unread connection is held back and everything it sent arrives intact' {
        $figures = Invoke-StressUnreadSender -Seconds 3
        Assert-StressFigures -Figures $figures
        $figures.Bytes | Should -BeGreaterThan 1MB
        $figures.Bytes | Should -BeLessOrEqual 64MB -Because 'the sender was held back by the buffers'
    }

    It 'silent clients do not keep a good client from being served' {
        $figures = Invoke-StressHostileClients -Seconds 3 -SilentClients 60
        Assert-StressFigures -Figures $figures
        $figures.Operations | Should -BeGreaterOrEqual 2
    }

    It 'soak: an echo handler server under churning clients' {
        $figures = Invoke-StressSoak -Seconds 4 -Clients 20 -Workers 4
        Assert-StressFigures -Figures $figures
        $figures.Clients | Should -BeGreaterThan 20 -Because 'connections churned'
        $figures.Notes | Should -BeLike '*0 failed*'
    }
}
