@{
    Examples = @(
        @{
            Title   = 'Get this machine''s host name'
            Code    = @'
Get-SocketHostName
'@
            Output  = @'
vm
'@
            Remarks = @'
Returns the host name as the OS reports it (Python's socket.gethostname()).
'@
        }
        @{
            Title   = 'Get the fully qualified name'
            Code    = @'
Get-SocketHostName -FullyQualified
'@
            Output  = @'
vm
'@
            Remarks = @'
-FullyQualified asks the resolver for the canonical name of the host name, such as
web01.corp.contoso.com. This machine belongs to no domain, so the resolver's answer is the host
name itself; when the resolver knows nothing at all, the host name is returned too and -Verbose
says why.
'@
        }
        @{
            Title   = 'List this machine''s addresses'
            Code    = @'
Resolve-SocketAddress -ComputerName (Get-SocketHostName)
'@
            Output  = @'
ComputerName             Address                                  AddressFamily    Port
------------             -------                                  -------------    ----
vm                       127.0.0.1                                InterNetwork        0
vm                       192.0.2.2                                InterNetwork        0
vm                       fd00::2                                  InterNetworkV6      0
vm                       fe80::fc:ff:fe00:1%4                     InterNetworkV6      0
'@
            Remarks = @'
With Resolve-SocketAddress the host name gives the machine's own addresses, IPv4 and IPv6, in the
order a client connecting to this name would try them.
'@
        }
    )
    Outputs = @{
        'System.String' = 'The host name, or with -FullyQualified the fully qualified domain name.'
    }
    Links   = @(
        'Resolve-SocketAddress'
        'Start-SocketServer'
        'about_SockPS'
    )
}
