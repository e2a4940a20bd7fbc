using System;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Xunit;

namespace SockPS.Core.Tests.Fuzz;

/// <summary>
/// Random endpoints ("host:port", "[v6]:port", paths, garbage), ports and port lists, and CIDR
/// ranges through SockPS's parsers: well-formed input parses to what was written and formats back
/// to text that parses to the same thing; anything else is an InvalidArgument
/// SocketOperationException with a message, never another exception.
/// </summary>
public class AddressingFuzzTests
{
    private static IPAddress RandomAddress(Random random, bool v6)
    {
        byte[] bytes = new byte[v6 ? 16 : 4];
        random.NextBytes(bytes);
        if (v6 && random.Next(4) == 0)
        {
            // Runs of zeros, so "::" compression shows up.
            Array.Clear(bytes, random.Next(0, 8), random.Next(0, 8));
        }

        return new IPAddress(bytes);
    }

    private static string RandomHostName(Random random)
    {
        string label() => FuzzRun.Pick(random, "a", "host", "x-1", "mail", "example", "b2") + (random.Next(3) == 0 ? random.Next(100).ToString(CultureInfo.InvariantCulture) : string.Empty);
        int labels = random.Next(1, 4);
        string name = label();
        for (int i = 1; i < labels; i++)
        {
            name += "." + label();
        }

        return name;
    }

    private static string Mutate(Random random, string text)
    {
        char[] chars = text.ToCharArray();
        if (chars.Length == 0)
        {
            return FuzzRun.Text(random, FuzzRun.Hostile, 8);
        }

        switch (random.Next(4))
        {
            case 0:
                chars[random.Next(chars.Length)] = FuzzRun.Hostile[random.Next(FuzzRun.Hostile.Length)];
                return new string(chars);
            case 1:
                return text.Remove(random.Next(text.Length), 1);
            case 2:
                return text.Insert(random.Next(text.Length + 1), FuzzRun.Hostile[random.Next(FuzzRun.Hostile.Length)].ToString());
            default:
                return text.Substring(0, random.Next(text.Length));
        }
    }

    [Fact]
    public void WellFormedEndPointsParseAndFormatBack()
    {
        FuzzRun.Run(nameof(WellFormedEndPointsParseAndFormatBack), 1000, (random, _) =>
        {
            int port = random.Next(1, 65536);
            string portText = port.ToString(CultureInfo.InvariantCulture);
            string text;
            object expectedHost;
            switch (random.Next(3))
            {
                case 0:
                    IPAddress v4 = RandomAddress(random, v6: false);
                    text = $"{v4}:{portText}";
                    expectedHost = v4;
                    break;
                case 1:
                    IPAddress v6 = RandomAddress(random, v6: true);
                    text = $"[{v6}]:{portText}";
                    expectedHost = v6;
                    break;
                default:
                    string name = RandomHostName(random);
                    text = $"{name}:{portText}";
                    expectedHost = name;
                    break;
            }

            if (random.Next(4) == 0)
            {
                text = " " + text + "\t";
            }

            EndPoint parsed = EndPoints.Parse(text);
            switch (expectedHost)
            {
                case IPAddress address:
                    IPEndPoint ip = Assert.IsType<IPEndPoint>(parsed);
                    Assert.Equal(address, ip.Address);
                    Assert.Equal(port, ip.Port);
                    break;
                case string name:
                    DnsEndPoint dns = Assert.IsType<DnsEndPoint>(parsed);
                    Assert.Equal(name, dns.Host);
                    Assert.Equal(port, dns.Port);
                    break;
            }

            // Formatted back, the text parses to the same endpoint.
            string formatted = EndPointText.Format(parsed);
            Assert.Equal(parsed, EndPoints.Parse(formatted));

            // The host-and-port split agrees.
            Assert.True(EndPoints.TrySplitHostPort(text, out string host, out string? splitPort), $"TrySplitHostPort refused {FuzzRun.Show(text)}");
            Assert.Equal(portText, splitPort);
            Assert.Equal(expectedHost is IPAddress a ? a : (object)host, expectedHost is IPAddress ? IPAddress.Parse(host) : host);
        });
    }

    [Fact]
    public void GarbledEndPointsAreInvalidArgumentsOrParse()
    {
        FuzzRun.Run(nameof(GarbledEndPointsAreInvalidArgumentsOrParse), 1500, (random, _) =>
        {
            string seed = FuzzRun.Pick(random, "127.0.0.1:80", "[::1]:53", "host.example:http", "[fe80::1%eth0]:22", "::1", "[::1", "::1]", "a:b:c", "");
            string text = random.Next(3) == 0 ? FuzzRun.Text(random, FuzzRun.Hostile, 24) : Mutate(random, Mutate(random, seed));
            // A path form only where it cannot touch the file system's idea of a real socket.
            FuzzRun.OnlySockPSErrors(text, () =>
            {
                EndPoint parsed = EndPoints.Parse(text);
                // What parses formats back to something that parses to the same endpoint: an
                // address, or a name that is a host name (the parser keeps any text in brackets
                // as a name, "[~x]:53" too, and leaves it to the resolver to refuse).
                if (parsed is IPEndPoint || (parsed is DnsEndPoint dns && Uri.CheckHostName(dns.Host) == UriHostNameType.Dns))
                {
                    Assert.Equal(parsed, EndPoints.Parse(EndPointText.Format(parsed)));
                }
            }, SocketFailureKind.InvalidArgument);

            // Never throws: a bool says whether the text can be a host with or without a port.
            bool split = EndPoints.TrySplitHostPort(text, out string host, out string? port);
            if (split)
            {
                Assert.NotNull(host);
                Assert.True(port is null || port.Length > 0, $"An empty port from {FuzzRun.Show(text)}");
            }

            FuzzRun.OnlySockPSErrors(text, () =>
            {
                string inner = EndPointText.Unbracket(text);
                Assert.True(inner.Length <= text.Length);
            }, SocketFailureKind.InvalidArgument);
        });
    }

