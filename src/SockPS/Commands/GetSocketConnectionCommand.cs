using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;
using SockPS.Core;

namespace SockPS.Commands;

/// <summary>
/// <para type="synopsis">Lists live connections, and those the peer closed that are not yet disconnected.</para>
/// <para type="description">Returns the connections of this process, whichever runspace opened
/// them, ordered by Id: a snapshot of the process-wide registry. A connection the peer closed stays
/// listed (State Closed, with its CloseReason) until Disconnect-Socket removes it, so what it sent
/// can still be read. -Id, -Name (wildcards allowed), -State and -Server narrow the list; an Id or
/// exact name that no connection has is a ConnectionNotFound error.</para>
/// </summary>
[Cmdlet(VerbsCommon.Get, "SocketConnection", DefaultParameterSetName = AllSet)]
[OutputType(typeof(SocketConnection))]
public sealed class GetSocketConnectionCommand : SockPSCmdlet
{
    private const string AllSet = "All";
    private const string IdSet = "Id";
    private const string NameSet = "Name";

    /// <summary>Only the connections with these Ids. Default: every connection.</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true, ParameterSetName = IdSet)]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(ConnectionCompleter))]
    public int[] Id { get; set; } = null!;

    /// <summary>Only the connections with these names; wildcards are allowed. Default: every
    /// connection.</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true, ParameterSetName = NameSet)]
    [ValidateNotNullOrEmpty]
    [SupportsWildcards]
    [ArgumentCompleter(typeof(ConnectionCompleter))]
    public string[] Name { get; set; } = null!;

    /// <summary>Only connections in these states: Open, SendShutdown (half-closed here) or Closed
    /// (closed by the peer). Default: every state.</summary>
    [Parameter]
    public SocketState[]? State { get; set; }

    /// <summary>Only connections accepted by these servers; Get-SocketServer output can be piped in.
    /// Default: connections from every server and from Connect-Socket.</summary>
    [Parameter(ValueFromPipeline = true, ParameterSetName = AllSet)]
    [Parameter(ParameterSetName = IdSet)]
    [Parameter(ParameterSetName = NameSet)]
    [ServerArgumentTransformation]
    [ArgumentCompleter(typeof(ServerCompleter))]
    public SocketServer[]? Server { get; set; }

    /// <inheritdoc/>
    protected override void ProcessRecordCore()
    {
        SocketServer[]? servers = Server is null ? null : System.Linq.Enumerable.ToArray(DeserializedTargets.Live(this, Server));
        if (servers is { Length: 0 })
        {
            return;
        }

        IEnumerable<SocketConnection> found = ParameterSetName switch
        {
            IdSet => Targets.Find(this, Id, null, SocketRegistry.GetConnection, () => SocketRegistry.Connections, c => c.Name, "connection", "ConnectionNotFound"),
            NameSet => Targets.Find(this, null, Name, SocketRegistry.GetConnection, () => SocketRegistry.Connections, c => c.Name, "connection", "ConnectionNotFound"),
            _ => SocketRegistry.Connections,
        };

        foreach (SocketConnection connection in found)
        {
            if ((State is null || State.Contains(connection.State))
                && (servers is null || servers.Any(s => ReferenceEquals(s, connection.Server))))
            {
                WriteObject(connection);
            }
        }
    }
}
