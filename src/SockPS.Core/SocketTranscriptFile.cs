using System;
using System.Buffers.Text;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Runtime.InteropServices;
using System.Text;
using System.Threading;
using System.Threading.Channels;
using System.Threading.Tasks;

namespace SockPS.Core;

/// <summary>
/// A transcript file: JSON lines, appended, never rewritten. A header line describes a
/// connection when its recording starts; every entry line names its connection, so several
/// connections (or one connection recorded twice) can share a file and a crash loses at most the
/// line being written. One writer per file in the process, on a background task: sends and
/// receives only queue their entries.
/// </summary>
/// <remarks>
/// <code>
/// {"SockPSTranscript":1,"ConnectionId":3,"Transport":"Tcp","LocalEndPoint":"127.0.0.1:50110","RemoteEndPoint":"127.0.0.1:80","Encoding":"utf-8","CodePage":65001,"Started":"2025-01-31T10:00:00.0000000+01:00"}
/// {"ConnectionId":3,"Sequence":1,"Timestamp":"2025-01-31T10:00:00.0100000+01:00","Direction":"Sent","Length":5,"Data":"aGVsbG8="}
/// </code>
/// Datagram sockets with no one peer add "RemoteEndPoint" to each entry line.
/// </remarks>
internal sealed class SocketTranscriptFile
{
    /// <summary>Bytes of data queued for the file past which recording waits for the disk.</summary>
    internal const long MaxQueuedBytes = 32L * 1024 * 1024;

    private static readonly StringComparer s_pathComparer =
        RuntimeInformation.IsOSPlatform(OSPlatform.Windows) ? StringComparer.OrdinalIgnoreCase : StringComparer.Ordinal;

    private static readonly object s_openLock = new();
    private static readonly Dictionary<string, SocketTranscriptFile> s_open = new(s_pathComparer);

    private readonly Channel<object> _queue = Channel.CreateUnbounded<object>(new UnboundedChannelOptions { SingleReader = true });
    private readonly FileStream _file;
    private readonly Task _loop;
    private readonly ManualResetEventSlim _room = new(true);
    private readonly object _progress = new();
    private byte[] _line = new byte[4096];
    private int _users = 1;
    private bool _closing;
    private long _queuedBytes;
    private long _enqueued;
    private long _written;
    private string? _error;

    private SocketTranscriptFile(string path)
    {
        Path = path;
        try
        {
            // ReadWrite sharing: Get-SocketTranscript -Path may read the file while it grows.
            _file = new FileStream(path, FileMode.Append, FileAccess.Write, FileShare.ReadWrite, 64 * 1024);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            throw new SocketOperationException(SocketFailureKind.InvalidArgument,
                $"Cannot write the transcript to '{path}': {ex.Message} Give a path in a folder that exists and that you may write to.", path, ex);
        }

        _loop = Task.Run(WriteLoopAsync);
    }

    /// <summary>The full path of the file.</summary>
    public string Path { get; }

    /// <summary>Why writing stopped; null while it works.</summary>
    public string? Error => Volatile.Read(ref _error);

    /// <summary>Opens the file for appending, or joins the writer that already appends to it.</summary>
    internal static SocketTranscriptFile Acquire(string path)
    {
        string full = System.IO.Path.GetFullPath(path);
        while (true)
        {
            Task finishing;
            lock (s_openLock)
            {
                if (!s_open.TryGetValue(full, out SocketTranscriptFile? file))
                {
                    file = new SocketTranscriptFile(full);
                    s_open[full] = file;
                    return file;
                }

                if (!file._closing)
                {
                    file._users++;
                    return file;
                }

                finishing = file._loop;
            }

            // The last user is leaving and its writer drains: two writers appending to one file
            // would overwrite each other's lines, so wait for it to finish first.
            if (!finishing.Wait(TimeSpan.FromSeconds(30)))
            {
                throw new SocketOperationException(SocketFailureKind.InvalidArgument,
                    $"The transcript file '{full}' is still being written by a connection that closed; try again in a moment.", full);
            }
        }
    }

    /// <summary>When this process is writing <paramref name="path"/>, waits (bounded) until
    /// everything queued so far is in it, so a reader sees whole lines.</summary>
    internal static void FlushIfOpen(string path, TimeSpan wait)
    {
        SocketTranscriptFile? file;
        lock (s_openLock)
        {
            s_open.TryGetValue(System.IO.Path.GetFullPath(path), out file);
        }

        file?.Flush(wait);
    }

