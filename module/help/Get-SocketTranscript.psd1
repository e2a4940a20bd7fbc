@{
    Examples = @(
        @{
            Title   = 'A hex dump of what the server sent'
            Code    = @'
$upper = Start-SocketServer -ScriptBlock {
    param($Connection)
    while ($null -ne ($line = $Connection.ReceiveLine())) { $Connection.SendLine($line.ToUpper()) }
}
$c = Connect-Socket -ComputerName localhost -Port $upper.Port
Start-SocketTranscript -Connection $c
Send-SocketData -Connection $c -InputObject 'hello', 'wörld' -Line
$null = Receive-SocketData -Connection $c -Line -Continuous | Select-Object -First 2
Get-SocketTranscript -Connection $c -Direction Received | ForEach-Object Data | Format-Hex
'@
            Output  = @'
   Label: Byte (System.Byte) <0AF1BFBA>

          Offset Bytes                                           Ascii
                 00 01 02 03 04 05 06 07 08 09 0A 0B 0C 0D 0E 0F
          ------ ----------------------------------------------- -----
0000000000000000 48 45 4C 4C 4F 0A 57 C3 96 52 4C 44 0A          HELLO�WÃ�RLD�
'@
            Remarks = @'
Format-Hex takes bytes, strings and numbers, not other objects: give it the entries' Data.
ForEach-Object Data passes the bytes of every entry, in order, so the dump is the whole received
stream; for one entry, Format-Hex -InputObject $entry.Data.
'@
        }
        @{
            Title   = 'Read a transcript file back'
            Code    = @'
# $upper: the service of the first example.
Invoke-SocketRequest -ComputerName localhost -Port $upper.Port -InputObject 'stats' -Line -Until '\n' -TranscriptPath ./stats.jsonl
Get-Content -Path ./stats.jsonl
Get-SocketTranscript -Path ./stats.jsonl | Format-List Sequence, Timestamp, Direction, Length, Text, Base64, ConnectionId, LocalEndPoint, RemoteEndPoint
'@
            Output  = @'
STATS
{"SockPSTranscript":1,"ConnectionId":4,"Transport":"Tcp","LocalEndPoint":"127.0.0.1:45358","RemoteEndPoint":"127.0.0.1:37305","Encoding":"utf-8","CodePage":65001,"Started":"2026-11-25T20:01:41.6068910+00:00"}
{"ConnectionId":4,"Sequence":1,"Timestamp":"2026-11-25T20:01:41.6206853+00:00","Direction":"Sent","Length":6,"Data":"c3RhdHMK"}
{"ConnectionId":4,"Sequence":2,"Timestamp":"2026-11-25T20:01:41.6328520+00:00","Direction":"Received","Length":6,"Data":"U1RBVFMK"}

Sequence       : 1
Timestamp      : 11/25/2026 20:01:41
Direction      : Sent
Length         : 6
Text           : stats

Base64         : c3RhdHMK
ConnectionId   : 4
LocalEndPoint  : 127.0.0.1:45358
RemoteEndPoint : 127.0.0.1:37305

Sequence       : 2
Timestamp      : 11/25/2026 20:01:41
Direction      : Received
Length         : 6
Text           : STATS

Base64         : U1RBVFMK
ConnectionId   : 4
LocalEndPoint  : 127.0.0.1:45358
RemoteEndPoint : 127.0.0.1:37305
'@
            Remarks = @'
The file is JSON lines: a header line per recorded connection (its endpoints and encoding), then
one line per entry with the time (ISO 8601), the direction and the bytes as Base64. It is
appended to, never rewritten, so a crash loses at most the line being written; lines that are
not transcript lines are skipped with a warning. Get-Content | ConvertFrom-Json reads it too.
'@
        }
        @{
            Title   = 'Export to CSV and JSON, and get the exact bytes back'
            Code    = @'
# $upper: the service of the first example.
$c = Connect-Socket -ComputerName localhost -Port $upper.Port
Start-SocketTranscript -Connection $c
Send-SocketData -Connection $c -InputObject 'ping' -Line
$null = Receive-SocketData -Connection $c -Line
Get-SocketTranscript -Connection $c | Export-Csv -Path ./session.csv
Import-Csv -Path ./session.csv | Select-Object Sequence, Direction, Length, Base64
Import-Csv -Path ./session.csv | ForEach-Object { [Text.Encoding]::UTF8.GetString([Convert]::FromBase64String($_.Base64)) }
Get-SocketTranscript -Connection $c | Select-Object -First 1 | ConvertTo-Json
'@
            Output  = @'
Sequence Direction Length Base64
-------- --------- ------ ------
1        Sent      5      cGluZwo=
2        Received  5      UElORwo=

ping
PING
{
  "Sequence": 1,
  "Timestamp": "2026-11-25T20:01:41.6860696+00:00",
  "Direction": "Sent",
  "Length": 5,
  "Text": "ping\n",
  "Base64": "cGluZwo=",
  "ConnectionId": 6,
  "LocalEndPoint": "127.0.0.1:45366",
  "RemoteEndPoint": "127.0.0.1:37305",
  "Data": [
    112,
    105,
    110,
    103,
    10
  ]
}
'@
            Remarks = @'
Every property is a plain value, so Export-Csv and ConvertTo-Json need no -Depth. In CSV the
bytes travel as Base64 ([Convert]::FromBase64String gives them back; the Data column only says
System.Byte[]), and Timestamp is written to the second, as PowerShell writes every date; Sequence
keeps the order. ConvertTo-Json keeps the full time and writes Data as numbers.
'@
        }
    )
    Outputs = @{ 'SockPS.Core.SocketTranscriptEntry' = 'One send or one network read (one datagram on a datagram socket): Sequence, Timestamp, Direction (Sent or Received), Length, Text, Base64, ConnectionId, LocalEndPoint, RemoteEndPoint (on a datagram socket with no one peer: that datagram''s sender or recipient) and Data.' }
    Notes = @('With -Connection, the entries kept in memory: the newest 10,000, at most 16 MiB. When older ones were dropped a warning says how many and where the full record is.')
    Links = @('Start-SocketTranscript', 'Stop-SocketTranscript', 'Format-Hex', 'about_SockPS')
}
