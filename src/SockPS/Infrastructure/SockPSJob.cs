using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.ComponentModel;
using System.Linq;
using System.Management.Automation;
using System.Management.Automation.Runspaces;
using System.Reflection;
using System.Threading;
using System.Threading.Tasks;

namespace SockPS.Commands;

/// <summary>
/// What -AsJob returns: the cmdlet's own work, run in a runspace of this process on a thread of
/// its own (as Start-ThreadJob does), given to PowerShell's JobManager through
/// <see cref="SockPSJobSourceAdapter"/> so Get-Job, Wait-Job, Receive-Job (with -AutoRemoveJob),
/// Stop-Job and Remove-Job see it. The command runs with the parameters the caller
/// gave (without -AsJob) and the pipeline input it received; what it writes lands in the job's
/// streams as the live objects (same process: a connection from Receive-Job is the one
/// Get-SocketConnection lists), its errors with their SockPS ids. Stop-Job stops the pipeline, which
/// cancels the work the way Ctrl+C does. What the job opens belongs to the runspace that started it
/// (SocketRegistry.Delegate).
/// </summary>
public sealed class SockPSJob : Job2
{
    private readonly CmdletInfo _command;
    private readonly Dictionary<string, object?> _parameters;
    private readonly List<object?>? _input;
    private readonly string _location;
    private readonly Guid? _owner;
    private readonly PSLanguageMode _languageMode;
    private readonly object _gate = new();
    private readonly object _stopping = new();
    private Runspace? _runspace;
    private PowerShell? _powerShell;
    private bool _stopRequested;

    internal SockPSJob(string commandText, CmdletInfo command, Dictionary<string, object?> parameters,
        List<object?>? input, string location, Guid? owner, PSLanguageMode languageMode)
        : base(commandText, null)
    {
        _languageMode = languageMode;
        _command = command;
        _parameters = parameters;
        _input = input;
        _location = location;
        _owner = owner;
        PSJobTypeName = "SockPSJob";
    }

    /// <inheritdoc/>
    public override bool HasMoreData =>
        Output.Count > 0 || Error.Count > 0 || Warning.Count > 0 || Verbose.Count > 0 || Debug.Count > 0
        || Progress.Count > 0 || Information.Count > 0;

    /// <inheritdoc/>
    public override string Location => "localhost";

    /// <inheritdoc/>
    public override string StatusMessage => string.Empty;

    /// <inheritdoc/>
    public override void StartJob()
    {
        SetJobState(JobState.Running);
        Task.Run(Run);
    }

    private void Run()
    {
        try
        {
            InitialSessionState state = InitialSessionState.CreateDefault2();
            state.Commands.Add(new SessionStateCmdletEntry(_command.Name, _command.ImplementingType, null));
            state.LanguageMode = _languageMode;    // the caller's: a job never runs in a freer mode
            Runspace runspace = RunspaceFactory.CreateRunspace(state);
            runspace.Open();
            SocketRegistry.Delegate(runspace.InstanceId, _owner);
            runspace.SessionStateProxy.Path.SetLocation(WildcardPattern.Escape(_location));
            PowerShell ps = PowerShell.Create();
            ps.Runspace = runspace;
            ps.AddCommand(_command.Name).AddParameters(_parameters);
            ps.Streams.Error = Error;
            ps.Streams.Warning = Warning;
            ps.Streams.Verbose = Verbose;
            ps.Streams.Debug = Debug;
            ps.Streams.Progress = Progress;
            ps.Streams.Information = Information;
            ps.InvocationStateChanged += OnInvocationStateChanged;
            lock (_gate)
            {
                _runspace = runspace;
                _powerShell = ps;
                if (_stopRequested)
                {
                    Finish(JobState.Stopped);
                    return;
                }
            }

            PSDataCollection<object?> input = new();
            if (_input is not null)
            {
                foreach (object? item in _input)
                {
                    input.Add(item);
                }
            }

            input.Complete();
            ps.BeginInvoke(input, Output);
            if (Volatile.Read(ref _stopRequested))
            {
                // Stop-Job came between the check above and the start: stop now.
                ps.BeginStop(null, null);
            }
        }
        catch (Exception ex)
        {
            // Setting up the runspace failed: the job fails with the reason as its error.
            Error.Add(new ErrorRecord(ex, "JobStartFailed", ErrorCategory.OpenError, _command.Name));
            Finish(JobState.Failed);
        }
    }

