using System;
using System.IO;
using System.Management.Automation;
using System.Text;
using System.Text.RegularExpressions;
using System.Threading;
using System.Threading.Tasks;
using SockPS.Core;

namespace SockPS.Commands;

/// <summary>
/// <para type="synopsis">Sends a request and returns the answer in one call: connect, send, read, close (netcat's echo stats | nc host port).</para>
/// <para type="description">Connects as Connect-Socket does (TCP, TLS, UDP or a Unix socket), sends
/// the input (strings encoded, byte arrays raw; all pipeline input is one request), reads the
/// answer and closes the connection, also when something fails or Ctrl+C stops it. By default the
/// send side is closed after the request (a half-close, as netcat -N does) and the answer is
/// everything until the server closes; -Until, -ByteCount and -ToEnd end it otherwise. Over UDP one
/// datagram goes out and one comes back. The answer is text decoded with -Encoding, or bytes with
/// -AsByteArray. A request that fails writes a non-terminating error; what had arrived is in the
/// error's Exception.PartialResult. With -AsResult every request, answered or failed, returns one
/// SocketRequestResult that names the computer that asked and the target, so results from many
/// targets or many computers (Invoke-Command) say which is which.</para>
/// </summary>
[Cmdlet(VerbsLifecycle.Invoke, "SocketRequest", DefaultParameterSetName = HostSet)]
[OutputType(typeof(SockPSJob))]
[OutputType(typeof(string), typeof(byte[]), typeof(SocketRequestResult))]
public sealed class InvokeSocketRequestCommand : ConnectingCmdlet
{
    /// <summary>Run as a job in this process (as Start-ThreadJob does) and return the job at once:
    /// Get-Job, Wait-Job, Receive-Job and Stop-Job work on it, Receive-Job returns the live objects
    /// and the errors with their SockPS ids, and Stop-Job cancels the work.</summary>
    [Parameter]
    public SwitchParameter AsJob { get; set; }

    /// <inheritdoc/>
    protected override bool RunsAsJob => AsJob;


    // Small input items are gathered into one write: fewer system calls, and no item waits
    // behind Nagle's algorithm for the acknowledgement of the one before.
    private const int SendBlockSize = 64 * 1024;

    private AnswerMode _mode;
    private Regex? _until;
    private TimeSpan _timeout;
    private bool _dataFromPipeline;
    private bool _inputOnCommandLine;
    private Exchange? _exchange;
    private bool _failed;

    // -AsResult: the request under way (its target and clock), for the result a failure becomes.
    private ConnectTarget? _target;
    private System.Diagnostics.Stopwatch? _clock;
    private DateTime _startedAt;

    /// <summary>The request: strings (encoded with -Encoding), byte arrays (sent as they are), or
    /// other objects (sent as their string form). Everything piped in is one request, sent as it
    /// arrives; the answer is read after the last item.</summary>
    [Parameter(Position = 2, ValueFromPipeline = true)]
    [AllowNull]
    [AllowEmptyString]
    [AllowEmptyCollection]
    public object? InputObject { get; set; }

    /// <summary>Append -NewLine to every item of the request.</summary>
    [Parameter]
    public SwitchParameter Line { get; set; }

    /// <summary>Read until the answer's text matches this regular expression (case-insensitive,
    /// like -match, unless -CaseSensitive); return the text up to and including the match. The
    /// send side stays open, and what follows the match is dropped.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? Until { get; set; }

    /// <summary>Match -Until with case, like -cmatch.</summary>
    [Parameter]
    public SwitchParameter CaseSensitive { get; set; }

    /// <summary>Read exactly this many bytes and return them as a byte array. The send side stays open.</summary>
    [Parameter]
    [ValidateRange(1, int.MaxValue)]
    public int ByteCount { get; set; }

    /// <summary>Read until the server closes the connection, without closing the send side first.</summary>
    [Parameter]
    public SwitchParameter ToEnd { get; set; }

