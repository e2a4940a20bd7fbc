using System;
using System.Collections.Generic;
using System.Threading.Tasks;
using System.Management.Automation;
using System.Management.Automation.Runspaces;
using SockPS.Core;

namespace SockPS.Commands;

/// <summary>
/// <para type="synopsis">Receives text, bytes or datagrams from connections.</para>
/// <para type="description">What Python's socket.recv and recvfrom do. By default Receive-SocketData
/// returns the text that has arrived, waiting up to the timeout for the first character. -Line
/// returns one line, -Delimiter everything up to a delimiter, -ByteCount exactly that many bytes,
/// and -ToEnd everything until the peer closes. -Continuous keeps returning lines, records or
/// chunks until the peer closes or the pipeline stops; -OutFile writes what arrives to a
/// file.</para>
/// <para type="description">Text is decoded with the connection's encoding; a character split
/// across two network reads decodes whole. On a datagram socket (UDP, Unix datagram, or a UDP
/// server) every receive returns one whole datagram as a SocketDatagram, with its sender; on a
/// WebSocket, one whole message as a SocketDatagram whose MessageType is Text or Binary. When the
/// peer has closed the connection and nothing is left, a receive returns nothing; a timeout is a
/// ReceiveTimeout error that leaves the connection usable.</para>
/// </summary>
[Cmdlet(VerbsCommunications.Receive, "SocketData", DefaultParameterSetName = ConnectionSet)]
[OutputType(typeof(SockPSJob))]
[OutputType(typeof(string), typeof(byte[]), typeof(SocketDatagram), typeof(PSObject))]
public sealed class ReceiveSocketDataCommand : ConnectionCmdlet
{
    /// <summary>Run as a job in this process (as Start-ThreadJob does) and return the job at once:
    /// Get-Job, Wait-Job, Receive-Job and Stop-Job work on it, Receive-Job returns the live objects
    /// and the errors with their SockPS ids, and Stop-Job cancels the work. Goes with -OutFile or -ToEnd.</summary>
    [Parameter]
    public SwitchParameter AsJob { get; set; }

    /// <inheritdoc/>
    protected override bool RunsAsJob => AsJob;

    /// <inheritdoc/>
    protected override string? AsJobProblem() => OutFile is null && !ToEnd
        ? "-AsJob runs a receive that can take long: use it with -OutFile or -ToEnd. For other receives, run the command in Start-ThreadJob."
        : null;


    /// <summary>Return one line (ended by LF or CRLF), without its line end. A last line the peer
    /// did not end is returned when the peer closes.</summary>
    [Parameter]
    public SwitchParameter Line { get; set; }

    /// <summary>Return everything up to this delimiter, such as "`0" or "`r`n`r`n" (matched as
    /// bytes in the connection's encoding). The delimiter is consumed and not returned.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? Delimiter { get; set; }

    /// <summary>Return exactly this many bytes as a byte array, waiting until all have arrived
    /// (with -OutFile: write that many to the file, which may be more than a byte array holds).</summary>
    [Parameter]
    [ValidateRange(1, long.MaxValue)]
    public long ByteCount { get; set; }

    /// <summary>Read until the peer closes the connection and return everything as one string (one
    /// byte array with -AsByteArray). The timeout restarts whenever data arrives.</summary>
    [Parameter]
    public SwitchParameter ToEnd { get; set; }

    /// <summary>Keep returning lines (-Line), records (-Delimiter, -ByteCount), datagrams or chunks
    /// until the peer closes or the pipeline stops (Select-Object -First stops it and leaves the
    /// connection open). Waits forever for each unless -TimeoutSeconds is given.</summary>
    [Parameter]
    public SwitchParameter Continuous { get; set; }

    /// <summary>Return byte arrays instead of text; on a datagram socket, each datagram's Data
    /// instead of a SocketDatagram.</summary>
    [Parameter]
    public SwitchParameter AsByteArray { get; set; }

