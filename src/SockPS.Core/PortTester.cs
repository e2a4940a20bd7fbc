using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Threading;
using System.Threading.Tasks;

namespace SockPS.Core;

/// <summary>Settings shared by the checks of one <see cref="PortTester"/>.</summary>
public sealed class PortTestOptions
{
    /// <summary>The default timeout of one check: room for a TCP SYN and its first
    /// retransmission (one second later), and for three UDP probes.</summary>
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(3);

    /// <summary>The default total wait of a check with <see cref="Wait"/>.</summary>
    public static readonly TimeSpan DefaultWaitTimeout = TimeSpan.FromSeconds(60);

    /// <summary>Per check, name lookup included; with <see cref="Wait"/> the whole wait. Zero: no
    /// bound (a TCP connect waits as long as the OS tries).</summary>
    public TimeSpan Timeout { get; set; } = DefaultTimeout;

    /// <summary>At most this many checks have a socket open at once.</summary>
    public int ThrottleLimit { get; set; } = 100;

    /// <summary>Only addresses of this family, or null for any.</summary>
    public AddressFamily? AddressFamily { get; set; }

    /// <summary>The datagram UDP checks send.</summary>
    public UdpProbe UdpProbe { get; set; } = UdpProbe.Auto;

    /// <summary>Retry until the port opens or <see cref="Timeout"/> has passed.</summary>
    public bool Wait { get; set; }

    /// <summary>With <see cref="Wait"/>: attempts start this far apart.</summary>
    public TimeSpan RetryInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>With <see cref="Wait"/>: called after each attempt that did not find the port
    /// open, on a thread-pool thread.</summary>
    public Action<PortTestResult>? AttemptFailed { get; set; }

    /// <summary>TCP: check through this proxy (the proxy connects to the port); null checks directly.</summary>
    public ProxySettings? Proxy { get; set; }

    /// <summary>The local address checks are made from; null lets the OS choose.</summary>
    public IPAddress? LocalAddress { get; set; }

    /// <summary>The local port checks are made from; 0 lets the OS choose. Checks with a fixed
    /// port run one at a time: two sockets cannot be bound to it at once.</summary>
    public int LocalPort { get; set; }
}

/// <summary>
/// Checks whether ports accept connections (TCP) or answer (UDP), many at once: every check is
/// an asynchronous connect or receive, never a thread, and at most
/// <see cref="PortTestOptions.ThrottleLimit"/> of them hold a socket at a time. A failure is a
/// result with a <see cref="PortStatus"/>, never an exception. Names are looked up once per
/// tester and shared by their checks.
/// </summary>
public sealed class PortTester
{
    /// <summary>UDP: the probe is sent again this often while nothing came back.</summary>
    internal static readonly TimeSpan ResendInterval = TimeSpan.FromSeconds(1);

    /// <summary>UDP: at most this many probes per attempt.</summary>
    internal const int MaxProbes = 3;

    /// <summary>With -Wait, an attempt that gets no answer gives up after this long (or the retry
    /// interval, when longer) and a fresh one starts, so a port that opens is seen soon even
    /// when the OS backs its SYN retransmissions off.</summary>
    internal static readonly TimeSpan WaitAttemptLimit = TimeSpan.FromSeconds(5);

    private readonly PortTestOptions _options;
    private readonly SemaphoreSlim _slots;
    private readonly ConcurrentDictionary<string, Task<IReadOnlyList<IPAddress>>> _names = new(StringComparer.OrdinalIgnoreCase);
    private int _completed;
    private int _open;

