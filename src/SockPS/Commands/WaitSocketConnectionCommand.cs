using System.Management.Automation;
using SockPS.Core;

namespace SockPS.Commands;

/// <summary>
/// <para type="synopsis">Hands out the next connection a server accepted (the seed's accept).</para>
/// <para type="description">Servers accept in the background; this waits until a connection is
/// there and returns it. Waits forever unless -TimeoutSeconds is given; Ctrl+C stops the wait.</para>
/// </summary>
[Cmdlet(VerbsLifecycle.Wait, "SocketConnection", DefaultParameterSetName = ServerSet)]
[OutputType(typeof(SocketConnection))]
public sealed class WaitSocketConnectionCommand : ServerCmdlet
{
    private readonly System.Collections.Generic.List<SocketServer> _any = new();

    /// <inheritdoc/>
    protected override void EndProcessing()
    {
        if (_any.Count == 0)
        {
            return;
        }

        try
        {
            WriteObject(Await(SocketServer.AcceptAnyAsync(_any, Seconds(TimeoutSeconds, nameof(TimeoutSeconds)), StopToken)));
        }
        catch (SocketOperationException ex)
        {
            WriteSocketError(ex, _any.ToArray(), "ServerStopped");
        }
    }

    /// <summary>With several servers: return the first connection any of them accepts (without it,
    /// one connection from each, in turn).</summary>
    [Parameter]
    public SwitchParameter Any { get; set; }

    /// <summary>Seconds to wait; 0 (the default) waits forever.</summary>
    [Parameter]
    [ValidateRange(0, int.MaxValue)]
    public double TimeoutSeconds { get; set; }

    /// <inheritdoc/>
    protected override void ProcessRecord()
    {
        if (Any)
        {
            _any.AddRange(TargetServers());
            return;
        }

        foreach (SocketServer server in TargetServers())
        {
            try
            {
                WriteObject(Await(server.AcceptAsync(Seconds(TimeoutSeconds, nameof(TimeoutSeconds)), StopToken)));
            }
            catch (SocketOperationException ex)
            {
                WriteSocketError(ex, server, "ServerStopped");
            }
        }
    }
}
