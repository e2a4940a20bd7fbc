using System;
using System.Globalization;
using System.IO;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Threading;
using System.Threading.Tasks;

namespace SockPS.Core;

/// <summary>
/// The client side of the proxy handshakes: SOCKS5 (RFC 1928, with RFC 1929 username/password),
/// SOCKS4 and SOCKS4a, and HTTP CONNECT. Each reads exactly the proxy's answer and no byte more,
/// so what follows on the stream belongs to the target. Every refusal becomes a
/// <see cref="SocketOperationException"/> whose kind says what kind of refusal it was and whose
/// message quotes the proxy's reply in words.
/// </summary>
internal static class ProxyHandshake
{
    /// <summary>The longest HTTP answer header read from a proxy before giving up on it.</summary>
    internal const int MaxHttpHeaderBytes = 16 * 1024;

    /// <summary>Asks the proxy on <paramref name="stream"/> for a tunnel to the target.</summary>
    /// <param name="stream">Connected to the proxy.</param>
    /// <param name="proxy">The proxy and its credentials.</param>
    /// <param name="host">The target's name as given (sent when the proxy resolves names).</param>
    /// <param name="address">The target's address when resolved here (SOCKS4, SOCKS5), else null.</param>
    /// <param name="port">The target's port.</param>
    /// <param name="token">Bounds the handshake.</param>
    public static Task RunAsync(Stream stream, ProxySettings proxy, string host, IPAddress? address, int port, CancellationToken token) =>
        proxy.Kind switch
        {
            ProxyKind.Socks5 or ProxyKind.Socks5h => Socks5Async(stream, proxy, host, address, port, token),
            ProxyKind.Socks4 or ProxyKind.Socks4a => Socks4Async(stream, proxy, host, address, port, token),
            _ => HttpConnectAsync(stream, proxy, host, address, port, token),
        };

    // ------------------------------------------------------------------ SOCKS5

    private static async Task Socks5Async(Stream stream, ProxySettings proxy, string host, IPAddress? address, int port, CancellationToken token)
    {
        bool password = proxy.UserName is not null;
        await WriteAsync(stream, Socks5.Greeting(password), token).ConfigureAwait(false);
        byte[] choice = await ReadAsync(stream, 2, proxy, "the SOCKS5 greeting", token).ConfigureAwait(false);
        byte method = Socks5.ParseMethodChoice(choice, password, proxy);
        if (method == Socks5.UserPasswordMethod)
        {
            await WriteAsync(stream, Socks5.PasswordRequest(proxy.UserName!, proxy.Password ?? string.Empty), token).ConfigureAwait(false);
            byte[] verdict;
            try
            {
                verdict = await ReadAsync(stream, 2, proxy, "the SOCKS5 username/password check", token).ConfigureAwait(false);
            }
            catch (SocketOperationException ex) when (ex.Kind == SocketFailureKind.ProxyProtocolError)
            {
                // Some proxies hang up instead of answering a wrong password.
                throw new SocketOperationException(SocketFailureKind.ProxyAuthenticationFailed,
                    $"{Capital(proxy.Describe())} closed the connection after the user name and password for '{proxy.UserName}': they were most likely refused.",
                    proxy.Where, ex)
                {
                    Setting = SocketSetting.ProxyCredential,
                };
            }

            Socks5.ParsePasswordReply(verdict, proxy);
        }

        string target = Target(host, address, port);
        await WriteAsync(stream, Socks5.ConnectRequest(host, address, port, proxy), token).ConfigureAwait(false);
        bool sentName = address is null && !IsAddress(host);
        // The status first: a proxy may hang up right after a refusal without the rest.
        byte[] status;
        try
        {
            status = await ReadAsync(stream, 2, proxy, "the SOCKS5 connect request", token).ConfigureAwait(false);
        }
        catch (SocketOperationException ex) when (ex.Kind == SocketFailureKind.ProxyProtocolError && ex.Message.IndexOf("without answering", StringComparison.Ordinal) >= 0)
        {
            // It spoke SOCKS5 a moment ago, so this is no stranger: some proxies (OpenSSH's
            // ssh -D) hang up instead of sending a failure reply when the target cannot be reached.
            throw new SocketOperationException(SocketFailureKind.ProxyTargetUnreachable,
                $"{Capital(proxy.Describe())} closed the connection instead of answering the request for {target}: it could not, or would not, connect there " +
                "(OpenSSH's ssh -D does this when the target refuses or cannot be reached). Check the target's name and port.", target, ex);
        }

        Socks5.ParseConnectReply(status, proxy, target, sentName);
        byte[] more = await ReadAsync(stream, 3, proxy, "the SOCKS5 connect request", token).ConfigureAwait(false);
        int rest = Socks5.ParseConnectReply(new[] { status[0], status[1], more[0], more[1], more[2] }, proxy, target, sentName);
        // The bound address the proxy reports is the proxy's own outgoing endpoint: read and dropped.
        await ReadAsync(stream, rest, proxy, "the SOCKS5 connect reply", token).ConfigureAwait(false);
    }

