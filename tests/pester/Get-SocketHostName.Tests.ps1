#Requires -Version 7.4
# Get-SocketHostName: Python's socket gethostname.

BeforeAll {
    Import-Module $env:SOCKPS_MODULE_PATH -Force
    Import-Module "$PSScriptRoot/SockPS.TestHelpers.psm1" -Force
}

Describe 'Get-SocketHostName' {
    It 'returns the host name the OS reports, as one string' {
        $name = Get-SocketHostName

        @($name).Count | Should -Be 1
        $name | Should -BeOfType ([string])
        $name | Should -Not -BeNullOrEmpty
        $name | Should -BeExactly ([System.Net.Dns]::GetHostName())
    }

    It 'agrees with the hostname command' {
        $hostname = Get-Command -Name hostname -CommandType Application -ErrorAction SilentlyContinue | Select-Object -First 1
        if (-not $hostname) {
            Set-ItResult -Skipped -Because 'there is no hostname command on this machine'
            return
        }

        $fromCommand = (& $hostname.Source | Select-Object -First 1).Trim()

        Get-SocketHostName | Should -Be $fromCommand
    }

    It 'returns the resolver''s canonical name with -FullyQualified' {
        $short = [System.Net.Dns]::GetHostName()
        $expected = try { [System.Net.Dns]::GetHostEntry($short).HostName } catch { $short }

        $name = Get-SocketHostName -FullyQualified

        @($name).Count | Should -Be 1
        $name | Should -BeExactly $expected
    }

    It 'declares its output type' {
        (Get-Command -Name Get-SocketHostName).OutputType.Type | Should -Contain ([string])
    }
}
