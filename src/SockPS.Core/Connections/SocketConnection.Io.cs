using System;
using System.Buffers;
using System.IO;
using System.Net;
using System.Text;
using System.Text.RegularExpressions;
using System.Threading;
using System.Threading.Tasks;

namespace SockPS.Core;

// Sending and receiving: the public methods (Python's socket vocabulary) and the entry points
// the cmdlets use. Each checks the connection's state, then hands the work to the channel.
public sealed partial class SocketConnection
{
    // ------------------------------------------------------------------ sending

    /// <summary>Sends text encoded with <see cref="Encoding"/> (Python's socket <c>send</c>).</summary>
    public void Send(string text) => Complete(SendTextAsync(text, appendNewLine: false, CancellationToken.None));

    /// <summary>Sends bytes as they are.</summary>
    public void Send(byte[] data) => Complete(SendAsync(data ?? throw new ArgumentNullException(nameof(data)), 0, data.Length, CancellationToken.None));

    /// <summary>Sends text followed by <see cref="NewLine"/>.</summary>
    public void SendLine(string text) => Complete(SendTextAsync(text, appendNewLine: true, CancellationToken.None));

    internal ValueTask SendTextAsync(string text, bool appendNewLine, CancellationToken cancellationToken, Encoding? encoding = null, EndPoint? remote = null)
    {
        if (text is null)
        {
            throw new ArgumentNullException(nameof(text));
        }

        string newLine = appendNewLine ? _newLine : string.Empty;
        if (_websocket is not null && (remote is null || remote.Equals(RemoteEndPoint)))
        {
            // A WebSocket text message is UTF-8 by definition.
            ThrowIfSendClosed();
            byte[] utf8 = TextEncodings.Utf8NoBom.GetBytes(text + newLine);
            return new ValueTask(_websocket.SendAsync(utf8, 0, utf8.Length, text: true, cancellationToken));
        }

        encoding ??= Volatile.Read(ref _encoding);
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

            ValueTask send = SendAsync(buffer, 0, length, cancellationToken, remote);
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

    /// <summary>Writes bytes, followed by <see cref="NewLine"/> when asked, as one write (one
    /// datagram on a datagram socket).</summary>
    internal ValueTask SendAsync(byte[] buffer, int offset, int count, bool appendNewLine, CancellationToken cancellationToken, EndPoint? remote = null)
    {
        if (!appendNewLine)
        {
            return SendAsync(buffer, offset, count, cancellationToken, remote);
        }

        byte[] newLine = Encoding.GetBytes(_newLine);
        byte[] combined = new byte[count + newLine.Length];
        Buffer.BlockCopy(buffer, offset, combined, 0, count);
        Buffer.BlockCopy(newLine, 0, combined, count, newLine.Length);
        return SendAsync(combined, 0, combined.Length, cancellationToken, remote);
    }

    /// <summary>Writes bytes to the socket; with <paramref name="remote"/>, sends one datagram
    /// there (sendto). Completes synchronously when the socket buffer has room.</summary>
    internal ValueTask SendAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken, EndPoint? remote = null)
    {
        // A reply to a message that came from this connection's own peer (a WebSocket message
        // piped back) names that peer: that is no sendto.
        if (remote is not null && !(IsDatagram && RemoteEndPoint is null) && remote.Equals(RemoteEndPoint))
        {
            remote = null;
        }

        if (remote is not null)
        {
            SendDatagram(buffer, offset, count, remote);
            return default;
        }

        ThrowIfSendClosed();
        if (_websocket is not null)
        {
            return new ValueTask(_websocket.SendAsync(buffer, offset, count, text: false, cancellationToken));
        }

        if (_datagram is not null)
        {
            _datagram.Send(buffer, offset, count, remote: null);
            return default;
        }

        return _stream!.SendAsync(buffer, offset, count, cancellationToken);
    }

    private void ThrowIfSendClosed()
    {
        ThrowIfDisconnected();
        if (Volatile.Read(ref _state) == (int)SocketState.SendShutdown)
        {
            throw new SocketOperationException(SocketFailureKind.Closed,
                $"Sending on the connection to {PeerText} was shut down (a half-close); it can only receive now.", PeerText)
            {
                Setting = SocketSetting.Shutdown,
            };
        }
    }

