using System;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Threading;
using System.Threading.Tasks;

namespace SockPS.Core;

/// <summary>
/// The only code that reads a datagram socket (UDP, Unix datagram), and its send path. A
/// background loop queues whole datagrams, dropping and counting them when nobody reads (as the
/// OS would); errors the socket reports for earlier sends (ICMP port unreachable) wait in the
/// queue in their place and are thrown once. A fault with one datagram is counted and the loop
/// goes on; only the socket itself failing ends it, through one path.
/// </summary>
internal sealed class DatagramChannel
{
    /// <summary>Datagrams that may wait unread before new ones are dropped.</summary>
    internal const int QueueLimit = 4096;

    /// <summary>Bytes of unread datagrams past which new ones are dropped.</summary>
    internal const long BufferLimit = 4L * 1024 * 1024;

    /// <summary>The largest UDP payload over IPv4 (65535 - 20 IP - 8 UDP).</summary>
    internal const int MaxUdpPayloadIPv4 = 65507;

    /// <summary>The largest UDP payload over IPv6 without jumbograms (65535 - 8 UDP).</summary>
    internal const int MaxUdpPayloadIPv6 = 65527;

    private readonly Socket _socket;
    private readonly SocketConnection _connection;
    private readonly IChannelOwner _owner;
    private readonly MessageQueue _queue;
    private long _dropped;
    private long _faults;
    private long _received;
    private long _sent;
    private int _closed;
    private Exception? _lastFault;

    public DatagramChannel(Socket socket, SocketConnection connection, IChannelOwner owner)
    {
        _socket = socket;
        _connection = connection;
        _owner = owner;
        _queue = new MessageQueue(QueueLimit, TimedOut, ThrowIfClosed);
    }

    /// <summary>A datagram server's handler takes datagrams here instead of the queue.</summary>
    public Action<SocketDatagram>? Sink { get; set; }

    /// <summary>Decides whether a sender may be heard (-AllowAddress / -DenyAddress).</summary>
    public Func<EndPoint?, bool>? Refuses { get; set; }

    public long Available => _queue.Bytes;

    public long DroppedCount => Interlocked.Read(ref _dropped);

    public long DatagramsReceived => Interlocked.Read(ref _received);

    public long DatagramsSent => Interlocked.Read(ref _sent);

    /// <summary>Datagrams that could not be processed (the sink or the transcript failed for
    /// them); each was counted and skipped.</summary>
    public long FaultCount => Interlocked.Read(ref _faults);

    /// <summary>The last per-datagram fault.</summary>
    public Exception? LastFault => Volatile.Read(ref _lastFault);

    public bool ReceiveInProgress => _queue.ReceiveInProgress;

    public bool IsReadable => _queue.IsReadable || Volatile.Read(ref _closed) != 0;

    public void CountDropped() => Interlocked.Increment(ref _dropped);

    /// <summary>Starts the receive loop on a thread of its own, reading with blocking receives.
    /// Not with ReceiveFromAsync: a socket that has had one asynchronous operation is registered
    /// with .NET's epoll thread for writability as well, and on Linux every datagram sent from it
    /// then wakes that thread when the kernel frees the datagram's buffer, which doubled the cost
    /// of each send (2-3 us more than an unregistered socket's 1.5 us, measured with a raw loop).
    /// Closing the socket ends a blocked receive (Interrupted), which ends the loop.</summary>
    public void Start() => new Thread(Loop)
    {
        IsBackground = true,
        Name = "SockPS datagram receive",
    }.Start();

