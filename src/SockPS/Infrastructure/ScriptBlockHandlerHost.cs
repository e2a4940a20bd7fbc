using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.IO;
using System.Management.Automation;
using System.Management.Automation.Runspaces;
using System.Threading;
using SockPS.Core;

namespace SockPS.Commands;

/// <summary>
/// Runs a server's -ScriptBlock once per accepted connection (or per datagram), concurrently:
/// Python's socketserver with a thread per client, in PowerShell's terms. With -FilePath it runs
/// a program per connection instead (ncat -k -e): the same dispatch, limits and counters, with
/// the core's <see cref="ProcessBridge"/> in place of the script block and no runspaces; each
/// program's <see cref="SocketProcessResult"/> is kept as its output. At most -ThrottleLimit
/// blocks run at once, each on a worker of its own (a background thread with its own runspace,
/// reused from client to client); the rest wait here with their connections open and their data
/// buffered. Output and errors are kept, tagged with the connection, for
/// Receive-SocketServerOutput; a block that throws is reported and the server goes on.
/// </summary>
/// <remarks>
/// <para>Serving under hostile clients. A client that connects and says nothing must not keep
/// clients with something to say from being served, yet many protocols have the server speak
/// first (a greeting), so a handler cannot simply wait for a client's first byte. So:</para>
/// <list type="bullet">
/// <item>A connection is dispatched at once while a runspace is free, silent or not.</item>
/// <item>Waiting connections that have sent data go before those that have sent nothing (the
/// connection's DataReceived moves them up), oldest first within each group.</item>
/// <item>When every runspace is busy and a client with data waits, handlers whose clients have
/// sent nothing at all for at least <see cref="EvictionGrace"/>, beyond the first
/// -SilentHandlerLimit of them (default half the runspaces), are ended by closing their
/// connections, longest-silent first, one per waiting client. So at least
/// ThrottleLimit - SilentHandlerLimit runspaces are always within reach of clients that talk,
/// while a server whose clients legitimately wait for its greeting still gets all its runspaces
/// (no client with data waits there). Holding runspaces back for talking clients instead would
/// halve a greet-first server's concurrency for good; this costs a silent client its connection
/// only when a talking one needs the room.</item>
/// <item>-IdleTimeoutSeconds counts only while a handler owns the connection: the time a request
/// waits, unread, for a runspace is the server's doing (see ServerPolicy.IsWaitingForHandler).</item>
/// <item>-FirstByteTimeoutSeconds closes waiting connections that have sent nothing for that
/// long; -QueueLimit bounds the waiting connections: when it is reached, the one that has waited
/// longest without sending anything is closed to make room (if all have data, the new one is).</item>
/// </list>
/// <para>Threads: the workers are background threads, so a script whose server still has a
/// handler blocked in a receive does not keep the process alive after its last line (runspace
/// pools run pipelines on foreground threads, which .NET waits for before it even raises
/// ProcessExit).</para>
/// <para>Failures: a fault that concerns one connection or datagram (the block throws, the client
/// resets, a runspace will not open) is counted and reported and costs only that item. A fault
/// of the dispatch itself goes through <see cref="FailDispatch"/>: recorded, the server Failed,
/// everything released, the server's Stopped event raised.</para>
/// </remarks>
internal sealed class ScriptBlockHandlerHost
{
    /// <summary>Output and error records kept per server before the oldest are dropped.</summary>
    internal const int OutputLimit = 10_000;

    /// <summary>Connections or datagrams that may wait for a runspace, by default.</summary>
    internal const int DefaultQueueLimit = 1024;

    /// <summary>How long a client must have sent nothing before its handler may be ended to make
    /// room: long enough that a client whose first bytes are still on their way is not taken for
    /// a silent one.</summary>
    internal static readonly TimeSpan EvictionGrace = TimeSpan.FromMilliseconds(500);

    /// <summary>A worker with nothing to do for this long ends, giving back its thread and
    /// runspace (one always stays, so the next client does not wait for a runspace to open).</summary>
    private static readonly TimeSpan s_workerIdleLifetime = TimeSpan.FromMinutes(1);

    /// <summary>The stack PowerShell gives its own pipeline threads: deep recursion in a script
    /// needs more than a thread's default.</summary>
    private const int WorkerStackSize = 10_000_000;

