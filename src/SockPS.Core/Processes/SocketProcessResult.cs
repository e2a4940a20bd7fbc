using System;
using System.Collections.Generic;

namespace SockPS.Core;

/// <summary>What to run on a connection (Start-SocketServer -FilePath, Start-SocketProcess).</summary>
public sealed class SocketProcessOptions
{
    /// <summary>How long a program may take to exit on its own once its connection is gone and
    /// its input closed, before it is stopped.</summary>
    internal static readonly TimeSpan DefaultStopGrace = TimeSpan.FromSeconds(2);

    /// <summary>Creates the options for the program at <paramref name="filePath"/> (a full path:
    /// see <see cref="ProcessBridge.FindProgram"/>).</summary>
    public SocketProcessOptions(string filePath)
    {
        FilePath = filePath ?? throw new ArgumentNullException(nameof(filePath));
    }

    /// <summary>The program's full path.</summary>
    public string FilePath { get; }

    /// <summary>Its arguments, each passed as it is: no shell sees them.</summary>
    public IReadOnlyList<string> ArgumentList { get; set; } = Array.Empty<string>();

    /// <summary>The folder it starts in; null: this process's current directory.</summary>
    public string? WorkingDirectory { get; set; }

    /// <summary>Send what it writes to standard error to the connection too (2>&amp;1); otherwise
    /// the last few KiB of it are kept in the result.</summary>
    public bool MergeStandardError { get; set; }

    /// <summary>Environment variables to set (a null value removes one), besides the
    /// SOCKPS_* ones that describe the connection.</summary>
    public IReadOnlyDictionary<string, string?>? Environment { get; set; }

    /// <summary>See <see cref="DefaultStopGrace"/>.</summary>
    internal TimeSpan StopGrace { get; set; } = DefaultStopGrace;
}

/// <summary>How a program run on a connection ended: Start-SocketProcess's output, and what a
/// -FilePath server keeps for Receive-SocketServerOutput for every client.</summary>
public sealed class SocketProcessResult
{
    internal SocketProcessResult(SocketConnection connection, SocketProcessOptions options, int processId, DateTime startedAt)
    {
        ConnectionId = connection.Id;
        RemoteEndPointText = connection.PeerText;
        FilePath = options.FilePath;
        ArgumentList = new List<string>(options.ArgumentList).ToArray();
        ProcessId = processId;
        StartedAt = startedAt;
    }

    /// <summary>The Id of the connection the program served.</summary>
    public int ConnectionId { get; }

    /// <summary>Who was at the other end of it.</summary>
    public string RemoteEndPointText { get; }

    /// <summary>The program that ran.</summary>
    public string FilePath { get; }

    /// <summary>Its arguments.</summary>
    public string[] ArgumentList { get; }

    /// <summary>Its process id (gone now).</summary>
    public int ProcessId { get; }

    /// <summary>Its exit code; null when it could not be learned (a program that would not stop).</summary>
    public int? ExitCode { get; internal set; }

    /// <summary>True when SockPS stopped the program (its connection was reset or closed on this
    /// side, the server stopped, or the command was stopped) rather than it exiting on its own.</summary>
    public bool Stopped { get; internal set; }

    /// <summary>Bytes from the connection to the program's standard input.</summary>
    public long BytesIn { get; internal set; }

    /// <summary>Bytes from the program's output to the connection.</summary>
    public long BytesOut { get; internal set; }

    /// <summary>When the program started.</summary>
    public DateTime StartedAt { get; }

    /// <summary>From start to the connection's end.</summary>
    public TimeSpan Duration { get; internal set; }

    /// <summary>Seconds from start to the connection's end (what the table shows).</summary>
    public double DurationSeconds => Duration.TotalSeconds;

    /// <summary>What ended it: "The program exited with code 0.", "The remote host reset the
    /// connection. The program was stopped."</summary>
    public string EndReason { get; internal set; } = string.Empty;

    /// <summary>The end of what the program wrote to standard error (up to 4 KiB), when it was not
    /// sent to the connection (-MergeStandardError); null when there was none.</summary>
    public string? StandardError { get; internal set; }

    /// <summary>The computer the program ran on.</summary>
    public string MachineName => SocketOrigin.MachineName;

    /// <inheritdoc/>
    public override string ToString() => $"{System.IO.Path.GetFileName(FilePath)} (pid {ProcessId}): {EndReason}";
}
