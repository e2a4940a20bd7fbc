@{
    Examples = @(
        @{
            Title   = 'Resolve a name and a service'
            Code    = @'
Resolve-SocketAddress -ComputerName localhost -Port http
'@
            Output  = @'
ComputerName             Address                                  AddressFamily    Port
------------             -------                                  -------------    ----
localhost                127.0.0.1                                InterNetwork       80
'@
            Remarks = @'
Returns one object per address (Python's socket.getaddrinfo), with the port resolved: -Port takes
a number or a service name from the system's services database.
'@
        }
        @{
            Title   = 'Every address of a name, or only IPv6'
            Code    = @'
$name = Get-SocketHostName
Resolve-SocketAddress -ComputerName $name -Port 443
Resolve-SocketAddress -ComputerName $name -Port 443 -AddressFamily InterNetworkV6
'@
            Output  = @'
ComputerName             Address                                  AddressFamily    Port
------------             -------                                  -------------    ----
vm                       127.0.0.1                                InterNetwork      443
vm                       192.0.2.2                                InterNetwork      443
vm                       fd00::2                                  InterNetworkV6    443
vm                       fe80::fc:ff:fe00:1%4                     InterNetworkV6    443
ComputerName             Address                                  AddressFamily    Port
------------             -------                                  -------------    ----
vm                       fd00::2                                  InterNetworkV6    443
vm                       fe80::fc:ff:fe00:1%4                     InterNetworkV6    443
'@
            Remarks = @'
A name can have several addresses, IPv4 and IPv6. They come in the order the resolver gives them,
which is the order Connect-Socket tries them in; -AddressFamily keeps one family, as it does on
Connect-Socket.
'@
        }
        @{
            Title   = 'Resolve several names, with UDP service names'
            Code    = @'
'localhost', '::1', 'no-such-host.invalid' | Resolve-SocketAddress -Port domain -Protocol Udp
$Error[0].FullyQualifiedErrorId
'@
            Output  = @'
ComputerName             Address                                  AddressFamily    Port
------------             -------                                  -------------    ----
localhost                127.0.0.1                                InterNetwork       53
::1                      ::1                                      InterNetworkV6     53
Resolve-SocketAddress: The host name 'no-such-host.invalid' could not be resolved: Name or
service not known. Check the spelling and your DNS settings, or use an IP address.
HostNotFound,SockPS.Commands.ResolveSocketAddressCommand
'@
            Remarks = @'
Names come from -ComputerName or the pipeline; an IP address resolves to itself. -Protocol Udp
looks -Port up among the UDP services. A name that does not resolve is a non-terminating
HostNotFound error, and the other names are still resolved.
'@
        }
    )
    ParameterDefaults = @{
        AddressFamily = 'IPv4 and IPv6'
        Port          = '0'
    }
    Inputs  = @{
        'System.String' = 'Host names or IP addresses to resolve, bound to -ComputerName.'
    }
    Outputs = @{
        'SockPS.Core.ResolvedAddress' = 'One object per address: ComputerName (as given), Address, AddressFamily, Port, and EndPoint (the address and port as an IPEndPoint).'
    }
    Notes   = @(
        'Without -Port, Port is 0. A -Port name that is not in the services database stops the command with an InvalidArgument error.'
    )
    Links   = @(
        'Connect-Socket'
        'Get-SocketHostName'
        'about_SockPS'
    )
}
