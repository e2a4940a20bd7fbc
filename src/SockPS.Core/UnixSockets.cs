using System;
using System.Runtime.InteropServices;
using System.Text;
using System.IO;
using System.Net;
using System.Net.Sockets;
using System.Threading.Tasks;

namespace SockPS.Core;

/// <summary>
/// AF_UNIX support: paths, socket files, liveness checks. Whether this build and OS can make Unix
/// endpoints at all is <see cref="UnixEndPoints"/>'s to say; where they cannot (Windows
/// PowerShell 5.1, or an old OS) every Unix socket call says so plainly.
/// </summary>
public static class UnixSockets
{
    // The template for receiving from unnamed senders: .NET hands the template back unchanged
    // when the sender has no address, so its path marks "nobody to reply to".
    private const string UnnamedMarker = "/.sockps-unnamed-peer";

    /// <summary>True when this runtime and OS can create Unix domain sockets.</summary>
    public static bool IsSupported => UnixEndPoints.Supported;

    /// <summary>A Unix socket endpoint for <paramref name="path"/>.</summary>
    /// <exception cref="SocketOperationException">NotSupported where there is no AF_UNIX; InvalidArgument for a bad path.</exception>
    public static EndPoint CreateEndPoint(string path)
    {
        CheckPath(path);
        if (!UnixEndPoints.Supported)
        {
            throw NotSupported();
        }

        try
        {
            return UnixEndPoints.Create(path);
        }
        catch (ArgumentException inner)
        {
            int length = Encoding.UTF8.GetByteCount(path);
            string why = length > MaxPathBytes
                ? $"it is {length} bytes long, and Unix socket paths hold at most {MaxPathBytes}. Use a shorter path, such as one under /tmp"
                : EndPointText.ArgumentMessage(inner);
            throw new SocketOperationException(SocketFailureKind.InvalidArgument,
                $"'{path}' cannot be a Unix socket path: {why}.", path, inner);
        }
    }

    /// <summary>Replaces the OS check of abstract names, for tests of the message on other systems.</summary>
    internal static Func<bool>? IsLinuxOverride { get; set; }

    /// <summary>True where abstract socket names exist: Linux only.</summary>
    public static bool SupportsAbstractNames => IsLinuxOverride?.Invoke() ?? RuntimeInformation.IsOSPlatform(OSPlatform.Linux);

    /// <summary>
    /// A Linux abstract socket endpoint: a name in the kernel's namespace for the network
    /// namespace, with no file behind it (sockaddr_un with a leading NUL byte; socat's ABSTRACT-*,
    /// shown as @name by ss). It disappears with the last socket bound to it, so there is nothing
    /// stale to clean up, and file permissions do not apply to it: any local process may connect.
    /// </summary>
    /// <param name="name">The name without the leading NUL (and without an @).</param>
    /// <exception cref="SocketOperationException">NotSupported off Linux; InvalidArgument for an empty or too long name.</exception>
    public static EndPoint CreateAbstractEndPoint(string name)
    {
        if (!SupportsAbstractNames)
        {
            throw new SocketOperationException(SocketFailureKind.NotSupported,
                "Abstract Unix socket names (unix-abstract:) exist on Linux only. Use a socket file on this system.", "@" + name)
            {
                Setting = SocketSetting.UnixSocketName,
            };
        }

        if (string.IsNullOrEmpty(name))
        {
            throw new SocketOperationException(SocketFailureKind.InvalidArgument, "An abstract socket name cannot be empty.");
        }

        if (name.IndexOf('\0') >= 0)
        {
            throw new SocketOperationException(SocketFailureKind.InvalidArgument,
                $"The abstract socket name '{Visible(name)}' contains a NUL character. Give the name alone: SockPS adds the leading NUL itself.", Visible(name));
        }

        int length = Encoding.UTF8.GetByteCount(name) + 1;
        if (length > MaxPathBytes)
        {
            throw new SocketOperationException(SocketFailureKind.InvalidArgument,
                $"The abstract socket name '{name}' is {length - 1} bytes long; with its leading NUL it must fit in {MaxPathBytes} bytes.", "@" + name);
        }

        return UnixEndPoints.Create("\0" + name);
    }

