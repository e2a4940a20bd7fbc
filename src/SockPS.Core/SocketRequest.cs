using System;
using System.Diagnostics;
using System.IO;
using System.Text.RegularExpressions;
using System.Threading;
using System.Threading.Tasks;

namespace SockPS.Core;

/// <summary>Where the answer to a request ends.</summary>
internal enum SocketAnswerEnd
{
    /// <summary>Half-close after the request, then read until the peer closes (netcat -N).</summary>
    HalfCloseThenEnd,
    /// <summary>Read until the peer closes; the send side stays open.</summary>
    End,
    /// <summary>Read until the answer's text matches <see cref="SocketRequestOptions.Pattern"/>.</summary>
    Pattern,
    /// <summary>Read exactly <see cref="SocketRequestOptions.ByteCount"/> bytes.</summary>
    Count,
}

/// <summary>What one request asks for: how its items are sent, where its answer ends, how long
/// the exchange may stand idle, and whether the answer is text or bytes.</summary>
internal sealed class SocketRequestOptions
{
    /// <summary>Where the answer ends. Over a datagram socket the answer is one datagram, and only
    /// the default applies.</summary>
    public SocketAnswerEnd AnswerEnd { get; set; }

    /// <summary>For <see cref="SocketAnswerEnd.Pattern"/>: the text the answer ends with.</summary>
    public Regex? Pattern { get; set; }

    /// <summary>For <see cref="SocketAnswerEnd.Count"/>: the bytes to read.</summary>
    public int ByteCount { get; set; }

    /// <summary>How long the exchange may go with nothing sent or received before the answer
    /// counts as lost; zero waits forever.</summary>
    public TimeSpan IdleTimeout { get; set; }

    /// <summary>Return the answer (and a partial one) as bytes instead of text.</summary>
    public bool AsBytes { get; set; }

    /// <summary>End every item of the request with the connection's line end.</summary>
    public bool LineEnds { get; set; }

    /// <summary>The connection's CloseReason when the request is disposed.</summary>
    public string CloseReason { get; set; } = "The request is over.";
}

/// <summary>
/// One request and its answer over a connection just opened (Invoke-SocketRequest's
/// conversation): the items of the request are gathered and sent in blocks as they come, a
/// stream's answer is read from the start (a server that answers while the request still
/// streams in must not fill the buffers and stall both sides), the request ends (with a
/// half-close when the answer runs to the end of the stream), and the answer is awaited under an
/// idle timeout. Failures are <see cref="SocketOperationException"/>s carrying the endpoint and
/// what had arrived (<see cref="SocketOperationException.PartialResult"/>, text or bytes as the
/// answer would have been); their kinds say what happened, and the messages are plain facts the
/// caller may word for its users:
/// <list type="bullet">
/// <item>ReceiveTimeout: the exchange stood idle for <see cref="SocketRequestOptions.IdleTimeout"/>.</item>
/// <item>EndOfStream: the peer closed before the answer's end (the pattern, the byte count), or
/// the datagram socket stopped receiving.</item>
/// <item>ConnectionRefused on a datagram socket: the datagram was refused (ICMP port unreachable).</item>
/// <item>Anything else: the connection's own failure (a reset, TLS), passed on with its message.</item>
/// </list>
/// Closing the request closes the connection, whatever state it is in.
/// </summary>
internal sealed class SocketRequest : IDisposable
{
    /// <summary>Small items are gathered into one write: fewer system calls, and no item waits
    /// behind Nagle's algorithm for the acknowledgement of the one before.</summary>
    internal const int SendBlockSize = 64 * 1024;

    private readonly SocketRequestOptions _options;
    private readonly CancellationTokenSource _cancel;
    private readonly MemoryStream _body = new();
    private readonly byte[]? _lineEnd;
    private readonly Task<object?>? _streamAnswer;
    private MemoryStream? _collected;
    private bool _inByteRun;

    private SocketRequest(SocketConnection connection, SocketRequestOptions options, CancellationToken cancellationToken)
    {
        Connection = connection;
        _options = options;
        _lineEnd = options.LineEnds ? connection.Encoding.GetBytes(connection.NewLine) : null;
        _cancel = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        if (!connection.IsDatagram)
        {
            _streamAnswer = StartStreamAnswer();
        }
    }

    /// <summary>The connection the request goes over.</summary>
    public SocketConnection Connection { get; }

    /// <summary>How failures name the peer (host:port, a path).</summary>
    public string Where => Connection.PeerText;

    /// <summary>Starts a request on <paramref name="connection"/>, which it owns from now on (a
    /// request that cannot start closes it); a stream's answer is read from now on.
    /// <paramref name="cancellationToken"/> (Ctrl+C) ends every wait of the request.</summary>
    public static SocketRequest Start(SocketConnection connection, SocketRequestOptions options, CancellationToken cancellationToken)
    {
        if (connection is null)
        {
            throw new ArgumentNullException(nameof(connection));
        }

        try
        {
            Check(connection, options ?? throw new ArgumentNullException(nameof(options)));
            return new SocketRequest(connection, options, cancellationToken);
        }
        catch
        {
            connection.Close(options?.CloseReason ?? "The request could not start.");
            throw;
        }
    }

