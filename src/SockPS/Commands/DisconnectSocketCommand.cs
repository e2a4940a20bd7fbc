using System.Management.Automation;
using SockPS.Core;

namespace SockPS.Commands;

/// <summary>
/// <para type="synopsis">Closes connections (the seed's close), or half-closes their sending side.</para>
/// <para type="description">Without -Shutdown, closes the connection and removes it from
/// Get-SocketConnection. With -Shutdown Send, sends end-of-stream to the peer (its -ToEnd
/// completes) while this side can still receive.</para>
/// </summary>
[Cmdlet(VerbsCommunications.Disconnect, "Socket", DefaultParameterSetName = ConnectionSet, SupportsShouldProcess = true)]
[OutputType(typeof(SocketConnection))]
public sealed class DisconnectSocketCommand : ConnectionCmdlet
{
    /// <summary>Send: half-close, so the peer sees end of stream while data can still flow to this side.</summary>
    [Parameter]
    [ValidateSet("Send")]
    public string? Shutdown { get; set; }

    /// <summary>Output the connection afterwards (its State shows Disconnected, or SendShutdown with -Shutdown Send).</summary>
    [Parameter]
    public SwitchParameter PassThru { get; set; }

    /// <inheritdoc/>
    protected override void ProcessRecord()
    {
        foreach (SocketConnection connection in TargetConnections())
        {
            if (Shutdown is null)
            {
                if (ShouldProcess(connection.ToString(), "Close connection"))
                {
                    connection.Close();
                    if (PassThru)
                    {
                        WriteObject(connection);
                    }
                }

                continue;
            }

            if (!ShouldProcess(connection.ToString(), "Shut down sending"))
            {
                continue;
            }

            try
            {
                connection.ShutdownSend();
                if (PassThru)
                {
                    WriteObject(connection);
                }
            }
            catch (SocketOperationException ex)
            {
                WriteSocketError(ex, connection);
            }
        }
    }
}