    /// <summary>Turn each received line (on a datagram socket: each datagram; with -Delimiter: each
    /// record) into an object with ConvertFrom-Json, so objects sent with Send-SocketData -AsJson
    /// come back as objects. Implies -Line unless -Delimiter is given. A line that is not JSON is a
    /// non-terminating InvalidJson error, and receiving goes on.</summary>
    [Parameter]
    public SwitchParameter AsJson { get; set; }

    /// <summary>Write what arrives straight to this file (replacing it), until the peer closes or,
    /// with -ByteCount, until that many bytes arrived. A relative path is taken from the current
    /// location. Shows progress when the transfer runs longer than a second. Takes one connection.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? OutFile { get; set; }

    /// <summary>Seconds to wait for data. Default: the connection's ReceiveTimeoutSeconds (30 unless
    /// set), and with -Continuous no limit between records; 0 waits forever.</summary>
    [Parameter]
    [ValidateSeconds]
    public double TimeoutSeconds { get; set; }

    private ReceiveMode _mode;
    private bool _asText;
    private TimeSpan? _timeout;

    /// <inheritdoc/>
    protected override void BeginProcessingCore()
    {
        int framings = (Line ? 1 : 0) + (Delimiter is null ? 0 : 1) + (ByteCount > 0 ? 1 : 0) + (ToEnd ? 1 : 0);
        if (framings > 1)
        {
            ThrowInvalidArgument("Use only one of -Line, -Delimiter, -ByteCount and -ToEnd.");
        }

        if (ToEnd && Continuous)
        {
            ThrowInvalidArgument("-ToEnd already reads until the peer closes; leave out -Continuous.");
        }

        if (OutFile is not null && (Line || Delimiter is not null || Continuous || AsByteArray))
        {
            ThrowInvalidArgument("-OutFile writes bytes to a file until the peer closes or -ByteCount bytes arrived; leave out -Line, -Delimiter, -Continuous and -AsByteArray.");
        }

        if (ByteCount > int.MaxValue && OutFile is null)
        {
            ThrowInvalidArgument($"A byte array holds at most {int.MaxValue} bytes; to receive {ByteCount}, write them to a file with -OutFile.");
        }

        if (AsJson && (ByteCount > 0 || ToEnd || AsByteArray || OutFile is not null))
        {
            ThrowInvalidArgument("-AsJson reads one object per line (or per -Delimiter record, or per datagram); leave out -ByteCount, -ToEnd, -AsByteArray and -OutFile.");
        }

        // -AsJson reads lines from a stream; a datagram is one object by itself (ModeFor).
        _mode = AsJson && Delimiter is null ? ReceiveMode.Line : Line ? ReceiveMode.Line : Delimiter is not null ? ReceiveMode.Delimiter : ByteCount > 0 ? ReceiveMode.Count : ReceiveMode.Available;
        _asText = !AsByteArray && _mode != ReceiveMode.Count;
        if (MyInvocation.BoundParameters.ContainsKey(nameof(TimeoutSeconds)))
        {
            _timeout = Seconds(TimeoutSeconds, nameof(TimeoutSeconds));
        }
    }

    /// <inheritdoc/>
    protected override void ProcessRecordCore()
    {
        IReadOnlyList<SocketConnection> targets = TargetConnections();
        if (OutFile is not null && targets.Count > 1)
        {
            ThrowInvalidArgument("-OutFile takes one connection at a time; otherwise every connection would overwrite the same file.");
        }

        foreach (SocketConnection connection in targets)
        {
            try
            {
                if (OutFile is not null)
                {
                    ReceiveToFile(connection);
                }
                else if (ToEnd)
                {
                    ReceiveToEnd(connection);
                }
                else if (Continuous)
                {
                    // Waiting forever between records is the point of -Continuous; an explicit
                    // -TimeoutSeconds turns it into an idle timeout.
                    ReceiveRequest request = new(ModeFor(connection), _asText, _timeout ?? TimeSpan.Zero, (int)ByteCount, Delimiter);
                    object? value;
                    while ((value = Receive(connection, request)) is not null)
                    {
                        Emit(value);
                    }
                }
                else
                {
                    ReceiveRequest request = new(ModeFor(connection), _asText, _timeout ?? connection.ReceiveTimeout, (int)ByteCount, Delimiter);
                    object? value = Receive(connection, request);
                    if (value is null)
                    {
                        WriteVerbose($"The remote host {connection.PeerText} closed the connection and no data is left.");
                    }
                    else
                    {
                        Emit(value);
                    }
                }
            }
            catch (SocketOperationException ex)
            {
                if (ex.PartialResult is not null)
                {
                    WriteObject(ex.PartialResult);
                }

                WriteSocketError(ex, connection);
            }
        }
    }

