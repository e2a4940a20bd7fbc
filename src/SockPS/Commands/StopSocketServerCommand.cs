using System.Management.Automation;
using SockPS.Core;

namespace SockPS.Commands;

/// <summary>
/// <para type="synopsis">Stops servers listening.</para>
/// <para type="description">Closes the listening socket. Connections already handed out by
/// Wait-SocketConnection stay open; accepted connections nobody took are closed.</para>
/// </summary>
[Cmdlet(VerbsLifecycle.Stop, "SocketServer", DefaultParameterSetName = ServerSet, SupportsShouldProcess = true)]
[OutputType(typeof(SocketServer))]
public sealed class StopSocketServerCommand : ServerCmdlet
{
    /// <summary>Output the stopped server.</summary>
    [Parameter]
    public SwitchParameter PassThru { get; set; }

    /// <inheritdoc/>
    protected override void ProcessRecord()
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
