using System.Net;
using System.Net.Sockets;

namespace SockPS.Core;

/// <summary>One address a name resolves to (Python's socket getaddrinfo result).</summary>
public sealed class ResolvedAddress
{
    internal ResolvedAddress(string computerName, IPAddress address, int port)
    {
        ComputerName = computerName;
        Address = address;
        Port = port;
    }

    /// <summary>The name that was resolved.</summary>
    public string ComputerName { get; }

    /// <summary>The address.</summary>
    public IPAddress Address { get; }

    /// <summary>InterNetwork (IPv4) or InterNetworkV6.</summary>
    public AddressFamily AddressFamily => Address.AddressFamily;

    /// <summary>The port asked for (0 when none was).</summary>
    public int Port { get; }

    /// <summary>The computer that made this object (where it lives), so one that comes back
    /// from Invoke-Command or a job says where it was made.</summary>
    public string MachineName => SocketOrigin.MachineName;

    /// <summary>The address and port as an endpoint, ready for sendto or a socket.</summary>
    public IPEndPoint EndPoint => new(Address, Port);

    /// <summary>"127.0.0.1:80", "[::1]:80".</summary>
    public override string ToString() => EndPointText.Format(Address, Port);
}
