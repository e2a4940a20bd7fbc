using System;
using System.Buffers;
using System.Runtime.InteropServices;
using System.Text;

namespace SockPS.Core;

/// <summary>
/// One connection's text state: the encoding, the decoder that carries a partial character from
/// one read to the next, and the encoded forms of the line and record terminators. Changing a
/// connection's encoding swaps in a new codec, so a receive in progress finishes with the one it
/// started with and nobody has to wait for it. The decoder is only used under the read lock.
/// </summary>
internal sealed class TextCodec
{
    private static readonly byte[] s_empty = new byte[0];

    private string? _lastDelimiter;
    private byte[]? _lastDelimiterBytes;

    public TextCodec(Encoding encoding)
    {
        Encoding = encoding;
        Decoder = encoding.GetDecoder();
        LineFeed = encoding.GetBytes("\n");
        CarriageReturn = encoding.GetBytes("\r");
        CodeUnit = TextEncodings.CodeUnitSize(encoding);
    }

    public Encoding Encoding { get; }

    public Decoder Decoder { get; }

    public byte[] LineFeed { get; }

    public byte[] CarriageReturn { get; }

    /// <summary>Delimiter matches are accepted only at multiples of this (2 for UTF-16).</summary>
    public int CodeUnit { get; }

    /// <summary>The delimiter encoded; the last one is cached, since a loop asks for the same each time.</summary>
    public byte[] DelimiterBytes(string delimiter)
    {
        if (!string.Equals(delimiter, _lastDelimiter, StringComparison.Ordinal))
        {
            _lastDelimiterBytes = Encoding.GetBytes(delimiter);
            _lastDelimiter = delimiter;
        }

        return _lastDelimiterBytes!;
    }

    /// <summary>Decodes bytes; an incomplete character at the end stays in the decoder until
    /// the next call, or becomes U+FFFD when <paramref name="flush"/> is set (end of stream).</summary>
    public string Decode(in ReadOnlySequence<byte> bytes, bool flush)
    {
        if (bytes.IsEmpty)
        {
            if (!flush)
            {
                return string.Empty;
            }

            char[] tail = new char[Math.Max(1, Encoding.GetMaxCharCount(16))];
            int n = Decoder.GetChars(s_empty, 0, 0, tail, 0, flush: true);
            return n == 0 ? string.Empty : new string(tail, 0, n);
        }

        int maxChars = Encoding.GetMaxCharCount((int)Math.Min(bytes.Length, int.MaxValue / 4)) + 4;
        char[] chars = ArrayPool<char>.Shared.Rent(maxChars);
        try
        {
            int written = 0;
            long remaining = bytes.Length;
            foreach (ReadOnlyMemory<byte> memory in bytes)
            {
                remaining -= memory.Length;
                bool last = remaining == 0;
                byte[] array;
                int offset;
                if (MemoryMarshal.TryGetArray(memory, out ArraySegment<byte> segment))
                {
                    array = segment.Array!;
                    offset = segment.Offset;
                }
                else
                {
                    array = memory.ToArray();
                    offset = 0;
                }

                written += Decoder.GetChars(array, offset, memory.Length, chars, written, flush && last);
            }

            return new string(chars, 0, written);
        }
        finally
        {
            ArrayPool<char>.Shared.Return(chars);
        }
    }

    /// <summary>Decodes <paramref name="count"/> bytes at <paramref name="offset"/>. Without
    /// <paramref name="flush"/> an incomplete character at the end waits in the decoder for the
    /// next call; with it the decoder ends empty (an incomplete character becomes U+FFFD).</summary>
    public string Decode(byte[] bytes, int offset, int count, bool flush)
    {
        if (count == 0 && !flush)
        {
            return string.Empty;
        }

        int maxChars = Encoding.GetMaxCharCount(count) + 4;
        char[] chars = ArrayPool<char>.Shared.Rent(maxChars);
        try
        {
            int written = Decoder.GetChars(bytes, offset, count, chars, 0, flush);
            return written == 0 ? string.Empty : new string(chars, 0, written);
        }
        finally
        {
            ArrayPool<char>.Shared.Return(chars);
        }
    }

