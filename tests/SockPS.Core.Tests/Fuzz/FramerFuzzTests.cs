using System;
using System.Collections.Generic;
using System.Linq;
using System.Text;
using System.Text.RegularExpressions;
using Xunit;

namespace SockPS.Core.Tests.Fuzz;

/// <summary>
/// Random byte streams (valid text, invalid text, terminators at random places) cut into random
/// reads and fed through the framer, for every mode and every encoding SockPS offers: the frames
/// must be exactly those a one-shot split of the whole stream gives, byte frames must match an
/// independent reference split, nothing may throw, and the framer must always make progress.
/// </summary>
public class FramerFuzzTests
{
    /// <summary>Every name in TextEncodings' table and the code page numbers of the same encodings.</summary>
    private static readonly string[] s_encodingNames =
    {
        "utf8", "utf8BOM", "utf8NoBOM", "ascii", "unicode", "bigendianunicode", "utf32", "bigendianutf32", "latin1",
        "utf-16", "utf-32", "us-ascii", "iso-8859-1", "65001", "1200", "1201", "12000", "12001", "20127", "28591",
    };

    private static readonly string[] s_delimiters = { "\n", "::", "|", "\u00e9", "END", "\r\n", "\0", "\u65e5\u672c", "\U0001F600", "aa" };

    // Patterns whose first match is settled by the bytes up to its end (fixed length, no lazy or
    // greedy choice at the end), so more data arriving later cannot change it.
    private static readonly string[] s_patterns = { "\n", "END", "[0-9]{3}", "a.b", "\u00e9", ":[^:]{2}:", "\uFFFD", ".", "(?s).{2}" };

    /// <summary>Random bytes with encoded text, terminators and broken sequences mixed in.</summary>
    private static byte[] RandomStream(Random random, Encoding encoding)
    {
        List<byte> data = new();
        int pieces = random.Next(0, 60);
        string[] texts = { "\n", "\r\n", "\r", "::", "|", "\u00e9", "END", "a", "ab", "aXb", "123", "\u65e5\u672c", "\U0001F600", "\0", " ", "x" };
        for (int i = 0; i < pieces; i++)
        {
            switch (random.Next(5))
            {
                case 0:
                    byte[] noise = new byte[random.Next(1, 12)];
                    random.NextBytes(noise);
                    data.AddRange(noise);
                    break;
                case 1:
                    // A character cut short: the first bytes of a multi-byte one.
                    byte[] whole = encoding.GetBytes(FuzzRun.Pick(random, "\u00e9", "\u65e5", "\U0001F600", "\n"));
                    data.AddRange(whole.Take(Math.Max(1, random.Next(whole.Length))));
                    break;
                default:
                    data.AddRange(encoding.GetBytes(FuzzRun.Pick(random, texts)));
                    break;
            }
        }

        return data.ToArray();
    }

    /// <summary>The stream cut into reads: single bytes, small and large pieces, empty reads.</summary>
    private static List<byte[]> RandomReads(Random random, byte[] data)
    {
        List<byte[]> reads = new();
        int at = 0;
        while (at < data.Length)
        {
            int size = random.Next(4) switch
            {
                0 => 0,
                1 => 1,
                2 => random.Next(1, 5),
                _ => random.Next(1, Math.Max(2, data.Length)),
            };
            size = Math.Min(size, data.Length - at);
            reads.Add(data.AsSpan(at, size).ToArray());
            at += size;
        }

        return reads;
    }

    private static ReceiveRequest RandomRequest(Random random, out string description)
    {
        bool asText = random.Next(2) == 0;
        switch (random.Next(5))
        {
            case 0:
                description = $"Line asText={asText}";
                return new ReceiveRequest(ReceiveMode.Line, asText, TimeSpan.Zero);
            case 1:
                string delimiter = FuzzRun.Pick(random, s_delimiters);
                description = $"Delimiter {FuzzRun.Show(delimiter)} asText={asText}";
                return new ReceiveRequest(ReceiveMode.Delimiter, asText, TimeSpan.Zero, delimiter: delimiter);
            case 2:
                int count = random.Next(1, 40);
                description = $"Count {count} asText={asText}";
                return new ReceiveRequest(ReceiveMode.Count, asText, TimeSpan.Zero, count: count);
            case 3:
                description = $"Available asText={asText}";
                return new ReceiveRequest(ReceiveMode.Available, asText, TimeSpan.Zero);
            default:
                string pattern = FuzzRun.Pick(random, s_patterns);
                description = $"Pattern {FuzzRun.Show(pattern)}";
                return new ReceiveRequest(ReceiveMode.Pattern, true, TimeSpan.Zero, pattern: new Regex(pattern), keepBytes: true);
        }
    }