    /// <summary>Creates a tester; the options are read now.</summary>
    public PortTester(PortTestOptions options)
    {
        if (options.ThrottleLimit < 1)
        {
            throw new SocketOperationException(SocketFailureKind.InvalidArgument, "The throttle limit must be at least 1.");
        }

        _options = new PortTestOptions
        {
            Timeout = options.Timeout,
            ThrottleLimit = options.ThrottleLimit,
            AddressFamily = options.AddressFamily,
            UdpProbe = options.UdpProbe,
            Wait = options.Wait,
            RetryInterval = options.RetryInterval,
            AttemptFailed = options.AttemptFailed,
            Proxy = options.Proxy,
            LocalAddress = options.LocalAddress,
            LocalPort = options.LocalPort,
        };
        if (options.Proxy is not null && options.LocalAddress is not null && options.AddressFamily is not null
            && options.LocalAddress.AddressFamily != options.AddressFamily)
        {
            throw new SocketOperationException(SocketFailureKind.InvalidArgument,
                $"The local address {options.LocalAddress} is an {EndPoints.Family(options.LocalAddress.AddressFamily)} address, but the address family asked for is {EndPoints.Family(options.AddressFamily.Value)}.")
            {
                Setting = SocketSetting.LocalAddress,
            };
        }

        // A fixed local port can be bound by one socket at a time.
        int slots = options.LocalPort != 0 ? 1 : options.ThrottleLimit;
        _slots = new SemaphoreSlim(slots, slots);
    }

    /// <summary>Checks finished so far.</summary>
    public int CompletedCount => Volatile.Read(ref _completed);

    /// <summary>Checks finished so far that found the port open.</summary>
    public int OpenCount => Volatile.Read(ref _open);

    /// <summary>Checks one port of one host. Completes with a result for every outcome but
    /// cancellation (then it throws <see cref="OperationCanceledException"/>).</summary>
    /// <param name="computerName">A name or an IP address.</param>
    /// <param name="port">1-65535.</param>
    /// <param name="protocol">Tcp (connect) or Udp (probe).</param>
    /// <param name="cancellationToken">Stops the check (Ctrl+C).</param>
    public async Task<PortTestResult> TestAsync(string computerName, int port, SocketProtocol protocol, CancellationToken cancellationToken)
    {
        string host = computerName.Trim();
        UdpProbe? probe = protocol == SocketProtocol.Udp ? UdpProbes.Choose(_options.UdpProbe, port) : null;
        PortTestResult result;
        try
        {
            result = _options.Wait
                ? await WaitForOpenAsync(host, port, protocol, probe, cancellationToken).ConfigureAwait(false)
                : ToResult(host, port, protocol, probe, await AttemptAsync(host, port, protocol, probe, _options.Timeout, false, cancellationToken).ConfigureAwait(false), 1);
        }
        catch (OperationCanceledException)
        {
            throw;
        }
        catch (Exception ex)
        {
            // Whatever was not foreseen is still a result: one bad target must not end a scan.
            result = new PortTestResult(host, null, port, protocol, PortStatus.Failed, null, $"The check failed: {ex.Message}", 1, probe)
            {
                Proxy = _options.Proxy?.Text,
            };
        }

        Interlocked.Increment(ref _completed);
        if (result.Status == PortStatus.Open)
        {
            Interlocked.Increment(ref _open);
        }

        return result;
    }

