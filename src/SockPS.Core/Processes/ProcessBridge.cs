using System;
using System.ComponentModel;
using System.Diagnostics;
using System.IO;
using System.Net;
using System.Runtime.InteropServices;
using System.Text;
using System.Threading;
using System.Threading.Tasks;

namespace SockPS.Core;

/// <summary>
/// Runs one program on one stream connection, the way <c>ncat -e</c> and socat's EXEC: do: the
/// connection's bytes go to its standard input as they are, its standard output (and standard
/// error with -MergeStandardError) goes to the connection.
/// </summary>
/// <remarks>
/// <para>How it ends:</para>
/// <list type="bullet">
/// <item>The peer half-closes (FIN): the program's standard input is closed, so it sees end of
/// file; its output still goes out.</item>
/// <item>The program closes its output (usually by exiting): the connection's sending side is
/// shut down (FIN). Once the program has exited too, the connection is closed. A program that
/// leaves a background process holding its output keeps the connection until that one lets go
/// too, as with a pipe.</item>
/// <item>The connection is reset, a send to it fails, or it is closed on this side (Disconnect-Socket,
/// -IdleTimeoutSeconds): standard input is closed and the program gets
/// <see cref="SocketProcessOptions.StopGrace"/> to exit before it is stopped (with the programs it
/// started, where the runtime can).</item>
/// <item><see cref="Stop"/> (the server stops, Ctrl+C): the program is stopped at once.</item>
/// </list>
/// <para>Nothing here blocks a thread: a program that never reads fills its input pipe, the
/// bridge stops reading the socket, and TCP tells the client to wait; other connections are not
/// affected. Received data is never interpreted: the program's arguments are passed as a list,
/// with no shell.</para>
/// <para>The failure path: every way out goes through <see cref="Abort"/>, which records the
/// reason once; <see cref="RunAsync"/> then closes input, stops the program if it must, closes the
/// connection and returns the result. Nothing it starts outlives it but a program that would not
/// die.</para>
/// </remarks>
internal sealed class ProcessBridge
{
    /// <summary>How much of the program's output one read takes (and one send carries).</summary>
    private const int BlockSize = 64 * 1024;

    /// <summary>How much of standard error the result keeps when it does not go to the connection.</summary>
    internal const int StandardErrorTail = 4096;

    /// <summary>How long to wait for a stopped program to be gone.</summary>
    private static readonly TimeSpan s_killWait = TimeSpan.FromSeconds(10);

    /// <summary>How long to wait, at the end, for the pumps to notice, so the counts are final.</summary>
    private static readonly TimeSpan s_pumpWait = TimeSpan.FromSeconds(2);

    private readonly SocketConnection _connection;
    private readonly SocketProcessOptions _options;
    private readonly CancellationTokenSource _pumps = new();
    private readonly TaskCompletionSource<bool> _exited = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource<string> _abort = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly object _gate = new();
    private readonly byte[] _errorTail = new byte[StandardErrorTail];
    private int _errorTailLength;
    private Process? _process;
    private bool _inputClosed;
    private int _stopNow;
    private int _killed;
    private long _bytesIn;
    private long _bytesOut;

    public ProcessBridge(SocketConnection connection, SocketProcessOptions options)
    {
        _connection = connection;
        _options = options;
    }

    /// <summary>The running program's process id; null before it starts.</summary>
    public int? ProcessId
    {
        get
        {
            lock (_gate)
            {
                return _process?.Id;
            }
        }
    }

    // ------------------------------------------------------------------ finding the program

    /// <summary>
    /// The full path of the program to run: <paramref name="filePath"/> itself when rooted;
    /// relative to <paramref name="currentDirectory"/> when it names a folder (./run.sh,
    /// bin/server); otherwise looked up on PATH (on Windows with PATHEXT's extensions too), as a
    /// shell would. Throws ProgramNotFound.
    /// </summary>
    public static string FindProgram(string filePath, string currentDirectory)
    {
        if (string.IsNullOrEmpty(filePath))
        {
            throw new SocketOperationException(SocketFailureKind.InvalidArgument, "The program's path is empty.");
        }

        bool windows = RuntimeInformation.IsOSPlatform(OSPlatform.Windows);
        bool hasFolder = filePath.IndexOf('/') >= 0 || (windows && filePath.IndexOf('\\') >= 0);
        if (Path.IsPathRooted(filePath) || hasFolder)
        {
            string full = Path.GetFullPath(Path.Combine(currentDirectory, filePath));
            if (FindFile(full, windows) is { } found)
            {
                return found;
            }

            throw new SocketOperationException(SocketFailureKind.ProgramNotFound,
                Directory.Exists(full)
                    ? $"'{full}' is a folder, not a program. Give the path of the program to run."
                    : $"The program '{full}' does not exist. Check the path; a relative path is taken from the current location.",
                filePath);
        }

        string path = System.Environment.GetEnvironmentVariable("PATH") ?? string.Empty;
        foreach (string folder in path.Split(Path.PathSeparator))
        {
            if (folder.Length == 0)
            {
                continue;
            }

            string candidate;
            try
            {
                candidate = Path.Combine(folder.Trim('"'), filePath);
            }
            catch (ArgumentException)
            {
                continue;
            }

            if (FindFile(candidate, windows) is { } found)
            {
                return found;
            }
        }

        throw new SocketOperationException(SocketFailureKind.ProgramNotFound,
            $"No program named '{filePath}' was found on PATH. Give its full path, or ./{filePath} for one in the current location.",
            filePath);
    }

