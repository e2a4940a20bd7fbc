using System;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Threading;
using System.Threading.Channels;
using System.Threading.Tasks;

namespace SockPS.Core;

// The datagram half of SocketConnection (UDP and Unix datagram sockets): a receive loop that
// queues whole datagrams, dropping and counting them when nobody reads (as the OS would), and
// send / sendto of one datagram per call.
public sealed partial class SocketConnection
{
    /// <summary>Datagrams that may wait unread before new ones are dropped.</summary>
    internal const int DatagramQueueLimit = 4096;

    /// <summary>Bytes of unread datagrams past which new ones are dropped.</summary>
    internal const long DatagramBufferLimit = 4L * 1024 * 1024;

    /// <summary>The largest UDP payload over IPv4 (65535 - 20 IP - 8 UDP).</summary>
    internal const int MaxUdpPayloadIPv4 = 65507;

    /// <summary>The largest UDP payload over IPv6 without jumbograms (65535 - 8 UDP).</summary>
    internal const int MaxUdpPayloadIPv6 = 65527;

    // Whole datagrams, and errors the socket reported (ICMP port unreachable), in arrival order.
    private readonly Channel<object>? _datagrams;
    private long _datagramBytesQueued;
    private long _droppedCount;
    private long _datagramsReceived;
    private long _datagramsSent;
    private int _datagramReceivers;

    internal void CountDroppedDatagram() => Interlocked.Increment(ref _droppedCount);

    /// <summary>Datagrams dropped because the queue of unread ones (or of waiting handlers) was full.</summary>
    public long DroppedCount => Interlocked.Read(ref _droppedCount);

    /// <summary>Datagrams received (queued or dropped).</summary>
    public long DatagramsReceived => Interlocked.Read(ref _datagramsReceived);

    /// <summary>Datagrams sent.</summary>
    public long DatagramsSent => Interlocked.Read(ref _datagramsSent);

    /// <summary>Whether the socket may send to broadcast addresses (SO_BROADCAST).</summary>
    public bool Broadcast => IsDatagram && _socket.AddressFamily == AddressFamily.InterNetwork && !IsDisposed && _socket.EnableBroadcast;

    private bool IsDisposed => Volatile.Read(ref _closing) != 0;

    private async Task DatagramReceiveLoopAsync()
    {
        ChannelWriter<object> queue = _datagrams!.Writer;
        // A datagram bigger than the buffer would be cut short; UDP cannot carry more than 64 KiB,
        // Unix datagrams can (up to the socket's send buffer).
        byte[] buffer = new byte[AddressFamily == AddressFamily.Unix ? 256 * 1024 : 65536];
        EndPoint any = EndPoints.AnyOf(_socket);
        while (true)
        {
            SocketReceiveFromResult received;
            try
            {
                received = await _socket.ReceiveFromAsync(new ArraySegment<byte>(buffer), SocketFlags.None, any).ConfigureAwait(false);
            }
            catch (Exception) when (IsDisposed)
            {
                break;
            }
            catch (SocketException ex) when (SocketErrors.Classify(ex.SocketErrorCode) is SocketFailureKind.ConnectionRefused or SocketFailureKind.ConnectionReset)
            {
                // ICMP port unreachable for an earlier send: the socket still works. Report it
                // once, on the next receive, as recv() does.
                queue.TryWrite(new SocketOperationException(SocketFailureKind.ConnectionRefused,
                    $"A datagram sent to {PeerText} was refused: nothing is listening on that port. The socket is still open.", PeerText, ex));
                continue;
            }
            catch (Exception ex)
            {
                queue.TryWrite(SocketErrors.TransferFailed(ex, PeerText, "receive"));
                SetPeerClosed("Receiving failed: " + ex.Message);
                break;
            }

            int length = received.ReceivedBytes;
            byte[] data = new byte[length];
            Buffer.BlockCopy(buffer, 0, data, 0, length);

            EndPoint? sender = AddressFamily == AddressFamily.Unix && UnixSockets.IsUnnamed(received.RemoteEndPoint) ? null : received.RemoteEndPoint;
            SocketDatagram datagram = new(data, sender, LocalEndPoint, this, Encoding);
            if (Server?.Refuses(sender) == true)
            {
                // Outside -AllowAddress or inside -DenyAddress: dropped, and counted on the server.
                continue;
            }

            Record(SocketTranscriptDirection.Received, data, 0, length, sender);
            if (DatagramSink is { } sink)
            {
                Interlocked.Add(ref _bytesReceived, length);
                Interlocked.Increment(ref _datagramsReceived);
                NoteActivity();
                sink(datagram);
                continue;
            }

            if (Interlocked.Read(ref _datagramBytesQueued) + length > DatagramBufferLimit || !queue.TryWrite(datagram))
            {
                Interlocked.Increment(ref _droppedCount);
            }
            else
            {
                Interlocked.Add(ref _datagramBytesQueued, length);
            }

            // Counted last, so whoever sees DatagramsReceived grow also sees the datagram
            // queued (Available) or dropped (DroppedCount).
            Interlocked.Add(ref _bytesReceived, length);
            Interlocked.Increment(ref _datagramsReceived);
            OnDataArrived(length);
        }

        queue.TryComplete();
        RaiseClosed();
    }