    /// <summary>Checks that a transcript could be written at <paramref name="path"/>, without
    /// keeping the file open: cmdlets ask before they connect, so a bad path costs no connection.</summary>
    internal static void CheckWritable(string path)
    {
        string full = System.IO.Path.GetFullPath(path);
        lock (s_openLock)
        {
            if (s_open.ContainsKey(full))
            {
                return;
            }
        }

        try
        {
            using FileStream probe = new(full, FileMode.Append, FileAccess.Write, FileShare.ReadWrite);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            throw new SocketOperationException(SocketFailureKind.InvalidArgument,
                $"Cannot write the transcript to '{full}': {ex.Message} Give a path in a folder that exists and that you may write to.", full, ex);
        }
    }

    /// <summary>Queues the header line that describes a connection.</summary>
    internal void WriteHeader(SocketConnection connection, DateTime started)
    {
        StringBuilder line = new(256);
        line.Append("{\"SockPSTranscript\":1,\"ConnectionId\":").Append(connection.Id.ToString(CultureInfo.InvariantCulture));
        AppendString(line, "Transport", connection.Transport);
        AppendString(line, "LocalEndPoint", EndPointText.Format(connection.LocalEndPoint));
        if (connection.RemoteEndPoint is not null)
        {
            AppendString(line, "RemoteEndPoint", EndPointText.Format(connection.RemoteEndPoint));
        }

        Encoding encoding = connection.Encoding;
        AppendString(line, "Encoding", encoding.WebName);
        line.Append(",\"CodePage\":").Append(encoding.CodePage.ToString(CultureInfo.InvariantCulture));
        AppendString(line, "Started", started.ToString("o", CultureInfo.InvariantCulture));
        line.Append("}\n");
        Interlocked.Increment(ref _enqueued);
        _queue.Writer.TryWrite(line.ToString());
    }

    /// <summary>Queues an entry; returns the bytes now waiting for the disk.</summary>
    internal long Enqueue(SocketTranscriptEntry entry, bool withPeer)
    {
        Interlocked.Increment(ref _enqueued);
        long queued = Interlocked.Add(ref _queuedBytes, entry.Length);
        _queue.Writer.TryWrite(withPeer ? new PeerEntry(entry) : entry);
        return queued;
    }

    /// <summary>Blocks the recording thread while the writer is far behind.</summary>
    internal void WaitForRoom()
    {
        while (Interlocked.Read(ref _queuedBytes) > MaxQueuedBytes && !_loop.IsCompleted && Error is null)
        {
            _room.Reset();
            if (Interlocked.Read(ref _queuedBytes) <= MaxQueuedBytes)
            {
                break;
            }

            // Bounded, so a Set that slipped in between the check and the Reset costs 100 ms at most.
            _room.Wait(100);
        }
    }

    /// <summary>Waits until every line queued so far is written.</summary>
    internal void Flush(TimeSpan wait)
    {
        long target = Interlocked.Read(ref _enqueued);
        DateTime deadline = DateTime.UtcNow + wait;
        lock (_progress)
        {
            while (Interlocked.Read(ref _written) < target && !_loop.IsCompleted)
            {
                TimeSpan left = deadline - DateTime.UtcNow;
                if (left <= TimeSpan.Zero)
                {
                    return;
                }

                Monitor.Wait(_progress, left);
            }
        }
    }

    /// <summary>One transcript is done with the file. The last one closes it, waiting up to
    /// <paramref name="wait"/> for the queue to drain (the writer finishes in the background
    /// after that).</summary>
    internal void Release(TimeSpan wait)
    {
        bool last;
        lock (s_openLock)
        {
            last = --_users == 0;
            if (last)
            {
                _closing = true;
                _queue.Writer.TryComplete();
            }
        }

        if (last)
        {
            _loop.Wait(wait);
        }
        else
        {
            Flush(wait);
        }
    }

    /// <summary>Fault injection for the tests: runs before each item is written.</summary>
    internal Action<object>? BeforeWriteForTesting { get; set; }

