using System;
using System.IO;
using System.Net.Security;
using System.Threading;
using System.Threading.Tasks;

namespace SockPS.Core;

/// <summary>
/// The SslStream every TLS connection uses, with a <see cref="TlsGate"/> that keeps the receive
/// loop's decryption and this side's close_notify apart.
/// </summary>
/// <remarks>
/// SslStream lets one read and one write run at once, but on Linux and macOS its close_notify
/// (<c>ShutdownAsync</c>: OpenSSL's SSL_shutdown, called twice, the second time reading the
/// peer's records) takes no lock against a read decrypting on another thread (SSL_read on the
/// same SSL object). Closing a connection while its loop decrypted the peer's close_notify could
/// corrupt OpenSSL's heap and crash the process ("malloc(): unaligned tcache chunk detected",
/// seen once in the suite). The gate is held by whoever is inside the SslStream's read: the loop
/// holds it around each read, and the stream below lets it go while the read waits for the
/// network, so closing waits only for a decryption in progress, never for the peer.
/// </remarks>
internal sealed class TlsStream : SslStream
{
    private TlsStream(GatedStream below, RemoteCertificateValidationCallback validate)
        : base(below, leaveInnerStreamOpen: true, validate)
    {
        Gate = below.Gate;
    }

    /// <summary>Held while a read is inside this stream (not while it waits for the network) and
    /// while close_notify is made; inactive (free for all) until the loop starts reading.</summary>
    public TlsGate Gate { get; }

    public static TlsStream Create(Stream inner, RemoteCertificateValidationCallback validate) =>
        new(new GatedStream(inner), validate);

    /// <summary>The stream under SslStream: passes everything through, and gives the gate up for
    /// as long as a read waits for the network.</summary>
    private sealed class GatedStream : Stream
    {
        private readonly Stream _inner;

        public GatedStream(Stream inner) => _inner = inner;

        public TlsGate Gate { get; } = new();

        public override bool CanRead => _inner.CanRead;

        public override bool CanSeek => false;

        public override bool CanWrite => _inner.CanWrite;

        public override long Length => throw new NotSupportedException();

        public override long Position
        {
            get => throw new NotSupportedException();
            set => throw new NotSupportedException();
        }

        public override int Read(byte[] buffer, int offset, int count)
        {
            if (!Gate.Active)
            {
                return _inner.Read(buffer, offset, count);
            }

            Gate.Exit();
            try
            {
                return _inner.Read(buffer, offset, count);
            }
            finally
            {
                Gate.Enter();
            }
        }

        public override async Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
        {
            if (!Gate.Active)
            {
                return await _inner.ReadAsync(buffer, offset, count, cancellationToken).ConfigureAwait(false);
            }

            Gate.Exit();
            try
            {
                return await _inner.ReadAsync(buffer, offset, count, cancellationToken).ConfigureAwait(false);
            }
            finally
            {
                await Gate.EnterAsync().ConfigureAwait(false);
            }
        }

#if NET8_0_OR_GREATER
        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            if (!Gate.Active)
            {
                return await _inner.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
            }

            Gate.Exit();
            try
            {
                return await _inner.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
            }
            finally
            {
                await Gate.EnterAsync().ConfigureAwait(false);
            }
        }

        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default) =>
            _inner.WriteAsync(buffer, cancellationToken);
#endif

        public override void Write(byte[] buffer, int offset, int count) => _inner.Write(buffer, offset, count);

        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            _inner.WriteAsync(buffer, offset, count, cancellationToken);

        public override void Flush() => _inner.Flush();

        public override Task FlushAsync(CancellationToken cancellationToken) => _inner.FlushAsync(cancellationToken);

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        // The inner stream belongs to the connection (leaveInnerStreamOpen), as before.
        protected override void Dispose(bool disposing) => base.Dispose(disposing);
    }
}

/// <summary>Mutual exclusion between a TLS stream's reader and its close_notify; see
/// <see cref="TlsStream"/>. Inactive until <see cref="Activate"/>: the handshake reads through
/// the same stream and owns it alone.</summary>
internal sealed class TlsGate
{
    private readonly SemaphoreSlim _held = new(1, 1);
    private volatile bool _active;

    public bool Active => _active;

    /// <summary>From now on reads and close_notify take turns. Called with no read in progress.</summary>
    public void Activate() => _active = true;

    public void Enter() => _held.Wait();

    public Task EnterAsync() => _held.WaitAsync();

    public bool TryEnter(TimeSpan timeout) => _held.Wait(timeout);

    public void Exit() => _held.Release();
}
