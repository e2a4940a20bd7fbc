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
/// Runs a server's -ScriptBlock once per accepted connection (or per datagram), concurrently, in
/// a pool of runspaces that have SockPS loaded: Python's socketserver with a thread per client,
/// in PowerShell's terms. At most -ThrottleLimit blocks run at once; the rest wait in the pool's
/// queue with their connections open (their data buffered, bounded). Output and errors are kept,
/// tagged with the connection, for Receive-SocketServerOutput; a block that throws is reported
/// and the server goes on.
/// </summary>
internal sealed class ScriptBlockHandlerHost : IDisposable
{
    /// <summary>Output and error records kept per server before the oldest are dropped.</summary>
    internal const int OutputLimit = 10_000;

    // Runs in the pool's runspaces: the block is re-created there from its text, because a
    // ScriptBlock belongs to the runspace that made it. $_ is the connection (or datagram) too.
    private const string Wrapper = @"
param($__SockPSItem, $__SockPSBlock, $__SockPSInit, $__SockPSArgs)
if ($__SockPSInit -and -not $global:__SockPSInitialized) {
    $global:__SockPSInitialized = $true
    . ([scriptblock]::Create($__SockPSInit))
}
$__SockPSHandler = [scriptblock]::Create($__SockPSBlock)
$__SockPSItem | ForEach-Object { & $__SockPSHandler $__SockPSItem @__SockPSArgs }
";

    private static readonly ConcurrentDictionary<int, ScriptBlockHandlerHost> s_hosts = new();

    private readonly RunspacePool _pool;
    private readonly string _block;
    private readonly string? _initialization;
    private readonly object[] _arguments;
    private readonly ConcurrentQueue<object> _output = new();
    private readonly ConcurrentDictionary<PowerShell, SocketConnection> _running = new();
    private int _outputCount;
    private long _droppedOutput;
    private long _completed;
    private long _failed;
    private int _disposed;
    private readonly int _throttleLimit;

    public ScriptBlockHandlerHost(ScriptBlock block, ScriptBlock? initialization, object[]? arguments, int throttleLimit, string modulePath)
    {
        _block = block.ToString();
        _initialization = initialization?.ToString();
        _arguments = arguments ?? new object[0];
        _throttleLimit = throttleLimit;
        InitialSessionState state = InitialSessionState.CreateDefault2();
        state.ImportPSModule(new[] { modulePath });
        _pool = RunspaceFactory.CreateRunspacePool(state);
        _pool.SetMaxRunspaces(throttleLimit);
        _pool.SetMinRunspaces(1);
        _pool.ThreadOptions = PSThreadOptions.UseNewThread;
        _pool.Open();
    }

    /// <summary>Datagrams that may wait for a free runspace before new ones are dropped.</summary>
    internal const int DatagramBacklog = 1024;

    /// <summary>Handlers running now (the pool's busy runspaces).</summary>
    public int Running
    {
        get
        {
            try
            {
                // Once stopped, whatever has not ended yet is winding down, not waiting.
                return Volatile.Read(ref _disposed) != 0 ? _running.Count : _pool.GetMaxRunspaces() - _pool.GetAvailableRunspaces();
            }
            catch (Exception ex) when (ex is InvalidRunspacePoolStateException or ObjectDisposedException or InvalidOperationException)
            {
                return _running.Count; // stopped meanwhile
            }
        }
    }

    /// <summary>Handlers running or waiting for a runspace.</summary>
    public int Pending => _running.Count;

    public long Completed => Interlocked.Read(ref _completed);

    public long Failed => Interlocked.Read(ref _failed);

    public long DroppedOutput => Interlocked.Read(ref _droppedOutput);

    public SocketHandlerStatus Status()
    {
        int running = Running;
        return new SocketHandlerStatus(_throttleLimit, running, Math.Max(0, Pending - running), Completed, Failed, Volatile.Read(ref _outputCount), DroppedOutput);
    }

    public static void Register(SocketServer server, ScriptBlockHandlerHost host)
    {
        s_hosts[server.Id] = host;
        server.Stopping += (_, _) =>
        {
            // Output stays readable after the server stops; only the runspaces go.
            host.StopHandlers();
        };
    }

