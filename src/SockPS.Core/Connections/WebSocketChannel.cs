using System;
using System.IO;
using System.Net;
using System.Net.WebSockets;
using System.Threading;
using System.Threading.Tasks;

namespace SockPS.Core;

/// <summary>
/// The only reader of a WebSocket connection, and its send path, over .NET's WebSocket (framing,
/// masking, fragments, ping answers and the close handshake are .NET's). A background loop
/// reassembles each message and queues it whole as a <see cref="SocketDatagram"/> whose
/// <see cref="SocketDatagram.MessageType"/> says Text or Binary. Unlike datagrams, messages are
/// never dropped: when unread ones pass <see cref="BufferLimit"/> the loop stops reading, and TCP
/// holds the sender back. The peer's close frame (code and reason) ends the loop through one path.
/// </summary>
internal sealed class WebSocketChannel
{
    /// <summary>Messages that may wait unread before the loop stops reading.</summary>
    internal const int QueueLimit = 4096;

    /// <summary>Bytes of unread messages past which the loop stops reading (one message of any
    /// size up to the message limit is always taken).</summary>
    internal const long BufferLimit = 16L * 1024 * 1024;

    /// <summary>The largest message taken; a bigger one closes the connection with 1009 (MessageTooBig).</summary>
    internal const int DefaultMaxMessageSize = 64 * 1024 * 1024;

    private static readonly TimeSpan CloseWait = TimeSpan.FromSeconds(2);

    private readonly WebSocket _socket;
    private readonly Stream _transport;
    private readonly System.Net.Sockets.Socket _tcp;
    private readonly SocketConnection _connection;
    private readonly IChannelOwner _owner;
    private readonly MessageQueue _queue;
    private readonly SemaphoreSlim _sendLock = new(1, 1);
    private readonly SemaphoreSlim _space = new(0);
    private readonly CancellationTokenSource _closing = new();
    private readonly TaskCompletionSource<bool> _ended = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private long _received;
    private long _sent;
    private int _closed;
    private int _waitingForSpace;
    private int _closeSentHere;

    public WebSocketChannel(WebSocket socket, Stream transport, System.Net.Sockets.Socket tcp, SocketConnection connection, IChannelOwner owner, string? subProtocol, string resource)
    {
        _socket = socket;
        _transport = transport;
        _tcp = tcp;
        _connection = connection;
        _owner = owner;
        SubProtocol = subProtocol;
        Resource = resource;
        _queue = new MessageQueue(limit: null, TimedOut, ThrowIfClosed, taken: MadeSpace);
    }

    public string? SubProtocol { get; }

    public string Resource { get; }

    public int MaxMessageSize { get; set; } = DefaultMaxMessageSize;

    /// <summary>The close code the peer sent (or 1006 when it went without one); null while open.</summary>
    public int? CloseStatus { get; private set; }

    public string? CloseDescription { get; private set; }

    public long Available => _queue.Bytes;

    public long MessagesReceived => Interlocked.Read(ref _received);

    public long MessagesSent => Interlocked.Read(ref _sent);

    public bool ReceiveInProgress => _queue.ReceiveInProgress;

    public bool IsReadable => _queue.IsReadable || Volatile.Read(ref _closed) != 0;

    public void Start() => _ = LoopAsync();

    private async Task LoopAsync()
    {
        byte[] buffer = new byte[64 * 1024];
        SocketOperationException? failure = null;
        bool peerClosed = false;
        CancellationToken token = _closing.Token;
        try
        {
            while (true)
            {
                await WaitForSpaceAsync(token).ConfigureAwait(false);
                MemoryStream? message = null;
                WebSocketReceiveResult result;
                int first;
                while (true)
                {
                    result = await _socket.ReceiveAsync(new ArraySegment<byte>(buffer), token).ConfigureAwait(false);
                    if (result.MessageType == WebSocketMessageType.Close)
                    {
                        break;
                    }

                    first = result.Count;
                    if (result.EndOfMessage && message is null)
                    {
                        byte[] whole = new byte[first];
                        Buffer.BlockCopy(buffer, 0, whole, 0, first);
                        Deliver(whole, result.MessageType);
                        break;
                    }

                    message ??= new MemoryStream();
                    if (message.Length + result.Count > MaxMessageSize)
                    {
                        await CloseOutputQuietlyAsync(WebSocketCloseStatus.MessageTooBig, "message too big").ConfigureAwait(false);
                        throw new SocketOperationException(SocketFailureKind.FrameTooLong,
                            $"{_owner.PeerText} sent a WebSocket message larger than {MaxMessageSize} bytes; the connection was closed with 1009 (MessageTooBig).", _owner.PeerText);
                    }

                    message.Write(buffer, 0, result.Count);
                    if (result.EndOfMessage)
                    {
                        Deliver(message.ToArray(), result.MessageType);
                        break;
                    }
                }

                if (result.MessageType == WebSocketMessageType.Close)
                {
                    peerClosed = true;
                    if (Volatile.Read(ref _closeSentHere) == 0)
                    {
                        // The peer started the close: its code is the one to show. (When this
                        // side started it, the peer's answer only echoes ours.)
                        CloseStatus = (int?)result.CloseStatus ?? 1005;
                        CloseDescription = result.CloseStatusDescription;
                    }

                    // Answer the close (unless this side started it); .NET's CloseOutputAsync
                    // after a received close completes the handshake.
                    if (_socket.State == WebSocketState.CloseReceived)
                    {
                        await CloseOutputQuietlyAsync(result.CloseStatus ?? WebSocketCloseStatus.NormalClosure, null).ConfigureAwait(false);
                    }

                    break;
                }
            }
        }
        catch (Exception) when (Volatile.Read(ref _closed) != 0)
        {
        }
        catch (SocketOperationException ex)
        {
            failure = ex;
        }
        catch (Exception ex)
        {
            CloseStatus = 1006;
            failure = ex is WebSocketException { WebSocketErrorCode: WebSocketError.ConnectionClosedPrematurely }
                ? null
                : SocketErrors.TransferFailed(ex is WebSocketException && ex.InnerException is not null ? ex.InnerException : ex, _owner.PeerText, "receive");
            if (failure is null)
            {
                CloseDescription = "the connection ended without a close frame";
            }
        }

        End(failure, peerClosed);
    }

