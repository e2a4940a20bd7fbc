using System;
using System.Buffers;

namespace SockPS.Core;

/// <summary>Delimiter search over a possibly multi-segment buffer, without copying it.</summary>
internal static class SequenceSearch
{
    /// <summary>Returns the offset of the first occurrence of <paramref name="pattern"/> at or after
    /// <paramref name="start"/> whose offset is a multiple of <paramref name="alignment"/>, or -1.</summary>
    public static long IndexOf(in ReadOnlySequence<byte> buffer, byte[] pattern, long start, int alignment)
    {
        if (pattern.Length == 0 || buffer.Length - start < pattern.Length)
        {
            return -1;
        }

        if (buffer.IsSingleSegment)
        {
            return IndexOfInSpan(buffer.First.Span, pattern, (int)start, alignment);
        }

        byte first = pattern[0];
        byte[]? candidate = null;
        long segmentStart = 0;
        foreach (ReadOnlyMemory<byte> memory in buffer)
        {
            ReadOnlySpan<byte> span = memory.Span;
            long segmentEnd = segmentStart + span.Length;
            if (segmentEnd > start)
            {
                int i = (int)Math.Max(0, start - segmentStart);
                while (i < span.Length)
                {
                    int found = span.Slice(i).IndexOf(first);
                    if (found < 0)
                    {
                        break;
                    }

                    int at = i + found;
                    long position = segmentStart + at;
                    if (position + pattern.Length > buffer.Length)
                    {
                        return -1;
                    }

                    if (position % alignment == 0)
                    {
                        if (at + pattern.Length <= span.Length)
                        {
                            if (span.Slice(at, pattern.Length).SequenceEqual(pattern))
                            {
                                return position;
                            }
                        }
                        else
                        {
                            candidate ??= new byte[pattern.Length];
                            buffer.Slice(position, pattern.Length).CopyTo(candidate);
                            if (candidate.AsSpan().SequenceEqual(pattern))
                            {
                                return position;
                            }
                        }
                    }

                    i = at + 1;
                }
            }

            segmentStart = segmentEnd;
        }

        return -1;
    }

    private static long IndexOfInSpan(ReadOnlySpan<byte> span, byte[] pattern, int start, int alignment)
    {
        int offset = start;
        while (offset <= span.Length - pattern.Length)
        {
            int found = span.Slice(offset).IndexOf(pattern);
            if (found < 0)
            {
                return -1;
            }

            int position = offset + found;
            if (position % alignment == 0)
            {
                return position;
            }

            offset = position + 1;
        }

        return -1;
    }

    /// <summary>True when the sequence ends with <paramref name="suffix"/>.</summary>
    public static bool EndsWith(in ReadOnlySequence<byte> buffer, byte[] suffix)
    {
        if (suffix.Length == 0 || buffer.Length < suffix.Length)
        {
            return false;
        }

        ReadOnlySequence<byte> tail = buffer.Slice(buffer.Length - suffix.Length);
        if (tail.IsSingleSegment)
        {
            return tail.First.Span.SequenceEqual(suffix);
        }

        return tail.ToArray().AsSpan().SequenceEqual(suffix);
    }
}
