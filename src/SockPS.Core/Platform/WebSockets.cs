using System;
using System.IO;
using System.Net.WebSockets;

namespace SockPS.Core;

/// <summary>
/// Makes a WebSocket over a stream whose HTTP upgrade already ran. net8.0: .NET's own
/// implementation (<c>WebSocket.CreateFromStream</c>: framing, masking, ping answers, close
/// handshake). netstandard2.0 (Windows PowerShell 5.1) has no <c>CreateFromStream</c>: WebSocket
/// connections and servers are <see cref="SocketFailureKind.NotSupported"/> there.
/// </summary>
internal static class WebSockets
{
    /// <summary>True where this build can speak WebSocket.</summary>
#if NET8_0_OR_GREATER
    internal const bool Supported = true;
#else
    internal const bool Supported = false;
#endif

    /// <summary>Throws NotSupported on the build that cannot speak WebSocket, before anything connects.</summary>
    internal static void ThrowIfUnsupported(string? where = null)
    {
        if (!Supported)
        {
            throw new SocketOperationException(SocketFailureKind.NotSupported,
                "WebSocket (ws://, wss://, a WebSocket server) needs PowerShell 7.4 or later: .NET Framework, which Windows PowerShell 5.1 runs on, " +
                "cannot run a WebSocket over a socket stream. Run the command in pwsh.", where);
        }
    }

    internal static WebSocket Create(Stream stream, bool isServer, string? subProtocol, TimeSpan keepAliveInterval)
    {
#if NET8_0_OR_GREATER
        return WebSocket.CreateFromStream(stream, isServer, subProtocol, keepAliveInterval);
#else
        ThrowIfUnsupported();
        throw new PlatformNotSupportedException();
#endif
    }
}
