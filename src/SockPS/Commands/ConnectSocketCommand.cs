using System;
using System.Collections;
using System.Globalization;
using System.Management.Automation;
using System.Net.Sockets;
using System.Text;
using SockPS.Core;

namespace SockPS.Commands;

/// <summary>
/// <para type="synopsis">Opens a connection over TCP (optionally with TLS), UDP or a Unix domain socket, and returns it as a live object.</para>
/// <para type="description">What Python's socket.connect does. Over TCP, Connect-Socket resolves
/// the name and tries each of its addresses until one connects. With -Protocol Udp it makes a
/// datagram socket connected to one peer. -Path connects to a Unix domain socket, and -Uri takes
/// the target as a tcp://, tls://, udp:// or unix:// URI. -UseTls (or a tls:// URI) encrypts the
/// connection and checks the server's certificate.</para>
/// <para type="description">The returned SocketConnection is what Send-SocketData,
/// Receive-SocketData and Disconnect-Socket act on. Data that arrives is buffered in the
/// background (bounded) until Receive-SocketData reads it. A connection that fails is a
/// non-terminating error with a stable id, such as ConnectionRefused, ConnectTimeout or
/// HostNotFound.</para>
/// </summary>
[Cmdlet(VerbsCommunications.Connect, "Socket", DefaultParameterSetName = HostSet)]
[OutputType(typeof(SocketConnection))]
public sealed class ConnectSocketCommand : SockPSCmdlet
{
    private const string HostSet = "ComputerName";
    private const string UriSet = "Uri";
    private const string PathSet = "Path";

    /// <summary>The host name or IP address (IPv4 or IPv6) to connect to.</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true, ParameterSetName = HostSet)]
    [Alias("HostName", "Host", "CN")]
    [ValidateNotNullOrEmpty]
    public string ComputerName { get; set; } = null!;

    /// <summary>The port to connect to: a number (1-65535), a numeric string, or a service name
    /// such as http or smtp (looked up for the -Protocol given).</summary>
    [Parameter(Mandatory = true, Position = 1, ValueFromPipelineByPropertyName = true, ParameterSetName = HostSet)]
    [ValidateNotNullOrEmpty]
    public string Port { get; set; } = null!;

    /// <summary>Where to connect as a URI: tcp://host:port, tls://host:port (TCP with TLS),
    /// udp://host:port (IPv6 in brackets: tcp://[::1]:8080), or unix:///path/to.sock.</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true, ParameterSetName = UriSet)]
    [ValidateNotNull]
    public Uri Uri { get; set; } = null!;

    /// <summary>The path of the Unix domain socket file to connect to, such as /run/docker.sock.
    /// A relative path is taken from the current location.</summary>
    [Parameter(Mandatory = true, ValueFromPipelineByPropertyName = true, ParameterSetName = PathSet)]
    [ValidateNotNullOrEmpty]
    public string Path { get; set; } = null!;

    /// <summary>Tcp (the default) for a stream connection, or Udp for a datagram socket connected
    /// to one peer. With -Path, Tcp means a Unix stream socket and Udp a Unix datagram socket.</summary>
    [Parameter(ParameterSetName = HostSet, ValueFromPipelineByPropertyName = true)]
    [Parameter(ParameterSetName = PathSet, ValueFromPipelineByPropertyName = true)]
    public SocketProtocol Protocol { get; set; } = SocketProtocol.Tcp;

    /// <summary>Seconds the whole connect may take, name lookup (and the TLS handshake) included.
    /// Default 30; 0 waits as long as the OS does.</summary>
    [Parameter]
    [ValidateRange(0, int.MaxValue)]
    public double TimeoutSeconds { get; set; } = SocketConnector.DefaultConnectTimeout.TotalSeconds;

    /// <summary>The connection's ReceiveTimeoutSeconds: how many seconds Receive-SocketData (and
    /// the receive methods) wait for data when not given -TimeoutSeconds. Default 30; 0 waits
    /// forever. It can be changed later on the object.</summary>
    [Parameter]
    [ValidateRange(0, int.MaxValue)]
    public double ReceiveTimeoutSeconds { get; set; } = ConnectionOptions.DefaultReceiveTimeout.TotalSeconds;

    /// <summary>How text sent and received on the connection is encoded: utf8 (the default, UTF-8
    /// without a byte order mark), utf8BOM, ascii, unicode (UTF-16LE), bigendianunicode, utf32,
    /// latin1, any other name or code page number .NET knows, or an Encoding object.</summary>
    [Parameter]
    [EncodingArgumentTransformation]
    [ArgumentCompleter(typeof(EncodingArgumentCompleter))]
    [ValidateNotNull]
    public Encoding Encoding { get; set; } = TextEncodings.Utf8NoBom;

    /// <summary>The line end Send-SocketData -Line appends: "`n" (the default) or, for protocols
    /// such as HTTP and SMTP, "`r`n". Received lines may end with either, whatever this is.</summary>
    [Parameter]
    [ValidateNotNull]
    public string NewLine { get; set; } = "\n";

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

