using System.Management.Automation;
using System.Net;
using SockPS.Core;

namespace SockPS.Commands;

/// <summary>Keep-alive timing, multicast sending and SO_REUSEPORT, as Connect-Socket and
/// Start-SocketServer take them, added to the -SocketOption set.</summary>
internal static class SocketTuningParameters
{
    /// <summary>The option set with the parameters that were given; the set as it was (maybe
    /// null) when none was. Zero means "not given" for the keep-alive numbers (their ranges start
    /// at 1); the multicast TTL and loopback count when bound.</summary>
    public static SocketOptionSet? Apply(PSCmdlet cmdlet, SocketOptionSet? set, int keepAliveSeconds, int keepAliveIntervalSeconds, int keepAliveCount,
        string ttlName, string loopbackName, int multicastTimeToLive, bool multicastLoopback, IPAddress? multicastInterface, bool reusePort)
    {
        var bound = cmdlet.MyInvocation.BoundParameters;
        bool ttl = bound.ContainsKey(ttlName);
        bool loopback = bound.ContainsKey(loopbackName);
        if (keepAliveSeconds == 0 && keepAliveIntervalSeconds == 0 && keepAliveCount == 0 && !ttl && !loopback && multicastInterface is null && !reusePort)
        {
            return set;
        }

        set ??= new SocketOptionSet();
        if (keepAliveSeconds > 0)
        {
            set.KeepAliveTime = keepAliveSeconds;
        }

        if (keepAliveIntervalSeconds > 0)
        {
            set.KeepAliveInterval = keepAliveIntervalSeconds;
        }

        if (keepAliveCount > 0)
        {
            set.KeepAliveCount = keepAliveCount;
        }

        if (ttl)
        {
            set.MulticastTimeToLive = multicastTimeToLive;
        }

        if (loopback)
        {
            set.MulticastLoopback = multicastLoopback;
        }

        if (multicastInterface is not null)
        {
            set.MulticastInterface = multicastInterface;
        }

        if (reusePort)
        {
            set.ReusePort = true;
        }

        return set;
    }
}
