using System.Collections;
using System.Management.Automation;
using SockPS.Core;

namespace SockPS.Commands;

/// <summary>
/// Connect-Socket's parameters beyond where to connect (the connect timeout, the name, TCP and
/// UDP socket options) and the one way from all of them to a live connection: Connect-Socket and
/// Enter-SocketSession (which connects the same way when not given -Connection) share them. Each
/// is declared in the four target parameter sets only, so a cmdlet with other sets (-Connection)
/// does not take them there. -Name is the exception: it binds by property name, and a parameter
/// in several named sets that binds from the pipeline makes PowerShell try the default set first
/// (CSV rows with a Uri column would then miss -ComputerName), so it is in every set and
/// Enter-SocketSession looks only at a -Name given on the command line.
/// </summary>
public abstract class ConnectSocketCmdlet : ConnectingCmdlet
{
    /// <summary>With a ws:// or wss:// URI only: extra headers for the upgrade request, such as
    /// @{ Authorization = 'Bearer ...'; Origin = 'https://example.org' }. Host, Upgrade,
    /// Connection and the Sec-WebSocket-* headers are SockPS's own.</summary>
    [Parameter(ParameterSetName = UriSet)]
    [Parameter(ParameterSetName = HostSet)]
    [ValidateNotNull]
    public IDictionary? Header { get; set; }

    /// <summary>With a ws:// or wss:// URI only: the subprotocols to offer (Sec-WebSocket-Protocol),
    /// in order of preference. The one the server chose is the connection's SubProtocol.</summary>
    [Parameter(ParameterSetName = UriSet)]
    [Parameter(ParameterSetName = HostSet)]
    [ValidateNotNullOrEmpty]
    public string[]? SubProtocol { get; set; }

    /// <inheritdoc/>
    protected override IDictionary? WebSocketHeader => Header;

    /// <inheritdoc/>
    protected override string[]? WebSocketSubProtocol => SubProtocol;

    /// <summary>Seconds the whole connect may take, name lookup (and the TLS handshake) included.
    /// Default 30; 0 waits as long as the OS does.</summary>
    [Parameter(ParameterSetName = HostSet)]
    [Parameter(ParameterSetName = UriSet)]
    [Parameter(ParameterSetName = PathSet)]
    [Parameter(ParameterSetName = AbstractSet)]
    [ValidateSeconds]
    public double TimeoutSeconds { get; set; } = SocketConnector.DefaultConnectTimeout.TotalSeconds;

    /// <summary>The connection's ReceiveTimeoutSeconds: how many seconds Receive-SocketData (and
    /// the receive methods) wait for data when not given -TimeoutSeconds. Default 30; 0 waits
    /// forever. It can be changed later on the object.</summary>
    [Parameter(ParameterSetName = HostSet)]
    [Parameter(ParameterSetName = UriSet)]
    [Parameter(ParameterSetName = PathSet)]
    [Parameter(ParameterSetName = AbstractSet)]
    [ValidateSeconds]
    public double ReceiveTimeoutSeconds { get; set; } = ConnectionOptions.DefaultReceiveTimeout.TotalSeconds;

    /// <summary>A name to find the connection by later (-Name on Get-SocketConnection and the other
    /// cmdlets). Default: Connection followed by its Id, such as Connection3.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    public string? Name { get; set; }

    /// <summary>Send small writes at once instead of gathering them (TCP_NODELAY: turns Nagle's
    /// algorithm off). Off by default.</summary>
    [Parameter(ParameterSetName = HostSet)]
    [Parameter(ParameterSetName = UriSet)]
    [Parameter(ParameterSetName = PathSet)]
    [Parameter(ParameterSetName = AbstractSet)]
    public SwitchParameter NoDelay { get; set; }

    /// <summary>Send TCP keep-alive probes on an idle connection (SO_KEEPALIVE), so a dead peer is
    /// noticed; the probe timing is the OS's. Off by default.</summary>
    [Parameter(ParameterSetName = HostSet)]
    [Parameter(ParameterSetName = UriSet)]
    [Parameter(ParameterSetName = PathSet)]
    [Parameter(ParameterSetName = AbstractSet)]
    public SwitchParameter KeepAlive { get; set; }

