using System;
using System.Collections.Generic;
using System.Collections.ObjectModel;
using System.IO;
using System.Management.Automation;
using System.Management.Automation.Runspaces;
using System.Net;
using SockPS.Core;

namespace SockPS.Commands;

/// <summary>
/// <para type="synopsis">Sends text, bytes or files on connections.</para>
/// <para type="description">What Python's socket.send and sendto do. Send-SocketData sends exactly
/// what it is given: strings are encoded with the connection's encoding, byte arrays go as they
/// are, a SocketDatagram sends its Data, and other objects are sent as their string form. -Line
/// appends the connection's NewLine to each item; -Path streams files.</para>
/// <para type="description">Pipeline input streams through one invocation: each item is sent as it
/// arrives, one datagram per item on a datagram socket. Single bytes (a byte array the pipeline
/// unrolled) are gathered again and sent in blocks. On a UDP server's socket, -RemoteEndPoint says
/// where each datagram goes (sendto); a received SocketDatagram piped in is answered to its
/// sender.</para>
/// </summary>
[Cmdlet(VerbsCommunications.Send, "SocketData", DefaultParameterSetName = ConnectionSet)]
[OutputType(typeof(SockPSJob))]
[OutputType(typeof(SocketConnection))]
public sealed class SendSocketDataCommand : ConnectionCmdlet, ISendInputSink
{
    /// <summary>Run as a job in this process (as Start-ThreadJob does) and return the job at once:
    /// Get-Job, Wait-Job, Receive-Job and Stop-Job work on it, Receive-Job returns the live objects
    /// and the errors with their SockPS ids, and Stop-Job cancels the work. Goes with -Path.</summary>
    [Parameter]
    public SwitchParameter AsJob { get; set; }

    /// <inheritdoc/>
    protected override bool RunsAsJob => AsJob;

    /// <inheritdoc/>
    protected override string? AsJobProblem() => Path is null
        ? "-AsJob runs a file transfer: use it with -Path. To send other input in the background, run the command in Start-ThreadJob."
        : null;


    private const int ByteBlockSize = 64 * 1024;

    private readonly List<SocketConnection> _used = new();
    private readonly ByteRun _byteRun = new();
    private readonly HashSet<SocketConnection> _failed = new();
    private MemoryStream? _pendingBytes;
    private bool _inByteRun;
    private IReadOnlyList<SocketConnection>? _targets;
    private bool _inputPiped;
    private bool _connectionPiped;

    // Where this record's data goes: -RemoteEndPoint, else a piped datagram's sender, else null
    // (the connected peer). A sender is a reply address only on the socket the datagram came in
    // on (_replyOn); sent through another socket, the datagram goes to that socket's peer.
    private EndPoint? _sendTo;
    private SocketConnection? _replyOn;

    // Out-String for structured objects, made once per pipeline rather than per record.
    private Func<object, string>? _outString;

    /// <summary>What to send: strings (encoded with the connection's encoding), byte arrays (sent as
    /// they are), SocketDatagram objects (their Data), or any other object (sent as its string
    /// form). Arrays other than byte arrays are sent element by element. Whole numbers among bytes
    /// are bytes: [byte[]](65, 66) + 2 sends 65 66 2, passed or piped, and a number outside 0-255
    /// there is an error. On a WebSocket each item is one message: a string a text message
    /// (UTF-8), a byte array a binary one, a received text message text again.</summary>
    [Parameter(Position = 1, ValueFromPipeline = true)]
    [AllowNull]
    [AllowEmptyString]
    [AllowEmptyCollection]
    public object? InputObject { get; set; }

    /// <summary>UDP and Unix datagram sockets: where to send each datagram (sendto), as host:port,
    /// [IPv6]:port, an IPEndPoint or a Unix socket path. Default: the socket's connected peer; a
    /// UDP server's socket has none, so it needs this, except for a reply: a received
    /// SocketDatagram piped in (as the data, or as the connection with -InputObject giving the
    /// data) is sent back to its sender from the socket it came in on. Piped to another socket,
    /// a datagram goes to that socket's peer (forwarding).</summary>
    [Parameter]
    [EndPointArgumentTransformation]
    [AllowNull]
    public EndPoint? RemoteEndPoint { get; set; }

    /// <summary>Send the contents of these files, one after another with nothing in between,
    /// streamed in 1 MiB blocks (wildcards allowed). Shows progress when a transfer runs longer
    /// than a second. Cannot be combined with -InputObject.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    [SupportsWildcards]
    public string[]? Path { get; set; }

    /// <summary>Append the connection's NewLine ("`n" unless Connect-Socket -NewLine said otherwise)
    /// to every item; a run of piped bytes counts as one item.</summary>
    [Parameter]
    public SwitchParameter Line { get; set; }

    /// <summary>Encode text with this encoding instead of the connection's: utf8, utf8BOM, ascii,
    /// unicode, latin1, any other name or code page number .NET knows, or an Encoding object.
    /// Default: the connection's Encoding (utf8 unless set).</summary>
    [Parameter]
    [EncodingArgumentTransformation]
    [ArgumentCompleter(typeof(EncodingArgumentCompleter))]
    [ValidateNotNull]
    public System.Text.Encoding? Encoding { get; set; }

    /// <summary>Output each connection once all input has been sent, so Receive-SocketData can
    /// follow in the same pipeline. By default nothing is output.</summary>
    [Parameter]
    public SwitchParameter PassThru { get; set; }

