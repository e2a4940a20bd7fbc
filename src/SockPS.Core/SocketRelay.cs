using System;
using System.Buffers;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.IO;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Threading;
using System.Threading.Tasks;

namespace SockPS.Core;

/// <summary>Where a relay listens and where it forwards to.</summary>
public sealed class RelayOptions
{
    /// <summary>The address and port to listen on (null when <see cref="ListenPath"/> is set).</summary>
    public IPEndPoint? Listen { get; set; }

    /// <summary>A Unix socket path to listen on instead.</summary>
    public string? ListenPath { get; set; }

    /// <summary>Tcp (streams) or Udp (datagrams, each client with its own upstream socket).</summary>
    public SocketProtocol Protocol { get; set; } = SocketProtocol.Tcp;

    /// <summary>The target host (null when <see cref="TargetPath"/> is set).</summary>
    public string? TargetHost { get; set; }

    /// <summary>The target port.</summary>
    public int TargetPort { get; set; }

    /// <summary>A Unix socket path to forward to instead.</summary>
    public string? TargetPath { get; set; }

    /// <summary>Clients speak TLS to the relay with this certificate; null for plain.</summary>
    public TlsServerOptions? ListenTls { get; set; }

    /// <summary>The relay speaks TLS to the target; null for plain.</summary>
    public TlsClientOptions? TargetTls { get; set; }