    /// <summary>A path with a NUL in it is no file path; one that starts with NUL is how the C API
    /// writes an abstract name, so the message says where that goes instead.</summary>
    /// <exception cref="SocketOperationException">InvalidArgument.</exception>
    public static void CheckPath(string path)
    {
        int nul = path.IndexOf('\0');
        if (nul < 0)
        {
            return;
        }

        throw new SocketOperationException(SocketFailureKind.InvalidArgument, nul == 0
            ? $"'{Visible(path)}' starts with a NUL character, which is how C programs write a Linux abstract socket name. Give the name without the NUL as an abstract name: " +
              $"{path.Substring(1).TrimStart('\0')} (unix-abstract:{path.Substring(1).TrimStart('\0')}). A socket path is always a file, even when it starts with @."
            : $"'{Visible(path)}' cannot be a Unix socket path: it contains a NUL character.", Visible(path))
        {
            Setting = nul == 0 ? SocketSetting.UnixSocketName : SocketSetting.None,
        };
    }

    private static string Visible(string text) => text.Replace("\0", "\\0");

    /// <summary>The longest path sockaddr_un holds: 108 bytes on Linux and Windows, 104 on macOS
    /// and the BSDs.</summary>
    private static int MaxPathBytes => RuntimeInformation.IsOSPlatform(OSPlatform.OSX) || RuntimeInformation.IsOSPlatform(OSPlatform.Create("FREEBSD")) ? 104 : 108;

    internal static EndPoint UnnamedTemplate() => CreateEndPoint(UnnamedMarker);

    internal static bool IsUnnamed(EndPoint? endPoint) =>
        endPoint is null || endPoint.ToString() is "" or UnnamedMarker;

    internal static SocketOperationException NotSupported() =>
        new(SocketFailureKind.NotSupported,
            "Unix domain sockets (AF_UNIX) are not available in this PowerShell or OS. They need PowerShell 7.4 or later on Linux, macOS, or Windows 10 1803 and later; Windows PowerShell 5.1 has no Unix sockets.");

    /// <summary>A fresh path in the temp folder for a client datagram socket, so the server has
    /// an address to reply to.</summary>
    internal static string NewClientPath() =>
        Path.Combine(Path.GetTempPath(), "sockps-" + Guid.NewGuid().ToString("N").Substring(0, 12) + ".sock");

    internal static void TryDeleteSocketFile(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // Best effort: a leftover file is replaced as stale by the next server.
        }
    }

    /// <summary>True when a server answers on <paramref name="path"/>, stream or datagram.</summary>
    internal static bool IsLive(string path)
    {
        foreach (SocketType type in new[] { SocketType.Stream, SocketType.Dgram })
        {
            using Socket probe = new(AddressFamily.Unix, type, ProtocolType.Unspecified);
            try
            {
                probe.Connect(CreateEndPoint(path));
                return true;
            }
            catch (SocketException)
            {
                // Refused (nobody listens), or the other socket type: try the next.
            }
        }

        return false;
    }

    /// <summary>
    /// True when <paramref name="path"/> is a socket file, as opposed to a regular file, a
    /// directory or a FIFO: opening a socket file fails with ENXIO ("No such device or address")
    /// where a regular file opens. Only a socket file nobody listens on is ever replaced, so a
    /// user's file is never deleted by Start-SocketServer -Path.
    /// </summary>
    internal static bool IsSocketFile(string path)
    {
        if (!File.Exists(path))
        {
            return false;
        }

        // A FIFO would block the open until a writer comes; give up on it after a moment.
        Task<bool> open = Task.Run(() =>
        {
            try
            {
                using FileStream stream = new(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
                return false;
            }
            catch (IOException ex) when (ex.Message.IndexOf("No such device or address", StringComparison.OrdinalIgnoreCase) >= 0)
            {
                return true;
            }
            catch (Exception)
            {
                return false;
            }
        });
        return open.Wait(TimeSpan.FromSeconds(2)) && open.Result;
    }
}
