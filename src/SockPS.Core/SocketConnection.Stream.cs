using System;
using System.Buffers;
using System.IO;
using System.IO.Pipelines;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Text;
using System.Threading;
using System.Threading.Tasks;

namespace SockPS.Core;

// The stream half of SocketConnection: a receive loop that fills a bounded pipe, and the framers
// (available / line / delimiter / count / to-end) that take from it.
public sealed partial class SocketConnection
{
    /// <summary>Bytes asked of the socket per read once data is ready.</summary>
    internal const int ReceiveBlockSize = 64 * 1024;

    /// <summary>Unread bytes at which the receive loop stops reading, so TCP slows the sender
    /// instead of memory growing. A receive that needs more (a long line, a large -ByteCount)
    /// raises the limit for as long as it waits, up to <see cref="MaxFrameLength"/> for lines.</summary>
    internal const long DefaultBufferLimit = 1024 * 1024;

    /// <summary>The longest line or delimited frame a receive will buffer while looking for
    /// its end. Past this the receive fails with FrameTooLong and the bytes stay buffered.</summary>
    internal const long MaxFrameLength = 16L * 1024 * 1024;

    private static readonly byte[] s_empty = new byte[0];

    // NetworkStream, or the SslStream over it once TLS is on; swapped only by an upgrade, which
    // holds both locks and has stopped the receive loop.
    private Stream? _stream;
    private readonly NetworkStream? _networkStream;
    private CancellationTokenSource? _loopStop;
    private Task? _loop;
    private int _pausing;
    private int _streamEnded;
    private readonly Pipe? _pipe;
    private readonly SemaphoreSlim _readLock = new(1, 1);
    private readonly SemaphoreSlim _bufferSpace = new(0);
    private long _bytesConsumed;
    private long _demand;
    private int _receiveLoopWaiting;
    private SocketOperationException? _receiveFailure;

    /// <summary>Bytes received and waiting to be read (for datagram sockets, in queued datagrams).</summary>
    public long Available => IsDatagram
        ? Interlocked.Read(ref _datagramBytesQueued)
        : Interlocked.Read(ref _bytesReceived) - Interlocked.Read(ref _bytesConsumed);

    /// <summary>True while a receive holds the reader (tests use it to know a receive is waiting).</summary>
    internal bool ReceiveInProgress => _readLock.CurrentCount == 0 || Volatile.Read(ref _datagramReceivers) > 0;

    private Pipe Pipe => _pipe ?? throw StreamOnly();

    /// <summary>The text state, made on first use. Receives run one at a time (the read lock),
    /// so the first one makes it; a concurrent Encoding change wins.</summary>
    private TextCodec Codec
    {
        get
        {
            TextCodec? codec = Volatile.Read(ref _codec);
            if (codec is null)
            {
                Interlocked.CompareExchange(ref _codec, new TextCodec(Volatile.Read(ref _encoding)), null);
                codec = Volatile.Read(ref _codec)!;
            }

            return codec;
        }
    }

    private SocketOperationException StreamOnly() =>
        new(SocketFailureKind.InvalidArgument,
            $"{Describe()} is a datagram socket: every receive returns one whole datagram, so -Line, -Delimiter, -ByteCount and -ToEnd do not apply.",
            PeerText);

    private void StartStreamReceiving()
    {
        _loopStop = CancellationTokenSource.CreateLinkedTokenSource(_receiveLoopCts.Token);
        _loop = StreamReceiveLoopAsync(_stream!, _loopStop.Token);
    }

    /// <summary>Restarts the loop after a pause, unless the stream ended or the connection
    /// closed meanwhile.</summary>
    private void ResumeStreamReceiving()
    {
        if (Volatile.Read(ref _streamEnded) == 0 && Volatile.Read(ref _closing) == 0)
        {
            StartStreamReceiving();
        }
    }

    /// <summary>Records the end of the stream, from the loop or from a direct read: the reason,
    /// and a completed pipe so waiting receives see it. Only once.</summary>
    private void EndStream(Exception? failure)
    {
        if (Interlocked.Exchange(ref _streamEnded, 1) != 0)
        {
            return;
        }

        OnReceiveEnded(failure);
        _pipe!.Writer.Complete();
        RaiseClosed();
    }