    /// <summary>Seconds to wait for the connection, and then how long the exchange may stand idle
    /// (nothing sent or received) before the answer counts as lost. Default 30; 0 waits forever.</summary>
    [Parameter]
    [ValidateSeconds]
    public double TimeoutSeconds { get; set; } = SocketConnector.DefaultConnectTimeout.TotalSeconds;

    /// <summary>Return the answer as a byte array instead of text.</summary>
    [Parameter]
    public SwitchParameter AsByteArray { get; set; }

    /// <summary>Return a SocketRequestResult for every request instead of the bare answer:
    /// MachineName (the computer that asked), ComputerName, Port, Protocol, Response, Elapsed,
    /// Status, and on failure Error, ErrorId and PartialResponse (what had arrived). A request
    /// that fails is a result, not an error record, so a fan-out keeps one object per target.</summary>
    [Parameter]
    public SwitchParameter AsResult { get; set; }

    private enum AnswerMode
    {
        /// <summary>Half-close after the request, then read until the server closes (netcat -N).</summary>
        HalfCloseToEnd,
        ToEnd,
        Until,
        Count,
    }

    /// <inheritdoc/>
    protected override void BeginProcessingCore()
    {
        int framings = (Until is null ? 0 : 1) + (ByteCount > 0 ? 1 : 0) + (ToEnd ? 1 : 0);
        if (framings > 1)
        {
            ThrowInvalidArgument("Use only one of -Until, -ByteCount and -ToEnd: each says where the answer ends.");
        }

        _mode = Until is not null ? AnswerMode.Until : ByteCount > 0 ? AnswerMode.Count : ToEnd ? AnswerMode.ToEnd : AnswerMode.HalfCloseToEnd;
        if (Until is not null)
        {
            try
            {
                _until = new Regex(Until, RegexOptions.CultureInvariant | (CaseSensitive ? RegexOptions.None : RegexOptions.IgnoreCase));
            }
            catch (ArgumentException ex)
            {
                ThrowInvalidArgument($"-Until is not a valid regular expression: {ex.Message}", Until);
            }
        }

        _timeout = Seconds(TimeoutSeconds, nameof(TimeoutSeconds));

        // With the target on the command line, the pipeline carries the request; otherwise it
        // carries targets (objects with ComputerName and Port, or Uri, or Path), one request each.
        var bound = MyInvocation.BoundParameters;
        _dataFromPipeline = bound.ContainsKey(nameof(ComputerName)) || bound.ContainsKey(nameof(Uri)) || bound.ContainsKey(nameof(Path)) || bound.ContainsKey(nameof(AbstractName));
        _inputOnCommandLine = bound.ContainsKey(nameof(InputObject));
    }

    /// <inheritdoc/>
    protected override void ProcessRecordCore()
    {
        if (!_dataFromPipeline)
        {
            Exchange? single = Open();
            if (single is null)
            {
                return;
            }

            using (single)
            {
                if (_inputOnCommandLine && !Add(single, InputObject))
                {
                    return;
                }

                Complete(single);
            }

            return;
        }

        if (_failed)
        {
            return;
        }

        _exchange ??= Open();
        if (_exchange is null)
        {
            _failed = true;
            return;
        }

        if (MyInvocation.BoundParameters.ContainsKey(nameof(InputObject)) && !Add(_exchange, InputObject))
        {
            _failed = true;
            _exchange.Dispose();
            _exchange = null;
        }
    }

    /// <inheritdoc/>
    protected override void EndProcessingCore()
    {
        if (!_dataFromPipeline || _failed)
        {
            return;
        }

        _exchange ??= Open();
        if (_exchange is null)
        {
            return;
        }

        try
        {
            Complete(_exchange);
        }
        finally
        {
            _exchange.Dispose();
            _exchange = null;
        }
    }

