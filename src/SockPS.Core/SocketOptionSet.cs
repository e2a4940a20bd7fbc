using System;
using System.Collections;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Net.Sockets;

namespace SockPS.Core;

/// <summary>
/// Socket options from a hashtable (-SocketOption @{ ReceiveBufferSize = 1MB; Ttl = 4 }), checked
/// up front so a typo is an error naming the known keys rather than a silently ignored setting.
/// They are applied before bind or connect, where some of them (ReuseAddress, buffer sizes for
/// TCP window scaling) must be.
/// </summary>
public sealed class SocketOptionSet
{
    /// <summary>The keys -SocketOption accepts.</summary>
    public static IReadOnlyList<string> KnownKeys { get; } = new[] { "ReceiveBufferSize", "SendBufferSize", "Ttl", "ReuseAddress", "Linger", "DontFragment" };

    /// <summary>SO_RCVBUF in bytes.</summary>
    public int? ReceiveBufferSize { get; private set; }

    /// <summary>SO_SNDBUF in bytes.</summary>
    public int? SendBufferSize { get; private set; }

    /// <summary>IP time to live / IPv6 hop limit.</summary>
    public short? Ttl { get; private set; }

    /// <summary>SO_REUSEADDR.</summary>
    public bool? ReuseAddress { get; private set; }

    /// <summary>SO_LINGER in seconds; -1 turns lingering off.</summary>
    public int? LingerSeconds { get; private set; }

    /// <summary>IP don't-fragment (IPv4).</summary>
    public bool? DontFragment { get; private set; }

    /// <summary>TCP: seconds of idle before the first keep-alive probe (TCP_KEEPIDLE; TCP_KEEPALIVE
    /// on macOS and Windows). Setting any keep-alive value turns keep-alive on (SO_KEEPALIVE).</summary>
    public int? KeepAliveTime { get; internal set; }

    /// <summary>TCP: seconds between keep-alive probes (TCP_KEEPINTVL).</summary>
    public int? KeepAliveInterval { get; internal set; }

    /// <summary>TCP: unanswered probes before the connection is dropped (TCP_KEEPCNT).</summary>
    public int? KeepAliveCount { get; internal set; }

    /// <summary>UDP: hops a multicast datagram sent from this socket may travel
    /// (IP_MULTICAST_TTL, IPV6_MULTICAST_HOPS). The OS default is 1: the local network only.</summary>
    public int? MulticastTimeToLive { get; internal set; }

    /// <summary>UDP: whether multicast datagrams sent from this socket are also delivered to group
    /// members on this machine (IP_MULTICAST_LOOP, IPV6_MULTICAST_LOOP). The OS default is on.</summary>
    public bool? MulticastLoopback { get; internal set; }

    /// <summary>UDP: the local interface, by one of its addresses, that multicast datagrams are
    /// sent from (IP_MULTICAST_IF, IPV6_MULTICAST_IF).</summary>
    public System.Net.IPAddress? MulticastInterface { get; internal set; }

    /// <summary>SO_REUSEPORT: other sockets that set it too may bind the same address and port
    /// (Linux, macOS, BSD; not Windows).</summary>
    public bool? ReusePort { get; internal set; }

    /// <summary>True when a keep-alive value is set.</summary>
    internal bool HasKeepAlive => KeepAliveTime is not null || KeepAliveInterval is not null || KeepAliveCount is not null;

    /// <summary>True when a multicast sending option is set.</summary>
    internal bool HasMulticast => MulticastTimeToLive is not null || MulticastLoopback is not null || MulticastInterface is not null;

    /// <summary>Reads a hashtable of options; values may be numbers, numeric strings or booleans.</summary>
    /// <exception cref="SocketOperationException">InvalidArgument for unknown keys and bad values.</exception>
    public static SocketOptionSet Parse(IDictionary? values)
    {
        SocketOptionSet set = new();
        if (values is null)
        {
            return set;
        }

        foreach (DictionaryEntry entry in values)
        {
            string key = Convert.ToString(entry.Key, CultureInfo.InvariantCulture) ?? string.Empty;
            object? value = entry.Value;
            switch (KnownKeys.FirstOrDefault(k => string.Equals(k, key, StringComparison.OrdinalIgnoreCase)))
            {
                case "ReceiveBufferSize":
                    set.ReceiveBufferSize = Positive(key, value);
                    break;
                case "SendBufferSize":
                    set.SendBufferSize = Positive(key, value);
                    break;
                case "Ttl":
                    int ttl = Positive(key, value);
                    set.Ttl = ttl <= 255 ? (short)ttl : throw Invalid($"Ttl must be from 1 to 255; {ttl} was given.");
                    break;
                case "ReuseAddress":
                    set.ReuseAddress = Flag(key, value);
                    break;
                case "Linger":
                    set.LingerSeconds = value is bool on
                        ? (on ? throw Invalid("Linger takes a number of seconds to wait for unsent data on close (0 resets the connection), or $false.") : -1)
                        : NonNegative(key, value);
                    break;
                case "DontFragment":
                    set.DontFragment = Flag(key, value);
                    break;
                default:
                    throw Invalid($"'{key}' is not a socket option SockPS knows. Use {string.Join(", ", KnownKeys)}.");
            }
        }

        return set;
    }