    /// <summary>Stops the receive loop without ending the stream, so an upgrade can take over
    /// the socket: bytes already read stay in the pipe.</summary>
    private async Task PauseStreamReceivingAsync()
    {
        Volatile.Write(ref _pausing, 1);
        _loopStop!.Cancel();
        await _loop!.ConfigureAwait(false);
        _loopStop.Dispose();
        Volatile.Write(ref _pausing, 0);
    }

    private async Task StreamReceiveLoopAsync(Stream stream, CancellationToken token)
    {
        PipeWriter writer = _pipe!.Writer;
        Exception? failure = null;
        try
        {
            while (true)
            {
                await WaitForBufferSpaceAsync(token).ConfigureAwait(false);

                // A zero-byte read waits for data without holding a buffer, so an idle
                // connection costs a few hundred bytes rather than a receive block.
                await stream.ReadAsync(s_empty, 0, 0, token).ConfigureAwait(false);

                Memory<byte> memory = writer.GetMemory(ReceiveBlockSize);
                if (!MemoryMarshal.TryGetArray(memory, out ArraySegment<byte> segment))
                {
                    throw new InvalidOperationException("The receive buffer is not array-backed.");
                }

                int read = await stream.ReadAsync(segment.Array!, segment.Offset, segment.Count, token).ConfigureAwait(false);
                if (read == 0)
                {
                    break;
                }

                Record(SocketTranscriptDirection.Received, segment.Array!, segment.Offset, read);
                // Counted before the flush, so Available (received minus consumed) never goes
                // below zero when a reader takes the bytes at once.
                Interlocked.Add(ref _bytesReceived, read);
                writer.Advance(read);
                // No token: once bytes are read they must reach the reader. A cancelled flush
                // (a pause for TLS or a bulk read) would leave them unflushed, invisible to the
                // code that takes over the socket. With no pause threshold it never waits.
                FlushResult flushed = await writer.FlushAsync().ConfigureAwait(false);
                OnDataArrived(read);
                if (flushed.IsCompleted)
                {
                    break;
                }
            }
        }
        catch (OperationCanceledException) when (Volatile.Read(ref _pausing) == 1 && Volatile.Read(ref _closing) == 0)
        {
            // Paused for an upgrade: the stream goes on under TLS.
            return;
        }
        catch (Exception ex)
        {
            failure = ex;
        }

        EndStream(failure);
    }

    /// <summary>Receives one frame: a string, a byte array, or null at end of stream. When the
    /// frame is already buffered this completes synchronously with no allocation but the result.
    /// A timeout throws ReceiveTimeout and consumes nothing; a cancelled token throws
    /// <see cref="OperationCanceledException"/> and consumes nothing.</summary>
    internal ValueTask<object?> ReceiveAsync(ReceiveRequest request, CancellationToken cancellationToken)
    {
        ThrowIfDisconnected();
        if (IsDatagram)
        {
            return ReceiveDatagramObjectAsync(request, cancellationToken);
        }

        ValidateRequest(request);
        if (!_readLock.Wait(0))
        {
            return ReceiveSlowAsync(request, lockHeld: false, searched: 0, cancellationToken);
        }

        bool handedOff = false;
        try
        {
            long searched = 0;
            if (Pipe.Reader.TryRead(out ReadResult result) && TryTakeFrame(result, request, ref searched, out object? value))
            {
                return new ValueTask<object?>(value);
            }

            handedOff = true;
            return ReceiveSlowAsync(request, lockHeld: true, searched, cancellationToken);
        }
        finally
        {
            if (!handedOff)
            {
                _readLock.Release();
            }
        }
    }

    private async ValueTask<object?> ReceiveSlowAsync(ReceiveRequest request, bool lockHeld, long searched, CancellationToken cancellationToken)
    {
        using TimeoutScope timeout = new(request.Timeout, cancellationToken);
        try
        {
            if (!lockHeld)
            {
                await _readLock.WaitAsync(timeout.Token).ConfigureAwait(false);
                lockHeld = true;
            }

            Unpark(fromTimer: false);
            while (true)
            {
                ReadResult result = await Pipe.Reader.ReadAsync(timeout.Token).ConfigureAwait(false);
                if (TryTakeFrame(result, request, ref searched, out object? value))
                {
                    lockHeld = ReleaseReader(lockHeld, gaveUp: false);
                    return value;
                }
            }
        }
        catch (OperationCanceledException) when (timeout.TimedOut)
        {
            throw ReceiveTimedOut(request.Timeout);
        }
        finally
        {
            ReleaseReader(lockHeld, gaveUp: true);
        }
    }

