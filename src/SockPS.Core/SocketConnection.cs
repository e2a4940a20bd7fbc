using System;
using System.Buffers;
using System.IO;
using System.IO.Pipelines;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Text;
using System.Threading;
using System.Threading.Tasks;

namespace SockPS.Core;

/// <summary>
/// A live stream connection: what Connect-Socket and Wait-SocketConnection return, and what
/// every other connection cmdlet acts on. A background receive loop moves bytes from the socket
/// into a bounded buffer; receives take from that buffer through a framer (available / line /
/// delimiter / count / to-end) and a decoder kept per connection, so a character split across two
/// network reads decodes whole. Sends go straight to the socket under a lock.
/// </summary>
/// <remarks>
/// The methods <see cref="Send(string)"/>, <see cref="Receive(int)"/>, <see cref="ReceiveLine"/>,
/// <see cref="ReceiveAvailable"/> and <see cref="Close()"/> are the Python socket vocabulary for
/// script loops that cannot afford a cmdlet invocation per message; they share every code path
/// with the cmdlets.
/// </remarks>
public sealed class SocketConnection : IDisposable
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

    private readonly Socket _socket;
    private readonly Stream _stream;
    private readonly Pipe _pipe;
    private readonly SemaphoreSlim _readLock = new(1, 1);
    private readonly SemaphoreSlim _sendLock = new(1, 1);
    private readonly SemaphoreSlim _bufferSpace = new(0);
    private readonly CancellationTokenSource _receiveLoopCts = new();
    private readonly string _peerText;

    private TextCodec _codec;
    private string _newLine;

    private long _bytesSent;
    private long _bytesReceived;
    private long _bytesConsumed;
    private long _demand;
    private int _receiveLoopWaiting;
    private int _state;
    private int _closing;
    private string? _closeReason;
    private SocketOperationException? _receiveFailure;
    private double _receiveTimeoutSeconds;

    internal SocketConnection(Socket socket, ConnectionOptions options, SocketServer? server)
    {
        _socket = socket;
        _stream = new NetworkStream(socket, ownsSocket: false);
        // The pipe's own pause threshold is off: the receive loop enforces the bound itself
        // (WaitForBufferSpaceAsync), because a receive waiting for a long frame must be able to
        // raise the limit, and a Pipe's threshold is fixed when it is created.
        _pipe = new Pipe(new PipeOptions(
            pauseWriterThreshold: 0,
            resumeWriterThreshold: 0,
            minimumSegmentSize: 4096,
            useSynchronizationContext: false));

        Id = SocketRegistry.NextConnectionId();
        InstanceId = Guid.NewGuid();
        Name = string.IsNullOrEmpty(options.Name) ? "Connection" + Id : options.Name!;
        Server = server;
        Protocol = SocketProtocol.Tcp;
        LocalEndPoint = socket.LocalEndPoint;
        RemoteEndPoint = socket.RemoteEndPoint;
        ConnectedAt = DateTime.Now;
        _peerText = EndPointText.Format(RemoteEndPoint);
        _receiveTimeoutSeconds = options.ReceiveTimeout.TotalSeconds;
        _newLine = options.NewLine;
        _codec = new TextCodec(options.Encoding);

        socket.NoDelay = options.NoDelay;
        if (options.KeepAlive)
        {
            socket.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.KeepAlive, true);
        }
    }

    /// <summary>A friendly number, unique in this process and never reused.</summary>
    public int Id { get; }

    /// <summary>A globally unique identifier.</summary>
    public Guid InstanceId { get; }

    /// <summary>The name given with -Name, or ConnectionN.</summary>
    public string Name { get; }

    /// <summary>The transport.</summary>
    public SocketProtocol Protocol { get; }

    /// <summary>This side's address and port.</summary>
    public EndPoint? LocalEndPoint { get; }

    /// <summary>The peer's address and port.</summary>
    public EndPoint? RemoteEndPoint { get; }

    /// <summary>Open, SendShutdown, Closed (by the peer) or Disconnected (here).</summary>
    public SocketState State => (SocketState)Volatile.Read(ref _state);

    /// <summary>Bytes written to the socket.</summary>
    public long BytesSent => Interlocked.Read(ref _bytesSent);

    /// <summary>Bytes read from the socket, whether or not a receive has taken them yet.</summary>
    public long BytesReceived => Interlocked.Read(ref _bytesReceived);

    /// <summary>Bytes received and waiting to be read.</summary>
    public long Available => Interlocked.Read(ref _bytesReceived) - Interlocked.Read(ref _bytesConsumed);

    /// <summary>When the connection was established (local time).</summary>
    public DateTime ConnectedAt { get; }

    /// <summary>Why the connection is no longer open; null while it is.</summary>
    public string? CloseReason => Volatile.Read(ref _closeReason);

    /// <summary>The server that accepted this connection; null for a connection made with Connect-Socket.</summary>
    public SocketServer? Server { get; }

    /// <summary>How text is encoded for sending and decoded when receiving. Changing it starts
    /// a new decoder (a receive already waiting finishes with the old one), so set it between messages.</summary>
    public Encoding Encoding
    {
        get => Volatile.Read(ref _codec).Encoding;
        set => Volatile.Write(ref _codec, new TextCodec(value ?? throw new ArgumentNullException(nameof(value))));
    }

    /// <summary>What Send-SocketData -Line and <see cref="SendLine"/> append. Receiving lines
    /// accepts LF and CRLF whatever this is.</summary>
    public string NewLine
    {
        get => _newLine;
        set => _newLine = value ?? throw new ArgumentNullException(nameof(value));
    }

    /// <summary>How long a receive waits for data by default, in seconds; 0 waits forever.</summary>
    public double ReceiveTimeoutSeconds
    {
        get => _receiveTimeoutSeconds;
        set => _receiveTimeoutSeconds = value >= 0 && !double.IsNaN(value) && !double.IsInfinity(value)
            ? value
            : throw new ArgumentOutOfRangeException(nameof(value), value, "The timeout must be 0 (wait forever) or a positive number of seconds.");
    }

    internal TimeSpan ReceiveTimeout => TimeSpan.FromSeconds(_receiveTimeoutSeconds);

    internal string PeerText => _peerText;

    /// <summary>True while a receive holds the reader (tests use it to know a receive is waiting).</summary>
    internal bool ReceiveInProgress => _readLock.CurrentCount == 0;

    // ------------------------------------------------------------------ lifecycle

    /// <summary>Registers the connection and starts reading from the socket.</summary>
    internal void Start()
    {
        SocketRegistry.Add(this);
        _ = ReceiveLoopAsync();
    }

    private async Task ReceiveLoopAsync()
    {
        PipeWriter writer = _pipe.Writer;
        CancellationToken token = _receiveLoopCts.Token;
        Exception? failure = null;
        try
        {
            while (true)
            {
                await WaitForBufferSpaceAsync(token).ConfigureAwait(false);

                // A zero-byte read waits for data without holding a buffer, so an idle
                // connection costs a few hundred bytes rather than a receive block.
                await _stream.ReadAsync(s_empty, 0, 0, token).ConfigureAwait(false);

                Memory<byte> memory = writer.GetMemory(ReceiveBlockSize);
                if (!MemoryMarshal.TryGetArray(memory, out ArraySegment<byte> segment))
                {
                    throw new InvalidOperationException("The receive buffer is not array-backed.");
                }

                int read = await _stream.ReadAsync(segment.Array!, segment.Offset, segment.Count, token).ConfigureAwait(false);
                if (read == 0)
                {
                    break;
                }

                writer.Advance(read);
                Interlocked.Add(ref _bytesReceived, read);
                FlushResult flushed = await writer.FlushAsync(token).ConfigureAwait(false);
                if (flushed.IsCompleted)
                {
                    break;
                }
            }
        }
        catch (Exception ex)
        {
            failure = ex;
        }

        OnReceiveEnded(failure);
        writer.Complete();
    }

    private void OnReceiveEnded(Exception? failure)
    {
        if (Volatile.Read(ref _closing) != 0)
        {
            return;
        }

        if (failure is null)
        {
            SetPeerClosed("The remote host closed the connection.");
        }
        else
        {
            SocketOperationException error = SocketErrors.TransferFailed(failure, _peerText, "receive");
            if (error.Kind == SocketFailureKind.Closed)
            {
                // Our own socket was disposed underneath the loop; Close() records the reason.
                return;
            }

            Volatile.Write(ref _receiveFailure, error);
            SetPeerClosed(error.Kind == SocketFailureKind.ConnectionReset
                ? "The remote host reset the connection."
                : "Receiving failed: " + error.Message);
        }
    }

    private void SetPeerClosed(string reason)
    {
        Interlocked.CompareExchange(ref _closeReason, reason, null);
        int state;
        do
        {
            state = Volatile.Read(ref _state);
            if (state == (int)SocketState.Disconnected || state == (int)SocketState.Closed)
            {
                return;
            }
        }
        while (Interlocked.CompareExchange(ref _state, (int)SocketState.Closed, state) != state);
    }

    /// <summary>Closes the connection and removes it from the registry (the seed's <c>close</c>).
    /// Safe to call more than once.</summary>
    public void Close() => Close("Closed by this side.");

    internal void Close(string reason)
    {
        if (Interlocked.Exchange(ref _closing, 1) != 0)
        {
            return;
        }

        Interlocked.CompareExchange(ref _closeReason, reason, null);
        Volatile.Write(ref _state, (int)SocketState.Disconnected);
        try
        {
            // Shutdown first so data still queued for sending goes out with the FIN.
            _socket.Shutdown(SocketShutdown.Both);
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
            // The peer is gone already; closing is all that is left to do.
        }

        _receiveLoopCts.Cancel();
        _stream.Dispose();
        _socket.Dispose();
        SocketRegistry.Remove(this);
        Server?.OnConnectionClosed(this);
    }

    /// <summary>Same as <see cref="Close()"/>.</summary>
    public void Dispose() => Close();

    /// <summary>Half-closes: sends FIN so the peer sees end of stream, while receiving goes on.</summary>
    public void ShutdownSend()
    {
        ThrowIfDisconnected();
        _sendLock.Wait();
        try
        {
            _socket.Shutdown(SocketShutdown.Send);
            Interlocked.CompareExchange(ref _state, (int)SocketState.SendShutdown, (int)SocketState.Open);
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
            throw SocketErrors.TransferFailed(ex, _peerText, "shutdown");
        }
        finally
        {
            _sendLock.Release();
        }
    }

    private void ThrowIfDisconnected()
    {
        if (Volatile.Read(ref _state) == (int)SocketState.Disconnected)
        {
            throw SocketErrors.Closed(_peerText);
        }
    }

    // ------------------------------------------------------------------ sending

    /// <summary>Sends text encoded with <see cref="Encoding"/> (the seed's <c>send</c>).</summary>
    public void Send(string text) => Complete(SendTextAsync(text, appendNewLine: false, CancellationToken.None));

    /// <summary>Sends bytes as they are.</summary>
    public void Send(byte[] data) => Complete(SendAsync(data ?? throw new ArgumentNullException(nameof(data)), 0, data.Length, CancellationToken.None));

    /// <summary>Sends text followed by <see cref="NewLine"/>.</summary>
    public void SendLine(string text) => Complete(SendTextAsync(text, appendNewLine: true, CancellationToken.None));

    internal ValueTask SendTextAsync(string text, bool appendNewLine, CancellationToken cancellationToken, Encoding? encoding = null)
    {
        if (text is null)
        {
            throw new ArgumentNullException(nameof(text));
        }

        string newLine = appendNewLine ? _newLine : string.Empty;
        encoding ??= Volatile.Read(ref _codec).Encoding;
        int max = encoding.GetMaxByteCount(text.Length + newLine.Length);
        byte[] buffer = ArrayPool<byte>.Shared.Rent(Math.Max(max, 1));
        bool handedOff = false;
        try
        {
            int length = encoding.GetBytes(text, 0, text.Length, buffer, 0);
            if (newLine.Length > 0)
            {
                length += encoding.GetBytes(newLine, 0, newLine.Length, buffer, length);
            }

            ValueTask send = SendAsync(buffer, 0, length, cancellationToken);
            if (send.IsCompletedSuccessfully)
            {
                return default;
            }

            handedOff = true;
            return ReturnAfter(send, buffer);
        }
        finally
        {
            if (!handedOff)
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }
        }

        static async ValueTask ReturnAfter(ValueTask send, byte[] buffer)
        {
            try
            {
                await send.ConfigureAwait(false);
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }
        }
    }

    /// <summary>Writes bytes to the socket. Completes synchronously when the socket buffer has room.</summary>
    internal ValueTask SendAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
    {
        int state = Volatile.Read(ref _state);
        if (state == (int)SocketState.Disconnected)
        {
            throw SocketErrors.Closed(_peerText);
        }

        if (state == (int)SocketState.SendShutdown)
        {
            throw new SocketOperationException(SocketFailureKind.Closed,
                $"Sending on the connection to {_peerText} was shut down with Disconnect-Socket -Shutdown Send; it can only receive now.", _peerText);
        }

        if (count == 0)
        {
            return default;
        }

        if (!_sendLock.Wait(0))
        {
            return SendSlowAsync(buffer, offset, count, lockHeld: false, cancellationToken);
        }

        bool handedOff = false;
        try
        {
            Task write = _stream.WriteAsync(buffer, offset, count, cancellationToken);
            if (write.Status == TaskStatus.RanToCompletion)
            {
                Interlocked.Add(ref _bytesSent, count);
                return default;
            }

            handedOff = true;
            return FinishSendAsync(write, count);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            throw SocketErrors.TransferFailed(ex, _peerText, "send");
        }
        finally
        {
            if (!handedOff)
            {
                _sendLock.Release();
            }
        }
    }

    private async ValueTask SendSlowAsync(byte[] buffer, int offset, int count, bool lockHeld, CancellationToken cancellationToken)
    {
        if (!lockHeld)
        {
            await _sendLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        }

        Task write;
        try
        {
            write = _stream.WriteAsync(buffer, offset, count, cancellationToken);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            _sendLock.Release();
            throw SocketErrors.TransferFailed(ex, _peerText, "send");
        }

        await FinishSendAsync(write, count).ConfigureAwait(false);
    }

    private async ValueTask FinishSendAsync(Task write, int count)
    {
        try
        {
            await write.ConfigureAwait(false);
            Interlocked.Add(ref _bytesSent, count);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            throw SocketErrors.TransferFailed(ex, _peerText, "send");
        }
        finally
        {
            _sendLock.Release();
        }
    }

    // ------------------------------------------------------------------ receiving: methods

    /// <summary>Receives exactly <paramref name="count"/> bytes, waiting up to
    /// <see cref="ReceiveTimeoutSeconds"/>. Returns null when the peer closed and nothing is left.</summary>
    public byte[]? Receive(int count) =>
        (byte[]?)Complete(ReceiveAsync(new ReceiveRequest(ReceiveMode.Count, asText: false, ReceiveTimeout, count: count), CancellationToken.None));

    /// <summary>Receives one line without its terminator; null when the peer closed and nothing is left.</summary>
    public string? ReceiveLine() =>
        (string?)Complete(ReceiveAsync(new ReceiveRequest(ReceiveMode.Line, asText: true, ReceiveTimeout), CancellationToken.None));

    /// <summary>Receives whatever text is buffered, waiting for the first character; null when
    /// the peer closed and nothing is left.</summary>
    public string? ReceiveAvailable() =>
        (string?)Complete(ReceiveAsync(new ReceiveRequest(ReceiveMode.Available, asText: true, ReceiveTimeout), CancellationToken.None));

    /// <summary>Receives whatever bytes are buffered, waiting for the first one; null when the
    /// peer closed and nothing is left.</summary>
    public byte[]? ReceiveAvailableBytes() =>
        (byte[]?)Complete(ReceiveAsync(new ReceiveRequest(ReceiveMode.Available, asText: false, ReceiveTimeout), CancellationToken.None));

    private static T Complete<T>(ValueTask<T> task) => task.IsCompletedSuccessfully ? task.Result : task.AsTask().GetAwaiter().GetResult();

    private static void Complete(ValueTask task)
    {
        if (!task.IsCompletedSuccessfully)
        {
            task.AsTask().GetAwaiter().GetResult();
        }
    }

    // ------------------------------------------------------------------ receiving: engine

    /// <summary>Receives one frame: a string, a byte array, or null at end of stream. When the
    /// frame is already buffered this completes synchronously with no allocation but the result.
    /// A timeout throws ReceiveTimeout and consumes nothing; a cancelled token throws
    /// <see cref="OperationCanceledException"/> and consumes nothing.</summary>
    internal ValueTask<object?> ReceiveAsync(ReceiveRequest request, CancellationToken cancellationToken)
    {
        ThrowIfDisconnected();
        ValidateRequest(request);
        if (!_readLock.Wait(0))
        {
            return ReceiveSlowAsync(request, lockHeld: false, searched: 0, cancellationToken);
        }

        bool handedOff = false;
        try
        {
            long searched = 0;
            if (_pipe.Reader.TryRead(out ReadResult result) && TryTakeFrame(result, request, ref searched, out object? value))
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

            while (true)
            {
                ReadResult result = await _pipe.Reader.ReadAsync(timeout.Token).ConfigureAwait(false);
                if (TryTakeFrame(result, request, ref searched, out object? value))
                {
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
            SetDemand(0);
            if (lockHeld)
            {
                _readLock.Release();
            }
        }
    }

    /// <summary>Reads until the peer closes, handing every chunk to <paramref name="sink"/> as it
    /// arrives so the bounded buffer never fills. The timeout is an idle timeout: it restarts
    /// whenever data arrives.</summary>
    internal async Task ReceiveToEndAsync(Action<ReadOnlySequence<byte>> sink, TimeSpan idleTimeout, CancellationToken cancellationToken)
    {
        ThrowIfDisconnected();
        using TimeoutScope timeout = new(idleTimeout, cancellationToken);
        bool lockHeld = false;
        try
        {
            await _readLock.WaitAsync(timeout.Token).ConfigureAwait(false);
            lockHeld = true;
            while (true)
            {
                ReadResult result = await _pipe.Reader.ReadAsync(timeout.Token).ConfigureAwait(false);
                ReadOnlySequence<byte> buffer = result.Buffer;
                if (!buffer.IsEmpty)
                {
                    sink(buffer);
                    timeout.Restart();
                }

                Consume(buffer, buffer.End, buffer.End);
                if (result.IsCompleted)
                {
                    ThrowIfEndedByFailure(buffer.IsEmpty);
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
        TextCodec codec = Volatile.Read(ref _codec);
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
                    $"The byte count must be 1 or more; {request.Count} was given.", _peerText);
            case ReceiveMode.Delimiter when string.IsNullOrEmpty(request.Delimiter):
                throw new SocketOperationException(SocketFailureKind.InvalidArgument,
                    "The delimiter is empty. Give at least one character, or use -Line.", _peerText);
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
        TextCodec codec = Volatile.Read(ref _codec);
        if (Volatile.Read(ref _state) == (int)SocketState.Disconnected)
        {
            _pipe.Reader.AdvanceTo(buffer.Start, buffer.End);
            throw SocketErrors.Closed(_peerText);
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
                        _pipe.Reader.AdvanceTo(buffer.Start, buffer.End);
                        throw new SocketOperationException(SocketFailureKind.FrameTooLong,
                            $"No {(request.Mode == ReceiveMode.Line ? "line end" : "delimiter")} arrived from {_peerText} in the first {MaxFrameLength / (1024 * 1024)} MiB. " +
                            "The data stays buffered; read it with -ByteCount, -ToEnd or without a framing parameter.", _peerText);
                    }

                    SetDemand(buffer.Length + ReceiveBlockSize);
                }

                break;
        }

        if (result.IsCompleted)
        {
            return TakeEndOfStream(buffer, request, codec, out value);
        }

        _pipe.Reader.AdvanceTo(buffer.Start, buffer.End);
        value = null;
        return false;
    }

    /// <summary>The peer has closed and no whole frame is left: return the remainder as the
    /// last frame (like ReadLine), or null when nothing is left.</summary>
    private bool TakeEndOfStream(in ReadOnlySequence<byte> buffer, in ReceiveRequest request, TextCodec codec, out object? value)
    {
        if (request.Mode == ReceiveMode.Count && !buffer.IsEmpty)
        {
            _pipe.Reader.AdvanceTo(buffer.Start, buffer.End);
            throw new SocketOperationException(SocketFailureKind.EndOfStream,
                $"The remote host {_peerText} closed the connection after {buffer.Length} of the {request.Count} bytes asked for. " +
                "The bytes stay buffered; read them without -ByteCount.", _peerText);
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
            throw SocketErrors.Closed(_peerText);
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
        _pipe.Reader.AdvanceTo(consumed, examined);
        if (taken > 0)
        {
            Interlocked.Add(ref _bytesConsumed, taken);
            WakeReceiveLoop();
        }
    }

    private SocketOperationException ReceiveTimedOut(TimeSpan timeout) =>
        new(SocketFailureKind.ReceiveTimeout,
            $"No data arrived from {_peerText} within {EndPointText.Seconds(timeout)}. The connection is still open; " +
            "try again, or raise -TimeoutSeconds (0 waits forever).", _peerText);

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

    // ------------------------------------------------------------------ display

    /// <summary>"tcp 127.0.0.1:50000 -> 127.0.0.1:80 (Open)".</summary>
    public override string ToString() =>
        $"{Protocol.ToString().ToLowerInvariant()} {EndPointText.Format(LocalEndPoint)} -> {_peerText} ({State})";

    /// <summary>A timeout linked with a caller's token, where the caller can tell the two apart.</summary>
    private sealed class TimeoutScope : IDisposable
    {
        private readonly CancellationTokenSource? _timeout;
        private readonly CancellationTokenSource? _linked;
        private readonly TimeSpan _duration;

        private readonly CancellationToken _outer;

        public TimeoutScope(TimeSpan duration, CancellationToken outer)
        {
            _duration = duration;
            _outer = outer;
            if (duration > TimeSpan.Zero)
            {
                _timeout = new CancellationTokenSource(duration);
                _linked = CancellationTokenSource.CreateLinkedTokenSource(outer, _timeout.Token);
                Token = _linked.Token;
            }
            else
            {
                Token = outer;
            }
        }

        public CancellationToken Token { get; }

        public bool TimedOut => _timeout?.IsCancellationRequested == true && !_outer.IsCancellationRequested;

        public void Restart() => _timeout?.CancelAfter(_duration);

        public void Dispose()
        {
            _linked?.Dispose();
            _timeout?.Dispose();
        }
    }
}