    /// <summary>Applies the options to a socket before it binds or connects.</summary>
    internal void Apply(Socket socket)
    {
        bool ip = socket.AddressFamily is AddressFamily.InterNetwork or AddressFamily.InterNetworkV6;
        Try("ReceiveBufferSize", ReceiveBufferSize, v => socket.ReceiveBufferSize = v);
        Try("SendBufferSize", SendBufferSize, v => socket.SendBufferSize = v);
        Try("ReuseAddress", ReuseAddress, v => socket.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, v));
        if (LingerSeconds is int linger && socket.SocketType == SocketType.Stream)
        {
            Try<int>("Linger", linger, v => socket.LingerState = v < 0 ? new LingerOption(false, 0) : new LingerOption(true, v));
        }

        if (Ttl is not null && !ip)
        {
            throw Invalid("Ttl applies to IP sockets, not Unix sockets.");
        }

        Try("Ttl", Ttl, v => socket.Ttl = v);
        if (DontFragment is not null && socket.AddressFamily != AddressFamily.InterNetwork)
        {
            throw Invalid("DontFragment is supported for IPv4 sockets only.");
        }

        Try("DontFragment", DontFragment, v => socket.DontFragment = v);
        if (ReusePort == true)
        {
            RawSocketOptions.SetReusePort(socket);
        }

        if (HasKeepAlive)
        {
            if (!ip || socket.SocketType != SocketType.Stream)
            {
                throw Invalid("Keep-alive timing (idle time, interval, probe count) is for TCP connections: UDP and Unix sockets have no keep-alive probes.", SocketSetting.KeepAliveTiming);
            }

            ApplyKeepAlive(socket);
        }

