using System;
using System.Collections.Generic;
using System.IO;
using System.Security.Cryptography;
using System.Text;
using System.Threading;
using System.Threading.Tasks;

namespace SockPS.Core;

/// <summary>What a WebSocket client asks for beyond the target: the path, headers, subprotocols.</summary>
public sealed class WebSocketClientOptions
{
    /// <summary>The request target: path and query, such as /chat?room=1.</summary>
    public string Resource { get; set; } = "/";

    /// <summary>The Host header (host, or host:port when the port is not the scheme's default).</summary>
    public string HostHeader { get; set; } = "localhost";

    /// <summary>Subprotocols offered (Sec-WebSocket-Protocol), in order of preference.</summary>
    public IReadOnlyList<string> SubProtocols { get; set; } = Array.Empty<string>();

    /// <summary>Extra request headers (Origin, Authorization, ...).</summary>
    public IReadOnlyList<KeyValuePair<string, string>> Headers { get; set; } = Array.Empty<KeyValuePair<string, string>>();

    /// <summary>How often an unsolicited pong goes out to keep the connection alive (zero: never).</summary>
    public TimeSpan KeepAliveInterval { get; set; } = TimeSpan.FromSeconds(30);
}

/// <summary>What a WebSocket server accepts: the path, the subprotocols it speaks.</summary>
public sealed class WebSocketServerOptions
{
    /// <summary>The path clients must ask for (the query is ignored); null accepts any path.</summary>
    public string? Path { get; set; }

    /// <summary>Subprotocols the server speaks; the first one the client offers is chosen.</summary>
    public IReadOnlyList<string> SubProtocols { get; set; } = Array.Empty<string>();

    /// <summary>How long a client may take to send its upgrade request.</summary>
    public TimeSpan HandshakeTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>How often an unsolicited pong goes out to keep the connection alive (zero: never).</summary>
    public TimeSpan KeepAliveInterval { get; set; } = TimeSpan.FromSeconds(30);
}

/// <summary>The result of an upgrade: the stream the WebSocket runs on (with any bytes read past
/// the headers put back in front), what was agreed, and the request's details.</summary>
internal sealed class WebSocketUpgrade
{
    public WebSocketUpgrade(Stream stream, string? subProtocol, string resource, IReadOnlyDictionary<string, string> headers)
    {
        Stream = stream;
        SubProtocol = subProtocol;
        Resource = resource;
        Headers = headers;
    }

    public Stream Stream { get; }

    public string? SubProtocol { get; }

    public string Resource { get; }

    public IReadOnlyDictionary<string, string> Headers { get; }

    /// <summary>True on the accepting side.</summary>
    public bool IsServer { get; set; }

    public TimeSpan KeepAliveInterval { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>The largest message taken (0: the default).</summary>
    public int MaxMessageSize { get; set; }
}

/// <summary>
/// The HTTP/1.1 upgrade of RFC 6455 section 4, both sides: the only HTTP SockPS speaks for
/// WebSocket. The frames after it are .NET's (<see cref="WebSockets.Create"/>).
/// </summary>
internal static class WebSocketHandshake
{
    private const string Guid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
    private const int HeaderLimit = 16 * 1024;

    internal static string AcceptFor(string key)
    {
        using SHA1 sha1 = SHA1.Create();
        return Convert.ToBase64String(sha1.ComputeHash(Encoding.ASCII.GetBytes(key.Trim() + Guid)));
    }

