using System;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace SockPS.Core;

/// <summary>An address or a CIDR range ("10.0.0.0/8", "::1/128", "192.0.2.7") for
/// -AllowAddress and -DenyAddress. IPv4 clients of a dual-stack server arrive as IPv4-mapped IPv6
/// addresses; they match IPv4 ranges.</summary>
public sealed class AddressRange
{
    private readonly byte[] _network;
    private readonly int _prefixLength;

    private AddressRange(IPAddress network, int prefixLength)
    {
        Network = network;
        _network = network.GetAddressBytes();
        _prefixLength = prefixLength;
    }

    /// <summary>The first address of the range.</summary>
    public IPAddress Network { get; }

    /// <summary>The number of leading bits that must match.</summary>
    public int PrefixLength => _prefixLength;

    // An unbalanced bracket makes the whole entry invalid, with Parse's own message.
    private static string UnbracketOrEmpty(string text)
    {
        try
        {
            return EndPointText.Unbracket(text);
        }
        catch (SocketOperationException)
        {
            return string.Empty;
        }
    }

    /// <summary>Parses "address" or "address/prefix".</summary>
    /// <exception cref="SocketOperationException">InvalidArgument, saying what is wrong.</exception>
    public static AddressRange Parse(string text)
    {
        string value = (text ?? string.Empty).Trim();
        int slash = value.IndexOf('/');
        string addressText = slash < 0 ? value : value.Substring(0, slash);
        if (!IPAddress.TryParse(UnbracketOrEmpty(addressText), out IPAddress? address))
        {
            throw Invalid($"'{text}' is not an address or a CIDR range. Write it as 10.0.0.0/8, 192.0.2.7 or ::1/128.");
        }

        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }

        int bits = address.AddressFamily == AddressFamily.InterNetwork ? 32 : 128;
        int prefix = bits;
        if (slash >= 0 && (!int.TryParse(value.Substring(slash + 1), NumberStyles.None, CultureInfo.InvariantCulture, out prefix) || prefix > bits))
        {
            throw Invalid($"'{text}' has a bad prefix length; an {(bits == 32 ? "IPv4" : "IPv6")} range takes /0 to /{bits}.");
        }

        return new AddressRange(Mask(address, prefix), prefix);
    }

    /// <summary>True when <paramref name="address"/> is in the range.</summary>
    public bool Contains(IPAddress address)
    {
        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }

        byte[] candidate = address.GetAddressBytes();
        if (candidate.Length != _network.Length)
        {
            return false;
        }

        int full = _prefixLength / 8;
        for (int i = 0; i < full; i++)
        {
            if (candidate[i] != _network[i])
            {
                return false;
            }
        }

        int rest = _prefixLength % 8;
        if (rest == 0)
        {
            return true;
        }

        byte mask = (byte)(0xFF << (8 - rest));
        return (candidate[full] & mask) == _network[full];
    }

    /// <summary>"10.0.0.0/8".</summary>
    public override string ToString() => $"{Network}/{_prefixLength}";

    private static IPAddress Mask(IPAddress address, int prefix)
    {
        byte[] bytes = address.GetAddressBytes();
        for (int bit = prefix; bit < bytes.Length * 8; bit++)
        {
            bytes[bit / 8] &= (byte)~(0x80 >> (bit % 8));
        }

        return new IPAddress(bytes);
    }

    private static SocketOperationException Invalid(string message) => new(SocketFailureKind.InvalidArgument, message);
}