    /// <summary>
    /// Ends a receive. One that gave up (timeout, Ctrl+C, an error) left the pipe marking every
    /// buffered byte as examined, which makes the next read wait for new bytes even though
    /// unread ones are there; cancelling the next read re-arms it, so the next receive sees the
    /// buffered bytes at once. Returns false (the lock is no longer held).
    /// </summary>
    private bool ReleaseReader(bool lockHeld, bool gaveUp)
    {
        if (!lockHeld)
        {
            return false;
        }

        SetDemand(0);
        if (gaveUp)
        {
            _pipe?.Reader.CancelPendingRead();
        }

        _readLock.Release();
        return false;
    }

    /// <summary>Reads until the peer closes, handing every chunk to <paramref name="sink"/> as it
    /// arrives so the bounded buffer never fills. The timeout is an idle timeout: it restarts
    /// whenever data arrives.</summary>
    internal async Task ReceiveToEndAsync(Action<ReadOnlySequence<byte>> sink, TimeSpan idleTimeout, CancellationToken cancellationToken)
    {
        ThrowIfDisconnected();
        PipeReader reader = Pipe.Reader;
        using TimeoutScope timeout = new(idleTimeout, cancellationToken);
        bool lockHeld = false;
        try
        {
            await _readLock.WaitAsync(timeout.Token).ConfigureAwait(false);
            lockHeld = true;
            Unpark(fromTimer: false);
            while (true)
            {
                ReadResult result = await reader.ReadAsync(timeout.Token).ConfigureAwait(false);
                ReadOnlySequence<byte> buffer = result.Buffer;
                bool empty = buffer.IsEmpty;
                if (!empty)
                {
                    sink(buffer);
                    timeout.Restart();
                }

                // Decided before consuming: the sequence's segments go back to the pool then.
                Consume(buffer, buffer.End, buffer.End);
                if (result.IsCompleted)
                {
                    ThrowIfEndedByFailure(empty);
                    return;
                }
            }
        }
        catch (OperationCanceledException) when (timeout.TimedOut)
        {
            throw ReceiveTimedOut(idleTimeout);
        }
        finally
        {
            if (lockHeld)
            {
                _readLock.Release();
            }
        }
    }

    /// <summary>Receives until the peer closes, appending to <paramref name="destination"/> as
    /// data arrives; what arrived stays there when the receive fails or is cancelled.</summary>
    internal Task ReceiveToEndAsync(Stream destination, TimeSpan idleTimeout, CancellationToken cancellationToken) =>
        ReceiveToEndAsync(chunk => CopyTo(chunk, destination), idleTimeout, cancellationToken);

    /// <summary>Receives until the peer closes and returns everything as one array.</summary>
    internal async Task<byte[]> ReceiveToEndBytesAsync(TimeSpan idleTimeout, CancellationToken cancellationToken)
    {
        MemoryStream collected = new();
        try
        {
            await ReceiveToEndAsync(chunk => CopyTo(chunk, collected), idleTimeout, cancellationToken).ConfigureAwait(false);
        }
        catch (SocketOperationException ex) when (ex.Kind == SocketFailureKind.ReceiveTimeout)
        {
            throw WithPartial(ex, collected.ToArray());
        }

        return collected.ToArray();
    }

    /// <summary>Receives until the peer closes and returns everything decoded as one string.</summary>
    internal async Task<string> ReceiveToEndTextAsync(TimeSpan idleTimeout, CancellationToken cancellationToken)
    {
        StringBuilder text = new();
        TextCodec codec = Codec;
        try
        {
            await ReceiveToEndAsync(chunk => text.Append(codec.Decode(chunk, flush: false)), idleTimeout, cancellationToken).ConfigureAwait(false);
        }
        catch (SocketOperationException ex) when (ex.Kind == SocketFailureKind.ReceiveTimeout)
        {
            throw WithPartial(ex, text.ToString());
        }

        text.Append(codec.Decode(ReadOnlySequence<byte>.Empty, flush: true));
        return text.ToString();
    }

    private static SocketOperationException WithPartial(SocketOperationException ex, object partial)
    {
        SocketOperationException withData = new(ex.Kind,
            ex.Message + " What arrived before the timeout is returned.", ex.EndPoint, ex.InnerException);
        withData.PartialResult = partial;
        return withData;
    }