    // Runs in the worker's runspace. The block and the initialization script come as ScriptBlocks
    // made on the worker's thread from their text, because a ScriptBlock belongs to the runspace
    // that made it; made outside any runspace, they take the language mode of the runspace they
    // run in, which is the caller's. No method calls here: the wrapper must work in
    // ConstrainedLanguage too. $using: values come in with the invocation (the "--%" parameter,
    // as Start-ThreadJob passes them) and are found by walking up the scopes from the block.
    private const string Wrapper = @"
param($__SockPSItem, $__SockPSBlock, $__SockPSInit, $__SockPSArgs)
if ($__SockPSInit -and -not $global:__SockPSInitialized) {
    $global:__SockPSInitialized = $true
    . $__SockPSInit
}
$__SockPSItem | ForEach-Object { & $__SockPSBlock $__SockPSItem @__SockPSArgs }
";

    /// <summary>The parameter name PowerShell binds $using: values to (Parser.VERBATIM_ARGUMENT).</summary>
    private const string UsingValuesParameter = "--%";

    private readonly InitialSessionState? _sessionState;
    private readonly string? _blockText;
    private readonly SocketProcessOptions? _program;
    private readonly string? _initializationText;
    private readonly object[] _arguments;
    private readonly Dictionary<string, object?>? _usingValues;
    private readonly SocketHandlerLimits _limits;

    // Everything below up to the counters is guarded by _gate.
    private readonly object _gate = new();
    private readonly LinkedList<Work> _withData = new();
    private readonly LinkedList<Work> _silent = new();
    private readonly List<Work> _running = new();
    private readonly List<Worker> _idle = new();
    private Runspace? _firstRunspace;
    private Timer? _firstByteTimer;
    private Timer? _recheckTimer;
    private SocketServer? _server;
    private int _workers;
    private int _evicting;
    private bool _stopped;
    private long _completed;
    private long _failed;
    private long _evicted;
    private long _dropped;
    private long _timedOut;
    private long _faults;
    private string? _lastError;

    private readonly ConcurrentDictionary<SocketConnection, Work> _waiting = new();
    private readonly ConcurrentQueue<object> _output = new();
    private int _outputCount;
    private long _droppedOutput;

    /// <summary>Prepares the handlers and opens the first runspace, so a broken setup (a module
    /// that will not load) fails Start-SocketServer rather than every client.</summary>
    public ScriptBlockHandlerHost(ScriptBlock block, ScriptBlock? initialization, object[]? arguments, Dictionary<string, object?>? usingValues,
        PSLanguageMode languageMode, SocketHandlerLimits limits, string modulePath)
    {
        _blockText = block.ToString();
        _initializationText = initialization?.ToString();
        _arguments = arguments ?? Array.Empty<object>();
        _usingValues = usingValues is { Count: > 0 } ? usingValues : null;
        _limits = limits;
        _sessionState = InitialSessionState.CreateDefault2();
        _sessionState.ImportPSModule(new[] { modulePath });
        // Handlers run in the caller's language mode: a ConstrainedLanguage session must not get
        // FullLanguage handlers by starting a server.
        _sessionState.LanguageMode = languageMode;
        _firstRunspace = OpenRunspace();
    }

    /// <summary>Prepares a -FilePath server's handlers: a program per connection, no runspaces.</summary>
    public ScriptBlockHandlerHost(SocketProcessOptions program, SocketHandlerLimits limits)
    {
        _program = program;
        _arguments = Array.Empty<object>();
        _limits = limits;
    }

    /// <summary>True for a -FilePath server.</summary>
    public bool RunsPrograms => _program is not null;

    public SocketHandlerStatus Status()
    {
        SocketHandlerCounts counts = new()
        {
            OutputCount = Volatile.Read(ref _outputCount),
            DroppedOutput = Interlocked.Read(ref _droppedOutput),
        };
        lock (_gate)
        {
            counts.Running = _running.Count;
            counts.RunningSilent = CountSilentRunning();
            counts.Waiting = _withData.Count + _silent.Count;
            counts.WaitingSilent = _silent.Count;
            counts.Completed = _completed;
            counts.Failed = _failed;
            counts.Evicted = _evicted;
            counts.Dropped = _dropped;
            counts.TimedOut = _timedOut;
            counts.Faults = _faults;
            counts.LastError = _lastError;
        }

        return new SocketHandlerStatus(_limits, counts);
    }

