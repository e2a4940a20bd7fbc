#Requires -Version 7.4
# examples/protocols/telnet.ps1 against inetutils telnetd, one per connection under socat
# as inetd would run it (Start-TestTelnetd). The login is the real /bin/login, with a throw-away
# user the helper adds and removes.

BeforeDiscovery {
    # telnetd, /bin/login and useradd need root.
    $notRoot = $IsWindows -or (& id -u) -ne '0'
}

BeforeAll {
    Import-Module $env:SOCKPS_MODULE_PATH -Force
    Import-Module "$PSScriptRoot/../pester/SockPS.TestHelpers.psm1" -Force
    Import-Module "$PSScriptRoot/SockPS.IntegrationHelpers.psm1" -Force

    $example = Join-Path -Path $PSScriptRoot -ChildPath '../../examples/protocols/telnet.ps1' -Resolve
}

AfterAll {
    Stop-TestProcess -All
}

Describe 'examples/protocols/telnet.ps1 against inetutils telnetd' -Skip:$notRoot {
    BeforeAll {
        $telnetd = Start-TestTelnetd
    }

    AfterAll {
        Stop-TestTelnetd -Server $telnetd
    }

    It 'logs in through /bin/login, runs a command and returns its output lines' {
        $result = & $example -ComputerName 127.0.0.1 -Port $telnetd.Port -Credential $telnetd.Credential `
            -Command 'echo sockps-marker; id -un' -ModulePath $env:SOCKPS_MODULE_PATH

        $result | Should -HaveCount 1
        $result.UserName | Should -BeExactly $telnetd.UserName
        $result.Command | Should -BeExactly 'echo sockps-marker; id -un'
        # Nothing of the option negotiation, the echoed command or the prompt: just the output.
        $result.Output | Should -BeExactly @('sockps-marker', $telnetd.UserName)
    }

    It 'stops with an error that says the login was refused for a wrong password' {
        $wrong = [pscredential]::new($telnetd.UserName, (ConvertTo-SecureString -String 'not-the-password' -AsPlainText -Force))

        { & $example -ComputerName 127.0.0.1 -Port $telnetd.Port -Credential $wrong -ModulePath $env:SOCKPS_MODULE_PATH } |
            Should -Throw -ExpectedMessage "*refused the login of $($telnetd.UserName)*"
    }
}
