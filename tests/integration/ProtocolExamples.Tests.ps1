#Requires -Version 7.4
# What every script in examples/protocols shares, whoever wrote it: help at the top (a synopsis
# and examples), -ComputerName and -Port (the target), -ModulePath (the build under test), strict
# mode. What each one does is tested against its real server in <Protocol>.Tests.ps1.

BeforeDiscovery {
    $examples = @(Get-ChildItem -Path "$PSScriptRoot/../../examples/protocols" -Filter '*.ps1' |
        ForEach-Object { @{ Name = $_.Name; Path = $_.FullName } })
}

Describe 'examples/protocols/<Name>' -ForEach $examples {
    BeforeAll {
        $help = Get-Help -Name $Path -Full
        $parameters = (Get-Command -Name $Path).Parameters
    }

    It 'parses' {
        $errors = $null
        $null = [System.Management.Automation.Language.Parser]::ParseFile($Path, [ref]$null, [ref]$errors)
        $errors | Should -BeNullOrEmpty
    }

    It 'has help at the top: a synopsis and at least one example' {
        $help.Synopsis | Should -Not -BeNullOrEmpty
        $help.Synopsis | Should -Not -Match ([regex]::Escape($Name)) -Because 'without comment-based help the synopsis is the syntax'
        @($help.examples.example).Count | Should -BeGreaterOrEqual 1
    }

    It 'takes the target as -ComputerName and -Port, and the module as -ModulePath' {
        $parameters.Keys | Should -Contain 'ComputerName'
        $parameters.Keys | Should -Contain 'Port'
        $parameters.Keys | Should -Contain 'ModulePath'
    }

    It 'runs under strict mode' {
        Get-Content -LiteralPath $Path -Raw | Should -Match '(?m)^Set-StrictMode -Version Latest\s*$'
    }
}
