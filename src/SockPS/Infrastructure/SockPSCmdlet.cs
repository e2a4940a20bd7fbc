using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Management.Automation;
using System.Threading;
using System.Threading.Tasks;
using SockPS.Core;

namespace SockPS.Commands;

/// <summary>
/// What every SockPS cmdlet shares: a cancellation token tied to Ctrl+C (the pattern of
/// PowerShell's own TestConnectionCommand), waiting on the async core from the pipeline thread,
/// and turning core exceptions into ErrorRecords with stable ids.
/// </summary>
public abstract class SockPSCmdlet : PSCmdlet, IDisposable
{
    private readonly CancellationTokenSource _stopping = new();

    /// <summary>Cancelled when the pipeline is stopped (Ctrl+C, Select-Object -First).</summary>
    protected CancellationToken StopToken => _stopping.Token;

    /// <inheritdoc/>
    protected override void StopProcessing() => _stopping.Cancel();

    /// <summary>Runs <see cref="BeginProcessingCore"/> under the error guard (with -AsJob: checks
    /// that the parameters go with it and notes the command-line parameters).</summary>
    protected sealed override void BeginProcessing() => Guard(() =>
    {
        if (RunsAsJob)
        {
            if (AsJobProblem() is { } problem)
            {
                ThrowInvalidArgument(problem, null, "AsJobNotSupported");
            }

            _jobParameters = SockPSJob.JobParameters(MyInvocation.BoundParameters);
            _jobInput = new List<object?>();
            return;
        }

        BeginProcessingCore();
    });

    /// <summary>Runs <see cref="ProcessRecordCore"/> under the error guard (with -AsJob: keeps the
    /// record's pipeline input for the job).</summary>
    protected sealed override void ProcessRecord()
    {
        // The guard spelled out, not Guard(() => ...): this runs once per pipeline item, and a
        // closure per item shows in a piped send's cost.
        try
        {
            ProcessRecordGuarded();
        }
        catch (Exception ex) when (IsOurs(ex))
        {
            Fail(ex);
        }
    }

    private void ProcessRecordGuarded()
    {
        if (_jobParameters is not null)
        {
            Dictionary<string, object?> record = new(StringComparer.OrdinalIgnoreCase);
            foreach (KeyValuePair<string, object> p in MyInvocation.BoundParameters)
            {
                if (!_jobParameters.ContainsKey(p.Key) && !string.Equals(p.Key, "AsJob", StringComparison.OrdinalIgnoreCase))
                {
                    record[p.Key] = p.Value;
                }
            }

            if (record.Count > 0)
            {
                _jobInput!.Add(SockPSJob.InputFor(GetType(), record));
            }

            return;
        }

        ProcessRecordCore();
    }

    /// <summary>Runs <see cref="EndProcessingCore"/> under the error guard (with -AsJob: starts the
    /// job and writes it).</summary>
    protected sealed override void EndProcessing() => Guard(() =>
    {
        if (_jobParameters is not null)
        {
            CmdletInfo command = new(MyInvocation.MyCommand.Name, GetType());
            string text = SockPSJob.CommandText(MyInvocation.MyCommand.Name, _jobParameters, _jobInput!.Count);
            SockPSJob job = new(text, command, _jobParameters, _jobInput!.Count > 0 ? _jobInput : null,
                SessionState.Path.CurrentFileSystemLocation.ProviderPath, SocketRegistry.CurrentOwner(),
                SessionState.LanguageMode);
            job.Register(this);
            job.StartJob();
            WriteObject(job);
            return;
        }

        EndProcessingCore();
    });

    private Dictionary<string, object?>? _jobParameters;
    private List<object?>? _jobInput;

    /// <summary>True when the cmdlet was asked to run as a job (its -AsJob switch).</summary>
    protected virtual bool RunsAsJob => false;

    /// <summary>With -AsJob: why these parameters cannot run as a job, or null when they can.</summary>
    protected virtual string? AsJobProblem() => null;

    /// <summary>What the cmdlet does before the first input object.</summary>
    protected virtual void BeginProcessingCore()
    {
    }

    /// <summary>What the cmdlet does for each input object.</summary>
    protected virtual void ProcessRecordCore()
    {
    }

    /// <summary>What the cmdlet does after the last input object.</summary>
    protected virtual void EndProcessingCore()
    {
    }

    /// <summary>
    /// The last line of defence: no raw .NET exception reaches the user. The cmdlets catch the
    /// failures they expect and write them per target; whatever escapes them is turned into a
    /// terminating ErrorRecord with a SockPS id here. PowerShell's own exceptions (pipeline
    /// stopped, -ErrorAction Stop, terminating errors already written, flow control) pass as
    /// they are, because PowerShell acts on them.
    /// </summary>
    private void Guard(Action body)
    {
        try
        {
            body();
        }
        catch (Exception ex) when (IsOurs(ex))
        {
            Fail(ex);
        }
    }

    /// <summary>What the guard does with a failure that got out: Ctrl+C stops the pipeline,
    /// anything else is a terminating ErrorRecord with a SockPS id.</summary>
    private void Fail(Exception ex)
    {
        Exception inner = Unwrap(ex);
        if (inner is OperationCanceledException && _stopping.IsCancellationRequested)
        {
            throw new PipelineStoppedException();
        }

        ThrowTerminatingError(inner is SocketOperationException failure
            ? ErrorRecords.From(failure, null)
            : ErrorRecords.Unexpected(inner, MyInvocation.MyCommand?.Name ?? GetType().Name));
    }

    private static bool IsOurs(Exception ex) =>
        ex is not (PipelineStoppedException or OutOfMemoryException or StackOverflowException)
        && !(ex.GetType().Namespace ?? string.Empty).StartsWith("System.Management.Automation", StringComparison.Ordinal);

