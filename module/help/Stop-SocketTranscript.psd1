@{
    Examples = @(
        @{
            Title   = 'Keep a password out of the record'
            Code    = @'
$upper = Start-SocketServer -ScriptBlock {
    param($Connection)
    while ($null -ne ($line = $Connection.ReceiveLine())) { $Connection.SendLine($line.ToUpper()) }
}
$c = Connect-Socket -ComputerName localhost -Port $upper.Port
Start-SocketTranscript -Connection $c -Path ./login.jsonl
Send-SocketData -Connection $c -InputObject 'user admin' -Line
$null = Receive-SocketData -Connection $c -Line
Stop-SocketTranscript -Connection $c          # the password stays out of the record
Send-SocketData -Connection $c -InputObject 'pass secret' -Line
$null = Receive-SocketData -Connection $c -Line
Get-SocketTranscript -Path ./login.jsonl
$c.Transcript | Format-List Path, IsRecording, EntryCount, BytesSent, BytesReceived
'@
            Output  = @'
  Seq Time         Direction  Length Text
  --- ----         ---------  ------ ----
    1 19:59:36.426 Sent           11 user admin\n
    2 19:59:36.474 Received       11 USER ADMIN\n


Path          : /tmp/wt7r-ex/login.jsonl
IsRecording   : False
EntryCount    : 2
BytesSent     : 11
BytesReceived : 11
'@
            Remarks = @'
When Stop-SocketTranscript returns, the file holds every entry recorded before it, so it can be
read at once. The stopped transcript stays on the connection ($c.Transcript) and its entries stay
readable with Get-SocketTranscript -Connection until a new one starts.
'@
        }
        @{
            Title   = 'Stop every transcript, and see which connections were recorded'
            Code    = @'
$server = Start-SocketServer
$clients = 1..3 | ForEach-Object { Connect-Socket -ComputerName localhost -Port $server.Port }
$clients | Start-SocketTranscript
Get-SocketConnection | Stop-SocketTranscript -ErrorAction SilentlyContinue -PassThru
'@
            Output  = @'
   Id Name         Protocol   RemoteEndPoint       State            Sent Received
   -- ----         --------   --------------       -----            ---- --------
    2 Connection2  Tcp        127.0.0.1:39261      Open                0        0
    4 Connection4  Tcp        127.0.0.1:39261      Open                0        0
    6 Connection6  Tcp        127.0.0.1:39261      Open                0        0
'@
            Remarks = @'
Get-SocketConnection also lists the three accepted ends, which were not recorded: for them
Stop-SocketTranscript writes TranscriptNotStarted errors, silenced here. -PassThru outputs the
connections whose transcript it stopped.
'@
        }
    )
    Outputs = @{ 'SockPS.Core.SocketConnection' = 'With -PassThru, each connection whose transcript was stopped.' }
    Notes = @('Disconnect-Socket (and any other way a connection closes) stops its transcript too, waiting up to 10 seconds for the file to catch up.')
    Links = @('Start-SocketTranscript', 'Get-SocketTranscript', 'about_SockPS')
}