    private static void Check(SocketConnection connection, SocketRequestOptions options)
    {
        if (connection.IsWebSocket)
        {
            throw new SocketOperationException(SocketFailureKind.InvalidArgument,
                $"{connection.PeerText} is a WebSocket: it carries messages, not a request and an answer in one byte stream.", connection.PeerText);
        }

        if (connection.IsDatagram && options.AnswerEnd != SocketAnswerEnd.HalfCloseThenEnd)
        {
            throw new SocketOperationException(SocketFailureKind.InvalidArgument,
                $"The answer from {connection.PeerText} is one datagram: a pattern, a byte count or the end of a stream does not apply.", connection.PeerText);
        }

        if ((options.AnswerEnd == SocketAnswerEnd.Pattern && options.Pattern is null) || (options.AnswerEnd == SocketAnswerEnd.Count && options.ByteCount <= 0))
        {
            throw new SocketOperationException(SocketFailureKind.InvalidArgument,
                "An answer that ends at a pattern needs the pattern, and one that ends after a count of bytes needs a count of 1 or more.", connection.PeerText);
        }
    }

    /// <summary>Sends <paramref name="request"/> and returns the answer: the whole conversation in
    /// one call. The connection is closed when it ends, however it ends.</summary>
    public static async Task<object?> RunAsync(SocketConnection connection, SocketRequestOptions options, byte[] request, CancellationToken cancellationToken)
    {
        using SocketRequest exchange = Start(connection, options, cancellationToken);
        exchange.AddBytes(request);
        await exchange.EndRequestAsync().ConfigureAwait(false);
        return await exchange.AnswerAsync().ConfigureAwait(false);
    }

    // ------------------------------------------------------------------ the request

    /// <summary>A null item: nothing to send, but with line ends it still ends a line.</summary>
    public void AddNull()
    {
        EndByteRun();
        AppendLineEnd();
    }

    /// <summary>One byte of a run (a byte array unrolled item by item): the run is one item.</summary>
    public void AddByte(byte value)
    {
        _inByteRun = true;
        _body.WriteByte(value);
    }

    /// <summary>Bytes sent as they are.</summary>
    public void AddBytes(byte[] data)
    {
        EndByteRun();
        _body.Write(data, 0, data.Length);
        AppendLineEnd();
    }

    /// <summary>Text, encoded with the connection's encoding.</summary>
    public void AddText(string text)
    {
        EndByteRun();
        byte[] encoded = Connection.Encoding.GetBytes(text);
        _body.Write(encoded, 0, encoded.Length);
        AppendLineEnd();
    }

    /// <summary>Sends what has gathered once it fills a block (a stream only: a datagram socket
    /// sends the whole request as one datagram at the end).</summary>
    public Task FlushAsync() => SendAsync(final: false);

    /// <summary>Ends the request: sends the rest (over a datagram socket, the one datagram, empty
    /// when there was no input) and half-closes when the answer runs to the end of the stream.</summary>
    public async Task EndRequestAsync()
    {
        EndByteRun();
        await SendAsync(final: true).ConfigureAwait(false);
        if (!Connection.IsDatagram && _options.AnswerEnd == SocketAnswerEnd.HalfCloseThenEnd)
        {
            Connection.ShutdownSend();
        }
    }

    private async Task SendAsync(bool final)
    {
        if (Connection.IsDatagram ? !final : !final && _body.Length < SendBlockSize)
        {
            return;
        }

        if (_body.Length > 0 || Connection.IsDatagram)
        {
            try
            {
                await Connection.SendAsync(_body.GetBuffer(), 0, (int)_body.Length, _cancel.Token).ConfigureAwait(false);
            }
            catch (SocketOperationException ex) when (ex.Kind == SocketFailureKind.ConnectionRefused && Connection.IsDatagram)
            {
                // An ICMP port unreachable can reach the send as well as the receive.
                throw Refused(ex);
            }
        }

        _body.SetLength(0);
    }