    private void OnInvocationStateChanged(object? sender, PSInvocationStateChangedEventArgs e)
    {
        switch (e.InvocationStateInfo.State)
        {
            case PSInvocationState.Completed:
                Finish(JobState.Completed);
                break;
            case PSInvocationState.Stopped:
                Finish(JobState.Stopped);
                break;
            case PSInvocationState.Failed:
                Exception reason = e.InvocationStateInfo.Reason;
                // A terminating error of the cmdlet: it joins the job's errors as it is (its SockPS id).
                Error.Add(reason is IContainsErrorRecord { ErrorRecord: { } record }
                    ? record
                    : new ErrorRecord(reason, "JobFailed", ErrorCategory.NotSpecified, _command.Name));
                Finish(JobState.Failed);
                break;
        }
    }

    private int _finished;

    // A failure's reason is already one of the job's errors (Receive-Job shows it).
    private void Finish(JobState state)
    {
        if (Interlocked.Exchange(ref _finished, 1) != 0)
        {
            return;
        }

        SetJobState(state);
        // Not on the thread that raised the state change: disposing the runspace waits for it.
        Task.Run(ReleaseRunspace);
    }

    private void ReleaseRunspace()
    {
        // Never while a Stop-Job is still inside PowerShell.Stop: disposing the pipeline under it
        // can leave both waiting for each other.
        lock (_stopping)
        {
            ReleaseRunspaceCore();
        }
    }

    private void ReleaseRunspaceCore()
    {
        PowerShell? ps;
        Runspace? runspace;
        lock (_gate)
        {
            ps = _powerShell;
            runspace = _runspace;
            _powerShell = null;
            _runspace = null;
        }

        if (runspace is not null)
        {
            SocketRegistry.EndDelegation(runspace.InstanceId);
        }

        ps?.Dispose();
        runspace?.Dispose();
    }

    /// <inheritdoc/>
    public override void StopJob()
    {
        PowerShell? ps;
        lock (_gate)
        {
            _stopRequested = true;
            ps = _powerShell;
        }

        if (ps is null)
        {
            // Not started yet: Run sees _stopRequested; a job that never ran ends as Stopped.
            if (_runspace is null && JobStateInfo.State == JobState.NotStarted)
            {
                Finish(JobState.Stopped);
            }
        }
        else if (!IsFinishedState(JobStateInfo.State))
        {
            lock (_stopping)
            {
                try
                {
                    ps.Stop();
                }
                catch (ObjectDisposedException)
                {
                    // It finished and was released meanwhile.
                }
            }
        }

        // The state is set before the job's StateChanged handlers run and Finished after them, and
        // a handler may remove the job (Receive-Job -AutoRemoveJob), which stops it: a finished
        // state is enough then, waiting for Finished there would wait for ourselves.
        if (!IsFinishedState(JobStateInfo.State))
        {
            Finished.WaitOne();
        }
    }

    private static bool IsFinishedState(JobState state) =>
        state is JobState.Completed or JobState.Failed or JobState.Stopped;

    /// <inheritdoc/>
    public override void StopJob(bool force, string reason) => StopJob();

    /// <inheritdoc/>
    public override void StopJobAsync() => Task.Run(() =>
    {
        StopJob();
        OnStopJobCompleted(new AsyncCompletedEventArgs(null, false, null));
    });

    /// <inheritdoc/>
    public override void StopJobAsync(bool force, string reason) => StopJobAsync();