    /// <summary>Use only the host's IPv4 (InterNetwork) or only its IPv6 (InterNetworkV6)
    /// addresses. By default every address is tried, in the order the resolver gives them.</summary>
    [Parameter(ParameterSetName = HostSet)]
    [Parameter(ParameterSetName = UriSet)]
    [ValidateSet(nameof(System.Net.Sockets.AddressFamily.InterNetwork), nameof(System.Net.Sockets.AddressFamily.InterNetworkV6))]
    public AddressFamily? AddressFamily { get; set; }

    /// <summary>UDP only: allow sending to broadcast addresses such as 255.255.255.255
    /// (SO_BROADCAST). Off by default.</summary>
    [Parameter]
    public SwitchParameter Broadcast { get; set; }

    /// <summary>Encrypt the TCP connection with TLS right after connecting (a tls:// URI does the
    /// same). The server's certificate must chain to a root this machine trusts, or to
    /// -CaCertificate, and be issued to -ComputerName (or -ServerName).</summary>
    [Parameter]
    public SwitchParameter UseTls { get; set; }

    /// <summary>TLS: the name to send as SNI and to check the server's certificate against.
    /// Default: -ComputerName (or the URI's host).</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? ServerName { get; set; }

    /// <summary>TLS: CA certificates to trust for this connection only, besides the machine's
    /// roots: paths to PEM or DER files, or X509Certificate2 objects. Nothing is added to any
    /// certificate store.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public object[]? CaCertificate { get; set; }

    /// <summary>TLS: accept any server certificate, and write a warning saying so. For test
    /// servers only: the connection is encrypted, but nothing proves who is at the other end.
    /// Cannot be combined with -CaCertificate.</summary>
    [Parameter]
    public SwitchParameter SkipCertificateCheck { get; set; }

    /// <summary>TLS: a client certificate, with its private key, to present when the server asks
    /// for one (mutual TLS).</summary>
    [Parameter]
    [ValidateNotNull]
    public System.Security.Cryptography.X509Certificates.X509Certificate2? ClientCertificate { get; set; }

    /// <summary>TLS: the path of a PFX (PKCS #12) file holding the client certificate and its
    /// private key; its password goes in -CertificatePassword.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? ClientCertificatePath { get; set; }

    /// <summary>TLS: the password of the -ClientCertificatePath file, as a SecureString (for
    /// example from Read-Host -AsSecureString). Default: no password.</summary>
    [Parameter]
    [ValidateNotNull]
    public System.Security.SecureString? CertificatePassword { get; set; }

    /// <summary>TLS: the protocol versions to allow: Tls12, Tls13 (Tls10 and Tls11 only for old
    /// devices). Default: Tls12 and Tls13 (TLS 1.2 alone where the runtime has no TLS 1.3).</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public TlsVersion[]? TlsProtocol { get; set; }

    /// <summary>Socket options to set before connecting, as a hashtable: ReceiveBufferSize and
    /// SendBufferSize (bytes), Ttl (hops, 1-255), ReuseAddress ($true or $false), Linger (seconds,
    /// or $false) and DontFragment (IPv4). Example: @{ ReceiveBufferSize = 1MB; Ttl = 16 }. Options
    /// not given keep the OS defaults.</summary>
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
                PathSet => (null, null, TlsParameters.Resolve(this, Path), Protocol),
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

            bool tls = UseTls || (ParameterSetName == UriSet && string.Equals(Uri.Scheme, "tls", StringComparison.OrdinalIgnoreCase));
            bool tlsSettings = ServerName is not null || ClientCertificatePath is not null || CaCertificate is not null
                || ClientCertificate is not null || TlsProtocol is not null || SkipCertificateCheck;
            if (!tls && tlsSettings)
            {
                throw new SocketOperationException(SocketFailureKind.InvalidArgument,
                    "-ServerName, -CaCertificate, -SkipCertificateCheck, -ClientCertificate and -TlsProtocol are TLS settings: add -UseTls (or use a tls:// URI).");
            }

            if (tls && (target.protocol == SocketProtocol.Udp || target.path is not null))
            {
                throw new SocketOperationException(SocketFailureKind.InvalidArgument,
                    "-UseTls is for TCP connections. For a Unix stream socket, connect and then run Protect-SocketConnection -ServerName <name>.");
            }

            options = new ConnectionOptions
            {
                Tls = tls
                    ? TlsParameters.Client(this, ServerName, CaCertificate, SkipCertificateCheck, ClientCertificate, ClientCertificatePath, CertificatePassword, TlsProtocol)
                    : null,
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

        if (options.Tls?.SkipCertificateCheck == true)
        {
            WriteWarning($"Certificate checks are off for {target.host}: the connection is encrypted, but nothing proves who is at the other end. Use -CaCertificate to trust a private CA instead.");
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

        if (scheme is not ("tcp" or "udp" or "tls"))
        {
            throw InvalidUri(uri, "Use tcp://host:port, tls://host:port, udp://host:port or unix:///path.");
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
