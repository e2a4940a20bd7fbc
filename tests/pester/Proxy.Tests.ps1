#Requires -Version 7.4
# -Proxy on Connect-Socket, Invoke-SocketRequest, Test-SocketPort and Start-SocketRelay, against
# proxies nobody here wrote, started on loopback with throw-away configurations
# (SockPS.RemotePeers.psm1): microsocks (SOCKS5, with and without a password), dante-server
# (SOCKS4 and SOCKS5, loopback targets only), OpenSSH's ssh -D (SOCKS4a and SOCKS5 with names)
# and tinyproxy (HTTP CONNECT, Basic authentication, allowed ports). Behind them: python3's
# http.server, whose page holds a random token, so an answer that comes back can only have come
# from the target through the tunnel; and openssl s_server on 127.0.0.2 for TLS end to end.
#
# microsocks and tinyproxy end the whole tunnel when the client half-closes, so requests here
# read with -ToEnd (no half-close first); the HTTP/1.0 server closes when it has answered.

BeforeAll {
    Import-Module $env:SOCKPS_MODULE_PATH -Force
    Import-Module "$PSScriptRoot/SockPS.TestHelpers.psm1" -Force
    Import-Module "$PSScriptRoot/SockPS.TlsTestHelpers.psm1" -Force
    Import-Module "$PSScriptRoot/SockPS.RemotePeers.psm1" -Force

    $script:Web = Start-TestHttpServer
    $script:Socks = Start-TestSocksProxy
    $script:SocksPassword = Start-TestSocksProxy -UserName 'sockps' -Password 'right-password'
    $script:Dante = Start-TestDante
    $script:Http = Start-TestHttpProxy
    $script:HttpPassword = Start-TestHttpProxy -UserName 'sockps' -Password 'right-password' -ConnectPort $script:Web.Port

    function New-TestCredential([string] $UserName, [string] $Password) {
        [pscredential]::new($UserName, (ConvertTo-SecureString -String $Password -AsPlainText -Force))
    }

    $script:Right = New-TestCredential 'sockps' 'right-password'
    $script:Wrong = New-TestCredential 'sockps' 'wrong-password'
    $script:Request = "GET /index.html HTTP/1.0`r`nHost: 127.0.0.1`r`n`r`n"

    # A port nothing listens on: bound, read, released.

}

AfterAll {
    Get-SocketConnection | Disconnect-Socket
    Stop-TestProcess -All
}

Describe 'Connect-Socket and Invoke-SocketRequest -Proxy: the page comes back through each proxy' {
    AfterEach {
        Get-SocketConnection | Disconnect-Socket
    }

    It 'through <Name>' -ForEach @(
        @{ Name = 'microsocks, socks5://'; Proxy = { $script:Socks.Uri }; Credential = $null; Kind = 'socks5' }
        @{ Name = 'microsocks, socks5:// with a password'; Proxy = { $script:SocksPassword.Uri }; Credential = { $script:Right }; Kind = 'socks5' }
        @{ Name = 'dante, socks5://'; Proxy = { $script:Dante.Uri }; Credential = $null; Kind = 'socks5' }
        @{ Name = 'dante, socks4://'; Proxy = { "socks4://127.0.0.1:$($script:Dante.Port)" }; Credential = $null; Kind = 'socks4' }
        @{ Name = 'tinyproxy, http://'; Proxy = { $script:Http.Uri }; Credential = $null; Kind = 'http' }
        @{ Name = 'tinyproxy, http:// with Basic authentication'; Proxy = { $script:HttpPassword.Uri }; Credential = { $script:Right }; Kind = 'http' }
    ) {
        $parameters = @{ ComputerName = '127.0.0.1'; Port = $script:Web.Port; Proxy = (& $Proxy) }
        if ($Credential) {
            $parameters.ProxyCredential = & $Credential
        }

        $answer = Invoke-SocketRequest @parameters -InputObject $script:Request -ToEnd
        $answer | Should -Match $script:Web.Token
        $answer | Should -Match '^HTTP/1\.\d 200'

        $connection = Connect-Socket @parameters
        $connection.Proxy | Should -BeExactly ("$($Kind)://127.0.0.1:" + ([uri](& $Proxy)).Port)
        # The target, not the proxy.
        $connection.RemoteEndPoint | Should -Be ([System.Net.IPEndPoint]::new([System.Net.IPAddress]::Loopback, $script:Web.Port))
        $connection.ComputerName | Should -BeExactly '127.0.0.1'
        Send-SocketData -Connection $connection -InputObject $script:Request
        Receive-SocketData -Connection $connection -ToEnd -TimeoutSeconds 20 | Should -Match $script:Web.Token
    }

    It 'takes the proxy as a URI string from the pipeline of targets too (-Uri with -Proxy)' {
        $connection = Connect-Socket -Uri "tcp://127.0.0.1:$($script:Web.Port)" -Proxy $script:Socks.Uri
        $connection.Proxy | Should -BeExactly $script:Socks.Uri
        $connection.RemoteEndPoint.Port | Should -Be $script:Web.Port
    }

    It 'lists the proxy with the connection (Format-List)' {
        $connection = Connect-Socket -ComputerName 127.0.0.1 -Port $script:Web.Port -Proxy $script:Dante.Uri
        ($connection | Format-List | Out-String) | Should -Match "Proxy\s*:\s*$([regex]::Escape($script:Dante.Uri))"
    }
}

