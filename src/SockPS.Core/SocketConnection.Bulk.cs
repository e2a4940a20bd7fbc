using System;
using System.Buffers;
using System.IO;
using System.IO.Pipelines;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Threading;
using System.Threading.Tasks;

namespace SockPS.Core;

// Bulk transfers between files and the socket (Send-SocketData -Path, Receive-SocketData -OutFile):
// large blocks, no pipeline object per block, and for receiving over plain TCP no detour through
// the pipe: the receive loop pauses and the socket is read straight into the file's buffer.
public sealed partial class SocketConnection
{
    /// <summary>Bytes per read and write in bulk transfers. On loopback, 1 MiB blocks nearly
    /// double throughput over 64 KiB ones.</summary>
    internal const int BulkBlockSize = 1024 * 1024;

    /// <summary>Sends a file's bytes. On a datagram socket the whole file is one datagram.</summary>
    internal async Task SendFileAsync(string path, TransferProgress progress, CancellationToken cancellationToken)
    {
        using FileStream file = OpenForReading(path);
        progress.Total = file.Length;
        if (IsDatagram)
        {
            byte[] whole = new byte[file.Length];
            int read = 0;
            while (read < whole.Length)
            {
                int n = await file.ReadAsync(whole, read, whole.Length - read, cancellationToken).ConfigureAwait(false);
                if (n == 0)
                {
                    break;
                }

                read += n;
            }

            SendDatagram(whole, 0, read, remote: null);
            progress.Add(read);
            return;
        }

        byte[] buffer = ArrayPool<byte>.Shared.Rent(BulkBlockSize);
        try
        {
            int n;
            while ((n = await file.ReadAsync(buffer, 0, BulkBlockSize, cancellationToken).ConfigureAwait(false)) > 0)
            {
                await SendAsync(buffer, 0, n, cancellationToken).ConfigureAwait(false);
                progress.Add(n);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>
    /// Writes received bytes to a file: exactly <paramref name="count"/> bytes, or (null) until
    /// the peer closes. The timeout is an idle timeout. What was buffered goes first; then, on a
    /// plain TCP stream, the receive loop pauses and the socket is read straight into the file's
    /// buffer, which saves a copy per byte. TLS streams keep using the pipe, because cancelling
    /// an SslStream read can leave it unusable.
    /// </summary>
    internal async Task ReceiveToFileAsync(string path, long? count, TimeSpan idleTimeout, TransferProgress progress, CancellationToken cancellationToken)
    {
        ThrowIfDisconnected();
        if (IsDatagram)
        {
            throw StreamOnly();
        }

        progress.Total = count;
        using FileStream file = new(path, FileMode.Create, FileAccess.Write, FileShare.Read, 1, FileOptions.Asynchronous | FileOptions.SequentialScan);
        using TimeoutScope timeout = new(idleTimeout, cancellationToken);
        bool lockHeld = false;
        try
        {
            await _readLock.WaitAsync(timeout.Token).ConfigureAwait(false);
            lockHeld = true;
            Unpark(fromTimer: false);
            long limit = count ?? long.MaxValue;
            if (_stream is NetworkStream network)
            {
                // Pause first, then drain: bytes the loop adds meanwhile would otherwise be
                // skipped by the direct reads that follow.
                await PauseStreamReceivingAsync().ConfigureAwait(false);
                try
                {
                    if (!await DrainPipeToAsync(file, limit, progress, timeout, direct: true).ConfigureAwait(false) && progress.Bytes < limit)
                    {
                        await ReadSocketToAsync(network, file, limit - progress.Bytes, progress, timeout).ConfigureAwait(false);
                    }
                }
                finally
                {
                    ResumeStreamReceiving();
                }
            }
            else
            {
                await DrainPipeToAsync(file, limit, progress, timeout, direct: false).ConfigureAwait(false);
            }

            if (count is not null && progress.Bytes < count)
            {
                ThrowIfDisconnected();
                throw new SocketOperationException(SocketFailureKind.EndOfStream,
                    $"The remote host {PeerText} closed the connection after {progress.Bytes} of the {count} bytes asked for; {path} holds what arrived.", PeerText);
            }

            ThrowIfEndedByFailure(bufferWasEmpty: true);
        }
        catch (OperationCanceledException) when (timeout.TimedOut)
        {
            throw new SocketOperationException(SocketFailureKind.ReceiveTimeout,
                $"No data arrived from {PeerText} for {EndPointText.Seconds(idleTimeout)}; {path} holds the {progress.Bytes} bytes that did. " +
                "The connection is still open; raise -TimeoutSeconds (0 waits forever) for slow senders.", PeerText);
        }
        finally
        {
            await file.FlushAsync(CancellationToken.None).ConfigureAwait(false);
            if (lockHeld)
            {
                _readLock.Release();
            }
        }
    }

    /// <summary>Moves what the pipe holds (and, unless <paramref name="direct"/>, whatever
    /// arrives through it) into the file. True when the stream ended.</summary>
    private async Task<bool> DrainPipeToAsync(Stream file, long limit, TransferProgress progress, TimeoutScope timeout, bool direct)
    {
        PipeReader reader = Pipe.Reader;
        while (limit > 0)
        {
            ReadResult result;
            if (direct)
            {
                // Only what is already here; the socket is read directly afterwards.
                if (!reader.TryRead(out result))
                {
                    return false;
                }
            }
            else
            {
                result = await reader.ReadAsync(timeout.Token).ConfigureAwait(false);
            }

            ReadOnlySequence<byte> buffer = result.Buffer;
            ReadOnlySequence<byte> take = buffer.Length > limit ? buffer.Slice(0, limit) : buffer;
            foreach (ReadOnlyMemory<byte> memory in take)
            {
                if (MemoryMarshal.TryGetArray(memory, out ArraySegment<byte> segment))
                {
                    await file.WriteAsync(segment.Array!, segment.Offset, segment.Count, timeout.Token).ConfigureAwait(false);
                }
            }

            // Lengths first: once consumed, the sequence's segments go back to the pool.
            long taken = take.Length;
            bool tookAll = taken == buffer.Length;
            Consume(buffer, take.End, take.End);
            limit -= taken;
            progress.Add(taken);
            if (taken > 0)
            {
                timeout.Restart();
            }

            if (result.IsCompleted && tookAll)
            {
                return true;
            }

            if (direct && tookAll)
            {
                return false;
            }
        }

        return false;
    }

    /// <summary>Reads the socket straight into the file until <paramref name="remaining"/>
    /// bytes or the end of the stream. The receive loop must be paused.</summary>
    private async Task ReadSocketToAsync(NetworkStream network, Stream file, long remaining, TransferProgress progress, TimeoutScope timeout)
    {
        byte[] buffer = ArrayPool<byte>.Shared.Rent(BulkBlockSize);
        try
        {
            while (remaining > 0)
            {
                int want = (int)Math.Min(BulkBlockSize, remaining);
                int read;
                try
                {
                    read = await network.ReadAsync(buffer, 0, want, timeout.Token).ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is IOException or SocketException)
                {
                    EndStream(ex);
                    throw SocketErrors.TransferFailed(ex, PeerText, "receive");
                }

                if (read == 0)
                {
                    EndStream(null);
                    return;
                }

                Record(SocketTranscriptDirection.Received, buffer, 0, read);
                Interlocked.Add(ref _bytesReceived, read);
                Interlocked.Add(ref _bytesConsumed, read);
                NoteActivity();
                await file.WriteAsync(buffer, 0, read, timeout.Token).ConfigureAwait(false);
                remaining -= read;
                progress.Add(read);
                timeout.Restart();
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private static FileStream OpenForReading(string path)
    {
        try
        {
            return new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.Asynchronous | FileOptions.SequentialScan);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            throw new SocketOperationException(SocketFailureKind.InvalidArgument, $"Cannot read '{path}': {ex.Message}", path, ex);
        }
    }
}