    private static string? FindFile(string path, bool windows)
    {
        if (File.Exists(path))
        {
            return path;
        }

        if (windows && string.IsNullOrEmpty(Path.GetExtension(path)))
        {
            string extensions = System.Environment.GetEnvironmentVariable("PATHEXT") ?? ".COM;.EXE;.BAT;.CMD";
            foreach (string extension in extensions.Split(';'))
            {
                if (extension.Length > 0 && File.Exists(path + extension))
                {
                    return path + extension;
                }
            }
        }

        return null;
    }

    // ------------------------------------------------------------------ running

    /// <summary>Starts the program and moves bytes until the end (see the class remarks); then
    /// the connection is closed and the result returned. Throws (before anything moves) when the
    /// connection cannot carry a program or the program does not start.</summary>
    public async Task<SocketProcessResult> RunAsync(CancellationToken cancellationToken)
    {
        if (_connection.IsMessageBased)
        {
            throw new SocketOperationException(SocketFailureKind.InvalidArgument,
                $"{_connection} is {(_connection.IsWebSocket ? "a WebSocket" : "a datagram socket")}: a program reads and writes a byte stream, so it runs on stream connections only (TCP, TLS, Unix stream sockets).",
                _connection.PeerText);
        }

        if (_connection.State == SocketState.Disconnected)
        {
            throw SocketErrors.Closed(_connection.PeerText);
        }

        Process process = StartProcess();
        DateTime startedAt = DateTime.Now;
        Stopwatch clock = Stopwatch.StartNew();
        SocketProcessResult result = new(_connection, _options, process.Id, startedAt);

        void OnClosed(object? sender, SocketClosedEventArgs e)
        {
            // Closed on this side (Disconnect-Socket, -IdleTimeoutSeconds, the server stopping);
            // the peer's FIN is the input pump's business.
            if (_connection.State == SocketState.Disconnected)
            {
                Abort(ClosedHere());
            }
        }

        _connection.Closed += OnClosed;
        if (_connection.State == SocketState.Disconnected)
        {
            Abort(ClosedHere());
        }

        Task input = Task.CompletedTask;
        Task output = Task.CompletedTask;
        Task errors = Task.CompletedTask;
        try
        {
            using CancellationTokenRegistration stop = cancellationToken.Register(() => Stop("The command was stopped."));
            input = PumpInputAsync(process.StandardInput.BaseStream);
            output = PumpOutputAsync(process);
            errors = _options.MergeStandardError ? Task.CompletedTask : KeepErrorTailAsync(process.StandardError.BaseStream);

            Task finished = Task.WhenAll(output, _exited.Task);
            string reason;
            if (await Task.WhenAny(finished, _abort.Task).ConfigureAwait(false) == finished)
            {
                reason = $"The program exited with code {process.ExitCode}.";
            }
            else
            {
                reason = await _abort.Task.ConfigureAwait(false);
                _pumps.Cancel();
                CloseInput();
                if (Volatile.Read(ref _stopNow) == 0)
                {
                    await WaitAsync(_exited.Task, _options.StopGrace).ConfigureAwait(false);
                }

                Kill();
                await WaitAsync(_exited.Task, s_killWait).ConfigureAwait(false);
                reason += Volatile.Read(ref _killed) != 0
                    ? " The program was stopped."
                    : _exited.Task.IsCompleted ? $" The program exited with code {process.ExitCode}." : " The program would not stop.";
            }

            result.EndReason = reason;
            result.Stopped = Volatile.Read(ref _killed) != 0;
            result.ExitCode = _exited.Task.IsCompleted ? process.ExitCode : null;
        }
        finally
        {
            _connection.Closed -= OnClosed;
            _connection.Close(result.EndReason.Length > 0 ? result.EndReason : "The program's bridge failed.");
            _pumps.Cancel();
            CloseInput();
            await WaitAsync(Task.WhenAll(input, output, errors), s_pumpWait).ConfigureAwait(false);
            result.Duration = clock.Elapsed;
            result.BytesIn = Interlocked.Read(ref _bytesIn);
            result.BytesOut = Interlocked.Read(ref _bytesOut);
            result.StandardError = ErrorTailText();
            lock (_gate)
            {
                _process = null;
            }

            process.Dispose();
            _pumps.Dispose();
        }

        return result;
    }

