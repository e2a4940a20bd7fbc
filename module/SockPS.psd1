@{
    RootModule           = 'SockPS.dll'
    ModuleVersion        = '0.1.0'
    CompatiblePSEditions = @('Desktop', 'Core')
    GUID                 = 'b8f3c1d2-5e4a-4f7b-9c61-2d8e0a7f4b13'
    Author               = 'SockPS contributors'
    CompanyName          = 'SockPS contributors'
    Copyright            = '(c) SockPS contributors. MIT License.'
    Description          = 'Sockets as PowerShell objects: connect, listen, accept, send and receive over TCP, TLS, UDP and Unix domain sockets, with every step returning a live object for the next cmdlet. What netcat, socat and Python''s socket module give other shells.'
    PowerShellVersion    = '5.1'
    FormatsToProcess     = @('SockPS.Format.ps1xml')
    CmdletsToExport      = @(
        'Connect-Socket'
        'Disconnect-Socket'
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
        'Start-SocketServer'
        'Start-SocketTranscript'
        'Stop-SocketRelay'
        'Stop-SocketServer'
        'Stop-SocketTranscript'
        'Wait-SocketConnection'
        'Wait-SocketData'
    )
    FunctionsToExport    = @()
    VariablesToExport    = @()
    AliasesToExport      = @()
    PrivateData          = @{
        PSData = @{
            Tags       = @('socket', 'tcp', 'tls', 'starttls', 'udp', 'unix-socket', 'netcat', 'socat', 'network', 'PSEdition_Core', 'PSEdition_Desktop', 'Linux', 'MacOS', 'Windows')
        }
    }
}