    /// <summary>Writes queued entries until the queue completes. A failure to write (a full disk,
    /// a file taken away) is kept as <see cref="Error"/> and the loop goes on taking entries, so
    /// their memory is released and nobody waits for room; anything else that breaks the loop
    /// is recorded the same way before it ends.</summary>
    private async Task WriteLoopAsync()
    {
        ChannelReader<object> reader = _queue.Reader;
        try
        {
            while (await reader.WaitToReadAsync().ConfigureAwait(false))
            {
                while (reader.TryRead(out object? item))
                {
                    try
                    {
                        WriteItem(item);
                    }
                    catch (Exception ex)
                    {
                        Interlocked.CompareExchange(ref _error, $"Writing the transcript to '{Path}' failed: {ex.Message}", null);
                        Release(item);
                    }
                }

                if (Error is null)
                {
                    TryIo(() => _file.Flush());
                }

                lock (_progress)
                {
                    Monitor.PulseAll(_progress);
                }

                _room.Set();
            }
        }
        catch (Exception ex)
        {
            Interlocked.CompareExchange(ref _error, $"The transcript writer for '{Path}' stopped: {ex.Message}", null);
            while (reader.TryRead(out object? left))
            {
                Release(left);
            }
        }
        finally
        {
            TryIo(() => _file.Dispose());
            lock (s_openLock)
            {
                if (s_open.TryGetValue(Path, out SocketTranscriptFile? current) && ReferenceEquals(current, this))
                {
                    s_open.Remove(Path);
                }
            }

            _room.Set();
            lock (_progress)
            {
                Monitor.PulseAll(_progress);
            }
        }
    }

    /// <summary>Gives an entry's memory back without writing it.</summary>
    private void Release(object item)
    {
        SocketTranscriptEntry? entry = item switch
        {
            SocketTranscriptEntry e => e,
            PeerEntry p => p.Entry,
            _ => null,
        };

        if (entry is not null)
        {
            Interlocked.Add(ref _queuedBytes, -entry.Length);
            entry.Release();
        }

        Interlocked.Increment(ref _written);
    }

    private void WriteItem(object item)
    {
        BeforeWriteForTesting?.Invoke(item);
        SocketTranscriptEntry? entry = item switch
        {
            SocketTranscriptEntry e => e,
            PeerEntry p => p.Entry,
            _ => null,
        };

        if (Error is null)
        {
            TryIo(() =>
            {
                if (entry is null)
                {
                    byte[] header = TextEncodings.Utf8NoBom.GetBytes((string)item);
                    _file.Write(header, 0, header.Length);
                }
                else
                {
                    WriteEntry(entry, item is PeerEntry);
                }
            });
        }

        if (entry is not null)
        {
            Interlocked.Add(ref _queuedBytes, -entry.Length);
            entry.Release();
        }

        Interlocked.Increment(ref _written);
    }

    /// <summary>
    /// Writes one entry line as bytes: the fixed parts are ASCII, and the data is encoded to
    /// Base64 straight into the line buffer (System.Buffers.Text), without a detour through
    /// chars. The line buffer is reused, so a stream of 1 MiB reads allocates nothing per entry.
    /// </summary>
    private void WriteEntry(SocketTranscriptEntry entry, bool withPeer)
    {
        StringBuilder head = new(160);
        head.Append("{\"ConnectionId\":").Append(entry.ConnectionId.ToString(CultureInfo.InvariantCulture))
            .Append(",\"Sequence\":").Append(entry.Sequence.ToString(CultureInfo.InvariantCulture))
            .Append(",\"Timestamp\":\"").Append(entry.Timestamp.ToString("o", CultureInfo.InvariantCulture))
            .Append(entry.Kind == SocketTranscriptDirection.Sent ? "\",\"Direction\":\"Sent\",\"Length\":" : "\",\"Direction\":\"Received\",\"Length\":")
            .Append(entry.Length.ToString(CultureInfo.InvariantCulture))
            .Append(",\"Data\":\"");
        StringBuilder tail = new(64);
        tail.Append('"');
        if (withPeer && entry.RemoteEndPoint is string peer)
        {
            AppendString(tail, "RemoteEndPoint", peer);
        }

        tail.Append("}\n");

        Encoding utf8 = TextEncodings.Utf8NoBom;
        int encodedLength = Base64.GetMaxEncodedToUtf8Length(entry.Length);
        int needed = utf8.GetMaxByteCount(head.Length) + encodedLength + utf8.GetMaxByteCount(tail.Length);
        if (_line.Length < needed)
        {
            _line = new byte[Math.Max(needed, _line.Length * 2)];
        }

        int at = utf8.GetBytes(head.ToString(), 0, head.Length, _line, 0);
        Base64.EncodeToUtf8(new ReadOnlySpan<byte>(entry.Buffer, 0, entry.Length), new Span<byte>(_line, at, encodedLength), out _, out int written);
        at += written;
        at += utf8.GetBytes(tail.ToString(), 0, tail.Length, _line, at);
        _file.Write(_line, 0, at);
    }

