#Requires -Version 7.4
# examples/protocols/http.ps1 against nginx, started here on loopback with a throw-away
# configuration (tests/integration/SockPS.IntegrationHelpers.psm1, Start-TestNginx).

BeforeAll {
    Import-Module $env:SOCKPS_MODULE_PATH -Force
    Import-Module "$PSScriptRoot/../pester/SockPS.TestHelpers.psm1" -Force
    Import-Module "$PSScriptRoot/SockPS.IntegrationHelpers.psm1" -Force

    $example = Join-Path -Path $PSScriptRoot -ChildPath '../../examples/protocols/http.ps1' -Resolve
    $page = "<p>Hello, wörld</p>`n"
    $binary = New-TestRandomBytes -Count 70000 -Seed 80
    $nginx = Start-TestNginx -Files @{ 'index.html' = $page; 'files/data.bin' = $binary }
}

AfterAll {
    Stop-TestNginx -Server $nginx
    Stop-TestProcess -All
}

Describe 'examples/protocols/http.ps1 against nginx' {
    It 'returns the status, the headers and the body of a page as one object' {
        $response = & $example -ComputerName 127.0.0.1 -Port $nginx.Port -ModulePath $env:SOCKPS_MODULE_PATH

        $response | Should -HaveCount 1
        $response.StatusCode | Should -Be 200
        $response.ReasonPhrase | Should -BeExactly 'OK'
        $response.Version | Should -BeExactly 'HTTP/1.1'
        $response.Headers['Server'] | Should -Match '^nginx/\d'
        # Names are case-insensitive, as HTTP's are.
        $response.Headers['content-type'] | Should -BeExactly 'text/html'
        [int]$response.Headers['Content-Length'] | Should -Be ([System.Text.Encoding]::UTF8.GetByteCount($page))
        $response.Body | Should -BeExactly $page
    }

    It 'returns a binary file byte for byte' {
        $response = & $example -ComputerName 127.0.0.1 -Port $nginx.Port -Path /files/data.bin -ModulePath $env:SOCKPS_MODULE_PATH

        $response.StatusCode | Should -Be 200
        $response.Headers['Content-Type'] | Should -BeExactly 'application/octet-stream'
        $response.BodyBytes.Length | Should -Be $binary.Length
        Get-TestSha256 -Bytes $response.BodyBytes | Should -BeExactly (Get-TestSha256 -Bytes $binary)
    }

    It 'returns a missing page as a 404 object, not an error' {
        $response = & $example -ComputerName 127.0.0.1 -Port $nginx.Port -Path /missing.html -ModulePath $env:SOCKPS_MODULE_PATH

        $response.StatusCode | Should -Be 404
        $response.ReasonPhrase | Should -BeExactly 'Not Found'
        $response.Body | Should -Match '<title>404 Not Found</title>'
    }

    It 'runs in a fresh pwsh, as a user runs it' {
        $quote = { param($Text) "'" + ($Text -replace "'", "''") + "'" }
        $command = "& $(& $quote $example) -ComputerName 127.0.0.1 -Port $($nginx.Port) -ModulePath $(& $quote $env:SOCKPS_MODULE_PATH) | " +
            'Select-Object -Property StatusCode, Body | ConvertTo-Json -Compress'
        $pwsh = Start-TestPwsh -Command $command
        try {
            Wait-TestProcessExit -Process $pwsh -TimeoutSeconds 60 | Should -Be 0 -Because $pwsh.Transcript()
            $pwsh.ErrorLines | Should -BeNullOrEmpty
            $output = ($pwsh.OutputLines -join "`n") | ConvertFrom-Json
            $output.StatusCode | Should -Be 200
            $output.Body | Should -BeExactly $page
        }
        finally {
            Stop-TestProcess -Process $pwsh
        }
    }
}
