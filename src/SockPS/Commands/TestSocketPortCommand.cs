using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.Linq;
using System.Management.Automation;
using System.Net.Sockets;
using System.Threading;
using System.Threading.Tasks;
using SockPS.Core;

namespace SockPS.Commands;

/// <summary>
/// <para type="synopsis">Tests whether ports are open on one or many hosts, all at once, with a timeout and a reason for each result (nc -z, nmap -sT/-sU).</para>
/// <para type="description">Every host and port pair is one check; the checks run concurrently as
/// asynchronous connects (at most -ThrottleLimit at a time, not a thread each), and each becomes a
/// PortTestResult with a Status (Open, Refused, TimedOut, NoAnswer, HostNotFound, Unreachable or
/// Failed), the Latency of the answer and a Message saying what happened. A port that is not
/// open is a result, not an error. Results come out in input order (hosts, then ports, as given).</para>
/// </summary>
[Cmdlet(VerbsDiagnostic.Test, "SocketPort")]
[OutputType(typeof(SockPSJob))]
[OutputType(typeof(PortTestResult))]
[OutputType(typeof(bool))]
[OutputType(typeof(PortTestSummary))]
public sealed class TestSocketPortCommand : SockPSCmdlet
{
    /// <summary>Run as a job in this process (as Start-ThreadJob does) and return the job at once:
    /// Get-Job, Wait-Job, Receive-Job and Stop-Job work on it, Receive-Job returns the live objects
    /// and the errors with their SockPS ids, and Stop-Job cancels the work.</summary>
    [Parameter]
    public SwitchParameter AsJob { get; set; }

    /// <inheritdoc/>
    protected override bool RunsAsJob => AsJob;


    private const int MinimumWindow = 256;

    private readonly Queue<Task<PortTestResult>> _pending = new();
    private readonly ConcurrentQueue<PortTestResult> _failedAttempts = new();
    private CancellationTokenSource? _checks;
    private PortTester? _tester;
    private int _window;
    private int _added;
    private bool _inputEnded;
    private ProgressRecord? _progress;

    /// <summary>The host names or IP addresses to test.</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [Alias("HostName", "Host", "CN")]
    [ValidateNotNullOrEmpty]
    public string[] ComputerName { get; set; } = null!;

