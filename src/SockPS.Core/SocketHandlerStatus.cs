namespace SockPS.Core;

/// <summary>A snapshot of a handler server's -ScriptBlock handlers, read from
/// <see cref="SocketServer.Handlers"/>.</summary>
public sealed class SocketHandlerStatus
{
    internal SocketHandlerStatus(SocketHandlerLimits limits, SocketHandlerCounts counts)
    {
        ThrottleLimit = limits.ThrottleLimit;
        SilentHandlerLimit = limits.SilentHandlerLimit;
        QueueLimit = limits.QueueLimit;
        FirstByteTimeoutSeconds = limits.FirstByteTimeout.TotalSeconds;
        Running = counts.Running;
        RunningSilent = counts.RunningSilent;
        Waiting = counts.Waiting;
        WaitingSilent = counts.WaitingSilent;
        Completed = counts.Completed;
        Failed = counts.Failed;
        Evicted = counts.Evicted;
        Dropped = counts.Dropped;
        TimedOut = counts.TimedOut;
        OutputCount = counts.OutputCount;
        DroppedOutput = counts.DroppedOutput;
        Faults = counts.Faults;
        LastError = counts.LastError;
        FilePath = limits.FilePath;
    }

    /// <summary>The program a -FilePath server runs for every client; null for -ScriptBlock handlers.</summary>
    public string? FilePath { get; }

    /// <summary>The most handlers that run at once (-ThrottleLimit).</summary>
    public int ThrottleLimit { get; }

    /// <summary>How many handlers may go on serving clients that have sent nothing yet while
    /// clients that have sent data wait for a runspace (-SilentHandlerLimit).</summary>
    public int SilentHandlerLimit { get; }

    /// <summary>The most connections (or datagrams) that wait for a runspace (-QueueLimit).</summary>
    public int QueueLimit { get; }

    /// <summary>Waiting connections that send nothing for this long are closed
    /// (-FirstByteTimeoutSeconds); 0 for never.</summary>
    public double FirstByteTimeoutSeconds { get; }

    /// <summary>Handlers running now.</summary>
    public int Running { get; }

    /// <summary>Running handlers whose client has not sent a byte yet.</summary>
    public int RunningSilent { get; }

    /// <summary>Connections or datagrams waiting for a free runspace.</summary>
    public int Waiting { get; }

    /// <summary>Waiting connections whose client has not sent a byte yet; the others go first.</summary>
    public int WaitingSilent { get; }

    /// <summary>Handlers that ran to the end.</summary>
    public long Completed { get; }

    /// <summary>Handlers that ended with a terminating error, were stopped, or could not start.</summary>
    public long Failed { get; }

    /// <summary>Connections closed while their handler ran because their client had sent nothing
    /// and a client that had sent data needed the runspace (see -SilentHandlerLimit).</summary>
    public long Evicted { get; }

    /// <summary>Connections closed unserved because -QueueLimit connections were waiting already
    /// (datagrams dropped that way are counted on the server's socket, in DroppedCount).</summary>
    public long Dropped { get; }

    /// <summary>Waiting connections closed unserved by -FirstByteTimeoutSeconds.</summary>
    public long TimedOut { get; }

    /// <summary>Output and error records waiting for Receive-SocketServerOutput.</summary>
    public int OutputCount { get; }

    /// <summary>Records dropped because more than the limit were waiting.</summary>
    public long DroppedOutput { get; }

    /// <summary>Faults of the handler machinery itself (a runspace that could not open, a thread
    /// that could not start); each cost one connection or datagram, and serving went on.</summary>
    public long Faults { get; }

    /// <summary>The last such fault, if any.</summary>
    public string? LastError { get; }

    /// <summary>The computer whose server these counters are from.</summary>
    public string MachineName => SocketOrigin.MachineName;

    /// <inheritdoc/>
    public override string ToString() => $"{Running} running, {Waiting} waiting, {Completed} completed, {Failed} failed";
}

/// <summary>The limits a handler server was started with.</summary>
internal readonly struct SocketHandlerLimits
{
    public SocketHandlerLimits(int throttleLimit, int silentHandlerLimit, int queueLimit, System.TimeSpan firstByteTimeout, string? filePath = null)
    {
        FilePath = filePath;
        ThrottleLimit = throttleLimit;
        SilentHandlerLimit = silentHandlerLimit;
        QueueLimit = queueLimit;
        FirstByteTimeout = firstByteTimeout;
    }

    public int ThrottleLimit { get; }

    public int SilentHandlerLimit { get; }

    public int QueueLimit { get; }

    public System.TimeSpan FirstByteTimeout { get; }

    /// <summary>The program of a -FilePath server; null for -ScriptBlock handlers.</summary>
    public string? FilePath { get; }
}

/// <summary>A handler host's counters at one moment.</summary>
internal struct SocketHandlerCounts
{
    public int Running;
    public int RunningSilent;
    public int Waiting;
    public int WaitingSilent;
    public long Completed;
    public long Failed;
    public long Evicted;
    public long Dropped;
    public long TimedOut;
    public int OutputCount;
    public long DroppedOutput;
    public long Faults;
    public string? LastError;
}