    private void Loop()
    {
        // A datagram bigger than the buffer would be cut short; UDP cannot carry more than 64 KiB,
        // Unix datagrams can (up to the socket's send buffer).
        byte[] buffer = new byte[_socket.AddressFamily == AddressFamily.Unix ? 256 * 1024 : 65536];
        EndPoint any = EndPoints.AnyOf(_socket);
        SocketOperationException? failure = null;
        while (true)
        {
            int length;
            EndPoint from = any;
            try
            {
                length = _socket.ReceiveFrom(buffer, 0, buffer.Length, SocketFlags.None, ref from);
            }
            catch (Exception) when (Volatile.Read(ref _closed) != 0)
            {
                break;
            }
            catch (SocketException ex) when (SocketErrors.Classify(ex.SocketErrorCode) is SocketFailureKind.ConnectionRefused or SocketFailureKind.ConnectionReset)
            {
                // ICMP port unreachable for an earlier send: the socket still works. Report it
                // once, on the next receive, as recv() does.
                _queue.AddFailure(new SocketOperationException(SocketFailureKind.ConnectionRefused,
                    $"A datagram sent to {_owner.PeerText} was refused: nothing is listening on that port. The socket is still open.", _owner.PeerText, ex));
                continue;
            }
            catch (Exception ex)
            {
                failure = SocketErrors.TransferFailed(ex, _owner.PeerText, "receive");
                break;
            }

            try
            {
                Deliver(buffer, length, from);
            }
            catch (Exception ex)
            {
                // One datagram's fault (a handler sink, a transcript that could not record it)
                // costs that datagram, never the loop.
                Interlocked.Increment(ref _faults);
                Volatile.Write(ref _lastFault, ex);
            }
        }

        End(failure);
    }

    private void Deliver(byte[] buffer, int length, EndPoint from)
    {
        byte[] data = new byte[length];
        Buffer.BlockCopy(buffer, 0, data, 0, length);

        EndPoint? sender = _socket.AddressFamily == AddressFamily.Unix && UnixSockets.IsUnnamed(from) ? null : from;
        if (Refuses?.Invoke(sender) == true)
        {
            // Outside -AllowAddress or inside -DenyAddress: dropped, and counted on the server.
            return;
        }

        SocketDatagram datagram = new(data, sender, _connection.LocalEndPoint, _connection, _connection.Encoding);
        _owner.OnReceiving(data, 0, length, sender);
        if (Sink is { } sink)
        {
            Interlocked.Increment(ref _received);
            _owner.OnReceived(length);
            sink(datagram);
            return;
        }

        if (_queue.Bytes + length > BufferLimit || !_queue.TryAdd(datagram))
        {
            Interlocked.Increment(ref _dropped);
        }

        // Counted last, so whoever sees DatagramsReceived grow also sees the datagram queued
        // (Available) or dropped (DroppedCount).
        Interlocked.Increment(ref _received);
        _owner.OnReceived(length);
    }

    /// <summary>The one way the loop ends: the socket failed or closed. A failure is queued so the
    /// next receive reports it once; the owner is told.</summary>
    private void End(SocketOperationException? failure)
    {
        if (failure is not null && Volatile.Read(ref _closed) == 0)
        {
            _queue.AddFinalFailure(failure);
        }

        if (Volatile.Read(ref _closed) == 0)
        {
            _owner.OnEnding(failure);
        }

        _queue.Complete();
        if (Volatile.Read(ref _closed) == 0)
        {
            _owner.OnEnded(failure);
        }
    }

    /// <summary>The next datagram, or null when the socket can receive no more.</summary>
    public ValueTask<SocketDatagram?> ReceiveAsync(TimeSpan timeout, CancellationToken token) => _queue.ReceiveAsync(timeout, token);

    private SocketOperationException TimedOut(TimeSpan timeout) =>
        new(SocketFailureKind.ReceiveTimeout,
            _connection.RemoteEndPoint is null
                ? $"No datagram arrived on {_connection.Transport.ToLowerInvariant()} {EndPointText.Format(_connection.LocalEndPoint)} within {EndPointText.Seconds(timeout)}. The socket is still open."
                : $"No data arrived from {_owner.PeerText} within {EndPointText.Seconds(timeout)}. The connection is still open.",
            _owner.PeerText)
        {
            Setting = SocketSetting.Timeout,
            Timeout = timeout,
        };

    /// <summary>Completes when a datagram is queued, the socket ended, or the token fires.</summary>
    public Task WhenReadableAsync(CancellationToken token) => IsReadable ? Task.CompletedTask : _queue.WhenReadableAsync(token);

