#Requires -Version 7.4
# The MAML help the build generates (en-US/SockPS.dll-Help.xml, from the C# XML docs and
# module/help/*.psd1) covers every exported cmdlet and parameter, with examples and links.

BeforeDiscovery {
    $manifest = Import-PowerShellDataFile -LiteralPath (Join-Path $env:SOCKPS_MODULE_PATH 'SockPS.psd1')
    $cmdletCases = $manifest.CmdletsToExport | ForEach-Object { @{ Name = $_ } }
}

BeforeAll {
    Import-Module $env:SOCKPS_MODULE_PATH -Force
    $common = [System.Management.Automation.PSCmdlet]::CommonParameters + [System.Management.Automation.PSCmdlet]::OptionalCommonParameters
}

Describe 'Help for <Name>' -ForEach $cmdletCases {
    BeforeAll {
        $help = Get-Help -Name $Name -Full
        $command = Get-Command -Name $Name
    }

    It 'comes from the MAML file, with a synopsis that is not the generated syntax' {
        $help.Synopsis | Should -Not -BeNullOrEmpty
        $help.Synopsis | Should -Not -Match "^\s*$([regex]::Escape($Name))\s"
        $help.Synopsis.Length | Should -BeGreaterThan 15
    }

    It 'has a description' {
        ($help.Description.Text -join ' ').Trim() | Should -Not -BeNullOrEmpty
    }

    It 'describes every parameter' {
        $parameters = $command.Parameters.Keys | Where-Object { $_ -notin $common }
        foreach ($parameter in $parameters) {
            $entry = $help.parameters.parameter | Where-Object name -EQ $parameter
            $entry | Should -Not -BeNullOrEmpty -Because "-$parameter needs an entry in the help"
            ($entry.description.Text -join ' ').Trim() | Should -Not -BeNullOrEmpty -Because "-$parameter needs a description"
        }
    }

    It 'has at least two examples, each with code, remarks and one at least with the output it prints' {
        $examples = @($help.examples.example | Where-Object { $_ })
        $examples.Count | Should -BeGreaterOrEqual 2
        foreach ($example in $examples) {
            $example.code | Should -Not -BeNullOrEmpty
            ($example.remarks.Text -join ' ').Trim() | Should -Not -BeNullOrEmpty
        }
        # Two at least show the cmdlet itself (others may show a related way to the same end).
        @($examples | Where-Object { $_.code -match [regex]::Escape($Name) }).Count | Should -BeGreaterOrEqual 2
        # The generator appends the output after a blank line in the code block.
        @($examples | Where-Object { $_.code -match '\S[ \t]*\r?\n[ \t]*\r?\n[ \t]*\S' }).Count | Should -BeGreaterOrEqual 1
    }

    It 'links to related help' {
        @($help.relatedLinks.navigationLink | Where-Object { "$($_.linkText)$($_.uri)".Trim() }).Count | Should -BeGreaterOrEqual 1
    }

    It 'names what it outputs' {
        ($help.returnValues.returnValue.type.name -join ' ') | Should -Not -BeNullOrEmpty
    }
}

Describe 'Get-Help -Examples' {
    It 'shows the examples for <Name>' -ForEach $cmdletCases {
        $text = Get-Help -Name $Name -Examples | Out-String -Width 120

        $text | Should -Match 'Example 1'
        $text | Should -Match 'Example 2'
        $text | Should -Match ([regex]::Escape("$Name "))
    }
}

Describe 'about_SockPS' {
    BeforeAll {
        $about = Get-Help -Name about_SockPS | Out-String
    }

    It 'explains <_>' -ForEach 'THE OBJECT MODEL', 'ENCODINGS', 'TIMEOUTS', 'ERRORS', 'SECURITY DEFAULTS',
        'CERTIFICATES AND PINNING', 'ALPN AND CIPHER SUITES', 'REPEATED PORT CHECKS', 'SCALE-OUT' {
        $about | Should -Match "(?m)^\s*$_\s*$"
    }
}
