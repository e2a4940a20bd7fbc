using System;
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

    /// <summary>Releases the cancellation source.</summary>
    public void Dispose()
    {
        _stopping.Dispose();
        GC.SuppressFinalize(this);
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
