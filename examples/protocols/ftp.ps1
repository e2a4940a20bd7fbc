<#
.SYNOPSIS
    FTP download by hand: logs in, switches to binary and passive mode, retrieves one file over
    the data connection the server opens, and returns an object describing the download.
.DESCRIPTION
    The control connection carries commands and three-digit replies; PASV makes the server
    listen on a second port (given as h1,h2,h3,h4,p1,p2) and RETR sends the file there. The
    file is written to -OutFile as it arrives; the object gives its length and SHA-256.
.EXAMPLE
    ./examples/protocols/ftp.ps1 -ComputerName ftp.example.org -RemotePath /pub/README -OutFile ./README
.EXAMPLE
    ./examples/protocols/ftp.ps1 -RemotePath data.bin -Credential (Get-Credential)
#>
param(
    [string] $ComputerName = 'localhost',
    # A port number or a service name: 'ftp' is 21.
    [string] $Port = 'ftp',
    [Parameter(Mandatory)] [string] $RemotePath,
    # Where to write the file; by default its name, in the current folder.
    [string] $OutFile = (Split-Path -Path $RemotePath -Leaf),
    # Anonymous login unless given.
    [pscredential] $Credential = [pscredential]::new('anonymous', (ConvertTo-SecureString 'sockps@' -AsPlainText -Force)),
    [double] $TimeoutSeconds = 10,
    # The module to import; by default an installed SockPS, else this repository's build.
    [string] $ModulePath
)

Set-StrictMode -Version Latest
$ErrorActionPreference = 'Stop'
if ($ModulePath) { Import-Module $ModulePath }
elseif (Get-Module -ListAvailable -Name SockPS) { Import-Module SockPS }
else { Import-Module (Join-Path $PSScriptRoot '../../out/SockPS/SockPS.psd1') }

function Invoke-FtpCommand {
    # Sends a command (none: just reads) and returns the reply; a multi-line reply ("150-...")
    # ends at the line with the same code and a space. Throws unless the code is -Expect.
    param([string] $Command, [int[]] $Expect)
    if ($Command) { Send-SocketData -Connection $control -InputObject $Command -Line }
    $text = Receive-SocketData -Connection $control -Line -TimeoutSeconds $TimeoutSeconds
    if ($text -match '^\d{3}-') {
        while (($line = Receive-SocketData -Connection $control -Line -TimeoutSeconds $TimeoutSeconds) -notmatch "^$($text.Substring(0, 3)) ") { $text += "`n$line" }
        $text += "`n$line"
    }
    if ([int]$text.Substring(0, 3) -notin $Expect) { throw "FTP server ${ComputerName}:$Port answered '$($Command -replace '^PASS .*', 'PASS ***')' with: $text" }
    $text
}

# FTP's control connection is a line protocol with CR LF line ends (-Crlf).
$control = Connect-Socket -ComputerName $ComputerName -Port $Port -Crlf -TimeoutSeconds $TimeoutSeconds
try {
    $null = Invoke-FtpCommand -Expect 220
    if ((Invoke-FtpCommand "USER $($Credential.UserName)" -Expect 230, 331) -like '331*') {
        $null = Invoke-FtpCommand "PASS $($Credential.GetNetworkCredential().Password)" -Expect 230
    }
    $null = Invoke-FtpCommand 'TYPE I' -Expect 200
    # 227 Entering Passive Mode (127,0,0,1,195,80): the data port is 195*256+80.
    $null = (Invoke-FtpCommand 'PASV' -Expect 227) -match '(\d+),(\d+),(\d+),(\d+),(\d+),(\d+)'
    $dataHost, $dataPort = ($Matches[1..4] -join '.'), ([int]$Matches[5] * 256 + [int]$Matches[6])
    $data = Connect-Socket -ComputerName $dataHost -Port $dataPort -TimeoutSeconds $TimeoutSeconds
    try {
        $null = Invoke-FtpCommand "RETR $RemotePath" -Expect 125, 150
        $OutFile = $ExecutionContext.SessionState.Path.GetUnresolvedProviderPathFromPSPath($OutFile)
        Receive-SocketData -Connection $data -OutFile $OutFile -TimeoutSeconds $TimeoutSeconds
    }
    finally {
        Disconnect-Socket -Connection $data
    }
    $null = Invoke-FtpCommand -Expect 226, 250
    $null = Invoke-FtpCommand 'QUIT' -Expect 221
}
finally {
    Disconnect-Socket -Connection $control
}

[pscustomobject]@{
    ComputerName = $ComputerName
    RemotePath   = $RemotePath
    DataEndPoint = "${dataHost}:$dataPort"
    OutFile      = $OutFile
    Length       = (Get-Item -LiteralPath $OutFile).Length
    Sha256       = (Get-FileHash -LiteralPath $OutFile -Algorithm SHA256).Hash
}
