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

    /// <summary>A Linux abstract Unix socket name to listen on instead (without its NUL).</summary>
    public string? ListenAbstractName { get; set; }

    /// <summary>Tcp (streams) or Udp (datagrams, each client with its own upstream socket).</summary>
    public SocketProtocol Protocol { get; set; } = SocketProtocol.Tcp;

    /// <summary>The target host (null when <see cref="TargetPath"/> is set).</summary>
    public string? TargetHost { get; set; }

    /// <summary>The target port.</summary>
    public int TargetPort { get; set; }

    /// <summary>A Unix socket path to forward to instead.</summary>
    public string? TargetPath { get; set; }

    /// <summary>A Linux abstract Unix socket name to forward to instead (without its NUL).</summary>
    public string? TargetAbstractName { get; set; }

    /// <summary>Reach the target through this proxy (TCP only); null connects directly.</summary>
    public ProxySettings? Proxy { get; set; }

    /// <summary>The local address connections to the target come from; null lets the OS choose.</summary>
    public IPAddress? LocalAddress { get; set; }

    /// <summary>The local port connections to the target come from; 0 lets the OS choose. A fixed
    /// port serves one client at a time: a second, while the first is forwarded, fails AddressInUse.</summary>
    public int LocalPort { get; set; }

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
    private string? _failureReason;
    private Timer? _udpSweep;

    private SocketRelay(RelayOptions options, Socket listener)
    {
        _options = options;
        _listener = listener;
        Id = SocketIds.NextRelay();
        InstanceId = Guid.NewGuid();
        Name = string.IsNullOrEmpty(options.Name) ? "Relay" + Id : options.Name!;
        LocalEndPoint = listener.LocalEndPoint;
        StartedAt = DateTime.Now;
        Target = options.TargetPath ?? (options.TargetAbstractName is not null ? "@" + options.TargetAbstractName : EndPointText.Format(options.TargetHost!, options.TargetPort));
        Proxy = options.Proxy?.Text;
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

    /// <summary>The proxy the relay reaches the target through; null when it connects directly.</summary>
    public string? Proxy { get; }

    /// <summary>Listening, Stopped, or Failed: the relay can no longer work (its listening socket
    /// broke); <see cref="FailureReason"/> says why.</summary>
    public ServerState State => (ServerState)Volatile.Read(ref _state);

    /// <summary>Why the relay failed, when its state is Failed.</summary>
    public string? FailureReason => Volatile.Read(ref _failureReason);

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

    /// <summary>The computer that made this object (where it lives), so one that comes back
    /// from Invoke-Command or a job says where it was made.</summary>
    public string MachineName => SocketOrigin.MachineName;

    /// <summary>The process that made this object: SockPS's identifier for it
    /// (<see cref="SocketOrigin.InstanceId"/>). Only that process can use it.</summary>
    public Guid ProcessInstanceId => SocketOrigin.InstanceId;

    /// <summary>The process id of the process that made this object.</summary>
    public int ProcessId => SocketOrigin.ProcessId;

    /// <summary>The listening address as text (127.0.0.1:8080, a socket file).</summary>
    public string LocalEndPointText => EndPointText.Format(LocalEndPoint);

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

        bool unixTarget = options.TargetPath is not null || options.TargetAbstractName is not null;
        if (datagram && options.TargetAbstractName is not null)
        {
            throw new SocketOperationException(SocketFailureKind.InvalidArgument, "A UDP relay forwards to hosts and ports; an abstract socket target is for stream relays.");
        }

        if (options.Proxy is not null && (datagram || unixTarget))
        {
            throw new SocketOperationException(SocketFailureKind.InvalidArgument, datagram
                ? "A proxy carries TCP connections only: a UDP relay cannot forward through it."
                : "A proxy reaches hosts and ports; a Unix socket target is reached directly.")
            {
                Setting = SocketSetting.ProxyNotApplicable,
            };
        }

        if ((options.LocalAddress is not null || options.LocalPort != 0) && unixTarget)
        {
            throw new SocketOperationException(SocketFailureKind.InvalidArgument, "A local address and port choose where connections to a host come from; a Unix socket target has no such address.")
            {
                Setting = SocketSetting.LocalBindingNotApplicable,
            };
        }

        Socket listener;
        EndPoint where;
        if (options.ListenAbstractName is not null)
        {
            where = UnixSockets.CreateAbstractEndPoint(options.ListenAbstractName);
            listener = new Socket(AddressFamily.Unix, datagram ? SocketType.Dgram : SocketType.Stream, ProtocolType.Unspecified);
        }
        else if (options.ListenPath is not null)
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
            string text = options.ListenPath ?? (options.ListenAbstractName is not null ? "@" + options.ListenAbstractName : EndPointText.Format(options.Listen!));
            throw SocketErrors.Classify(ex.SocketErrorCode) == SocketFailureKind.AddressInUse
                ? new SocketOperationException(SocketFailureKind.AddressInUse,
                    $"Cannot listen on {text}: the address is already in use. Pick another port.", text, ex) { Setting = SocketSetting.RelayListenPort }
                : new SocketOperationException(SocketFailureKind.InvalidArgument, $"Cannot listen on {text}: {ex.Message}", text, ex);
        }

        SocketRelay relay = new(options, listener);
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
    public void Stop() => Stop(ServerState.Stopped);

    /// <summary>The one way a relay ends: stopped by its user, or failed. Either way the listener
    /// and every forward close.</summary>
    private void Stop(ServerState final)
    {
        if (Interlocked.CompareExchange(ref _state, (int)final, (int)ServerState.Listening) != (int)ServerState.Listening)
        {
            return;
        }

        _stopping.Cancel();
        _udpSweep?.Dispose();
        _listener.Dispose();
        foreach (UdpAssociation association in _udpClients.Values)
        {
            association.Close();
        }

        if (_options.ListenPath is not null)
        {
            UnixSockets.TryDeleteSocketFile(_options.ListenPath);
        }

        Stopped?.Invoke(this, EventArgs.Empty);
    }

    /// <summary>Raised once when the relay has stopped or failed (State says which).</summary>
    public event EventHandler? Stopped;

    /// <summary>Same as <see cref="Stop()"/>.</summary>
    public void Dispose() => Stop();

    /// <summary>Fault injection for the tests: the listening socket closes under the running loop,
    /// as when the OS takes it away.</summary>
    internal void BreakListenerForTesting() => _listener.Dispose();

    /// <summary>"tcp 127.0.0.1:8080 -> db.example:5432 (Listening)", with "via socks5://..." through a proxy.</summary>
    public override string ToString() =>
        $"{Protocol.ToString().ToLowerInvariant()} {EndPointText.Format(LocalEndPoint)} -> {Target}{(Proxy is null ? string.Empty : " via " + _options.Proxy)} ({State})";

    /// <summary>One client, one datagram or one forward could not be served: counted and kept as
    /// LastError; the relay goes on.</summary>
    private void Fail(Exception ex)
    {
        Interlocked.Increment(ref _errorCount);
        Volatile.Write(ref _lastError, ex.Message);
    }

    /// <summary>The relay itself can no longer work: recorded, the state says Failed, and
    /// everything it holds is closed.</summary>
    private void FailRelay(Exception ex)
    {
        Fail(ex);
        Interlocked.CompareExchange(ref _failureReason, ex.Message, null);
        Stop(ServerState.Failed);
    }

    // ------------------------------------------------------------------ streams

    private async Task AcceptLoopAsync()
    {
        CancellationToken stopping = _stopping.Token;
        int failuresInARow = 0;
        try
        {
            while (!stopping.IsCancellationRequested)
            {
                Socket client;
                try
                {
                    client = await _listener.AcceptAsync().ConfigureAwait(false);
                    failuresInARow = 0;
                }
                catch (SocketException ex) when (!stopping.IsCancellationRequested && IsTransientAcceptError(ex) && ++failuresInARow < 100)
                {
                    // One client that gave up before it was accepted, or no descriptor free for
                    // a moment: that client is lost, the relay goes on. A short pause keeps a
                    // lasting shortage from spinning.
                    Fail(ex);
                    await Task.Delay(Math.Min(1000, 10 * failuresInARow), stopping).ConfigureAwait(false);
                    continue;
                }

                Interlocked.Increment(ref _clientCount);
                _ = ForwardAsync(client, stopping);
            }
        }
        catch (Exception) when (stopping.IsCancellationRequested)
        {
            // Stopped.
        }
        catch (Exception ex)
        {
            FailRelay(new SocketOperationException(SocketFailureKind.Unknown,
                $"The relay on {EndPointText.Format(LocalEndPoint)} stopped accepting: {ex.Message}", EndPointText.Format(LocalEndPoint), ex));
        }
    }

    private static bool IsTransientAcceptError(SocketException ex) =>
        ex.SocketErrorCode is SocketError.ConnectionAborted or SocketError.ConnectionReset or SocketError.TooManyOpenSockets
            or SocketError.NoBufferSpaceAvailable or SocketError.Interrupted or SocketError.TryAgain or SocketError.WouldBlock;

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

            target = await ConnectTargetAsync(setup.Token, () => setup.IsCancellationRequested && !stopping.IsCancellationRequested).ConfigureAwait(false);
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

    private async Task<Socket> ConnectTargetAsync(CancellationToken token, Func<bool> timerFired)
    {
        if (_options.TargetAbstractName is not null)
        {
            Socket unix = new(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            try
            {
                await SocketConnector.ConnectOneAsync(unix, UnixSockets.CreateAbstractEndPoint(_options.TargetAbstractName), token).ConfigureAwait(false);
                return unix;
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                unix.Dispose();
                throw SocketConnector.AbstractConnectFailed(ex, Target);
            }
        }

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

        ConnectionOptions route = new()
        {
            Proxy = _options.Proxy,
            LocalAddress = _options.LocalAddress,
            LocalPort = _options.LocalPort,
        };
        OpenedSocket opened = await SocketConnector.OpenTcpAsync(_options.TargetHost!, _options.TargetPort, route, null, _options.ConnectTimeout, timerFired, token).ConfigureAwait(false);
        opened.Socket.NoDelay = true;
        return opened.Socket;
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
        public UdpAssociation(Socket upstream, string? boundPath)
        {
            Upstream = upstream;
            BoundPath = boundPath;
        }

        public Socket Upstream { get; }

        /// <summary>The Unix socket file the upstream socket is bound to, deleted with it.</summary>
        public string? BoundPath { get; }

        public int LastActivity = Environment.TickCount;

        public void Close()
        {
            Upstream.Dispose();
            if (BoundPath is not null)
            {
                UnixSockets.TryDeleteSocketFile(BoundPath);
            }
        }
    }

    private async Task UdpReceiveLoopAsync()
    {
        byte[] buffer = new byte[_listener.AddressFamily == AddressFamily.Unix ? 256 * 1024 : 65536];
        EndPoint any = EndPoints.AnyOf(_listener);
        try
        {
            while (!_stopping.IsCancellationRequested)
            {
                SocketReceiveFromResult received;
                try
                {
                    received = await _listener.ReceiveFromAsync(new ArraySegment<byte>(buffer), SocketFlags.None, any).ConfigureAwait(false);
                }
                catch (SocketException ex) when (!_stopping.IsCancellationRequested && SocketErrors.Classify(ex.SocketErrorCode) is SocketFailureKind.ConnectionRefused or SocketFailureKind.ConnectionReset)
                {
                    // ICMP for a reply this socket sent earlier: the socket still works.
                    Fail(ex);
                    continue;
                }

                try
                {
                    await ForwardDatagramAsync(buffer, received).ConfigureAwait(false);
                }
                catch (Exception ex) when (!_stopping.IsCancellationRequested)
                {
                    // One datagram that could not be forwarded (the target unreachable, a name
                    // that does not resolve, a sender with no address): counted, the relay goes on.
                    Fail(ex);
                }
            }
        }
        catch (Exception) when (_stopping.IsCancellationRequested)
        {
            // Stopped.
        }
        catch (Exception ex)
        {
            FailRelay(new SocketOperationException(SocketFailureKind.Unknown,
                $"The relay on {EndPointText.Format(LocalEndPoint)} stopped receiving: {ex.Message}", EndPointText.Format(LocalEndPoint), ex));
        }
    }

    private async Task ForwardDatagramAsync(byte[] buffer, SocketReceiveFromResult received)
    {
        EndPoint sender = received.RemoteEndPoint;
        bool canReply = !(sender.AddressFamily == AddressFamily.Unix && UnixSockets.IsUnnamed(sender));
        if (!_udpClients.TryGetValue(sender, out UdpAssociation? association))
        {
            association = await OpenUdpAssociationAsync(sender, canReply).ConfigureAwait(false);
        }

        association.LastActivity = Environment.TickCount;
        association.Upstream.Send(buffer, 0, received.ReceivedBytes, SocketFlags.None);
        Interlocked.Add(ref _bytesToTarget, received.ReceivedBytes);
    }

    /// <summary>A socket of the relay's own towards the target for one client, so the target's
    /// answers can be told apart and sent back to that client. A Unix datagram target gets a
    /// bound socket of its own (an unnamed one could not be answered).</summary>
    private async Task<UdpAssociation> OpenUdpAssociationAsync(EndPoint client, bool canReply)
    {
        Socket upstream;
        string? boundPath = null;
        if (_options.TargetPath is not null)
        {
            upstream = new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
            try
            {
                boundPath = UnixSockets.NewClientPath();
                upstream.Bind(UnixSockets.CreateEndPoint(boundPath));
                upstream.Connect(UnixSockets.CreateEndPoint(_options.TargetPath));
            }
            catch (Exception ex) when (ex is SocketException or SocketOperationException)
            {
                upstream.Dispose();
                if (boundPath is not null)
                {
                    UnixSockets.TryDeleteSocketFile(boundPath);
                }

                throw ex is SocketException se ? SocketConnector.UnixConnectFailed(se, _options.TargetPath) : ex;
            }
        }
        else
        {
            IReadOnlyList<IPAddress> addresses = await SocketConnector.ResolveAsync(_options.TargetHost!, _options.LocalAddress?.AddressFamily, _stopping.Token).ConfigureAwait(false);
            IPAddress address = addresses[0];
            upstream = new Socket(address.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
            try
            {
                SocketConnection.DisableUdpConnectionReset(upstream);
                LocalBinding.Bind(upstream, _options.LocalAddress, _options.LocalPort);
                upstream.Connect(new IPEndPoint(address, _options.TargetPort));
            }
            catch (Exception)
            {
                upstream.Dispose();
                throw;
            }
        }

        UdpAssociation association = new(upstream, boundPath);
        _udpClients[client] = association;
        Interlocked.Increment(ref _clientCount);
        Interlocked.Increment(ref _activeClients);
        _ = UdpReplyLoopAsync(client, association, canReply);
        return association;
    }

    private async Task UdpReplyLoopAsync(EndPoint client, UdpAssociation association, bool canReply)
    {
        byte[] buffer = new byte[association.Upstream.AddressFamily == AddressFamily.Unix ? 256 * 1024 : 65536];
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
                if (!canReply)
                {
                    // The client's socket has no address (an unnamed Unix socket): the answer
                    // has nowhere to go.
                    continue;
                }

                try
                {
                    _listener.SendTo(buffer, 0, read, SocketFlags.None, client);
                    Interlocked.Add(ref _bytesFromTarget, read);
                }
                catch (SocketException ex) when (!_stopping.IsCancellationRequested)
                {
                    // This one answer could not go back (the client went away): counted.
                    Fail(ex);
                }
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

            association.Close();
        }
    }

    private void SweepUdpClients()
    {
        int limit = (int)_options.UdpIdleTimeout.TotalMilliseconds;
        foreach (KeyValuePair<EndPoint, UdpAssociation> pair in _udpClients)
        {
            if (unchecked(Environment.TickCount - pair.Value.LastActivity) >= limit)
            {
                pair.Value.Close();
            }
        }
    }
}
