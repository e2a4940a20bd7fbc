using System.Management.Automation;
using SockPS.Core;

namespace SockPS.Commands;

/// <summary>
/// <para type="synopsis">Opens a connection over TCP (optionally with TLS), UDP or a Unix domain socket, and returns it as a live object.</para>
/// <para type="description">What Python's socket.connect does. Over TCP, Connect-Socket resolves
/// the name and tries each of its addresses until one connects. With -Protocol Udp it makes a
/// datagram socket connected to one peer. -Path connects to a Unix domain socket, and -Uri takes
/// the target as a tcp://, tls://, udp:// or unix:// URI, and ws:// or wss:// opens a WebSocket
/// (one message per receive and per send). -UseTls (or a tls:// URI) encrypts the
/// connection and checks the server's certificate.</para>
/// <para type="description">The returned SocketConnection is what Send-SocketData,
/// Receive-SocketData and Disconnect-Socket act on. Data that arrives is buffered in the
/// background (bounded) until Receive-SocketData reads it. A connection that fails is a
/// non-terminating error with a stable id, such as ConnectionRefused, ConnectTimeout or
/// HostNotFound.</para>
/// </summary>
[Cmdlet(VerbsCommunications.Connect, "Socket", DefaultParameterSetName = HostSet)]
[OutputType(typeof(SocketConnection))]
public sealed class ConnectSocketCommand : ConnectSocketCmdlet
{
    /// <inheritdoc/>
    protected override void ProcessRecordCore()
    {
        if (ConnectFromParameters() is { } connection)
        {
            WriteObject(connection);
        }
    }
}
