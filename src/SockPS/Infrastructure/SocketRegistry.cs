using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Linq;
using System.Management.Automation.Runspaces;
using System.Runtime.CompilerServices;
using SockPS.Core;

namespace SockPS.Commands;

/// <summary>
/// Every live connection, server and relay the cmdlets made or a server accepted, like
/// PowerShell's JobRepository: what Get-SocketConnection lists, what -Id and -Name find, what
/// Remove-Module and process exit close. It is process-wide (static), so a connection opened in
/// one runspace can be used from a thread job or ForEach-Object -Parallel. The core knows nothing
/// of it: cmdlets publish what they make, and a server publishes what it accepts through
/// <see cref="ServerPolicy.Publish"/>; an object leaves when it is closed or stopped.
/// <para>Each object remembers the runspace it was made in (its owner): Remove-Module SockPS in
/// one runspace closes what that runspace owns while other runspaces of the process still have
/// the module imported, and everything once the last one removes it (<see cref="ModuleRemoved"/>).
/// A connection a server accepts belongs to the server's owner; what an -AsJob job makes belongs
/// to the runspace that started the job.</para>
/// </summary>
public static class SocketRegistry
{
    private static readonly ConcurrentDictionary<int, SocketConnection> s_connections = new();
    private static readonly ConcurrentDictionary<int, SocketServer> s_servers = new();
    private static readonly ConcurrentDictionary<int, SocketRelay> s_relays = new();

    // Who made what: the owning runspace's InstanceId, per object (weak, so nothing is held).
    private static readonly ConditionalWeakTable<object, OwnerBox> s_owners = new();

    // Runspaces (by InstanceId) that have the module imported now.
    private static readonly ConcurrentDictionary<Guid, byte> s_importers = new();

    // A job's runspace -> the runspace that started the job (what the job makes is the caller's).
    private static readonly ConcurrentDictionary<Guid, Guid> s_delegates = new();

    private sealed class OwnerBox
    {
        public OwnerBox(Guid? owner) => Owner = owner;

        public Guid? Owner { get; }
    }

    /// <summary>The runspace that owns what is made on this thread now: the thread's default
    /// runspace (the one a cmdlet runs in), or the runspace that started the job it runs in.</summary>
    internal static Guid? CurrentOwner()
    {
        Guid? id = Runspace.DefaultRunspace?.InstanceId;
        return id is Guid g && s_delegates.TryGetValue(g, out Guid caller) ? caller : id;
    }

    /// <summary>What <paramref name="jobRunspace"/> makes belongs to <paramref name="owner"/>
    /// until <see cref="EndDelegation"/>.</summary>
    internal static void Delegate(Guid jobRunspace, Guid? owner)
    {
        if (owner is Guid o)
        {
            s_delegates[jobRunspace] = o;
        }
    }

    /// <summary>Ends a <see cref="Delegate"/>.</summary>
    internal static void EndDelegation(Guid jobRunspace) => s_delegates.TryRemove(jobRunspace, out _);

    /// <summary>The runspace that made the object (or whose server accepted it), if known.</summary>
    internal static Guid? OwnerOf(object item) => s_owners.TryGetValue(item, out OwnerBox? box) ? box.Owner : null;

    private static void SetOwner(object item, Guid? owner)
    {
        s_owners.Remove(item);
        s_owners.Add(item, new OwnerBox(owner));
    }

    /// <summary>Lists the connection until it is closed here. Returns it.</summary>
    public static SocketConnection Publish(SocketConnection connection) => Publish(connection, CurrentOwner());

    private static SocketConnection Publish(SocketConnection connection, Guid? owner)
    {
        SetOwner(connection, owner);
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
        Guid? owner = OwnerOf(server) ?? CurrentOwner();
        SetOwner(server, owner);
        s_servers[server.Id] = server;
        server.Stopped += static (sender, _) => s_servers.TryRemove(((SocketServer)sender!).Id, out SocketServer? _);
        if (server.State != ServerState.Listening)
        {
            s_servers.TryRemove(server.Id, out _);
        }

        if (server.DatagramSocket is { } socket)
        {
            Publish(socket, owner);
        }

        return server;
    }

    /// <summary>Lists the relay until it stops. Returns it.</summary>
    public static SocketRelay Publish(SocketRelay relay)
    {
        SetOwner(relay, CurrentOwner());
        s_relays[relay.Id] = relay;
        relay.Stopped += static (sender, _) => s_relays.TryRemove(((SocketRelay)sender!).Id, out SocketRelay? _);
        if (relay.State != ServerState.Listening)
        {
            s_relays.TryRemove(relay.Id, out _);
        }

        return relay;
    }

    /// <summary>The callback a server publishes what it accepts through: accepted connections
    /// belong to the runspace that started the server (this one; called before the server starts).</summary>
    internal static Action<SocketConnection> PublishAccepted()
    {
        Guid? owner = CurrentOwner();
        return connection => Publish(connection, owner);
    }

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

    /// <summary>Stops every relay and server and closes every connection; used when the last
    /// runspace removes the module and when the process exits.</summary>
    public static void CloseAll(string reason) => Close(reason, null);

    /// <summary>Stops the relays and servers and closes the connections that
    /// <paramref name="owner"/> made (all of them when it is null).</summary>
    private static void Close(string reason, Guid? owner)
    {
        bool Owned(object item) => owner is null || OwnerOf(item) == owner;

        foreach (SocketRelay relay in s_relays.Values.Where(Owned).ToArray())
        {
            relay.Stop();
        }

        foreach (SocketServer server in s_servers.Values.Where(Owned).ToArray())
        {
            server.Stop(reason);
        }

        foreach (SocketConnection connection in s_connections.Values.Where(Owned).ToArray())
        {
            connection.Close(reason);
        }
    }

    /// <summary>How many runspaces of this process have the module imported now.</summary>
    public static int ImportCount => s_importers.Count;

    /// <summary>Import-Module SockPS ran in <paramref name="runspace"/>. A runspace that closes
    /// without removing the module stops counting, and leaves open what it made (a thread job's
    /// connection handed to its caller stays usable).</summary>
    internal static void ModuleImported(Runspace? runspace)
    {
        if (runspace is not null && s_importers.TryAdd(runspace.InstanceId, 0))
        {
            runspace.StateChanged += OnImporterStateChanged;
        }
    }

    private static void OnImporterStateChanged(object? sender, RunspaceStateEventArgs e)
    {
        if (sender is Runspace runspace
            && e.RunspaceStateInfo.State is RunspaceState.Closed or RunspaceState.Broken)
        {
            runspace.StateChanged -= OnImporterStateChanged;
            s_importers.TryRemove(runspace.InstanceId, out _);
        }
    }

    /// <summary>Remove-Module SockPS ran in <paramref name="runspace"/>: while other runspaces
    /// still have the module, close only what this one made; the last removal closes the rest.</summary>
    internal static void ModuleRemoved(Runspace? runspace, string reason)
    {
        if (runspace is not null)
        {
            runspace.StateChanged -= OnImporterStateChanged;
            s_importers.TryRemove(runspace.InstanceId, out _);
        }

        if (runspace is null || s_importers.IsEmpty)
        {
            CloseAll(reason);
        }
        else
        {
            Close(reason, runspace.InstanceId);
        }
    }
}
