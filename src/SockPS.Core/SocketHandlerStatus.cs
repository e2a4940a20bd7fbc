namespace SockPS.Core;

/// <summary>A snapshot of a handler server's -ScriptBlock handlers, read from
/// <see cref="SocketServer.Handlers"/>.</summary>
public sealed class SocketHandlerStatus
{
    /// <summary>Creates a snapshot.</summary>
    public SocketHandlerStatus(int throttleLimit, int running, int waiting, long completed, long failed, int outputCount, long droppedOutput)
    {
        ThrottleLimit = throttleLimit;
        Running = running;
        Waiting = waiting;
        Completed = completed;
        Failed = failed;
        OutputCount = outputCount;
        DroppedOutput = droppedOutput;
    }

    /// <summary>The most handlers that run at once (-ThrottleLimit).</summary>
    public int ThrottleLimit { get; }

    /// <summary>Handlers running now.</summary>
    public int Running { get; }

    /// <summary>Connections or datagrams waiting for a free runspace.</summary>
    public int Waiting { get; }

    /// <summary>Handlers that ran to the end.</summary>
    public long Completed { get; }

    /// <summary>Handlers that ended with a terminating error (or were stopped).</summary>
    public long Failed { get; }

    /// <summary>Output and error records waiting for Receive-SocketServerOutput.</summary>
    public int OutputCount { get; }

    /// <summary>Records dropped because more than the limit were waiting.</summary>
    public long DroppedOutput { get; }

    /// <inheritdoc/>
    public override string ToString() => $"{Running} running, {Waiting} waiting, {Completed} completed, {Failed} failed";
}