    /// <summary>True while the connection waits for a runspace (the idle clock does not run).</summary>
    public bool IsWaiting(SocketConnection connection) => _waiting.ContainsKey(connection);

    /// <summary>Ties the host to its server: it stops with it, and fails it when the dispatch
    /// itself breaks.</summary>
    public void Attach(SocketServer server)
    {
        lock (_gate)
        {
            _server = server;
            if (_limits.FirstByteTimeout > TimeSpan.Zero && !_stopped)
            {
                int period = (int)Math.Max(50, Math.Min(1000, _limits.FirstByteTimeout.TotalMilliseconds / 4));
                _firstByteTimer = new Timer(_ => Guarded(CloseSilentTooLong), null, period, period);
            }
        }

        // Output stays readable after the server stops (it lives as long as the server object);
        // the workers, their threads and runspaces go.
        server.Stopping += (_, _) => Stop();
    }

    /// <summary>The handler host of a server started with -ScriptBlock, or null.</summary>
    public static ScriptBlockHandlerHost? For(SocketServer server) => server.HandlerHost as ScriptBlockHandlerHost;

    /// <summary>Module path for the runspaces: the module's manifest, as users import it.</summary>
    public static string ModulePathFor(PSCmdlet cmdlet) => ModuleLayout.ManifestPath;

    // ------------------------------------------------------------------ arrivals

    /// <summary>Runs the block for one accepted connection; the connection closes when the block
    /// ends, unless the block set $Connection.KeepOpen.</summary>
    public void Handle(SocketConnection connection)
    {
        Work work = new(connection, connection, isDatagram: false);
        // Subscribed before the connection is queued, so data that arrives in between is seen:
        // either as BytesReceived when it is queued, or by the event after.
        work.DataHandler = (_, _) => Guarded(() => OnData(work));
        work.ClosedHandler = (_, _) => Guarded(() => OnClosed(work));
        connection.DataReceived += work.DataHandler;
        connection.Closed += work.ClosedHandler;
        Guarded(() => Enqueue(work));
    }

    /// <summary>Runs the block for one datagram. When -QueueLimit datagrams and connections wait
    /// for a runspace, the datagram is dropped and counted, as a full socket buffer would drop it.</summary>
    public void Handle(SocketDatagram datagram) => Guarded(() => Enqueue(new Work(datagram, datagram.Connection, isDatagram: true)));

    private void Enqueue(Work work)
    {
        List<Action> after = new();
        lock (_gate)
        {
            if (_stopped)
            {
                after.Add(() => Discard(work, "The server stopped."));
            }
            else if (_withData.Count + _silent.Count >= _limits.QueueLimit && !MakeQueueRoom(work, after))
            {
                // Nothing to give up for it: the new one goes.
            }
            else
            {
                Queue(work, work.HasSentData ? _withData : _silent);
                Pump(after);
            }
        }

        RunAll(after);
    }

    /// <summary>At -QueueLimit: a datagram is dropped; a connection takes the place of the
    /// waiting connection that has gone longest without sending anything, or is closed itself
    /// when every waiting one has data.</summary>
    private bool MakeQueueRoom(Work work, List<Action> after)
    {
        if (work.IsDatagram)
        {
            after.Add(work.Connection.CountDroppedDatagram);
            return false;
        }

        _dropped++;
        string reason = $"The server had {_limits.QueueLimit} connections waiting for a handler (-QueueLimit).";
        if (_silent.First?.Value is { } oldest)
        {
            Unqueue(oldest);
            after.Add(() => Discard(oldest, reason + " This one had sent nothing, so it made room for a newer one."));
            return true;
        }

        after.Add(() => Discard(work, reason));
        return false;
    }

    /// <summary>A waiting connection's first data: it goes ahead of the silent ones.</summary>
    private void OnData(Work work)
    {
        List<Action> after = new();
        lock (_gate)
        {
            if (work.Node?.List == _silent)
            {
                _silent.Remove(work.Node);
                work.Node = _withData.AddLast(work);
                Pump(after);
            }
        }

        // One notice is all it takes; the rest of the connection's reads need not pay for it.
        work.Unsubscribe(dataOnly: true);
        RunAll(after);
    }