    /// <summary>The ports to test on every host: numbers, numeric strings, service names (tcp names,
    /// or udp names with -Protocol Udp), ranges such as 8000-8010, or comma-separated lists of these ("22,80,443").</summary>
    [Parameter(Mandatory = true, Position = 1, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    public string[] Port { get; set; } = null!;

    /// <summary>Tcp (default: a connect) or Udp (a probe datagram that must be answered).</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    public SocketProtocol Protocol { get; set; } = SocketProtocol.Tcp;

    /// <summary>Seconds each check may take, name lookup included. Default 3. With -Wait, the whole
    /// wait: default 60, and 0 waits until the port opens or Ctrl+C. Without -Wait, 0 sets no bound
    /// (a TCP connect waits as long as the OS tries).</summary>
    [Parameter]
    public double? TimeoutSeconds { get; set; }

    /// <summary>At most this many checks have a socket open at once. Default 100.</summary>
    [Parameter]
    public int ThrottleLimit { get; set; } = 100;

    /// <summary>Retry each check until the port opens or -TimeoutSeconds has passed (wait-for-it).</summary>
    [Parameter]
    public SwitchParameter Wait { get; set; }

    /// <summary>With -Wait: seconds from the start of one attempt to the start of the next. Default 1.</summary>
    [Parameter]
    public double? RetryIntervalSeconds { get; set; }

    /// <summary>Return $true (open) or $false for each check instead of a result object.</summary>
    [Parameter]
    public SwitchParameter Quiet { get; set; }

    /// <summary>UDP: the datagram to send. Auto (default): a DNS query to port 53, an NTP request to
    /// port 123, an empty datagram elsewhere. Dns, Ntp or Empty send that probe to every port.</summary>
    [Parameter]
    public UdpProbe UdpProbe { get; set; } = UdpProbe.Auto;

    /// <summary>Use only IPv4 (InterNetwork) or only IPv6 (InterNetworkV6) addresses of the hosts.</summary>
    [Parameter]
    [ValidateSet(nameof(System.Net.Sockets.AddressFamily.InterNetwork), nameof(System.Net.Sockets.AddressFamily.InterNetworkV6))]
    public AddressFamily? AddressFamily { get; set; }

    /// <summary>TCP only: check through a proxy, given as a URI (socks5://, socks5h://, socks4://,
    /// socks4a:// or http://host:port): the proxy connects to each port, and its answer is the
    /// result. A proxy that cannot be used gives ProxyFailed, with the proxy's reason.</summary>
    [Parameter]
    [ValidateNotNull]
    public Uri? Proxy { get; set; }

    /// <summary>The user name and password for -Proxy (SOCKS5 username/password, HTTP Basic).</summary>
    [Parameter]
    [Credential]
    [ValidateNotNull]
    public PSCredential? ProxyCredential { get; set; }

    /// <summary>The local address to check from (netcat's -s); only the hosts' addresses of its
    /// family are tried. Results show it in LocalEndPoint.</summary>
    [Parameter]
    [ValidateNotNull]
    public System.Net.IPAddress? LocalAddress { get; set; }

    /// <summary>The local port to check from (netcat's -p). With a fixed port the checks run one
    /// at a time, since only one socket can be bound to it. Default: 0, the OS chooses.</summary>
    [Parameter]
    [ValidateRange(0, 65535)]
    public int LocalPort { get; set; }

    #region Repeated checks: tcping (issue 14)

    private readonly List<(string Host, int Port, SocketProtocol Protocol)> _repeatTargets = new();
    private TimeSpan _interval = TimeSpan.FromSeconds(1);

    /// <summary>Check every host and port this many times, -IntervalSeconds apart, and write a
    /// result for each attempt as it finishes (Sequence says which), as ping -c and tcping do.
    /// Default: once (4 times with -Summary).</summary>
    [Parameter]
    [ValidateRange(1, int.MaxValue)]
    public int? Count { get; set; }

    /// <summary>Check again and again until Ctrl+C (or until a command later in the pipeline,
    /// such as Select-Object -First 10, has had enough), writing a result for each attempt: ping
    /// -t, tcping -t.</summary>
    [Parameter]
    public SwitchParameter Continuous { get; set; }

    /// <summary>With -Count or -Continuous: seconds from the start of one round of attempts to the
    /// start of the next. Default 1; 0 starts the next round as soon as one ends.</summary>
    [Parameter]
    public double? IntervalSeconds { get; set; }

    /// <summary>Instead of a result per attempt, write one summary per host and port when the
    /// attempts are done: Sent, Answered, LossPercent and the Minimum, Average, Maximum and
    /// StandardDeviation of the latency in milliseconds. Makes 4 attempts unless -Count says
    /// otherwise.</summary>
    [Parameter]
    public SwitchParameter Summary { get; set; }

    private bool Repeating => Count is not null || Continuous || Summary;

    /// <summary>Refuses the combinations of -Count, -Continuous, -Summary and -IntervalSeconds that
    /// cannot work, before anything is checked.</summary>
    private void ValidateRepeat()
    {
        if (Continuous && Count is not null)
        {
            ThrowInvalidArgument("-Count and -Continuous both say how many attempts to make: use one of them.", Count);
        }

        if (Continuous && Summary)
        {
            ThrowInvalidArgument("-Summary is written when the attempts are done, and -Continuous never is: use -Count with -Summary.", Summary);
        }

        if (Quiet && Summary)
        {
            ThrowInvalidArgument("-Quiet writes $true or $false per attempt, and -Summary one summary per port: use one of them.", Quiet);
        }

        if (Wait && Repeating)
        {
            ThrowInvalidArgument("-Wait retries until the port opens; -Count, -Continuous and -Summary repeat a check a fixed number of times. Use one or the other.", Wait);
        }

        if (IntervalSeconds is double interval)
        {
            if (!Repeating)
            {
                ThrowInvalidArgument("-IntervalSeconds sets the pause between attempts of -Count, -Continuous or -Summary: add one of them.", interval);
            }

            if (double.IsNaN(interval) || double.IsInfinity(interval) || interval < 0 || interval > int.MaxValue / 1000.0)
            {
                ThrowInvalidArgument($"-IntervalSeconds must be 0 or a positive number of seconds; {interval} was given.", interval);
            }

            _interval = TimeSpan.FromSeconds(interval);
        }
    }

    /// <summary>Runs the rounds: every target at once (throttled), written in input order, the
    /// next round -IntervalSeconds after the start of the last.</summary>
    private void RunRepeated()
    {
        int rounds = Count ?? (Summary ? 4 : 1);
        List<PortTestResult>[]? attempts = Summary ? _repeatTargets.Select(_ => new List<PortTestResult>()).ToArray() : null;
        for (int round = 1; Continuous || round <= rounds; round++)
        {
            Stopwatch clock = Stopwatch.StartNew();
            List<Task<PortTestResult>> checks = _repeatTargets.Select(t => _tester!.TestAsync(t.Host, t.Port, t.Protocol, _checks!.Token)).ToList();
            _added += checks.Count;
            _inputEnded = !Continuous && round == rounds;
            for (int i = 0; i < checks.Count; i++)
            {
                if (!checks[i].IsCompleted)
                {
                    WaitFor(checks[i]);
                }

                PortTestResult result = Await(checks[i]);
                result.Sequence = round;
                if (attempts is not null)
                {
                    attempts[i].Add(result);
                }
                else if (Quiet)
                {
                    WriteObject(result.Status == PortStatus.Open);
                }
                else
                {
                    // A type name of its own selects the view with the Sequence column.
                    PSObject output = PSObject.AsPSObject(result);
                    output.TypeNames.Insert(0, "SockPS.Core.PortTestResult#Repeated");
                    WriteObject(output);
                }
            }

            TimeSpan pause = _interval - clock.Elapsed;
            if ((Continuous || round < rounds) && pause > TimeSpan.Zero && StopToken.WaitHandle.WaitOne(pause))
            {
                throw new PipelineStoppedException();
            }
        }

        if (attempts is not null)
        {
            foreach (List<PortTestResult> target in attempts)
            {
                WriteObject(PortTestSummary.From(target));
            }
        }
    }

    #endregion

    /// <inheritdoc/>
    protected override void BeginProcessingCore()
    {
        ValidateRepeat();

        // A timer takes at most int.MaxValue milliseconds.
        const double MaxSeconds = int.MaxValue / 1000.0;
        if (TimeoutSeconds > MaxSeconds)
        {
            ThrowInvalidArgument($"-TimeoutSeconds can be at most {Math.Floor(MaxSeconds).ToString(CultureInfo.InvariantCulture)} (about 24 days); with -Wait, 0 waits without a bound.", TimeoutSeconds);
        }

        TimeSpan timeout = TimeoutSeconds is double seconds
            ? Seconds(seconds, nameof(TimeoutSeconds))
            : Wait ? PortTestOptions.DefaultWaitTimeout : PortTestOptions.DefaultTimeout;

        TimeSpan retry = TimeSpan.FromSeconds(1);
        if (RetryIntervalSeconds is double interval)
        {
            if (!Wait)
            {
                ThrowInvalidArgument("-RetryIntervalSeconds sets how often -Wait retries: add -Wait, or leave it out.", interval);
            }

            if (double.IsNaN(interval) || double.IsInfinity(interval) || interval <= 0 || interval > MaxSeconds)
            {
                ThrowInvalidArgument($"-RetryIntervalSeconds must be a positive number of seconds; {interval} was given.", interval);
            }

            retry = TimeSpan.FromSeconds(interval);
        }

        if (ThrottleLimit < 1)
        {
            ThrowInvalidArgument($"-ThrottleLimit must be at least 1; {ThrottleLimit} was given.", ThrottleLimit);
        }

        ProxySettings? proxy = null;
        try
        {
            proxy = ProxyParameters.Settings(Proxy, ProxyCredential);
        }
        catch (SocketOperationException ex)
        {
            ThrowTerminatingError(ErrorRecords.From(ex, Proxy));
        }

        if (proxy is not null && Protocol == SocketProtocol.Udp)
        {
            ThrowInvalidArgument("-Proxy checks TCP ports only: SockPS does not speak SOCKS5's UDP ASSOCIATE. Leave -Proxy out for UDP.", Proxy);
        }

        if (LocalAddress is not null && AddressFamily is not null && LocalAddress.AddressFamily != AddressFamily)
        {
            ThrowInvalidArgument($"-LocalAddress {LocalAddress} is an {EndPoints.Family(LocalAddress.AddressFamily)} address, but -AddressFamily asks for {EndPoints.Family(AddressFamily.Value)}.", LocalAddress);
        }

        _window = (int)Math.Min(int.MaxValue, Math.Max(MinimumWindow, 4L * ThrottleLimit));
        _checks = CancellationTokenSource.CreateLinkedTokenSource(StopToken);
        _tester = new PortTester(new PortTestOptions
        {
            Proxy = proxy,
            LocalAddress = LocalAddress,
            LocalPort = LocalPort,
            Timeout = timeout,
            ThrottleLimit = ThrottleLimit,
            AddressFamily = AddressFamily,
            UdpProbe = UdpProbe,
            Wait = Wait,
            RetryInterval = retry,
            AttemptFailed = Wait ? _failedAttempts.Enqueue : null,
        });
    }

    /// <inheritdoc/>
    protected override void ProcessRecordCore()
    {
        if (Protocol == SocketProtocol.Tcp && MyInvocation.BoundParameters.ContainsKey(nameof(UdpProbe))
            && !MyInvocation.BoundParameters.ContainsKey(nameof(Protocol)))
        {
            ThrowInvalidArgument("-UdpProbe chooses the datagram of a UDP check: add -Protocol Udp.", UdpProbe);
        }

        List<int> ports = new();
        foreach (string text in Port)
        {
            try
            {
                ports.AddRange(ServicePorts.ResolveList(text, Protocol == SocketProtocol.Udp ? "udp" : "tcp"));
            }
            catch (SocketOperationException ex)
            {
                ThrowTerminatingError(ErrorRecords.From(ex, text));
            }
        }

        foreach (string name in ComputerName)
        {
            if (string.IsNullOrWhiteSpace(name))
            {
                ThrowInvalidArgument("A computer name is empty. Give host names or IP addresses.", name);
            }
        }

        foreach (string name in ComputerName)
        {
            foreach (int port in ports)
            {
                if (Repeating)
                {
                    _repeatTargets.Add((name, port, Protocol));
                    continue;
                }

                _pending.Enqueue(_tester!.TestAsync(name, port, Protocol, _checks!.Token));
                _added++;
                // Back-pressure: a long input never has more than the window of checks in hand.
                WriteFinished(_window);
            }
        }
    }

    /// <inheritdoc/>
    protected override void EndProcessingCore()
    {
        if (Repeating)
        {
            RunRepeated();
        }
        else
        {
            _inputEnded = true;
            WriteFinished(0);
        }

        if (_progress is not null)
        {
            _progress.RecordType = ProgressRecordType.Completed;
            WriteProgress(_progress);
        }
    }

    /// <inheritdoc/>
    protected override void Dispose(bool disposing)
    {
        if (disposing && _checks is not null)
        {
            // After a terminating error or Ctrl+C: stop what is still running.
            _checks.Cancel();
            _checks.Dispose();
        }

        base.Dispose(disposing);
    }

    /// <summary>Writes the results at the head of the queue, in input order; waits for the head
    /// while more than <paramref name="keep"/> checks are unwritten.</summary>
    private void WriteFinished(int keep)
    {
        while (_pending.Count > 0)
        {
            Task<PortTestResult> head = _pending.Peek();
            if (!head.IsCompleted)
            {
                if (_pending.Count <= keep)
                {
                    break;
                }

                WaitFor(head);
            }

            _pending.Dequeue();
            PortTestResult result = Await(head);
            if (Quiet)
            {
                WriteObject(result.Status == PortStatus.Open);
            }
            else
            {
                WriteObject(result);
            }
        }

        WriteFailedAttempts();
    }

    /// <summary>Waits on the pipeline thread, a quarter second at a time so Ctrl+C is honoured at
    /// once; writes -Verbose lines for failed attempts, and progress once a wait passes a second.</summary>
    private void WaitFor(Task head)
    {
        Stopwatch watch = Stopwatch.StartNew();
        try
        {
            while (!head.Wait(250, StopToken))
            {
                WriteFailedAttempts();
                if (watch.Elapsed >= TimeSpan.FromSeconds(1))
                {
                    ShowProgress();
                }
            }
        }
        catch (OperationCanceledException) when (StopToken.IsCancellationRequested)
        {
            throw new PipelineStoppedException();
        }
        catch (AggregateException)
        {
            // The check's own failure comes out of Await.
        }
    }

    private void ShowProgress()
    {
        int done = _tester!.CompletedCount;
        _progress ??= new ProgressRecord(GetType().Name.GetHashCode() & 0x7fffffff, "Test-SocketPort", "Starting");
        string total = _inputEnded ? _added.ToString("N0", CultureInfo.CurrentCulture) : _added.ToString("N0", CultureInfo.CurrentCulture) + "+";
        _progress.StatusDescription = $"{done.ToString("N0", CultureInfo.CurrentCulture)} of {total} checked, {_tester.OpenCount.ToString("N0", CultureInfo.CurrentCulture)} open"
            + (Wait ? "; waiting for the rest to open" : string.Empty);
        if (_inputEnded && _added > 0)
        {
            _progress.PercentComplete = (int)Math.Min(100, done * 100L / _added);
        }

        WriteProgress(_progress);
    }

    private void WriteFailedAttempts()
    {
        while (_failedAttempts.TryDequeue(out PortTestResult? attempt))
        {
            WriteVerbose($"{attempt.ComputerName}:{attempt.Port}/{attempt.Protocol}: attempt {attempt.Attempts}: {attempt.Status}. {attempt.Message}");
        }
    }
}
