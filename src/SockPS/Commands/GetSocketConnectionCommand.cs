using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;
using SockPS.Core;

namespace SockPS.Commands;

/// <summary>
/// <para type="synopsis">Lists live connections, and those the peer closed that are not yet disconnected.</para>
/// <para type="description">Returns a snapshot of the process-wide registry, by Id. Filter by Id, Name
/// (wildcards), State or the server that accepted them.</para>
/// </summary>
[Cmdlet(VerbsCommon.Get, "SocketConnection", DefaultParameterSetName = AllSet)]
[OutputType(typeof(SocketConnection))]
public sealed class GetSocketConnectionCommand : SockPSCmdlet
{
    private const string AllSet = "All";
    private const string IdSet = "Id";
    private const string NameSet = "Name";

    /// <summary>Only the connections with these Ids.</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true, ParameterSetName = IdSet)]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(ConnectionCompleter))]
    public int[] Id { get; set; } = null!;

    /// <summary>Only the connections with these names. Wildcards are allowed.</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true, ParameterSetName = NameSet)]
    [ValidateNotNullOrEmpty]
    [SupportsWildcards]
    [ArgumentCompleter(typeof(ConnectionCompleter))]
    public string[] Name { get; set; } = null!;

    /// <summary>Only connections in these states (Open, SendShutdown, Closed).</summary>
    [Parameter]
    public SocketState[]? State { get; set; }

    /// <summary>Only connections accepted by these servers; Get-SocketServer output can be piped in.</summary>
    [Parameter(ValueFromPipeline = true, ParameterSetName = AllSet)]
    [Parameter(ParameterSetName = IdSet)]
    [Parameter(ParameterSetName = NameSet)]
    [ServerArgumentTransformation]
    [ArgumentCompleter(typeof(ServerCompleter))]
    public SocketServer[]? Server { get; set; }

    /// <inheritdoc/>
    protected override void ProcessRecord()
    {
        IEnumerable<SocketConnection> found = ParameterSetName switch
        {
            IdSet => Targets.Find(this, Id, null, SocketRegistry.GetConnection, () => SocketRegistry.Connections, c => c.Name, "connection", "ConnectionNotFound"),
            NameSet => Targets.Find(this, null, Name, SocketRegistry.GetConnection, () => SocketRegistry.Connections, c => c.Name, "connection", "ConnectionNotFound"),
            _ => SocketRegistry.Connections,
        };

        foreach (SocketConnection connection in found)
        {
            if ((State is null || State.Contains(connection.State))
                && (Server is null || Server.Any(s => ReferenceEquals(s, connection.Server))))
            {
                WriteObject(connection);
            }
        }
    }
}