    /// <summary>SOCKS5 messages and replies, as pure functions of bytes.</summary>
    internal static class Socks5
    {
        public const byte Version = 5;
        public const byte NoAuthenticationMethod = 0;
        public const byte UserPasswordMethod = 2;
        public const byte NoAcceptableMethod = 0xFF;

        public static byte[] Greeting(bool offerPassword) =>
            offerPassword ? new byte[] { Version, 2, NoAuthenticationMethod, UserPasswordMethod } : new byte[] { Version, 1, NoAuthenticationMethod };

        /// <summary>The method the proxy chose; throws for "none acceptable" and for answers that are not SOCKS5.</summary>
        public static byte ParseMethodChoice(byte[] reply, bool offeredPassword, ProxySettings proxy)
        {
            if (reply[0] != Version)
            {
                throw NotThisProtocol(proxy, reply, "SOCKS5");
            }

            switch (reply[1])
            {
                case NoAuthenticationMethod:
                    return NoAuthenticationMethod;
                case UserPasswordMethod when offeredPassword:
                    return UserPasswordMethod;
                case NoAcceptableMethod:
                    throw new SocketOperationException(SocketFailureKind.ProxyAuthenticationFailed, offeredPassword
                        ? $"{Capital(proxy.Describe())} accepted none of the ways to log on that were offered (none, username/password): it wants another method, such as GSSAPI, which SockPS does not speak."
                        : $"{Capital(proxy.Describe())} requires a user name and password (it answered 0xFF, no acceptable methods, to a client without credentials).",
                        proxy.Where)
                    {
                        Setting = offeredPassword ? SocketSetting.None : SocketSetting.ProxyCredential,
                    };
                default:
                    throw new SocketOperationException(SocketFailureKind.ProxyProtocolError,
                        $"{Capital(proxy.Describe())} chose authentication method {reply[1]}, which was not offered: {(reply[1] == UserPasswordMethod ? "it wants a user name and password" : "the proxy is broken or not a SOCKS5 proxy")}.",
                        proxy.Where)
                    {
                        Setting = reply[1] == UserPasswordMethod ? SocketSetting.ProxyCredential : SocketSetting.None,
                    };
            }
        }

        public static byte[] PasswordRequest(string userName, string password)
        {
            byte[] user = Encoding.UTF8.GetBytes(userName);
            byte[] pass = Encoding.UTF8.GetBytes(password);
            byte[] request = new byte[3 + user.Length + pass.Length];
            request[0] = 1; // RFC 1929's subnegotiation version
            request[1] = (byte)user.Length;
            Buffer.BlockCopy(user, 0, request, 2, user.Length);
            request[2 + user.Length] = (byte)pass.Length;
            Buffer.BlockCopy(pass, 0, request, 3 + user.Length, pass.Length);
            return request;
        }

        public static void ParsePasswordReply(byte[] reply, ProxySettings proxy)
        {
            // RFC 1929 says version 1; some proxies answer with 5. Either way, 0 is success.
            if (reply[0] is not (1 or Version))
            {
                throw NotThisProtocol(proxy, reply, "SOCKS5");
            }

            if (reply[1] != 0)
            {
                throw new SocketOperationException(SocketFailureKind.ProxyAuthenticationFailed,
                    $"{Capital(proxy.Describe())} refused the user name and password for '{proxy.UserName}' (status {reply[1]}).",
                    proxy.Where)
                {
                    Setting = SocketSetting.ProxyCredential,
                };
            }
        }