    /// <summary>A waiting connection closed on this side (Disconnect-Socket, a timeout) is not
    /// served; one its client closed still is, since its data may be waiting.</summary>
    private void OnClosed(Work work)
    {
        if (work.Connection.State != SocketState.Disconnected)
        {
            return;
        }

        List<Action> after = new();
        lock (_gate)
        {
            if (work.Node is not null)
            {
                Unqueue(work);
                after.Add(() => work.Unsubscribe(dataOnly: false));
            }
        }

        RunAll(after);
    }

    /// <summary>-FirstByteTimeoutSeconds: closes waiting connections that have sent nothing for
    /// that long (the silent queue is in arrival order).</summary>
    private void CloseSilentTooLong()
    {
        List<Action> after = new();
        int limit = (int)_limits.FirstByteTimeout.TotalMilliseconds;
        int now = Environment.TickCount;
        lock (_gate)
        {
            while (_silent.First?.Value is { } oldest && unchecked(now - oldest.QueuedAt) >= limit)
            {
                Unqueue(oldest);
                _timedOut++;
                after.Add(() => Discard(oldest, $"Sent nothing within {EndPointText.Seconds(_limits.FirstByteTimeout)} of connecting (-FirstByteTimeoutSeconds)."));
            }
        }

        RunAll(after);
    }

    // ------------------------------------------------------------------ dispatch (under _gate)

    private void Queue(Work work, LinkedList<Work> list)
    {
        work.Node = list.AddLast(work);
        if (!work.IsDatagram)
        {
            _waiting[work.Connection] = work;
        }
    }

    private void Unqueue(Work work)
    {
        if (work.Node?.List is { } list)
        {
            list.Remove(work.Node);
        }

        work.Node = null;
        if (!work.IsDatagram)
        {
            _waiting.TryRemove(work.Connection, out _);
        }
    }

    /// <summary>Hands waiting work to free runspaces, talking clients first; when none is free,
    /// makes room for a talking client (see the class remarks). Actions that close, start or wake
    /// go to <paramref name="after"/>, run outside the lock.</summary>
    private void Pump(List<Action> after)
    {
        while (!_stopped && (_withData.First ?? _silent.First) is { } node)
        {
            if (_running.Count >= _limits.ThrottleLimit)
            {
                MakeRoomForData(after);
                return;
            }

            Work work = node.Value;
            Unqueue(work);
            work.StartedAt = Environment.TickCount;
            _running.Add(work);
            if (!work.IsDatagram)
            {
                work.Connection.RestartIdleClock();
                after.Add(() => work.Unsubscribe(dataOnly: false));
            }

            Worker worker;
            if (_idle.Count > 0)
            {
                worker = _idle[_idle.Count - 1];
                _idle.RemoveAt(_idle.Count - 1);
            }
            else
            {
                worker = new Worker(this, _firstRunspace);
                _firstRunspace = null;
                _workers++;
            }

            worker.Assigned = work;
            after.Add(worker.Wake);
        }
    }

    private void MakeRoomForData(List<Action> after)
    {
        int needing = _withData.Count - _evicting;
        if (needing <= 0)
        {
            return;
        }

        List<Work> silent = SilentRunning(strict: true);
        int excess = silent.Count - _limits.SilentHandlerLimit;
        if (excess <= 0)
        {
            return;
        }

        silent.Sort((a, b) => unchecked(a.QueuedAt - b.QueuedAt));
        int now = Environment.TickCount;
        int grace = (int)EvictionGrace.TotalMilliseconds;
        foreach (Work work in silent)
        {
            if (needing == 0 || excess == 0)
            {
                break;
            }

            int silentFor = unchecked(now - work.QueuedAt);
            if (silentFor < grace)
            {
                // Not silent long enough yet: look again when it will have been.
                ScheduleRecheck(grace - silentFor);
                break;
            }

            work.Evicted = true;
            _evicting++;
            _evicted++;
            needing--;
            excess--;
            after.Add(() => work.Connection.Close(
                $"Closed to make room: the client had sent nothing for {EndPointText.Seconds(TimeSpan.FromMilliseconds(silentFor))} while clients with data waited for a handler (-SilentHandlerLimit {_limits.SilentHandlerLimit})."));
        }
    }

