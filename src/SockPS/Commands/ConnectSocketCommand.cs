using System;
using System.Collections;
using System.Globalization;
using System.Management.Automation;
using System.Net.Sockets;
using System.Text;
using SockPS.Core;

namespace SockPS.Commands;

/// <summary>
/// <para type="synopsis">Opens a connection (the seed's connect): TCP, UDP or a Unix domain socket, returned as a live object.</para>
/// <para type="description">TCP resolves the name and tries each address until one connects. UDP
/// makes a datagram socket connected to one peer. -Path connects to a Unix domain socket. The
/// returned SocketConnection is what the other cmdlets act on; incoming data is buffered in the
/// background (bounded) until Receive-SocketData reads it.</para>
/// </summary>
[Cmdlet(VerbsCommunications.Connect, "Socket", DefaultParameterSetName = HostSet)]
[OutputType(typeof(SocketConnection))]
public sealed class ConnectSocketCommand : SockPSCmdlet
{
    private const string HostSet = "ComputerName";
    private const string UriSet = "Uri";
    private const string PathSet = "Path";

    /// <summary>The host name or IP address to connect to.</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true, ParameterSetName = HostSet)]
    [Alias("HostName", "Host", "CN")]
    [ValidateNotNullOrEmpty]
    public string ComputerName { get; set; } = null!;

    /// <summary>The port: a number, a numeric string or a service name such as http.</summary>
    [Parameter(Mandatory = true, Position = 1, ValueFromPipelineByPropertyName = true, ParameterSetName = HostSet)]
    [ValidateNotNullOrEmpty]
    public string Port { get; set; } = null!;

    /// <summary>Where to connect as a URI: tcp://host:port, udp://host:port (IPv6 in brackets:
    /// tcp://[::1]:8080), or unix:///path/to.sock.</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true, ParameterSetName = UriSet)]
    [ValidateNotNull]
    public Uri Uri { get; set; } = null!;

    /// <summary>The path of a Unix domain socket to connect to.</summary>
    [Parameter(Mandatory = true, ValueFromPipelineByPropertyName = true, ParameterSetName = PathSet)]
    [ValidateNotNullOrEmpty]
    public string Path { get; set; } = null!;

    /// <summary>Tcp (default; a stream) or Udp (datagrams). With -Path: a Unix stream or datagram socket.</summary>
    [Parameter(ParameterSetName = HostSet, ValueFromPipelineByPropertyName = true)]
    [Parameter(ParameterSetName = PathSet, ValueFromPipelineByPropertyName = true)]
    public SocketProtocol Protocol { get; set; } = SocketProtocol.Tcp;

    /// <summary>Seconds to wait for the connection, name lookup included. Default 30; 0 waits as long as the OS does.</summary>
    [Parameter]
    [ValidateRange(0, int.MaxValue)]
    public double TimeoutSeconds { get; set; } = SocketConnector.DefaultConnectTimeout.TotalSeconds;

    /// <summary>Seconds a receive on this connection waits for data by default. Default 30; 0 waits forever.</summary>
    [Parameter]
    [ValidateRange(0, int.MaxValue)]
    public double ReceiveTimeoutSeconds { get; set; } = ConnectionOptions.DefaultReceiveTimeout.TotalSeconds;

    /// <summary>How text is encoded and decoded: utf8 (default, no BOM), ascii, unicode, latin1, ...,
    /// a code page number or an Encoding object.</summary>
    [Parameter]
    [EncodingArgumentTransformation]
    [ArgumentCompleter(typeof(EncodingArgumentCompleter))]
    [ValidateNotNull]
    public Encoding Encoding { get; set; } = TextEncodings.Utf8NoBom;

    /// <summary>What Send-SocketData -Line appends. Default "`n".</summary>
    [Parameter]
    [ValidateNotNull]
    public string NewLine { get; set; } = "\n";

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

    /// <summary>Use only IPv4 (InterNetwork) or only IPv6 (InterNetworkV6) addresses of the host.</summary>
    [Parameter(ParameterSetName = HostSet)]
    [Parameter(ParameterSetName = UriSet)]
    [ValidateSet(nameof(System.Net.Sockets.AddressFamily.InterNetwork), nameof(System.Net.Sockets.AddressFamily.InterNetworkV6))]
    public AddressFamily? AddressFamily { get; set; }

    /// <summary>UDP: allow sending to broadcast addresses (SO_BROADCAST).</summary>
    [Parameter]
    public SwitchParameter Broadcast { get; set; }

