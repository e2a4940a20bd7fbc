@{
    Description = @(
        'Bytes the connection had already read from the socket before the transcript started are not in it: to record from the very first byte, give -TranscriptPath to Connect-Socket, Invoke-SocketRequest or Start-SocketServer instead. A transcript file is never truncated; each recording adds a header line for its connection, and each entry line names its connection, so one file can hold many connections (and one process writes it through one writer).'
    )
    Examples = @(
        @{
            Title   = 'Record a conversation in memory and look at it'
            Code    = @'
# A stand-in service that answers every line in capitals.
$upper = Start-SocketServer -ScriptBlock {
    param($Connection)
    while ($null -ne ($line = $Connection.ReceiveLine())) { $Connection.SendLine($line.ToUpper()) }
}
$c = Connect-Socket -ComputerName localhost -Port $upper.Port
Start-SocketTranscript -Connection $c
Send-SocketData -Connection $c -InputObject 'hello', 'wörld' -Line
Receive-SocketData -Connection $c -Line -Continuous | Select-Object -First 2
Get-SocketTranscript -Connection $c
'@
            Output  = @'
HELLO
WÖRLD

  Seq Time         Direction  Length Text
  --- ----         ---------  ------ ----
    1 19:58:25.125 Sent            6 hello\n
    2 19:58:25.125 Sent            7 wörld\n
    3 19:58:25.157 Received       13 HELLO\nWÖRLD\n
'@
            Remarks = @'
Each send is one entry; each network read is one entry, so the two answers that arrived together
are one Received entry of 13 bytes. The table shows line ends as \n; Text is decoded with the
connection's encoding, and Data holds the exact bytes.
'@
        }
        @{
            Title   = 'Start recording into a file after the login'
            Code    = @'
$c = Connect-Socket -ComputerName localhost -Port $upper.Port
Send-SocketData -Connection $c -InputObject 'login admin' -Line
$null = Receive-SocketData -Connection $c -Line
Start-SocketTranscript -Connection $c -Path ./after-login.jsonl
Send-SocketData -Connection $c -InputObject 'status' -Line
Receive-SocketData -Connection $c -Line
Disconnect-Socket -Connection $c
Get-SocketTranscript -Path ./after-login.jsonl | Select-Object Sequence, Direction, Length, Text
'@
            Output  = @'
STATUS

Sequence Direction Length Text
-------- --------- ------ ----
       1 Sent           7 status…
       2 Received       7 STATUS…
'@
            Remarks = @'
With $upper the server of the first example. What was said before Start-SocketTranscript is not in
the record; -Path appends every entry to a JSON-lines file, which Disconnect-Socket completes, so
Get-SocketTranscript -Path reads it back at once. Text ends in a line feed, which the table shows
as an ellipsis.
'@
        }
        @{
            Title   = 'Record from the first byte into a file (Connect-Socket -TranscriptPath)'
            Code    = @'
# A stand-in for a mail server: a greeting on connect, then an answer per line.
$smtp = Start-SocketServer -ScriptBlock {
    param($Connection)
    $Connection.SendLine('220 mail ready')
    while ($null -ne ($line = $Connection.ReceiveLine())) { $Connection.SendLine("250 ok: $line") }
}

$c = Connect-Socket -ComputerName localhost -Port $smtp.Port -TranscriptPath ./smtp.jsonl
Receive-SocketData -Connection $c -Line
Send-SocketData -Connection $c -InputObject 'HELO me' -Line
Receive-SocketData -Connection $c -Line
Disconnect-Socket -Connection $c
Get-SocketTranscript -Path ./smtp.jsonl
'@
            Output  = @'
220 mail ready
250 ok: HELO me

  Seq Time         Direction  Length Text
  --- ----         ---------  ------ ----
    1 19:59:31.460 Received       15 220 mail ready\n
    2 19:59:31.489 Sent            8 HELO me\n
    3 19:59:31.493 Received       16 250 ok: HELO me\n
'@
            Remarks = @'
The greeting arrives the moment the connection is made, before Start-SocketTranscript could run;
-TranscriptPath on Connect-Socket starts the record before anything is read. Disconnect-Socket
ends the transcript and waits until the file holds every entry.
'@
        }
        @{
            Title   = 'Record every client of a server into one file'
            Code    = @'
$server = Start-SocketServer -TranscriptPath ./server.jsonl -ScriptBlock {
    param($Connection)
    while ($null -ne ($line = $Connection.ReceiveLine())) { $Connection.SendLine("you said $line") }
}
1..2 | ForEach-Object { Invoke-SocketRequest -ComputerName localhost -Port $server.Port -InputObject "hi $_" -Line }
Stop-SocketServer -Server $server
Get-SocketTranscript -Path ./server.jsonl | Format-Table ConnectionId, RemoteEndPoint, Direction, @{ Name = 'Text'; Expression = { $_.Text.TrimEnd() } }
'@
            Output  = @'
you said hi 1
you said hi 2

ConnectionId RemoteEndPoint  Direction Text
------------ --------------  --------- ----
           2 127.0.0.1:34432 Received  hi 1
           2 127.0.0.1:34432 Sent      you said hi 1
           4 127.0.0.1:34444 Received  hi 2
           4 127.0.0.1:34444 Sent      you said hi 2
'@
            Remarks = @'
Start-SocketServer -TranscriptPath records each accepted connection from its first byte. To
record connections that already exist, pipe them in: Get-SocketConnection | Start-SocketTranscript -Path ./all.jsonl.
'@
        }
    )
    Outputs = @{ 'SockPS.Core.SocketConnection' = 'With -PassThru, the connection; its Transcript property shows the path, whether it still records, and the counts.' }
    Notes = @(
        'Memory keeps the newest 10,000 entries and at most 16 MiB of data per connection; older entries are dropped from memory and counted in $connection.Transcript.DroppedCount. A file keeps everything.'
        'The file is written by a background writer. When the disk falls more than 32 MiB behind, sends and receives on the connection wait for it, so memory stays bounded and the file stays exact.'
        'On a TLS connection the transcript holds the plain text, not the encrypted records.'
    )
    Links = @('Stop-SocketTranscript', 'Get-SocketTranscript', 'Connect-Socket', 'about_SockPS')
}
