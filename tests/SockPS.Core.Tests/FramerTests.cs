using System;
using System.Collections.Generic;
using System.Linq;
using System.Text;
using System.Text.RegularExpressions;
using Xunit;

namespace SockPS.Core.Tests;

/// <summary>
/// The framer without sockets: bytes in, frames out. The property that matters most: however the
/// same bytes are split into reads, the frames (and the text) are the same, for every encoding
/// SockPS offers, valid input or not.
/// </summary>
public class FramerTests
{
    public static IEnumerable<object[]> Encodings() =>
        TextEncodings.KnownNames.Select(name => new object[] { name });

    private static readonly TimeSpan NoTimeout = TimeSpan.Zero;

    /// <summary>Feeds <paramref name="chunks"/> one at a time, cutting every frame that
    /// completes, then ends the stream; returns the frames in order.</summary>
    private static List<object?> Feed(IEnumerable<byte[]> chunks, ReceiveRequest request, Encoding encoding)
    {
        TextCodec codec = new(encoding);
        List<byte> unread = new();
        List<object?> frames = new();
        int searched = 0;

        void Drain(bool ended)
        {
            while (true)
            {
                byte[] buffer = unread.ToArray();
                FrameResult result = Framer.Take(buffer, 0, buffer.Length, ended, request, codec, searched);
                Assert.InRange(result.Consumed, 0, buffer.Length);
                unread.RemoveRange(0, result.Consumed);
                switch (result.Status)
                {
                    case FrameStatus.Frame:
                        frames.Add(result.Value);
                        searched = 0;
                        continue;
                    case FrameStatus.NeedMore:
                        Assert.False(ended, "The framer asked for more after the stream ended.");
                        searched = result.Consumed > 0 ? 0 : result.Searched;
                        return;
                    case FrameStatus.ShortAtEnd:
                        frames.Add("<short:" + unread.Count + ">");
                        return;
                    case FrameStatus.End:
                        Assert.True(ended, "The framer said End before the stream ended.");
                        return;
                    default:
                        throw new Xunit.Sdk.XunitException("Unexpected status " + result.Status);
                }
            }
        }

        foreach (byte[] chunk in chunks)
        {
            unread.AddRange(chunk);
            Drain(ended: false);
        }

        Drain(ended: true);
        return frames;
    }

    private static IEnumerable<byte[]> RandomSplit(byte[] data, Random random)
    {
        int at = 0;
        while (at < data.Length)
        {
            int size = random.Next(3) == 0 ? random.Next(1, 4) : random.Next(1, Math.Max(2, data.Length / 3));
            size = Math.Min(size, data.Length - at);
            yield return data.Skip(at).Take(size).ToArray();
            at += size;
        }
    }

    private static string RandomText(Random random, int lines)
    {
        string[] pieces = { "a", "Z", "0", " ", "é", "ü", "€", "日本", "😀", "\t", "\r", "x\r", "ß", "Ω" };
        StringBuilder text = new();
        for (int i = 0; i < lines; i++)
        {
            int words = random.Next(0, 8);
            for (int w = 0; w < words; w++)
            {
                text.Append(pieces[random.Next(pieces.Length)]);
            }

            text.Append(random.Next(4) == 0 ? "\r\n" : "\n");
        }

        if (random.Next(2) == 0)
        {
            text.Append("tail without a line end");
        }

        return text.ToString();
    }

    [Theory]
    [MemberData(nameof(Encodings))]
    public void AnySplitGivesTheSameLines(string encodingName)
    {
        Encoding encoding = TextEncodings.Get(encodingName);
        Random random = new(1234);
        for (int round = 0; round < 150; round++)
        {
            byte[] data = encoding.GetBytes(RandomText(random, random.Next(0, 12)));
            foreach (bool asText in new[] { true, false })
            {
                ReceiveRequest request = new(ReceiveMode.Line, asText, NoTimeout);
                List<object?> whole = Feed(new[] { data }, request, encoding);
                List<object?> split = Feed(RandomSplit(data, random), request, encoding);
                AssertSameFrames(whole, split, $"{encodingName} round {round}");
                AssertSameFrames(ReferenceLines(data, encoding, asText), whole, $"{encodingName} reference, round {round}");
            }
        }
    }

