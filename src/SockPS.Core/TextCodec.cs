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
}
