using System;
using System.Collections.ObjectModel;
using System.IO;
using System.Management.Automation;
using SockPS.Core;

namespace SockPS.Commands;

/// <summary>
/// <para type="synopsis">Starts recording every send and receive on connections, in memory and optionally into a file.</para>
/// <para type="description">From now on every send and every network read on the connection (every
/// datagram on a datagram socket) is recorded with its time, direction and exact bytes; on a TLS
/// connection, the plain text. In memory the newest 10,000 entries and at most 16 MiB of data are
/// kept (older ones are dropped and counted in the transcript's DroppedCount). With -Path every
/// entry is also appended to that file as a JSON line, by a background writer, so sends and
/// receives do not wait for the disk. Get-SocketTranscript returns the entries. To record from the
/// very first byte (a server's greeting), use Connect-Socket -TranscriptPath instead. Recording
/// stops with Stop-SocketTranscript or when the connection closes.</para>
/// </summary>
[Cmdlet(VerbsLifecycle.Start, "SocketTranscript", DefaultParameterSetName = ConnectionSet)]
[OutputType(typeof(SocketConnection))]
public sealed class StartSocketTranscriptCommand : ConnectionCmdlet
{
    private string? _path;

    /// <summary>A file to append every entry to, as JSON lines (created when missing; never
    /// truncated, so several connections can share one file). Without it the transcript is kept
    /// in memory only.</summary>
    [Parameter(Position = 1)]
    [ValidateNotNullOrEmpty]
    public string? Path { get; set; }

    /// <summary>Output the connection.</summary>
    [Parameter]
    public SwitchParameter PassThru { get; set; }

    /// <inheritdoc/>
    protected override void BeginProcessingCore()
    {
        if (Path is null)
        {
            return;
        }

        _path = TlsParameters.Resolve(this, Path);
        try
        {
            SocketTranscriptFile.CheckWritable(_path);
        }
        catch (SocketOperationException ex)
        {
            ThrowInvalidArgument(ErrorAdvice.Word(ex), Path);
        }
    }

    /// <inheritdoc/>
    protected override void ProcessRecordCore()
    {
        foreach (SocketConnection connection in TargetConnections())
        {
            try
            {
                if (connection.StartTranscript(_path) is null)
                {
                    WriteError(new ErrorRecord(
                        new InvalidOperationException($"A transcript of {connection} is already being recorded{Where(connection.Transcript)}. Stop it with Stop-SocketTranscript first."),
                        "TranscriptAlreadyStarted", ErrorCategory.InvalidOperation, connection));
                    continue;
                }

                WriteVerbose($"Recording {connection}{Where(connection.Transcript)}.");
                if (PassThru)
                {
                    WriteObject(connection);
                }
            }
            catch (SocketOperationException ex)
            {
                WriteSocketError(ex, connection);
            }
        }
    }

    private static string Where(SocketTranscript? transcript) => transcript?.Path is string path ? $" into {path}" : " in memory";
}

/// <summary>
/// <para type="synopsis">Stops recording the transcript of connections.</para>
/// <para type="description">Stops recording and waits until every entry recorded so far is in the
/// transcript file. The entries kept in memory stay readable with Get-SocketTranscript until a
/// new transcript starts. Closing a connection stops its transcript too.</para>
/// </summary>
[Cmdlet(VerbsLifecycle.Stop, "SocketTranscript", DefaultParameterSetName = ConnectionSet)]
[OutputType(typeof(SocketConnection))]
public sealed class StopSocketTranscriptCommand : ConnectionCmdlet
{
    private static readonly TimeSpan FileWait = TimeSpan.FromSeconds(30);

    /// <summary>Output the connection.</summary>
    [Parameter]
    public SwitchParameter PassThru { get; set; }

    /// <inheritdoc/>
    protected override void ProcessRecordCore()
    {
        foreach (SocketConnection connection in TargetConnections())
        {
            SocketTranscript? stopped = connection.StopTranscript(FileWait);
            if (stopped is null)
            {
                WriteError(new ErrorRecord(
                    new InvalidOperationException($"No transcript of {connection} is being recorded. Start one with Start-SocketTranscript."),
                    "TranscriptNotStarted", ErrorCategory.InvalidOperation, connection));
                continue;
            }

            WriteVerbose($"Stopped the transcript of {connection}: {stopped}.");
            if (stopped.FileError is string error)
            {
                WriteWarning(error);
            }

            if (PassThru)
            {
                WriteObject(connection);
            }
        }
    }
}