    /// <summary>What a receive loop does: append each read, cut every frame that completes, then
    /// end the stream and cut the rest. Checks the framer's contract on the way.</summary>
    private static List<object?> Feed(IEnumerable<byte[]> reads, ReceiveRequest request, Encoding encoding, out int leftOver)
    {
        TextCodec codec = new(encoding);
        byte[] buffer = new byte[256];
        int start = 0;
        int length = 0;
        int searched = 0;
        List<object?> frames = new();

        void Drain(bool ended)
        {
            // Each frame consumes at least a byte, or ends the stream: a bound on the loop.
            for (int guard = 0; ; guard++)
            {
                if (guard > 100_000)
                {
                    throw new Xunit.Sdk.XunitException("The framer made no progress: it returned frames without consuming bytes.");
                }

                FrameResult result = Framer.Take(buffer, start, length, ended, request, codec, searched);
                Assert.InRange(result.Consumed, 0, length);
                start += result.Consumed;
                length -= result.Consumed;
                switch (result.Status)
                {
                    case FrameStatus.Frame:
                        frames.Add(result.Value);
                        searched = 0;
                        if (result.Consumed == 0 && (!ended || length > 0))
                        {
                            throw new Xunit.Sdk.XunitException("A frame that consumed nothing before the end of the stream.");
                        }

                        if (result.Consumed == 0)
                        {
                            // The end-of-stream tail of the decoder: nothing more can follow.
                            Assert.Equal(FrameStatus.End, Framer.Take(buffer, start, length, ended, request, codec).Status);
                            return;
                        }

                        continue;
                    case FrameStatus.NeedMore:
                        Assert.False(ended, "NeedMore after the stream ended.");
                        searched = result.Consumed > 0 ? 0 : result.Searched;
                        Assert.InRange(searched, 0, length);
                        return;
                    case FrameStatus.ShortAtEnd:
                        Assert.True(ended, "ShortAtEnd before the stream ended.");
                        Assert.Equal(ReceiveMode.Count, request.Mode);
                        Assert.InRange(length, 1, request.Count - 1);
                        return;
                    case FrameStatus.End:
                        Assert.True(ended, "End before the stream ended.");
                        return;
                    default:
                        throw new Xunit.Sdk.XunitException("Unexpected status " + result.Status);
                }
            }
        }

        foreach (byte[] read in reads)
        {
            if (start + length + read.Length > buffer.Length)
            {
                byte[] bigger = new byte[Math.Max(buffer.Length * 2, length + read.Length)];
                Buffer.BlockCopy(buffer, start, bigger, 0, length);
                buffer = bigger;
                start = 0;
            }

            Buffer.BlockCopy(read, 0, buffer, start + length, read.Length);
            length += read.Length;
            Drain(ended: false);
        }

        Drain(ended: true);
        leftOver = length;
        return frames;
    }

    private static string Describe(object? frame) => frame switch
    {
        null => "(null)",
        string text => FuzzRun.Show(text),
        byte[] bytes => Convert.ToHexString(bytes),
        PatternFrame match => FuzzRun.Show(match.Text) + "/" + Convert.ToHexString(match.Bytes ?? Array.Empty<byte>()),
        _ => frame.ToString() ?? string.Empty,
    };

    /// <summary>Splits on the delimiter's bytes at positions that are multiples of the code unit,
    /// as the framer promises; a line also loses a CR before its LF. The reference for byte frames.</summary>
    private static List<byte[]> ReferenceSplit(byte[] data, byte[] delimiter, int unit, byte[]? carriageReturn)
    {
        List<byte[]> records = new();
        int from = 0;
        int at = from;
        while (at + delimiter.Length <= data.Length)
        {
            if ((at - from) % unit == 0 && data.AsSpan(at, delimiter.Length).SequenceEqual(delimiter))
            {
                int end = at;
                if (carriageReturn is not null && end - from >= carriageReturn.Length && data.AsSpan(end - carriageReturn.Length, carriageReturn.Length).SequenceEqual(carriageReturn))
                {
                    end -= carriageReturn.Length;
                }

                records.Add(data.AsSpan(from, end - from).ToArray());
                from = at + delimiter.Length;
                at = from;
                continue;
            }

            at++;
        }

        if (from < data.Length)
        {
            records.Add(data.AsSpan(from).ToArray());
        }

        return records;
    }