    /// <inheritdoc/>
    public override void StartJobAsync()
    {
        StartJob();
        OnStartJobCompleted(new AsyncCompletedEventArgs(null, false, null));
    }

    /// <inheritdoc/>
    public override void SuspendJob() => throw NotSupported("suspended");

    /// <inheritdoc/>
    public override void SuspendJobAsync() => throw NotSupported("suspended");

    /// <inheritdoc/>
    public override void SuspendJob(bool force, string reason) => throw NotSupported("suspended");

    /// <inheritdoc/>
    public override void SuspendJobAsync(bool force, string reason) => throw NotSupported("suspended");

    /// <inheritdoc/>
    public override void ResumeJob() => throw NotSupported("resumed");

    /// <inheritdoc/>
    public override void ResumeJobAsync() => throw NotSupported("resumed");

    /// <inheritdoc/>
    public override void UnblockJob() => throw NotSupported("unblocked");

    /// <inheritdoc/>
    public override void UnblockJobAsync() => throw NotSupported("unblocked");

    private static NotSupportedException NotSupported(string what) =>
        new($"A SockPS job cannot be {what}; stop it with Stop-Job and start the command again.");

    /// <inheritdoc/>
    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            if (!IsFinishedState(JobStateInfo.State) && JobStateInfo.State != JobState.NotStarted)
            {
                StopJob();
            }

            ReleaseRunspace();
        }

        base.Dispose(disposing);
    }

    /// <summary>Hands the job to the session's JobManager (through the SockPS job source adapter),
    /// which lists it for the job cmdlets, and starts it.</summary>
    internal void Register(PSCmdlet cmdlet)
    {
        JobDefinition definition = new(typeof(SockPSJobSourceAdapter), Command, Name);
        Dictionary<string, object> parameters = new() { [SockPSJobSourceAdapter.JobParameter] = this };
        Job2 listed = cmdlet.JobManager.NewJob(new JobInvocationInfo(definition, parameters));
        if (!ReferenceEquals(listed, this))
        {
            throw new InvalidOperationException("PowerShell's JobManager did not accept the SockPS job.");
        }
    }

    /// <summary>The caller's parameters for the job's own run: -AsJob and the common parameters
    /// that name variables of the caller's session (which the job's runspace cannot set) left out.</summary>
    internal static Dictionary<string, object?> JobParameters(IDictionary<string, object> bound)
    {
        string[] dropped = { "AsJob", "OutVariable", "ErrorVariable", "WarningVariable", "InformationVariable", "PipelineVariable", "OutBuffer" };
        return bound.Where(p => !dropped.Contains(p.Key, StringComparer.OrdinalIgnoreCase))
            .ToDictionary(p => p.Key, p => (object?)p.Value, StringComparer.OrdinalIgnoreCase);
    }

    /// <summary>What Get-Job shows as the job's command: the cmdlet and the parameters it runs
    /// with ("Test-SocketPort -ComputerName web1 -Port 443"), and how many input objects.</summary>
    internal static string CommandText(string name, IDictionary<string, object?> parameters, int inputCount)
    {
        System.Text.StringBuilder text = new(name);
        foreach (KeyValuePair<string, object?> p in parameters)
        {
            text.Append(" -").Append(p.Key);
            if (p.Value is SwitchParameter { IsPresent: true })
            {
                continue;
            }

            string value = p.Value is not string && p.Value is IEnumerable<object> many
                ? string.Join(",", many.Select(v => v?.ToString()))
                : p.Value?.ToString() ?? "$null";
            text.Append(' ').Append(value.IndexOf(' ') >= 0 ? "'" + value.Replace("'", "''") + "'" : value);
        }

        if (inputCount > 0)
        {
            text.Insert(0, inputCount == 1 ? "(1 input) | " : $"({inputCount} inputs) | ");
        }

        return text.ToString();
    }

    /// <summary>One pipeline input object for the job's run, rebuilt from the parameters this
    /// record bound: the value itself when one parameter took it by value, else an object whose
    /// properties bind by name.</summary>
    internal static object? InputFor(Type cmdlet, IDictionary<string, object?> recordParameters)
    {
        if (recordParameters.Count == 1)
        {
            KeyValuePair<string, object?> only = recordParameters.First();
            PropertyInfo? property = cmdlet.GetProperty(only.Key, BindingFlags.Public | BindingFlags.Instance | BindingFlags.IgnoreCase);
            if (property?.GetCustomAttributes<ParameterAttribute>().Any(a => a.ValueFromPipeline) == true)
            {
                return only.Value;
            }
        }

        PSObject item = new();
        foreach (KeyValuePair<string, object?> p in recordParameters)
        {
            item.Properties.Add(new PSNoteProperty(p.Key, p.Value));
        }

        return item;
    }
}