    /// <summary>The next datagram, or null when the socket can receive no more. An error the
    /// socket reported in between (ICMP port unreachable) is thrown once, in its place in the order.</summary>
    internal ValueTask<SocketDatagram?> ReceiveDatagramAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        ThrowIfDisconnected();
        if (_datagrams!.Reader.TryRead(out object? ready))
        {
            return new ValueTask<SocketDatagram?>(Dequeued(ready));
        }

        return ReceiveDatagramSlowAsync(timeout, cancellationToken);
    }

    private async ValueTask<SocketDatagram?> ReceiveDatagramSlowAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        using TimeoutScope scope = new(timeout, cancellationToken);
        Interlocked.Increment(ref _datagramReceivers);
        try
        {
            ChannelReader<object> reader = _datagrams!.Reader;
            while (await reader.WaitToReadAsync(scope.Token).ConfigureAwait(false))
            {
                if (reader.TryRead(out object? item))
                {
                    return Dequeued(item);
                }
            }

            ThrowIfDisconnected();
            return null;
        }
        catch (OperationCanceledException) when (scope.TimedOut)
        {
            throw ReceiveTimedOut(timeout);
        }
        finally
        {
            Interlocked.Decrement(ref _datagramReceivers);
        }
    }

    private SocketDatagram Dequeued(object item)
    {
        if (item is SocketOperationException error)
        {
            throw error;
        }

        SocketDatagram datagram = (SocketDatagram)item;
        Interlocked.Add(ref _datagramBytesQueued, -datagram.Length);
        return datagram;
    }

    private async ValueTask<object?> ReceiveDatagramObjectAsync(ReceiveRequest request, CancellationToken cancellationToken)
    {
        if (request.Mode != ReceiveMode.Available)
        {
            throw StreamOnly();
        }

        return await ReceiveDatagramAsync(request.Timeout, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Receives the next datagram with its sender (the seed's <c>recvfrom</c>), waiting up
    /// to <see cref="ReceiveTimeoutSeconds"/>; null when the socket can receive no more.</summary>
    public SocketDatagram? ReceiveFrom()
    {
        if (!IsDatagram)
        {
            throw new SocketOperationException(SocketFailureKind.InvalidArgument,
                $"{Describe()} is a stream socket; ReceiveFrom is for datagram sockets. Use ReceiveAvailable or Receive.", PeerText);
        }

        return Complete(ReceiveDatagramAsync(ReceiveTimeout, CancellationToken.None));
    }

    /// <summary>Sends text as one datagram to <paramref name="endPoint"/> ("host:port", "[::1]:53",
    /// or a Unix socket path) (the seed's <c>sendto</c>).</summary>
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

    /// <summary>Sends one datagram: to <paramref name="remote"/> (sendto), or to the connected peer.
    /// A payload larger than the protocol carries is refused before anything is sent.</summary>
    internal void SendDatagram(byte[] buffer, int offset, int count, EndPoint? remote)
    {
        ThrowIfDisconnected();
        if (!IsDatagram)
        {
            throw new SocketOperationException(SocketFailureKind.InvalidArgument,
                $"{Describe()} is a stream socket with one peer; -RemoteEndPoint (sendto) is for UDP and Unix datagram sockets.", PeerText);
        }

        EndPoint? target = remote is null ? null : EndPoints.Resolve(remote, _socket);
        if (target is not null && RemoteEndPoint is not null && target.Equals(RemoteEndPoint))
        {
            // Replying to the peer of a connected socket: some systems refuse sendto there.
            target = null;
        }

        string where = target is null ? PeerText : EndPointText.Format(target);
        if (target is null && RemoteEndPoint is null)
        {
            throw new SocketOperationException(SocketFailureKind.InvalidArgument,
                $"{Describe()} is not connected to one peer, so a datagram needs an address: give -RemoteEndPoint host:port (sendto), or reply by piping the datagram you received. " +
                "A datagram from an unnamed Unix socket (a sender that never bound a path) has no address to reply to.",
                PeerText);
        }

        int limit = AddressFamily switch
        {
            AddressFamily.InterNetwork => MaxUdpPayloadIPv4,
            AddressFamily.InterNetworkV6 => (target as IPEndPoint ?? RemoteEndPoint as IPEndPoint)?.Address.IsIPv4MappedToIPv6 == true ? MaxUdpPayloadIPv4 : MaxUdpPayloadIPv6,
            _ => int.MaxValue,
        };
        if (count > limit)
        {
            throw TooLarge(count, limit, where, null);
        }

        Record(SocketTranscriptDirection.Sent, buffer, offset, count, target ?? RemoteEndPoint);
        try
        {
            int sent = target is null
                ? _socket.Send(buffer, offset, count, SocketFlags.None)
                : _socket.SendTo(buffer, offset, count, SocketFlags.None, target);
            Interlocked.Add(ref _bytesSent, sent);
            Interlocked.Increment(ref _datagramsSent);
            NoteActivity();
        }
        catch (SocketException ex) when (ex.SocketErrorCode == SocketError.MessageSize)
        {
            throw TooLarge(count, null, where, ex);
        }
        catch (SocketException ex) when (ex.SocketErrorCode == SocketError.AccessDenied && target is IPEndPoint)
        {
            throw new SocketOperationException(SocketFailureKind.AccessDenied,
                $"Sending to {where} was denied. A broadcast address needs a socket made with -Broadcast.", where, ex);
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