    private static void CopyTo(in ReadOnlySequence<byte> chunk, Stream destination)
    {
        foreach (ReadOnlyMemory<byte> memory in chunk)
        {
            if (MemoryMarshal.TryGetArray(memory, out ArraySegment<byte> segment))
            {
                destination.Write(segment.Array!, segment.Offset, segment.Count);
            }
            else
            {
                byte[] copy = memory.ToArray();
                destination.Write(copy, 0, copy.Length);
            }
        }
    }

    private void ValidateRequest(in ReceiveRequest request)
    {
        switch (request.Mode)
        {
            case ReceiveMode.Count when request.Count <= 0:
                throw new SocketOperationException(SocketFailureKind.InvalidArgument,
                    $"The byte count must be 1 or more; {request.Count} was given.", PeerText);
            case ReceiveMode.Delimiter when string.IsNullOrEmpty(request.Delimiter):
                throw new SocketOperationException(SocketFailureKind.InvalidArgument,
                    "The delimiter is empty. Give at least one character, or use -Line.", PeerText);
        }
    }

    /// <summary>
    /// Tries to cut one frame from what the reader returned. Returns true with the value (null
    /// at end of stream) after advancing the reader past it; returns false after marking
    /// everything examined, so the next read waits for more data. Must be called with the read
    /// lock held.
    /// </summary>
    private bool TryTakeFrame(in ReadResult result, in ReceiveRequest request, ref long searched, out object? value)
    {
        ReadOnlySequence<byte> buffer = result.Buffer;
        TextCodec codec = Codec;
        if (Volatile.Read(ref _state) == (int)SocketState.Disconnected)
        {
            Pipe.Reader.AdvanceTo(buffer.Start, buffer.End);
            throw SocketErrors.Closed(PeerText);
        }

        switch (request.Mode)
        {
            case ReceiveMode.Available:
                if (!buffer.IsEmpty)
                {
                    if (!request.AsText)
                    {
                        value = buffer.ToArray();
                        Consume(buffer, buffer.End, buffer.End);
                        return true;
                    }

                    string text = codec.Decode(buffer, flush: result.IsCompleted);
                    Consume(buffer, buffer.End, buffer.End);
                    if (text.Length > 0)
                    {
                        value = text;
                        return true;
                    }

                    // Only part of a character so far; the decoder keeps it until the rest arrives.
                    value = null;
                    if (!result.IsCompleted)
                    {
                        return false;
                    }

                    ThrowIfEndedByFailure(bufferWasEmpty: true);
                    return true;
                }

                break;

            case ReceiveMode.Count:
                if (buffer.Length >= request.Count)
                {
                    ReadOnlySequence<byte> frame = buffer.Slice(0, request.Count);
                    value = request.AsText ? codec.Decode(frame, flush: false) : frame.ToArray();
                    Consume(buffer, frame.End, frame.End);
                    return true;
                }

                if (!result.IsCompleted)
                {
                    SetDemand(request.Count);
                }

                break;

            case ReceiveMode.Line:
            case ReceiveMode.Delimiter:
                byte[] delimiter = request.Mode == ReceiveMode.Line ? codec.LineFeed : codec.DelimiterBytes(request.Delimiter!);
                long at = SequenceSearch.IndexOf(buffer, delimiter, searched, codec.CodeUnit);
                if (at >= 0)
                {
                    ReadOnlySequence<byte> frame = buffer.Slice(0, at);
                    if (request.Mode == ReceiveMode.Line && SequenceSearch.EndsWith(frame, codec.CarriageReturn))
                    {
                        frame = frame.Slice(0, frame.Length - codec.CarriageReturn.Length);
                    }

                    value = request.AsText ? codec.Decode(frame, flush: false) : frame.ToArray();
                    SequencePosition next = buffer.GetPosition(at + delimiter.Length);
                    Consume(buffer, next, next);
                    return true;
                }

                searched = Math.Max(0, buffer.Length - delimiter.Length + 1);
                if (!result.IsCompleted)
                {
                    if (buffer.Length >= MaxFrameLength)
                    {
                        Pipe.Reader.AdvanceTo(buffer.Start, buffer.End);
                        throw new SocketOperationException(SocketFailureKind.FrameTooLong,
                            $"No {(request.Mode == ReceiveMode.Line ? "line end" : "delimiter")} arrived from {PeerText} in the first {MaxFrameLength / (1024 * 1024)} MiB. " +
                            "The data stays buffered; read it with -ByteCount, -ToEnd or without a framing parameter.", PeerText);
                    }

                    SetDemand(buffer.Length + ReceiveBlockSize);
                }

                break;
        }

        if (result.IsCompleted)
        {
            return TakeEndOfStream(buffer, request, codec, out value);
        }

        Pipe.Reader.AdvanceTo(buffer.Start, buffer.End);
        value = null;
        return false;
    }

