using System;
using System.Diagnostics;
using System.Threading;
using System.Threading.Tasks;

namespace SockPS.Core;

/// <summary>A point in time a wait must not pass; default (zero timeout) waits forever.</summary>
internal readonly struct Deadline
{
    private readonly long _end;

    private Deadline(TimeSpan timeout, long end)
    {
        Timeout = timeout;
        _end = end;
    }

    /// <summary>The timeout this deadline was made from (zero: none).</summary>
    public TimeSpan Timeout { get; }

    public bool IsInfinite => _end == 0;

    /// <summary>A deadline <paramref name="timeout"/> from now; zero or less waits forever.</summary>
    public static Deadline After(TimeSpan timeout) =>
        timeout > TimeSpan.Zero
            ? new Deadline(timeout, Stopwatch.GetTimestamp() + (long)(timeout.TotalSeconds * Stopwatch.Frequency))
            : new Deadline(TimeSpan.Zero, 0);

    public bool Passed => !IsInfinite && Stopwatch.GetTimestamp() >= _end;

    /// <summary>What is left, for waits that take milliseconds: -1 (Timeout.Infinite) when there
    /// is no deadline, 0 when it has passed.</summary>
    public int RemainingMilliseconds
    {
        get
        {
            if (IsInfinite)
            {
                return System.Threading.Timeout.Infinite;
            }

            long ticks = _end - Stopwatch.GetTimestamp();
            return ticks <= 0 ? 0 : (int)Math.Min(int.MaxValue, Math.Ceiling(ticks * 1000.0 / Stopwatch.Frequency));
        }
    }

    /// <summary>What is left for Socket.Poll: -1 when there is no deadline, at most about 35
    /// minutes (what an int of microseconds holds; the caller polls again), 0 when passed.</summary>
    public int RemainingMicroseconds
    {
        get
        {
            if (IsInfinite)
            {
                return -1;
            }

            long ticks = _end - Stopwatch.GetTimestamp();
            return ticks <= 0 ? 0 : (int)Math.Min(int.MaxValue, Math.Ceiling(ticks * 1_000_000.0 / Stopwatch.Frequency));
        }
    }

    /// <summary>A token cancelled at the deadline or by <paramref name="token"/>, for async
    /// waits; dispose the source when done. Null source when there is no deadline.</summary>
    public CancellationTokenSource? Link(CancellationToken token, out CancellationToken linked)
    {
        if (IsInfinite)
        {
            linked = token;
            return null;
        }

        CancellationTokenSource source = CancellationTokenSource.CreateLinkedTokenSource(token);
        source.CancelAfter(Math.Max(0, RemainingMilliseconds));
        linked = source.Token;
        return source;
    }
}

/// <summary>Waiting on a task with a deadline and a token, without AggregateException.</summary>
internal static class TaskWaits
{
    /// <summary>Blocks until <paramref name="task"/> completes (true) or the deadline passes
    /// (false). A cancelled token throws OperationCanceledException.</summary>
    public static bool Wait(Task task, Deadline deadline, CancellationToken token)
    {
        // WaitAny, unlike Wait, does not throw the task's own exception wrapped: the caller
        // looks at the task (or the state it signalled) itself.
        return Task.WaitAny(new[] { task }, deadline.RemainingMilliseconds, token) == 0;
    }

    /// <summary>Awaits <paramref name="task"/> until it completes (true) or the deadline passes (false).</summary>
    public static async Task<bool> WaitAsync(Task task, Deadline deadline, CancellationToken token)
    {
        if (task.IsCompleted)
        {
            return true;
        }

        using CancellationTokenSource? linked = deadline.Link(token, out CancellationToken both);
        TaskCompletionSource<bool> stopped = new(TaskCreationOptions.RunContinuationsAsynchronously);
        using (both.Register(() => stopped.TrySetResult(false)))
        {
            await Task.WhenAny(task, stopped.Task).ConfigureAwait(false);
        }

        token.ThrowIfCancellationRequested();
        return task.IsCompleted;
    }
}