Describe 'Who resolves the name: socks5h:// and http:// send it, socks5:// and socks4:// resolve here' {
    BeforeAll {
        # Every lookup this process makes now answers 192.0.2.1 (TEST-NET-1), which dante's
        # rules refuse (it connects to 127.0.0.0/8 only). A proxy that is sent the name resolves
        # it itself, to loopback, and the page comes back.
        Set-TestHostLookup -Address '192.0.2.1'
    }

    AfterAll {
        Set-TestHostLookup -Reset
        Get-SocketConnection | Disconnect-Socket
    }

    It 'socks5h:// sends the name to dante, which reaches the target; RemoteEndPoint keeps the name' {
        $connection = Connect-Socket -ComputerName localhost -Port $script:Web.Port -Proxy "socks5h://127.0.0.1:$($script:Dante.Port)" -AddressFamily InterNetwork

        $connection.RemoteEndPoint | Should -BeOfType ([SockPS.Core.HostEndPoint])
        "$($connection.RemoteEndPoint)" | Should -BeExactly "localhost:$($script:Web.Port)"
        Send-SocketData -Connection $connection -InputObject $script:Request
        Receive-SocketData -Connection $connection -ToEnd -TimeoutSeconds 20 | Should -Match $script:Web.Token
    }

    It 'http:// sends the name to tinyproxy, which reaches the target' {
        Invoke-SocketRequest -ComputerName localhost -Port $script:Web.Port -Proxy $script:Http.Uri -InputObject $script:Request -ToEnd |
            Should -Match $script:Web.Token
    }

    It 'socks5:// resolves here (to 192.0.2.1), and dante refuses that address: ProxyDenied, reply 2' {
        $record = Get-TestWrittenError { Connect-Socket -ComputerName localhost -Port $script:Web.Port -Proxy $script:Dante.Uri }

        $record.FullyQualifiedErrorId | Should -BeExactly 'ProxyDenied,SockPS.Commands.ConnectSocketCommand'
        $record.CategoryInfo.Category | Should -Be 'PermissionDenied'
        "$record" | Should -Match '192\.0\.2\.1'
        "$record" | Should -Match 'it answered 2, connection not allowed by ruleset'
    }
}