    /// <summary>How long connecting to the target (and its TLS handshake) may take.</summary>
    public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>UDP: forget a client (and close its upstream socket) after this much silence.</summary>
    public TimeSpan UdpIdleTimeout { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>The OS listen backlog.</summary>
    public int Backlog { get; set; } = 128;

    /// <summary>After one side ends its stream (and the end was passed on), how long the other
    /// side may go on before both are closed (socat's -t). Zero waits for as long as it takes.</summary>
    public TimeSpan HalfCloseTimeout { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>A friendly name; RelayN when null.</summary>
    public string? Name { get; set; }
}

/// <summary>
/// A port forward (socat's favourite job): every client that connects is joined to a new
/// connection to the target, and bytes are copied both ways in large blocks, straight from socket
/// to socket with no pipe in between, until either side closes. An end of stream on one side is
/// passed on as a half-close to the other, so request/response protocols that half-close work.
/// </summary>
public sealed class SocketRelay : IDisposable
{
    internal const int PumpBlockSize = 256 * 1024;

    private readonly RelayOptions _options;
    private readonly Socket _listener;
    private readonly CancellationTokenSource _stopping = new();
    private readonly ConcurrentDictionary<EndPoint, UdpAssociation> _udpClients = new();
    private int _state;
    private int _activeClients;
    private long _clientCount;
    private long _bytesToTarget;
    private long _bytesFromTarget;
    private long _errorCount;
    private string? _lastError;
    private Timer? _udpSweep;

    private SocketRelay(RelayOptions options, Socket listener)
    {
        _options = options;
        _listener = listener;
        Id = SocketRegistry.NextRelayId();
        InstanceId = Guid.NewGuid();
        Name = string.IsNullOrEmpty(options.Name) ? "Relay" + Id : options.Name!;
        LocalEndPoint = listener.LocalEndPoint;
        StartedAt = DateTime.Now;
        Target = options.TargetPath ?? EndPointText.Format(options.TargetHost!, options.TargetPort);
    }

    /// <summary>A friendly number, unique in this process and never reused.</summary>
    public int Id { get; }

    /// <summary>A globally unique identifier.</summary>
    public Guid InstanceId { get; }

    /// <summary>The name given with -Name, or RelayN.</summary>
    public string Name { get; }

    /// <summary>Tcp or Udp.</summary>
    public SocketProtocol Protocol => _options.Protocol;

    /// <summary>Where the relay listens.</summary>
    public EndPoint? LocalEndPoint { get; }

    /// <summary>The listening port (0 for Unix sockets).</summary>
    public int Port => (LocalEndPoint as IPEndPoint)?.Port ?? 0;

    /// <summary>Where clients are forwarded: host:port or a Unix socket path.</summary>
    public string Target { get; }

    /// <summary>Listening or Stopped.</summary>
    public ServerState State => (ServerState)Volatile.Read(ref _state);

    /// <summary>Clients being forwarded now.</summary>
    public int ActiveClients => Volatile.Read(ref _activeClients);

    /// <summary>Clients forwarded since the relay started.</summary>
    public long ClientCount => Interlocked.Read(ref _clientCount);

    /// <summary>Bytes copied from clients to the target.</summary>
    public long BytesToTarget => Interlocked.Read(ref _bytesToTarget);

    /// <summary>Bytes copied from the target to clients.</summary>
    public long BytesFromTarget => Interlocked.Read(ref _bytesFromTarget);

    /// <summary>Clients that could not be forwarded (the target refused, a handshake failed).</summary>
    public long ErrorCount => Interlocked.Read(ref _errorCount);

    /// <summary>Why the last client could not be forwarded.</summary>
    public string? LastError => Volatile.Read(ref _lastError);

    /// <summary>When the relay started (local time).</summary>
    public DateTime StartedAt { get; }

    /// <summary>Binds, listens and starts forwarding.</summary>
    public static SocketRelay Start(RelayOptions options)
    {
        bool datagram = options.Protocol == SocketProtocol.Udp;
        if (datagram && (options.ListenTls is not null || options.TargetTls is not null))
        {
            throw new SocketOperationException(SocketFailureKind.InvalidArgument, "TLS runs over stream sockets; a UDP relay cannot use it.");
        }

        if (options.ListenTls is not null)
        {
            TlsCertificates.RequirePrivateKey(options.ListenTls.Certificate, "server");
        }

        Socket listener;
        EndPoint where;
        if (options.ListenPath is not null)
        {
            where = UnixSockets.CreateEndPoint(options.ListenPath);
            listener = new Socket(AddressFamily.Unix, datagram ? SocketType.Dgram : SocketType.Stream, ProtocolType.Unspecified);
        }
        else
        {
            where = options.Listen!;
            listener = datagram
                ? new Socket(where.AddressFamily, SocketType.Dgram, ProtocolType.Udp)
                : new Socket(where.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        }

        try
        {
            listener.Bind(where);
            if (!datagram)
            {
                listener.Listen(options.Backlog);
            }
        }
        catch (SocketException ex)
        {
            listener.Dispose();
            string text = options.ListenPath ?? EndPointText.Format(options.Listen!);
            throw SocketErrors.Classify(ex.SocketErrorCode) == SocketFailureKind.AddressInUse
                ? new SocketOperationException(SocketFailureKind.AddressInUse,
                    $"Cannot listen on {text}: the address is already in use. Pick another port (-ListenPort 0 picks a free one).", text, ex)
                : new SocketOperationException(SocketFailureKind.InvalidArgument, $"Cannot listen on {text}: {ex.Message}", text, ex);
        }

        SocketRelay relay = new(options, listener);
        SocketRegistry.Add(relay);
        if (datagram)
        {
            relay._udpSweep = new Timer(_ => relay.SweepUdpClients(), null, 1000, 1000);
            _ = relay.UdpReceiveLoopAsync();
        }
        else
        {
            _ = relay.AcceptLoopAsync();
        }

        return relay;
    }

    /// <summary>Stops listening and closes every forwarded connection.</summary>
    public void Stop()
    {
        if (Interlocked.Exchange(ref _state, (int)ServerState.Stopped) == (int)ServerState.Stopped)
        {
            return;
        }

        _stopping.Cancel();
        _udpSweep?.Dispose();
        _listener.Dispose();
        foreach (UdpAssociation association in _udpClients.Values)
        {
            association.Upstream.Dispose();
        }

        if (_options.ListenPath is not null)
        {
            UnixSockets.TryDeleteSocketFile(_options.ListenPath);
        }

        SocketRegistry.Remove(this);
    }

    /// <summary>Same as <see cref="Stop"/>.</summary>
    public void Dispose() => Stop();

    /// <summary>"tcp 127.0.0.1:8080 -> db.example:5432 (Listening)".</summary>
    public override string ToString() => $"{Protocol.ToString().ToLowerInvariant()} {EndPointText.Format(LocalEndPoint)} -> {Target} ({State})";

    private void Fail(Exception ex)
    {
        Interlocked.Increment(ref _errorCount);
        Volatile.Write(ref _lastError, ex.Message);
    }

    // ------------------------------------------------------------------ streams

    private async Task AcceptLoopAsync()
    {
        CancellationToken stopping = _stopping.Token;
        while (!stopping.IsCancellationRequested)
        {
            Socket client;
            try
            {
                client = await _listener.AcceptAsync().ConfigureAwait(false);
            }
            catch (Exception) when (stopping.IsCancellationRequested)
            {
                break;
            }
            catch (ObjectDisposedException)
            {
                break;
            }
            catch (SocketException ex)
            {
                Fail(ex);
                continue;
            }

            Interlocked.Increment(ref _clientCount);
            _ = ForwardAsync(client, stopping);
        }
    }

    private async Task ForwardAsync(Socket client, CancellationToken stopping)
    {
        Interlocked.Increment(ref _activeClients);
        bool lingerExpired = false;
        Socket? target = null;
        Stream? clientStream = null;
        Stream? targetStream = null;
        try
        {
            if (client.AddressFamily != AddressFamily.Unix)
            {
                client.NoDelay = true;
            }

            using CancellationTokenSource setup = CancellationTokenSource.CreateLinkedTokenSource(stopping);
            setup.CancelAfter(_options.ConnectTimeout);
            NetworkStream clientNetwork = new(client, ownsSocket: false);
            clientStream = _options.ListenTls is null
                ? clientNetwork
                : await TlsHandshake.AuthenticateAsServerAsync(clientNetwork, _options.ListenTls, EndPointText.Format(SafeRemote(client)), setup.Token).ConfigureAwait(false);

            target = await ConnectTargetAsync(setup.Token).ConfigureAwait(false);
            NetworkStream targetNetwork = new(target, ownsSocket: false);
            targetStream = _options.TargetTls is null
                ? targetNetwork
                : await TlsHandshake.AuthenticateAsClientAsync(targetNetwork, _options.TargetTls, _options.TargetHost ?? "localhost", Target, TimeSpan.Zero, setup.Token).ConfigureAwait(false);

            Task up = PumpAsync(clientStream, targetStream, target, toTarget: true, stopping);
            Task down = PumpAsync(targetStream, clientStream, client, toTarget: false, stopping);
            Task first = await Task.WhenAny(up, down).ConfigureAwait(false);
            Task other = first == up ? down : up;
            if (first.Status == TaskStatus.RanToCompletion && !other.IsCompleted && _options.HalfCloseTimeout > TimeSpan.Zero)
            {
                // One side ended its stream; a peer that never ends its own must not hold the
                // forward (and its two sockets) open for ever.
                using CancellationTokenSource linger = CancellationTokenSource.CreateLinkedTokenSource(stopping);
                if (await Task.WhenAny(other, Task.Delay(_options.HalfCloseTimeout, linger.Token)).ConfigureAwait(false) != other)
                {
                    lingerExpired = true;
                    client.Dispose();
                    target.Dispose();
                }

                linger.Cancel();
            }

            await Task.WhenAll(up, down).ConfigureAwait(false);
        }
        catch (Exception) when (lingerExpired)
        {
            // Closed on purpose: the half-close timeout ran out.
        }
        catch (Exception ex) when (!stopping.IsCancellationRequested)
        {
            Fail(ex is OperationCanceledException
                ? new SocketOperationException(SocketFailureKind.ConnectTimeout, $"Forwarding to {Target} did not start within {EndPointText.Seconds(_options.ConnectTimeout)}.")
                : ex);
        }
        catch (Exception)
        {
            // Stopping: the sockets are closed below.
        }
        finally
        {
            clientStream?.Dispose();
            targetStream?.Dispose();
            target?.Dispose();
            client.Dispose();
            Interlocked.Decrement(ref _activeClients);
        }
    }

    private async Task<Socket> ConnectTargetAsync(CancellationToken token)
    {
        if (_options.TargetPath is not null)
        {
            Socket unix = new(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            try
            {
                await SocketConnector.ConnectOneAsync(unix, UnixSockets.CreateEndPoint(_options.TargetPath), token).ConfigureAwait(false);
                return unix;
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                unix.Dispose();
                throw SocketConnector.UnixConnectFailed(ex, _options.TargetPath);
            }
        }

        IReadOnlyList<IPAddress> addresses = await SocketConnector.ResolveAsync(_options.TargetHost!, null, token).ConfigureAwait(false);
        Exception? last = null;
        foreach (IPAddress address in addresses)
        {
            Socket socket = new(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            try
            {
                await SocketConnector.ConnectOneAsync(socket, new IPEndPoint(address, _options.TargetPort), token).ConfigureAwait(false);
                return socket;
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                socket.Dispose();
                last = SocketErrors.ConnectFailed(ex, EndPointText.Format(address, _options.TargetPort));
            }
        }

        throw last ?? new SocketOperationException(SocketFailureKind.HostNotFound, $"The target {Target} has no address.");
    }

    /// <summary>Copies one direction until its end, then half-closes the other side so the
    /// end of stream travels on. A failure ends both directions.</summary>
    private async Task PumpAsync(Stream from, Stream to, Socket toSocket, bool toTarget, CancellationToken stopping)
    {
        byte[] buffer = ArrayPool<byte>.Shared.Rent(PumpBlockSize);
        try
        {
            int read;
            while ((read = await from.ReadAsync(buffer, 0, buffer.Length, stopping).ConfigureAwait(false)) > 0)
            {
                await to.WriteAsync(buffer, 0, read, stopping).ConfigureAwait(false);
                if (toTarget)
                {
                    Interlocked.Add(ref _bytesToTarget, read);
                }
                else
                {
                    Interlocked.Add(ref _bytesFromTarget, read);
                }
            }

            try
            {
                toSocket.Shutdown(SocketShutdown.Send);
            }
            catch (SocketException)
            {
                // The other side is gone already.
            }
        }
        catch (Exception)
        {
            // A reset or a closed socket on either side ends the whole forward.
            try
            {
                toSocket.Shutdown(SocketShutdown.Both);
            }
            catch (Exception inner) when (inner is SocketException or ObjectDisposedException)
            {
            }

            from.Dispose();
            throw;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private static EndPoint? SafeRemote(Socket socket)
    {
        try
        {
            return socket.RemoteEndPoint;
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
            return null;
        }
    }

    // ------------------------------------------------------------------ datagrams

    private sealed class UdpAssociation
    {
        public UdpAssociation(Socket upstream) => Upstream = upstream;

        public Socket Upstream { get; }

        public int LastActivity = Environment.TickCount;
    }

    private async Task UdpReceiveLoopAsync()
    {
        byte[] buffer = new byte[65536];
        EndPoint any = EndPoints.AnyOf(_listener);
        while (!_stopping.IsCancellationRequested)
        {
            SocketReceiveFromResult received;
            try
            {
                received = await _listener.ReceiveFromAsync(new ArraySegment<byte>(buffer), SocketFlags.None, any).ConfigureAwait(false);
            }
            catch (Exception) when (_stopping.IsCancellationRequested)
            {
                break;
            }
            catch (ObjectDisposedException)
            {
                break;
            }
            catch (SocketException ex)
            {
                Fail(ex);
                continue;
            }

            EndPoint sender = received.RemoteEndPoint;
            try
            {
                if (!_udpClients.TryGetValue(sender, out UdpAssociation? association))
                {
                    association = await OpenUdpAssociationAsync(sender).ConfigureAwait(false);
                }

                association.LastActivity = Environment.TickCount;
                association.Upstream.Send(buffer, 0, received.ReceivedBytes, SocketFlags.None);
                Interlocked.Add(ref _bytesToTarget, received.ReceivedBytes);
            }
            catch (Exception ex) when (ex is SocketException or SocketOperationException)
            {
                Fail(ex);
            }
        }
    }

    private async Task<UdpAssociation> OpenUdpAssociationAsync(EndPoint client)
    {
        IReadOnlyList<IPAddress> addresses = await SocketConnector.ResolveAsync(_options.TargetHost!, null, _stopping.Token).ConfigureAwait(false);
        IPAddress address = addresses[0];
        Socket upstream = new(address.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
        SocketConnection.DisableUdpConnectionReset(upstream);
        upstream.Connect(new IPEndPoint(address, _options.TargetPort));
        UdpAssociation association = new(upstream);
        _udpClients[client] = association;
        Interlocked.Increment(ref _clientCount);
        Interlocked.Increment(ref _activeClients);
        _ = UdpReplyLoopAsync(client, association);
        return association;
    }

    private async Task UdpReplyLoopAsync(EndPoint client, UdpAssociation association)
    {
        byte[] buffer = new byte[65536];
        try
        {
            while (!_stopping.IsCancellationRequested)
            {
                int read;
                try
                {
                    read = await association.Upstream.ReceiveAsync(new ArraySegment<byte>(buffer), SocketFlags.None).ConfigureAwait(false);
                }
                catch (SocketException ex) when (SocketErrors.Classify(ex.SocketErrorCode) is SocketFailureKind.ConnectionRefused or SocketFailureKind.ConnectionReset)
                {
                    continue; // ICMP for an earlier datagram; the association stays
                }

                association.LastActivity = Environment.TickCount;
                _listener.SendTo(buffer, 0, read, SocketFlags.None, client);
                Interlocked.Add(ref _bytesFromTarget, read);
            }
        }
        catch (Exception)
        {
            // The association was swept or the relay stopped.
        }
        finally
        {
            if (_udpClients.TryRemove(client, out _))
            {
                Interlocked.Decrement(ref _activeClients);
            }

            association.Upstream.Dispose();
        }
    }

    private void SweepUdpClients()
    {
        int limit = (int)_options.UdpIdleTimeout.TotalMilliseconds;
        foreach (KeyValuePair<EndPoint, UdpAssociation> pair in _udpClients)
        {
            if (unchecked(Environment.TickCount - pair.Value.LastActivity) >= limit)
            {
                pair.Value.Upstream.Dispose();
            }
        }
    }
}
