using System;
using System.Collections.Generic;

namespace SockPS.Core;

/// <summary>How a server serves: limits, access and, for handler servers, where accepted
/// connections or datagrams go instead of the queue Wait-SocketConnection reads.</summary>
public sealed class ServerPolicy
{
    /// <summary>Connections open at once; further clients wait in the OS backlog (0: no limit).</summary>
    public int MaxConnections { get; set; }

    /// <summary>Close connections with no data in or out for this long (zero: never).</summary>
    public TimeSpan IdleTimeout { get; set; }

    /// <summary>When not empty, only clients in these ranges are served.</summary>
    public IReadOnlyList<AddressRange> Allow { get; set; } = Array.Empty<AddressRange>();

    /// <summary>Clients in these ranges are refused.</summary>
    public IReadOnlyList<AddressRange> Deny { get; set; } = Array.Empty<AddressRange>();

    /// <summary>Accept WebSocket clients (Start-SocketServer -WebSocket): each accepted connection
    /// passes the HTTP upgrade (after TLS, when the server has a certificate) before anyone sees
    /// it; clients that fail it are counted in AcceptErrorCount. Null: plain connections.</summary>
    public WebSocketServerOptions? WebSocket { get; set; }

    /// <summary>Receives every accepted connection (a handler server); null: queue them for Wait-SocketConnection.</summary>
    public Action<SocketConnection>? ConnectionHandler { get; set; }

    /// <summary>Told of every connection the server accepts, before anyone else sees it: the
    /// cmdlet layer lists it (Get-SocketConnection, -Id). Null in the core's own use.</summary>
    public Action<SocketConnection>? Publish { get; set; }

    /// <summary>Receives every datagram of a datagram server (a handler server); null: queue them for Receive-SocketData.</summary>
    public Action<SocketDatagram>? DatagramHandler { get; set; }

    /// <summary>Reports the handlers' state for <see cref="SocketServer.Handlers"/>; null when there are none.</summary>
    public Func<SocketHandlerStatus>? HandlerStatus { get; set; }

    /// <summary>True while a connection waits for a handler to take it: -IdleTimeoutSeconds does
    /// not count that time (a client whose request waits, unread, is not idle).</summary>
    internal Func<SocketConnection, bool>? IsWaitingForHandler { get; set; }

    /// <summary>What runs the handlers (the cmdlet layer's host), kept with the server so that
    /// it lives exactly as long as the server object does.</summary>
    internal object? HandlerHost { get; set; }
}
