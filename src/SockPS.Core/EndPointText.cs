using System.Net;

namespace SockPS.Core;

/// <summary>Endpoints as users write them: 127.0.0.1:80, [::1]:80.</summary>
internal static class EndPointText
{
    public static string Format(EndPoint? endPoint) => endPoint switch
    {
        null => "(unknown)",
        IPEndPoint ip => Format(ip.Address, ip.Port),
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
}