    /// <summary>Running handlers whose clients have sent nothing; <paramref name="strict"/> also
    /// asks the OS whether anything is waiting unread (before ending one, not for every status).</summary>
    private List<Work> SilentRunning(bool strict)
    {
        List<Work> silent = new();
        foreach (Work work in _running)
        {
            if (work.IsSilentHandler && !(strict && work.Connection.HasReceivedAnything))
            {
                silent.Add(work);
            }
        }

        return silent;
    }

    private int CountSilentRunning()
    {
        int count = 0;
        foreach (Work work in _running)
        {
            if (work.IsSilentHandler)
            {
                count++;
            }
        }

        return count;
    }

    private void ScheduleRecheck(int milliseconds)
    {
        _recheckTimer ??= new Timer(_ => Guarded(Recheck), null, Timeout.Infinite, Timeout.Infinite);
        _recheckTimer.Change(Math.Max(1, milliseconds), Timeout.Infinite);
    }

    private void Recheck()
    {
        List<Action> after = new();
        lock (_gate)
        {
            Pump(after);
        }

        RunAll(after);
    }

    // ------------------------------------------------------------------ running (on a worker)

    /// <summary>Runs one item on the worker's thread. Never throws: whatever goes wrong is this
    /// item's failure, counted and reported.</summary>
    private void Run(Worker worker, Work work)
    {
        if (_program is not null)
        {
            RunProgram(work, _program);
            return;
        }

        try
        {
            worker.Prepare(this);
            using PowerShell shell = PowerShell.Create();
            shell.Runspace = worker.Runspace;
            shell.AddScript(Wrapper, useLocalScope: false)
                .AddArgument(work.Item).AddArgument(worker.Block).AddArgument(worker.Initialization).AddArgument(_arguments);
            if (_usingValues is not null)
            {
                shell.AddParameter(UsingValuesParameter, _usingValues);
            }

            SocketConnection connection = work.Connection;
            PSDataCollection<PSObject> output = new();
            output.DataAdded += (sender, e) => Keep(Tag(((PSDataCollection<PSObject>)sender!)[e.Index], connection));
            shell.Streams.Error.DataAdded += (sender, e) =>
            {
                if (!work.Evicted)
                {
                    Keep(TagError(((PSDataCollection<ErrorRecord>)sender!)[e.Index], connection));
                }
            };

            lock (_gate)
            {
                if (_stopped)
                {
                    work.Outcome = Outcome.Failed;
                    return;
                }

                worker.Shell = shell;
            }

            try
            {
                shell.Invoke(null, output, null);
                work.Outcome = Outcome.Completed;
            }
            finally
            {
                lock (_gate)
                {
                    worker.Shell = null;
                }
            }
        }
        catch (Exception ex) when (worker.Runspace is null)
        {
            // No runspace: the handler machinery failed this item, not the block.
            work.Outcome = Outcome.Failed;
            RecordFault($"A runspace for the handler could not be opened: {ex.Message}");
            Keep(TagError(new ErrorRecord(ex, "HandlerRunspaceFailed", ErrorCategory.OpenError, work.Connection), work.Connection));
        }
        catch (Exception ex)
        {
            work.Outcome = Outcome.Failed;
            if (ex is not PipelineStoppedException && !work.Evicted)
            {
                ErrorRecord record = ex is IContainsErrorRecord withRecord
                    ? withRecord.ErrorRecord
                    : new ErrorRecord(ex, "HandlerFailed", ErrorCategory.NotSpecified, work.Connection);
                Keep(TagError(record, work.Connection));
            }
        }
    }