    /// <summary>Sends one datagram: to <paramref name="remote"/> (sendto), or to the connected peer.
    /// A payload larger than the protocol carries is refused before anything is sent.</summary>
    public void Send(byte[] buffer, int offset, int count, EndPoint? remote)
    {
        ThrowIfClosed();
        EndPoint? target = remote is null ? null : EndPoints.Resolve(remote, _socket);
        EndPoint? peer = _connection.RemoteEndPoint;
        if (target is not null && peer is not null && target.Equals(peer))
        {
            // Replying to the peer of a connected socket: some systems refuse sendto there.
            target = null;
        }

        string where = target is null ? _owner.PeerText : EndPointText.Format(target);
        if (target is null && peer is null)
        {
            throw new SocketOperationException(SocketFailureKind.InvalidArgument,
                $"The socket {_connection.Transport.ToLowerInvariant()} {EndPointText.Format(_connection.LocalEndPoint)} is not connected to one peer, so a datagram needs an address: give the peer's address (sendto), or reply to a datagram you received (it carries its sender's address). " +
                "A datagram from an unnamed Unix socket (a sender that never bound a path) has no address to reply to.",
                _owner.PeerText)
            {
                Setting = SocketSetting.RemoteEndPoint,
            };
        }

        int limit = _socket.AddressFamily switch
        {
            AddressFamily.InterNetwork => MaxUdpPayloadIPv4,
            AddressFamily.InterNetworkV6 => (target as IPEndPoint ?? peer as IPEndPoint)?.Address.IsIPv4MappedToIPv6 == true ? MaxUdpPayloadIPv4 : MaxUdpPayloadIPv6,
            _ => int.MaxValue,
        };
        if (count > limit)
        {
            throw TooLarge(count, limit, where, null);
        }

        _owner.OnSending(buffer, offset, count, target ?? peer);
        try
        {
            int sent = target is null
                ? _socket.Send(buffer, offset, count, SocketFlags.None)
                : _socket.SendTo(buffer, offset, count, SocketFlags.None, target);
            Interlocked.Increment(ref _sent);
            _owner.OnSent(sent);
        }
        catch (SocketException ex) when (ex.SocketErrorCode == SocketError.MessageSize)
        {
            throw TooLarge(count, null, where, ex);
        }
        catch (SocketException ex) when (ex.SocketErrorCode == SocketError.AccessDenied && target is IPEndPoint)
        {
            throw new SocketOperationException(SocketFailureKind.AccessDenied,
                $"Sending to {where} was denied. A broadcast address needs a socket with broadcast allowed (SO_BROADCAST).", where, ex)
            {
                Setting = SocketSetting.Broadcast,
            };
        }
        catch (SocketException ex) when (SocketErrors.Classify(ex.SocketErrorCode) is SocketFailureKind.ConnectionRefused or SocketFailureKind.ConnectionReset)
        {
            throw new SocketOperationException(SocketFailureKind.ConnectionRefused,
                $"A datagram sent to {where} was refused: nothing is listening on that port. The socket is still open.", where, ex);
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
            throw SocketErrors.TransferFailed(ex, where, "send");
        }
    }

    private static SocketOperationException TooLarge(int count, int? limit, string where, Exception? inner) =>
        new(SocketFailureKind.DatagramTooLarge,
            limit is null
                ? $"A datagram of {count} bytes is larger than the socket can send to {where}. Nothing was sent; send smaller pieces, or use a stream socket."
                : $"A datagram of {count} bytes is larger than UDP carries ({limit} bytes here). Nothing was sent; send smaller pieces, or use TCP.",
            where, inner);

    private void ThrowIfClosed()
    {
        if (Volatile.Read(ref _closed) != 0)
        {
            throw SocketErrors.Closed(_owner.PeerText);
        }
    }

    /// <summary>A connected datagram socket can stop sending (shutdown(SHUT_WR)).</summary>
    public void ShutdownSend()
    {
        ThrowIfClosed();
        try
        {
            _socket.Shutdown(SocketShutdown.Send);
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
            throw SocketErrors.TransferFailed(ex, _owner.PeerText, "shutdown");
        }
    }

    public void Close()
    {
        if (Interlocked.Exchange(ref _closed, 1) != 0)
        {
            return;
        }

        _socket.Dispose();
        _queue.Complete();
    }

    /// <summary>Windows reports an ICMP port unreachable for an earlier sendto as a reset on the
    /// next receive of an unconnected UDP socket, which would end the receive loop.
    /// SIO_UDP_CONNRESET off makes it behave like Linux.</summary>
    internal static void DisableUdpConnectionReset(Socket socket)
    {
        if (RuntimeInformation.IsOSPlatform(OSPlatform.Windows) && socket.ProtocolType == ProtocolType.Udp)
        {
            const int SioUdpConnReset = unchecked((int)0x9800000C);
            socket.IOControl(SioUdpConnReset, new byte[4], null);
        }
    }
}