    /// <summary>Turn TCP keep-alive on and send the first probe after this many seconds of
    /// silence (TCP_KEEPIDLE), 1-32767, instead of the OS default (two hours on Linux and Windows).</summary>
    [Parameter(ParameterSetName = HostSet)]
    [Parameter(ParameterSetName = UriSet)]
    [Parameter(ParameterSetName = PathSet)]
    [Parameter(ParameterSetName = AbstractSet)]
    [ValidateRange(1, 32767)]
    public int KeepAliveSeconds { get; set; }

    /// <summary>Turn TCP keep-alive on and send further probes this many seconds apart
    /// (TCP_KEEPINTVL), 1-32767, while the peer does not answer.</summary>
    [Parameter(ParameterSetName = HostSet)]
    [Parameter(ParameterSetName = UriSet)]
    [Parameter(ParameterSetName = PathSet)]
    [Parameter(ParameterSetName = AbstractSet)]
    [ValidateRange(1, 32767)]
    public int KeepAliveIntervalSeconds { get; set; }

    /// <summary>Turn TCP keep-alive on and drop the connection after this many unanswered probes
    /// (TCP_KEEPCNT), 1-127.</summary>
    [Parameter(ParameterSetName = HostSet)]
    [Parameter(ParameterSetName = UriSet)]
    [Parameter(ParameterSetName = PathSet)]
    [Parameter(ParameterSetName = AbstractSet)]
    [ValidateRange(1, 127)]
    public int KeepAliveCount { get; set; }

    /// <summary>UDP only: allow sending to broadcast addresses such as 255.255.255.255
    /// (SO_BROADCAST). Off by default.</summary>
    [Parameter(ParameterSetName = HostSet)]
    [Parameter(ParameterSetName = UriSet)]
    [Parameter(ParameterSetName = PathSet)]
    [Parameter(ParameterSetName = AbstractSet)]
    public SwitchParameter Broadcast { get; set; }

    /// <summary>UDP only: how many routers a multicast datagram sent on this socket may cross
    /// (IP_MULTICAST_TTL; the hop limit for IPv6), 0-255. The OS default is 1: the local network.</summary>
    [Parameter(ParameterSetName = HostSet)]
    [Parameter(ParameterSetName = UriSet)]
    [Parameter(ParameterSetName = PathSet)]
    [Parameter(ParameterSetName = AbstractSet)]
    [ValidateRange(0, 255)]
    public int MulticastTimeToLive { get; set; }

    /// <summary>UDP only: $false stops multicast datagrams sent on this socket from being
    /// delivered to group members on this machine as well (IP_MULTICAST_LOOP); the OS default is
    /// $true.</summary>
    [Parameter(ParameterSetName = HostSet)]
    [Parameter(ParameterSetName = UriSet)]
    [Parameter(ParameterSetName = PathSet)]
    [Parameter(ParameterSetName = AbstractSet)]
    public bool MulticastLoopback { get; set; }

    /// <summary>UDP only: the address of the local interface that multicast datagrams leave from
    /// (IP_MULTICAST_IF), such as 127.0.0.1 to keep them on this machine. Default: the interface of
    /// the route to the group.</summary>
    [Parameter(ParameterSetName = HostSet)]
    [Parameter(ParameterSetName = UriSet)]
    [Parameter(ParameterSetName = PathSet)]
    [Parameter(ParameterSetName = AbstractSet)]
    [ValidateNotNull]
    public System.Net.IPAddress? MulticastInterface { get; set; }

    /// <summary>Connects as Connect-Socket does: the connection, or null after a
    /// non-terminating error about the target. Options that cannot go together stop the command.</summary>
    private protected SocketConnection? ConnectFromParameters()
    {
        if (ResolveTarget() is not ConnectTarget target)
        {
            return null;
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
            return null;
        }

        return Connect(target, options, Seconds(TimeoutSeconds, nameof(TimeoutSeconds)));
    }
}
