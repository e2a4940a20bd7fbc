<#
.SYNOPSIS
    HTTP GET by hand: sends an HTTP/1.0 request and returns the response as an object, with the
    status, the headers (a dictionary, names case-insensitive) and the body.
.DESCRIPTION
    HTTP/1.0 keeps the answer simple: the server sends one response, not chunked, and closes the
    connection. The body is decoded as UTF-8 text; BodyBytes has it as it came.
.EXAMPLE
    ./examples/protocols/http.ps1 -ComputerName example.com -Path /
.EXAMPLE
    (./examples/protocols/http.ps1 -Port 8080).Headers['Content-Type']
#>
param(
    [string] $ComputerName = 'localhost',
    # A port number or a service name: 'http' is 80.
    [string] $Port = 'http',
    [string] $Path = '/',
    [double] $TimeoutSeconds = 10,
    # The module to import; by default an installed SockPS, else this repository's build.
    [string] $ModulePath
)

Set-StrictMode -Version Latest
$ErrorActionPreference = 'Stop'
if ($ModulePath) { Import-Module $ModulePath }
elseif (Get-Module -ListAvailable -Name SockPS) { Import-Module SockPS }
else { Import-Module (Join-Path $PSScriptRoot '../../out/SockPS/SockPS.psd1') }

# One line per item, each ended with CR LF (-Line -Crlf); the empty line ends the headers.
$request = "GET $Path HTTP/1.0", "Host: $ComputerName", 'User-Agent: SockPS', 'Accept: */*', ''
# The answer as bytes: the body need not be text. Ends when the server closes.
$answer = Invoke-SocketRequest -ComputerName $ComputerName -Port $Port -InputObject $request -Line -Crlf -AsByteArray -TimeoutSeconds $TimeoutSeconds

$latin1 = [System.Text.Encoding]::GetEncoding(28591)   # Latin-1: header bytes map one to one onto characters
$end = $latin1.GetString($answer).IndexOf("`r`n`r`n")
if ($end -lt 0) { throw "The answer from ${ComputerName}:$Port has no end of headers; it is not HTTP." }
$lines = $latin1.GetString($answer, 0, $end) -split "`r`n"
if ($lines[0] -notmatch '^(HTTP/\d\.\d) (\d{3}) ?(.*)$') { throw "Not an HTTP status line: $($lines[0])" }
$version, $status, $reason = $Matches[1], [int]$Matches[2], $Matches[3]

$headers = [System.Collections.Specialized.OrderedDictionary]::new([System.StringComparer]::OrdinalIgnoreCase)
foreach ($line in $lines | Select-Object -Skip 1) {
    $name, $value = $line -split ':\s*', 2
    # A repeated header (Set-Cookie) keeps every value.
    $headers[$name] = if ($headers.Contains($name)) { @($headers[$name]) + $value } else { $value }
}
$body = [byte[]]::new($answer.Length - $end - 4)
[System.Array]::Copy($answer, $end + 4, $body, 0, $body.Length)

[pscustomobject]@{
    StatusCode   = $status
    ReasonPhrase = $reason
    Version      = $version
    Headers      = $headers
    Body         = [System.Text.Encoding]::UTF8.GetString($body)
    BodyBytes    = $body
}
