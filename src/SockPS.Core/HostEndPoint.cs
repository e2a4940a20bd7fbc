using System.Net;

namespace SockPS.Core;

/// <summary>
/// A target known only by name: what a connection through a proxy that resolves names
/// (socks5h://, socks4a://, http://) shows as its RemoteEndPoint, since the address the proxy
/// reached is never told to this side. It prints as "example.com:443".
/// </summary>
public sealed class HostEndPoint : DnsEndPoint
{
    /// <summary>Creates the endpoint.</summary>
    public HostEndPoint(string host, int port)
        : base(host, port)
    {
    }

    /// <summary>"example.com:443".</summary>
    public override string ToString() => EndPointText.Format(Host, Port);
}