    /// <summary>Send each object as one line of compact JSON (ConvertTo-Json -Compress), so
    /// Receive-SocketData -AsJson on the other side gets the object back. On a datagram socket each
    /// object is one datagram, without a line end. Arrays are sent element by element.</summary>
    [Parameter]
    public SwitchParameter AsJson { get; set; }

    /// <summary>With -AsJson: how many levels of nested objects to include (ConvertTo-Json -Depth).
    /// Default 10; deeper levels are sent as their string form, with a warning.</summary>
    [Parameter]
    [ValidateRange(1, 100)]
    public int Depth { get; set; } = 10;

    /// <inheritdoc/>
    protected override void BeginProcessingCore()
    {
        // What the command line did not bind comes from the pipeline, record by record.
        _inputPiped = !MyInvocation.BoundParameters.ContainsKey(nameof(InputObject));
        _connectionPiped = ParameterSetName == ConnectionSet && !MyInvocation.BoundParameters.ContainsKey(nameof(Connection));
    }

    /// <inheritdoc/>
    protected override void ProcessRecordCore()
    {
        _sendTo = RemoteEndPoint;
        _replyOn = null;
        if (_sendTo is null)
        {
            // A reply: to the sender of the piped datagram, or of the datagram given as -Connection.
            if (_inputPiped && (InputObject is PSObject wrapped ? wrapped.BaseObject : InputObject) is SocketDatagram datagram)
            {
                _sendTo = datagram.RemoteEndPoint;
                _replyOn = datagram.Connection;
            }
            else if (ParameterSetName == ConnectionSet && DatagramReplies.TryGetSender(Connection, out EndPoint? sender))
            {
                _sendTo = sender;
            }
        }

        // -Connection on the command line names the same connections for every record: they are
        // resolved once.
        if (_targets is null || _connectionPiped || ParameterSetName != ConnectionSet)
        {
            _targets = TargetConnections();
            NoteUsed(_targets);
        }

        if (Path is not null)
        {
            if (MyInvocation.BoundParameters.ContainsKey(nameof(InputObject)))
            {
                ThrowInvalidArgument("Give either -Path (files to send) or -InputObject (data to send), not both.");
            }

            if (AsJson)
            {
                ThrowInvalidArgument("-AsJson sends objects; -Path sends files as they are. Leave out one of them.");
            }

            SendFiles();
            return;
        }

        if (MyInvocation.BoundParameters.ContainsKey(nameof(InputObject)))
        {
            SendItem(InputObject);
        }
    }

    /// <summary>Where this record's data goes on <paramref name="connection"/>.</summary>
    private EndPoint? SendTo(SocketConnection connection) =>
        _replyOn is null || ReferenceEquals(_replyOn, connection) ? _sendTo : null;

    private void NoteUsed(IReadOnlyList<SocketConnection> targets)
    {
        foreach (SocketConnection connection in targets)
        {
            if (!_used.Contains(connection))
            {
                _used.Add(connection);
            }
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
    protected override void EndProcessingCore()
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

    private void SendItem(object? item)
    {
        if (!AsJson)
        {
            SendInput.Walk(item, this, _outString ??= value => SendInput.OutString(this, value), _byteRun);
            return;
        }

        object? value = item is PSObject wrapped ? wrapped.BaseObject : item;
        if (value is System.Collections.IEnumerable sequence and not string and not System.Collections.IDictionary)
        {
            foreach (object? element in sequence)
            {
                SendJson(element);
            }

            return;
        }

        SendJson(item);
    }

    /// <summary>One object as one line of JSON: the line end is what separates objects on a
    /// stream; a datagram is one object by itself.</summary>
    private void SendJson(object? item)
    {
        Collection<PSObject> json = InvokeCommand.InvokeScript(
            "param($__SockPSItem, $__SockPSDepth) ConvertTo-Json -InputObject $__SockPSItem -Compress -Depth $__SockPSDepth",
            useNewScope: true, PipelineResultTypes.None, input: null, item, Depth);
        string text = json.Count > 0 ? json[0]?.ToString() ?? "null" : "null";
        IReadOnlyList<SocketConnection> targets = _targets!;
        for (int i = 0; i < targets.Count; i++)
        {
            SocketConnection connection = targets[i];
            if (_failed.Count > 0 && _failed.Contains(connection))
            {
                continue;
            }

            try
            {
                Await(connection.SendTextAsync(text, appendNewLine: !connection.IsMessageBased, StopToken, Encoding, SendTo(connection)));
            }
            catch (SocketOperationException ex)
            {
                Fail(connection, ex);
            }
        }
    }

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
        IReadOnlyList<SocketConnection> targets = _targets!;
        for (int i = 0; i < targets.Count; i++)
        {
            SocketConnection connection = targets[i];
            if (_failed.Count > 0 && _failed.Contains(connection))
            {
                continue;
            }

            try
            {
                Await(connection.SendTextAsync(text, Line, StopToken, Encoding, SendTo(connection)));
            }
            catch (SocketOperationException ex)
            {
                Fail(connection, ex);
            }
        }
    }

    private void SendBytes(byte[] buffer, int offset, int count, bool appendNewLine)
    {
        IReadOnlyList<SocketConnection> targets = _targets!;
        for (int i = 0; i < targets.Count; i++)
        {
            SocketConnection connection = targets[i];
            if (_failed.Count > 0 && _failed.Contains(connection))
            {
                continue;
            }

            try
            {
                Await(connection.SendAsync(buffer, offset, count, appendNewLine, StopToken, SendTo(connection)));
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
            if (connection.IsMessageBased)
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