    public static ScriptBlockHandlerHost? For(SocketServer server) => s_hosts.TryGetValue(server.Id, out ScriptBlockHandlerHost? host) ? host : null;

    /// <summary>Module path for the pool: the manifest next to this assembly, as users import it.</summary>
    public static string ModulePathFor(PSCmdlet cmdlet)
    {
        string folder = Path.GetDirectoryName(typeof(ScriptBlockHandlerHost).Assembly.Location)!;
        string manifest = Path.Combine(folder, "SockPS.psd1");
        return File.Exists(manifest) ? manifest : typeof(ScriptBlockHandlerHost).Assembly.Location;
    }

    /// <summary>Runs the block for one accepted connection; the connection closes when the block
    /// ends, unless the block set $Connection.KeepOpen.</summary>
    public void Handle(SocketConnection connection) => Run(connection, connection, () =>
    {
        if (!connection.KeepOpen)
        {
            connection.Close("The handler finished.");
        }
    });

    /// <summary>Runs the block for one datagram. When too many wait for a runspace, the datagram
    /// is dropped and counted, as a full socket buffer would drop it.</summary>
    public void Handle(SocketDatagram datagram)
    {
        if (_running.Count >= DatagramBacklog)
        {
            datagram.Connection.CountDroppedDatagram();
            return;
        }

        Run(datagram, datagram.Connection, null);
    }

    private void Run(object item, SocketConnection connection, Action? finished)
    {
        if (Volatile.Read(ref _disposed) != 0)
        {
            finished?.Invoke();
            return;
        }

        PowerShell shell = PowerShell.Create();
        shell.RunspacePool = _pool;
        shell.AddScript(Wrapper).AddArgument(item).AddArgument(_block).AddArgument(_initialization).AddArgument(_arguments);
        PSDataCollection<PSObject> input = new();
        input.Complete();
        PSDataCollection<PSObject> output = new();
        output.DataAdded += (sender, e) =>
        {
            PSObject record = ((PSDataCollection<PSObject>)sender!)[e.Index];
            Keep(Tag(record, connection));
        };
        shell.Streams.Error.DataAdded += (sender, e) =>
        {
            ErrorRecord error = ((PSDataCollection<ErrorRecord>)sender!)[e.Index];
            Keep(TagError(error, connection));
        };

        _running[shell] = connection;
        try
        {
            shell.BeginInvoke(input, output, null, result =>
            {
                try
                {
                    shell.EndInvoke(result);
                    Interlocked.Increment(ref _completed);
                }
                catch (Exception ex)
                {
                    Interlocked.Increment(ref _failed);
                    if (ex is not PipelineStoppedException)
                    {
                        ErrorRecord record = ex is IContainsErrorRecord withRecord
                            ? withRecord.ErrorRecord
                            : new ErrorRecord(ex, "HandlerFailed", ErrorCategory.NotSpecified, connection);
                        Keep(TagError(record, connection));
                    }
                }
                finally
                {
                    _running.TryRemove(shell, out _);
                    shell.Dispose();
                    finished?.Invoke();
                }
            }, null);
        }
        catch (Exception ex) when (ex is InvalidOperationException or InvalidRunspacePoolStateException)
        {
            _running.TryRemove(shell, out _);
            shell.Dispose();
            finished?.Invoke();
            return;
        }
    }

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

    private void StopHandlers()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        foreach (KeyValuePair<PowerShell, SocketConnection> handler in _running)
        {
            try
            {
                handler.Key.BeginStop(null, null);
            }
            catch (Exception ex) when (ex is ObjectDisposedException or InvalidOperationException)
            {
            }

            // A block waiting in a receive does not see the stop; closing its connection ends
            // the wait (a UDP server's socket closes with the server).
            if (!handler.Value.IsDatagram)
            {
                handler.Value.Close("The server stopped.");
            }
        }

        ThreadPool.QueueUserWorkItem(_ =>
        {
            SpinWait.SpinUntil(() => _running.IsEmpty, TimeSpan.FromSeconds(10));
            _pool.Close();
            _pool.Dispose();
        });
    }

    public void Dispose() => StopHandlers();
}
