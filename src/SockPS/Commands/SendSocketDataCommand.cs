using System;
using System.Collections.Generic;
using System.IO;
using System.Management.Automation;
using System.Net;
using SockPS.Core;

namespace SockPS.Commands;

/// <summary>
/// <para type="synopsis">Sends text or bytes on connections (the seed's send and sendto).</para>
/// <para type="description">Sends exactly what it is given: strings are encoded with the connection's
/// encoding, byte arrays go as they are, a SocketDatagram sends its Data, other objects are sent
/// as their string form. Pipeline input streams through one invocation: each item is sent as it
/// arrives (one datagram per item on a datagram socket); single bytes (a byte array unrolled by
/// the pipeline) are gathered. -RemoteEndPoint sends each datagram to that address (sendto).</para>
/// </summary>
[Cmdlet(VerbsCommunications.Send, "SocketData", DefaultParameterSetName = ConnectionSet)]
[OutputType(typeof(SocketConnection))]
public sealed class SendSocketDataCommand : ConnectionCmdlet, ISendInputSink
{
    private const int ByteBlockSize = 64 * 1024;

    private readonly List<SocketConnection> _used = new();
    private readonly HashSet<SocketConnection> _failed = new();
    private MemoryStream? _pendingBytes;
    private bool _inByteRun;
    private IReadOnlyList<SocketConnection>? _targets;

    /// <summary>What to send: strings, byte arrays, or any object (sent as its string form).
    /// Arrays other than byte arrays are sent element by element.</summary>
    [Parameter(Position = 1, ValueFromPipeline = true)]
    [AllowNull]
    [AllowEmptyString]
    [AllowEmptyCollection]
    public object? InputObject { get; set; }

    /// <summary>UDP and Unix datagram sockets: where to send each datagram (sendto), as host:port,
    /// [IPv6]:port, an IPEndPoint or a Unix socket path. Bound by property name, so piping a
    /// received SocketDatagram replies to its sender.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    [EndPointArgumentTransformation]
    [AllowNull]
    public EndPoint? RemoteEndPoint { get; set; }

    /// <summary>Send the contents of files, streamed in 1 MiB blocks (wildcards allowed). Shows
    /// progress when a transfer runs longer than a second.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    [SupportsWildcards]
    public string[]? Path { get; set; }

    /// <summary>Append the connection's NewLine to every item.</summary>
    [Parameter]
    public SwitchParameter Line { get; set; }

    /// <summary>Encode text with this encoding instead of the connection's (utf8, ascii, unicode, latin1, ..., a code page or an Encoding object).</summary>
    [Parameter]
    [EncodingArgumentTransformation]
    [ArgumentCompleter(typeof(EncodingArgumentCompleter))]
    [ValidateNotNull]
    public System.Text.Encoding? Encoding { get; set; }

    /// <summary>Output the connection after sending, for a following Receive-SocketData.</summary>
    [Parameter]
    public SwitchParameter PassThru { get; set; }

    /// <inheritdoc/>
    protected override void ProcessRecord()
    {
        _targets = TargetConnections();
        foreach (SocketConnection connection in _targets)
        {
            if (!_used.Contains(connection))
            {
                _used.Add(connection);
            }
        }

        if (Path is not null)
        {
            if (MyInvocation.BoundParameters.ContainsKey(nameof(InputObject)))
            {
                ThrowInvalidArgument("Give either -Path (files to send) or -InputObject (data to send), not both.");
            }

            SendFiles();
            return;
        }

        if (MyInvocation.BoundParameters.ContainsKey(nameof(InputObject)))
        {
            SendItem(InputObject);
        }
    }

    private void SendFiles()
    {
        foreach (string pattern in Path!)
        {
            System.Collections.ObjectModel.Collection<string> files;
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
                foreach (SocketConnection connection in _targets!)
                {
                    if (_failed.Contains(connection))
                    {
                        continue;
                    }

                    TransferProgress progress = new();
                    try
                    {
                        System.Threading.Tasks.Task send = connection.SendFileAsync(file, progress, StopToken);
                        WaitWithProgress(send, progress, $"Sending {file} to {connection.PeerText}");
                        WriteVerbose($"Sent {progress.Bytes} bytes of {file} to {connection.PeerText}.");
                    }
                    catch (SocketOperationException ex)
                    {
                        Fail(connection, ex);
                    }
                }
            }
        }
    }

    /// <inheritdoc/>
    protected override void EndProcessing()
    {
        FlushBytes();
        if (PassThru)
        {
            foreach (SocketConnection connection in _used)
            {
                WriteObject(connection);
            }
        }
    }

    private void SendItem(object? item) => SendInput.Walk(item, this);

    void ISendInputSink.OnNull()
    {
        if (Line)
        {
            FlushBytes();
            SendText(string.Empty);
        }
    }

    void ISendInputSink.OnByte(byte value)
    {
        // A byte array unrolled by the pipeline arrives byte by byte: gather it. Stream
        // sockets get it in blocks; a datagram socket gets it whole, as one datagram.
        // With -Line, the line ends after the last byte of the run.
        _inByteRun = true;
        (_pendingBytes ??= new MemoryStream()).WriteByte(value);
        if (_pendingBytes.Length >= ByteBlockSize && !AnyDatagramTarget())
        {
            FlushBytes(endOfRun: false);
        }
    }

    void ISendInputSink.OnBytes(byte[] data)
    {
        FlushBytes();
        SendBytes(data, 0, data.Length, Line);
    }

    void ISendInputSink.OnText(string text)
    {
        FlushBytes();
        SendText(text);
    }

    /// <summary>Sends the gathered bytes. A run of bytes ends at the next item that is not a
    /// byte, or at the end of input; only then does -Line add its line end.</summary>
    private void FlushBytes(bool endOfRun = true)
    {
        bool lineEnd = endOfRun && _inByteRun && Line;
        if (_pendingBytes is { Length: > 0 } || lineEnd)
        {
            // The line end goes in the same write, so a datagram socket gets one datagram.
            SendBytes(_pendingBytes?.GetBuffer() ?? new byte[0], 0, (int)(_pendingBytes?.Length ?? 0), appendNewLine: lineEnd);
            _pendingBytes?.SetLength(0);
        }

        if (endOfRun)
        {
            _inByteRun = false;
        }
    }

    private void SendText(string text)
    {
        foreach (SocketConnection connection in _targets!)
        {
            if (_failed.Contains(connection))
            {
                continue;
            }

            try
            {
                Await(connection.SendTextAsync(text, Line, StopToken, Encoding, RemoteEndPoint));
            }
            catch (SocketOperationException ex)
            {
                Fail(connection, ex);
            }
        }
    }

    private void SendBytes(byte[] buffer, int offset, int count, bool appendNewLine)
    {
        foreach (SocketConnection connection in _targets!)
        {
            if (_failed.Contains(connection))
            {
                continue;
            }

            try
            {
                Await(connection.SendAsync(buffer, offset, count, appendNewLine, StopToken, RemoteEndPoint));
            }
            catch (SocketOperationException ex)
            {
                Fail(connection, ex);
            }
        }
    }

    private bool AnyDatagramTarget()
    {
        foreach (SocketConnection connection in _targets!)
        {
            if (connection.IsDatagram)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>A failed connection gets one error and no further items.</summary>
    private void Fail(SocketConnection connection, SocketOperationException exception)
    {
        _failed.Add(connection);
        WriteSocketError(exception, connection);
    }
}