/// <summary>Where Get-Job, Remove-Job and the other job cmdlets find SockPS's -AsJob jobs: the
/// JobManager asks every registered adapter. Jobs stay listed until Remove-Job (or Receive-Job
/// -AutoRemoveJob) removes them.</summary>
public sealed class SockPSJobSourceAdapter : JobSourceAdapter
{
    internal const string JobParameter = "SockPSJob";

    // Per adapter, and PowerShell makes one adapter per session's JobManager: a static table
    // listed one runspace's jobs in every other runspace's Get-Job, and Remove-Job there took them
    // out from under their own session (Receive-Job -AutoRemoveJob then failed intermittently
    // when thread jobs and -AsJob ran side by side).
    private readonly ConcurrentDictionary<Guid, Job2> _jobs = new();

    /// <summary>Named after the jobs' PSJobTypeName.</summary>
    public SockPSJobSourceAdapter() => Name = "SockPSJob";

    /// <inheritdoc/>
    public override Job2 NewJob(JobInvocationInfo specification)
    {
        if (specification?.Parameters is { Count: > 0 } sets
            && sets[0].FirstOrDefault(p => p.Name == JobParameter)?.Value is SockPSJob job)
        {
            _jobs[job.InstanceId] = job;
            return job;
        }

        throw new ArgumentException("SockPS jobs are made by the SockPS cmdlets' -AsJob parameter.", nameof(specification));
    }

    /// <inheritdoc/>
    public override IList<Job2> GetJobs() => _jobs.Values.OrderBy(j => j.Id).ToList();

    /// <inheritdoc/>
    public override IList<Job2> GetJobsByName(string name, bool recurse) =>
        _jobs.Values.Where(j => string.Equals(j.Name, name, StringComparison.OrdinalIgnoreCase)).ToList();

    /// <inheritdoc/>
    public override IList<Job2> GetJobsByCommand(string command, bool recurse) =>
        _jobs.Values.Where(j => string.Equals(j.Command, command, StringComparison.OrdinalIgnoreCase)).ToList();

    /// <inheritdoc/>
    public override Job2? GetJobByInstanceId(Guid instanceId, bool recurse) =>
        _jobs.TryGetValue(instanceId, out Job2? job) ? job : null;

    /// <inheritdoc/>
    public override Job2? GetJobBySessionId(int id, bool recurse) => _jobs.Values.FirstOrDefault(j => j.Id == id);

    /// <inheritdoc/>
    public override IList<Job2> GetJobsByState(JobState state, bool recurse) =>
        _jobs.Values.Where(j => j.JobStateInfo.State == state).ToList();

    /// <inheritdoc/>
    public override IList<Job2> GetJobsByFilter(Dictionary<string, object> filter, bool recurse) => new List<Job2>();

    /// <inheritdoc/>
    public override void RemoveJob(Job2 job)
    {
        if (job is not null && _jobs.TryRemove(job.InstanceId, out Job2? removed)
            && removed.JobStateInfo.State is not (JobState.Completed or JobState.Failed or JobState.Stopped))
        {
            removed.StopJob();
        }
    }
}
