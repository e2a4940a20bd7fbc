<#
.SYNOPSIS
    A DNS query over UDP by hand: builds the query as bytes (RFC 1035), sends it as one datagram
    and returns the answer's A or AAAA records as objects (Name, Type, TimeToLive, Address).
.DESCRIPTION
    Names in an answer are usually compressed: a length byte of 0xC0 or more starts a two-byte
    pointer to a name earlier in the message.
.EXAMPLE
    ./examples/protocols/dns.ps1 -Name example.com -ComputerName 9.9.9.9
.EXAMPLE
    ./examples/protocols/dns.ps1 -Name localhost -Type AAAA -ComputerName 127.0.0.53
#>
param(
    [Parameter(Mandatory)] [string] $Name,
    [ValidateSet('A', 'AAAA')] [string] $Type = 'A',
    # The DNS server.
    [string] $ComputerName = '127.0.0.1',
    # A port number or a service name: 'dns' is 53 (/etc/services spells it 'domain').
    [string] $Port = 'dns',
    [double] $TimeoutSeconds = 5,
    # The module to import; by default an installed SockPS, else this repository's build.
    [string] $ModulePath
)

Set-StrictMode -Version Latest
$ErrorActionPreference = 'Stop'
if ($ModulePath) { Import-Module $ModulePath }
elseif (Get-Module -ListAvailable -Name SockPS) { Import-Module SockPS }
else { Import-Module (Join-Path $PSScriptRoot '../../out/SockPS/SockPS.psd1') }

$typeCode = @{ A = 1; AAAA = 28 }[$Type]
$id = Get-Random -Minimum 0 -Maximum 65536
# The query is built in a List[byte]. (A mixed array such as [byte[]](1, 2) + 3 would do too:
# among bytes, SockPS sends whole numbers as bytes, and refuses one outside 0-255.)
$query = [System.Collections.Generic.List[byte]]::new()
$query.AddRange([byte[]](($id -shr 8), ($id -band 0xFF), 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0)) # ID, RD, 1 question
foreach ($label in $Name.TrimEnd('.').Split('.')) {
    $query.Add($label.Length); $query.AddRange([System.Text.Encoding]::ASCII.GetBytes($label))
}
$query.AddRange([byte[]](0, 0, $typeCode, 0, 1))                                            # root, QTYPE, QCLASS IN

$answer = Invoke-SocketRequest -ComputerName $ComputerName -Port $Port -Protocol Udp -InputObject $query.ToArray() -AsByteArray -TimeoutSeconds $TimeoutSeconds

function Read-UInt16([int] $At) { $answer[$At] * 256 + $answer[$At + 1] }
function Skip-Name([int] $At) {
    # Returns the offset after the name at $At (labels, ending in a zero byte or a pointer).
    while ($answer[$At] -ne 0) { if ($answer[$At] -ge 0xC0) { return $At + 2 }; $At += $answer[$At] + 1 }
    $At + 1
}
function Read-Name([int] $At) {
    $labels = while ($answer[$At] -ne 0) {
        if ($answer[$At] -ge 0xC0) { $At = (Read-UInt16 $At) -band 0x3FFF; continue }
        [System.Text.Encoding]::ASCII.GetString($answer, $At + 1, $answer[$At]); $At += $answer[$At] + 1
    }
    $labels -join '.'
}

if ((Read-UInt16 0) -ne $id) { throw "The answer from ${ComputerName}:$Port is not for this query (ID $(Read-UInt16 0), expected $id)." }
$rcode = $answer[3] -band 0x0F
if ($rcode -ne 0) { throw "${ComputerName}:$Port answered $Name with error code $rcode ($(@('NOERROR', 'FORMERR', 'SERVFAIL', 'NXDOMAIN', 'NOTIMP', 'REFUSED')[$rcode]))." }
$at = (Skip-Name 12) + 4                                                      # past the question
for ($record = 0; $record -lt (Read-UInt16 6); $record++) {                   # ANCOUNT records
    $fixed = Skip-Name $at                                                    # TYPE CLASS TTL RDLENGTH RDATA
    $length = Read-UInt16 ($fixed + 8)
    if ((Read-UInt16 $fixed) -eq $typeCode) {
        $address = [byte[]]::new($length)
        [System.Array]::Copy($answer, $fixed + 10, $address, 0, $length)
        [pscustomobject]@{
            Name       = Read-Name $at
            Type       = $Type
            TimeToLive = [long](Read-UInt16 ($fixed + 4)) * 65536 + (Read-UInt16 ($fixed + 6))
            Address    = [System.Net.IPAddress]::new($address)
        }
    }
    $at = $fixed + 10 + $length
}
