<#
.SYNOPSIS
    Reads a Usenet article by hand (NNTP): MODE READER, GROUP, ARTICLE, and returns the article
    as an object with its headers (a dictionary) and body.
.DESCRIPTION
    Without -ArticleNumber the newest article of the group is read. Multi-line answers end with
    a line holding a single dot; a line of the article that starts with a dot comes with a
    second dot in front (dot-stuffing), which is removed.
.EXAMPLE
    ./examples/protocols/nntp.ps1 -ComputerName news.example.org -Group comp.lang.c
.EXAMPLE
    ./examples/protocols/nntp.ps1 -Group local.test -ArticleNumber 1 | Select-Object Number, Subject
#>
param(
    [string] $ComputerName = 'localhost',
    # A port number or a service name: 'nntp' is 119.
    [string] $Port = 'nntp',
    [Parameter(Mandatory)] [string] $Group,
    [long] $ArticleNumber,
    [double] $TimeoutSeconds = 10,
    # The module to import; by default an installed SockPS, else this repository's build.
    [string] $ModulePath
)

Set-StrictMode -Version Latest
$ErrorActionPreference = 'Stop'
if ($ModulePath) { Import-Module $ModulePath }
elseif (Get-Module -ListAvailable -Name SockPS) { Import-Module SockPS }
else { Import-Module (Join-Path $PSScriptRoot '../../out/SockPS/SockPS.psd1') }

function Invoke-NntpCommand {
    # Sends a command (none: just reads the greeting); returns the status line, or throws
    # unless its code is -Expect.
    param([string] $Command, [int[]] $Expect)
    if ($Command) { Send-SocketData -Connection $nntp -InputObject $Command -Line }
    $status = Receive-SocketData -Connection $nntp -Line -TimeoutSeconds $TimeoutSeconds
    if ([int]$status.Substring(0, 3) -notin $Expect) { throw "NNTP server ${ComputerName}:$Port answered '$Command' with: $status" }
    $status
}

# NNTP is a line protocol with CR LF line ends (-Crlf).
$nntp = Connect-Socket -ComputerName $ComputerName -Port $Port -Crlf -TimeoutSeconds $TimeoutSeconds
try {
    $null = Invoke-NntpCommand -Expect 200, 201          # 200: posting allowed, 201: not
    $null = Invoke-NntpCommand 'MODE READER' -Expect 200, 201
    # 211 <count> <first> <last> <group>
    $count, $null, $last = (Invoke-NntpCommand "GROUP $Group" -Expect 211).Split(' ')[1..3]
    if (-not $ArticleNumber) { $ArticleNumber = $last }
    # 220 <number> <message-id>
    $messageId = (Invoke-NntpCommand "ARTICLE $ArticleNumber" -Expect 220).Split(' ')[2]
    $lines = [System.Collections.Generic.List[string]]::new()
    while (($line = Receive-SocketData -Connection $nntp -Line -TimeoutSeconds $TimeoutSeconds) -ne '.') {
        $lines.Add($(if ($line.StartsWith('..')) { $line.Substring(1) } else { $line }))
    }
    $null = Invoke-NntpCommand 'QUIT' -Expect 205
}
finally {
    Disconnect-Socket -Connection $nntp
}

$blank = $lines.IndexOf('')
if ($blank -lt 0) { $blank = $lines.Count }
$headers = [System.Collections.Specialized.OrderedDictionary]::new([System.StringComparer]::OrdinalIgnoreCase)
$name = $null
foreach ($line in $lines.GetRange(0, $blank)) {
    if ($line -match '^\s' -and $name) { $headers[$name] += " $($line.Trim())"; continue }   # folded header
    $name, $value = $line -split ':\s*', 2
    $headers[$name] = $value
}

[pscustomobject]@{
    Group        = $Group
    GroupCount   = [long]$count
    Number       = [long]$ArticleNumber
    MessageId    = $messageId
    Subject      = $headers['Subject']
    From         = $headers['From']
    Headers      = $headers
    Body         = $lines.GetRange([math]::Min($blank + 1, $lines.Count), [math]::Max($lines.Count - $blank - 1, 0)) -join "`n"
}
