@{
    Examples = @(
        @{
            Title   = 'Collect what the handlers wrote'
            Code    = @'
$greeter = Start-SocketServer -Name greeter -ScriptBlock {
    param($Connection)
    $name = $Connection.ReceiveLine()
    [pscustomobject]@{ Name = $name; At = Get-Date -Format T }    # for the server's log
    $Connection.SendLine("Hello, $name")
}

'Ada', 'Grace' | ForEach-Object {
    $c = Connect-Socket -ComputerName localhost -Port $greeter.Port
    Send-SocketData -Connection $c -InputObject $_ -Line -PassThru | Receive-SocketData -Line
}
Receive-SocketServerOutput -Server $greeter
'@
            Output  = @'
Hello, Ada
Hello, Grace
Name  At         SocketConnection
----  --         ----------------
Ada   7:21:40 PM Tcp 127.0.0.1:35949 -> 127.0.0.1:48610 (Disconnected)
Grace 7:21:40 PM Tcp 127.0.0.1:35949 -> 127.0.0.1:48618 (Disconnected)
'@
            Remarks = @'
A handler's output cannot reach the session that started the server (it runs in another
runspace), so the server keeps it. Receive-SocketServerOutput returns it oldest first, and each
object gets a SocketConnection note property naming the connection it came from. The records are
taken: a second call returns only what was written since.
'@
        }
        @{
            Title   = 'See why a handler failed'
            Code    = @'
$greeter = Start-SocketServer -Name greeter -ScriptBlock {
    param($Connection)
    $line = $Connection.ReceiveLine()
    if ($line -notmatch '^HELLO (\w+)$') { throw "Unexpected greeting: '$line'" }
    $Connection.SendLine("Hello, $($Matches[1])")
}
$c = Connect-Socket -ComputerName localhost -Port $greeter.Port
Send-SocketData -Connection $c -InputObject 'GET / HTTP/1.0' -Line
Receive-SocketData -Connection $c -Line     # nothing: the handler threw and hung up
$greeter.Handlers.Failed

Receive-SocketServerOutput -Server $greeter -ErrorVariable failures
$failures[0].FullyQualifiedErrorId
$failures[0].TargetObject
'@
            Output  = @'
1
Exception: Handler for connection 2 (127.0.0.1:46366): Unexpected greeting: 'GET / HTTP/1.0'
HandlerError,SockPS.Commands.ReceiveSocketServerOutputCommand
   Id Name         Protocol   RemoteEndPoint       State            Sent Received
   -- ----         --------   --------------       -----            ---- --------
    2 Connection2  Tcp        127.0.0.1:46366      Disconnected        0       15
'@
            Remarks = @'
A handler that throws ends its own connection; the server goes on. Its error comes out of
Receive-SocketServerOutput on the error stream as an ErrorRecord with the id HandlerError and the
connection as its target (the handler's own error id is kept in its OriginalErrorId property), so
-ErrorVariable, -ErrorAction and try/catch work on it as on any error.
'@
        }
        @{
            Title   = 'Look without taking'
            Code    = @'
$hello = Start-SocketServer -ScriptBlock {
    param($Connection)
    "served $($Connection.RemoteEndPoint)"
}
$c = Connect-Socket -ComputerName localhost -Port $hello.Port
$null = Receive-SocketData -Connection $c -ToEnd    # the server hangs up when its handler ends

Receive-SocketServerOutput -Server $hello -Keep
$hello.Handlers.OutputCount
Receive-SocketServerOutput -Server $hello
$hello.Handlers.OutputCount
'@
            Output  = @'
served 127.0.0.1:54250
1
served 127.0.0.1:54250
0
'@
            Remarks = @'
-Keep leaves the records on the server, so a later call returns them again; Handlers.OutputCount
says how many wait. Up to 10,000 records are kept per server: past that the oldest are dropped
and counted in Handlers.DroppedOutput, so a long-running server's output should be collected now
and then.
'@
        }
    )
    Inputs  = @{
        'SockPS.Core.SocketServer' = 'Servers started with -ScriptBlock, from Start-SocketServer or Get-SocketServer, bind to -Server.'
    }
    Outputs = @{
        'System.Management.Automation.PSObject' = 'What the handlers wrote, oldest first, each with a SocketConnection note property naming the connection it came from. Handler errors come on the error stream, as ErrorRecords with the id HandlerError. From a -FilePath server: a SockPS.Core.SocketProcessResult per program, with the same note property.'
    }
    Notes   = @(
        'A server started without -ScriptBlock or -FilePath has no handler output: asking it for some is a NoHandler error.'
        'Records are taken unless -Keep is given. A stopped server keeps its records, so they can still be collected after Stop-SocketServer.'
    )
    Links   = @(
        'Start-SocketServer'
        'Get-SocketServer'
        'Stop-SocketServer'
        'about_SockPS'
    )
}
