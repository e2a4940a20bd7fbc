#Requires -Version 7.4
# examples/protocols/nntp.ps1 against INN 2.7, started here on loopback with a private
# inn.conf (Start-TestInn); articles are posted first with INN's own inews.

BeforeDiscovery {
    # innd starts as root and becomes the news user.
    $notRoot = $IsWindows -or (& id -u) -ne '0'
}

BeforeAll {
    Import-Module $env:SOCKPS_MODULE_PATH -Force
    Import-Module "$PSScriptRoot/../pester/SockPS.TestHelpers.psm1" -Force
    Import-Module "$PSScriptRoot/SockPS.IntegrationHelpers.psm1" -Force

    $example = Join-Path -Path $PSScriptRoot -ChildPath '../../examples/protocols/nntp.ps1' -Resolve
}

AfterAll {
    Stop-TestProcess -All
}

Describe 'examples/protocols/nntp.ps1 against INN' -Skip:$notRoot {
    BeforeAll {
        $inn = Start-TestInn -Group 'local.test'
        $first = Publish-TestInnArticle -Server $inn -Subject 'First post from the SockPS suite' -Body "one`n"
        # A line that starts with a dot travels dot-stuffed; the example must undo that.
        $second = Publish-TestInnArticle -Server $inn -Subject "Second post, $([guid]::NewGuid())" `
            -Body "Hello from INN.`n.a line that starts with a dot`nlast line`n"
    }

    AfterAll {
        Stop-TestInn -Server $inn
    }

    It 'reads the newest article of the group: subject, Message-ID, headers and body' {
        $article = & $example -ComputerName 127.0.0.1 -Port $inn.Port -Group local.test -ModulePath $env:SOCKPS_MODULE_PATH

        $article | Should -HaveCount 1
        $article.Group | Should -BeExactly 'local.test'
        $article.GroupCount | Should -Be 2
        $article.Number | Should -Be 2
        $article.Subject | Should -BeExactly $second.Subject
        $article.MessageId | Should -BeExactly $second.MessageId
        $article.Headers['Message-ID'] | Should -BeExactly $second.MessageId
        $article.Headers['newsgroups'] | Should -BeExactly 'local.test'
        $article.Headers['Path'] | Should -Match '^sockps\.test!'
        $article.Body | Should -BeExactly "Hello from INN.`n.a line that starts with a dot`nlast line"
    }

    It 'reads an article by its number' {
        $article = & $example -ComputerName 127.0.0.1 -Port $inn.Port -Group local.test -ArticleNumber 1 -ModulePath $env:SOCKPS_MODULE_PATH

        $article.Number | Should -Be 1
        $article.Subject | Should -BeExactly $first.Subject
        $article.MessageId | Should -BeExactly $first.MessageId
        $article.Body | Should -BeExactly 'one'
    }

    It 'stops with an error that quotes the server for a group it does not carry' {
        { & $example -ComputerName 127.0.0.1 -Port $inn.Port -Group no.such.group -ModulePath $env:SOCKPS_MODULE_PATH } |
            Should -Throw -ExpectedMessage "*answered 'GROUP no.such.group' with: 411 *"
    }
}
