using System;
using System.Management.Automation;
using System.Text.RegularExpressions;
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

    private SocketRequestOptions _request = null!;
    private bool _dataFromPipeline;
    private bool _inputOnCommandLine;
    private SocketRequest? _exchange;
    private bool _failed;

    // The request under way: what its items go through, and for -AsResult its target and clock.
    private RequestSink? _sink;
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

    /// <inheritdoc/>
    protected override void BeginProcessingCore()
    {
        if ((Until is null ? 0 : 1) + (ByteCount > 0 ? 1 : 0) + (ToEnd ? 1 : 0) > 1)
        {
            ThrowInvalidArgument("Use only one of -Until, -ByteCount and -ToEnd: each says where the answer ends.");
        }

        _request = new SocketRequestOptions
        {
            AnswerEnd = Until is not null ? SocketAnswerEnd.Pattern : ByteCount > 0 ? SocketAnswerEnd.Count : ToEnd ? SocketAnswerEnd.End : SocketAnswerEnd.HalfCloseThenEnd,
            ByteCount = ByteCount,
            IdleTimeout = Seconds(TimeoutSeconds, nameof(TimeoutSeconds)),
            AsBytes = AsByteArray,
            LineEnds = Line,
            CloseReason = "Invoke-SocketRequest is done.",
        };
        if (Until is not null)
        {
            try
            {
                _request.Pattern = new Regex(Until, RegexOptions.CultureInvariant | (CaseSensitive ? RegexOptions.None : RegexOptions.IgnoreCase));
            }
            catch (ArgumentException ex)
            {
                ThrowInvalidArgument($"-Until is not a valid regular expression: {ex.Message}", Until);
            }
        }

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
            using SocketRequest? single = Open();
            if (single is not null && (!_inputOnCommandLine || Add(single, InputObject)))
            {
                Complete(single);
            }

            return;
        }

        if (_failed || (_exchange ??= Open()) is not SocketRequest exchange)
        {
            _failed = true;
            return;
        }

        if (MyInvocation.BoundParameters.ContainsKey(nameof(InputObject)) && !Add(exchange, InputObject))
        {
            _failed = true;
            exchange.Dispose();
            _exchange = null;
        }
    }

    /// <inheritdoc/>
    protected override void EndProcessingCore()
    {
        if (!_dataFromPipeline || _failed || (_exchange ??= Open()) is not SocketRequest exchange)
        {
            return;
        }

        try
        {
            Complete(exchange);
        }
        finally
        {
            exchange.Dispose();
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

    /// <summary>Connects and starts the request (the core reads a stream's answer from now on).
    /// Returns null after writing the error when the target cannot be reached.</summary>
    private SocketRequest? Open()
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
            if (target.Protocol == SocketProtocol.Udp && _request.AnswerEnd != SocketAnswerEnd.HalfCloseThenEnd)
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

        SocketConnection? connection = Connect(target, options, _request.IdleTimeout);
        if (connection is null)
        {
            return null;
        }

        SocketRequest exchange = SocketRequest.Start(connection, _request, StopToken);
        _sink = new RequestSink(exchange);
        return exchange;
    }

    /// <summary>Adds input to the request and sends what has gathered. False after writing the
    /// error when sending failed.</summary>
    private bool Add(SocketRequest exchange, object? input)
    {
        SendInput.Walk(input, _sink!, item => SendInput.OutString(this, item), _sink!.ByteRun);
        try
        {
            Await(exchange.FlushAsync());
            return true;
        }
        catch (SocketOperationException ex)
        {
            WriteFailure(ex, exchange.Where, exchange.Connection);
            return false;
        }
    }

    /// <summary>Ends the request, waits for the answer and writes it; the caller closes.</summary>
    private void Complete(SocketRequest exchange)
    {
        try
        {
            Await(exchange.EndRequestAsync());
            WriteVerbose($"Sent {exchange.Connection.BytesSent} bytes to {exchange.Where}; waiting for the answer.");
            object? answer = Await(exchange.AnswerAsync());
            if (AsResult)
            {
                SocketRequestResult done = NewResult(exchange.Connection);
                done.Response = answer;
                WriteObject(done);
            }
            else if (answer is not null)
            {
                WriteObject(answer);
            }
        }
        catch (SocketOperationException ex)
        {
            WriteFailure(Worded(ex, exchange), exchange.Where, exchange.Connection);
        }
    }

    /// <summary>A failure of one target before a connection exists (the name, the port, the
    /// connect): an error record, or with -AsResult a result that carries it.</summary>
    private protected override void WriteTargetError(SocketOperationException exception, object? target) =>
        WriteFailure(exception, target, null);

    /// <summary>A failed request: a non-terminating error record, or with -AsResult a result with
    /// the error and what had arrived.</summary>
    private void WriteFailure(SocketOperationException exception, object? target, SocketConnection? connection)
    {
        if (!AsResult)
        {
            WriteSocketError(exception, target);
            return;
        }

        ErrorRecord record = ErrorRecords.From(exception, target);
        SocketRequestResult result = NewResult(connection, target);
        result.Error = record.Exception.Message;
        result.ErrorId = record.FullyQualifiedErrorId;
        result.PartialResponse = exception.PartialResult;
        WriteObject(result);
    }

    /// <summary>The result of the request under way, timed and counted up to now.</summary>
    private SocketRequestResult NewResult(SocketConnection? connection, object? where = null)
    {
        ConnectTarget? target = _target;
        string name = target?.Path ?? (target?.AbstractName is not null ? "@" + target.AbstractName : target?.Host)
            ?? (ParameterSetName == HostSet ? ComputerName : Uri?.Host ?? Path ?? ("@" + AbstractName));
        return SocketRequestResult.For(name, target?.Port, connection?.Protocol ?? target?.Protocol ?? Protocol,
            unix: target?.Path is not null || target?.AbstractName is not null, tls: target?.Tls == true,
            connection, where?.ToString(), _clock?.Elapsed ?? TimeSpan.Zero, _startedAt);
    }

    /// <summary>The core's failures of the answer, in this command's words (its parameters, where
    /// what arrived is); the connection's own failures (a reset, TLS) keep theirs.</summary>
    private SocketOperationException Worded(SocketOperationException failure, SocketRequest exchange)
    {
        string where = exchange.Where;
        bool datagram = exchange.Connection.IsDatagram;
        const string Partial = " What arrived is in the error's Exception.PartialResult.";
        string idle = $"nothing arrived from {where} for {EndPointText.Seconds(_request.IdleTimeout)}";
        string? message = failure.Kind switch
        {
            SocketFailureKind.ReceiveTimeout when datagram =>
                $"No answer: {idle}. UDP says nothing about a lost or ignored datagram; check the port and the request, or raise -TimeoutSeconds (0 waits forever).",
            SocketFailureKind.ReceiveTimeout => _request.AnswerEnd switch
            {
                SocketAnswerEnd.Pattern => $"The answer did not match /{_request.Pattern}/: {idle}. Check the pattern, or raise -TimeoutSeconds (0 waits forever).{Partial}",
                SocketAnswerEnd.Count => $"The answer stopped short of {ByteCount} bytes: {idle}. Raise -TimeoutSeconds (0 waits forever), or ask for fewer bytes.{Partial}",
                SocketAnswerEnd.End => $"The server did not close the connection: {idle}. Leave out -ToEnd so the request ends with a half-close, or end the answer with -Until or -ByteCount.{Partial}",
                _ => $"The server did not close the connection: {idle}. It may wait for more of the request (-Line adds line ends), or keep connections open: end the answer with -Until or -ByteCount.{Partial}",
            },
            SocketFailureKind.EndOfStream when datagram => $"The socket connected to {where} stopped receiving before an answer came.",
            SocketFailureKind.EndOfStream when _request.AnswerEnd == SocketAnswerEnd.Pattern =>
                $"{where} closed the connection before the answer matched /{_request.Pattern}/.{Partial}",
            SocketFailureKind.EndOfStream when _request.AnswerEnd == SocketAnswerEnd.Count => failure.PartialResult is null
                ? $"{where} closed the connection without sending any of the {ByteCount} bytes asked for."
                : $"{where} closed the connection after {exchange.Connection.BytesReceived} of the {ByteCount} bytes asked for.{Partial}",
            SocketFailureKind.ConnectionRefused when datagram =>
                $"Nothing is listening on {where}: the datagram was refused (ICMP port unreachable). Check the port number and that the service is running.",
            _ => null,
        };
        return message is null ? failure : new SocketOperationException(failure.Kind, message, failure.EndPoint, failure.InnerException) { PartialResult = failure.PartialResult };
    }

    /// <summary>Hands the pieces <see cref="SendInput"/> makes of the input to the request.</summary>
    private sealed class RequestSink : ISendInputSink
    {
        private readonly SocketRequest _request;

        public RequestSink(SocketRequest request) => _request = request;

        /// <summary>Whether the request's last piped item was bytes: a number after bytes is a byte.</summary>
        public ByteRun ByteRun { get; } = new();

        public void OnNull() => _request.AddNull();

        public void OnByte(byte value) => _request.AddByte(value);

        public void OnBytes(byte[] data) => _request.AddBytes(data);

        public void OnText(string text) => _request.AddText(text);
    }
}