Describe 'OpenSSH dynamic forward (ssh -D) as a SOCKS4a and SOCKS5 proxy' {
    BeforeAll {
        $script:Sshd = Start-TestSshd -NoPowerShellSubsystem
        $script:Forward = Start-TestSshDynamicForward -Sshd $script:Sshd
    }

    AfterAll {
        Stop-TestSshDynamicForward -Forward $script:Forward
        Stop-TestSshd -Sshd $script:Sshd
        Get-SocketConnection | Disconnect-Socket
    }

    It 'reaches the target through <Scheme>:// with <Target>' -ForEach @(
        @{ Scheme = 'socks4a'; Target = 'localhost' }
        @{ Scheme = 'socks5h'; Target = 'localhost' }
        @{ Scheme = 'socks4'; Target = '127.0.0.1' }
        @{ Scheme = 'socks5'; Target = '127.0.0.1' }
    ) {
        $proxy = "$($Scheme)://127.0.0.1:$($script:Forward.Port)"
        Invoke-SocketRequest -ComputerName $Target -Port $script:Web.Port -Proxy $proxy -AddressFamily InterNetwork -InputObject $script:Request -ToEnd |
            Should -Match $script:Web.Token
    }

    It 'a refused target is ProxyTargetUnreachable: ssh hangs up instead of a SOCKS5 reply, and the message says so' {
        $closed = Get-TestFreeTcpPort
        $record = Get-TestWrittenError { Connect-Socket -ComputerName 127.0.0.1 -Port $closed -Proxy "socks5://127.0.0.1:$($script:Forward.Port)" }

        $record.FullyQualifiedErrorId | Should -BeExactly 'ProxyTargetUnreachable,SockPS.Commands.ConnectSocketCommand'
        $record.CategoryInfo.Category | Should -Be 'ConnectionError'
        "$record" | Should -Match "127\.0\.0\.1:$closed"
        "$record" | Should -Match 'closed the connection instead of answering'
    }
}