    private void EndByteRun()
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
            _body.Write(_lineEnd, 0, _lineEnd.Length);
        }
    }

    // ------------------------------------------------------------------ the answer

    private Task<object?> StartStreamAnswer()
    {
        CancellationToken token = _cancel.Token;
        switch (_options.AnswerEnd)
        {
            case SocketAnswerEnd.Pattern:
                return AsObject(Connection.WaitForPatternAsync(_options.Pattern!, TimeSpan.Zero, token, keepBytes: _options.AsBytes));
            case SocketAnswerEnd.Count:
                return Connection.ReceiveAsync(new ReceiveRequest(ReceiveMode.Count, asText: false, TimeSpan.Zero, _options.ByteCount), token).AsTask();
            default:
                _collected = new MemoryStream();
                return AsObject(Connection.ReceiveToEndAsync(_collected, TimeSpan.Zero, token));
        }
    }

    /// <summary>
    /// Waits until the answer is complete, the token given to <see cref="Start"/> is cancelled
    /// (OperationCanceledException), or the exchange has been idle (nothing sent or received) for
    /// the idle timeout. The answer's read itself has no timeout: it started before the request
    /// was sent, and a long upload is not an idle wait. Returns text or bytes.
    /// </summary>
    public async Task<object?> AnswerAsync()
    {
        Task<object?> answer = _streamAnswer ?? ReceiveDatagramAsync();
        TimeSpan idle = _options.IdleTimeout;
        if (idle > TimeSpan.Zero)
        {
            long limit = (long)Math.Ceiling(idle.TotalMilliseconds);
            while (!await TaskWaits.WaitAsync(answer, Deadline.After(TimeSpan.FromMilliseconds(Math.Max(1, limit - Connection.IdleMilliseconds))), _cancel.Token).ConfigureAwait(false))
            {
                if (Connection.IdleMilliseconds >= limit)
                {
                    _cancel.Cancel();
                    await Ended(answer).ConfigureAwait(false);
                    throw await FailureAsync(SocketFailureKind.ReceiveTimeout,
                        $"Nothing was sent to or received from {Where} for {EndPointText.Seconds(idle)}, and the answer was not complete.").ConfigureAwait(false);
                }
            }
        }

        object? value;
        try
        {
            value = await answer.ConfigureAwait(false);
        }
        catch (SocketOperationException ex) when (ex.Kind == SocketFailureKind.ConnectionRefused && Connection.IsDatagram)
        {
            throw Refused(ex);
        }
        catch (SocketOperationException ex)
        {
            throw await FailureAsync(ex.Kind, ex.Message, ex).ConfigureAwait(false);
        }

        return value switch
        {
            SocketPatternMatch match => _options.AsBytes ? match.Bytes : match.Text,
            SocketDatagram datagram => _options.AsBytes ? datagram.Data : datagram.Text,
            byte[] bytes => bytes,
            null when _options.AnswerEnd == SocketAnswerEnd.Pattern => throw await FailureAsync(SocketFailureKind.EndOfStream,
                $"{Where} closed the connection before the answer matched /{_options.Pattern}/.").ConfigureAwait(false),
            null when _options.AnswerEnd == SocketAnswerEnd.Count => throw await FailureAsync(SocketFailureKind.EndOfStream,
                $"{Where} closed the connection before any of the {_options.ByteCount} bytes of the answer arrived.").ConfigureAwait(false),
            null when Connection.IsDatagram => throw await FailureAsync(SocketFailureKind.EndOfStream,
                $"The socket connected to {Where} stopped receiving before an answer came.").ConfigureAwait(false),
            _ => Collected(),
        };
    }

    /// <summary>A refused datagram: the connection's message says the socket stays open, which is
    /// true there, not here. Nothing arrives on a datagram socket before its answer.</summary>
    private SocketOperationException Refused(SocketOperationException ex) =>
        new(ex.Kind, $"Nothing is listening on {Where}: the datagram was refused (ICMP port unreachable).", Where, ex);

    /// <summary>The datagram that answers. A refusal that arrived before the receive began is
    /// thrown at once by the connection: here it is the task's failure like any other.</summary>
    private async Task<object?> ReceiveDatagramAsync() =>
        await Connection.ReceiveDatagramAsync(TimeSpan.Zero, _cancel.Token).ConfigureAwait(false);

    /// <summary>Waits for a cancelled answer to end in any way.</summary>
    private static async Task Ended(Task task)
    {
        try
        {
            await task.ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is OperationCanceledException or SocketOperationException)
        {
            // The timeout is what is reported.
        }
    }

    /// <summary>What a read to the end gathered, as text or bytes.</summary>
    private object Collected()
    {
        byte[] bytes = _collected?.ToArray() ?? new byte[0];
        return _options.AsBytes ? bytes : Connection.Encoding.GetString(bytes);
    }

    /// <summary>The failure of the answer, carrying what had arrived (as the answer would have
    /// been: text or bytes) in PartialResult.</summary>
    private async Task<SocketOperationException> FailureAsync(SocketFailureKind kind, string message, Exception? inner = null)
    {
        object? partial = null;
        if (_collected is not null)
        {
            partial = _collected.Length > 0 ? Collected() : null;
        }
        else if (!Connection.IsDatagram && Connection.Available > 0)
        {
            try
            {
                partial = await Connection.ReceiveAsync(
                    new ReceiveRequest(ReceiveMode.Available, asText: !_options.AsBytes, TimeSpan.FromSeconds(1)), CancellationToken.None).ConfigureAwait(false);
            }
            catch (SocketOperationException)
            {
                // Only a courtesy: the failure that matters is the one being reported.
            }
        }

        return new SocketOperationException(kind, message, Where, inner) { PartialResult = partial };
    }

    private static async Task<object?> AsObject<T>(Task<T> task) => await task.ConfigureAwait(false);

    private static async Task<object?> AsObject(Task task)
    {
        await task.ConfigureAwait(false);
        return null;
    }

    /// <summary>Stops every wait of the request and closes the connection with
    /// <see cref="SocketRequestOptions.CloseReason"/>, whatever state it is in.</summary>
    public void Dispose()
    {
        _cancel.Cancel();
        Connection.Close(_options.CloseReason);
        _cancel.Dispose();
    }
}
