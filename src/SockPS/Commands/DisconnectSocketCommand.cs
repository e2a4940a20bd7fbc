using System.Management.Automation;
using SockPS.Core;

namespace SockPS.Commands;

/// <summary>
/// <para type="synopsis">Closes connections, or half-closes their sending side.</para>
/// <para type="description">What Python's socket.close and shutdown do. Without -Shutdown,
/// Disconnect-Socket closes the connection and removes it from Get-SocketConnection; its State
/// becomes Disconnected and the peer sees the end of the stream. With -Shutdown Send it only
/// half-closes: the peer sees the end of the stream (its Receive-SocketData -ToEnd completes)
/// while this side can still receive the answer. Connections the peer closed stay listed until
/// they are disconnected.</para>
/// </summary>
[Cmdlet(VerbsCommunications.Disconnect, "Socket", DefaultParameterSetName = ConnectionSet, SupportsShouldProcess = true)]
[OutputType(typeof(SocketConnection))]
public sealed class DisconnectSocketCommand : ConnectionCmdlet
{
    /// <summary>Send: half-close, so the peer sees the end of the stream while data can still flow
    /// to this side (the State becomes SendShutdown). Default: close the connection completely.</summary>
    [Parameter]
    [ValidateSet("Send")]
    public string? Shutdown { get; set; }

    /// <summary>Output each connection afterwards (its State shows Disconnected, or SendShutdown
    /// with -Shutdown Send). By default nothing is output.</summary>
    [Parameter]
    public SwitchParameter PassThru { get; set; }

    /// <inheritdoc/>
    protected override void ProcessRecordCore()
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
