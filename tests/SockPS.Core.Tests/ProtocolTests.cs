using System;
using System.Collections.Generic;
using System.Linq;
using Xunit;

namespace SockPS.Core.Tests;

/// <summary>The pure parts of issue 12: Telnet's negotiation filter, host:port splitting and the
/// protocol schemes' table.</summary>
public class ProtocolTests
{
    private static (byte[] Data, byte[] Replies) FilterInPieces(byte[] input, int[] cuts)
    {
        TelnetFilter filter = new();
        List<byte> data = new();
        List<byte> replies = new();
        int start = 0;
        foreach (int cut in cuts.Append(input.Length))
        {
            byte[] piece = input.Skip(start).Take(cut - start).ToArray();
            int kept = filter.Filter(piece, 0, piece.Length, replies);
            data.AddRange(piece.Take(kept));
            start = cut;
        }

        return (data.ToArray(), replies.ToArray());
    }

    [Fact]
    public void TelnetOffersAreRefusedAndTheNegotiationLeavesTheText()
    {
        byte[] input =
        {
            255, 251, 1,        // WILL ECHO      -> DONT ECHO
            255, 253, 24,       // DO TTYPE       -> WONT TTYPE
            255, 252, 3,        // WONT SGA       -> nothing
            255, 254, 5,        // DONT STATUS    -> nothing
            255, 250, 24, 1, 255, 255, 7, 255, 240, // SB TTYPE SEND (an escaped 255 inside) SE
            (byte)'o', (byte)'k', 255, 255, (byte)'!', // an escaped 255 in the text stays one 255
            255, 241,           // NOP
            (byte)'\r', (byte)'\n',
        };
        byte[] expectedData = { (byte)'o', (byte)'k', 255, (byte)'!', (byte)'\r', (byte)'\n' };
        byte[] expectedReplies = { 255, 254, 1, 255, 252, 24 };

        // Every way of cutting the bytes into reads gives the same result.
        for (int cut = 0; cut <= input.Length; cut++)
        {
            for (int second = cut; second <= input.Length; second += 3)
            {
                var (data, replies) = FilterInPieces(input, new[] { cut, second });
                Assert.Equal(expectedData, data);
                Assert.Equal(expectedReplies, replies);
            }
        }
    }

    [Theory]
    [InlineData("mail.example:25", "mail.example", "25")]
    [InlineData("127.0.0.1:8080", "127.0.0.1", "8080")]
    [InlineData("[::1]:443", "::1", "443")]
    [InlineData("[::1]", "::1", null)]
    [InlineData("::1", "::1", null)]
    [InlineData("fe80::1", "fe80::1", null)]
    [InlineData("localhost", "localhost", null)]
    [InlineData("host:smtp", "host", "smtp")]
    public void HostAndPortSplit(string text, string host, string? port)
    {
        Assert.True(EndPoints.TrySplitHostPort(text, out string gotHost, out string? gotPort));
        Assert.Equal(host, gotHost);
        Assert.Equal(port, gotPort);
    }

    [Theory]
    [InlineData("[::1")]
    [InlineData("[::1]x")]
    [InlineData("host:")]
    [InlineData(":80")]
    [InlineData("a:b:c")]
    public void TextThatCannotBeAHostIsRefused(string text) =>
        Assert.False(EndPoints.TrySplitHostPort(text, out _, out _));

    [Theory]
    [InlineData("smtp", 25, false)]
    [InlineData("smtps", 465, true)]
    [InlineData("imaps", 993, true)]
    [InlineData("HTTP", 80, false)]
    [InlineData("telnet", 23, false)]
    public void SchemesKnowTheirPortTlsAndLineEnd(string scheme, int port, bool tls)
    {
        ProtocolScheme found = ProtocolSchemes.Find(scheme)!;
        Assert.Equal(port, found.DefaultPort);
        Assert.Equal(tls, found.Tls);
        Assert.Equal("\r\n", found.NewLine);
        Assert.Equal(scheme.Equals("telnet", StringComparison.OrdinalIgnoreCase), found.Telnet);
        Assert.Null(ProtocolSchemes.Find("tcp")!.DefaultPort);
        Assert.Null(ProtocolSchemes.Find("no-such-scheme"));
    }

    [Theory]
    [InlineData("imap4", 143)]
    [InlineData("dns", 53)]
    [InlineData("smtps", 465)]
    [InlineData("nntps", 563)]
    public void TheTutorialsServiceNamesResolve(string name, int port) =>
        Assert.Equal(port, ServicePorts.Resolve(name, "tcp"));
}