    /// <summary>The framing for one connection: -AsJson's implied -Line applies to streams only.</summary>
    private ReceiveMode ModeFor(SocketConnection connection) =>
        AsJson && !Line && Delimiter is null && connection.IsMessageBased ? ReceiveMode.Available : _mode;

    /// <summary>A blocking receive on the pipeline thread (the fastest way to wait here); Ctrl+C
    /// stops it within a tenth of a second.</summary>
    private object? Receive(SocketConnection connection, ReceiveRequest request)
    {
        try
        {
            return connection.ReceiveBlocking(request, StopToken);
        }
        catch (OperationCanceledException) when (StopToken.IsCancellationRequested)
        {
            throw new PipelineStoppedException();
        }
    }

    /// <summary>Datagrams come out whole, as SocketDatagram objects (or their bytes with -AsByteArray).</summary>
    private void Emit(object value)
    {
        if (AsJson)
        {
            EmitJson(value is SocketDatagram datagram ? datagram.Text : (string)value, value);
            return;
        }

        WriteObject(AsByteArray && value is SocketDatagram datagram2 ? datagram2.Data : value);
    }

    /// <summary>One JSON text as an object; blank lines (keep-alives, a trailing line end) are
    /// skipped.</summary>
    private void EmitJson(string text, object received)
    {
        if (text.Trim().Length == 0)
        {
            return;
        }

        System.Collections.ObjectModel.Collection<PSObject> objects;
        try
        {
            objects = InvokeCommand.InvokeScript(
                "param($__SockPSJson) ConvertFrom-Json -InputObject $__SockPSJson -NoEnumerate",
                useNewScope: true, PipelineResultTypes.None, input: null, text);
        }
        catch (RuntimeException ex) when (ex is not PipelineStoppedException)
        {
            string shown = text.Length > 200 ? text.Substring(0, 200) + "..." : text;
            WriteError(new ErrorRecord(ex, "InvalidJson", ErrorCategory.InvalidData, received)
            {
                ErrorDetails = new ErrorDetails($"A received line is not JSON, so -AsJson cannot turn it into an object: {shown}"),
            });
            return;
        }

        // Outside the try: Select-Object -First stops the pipeline by throwing from WriteObject,
        // and that must reach PowerShell.
        foreach (PSObject item in objects)
        {
            WriteObject(item);
        }
    }

    private void ReceiveToFile(SocketConnection connection)
    {
        string path = SessionState.Path.GetUnresolvedProviderPathFromPSPath(OutFile);
        TransferProgress progress = new();
        Task receive = connection.ReceiveToFileAsync(path, ByteCount > 0 ? ByteCount : null, _timeout ?? connection.ReceiveTimeout, progress, StopToken);
        WaitWithProgress(receive, progress, $"Receiving from {connection.PeerText} into {path}");
        WriteVerbose($"Wrote {progress.Bytes} bytes from {connection.PeerText} to {path}.");
    }

    private void ReceiveToEnd(SocketConnection connection)
    {
        TimeSpan idle = _timeout ?? connection.ReceiveTimeout;
        object value = _asText
            ? Await(connection.ReceiveToEndTextAsync(idle, StopToken))
            : Await(connection.ReceiveToEndBytesAsync(idle, StopToken));
        WriteObject(value);
    }
}