    /// <summary>The peer has closed and no whole frame is left: return the remainder as the
    /// last frame (like ReadLine), or null when nothing is left.</summary>
    private bool TakeEndOfStream(in ReadOnlySequence<byte> buffer, in ReceiveRequest request, TextCodec codec, out object? value)
    {
        if (request.Mode == ReceiveMode.Count && !buffer.IsEmpty)
        {
            long arrived = buffer.Length;
            Pipe.Reader.AdvanceTo(buffer.Start, buffer.End);
            throw new SocketOperationException(SocketFailureKind.EndOfStream,
                $"The remote host {PeerText} closed the connection after {arrived} of the {request.Count} bytes asked for. " +
                "The bytes stay buffered; read them without -ByteCount.", PeerText);
        }

        if (request.AsText)
        {
            string text = codec.Decode(buffer, flush: true);
            Consume(buffer, buffer.End, buffer.End);
            if (text.Length > 0)
            {
                value = text;
                return true;
            }
        }
        else if (!buffer.IsEmpty)
        {
            value = buffer.ToArray();
            Consume(buffer, buffer.End, buffer.End);
            return true;
        }
        else
        {
            Consume(buffer, buffer.End, buffer.End);
        }

        ThrowIfEndedByFailure(bufferWasEmpty: true);
        value = null;
        return true;
    }

    private void ThrowIfEndedByFailure(bool bufferWasEmpty)
    {
        if (Volatile.Read(ref _state) == (int)SocketState.Disconnected)
        {
            throw SocketErrors.Closed(PeerText);
        }

        // Report a reset once, after everything received before it has been read; later
        // receives see a plain end of stream, as recv() does after ECONNRESET.
        if (bufferWasEmpty && Interlocked.Exchange(ref _receiveFailure, null) is { } failure)
        {
            throw failure;
        }
    }

    private void Consume(in ReadOnlySequence<byte> buffer, SequencePosition consumed, SequencePosition examined)
    {
        long taken = buffer.Slice(buffer.Start, consumed).Length;
        Pipe.Reader.AdvanceTo(consumed, examined);
        if (taken > 0)
        {
            Interlocked.Add(ref _bytesConsumed, taken);
            WakeReceiveLoop();
        }
    }

    private SocketOperationException ReceiveTimedOut(TimeSpan timeout) =>
        new(SocketFailureKind.ReceiveTimeout,
            (RemoteEndPoint is null
                ? $"No datagram arrived on {Transport.ToLowerInvariant()} {EndPointText.Format(LocalEndPoint)} within {EndPointText.Seconds(timeout)}. The socket is still open; "
                : $"No data arrived from {PeerText} within {EndPointText.Seconds(timeout)}. The connection is still open; ") +
            "try again, or raise -TimeoutSeconds (0 waits forever).", PeerText);

    // ------------------------------------------------------------------ back-pressure

    private long BufferLimit => Math.Max(DefaultBufferLimit, Interlocked.Read(ref _demand));

    private void SetDemand(long bytes)
    {
        if (Interlocked.Exchange(ref _demand, bytes) != bytes)
        {
            WakeReceiveLoop();
        }
    }

    private void WakeReceiveLoop()
    {
        if (Volatile.Read(ref _receiveLoopWaiting) == 1
            && Available < BufferLimit
            && Interlocked.Exchange(ref _receiveLoopWaiting, 0) == 1)
        {
            _bufferSpace.Release();
        }
    }

    private async ValueTask WaitForBufferSpaceAsync(CancellationToken token)
    {
        while (Available >= BufferLimit)
        {
            Volatile.Write(ref _receiveLoopWaiting, 1);
            // Re-check after announcing the wait: a reader that consumed in between saw no
            // waiter and released nothing.
            if (Available < BufferLimit)
            {
                Interlocked.Exchange(ref _receiveLoopWaiting, 0);
                continue;
            }

            await _bufferSpace.WaitAsync(token).ConfigureAwait(false);
        }
    }

}
