using System.Net;
#if NET8_0_OR_GREATER
using System.Net.Sockets;
#endif

namespace SockPS.Core;

/// <summary>
/// The one place that knows whether this build can make AF_UNIX endpoints. PowerShell 7.4+
/// (.NET 8) has UnixDomainSocketEndPoint; Windows PowerShell 5.1 (.NET Framework 4.7.2+) has no
/// Unix socket endpoint at all, so there every Unix socket call fails with NotSupported
/// (<see cref="UnixSockets.NotSupported"/>) rather than behaving differently.
/// </summary>
internal static class UnixEndPoints
{
#if NET8_0_OR_GREATER
    /// <summary>True when the OS can create Unix domain sockets (Linux, macOS, Windows 10 1803+).</summary>
    public static bool Supported => Socket.OSSupportsUnixDomainSockets;

    /// <summary>The endpoint for <paramref name="path"/>; ArgumentException for a path
    /// sockaddr_un cannot hold.</summary>
    public static EndPoint Create(string path) => new UnixDomainSocketEndPoint(path);
#else
    /// <summary>False: .NET Framework has no UnixDomainSocketEndPoint.</summary>
    public static bool Supported => false;

    /// <summary>Never returns on this build.</summary>
    public static EndPoint Create(string path) => throw UnixSockets.NotSupported();
#endif
}
