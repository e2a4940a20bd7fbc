using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Linq;
using SockPS.Core;

namespace SockPS.Commands;

/// <summary>
/// Every live connection, server and relay the cmdlets made or a server accepted, like
/// PowerShell's JobRepository: what Get-SocketConnection lists, what -Id and -Name find, what
/// Remove-Module and process exit close. It is process-wide (static), so a connection opened in
/// one runspace can be used from a thread job or ForEach-Object -Parallel. The core knows nothing
/// of it: cmdlets publish what they make, and a server publishes what it accepts through
/// <see cref="ServerPolicy.Publish"/>; an object leaves when it is closed or stopped.
/// </summary>
public static class SocketRegistry
{
    private static readonly ConcurrentDictionary<int, SocketConnection> s_connections = new();
    private static readonly ConcurrentDictionary<int, SocketServer> s_servers = new();
    private static readonly ConcurrentDictionary<int, SocketRelay> s_relays = new();

    /// <summary>Lists the connection until it is closed here. Returns it.</summary>
    public static SocketConnection Publish(SocketConnection connection)
    {
        s_connections[connection.Id] = connection;
        connection.Disposed += static c => s_connections.TryRemove(c.Id, out _);
        if (connection.State == SocketState.Disconnected)
        {
            // Closed before it was listed: the handler above may have run already.
            s_connections.TryRemove(connection.Id, out _);
        }

        return connection;
    }

    /// <summary>Lists the server (and a datagram server's socket) until it stops. Returns it.</summary>
    public static SocketServer Publish(SocketServer server)
    {
        s_servers[server.Id] = server;
        server.Stopped += static (sender, _) => s_servers.TryRemove(((SocketServer)sender!).Id, out SocketServer? _);
        if (server.State != ServerState.Listening)
        {
            s_servers.TryRemove(server.Id, out _);
        }

        if (server.DatagramSocket is { } socket)
        {
            Publish(socket);
        }

        return server;
    }

    /// <summary>Lists the relay until it stops. Returns it.</summary>
    public static SocketRelay Publish(SocketRelay relay)
    {
        s_relays[relay.Id] = relay;
        relay.Stopped += static (sender, _) => s_relays.TryRemove(((SocketRelay)sender!).Id, out SocketRelay? _);
        if (relay.State != ServerState.Listening)
        {
            s_relays.TryRemove(relay.Id, out _);
        }

        return relay;
    }

    /// <summary>The callback a server publishes what it accepts through.</summary>
    internal static readonly Action<SocketConnection> PublishAccepted = connection => Publish(connection);

    /// <summary>The relay with this id, or null.</summary>
    public static SocketRelay? GetRelay(int id) => s_relays.TryGetValue(id, out SocketRelay? r) ? r : null;

    /// <summary>A snapshot of the relays, by id.</summary>
    public static IReadOnlyList<SocketRelay> Relays => s_relays.Values.OrderBy(r => r.Id).ToArray();

    /// <summary>The connection with this id, or null.</summary>
    public static SocketConnection? GetConnection(int id) => s_connections.TryGetValue(id, out SocketConnection? c) ? c : null;

    /// <summary>The server with this id, or null.</summary>
    public static SocketServer? GetServer(int id) => s_servers.TryGetValue(id, out SocketServer? s) ? s : null;

    /// <summary>A snapshot of the live connections, by id.</summary>
    public static IReadOnlyList<SocketConnection> Connections => s_connections.Values.OrderBy(c => c.Id).ToArray();

    /// <summary>A snapshot of the servers, by id.</summary>
    public static IReadOnlyList<SocketServer> Servers => s_servers.Values.OrderBy(s => s.Id).ToArray();

    /// <summary>Stops every relay and server and closes every connection; used when the module is
    /// removed and when the process exits.</summary>
    public static void CloseAll(string reason)
    {
        foreach (SocketRelay relay in s_relays.Values.ToArray())
        {
            relay.Stop();
        }

        foreach (SocketServer server in s_servers.Values.ToArray())
        {
            server.Stop(reason);
        }

        foreach (SocketConnection connection in s_connections.Values.ToArray())
        {
            connection.Close(reason);
        }
    }
}