Describe 'Proxy failures: an error id each, with the proxy''s reason in words' {
    BeforeAll {
        # Not a proxy: a service that speaks first, as SSH and SMTP servers do.
        $script:Banner = Start-SocketServer -ScriptBlock { param($Connection) $Connection.SendLine('SSH-2.0-OpenSSH_9.2 not a proxy') }
    }

    AfterAll {
        Stop-SocketServer -Server $script:Banner
    }

    AfterEach {
        Get-SocketConnection | Where-Object { -not $_.Server } | Disconnect-Socket
    }

    It 'ProxyRefused: nothing listens on the proxy''s port' {
        $closed = Get-TestFreeTcpPort
        $record = Get-TestWrittenError { Connect-Socket -ComputerName 127.0.0.1 -Port $script:Web.Port -Proxy "socks5://127.0.0.1:$closed" }

        $record.FullyQualifiedErrorId | Should -BeExactly 'ProxyRefused,SockPS.Commands.ConnectSocketCommand'
        $record.CategoryInfo.Category | Should -Be 'ConnectionError'
        "$record" | Should -Match "Could not reach the SOCKS5 proxy 127\.0\.0\.1:${closed}: the connection was refused"
        $record.Exception | Should -BeOfType ([SockPS.Core.SocketOperationException])
    }

    It 'ProxyAuthenticationFailed: <Name>' -ForEach @(
        @{ Name = 'SOCKS5 without credentials'; Proxy = { $script:SocksPassword.Uri }; Credential = $null; Pattern = 'requires a user name and password \(it answered 0xFF' }
        @{ Name = 'SOCKS5 with a wrong password'; Proxy = { $script:SocksPassword.Uri }; Credential = { $script:Wrong }; Pattern = "refused the user name and password for 'sockps'" }
        @{ Name = 'HTTP without credentials (407)'; Proxy = { $script:HttpPassword.Uri }; Credential = $null; Pattern = 'it answered 407 Proxy Authentication Required' }
        @{ Name = 'HTTP with a wrong password (401)'; Proxy = { $script:HttpPassword.Uri }; Credential = { $script:Wrong }; Pattern = 'it answered 401 Unauthorized' }
    ) {
        $parameters = @{ ComputerName = '127.0.0.1'; Port = $script:Web.Port; Proxy = (& $Proxy) }
        if ($Credential) {
            $parameters.ProxyCredential = & $Credential
        }
        $record = Get-TestWrittenError { Connect-Socket @parameters }

        $record.FullyQualifiedErrorId | Should -BeExactly 'ProxyAuthenticationFailed,SockPS.Commands.ConnectSocketCommand'
        $record.CategoryInfo.Category | Should -Be 'SecurityError'
        "$record" | Should -Match $Pattern
        "$record" | Should -Not -Match 'password\b.*(right|wrong)-password'
    }

    It 'ProxyDenied: tinyproxy forbids the port (403)' {
        $closed = Get-TestFreeTcpPort
        $record = Get-TestWrittenError {
            Connect-Socket -ComputerName 127.0.0.1 -Port $closed -Proxy $script:HttpPassword.Uri -ProxyCredential $script:Right
        }

        $record.FullyQualifiedErrorId | Should -BeExactly 'ProxyDenied,SockPS.Commands.ConnectSocketCommand'
        $record.CategoryInfo.Category | Should -Be 'PermissionDenied'
        "$record" | Should -Match '403 Access violation'
    }

    It 'ProxyDenied: dante''s rules forbid the target (SOCKS5 reply 2)' {
        $record = Get-TestWrittenError { Connect-Socket -ComputerName 192.0.2.1 -Port 80 -Proxy $script:Dante.Uri }

        $record.FullyQualifiedErrorId | Should -BeExactly 'ProxyDenied,SockPS.Commands.ConnectSocketCommand'
        "$record" | Should -Match 'it answered 2, connection not allowed by ruleset'
    }

    It 'ProxyTargetUnreachable: <Name> cannot reach a closed port' -ForEach @(
        @{ Name = 'microsocks'; Proxy = { $script:Socks.Uri }; Pattern = 'it answered 5, connection refused' }
        @{ Name = 'dante (SOCKS4)'; Proxy = { "socks4://127.0.0.1:$($script:Dante.Port)" }; Pattern = 'it answered 91, request rejected or failed' }
        @{ Name = 'tinyproxy'; Proxy = { $script:Http.Uri }; Pattern = 'it answered 500 Unable to connect' }
    ) {
        $closed = Get-TestFreeTcpPort
        $record = Get-TestWrittenError { Connect-Socket -ComputerName 127.0.0.1 -Port $closed -Proxy (& $Proxy) }

        $record.FullyQualifiedErrorId | Should -BeExactly 'ProxyTargetUnreachable,SockPS.Commands.ConnectSocketCommand'
        $record.CategoryInfo.Category | Should -Be 'ConnectionError'
        "$record" | Should -Match $Pattern
        "$record" | Should -Match "127\.0\.0\.1:$closed"
    }

    It 'ProxyTargetUnreachable: microsocks cannot resolve the name it was sent (reply 1)' {
        $record = Get-TestWrittenError { Connect-Socket -ComputerName 'sockps-no-such-host.invalid' -Port 80 -Proxy "socks5h://127.0.0.1:$($script:Socks.Port)" }

        $record.FullyQualifiedErrorId | Should -BeExactly 'ProxyTargetUnreachable,SockPS.Commands.ConnectSocketCommand'
        "$record" | Should -Match 'general SOCKS server failure'
        "$record" | Should -Match 'does not resolve'
    }

    It 'ProxyProtocolError: <Name>' -ForEach @(
        @{ Name = 'an HTTP proxy given as http:// is a SOCKS proxy'; Proxy = { "http://127.0.0.1:$($script:Socks.Port)" }; Pattern = 'did not answer as an HTTP proxy.*use socks5://' }
        @{ Name = 'a service that greets first, given as a SOCKS4 proxy'; Proxy = { "socks4://127.0.0.1:$($script:Banner.Port)" }; Pattern = 'did not answer as a SOCKS4 proxy: its first bytes were 53 53 48' }
        @{ Name = 'a service that greets first, given as a SOCKS5 proxy'; Proxy = { "socks5://127.0.0.1:$($script:Banner.Port)" }; Pattern = 'did not answer as a SOCKS5 proxy: its first bytes were 53 53' }
    ) {
        $record = Get-TestWrittenError { Connect-Socket -ComputerName 127.0.0.1 -Port 80 -Proxy (& $Proxy) -TimeoutSeconds 20 }

        $record.FullyQualifiedErrorId | Should -BeExactly 'ProxyProtocolError,SockPS.Commands.ConnectSocketCommand'
        $record.CategoryInfo.Category | Should -Be 'ProtocolError'
        "$record" | Should -Match $Pattern
    }

    It 'ProxyTimeout: a proxy that accepts and never answers is bounded by -TimeoutSeconds' {
        # A SockPS server stands in for a proxy that hangs: it accepts and says nothing.
        $silent = Start-SocketServer
        try {
            $record = Get-TestWrittenError { Connect-Socket -ComputerName 127.0.0.1 -Port 80 -Proxy "socks5://127.0.0.1:$($silent.Port)" -TimeoutSeconds 1 }

            $record.FullyQualifiedErrorId | Should -BeExactly 'ProxyTimeout,SockPS.Commands.ConnectSocketCommand'
            $record.CategoryInfo.Category | Should -Be 'OperationTimeout'
            "$record" | Should -Match 'timed out after 1 second'
        }
        finally {
            Stop-SocketServer -Server $silent
        }
    }

    It 'ProxyHostNotFound: the proxy''s name does not resolve' {
        $record = Get-TestWrittenError { Connect-Socket -ComputerName 127.0.0.1 -Port 80 -Proxy 'socks5://sockps-no-such-proxy.invalid:1080' -TimeoutSeconds 20 }

        $record.FullyQualifiedErrorId | Should -BeExactly 'ProxyHostNotFound,SockPS.Commands.ConnectSocketCommand'
        $record.CategoryInfo.Category | Should -Be 'ObjectNotFound'
        "$record" | Should -Match 'sockps-no-such-proxy\.invalid'
    }

    It 'a failure is about its target: the next target in the pipeline still connects' {
        $closed = Get-TestFreeTcpPort
        $targets = @(
            [pscustomobject]@{ ComputerName = '127.0.0.1'; Port = $closed }
            [pscustomobject]@{ ComputerName = '127.0.0.1'; Port = $script:Web.Port }
        )
        $errors = $null
        $connections = @($targets | Connect-Socket -Proxy $script:Socks.Uri -ErrorVariable errors -ErrorAction SilentlyContinue)

        $connections.Count | Should -Be 1
        $connections[0].RemoteEndPoint.Port | Should -Be $script:Web.Port
        @($errors).Count | Should -Be 1
        $errors[0].FullyQualifiedErrorId | Should -BeExactly 'ProxyTargetUnreachable,SockPS.Commands.ConnectSocketCommand'
    }

    It 'Invoke-SocketRequest writes the same ids' {
        $record = Get-TestWrittenError {
            Invoke-SocketRequest -ComputerName 127.0.0.1 -Port $script:Web.Port -Proxy $script:SocksPassword.Uri -InputObject $script:Request
        }
        $record.FullyQualifiedErrorId | Should -BeExactly 'ProxyAuthenticationFailed,SockPS.Commands.InvokeSocketRequestCommand'
    }
}

