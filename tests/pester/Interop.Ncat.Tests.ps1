#Requires -Version 7.4
# A peer nobody here wrote: ncat --ssl, as a TLS server for Connect-Socket -UseTls and as a
# verifying TLS client of Start-SocketServer -Certificate. Certificates are made at run time
# (SockPS.TlsTestHelpers.psm1) and written as PEM files for ncat.
#
# ncat -l reports port 0 as 0, not the port the OS picked, so it listens on a port found free a
# moment before (Start-TestListeningPeer retries once on another port if it was taken).

BeforeAll {
    Import-Module $env:SOCKPS_MODULE_PATH -Force
    Import-Module "$PSScriptRoot/SockPS.TestHelpers.psm1" -Force
    Import-Module "$PSScriptRoot/SockPS.TlsTestHelpers.psm1" -Force

    $ncat = Get-Command -Name ncat -CommandType Application -ErrorAction SilentlyContinue | Select-Object -First 1
    if (-not $ncat) {
        throw 'ncat is not installed; .ci/run installs it (apt-get install ncat).'
    }

    $certs = New-TestCertificateSet -Directory (Join-Path -Path $TestDrive -ChildPath 'certs')

    # `ncat -v --ssl <Arguments> -l 127.0.0.1 <free port>`, once it listens: @{ Port; Process }.
    function Start-NcatTlsServer([string[]] $Arguments) {
        Start-TestListeningPeer -FilePath 'ncat' -ReadyPattern '^Ncat: Listening on ' -ReadyStream Error -ArgumentList {
            param($Port)
            @('-v', '--ssl') + $Arguments + @('-l', '127.0.0.1', "$Port")
        }.GetNewClosure()
    }
}

AfterAll {
    Stop-TestProcess -All
}

Describe 'ncat --ssl as a TLS server for Connect-Socket -UseTls' {
    AfterEach {
        Get-SocketConnection | Disconnect-Socket
        Stop-TestProcess -All
    }

    It 'talks both ways with ncat --ssl-cert/--ssl-key -l, trusting the private CA' {
        $peer = Start-NcatTlsServer -Arguments '--ssl-cert', $certs.ServerPath, '--ssl-key', $certs.ServerKeyPath

        $connection = Connect-Socket -ComputerName localhost -Port $peer.Port -UseTls -CaCertificate $certs.CaPath

        $connection.IsTls | Should -BeTrue
        $connection.RemoteCertificate.Thumbprint | Should -Be $certs.Server.Thumbprint
        Send-SocketData -Connection $connection -InputObject 'hello from SockPS' -Line
        $null = Wait-TestProcessLine -Process $peer.Process -Pattern '^hello from SockPS$'
        $peer.Process.WriteInput('hello from ncat')
        Receive-SocketData -Connection $connection -Line -TimeoutSeconds 20 | Should -BeExactly 'hello from ncat'
        # ncat -l serves one connection and ends cleanly when SockPS closes.
        Disconnect-Socket -Connection $connection
        Wait-TestProcessExit -Process $peer.Process | Should -Be 0 -Because $peer.Process.Transcript()
    }

    It 'refuses the certificate ncat makes for itself, unless told to skip the check' {
        # Without --ssl-cert, ncat generates a throwaway self-signed certificate. -k: keep
        # listening after the refused connection.
        $peer = Start-NcatTlsServer -Arguments '-k'

        $refused = Connect-Socket -ComputerName localhost -Port $peer.Port -UseTls -CaCertificate $certs.CaPath `
            -ErrorAction SilentlyContinue -ErrorVariable failures

        $refused | Should -BeNullOrEmpty
        $failures.Count | Should -Be 1
        $failures[0].FullyQualifiedErrorId | Should -Be 'TlsAuthenticationFailed,SockPS.Commands.ConnectSocketCommand'
        $failures[0].CategoryInfo.Category | Should -Be 'SecurityError'
        $failures[0].Exception.Message | Should -BeLike "The certificate presented by localhost:$($peer.Port)*which this machine does not trust*"

        $connection = Connect-Socket -ComputerName localhost -Port $peer.Port -UseTls -SkipCertificateCheck `
            -WarningAction SilentlyContinue -WarningVariable warnings
        $connection.IsTls | Should -BeTrue
        $warnings.Count | Should -Be 1
        Send-SocketData -Connection $connection -InputObject 'unchecked but encrypted' -Line
        $null = Wait-TestProcessLine -Process $peer.Process -Pattern '^unchecked but encrypted$'
    }
}

Describe 'ncat --ssl as a TLS client of Start-SocketServer -Certificate' {
    AfterEach {
        Get-SocketConnection | Disconnect-Socket
        Get-SocketServer | Stop-SocketServer
        Stop-TestProcess -All
    }

    It 'verifies the SockPS server (--ssl-verify --ssl-trustfile ca.pem) and talks both ways' {
        $server = Start-SocketServer -Certificate $certs.Server
        $client = Start-TestProcess -FilePath 'ncat' -ArgumentList @(
            '--ssl', '--ssl-verify', '--ssl-trustfile', $certs.CaPath, 'localhost', "$($server.Port)")

        $accepted = Wait-SocketConnection -Server $server -TimeoutSeconds 20

        $accepted.IsTls | Should -BeTrue
        Send-SocketData -Connection $accepted -InputObject 'hello from SockPS' -Line
        $null = Wait-TestProcessLine -Process $client -Pattern '^hello from SockPS$'
        $client.WriteInput('hello from ncat')
        Receive-SocketData -Connection $accepted -Line -TimeoutSeconds 20 | Should -BeExactly 'hello from ncat'
        # ncat ends its side when its stdin ends; then SockPS sees the end of the stream.
        $client.CloseInput()
        Receive-SocketData -Connection $accepted -ToEnd -TimeoutSeconds 20 | Should -BeNullOrEmpty
        $accepted.State | Should -Be 'Closed'
        Disconnect-Socket -Connection $accepted
        Wait-TestProcessExit -Process $client | Should -Be 0 -Because $client.Transcript()
    }

    It 'sees the certificate ncat presents (--ssl-cert/--ssl-key) to -RequireClientCertificate' {
        $server = Start-SocketServer -Certificate $certs.Server -RequireClientCertificate -CaCertificate $certs.CaPath
        $client = Start-TestProcess -FilePath 'ncat' -ArgumentList @(
            '--ssl', '--ssl-verify', '--ssl-trustfile', $certs.CaPath,
            '--ssl-cert', $certs.ClientPath, '--ssl-key', $certs.ClientKeyPath, 'localhost', "$($server.Port)")

        $accepted = Wait-SocketConnection -Server $server -TimeoutSeconds 20

        $accepted.RemoteCertificate.Subject | Should -Be 'CN=sockps-client'
        $accepted.RemoteCertificate.Thumbprint | Should -Be $certs.Client.Thumbprint
        $client.WriteInput('mutual from ncat')
        Receive-SocketData -Connection $accepted -Line -TimeoutSeconds 20 | Should -BeExactly 'mutual from ncat'
    }
}