    [Fact]
    public void RandomPortsAndPortListsAreInvalidArgumentsOrInRange()
    {
        FuzzRun.Run(nameof(RandomPortsAndPortListsAreInvalidArgumentsOrInRange), 1500, (random, _) =>
        {
            string text = random.Next(3) switch
            {
                0 => FuzzRun.Text(random, "0123456789-, ", 14),
                1 => Mutate(random, FuzzRun.Pick(random, "80", "http", "8000-8010", "22,80,8000-8002", "ms-sql-s", "65535", "domain")),
                _ => FuzzRun.Text(random, FuzzRun.Hostile, 10),
            };
            string protocol = FuzzRun.Pick(random, "tcp", "udp");
            bool allowZero = random.Next(2) == 0;

            FuzzRun.OnlySockPSErrors(text, () =>
            {
                int port = ServicePorts.Resolve(text, protocol, allowZero);
                Assert.InRange(port, allowZero ? 0 : 1, 65535);
            }, SocketFailureKind.InvalidArgument);

            FuzzRun.OnlySockPSErrors(text, () =>
            {
                foreach (int port in ServicePorts.ResolveList(text, protocol))
                {
                    Assert.InRange(port, 1, 65535);
                }
            }, SocketFailureKind.InvalidArgument);
        });
    }

    /// <summary>The reference: the first <paramref name="prefix"/> bits equal.</summary>
    private static bool SamePrefix(byte[] a, byte[] b, int prefix)
    {
        for (int bit = 0; bit < prefix; bit++)
        {
            int mask = 0x80 >> (bit % 8);
            if ((a[bit / 8] & mask) != (b[bit / 8] & mask))
            {
                return false;
            }
        }

        return true;
    }

    [Fact]
    public void WellFormedCidrsRoundTripAndContainExactlyTheirPrefix()
    {
        FuzzRun.Run(nameof(WellFormedCidrsRoundTripAndContainExactlyTheirPrefix), 1000, (random, _) =>
        {
            bool v6 = random.Next(2) == 0;
            IPAddress address = RandomAddress(random, v6);
            int bits = v6 ? 128 : 32;
            int prefix = random.Next(0, bits + 1);
            bool withPrefix = random.Next(5) != 0;
            string addressText = v6 && random.Next(4) == 0 ? $"[{address}]" : address.ToString();
            string text = withPrefix ? $"{addressText}/{prefix}" : addressText;
            if (!withPrefix)
            {
                prefix = bits;
            }

            AddressRange range = AddressRange.Parse(text);
            Assert.Equal(prefix, range.PrefixLength);
            Assert.True(range.Contains(address), $"{text} does not contain its own address");
            Assert.True(range.Contains(range.Network), $"{text} does not contain its network {range.Network}");
            Assert.True(SamePrefix(address.GetAddressBytes(), range.Network.GetAddressBytes(), prefix));

            // ToString parses back to the same range.
            AddressRange again = AddressRange.Parse(range.ToString());
            Assert.Equal(range.Network, again.Network);
            Assert.Equal(range.PrefixLength, again.PrefixLength);

            // Contains agrees with the reference for random addresses of both families, and
            // for IPv4 ones mapped into IPv6 as a dual-stack server sees them.
            for (int i = 0; i < 8; i++)
            {
                bool otherV6 = random.Next(3) == 0 ? !v6 : v6;
                IPAddress candidate = RandomAddress(random, otherV6);
                if (random.Next(2) == 0)
                {
                    // Near the range: the network's bytes with a random tail.
                    byte[] near = range.Network.GetAddressBytes();
                    byte[] tail = candidate.GetAddressBytes();
                    if (tail.Length == near.Length)
                    {
                        int keep = random.Next(0, near.Length + 1);
                        Array.Copy(near, tail, keep);
                        candidate = new IPAddress(tail);
                    }
                }

                bool expected = candidate.AddressFamily == range.Network.AddressFamily
                    && SamePrefix(candidate.GetAddressBytes(), range.Network.GetAddressBytes(), prefix);
                Assert.Equal(expected, range.Contains(candidate));
                if (candidate.AddressFamily == AddressFamily.InterNetwork)
                {
                    Assert.Equal(expected, range.Contains(candidate.MapToIPv6()));
                }
            }
        });
    }

    [Fact]
    public void GarbledCidrsAreInvalidArgumentsOrValidRanges()
    {
        FuzzRun.Run(nameof(GarbledCidrsAreInvalidArgumentsOrValidRanges), 1500, (random, _) =>
        {
            string seed = FuzzRun.Pick(random, "10.0.0.0/8", "::1/128", "192.0.2.7", "[::1]/64", "0.0.0.0/0", "fe80::/10", "::ffff:10.0.0.1/104");
            string text = random.Next(3) == 0 ? FuzzRun.Text(random, "0123456789abcdef:./[]% -+", 20) : Mutate(random, Mutate(random, seed));
            FuzzRun.OnlySockPSErrors(text, () =>
            {
                AddressRange range = AddressRange.Parse(text);
                int bits = range.Network.AddressFamily == AddressFamily.InterNetwork ? 32 : 128;
                Assert.InRange(range.PrefixLength, 0, bits);
                Assert.True(range.Contains(range.Network));
            }, SocketFailureKind.InvalidArgument);
        });
    }
}
