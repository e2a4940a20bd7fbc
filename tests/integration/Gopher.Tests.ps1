#Requires -Version 7.4
# examples/protocols/gopher.ps1 against gophernicus, one per connection under socat as inetd
# would run it (Start-TestGophernicus).

BeforeAll {
    Import-Module $env:SOCKPS_MODULE_PATH -Force
    Import-Module "$PSScriptRoot/../pester/SockPS.TestHelpers.psm1" -Force
    Import-Module "$PSScriptRoot/SockPS.IntegrationHelpers.psm1" -Force

    $example = Join-Path -Path $PSScriptRoot -ChildPath '../../examples/protocols/gopher.ps1' -Resolve
    # A gophermap line without a TAB is an information line; the others are <type><text>TAB<selector>.
    $gophernicus = Start-TestGophernicus -Files @{ 'hello.txt' = "Hello`n"; 'docs/notes.txt' = "notes`n" } `
        -Gophermap "Welcome to the SockPS suite`n0Say hello`thello.txt`n1Documents`t/docs`n"
}

AfterAll {
    Stop-TestGophernicus -Server $gophernicus
    Stop-TestProcess -All
}

Describe 'examples/protocols/gopher.ps1 against gophernicus' {
    It 'returns the root menu as objects: type, text, selector, host and port' {
        $items = @(& $example -ComputerName 127.0.0.1 -Port $gophernicus.Port -ModulePath $env:SOCKPS_MODULE_PATH)

        $items | Should -HaveCount 3
        $items[0].TypeName | Should -BeExactly 'Info'
        $items[0].Display | Should -BeExactly 'Welcome to the SockPS suite'

        $items[1].Type | Should -BeExactly ([char]'0')
        $items[1].TypeName | Should -BeExactly 'Text'
        $items[1].Display | Should -BeExactly 'Say hello'
        $items[1].Selector | Should -BeExactly '/hello.txt'
        $items[2].TypeName | Should -BeExactly 'Menu'
        $items[2].Selector | Should -BeExactly '/docs'
        # The items lead back to this server: its host and the port it listens on.
        foreach ($item in $items[1..2]) {
            $item.Host | Should -BeExactly '127.0.0.1'
            $item.Port | Should -Be $gophernicus.Port
        }
    }

    It 'returns a directory the server lists itself, by selector' {
        $items = @(& $example -ComputerName 127.0.0.1 -Port $gophernicus.Port -Selector /docs -ModulePath $env:SOCKPS_MODULE_PATH)

        $file = @($items | Where-Object TypeName -eq 'Text')
        $file | Should -HaveCount 1
        $file[0].Selector | Should -BeExactly '/docs/notes.txt'
        $file[0].Display | Should -Match '^notes\.txt\b'
        $file[0].Port | Should -Be $gophernicus.Port
    }
}
