using System;
using System.Text.RegularExpressions;

namespace SockPS.Core;

/// <summary>What <see cref="Framer.Take"/> found in the buffered bytes.</summary>
internal enum FrameStatus
{
    /// <summary>A whole frame: <see cref="FrameResult.Value"/> holds it.</summary>
    Frame,

    /// <summary>No whole frame yet; wait for more bytes. <see cref="FrameResult.Consumed"/> may
    /// still be above zero: bytes of a character the decoder now holds.</summary>
    NeedMore,

    /// <summary>The stream ended and nothing is left: a receive returns null.</summary>
    End,

    /// <summary>No line end, delimiter or match in the first <see cref="Framer.MaxFrameLength"/>
    /// bytes. Nothing was consumed.</summary>
    TooLong,

    /// <summary>The stream ended with fewer bytes than a count asked for. Nothing was consumed.</summary>
    ShortAtEnd,
}

/// <summary>The outcome of one attempt to cut a frame.</summary>
internal readonly struct FrameResult
{
    public FrameResult(FrameStatus status, int consumed, object? value, int searched = 0, long demand = 0)
    {
        Status = status;
        Consumed = consumed;
        Value = value;
        Searched = searched;
        Demand = demand;
    }

    public FrameStatus Status { get; }

    /// <summary>Bytes to remove from the front of the buffer.</summary>
    public int Consumed { get; }

    /// <summary>The frame: a string, a byte array, or a <see cref="PatternFrame"/>.</summary>
    public object? Value { get; }

    /// <summary>With <see cref="FrameStatus.NeedMore"/>: bytes known to hold no delimiter, so
    /// the next attempt starts searching there.</summary>
    public int Searched { get; }

    /// <summary>With <see cref="FrameStatus.NeedMore"/>: how many bytes the buffer must be able
    /// to hold for the frame to complete (a long line, a large count), so the reader can raise
    /// its bound while this receive waits.</summary>
    public long Demand { get; }
}

/// <summary>A pattern match cut from the stream: the match, and the text it consumed.</summary>
internal sealed class PatternFrame
{
    public PatternFrame(Match match, string text, byte[]? bytes)
    {
        Match = match;
        Text = text;
        Bytes = bytes;
    }

    public Match Match { get; }

    public string Text { get; }

    public byte[]? Bytes { get; }
}

/// <summary>
/// Cuts frames (what is available, a line, a delimited record, a count of bytes, a pattern
/// match) from buffered bytes. Pure: bytes in, a frame and the number of bytes it consumed out,
/// with the connection's decoder as the only state it touches. It counts bytes, never
/// re-encoded characters, so input that is not valid in the encoding cannot make it consume
/// more or less than it framed. Whether the bytes came in one read or a thousand makes no
/// difference to the frames it returns.
/// </summary>
internal static class Framer
{
    /// <summary>The longest line, record or unmatched text a receive buffers while looking for
    /// its end. Past this the receive fails with FrameTooLong and the bytes stay buffered.</summary>
    public const int MaxFrameLength = 16 * 1024 * 1024;

    /// <summary>Tries to cut one frame from <paramref name="count"/> buffered bytes at
    /// <paramref name="offset"/>.</summary>
    /// <param name="buffer">The buffer.</param>
    /// <param name="offset">Where the unread bytes start.</param>
    /// <param name="count">How many unread bytes there are.</param>
    /// <param name="ended">True when no more bytes will come (the peer closed).</param>
    /// <param name="request">How to frame and what to return.</param>
    /// <param name="codec">The connection's text state.</param>
    /// <param name="searched">Bytes an earlier attempt already searched in vain.</param>
    public static FrameResult Take(byte[] buffer, int offset, int count, bool ended, in ReceiveRequest request, TextCodec codec, int searched = 0)
    {
        switch (request.Mode)
        {
            case ReceiveMode.Available:
                return TakeAvailable(buffer, offset, count, ended, request, codec);
            case ReceiveMode.Count:
                return TakeCount(buffer, offset, count, ended, request, codec);
            case ReceiveMode.Line:
                return TakeDelimited(buffer, offset, count, ended, request, codec, codec.LineFeed, searched);
            case ReceiveMode.Delimiter:
                return TakeDelimited(buffer, offset, count, ended, request, codec, codec.DelimiterBytes(request.Delimiter!), searched);
            case ReceiveMode.Pattern:
                return TakePattern(buffer, offset, count, ended, request, codec);
            default:
                throw new ArgumentOutOfRangeException(nameof(request));
        }
    }

    private static FrameResult TakeAvailable(byte[] buffer, int offset, int count, bool ended, in ReceiveRequest request, TextCodec codec)
    {
        if (count == 0)
        {
            if (ended && request.AsText)
            {
                // A character cut off by the end of the stream comes out as U+FFFD.
                string tail = codec.Decode(buffer, offset, 0, flush: true);
                if (tail.Length > 0)
                {
                    return new FrameResult(FrameStatus.Frame, 0, tail);
                }
            }

            return new FrameResult(ended ? FrameStatus.End : FrameStatus.NeedMore, 0, null);
        }

        if (!request.AsText)
        {
            return new FrameResult(FrameStatus.Frame, count, Copy(buffer, offset, count));
        }

        // Everything goes into the decoder; a character split across reads stays there until
        // its last byte arrives.
        string text = codec.Decode(buffer, offset, count, flush: ended);
        return text.Length > 0
            ? new FrameResult(FrameStatus.Frame, count, text)
            : new FrameResult(ended ? FrameStatus.End : FrameStatus.NeedMore, count, null);
    }