        /// <summary>CONNECT to an address (when resolved here, or given as one) or a name (socks5h).</summary>
        public static byte[] ConnectRequest(string host, IPAddress? address, int port, ProxySettings proxy)
        {
            if (address is null && IPAddress.TryParse(host, out IPAddress? literal))
            {
                address = literal;
            }

            byte[] destination;
            byte type;
            if (address is not null)
            {
                if (address.IsIPv4MappedToIPv6)
                {
                    address = address.MapToIPv4();
                }

                destination = address.GetAddressBytes();
                type = address.AddressFamily == AddressFamily.InterNetworkV6 ? (byte)4 : (byte)1;
            }
            else
            {
                byte[] name = Encoding.ASCII.GetBytes(IdnName(host));
                if (name.Length is 0 or > 255)
                {
                    throw new SocketOperationException(SocketFailureKind.InvalidArgument,
                        $"'{host}' is too long for SOCKS5 (at most 255 bytes); use socks5:// so the name is resolved here.", host);
                }

                destination = new byte[1 + name.Length];
                destination[0] = (byte)name.Length;
                Buffer.BlockCopy(name, 0, destination, 1, name.Length);
                type = 3;
            }

            byte[] request = new byte[4 + destination.Length + 2];
            request[0] = Version;
            request[1] = 1; // CONNECT
            request[2] = 0;
            request[3] = type;
            Buffer.BlockCopy(destination, 0, request, 4, destination.Length);
            request[request.Length - 2] = (byte)(port >> 8);
            request[request.Length - 1] = (byte)port;
            return request;
        }

        /// <summary>Checks the first two bytes of the reply (VER REP), or five (with RSV ATYP
        /// and the first address byte), and returns how many bytes of it remain after those five.</summary>
        public static int ParseConnectReply(byte[] head, ProxySettings proxy, string target, bool sentName)
        {
            if (head[0] != Version)
            {
                throw NotThisProtocol(proxy, head, "SOCKS5");
            }

            if (head[1] != 0)
            {
                throw ReplyFailure(head[1], proxy, target, sentName);
            }

            if (head.Length < 5)
            {
                return -1;
            }

            return head[3] switch
            {
                1 => 4 - 1 + 2,
                4 => 16 - 1 + 2,
                3 => head[4] + 2,
                _ => throw new SocketOperationException(SocketFailureKind.ProxyProtocolError,
                    $"{Capital(proxy.Describe())} answered the connect request with an unknown address type {head[3]}: it is broken or not a SOCKS5 proxy.", proxy.Where),
            };
        }

        /// <summary>RFC 1928 section 6's reply codes, in words.</summary>
        public static string ReplyText(byte code) => code switch
        {
            1 => "general SOCKS server failure",
            2 => "connection not allowed by ruleset",
            3 => "network unreachable",
            4 => "host unreachable",
            5 => "connection refused",
            6 => "TTL expired",
            7 => "command not supported",
            8 => "address type not supported",
            _ => "an unassigned reply code",
        };

