using System;
using System.Management.Automation;
using System.Net.Sockets;
using System.Text;
using SockPS.Core;

namespace SockPS.Commands;

/// <summary>
/// <para type="synopsis">Opens a TCP connection (the seed's connect) and returns it as a live object.</para>
/// <para type="description">Resolves the name, tries each address until one connects, and returns a
/// SocketConnection that the other cmdlets act on. Incoming data is buffered in the background
/// (bounded) until Receive-SocketData reads it.</para>
/// </summary>
[Cmdlet(VerbsCommunications.Connect, "Socket", DefaultParameterSetName = HostSet)]
[OutputType(typeof(SocketConnection))]
public sealed class ConnectSocketCommand : SockPSCmdlet
{
    private const string HostSet = "ComputerName";
    private const string UriSet = "Uri";

    /// <summary>The host name or IP address to connect to.</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true, ParameterSetName = HostSet)]
    [Alias("HostName", "Host", "CN")]
    [ValidateNotNullOrEmpty]
    public string ComputerName { get; set; } = null!;

    /// <summary>The port: a number, a numeric string or a service name such as http.</summary>
    [Parameter(Mandatory = true, Position = 1, ValueFromPipelineByPropertyName = true, ParameterSetName = HostSet)]
    [ValidateNotNullOrEmpty]
    public string Port { get; set; } = null!;

    /// <summary>Where to connect as a URI: tcp://host:port (IPv6 in brackets: tcp://[::1]:8080).</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true, ParameterSetName = UriSet)]
    [ValidateNotNull]
    public Uri Uri { get; set; } = null!;

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
    [Parameter]
    [ValidateSet(nameof(System.Net.Sockets.AddressFamily.InterNetwork), nameof(System.Net.Sockets.AddressFamily.InterNetworkV6))]
    public AddressFamily? AddressFamily { get; set; }

    /// <inheritdoc/>
    protected override void ProcessRecord()
    {
        (string host, string portText) = ParameterSetName == UriSet ? FromUri(Uri) : (ComputerName, Port);
        int port;
        try
        {
            port = ServicePorts.Resolve(portText, "tcp");
        }
        catch (SocketOperationException ex)
        {
            ThrowTerminatingError(ErrorRecords.From(ex, portText));
            return;
        }

        ConnectionOptions options = new()
        {
            Name = Name,
            Encoding = Encoding,
            NewLine = NewLine,
            ReceiveTimeout = Seconds(ReceiveTimeoutSeconds, nameof(ReceiveTimeoutSeconds)),
            NoDelay = NoDelay,
            KeepAlive = KeepAlive,
        };

        string target = EndPointText.Format(host, port);
        WriteVerbose($"Connecting to {target}.");
        try
        {
            SocketConnection connection = Await(SocketConnector.ConnectTcpAsync(host, port, options,
                Seconds(TimeoutSeconds, nameof(TimeoutSeconds)), AddressFamily, StopToken));
            WriteObject(connection);
        }
        catch (SocketOperationException ex)
        {
            WriteSocketError(ex, target);
        }
    }

    private (string Host, string Port) FromUri(Uri uri)
    {
        if (!uri.IsAbsoluteUri || !string.Equals(uri.Scheme, "tcp", StringComparison.OrdinalIgnoreCase))
        {
            ThrowInvalidArgument($"The URI '{uri.OriginalString}' is not supported. Use tcp://host:port.", uri, "InvalidUri");
        }

        if (uri.IsDefaultPort || uri.Port <= 0)
        {
            ThrowInvalidArgument($"The URI '{uri.OriginalString}' has no port. Write it as tcp://host:port.", uri, "InvalidUri");
        }

        // DnsSafeHost drops the brackets of an IPv6 literal.
        return (uri.DnsSafeHost, uri.Port.ToString(System.Globalization.CultureInfo.InvariantCulture));
    }
}