    /// <summary>Waits while unread messages hold more than the limit (TCP then holds the sender back).</summary>
    private async Task WaitForSpaceAsync(CancellationToken token)
    {
        while (true)
        {
            Volatile.Write(ref _waitingForSpace, 1);
            if (_queue.Bytes < BufferLimit && _queue.Count < QueueLimit)
            {
                Volatile.Write(ref _waitingForSpace, 0);
                return;
            }

            await _space.WaitAsync(token).ConfigureAwait(false);
        }
    }

    private void Deliver(byte[] data, WebSocketMessageType type)
    {
        SocketDatagram message = new(data, _connection.RemoteEndPoint, _connection.LocalEndPoint, _connection, _connection.Encoding,
            type == WebSocketMessageType.Text ? "Text" : "Binary");
        _owner.OnReceiving(data, 0, data.Length, null);
        _queue.TryAdd(message);
        Interlocked.Increment(ref _received);
        _owner.OnReceived(data.Length);
    }

    private void End(SocketOperationException? failure, bool peerClosed)
    {
        if (failure is not null && Volatile.Read(ref _closed) == 0)
        {
            _queue.AddFinalFailure(failure);
        }

        // State and close reason first, so a script that sees the end of the messages and then
        // looks at CloseReason finds the close code there.
        string? closeText = peerClosed || failure is null ? CloseText() : null;
        if (Volatile.Read(ref _closed) == 0)
        {
            _connection.OnWebSocketEnding(failure, closeText);
        }

        _queue.Complete();
        _ended.TrySetResult(true);
        if (Volatile.Read(ref _closed) == 0)
        {
            _connection.OnWebSocketEnded(failure, closeText);
        }
    }

    /// <summary>"1000 (NormalClosure) 'bye'", for CloseReason.</summary>
    internal string CloseText()
    {
        int code = CloseStatus ?? 1006;
        string name = Enum.IsDefined(typeof(WebSocketCloseStatus), code) ? ((WebSocketCloseStatus)code).ToString() : code switch
        {
            1005 => "NoStatusReceived",
            1006 => "AbnormalClosure",
            _ => "application-defined",
        };
        return string.IsNullOrEmpty(CloseDescription) ? $"{code} ({name})" : $"{code} ({name}) '{CloseDescription}'";
    }

    /// <summary>The next message, or null when the connection can receive no more.</summary>
    public ValueTask<SocketDatagram?> ReceiveAsync(TimeSpan timeout, CancellationToken token) => _queue.ReceiveAsync(timeout, token);

    private SocketOperationException TimedOut(TimeSpan timeout) =>
        new(SocketFailureKind.ReceiveTimeout,
            $"No WebSocket message arrived from {_owner.PeerText} within {EndPointText.Seconds(timeout)}. The connection is still open.",
            _owner.PeerText)
        {
            Setting = SocketSetting.Timeout,
            Timeout = timeout,
        };

    /// <summary>A message was taken: a loop waiting for room may read again.</summary>
    private void MadeSpace()
    {
        if (Interlocked.Exchange(ref _waitingForSpace, 0) == 1)
        {
            _space.Release();
        }
    }

    public Task WhenReadableAsync(CancellationToken token) => IsReadable ? Task.CompletedTask : _queue.WhenReadableAsync(token);

    /// <summary>Sends one message (text or binary), whole.</summary>
    public Task SendAsync(byte[] buffer, int offset, int count, bool text, CancellationToken token) =>
        SendPiecesAsync(async send => await send(new ArraySegment<byte>(buffer, offset, count), true).ConfigureAwait(false), text, token);