    /// <inheritdoc/>
    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            // The pipeline stopped or failed between two input items: the connection must not outlive it.
            _exchange?.Dispose();
            _exchange = null;
        }

        base.Dispose(disposing);
    }

    /// <summary>Connects and, for a stream, starts reading the answer at once: a server that
    /// answers while the request still streams in (an echo) must not fill the buffers and stall
    /// both sides. Returns null after writing the error when the target cannot be reached.</summary>
    private Exchange? Open()
    {
        _target = null;
        _clock = System.Diagnostics.Stopwatch.StartNew();
        _startedAt = DateTime.Now;
        if (ResolveTarget() is not ConnectTarget target)
        {
            return null;
        }

        _target = target;

        ConnectionOptions options;
        try
        {
            if (target.Protocol == SocketProtocol.Udp && _mode != AnswerMode.HalfCloseToEnd)
            {
                throw new SocketOperationException(SocketFailureKind.InvalidArgument,
                    "-Until, -ByteCount and -ToEnd say where a stream's answer ends; over UDP the answer is one datagram. Leave them out.");
            }

            options = NewOptions(target);
            options.NoDelay = true;
        }
        catch (SocketOperationException ex)
        {
            ThrowTerminatingError(ErrorRecords.From(ex, ex.EndPoint ?? (object?)Uri ?? Port));
            return null;
        }

        SocketConnection? connection = Connect(target, options, _timeout);
        if (connection is null)
        {
            return null;
        }

        Exchange exchange = new(connection, Line, StopToken);
        if (!connection.IsDatagram)
        {
            exchange.Answer = StartAnswer(exchange);
        }

        return exchange;
    }

    private Task<object?> StartAnswer(Exchange exchange)
    {
        SocketConnection connection = exchange.Connection;
        CancellationToken token = exchange.Token;
        switch (_mode)
        {
            case AnswerMode.Until:
                return AsObject(connection.WaitForPatternAsync(_until!, TimeSpan.Zero, token, keepBytes: AsByteArray));
            case AnswerMode.Count:
                return connection.ReceiveAsync(new ReceiveRequest(ReceiveMode.Count, asText: false, TimeSpan.Zero, ByteCount), token).AsTask();
            default:
                exchange.Collected = new MemoryStream();
                return AsObject(connection.ReceiveToEndAsync(exchange.Collected, TimeSpan.Zero, token));
        }
    }

    private static async Task<object?> AsObject<T>(Task<T> task) => await task.ConfigureAwait(false);

    private static async Task<object?> AsObject(Task task)
    {
        await task.ConfigureAwait(false);
        return null;
    }

    /// <summary>Adds input to the request and sends what has gathered. False after writing the
    /// error when sending failed.</summary>
    private bool Add(Exchange exchange, object? input)
    {
        SendInput.Walk(input, exchange.Body, item => SendInput.OutString(this, item), exchange.ByteRun);
        try
        {
            Send(exchange, final: false);
            return true;
        }
        catch (SocketOperationException ex)
        {
            WriteExchangeError(exchange, ex);
            return false;
        }
    }

    /// <summary>Sends the gathered request: a stream in blocks as it grows, a datagram socket
    /// all of it at the end, as one datagram (an empty one when there is no input).</summary>
    private void Send(Exchange exchange, bool final)
    {
        MemoryStream body = exchange.Body.Buffer;
        if (exchange.Connection.IsDatagram ? !final : !final && body.Length < SendBlockSize)
        {
            return;
        }

        if (body.Length > 0 || exchange.Connection.IsDatagram)
        {
            Await(exchange.Connection.SendAsync(body.GetBuffer(), 0, (int)body.Length, StopToken));
        }

        body.SetLength(0);
    }

    /// <summary>Ends the request, waits for the answer and writes it; the caller closes.</summary>
    private void Complete(Exchange exchange)
    {
        SocketConnection connection = exchange.Connection;
        try
        {
            exchange.Body.Finish();
            Send(exchange, final: true);
            Task<object?> answer;
            if (connection.IsDatagram)
            {
                answer = AsObject(connection.ReceiveDatagramAsync(TimeSpan.Zero, exchange.Token).AsTask());
            }
            else
            {
                answer = exchange.Answer!;
                if (_mode == AnswerMode.HalfCloseToEnd)
                {
                    connection.ShutdownSend();
                }
            }

            WriteVerbose($"Sent {connection.BytesSent} bytes to {exchange.Where}; waiting for the answer.");
            object? result = WaitForAnswer(exchange, answer);
            if (AsResult)
            {
                SocketRequestResult done = NewResult(exchange.Connection);
                done.Response = result;
                WriteObject(done);
            }
            else if (result is not null)
            {
                WriteObject(result);
            }
        }
        catch (SocketOperationException ex)
        {
            WriteExchangeError(exchange, ex);
        }
    }

    /// <summary>A failure of one target before a connection exists (the name, the port, the
    /// connect): an error record, or with -AsResult a result that carries it.</summary>
    private protected override void WriteTargetError(SocketOperationException exception, object? target)
    {
        if (!AsResult)
        {
            base.WriteTargetError(exception, target);
            return;
        }

        WriteObject(Failed(NewResult(null, target), exception, target));
    }

    /// <summary>A failure of a request under way: an error record, or with -AsResult a result
    /// with the error and what had arrived.</summary>
    private void WriteExchangeError(Exchange exchange, SocketOperationException exception)
    {
        if (!AsResult)
        {
            WriteSocketError(exception, exchange.Where);
            return;
        }

        WriteObject(Failed(NewResult(exchange.Connection), exception, exchange.Where));
    }

    private static SocketRequestResult Failed(SocketRequestResult result, SocketOperationException exception, object? target)
    {
        ErrorRecord record = ErrorRecords.From(exception, target);
        result.Error = record.Exception.Message;
        result.ErrorId = record.FullyQualifiedErrorId;
        result.PartialResponse = exception.PartialResult;
        return result;
    }

    /// <summary>The result of the request under way, timed and counted up to now.</summary>
    private SocketRequestResult NewResult(SocketConnection? connection, object? where = null)
    {
        ConnectTarget? target = _target;
        string name = target?.Path ?? (target?.AbstractName is not null ? "@" + target.AbstractName : target?.Host)
            ?? (ParameterSetName == HostSet ? ComputerName : Uri?.Host ?? Path ?? ("@" + AbstractName));
        int port = 0;
        if (target?.Port is not null)
        {
            try
            {
                port = ServicePorts.Resolve(target.Port, target.Protocol == SocketProtocol.Udp ? "udp" : "tcp");
            }
            catch (SocketOperationException)
            {
                // A service name that does not resolve: the error says so; the port stays 0.
            }
        }

        SocketProtocol protocol = connection?.Protocol ?? target?.Protocol ?? Protocol;
        string transport = connection?.Transport ?? (target is null ? protocol.ToString()
            : target.Path is not null || target.AbstractName is not null
                ? (protocol == SocketProtocol.Udp ? "Unix-Dgram" : target.Tls ? "Unix+Tls" : "Unix")
                : target.Tls ? "Tls" : protocol.ToString());
        return new SocketRequestResult(name, port, protocol, transport)
        {
            RemoteEndPoint = connection is null ? where?.ToString() : connection.RemoteEndPointText,
            Elapsed = _clock?.Elapsed ?? TimeSpan.Zero,
            StartedAt = _startedAt,
            BytesSent = connection?.BytesSent ?? 0,
            BytesReceived = connection?.BytesReceived ?? 0,
        };
    }

    /// <summary>
    /// Waits on the pipeline thread until the answer is complete, Ctrl+C, or the exchange has
    /// been idle (nothing sent or received) for the timeout. The answer task itself has no
    /// timeout: it started before the request was sent, and a long upload is not an idle wait.
    /// </summary>
    private object? WaitForAnswer(Exchange exchange, Task<object?> answer)
    {
        SocketConnection connection = exchange.Connection;
        int limit = _timeout == TimeSpan.Zero ? Timeout.Infinite : (int)Math.Min(int.MaxValue, _timeout.TotalMilliseconds);
        try
        {
            while (!Finished(answer, limit == Timeout.Infinite ? Timeout.Infinite : Math.Max(1, limit - connection.IdleMilliseconds)))
            {
                if (connection.IdleMilliseconds >= limit)
                {
                    exchange.Cancel();
                    Finished(answer, Timeout.Infinite);
                    throw Failure(exchange, SocketFailureKind.ReceiveTimeout, TimeoutMessage(exchange));
                }
            }
        }
        catch (OperationCanceledException) when (StopToken.IsCancellationRequested)
        {
            throw new PipelineStoppedException();
        }

        object? value;
        try
        {
            value = Await(answer);
        }
        catch (SocketOperationException ex) when (ex.Kind == SocketFailureKind.ConnectionRefused && connection.IsDatagram)
        {
            // The core's message says the socket stays open, which is true there, not here.
            throw Failure(exchange, ex.Kind,
                $"Nothing is listening on {exchange.Where}: the datagram was refused (ICMP port unreachable). Check the port number and that the service is running.", ex);
        }
        catch (SocketOperationException ex)
        {
            throw Failure(exchange, ex.Kind, ex.Message, ex);
        }

        return value switch
        {
            SocketPatternMatch match => AsByteArray ? match.Bytes : match.Text,
            SocketDatagram datagram => AsByteArray ? datagram.Data : datagram.Text,
            byte[] bytes => bytes,
            null when _mode == AnswerMode.Until => throw Failure(exchange, SocketFailureKind.EndOfStream,
                $"{exchange.Where} closed the connection before the answer matched /{_until}/. What arrived is in the error's Exception.PartialResult."),
            null when _mode == AnswerMode.Count => throw Failure(exchange, SocketFailureKind.EndOfStream,
                $"{exchange.Where} closed the connection without sending any of the {ByteCount} bytes asked for."),
            null when connection.IsDatagram => throw Failure(exchange, SocketFailureKind.EndOfStream, $"The socket connected to {exchange.Where} stopped receiving before an answer came."),
            _ => Collected(exchange),
        };
    }

    /// <summary>Waits for the task to end in any way, up to <paramref name="milliseconds"/>;
    /// Ctrl+C throws OperationCanceledException.</summary>
    private bool Finished(Task task, int milliseconds)
    {
        try
        {
            return task.Wait(milliseconds, StopToken);
        }
        catch (AggregateException)
        {
            return true;
        }
    }

    /// <summary>What a read to the end gathered, as text or bytes.</summary>
    private object Collected(Exchange exchange)
    {
        byte[] bytes = exchange.Collected?.ToArray() ?? new byte[0];
        return AsByteArray ? bytes : exchange.Connection.Encoding.GetString(bytes);
    }

    /// <summary>The error for a failed answer, carrying what had arrived (as the answer would
    /// have been: text or bytes) in PartialResult.</summary>
    private SocketOperationException Failure(Exchange exchange, SocketFailureKind kind, string message, Exception? inner = null)
    {
        object? partial = null;
        if (exchange.Collected is not null)
        {
            partial = exchange.Collected.Length > 0 ? Collected(exchange) : null;
        }
        else if (!exchange.Connection.IsDatagram && exchange.Connection.Available > 0)
        {
            try
            {
                partial = exchange.Connection.ReceiveBlocking(
                    new ReceiveRequest(ReceiveMode.Available, asText: !AsByteArray, TimeSpan.FromSeconds(1)), CancellationToken.None);
            }
            catch (SocketOperationException)
            {
                // Only a courtesy: the error that matters is the one being reported.
            }
        }

        return new SocketOperationException(kind, message, exchange.Where, inner) { PartialResult = partial };
    }

    private string TimeoutMessage(Exchange exchange)
    {
        string idle = $"nothing arrived from {exchange.Where} for {EndPointText.Seconds(_timeout)}";
        if (exchange.Connection.IsDatagram)
        {
            return $"No answer: {idle}. UDP says nothing about a lost or ignored datagram; check the port and the request, or raise -TimeoutSeconds (0 waits forever).";
        }

        return _mode switch
        {
            AnswerMode.Until => $"The answer did not match /{_until}/: {idle}. Check the pattern, or raise -TimeoutSeconds (0 waits forever). What arrived is in the error's Exception.PartialResult.",
            AnswerMode.Count => $"The answer stopped short of {ByteCount} bytes: {idle}. Raise -TimeoutSeconds (0 waits forever), or ask for fewer bytes. What arrived is in the error's Exception.PartialResult.",
            AnswerMode.ToEnd => $"The server did not close the connection: {idle}. Leave out -ToEnd so the request ends with a half-close, or end the answer with -Until or -ByteCount. What arrived is in the error's Exception.PartialResult.",
            _ => $"The server did not close the connection: {idle}. It may wait for more of the request (-Line adds line ends), or keep connections open: end the answer with -Until or -ByteCount. What arrived is in the error's Exception.PartialResult.",
        };
    }

    /// <summary>One request in flight: its connection, the request gathered so far, the answer
    /// being read. Disposing closes the connection, whatever state it is in.</summary>
    private sealed class Exchange : IDisposable
    {
        private readonly CancellationTokenSource _cancel;

        public Exchange(SocketConnection connection, bool line, CancellationToken stop)
        {
            Connection = connection;
            Body = new RequestBody(connection.Encoding, line ? connection.NewLine : null);
            _cancel = CancellationTokenSource.CreateLinkedTokenSource(stop);
        }

        public SocketConnection Connection { get; }

        public RequestBody Body { get; }

        public Task<object?>? Answer { get; set; }

        /// <summary>For reads to the end: what has arrived so far.</summary>
        public MemoryStream? Collected { get; set; }

        /// <summary>Whether the request's last piped item was bytes: a number after bytes is a byte.</summary>
        public ByteRun ByteRun { get; } = new();

        public CancellationToken Token => _cancel.Token;

        public string Where => Connection.PeerText;

        public void Cancel() => _cancel.Cancel();

        public void Dispose()
        {
            _cancel.Cancel();
            Connection.Close("Invoke-SocketRequest is done.");
            _cancel.Dispose();
        }
    }

    /// <summary>The request as bytes, gathered from the input items with Send-SocketData's rules:
    /// -Line ends each item with a line end, and a run of single bytes (an unrolled byte array)
    /// counts as one item.</summary>
    private sealed class RequestBody : ISendInputSink
    {
        private readonly Encoding _encoding;
        private readonly byte[]? _lineEnd;
        private bool _inByteRun;

        public RequestBody(Encoding encoding, string? lineEnd)
        {
            _encoding = encoding;
            _lineEnd = lineEnd is null ? null : encoding.GetBytes(lineEnd);
        }

        public MemoryStream Buffer { get; } = new();

        public void OnNull()
        {
            EndRun();
            AppendLineEnd();
        }

        public void OnByte(byte value)
        {
            _inByteRun = true;
            Buffer.WriteByte(value);
        }

        public void OnBytes(byte[] data)
        {
            EndRun();
            Buffer.Write(data, 0, data.Length);
            AppendLineEnd();
        }

        public void OnText(string text)
        {
            EndRun();
            byte[] encoded = _encoding.GetBytes(text);
            Buffer.Write(encoded, 0, encoded.Length);
            AppendLineEnd();
        }

        public void Finish() => EndRun();

        private void EndRun()
        {
            if (_inByteRun)
            {
                _inByteRun = false;
                AppendLineEnd();
            }
        }

        private void AppendLineEnd()
        {
            if (_lineEnd is not null)
            {
                Buffer.Write(_lineEnd, 0, _lineEnd.Length);
            }
        }
    }
}
