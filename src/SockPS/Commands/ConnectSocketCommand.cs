using System.Management.Automation;
using SockPS.Core;

namespace SockPS.Commands;

/// <summary>
/// <para type="synopsis">Opens a connection (the seed's connect): TCP (optionally with TLS), UDP or a Unix domain socket, returned as a live object.</para>
/// <para type="description">TCP resolves the name and tries each address until one connects. UDP
/// makes a datagram socket connected to one peer. -Path connects to a Unix domain socket. The
/// returned SocketConnection is what the other cmdlets act on; incoming data is buffered in the
/// background (bounded) until Receive-SocketData reads it.</para>
/// </summary>
[Cmdlet(VerbsCommunications.Connect, "Socket", DefaultParameterSetName = HostSet)]
[OutputType(typeof(SocketConnection))]
public sealed class ConnectSocketCommand : ConnectingCmdlet
{
    /// <summary>Seconds to wait for the connection, name lookup included. Default 30; 0 waits as long as the OS does.</summary>
    [Parameter]
    [ValidateRange(0, int.MaxValue)]
    public double TimeoutSeconds { get; set; } = SocketConnector.DefaultConnectTimeout.TotalSeconds;

    /// <summary>Seconds a receive on this connection waits for data by default. Default 30; 0 waits forever.</summary>
    [Parameter]
    [ValidateRange(0, int.MaxValue)]
    public double ReceiveTimeoutSeconds { get; set; } = ConnectionOptions.DefaultReceiveTimeout.TotalSeconds;

    /// <summary>A friendly name to find the connection by later.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    public string? Name { get; set; }

    /// <summary>Send small writes at once (disables Nagle's algorithm, TCP_NODELAY).</summary>
    [Parameter]
    public SwitchParameter NoDelay { get; set; }

    /// <summary>Enable TCP keep-alive probes (SO_KEEPALIVE).</summary>
    [Parameter]
    public SwitchParameter KeepAlive { get; set; }

    /// <summary>UDP: allow sending to broadcast addresses (SO_BROADCAST).</summary>
    [Parameter]
    public SwitchParameter Broadcast { get; set; }

    /// <inheritdoc/>
    protected override void ProcessRecord()
    {
        ConnectTarget target = ResolveTarget();
        ConnectionOptions options;
        try
        {
            if (Broadcast && target.Protocol != SocketProtocol.Udp)
            {
                throw new SocketOperationException(SocketFailureKind.InvalidArgument, "-Broadcast needs -Protocol Udp: only datagram sockets send to broadcast addresses.");
            }

            options = NewOptions(target);
            options.Name = Name;
            options.ReceiveTimeout = Seconds(ReceiveTimeoutSeconds, nameof(ReceiveTimeoutSeconds));
            options.NoDelay = NoDelay;
            options.KeepAlive = KeepAlive;
            options.Broadcast = Broadcast;
        }
        catch (SocketOperationException ex)
        {
            ThrowTerminatingError(ErrorRecords.From(ex, ex.EndPoint ?? (object?)Uri ?? Port));
            return;
        }

        SocketConnection? connection = Connect(target, options, Seconds(TimeoutSeconds, nameof(TimeoutSeconds)));
        if (connection is not null)
        {
            WriteObject(connection);
        }
    }
}