    /// <summary>Socket options set before connecting: @{ ReceiveBufferSize = 1MB; SendBufferSize = 1MB;
    /// Ttl = 16; ReuseAddress = $true; Linger = 5; DontFragment = $true }.</summary>
    [Parameter]
    [ValidateNotNull]
    public IDictionary? SocketOption { get; set; }

    /// <inheritdoc/>
    protected override void ProcessRecord()
    {
        ConnectionOptions options;
        (string? host, string? portText, string? path, SocketProtocol protocol) target;
        try
        {
            target = ParameterSetName switch
            {
                UriSet => FromUri(Uri),
                PathSet => (null, null, SessionState.Path.GetUnresolvedProviderPathFromPSPath(Path), Protocol),
                _ => (ComputerName, Port, null, Protocol),
            };
        }
        catch (SocketOperationException ex)
        {
            ThrowInvalidArgument(ex.Message, Uri, "InvalidUri");
            return;
        }

        try
        {
            if (Broadcast && target.protocol != SocketProtocol.Udp)
            {
                throw new SocketOperationException(SocketFailureKind.InvalidArgument, "-Broadcast needs -Protocol Udp: only datagram sockets send to broadcast addresses.");
            }

            options = new ConnectionOptions
            {
                Name = Name,
                Encoding = Encoding,
                NewLine = NewLine,
                ReceiveTimeout = Seconds(ReceiveTimeoutSeconds, nameof(ReceiveTimeoutSeconds)),
                NoDelay = NoDelay,
                KeepAlive = KeepAlive,
                Broadcast = Broadcast,
                SocketOptions = SocketParameters.Options(SocketOption),
            };
        }
        catch (SocketOperationException ex)
        {
            ThrowTerminatingError(ErrorRecords.From(ex, ex.EndPoint ?? (object?)Uri ?? Port));
            return;
        }

        TimeSpan timeout = Seconds(TimeoutSeconds, nameof(TimeoutSeconds));
        string where = target.path ?? target.host!;
        try
        {
            if (target.path is not null)
            {
                WriteVerbose($"Connecting to the Unix socket {target.path}.");
                WriteObject(Await(SocketConnector.ConnectUnixAsync(target.path, target.protocol, options, timeout, StopToken)));
                return;
            }

            int port = ResolvePort(target.portText!, target.protocol);
            where = EndPointText.Format(target.host!, port);
            WriteVerbose($"Connecting to {where} over {target.protocol}.");
            WriteObject(target.protocol == SocketProtocol.Udp
                ? Await(SocketConnector.ConnectUdpAsync(target.host!, port, options, timeout, AddressFamily, StopToken))
                : Await(SocketConnector.ConnectTcpAsync(target.host!, port, options, timeout, AddressFamily, StopToken)));
        }
        catch (SocketOperationException ex) when (ex.Kind is not SocketFailureKind.InvalidArgument and not SocketFailureKind.NotSupported)
        {
            WriteSocketError(ex, where);
        }
        catch (SocketOperationException ex)
        {
            ThrowTerminatingError(ErrorRecords.From(ex, where));
        }
    }

    private int ResolvePort(string port, SocketProtocol protocol) =>
        ServicePorts.Resolve(port, protocol == SocketProtocol.Udp ? "udp" : "tcp");

    private static (string? Host, string? Port, string? Path, SocketProtocol Protocol) FromUri(Uri uri)
    {
        string scheme = uri.IsAbsoluteUri ? uri.Scheme.ToLowerInvariant() : string.Empty;
        if (scheme == "unix")
        {
            // unix:///run/app.sock; unix:/run/app.sock also parses with an empty host.
            string path = Uri.UnescapeDataString(uri.AbsolutePath);
            if (path.Length == 0 || !string.IsNullOrEmpty(uri.Host))
            {
                throw InvalidUri(uri, "Write a Unix socket URI with three slashes: unix:///run/app.sock.");
            }

            return (null, null, path, SocketProtocol.Tcp);
        }

        if (scheme is not ("tcp" or "udp"))
        {
            throw InvalidUri(uri, "Use tcp://host:port, udp://host:port or unix:///path.");
        }

        if (uri.Port <= 0)
        {
            throw InvalidUri(uri, $"It has no port. Write it as {scheme}://host:port.");
        }

        // DnsSafeHost drops the brackets of an IPv6 literal.
        return (uri.DnsSafeHost, uri.Port.ToString(CultureInfo.InvariantCulture), null, scheme == "udp" ? SocketProtocol.Udp : SocketProtocol.Tcp);
    }

    private static SocketOperationException InvalidUri(Uri uri, string hint) =>
        new(SocketFailureKind.InvalidArgument, $"The URI '{uri.OriginalString}' is not supported. {hint}", uri.OriginalString);
}
