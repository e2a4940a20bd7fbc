using System;
using System.Collections.Generic;
using System.Threading.Tasks;
using System.Management.Automation;
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
/// server) every receive returns one whole datagram as a SocketDatagram, with its sender. When the
/// peer has closed the connection and nothing is left, a receive returns nothing; a timeout is a
/// ReceiveTimeout error that leaves the connection usable.</para>
/// </summary>
[Cmdlet(VerbsCommunications.Receive, "SocketData", DefaultParameterSetName = ConnectionSet)]
[OutputType(typeof(string), typeof(byte[]), typeof(SocketDatagram))]
public sealed class ReceiveSocketDataCommand : ConnectionCmdlet
{
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

    /// <summary>Write what arrives straight to this file (replacing it), until the peer closes or,
    /// with -ByteCount, until that many bytes arrived. A relative path is taken from the current
    /// location. Shows progress when the transfer runs longer than a second. Takes one connection.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? OutFile { get; set; }

    /// <summary>Seconds to wait for data. Default: the connection's ReceiveTimeoutSeconds (30 unless
    /// set), and with -Continuous no limit between records; 0 waits forever.</summary>
    [Parameter]
    [ValidateRange(0, int.MaxValue)]
    public double TimeoutSeconds { get; set; }

    private ReceiveMode _mode;
    private bool _asText;
    private TimeSpan? _timeout;

    /// <inheritdoc/>
    protected override void BeginProcessing()
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

        _mode = Line ? ReceiveMode.Line : Delimiter is not null ? ReceiveMode.Delimiter : ByteCount > 0 ? ReceiveMode.Count : ReceiveMode.Available;
        _asText = !AsByteArray && _mode != ReceiveMode.Count;
        if (MyInvocation.BoundParameters.ContainsKey(nameof(TimeoutSeconds)))
        {
            _timeout = Seconds(TimeoutSeconds, nameof(TimeoutSeconds));
        }
    }

    /// <inheritdoc/>
    protected override void ProcessRecord()
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
                    ReceiveRequest request = new(_mode, _asText, _timeout ?? TimeSpan.Zero, (int)ByteCount, Delimiter);
                    object? value;
                    while ((value = Receive(connection, request)) is not null)
                    {
                        Emit(value);
                    }
                }
                else
                {
                    ReceiveRequest request = new(_mode, _asText, _timeout ?? connection.ReceiveTimeout, (int)ByteCount, Delimiter);
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
    private void Emit(object value) => WriteObject(AsByteArray && value is SocketDatagram datagram ? datagram.Data : value);

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
