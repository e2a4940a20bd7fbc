using System;
using System.Collections.Generic;
using System.Management.Automation;
using SockPS.Core;

namespace SockPS.Commands;

/// <summary>Finds the objects a cmdlet acts on from -Id or -Name, the way Get-Job does: an
/// unknown id or exact name is a non-terminating ObjectNotFound error; a wildcard that matches
/// nothing is not an error.</summary>
internal static class Targets
{
    public static List<T> Find<T>(PSCmdlet cmdlet, int[]? ids, string[]? names, Func<int, T?> byId, Func<IReadOnlyList<T>> all,
        Func<T, string> nameOf, string noun, string notFoundId)
        where T : class
    {
        List<T> found = new();
        if (ids is not null)
        {
            foreach (int id in ids)
            {
                T? match = byId(id);
                if (match is null)
                {
                    cmdlet.WriteError(ErrorRecords.NotFound(
                        $"No {noun} with Id {id} exists. Ids are never reused; list the live ones with Get-Socket{Capitalize(noun)}.",
                        notFoundId, id));
                }
                else if (!found.Contains(match))
                {
                    found.Add(match);
                }
            }
        }

        if (names is not null)
        {
            IReadOnlyList<T> snapshot = all();
            foreach (string name in names)
            {
                WildcardPattern pattern = WildcardPattern.Get(name, WildcardOptions.IgnoreCase);
                bool any = false;
                foreach (T item in snapshot)
                {
                    if (pattern.IsMatch(nameOf(item)))
                    {
                        any = true;
                        if (!found.Contains(item))
                        {
                            found.Add(item);
                        }
                    }
                }

                if (!any && !WildcardPattern.ContainsWildcardCharacters(name))
                {
                    cmdlet.WriteError(ErrorRecords.NotFound(
                        $"No {noun} named '{name}' exists. List the live ones with Get-Socket{Capitalize(noun)}.",
                        notFoundId, name));
                }
            }
        }

        return found;
    }

    private static string Capitalize(string noun) => noun switch
    {
        "server" => "Server",
        "relay" => "Relay",
        _ => "Connection",
    };
}

/// <summary>Base for cmdlets that act on connections given as -Connection (pipeline), -Id or -Name.</summary>
public abstract class ConnectionCmdlet : SockPSCmdlet
{
    /// <summary>Parameter set: connection objects.</summary>
    protected const string ConnectionSet = "Connection";

    /// <summary>Parameter set: connection ids.</summary>
    protected const string IdSet = "Id";

    /// <summary>Parameter set: connection names.</summary>
    protected const string NameSet = "Name";

    /// <summary>The connection to act on, as returned by Connect-Socket, Wait-SocketConnection or
    /// Get-SocketConnection; a UDP server stands for its socket, and a received SocketDatagram for
    /// the socket it arrived on (Send-SocketData then replies to its sender).</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true, ParameterSetName = ConnectionSet)]
    [ConnectionArgumentTransformation]
    [ValidateNotNullOrEmpty]
    public SocketConnection[] Connection { get; set; } = null!;

    /// <summary>The Id of the connection to act on.</summary>
    [Parameter(Mandatory = true, ValueFromPipelineByPropertyName = true, ParameterSetName = IdSet)]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(ConnectionCompleter))]
    public int[] Id { get; set; } = null!;

    /// <summary>The name of the connection to act on. Wildcards are allowed.</summary>
    [Parameter(Mandatory = true, ValueFromPipelineByPropertyName = true, ParameterSetName = NameSet)]
    [ValidateNotNullOrEmpty]
    [SupportsWildcards]
    [ArgumentCompleter(typeof(ConnectionCompleter))]
    public string[] Name { get; set; } = null!;

    /// <summary>The connections named by whichever parameter was used; writes ConnectionNotFound
    /// for ids and names that match nothing.</summary>
    protected IReadOnlyList<SocketConnection> TargetConnections() => ParameterSetName switch
    {
        IdSet => Targets.Find(this, Id, null, SocketRegistry.GetConnection, () => SocketRegistry.Connections, c => c.Name, "connection", "ConnectionNotFound"),
        NameSet => Targets.Find(this, null, Name, SocketRegistry.GetConnection, () => SocketRegistry.Connections, c => c.Name, "connection", "ConnectionNotFound"),
        _ => DeserializedTargets.Live(this, Connection),
    };
}

/// <summary>Base for cmdlets that act on servers given as -Server (pipeline), -Id or -Name.</summary>
public abstract class ServerCmdlet : SockPSCmdlet
{
    /// <summary>Parameter set: server objects.</summary>
    protected const string ServerSet = "Server";

    /// <summary>Parameter set: server ids.</summary>
    protected const string IdSet = "Id";

    /// <summary>Parameter set: server names.</summary>
    protected const string NameSet = "Name";

    /// <summary>The server, as returned by Start-SocketServer or Get-SocketServer.</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ParameterSetName = ServerSet)]
    [ValidateNotNullOrEmpty]
    [ServerArgumentTransformation]
    [ArgumentCompleter(typeof(ServerCompleter))]
    public SocketServer[] Server { get; set; } = null!;

    /// <summary>The Id of the server.</summary>
    [Parameter(Mandatory = true, ValueFromPipelineByPropertyName = true, ParameterSetName = IdSet)]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(ServerCompleter))]
    public int[] Id { get; set; } = null!;

    /// <summary>The name of the server. Wildcards are allowed.</summary>
    [Parameter(Mandatory = true, ValueFromPipelineByPropertyName = true, ParameterSetName = NameSet)]
    [ValidateNotNullOrEmpty]
    [SupportsWildcards]
    [ArgumentCompleter(typeof(ServerCompleter))]
    public string[] Name { get; set; } = null!;

    /// <summary>The servers named by whichever parameter was used; writes ServerNotFound for
    /// ids and names that match nothing.</summary>
    protected IReadOnlyList<SocketServer> TargetServers() => ParameterSetName switch
    {
        IdSet => Targets.Find(this, Id, null, SocketRegistry.GetServer, () => SocketRegistry.Servers, s => s.Name, "server", "ServerNotFound"),
        NameSet => Targets.Find(this, null, Name, SocketRegistry.GetServer, () => SocketRegistry.Servers, s => s.Name, "server", "ServerNotFound"),
        _ => DeserializedTargets.Live(this, Server),
    };
}
