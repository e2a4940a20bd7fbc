using System;
using System.Linq;
using System.Net;
using System.Net.Sockets;

namespace SockPS.Core;

/// <summary>Local addresses to listen on, as users write them.</summary>
public static class Addresses
{
    /// <summary>
    /// The address a server binds: null means loopback (safe by default); "", "Any", "*" and
    /// "0.0.0.0" mean every IPv4 address (Python's empty string host); "IPv6Any" and "::" every
    /// address, IPv4 included; "localhost" and "Loopback" 127.0.0.1; "IPv6Loopback" ::1; anything
    /// else an IP address or a name of this machine.
    /// </summary>
    public static IPAddress ParseListenAddress(string? address)
    {
        if (address is null)
        {
            return IPAddress.Loopback;
        }

        string text = address.Trim();
        switch (text.ToLowerInvariant())
        {
            case "":
            case "any":
            case "*":
                return IPAddress.Any;
            case "ipv6any":
                return IPAddress.IPv6Any;
            case "localhost":
            case "loopback":
                return IPAddress.Loopback;
            case "ipv6loopback":
                return IPAddress.IPv6Loopback;
        }

        if (IPAddress.TryParse(text = EndPointText.Unbracket(text), out IPAddress? ip))
        {
            return ip;
        }

        try
        {
            IPAddress[] found = Dns.GetHostAddresses(text);
            return found.FirstOrDefault(a => a.AddressFamily == AddressFamily.InterNetwork)
                ?? found.FirstOrDefault()
                ?? throw new SocketOperationException(SocketFailureKind.HostNotFound, $"The name '{text}' has no address to listen on.", text);
        }
        catch (SocketException ex)
        {
            throw new SocketOperationException(SocketFailureKind.HostNotFound,
                $"Cannot listen on '{text}': the name could not be resolved ({ex.Message}). Use an IP address, Any or IPv6Any.", text, ex);
        }
    }
}