        if (HasMulticast)
        {
            if (!ip || socket.SocketType != SocketType.Dgram)
            {
                throw Invalid("Multicast options (time to live, loopback, interface) are for UDP sockets: only datagrams are multicast.", SocketSetting.MulticastOptions);
            }

            ApplyMulticast(socket);
        }
    }

    /// <summary>What an accepted connection needs of the server's options: keep-alive, which is
    /// per connection (Linux copies it from the listener, other systems may not).</summary>
    internal void ApplyToAccepted(Socket socket)
    {
        if (HasKeepAlive)
        {
            ApplyKeepAlive(socket);
        }
    }

    // The option numbers .NET Core 3 named (TcpKeepAliveTime, TcpKeepAliveInterval,
    // TcpKeepAliveRetryCount); netstandard2.0 has the values, not the names. On Windows they are
    // the system's own numbers, on Unix the runtime maps them.
    private const SocketOptionName TcpKeepAliveTime = (SocketOptionName)3;
    private const SocketOptionName TcpKeepAliveInterval = (SocketOptionName)17;
    private const SocketOptionName TcpKeepAliveRetryCount = (SocketOptionName)16;

    private void ApplyKeepAlive(Socket socket)
    {
        socket.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.KeepAlive, true);
        KeepAliveOption("The keep-alive idle time (TCP_KEEPIDLE)", KeepAliveTime, v => socket.SetSocketOption(SocketOptionLevel.Tcp, TcpKeepAliveTime, v));
        KeepAliveOption("The keep-alive interval (TCP_KEEPINTVL)", KeepAliveInterval, v => socket.SetSocketOption(SocketOptionLevel.Tcp, TcpKeepAliveInterval, v));
        KeepAliveOption("The keep-alive probe count (TCP_KEEPCNT)", KeepAliveCount, v => socket.SetSocketOption(SocketOptionLevel.Tcp, TcpKeepAliveRetryCount, v));
    }

    private static void KeepAliveOption(string name, int? value, Action<int> set)
    {
        if (value is not int v)
        {
            return;
        }

        try
        {
            set(v);
        }
        catch (Exception ex) when (ex is SocketException or NotSupportedException or PlatformNotSupportedException)
        {
            throw new SocketOperationException(SocketFailureKind.NotSupported,
                $"{name} is not supported by this OS or runtime ({ex.Message.TrimEnd('.')}).", null, ex)
            {
                Setting = SocketSetting.KeepAliveTiming,
            };
        }
    }

    private void ApplyMulticast(Socket socket)
    {
        bool v6 = socket.AddressFamily == AddressFamily.InterNetworkV6;
        SocketOptionLevel level = v6 ? SocketOptionLevel.IPv6 : SocketOptionLevel.IP;
        try
        {
            if (MulticastTimeToLive is int ttl)
            {
                socket.SetSocketOption(level, SocketOptionName.MulticastTimeToLive, ttl);
            }

            if (MulticastLoopback is bool loop)
            {
                socket.SetSocketOption(level, SocketOptionName.MulticastLoopback, loop);
            }
        }
        catch (SocketException ex)
        {
            throw new SocketOperationException(SocketFailureKind.NotSupported,
                $"The multicast option could not be set on this {(v6 ? "IPv6" : "IPv4")} socket: {ex.Message}.", null, ex);
        }

        if (MulticastInterface is System.Net.IPAddress local)
        {
            if (local.AddressFamily == AddressFamily.InterNetwork && v6 && socket.DualMode)
            {
                // A server on :: joining an IPv4 group: the interface is for the join alone.
                return;
            }

            if (local.AddressFamily != socket.AddressFamily)
            {
                throw Invalid($"The multicast interface {local} is an {EndPoints.Family(local.AddressFamily)} address, but the socket is {EndPoints.Family(socket.AddressFamily)}. Give an address of the same family as the group.", SocketSetting.MulticastInterface);
            }

            try
            {
                if (v6)
                {
                    socket.SetSocketOption(SocketOptionLevel.IPv6, SocketOptionName.MulticastInterface, InterfaceIndex(local));
                }
                else
                {
                    socket.SetSocketOption(SocketOptionLevel.IP, SocketOptionName.MulticastInterface, local.GetAddressBytes());
                }
            }
            catch (SocketException ex)
            {
                throw new SocketOperationException(SocketFailureKind.AddressNotAvailable,
                    $"The multicast interface {local} cannot be used: {ex.Message}. Give an address of one of this machine's interfaces.", local.ToString(), ex)
                {
                    Setting = SocketSetting.MulticastInterface,
                };
            }
        }
    }

    /// <summary>IPv6 picks the sending interface by index: the scope id of a link-local address,
    /// or the interface that holds the address.</summary>
    private static int InterfaceIndex(System.Net.IPAddress address)
    {
        if (address.ScopeId != 0)
        {
            return (int)address.ScopeId;
        }

        if (address.Equals(System.Net.IPAddress.IPv6Any))
        {
            return 0; // the OS chooses
        }

        foreach (System.Net.NetworkInformation.NetworkInterface nic in System.Net.NetworkInformation.NetworkInterface.GetAllNetworkInterfaces())
        {
            System.Net.NetworkInformation.IPInterfaceProperties properties = nic.GetIPProperties();
            foreach (System.Net.NetworkInformation.UnicastIPAddressInformation unicast in properties.UnicastAddresses)
            {
                if (unicast.Address.Equals(address))
                {
                    return properties.GetIPv6Properties()?.Index
                        ?? throw Invalid($"The multicast interface {address}: its interface {nic.Name} has no IPv6 index.", SocketSetting.MulticastInterface);
                }
            }
        }

        throw new SocketOperationException(SocketFailureKind.AddressNotAvailable,
            $"The multicast interface {address} is not an address of this machine. Give an address of one of its interfaces.", address.ToString())
        {
            Setting = SocketSetting.MulticastInterface,
        };
    }

    private static void Try<T>(string name, T? value, Action<T> set) where T : struct
    {
        if (value is not T v)
        {
            return;
        }

        try
        {
            set(v);
        }
        catch (Exception ex) when (ex is SocketException or NotSupportedException or ArgumentException)
        {
            throw new SocketOperationException(SocketFailureKind.InvalidArgument,
                $"The socket option {name} = {v} is not supported here: {ex.Message}", null, ex);
        }
    }

    private static int Positive(string key, object? value)
    {
        int n = Integer(key, value);
        return n > 0 ? n : throw Invalid($"{key} must be a positive number; {n} was given.");
    }

    private static int NonNegative(string key, object? value)
    {
        int n = Integer(key, value);
        return n >= 0 ? n : throw Invalid($"{key} must be 0 or more; {n} was given.");
    }

    private static int Integer(string key, object? value)
    {
        try
        {
            return value is bool ? throw new FormatException() : Convert.ToInt32(value, CultureInfo.InvariantCulture);
        }
        catch (Exception ex) when (ex is FormatException or InvalidCastException or OverflowException)
        {
            throw Invalid($"{key} must be a whole number; '{value}' was given.");
        }
    }

    private static bool Flag(string key, object? value) => value switch
    {
        bool b => b,
        int i when i is 0 or 1 => i == 1,
        string s when bool.TryParse(s, out bool parsed) => parsed,
        _ => throw Invalid($"{key} must be $true or $false; '{value}' was given."),
    };

    private static SocketOperationException Invalid(string message, SocketSetting setting = SocketSetting.None) =>
        new(SocketFailureKind.InvalidArgument, message) { Setting = setting };
}