Describe 'Proxy parameters that cannot work' {
    It 'refuses credentials in the URI, saying why (<Uri>)' -ForEach @(
        @{ Uri = 'socks5://sockps:right-password@127.0.0.1:1080' }
        @{ Uri = 'http://sockps@127.0.0.1:3128' }
    ) {
        { Connect-Socket -ComputerName 127.0.0.1 -Port 80 -Proxy $Uri } |
            Should -Throw -ErrorId 'InvalidArgument,SockPS.Commands.ConnectSocketCommand' -ExpectedMessage '*history file*-ProxyCredential*'
    }

    It 'refuses <Case>' -ForEach @(
        @{ Case = 'a scheme it does not speak'; Command = { Connect-Socket -ComputerName 127.0.0.1 -Port 80 -Proxy 'ftp://127.0.0.1:21' }; Message = '*socks5://*' }
        @{ Case = '-ProxyCredential without -Proxy'; Command = { Connect-Socket -ComputerName 127.0.0.1 -Port 80 -ProxyCredential $script:Right }; Message = '*-ProxyCredential goes with -Proxy*' }
        @{ Case = 'a proxy for UDP'; Command = { Connect-Socket -ComputerName 127.0.0.1 -Port 53 -Protocol Udp -Proxy $script:Socks.Uri }; Message = '*UDP ASSOCIATE*' }
        @{ Case = 'a proxy for a Unix socket URI'; Command = { Connect-Socket -Uri 'unix:///tmp/x.sock' -Proxy $script:Socks.Uri }; Message = '*Unix socket is reached directly*' }
    ) {
        $Command | Should -Throw -ErrorId 'InvalidArgument,SockPS.Commands.ConnectSocketCommand' -ExpectedMessage $Message
    }

    It 'SOCKS4 and an IPv6 target do not mix: HostNotFound, saying SOCKS4 is IPv4 only' {
        $record = Get-TestWrittenError { Connect-Socket -ComputerName ::1 -Port 80 -Proxy "socks4://127.0.0.1:$($script:Dante.Port)" }
        $record.FullyQualifiedErrorId | Should -BeExactly 'HostNotFound,SockPS.Commands.ConnectSocketCommand'
        "$record" | Should -Match 'SOCKS4 carries IPv4 addresses only'
    }
}

