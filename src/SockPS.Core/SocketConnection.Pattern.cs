using System;
using System.Buffers;
using System.IO.Pipelines;
using System.Text;
using System.Text.RegularExpressions;
using System.Threading;
using System.Threading.Tasks;

namespace SockPS.Core;

/// <summary>What Wait-SocketData -Pattern found: the match, and the text it consumed.</summary>
public sealed class SocketPatternMatch
{
    internal SocketPatternMatch(SocketConnection connection, Match match, string text, byte[]? bytes = null)
    {
        Connection = connection;
        Match = match;
        Text = text;
        Bytes = bytes;
    }

    /// <summary>The consumed bytes as they arrived, when the caller asked for them.</summary>
    internal byte[]? Bytes { get; }

    /// <summary>The connection the text arrived on.</summary>
    public SocketConnection Connection { get; }

    /// <summary>The regular expression match (Groups, Value, Index within Text).</summary>
    public Match Match { get; }

    /// <summary>The matched text.</summary>
    public string Value => Match.Value;

    /// <summary>The match's groups: Groups[1].Value is the first capture, Groups['name'] a named one.</summary>
    public GroupCollection Groups => Match.Groups;

    /// <summary>Everything consumed: the text before the match and the match itself.</summary>
    public string Text { get; }

    /// <summary>The matched text.</summary>
    public override string ToString() => Match.Value;
}

// Expect-style waiting: until the buffered text matches a pattern (a prompt, a banner), consuming
// through the end of the match and leaving the rest buffered.
public sealed partial class SocketConnection
{
    internal async Task<SocketPatternMatch?> WaitForPatternAsync(Regex pattern, TimeSpan timeout, CancellationToken cancellationToken, bool keepBytes = false)
    {
        ThrowIfDisconnected();
        if (IsDatagram)
        {
            throw StreamOnly();
        }

        using TimeoutScope scope = new(timeout, cancellationToken);
        bool lockHeld = false;
        try
        {
            await _readLock.WaitAsync(scope.Token).ConfigureAwait(false);
            lockHeld = true;
            Unpark(fromTimer: false);
            PipeReader reader = Pipe.Reader;
            Encoding encoding = Encoding;
            while (true)
            {
                ReadResult result = await reader.ReadAsync(scope.Token).ConfigureAwait(false);
                ReadOnlySequence<byte> buffer = result.Buffer;
                long length = buffer.Length;

                // A fresh decoder each time: nothing is consumed until the pattern matches, so
                // the connection's own decoder must not move.
                string text = new TextCodec(encoding).Decode(buffer, flush: result.IsCompleted);
                Match match = pattern.Match(text);
                if (match.Success)
                {
                    string consumed = text.Substring(0, match.Index + match.Length);
                    SequencePosition end = buffer.GetPosition(encoding.GetByteCount(consumed));
                    byte[]? bytes = keepBytes ? buffer.Slice(buffer.Start, end).ToArray() : null;
                    Consume(buffer, end, end);
                    lockHeld = ReleaseReader(lockHeld, gaveUp: false);
                    return new SocketPatternMatch(this, match, consumed, bytes);
                }

                if (result.IsCompleted)
                {
                    reader.AdvanceTo(buffer.Start, buffer.End);
                    ThrowIfDisconnected();
                    return null;
                }

                if (length >= MaxFrameLength)
                {
                    reader.AdvanceTo(buffer.Start, buffer.End);
                    throw new SocketOperationException(SocketFailureKind.FrameTooLong,
                        $"The pattern did not match the first {MaxFrameLength / (1024 * 1024)} MiB from {PeerText}. The data stays buffered.", PeerText);
                }

                SetDemand(length + ReceiveBlockSize);
                reader.AdvanceTo(buffer.Start, buffer.End);
            }
        }
        catch (OperationCanceledException) when (scope.TimedOut)
        {
            throw new SocketOperationException(SocketFailureKind.ReceiveTimeout,
                $"The text from {PeerText} did not match /{pattern}/ within {EndPointText.Seconds(timeout)}. Nothing was consumed; " +
                "the connection is still open.", PeerText);
        }
        finally
        {
            ReleaseReader(lockHeld, gaveUp: true);
        }
    }
}
