using System;
using System.Buffers;
using System.Collections.Generic;
using System.Text;
using Xunit;

namespace SockPS.Core.Tests.Fuzz;

/// <summary>
/// Random bytes through every encoding SockPS offers: decoding in random pieces (arrays and
/// multi-segment sequences) gives exactly what one-shot decoding gives, invalid input becomes
/// U+FFFD instead of an exception, the decoder ends empty after a flush, and
/// <see cref="TextCodec.ByteLengthOfChars"/> cuts the bytes where the text splits into the asked
/// number of characters and the rest. Random encoding names only ever raise the documented ArgumentException.
/// </summary>
public class TextCodecFuzzTests
{
    private static readonly string[] s_encodingNames =
    {
        "utf8", "utf8BOM", "ascii", "unicode", "bigendianunicode", "utf32", "bigendianutf32", "latin1", "65001", "1200", "12000", "20127",
    };

    private static byte[] RandomBytes(Random random, Encoding encoding)
    {
        List<byte> data = new();
        int pieces = random.Next(0, 40);
        for (int i = 0; i < pieces; i++)
        {
            if (random.Next(2) == 0)
            {
                byte[] noise = new byte[random.Next(1, 9)];
                random.NextBytes(noise);
                data.AddRange(noise);
            }
            else
            {
                data.AddRange(encoding.GetBytes(FuzzRun.Pick(random, "a", "\u00e9", "\u65e5", "\U0001F600", "\n", "\r\n", "\0", "\uFFFD")));
            }
        }

        return data.ToArray();
    }

    private sealed class Segment : ReadOnlySequenceSegment<byte>
    {
        public Segment(ReadOnlyMemory<byte> memory, long runningIndex)
        {
            Memory = memory;
            RunningIndex = runningIndex;
        }

        public Segment Append(ReadOnlyMemory<byte> memory)
        {
            Segment next = new(memory, RunningIndex + Memory.Length);
            Next = next;
            return next;
        }
    }

    private static ReadOnlySequence<byte> AsSequence(List<byte[]> pieces)
    {
        if (pieces.Count == 0)
        {
            return ReadOnlySequence<byte>.Empty;
        }

        Segment first = new(pieces[0], 0);
        Segment last = first;
        for (int i = 1; i < pieces.Count; i++)
        {
            last = last.Append(pieces[i]);
        }

        return new ReadOnlySequence<byte>(first, 0, last, last.Memory.Length);
    }

    private static List<byte[]> Cut(Random random, byte[] data)
    {
        List<byte[]> pieces = new();
        int at = 0;
        while (at < data.Length)
        {
            int size = Math.Min(data.Length - at, random.Next(3) == 0 ? random.Next(0, 3) : random.Next(1, 16));
            pieces.Add(data.AsSpan(at, size).ToArray());
            at += size;
        }

        return pieces;
    }

    [Fact]
    public void DecodingInPiecesEqualsOneShotDecoding()
    {
        FuzzRun.Run(nameof(DecodingInPiecesEqualsOneShotDecoding), 1200, (random, number) =>
        {
            string name = s_encodingNames[number % s_encodingNames.Length];
            Encoding encoding = TextEncodings.Get(name);
            byte[] data = RandomBytes(random, encoding);
            string expected = encoding.GetString(data);
            string context = $"{name}, bytes {Convert.ToHexString(data)}";

            // Arrays, one piece at a time, flushed at the end.
            TextCodec codec = new(encoding);
            List<byte[]> pieces = Cut(random, data);
            StringBuilder text = new();
            foreach (byte[] piece in pieces)
            {
                text.Append(codec.Decode(piece, 0, piece.Length, flush: false));
            }

            text.Append(codec.Decode(Array.Empty<byte>(), 0, 0, flush: true));
            Assert.True(expected == text.ToString(), $"Array pieces decode differently: {context}");

            // After a flush the decoder holds nothing: decoding again starts clean.
            Assert.Equal(expected, codec.Decode(data, 0, data.Length, flush: true));

            // Multi-segment sequences, in two calls.
            TextCodec sequenceCodec = new(encoding);
            int half = random.Next(data.Length + 1);
            string first = sequenceCodec.Decode(AsSequence(Cut(random, data.AsSpan(0, half).ToArray())), flush: false);
            string second = sequenceCodec.Decode(AsSequence(Cut(random, data.AsSpan(half).ToArray())), flush: true);
            Assert.True(expected == first + second, $"Sequences split at {half} decode differently: {context}");
        });
    }

