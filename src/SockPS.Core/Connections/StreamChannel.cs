using System;
using System.Collections.Generic;
using System.IO;
using System.Net.Security;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Threading;
using System.Threading.Tasks;

namespace SockPS.Core;

/// <summary>
/// The only code that reads a stream socket (TCP or Unix stream, plain or TLS), and the one send
/// path. Exactly one party reads at a time, named by <see cref="ReaderMode"/> and changed only
/// in <see cref="SwitchReader"/>:
/// <list type="bullet">
/// <item>Loop: a background task fills a bounded <see cref="ReceiveBuffer"/> (the default, so
/// data is safe in memory however the peer ends, events fire and the state follows the peer);</item>
/// <item>Caller: a blocking receive with no token (the connection's methods in a script loop)
/// waits with poll() and reads on its own thread. That costs two system calls where the loop
/// costs two thread hand-offs per message; the loop stays parked afterwards until someone needs
/// it (an async receive, a select, an event handler), because restarting it per message would
/// cost more than the message;</item>
/// <item>Sink: a bulk receive reads straight into its own large blocks;</item>
/// <item>Paused: a TLS upgrade owns the socket.</item>
/// </list>
/// Caller and Sink exist for plain streams only: cancelling an SslStream read can leave it
/// unusable, so TLS connections are always read by the loop. Framing is not done here: the
/// <see cref="Framer"/> cuts frames from the buffer.
/// </summary>
internal sealed class StreamChannel
{
    /// <summary>Bytes asked of the socket per read once data is ready.</summary>
    internal const int ReceiveBlockSize = 64 * 1024;

    /// <summary>Unread bytes at which the loop stops reading, so TCP slows the sender instead of
    /// memory growing. A receive that needs more (a long line, a large count) raises the bound
    /// while it waits, up to <see cref="Framer.MaxFrameLength"/>.</summary>
    internal const int DefaultBufferLimit = 1024 * 1024;

    /// <summary>Bytes per read and write in bulk transfers; on loopback 1 MiB blocks nearly
    /// double throughput over 64 KiB ones.</summary>
    internal const int BulkBlockSize = 1024 * 1024;

    private static readonly byte[] s_empty = new byte[0];

    private enum ReaderMode
    {
        Paused,
        Loop,
        Caller,
        Sink,
    }

    private readonly Socket _socket;
    private readonly NetworkStream _network;
    private readonly IChannelOwner _owner;
    private readonly object _gate = new();
    private readonly ReceiveBuffer _buffer = new();
    private readonly SemaphoreSlim _reader = new(1, 1);
    private readonly SemaphoreSlim _sendLock = new(1, 1);

    // How long closing waits for a send in flight, or a TLS read mid-decryption, before it gives
    // up on close_notify.
    private static readonly TimeSpan CloseNotifyWait = TimeSpan.FromMilliseconds(200);

    // NetworkStream, or the SslStream over it once TLS is on; swapped only by an upgrade, which
    // holds both locks with the reader paused.
    private Stream _stream;
    private ReaderMode _mode = ReaderMode.Paused;
    private Task? _loop;
    private CancellationTokenSource? _loopStop;
    private bool _loopWanted;
    private int _loopHolders;
    private bool _ended;
    private bool _closed;
    private bool _sendShutdown;
    private SocketOperationException? _failure;
    private int _limit = DefaultBufferLimit;
    private TelnetFilter? _telnet;
    private long _arrivals;
    private TaskCompletionSource<bool>? _dataSignal;
    private TaskCompletionSource<bool>? _spaceSignal;

    // True while the socket's handle is still in blocking mode: the connect waited on the caller's
    // thread with a blocking connect() (Linux) and nothing asynchronous has touched the socket
    // since (.NET makes a handle non-blocking for good at its first asynchronous operation). A
    // receive on the caller's thread is then one recv() that sleeps in the kernel, bounded by
    // SO_RCVTIMEO, instead of poll() and then recv(). Were it wrong (the handle made non-blocking
    // behind the channel's back), that recv would still be right: .NET then waits for it on its
    // socket engine, with the same timeout, only slower.
    private bool _blockingHandle;
    private int _receiveTimeoutSet;

    public StreamChannel(Socket socket, IChannelOwner owner, NetworkStream? network = null, SslStream? tls = null)
    {
        _socket = socket;
        _owner = owner;
        _network = network ?? new NetworkStream(socket, ownsSocket: false);
        _stream = tls ?? (Stream)_network;
    }

    /// <summary>True once the peer closed or the socket failed (received data may remain).</summary>
    public bool Ended
    {
        get
        {
            lock (_gate)
            {
                return _ended;
            }
        }
    }

    /// <summary>Received bytes no receive has taken yet.</summary>
    public int Available
    {
        get
        {
            lock (_gate)
            {
                return _buffer.Length;
            }
        }
    }

    /// <summary>True while a receive holds the reader.</summary>
    public bool ReceiveInProgress => _reader.CurrentCount == 0;

    /// <summary>True while receives on the caller's thread sleep in recv() (tests).</summary>
    internal bool BlockingHandle => _blockingHandle;

    /// <summary>True while the background loop is the reader (tests: a parked start).</summary>
    internal bool LoopRunning
    {
        get
        {
            lock (_gate)
            {
                return _loop is not null;
            }
        }
    }

    /// <summary>True when the caller's thread may read the socket itself: a plain stream.</summary>
    private bool CallerMayRead => _stream is NetworkStream;

    // ------------------------------------------------------------------ the one hand-over

