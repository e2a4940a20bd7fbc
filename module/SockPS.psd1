@{
    RootModule           = 'SockPS.psm1'   # loads net8.0/ or netstandard2.0/SockPS.dll by edition
    ModuleVersion        = '0.7.0'   # the one place: Directory.Build.props reads it for the assemblies
    CompatiblePSEditions = @('Desktop', 'Core')
    GUID                 = 'b8f3c1d2-5e4a-4f7b-9c61-2d8e0a7f4b13'
    Author               = 'SockPS contributors'
    CompanyName          = 'SockPS contributors'
    Copyright            = 'Copyright (c) 2026 SockPS contributors. MIT License.'
    Description          = 'Sockets as PowerShell objects: connect, listen, accept, send and receive over TCP, TLS, UDP and Unix domain sockets, with every step returning a live object for the next cmdlet. What netcat, socat and Python''s socket module give other shells.'
    PowerShellVersion    = '5.1'
    TypesToProcess       = @('SockPS.Types.ps1xml')
    FormatsToProcess     = @('SockPS.Format.ps1xml')
    CmdletsToExport      = @(
        'Connect-Socket'
        'Disconnect-Socket'
        'Enter-SocketSession'
        'Get-SocketCertificate'
        'Get-SocketConnection'
        'Get-SocketHostName'
        'Get-SocketRelay'
        'Get-SocketServer'
        'Get-SocketTranscript'
        'Invoke-SocketRequest'
        'Protect-SocketConnection'
        'Receive-SocketData'
        'Receive-SocketServerOutput'
        'Resolve-SocketAddress'
        'Send-SocketData'
        'Start-SocketRelay'
        'Start-SocketProcess'
        'Start-SocketServer'
        'Start-SocketTranscript'
        'Stop-SocketRelay'
        'Stop-SocketServer'
        'Stop-SocketTranscript'
        'Test-SocketPort'
        'Wait-SocketConnection'
        'Wait-SocketData'
    )
    FunctionsToExport    = @()
    VariablesToExport    = @()
    AliasesToExport      = @()
    PrivateData          = @{
        PSData = @{
            # Gallery search terms; PSEdition_* and the OS names are the gallery's own filters.
            Tags         = @('Socket', 'TCP', 'UDP', 'TLS', 'SSL', 'StartTLS', 'UnixSocket', 'Netcat', 'Socat', 'PortScan', 'PortForward', 'Network', 'Networking', 'Linux', 'Windows', 'MacOS', 'PSEdition_Core', 'PSEdition_Desktop')
            ProjectUri   = 'https://github.com/SockPS/SockPS'
            LicenseUri   = 'https://github.com/SockPS/SockPS/blob/main/LICENSE'
            # What this version brings; replace the text with each new ModuleVersion.
            ReleaseNotes = @'
0.7.0: the first PowerShell Gallery package. Get-Help with examples for every cmdlet; Test-SocketPort (many host and port checks at once); Invoke-SocketRequest (connect, send, read the answer, close in one call); connection transcripts (Start-, Stop-, Get-SocketTranscript). Builds on TCP, UDP, Unix domain sockets, TLS and STARTTLS, bulk file transfers, handler servers, relays and select/expect waits.
'@
        }
    }
}