    [Theory]
    [MemberData(nameof(Encodings))]
    public void AnySplitGivesTheSameRecordsCountsAndText(string encodingName)
    {
        Encoding encoding = TextEncodings.Get(encodingName);
        Random random = new(99);
        for (int round = 0; round < 100; round++)
        {
            byte[] data = encoding.GetBytes(RandomText(random, random.Next(1, 8)).Replace("a", "::"));
            ReceiveRequest[] requests =
            {
                new(ReceiveMode.Delimiter, true, NoTimeout, delimiter: "::"),
                new(ReceiveMode.Delimiter, false, NoTimeout, delimiter: "é"),
                new(ReceiveMode.Count, false, NoTimeout, count: 1 + random.Next(7)),
            };
            foreach (ReceiveRequest request in requests)
            {
                AssertSameFrames(Feed(new[] { data }, request, encoding), Feed(RandomSplit(data, random), request, encoding), $"{encodingName} {request.Mode} round {round}");
            }

            // Available: the chunks differ with the reads, the text they add up to does not.
            ReceiveRequest available = new(ReceiveMode.Available, true, NoTimeout);
            string joined = string.Concat(Feed(RandomSplit(data, random), available, encoding).Cast<string>());
            Assert.Equal(encoding.GetString(data), joined);
        }
    }

    [Theory]
    [MemberData(nameof(Encodings))]
    public void InvalidBytesNeverShiftALineBoundary(string encodingName)
    {
        Encoding encoding = TextEncodings.Get(encodingName);
        Random random = new(7);
        int unit = TextEncodings.CodeUnitSize(encoding);
        byte[] lineFeed = encoding.GetBytes("\n");
        for (int round = 0; round < 150; round++)
        {
            // Random bytes between aligned line feeds: most of it is not valid text.
            List<byte> data = new();
            int lines = random.Next(1, 6);
            for (int i = 0; i < lines; i++)
            {
                byte[] junk = new byte[random.Next(0, 5) * unit];
                random.NextBytes(junk);
                for (int j = 0; j + unit <= junk.Length; j += unit)
                {
                    if (junk.Skip(j).Take(unit).SequenceEqual(lineFeed))
                    {
                        junk[j] ^= 0x40; // not a line feed by accident
                    }
                }

                data.AddRange(junk);
                data.AddRange(lineFeed);
            }

            byte[] bytes = data.ToArray();
            ReceiveRequest request = new(ReceiveMode.Line, true, NoTimeout);
            List<object?> whole = Feed(new[] { bytes }, request, encoding);
            Assert.Equal(lines, whole.Count);
            AssertSameFrames(whole, Feed(RandomSplit(bytes, random), request, encoding), $"{encodingName} round {round}");
            AssertSameFrames(ReferenceLines(bytes, encoding, asText: true), whole, $"{encodingName} reference, round {round}");
        }
    }

    [Fact]
    public void APatternAfterTelnetNegotiationConsumesExactlyThroughTheMatch()
    {
        // IAC WILL ECHO, IAC DO SUPPRESS-GO-AHEAD: not UTF-8, each byte U+FFFD when decoded.
        byte[] negotiation = { 0xFF, 0xFB, 0x01, 0xFF, 0xFD, 0x03 };
        byte[] prompt = Encoding.UTF8.GetBytes("Welcome\r\nlogin: ");
        byte[] rest = Encoding.UTF8.GetBytes("after");
        byte[] data = negotiation.Concat(prompt).Concat(rest).ToArray();
        ReceiveRequest request = new(ReceiveMode.Pattern, true, NoTimeout, pattern: new Regex("login: "), keepBytes: true);
        TextCodec codec = new(Encoding.UTF8);

        FrameResult result = Framer.Take(data, 0, data.Length, ended: false, request, codec);

        Assert.Equal(FrameStatus.Frame, result.Status);
        Assert.Equal(negotiation.Length + prompt.Length, result.Consumed);
        PatternFrame frame = Assert.IsType<PatternFrame>(result.Value);
        Assert.Equal(negotiation.Concat(prompt), frame.Bytes!);
        Assert.EndsWith("login: ", frame.Text);
    }