    private async Task<PortTestResult> WaitForOpenAsync(string host, int port, SocketProtocol protocol, UdpProbe? probe, CancellationToken token)
    {
        TimeSpan total = _options.Timeout;
        TimeSpan retry = _options.RetryInterval;
        TimeSpan attemptLimit = retry > WaitAttemptLimit ? retry : WaitAttemptLimit;
        Stopwatch? clock = null;
        Stopwatch attemptClock = new();
        Attempt last = default;
        int attempts = 0;
        while (true)
        {
            TimeSpan attemptTimeout = attemptLimit;
            if (total > TimeSpan.Zero)
            {
                TimeSpan remaining = total - (clock?.Elapsed ?? TimeSpan.Zero);
                if (remaining <= TimeSpan.Zero)
                {
                    break;
                }

                attemptTimeout = remaining < attemptLimit ? remaining : attemptLimit;
            }

            bool cutShort = attemptTimeout < attemptLimit;
            Attempt previous = last;
            // The first attempt starts the clock, so a check queued behind the throttle loses none of its wait.
            last = await AttemptAsync(host, port, protocol, probe, attemptTimeout, attempts > 0 && last.Status == PortStatus.HostNotFound, token,
                () =>
                {
                    clock ??= Stopwatch.StartNew();
                    attemptClock.Restart();
                }).ConfigureAwait(false);
            if (cutShort && last.Status == PortStatus.TimedOut && attempts > 0)
            {
                // The wait ran out in the middle of this attempt, so its "no answer" says only
                // that time was up; the attempt before says what the port did.
                last = previous;
                break;
            }

            attempts++;
            TimeSpan elapsed = clock!.Elapsed;
            if (last.Status == PortStatus.Open)
            {
                return attempts == 1
                    ? ToResult(host, port, protocol, probe, last, attempts)
                    : ToResult(host, port, protocol, probe,
                        new Attempt(last.Address, PortStatus.Open, last.Latency, $"Opened after {attempts} attempts ({EndPointText.Seconds(Round(elapsed))}). {last.Message}", last.LocalEndPoint),
                        attempts);
            }

            if (total > TimeSpan.Zero && elapsed >= total)
            {
                break;
            }

            _options.AttemptFailed?.Invoke(ToResult(host, port, protocol, probe, last, attempts));
            TimeSpan pause = retry - attemptClock.Elapsed;
            bool final = total > TimeSpan.Zero && pause >= total - elapsed;
            if (final)
            {
                // The next attempt would start when the wait is over: wait it out, and report this one.
                pause = total - elapsed;
            }

            if (pause > TimeSpan.Zero)
            {
                await Task.Delay(pause, token).ConfigureAwait(false);
            }

            if (final)
            {
                break;
            }
        }

        return ToResult(host, port, protocol, probe,
            new Attempt(last.Address, PortStatus.TimedOut, null,
                $"Did not open within {EndPointText.Seconds(total)} ({attempts} attempt{(attempts == 1 ? string.Empty : "s")}); the last: {last.Message}", last.LocalEndPoint),
            attempts);
    }

    private static TimeSpan Round(TimeSpan elapsed) => TimeSpan.FromSeconds(Math.Round(elapsed.TotalSeconds, 1));

    private PortTestResult ToResult(string host, int port, SocketProtocol protocol, UdpProbe? probe, Attempt attempt, int attempts) =>
        new(host, attempt.Address, port, protocol, attempt.Status, attempt.Latency, attempt.Message, attempts, probe)
        {
            LocalEndPoint = attempt.LocalEndPoint,
            Proxy = _options.Proxy?.Text,
        };

