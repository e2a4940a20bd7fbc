using System.Management.Automation;
using SockPS.Core;

namespace SockPS.Commands;

/// <summary>
/// <para type="synopsis">Returns the next connection a server accepted, waiting for a client if there is none.</para>
/// <para type="description">What Python's socket.accept does. Servers accept in the background;
/// Wait-SocketConnection waits until a connection is there and returns it, for a TLS server with
/// its handshake done. It waits forever unless -TimeoutSeconds is given (then a client that does
/// not come is an AcceptTimeout error, and the server keeps listening); Ctrl+C stops the wait.
/// With several servers and -Any it returns the first connection any of them accepts.</para>
/// </summary>
[Cmdlet(VerbsLifecycle.Wait, "SocketConnection", DefaultParameterSetName = ServerSet)]
[OutputType(typeof(SockPSJob))]
[OutputType(typeof(SocketConnection))]
public sealed class WaitSocketConnectionCommand : ServerCmdlet
{
    /// <summary>Run as a job in this process (as Start-ThreadJob does) and return the job at once:
    /// Get-Job, Wait-Job, Receive-Job and Stop-Job work on it, Receive-Job returns the live objects
    /// and the errors with their SockPS ids, and Stop-Job cancels the work.</summary>
    [Parameter]
    public SwitchParameter AsJob { get; set; }

    /// <inheritdoc/>
    protected override bool RunsAsJob => AsJob;


    private readonly System.Collections.Generic.List<SocketServer> _any = new();

    /// <inheritdoc/>
    protected override void EndProcessingCore()
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

    /// <summary>With several servers: return the first connection any of them accepts. Without it,
    /// one connection is taken from each server in turn.</summary>
    [Parameter]
    public SwitchParameter Any { get; set; }

    /// <summary>Seconds to wait for a client (for each server in turn, without -Any); 0, the
    /// default, waits forever.</summary>
    [Parameter]
    [ValidateSeconds]
    public double TimeoutSeconds { get; set; }

    /// <inheritdoc/>
    protected override void ProcessRecordCore()
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