    /// <summary>Runs the program for one connection on the worker's thread, which waits for it
    /// (the bridge itself blocks no thread). A program that exits on its own has Completed; one
    /// that could not start or had to be stopped has Failed. Never throws.</summary>
    private void RunProgram(Work work, SocketProcessOptions program)
    {
        ProcessBridge bridge = new(work.Connection, program);
        lock (_gate)
        {
            if (_stopped)
            {
                work.Outcome = Outcome.Failed;
                return;
            }

            work.Bridge = bridge;
        }

        try
        {
            SocketProcessResult result = bridge.RunAsync(CancellationToken.None).GetAwaiter().GetResult();
            work.Outcome = result.Stopped ? Outcome.Failed : Outcome.Completed;
            Keep(Tag(PSObject.AsPSObject(result), work.Connection));
        }
        catch (SocketOperationException ex)
        {
            work.Outcome = Outcome.Failed;
            if (ex.Kind is SocketFailureKind.ProgramStartFailed or SocketFailureKind.ProgramNotFound)
            {
                RecordFault(ex.Message);
            }

            Keep(TagError(ErrorRecords.From(ex, work.Connection), work.Connection));
        }
        finally
        {
            lock (_gate)
            {
                work.Bridge = null;
            }
        }
    }

    /// <summary>After an item ran: counts it, closes its connection (unless the block kept it
    /// open), and takes the next waiting item onto this worker, or parks the worker.</summary>
    private void Finished(Worker worker, Work work)
    {
        if (!work.IsDatagram && (!work.Connection.KeepOpen || work.Evicted))
        {
            work.Connection.Close(work.Evicted ? "Closed to make room for clients with data." : "The handler finished.");
        }

        List<Action> after = new();
        lock (_gate)
        {
            _running.Remove(work);
            if (work.Evicted)
            {
                _evicting--;
            }
            else if (work.Outcome == Outcome.Completed)
            {
                _completed++;
            }
            else
            {
                _failed++;
            }

            if (_stopped)
            {
                worker.Assigned = null;
                after.Add(worker.Wake);
            }
            else
            {
                _idle.Add(worker);
                Pump(after);
            }
        }

        RunAll(after);
    }

    /// <summary>A worker with nothing to do for a while ends, unless it is the last one.</summary>
    private bool Retire(Worker worker)
    {
        lock (_gate)
        {
            if (worker.Assigned is not null || _stopped || _workers <= 1 || !_idle.Remove(worker))
            {
                return false;
            }

            _workers--;
            return true;
        }
    }

    private void WorkerEnded(Worker worker, bool retired)
    {
        lock (_gate)
        {
            if (!retired)
            {
                _workers--;
                _idle.Remove(worker);
            }
        }
    }

    // ------------------------------------------------------------------ stopping and faults

    /// <summary>The server stopped: waiting connections are closed, running blocks are stopped
    /// and their connections closed (a block waiting in a receive does not see a stop, but sees
    /// its connection close), and the workers end, closing their runspaces.</summary>
    private void Stop()
    {
        List<Work> waiting = new();
        List<Work> running;
        List<PowerShell> shells = new();
        List<ProcessBridge> bridges = new();
        List<Worker> idle;
        Runspace? unused;
        lock (_gate)
        {
            if (_stopped)
            {
                return;
            }

            _stopped = true;
            waiting.AddRange(_withData);
            waiting.AddRange(_silent);
            foreach (Work work in waiting)
            {
                Unqueue(work);
            }

            running = new List<Work>(_running);
            idle = new List<Worker>(_idle);
            _idle.Clear();
            foreach (Worker worker in idle)
            {
                worker.Assigned = null;
            }

            unused = _firstRunspace;
            _firstRunspace = null;
            _firstByteTimer?.Dispose();
            _recheckTimer?.Dispose();
        }

        foreach (Work work in waiting)
        {
            Discard(work, "The server stopped.");
        }

        foreach (Work work in running)
        {
            // A UDP server's socket closes with the server.
            if (!work.IsDatagram)
            {
                work.Connection.Close("The server stopped.");
            }
        }

        lock (_gate)
        {
            foreach (Worker worker in idle)
            {
                worker.Wake();
            }

            foreach (Work work in running)
            {
                if (work.RunningOn?.Shell is { } shell)
                {
                    shells.Add(shell);
                }

                if (work.Bridge is { } bridge)
                {
                    bridges.Add(bridge);
                }
            }
        }

        // Programs are stopped here and now, not after a grace: the server is going (perhaps
        // with this process), and a program left behind would outlive it.
        foreach (ProcessBridge bridge in bridges)
        {
            bridge.Stop("The server stopped.");
        }

        foreach (PowerShell shell in shells)
        {
            try
            {
                shell.BeginStop(null, null);
            }
            catch (Exception ex) when (ex is ObjectDisposedException or InvalidOperationException or PSInvalidOperationException)
            {
                // It ended meanwhile.
            }
        }

        unused?.Dispose();
    }