    /// <summary>Stops the program at once (no grace): the server stops, the command is stopped.
    /// Safe from any thread, any number of times, before or after the end.</summary>
    public void Stop(string reason)
    {
        Volatile.Write(ref _stopNow, 1);
        Abort(reason);
        Kill();
    }

    /// <summary>The one way out of a running bridge other than the program's exit: the first
    /// reason is kept.</summary>
    private void Abort(string reason) => _abort.TrySetResult(reason);

    /// <summary>Why the connection was closed on this side, as its CloseReason says ("The server
    /// stopped.", "Idle for 2 seconds (-IdleTimeoutSeconds).", "Closed by this side.").</summary>
    private string ClosedHere() => _connection.CloseReason ?? "The connection was closed on this side.";

    private void Kill()
    {
        Process? process;
        lock (_gate)
        {
            process = _process;
        }

        if (process is null || _exited.Task.IsCompleted)
        {
            return;
        }

        Interlocked.Exchange(ref _killed, 1);
        ProcessStart.Kill(process);
    }

    private Process StartProcess()
    {
        ProcessStartInfo startInfo = new(_options.FilePath)
        {
            UseShellExecute = false,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            CreateNoWindow = true,
            WorkingDirectory = _options.WorkingDirectory ?? string.Empty,
        };
        ProcessStart.SetArguments(startInfo, _options.ArgumentList);
        if (_options.Environment is { } environment)
        {
            foreach (System.Collections.Generic.KeyValuePair<string, string?> variable in environment)
            {
                if (variable.Value is null)
                {
                    startInfo.Environment.Remove(variable.Key);
                }
                else
                {
                    startInfo.Environment[variable.Key] = variable.Value;
                }
            }
        }

        SetPeerVariables(startInfo, "REMOTE", _connection.RemoteEndPoint);
        SetPeerVariables(startInfo, "LOCAL", _connection.LocalEndPoint);

        Process process = new() { StartInfo = startInfo, EnableRaisingEvents = true };
        process.Exited += (_, _) => _exited.TrySetResult(true);
        try
        {
            process.Start();
        }
        catch (Exception ex) when (ex is Win32Exception or InvalidOperationException or IOException or UnauthorizedAccessException or PlatformNotSupportedException)
        {
            process.Dispose();
            string where = _options.WorkingDirectory is null ? string.Empty : $" in '{_options.WorkingDirectory}'";
            throw new SocketOperationException(SocketFailureKind.ProgramStartFailed,
                $"The program '{_options.FilePath}' could not be started{where} for {_connection.PeerText}: {ex.Message} Check that it is a program this user may run" +
                (_options.WorkingDirectory is null ? "." : ", and that the working directory exists."),
                _options.FilePath, ex);
        }

        lock (_gate)
        {
            _process = process;
        }

        return process;
    }

    /// <summary>SOCKPS_REMOTE_ADDR / _PORT and SOCKPS_LOCAL_ADDR / _PORT (ncat's NCAT_REMOTE_ADDR
    /// and the like): the address as text (an IPv4 client of a dual-stack server as IPv4), the
    /// port as a number; for a Unix socket, the path (empty for an unnamed client) and no port.</summary>
    private static void SetPeerVariables(ProcessStartInfo startInfo, string side, EndPoint? endPoint)
    {
        string address;
        string? port = null;
        switch (endPoint)
        {
            case IPEndPoint ip:
                IPAddress ipAddress = ip.Address.IsIPv4MappedToIPv6 ? ip.Address.MapToIPv4() : ip.Address;
                address = ipAddress.ToString();
                port = ip.Port.ToString(System.Globalization.CultureInfo.InvariantCulture);
                break;
            case null:
                return;
            default:
                address = EndPointText.Format(endPoint);
                break;
        }

        startInfo.Environment[$"SOCKPS_{side}_ADDR"] = address;
        if (port is null)
        {
            startInfo.Environment.Remove($"SOCKPS_{side}_PORT");
        }
        else
        {
            startInfo.Environment[$"SOCKPS_{side}_PORT"] = port;
        }
    }

    // ------------------------------------------------------------------ the pumps

    /// <summary>Connection to standard input, byte for byte, until the peer half-closes (then
    /// standard input is closed) or the connection fails (then the bridge ends).</summary>
    private async Task PumpInputAsync(Stream stdin)
    {
        try
        {
            await _connection.ReceiveToEndAsync((buffer, offset, count) => WriteInputAsync(stdin, buffer, offset, count), TimeSpan.Zero, _pumps.Token)
                .ConfigureAwait(false);
            CloseInput();
        }
        catch (OperationCanceledException)
        {
            // The bridge is ending.
        }
        catch (SocketOperationException ex)
        {
            Abort(ex.Kind == SocketFailureKind.ConnectionReset
                ? $"The remote host {_connection.PeerText} reset the connection."
                : _connection.State == SocketState.Disconnected
                    ? ClosedHere()
                    : $"Receiving from {_connection.PeerText} failed: {ex.Message}");
        }
    }