    /// <summary>One attempt: waits for a slot, looks the name up, then tries each address in the
    /// resolver's order (as Connect-Socket does) until one is open or the time is spent.</summary>
    private async Task<Attempt> AttemptAsync(string host, int port, SocketProtocol protocol, UdpProbe? probe, TimeSpan timeout, bool lookUpAgain,
        CancellationToken callerToken, Action? started = null)
    {
        await _slots.WaitAsync(callerToken).ConfigureAwait(false);
        try
        {
            started?.Invoke();
            using CancellationTokenSource? timer = timeout > TimeSpan.Zero ? new CancellationTokenSource(timeout) : null;
            using CancellationTokenSource linked = CancellationTokenSource.CreateLinkedTokenSource(callerToken, timer?.Token ?? CancellationToken.None);
            bool TimerFired() => timer?.IsCancellationRequested == true && !callerToken.IsCancellationRequested;

            if (_options.Proxy is not null && protocol == SocketProtocol.Tcp)
            {
                return await ProxyAsync(host, port, timeout, linked.Token, TimerFired).ConfigureAwait(false);
            }

            IReadOnlyList<IPAddress> addresses;
            try
            {
                addresses = await LookUpAsync(host, lookUpAgain, linked.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (TimerFired())
            {
                return new Attempt(null, PortStatus.TimedOut, null,
                    $"The name lookup of '{host}' did not finish within {EndPointText.Seconds(timeout)}. Check your DNS settings, or use an IP address.");
            }
            catch (SocketOperationException ex)
            {
                // Short, for a table: the name and the resolver's reason.
                SocketException? se = SocketErrors.FindSocketException(ex);
                return ex.Kind == SocketFailureKind.HostNotFound
                    ? new Attempt(null, PortStatus.HostNotFound, null, se is null ? ex.Message : $"'{host}' does not resolve: {se.Message.TrimEnd('.')}.")
                    : new Attempt(null, PortStatus.Failed, null, ex.Message);
            }

            if (_options.LocalAddress is not null)
            {
                addresses = LocalBinding.Reachable(addresses, _options.LocalAddress);
                if (addresses.Count == 0)
                {
                    return new Attempt(null, PortStatus.HostNotFound, null,
                        $"'{host}' has no {EndPoints.Family(_options.LocalAddress.AddressFamily)} address, and the local address {_options.LocalAddress} can reach only those.");
                }
            }

            Attempt last = default;
            List<IPAddress> tried = new();
            foreach (IPAddress address in addresses)
            {
                tried.Add(address);
                last = protocol == SocketProtocol.Udp
                    ? await UdpAsync(address, port, probe ?? UdpProbe.Empty, timeout, linked.Token, TimerFired).ConfigureAwait(false)
                    : await TcpAsync(address, port, timeout, linked.Token, TimerFired).ConfigureAwait(false);
                if (last.Status == PortStatus.Failed && last.LocalBindFailed)
                {
                    break; // the local address or port, not the target: every address fails alike
                }

                if (last.Status == PortStatus.Open || TimerFired())
                {
                    break;
                }
            }

            if (tried.Count > 1 && last.Status != PortStatus.Open)
            {
                last = new Attempt(last.Address, last.Status, last.Latency, $"Tried {string.Join(", ", tried)}; the last: {last.Message}", last.LocalEndPoint);
            }

            return last;
        }
        finally
        {
            _slots.Release();
        }
    }

    /// <summary>The addresses of a name, looked up once per tester (again after a failure, when
    /// asked); an IP address is itself.</summary>
    private async Task<IReadOnlyList<IPAddress>> LookUpAsync(string host, bool again, CancellationToken token)
    {
        Task<IReadOnlyList<IPAddress>> lookup = again
            ? (_names[host] = StartLookUp(host))
            : _names.GetOrAdd(host, StartLookUp);
        if (!lookup.IsCompleted && token.CanBeCanceled)
        {
            await Task.WhenAny(lookup, Task.Delay(Timeout.Infinite, token)).ConfigureAwait(false);
            token.ThrowIfCancellationRequested();
        }

        return await lookup.ConfigureAwait(false);
    }

    private Task<IReadOnlyList<IPAddress>> StartLookUp(string host)
    {
        Task<IReadOnlyList<IPAddress>> lookup = SocketConnector.ResolveAsync(host, _options.AddressFamily, CancellationToken.None);
        _ = lookup.ContinueWith(t => _ = t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);
        return lookup;
    }

    private async Task<Attempt> TcpAsync(IPAddress address, int port, TimeSpan timeout, CancellationToken token, Func<bool> timerFired)
    {
        Socket? socket = null;
        Stopwatch watch = Stopwatch.StartNew();
        try
        {
            // In the try: a machine without IPv6 fails here, and the next address is tried.
            socket = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
            LocalBinding.Bind(socket, _options.LocalAddress, _options.LocalPort);
            watch.Restart();
            await SocketConnector.ConnectOneAsync(socket, new IPEndPoint(address, port), token).ConfigureAwait(false);
            return new Attempt(address, PortStatus.Open, watch.Elapsed, "A TCP connection was made.", SafeLocal(socket));
        }
        catch (SocketOperationException ex)
        {
            return BindFailed(address, ex);
        }
        catch (OperationCanceledException) when (timerFired())
        {
            return new Attempt(address, PortStatus.TimedOut, null,
                $"No answer within {EndPointText.Seconds(timeout)}: a firewall may drop the packets, or the host is down.");
        }
        catch (Exception ex) when (ex is not OperationCanceledException && LocalBinding.PortTaken(ex, _options.LocalAddress, _options.LocalPort, EndPointText.Format(address, port)) is { } taken)
        {
            return BindFailed(address, taken);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            SocketException? se = SocketErrors.FindSocketException(ex);
            TimeSpan latency = watch.Elapsed;
            EndPoint? local = SafeLocal(socket);
            return se?.SocketErrorCode switch
            {
                SocketError.ConnectionRefused => new Attempt(address, PortStatus.Refused, latency,
                    "Nothing listens there: the host sent a TCP reset.", local),
                SocketError.ConnectionReset or SocketError.ConnectionAborted => new Attempt(address, PortStatus.Refused, latency,
                    "The host reset the connection while it was being made.", local),
                SocketError.TimedOut => new Attempt(address, PortStatus.TimedOut, null,
                    "No answer before the operating system gave up: a firewall may drop the packets, or the host is down.", local),
                _ => Other(address, se, ex, latency),
            };
        }
        finally
        {
            // A plain close (FIN), so the service sees a client that left rather than an error.
            socket?.Dispose();
        }
    }

    private async Task<Attempt> UdpAsync(IPAddress address, int port, UdpProbe probe, TimeSpan timeout, CancellationToken token, Func<bool> timerFired)
    {
        byte[] payload = UdpProbes.Build(probe, out ushort id);
        Socket? socket = null;
        EndPoint? bound = null;
        Task<int>? receive = null;
        Stopwatch watch = Stopwatch.StartNew();
        try
        {
            socket = new Socket(address.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
            LocalBinding.Bind(socket, _options.LocalAddress, _options.LocalPort);
            // Connected, so ICMP port unreachable comes back as an error on this socket
            // (ECONNREFUSED on Linux and macOS, WSAECONNRESET on Windows).
            socket.Connect(new IPEndPoint(address, port));
            bound = SafeLocal(socket);
            byte[] buffer = new byte[4096];
            // Closing the socket is the only way to end a pending receive on netstandard2.0.
            Socket owned = socket;
            using CancellationTokenRegistration abort = token.Register(() => owned.Dispose());
            watch.Restart();
            socket.Send(payload);
            receive = socket.ReceiveAsync(new ArraySegment<byte>(buffer), SocketFlags.None);
            for (int sent = 1; !receive.IsCompleted;)
            {
                await Task.WhenAny(receive, Task.Delay(ResendInterval, token)).ConfigureAwait(false);
                token.ThrowIfCancellationRequested();
                if (!receive.IsCompleted && sent < MaxProbes)
                {
                    socket.Send(payload);
                    sent++;
                }
            }

            int length = await receive.ConfigureAwait(false);
            return new Attempt(address, PortStatus.Open, watch.Elapsed, UdpProbes.DescribeAnswer(probe, buffer, length, id), bound);
        }
        catch (SocketOperationException ex)
        {
            return BindFailed(address, ex);
        }
        catch (Exception ex) when (token.IsCancellationRequested)
        {
            // The timer or Ctrl+C closed the socket; whatever the socket threw is beside the point.
            if (!timerFired())
            {
                throw new OperationCanceledException("The check was stopped.", ex, token);
            }

            string why = probe switch
            {
                UdpProbe.Dns => "and no DNS server answered the query",
                UdpProbe.Ntp => "and no NTP server answered the request",
                _ => "and most services ignore an empty datagram",
            };
            return new Attempt(address, PortStatus.NoAnswer, null,
                $"No answer within {EndPointText.Seconds(timeout)}: the port may be open or filtered; UDP has no handshake, {why}.", bound);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            SocketException? se = SocketErrors.FindSocketException(ex);
            TimeSpan latency = watch.Elapsed;
            return se?.SocketErrorCode switch
            {
                SocketError.ConnectionRefused or SocketError.ConnectionReset => new Attempt(address, PortStatus.Refused, latency,
                    "Nothing listens there: ICMP port unreachable.", bound),
                SocketError.MessageSize => new Attempt(address, PortStatus.Open, latency, "An answer came back (larger than 4096 bytes).", bound),
                _ => Other(address, se, ex, latency),
            };
        }
        finally
        {
            socket?.Dispose();
            if (receive is not null && !receive.IsCompleted)
            {
                _ = receive.ContinueWith(t => _ = t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);
            }
        }
    }

    private static Attempt Other(IPAddress address, SocketException? se, Exception ex, TimeSpan latency) =>
        SocketErrors.Classify(se?.SocketErrorCode ?? SocketError.SocketError) switch
        {
            SocketFailureKind.Unreachable => new Attempt(address, PortStatus.Unreachable, latency,
                $"The network or host is unreachable ({se!.Message}). Check the address and your routes."),
            SocketFailureKind.AccessDenied => new Attempt(address, PortStatus.Failed, latency,
                $"The operating system did not allow it ({se!.Message}); a local firewall rule, or a broadcast address, may be the cause."),
            _ => new Attempt(address, PortStatus.Failed, latency, $"The check failed: {(se ?? ex).Message}"),
        };

    /// <summary>A check through the proxy: the proxy connects to the port, and its answer is the
    /// result. A proxy that cannot be used says nothing about the port: ProxyFailed.</summary>
    private async Task<Attempt> ProxyAsync(string host, int port, TimeSpan timeout, CancellationToken token, Func<bool> timerFired)
    {
        ProxySettings proxy = _options.Proxy!;
        ConnectionOptions route = new()
        {
            Proxy = proxy,
            LocalAddress = _options.LocalAddress,
            LocalPort = _options.LocalPort,
        };
        Stopwatch watch = Stopwatch.StartNew();
        OpenedSocket opened;
        try
        {
            opened = await SocketConnector.OpenTcpAsync(host, port, route, _options.AddressFamily, timeout, timerFired, token).ConfigureAwait(false);
        }
        catch (SocketOperationException ex)
        {
            TimeSpan latency = watch.Elapsed;
            IPAddress? address = IPAddress.TryParse(EndPointText.Unbracket(host), out IPAddress? literal) ? literal : null;
            PortStatus status = ex.TargetStatus ?? ex.Kind switch
            {
                SocketFailureKind.HostNotFound => PortStatus.HostNotFound,
                SocketFailureKind.ConnectTimeout => PortStatus.TimedOut,
                SocketFailureKind.ProxyTargetUnreachable => PortStatus.Failed,
                SocketFailureKind.AddressInUse or SocketFailureKind.AddressNotAvailable or SocketFailureKind.AccessDenied
                    or SocketFailureKind.InvalidArgument => PortStatus.Failed,
                _ => PortStatus.ProxyFailed,
            };
            return new Attempt(address, status, status is PortStatus.Refused or PortStatus.Unreachable ? latency : null, ex.Message);
        }

        using Socket socket = opened.Socket;
        return new Attempt((opened.RemoteEndPoint as IPEndPoint)?.Address, PortStatus.Open, watch.Elapsed,
            $"{ProxyHandshake.Capital(proxy.Describe())} connected to it.", SafeLocal(socket));
    }

    private static EndPoint? SafeLocal(Socket? socket)
    {
        try
        {
            return socket?.LocalEndPoint;
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
            return null;
        }
    }

    /// <summary>The local address or port could not be bound: a failure of the check, not of the port.</summary>
    private static Attempt BindFailed(IPAddress address, SocketOperationException ex) =>
        new(address, PortStatus.Failed, null, ex.Message, null, localBindFailed: true);

    private readonly struct Attempt
    {
        public Attempt(IPAddress? address, PortStatus status, TimeSpan? latency, string message, EndPoint? localEndPoint = null, bool localBindFailed = false)
        {
            Address = address;
            Status = status;
            Latency = latency;
            Message = message;
            LocalEndPoint = localEndPoint;
            LocalBindFailed = localBindFailed;
        }

        public EndPoint? LocalEndPoint { get; }

        public bool LocalBindFailed { get; }

        public IPAddress? Address { get; }

        public PortStatus Status { get; }

        public TimeSpan? Latency { get; }

        public string Message { get; }
    }
}