    /// <summary>The one way the dispatch itself ends when it breaks: the fault is recorded, the
    /// server fails (its state says so, its sockets close, its Stopped event is raised), and the
    /// workers are released by the server's stop.</summary>
    private void FailDispatch(Exception ex)
    {
        string message = $"The handler dispatch failed: {ex.GetType().Name}: {ex.Message}";
        RecordFault(message);
        SocketServer? server;
        lock (_gate)
        {
            server = _server;
        }

        if (server is not null)
        {
            server.Fail(message);
        }
        else
        {
            Stop();
        }
    }

    /// <summary>Runs dispatch code from a socket event, a timer or the accept loop: nothing it
    /// throws may escape into them silently.</summary>
    private void Guarded(Action action)
    {
        try
        {
            action();
        }
        catch (Exception ex)
        {
            FailDispatch(ex);
        }
    }

    private void RecordFault(string message)
    {
        lock (_gate)
        {
            _faults++;
            _lastError = message;
        }
    }

    /// <summary>Work that will not run: a connection is closed (and its subscriptions dropped).</summary>
    private static void Discard(Work work, string reason)
    {
        if (!work.IsDatagram)
        {
            work.Unsubscribe(dataOnly: false);
            work.Connection.Close(reason);
        }
    }

    private static void RunAll(List<Action> actions)
    {
        foreach (Action action in actions)
        {
            action();
        }
    }

    private Runspace OpenRunspace()
    {
        Runspace runspace = RunspaceFactory.CreateRunspace(_sessionState!);
        // The worker's own thread runs the pipeline: no hidden pipeline threads (they would be
        // foreground threads).
        runspace.ThreadOptions = PSThreadOptions.UseCurrentThread;
        try
        {
            runspace.Open();
            return runspace;
        }
        catch
        {
            runspace.Dispose();
            throw;
        }
    }

    // ------------------------------------------------------------------ output

    private static PSObject Tag(PSObject record, SocketConnection connection)
    {
        record.Properties.Remove("SocketConnection");
        record.Properties.Add(new PSNoteProperty("SocketConnection", connection));
        return record;
    }

    /// <summary>A handler's error, re-targeted at its connection and saying which one it was.</summary>
    private static ErrorRecord TagError(ErrorRecord error, SocketConnection connection)
    {
        ErrorRecord tagged = new(error.Exception, "HandlerError", error.CategoryInfo.Category, connection)
        {
            ErrorDetails = new ErrorDetails($"Handler for connection {connection.Id} ({connection.PeerText}): {error}"),
        };
        PSObject.AsPSObject(tagged).Properties.Add(new PSNoteProperty("OriginalErrorId", error.FullyQualifiedErrorId));
        return tagged;
    }

    private void Keep(object item)
    {
        _output.Enqueue(item);
        if (Interlocked.Increment(ref _outputCount) > OutputLimit && _output.TryDequeue(out _))
        {
            Interlocked.Decrement(ref _outputCount);
            Interlocked.Increment(ref _droppedOutput);
        }
    }

    /// <summary>What handlers wrote, oldest first: PSObjects and ErrorRecords. Taken unless
    /// <paramref name="keep"/>.</summary>
    public IReadOnlyList<object> TakeOutput(bool keep)
    {
        if (keep)
        {
            return _output.ToArray();
        }

        List<object> taken = new();
        while (_output.TryDequeue(out object? item))
        {
            Interlocked.Decrement(ref _outputCount);
            taken.Add(item);
        }

        return taken;
    }

    /// <summary>Stops the handlers when the server could not be started after all.</summary>
    public void Abandon() => Stop();

    // ------------------------------------------------------------------ types

    private enum Outcome
    {
        Failed,
        Completed,
    }

    /// <summary>One connection or datagram to serve.</summary>
    private sealed class Work
    {
        public Work(object item, SocketConnection connection, bool isDatagram)
        {
            Item = item;
            Connection = connection;
            IsDatagram = isDatagram;
            QueuedAt = Environment.TickCount;
        }

        public object Item { get; }

        public SocketConnection Connection { get; }

        public bool IsDatagram { get; }

