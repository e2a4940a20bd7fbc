using System;
using System.Text;

namespace SockPS.Core;

/// <summary>Settings a new connection starts with. Servers hand a copy to every connection they accept.</summary>
public sealed class ConnectionOptions
{
    /// <summary>The default receive timeout: 30 seconds.</summary>
    public static readonly TimeSpan DefaultReceiveTimeout = TimeSpan.FromSeconds(30);

    /// <summary>A friendly name for the connection; may be null.</summary>
    public string? Name { get; set; }

    /// <summary>How text is encoded and decoded. Default: UTF-8 without a byte order mark.</summary>
    public Encoding Encoding { get; set; } = TextEncodings.Utf8NoBom;

    /// <summary>What a line ends with when sending lines. Default: a line feed.</summary>
    public string NewLine { get; set; } = "\n";

    /// <summary>Refuse the peer's Telnet options and take the negotiation out of what is received.</summary>
    public bool Telnet { get; set; }

    /// <summary>How long a receive waits for data; <see cref="TimeSpan.Zero"/> waits forever.</summary>
    public TimeSpan ReceiveTimeout { get; set; } = DefaultReceiveTimeout;

    /// <summary>Disable Nagle's algorithm (TCP_NODELAY).</summary>
    public bool NoDelay { get; set; }

    /// <summary>Enable TCP keep-alive probes (SO_KEEPALIVE).</summary>
    public bool KeepAlive { get; set; }

    /// <summary>Allow sending to broadcast addresses (SO_BROADCAST; datagram sockets).</summary>
    public bool Broadcast { get; set; }

    /// <summary>Socket options applied before bind or connect.</summary>
    public SocketOptionSet? SocketOptions { get; set; }

    /// <summary>For clients: reach the target through this proxy (TCP only); null connects directly.</summary>
    public ProxySettings? Proxy { get; set; }

    /// <summary>For clients: the local address to connect from (bind before connect); null lets
    /// the OS choose. Only targets of its address family are tried.</summary>
    public System.Net.IPAddress? LocalAddress { get; set; }

    /// <summary>For clients: the local port to connect from; 0 lets the OS choose.</summary>
    public int LocalPort { get; set; }

    /// <summary>For clients: authenticate the server with TLS right after connecting.</summary>
    public TlsClientOptions? Tls { get; set; }

    /// <summary>Record every send and receive from the start into this file (JSON lines, appended),
    /// as well as in memory; null records nothing until a transcript is started.</summary>
    public string? TranscriptPath { get; set; }

    /// <summary>A copy, so a server's template is not changed by one connection.</summary>
    public ConnectionOptions Clone() => (ConnectionOptions)MemberwiseClone();
}