    [Fact]
    public void ByteLengthOfCharsCutsTheTextExactly()
    {
        FuzzRun.Run(nameof(ByteLengthOfCharsCutsTheTextExactly), 1200, (random, number) =>
        {
            string name = s_encodingNames[number % s_encodingNames.Length];
            Encoding encoding = TextEncodings.Get(name);
            byte[] data = RandomBytes(random, encoding);
            int offset = random.Next(0, 4);
            byte[] buffer = new byte[offset + data.Length + random.Next(0, 4)];
            Buffer.BlockCopy(data, 0, buffer, offset, data.Length);

            int available = encoding.GetDecoder().GetCharCount(data, 0, data.Length, flush: false);
            int chars = random.Next(0, available + 2);
            TextCodec codec = new(encoding);
            int bytes = codec.ByteLengthOfChars(buffer, offset, data.Length, chars);
            string context = $"{name}, {chars} chars of {Convert.ToHexString(data)} -> {bytes}";

            Assert.InRange(bytes, 0, data.Length);
            if (chars <= 0)
            {
                Assert.Equal(0, bytes);
                return;
            }

            if (bytes < data.Length)
            {
                // The cut splits the text exactly: the bytes before it, decoded as if the stream
                // ended there, are the first chars of the whole text; the bytes after it,
                // decoded afresh, are the rest.
                string all = Decode(encoding, data, 0, data.Length, flush: false);
                string head = Decode(encoding, data, 0, bytes, flush: true);
                string rest = Decode(encoding, data, bytes, data.Length - bytes, flush: false);
                Assert.True(head.Length == chars && all.StartsWith(head, StringComparison.Ordinal),
                    $"The prefix's text {FuzzRun.Show(head)} is not the first {chars} chars of {FuzzRun.Show(all)}: {context}");
                Assert.True(all == head + rest, $"The text after the cut, {FuzzRun.Show(rest)}, is not the rest of {FuzzRun.Show(all)}: {context}");
            }
        });
    }

    private static string Decode(Encoding encoding, byte[] data, int offset, int count, bool flush)
    {
        char[] chars = new char[Math.Max(1, encoding.GetDecoder().GetCharCount(data, offset, count, flush))];
        int n = encoding.GetDecoder().GetChars(data, offset, count, chars, 0, flush);
        return new string(chars, 0, n);
    }

    [Fact]
    public void RandomEncodingNamesOnlyRaiseArgumentException()
    {
        FuzzRun.Run(nameof(RandomEncodingNamesOnlyRaiseArgumentException), 600, (random, _) =>
        {
            string name = random.Next(3) switch
            {
                0 => FuzzRun.Text(random, FuzzRun.Hostile, 12),
                1 => random.Next(-5, 70000).ToString(System.Globalization.CultureInfo.InvariantCulture),
                _ => FuzzRun.Pick(random, "utf8", "UTF-8", " latin1 ", "utf-7", "ebcdic", "shift_jis", "1252", "0", "65001 ", "x-unknown"),
            };
            try
            {
                Encoding encoding = TextEncodings.Get(name);
                // A name that resolves gives an encoding whose codec works.
                TextCodec codec = new(encoding);
                Assert.NotEmpty(codec.LineFeed);
            }
            catch (ArgumentException ex)
            {
                Assert.False(string.IsNullOrWhiteSpace(ex.Message));
            }
            catch (Exception ex) when (ex is not Xunit.Sdk.XunitException)
            {
                throw new Xunit.Sdk.XunitException($"Encoding name {FuzzRun.Show(name)}: {ex.GetType().FullName}: {ex.Message}");
            }
        });
    }
}