        /// <summary>When it arrived (Environment.TickCount): how long a silent client has been silent.</summary>
        public int QueuedAt { get; }

        public int StartedAt { get; set; }

        /// <summary>Its place in a queue while it waits; null otherwise.</summary>
        public LinkedListNode<Work>? Node { get; set; }

        public Worker? RunningOn { get; set; }

        /// <summary>The program running for it on a -FilePath server, so a stop can reach it
        /// (guarded by the host's lock).</summary>
        public ProcessBridge? Bridge { get; set; }

        /// <summary>Its connection was closed to make room for a client with data.</summary>
        public bool Evicted { get; set; }

        public Outcome Outcome { get; set; }

        public EventHandler<SocketDataEventArgs>? DataHandler { get; set; }

        public EventHandler<SocketClosedEventArgs>? ClosedHandler { get; set; }

        public bool HasSentData => IsDatagram || Connection.BytesReceived > 0;

        /// <summary>A running handler whose client has sent nothing, and that may be ended to make room.</summary>
        public bool IsSilentHandler => !IsDatagram && !Evicted && Connection.BytesReceived == 0;

        public void Unsubscribe(bool dataOnly)
        {
            if (DataHandler is { } data)
            {
                Connection.DataReceived -= data;
            }

            if (!dataOnly && ClosedHandler is { } closed)
            {
                Connection.Closed -= closed;
            }
        }
    }

    /// <summary>A background thread with its own runspace that runs one item at a time.</summary>
    private sealed class Worker
    {
        private readonly ScriptBlockHandlerHost _host;
        private readonly SemaphoreSlim _wake = new(0);
        private Thread? _thread;
        private Work? _assigned;

        public Worker(ScriptBlockHandlerHost host, Runspace? runspace)
        {
            _host = host;
            Runspace = runspace;
        }

        public Runspace? Runspace { get; private set; }

        public ScriptBlock? Block { get; private set; }

        public ScriptBlock? Initialization { get; private set; }

        /// <summary>The pipeline running now, so a stop can reach it (guarded by the host's lock).</summary>
        public PowerShell? Shell { get; set; }

        /// <summary>What to run next; null with a wake means end (guarded by the host's lock).</summary>
        public Work? Assigned
        {
            get => _assigned;
            set
            {
                _assigned = value;
                if (value is not null)
                {
                    value.RunningOn = this;
                }
            }
        }

        /// <summary>Starts the thread the first time, signals it after.</summary>
        public void Wake()
        {
            if (_thread is null)
            {
                _thread = new Thread(Loop, WorkerStackSize)
                {
                    IsBackground = true,
                    Name = "SockPS handler",
                };
                try
                {
                    _thread.Start();
                    return;
                }
                catch (Exception ex) when (ex is OutOfMemoryException or ThreadStartException)
                {
                    _thread = null;
                    _host.FailDispatch(ex);
                    return;
                }
            }

            _wake.Release();
        }

        /// <summary>Opens the runspace (on first use) and makes the blocks in it.</summary>
        public void Prepare(ScriptBlockHandlerHost host)
        {
            if (host._program is not null)
            {
                return;
            }

            Runspace ??= host.OpenRunspace();
            // Made here, on a thread that is in no runspace, so they carry no language mode of
            // their own and run in their runspace's.
            Block ??= ScriptBlock.Create(host._blockText!);
            if (host._initializationText is not null)
            {
                Initialization ??= ScriptBlock.Create(host._initializationText);
            }
        }

        private void Loop()
        {
            bool retired = false;
            try
            {
                bool first = true;
                while (true)
                {
                    if (!first && !_wake.Wait(s_workerIdleLifetime))
                    {
                        if (_host.Retire(this))
                        {
                            retired = true;
                            return;
                        }

                        continue;
                    }

                    first = false;
                    Work? work;
                    lock (_host._gate)
                    {
                        work = _assigned;
                        _assigned = null;
                    }

                    if (work is null)
                    {
                        return;
                    }

                    _host.Run(this, work);
                    _host.Finished(this, work);
                }
            }
            catch (Exception ex)
            {
                _host.FailDispatch(ex);
            }
            finally
            {
                _host.WorkerEnded(this, retired);
                Runspace?.Dispose();
                _wake.Dispose();
            }
        }
    }
}