        public static SocketOperationException ReplyFailure(byte code, ProxySettings proxy, string target, bool sentName)
        {
            string reply = $"it answered {code}, {ReplyText(code)}";
            string proxyText = Capital(proxy.Describe());
            return code switch
            {
                2 => new SocketOperationException(SocketFailureKind.ProxyDenied,
                    $"{proxyText} would not connect to {target}: {reply}. Its rules do not allow this target; ask the proxy's administrator, or use another proxy.", target),
                5 => new SocketOperationException(SocketFailureKind.ProxyTargetUnreachable,
                    $"{proxyText} could not connect to {target}: {reply} (nothing listens on that port, as the proxy sees it). Check the port, and that the service runs.", target)
                { TargetStatus = PortStatus.Refused },
                3 or 4 => new SocketOperationException(SocketFailureKind.ProxyTargetUnreachable,
                    $"{proxyText} could not connect to {target}: {reply}. Check the target's address; the proxy may have no route to it.", target)
                { TargetStatus = PortStatus.Unreachable },
                6 => new SocketOperationException(SocketFailureKind.ProxyTargetUnreachable,
                    $"{proxyText} could not connect to {target}: {reply} (the target did not answer the proxy in time).", target)
                { TargetStatus = PortStatus.TimedOut },
                1 => new SocketOperationException(SocketFailureKind.ProxyTargetUnreachable,
                    $"{proxyText} could not connect to {target}: {reply}." + (sentName
                        ? " Proxies answer this when the name does not resolve on their side, among other failures: check the name."
                        : " Check the target, and the proxy's log."), target),
                7 => new SocketOperationException(SocketFailureKind.ProxyProtocolError,
                    $"{proxyText} does not carry TCP connections: {reply} to CONNECT.", proxy.Where),
                8 => new SocketOperationException(SocketFailureKind.ProxyProtocolError,
                    $"{proxyText} does not take this kind of target address: {reply}." + (sentName
                        ? " It does not resolve names: use socks5:// instead of socks5h:// so the name is resolved here."
                        : " It may not handle IPv6: try IPv4 (InterNetwork)."), proxy.Where),
                _ => new SocketOperationException(SocketFailureKind.ProxyTargetUnreachable,
                    $"{proxyText} could not connect to {target}: {reply}.", target),
            };
        }
    }

    // ------------------------------------------------------------------ SOCKS4 / SOCKS4a

    private static async Task Socks4Async(Stream stream, ProxySettings proxy, string host, IPAddress? address, int port, CancellationToken token)
    {
        await WriteAsync(stream, Socks4.ConnectRequest(host, address, port, proxy), token).ConfigureAwait(false);
        byte[] reply = await ReadAsync(stream, 8, proxy, "the SOCKS4 connect request", token).ConfigureAwait(false);
        Socks4.ParseReply(reply, proxy, Target(host, address, port));
    }

    /// <summary>SOCKS4 and SOCKS4a messages and replies, as pure functions of bytes.</summary>
    internal static class Socks4
    {
        public static byte[] ConnectRequest(string host, IPAddress? address, int port, ProxySettings proxy)
        {
            if (address is null && IPAddress.TryParse(host, out IPAddress? literal))
            {
                address = literal;
            }

            if (address is not null && address.IsIPv4MappedToIPv6)
            {
                address = address.MapToIPv4();
            }

            if (address is not null && address.AddressFamily != AddressFamily.InterNetwork)
            {
                throw new SocketOperationException(SocketFailureKind.InvalidArgument,
                    $"SOCKS4 carries IPv4 addresses only, and {address} is IPv6. Use a socks5:// proxy for IPv6 targets.", address.ToString());
            }

            byte[] user = Encoding.UTF8.GetBytes(proxy.UserName ?? string.Empty);
            // SOCKS4a: the address 0.0.0.x (x not 0) says "the name follows the user id".
            byte[] name = address is null ? Encoding.ASCII.GetBytes(IdnName(host)) : Array.Empty<byte>();
            byte[] ip = address?.GetAddressBytes() ?? new byte[] { 0, 0, 0, 1 };
            byte[] request = new byte[8 + user.Length + 1 + (name.Length > 0 ? name.Length + 1 : 0)];
            request[0] = 4;
            request[1] = 1; // CONNECT
            request[2] = (byte)(port >> 8);
            request[3] = (byte)port;
            Buffer.BlockCopy(ip, 0, request, 4, 4);
            Buffer.BlockCopy(user, 0, request, 8, user.Length);
            if (name.Length > 0)
            {
                Buffer.BlockCopy(name, 0, request, 8 + user.Length + 1, name.Length);
            }

            return request;
        }

        /// <summary>The reply codes of the SOCKS4 protocol description, in words.</summary>
        public static string ReplyText(byte code) => code switch
        {
            90 => "request granted",
            91 => "request rejected or failed",
            92 => "request rejected because the proxy cannot reach identd on the client",
            93 => "request rejected because identd reports a different user id",
            _ => "an unknown reply code",
        };