    /// <summary>Sends one datagram: to <paramref name="remote"/> (sendto), or to the connected peer.</summary>
    internal void SendDatagram(byte[] buffer, int offset, int count, EndPoint? remote)
    {
        ThrowIfDisconnected();
        if (_datagram is null)
        {
            throw new SocketOperationException(SocketFailureKind.InvalidArgument,
                $"{Describe()} is a stream socket with one peer; a destination address (sendto) is for UDP and Unix datagram sockets.", PeerText)
            {
                Setting = SocketSetting.RemoteEndPointNotApplicable,
            };
        }

        _datagram.Send(buffer, offset, count, remote);
    }

    /// <summary>Sends a file's bytes in large blocks. On a datagram socket the whole file is one datagram.</summary>
    internal async Task SendFileAsync(string path, TransferProgress progress, CancellationToken cancellationToken)
    {
        using FileStream file = OpenForReading(path);
        progress.Total = file.Length;
        if (_websocket is not null)
        {
            // One binary message, sent in fragments as the file is read.
            ThrowIfSendClosed();
            byte[] block = ArrayPool<byte>.Shared.Rent(StreamChannel.BulkBlockSize);
            try
            {
                await _websocket.SendPiecesAsync(async send =>
                {
                    long left = file.Length;
                    do
                    {
                        int n = await file.ReadAsync(block, 0, (int)Math.Min(StreamChannel.BulkBlockSize, Math.Max(left, 0)), cancellationToken).ConfigureAwait(false);
                        left -= n;
                        await send(new ArraySegment<byte>(block, 0, n), n == 0 || left <= 0).ConfigureAwait(false);
                        progress.Add(n);
                        if (n == 0)
                        {
                            break;
                        }
                    }
                    while (left > 0);
                }, text: false, cancellationToken).ConfigureAwait(false);
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(block);
            }

            return;
        }

        if (_datagram is not null)
        {
            byte[] whole = new byte[file.Length];
            int read = await StreamReads.ReadFullAsync(file, whole, cancellationToken).ConfigureAwait(false);

            SendDatagram(whole, 0, read, remote: null);
            progress.Add(read);
            return;
        }

        byte[] buffer = ArrayPool<byte>.Shared.Rent(StreamChannel.BulkBlockSize);
        try
        {
            int n;
            while ((n = await file.ReadAsync(buffer, 0, StreamChannel.BulkBlockSize, cancellationToken).ConfigureAwait(false)) > 0)
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

    // ------------------------------------------------------------------ receiving: methods

    /// <summary>Receives exactly <paramref name="count"/> bytes, waiting up to
    /// <see cref="ReceiveTimeoutSeconds"/>. Returns null when the peer closed and nothing is left.</summary>
    public byte[]? Receive(int count) =>
        (byte[]?)ReceiveBlocking(new ReceiveRequest(ReceiveMode.Count, asText: false, ReceiveTimeout, count: count), CancellationToken.None);

    /// <summary>Receives one line without its terminator; null when the peer closed and nothing is left.</summary>
    public string? ReceiveLine() =>
        (string?)ReceiveBlocking(new ReceiveRequest(ReceiveMode.Line, asText: true, ReceiveTimeout), CancellationToken.None);

    /// <summary>Receives whatever text is buffered, waiting for the first character (on a
    /// datagram socket: the next datagram's text); null when the peer closed and nothing is left.</summary>
    public string? ReceiveAvailable() =>
        ReceiveBlocking(new ReceiveRequest(ReceiveMode.Available, asText: true, ReceiveTimeout), CancellationToken.None) switch
        {
            SocketDatagram datagram => datagram.Text,
            object text => (string)text,
            null => null,
        };

    /// <summary>Receives whatever bytes are buffered, waiting for the first one (on a datagram
    /// socket: the next datagram); null when the peer closed and nothing is left.</summary>
    public byte[]? ReceiveAvailableBytes() =>
        ReceiveBlocking(new ReceiveRequest(ReceiveMode.Available, asText: false, ReceiveTimeout), CancellationToken.None) switch
        {
            SocketDatagram datagram => datagram.Data,
            object bytes => (byte[])bytes,
            null => null,
        };

    /// <summary>Receives the next datagram with its sender (Python's socket <c>recvfrom</c>), waiting up
    /// to <see cref="ReceiveTimeoutSeconds"/>; null when the socket can receive no more.</summary>
    public SocketDatagram? ReceiveFrom()
    {
        if (_datagram is null)
        {
            throw new SocketOperationException(SocketFailureKind.InvalidArgument,
                $"{Describe()} is a stream socket; ReceiveFrom is for datagram sockets. Use ReceiveAvailable or Receive.", PeerText);
        }

        return Complete(ReceiveDatagramAsync(ReceiveTimeout, CancellationToken.None));
    }

    /// <summary>Sends text as one datagram to <paramref name="endPoint"/> ("host:port", "[::1]:53",
    /// or a Unix socket path) (Python's socket <c>sendto</c>).</summary>
    public void SendTo(string text, string endPoint)
    {
        byte[] data = Encoding.GetBytes(text ?? throw new ArgumentNullException(nameof(text)));
        SendTo(data, endPoint);
    }

    /// <summary>Sends bytes as one datagram to <paramref name="endPoint"/>.</summary>
    public void SendTo(byte[] data, string endPoint) =>
        SendDatagram(data ?? throw new ArgumentNullException(nameof(data)), 0, data.Length, EndPoints.Parse(endPoint, AddressFamily));

    /// <summary>Sends bytes as one datagram to <paramref name="endPoint"/>.</summary>
    public void SendTo(byte[] data, EndPoint endPoint) =>
        SendDatagram(data ?? throw new ArgumentNullException(nameof(data)), 0, data.Length, endPoint ?? throw new ArgumentNullException(nameof(endPoint)));

    private static T Complete<T>(ValueTask<T> task) => task.IsCompletedSuccessfully ? task.Result : task.AsTask().GetAwaiter().GetResult();

    private static void Complete(ValueTask task)
    {
        if (!task.IsCompletedSuccessfully)
        {
            task.AsTask().GetAwaiter().GetResult();
        }
    }

    // ------------------------------------------------------------------ receiving: the cmdlets' entry points

    /// <summary>Receives one frame on the calling thread: a string, a byte array, a
    /// SocketDatagram, or null at the end of the stream. A timeout throws ReceiveTimeout and
    /// consumes nothing; a cancelled token throws OperationCanceledException and consumes nothing.</summary>
    internal object? ReceiveBlocking(ReceiveRequest request, CancellationToken cancellationToken)
    {
        ThrowIfDisconnected();
        if (_datagram is not null || _websocket is not null)
        {
            return Complete(ReceiveDatagramObjectAsync(request, cancellationToken));
        }

        ValidateRequest(request);
        return Delivered(_stream!.Receive(request, Codec, cancellationToken));
    }

    /// <summary>Receives one frame asynchronously; the same results and errors as <see cref="ReceiveBlocking"/>.</summary>
    internal async ValueTask<object?> ReceiveAsync(ReceiveRequest request, CancellationToken cancellationToken)
    {
        ThrowIfDisconnected();
        if (_datagram is not null || _websocket is not null)
        {
            return await ReceiveDatagramObjectAsync(request, cancellationToken).ConfigureAwait(false);
        }

        ValidateRequest(request);
        return Delivered(await _stream!.ReceiveAsync(request, Codec, cancellationToken).ConfigureAwait(false));
    }

    private object? Delivered(object? value)
    {
        if (value is not null)
        {
            NoteActivity();
        }

        return value;
    }

    /// <summary>The next datagram, or null when the socket can receive no more. An error the
    /// socket reported in between (ICMP port unreachable) is thrown once, in its place in the order.</summary>
    internal ValueTask<SocketDatagram?> ReceiveDatagramAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        ThrowIfDisconnected();
        return _websocket?.ReceiveAsync(timeout, cancellationToken) ?? _datagram!.ReceiveAsync(timeout, cancellationToken);
    }

    private async ValueTask<object?> ReceiveDatagramObjectAsync(ReceiveRequest request, CancellationToken cancellationToken)
    {
        if (request.Mode != ReceiveMode.Available)
        {
            throw StreamOnly();
        }

        return _websocket is not null
            ? Delivered(await _websocket.ReceiveAsync(request.Timeout, cancellationToken).ConfigureAwait(false))
            : await _datagram!.ReceiveAsync(request.Timeout, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Waits until the buffered text matches <paramref name="pattern"/> and consumes
    /// through the end of the match, leaving the rest buffered; null when the peer closed first.</summary>
    internal async Task<SocketPatternMatch?> WaitForPatternAsync(Regex pattern, TimeSpan timeout, CancellationToken cancellationToken, bool keepBytes = false)
    {
        ThrowIfDisconnected();
        if (_stream is null)
        {
            throw StreamOnly();
        }

        ReceiveRequest request = new(ReceiveMode.Pattern, asText: true, timeout, pattern: pattern, keepBytes: keepBytes);
        object? found;
        try
        {
            found = await _stream.ReceiveAsync(request, Codec, cancellationToken).ConfigureAwait(false);
        }
        catch (SocketOperationException ex) when (ex.Kind == SocketFailureKind.ReceiveTimeout)
        {
            // Show what did arrive, as pexpect's "before": a case or encoding mismatch is then
            // plain to see. The tail is decoded from a character boundary on where it can be.
            byte[] tail = _stream.PeekTail(4096, out int buffered);
            string text = new TextCodec(Encoding).Decode(tail, 0, tail.Length, flush: true);
            if (text.Length > 300)
            {
                text = "..." + text.Substring(text.Length - 300);
            }
            else if (tail.Length < buffered)
            {
                text = "..." + text;
            }

            string seen = buffered == 0
                ? "Nothing arrived."
                : $"{buffered} bytes arrived, ending with \"{EndPointText.Escape(text)}\".";
            string caseHint = (pattern.Options & RegexOptions.IgnoreCase) == 0 ? " The match was case-sensitive." : string.Empty;
            throw new SocketOperationException(SocketFailureKind.ReceiveTimeout,
                $"The text from {PeerText} did not match /{pattern}/ within {EndPointText.Seconds(timeout)}. {seen}{caseHint} Nothing was consumed; " +
                "the connection is still open.", PeerText, ex)
            {
                PartialResult = null,
                BufferedText = text,
            };
        }

        return found is PatternFrame frame ? new SocketPatternMatch(this, frame.Match, frame.Text, frame.Bytes) : null;
    }

    /// <summary>Reads until the peer closes, handing every chunk to <paramref name="sink"/> as it
    /// arrives so the bounded buffer never fills. The timeout is an idle timeout.</summary>
    internal Task ReceiveToEndAsync(Action<byte[], int, int> sink, TimeSpan idleTimeout, CancellationToken cancellationToken)
    {
        ThrowIfDisconnected();
        if (_stream is null)
        {
            throw StreamOnly();
        }

        return _stream.ReceiveToSinkAsync((buffer, offset, count) =>
        {
            sink(buffer, offset, count);
            return Task.CompletedTask;
        }, count: null, idleTimeout, cancellationToken);
    }

    /// <summary>Reads until the peer closes, awaiting <paramref name="sink"/> with every chunk
    /// before reading on, so a slow sink slows the peer down (TCP flow control) instead of filling
    /// memory. The chunk's buffer is reused once the sink's task completes.</summary>
    internal Task ReceiveToEndAsync(Func<byte[], int, int, Task> sink, TimeSpan idleTimeout, CancellationToken cancellationToken)
    {
        ThrowIfDisconnected();
        if (_stream is null)
        {
            throw StreamOnly();
        }

        return _stream.ReceiveToSinkAsync(sink, count: null, idleTimeout, cancellationToken);
    }

    /// <summary>Receives until the peer closes, appending to <paramref name="destination"/> as
    /// data arrives; what arrived stays there when the receive fails or is cancelled.</summary>
    internal Task ReceiveToEndAsync(Stream destination, TimeSpan idleTimeout, CancellationToken cancellationToken) =>
        ReceiveToEndAsync((buffer, offset, count) => destination.Write(buffer, offset, count), idleTimeout, cancellationToken);

    /// <summary>Receives until the peer closes and returns everything as one array. Whatever ends
    /// the receive early (a timeout, a reset), what arrived before it comes with the error.</summary>
    internal async Task<byte[]> ReceiveToEndBytesAsync(TimeSpan idleTimeout, CancellationToken cancellationToken)
    {
        MemoryStream collected = new();
        try
        {
            await ReceiveToEndAsync(collected, idleTimeout, cancellationToken).ConfigureAwait(false);
        }
        catch (SocketOperationException ex) when (collected.Length > 0)
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
            await ReceiveToEndAsync((buffer, offset, count) => text.Append(codec.Decode(buffer, offset, count, flush: false)), idleTimeout, cancellationToken).ConfigureAwait(false);
        }
        catch (SocketOperationException ex)
        {
            text.Append(codec.Decode(new byte[0], 0, 0, flush: true));
            if (text.Length == 0)
            {
                throw;
            }

            throw WithPartial(ex, text.ToString());
        }

        text.Append(codec.Decode(new byte[0], 0, 0, flush: true));
        return text.ToString();
    }

    private static SocketOperationException WithPartial(SocketOperationException ex, object partial)
    {
        string before = ex.Kind == SocketFailureKind.ReceiveTimeout ? "the timeout" : "that";
        SocketOperationException withData = new(ex.Kind,
            ex.Message.TrimEnd() + $" What arrived before {before} is returned first.", ex.EndPoint, ex.InnerException);
        withData.PartialResult = partial;
        return withData;
    }

    /// <summary>
    /// Writes received bytes to a file: exactly <paramref name="count"/> bytes, or (null) until the
    /// peer closes. The timeout is an idle timeout. The channel reads a plain stream straight into
    /// the file's blocks; what was buffered goes first.
    /// </summary>
    internal async Task ReceiveToFileAsync(string path, long? count, TimeSpan idleTimeout, TransferProgress progress, CancellationToken cancellationToken)
    {
        ThrowIfDisconnected();
        if (_stream is null)
        {
            throw StreamOnly();
        }

        progress.Total = count;
        using FileStream file = OpenForWriting(path);
        try
        {
            long moved = await _stream.ReceiveToSinkAsync(async (buffer, offset, length) =>
            {
                await file.WriteAsync(buffer, offset, length, cancellationToken).ConfigureAwait(false);
                progress.Add(length);
            }, count, idleTimeout, cancellationToken).ConfigureAwait(false);

            if (count is not null && moved < count)
            {
                ThrowIfDisconnected();
                throw new SocketOperationException(SocketFailureKind.EndOfStream,
                    $"The remote host {PeerText} closed the connection after {moved} of the {count} bytes asked for; {path} holds what arrived.", PeerText);
            }
        }
        catch (SocketOperationException ex) when (ex.Kind == SocketFailureKind.ReceiveTimeout)
        {
            throw new SocketOperationException(SocketFailureKind.ReceiveTimeout,
                $"No data arrived from {PeerText} for {EndPointText.Seconds(idleTimeout)}; {path} holds the {progress.Bytes} bytes that did. " +
                "The connection is still open.", PeerText, ex)
            {
                Setting = SocketSetting.Timeout,
                Timeout = idleTimeout,
            };
        }
        catch (SocketOperationException ex) when (ex.Kind is not SocketFailureKind.EndOfStream and not SocketFailureKind.Closed)
        {
            // Say where the bytes that did arrive are: the file is the partial result.
            throw new SocketOperationException(ex.Kind,
                $"{ex.Message.TrimEnd()} {path} holds the {progress.Bytes} bytes that arrived before that.", ex.EndPoint, ex.InnerException ?? ex);
        }
        finally
        {
            await file.FlushAsync(CancellationToken.None).ConfigureAwait(false);
        }
    }

    private static FileStream OpenForWriting(string path)
    {
        try
        {
            return new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.Read, 1, FileOptions.Asynchronous | FileOptions.SequentialScan);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            throw new SocketOperationException(SocketFailureKind.InvalidArgument, $"Cannot write '{path}': {ex.Message} Nothing was received; the data stays buffered.", path, ex);
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

    private void ValidateRequest(in ReceiveRequest request)
    {
        switch (request.Mode)
        {
            case ReceiveMode.Count when request.Count <= 0:
                throw new SocketOperationException(SocketFailureKind.InvalidArgument,
                    $"The byte count must be 1 or more; {request.Count} was given.", PeerText);
            case ReceiveMode.Delimiter when string.IsNullOrEmpty(request.Delimiter):
                throw new SocketOperationException(SocketFailureKind.InvalidArgument,
                    "The delimiter is empty. Give at least one character, or receive lines.", PeerText)
                {
                    Setting = SocketSetting.Delimiter,
                };
        }
    }

    private SocketOperationException StreamOnly() =>
        _websocket is not null
            ? new(SocketFailureKind.InvalidArgument,
                $"{Describe()} is a WebSocket: every receive returns one whole message, so lines, delimiters, byte counts, reading to the end, to a file, and patterns do not apply.", PeerText)
            {
                Setting = SocketSetting.Framing,
            }
            : new(SocketFailureKind.InvalidArgument,
            $"{Describe()} is a datagram socket: every receive returns one whole datagram, so lines, delimiters, byte counts and reading to the end do not apply.",
            PeerText)
            {
                Setting = SocketSetting.Framing,
            };
}