    [Theory]
    [MemberData(nameof(Encodings))]
    public void APatternMatchesTheSameWhateverTheSplit(string encodingName)
    {
        Encoding encoding = TextEncodings.Get(encodingName);
        Random random = new(31);
        for (int round = 0; round < 100; round++)
        {
            // Whole code units of garbage: a fixed-width encoding misaligned by a stray byte
            // garbles everything after it, and then there is rightly nothing to match.
            byte[] garbage = new byte[random.Next(0, 5) * TextEncodings.CodeUnitSize(encoding)];
            random.NextBytes(garbage);
            string before = RandomText(random, random.Next(0, 3));
            byte[] data = garbage.Concat(encoding.GetBytes(before + "PROMPT> rest")).ToArray();
            ReceiveRequest request = new(ReceiveMode.Pattern, true, NoTimeout, pattern: new Regex("PROMPT> "), keepBytes: true);

            List<object?> whole = Feed(new[] { data }, request, encoding);
            List<object?> split = Feed(RandomSplit(data, random), request, encoding);
            PatternFrame first = Assert.IsType<PatternFrame>(Assert.Single(whole));
            PatternFrame second = Assert.IsType<PatternFrame>(Assert.Single(split));
            Assert.True(first.Bytes!.SequenceEqual(second.Bytes!),
                $"{encodingName} round {round}: whole consumed {first.Bytes!.Length}, split {second.Bytes!.Length}, data {Convert.ToHexString(data)}");
            // The consumed bytes end exactly where "PROMPT> " ends.
            byte[] marker = encoding.GetBytes("PROMPT> ");
            Assert.True(first.Bytes!.Length >= marker.Length && first.Bytes!.Skip(first.Bytes!.Length - marker.Length).SequenceEqual(marker),
                $"{encodingName} round {round}: the match did not end the consumed bytes");
        }
    }

    [Fact]
    public void ALineLongerThanTheLimitIsTooLongAndConsumesNothing()
    {
        byte[] data = new byte[Framer.MaxFrameLength];
        data.AsSpan().Fill((byte)'x');
        FrameResult result = Framer.Take(data, 0, data.Length, ended: false, new ReceiveRequest(ReceiveMode.Line, true, NoTimeout), new TextCodec(Encoding.UTF8));
        Assert.Equal(FrameStatus.TooLong, result.Status);
        Assert.Equal(0, result.Consumed);
    }

    [Fact]
    public void ACountTheStreamEndsShortOfIsShortAtEndAndConsumesNothing()
    {
        byte[] data = { 1, 2, 3 };
        FrameResult result = Framer.Take(data, 0, 3, ended: true, new ReceiveRequest(ReceiveMode.Count, false, NoTimeout, count: 5), new TextCodec(Encoding.UTF8));
        Assert.Equal(FrameStatus.ShortAtEnd, result.Status);
        Assert.Equal(0, result.Consumed);
    }

    [Fact]
    public void ACharacterSplitAcrossAvailableReadsComesOutWhole()
    {
        TextCodec codec = new(Encoding.UTF8);
        byte[] euro = Encoding.UTF8.GetBytes("€");
        ReceiveRequest request = new(ReceiveMode.Available, true, NoTimeout);
        FrameResult first = Framer.Take(euro, 0, 2, ended: false, request, codec);
        Assert.Equal(FrameStatus.NeedMore, first.Status);
        Assert.Equal(2, first.Consumed); // held by the decoder
        FrameResult second = Framer.Take(euro, 2, 1, ended: false, request, codec);
        Assert.Equal("€", second.Value);
    }

    /// <summary>Lines as the definition says: split at aligned LF, drop one CR before it, each
    /// decoded by itself; a last line without LF counts.</summary>
    private static List<object?> ReferenceLines(byte[] data, Encoding encoding, bool asText)
    {
        byte[] lf = encoding.GetBytes("\n");
        byte[] cr = encoding.GetBytes("\r");
        int unit = TextEncodings.CodeUnitSize(encoding);
        List<object?> lines = new();
        int start = 0;
        for (int i = 0; i + lf.Length <= data.Length; i++)
        {
            if (i % unit == 0 && data.Skip(i).Take(lf.Length).SequenceEqual(lf))
            {
                lines.Add(Frame(data.Skip(start).Take(i - start).ToArray()));
                start = i + lf.Length;
                i = start - 1;
            }
        }

        if (start < data.Length)
        {
            lines.Add(Frame(data.Skip(start).ToArray()));
        }

        return lines;

        object Frame(byte[] line)
        {
            if (line.Length >= cr.Length && line.Skip(line.Length - cr.Length).SequenceEqual(cr))
            {
                line = line.Take(line.Length - cr.Length).ToArray();
            }

            return asText ? encoding.GetString(line) : line;
        }
    }

    private static void AssertSameFrames(List<object?> expected, List<object?> actual, string where)
    {
        Assert.True(expected.Count == actual.Count, $"{where}: {expected.Count} frames expected, {actual.Count} came");
        for (int i = 0; i < expected.Count; i++)
        {
            switch (expected[i])
            {
                case byte[] bytes:
                    Assert.True(actual[i] is byte[] got && got.SequenceEqual(bytes), $"{where}: frame {i} differs");
                    break;
                default:
                    Assert.True(Equals(expected[i], actual[i]), $"{where}: frame {i} is '{actual[i]}', expected '{expected[i]}'");
                    break;
            }
        }
    }
}
