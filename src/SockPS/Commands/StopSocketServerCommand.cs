using System.Management.Automation;
using SockPS.Core;

namespace SockPS.Commands;

/// <summary>
/// <para type="synopsis">Stops servers: closes their listening sockets.</para>
/// <para type="description">Closes the listening socket, so new clients are refused, and removes
/// the server from Get-SocketServer. Connections already handed out by Wait-SocketConnection stay
/// open; accepted connections nobody took are closed. On a server started with -ScriptBlock the
/// running handlers are stopped and their connections closed; their output stays readable with
/// Receive-SocketServerOutput. On a server started with -FilePath the running programs are
/// stopped at once (with the programs they started) and their connections closed. A Unix socket
/// server removes its socket file.</para>
/// </summary>
[Cmdlet(VerbsLifecycle.Stop, "SocketServer", DefaultParameterSetName = ServerSet, SupportsShouldProcess = true)]
[OutputType(typeof(SocketServer))]
public sealed class StopSocketServerCommand : ServerCmdlet
{
    /// <summary>Output each stopped server (its State is Stopped). By default nothing is output.</summary>
    [Parameter]
    public SwitchParameter PassThru { get; set; }

    /// <inheritdoc/>
    protected override void ProcessRecordCore()
    {
        foreach (SocketServer server in TargetServers())
        {
            if (ShouldProcess(server.ToString(), "Stop server"))
            {
                server.Stop();
                if (PassThru)
                {
                    WriteObject(server);
                }
            }
        }
    }
}
