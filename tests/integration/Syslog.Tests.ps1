#Requires -Version 7.4
# examples/protocols/syslog.ps1 against receivers nobody here wrote: socat UDP-RECV on a
# loopback port and socat UNIX-RECV on a Unix datagram socket (Start-TestSyslogReceiver), each
# writing what arrives to a file.

BeforeAll {
    Import-Module $env:SOCKPS_MODULE_PATH -Force
    Import-Module "$PSScriptRoot/../pester/SockPS.TestHelpers.psm1" -Force
    Import-Module "$PSScriptRoot/SockPS.IntegrationHelpers.psm1" -Force

    $example = Join-Path -Path $PSScriptRoot -ChildPath '../../examples/protocols/syslog.ps1' -Resolve
}

AfterAll {
    Stop-TestProcess -All
}

Describe 'examples/protocols/syslog.ps1' {
    AfterEach {
        Stop-TestSyslogReceiver -Server $receiver
    }

    It 'sends an RFC 5424 message over UDP; the receiver gets exactly that datagram' {
        $receiver = Start-TestSyslogReceiver -Transport Udp

        $sent = & $example -Message 'backup finished: wörld' -ComputerName 127.0.0.1 -Port $receiver.Port -ModulePath $env:SOCKPS_MODULE_PATH

        $sent | Should -HaveCount 1
        $sent.Transport | Should -BeExactly 'Udp'
        $sent.Priority | Should -Be 13        # user.notice
        $sent.Text | Should -Match "^<13>1 \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}[+-]\d\d:\d\d \S+ sockps $PID - - backup finished: wörld$"
        $sent.Bytes | Should -Be ([System.Text.Encoding]::UTF8.GetByteCount($sent.Text))
        $received = Wait-TestFileContent -Path $receiver.LogPath -Pattern 'backup finished: wörld$'
        $received | Should -BeExactly $sent.Text
    }

    It 'sends to a Unix datagram socket, as to /dev/log' {
        $receiver = Start-TestSyslogReceiver -Transport Unix

        $sent = & $example 'disk almost full' -Path $receiver.Path -Facility 16 -Severity Warning -AppName backup -ModulePath $env:SOCKPS_MODULE_PATH

        $sent.Transport | Should -BeExactly 'Unix'
        $sent.Target | Should -BeExactly $receiver.Path
        $sent.Priority | Should -Be 132       # local0.warning: 16 * 8 + 4
        $received = Wait-TestFileContent -Path $receiver.LogPath -Pattern 'disk almost full$'
        $received | Should -BeExactly $sent.Text
        $received | Should -Match '^<132>1 \S+ \S+ backup '
    }
}
