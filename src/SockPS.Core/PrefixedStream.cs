using System;
using System.IO;
using System.Threading;
using System.Threading.Tasks;

namespace SockPS.Core;

/// <summary>
/// A stream that first returns bytes already taken off the socket, then reads the socket. An
/// upgrade to TLS (STARTTLS) puts it under the SslStream, so bytes the receive loop had already
/// buffered (a client's ClientHello that arrived right behind its STARTTLS command) reach the
/// handshake instead of being lost.
/// </summary>
internal sealed class PrefixedStream : Stream
{
    private readonly byte[] _prefix;
    private readonly Stream _inner;
    private int _offset;

    public PrefixedStream(byte[] prefix, Stream inner)
    {
        _prefix = prefix;
        _inner = inner;
    }

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => _inner.CanWrite;

    public override long Length => throw new NotSupportedException();

    public override long Position
    {
        get => throw new NotSupportedException();
        set => throw new NotSupportedException();
    }

    public override int Read(byte[] buffer, int offset, int count) =>
        TakePrefix(buffer, offset, count) is int taken and >= 0 ? taken : _inner.Read(buffer, offset, count);

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        TakePrefix(buffer, offset, count) is int taken and >= 0 ? Task.FromResult(taken) : _inner.ReadAsync(buffer, offset, count, cancellationToken);

    /// <summary>Bytes from the prefix, or -1 once it is used up.</summary>
    private int TakePrefix(byte[] buffer, int offset, int count)
    {
        int left = _prefix.Length - _offset;
        if (left <= 0)
        {
            return -1;
        }

        // A zero-byte read asks "is there data?": there is.
        int taken = Math.Min(left, count);
        Buffer.BlockCopy(_prefix, _offset, buffer, offset, taken);
        _offset += taken;
        return taken;
    }

    public override void Write(byte[] buffer, int offset, int count) => _inner.Write(buffer, offset, count);

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        _inner.WriteAsync(buffer, offset, count, cancellationToken);

    public override void Flush() => _inner.Flush();

    public override Task FlushAsync(CancellationToken cancellationToken) => _inner.FlushAsync(cancellationToken);

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();
}
