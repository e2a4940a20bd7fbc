using System.Net;

namespace SockPS.Core;

/// <summary>Endpoints as users write them: 127.0.0.1:80, [::1]:80.</summary>
internal static class EndPointText
{
    public static string Format(EndPoint? endPoint) => endPoint switch
    {
        null => "(unknown)",
        IPEndPoint ip => Format(ip.Address, ip.Port),
        DnsEndPoint dns => Format(dns.Host, dns.Port),
        _ when endPoint.AddressFamily == System.Net.Sockets.AddressFamily.Unix =>
            UnixSockets.IsUnnamed(endPoint) ? "(unnamed)" : endPoint.ToString()!,
        _ => endPoint.ToString() ?? "(unknown)",
    };

    public static string Format(IPAddress address, int port)
    {
        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }

        return address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6
            ? $"[{address}]:{port}"
            : $"{address}:{port}";
    }

    /// <summary>"1 second", "0.5 seconds", "30 seconds".</summary>
    public static string Seconds(System.TimeSpan duration)
    {
        double seconds = duration.TotalSeconds;
        return seconds == 1 ? "1 second" : seconds.ToString("0.###", System.Globalization.CultureInfo.InvariantCulture) + " seconds";
    }

    public static string Format(string host, int port) =>
        host.IndexOf(':') >= 0 && !host.StartsWith("[", System.StringComparison.Ordinal) ? $"[{host}]:{port}" : $"{host}:{port}";

    /// <summary>An ArgumentException's message without the runtime's " (Parameter 'x')" and
    /// "Actual value was ..." additions, which name .NET internals, not anything the user typed.</summary>
    public static string ArgumentMessage(System.ArgumentException exception)
    {
        string message = exception.Message;
        int actual = message.IndexOf("Actual value was", System.StringComparison.Ordinal);
        if (actual >= 0)
        {
            message = message.Substring(0, actual);
        }

        if (exception.ParamName is { Length: > 0 } name)
        {
            message = message.Replace($" (Parameter '{name}')", string.Empty);
        }

        return message.Trim().TrimEnd('.');
    }

    /// <summary>"[::1]" -> "::1"; text without brackets is returned as it is. A bracket on one side
    /// only is an InvalidArgument failure: trimming it would connect somewhere the user did not write.</summary>
    public static string Unbracket(string text)
    {
        bool opens = text.StartsWith("[", System.StringComparison.Ordinal);
        bool closes = text.EndsWith("]", System.StringComparison.Ordinal);
        if (opens && closes && text.Length >= 2)
        {
            return text.Substring(1, text.Length - 2);
        }

        if (opens || closes)
        {
            throw new SocketOperationException(SocketFailureKind.InvalidArgument,
                $"'{text}' has a bracket on one side only. Write an IPv6 address as ::1 or [::1].", text);
        }

        return text;
    }

    /// <summary>Text as PowerShell would write it in a double-quoted string: control characters
    /// as `r, `n, `t, `0 or `u{XX}, so a message shows exactly what arrived.</summary>
    public static string Escape(string text)
    {
        System.Text.StringBuilder escaped = new(text.Length);
        foreach (char c in text)
        {
            switch (c)
            {
                case '\r': escaped.Append("`r"); break;
                case '\n': escaped.Append("`n"); break;
                case '\t': escaped.Append("`t"); break;
                case '\0': escaped.Append("`0"); break;
                case '`': escaped.Append("``"); break;
                case '"': escaped.Append("`\""); break;
                default:
                    if (char.IsControl(c))
                    {
                        escaped.Append("`u{").Append(((int)c).ToString("X")).Append('}');
                    }
                    else
                    {
                        escaped.Append(c);
                    }

                    break;
            }
        }

        return escaped.ToString();
    }
}
