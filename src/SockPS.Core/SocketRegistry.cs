using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Linq;
using System.Threading;

namespace SockPS.Core;

/// <summary>
/// Every live connection and server in the process, like PowerShell's JobRepository. It is
/// process-wide (static), so a connection opened in one runspace can be used from a thread job
/// or ForEach-Object -Parallel. Ids come from a counter and are never reused, so a script that
/// holds an id never reaches a different socket by accident.
/// </summary>
public static class SocketRegistry
{
    private static readonly ConcurrentDictionary<int, SocketConnection> s_connections = new();
    private static readonly ConcurrentDictionary<int, SocketServer> s_servers = new();
    private static readonly ConcurrentDictionary<int, SocketRelay> s_relays = new();
    private static int s_lastRelayId;
    private static int s_lastConnectionId;
    private static int s_lastServerId;

    internal static int NextConnectionId() => Interlocked.Increment(ref s_lastConnectionId);

    internal static int NextServerId() => Interlocked.Increment(ref s_lastServerId);

    internal static int NextRelayId() => Interlocked.Increment(ref s_lastRelayId);

    internal static void Add(SocketRelay relay) => s_relays[relay.Id] = relay;

    internal static void Remove(SocketRelay relay) => s_relays.TryRemove(relay.Id, out _);

    /// <summary>The relay with this id, or null.</summary>
    public static SocketRelay? GetRelay(int id) => s_relays.TryGetValue(id, out SocketRelay? r) ? r : null;

    /// <summary>A snapshot of the relays, by id.</summary>
    public static IReadOnlyList<SocketRelay> Relays => s_relays.Values.OrderBy(r => r.Id).ToArray();

    internal static void Add(SocketConnection connection) => s_connections[connection.Id] = connection;

    internal static void Remove(SocketConnection connection) => s_connections.TryRemove(connection.Id, out _);

    internal static void Add(SocketServer server) => s_servers[server.Id] = server;

    internal static void Remove(SocketServer server) => s_servers.TryRemove(server.Id, out _);

    /// <summary>The connection with this id, or null.</summary>
    public static SocketConnection? GetConnection(int id) => s_connections.TryGetValue(id, out SocketConnection? c) ? c : null;

    /// <summary>The server with this id, or null.</summary>
    public static SocketServer? GetServer(int id) => s_servers.TryGetValue(id, out SocketServer? s) ? s : null;

    /// <summary>A snapshot of the live connections, by id.</summary>
    public static IReadOnlyList<SocketConnection> Connections => s_connections.Values.OrderBy(c => c.Id).ToArray();

    /// <summary>A snapshot of the servers, by id.</summary>
    public static IReadOnlyList<SocketServer> Servers => s_servers.Values.OrderBy(s => s.Id).ToArray();

    /// <summary>Stops every server and closes every connection; used when the module is removed.</summary>
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