    private static Exception Unwrap(Exception ex)
    {
        while (ex is AggregateException { InnerExceptions.Count: 1 } aggregate)
        {
            ex = aggregate.InnerExceptions[0];
        }

        return ex is System.Reflection.TargetInvocationException { InnerException: { } target } ? Unwrap(target) : ex;
    }

    /// <summary>Releases the cancellation source, and whatever a derived cmdlet holds.</summary>
    public void Dispose()
    {
        Dispose(disposing: true);
        GC.SuppressFinalize(this);
    }

    /// <summary>PowerShell disposes a cmdlet however its pipeline ends (done, stopped, failed
    /// upstream), so this is where a cmdlet lets go of what must not outlive it.</summary>
    protected virtual void Dispose(bool disposing)
    {
        if (disposing)
        {
            _stopping.Dispose();
        }
    }

    /// <summary>Waits for a core operation on the pipeline thread. A cancellation caused by
    /// stopping the pipeline becomes <see cref="PipelineStoppedException"/>.</summary>
    protected T Await<T>(ValueTask<T> task) => task.IsCompletedSuccessfully ? task.Result : Await(task.AsTask());

    /// <inheritdoc cref="Await{T}(ValueTask{T})"/>
    protected T Await<T>(Task<T> task)
    {
        try
        {
            return task.GetAwaiter().GetResult();
        }
        catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
        {
            throw new PipelineStoppedException();
        }
    }

    /// <inheritdoc cref="Await{T}(ValueTask{T})"/>
    protected void Await(ValueTask task)
    {
        if (!task.IsCompletedSuccessfully)
        {
            Await(task.AsTask());
        }
    }

    /// <inheritdoc cref="Await{T}(ValueTask{T})"/>
    protected void Await(Task task)
    {
        try
        {
            task.GetAwaiter().GetResult();
        }
        catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
        {
            throw new PipelineStoppedException();
        }
    }

    /// <summary>
    /// Waits for a bulk transfer on the pipeline thread, writing progress (bytes, rate, percent
    /// when the size is known) every half second once it has run for a second, and a Completed
    /// record only if progress was shown: the loop of PowerShell's WebCmdlet StreamHelper.
    /// Write-Progress honours $ProgressPreference by itself.
    /// </summary>
    protected void WaitWithProgress(Task transfer, TransferProgress progress, string activity)
    {
        Stopwatch watch = Stopwatch.StartNew();
        ProgressRecord? record = null;
        try
        {
            // Task.WaitAny, not transfer.Wait: Wait throws a faulted task's exception wrapped in an
            // AggregateException, which must never reach the user; Await below unwraps it.
            while (Task.WaitAny(new[] { transfer }, 500, StopToken) < 0)
            {
                if (watch.Elapsed < TimeSpan.FromSeconds(1))
                {
                    continue;
                }

                record ??= new ProgressRecord(ProgressActivityId, activity, "Starting");
                long bytes = progress.Bytes;
                double rate = bytes / Math.Max(watch.Elapsed.TotalSeconds, 0.001);
                record.StatusDescription = progress.Total is long total && total > 0
                    ? $"{Size(bytes)} of {Size(total)} ({Size((long)rate)}/s)"
                    : $"{Size(bytes)} ({Size((long)rate)}/s)";
                if (progress.Total is long known && known > 0)
                {
                    record.PercentComplete = (int)Math.Min(100, bytes * 100 / known);
                    record.SecondsRemaining = rate > 0 ? (int)((known - bytes) / rate) : -1;
                }

                WriteProgress(record);
            }
        }
        catch (OperationCanceledException) when (StopToken.IsCancellationRequested)
        {
            throw new PipelineStoppedException();
        }
        finally
        {
            if (record is not null)
            {
                record.RecordType = ProgressRecordType.Completed;
                WriteProgress(record);
            }
        }

        Await(transfer);
    }

    /// <summary>The progress bar's id: one per cmdlet type, so nested transfers do not collide.</summary>
    private int ProgressActivityId => GetType().Name.GetHashCode() & 0x7fffffff;

    /// <summary>"512 B", "1.5 MiB", "2.0 GiB".</summary>
    protected static string Size(long bytes) => bytes switch
    {
        < 1024 => $"{bytes} B",
        < 1024 * 1024 => $"{bytes / 1024.0:0.0} KiB",
        < 1024L * 1024 * 1024 => $"{bytes / (1024.0 * 1024):0.0} MiB",
        _ => $"{bytes / (1024.0 * 1024 * 1024):0.00} GiB",
    };

    /// <summary>Writes a non-terminating error for a failure that concerns one target.</summary>
    protected void WriteSocketError(SocketOperationException exception, object? target, string? errorIdForClosed = null) =>
        WriteError(ErrorRecords.From(exception, target, errorIdForClosed));

    /// <summary>Stops the command for input it cannot act on.</summary>
    protected void ThrowInvalidArgument(string message, object? target = null, string errorId = "InvalidArgument") =>
        ThrowTerminatingError(ErrorRecords.InvalidArgument(message, target, errorId));

    /// <summary>Seconds from a -TimeoutSeconds parameter as a TimeSpan; 0 waits forever.</summary>
    protected TimeSpan Seconds(double seconds, string parameterName)
    {
        if (double.IsNaN(seconds) || double.IsInfinity(seconds) || seconds < 0)
        {
            ThrowInvalidArgument($"-{parameterName} must be 0 (wait forever) or a positive number of seconds; {seconds} was given.", seconds);
        }

        return TimeSpan.FromSeconds(seconds);
    }
}
