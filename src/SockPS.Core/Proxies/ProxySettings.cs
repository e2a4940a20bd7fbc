using System;
using System.Globalization;

namespace SockPS.Core;

/// <summary>The proxy protocols SockPS speaks.</summary>
public enum ProxyKind
{
    /// <summary>SOCKS5 (RFC 1928); the target's name is resolved here and its address sent.</summary>
    Socks5,
    /// <summary>SOCKS5 with the target's name sent to the proxy, which resolves it (curl's socks5h).</summary>
    Socks5h,
    /// <summary>SOCKS4: IPv4 addresses only, resolved here.</summary>
    Socks4,
    /// <summary>SOCKS4a: the target's name is sent to the proxy, which resolves it.</summary>
    Socks4a,
    /// <summary>An HTTP proxy that tunnels with CONNECT (RFC 9110 section 9.3.6).</summary>
    Http,
}

/// <summary>
/// Where a proxy is and how to talk to it: parsed from -Proxy's URI (socks5://, socks5h://,
/// socks4://, socks4a://, http://) with the credentials of -ProxyCredential. Credentials in the
/// URI's user-info part are refused: a command line with a password in it ends up in the
/// history file and in process listings, where a PSCredential does not.
/// </summary>
public sealed class ProxySettings
{
    /// <summary>The port a SOCKS proxy listens on when the URI gives none.</summary>
    public const int DefaultSocksPort = 1080;

    /// <summary>The port an HTTP proxy listens on when the URI gives none (curl's default too).</summary>
    public const int DefaultHttpPort = 1080;

    private ProxySettings(ProxyKind kind, string host, int port, string? userName, string? password)
    {
        Kind = kind;
        Host = host;
        Port = port;
        UserName = userName;
        Password = password;
        Uri = new Uri($"{Scheme(kind)}://{EndPointText.Format(host, port)}");
    }

    /// <summary>The protocol.</summary>
    public ProxyKind Kind { get; }

    /// <summary>The proxy's host name or address, without brackets.</summary>
    public string Host { get; }

    /// <summary>The proxy's port.</summary>
    public int Port { get; }

    /// <summary>SOCKS5 or HTTP Basic user name; for SOCKS4 the USERID field. Null for none.</summary>
    public string? UserName { get; }

    /// <summary>The password that goes with <see cref="UserName"/>; null for none.</summary>
    internal string? Password { get; }

    /// <summary>The proxy as a URI without credentials: socks5://127.0.0.1:1080.</summary>
    public Uri Uri { get; }

    /// <summary>The proxy as connections show it: "socks5://127.0.0.1:1080", no credentials, no
    /// trailing slash.</summary>
    public string Text => $"{Scheme(Kind)}://{EndPointText.Format(Host, Port)}";

    /// <summary>True when the proxy, not this machine, resolves the target's name.</summary>
    public bool ResolvesNames => Kind is ProxyKind.Socks5h or ProxyKind.Socks4a or ProxyKind.Http;

    /// <summary>"socks5://127.0.0.1:1080".</summary>
    public override string ToString() => Text;

    /// <summary>How messages name the proxy: "the SOCKS5 proxy 127.0.0.1:1080".</summary>
    internal string Describe() => $"the {KindName} proxy {EndPointText.Format(Host, Port)}";

    internal string KindName => Kind switch
    {
        ProxyKind.Socks5 or ProxyKind.Socks5h => "SOCKS5",
        ProxyKind.Socks4 => "SOCKS4",
        ProxyKind.Socks4a => "SOCKS4a",
        _ => "HTTP",
    };

    internal string KindWithArticle => (Kind == ProxyKind.Http ? "an " : "a ") + KindName;

    internal string Where => EndPointText.Format(Host, Port);