    /// <summary>
    /// On Linux (epoll) and macOS (kqueue), .NET's socket engine registers a socket on its first
    /// asynchronous wait and never lets it go: from then on every packet that arrives wakes the
    /// engine's thread, whether anyone waits or not. A script's request/response loop on the
    /// caller's thread paid 5-10 us a round trip for it on a 2-core machine (README, Performance).
    /// Windows' completion ports wake nobody for data no operation asked for.
    /// </summary>
    internal static readonly bool ArrivalsWakeRegisteredSockets = !RuntimeInformation.IsOSPlatform(OSPlatform.Windows);

    /// <summary>Starts reading in the background; or, with <paramref name="parked"/>, leaves the
    /// socket alone until someone needs the loop, so that a connection only ever used from one
    /// thread (<c>$c.Send()</c> / <c>$c.Receive()</c>) is never registered with .NET's socket
    /// engine (<see cref="ArrivalsWakeRegisteredSockets"/>). Parked is used for plain client
    /// streams without Telnet, and not while someone holds the loop (a transcript from the
    /// start); a parked connection behaves as one whose loop a blocking receive
    /// parked: State, Available and BytesReceived look at the socket, and events, selects and
    /// async receives start the loop. On Windows the loop always starts: the engine costs nothing
    /// there, and a reset discards what the OS had not yet handed over.
    /// <paramref name="blockingHandle"/>: the connect left the handle in blocking mode (see
    /// <see cref="SocketConnector.ConnectOnThisThread"/>).</summary>
    public void Start(bool parked = false, bool blockingHandle = false)
    {
        if (parked && CallerMayRead && _telnet is null && ArrivalsWakeRegisteredSockets && Volatile.Read(ref _loopHolders) == 0)
        {
            lock (_gate)
            {
                if (_mode == ReaderMode.Paused)
                {
                    _mode = ReaderMode.Caller;
                    _blockingHandle = blockingHandle;
                    return;
                }
            }
        }

        SwitchReader(ReaderMode.Loop);
    }

    /// <summary>
    /// Hands the socket's read side to <paramref name="to"/>. The background loop, when it is the
    /// current reader, is stopped first and waited for: a read it already started completes into
    /// the buffer (its data read takes no token), so nothing it read is lost or read twice.
    /// Callers other than <see cref="EnsureLoop"/> hold the reader lock.
    /// </summary>
    private void SwitchReader(ReaderMode to)
    {
        Task? stopping = null;
        lock (_gate)
        {
            if (_mode == to)
            {
                return;
            }

            if (_mode == ReaderMode.Loop && _loop is not null)
            {
                _loopStop!.Cancel();
                stopping = _loop;
                _loop = null;
            }

            _mode = to;
            if (to != ReaderMode.Caller)
            {
                _blockingHandle = false; // the loop, a sink and a TLS handshake read asynchronously
            }
        }

        // The loop ends within one continuation: its pending read is a cancellable zero-byte wait.
        stopping?.ContinueWith(static _ => { }, TaskScheduler.Default).Wait();

        lock (_gate)
        {
            if (_mode == ReaderMode.Loop && _loop is null && !_ended && !_closed)
            {
                _loopStop?.Dispose();
                _loopStop = new CancellationTokenSource();
                _loop = LoopAsync(_stream, _loopStop.Token);
            }
        }
    }

    /// <summary>Makes sure the background loop reads (a select, an event handler, an async
    /// receive needs it). When a blocking receive holds the reader, it restarts the loop when it
    /// ends.</summary>
    public void EnsureLoop()
    {
        lock (_gate)
        {
            if (_mode == ReaderMode.Loop || _ended || _closed)
            {
                return;
            }

            _loopWanted = true;
        }

        if (_reader.Wait(0))
        {
            try
            {
                RestartLoopIfWanted();
            }
            finally
            {
                _reader.Release();
            }
        }
    }

    /// <summary>Keeps the loop running for as long as someone listens (DataReceived and Closed
    /// handlers, a transcript); balanced by <see cref="ReleaseLoop"/>.</summary>
    public void HoldLoop()
    {
        Interlocked.Increment(ref _loopHolders);
        EnsureLoop();
    }

    public void ReleaseLoop() => Interlocked.Decrement(ref _loopHolders);

    private void RestartLoopIfWanted()
    {
        bool wanted;
        lock (_gate)
        {
            wanted = _mode == ReaderMode.Caller && (_loopWanted || Volatile.Read(ref _loopHolders) > 0);
            _loopWanted = false;
        }

        if (wanted)
        {
            SwitchReader(ReaderMode.Loop);
        }
    }

    /// <summary>
    /// While the loop is parked, the peer's close goes unnoticed until someone reads. State and
    /// Available call this: when the socket is readable and no receive runs, one non-blocking
    /// read brings in what is there (data, the end of the stream, or a reset).
    /// </summary>
    public void Probe()
    {
        lock (_gate)
        {
            if (_mode != ReaderMode.Caller || _ended || _closed)
            {
                return;
            }
        }

        if (!_reader.Wait(0))
        {
            return;
        }

        try
        {
            bool readable;
            try
            {
                readable = _socket.Poll(0, SelectMode.SelectRead);
            }
            catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
            {
                return;
            }

            // What a parked connection's peer sent may be data and then its close, or more than
            // one read's worth: read while there is more, so State sees the close behind the data.
            // Bounded by the buffer's limit like the loop.
            while (readable && ReadOnce() && BelowLimit())
            {
                readable = _socket.Poll(0, SelectMode.SelectRead);
            }
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
            // Closed meanwhile.
        }
        catch (SocketOperationException)
        {
            // Closed meanwhile: the state already says so.
        }
        finally
        {
            _reader.Release();
        }
    }