Describe 'TLS end to end through the tunnel, checking the target''s name' {
    BeforeAll {
        $certs = New-TestCertificateSet -Directory (Join-Path -Path $TestDrive -ChildPath 'certs')
        $now = [DateTimeOffset]::UtcNow
        # The target's certificate names 127.0.0.2 only: not the proxy's 127.0.0.1.
        $target = New-TestLeafCertificate -Issuer $certs.Ca -Name '127.0.0.2' -IPAddress '127.0.0.2' `
            -NotBefore $now.AddDays(-1) -NotAfter $now.AddDays(30) -Usage ServerAuth
        $script:TargetPem = Join-Path -Path $TestDrive -ChildPath 'target.pem'
        $script:TargetKey = Join-Path -Path $TestDrive -ChildPath 'target.key'
        [System.IO.File]::WriteAllText($script:TargetPem, $target.ExportCertificatePem() + "`n")
        $key = [System.Security.Cryptography.X509Certificates.ECDsaCertificateExtensions]::GetECDsaPrivateKey($target)
        [System.IO.File]::WriteAllText($script:TargetKey, $key.ExportPkcs8PrivateKeyPem() + "`n")
        $key.Dispose()
        $script:TargetCertificate = $target
        $script:Certs = $certs

        # openssl s_server on 127.0.0.2, one connection; [pscustomobject]@{ Port; Process }.
        function Start-TargetTlsServer([string] $CertPath, [string] $KeyPath, [switch] $Plain) {
            Start-TestListeningPeer -FilePath 'openssl' -ReadyPattern '^ACCEPT$' -ReadyStream Output -ArgumentList {
                param($Port)
                @('s_server', '-accept', "127.0.0.2:$Port", '-naccept', '1', '-cert', $CertPath, '-key', $KeyPath)
            }.GetNewClosure()
        }
    }

    AfterEach {
        Get-SocketConnection | Disconnect-Socket
        # Only this test's s_server: the proxies serve the whole file.
        if ($peer) {
            Stop-TestProcess -Process $peer.Process
        }
    }

    It 'Connect-Socket -UseTls through <Name> verifies 127.0.0.2, and talks with s_server' -ForEach @(
        @{ Name = 'dante (socks5)'; Proxy = { $script:Dante.Uri } }
        @{ Name = 'tinyproxy (http)'; Proxy = { $script:Http.Uri } }
    ) {
        $peer = Start-TargetTlsServer -CertPath $script:TargetPem -KeyPath $script:TargetKey

        $connection = Connect-Socket -ComputerName 127.0.0.2 -Port $peer.Port -Proxy (& $Proxy) -UseTls -CaCertificate $script:Certs.CaPath

        $connection.IsTls | Should -BeTrue
        $connection.RemoteCertificate.Thumbprint | Should -Be $script:TargetCertificate.Thumbprint
        $connection.RemoteEndPoint | Should -Be ([System.Net.IPEndPoint]::new([ipaddress]'127.0.0.2', $peer.Port))
        Send-SocketData -Connection $connection -InputObject 'through the tunnel' -Line
        $null = Wait-TestProcessLine -Process $peer.Process -Pattern '^through the tunnel$'
        $peer.Process.WriteInput('back from s_server')
        Receive-SocketData -Connection $connection -Line -TimeoutSeconds 20 | Should -BeExactly 'back from s_server'
    }

    It 'refuses a target whose certificate names the proxy''s address instead (TlsAuthenticationFailed)' {
        # certs.Server names localhost, 127.0.0.1 and ::1: right for the proxy, wrong for 127.0.0.2.
        $peer = Start-TargetTlsServer -CertPath $script:Certs.ServerPath -KeyPath $script:Certs.ServerKeyPath

        $record = Get-TestWrittenError {
            Connect-Socket -ComputerName 127.0.0.2 -Port $peer.Port -Proxy $script:Dante.Uri -UseTls -CaCertificate $script:Certs.CaPath
        }

        $record.FullyQualifiedErrorId | Should -BeExactly 'TlsAuthenticationFailed,SockPS.Commands.ConnectSocketCommand'
        "$record" | Should -Match '127\.0\.0\.2'
    }

    It 'Protect-SocketConnection upgrades a proxied connection, checking the target''s name' {
        $peer = Start-TargetTlsServer -CertPath $script:TargetPem -KeyPath $script:TargetKey
        $connection = Connect-Socket -ComputerName 127.0.0.2 -Port $peer.Port -Proxy $script:Socks.Uri

        $connection | Protect-SocketConnection -CaCertificate $script:Certs.CaPath

        $connection.IsTls | Should -BeTrue
        $connection.RemoteCertificate.Thumbprint | Should -Be $script:TargetCertificate.Thumbprint
        $connection.Proxy | Should -BeExactly $script:Socks.Uri
        Send-SocketData -Connection $connection -InputObject 'upgraded' -Line
        $null = Wait-TestProcessLine -Process $peer.Process -Pattern '^upgraded$'
    }
}

