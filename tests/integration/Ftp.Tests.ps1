#Requires -Version 7.4
# examples/protocols/ftp.ps1 against vsftpd, started here on loopback with a throw-away
# configuration (Start-TestVsftpd): anonymous login, passive mode, RETR checked by SHA-256.

BeforeDiscovery {
    # vsftpd chroots the anonymous session: it has to start as root.
    $notRoot = $IsWindows -or (& id -u) -ne '0'
}

BeforeAll {
    Import-Module $env:SOCKPS_MODULE_PATH -Force
    Import-Module "$PSScriptRoot/../pester/SockPS.TestHelpers.psm1" -Force
    Import-Module "$PSScriptRoot/SockPS.IntegrationHelpers.psm1" -Force

    $example = Join-Path -Path $PSScriptRoot -ChildPath '../../examples/protocols/ftp.ps1' -Resolve
}

AfterAll {
    Stop-TestProcess -All
}

Describe 'examples/protocols/ftp.ps1 against vsftpd' -Skip:$notRoot {
    BeforeAll {
        # Larger than any socket buffer, so the data connection really streams.
        $file = New-TestRandomBytes -Count 3000000 -Seed 21
        $vsftpd = Start-TestVsftpd -Files @{ 'pub/data.bin' = $file }
    }

    AfterAll {
        Stop-TestVsftpd -Server $vsftpd
    }

    It 'logs in anonymously and retrieves a file in passive mode; the SHA-256 matches' {
        $outFile = Join-Path -Path $TestDrive -ChildPath 'data.bin'

        $download = & $example -ComputerName 127.0.0.1 -Port $vsftpd.Port -RemotePath /pub/data.bin -OutFile $outFile `
            -Credential $vsftpd.Credential -ModulePath $env:SOCKPS_MODULE_PATH

        $download | Should -HaveCount 1
        $download.RemotePath | Should -BeExactly '/pub/data.bin'
        $download.OutFile | Should -BeExactly $outFile
        $download.Length | Should -Be $file.Length
        $expected = Get-TestSha256 -Bytes $file
        $download.Sha256 | Should -BeExactly $expected
        (Get-FileHash -LiteralPath $outFile -Algorithm SHA256).Hash | Should -BeExactly $expected
        # The data came over the passive-mode port the server opened, not the control port.
        $download.DataEndPoint | Should -Match '^127\.0\.0\.1:\d+$'
        $download.DataEndPoint | Should -Not -BeExactly "127.0.0.1:$($vsftpd.Port)"
        # vsftpd's own log records the anonymous download, whole.
        Wait-TestFileContent -Path (Join-Path $vsftpd.Folder 'vsftpd.log') -Pattern "OK DOWNLOAD: Client `"(::ffff:)?127\.0\.0\.1`", `"/pub/data\.bin`", $($file.Length) bytes" |
            Should -Not -BeNullOrEmpty
    }

    It 'stops with an error that quotes the server when the file does not exist' {
        $outFile = Join-Path -Path $TestDrive -ChildPath 'missing.bin'

        { & $example -ComputerName 127.0.0.1 -Port $vsftpd.Port -RemotePath /pub/missing.bin -OutFile $outFile -ModulePath $env:SOCKPS_MODULE_PATH } |
            Should -Throw -ExpectedMessage "*answered 'RETR /pub/missing.bin' with: 550 *"
        Get-SocketConnection -State Open | Where-Object { $_.RemoteEndPoint.Port -eq $vsftpd.Port } |
            Should -BeNullOrEmpty -Because 'the example closes its control connection when it fails'
    }
}
