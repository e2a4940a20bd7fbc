@{
    Examples = @(
        @{
            Title   = 'Sort what a peer sends, and send it back'
            Code    = @'
TBD
'@
            Output  = @'
TBD
'@
            Remarks = 'TBD'
        }
        @{
            Title   = 'TBD'
            Code    = 'TBD'
            Output  = 'TBD'
            Remarks = 'TBD'
        }
    )
    Outputs = @{
        'SockPS.Core.SocketProcessResult' = 'TBD'
        'SockPS.Commands.SockPSJob'       = 'TBD'
    }
    Links   = @(
        'Start-SocketServer'
        'Connect-Socket'
        'about_SockPS'
    )
}
