using System;
using System.ComponentModel;
using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace SockPS.Core;

/// <summary>
/// Socket options .NET has no name for. netstandard2.0 has no SetRawSocketOption, and .NET's
/// ReuseAddress sets SO_REUSEADDR and SO_REUSEPORT together on Unix (to mimic Windows), so
/// SO_REUSEPORT alone, and SO_REUSEADDR alone, go through setsockopt directly.
/// </summary>
internal static class RawSocketOptions
{
    /// <summary>Replaces the OS check, for tests of the message on other systems.</summary>
    internal static Func<OSPlatform?>? PlatformOverride { get; set; }

    private static OSPlatform? Platform => PlatformOverride is not null ? PlatformOverride() :
        RuntimeInformation.IsOSPlatform(OSPlatform.Linux) ? OSPlatform.Linux :
        RuntimeInformation.IsOSPlatform(OSPlatform.OSX) ? OSPlatform.OSX :
        RuntimeInformation.IsOSPlatform(OSPlatform.Create("FREEBSD")) ? OSPlatform.Create("FREEBSD") :
        RuntimeInformation.IsOSPlatform(OSPlatform.Windows) ? OSPlatform.Windows : null;

    /// <summary>True where SO_REUSEPORT exists (Linux 3.9+, macOS, the BSDs).</summary>
    internal static bool HasReusePort => Platform is OSPlatform p && p != OSPlatform.Windows;

    /// <summary>Sets SO_REUSEPORT, so other sockets that set it too may bind the same address and
    /// port; the OS spreads connections (and datagrams) among them.</summary>
    /// <exception cref="SocketOperationException">NotSupported on Windows, which has no SO_REUSEPORT.</exception>
    internal static void SetReusePort(Socket socket)
    {
        if (!HasReusePort)
        {
            throw new SocketOperationException(SocketFailureKind.NotSupported,
                "SO_REUSEPORT is not available on this OS: Windows has no such option (its SO_REUSEADDR lets another socket take the port over, which is not the same).")
            {
                Setting = SocketSetting.ReusePort,
            };
        }

        Set(socket, SolSocket, Platform == OSPlatform.Linux ? 15 : 0x200, "SO_REUSEPORT");
    }

    /// <summary>Sets SO_REUSEADDR alone where that is safe (Unix: a port whose last connection is
    /// in TIME_WAIT can be bound again, a port in use still cannot); nothing on Windows, where
    /// SO_REUSEADDR would let this socket take a port another one uses.</summary>
    internal static void SetReuseAddressOnly(Socket socket)
    {
        if (HasReusePort)
        {
            Set(socket, SolSocket, Platform == OSPlatform.Linux ? 2 : 0x4, "SO_REUSEADDR");
        }
    }

    private static int SolSocket => Platform == OSPlatform.Linux ? 1 : 0xffff;

    private static void Set(Socket socket, int level, int name, string what)
    {
        int on = 1;
        int result;
        try
        {
            result = setsockopt(socket.Handle.ToInt32(), level, name, ref on, sizeof(int));
        }
        catch (Exception ex) when (ex is DllNotFoundException or EntryPointNotFoundException)
        {
            throw new SocketOperationException(SocketFailureKind.NotSupported,
                $"{what} cannot be set here: the C library's setsockopt was not found ({ex.Message}).", null, ex);
        }

        if (result != 0)
        {
            int errno = Marshal.GetLastWin32Error();
            throw new SocketOperationException(SocketFailureKind.NotSupported,
                $"The OS refused {what}: {new Win32Exception(errno).Message} (errno {errno}).");
        }
    }

    [DllImport("libc", SetLastError = true)]
    private static extern int setsockopt(int socket, int level, int name, ref int value, int length);
}
