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

    /// <summary>WebSocket connections only: the close code to send, 1000 (NormalClosure, the
    /// default), 1001 (GoingAway), another code of RFC 6455 section 7.4.1, or an application's
    /// own from 3000 to 4999. The peer sees it as its close code.</summary>
    [Parameter]
    [ValidateRange(1000, 4999)]
    public int CloseStatus { get; set; } = 1000;

    /// <summary>WebSocket connections only: the reason sent with the close code (at most 123
    /// bytes of UTF-8).</summary>
    [Parameter]
    [ValidateNotNull]
    public string? CloseDescription { get; set; }

    /// <summary>Output each connection afterwards (its State shows Disconnected, or SendShutdown
    /// with -Shutdown Send). By default nothing is output.</summary>
    [Parameter]
    public SwitchParameter PassThru { get; set; }

    /// <inheritdoc/>
    protected override void BeginProcessingCore()
    {
        if (CloseStatus is 1004 or 1005 or 1006 or 1015 || CloseStatus is > 1015 and < 3000)
        {
            ThrowInvalidArgument($"-CloseStatus {CloseStatus} cannot be sent: 1004-1006 and 1015 are reserved, and 1016-2999 are for future standards. Use 1000-1003, 1007-1014, or 3000-4999.");
        }

        if (CloseDescription is not null && System.Text.Encoding.UTF8.GetByteCount(CloseDescription) > 123)
        {
            ThrowInvalidArgument("-CloseDescription is longer than the 123 bytes of UTF-8 a close frame carries; shorten it.");
        }
    }

    private bool WebSocketCloseGiven => MyInvocation.BoundParameters.ContainsKey(nameof(CloseStatus)) || CloseDescription is not null;

    /// <inheritdoc/>
    protected override void ProcessRecordCore()
    {
        System.Net.WebSockets.WebSocketCloseStatus status = (System.Net.WebSockets.WebSocketCloseStatus)CloseStatus;
        foreach (SocketConnection connection in TargetConnections())
        {
            if (WebSocketCloseGiven && !connection.IsWebSocket)
            {
                WriteSocketError(new SocketOperationException(SocketFailureKind.InvalidArgument,
                    $"-CloseStatus and -CloseDescription are for WebSocket connections; {connection} is not one. It was left open.", connection.PeerText), connection);
                continue;
            }

            if (Shutdown is null)
            {
                if (ShouldProcess(connection.ToString(), "Close connection"))
                {
                    connection.Close("Closed by this side.", status, CloseDescription);
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
                connection.ShutdownSend(status, CloseDescription);
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
