using System;
using System.IO;
using System.Net;
using System.Net.Sockets;
using System.Reflection;
using System.Threading.Tasks;

namespace SockPS.Core;

/// <summary>
/// AF_UNIX support. netstandard2.0 has no UnixDomainSocketEndPoint, but the runtimes PowerShell 7
/// runs on do: the type is looked up once and its constructor cached, and where it is absent
/// (Windows PowerShell 5.1 on .NET Framework) every Unix socket call says so plainly.
/// </summary>
public static class UnixSockets
{
    // The template for receiving from unnamed senders: .NET hands the template back unchanged
    // when the sender has no address, so its path marks "nobody to reply to".
    private const string UnnamedMarker = "/.sockps-unnamed-peer";

    private static readonly Lazy<Func<string, EndPoint>?> s_create = new(FindConstructor);

    /// <summary>True when this runtime and OS can create Unix domain sockets.</summary>
    public static bool IsSupported => s_create.Value is not null && OSSupports();

    /// <summary>A Unix socket endpoint for <paramref name="path"/>.</summary>
    /// <exception cref="SocketOperationException">NotSupported where there is no AF_UNIX; InvalidArgument for a bad path.</exception>
    public static EndPoint CreateEndPoint(string path)
    {
        Func<string, EndPoint> create = s_create.Value ?? throw NotSupported();
        if (!OSSupports())
        {
            throw NotSupported();
        }

        try
        {
            return create(path);
        }
        catch (TargetInvocationException ex) when (ex.InnerException is ArgumentException inner)
        {
            throw new SocketOperationException(SocketFailureKind.InvalidArgument,
                $"'{path}' cannot be a Unix socket path: {inner.Message}", path, inner);
        }
    }

    internal static EndPoint UnnamedTemplate() => CreateEndPoint(UnnamedMarker);

    internal static bool IsUnnamed(EndPoint? endPoint) =>
        endPoint is null || endPoint.ToString() is "" or UnnamedMarker;

    internal static SocketOperationException NotSupported() =>
        new(SocketFailureKind.NotSupported,
            "Unix domain sockets (AF_UNIX) are not available in this runtime or OS. They need PowerShell 7 on Linux, macOS, or Windows 10 1803 and later.");

    private static Func<string, EndPoint>? FindConstructor()
    {
        Type? type = typeof(Socket).Assembly.GetType("System.Net.Sockets.UnixDomainSocketEndPoint", throwOnError: false);
        ConstructorInfo? constructor = type?.GetConstructor(new[] { typeof(string) });
        return constructor is null ? null : path => (EndPoint)constructor.Invoke(new object[] { path });
    }

    private static bool OSSupports()
    {
        // Socket.OSSupportsUnixDomainSockets exists from .NET 5; older runtimes with the
        // endpoint type support AF_UNIX wherever they run.
        PropertyInfo? property = typeof(Socket).GetProperty("OSSupportsUnixDomainSockets", BindingFlags.Public | BindingFlags.Static);
        return property is null || (bool)property.GetValue(null)!;
    }

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