    /// <summary>The client side: sends the GET with Upgrade, checks the 101 and Sec-WebSocket-Accept.</summary>
    public static async Task<WebSocketUpgrade> ClientAsync(Stream stream, WebSocketClientOptions options, string where, CancellationToken token)
    {
        byte[] nonce = new byte[16];
        using (RandomNumberGenerator random = RandomNumberGenerator.Create())
        {
            random.GetBytes(nonce);
        }

        string key = Convert.ToBase64String(nonce);
        StringBuilder request = new();
        request.Append("GET ").Append(options.Resource).Append(" HTTP/1.1\r\n");
        request.Append("Host: ").Append(options.HostHeader).Append("\r\n");
        request.Append("Upgrade: websocket\r\nConnection: Upgrade\r\n");
        request.Append("Sec-WebSocket-Key: ").Append(key).Append("\r\n");
        request.Append("Sec-WebSocket-Version: 13\r\n");
        if (options.SubProtocols.Count > 0)
        {
            request.Append("Sec-WebSocket-Protocol: ").Append(string.Join(", ", options.SubProtocols)).Append("\r\n");
        }

        foreach (KeyValuePair<string, string> header in options.Headers)
        {
            if (header.Key.IndexOfAny(new[] { '\r', '\n', ':' }) >= 0 || header.Value.IndexOfAny(new[] { '\r', '\n' }) >= 0)
            {
                throw new SocketOperationException(SocketFailureKind.InvalidArgument,
                    $"The header '{header.Key}' cannot be sent: names may not hold ':' or line ends, values may not hold line ends.", where);
            }

            request.Append(header.Key).Append(": ").Append(header.Value).Append("\r\n");
        }

        request.Append("\r\n");
        byte[] bytes = Encoding.ASCII.GetBytes(request.ToString());
        await stream.WriteAsync(bytes, 0, bytes.Length, token).ConfigureAwait(false);
        await stream.FlushAsync(token).ConfigureAwait(false);

        (string statusLine, Dictionary<string, string> headers, byte[] rest) = await ReadHeadAsync(stream, where, "answer", token).ConfigureAwait(false);
        string[] status = statusLine.Split(new[] { ' ' }, 3);
        if (status.Length < 2 || !status[0].StartsWith("HTTP/", StringComparison.Ordinal) || status[1] != "101")
        {
            throw new SocketOperationException(SocketFailureKind.WebSocketHandshake,
                $"{where} did not accept the WebSocket upgrade: it answered \"{EndPointText.Escape(statusLine)}\". Check the path in the URI ({options.Resource}), and that the service speaks WebSocket there.", where);
        }

        if (!headers.TryGetValue("sec-websocket-accept", out string? accept) || accept.Trim() != AcceptFor(key))
        {
            throw new SocketOperationException(SocketFailureKind.WebSocketHandshake,
                $"{where} answered 101 but its Sec-WebSocket-Accept does not match the key sent: it is not a WebSocket server (or something in between changed the answer).", where);
        }

        headers.TryGetValue("sec-websocket-protocol", out string? chosen);
        chosen = string.IsNullOrWhiteSpace(chosen) ? null : chosen!.Trim();
        if (chosen is not null && !Contains(options.SubProtocols, chosen))
        {
            throw new SocketOperationException(SocketFailureKind.WebSocketHandshake,
                $"{where} chose the subprotocol '{chosen}', which was not offered.", where);
        }

        return new WebSocketUpgrade(rest.Length == 0 ? stream : new PrefixedStream(rest, stream), chosen, options.Resource, headers);
    }