    // ------------------------------------------------------------------ the background loop

    private async Task LoopAsync(Stream stream, CancellationToken stop)
    {
        Exception? failure = null;

        // TLS: the loop holds the gate while inside the SslStream (not while it waits for the
        // network), so close_notify is never made while a read decrypts. See TlsStream.
        TlsGate? gate = (stream as TlsStream)?.Gate;
        gate?.Activate();
        try
        {
            while (true)
            {
                await WaitForSpaceAsync(stop).ConfigureAwait(false);

                // A zero-byte read waits for data without holding a buffer, so an idle
                // connection costs a few hundred bytes rather than a receive block.
                if (gate is null)
                {
                    await stream.ReadAsync(s_empty, 0, 0, stop).ConfigureAwait(false);
                }
                else
                {
                    await gate.EnterAsync().ConfigureAwait(false);
                    try
                    {
                        await stream.ReadAsync(s_empty, 0, 0, stop).ConfigureAwait(false);
                    }
                    finally
                    {
                        gate.Exit();
                    }
                }

                // Stopped means handed over: leave the data in the socket for the next reader
                // rather than start a read that no token can end.
                stop.ThrowIfCancellationRequested();

                // The zero-byte wait can also complete with nothing to read (seen on Linux on a
                // socket that went through a proxy handshake). The read below takes no token, so
                // it would then block until the peer spoke, and a receive that takes the reader
                // over (Invoke-SocketRequest before sending its request) would wait for it
                // forever. On a plain socket, nothing buffered and no end of stream means wait
                // again; SslStream keeps its own buffer, so it is trusted as it is.
                if (stream is NetworkStream && _socket.Available == 0 && !_socket.Poll(0, SelectMode.SelectRead))
                {
                    await Task.Yield();
                    continue;
                }

                ArraySegment<byte> into;
                lock (_gate)
                {
                    if (_closed)
                    {
                        return;
                    }

                    into = _buffer.Reserve(ReceiveBlockSize);
                }

                int read;
                try
                {
                    // No token: data is there, and once read it must reach the buffer.
                    if (gate is null)
                    {
                        read = await stream.ReadAsync(into.Array!, into.Offset, into.Count, CancellationToken.None).ConfigureAwait(false);
                    }
                    else
                    {
                        await gate.EnterAsync().ConfigureAwait(false);
                        try
                        {
                            read = await stream.ReadAsync(into.Array!, into.Offset, into.Count, CancellationToken.None).ConfigureAwait(false);
                        }
                        finally
                        {
                            gate.Exit();
                        }
                    }
                }
                catch
                {
                    Commit(into, 0);
                    throw;
                }

                if (read == 0)
                {
                    Commit(into, 0);
                    break;
                }

                Commit(into, read);
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            // Handed over to another reader, or closing.
            return;
        }
        catch (Exception ex)
        {
            failure = ex;
        }

        End(failure);
    }

    private async Task WaitForSpaceAsync(CancellationToken stop)
    {
        while (true)
        {
            TaskCompletionSource<bool> space;
            lock (_gate)
            {
                if (_buffer.Length < _limit || _closed)
                {
                    return;
                }

                space = _spaceSignal ??= NewSignal();
            }

            using (stop.Register(static s => ((TaskCompletionSource<bool>)s!).TrySetCanceled(), space))
            {
                await space.Task.ConfigureAwait(false);
            }
        }
    }

    /// <summary>Makes bytes read into reserved space unread data and tells the owner. With
    /// Telnet on, the negotiation is taken out first (the owner still sees the bytes as they
    /// came, for the transcript) and answered.</summary>
    private void Commit(ArraySegment<byte> into, int read)
    {
        int data = read;
        byte[]? raw = null;
        List<byte>? replies = null;
        if (read > 0 && _telnet is not null)
        {
            raw = new byte[read];
            Buffer.BlockCopy(into.Array!, into.Offset, raw, 0, read);
            replies = new List<byte>();
            data = _telnet.Filter(into.Array!, into.Offset, read, replies);
        }

        if (read > 0)
        {
            _owner.OnReceiving(raw ?? into.Array!, raw is null ? into.Offset : 0, read, null);
        }

        lock (_gate)
        {
            _buffer.Commit(data);
            if (data > 0)
            {
                _arrivals++;
                Signal(ref _dataSignal);
            }
        }

        if (read > 0)
        {
            _owner.OnReceived(read);
        }

        if (replies is { Count: > 0 })
        {
            _ = AnswerTelnetAsync(replies.ToArray());
        }
    }

    /// <summary>Refuse the peer's Telnet options and take the negotiation out of what is received.
    /// Set before the channel starts reading.</summary>
    public void UseTelnet() => _telnet = new TelnetFilter();

    /// <summary>Sends the refusals; a connection that can no longer send simply does not answer.</summary>
    private async Task AnswerTelnetAsync(byte[] replies)
    {
        try
        {
            await SendAsync(replies, 0, replies.Length, CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is SocketOperationException or OperationCanceledException)
        {
            // Closed or half-closed meanwhile: there is nobody to answer.
        }
    }

    /// <summary>The one place the receive side ends: the reason is kept for the next receive to
    /// report once, after the data that came before it; waiters wake; the owner is told.</summary>
    private void End(Exception? failure)
    {
        SocketOperationException? error = null;
        lock (_gate)
        {
            if (_ended)
            {
                return;
            }

            _ended = true;
            if (failure is not null && !_closed)
            {
                error = SocketErrors.TransferFailed(failure, _owner.PeerText, "receive");
                if (error.Kind != SocketFailureKind.Closed)
                {
                    _failure = error;
                }
            }

            if (!_closed && error?.Kind != SocketFailureKind.Closed)
            {
                _owner.OnEnding(error);
            }

            Signal(ref _dataSignal);
            Signal(ref _spaceSignal);
        }

        if (!_closed && error?.Kind != SocketFailureKind.Closed)
        {
            _owner.OnEnded(error);
        }
    }

    private static TaskCompletionSource<bool> NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    private static void Signal(ref TaskCompletionSource<bool>? signal)
    {
        signal?.TrySetResult(true);
        signal = null;
    }

    // ------------------------------------------------------------------ receiving

    /// <summary>Receives one frame on the calling thread: a string, bytes, a
    /// <see cref="PatternFrame"/>, or null at the end of the stream. A plain stream is read on
    /// this thread (a token wakes the wait through the thread's <see cref="ThreadWaker"/>, so
    /// Ctrl+C ends it at once); TLS, or a connection whose events need the loop running, waits on
    /// the loop.</summary>
    public object? Receive(in ReceiveRequest request, TextCodec codec, CancellationToken token)
    {
        Deadline deadline = Deadline.After(request.Timeout);
        if (!_reader.Wait(deadline.RemainingMilliseconds, token))
        {
            throw TimedOut(request.Timeout);
        }

        try
        {
            int searched = 0;
            while (true)
            {
                if (TryFrame(request, codec, ref searched, out object? value, out long seen))
                {
                    return value;
                }

                ThreadWaker? waker = null;
                if (CallerMayRead && Volatile.Read(ref _loopHolders) == 0 && (!token.CanBeCanceled || (waker = ThreadWaker.ForThisThread()) is not null))
                {
                    ReadOnCallerThread(deadline, request.Timeout, seen, waker, token);
                }
                else
                {
                    Task arrived = WhenChanged(seen);
                    if (!TaskWaits.Wait(arrived, deadline, token))
                    {
                        throw TimedOut(request.Timeout);
                    }
                }
            }
        }
        finally
        {
            FinishReceive();
        }
    }

    /// <summary>Receives one frame; the loop reads. The same results and errors as
    /// <see cref="Receive"/>.</summary>
    public async ValueTask<object?> ReceiveAsync(ReceiveRequest request, TextCodec codec, CancellationToken token)
    {
        Deadline deadline = Deadline.After(request.Timeout);
        if (!await WaitForReaderAsync(deadline, token).ConfigureAwait(false))
        {
            throw TimedOut(request.Timeout);
        }

        try
        {
            int searched = 0;
            while (true)
            {
                if (TryFrame(request, codec, ref searched, out object? value, out long seen))
                {
                    return value;
                }

                Task arrived = WhenChanged(seen);
                if (!await TaskWaits.WaitAsync(arrived, deadline, token).ConfigureAwait(false))
                {
                    throw TimedOut(request.Timeout);
                }
            }
        }
        finally
        {
            FinishReceive();
        }
    }

    /// <summary>One framing attempt under the lock. True with the value (null at the end of the
    /// stream); false when more bytes are needed, with the arrival count it looked at.</summary>
    private bool TryFrame(in ReceiveRequest request, TextCodec codec, ref int searched, out object? value, out long seen)
    {
        FrameResult result;
        lock (_gate)
        {
            if (_closed)
            {
                throw SocketErrors.Closed(_owner.PeerText);
            }

            seen = _arrivals;
            result = Framer.Take(_buffer.Array, _buffer.Start, _buffer.Length, _ended, request, codec, searched);
            Consume(result.Consumed);
            if (result.Status == FrameStatus.NeedMore)
            {
                searched = result.Consumed > 0 ? 0 : result.Searched;
                if (result.Demand > _limit)
                {
                    // Raised while this receive waits, so a long line can complete; the loop
                    // may be waiting for space.
                    _limit = (int)Math.Min(Framer.MaxFrameLength + ReceiveBlockSize, result.Demand);
                    Signal(ref _spaceSignal);
                }
            }
        }

        switch (result.Status)
        {
            case FrameStatus.Frame:
                value = result.Value;
                return true;
            case FrameStatus.End:
                ThrowPendingFailure();
                value = null;
                return true;
            case FrameStatus.TooLong:
                throw new SocketOperationException(SocketFailureKind.FrameTooLong,
                    $"No {(request.Mode == ReceiveMode.Pattern ? "match" : request.Mode == ReceiveMode.Line ? "line end" : "delimiter")} arrived from {_owner.PeerText} in the first {Framer.MaxFrameLength / (1024 * 1024)} MiB. " +
                    "The data stays buffered; read it by byte count, to the end, or as it comes.", _owner.PeerText)
                {
                    Setting = SocketSetting.Framing,
                };
            case FrameStatus.ShortAtEnd:
                throw ShortAtEnd(request.Count);
            default:
                value = null;
                return false;
        }
    }

    private SocketOperationException ShortAtEnd(int asked)
    {
        int arrived;
        SocketOperationException? failure;
        lock (_gate)
        {
            arrived = _buffer.Length;
            failure = _failure;
            _failure = null;
        }

        if (failure is not null)
        {
            // Reported here, once, as what it was: a later receive returns the buffered bytes
            // and then sees a plain end of stream.
            string what = failure.Kind == SocketFailureKind.ConnectionReset
                ? $"The connection to {_owner.PeerText} was reset by the remote host"
                : failure.Message.TrimEnd(' ', '.');
            return new SocketOperationException(failure.Kind,
                $"{what} after {arrived} of the {asked} bytes asked for had arrived. The bytes stay buffered; a receive without a byte count returns them.",
                _owner.PeerText, failure.InnerException)
            {
                Setting = SocketSetting.ByteCount,
            };
        }

        return new SocketOperationException(SocketFailureKind.EndOfStream,
            $"The remote host {_owner.PeerText} closed the connection after {arrived} of the {asked} bytes asked for. " +
            "The bytes stay buffered; a receive without a byte count returns them.", _owner.PeerText)
        {
            Setting = SocketSetting.ByteCount,
        };
    }

    /// <summary>Reports a failure that ended the stream, once, after everything received before
    /// it was taken; later receives see a plain end of stream, as recv() does after ECONNRESET.</summary>
    private void ThrowPendingFailure()
    {
        SocketOperationException? failure;
        lock (_gate)
        {
            failure = _failure;
            _failure = null;
        }

        if (failure is not null)
        {
            throw failure;
        }
    }

    /// <summary>Takes the pending failure without throwing it (bulk receives word it themselves).</summary>
    private SocketOperationException? TakeFailure()
    {
        lock (_gate)
        {
            SocketOperationException? failure = _failure;
            _failure = null;
            return failure;
        }
    }

    /// <summary>A task that completes when bytes arrive after <paramref name="seen"/>, or the
    /// stream ends, or the channel closes. The loop is made to read if it is parked.</summary>
    private Task WhenChanged(long seen)
    {
        Task changed;
        bool parked;
        lock (_gate)
        {
            if (_arrivals != seen || _ended || _closed)
            {
                return Task.CompletedTask;
            }

            changed = (_dataSignal ??= NewSignal()).Task;
            parked = _mode != ReaderMode.Loop;
        }

        if (parked)
        {
            // This receive holds the reader, so the switch is safe here.
            SwitchReader(ReaderMode.Loop);
        }

        return changed;
    }

    /// <summary>Reads the socket on this thread once it is readable: poll() blocks in the kernel
    /// until data, the end of the stream or the deadline (or, with a waker, the token).</summary>
    private void ReadOnCallerThread(Deadline deadline, TimeSpan timeout, long seen, ThreadWaker? waker, CancellationToken token)
    {
        SwitchReader(ReaderMode.Caller);
        lock (_gate)
        {
            // The loop may have read more before it stood aside: frame that first.
            if (_arrivals != seen || _ended || _closed)
            {
                return;
            }
        }

        if (waker is null && _blockingHandle)
        {
            ReadBlocking(deadline, timeout);
            return;
        }

        while (true)
        {
            int micros = deadline.RemainingMicroseconds;
            if (micros == 0)
            {
                throw TimedOut(timeout);
            }

            bool readable;
            try
            {
                readable = waker is null
                    ? _socket.Poll(micros, SelectMode.SelectRead)
                    : waker.WaitReadable(_socket, micros, token);
            }
            catch (ObjectDisposedException)
            {
                throw SocketErrors.Closed(_owner.PeerText);
            }
            catch (SocketException ex)
            {
                End(ex);
                return;
            }

            if (readable)
            {
                ReadOnce();
                return;
            }
        }
    }

    /// <summary>Reads on a blocking handle: recv() sleeps in the kernel until data, the end of the
    /// stream, or SO_RCVTIMEO. No token: Close from another thread ends it (.NET shuts the socket
    /// down under a blocked call).</summary>
    private void ReadBlocking(Deadline deadline, TimeSpan timeout)
    {
        while (true)
        {
            int ms = deadline.RemainingMilliseconds;
            if (ms == 0)
            {
                throw TimedOut(timeout);
            }

            // One setsockopt per receive would cost what this path saves, so the last value stays
            // while it is within 10 ms of what is left (a script's loop asks for the same timeout
            // each time); a recv may then wait up to 10 ms past the deadline.
            int wanted = ms < 0 ? 0 : ms;
            if (wanted != _receiveTimeoutSet && (wanted == 0 || _receiveTimeoutSet == 0 || Math.Abs(wanted - _receiveTimeoutSet) > 10))
            {
                try
                {
                    _socket.ReceiveTimeout = wanted;
                }
                catch (ObjectDisposedException)
                {
                    throw SocketErrors.Closed(_owner.PeerText);
                }

                _receiveTimeoutSet = wanted;
            }

            if (ReadOnce())
            {
                return;
            }

            lock (_gate)
            {
                if (_ended || _closed)
                {
                    return;
                }
            }
        }
    }

    /// <summary>One read of what the socket holds into the buffer: the socket is readable, or
    /// the handle blocks (<see cref="ReadBlocking"/>). The caller holds the reader. True when
    /// bytes came in.</summary>
    private bool ReadOnce()
    {
        ArraySegment<byte> into;
        lock (_gate)
        {
            if (_closed)
            {
                throw SocketErrors.Closed(_owner.PeerText);
            }

            if (_ended)
            {
                return false;
            }

            into = _buffer.Reserve(ReceiveBlockSize);
        }

        int read;
        SocketError error;
        try
        {
            read = _socket.Receive(into.Array!, into.Offset, into.Count, SocketFlags.None, out error);
        }
        catch (ObjectDisposedException)
        {
            Commit(into, 0);
            throw SocketErrors.Closed(_owner.PeerText);
        }

        if (error is SocketError.WouldBlock or SocketError.TimedOut)
        {
            Commit(into, 0); // readable said so, then nothing (or SO_RCVTIMEO ran out): wait again
            return false;
        }

        if (error != SocketError.Success)
        {
            Commit(into, 0);
            End(new SocketException((int)error));
            return false;
        }

        Commit(into, read);
        if (read == 0)
        {
            End(null);
        }

        return read > 0;
    }

    private bool BelowLimit()
    {
        lock (_gate)
        {
            return _buffer.Length < _limit;
        }
    }

    private Task<bool> WaitForReaderAsync(Deadline deadline, CancellationToken token) =>
        _reader.WaitAsync(deadline.RemainingMilliseconds, token);

    /// <summary>Ends a receive: the buffer bound goes back to normal, a select or event handler
    /// that wanted the loop while this receive read gets it, and the reader is free.</summary>
    private void FinishReceive()
    {
        lock (_gate)
        {
            if (_limit != DefaultBufferLimit)
            {
                _limit = DefaultBufferLimit;
            }
        }

        try
        {
            RestartLoopIfWanted();
        }
        finally
        {
            _reader.Release();
        }
    }

    private void Consume(int count)
    {
        if (count <= 0)
        {
            return;
        }

        _buffer.Consume(count);
        if (_spaceSignal is not null && _buffer.Length < _limit)
        {
            Signal(ref _spaceSignal);
        }
    }

    private SocketOperationException TimedOut(TimeSpan timeout) =>
        new(SocketFailureKind.ReceiveTimeout,
            $"No data arrived from {_owner.PeerText} within {EndPointText.Seconds(timeout)}. The connection is still open.", _owner.PeerText)
        {
            Setting = SocketSetting.Timeout,
            Timeout = timeout,
        };

    // ------------------------------------------------------------------ select

    /// <summary>True when a receive would not wait: data is buffered, the stream ended, or the
    /// channel closed.</summary>
    public bool IsReadable
    {
        get
        {
            lock (_gate)
            {
                return _buffer.Length > 0 || _ended || _closed;
            }
        }
    }

    /// <summary>Completes when the connection is readable (select's read set).</summary>
    public Task WhenReadableAsync(CancellationToken token)
    {
        EnsureLoop();
        Task changed;
        lock (_gate)
        {
            if (_buffer.Length > 0 || _ended || _closed)
            {
                return Task.CompletedTask;
            }

            changed = (_dataSignal ??= NewSignal()).Task;
        }

        if (!token.CanBeCanceled)
        {
            return changed;
        }

        TaskCompletionSource<bool> cancellable = NewSignal();
        CancellationTokenRegistration registration = token.Register(() => cancellable.TrySetCanceled());
        changed.ContinueWith(_ =>
        {
            registration.Dispose();
            cancellable.TrySetResult(true);
        }, TaskScheduler.Default);
        return cancellable.Task;
    }

    // ------------------------------------------------------------------ bulk and to-end receives

    /// <summary>
    /// Hands received bytes to <paramref name="sink"/> until the peer closes or, with
    /// <paramref name="count"/>, that many bytes: what is buffered first, then, on a plain stream,
    /// the socket read straight into 1 MiB blocks (the loop stands aside), on TLS through the
    /// loop. The timeout is an idle timeout: it restarts whenever data arrives. Returns the bytes
    /// handed over; a failure after some bytes is thrown after they were handed over.
    /// </summary>
    public async Task<long> ReceiveToSinkAsync(Func<byte[], int, int, Task> sink, long? count, TimeSpan idleTimeout, CancellationToken token)
    {
        long limit = count ?? long.MaxValue;
        long moved = 0;
        if (!await WaitForReaderAsync(Deadline.After(idleTimeout), token).ConfigureAwait(false))
        {
            throw TimedOut(idleTimeout);
        }

        try
        {
            // What is buffered goes first, whoever reads next.
            moved += await DrainBufferAsync(sink, limit, token).ConfigureAwait(false);
            if (moved < limit && CallerMayRead && !Ended)
            {
                SwitchReader(ReaderMode.Sink);
                try
                {
                    // The loop may have read more before it stood aside.
                    moved += await DrainBufferAsync(sink, limit - moved, token).ConfigureAwait(false);
                    moved += await ReadSocketToSinkAsync(sink, limit - moved, idleTimeout, token).ConfigureAwait(false);
                }
                finally
                {
                    SwitchReader(ReaderMode.Loop);
                }
            }
            else
            {
                while (moved < limit)
                {
                    long seen;
                    bool ended;
                    lock (_gate)
                    {
                        seen = _arrivals;
                        ended = _ended;
                    }

                    long taken = await DrainBufferAsync(sink, limit - moved, token).ConfigureAwait(false);
                    moved += taken;
                    if (moved >= limit || (ended && taken == 0 && Available == 0))
                    {
                        break;
                    }

                    if (taken == 0 && !await TaskWaits.WaitAsync(WhenChanged(seen), Deadline.After(idleTimeout), token).ConfigureAwait(false))
                    {
                        throw TimedOut(idleTimeout);
                    }
                }
            }

            lock (_gate)
            {
                if (_closed)
                {
                    throw SocketErrors.Closed(_owner.PeerText);
                }
            }

            if (moved < limit)
            {
                // Everything before the end was handed over; now the reason it ended, once.
                ThrowPendingFailure();
            }

            return moved;
        }
        finally
        {
            FinishReceive();
        }
    }

    /// <summary>A copy of the last <paramref name="maxBytes"/> unread bytes (nothing is consumed),
    /// and how many there are in all: what a timed-out pattern wait shows.</summary>
    public byte[] PeekTail(int maxBytes, out int total)
    {
        lock (_gate)
        {
            total = _buffer.Length;
            int take = Math.Min(maxBytes, total);
            byte[] tail = new byte[take];
            Buffer.BlockCopy(_buffer.Array, _buffer.Start + total - take, tail, 0, take);
            return tail;
        }
    }

    /// <summary>The failure that ended the stream, taken so it is reported once (by a bulk
    /// receive that words it with where the bytes went).</summary>
    public SocketOperationException? TakeEndFailure() => TakeFailure();

    private async Task<long> DrainBufferAsync(Func<byte[], int, int, Task> sink, long limit, CancellationToken token)
    {
        long moved = 0;
        while (moved < limit)
        {
            byte[] chunk;
            lock (_gate)
            {
                int take = (int)Math.Min(_buffer.Length, limit - moved);
                if (take == 0)
                {
                    return moved;
                }

                // Copied out so the socket can go on filling the buffer while the sink writes.
                chunk = new byte[take];
                System.Buffer.BlockCopy(_buffer.Array, _buffer.Start, chunk, 0, take);
                Consume(take);
            }

            token.ThrowIfCancellationRequested();
            await sink(chunk, 0, chunk.Length).ConfigureAwait(false);
            moved += chunk.Length;
        }

        return moved;
    }

    private async Task<long> ReadSocketToSinkAsync(Func<byte[], int, int, Task> sink, long remaining, TimeSpan idleTimeout, CancellationToken token)
    {
        byte[] block = System.Buffers.ArrayPool<byte>.Shared.Rent(BulkBlockSize);
        long moved = 0;
        try
        {
            while (remaining > 0)
            {
                int want = (int)Math.Min(block.Length, remaining);
                int read;
                using (CancellationTokenSource? idle = Deadline.After(idleTimeout).Link(token, out CancellationToken both))
                {
                    try
                    {
                        read = await _network.ReadAsync(block, 0, want, both).ConfigureAwait(false);
                    }
                    catch (OperationCanceledException) when (!token.IsCancellationRequested)
                    {
                        throw TimedOut(idleTimeout);
                    }
                    catch (Exception ex) when (ex is IOException or SocketException or ObjectDisposedException)
                    {
                        if (_closed)
                        {
                            throw SocketErrors.Closed(_owner.PeerText);
                        }

                        End(ex);
                        throw TakeFailure() ?? SocketErrors.TransferFailed(ex, _owner.PeerText, "receive");
                    }
                }

                if (read == 0)
                {
                    End(null);
                    return moved;
                }

                lock (_gate)
                {
                    _arrivals++;
                }

                _owner.OnReceiving(block, 0, read, null);
                _owner.OnReceived(read);
                int data = read;
                if (_telnet is not null)
                {
                    List<byte> replies = new();
                    data = _telnet.Filter(block, 0, read, replies);
                    if (replies.Count > 0)
                    {
                        _ = AnswerTelnetAsync(replies.ToArray());
                    }
                }

                await sink(block, 0, data).ConfigureAwait(false);
                moved += data;
                remaining -= data;
            }

            return moved;
        }
        finally
        {
            System.Buffers.ArrayPool<byte>.Shared.Return(block);
        }
    }

    // ------------------------------------------------------------------ TLS upgrade

    /// <summary>
    /// Upgrades to TLS in place (STARTTLS): sends and receives wait, the reader is paused, and
    /// the bytes read but not yet received go to the handshake ahead of the socket, so nothing
    /// already read is lost or read twice. As a client nothing should be buffered (the server
    /// answers the ClientHello, it does not speak first): buffered bytes there are an unread
    /// plain-text answer, and the upgrade stops with them untouched, so the caller can say so.
    /// A failed handshake leaves the stream in an unknown state; the caller closes.
    /// </summary>
    /// <returns>The bytes that were buffered and went to the handshake: TLS records, not data.</returns>
    public async Task<int> UpgradeAsync(Func<Stream, Task<SslStream>> handshake, bool asClient, Func<byte[], Exception> unreadText, CancellationToken token)
    {
        await _sendLock.WaitAsync(token).ConfigureAwait(false);
        bool readerHeld = false;
        try
        {
            await _reader.WaitAsync(token).ConfigureAwait(false);
            readerHeld = true;
            SwitchReader(ReaderMode.Paused);
            byte[] unread;
            lock (_gate)
            {
                if (asClient && _buffer.Length > 0)
                {
                    unread = new byte[_buffer.Length];
                    System.Buffer.BlockCopy(_buffer.Array, _buffer.Start, unread, 0, unread.Length);
                    _mode = ReaderMode.Caller; // parked: the loop comes back below
                    _loopWanted = true;
                    throw unreadText(unread);
                }

                unread = _buffer.TakeAll();
            }

            Stream inner = unread.Length > 0 ? new PrefixedStream(unread, _network) : _network;
            _stream = await handshake(inner).ConfigureAwait(false);
            lock (_gate)
            {
                _mode = ReaderMode.Caller;
                _loopWanted = true;
            }

            return unread.Length;
        }
        finally
        {
            if (readerHeld)
            {
                try
                {
                    RestartLoopIfWanted();
                }
                finally
                {
                    _reader.Release();
                }
            }

            _sendLock.Release();
        }
    }

    // ------------------------------------------------------------------ sending

    /// <summary>Writes bytes; completes synchronously when the socket buffer has room. Without a
    /// token on a plain stream (the methods' path) a plain socket send skips the stream's task
    /// machinery.</summary>
    public ValueTask SendAsync(byte[] buffer, int offset, int count, CancellationToken token)
    {
        if (count == 0)
        {
            return default;
        }

        if (!_sendLock.Wait(0))
        {
            return SendSlowAsync(buffer, offset, count, token);
        }

        bool handedOff = false;
        try
        {
            ThrowIfCannotSend();
            _owner.OnSending(buffer, offset, count, null);
            if (!token.CanBeCanceled && _stream is NetworkStream)
            {
                int sent = _socket.Send(buffer, offset, count, SocketFlags.None);
                _owner.OnSent(sent);
                return default;
            }

            _blockingHandle = false;
            Task write = _stream.WriteAsync(buffer, offset, count, token);
            if (write.Status == TaskStatus.RanToCompletion)
            {
                _owner.OnSent(count);
                return default;
            }

            handedOff = true;
            return FinishSendAsync(write, count);
        }
        catch (Exception ex) when (ex is not OperationCanceledException and not SocketOperationException)
        {
            throw SocketErrors.TransferFailed(ex, _owner.PeerText, "send");
        }
        finally
        {
            if (!handedOff)
            {
                _sendLock.Release();
            }
        }
    }

    private async ValueTask SendSlowAsync(byte[] buffer, int offset, int count, CancellationToken token)
    {
        await _sendLock.WaitAsync(token).ConfigureAwait(false);
        Task write;
        try
        {
            ThrowIfCannotSend();
            _owner.OnSending(buffer, offset, count, null);
            _blockingHandle = false;
            write = _stream.WriteAsync(buffer, offset, count, token);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            _sendLock.Release();
            throw SocketErrors.TransferFailed(ex, _owner.PeerText, "send");
        }

        await FinishSendAsync(write, count).ConfigureAwait(false);
    }

    private async ValueTask FinishSendAsync(Task write, int count)
    {
        try
        {
            await write.ConfigureAwait(false);
            _owner.OnSent(count);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            throw SocketErrors.TransferFailed(ex, _owner.PeerText, "send");
        }
        finally
        {
            _sendLock.Release();
        }
    }

    private void ThrowIfCannotSend()
    {
        lock (_gate)
        {
            if (_closed)
            {
                throw SocketErrors.Closed(_owner.PeerText);
            }

            if (_sendShutdown)
            {
                throw new SocketOperationException(SocketFailureKind.Closed,
                    $"Sending on the connection to {_owner.PeerText} was shut down (a half-close); it can only receive now.", _owner.PeerText)
                {
                    Setting = SocketSetting.Shutdown,
                };
            }
        }
    }

    /// <summary>Half-closes: TLS close_notify, then FIN, while receiving goes on.</summary>
    public void ShutdownSend()
    {
        _sendLock.Wait();
        try
        {
            ThrowIfCannotSend();
            SendCloseNotify();
            _socket.Shutdown(SocketShutdown.Send);
            lock (_gate)
            {
                _sendShutdown = true;
            }
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
            throw SocketErrors.TransferFailed(ex, _owner.PeerText, "shutdown");
        }
        finally
        {
            _sendLock.Release();
        }
    }

    // ------------------------------------------------------------------ closing

    /// <summary>Closes the socket; every wait ends with Closed. Idempotent.</summary>
    public void Close()
    {
        lock (_gate)
        {
            if (_closed)
            {
                return;
            }

            _closed = true;
            Signal(ref _dataSignal);
            Signal(ref _spaceSignal);
        }

        // TLS peers expect close_notify; without it some (OpenSSL) report a truncated stream.
        // It is made with no send in flight (briefly waited for; a send stuck on a peer that does
        // not read is cut off without it) and with the receive loop's gate held until the stream
        // is disposed, so OpenSSL never sees two threads on one connection.
        TlsGate? held = EnterTlsGate(out bool mayNotify);
        try
        {
            if (mayNotify && !_sendShutdown && _stream is SslStream && _sendLock.Wait(CloseNotifyWait))
            {
                try
                {
                    TlsShutdown.TrySendCloseNotify(_stream);
                }
                finally
                {
                    _sendLock.Release();
                }
            }

            CloseSocket();
        }
        finally
        {
            held?.Exit();
        }

        lock (_gate)
        {
            _buffer.Clear();
        }
    }

    /// <summary>close_notify on a half-close (the caller holds the send lock).</summary>
    private void SendCloseNotify()
    {
        TlsGate? held = EnterTlsGate(out bool mayNotify);
        try
        {
            if (mayNotify)
            {
                TlsShutdown.TrySendCloseNotify(_stream);
            }
        }
        finally
        {
            held?.Exit();
        }
    }

    /// <summary>Takes the TLS read gate when the loop uses one (see TlsStream) and returns it to
    /// be exited; <paramref name="mayNotify"/> says whether close_notify may be made now (no gate
    /// in use, or the gate taken within <see cref="CloseNotifyWait"/>).</summary>
    private TlsGate? EnterTlsGate(out bool mayNotify)
    {
        TlsGate? gate = (_stream as TlsStream)?.Gate;
        if (gate is not { Active: true })
        {
            mayNotify = true;
            return null;
        }

        mayNotify = gate.TryEnter(CloseNotifyWait);
        return mayNotify ? gate : null;
    }

    private void CloseSocket()
    {
        try
        {
            // Shutdown first so data still queued for sending goes out with the FIN, and a
            // thread blocked in poll() on this socket wakes up.
            _socket.Shutdown(SocketShutdown.Both);
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
            // The peer is gone already; closing is all that is left to do.
        }

        _loopStop?.Cancel();
        _stream.Dispose();
        _network.Dispose();
        _socket.Dispose();
    }
}