        public static void ParseReply(byte[] reply, ProxySettings proxy, string target)
        {
            if (reply[0] != 0)
            {
                throw NotThisProtocol(proxy, reply, "SOCKS4");
            }

            byte code = reply[1];
            if (code == 90)
            {
                return;
            }

            string proxyText = Capital(proxy.Describe());
            string answered = $"it answered {code}, {ReplyText(code)}";
            throw code switch
            {
                91 => new SocketOperationException(SocketFailureKind.ProxyTargetUnreachable,
                    $"{proxyText} did not connect to {target}: {answered}. SOCKS4 does not say whether the target refused, could not be reached, or the proxy's rules forbid it; " +
                    (proxy.Kind == ProxyKind.Socks4a ? "some SOCKS4 proxies also reject the SOCKS4a form (try socks4:// or socks5://)." : "a socks5:// proxy says which."), target),
                92 or 93 => new SocketOperationException(SocketFailureKind.ProxyAuthenticationFailed,
                    $"{proxyText} refused the request: {answered}. The proxy checks the user id with identd; give the user id it expects as the user name.", proxy.Where)
                {
                    Setting = SocketSetting.ProxyCredential,
                },
                _ => new SocketOperationException(SocketFailureKind.ProxyProtocolError,
                    $"{proxyText} gave a reply SOCKS4 does not have ({code}): it is broken or not a SOCKS4 proxy.", proxy.Where),
            };
        }
    }

    // ------------------------------------------------------------------ HTTP CONNECT

    private static async Task HttpConnectAsync(Stream stream, ProxySettings proxy, string host, IPAddress? address, int port, CancellationToken token)
    {
        string authority = Authority(host, address, port);
        await WriteAsync(stream, HttpConnect.Request(authority, proxy), token).ConfigureAwait(false);
        string header = await ReadHttpHeaderAsync(stream, proxy, token).ConfigureAwait(false);
        HttpConnect.ParseResponse(header, proxy, authority);
    }

    /// <summary>HTTP CONNECT requests and answers, as pure functions of text.</summary>
    internal static class HttpConnect
    {
        public static byte[] Request(string authority, ProxySettings proxy)
        {
            StringBuilder request = new();
            request.Append("CONNECT ").Append(authority).Append(" HTTP/1.1\r\n");
            request.Append("Host: ").Append(authority).Append("\r\n");
            if (proxy.UserName is not null)
            {
                string basic = Convert.ToBase64String(Encoding.UTF8.GetBytes(proxy.UserName + ":" + proxy.Password));
                request.Append("Proxy-Authorization: Basic ").Append(basic).Append("\r\n");
            }

            request.Append("\r\n");
            return Encoding.ASCII.GetBytes(request.ToString());
        }

        /// <summary>The status code and reason phrase of "HTTP/1.1 200 Connection established";
        /// null when the line is not an HTTP status line.</summary>
        public static (int Code, string Reason)? ParseStatusLine(string line)
        {
            if (!line.StartsWith("HTTP/", StringComparison.Ordinal))
            {
                return null;
            }

            string[] parts = line.Split(new[] { ' ' }, 3);
            if (parts.Length < 2 || parts[1].Length != 3 || !int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out int code))
            {
                return null;
            }

            return (code, parts.Length > 2 ? parts[2].Trim() : string.Empty);
        }

