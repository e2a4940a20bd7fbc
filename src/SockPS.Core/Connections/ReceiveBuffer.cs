using System;
using System.Buffers;

namespace SockPS.Core;

/// <summary>
/// Received bytes nobody has taken yet, in one contiguous array rented from the shared pool only
/// while there is something in it or a read is filling it, so an idle connection holds none.
/// Contiguous, so the framer searches and decodes one span. Not thread-safe: the stream channel
/// calls it under its lock; the one writer (whoever reads the socket) fills reserved space
/// outside the lock, where no reader looks.
/// </summary>
internal sealed class ReceiveBuffer
{
    private static readonly byte[] s_empty = new byte[0];

    private byte[]? _array;
    private int _start;
    private int _end;
    private bool _reserved;

    /// <summary>Unread bytes.</summary>
    public int Length => _end - _start;

    /// <summary>The array the unread bytes are in (empty when none is rented).</summary>
    public byte[] Array => _array ?? s_empty;

    /// <summary>Where the unread bytes start in <see cref="Array"/>.</summary>
    public int Start => _start;

    /// <summary>Free space after the unread bytes for one read of up to <paramref name="size"/>
    /// bytes (at least 1). Moves the unread bytes to the front or into a larger array when the
    /// tail is too small; the caller writes into the segment and then calls <see cref="Commit"/>.</summary>
    public ArraySegment<byte> Reserve(int size)
    {
        if (_array is null)
        {
            _array = ArrayPool<byte>.Shared.Rent(size);
            _start = _end = 0;
        }
        else if (_array.Length - _end < size)
        {
            int length = Length;
            if (_array.Length - length >= size && _start > 0)
            {
                System.Buffer.BlockCopy(_array, _start, _array, 0, length);
            }
            else
            {
                byte[] larger = ArrayPool<byte>.Shared.Rent(checked(length + size));
                System.Buffer.BlockCopy(_array, _start, larger, 0, length);
                ArrayPool<byte>.Shared.Return(_array);
                _array = larger;
            }

            _start = 0;
            _end = length;
        }

        _reserved = true;
        return new ArraySegment<byte>(_array, _end, Math.Min(size, _array.Length - _end));
    }

    /// <summary>Makes <paramref name="count"/> bytes written into the reserved space unread data.</summary>
    public void Commit(int count)
    {
        _end += count;
        _reserved = false;
        ReleaseIfEmpty();
    }

    /// <summary>Takes <paramref name="count"/> bytes from the front.</summary>
    public void Consume(int count)
    {
        _start += count;
        if (_start == _end && !_reserved)
        {
            // Back to the front, unless a read is filling the space after _end right now.
            _start = _end = 0;
            ReleaseIfEmpty();
        }
    }

    /// <summary>Copies out and takes everything unread.</summary>
    public byte[] TakeAll()
    {
        byte[] all = new byte[Length];
        System.Buffer.BlockCopy(Array, _start, all, 0, all.Length);
        Consume(all.Length);
        return all;
    }

    /// <summary>Gives the array back to the pool (on close); unread bytes are dropped.</summary>
    public void Clear()
    {
        _start = _end = 0;
        if (!_reserved && _array is not null)
        {
            ArrayPool<byte>.Shared.Return(_array);
            _array = null;
        }
    }

    private void ReleaseIfEmpty()
    {
        // Keep it while a read is filling it: the writer holds the segment.
        if (_start == _end && !_reserved && _array is not null)
        {
            ArrayPool<byte>.Shared.Return(_array);
            _array = null;
            _start = _end = 0;
        }
    }
}