    private void TryIo(Action action)
    {
        try
        {
            action();
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ObjectDisposedException)
        {
            Interlocked.CompareExchange(ref _error, $"Writing the transcript to '{Path}' failed: {ex.Message}", null);
        }
    }

    private static void AppendString(StringBuilder line, string name, string value)
    {
        line.Append(",\"").Append(name).Append("\":\"");
        foreach (char c in value)
        {
            switch (c)
            {
                case '"': line.Append("\\\""); break;
                case '\\': line.Append("\\\\"); break;
                case < ' ': line.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture)); break;
                default: line.Append(c); break;
            }
        }

        line.Append('"');
    }

    /// <summary>An entry whose line carries its own peer (datagram sockets with no one peer).</summary>
    private sealed class PeerEntry
    {
        public PeerEntry(SocketTranscriptEntry entry) => Entry = entry;

        public SocketTranscriptEntry Entry { get; }
    }

    // ------------------------------------------------------------------ reading

    /// <summary>
    /// Reads a transcript file back, entry by entry, as it is read (a large file is never held
    /// whole). Lines that are not transcript lines (a line cut short by a crash, or anything
    /// else) are skipped and reported to <paramref name="skipped"/> with their line number.
    /// </summary>
    internal static IEnumerable<SocketTranscriptEntry> Read(string path, Action<int, string> skipped)
    {
        Dictionary<int, (Encoding Encoding, string? Local, string? Remote)> connections = new();
        using FileStream stream = new(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        using StreamReader reader = new(stream, TextEncodings.Utf8NoBom);
        string? text;
        int number = 0;
        while ((text = reader.ReadLine()) is not null)
        {
            number++;
            if (text.Trim().Length == 0)
            {
                continue;
            }

            Dictionary<string, object?>? fields = JsonText.TryParseFlatObject(text);
            if (fields is null || !TryGetLong(fields, "ConnectionId", out long id))
            {
                skipped(number, "it is not a JSON object with a ConnectionId");
                continue;
            }

            if (fields.ContainsKey("SockPSTranscript"))
            {
                Encoding encoding = TextEncodings.Utf8NoBom;
                if (TryGetLong(fields, "CodePage", out long codePage))
                {
                    try
                    {
                        encoding = TextEncodings.Get(codePage.ToString(CultureInfo.InvariantCulture));
                    }
                    catch (ArgumentException)
                    {
                        // A code page this runtime lacks: the bytes are still exact, the text falls back to UTF-8.
                    }
                }

                connections[(int)id] = (encoding, GetString(fields, "LocalEndPoint"), GetString(fields, "RemoteEndPoint"));
                continue;
            }

            SocketTranscriptEntry? entry = ParseEntry(fields, (int)id, connections);
            if (entry is null)
            {
                skipped(number, "it lacks Sequence, Timestamp, Direction or Data, or one of them is malformed");
                continue;
            }

            yield return entry;
        }
    }

    private static SocketTranscriptEntry? ParseEntry(Dictionary<string, object?> fields, int id,
        Dictionary<int, (Encoding Encoding, string? Local, string? Remote)> connections)
    {
        if (!TryGetLong(fields, "Sequence", out long sequence)
            || GetString(fields, "Timestamp") is not string stamp
            || !DateTime.TryParse(stamp, CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind, out DateTime timestamp)
            || GetString(fields, "Direction") is not string directionText
            || !Enum.TryParse(directionText, ignoreCase: true, out SocketTranscriptDirection direction)
            || GetString(fields, "Data") is not string base64)
        {
            return null;
        }

        byte[] data;
        try
        {
            data = Convert.FromBase64String(base64);
        }
        catch (FormatException)
        {
            return null;
        }

        if (timestamp.Kind == DateTimeKind.Utc)
        {
            timestamp = timestamp.ToLocalTime();
        }

        (Encoding encoding, string? local, string? remote) = connections.TryGetValue(id, out var known)
            ? known
            : (TextEncodings.Utf8NoBom, null, null);
        return new SocketTranscriptEntry(sequence, timestamp, direction, data, encoding, id, local,
            GetString(fields, "RemoteEndPoint") ?? remote, remote: null);
    }

    private static bool TryGetLong(Dictionary<string, object?> fields, string name, out long value)
    {
        if (fields.TryGetValue(name, out object? raw) && raw is double number && number == Math.Floor(number))
        {
            value = (long)number;
            return true;
        }

        value = 0;
        return false;
    }

    private static string? GetString(Dictionary<string, object?> fields, string name) =>
        fields.TryGetValue(name, out object? raw) ? raw as string : null;
}
