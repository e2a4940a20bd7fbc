using System;
using System.Collections;
using System.Globalization;
using System.Management.Automation;
using System.Net.Sockets;
using System.Text;
using SockPS.Core;

namespace SockPS.Commands;

/// <summary>
/// What Connect-Socket and Invoke-SocketRequest share: where to connect (-ComputerName/-Port,
/// -Uri, -Path), TLS and its checks, text settings, socket options and a transcript file; and
/// the one way from those parameters to a live connection, with the same errors.
/// </summary>
public abstract class ConnectingCmdlet : SockPSCmdlet
{
    /// <summary>Parameter set: host name and port.</summary>
    protected const string HostSet = "ComputerName";

    /// <summary>Parameter set: a URI.</summary>
    protected const string UriSet = "Uri";

    /// <summary>Parameter set: a Unix socket path.</summary>
    protected const string PathSet = "Path";

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

    /// <summary>Use only the host's IPv4 (InterNetwork) or only its IPv6 (InterNetworkV6)
    /// addresses. By default every address is tried, in the order the resolver gives them.</summary>
    [Parameter(ParameterSetName = HostSet)]
    [Parameter(ParameterSetName = UriSet)]
    [ValidateSet(nameof(System.Net.Sockets.AddressFamily.InterNetwork), nameof(System.Net.Sockets.AddressFamily.InterNetworkV6))]
    public AddressFamily? AddressFamily { get; set; }

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

    /// <summary>Record every send and receive on the connection, from the first byte, into this
    /// file: JSON lines (time, direction, bytes as Base64), appended. Get-SocketTranscript -Path
    /// reads it back.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? TranscriptPath { get; set; }

    /// <summary>Where the parameters say to connect. A URI that cannot be used stops the command.</summary>
    private protected ConnectTarget ResolveTarget()
    {
        try
        {
            return ParameterSetName switch
            {
                UriSet => FromUri(Uri, UseTls),
                PathSet => new ConnectTarget(null, null, TlsParameters.Resolve(this, Path), Protocol, UseTls),
                _ => new ConnectTarget(ComputerName, Port, null, Protocol, UseTls),
            };
        }
        catch (SocketOperationException ex)
        {
            ThrowInvalidArgument(ex.Message, Uri, "InvalidUri");
            throw;
        }
    }

    /// <summary>The options every connection made here starts with. Throws InvalidArgument for
    /// combinations that cannot work (TLS settings without TLS, TLS over UDP, a transcript path
    /// that cannot be written), before anything connects.</summary>
    private protected ConnectionOptions NewOptions(ConnectTarget target)
    {
        bool tlsSettings = ServerName is not null || ClientCertificatePath is not null || CaCertificate is not null
            || ClientCertificate is not null || TlsProtocol is not null || SkipCertificateCheck;
        if (!target.Tls && tlsSettings)
        {
            throw new SocketOperationException(SocketFailureKind.InvalidArgument,
                "-ServerName, -CaCertificate, -SkipCertificateCheck, -ClientCertificate and -TlsProtocol are TLS settings: add -UseTls (or use a tls:// URI).");
        }

        if (target.Tls && (target.Protocol == SocketProtocol.Udp || target.Path is not null))
        {
            throw new SocketOperationException(SocketFailureKind.InvalidArgument,
                "-UseTls is for TCP connections. For a Unix stream socket, connect and then run Protect-SocketConnection -ServerName <name>.");
        }

        string? transcript = null;
        if (TranscriptPath is not null)
        {
            transcript = TlsParameters.Resolve(this, TranscriptPath);
            SocketTranscriptFile.CheckWritable(transcript);
        }

        return new ConnectionOptions
        {
            Tls = target.Tls
                ? TlsParameters.Client(this, ServerName, CaCertificate, SkipCertificateCheck, ClientCertificate, ClientCertificatePath, CertificatePassword, TlsProtocol)
                : null,
            Encoding = Encoding,
            NewLine = NewLine,
            SocketOptions = SocketParameters.Options(SocketOption),
            TranscriptPath = transcript,
        };
    }

    /// <summary>Connects. A failure to reach this target is written as a non-terminating error
    /// (null is returned); input that can never work (an unknown service name) stops the command.</summary>
    private protected SocketConnection? Connect(ConnectTarget target, ConnectionOptions options, TimeSpan timeout)
    {
        if (options.Tls?.SkipCertificateCheck == true)
        {
            WriteWarning($"Certificate checks are off for {target.Host}: the connection is encrypted, but nothing proves who is at the other end. Use -CaCertificate to trust a private CA instead.");
        }

        string where = target.Path ?? target.Host!;
        try
        {
            if (target.Path is not null)
            {
                WriteVerbose($"Connecting to the Unix socket {target.Path}.");
                return Await(SocketConnector.ConnectUnixAsync(target.Path, target.Protocol, options, timeout, StopToken));
            }

            int port = ServicePorts.Resolve(target.Port!, target.Protocol == SocketProtocol.Udp ? "udp" : "tcp");
            where = EndPointText.Format(target.Host!, port);
            WriteVerbose($"Connecting to {where} over {target.Protocol}.");
            return target.Protocol == SocketProtocol.Udp
                ? Await(SocketConnector.ConnectUdpAsync(target.Host!, port, options, timeout, AddressFamily, StopToken))
                : Await(SocketConnector.ConnectTcpAsync(target.Host!, port, options, timeout, AddressFamily, StopToken));
        }
        catch (SocketOperationException ex) when (ex.Kind is not SocketFailureKind.InvalidArgument and not SocketFailureKind.NotSupported)
        {
            WriteSocketError(ex, where);
            return null;
        }
        catch (SocketOperationException ex)
        {
            ThrowTerminatingError(ErrorRecords.From(ex, where));
            return null;
        }
    }

    private static ConnectTarget FromUri(Uri uri, bool useTls)
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

            return new ConnectTarget(null, null, path, SocketProtocol.Tcp, useTls);
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
        return new ConnectTarget(uri.DnsSafeHost, uri.Port.ToString(CultureInfo.InvariantCulture), null,
            scheme == "udp" ? SocketProtocol.Udp : SocketProtocol.Tcp, useTls || scheme == "tls");
    }

    private static SocketOperationException InvalidUri(Uri uri, string hint) =>
        new(SocketFailureKind.InvalidArgument, $"The URI '{uri.OriginalString}' is not supported. {hint}", uri.OriginalString);
}

/// <summary>Where to connect: a host and port, or a Unix socket path; the protocol; TLS or not.</summary>
internal sealed class ConnectTarget
{
    public ConnectTarget(string? host, string? port, string? path, SocketProtocol protocol, bool tls)
    {
        Host = host;
        Port = port;
        Path = path;
        Protocol = protocol;
        Tls = tls;
    }

    public string? Host { get; }

    public string? Port { get; }

    public string? Path { get; }

    public SocketProtocol Protocol { get; }

    public bool Tls { get; }

    /// <summary>How messages name the target before the port is resolved.</summary>
    public override string ToString() => Path ?? (Port is null ? Host! : $"{Host}:{Port}");
}
