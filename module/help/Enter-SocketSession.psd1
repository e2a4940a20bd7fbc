@{
    Examples = @(
        @{
            Title   = 'Talk to a line service'
            Code    = 'Enter-SocketSession -ComputerName localhost -Port 7'
            Output  = 'TODO'
            Remarks = 'TODO'
        }
        @{
            Title   = 'ssh through pwsh'
            Code    = 'ssh -o ProxyCommand="pwsh -NoProfile -c ''Enter-SocketSession -Stdio %h %p''" host'
            Output  = 'TODO'
            Remarks = 'TODO'
        }
    )
    Outputs = @{
        'None' = 'Nothing: what arrives is shown on the console (or, with -Stdio, written to standard output); errors are written as usual.'
    }
    Links = @('Connect-Socket', 'about_SockPS')
}
