using System;
using System.Collections.Generic;
using System.Threading.Tasks;
using System.Management.Automation;
using SockPS.Core;

namespace SockPS.Commands;

/// <summary>
/// <para type="synopsis">Receives data from connections (the seed's recv).</para>
/// <para type="description">By default returns the text that is available, waiting up to the timeout
/// for the first character. -Line returns one line, -Delimiter everything up to a delimiter,
/// -ByteCount exactly that many bytes, -ToEnd everything until the peer closes. -Continuous keeps
/// emitting until the peer closes or the pipeline stops. Text is decoded with the connection's
/// encoding; a character split across two network reads decodes whole. On a datagram socket (UDP,
/// Unix datagram, or a UDP server) every receive returns one whole datagram as a SocketDatagram
/// (the seed's recvfrom), with its sender.</para>
/// </summary>
[Cmdlet(VerbsCommunications.Receive, "SocketData", DefaultParameterSetName = ConnectionSet)]
[OutputType(typeof(string), typeof(byte[]), typeof(SocketDatagram))]
public sealed class ReceiveSocketDataCommand : ConnectionCmdlet
{
    /// <summary>Return one line (ended by LF or CRLF), without its terminator.</summary>
    [Parameter]
    public SwitchParameter Line { get; set; }

    /// <summary>Return everything up to this delimiter (encoded with the connection's encoding); the delimiter is consumed and not returned.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? Delimiter { get; set; }

    /// <summary>Return exactly this many bytes, as a byte array (with -OutFile: write that many to the file).</summary>
    [Parameter]
    [ValidateRange(1, long.MaxValue)]
    public long ByteCount { get; set; }

    /// <summary>Read until the peer closes the connection and return everything as one value.
    /// The timeout restarts whenever data arrives.</summary>
    [Parameter]
    public SwitchParameter ToEnd { get; set; }

    /// <summary>Keep emitting lines, delimited records, fixed-size records or chunks until the peer closes or the pipeline stops.
    /// Waits forever for each unless -TimeoutSeconds is given.</summary>
    [Parameter]
    public SwitchParameter Continuous { get; set; }

    /// <summary>Return byte arrays instead of text.</summary>
    [Parameter]
    public SwitchParameter AsByteArray { get; set; }

    /// <summary>Write what arrives straight to this file (replacing it), until the peer closes or,
    /// with -ByteCount, that many bytes. Shows progress when the transfer runs longer than a second.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? OutFile { get; set; }

    /// <summary>Seconds to wait for data. Default: the connection's ReceiveTimeoutSeconds (30 unless set); 0 waits forever.</summary>
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