    private async Task WriteInputAsync(Stream stdin, byte[] buffer, int offset, int count)
    {
        lock (_gate)
        {
            if (_inputClosed)
            {
                // The program closed its input (or exited): what the peer sends goes nowhere.
                return;
            }
        }

        try
        {
            await stdin.WriteAsync(buffer, offset, count, _pumps.Token).ConfigureAwait(false);
            await stdin.FlushAsync(_pumps.Token).ConfigureAwait(false);
            Interlocked.Add(ref _bytesIn, count);
        }
        catch (Exception ex) when (ex is IOException or ObjectDisposedException)
        {
            // A broken pipe: the program stopped reading.
            CloseInput();
        }
    }

    /// <summary>Standard output (and standard error, merged) to the connection; when the
    /// program's output ends, the connection's sending side is shut down.</summary>
    private async Task PumpOutputAsync(Process process)
    {
        Task stdout = CopyToConnectionAsync(process.StandardOutput.BaseStream);
        Task stderr = _options.MergeStandardError ? CopyToConnectionAsync(process.StandardError.BaseStream) : Task.CompletedTask;
        await Task.WhenAll(stdout, stderr).ConfigureAwait(false);
        if (_abort.Task.IsCompleted)
        {
            return;
        }

        try
        {
            _connection.ShutdownSend();
        }
        catch (SocketOperationException)
        {
            // Gone or half-closed already; the connection closes when the program has exited.
        }
    }

    private Task CopyToConnectionAsync(Stream source) => ForEachBlockAsync(source, BlockSize, async (buffer, read) =>
    {
        try
        {
            await _connection.SendAsync(buffer, 0, read, _pumps.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            return false;
        }
        catch (SocketOperationException ex)
        {
            Abort(_connection.State == SocketState.Disconnected
                ? ClosedHere()
                : ex.Kind == SocketFailureKind.ConnectionReset
                    ? $"The remote host {_connection.PeerText} reset the connection."
                    : $"Sending the program's output to {_connection.PeerText} failed: {ex.Message}");
            return false;
        }

        Interlocked.Add(ref _bytesOut, read);
        return true;
    });

    /// <summary>Standard error that does not go to the connection: read (so the program never
    /// blocks on it) and the last <see cref="StandardErrorTail"/> bytes kept.</summary>
    private Task KeepErrorTailAsync(Stream source) => ForEachBlockAsync(source, StandardErrorTail, (buffer, read) =>
    {
        lock (_errorTail)
        {
            int keep = Math.Min(_errorTailLength, StandardErrorTail - read);
            Buffer.BlockCopy(_errorTail, _errorTailLength - keep, _errorTail, 0, keep);
            Buffer.BlockCopy(buffer, 0, _errorTail, keep, read);
            _errorTailLength = keep + read;
        }

        return Task.FromResult(true);
    });

    /// <summary>Reads one of the program's output streams to its end, block by block, until the
    /// pumps stop, the stream fails or <paramref name="onBlock"/> returns false.</summary>
    private async Task ForEachBlockAsync(Stream source, int blockSize, Func<byte[], int, Task<bool>> onBlock)
    {
        byte[] buffer = new byte[blockSize];
        while (true)
        {
            int read;
            try
            {
                read = await source.ReadAsync(buffer, 0, buffer.Length, _pumps.Token).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is OperationCanceledException or IOException or ObjectDisposedException)
            {
                return;
            }

            if (read == 0 || !await onBlock(buffer, read).ConfigureAwait(false))
            {
                return;
            }
        }
    }

    private string? ErrorTailText()
    {
        lock (_errorTail)
        {
            return _errorTailLength == 0 ? null : Encoding.UTF8.GetString(_errorTail, 0, _errorTailLength);
        }
    }

    private void CloseInput()
    {
        Process? process;
        lock (_gate)
        {
            if (_inputClosed)
            {
                return;
            }

            _inputClosed = true;
            process = _process;
        }

        try
        {
            process?.StandardInput.Close();
        }
        catch (Exception ex) when (ex is IOException or ObjectDisposedException or InvalidOperationException)
        {
            // A broken pipe while flushing: the program is not reading anyway.
        }
    }

    private static async Task WaitAsync(Task task, TimeSpan timeout)
    {
        if (!task.IsCompleted)
        {
            await Task.WhenAny(task, Task.Delay(timeout)).ConfigureAwait(false);
        }
    }
}
