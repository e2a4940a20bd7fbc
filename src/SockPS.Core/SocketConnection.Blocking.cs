using System;
using System.Diagnostics;
using System.IO.Pipelines;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Threading;
using System.Threading.Tasks;

namespace SockPS.Core;

// Blocking receives for callers that wait on their own thread anyway: the connection's methods
// ($c.Receive(64) in a script loop) and the cmdlets. Waiting on the receive loop costs thread
// hand-offs on every message (the socket engine's thread, the loop, then this thread), and the
// loop re-arming its wait costs system calls; in a request/response loop that is most of the
// time. So a blocking receive that has to wait parks the loop, waits on the socket itself (poll)
// and reads it into the pipe. The loop comes back a moment after the last blocking receive, to
// keep buffering and to notice when the peer closes, or at once when anything else receives.
public sealed partial class SocketConnection
{
    /// <summary>How long one poll waits before checking for Ctrl+C and the deadline.</summary>
    private const int PollSliceMicroseconds = 100_000;

    /// <summary>How long the receive loop stays parked after the last blocking receive. A
    /// script loop calls again well within this; an idle connection is watched again soon.</summary>
    private const int ParkMilliseconds = 50;

    private Timer? _unparkTimer;
    private int _unparkArmed;
    private int _lastBlockingReceive;
    private int _parked;

    /// <summary>Receives one frame, blocking the calling thread; the same results and errors as
    /// <see cref="ReceiveAsync"/>. A cancelled token throws OperationCanceledException within a
    /// tenth of a second and consumes nothing.</summary>
    internal object? ReceiveBlocking(ReceiveRequest request, CancellationToken cancellationToken)
    {
        if (IsDatagram || _stream is not NetworkStream)
        {
            // Datagrams and TLS records go through the loop: an SslStream allows one reader.
            ValueTask<object?> pending = ReceiveAsync(request, cancellationToken);
            return pending.IsCompletedSuccessfully ? pending.Result : pending.AsTask().GetAwaiter().GetResult();
        }

        ThrowIfDisconnected();
        ValidateRequest(request);
        long started = Stopwatch.GetTimestamp();
        if (!_readLock.Wait(0))
        {
            WaitForReadLock(request.Timeout, started, cancellationToken);
        }

        bool gaveUp = true;
        try
        {
            long searched = 0;
            PipeReader reader = Pipe.Reader;
            while (true)
            {
                if (reader.TryRead(out ReadResult result) && TryTakeFrame(result, request, ref searched, out object? value))
                {
                    gaveUp = false;
                    return value;
                }

                if (Volatile.Read(ref _parked) == 0 && Volatile.Read(ref _streamEnded) == 0)
                {
                    PauseStreamReceivingAsync().GetAwaiter().GetResult();
                    Volatile.Write(ref _parked, 1);
                    continue; // the loop may have read more before it stopped
                }

                WaitReadable(request.Timeout, started, cancellationToken);
                ReadSocketIntoPipe();
            }
        }
        finally
        {
            SetDemand(0);
            if (gaveUp)
            {
                // See ReleaseReader: the next receive must see what is buffered.
                _pipe!.Reader.CancelPendingRead();
            }

            if (Volatile.Read(ref _parked) != 0)
            {
                // Re-arming a timer on every call would cost more than the receive itself in a
                // tight loop: note the time, and let the timer (armed once) check it.
                Volatile.Write(ref _lastBlockingReceive, Environment.TickCount);
                if (Interlocked.Exchange(ref _unparkArmed, 1) == 0)
                {
                    (_unparkTimer ??= new Timer(_ => UnparkWhenIdle())).Change(ParkMilliseconds, Timeout.Infinite);
                }
            }

            _readLock.Release();
        }
    }

    /// <summary>The timer's check: unpark once no blocking receive has run for a while, else
    /// look again when that while would be over.</summary>
    private void UnparkWhenIdle()
    {
        int idle = unchecked(Environment.TickCount - Volatile.Read(ref _lastBlockingReceive));
        if (idle < ParkMilliseconds && Volatile.Read(ref _closing) == 0)
        {
            _unparkTimer?.Change(ParkMilliseconds - idle, Timeout.Infinite);
            return;
        }

        Volatile.Write(ref _unparkArmed, 0);
        Unpark(fromTimer: true);
    }

    /// <summary>Restarts a parked receive loop. The timer calls it when blocking receives have
    /// stopped; every other receive calls it (holding the read lock) before it waits on the loop.</summary>
    private void Unpark(bool fromTimer)
    {
        if (fromTimer && !_readLock.Wait(0))
        {
            return; // a receive is running; it schedules the timer again when it ends
        }

        try
        {
            if (Interlocked.Exchange(ref _parked, 0) != 0)
            {
                ResumeStreamReceiving();
            }
        }
        finally
        {
            if (fromTimer)
            {
                _readLock.Release();
            }
        }
    }

    private void WaitForReadLock(TimeSpan timeout, long started, CancellationToken cancellationToken)
    {
        while (!_readLock.Wait(TimeSpan.FromMilliseconds(PollSliceMicroseconds / 1000), cancellationToken))
        {
            if (timeout > TimeSpan.Zero && Elapsed(started) >= timeout)
            {
                throw ReceiveTimedOut(timeout);
            }
        }
    }

    /// <summary>Waits until the socket has data or has ended, in slices, so Ctrl+C and the
    /// timeout are noticed.</summary>
    private void WaitReadable(TimeSpan timeout, long started, CancellationToken cancellationToken)
    {
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            ThrowIfDisconnected();
            if (Volatile.Read(ref _streamEnded) != 0)
            {
                return;
            }

            int slice = PollSliceMicroseconds;
            if (timeout > TimeSpan.Zero)
            {
                TimeSpan left = timeout - Elapsed(started);
                if (left <= TimeSpan.Zero)
                {
                    throw ReceiveTimedOut(timeout);
                }

                slice = (int)Math.Min(slice, Math.Max(1, left.TotalMilliseconds * 1000));
            }

            try
            {
                if (_socket.Poll(slice, SelectMode.SelectRead))
                {
                    return;
                }
            }
            catch (ObjectDisposedException)
            {
                ThrowIfDisconnected();
                throw;
            }
        }
    }

    private static TimeSpan Elapsed(long started) =>
        TimeSpan.FromTicks((long)((Stopwatch.GetTimestamp() - started) * ((double)TimeSpan.TicksPerSecond / Stopwatch.Frequency)));

    /// <summary>Reads what the socket holds into the pipe, as the parked loop would have, and
    /// notices the end of the stream.</summary>
    private void ReadSocketIntoPipe()
    {
        if (Volatile.Read(ref _streamEnded) != 0)
        {
            return;
        }

        PipeWriter writer = _pipe!.Writer;
        Memory<byte> memory = writer.GetMemory(ReceiveBlockSize);
        MemoryMarshal.TryGetArray(memory, out ArraySegment<byte> segment);
        int read;
        try
        {
            read = _socket.Receive(segment.Array!, segment.Offset, segment.Count, SocketFlags.None);
        }
        catch (SocketException ex)
        {
            EndStream(ex);
            return;
        }
        catch (ObjectDisposedException)
        {
            ThrowIfDisconnected();
            throw;
        }

        if (read == 0)
        {
            EndStream(null);
            return;
        }

        Record(SocketTranscriptDirection.Received, segment.Array!, segment.Offset, read);
        Interlocked.Add(ref _bytesReceived, read);
        writer.Advance(read);
        _ = writer.FlushAsync();
        OnDataArrived(read);
    }
}