    /// <summary>How many of the bytes decode to the first <paramref name="charCount"/> characters,
    /// with a fresh decoder: the byte length of a text prefix, counted on the bytes as they are,
    /// so invalid sequences (each one U+FFFD) cannot shift it the way re-encoding would. The cut
    /// is one where the bytes before it, decoded to their end, give exactly those characters and
    /// the bytes after it, decoded afresh, give the rest: so it does not depend on how many bytes
    /// follow.</summary>
    public int ByteLengthOfChars(byte[] bytes, int offset, int count, int charCount)
    {
        if (charCount <= 0)
        {
            return 0;
        }

        Decoder decoder = Encoding.GetDecoder();
        char[] chars = ArrayPool<char>.Shared.Rent(charCount);
        int bytesUsed;
        int charsUsed;
        try
        {
            // Convert stops when the output is full: bytesUsed is about what made those chars.
            decoder.Convert(bytes, offset, count, chars, 0, charCount, flush: false, out bytesUsed, out charsUsed, out _);
        }
        catch (ArgumentException)
        {
            // The first character alone does not fit (a surrogate pair when one char is asked
            // for: -Pattern '.' on text that starts with an emoji), and Convert throws instead
            // of converting nothing. Found by the fuzz tests; handled like a prefix that ends
            // inside a pair, below.
            bytesUsed = 0;
            charsUsed = 0;
        }
        finally
        {
            ArrayPool<char>.Shared.Return(chars);
        }

        if (charsUsed < charCount)
        {
            // The prefix ends inside a surrogate pair or at an incomplete sequence the
            // decoder only emits when flushed: take everything up to the end.
            return count;
        }

        // Convert may also have swallowed the first bytes of the next character (held in the
        // decoder, no output yet): give back those that do not change the count.
        while (bytesUsed > 0 && Encoding.GetDecoder().GetCharCount(bytes, offset, bytesUsed - 1, flush: false) >= charCount)
        {
            bytesUsed--;
        }

        // That count cannot see a U+FFFD the decoder emits only once the next bytes show the
        // sequence before them is invalid: when those next bytes start an unfinished sequence
        // themselves, Convert swallowed them too, and how many it swallowed depended on how many
        // had arrived (found by the fuzz tests, Fuzz/FramerFuzzTests: a -Pattern match ending in
        // U+FFFD took the next byte or two with it, depending on the reads). Check the cut
        // against the text of the bytes around it, and find the right one nearby if it is off.
        int window = Math.Min(count, bytesUsed + 16);
        string context = DecodeFresh(bytes, offset, window, flush: false);
        if (context.Length < charCount || CutsAt(bytes, offset, window, bytesUsed, context, charCount))
        {
            return bytesUsed;
        }

        for (int cut = Math.Max(0, bytesUsed - 16); cut <= window; cut++)
        {
            if (cut != bytesUsed && CutsAt(bytes, offset, window, cut, context, charCount))
            {
                return cut;
            }
        }

        return bytesUsed;
    }

    /// <summary>True when the bytes before <paramref name="cut"/>, decoded to their end, are
    /// exactly the first <paramref name="charCount"/> characters of <paramref name="context"/>
    /// (the text of the first <paramref name="window"/> bytes) and the bytes from the cut to the
    /// window are the rest of it.</summary>
    private bool CutsAt(byte[] bytes, int offset, int window, int cut, string context, int charCount)
    {
        string head = DecodeFresh(bytes, offset, cut, flush: true);
        if (head.Length != charCount || string.CompareOrdinal(head, 0, context, 0, charCount) != 0)
        {
            return false;
        }

        string rest = DecodeFresh(bytes, offset + cut, window - cut, flush: false);
        return rest.Length == context.Length - charCount && string.CompareOrdinal(rest, 0, context, charCount, rest.Length) == 0;
    }

    private string DecodeFresh(byte[] bytes, int offset, int count, bool flush)
    {
        if (count <= 0)
        {
            return string.Empty;
        }

        char[] chars = new char[Math.Max(1, Encoding.GetDecoder().GetCharCount(bytes, offset, count, flush))];
        int written = Encoding.GetDecoder().GetChars(bytes, offset, count, chars, 0, flush);
        return new string(chars, 0, written);
    }
}