    [Fact]
    public void RandomReadsGiveTheFramesOfAOneShotSplit()
    {
        FuzzRun.Run(nameof(RandomReadsGiveTheFramesOfAOneShotSplit), 1500, (random, number) =>
        {
            string encodingName = s_encodingNames[number % s_encodingNames.Length];
            Encoding encoding = TextEncodings.Get(encodingName);
            byte[] data = RandomStream(random, encoding);
            ReceiveRequest request = RandomRequest(random, out string description);
            string context = $"{encodingName}, {description}, stream {Convert.ToHexString(data)}";

            List<object?> whole = Feed(new[] { data }, request, encoding, out int wholeLeft);
            List<byte[]> reads = RandomReads(random, data);
            List<object?> split = Feed(reads, request, encoding, out int splitLeft);

            if (request.Mode == ReceiveMode.Available)
            {
                // Frames follow the reads; what they add up to does not.
                if (request.AsText)
                {
                    string expected = encoding.GetString(data);
                    Assert.True(expected == string.Concat(whole.Cast<string>()), $"One-shot text differs from Encoding.GetString: {context}");
                    Assert.True(expected == string.Concat(split.Cast<string>()), $"Split text differs from Encoding.GetString: {context}; reads {string.Join(",", reads.Select(r => r.Length))}");
                }
                else
                {
                    Assert.Equal(data, whole.Cast<byte[]>().SelectMany(b => b).ToArray());
                    Assert.Equal(data, split.Cast<byte[]>().SelectMany(b => b).ToArray());
                }

                return;
            }

            string wholeText = string.Join(" ", whole.Select(Describe));
            string splitText = string.Join(" ", split.Select(Describe));
            Assert.True(wholeLeft == splitLeft,
                $"Reads of {string.Join(",", reads.Select(r => r.Length))} left {splitLeft} bytes, one read {wholeLeft}: {context}\none:   {wholeText}\nsplit: {splitText}");
            Assert.True(wholeText == splitText,
                $"Reads of {string.Join(",", reads.Select(r => r.Length))} gave other frames than one read: {context}\none:   {wholeText}\nsplit: {splitText}");

            TextCodec codec = new(encoding);
            switch (request.Mode)
            {
                case ReceiveMode.Line when !request.AsText:
                case ReceiveMode.Delimiter when !request.AsText:
                    byte[] delimiter = request.Mode == ReceiveMode.Line ? codec.LineFeed : encoding.GetBytes(request.Delimiter!);
                    List<byte[]> reference = ReferenceSplit(data, delimiter, codec.CodeUnit, request.Mode == ReceiveMode.Line ? codec.CarriageReturn : null);
                    Assert.True(string.Join(" ", reference.Select(Describe)) == wholeText, $"Byte frames differ from the reference split: {context}");
                    break;
                case ReceiveMode.Count:
                    int full = data.Length / request.Count;
                    Assert.Equal(full, whole.Count);
                    Assert.Equal(data.Length - full * request.Count, wholeLeft);
                    if (!request.AsText)
                    {
                        Assert.Equal(data.Take(full * request.Count).ToArray(), whole.Cast<byte[]>().SelectMany(b => b).ToArray());
                    }

                    break;
                case ReceiveMode.Pattern:
                    // Each match's bytes follow the previous ones: together a prefix of the stream.
                    byte[] matched = whole.Cast<PatternFrame>().SelectMany(f => f.Bytes!).ToArray();
                    Assert.True(data.AsSpan(0, matched.Length).SequenceEqual(matched), $"Pattern frames are not a prefix of the stream: {context}");
                    Assert.Equal(data.Length - matched.Length, wholeLeft);
                    foreach (PatternFrame frame in whole.Cast<PatternFrame>())
                    {
                        Assert.True(frame.Match.Success);
                        // The text ends with the match, or with it and the other half of a
                        // surrogate pair the match cut.
                        string text = frame.Text;
                        bool halfPair = text.Length >= 2 && char.IsLowSurrogate(text[text.Length - 1]) && char.IsHighSurrogate(text[text.Length - 2]);
                        Assert.EndsWith(frame.Match.Value, halfPair && !frame.Match.Value.EndsWith(text.Substring(text.Length - 2), StringComparison.Ordinal) ? text.Substring(0, text.Length - 1) : text, StringComparison.Ordinal);
                    }

                    break;
            }
        });
    }
}