        public static void ParseResponse(string header, ProxySettings proxy, string authority)
        {
            int end = header.IndexOf('\n');
            string line = (end < 0 ? header : header.Substring(0, end)).TrimEnd('\r');
            (int Code, string Reason)? status = ParseStatusLine(line);
            string proxyText = Capital(proxy.Describe());
            if (status is null)
            {
                throw new SocketOperationException(SocketFailureKind.ProxyProtocolError,
                    $"{proxyText} did not answer as an HTTP proxy: its first line was '{Printable(line)}'.", proxy.Where)
                {
                    Setting = SocketSetting.Proxy,
                };
            }

            (int code, string reason) = status.Value;
            string said = $"{code} {reason}".TrimEnd();
            if (code is >= 200 and < 300)
            {
                return;
            }

            throw code switch
            {
                407 or 401 when proxy.UserName is null => new SocketOperationException(SocketFailureKind.ProxyAuthenticationFailed,
                    $"{proxyText} requires a user name and password: it answered {said}.", proxy.Where) { Setting = SocketSetting.ProxyCredential },
                407 or 401 => new SocketOperationException(SocketFailureKind.ProxyAuthenticationFailed,
                    $"{proxyText} refused the user name and password for '{proxy.UserName}': it answered {said}.", proxy.Where) { Setting = SocketSetting.ProxyCredential },
                403 => new SocketOperationException(SocketFailureKind.ProxyDenied,
                    $"{proxyText} would not connect to {authority}: it answered {said}. Its rules do not allow this target or port; ask the proxy's administrator, or use another proxy.", authority),
                400 or 405 or 501 => new SocketOperationException(SocketFailureKind.ProxyProtocolError,
                    $"{proxyText} did not take the CONNECT request: it answered {said}. It may not tunnel (some proxies only forward plain HTTP requests).", proxy.Where),
                404 or >= 500 => new SocketOperationException(SocketFailureKind.ProxyTargetUnreachable,
                    $"{proxyText} could not connect to {authority}: it answered {said}. Check the target's name and port, and that the service runs.", authority),
                _ => new SocketOperationException(SocketFailureKind.ProxyDenied,
                    $"{proxyText} refused to connect to {authority}: it answered {said}.", authority),
            };
        }
    }

    /// <summary>Reads the answer header up to the blank line, a byte at a time so nothing of the
    /// tunnel after it is taken; a proxy that sends more than 16 KiB of header is not one.</summary>
    private static async Task<string> ReadHttpHeaderAsync(Stream stream, ProxySettings proxy, CancellationToken token)
    {
        byte[] one = new byte[1];
        MemoryStream header = new();
        while (true)
        {
            int read = await stream.ReadAsync(one, 0, 1, token).ConfigureAwait(false);
            if (read == 0)
            {
                string sofar = Encoding.ASCII.GetString(header.ToArray());
                if (header.Length > 0 && HttpConnect.ParseStatusLine(sofar.Split('\n')[0].TrimEnd('\r')) is not null)
                {
                    // Closed after a complete status line: judge by the status.
                    return sofar;
                }

                throw StartsLikeHttp(header) ? ClosedEarly(proxy, "the HTTP CONNECT request", header.ToArray()) : NotThisProtocol(proxy, header.ToArray(), "HTTP");
            }

            header.WriteByte(one[0]);
            if (header.Length > MaxHttpHeaderBytes)
            {
                throw new SocketOperationException(SocketFailureKind.ProxyProtocolError,
                    $"{Capital(proxy.Describe())} sent more than {MaxHttpHeaderBytes / 1024} KiB without ending its answer's header: it is not an HTTP proxy.", proxy.Where);
            }

            if (one[0] == '\n' && EndsWithBlankLine(header))
            {
                return Encoding.ASCII.GetString(header.ToArray());
            }

            if (header.Length <= 5 && !StartsLikeHttp(header))
            {
                throw NotThisProtocol(proxy, header.ToArray(), "HTTP");
            }
        }
    }

    /// <summary>True while what arrived could still be the start of "HTTP/".</summary>
    private static bool StartsLikeHttp(MemoryStream header)
    {
        byte[] buffer = header.GetBuffer();
        const string prefix = "HTTP/";
        for (int i = 0; i < header.Length && i < prefix.Length; i++)
        {
            if (buffer[i] != prefix[i])
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>"\r\n\r\n", or the bare "\n\n" some servers send.</summary>
    private static bool EndsWithBlankLine(MemoryStream header)
    {
        byte[] buffer = header.GetBuffer();
        int length = (int)header.Length;
        return (length >= 2 && buffer[length - 2] == '\n')
            || (length >= 4 && buffer[length - 2] == '\r' && buffer[length - 3] == '\n' && buffer[length - 4] == '\r');
    }

    // ------------------------------------------------------------------ shared

    private static async Task WriteAsync(Stream stream, byte[] data, CancellationToken token)
    {
        await stream.WriteAsync(data, 0, data.Length, token).ConfigureAwait(false);
        await stream.FlushAsync(token).ConfigureAwait(false);
    }

    /// <summary>Reads exactly <paramref name="count"/> bytes; the proxy closing first is a protocol error.</summary>
    private static async Task<byte[]> ReadAsync(Stream stream, int count, ProxySettings proxy, string stage, CancellationToken token)
    {
        byte[] buffer = new byte[count];
        int done = 0;
        while (done < count)
        {
            int read = await stream.ReadAsync(buffer, done, count - done, token).ConfigureAwait(false);
            if (read == 0)
            {
                byte[] got = new byte[done];
                Buffer.BlockCopy(buffer, 0, got, 0, done);
                throw ClosedEarly(proxy, stage, got);
            }

            done += read;
        }

        return buffer;
    }

    private static SocketOperationException ClosedEarly(ProxySettings proxy, string stage, byte[] got) =>
        new(SocketFailureKind.ProxyProtocolError,
            got.Length == 0
                ? $"{Capital(proxy.Describe())} closed the connection without answering {stage}: it is not {proxy.KindWithArticle} proxy, or it refuses this client."
                : $"{Capital(proxy.Describe())} closed the connection in the middle of its answer to {stage} (after {Hex(got)}): it is not {proxy.KindWithArticle} proxy, or it is broken.",
            proxy.Where);

    /// <summary>An answer that is not the protocol asked for, with a hint when it looks like another one.</summary>
    internal static SocketOperationException NotThisProtocol(ProxySettings proxy, byte[] reply, string protocol)
    {
        string text = Encoding.ASCII.GetString(reply);
        string hint = protocol != "HTTP" && (text.StartsWith("HT", StringComparison.Ordinal) || text.StartsWith("<", StringComparison.Ordinal))
            ? " It answered in HTTP: use an http:// proxy URI."
            : reply.Length > 0 && reply[0] == 5 && protocol != "SOCKS5" ? " It answered as a SOCKS5 proxy: use socks5://."
            : reply.Length > 0 && reply[0] == 0 && protocol != "SOCKS4" ? " It may be a SOCKS4 proxy: use socks4://."
            : string.Empty;
        return new SocketOperationException(SocketFailureKind.ProxyProtocolError,
            $"{Capital(proxy.Describe())} did not answer as {(protocol == "HTTP" ? "an" : "a")} {protocol} proxy: its first bytes were {Hex(reply)}.{hint}", proxy.Where)
        {
            Setting = hint.Length == 0 ? SocketSetting.Proxy : SocketSetting.None,
        };
    }

    private static string Hex(byte[] bytes)
    {
        StringBuilder text = new();
        for (int i = 0; i < bytes.Length && i < 16; i++)
        {
            text.Append(i == 0 ? string.Empty : " ").Append(bytes[i].ToString("X2", CultureInfo.InvariantCulture));
        }

        return bytes.Length > 16 ? text.Append(" ...").ToString() : text.ToString();
    }

    private static string Printable(string line)
    {
        StringBuilder text = new();
        foreach (char c in line.Length > 80 ? line.Substring(0, 80) + "..." : line)
        {
            text.Append(c is >= ' ' and < (char)127 ? c : '?');
        }

        return text.ToString();
    }

    private static bool IsAddress(string host) => IPAddress.TryParse(host, out _);

    /// <summary>International names go to the proxy in their ASCII (punycode) form.</summary>
    private static string IdnName(string host)
    {
        try
        {
            return new IdnMapping().GetAscii(host);
        }
        catch (ArgumentException)
        {
            throw new SocketOperationException(SocketFailureKind.InvalidArgument, $"'{host}' is not a valid host name.", host);
        }
    }

    /// <summary>host:port as the CONNECT line and messages write it; IPv6 in brackets.</summary>
    internal static string Authority(string host, IPAddress? address, int port) =>
        address is not null ? EndPointText.Format(address, port) : EndPointText.Format(IsAddress(host) ? host : IdnNameSafe(host), port);

    private static string IdnNameSafe(string host)
    {
        try
        {
            return new IdnMapping().GetAscii(host);
        }
        catch (ArgumentException)
        {
            return host;
        }
    }

    internal static string Target(string host, IPAddress? address, int port) =>
        address is null || string.Equals(host, address.ToString(), StringComparison.OrdinalIgnoreCase)
            ? EndPointText.Format(host, port)
            : $"{EndPointText.Format(host, port)} ({address})";

    internal static string Capital(string text) => text.Length == 0 ? text : char.ToUpperInvariant(text[0]) + text.Substring(1);
}
