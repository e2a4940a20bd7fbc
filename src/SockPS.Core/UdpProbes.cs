using System;
using System.Globalization;
using System.Security.Cryptography;

namespace SockPS.Core;

/// <summary>The datagrams a UDP port check sends, and what an answer to them says. UDP has no
/// handshake, so the only proof that a port is open is an answer, and services answer only what
/// they understand: DNS and NTP get a real request of their protocol.</summary>
internal static class UdpProbes
{
    private static readonly RandomNumberGenerator s_random = RandomNumberGenerator.Create();

    // Seconds from the NTP era (1900-01-01) to the Unix epoch.
    private const long NtpEpochOffset = 2208988800L;

    /// <summary>The probe to send: <paramref name="requested"/>, or for Auto the one the port's
    /// well-known service speaks (53: DNS, 123: NTP), else an empty datagram.</summary>
    public static UdpProbe Choose(UdpProbe requested, int port) => requested != UdpProbe.Auto
        ? requested
        : port switch
        {
            53 => UdpProbe.Dns,
            123 => UdpProbe.Ntp,
            _ => UdpProbe.Empty,
        };

    /// <summary>The bytes of a probe; <paramref name="id"/> is the DNS query id (0 for others).</summary>
    public static byte[] Build(UdpProbe probe, out ushort id)
    {
        id = 0;
        switch (probe)
        {
            case UdpProbe.Dns:
                byte[] random = new byte[2];
                lock (s_random)
                {
                    s_random.GetBytes(random);
                }

                id = (ushort)((random[0] << 8) | random[1]);
                return DnsQuery(id);
            case UdpProbe.Ntp:
                return NtpRequest(DateTime.UtcNow);
            default:
                return new byte[0];
        }
    }

    /// <summary>A DNS query (RFC 1035 section 4.1): header with one question, recursion desired;
    /// the question is the root (an empty name), type NS (2), class IN (1).</summary>
    internal static byte[] DnsQuery(ushort id) => new byte[]
    {
        (byte)(id >> 8), (byte)id, // ID
        0x01, 0x00,                // QR=0 (query), OPCODE=0, RD=1
        0x00, 0x01,                // QDCOUNT 1
        0x00, 0x00,                // ANCOUNT
        0x00, 0x00,                // NSCOUNT
        0x00, 0x00,                // ARCOUNT
        0x00,                      // QNAME: the root, a zero-length label
        0x00, 0x02,                // QTYPE NS
        0x00, 0x01,                // QCLASS IN
    };

    /// <summary>An NTPv4 client request (RFC 5905 section 7.3): LI 0, VN 4, Mode 3 (client), the
    /// rest zero but the transmit timestamp, which a server copies into its answer.</summary>
    internal static byte[] NtpRequest(DateTime utcNow)
    {
        byte[] packet = new byte[48];
        packet[0] = (0 << 6) | (4 << 3) | 3;
        TimeSpan sinceUnixEpoch = utcNow - new DateTime(1970, 1, 1, 0, 0, 0, DateTimeKind.Utc);
        ulong seconds = (ulong)(NtpEpochOffset + (long)Math.Floor(sinceUnixEpoch.TotalSeconds));
        ulong fraction = (ulong)((sinceUnixEpoch.Ticks % TimeSpan.TicksPerSecond) * (double)uint.MaxValue / TimeSpan.TicksPerSecond);
        for (int i = 0; i < 4; i++)
        {
            packet[40 + i] = (byte)(seconds >> (24 - (8 * i)));
            packet[44 + i] = (byte)(fraction >> (24 - (8 * i)));
        }

        return packet;
    }

    /// <summary>The message of an Open UDP check, from the answer.</summary>
    public static string DescribeAnswer(UdpProbe probe, byte[] answer, int length, ushort id)
    {
        string size = length == 1 ? "1 byte" : length.ToString(CultureInfo.InvariantCulture) + " bytes";
        if (probe == UdpProbe.Dns && length >= 12 && ((answer[0] << 8) | answer[1]) == id && (answer[2] & 0x80) != 0)
        {
            int rcode = answer[3] & 0x0F;
            string name = rcode switch
            {
                0 => "NOERROR",
                1 => "FORMERR",
                2 => "SERVFAIL",
                3 => "NXDOMAIN",
                4 => "NOTIMP",
                5 => "REFUSED",
                _ => "RCODE " + rcode.ToString(CultureInfo.InvariantCulture),
            };
            return $"A DNS server answered ({name}, {size}).";
        }

        if (probe == UdpProbe.Ntp && length >= 48 && (answer[0] & 0x07) == 4)
        {
            return $"An NTP server answered (stratum {answer[1].ToString(CultureInfo.InvariantCulture)}, {size}).";
        }

        string sent = probe switch
        {
            UdpProbe.Dns => "the DNS query",
            UdpProbe.Ntp => "the NTP request",
            _ => "an empty datagram",
        };
        return $"An answer came back to {sent} ({size}).";
    }
}
