using System;
using System.Net;
using System.Threading;

namespace SockPS.Core;

// Transcripts: every send and every network read recorded with its time, direction and bytes
// (Start-SocketTranscript, Connect-Socket -TranscriptPath). The hooks sit where bytes meet the
// socket (or the TLS stream, so TLS connections record plain text); without a transcript each
// costs one field read.
public sealed partial class SocketConnection
{
    /// <summary>How long closing a connection waits for its transcript file to catch up.</summary>
    private static readonly TimeSpan TranscriptCloseWait = TimeSpan.FromSeconds(10);

    private SocketTranscript? _transcript;

    // 1 while a recording keeps the stream's loop reading (see StartTranscript).
    private int _transcriptHoldsLoop;

    /// <summary>The transcript being recorded, or the last one (stopped); null when none was started.</summary>
    public SocketTranscript? Transcript => Volatile.Read(ref _transcript);

    /// <summary>Starts recording into memory (bounded) and, with a path, into that file (appended).
    /// Returns null when a transcript is already being recorded.</summary>
    internal SocketTranscript? StartTranscript(string? path)
    {
        ThrowIfDisconnected();
        SocketTranscript? current = Volatile.Read(ref _transcript);
        if (current?.IsRecording == true)
        {
            return null;
        }

        SocketTranscript started = SocketTranscript.Start(this, path);
        if (Interlocked.CompareExchange(ref _transcript, started, current) != current)
        {
            // Another thread started one in between; give the file back.
            started.Stop(TimeSpan.Zero);
            return null;
        }

        if (Volatile.Read(ref _closing) != 0)
        {
            // Closed while starting: Close may have missed it.
            started.Stop(TranscriptCloseWait);
        }
        else
        {
            HoldLoopForTranscript();
        }

        return started;
    }

    /// <summary>Stops recording and waits (bounded) for the file to catch up. Returns the
    /// transcript, or null when none was being recorded.</summary>
    internal SocketTranscript? StopTranscript(TimeSpan wait)
    {
        SocketTranscript? current = Volatile.Read(ref _transcript);
        if (current is null || !current.IsRecording)
        {
            return null;
        }

        current.Stop(wait);
        if (Interlocked.Exchange(ref _transcriptHoldsLoop, 0) == 1)
        {
            _stream!.ReleaseLoop();
        }

        return current;
    }

    /// <summary>A transcript records what arrived when it arrived: a parked stream connection
    /// would leave it in the socket, and record it only when a receive came for it. Held once
    /// per recording, released when it stops.</summary>
    private void HoldLoopForTranscript()
    {
        if (_stream is not null && Interlocked.Exchange(ref _transcriptHoldsLoop, 1) == 0)
        {
            _stream.HoldLoop();
        }
    }

    private void Record(SocketTranscriptDirection direction, byte[] buffer, int offset, int count, EndPoint? remote = null) =>
        Volatile.Read(ref _transcript)?.Record(direction, buffer, offset, count, Volatile.Read(ref _encoding), remote);
}
