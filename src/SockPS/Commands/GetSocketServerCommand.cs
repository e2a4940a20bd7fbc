using System.Collections.Generic;
using System.Management.Automation;
using SockPS.Core;

namespace SockPS.Commands;

/// <summary>
/// <para type="synopsis">Lists the servers that are listening.</para>
/// <para type="description">Returns the listening servers of this process, whichever runspace
/// started them, ordered by Id: a snapshot of the process-wide registry. -Id and -Name (wildcards
/// allowed) pick servers; an Id or exact name that no server has is a ServerNotFound error.
/// Stopped servers are not listed.</para>
/// </summary>
[Cmdlet(VerbsCommon.Get, "SocketServer", DefaultParameterSetName = AllSet)]
[OutputType(typeof(SocketServer))]
public sealed class GetSocketServerCommand : SockPSCmdlet
{
    private const string AllSet = "All";
    private const string IdSet = "Id";
    private const string NameSet = "Name";

    /// <summary>Only the servers with these Ids. Default: every server.</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true, ParameterSetName = IdSet)]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(ServerCompleter))]
    public int[] Id { get; set; } = null!;

    /// <summary>Only the servers with these names; wildcards are allowed. Default: every server.</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true, ParameterSetName = NameSet)]
    [ValidateNotNullOrEmpty]
    [SupportsWildcards]
    [ArgumentCompleter(typeof(ServerCompleter))]
    public string[] Name { get; set; } = null!;

    /// <inheritdoc/>
    protected override void ProcessRecordCore()
    {
        IEnumerable<SocketServer> found = ParameterSetName switch
        {
            IdSet => Targets.Find(this, Id, null, SocketRegistry.GetServer, () => SocketRegistry.Servers, s => s.Name, "server", "ServerNotFound"),
            NameSet => Targets.Find(this, null, Name, SocketRegistry.GetServer, () => SocketRegistry.Servers, s => s.Name, "server", "ServerNotFound"),
            _ => SocketRegistry.Servers,
        };

        foreach (SocketServer server in found)
        {
            WriteObject(server);
        }
    }
}
