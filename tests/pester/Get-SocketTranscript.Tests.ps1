#Requires -Version 7.4
# Get-SocketTranscript: the recorded sends and receives of a connection, exact to the byte
# (checked against what python3 says it sent and received), and the shapes they take through
# Format-Hex, Export-Csv / Import-Csv and ConvertTo-Json / ConvertFrom-Json; transcript files read
# back with -Path.

BeforeAll {
    Import-Module $env:SOCKPS_MODULE_PATH -Force
    Import-Module "$PSScriptRoot/SockPS.TestHelpers.psm1" -Force

    if (-not (Get-Command -Name python3 -CommandType Application -ErrorAction SilentlyContinue)) {
        throw 'python3 is not installed; .ci/run installs it (apt-get install python3).'
    }

    # A TCP server that sends argv[1] random bytes in uneven pieces (from a thread) while it
    # reads everything the client sends until end of stream, then prints the SHA-256 of both.
    $exchangeServer = @'
import hashlib, os, random, socket, sys, threading
size = int(sys.argv[1])
srv = socket.socket()
srv.settimeout(30)
srv.bind(('127.0.0.1', 0))
srv.listen(1)
print('port', srv.getsockname()[1], flush=True)
conn, _ = srv.accept()
conn.settimeout(30)
data = os.urandom(size)
def send():
    pieces, at = random.Random(7), 0
    while at < len(data):
        n = pieces.randint(1, 70000)
        conn.sendall(data[at:at + n])
        at += n
    conn.shutdown(socket.SHUT_WR)
sender = threading.Thread(target=send)
sender.start()
got = hashlib.sha256()
while True:
    block = conn.recv(65536)
    if not block:
        break
    got.update(block)
sender.join()
print('sent', hashlib.sha256(data).hexdigest().upper(), flush=True)
print('received', got.hexdigest().upper(), flush=True)
conn.close()
'@

    # A UDP server that answers argv[1] datagrams with the same bytes reversed.
    $udpReverser = @'
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(30)
s.bind(('127.0.0.1', 0))
print('port', s.getsockname()[1], flush=True)
for _ in range(int(sys.argv[1])):
    data, addr = s.recvfrom(65535)
    s.sendto(data[::-1], addr)
'@

    # The bytes of the entries that went one way, joined.
    function Join-TranscriptData([object[]] $Entries, [string] $Direction) {
        $joined = [System.IO.MemoryStream]::new()
        foreach ($entry in $Entries | Where-Object Direction -EQ $Direction) {
            $joined.Write($entry.Data, 0, $entry.Length)
        }
        , $joined.ToArray()
    }

    function New-Pair {
        $server = Start-SocketServer
        $client = Connect-Socket -ComputerName 127.0.0.1 -Port $server.Port
        $accepted = Wait-SocketConnection -Server $server -TimeoutSeconds 20
        [pscustomobject]@{ Client = $client; Accepted = $accepted }
    }
}

AfterAll {
    Stop-TestProcess -All
}