    /// <summary>The server side: reads the client's GET, answers 101 with Sec-WebSocket-Accept,
    /// or an HTTP error (400, 404, 426) and throws.</summary>
    public static async Task<WebSocketUpgrade> ServerAsync(Stream stream, WebSocketServerOptions options, string where, CancellationToken token)
    {
        (string requestLine, Dictionary<string, string> headers, byte[] rest) = await ReadHeadAsync(stream, where, "request", token).ConfigureAwait(false);
        string[] parts = requestLine.Split(' ');
        string resource = parts.Length == 3 ? parts[1] : "/";
        string? problem = null;
        string status = "400 Bad Request";
        if (parts.Length != 3 || parts[0] != "GET" || !parts[2].StartsWith("HTTP/1.", StringComparison.Ordinal))
        {
            problem = $"sent \"{EndPointText.Escape(requestLine)}\", not a WebSocket upgrade (GET ... HTTP/1.1)";
        }
        else if (!headers.TryGetValue("upgrade", out string? upgrade) || upgrade.IndexOf("websocket", StringComparison.OrdinalIgnoreCase) < 0)
        {
            problem = "sent an HTTP request without Upgrade: websocket";
            status = "426 Upgrade Required";
        }
        else if (!headers.TryGetValue("sec-websocket-key", out string? _))
        {
            problem = "sent no Sec-WebSocket-Key";
        }
        else if (!headers.TryGetValue("sec-websocket-version", out string? version) || version.Trim() != "13")
        {
            problem = "asked for a WebSocket version other than 13";
            status = "426 Upgrade Required\r\nSec-WebSocket-Version: 13";
        }
        else if (options.Path is not null)
        {
            int query = resource.IndexOf('?');
            string path = query >= 0 ? resource.Substring(0, query) : resource;
            if (!string.Equals(path, options.Path, StringComparison.Ordinal))
            {
                problem = $"asked for {path}; this server serves WebSocket on {options.Path} only";
                status = "404 Not Found";
            }
        }

        if (problem is not null)
        {
            byte[] refusal = Encoding.ASCII.GetBytes($"HTTP/1.1 {status}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
            try
            {
                await stream.WriteAsync(refusal, 0, refusal.Length, token).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is IOException or ObjectDisposedException)
            {
            }

            throw new SocketOperationException(SocketFailureKind.WebSocketHandshake, $"The client {where} {problem}.", where);
        }

        string? chosen = null;
        if (headers.TryGetValue("sec-websocket-protocol", out string? offered))
        {
            foreach (string candidate in offered.Split(','))
            {
                if (Contains(options.SubProtocols, candidate.Trim()))
                {
                    chosen = candidate.Trim();
                    break;
                }
            }
        }

        StringBuilder answer = new();
        answer.Append("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n");
        answer.Append("Sec-WebSocket-Accept: ").Append(AcceptFor(headers["sec-websocket-key"])).Append("\r\n");
        if (chosen is not null)
        {
            answer.Append("Sec-WebSocket-Protocol: ").Append(chosen).Append("\r\n");
        }

        answer.Append("\r\n");
        byte[] bytes = Encoding.ASCII.GetBytes(answer.ToString());
        await stream.WriteAsync(bytes, 0, bytes.Length, token).ConfigureAwait(false);
        await stream.FlushAsync(token).ConfigureAwait(false);
        return new WebSocketUpgrade(rest.Length == 0 ? stream : new PrefixedStream(rest, stream), chosen, resource, headers);
    }

    private static bool Contains(IReadOnlyList<string> list, string value)
    {
        foreach (string item in list)
        {
            if (string.Equals(item, value, StringComparison.Ordinal))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Reads up to the blank line; returns the first line, the headers (names lower
    /// case, repeated ones joined with ", ") and any bytes read past the blank line.</summary>
    private static async Task<(string First, Dictionary<string, string> Headers, byte[] Remainder)> ReadHeadAsync(Stream stream, string where, string what, CancellationToken token)
    {
        byte[] buffer = new byte[HeaderLimit];
        int filled = 0;
        int end = -1;
        while (end < 0)
        {
            if (filled == buffer.Length)
            {
                throw new SocketOperationException(SocketFailureKind.WebSocketHandshake,
                    $"The WebSocket {what} from {where} has more than {HeaderLimit} bytes of headers.", where);
            }

            int n = await stream.ReadAsync(buffer, filled, buffer.Length - filled, token).ConfigureAwait(false);
            if (n == 0)
            {
                throw new SocketOperationException(SocketFailureKind.WebSocketHandshake,
                    filled == 0
                        ? $"{where} closed the connection instead of sending its WebSocket {what}."
                        : $"{where} closed the connection in the middle of its WebSocket {what}.", where);
            }

            int from = Math.Max(0, filled - 3);
            filled += n;
            for (int i = from; i + 3 < filled; i++)
            {
                if (buffer[i] == '\r' && buffer[i + 1] == '\n' && buffer[i + 2] == '\r' && buffer[i + 3] == '\n')
                {
                    end = i;
                    break;
                }
            }
        }

        string head = Encoding.ASCII.GetString(buffer, 0, end);
        string[] lines = head.Split(new[] { "\r\n" }, StringSplitOptions.None);
        Dictionary<string, string> headers = new(StringComparer.OrdinalIgnoreCase);
        for (int i = 1; i < lines.Length; i++)
        {
            int colon = lines[i].IndexOf(':');
            if (colon <= 0)
            {
                continue;
            }

            string name = lines[i].Substring(0, colon).Trim().ToLowerInvariant();
            string value = lines[i].Substring(colon + 1).Trim();
            headers[name] = headers.TryGetValue(name, out string? before) ? before + ", " + value : value;
        }

        byte[] rest = new byte[filled - end - 4];
        Buffer.BlockCopy(buffer, end + 4, rest, 0, rest.Length);
        return (lines[0], headers, rest);
    }
}