    private static FrameResult TakeCount(byte[] buffer, int offset, int count, bool ended, in ReceiveRequest request, TextCodec codec)
    {
        int want = request.Count;
        if (count >= want)
        {
            object value = request.AsText ? codec.Decode(buffer, offset, want, flush: true) : Copy(buffer, offset, want);
            return new FrameResult(FrameStatus.Frame, want, value);
        }

        if (ended)
        {
            return new FrameResult(count == 0 ? FrameStatus.End : FrameStatus.ShortAtEnd, 0, null);
        }

        return new FrameResult(FrameStatus.NeedMore, 0, null, demand: want);
    }

    private static FrameResult TakeDelimited(byte[] buffer, int offset, int count, bool ended, in ReceiveRequest request, TextCodec codec, byte[] delimiter, int searched)
    {
        int at = IndexOf(buffer, offset, count, delimiter, Math.Max(0, searched), codec.CodeUnit);
        if (at >= 0)
        {
            int length = at;
            if (request.Mode == ReceiveMode.Line && EndsWith(buffer, offset, length, codec.CarriageReturn))
            {
                length -= codec.CarriageReturn.Length;
            }

            // A record is decoded by itself: bytes that do not form a whole character end as
            // U+FFFD inside this record instead of spilling into the next one.
            object value = request.AsText ? codec.Decode(buffer, offset, length, flush: true) : Copy(buffer, offset, length);
            return new FrameResult(FrameStatus.Frame, at + delimiter.Length, value);
        }

        if (ended)
        {
            if (count == 0)
            {
                return new FrameResult(FrameStatus.End, 0, null);
            }

            // The last line the peer did not end, like ReadLine.
            object last = request.AsText ? codec.Decode(buffer, offset, count, flush: true) : Copy(buffer, offset, count);
            return new FrameResult(FrameStatus.Frame, count, last);
        }

        if (count >= MaxFrameLength)
        {
            return new FrameResult(FrameStatus.TooLong, 0, null);
        }

        // The delimiter may start in the last (length - 1) bytes and end in the next read.
        int nextSearch = Math.Max(0, count - delimiter.Length + 1);
        nextSearch -= nextSearch % codec.CodeUnit;
        return new FrameResult(FrameStatus.NeedMore, 0, null, nextSearch, demand: (long)count + 64 * 1024);
    }

    private static FrameResult TakePattern(byte[] buffer, int offset, int count, bool ended, in ReceiveRequest request, TextCodec codec)
    {
        // A fresh decoder: nothing is consumed until the pattern matches, so the connection's
        // own decoder must not move.
        TextCodec scratch = new(codec.Encoding);
        string text = scratch.Decode(buffer, offset, count, flush: ended);
        Match match = request.Pattern!.Match(text);
        if (match.Success)
        {
            int chars = match.Index + match.Length;
            if (chars > 0 && chars < text.Length && char.IsHighSurrogate(text[chars - 1]) && char.IsLowSurrogate(text[chars]))
            {
                // The match ends between the halves of a surrogate pair ('.' matches one UTF-16
                // unit): the frame takes the whole character, whose bytes cannot be split.
                // Before, the byte count of half a character was "everything buffered", so the
                // bytes after it went with the match, as many as had arrived (found by the fuzz
                // tests, Fuzz/FramerFuzzTests).
                chars++;
            }

            int bytes = codec.ByteLengthOfChars(buffer, offset, count, chars);
            byte[]? raw = request.KeepBytes ? Copy(buffer, offset, bytes) : null;
            codec.Decoder.Reset();
            return new FrameResult(FrameStatus.Frame, bytes, new PatternFrame(match, text.Substring(0, chars), raw));
        }

        if (ended)
        {
            return new FrameResult(FrameStatus.End, 0, null);
        }

        if (count >= MaxFrameLength)
        {
            return new FrameResult(FrameStatus.TooLong, 0, null);
        }

        return new FrameResult(FrameStatus.NeedMore, 0, null, demand: (long)count + 64 * 1024);
    }

    private static byte[] Copy(byte[] buffer, int offset, int count)
    {
        byte[] copy = new byte[count];
        Buffer.BlockCopy(buffer, offset, copy, 0, count);
        return copy;
    }

    /// <summary>The first occurrence of <paramref name="pattern"/> at or after
    /// <paramref name="start"/> (relative to <paramref name="offset"/>) whose position is a
    /// multiple of <paramref name="alignment"/>, or -1.</summary>
    internal static int IndexOf(byte[] buffer, int offset, int count, byte[] pattern, int start, int alignment)
    {
        ReadOnlySpan<byte> data = new(buffer, offset, count);
        ReadOnlySpan<byte> needle = pattern;
        int from = start;
        while (from <= count - needle.Length)
        {
            int found = data.Slice(from).IndexOf(needle);
            if (found < 0)
            {
                return -1;
            }

            int at = from + found;
            if (at % alignment == 0)
            {
                return at;
            }

            from = at + 1;
        }

        return -1;
    }

    private static bool EndsWith(byte[] buffer, int offset, int length, byte[] suffix) =>
        length >= suffix.Length && new ReadOnlySpan<byte>(buffer, offset + length - suffix.Length, suffix.Length).SequenceEqual(suffix);
}