/// <summary>
/// <para type="synopsis">Returns the recorded sends and receives of a connection, or of a transcript file.</para>
/// <para type="description">Returns SocketTranscriptEntry objects, oldest first: Sequence,
/// Timestamp, Direction (Sent or Received), Length, Text (decoded with the connection's encoding),
/// Base64, ConnectionId, LocalEndPoint, RemoteEndPoint and Data (the exact bytes). With
/// -Connection, the entries kept in memory; with -Path, every entry of a transcript file (written
/// by Start-SocketTranscript -Path, Connect-Socket -TranscriptPath or Invoke-SocketRequest
/// -TranscriptPath), read as it goes, so a large file is never held whole. For a hex dump pipe the
/// bytes to Format-Hex: Get-SocketTranscript $c | ForEach-Object Data | Format-Hex.</para>
/// </summary>
[Cmdlet(VerbsCommon.Get, "SocketTranscript", DefaultParameterSetName = ConnectionSet)]
[OutputType(typeof(SocketTranscriptEntry))]
public sealed class GetSocketTranscriptCommand : ConnectionCmdlet
{
    private const string FileSet = "Path";

    /// <summary>Transcript files to read (wildcards allowed).</summary>
    [Parameter(Mandatory = true, ParameterSetName = FileSet)]
    [ValidateNotNullOrEmpty]
    [SupportsWildcards]
    public string[] Path { get; set; } = null!;

    /// <summary>Only the entries that went this way: Sent or Received.</summary>
    [Parameter]
    public SocketTranscriptDirection? Direction { get; set; }

    /// <inheritdoc/>
    protected override void ProcessRecordCore()
    {
        if (ParameterSetName == FileSet)
        {
            ReadFiles();
            return;
        }

        foreach (SocketConnection connection in TargetConnections())
        {
            SocketTranscript? transcript = connection.Transcript;
            if (transcript is null)
            {
                WriteError(ErrorRecords.NotFound(
                    $"No transcript was recorded on {connection}. Start one with Start-SocketTranscript, or connect with -TranscriptPath.",
                    "TranscriptNotFound", connection));
                continue;
            }

            if (transcript.DroppedCount > 0)
            {
                WriteWarning($"The oldest {transcript.DroppedCount} entries of {connection} are no longer kept in memory (at most {transcript.MaxEntries} entries and {Size(transcript.MaxBytes)} are). " +
                    (transcript.Path is null
                        ? "Record with Start-SocketTranscript -Path to keep every entry in a file."
                        : $"Read them all with Get-SocketTranscript -Path {transcript.Path}."));
            }

            foreach (SocketTranscriptEntry entry in transcript.Snapshot())
            {
                Emit(entry);
            }
        }
    }

    private void ReadFiles()
    {
        foreach (string pattern in Path)
        {
            Collection<string> files;
            try
            {
                files = GetResolvedProviderPathFromPSPath(pattern, out _);
            }
            catch (Exception ex) when (ex is ItemNotFoundException or System.Management.Automation.DriveNotFoundException or ProviderNotFoundException)
            {
                WriteError(new ErrorRecord(ex, "PathNotFound", ErrorCategory.ObjectNotFound, pattern));
                continue;
            }

            foreach (string file in files)
            {
                // A transcript this process still writes: what was recorded so far goes in first.
                SocketTranscriptFile.FlushIfOpen(file, TimeSpan.FromSeconds(10));
                try
                {
                    foreach (SocketTranscriptEntry entry in SocketTranscriptFile.Read(file,
                        (line, why) => WriteWarning($"Skipped line {line} of {file}: {why}.")))
                    {
                        Emit(entry);
                    }
                }
                catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
                {
                    WriteError(new ErrorRecord(ex, "TranscriptReadError", ErrorCategory.ReadError, file)
                    {
                        ErrorDetails = new ErrorDetails($"Cannot read the transcript file {file}: {ex.Message}"),
                    });
                }
            }
        }
    }

    private void Emit(SocketTranscriptEntry entry)
    {
        if (Direction is null || entry.Kind == Direction)
        {
            WriteObject(entry);
        }
    }
}