Describe 'Get-SocketTranscript' {
    BeforeEach {
        $peer = $null
    }

    AfterEach {
        Stop-TestProcess -Process $peer
        Get-SocketConnection | Disconnect-Socket
        Get-SocketServer | Stop-SocketServer
    }

    Context 'exactness' {
        It 'records every byte each way over TCP, in order: SHA-256 of Sent and Received match what python3 received and sent' {
            $peer = Start-TestProcess -FilePath 'python3' -ArgumentList '-c', $exchangeServer, (2MB + 3)
            $port = [int](Wait-TestProcessLine -Process $peer -Pattern '^port (\d+)$').Groups[1].Value
            $path = Join-Path -Path $TestDrive -ChildPath 'exact.jsonl'
            $upload = New-TestRandomBytes -Count (3MB + 11) -Seed 41

            $connection = Connect-Socket -ComputerName 127.0.0.1 -Port $port -TranscriptPath $path
            $random = [System.Random]::new(3)
            $sends = 0
            for ($at = 0; $at -lt $upload.Length; $at += $count) {
                $count = [Math]::Min($random.Next(1, 100KB), $upload.Length - $at)
                Send-SocketData -Connection $connection -InputObject ([System.ArraySegment[byte]]::new($upload, $at, $count).ToArray())
                $sends++
            }
            Disconnect-Socket -Connection $connection -Shutdown Send
            $download = Receive-SocketData -Connection $connection -ToEnd -AsByteArray -TimeoutSeconds 30
            Disconnect-Socket -Connection $connection

            $pythonSent = (Wait-TestProcessLine -Process $peer -Pattern '^sent (\w+)$').Groups[1].Value
            $pythonReceived = (Wait-TestProcessLine -Process $peer -Pattern '^received (\w+)$').Groups[1].Value
            $pythonReceived | Should -Be (Get-TestSha256 -Bytes $upload)
            Get-TestSha256 -Bytes $download | Should -Be $pythonSent

            foreach ($entries in @(Get-SocketTranscript -Connection $connection), @(Get-SocketTranscript -Path $path)) {
                Get-TestSha256 -Bytes (Join-TranscriptData $entries 'Sent') | Should -Be $pythonReceived
                Get-TestSha256 -Bytes (Join-TranscriptData $entries 'Received') | Should -Be $pythonSent
                $entries.Sequence | Should -Be (1..$entries.Count)
                # One entry per send, however TCP cut the stream on the way.
                @($entries | Where-Object Direction -EQ 'Sent').Count | Should -Be $sends
            }
            @(Get-SocketTranscript -Connection $connection -Direction Sent).Count | Should -Be $sends
        }

        It 'records each UDP datagram as one entry, both ways' {
            $peer = Start-TestProcess -FilePath 'python3' -ArgumentList '-c', $udpReverser, '3'
            $port = [int](Wait-TestProcessLine -Process $peer -Pattern '^port (\d+)$').Groups[1].Value
            $connection = Connect-Socket -Uri "udp://127.0.0.1:$port"
            Start-SocketTranscript -Connection $connection
            $datagrams = [byte[]](1), (New-TestRandomBytes -Count 1000 -Seed 1), (New-TestRandomBytes -Count 60000 -Seed 2)

            foreach ($datagram in $datagrams) {
                Send-SocketData -Connection $connection -InputObject $datagram
                $null = Receive-SocketData -Connection $connection -TimeoutSeconds 20
            }

            $entries = Get-SocketTranscript -Connection $connection
            $entries.Direction | Should -Be @('Sent', 'Received', 'Sent', 'Received', 'Sent', 'Received')
            $entries | ForEach-Object Length | Should -Be @(1, 1, 1000, 1000, 60000, 60000)
            for ($i = 0; $i -lt 3; $i++) {
                $entries[2 * $i].Data | Should -Be $datagrams[$i]
                [array]::Reverse($entries[2 * $i + 1].Data)
                $entries[2 * $i + 1].Data | Should -Be $datagrams[$i]
            }
        }
    }

    Context 'shapes for other cmdlets' {
        BeforeEach {
            $pair = New-Pair
            Start-SocketTranscript -Connection $pair.Client
            Send-SocketData -Connection $pair.Client -InputObject ([byte[]](0..255))
            $null = Receive-SocketData -Connection $pair.Accepted -ByteCount 256 -TimeoutSeconds 20
            Send-SocketData -Connection $pair.Accepted -InputObject "héllo`r`n"
            Receive-SocketData -Connection $pair.Client -Line -TimeoutSeconds 20 | Should -BeExactly 'héllo'
            $entries = Get-SocketTranscript -Connection $pair.Client
        }

        It 'gives the bytes to Format-Hex: ForEach-Object Data | Format-Hex dumps them, in order' {
            $dump = $entries | ForEach-Object Data | Format-Hex

            $dumped = [byte[]]($dump | ForEach-Object Bytes)
            $dumped | Should -Be ([byte[]]((0..255) + [System.Text.Encoding]::UTF8.GetBytes("héllo`r`n")))
            # One entry on its own: -InputObject takes the byte array whole.
            $one = Format-Hex -InputObject $entries[1].Data
            [byte[]]($one | ForEach-Object Bytes) | Should -Be ([System.Text.Encoding]::UTF8.GetBytes("héllo`r`n"))
        }

        It 'survives Export-Csv and Import-Csv: Base64 gives the exact bytes back, Direction and Length stay readable' {
            $csv = Join-Path -Path $TestDrive -ChildPath 'transcript.csv'

            $entries | Export-Csv -Path $csv
            $rows = Import-Csv -Path $csv

            $rows.Count | Should -Be 2
            (Get-Content -Path $csv -TotalCount 1) | Should -BeExactly '"Sequence","Timestamp","Direction","Length","Text","Base64","ConnectionId","LocalEndPoint","RemoteEndPoint","MachineName","EscapedText","Data"'
            for ($i = 0; $i -lt 2; $i++) {
                [System.Convert]::FromBase64String($rows[$i].Base64) | Should -Be $entries[$i].Data
                $rows[$i].Direction | Should -BeExactly $entries[$i].Direction
                [int]$rows[$i].Length | Should -Be $entries[$i].Length
                [int]$rows[$i].Sequence | Should -Be $entries[$i].Sequence
                $rows[$i].RemoteEndPoint | Should -Be "$($pair.Client.RemoteEndPoint)"
            }
            $rows[1].Text | Should -BeExactly "héllo`r`n"
        }

        It 'survives ConvertTo-Json and ConvertFrom-Json: Direction as a word, Data as bytes, Timestamp as a date' {
            $json = $entries | ConvertTo-Json -WarningAction Stop

            $back = $json | ConvertFrom-Json

            $back.Count | Should -Be 2
            $back[0].Direction | Should -BeExactly 'Sent'
            $back[1].Direction | Should -BeExactly 'Received'
            [byte[]]$back[0].Data | Should -Be ([byte[]](0..255))
            [System.Convert]::FromBase64String($back[1].Base64) | Should -Be $entries[1].Data
            ([datetime]$back[1].Timestamp).ToUniversalTime() | Should -Be $entries[1].Timestamp.ToUniversalTime()
            $back[1].ConnectionId | Should -Be $pair.Client.Id
        }

        It 'shows a table with line ends made visible' {
            $table = $entries | Format-Table | Out-String -Width 120

            $table | Should -Match '(?m)^\s*1 \d\d:\d\d:\d\d\.\d{3} Sent\s+256 '
            $table | Should -Match '(?m)^\s*2 \d\d:\d\d:\d\d\.\d{3} Received\s+8 héllo\\r\\n\s*$'
        }
    }

    Context 'files' {
        It 'reads every file a wildcard matches, and warns about lines that are not transcript lines' {
            $pair = New-Pair
            $first = Join-Path -Path $TestDrive -ChildPath 'files-a.jsonl'
            $second = Join-Path -Path $TestDrive -ChildPath 'files-b.jsonl'
            Start-SocketTranscript -Connection $pair.Client -Path $first
            Start-SocketTranscript -Connection $pair.Accepted -Path $second
            Send-SocketData -Connection $pair.Client -InputObject 'to accepted' -Line
            Receive-SocketData -Connection $pair.Accepted -Line -TimeoutSeconds 20 | Should -BeExactly 'to accepted'
            Stop-SocketTranscript -Connection $pair.Client, $pair.Accepted
            Add-Content -Path $second -Value 'this is not a transcript line'

            $entries = Get-SocketTranscript -Path (Join-Path -Path $TestDrive -ChildPath 'files-?.jsonl') -WarningVariable warnings -WarningAction SilentlyContinue

            $entries.Count | Should -Be 2
            ($entries | Where-Object ConnectionId -EQ $pair.Client.Id).Direction | Should -Be 'Sent'
            ($entries | Where-Object ConnectionId -EQ $pair.Accepted.Id).Direction | Should -Be 'Received'
            $entries.Text | Should -Be @("to accepted`n", "to accepted`n")
            $warnings.Count | Should -Be 1
            "$($warnings[0])" | Should -Match 'Skipped line 3 of .*files-b\.jsonl'
        }
    }
}