Describe 'Test-SocketPort -Proxy' {
    It 'reports Open, Refused and ProxyFailed with the proxy''s reason' {
        $closed = Get-TestFreeTcpPort
        $results = @(Test-SocketPort -ComputerName 127.0.0.1 -Port $script:Web.Port, $closed -Proxy $script:Socks.Uri -TimeoutSeconds 20)

        $results.Status | Should -Be @('Open', 'Refused')
        $results[0].Proxy | Should -BeExactly $script:Socks.Uri
        $results[1].Message | Should -Match 'it answered 5, connection refused'
        $results[0].LocalEndPoint.Address | Should -Be ([System.Net.IPAddress]::Loopback)

        $locked = Test-SocketPort -ComputerName 127.0.0.1 -Port $script:Web.Port -Proxy $script:SocksPassword.Uri -TimeoutSeconds 20
        $locked.Status | Should -Be 'ProxyFailed'
        $locked.Message | Should -Match 'requires a user name and password'

        (Test-SocketPort -ComputerName 127.0.0.1 -Port $script:Web.Port -Proxy $script:SocksPassword.Uri -ProxyCredential $script:Right -TimeoutSeconds 20).Status |
            Should -Be 'Open'
    }

    It 'refuses a proxy for UDP checks' {
        { Test-SocketPort -ComputerName 127.0.0.1 -Port 53 -Protocol Udp -Proxy $script:Socks.Uri } |
            Should -Throw -ErrorId 'InvalidArgument,SockPS.Commands.TestSocketPortCommand'
    }
}

Describe 'Start-SocketRelay -Proxy: the target side goes through the proxy' {
    AfterEach {
        Get-SocketRelay | Stop-SocketRelay
        Get-SocketConnection | Disconnect-Socket
    }

    It 'forwards each client through tinyproxy with Basic authentication' {
        $relay = Start-SocketRelay -ComputerName 127.0.0.1 -Port $script:Web.Port -Proxy $script:HttpPassword.Uri -ProxyCredential $script:Right

        $relay.Proxy | Should -BeExactly $script:HttpPassword.Uri
        "$relay" | Should -Match ([regex]::Escape("via $($script:HttpPassword.Uri)"))
        Invoke-SocketRequest -ComputerName 127.0.0.1 -Port $relay.Port -InputObject $script:Request -ToEnd | Should -Match $script:Web.Token
    }

    It 'records the proxy''s refusal in LastError' {
        $relay = Start-SocketRelay -ComputerName 127.0.0.1 -Port $script:Web.Port -Proxy $script:SocksPassword.Uri -ProxyCredential $script:Wrong

        $client = Connect-Socket -ComputerName 127.0.0.1 -Port $relay.Port
        Wait-TestCondition -TimeoutSeconds 20 -Description 'the relay trying the proxy' -Condition { $relay.ErrorCount -ge 1 }
        $relay.LastError | Should -Match "refused the user name and password for 'sockps'"
        # The client whose target could not be reached is disconnected.
        Receive-SocketData -Connection $client -ToEnd -TimeoutSeconds 20 | Should -BeNullOrEmpty
    }
}