    /// <summary>Reads a proxy URI.</summary>
    /// <param name="uri">socks5://host:port, socks5h://, socks4://, socks4a:// or http://; the
    /// port defaults to 1080.</param>
    /// <param name="userName">From -ProxyCredential; null for none.</param>
    /// <param name="password">From -ProxyCredential; null for none.</param>
    /// <exception cref="SocketOperationException">InvalidArgument for anything else.</exception>
    public static ProxySettings Parse(Uri uri, string? userName = null, string? password = null)
    {
        if (uri is null)
        {
            throw new ArgumentNullException(nameof(uri));
        }

        string text = uri.OriginalString;
        if (!uri.IsAbsoluteUri)
        {
            throw Invalid(text, "Write it as socks5://host:port, socks5h://, socks4://, socks4a:// or http://host:port.");
        }

        ProxyKind kind = uri.Scheme.ToLowerInvariant() switch
        {
            "socks5" => ProxyKind.Socks5,
            "socks5h" => ProxyKind.Socks5h,
            "socks4" => ProxyKind.Socks4,
            "socks4a" => ProxyKind.Socks4a,
            "http" => ProxyKind.Http,
            "socks" => ProxyKind.Socks5,
            "https" => throw Invalid(text, "TLS to the proxy itself (https://) is not supported; use http:// for an HTTP CONNECT proxy. TLS to the target still runs end to end through the tunnel."),
            _ => throw Invalid(text, "Use socks5://, socks5h:// (the proxy resolves names), socks4://, socks4a:// or http:// (HTTP CONNECT)."),
        };

        if (!string.IsNullOrEmpty(uri.UserInfo))
        {
            throw Invalid(text, "Give the user name and password separately, not in the URI: "
                + "a password typed into a command line is kept in the history file.", SocketSetting.ProxyCredential);
        }

        if (uri.AbsolutePath is not ("/" or "") || uri.Query.Length > 0 || uri.Fragment.Length > 0)
        {
            throw Invalid(text, "A proxy URI has only a scheme, a host and a port, such as socks5://127.0.0.1:1080.");
        }

        string host = uri.DnsSafeHost;
        if (host.Length == 0)
        {
            throw Invalid(text, "It has no host. Write it as socks5://host:port.");
        }

        // Uri fills in 80 for http:// without a port; a proxy port, like curl's, defaults to 1080.
        int port = HasExplicitPort(text) ? uri.Port : (kind == ProxyKind.Http ? DefaultHttpPort : DefaultSocksPort);

        if (userName is not null)
        {
            if (kind is ProxyKind.Socks5 or ProxyKind.Socks5h)
            {
                // RFC 1929: one length byte each.
                if (System.Text.Encoding.UTF8.GetByteCount(userName) is 0 or > 255 || System.Text.Encoding.UTF8.GetByteCount(password ?? string.Empty) > 255)
                {
                    throw Invalid(text, "SOCKS5 user names and passwords are 1 to 255 bytes long.");
                }
            }
            else if (kind is ProxyKind.Socks4 or ProxyKind.Socks4a && !string.IsNullOrEmpty(password))
            {
                throw Invalid(text, "SOCKS4 has no passwords: it sends only a user id. Give the user id with an empty password, or use socks5://.", SocketSetting.ProxyCredential);
            }

            if (userName.IndexOf('\0') >= 0 || (kind == ProxyKind.Http && userName.IndexOf(':') >= 0))
            {
                throw Invalid(text, kind == ProxyKind.Http
                    ? "An HTTP Basic user name cannot contain ':'."
                    : "The user name cannot contain a NUL character.");
            }
        }

        return new ProxySettings(kind, host, port, string.IsNullOrEmpty(userName) ? null : userName, userName is null ? null : password ?? string.Empty);
    }

    private static bool HasExplicitPort(string text)
    {
        int start = text.IndexOf("://", StringComparison.Ordinal);
        string authority = start < 0 ? text : text.Substring(start + 3);
        int slash = authority.IndexOfAny(new[] { '/', '?', '#' });
        if (slash >= 0)
        {
            authority = authority.Substring(0, slash);
        }

        int colon = authority.LastIndexOf(':');
        return colon >= 0 && colon > authority.LastIndexOf(']') && colon < authority.Length - 1;
    }

    private static string Scheme(ProxyKind kind) => kind.ToString().ToLower(CultureInfo.InvariantCulture);

    private static SocketOperationException Invalid(string text, string hint, SocketSetting setting = SocketSetting.None) =>
        new(SocketFailureKind.InvalidArgument, $"The proxy '{text}' cannot be used. {hint}", text) { Setting = setting };
}
