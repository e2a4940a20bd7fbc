#Requires -Version 7.4
# examples/protocols/dns.ps1 against dnsmasq, started here on loopback with fixed answers
# and no upstream (Start-TestDnsmasq): a query built as bytes, over UDP, and its answer parsed.

BeforeAll {
    Import-Module $env:SOCKPS_MODULE_PATH -Force
    Import-Module "$PSScriptRoot/../pester/SockPS.TestHelpers.psm1" -Force
    Import-Module "$PSScriptRoot/SockPS.IntegrationHelpers.psm1" -Force

    $example = Join-Path -Path $PSScriptRoot -ChildPath '../../examples/protocols/dns.ps1' -Resolve
    $dnsmasq = Start-TestDnsmasq -Address @{ 'example.test' = '192.0.2.1'; 'v6.example.test' = '2001:db8::7' }
}

AfterAll {
    Stop-TestDnsmasq -Server $dnsmasq
    Stop-TestProcess -All
}

Describe 'examples/protocols/dns.ps1 against dnsmasq' {
    It 'asks for an A record over UDP and returns the answer as an object' {
        $records = @(& $example -Name www.example.test -ComputerName 127.0.0.1 -Port $dnsmasq.Port -ModulePath $env:SOCKPS_MODULE_PATH)

        $records | Should -HaveCount 1
        # The name in the answer is a compression pointer to the question's name.
        $records[0].Name | Should -BeExactly 'www.example.test'
        $records[0].Type | Should -BeExactly 'A'
        $records[0].TimeToLive | Should -Be 300
        $records[0].Address | Should -Be ([System.Net.IPAddress]::Parse('192.0.2.1'))
        # dnsmasq saw the query as one well-formed A question.
        $null = Wait-TestProcessLine -Process $dnsmasq.Process -Stream Any -Pattern 'query\[A\] www\.example\.test from 127\.0\.0\.1' -FromStart
    }

    It 'asks for an AAAA record' {
        $records = @(& $example -Name v6.example.test -Type AAAA -ComputerName 127.0.0.1 -Port $dnsmasq.Port -ModulePath $env:SOCKPS_MODULE_PATH)

        $records | Should -HaveCount 1
        $records[0].Address | Should -Be ([System.Net.IPAddress]::Parse('2001:db8::7'))
    }

    It 'stops with an error that names the answer code for a name the server will not answer' {
        { & $example -Name elsewhere.invalid -ComputerName 127.0.0.1 -Port $dnsmasq.Port -ModulePath $env:SOCKPS_MODULE_PATH } |
            Should -Throw -ExpectedMessage '*answered elsewhere.invalid with error code 5 (REFUSED)*'
    }
}
