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
public sealed class ConnectSocketCommand : ConnectingCmdlet
{
    /// <summary>Seconds the whole connect may take, name lookup (and the TLS handshake) included.
    /// Default 30; 0 waits as long as the OS does.</summary>
    [Parameter]
    [ValidateSeconds]
    public double TimeoutSeconds { get; set; } = SocketConnector.DefaultConnectTimeout.TotalSeconds;

    /// <summary>The connection's ReceiveTimeoutSeconds: how many seconds Receive-SocketData (and
    /// the receive methods) wait for data when not given -TimeoutSeconds. Default 30; 0 waits
    /// forever. It can be changed later on the object.</summary>
    [Parameter]
    [ValidateSeconds]
    public double ReceiveTimeoutSeconds { get; set; } = ConnectionOptions.DefaultReceiveTimeout.TotalSeconds;

    /// <summary>A name to find the connection by later (-Name on Get-SocketConnection and the other
    /// cmdlets). Default: Connection followed by its Id, such as Connection3.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    public string? Name { get; set; }

    /// <summary>Send small writes at once instead of gathering them (TCP_NODELAY: turns Nagle's
    /// algorithm off). Off by default.</summary>
    [Parameter]
    public SwitchParameter NoDelay { get; set; }

    /// <summary>Send TCP keep-alive probes on an idle connection (SO_KEEPALIVE), so a dead peer is
    /// noticed; the probe timing is the OS's. Off by default.</summary>
    [Parameter]
    public SwitchParameter KeepAlive { get; set; }

    /// <summary>Turn TCP keep-alive on and send the first probe after this many seconds of
    /// silence (TCP_KEEPIDLE), 1-32767, instead of the OS default (two hours on Linux and Windows).</summary>
    [Parameter]
    [ValidateRange(1, 32767)]
    public int KeepAliveSeconds { get; set; }

    /// <summary>Turn TCP keep-alive on and send further probes this many seconds apart
    /// (TCP_KEEPINTVL), 1-32767, while the peer does not answer.</summary>
    [Parameter]
    [ValidateRange(1, 32767)]
    public int KeepAliveIntervalSeconds { get; set; }

    /// <summary>Turn TCP keep-alive on and drop the connection after this many unanswered probes
    /// (TCP_KEEPCNT), 1-127.</summary>
    [Parameter]
    [ValidateRange(1, 127)]
    public int KeepAliveCount { get; set; }

    /// <summary>UDP only: allow sending to broadcast addresses such as 255.255.255.255
    /// (SO_BROADCAST). Off by default.</summary>
    [Parameter]
    public SwitchParameter Broadcast { get; set; }

    /// <summary>UDP only: how many routers a multicast datagram sent on this socket may cross
    /// (IP_MULTICAST_TTL; the hop limit for IPv6), 0-255. The OS default is 1: the local network.</summary>
    [Parameter]
    [ValidateRange(0, 255)]
    public int MulticastTimeToLive { get; set; }

    /// <summary>UDP only: $false stops multicast datagrams sent on this socket from being
    /// delivered to group members on this machine as well (IP_MULTICAST_LOOP); the OS default is
    /// $true.</summary>
    [Parameter]
    public bool MulticastLoopback { get; set; }

    /// <summary>UDP only: the address of the local interface that multicast datagrams leave from
    /// (IP_MULTICAST_IF), such as 127.0.0.1 to keep them on this machine. Default: the interface of
    /// the route to the group.</summary>
    [Parameter]
    [ValidateNotNull]
    public System.Net.IPAddress? MulticastInterface { get; set; }

    /// <inheritdoc/>
    protected override void ProcessRecordCore()
    {
        if (ResolveTarget() is not ConnectTarget target)
        {
            return;
        }

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
            SocketOptionSet? tuned = SocketTuningParameters.Apply(this, options.SocketOptions, KeepAliveSeconds, KeepAliveIntervalSeconds, KeepAliveCount,
                nameof(MulticastTimeToLive), nameof(MulticastLoopback), MulticastTimeToLive, MulticastLoopback, MulticastInterface, reusePort: false);
            if (tuned is not null && (tuned.HasKeepAlive && target.Protocol == SocketProtocol.Udp))
            {
                throw new SocketOperationException(SocketFailureKind.InvalidArgument,
                    "-KeepAliveSeconds, -KeepAliveIntervalSeconds and -KeepAliveCount are for TCP connections: UDP has no keep-alive probes.");
            }

            if (tuned is not null && tuned.HasMulticast && target.Protocol != SocketProtocol.Udp)
            {
                throw new SocketOperationException(SocketFailureKind.InvalidArgument,
                    "-MulticastTimeToLive, -MulticastLoopback and -MulticastInterface are for UDP sockets: add -Protocol Udp.");
            }

            options.SocketOptions = tuned;
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
