using System.Management.Automation;
using System.Net;
using System.Text;
using SockPS.Core;

namespace SockPS.Commands;

/// <summary>
/// <para type="synopsis">Listens for TCP connections (the seed's bind and listen).</para>
/// <para type="description">Binds 127.0.0.1 unless -Address says otherwise, listens, and accepts
/// in the background. Wait-SocketConnection hands out the accepted connections. -Port 0 (the
/// default) lets the OS pick a free port; the returned object shows it.</para>
/// </summary>
[Cmdlet(VerbsLifecycle.Start, "SocketServer")]
[OutputType(typeof(SocketServer))]
public sealed class StartSocketServerCommand : SockPSCmdlet
{
    /// <summary>The port: a number, a numeric string or a service name. 0 (the default) picks a free port.</summary>
    [Parameter(Position = 0, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    public string Port { get; set; } = "0";

    /// <summary>The local address to listen on: an IP address, Any or 0.0.0.0 (every IPv4 address),
    /// IPv6Any or :: (every address), or the empty string for any. Default: 127.0.0.1, so nothing
    /// outside this machine can connect unless asked for.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    [AllowEmptyString]
    public string? Address { get; set; }

    /// <summary>How many connections the OS queues before they are accepted. Default 128.</summary>
    [Parameter]
    [ValidateRange(1, int.MaxValue)]
    public int Backlog { get; set; } = 128;

    /// <summary>A friendly name to find the server by later.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? Name { get; set; }

    /// <summary>The encoding accepted connections start with (default utf8 without BOM).</summary>
    [Parameter]
    [EncodingArgumentTransformation]
    [ArgumentCompleter(typeof(EncodingArgumentCompleter))]
    [ValidateNotNull]
    public Encoding Encoding { get; set; } = TextEncodings.Utf8NoBom;

    /// <summary>What Send-SocketData -Line appends on accepted connections. Default "`n".</summary>
    [Parameter]
    [ValidateNotNull]
    public string NewLine { get; set; } = "\n";

    /// <summary>The default receive timeout of accepted connections, in seconds. Default 30; 0 waits forever.</summary>
    [Parameter]
    [ValidateRange(0, int.MaxValue)]
    public double ReceiveTimeoutSeconds { get; set; } = ConnectionOptions.DefaultReceiveTimeout.TotalSeconds;

    /// <summary>Disable Nagle's algorithm on accepted connections.</summary>
    [Parameter]
    public SwitchParameter NoDelay { get; set; }

    /// <summary>Enable TCP keep-alive on accepted connections.</summary>
    [Parameter]
    public SwitchParameter KeepAlive { get; set; }

    /// <inheritdoc/>
    protected override void ProcessRecord()
    {
        try
        {
            int port = ServicePorts.Resolve(Port, "tcp", allowZero: true);
            IPAddress address = Addresses.ParseListenAddress(Address);
            ConnectionOptions options = new()
            {
                Name = null,
                Encoding = Encoding,
                NewLine = NewLine,
                ReceiveTimeout = Seconds(ReceiveTimeoutSeconds, nameof(ReceiveTimeoutSeconds)),
                NoDelay = NoDelay,
                KeepAlive = KeepAlive,
            };
            SocketServer server = SocketServer.Start(new IPEndPoint(address, port), Backlog, options, Name);
            WriteVerbose($"Listening on {server.LocalEndPoint}.");
            WriteObject(server);
        }
        catch (SocketOperationException ex)
        {
            // A server that cannot bind its one address cannot do anything else: terminating.
            ThrowTerminatingError(ErrorRecords.From(ex, ex.EndPoint ?? Port));
        }
    }
}
