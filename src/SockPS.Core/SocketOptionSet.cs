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

    private static SocketOperationException Invalid(string message) => new(SocketFailureKind.InvalidArgument, message);
}