    /// <summary>Sends one message in pieces (a file, read block by block): each piece is a
    /// fragment, the last ends the message.</summary>
    public async Task SendPiecesAsync(Func<Func<ArraySegment<byte>, bool, Task>, Task> pieces, bool text, CancellationToken token)
    {
        ThrowIfClosed();
        await _sendLock.WaitAsync(token).ConfigureAwait(false);
        try
        {
            ThrowIfClosed();
            if (_socket.State is not (WebSocketState.Open or WebSocketState.CloseReceived))
            {
                throw new SocketOperationException(SocketFailureKind.Closed, CloseStatus is not null && _ended.Task.IsCompleted
                    ? $"The WebSocket to {_owner.PeerText} is closed ({CloseText()}): nothing more can be sent."
                    : $"The WebSocket to {_owner.PeerText} sent its close frame (a half-close), so it can only receive now.", _owner.PeerText)
                {
                    Setting = CloseStatus is not null && _ended.Task.IsCompleted ? SocketSetting.NewConnection : SocketSetting.Shutdown,
                };
            }

            WebSocketMessageType type = text ? WebSocketMessageType.Text : WebSocketMessageType.Binary;
            await pieces(async (segment, last) =>
            {
                _owner.OnSending(segment.Array!, segment.Offset, segment.Count, null);
                await _socket.SendAsync(segment, type, last, token).ConfigureAwait(false);
                _owner.OnSent(segment.Count);
            }).ConfigureAwait(false);
            Interlocked.Increment(ref _sent);
        }
        catch (Exception ex) when (ex is WebSocketException or IOException or ObjectDisposedException or System.Net.Sockets.SocketException)
        {
            throw SocketErrors.TransferFailed(ex is WebSocketException && ex.InnerException is not null ? ex.InnerException : ex, _owner.PeerText, "send");
        }
        finally
        {
            _sendLock.Release();
        }
    }

    /// <summary>Sends a close frame (Disconnect-Socket -Shutdown Send): nothing more goes out,
    /// receiving goes on until the peer answers with its own.</summary>
    public async Task CloseOutputAsync(WebSocketCloseStatus status, string? description, CancellationToken token)
    {
        ThrowIfClosed();
        await _sendLock.WaitAsync(token).ConfigureAwait(false);
        try
        {
            MarkClosedHere(status, description);
            await _socket.CloseOutputAsync(status, description, token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is WebSocketException or IOException or ObjectDisposedException or System.Net.Sockets.SocketException)
        {
            throw SocketErrors.TransferFailed(ex, _owner.PeerText, "close");
        }
        finally
        {
            _sendLock.Release();
        }
    }

    private async Task CloseOutputQuietlyAsync(WebSocketCloseStatus status, string? description)
    {
        try
        {
            using CancellationTokenSource timer = new(CloseWait);
            await _sendLock.WaitAsync(timer.Token).ConfigureAwait(false);
            try
            {
                if (_socket.State is WebSocketState.Open or WebSocketState.CloseReceived)
                {
                    await _socket.CloseOutputAsync(status, description, timer.Token).ConfigureAwait(false);
                }
            }
            finally
            {
                _sendLock.Release();
            }
        }
        catch (Exception)
        {
            // The peer is gone or slow: the TCP close says the rest.
        }
    }

    /// <summary>This side starts the close: its code is the one shown, unless the peer's came first.</summary>
    private void MarkClosedHere(WebSocketCloseStatus status, string? description)
    {
        if (_socket.State == WebSocketState.Open && Interlocked.Exchange(ref _closeSentHere, 1) == 0)
        {
            CloseStatus = (int)status;
            CloseDescription = description;
        }
    }

    private void ThrowIfClosed()
    {
        if (Volatile.Read(ref _closed) != 0)
        {
            throw SocketErrors.Closed(_owner.PeerText);
        }
    }

    /// <summary>Closes here: a close frame with <paramref name="status"/> (bounded wait for the
    /// peer's answer), then the socket.</summary>
    public void Close(WebSocketCloseStatus status, string? description)
    {
        if (Volatile.Read(ref _closed) != 0)
        {
            return;
        }

        if (_socket.State is WebSocketState.Open or WebSocketState.CloseReceived)
        {
            MarkClosedHere(status, description);
            CloseOutputQuietlyAsync(status, description).GetAwaiter().GetResult();

            // The peer's close frame ends the loop; a peer that never answers costs CloseWait.
            Task.WhenAny(_ended.Task, Task.Delay(CloseWait)).GetAwaiter().GetResult();
        }

        if (Interlocked.Exchange(ref _closed, 1) != 0)
        {
            return;
        }

        _closing.Cancel();
        _socket.Abort();
        _socket.Dispose();
        try
        {
            _transport.Dispose();
        }
        catch (Exception ex) when (ex is IOException or ObjectDisposedException)
        {
        }

        _tcp.Dispose();
        _queue.Complete();
    }
}
