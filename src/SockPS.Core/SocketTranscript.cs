using System;
using System.Buffers;
using System.Collections.Generic;
using System.Net;
using System.Text;
using System.Threading;

namespace SockPS.Core;

/// <summary>Which way the bytes of a transcript entry went.</summary>
public enum SocketTranscriptDirection
{
    /// <summary>Written to the socket by this side.</summary>
    Sent,

    /// <summary>Read from the socket: what the peer sent.</summary>
    Received,
}

/// <summary>
/// One send or one network read of a recorded connection (one datagram on a datagram socket):
/// when, which way, and the exact bytes. Entries come from Get-SocketTranscript; the property
/// order is the column order of Export-Csv, with the raw bytes last.
/// </summary>
public sealed class SocketTranscriptEntry
{
    private readonly Encoding _encoding;
    private readonly EndPoint? _remote;
    private readonly byte[] _buffer;
    private readonly int _length;
    private string? _remoteText;
    private string? _text;
    private string? _base64;

    // For an entry kept inside a transcript: how many keep it (memory, and the file's writer
    // until it is written); the last one gives the pooled buffer back. Entries handed out are
    // copies with their own exact array, so a pooled buffer never escapes.
    private int _holders;

    internal SocketTranscriptEntry(long sequence, DateTime timestamp, SocketTranscriptDirection direction, byte[] data, Encoding encoding,
        int connectionId, string? localEndPoint, string? remoteText, EndPoint? remote)
        : this(sequence, timestamp, direction, data, data.Length, encoding, connectionId, localEndPoint, remoteText, remote, holders: 0)
    {
    }

    private SocketTranscriptEntry(long sequence, DateTime timestamp, SocketTranscriptDirection direction, byte[] buffer, int length, Encoding encoding,
        int connectionId, string? localEndPoint, string? remoteText, EndPoint? remote, int holders)
    {
        Sequence = sequence;
        Timestamp = timestamp;
        Kind = direction;
        _buffer = buffer;
        _length = length;
        _encoding = encoding;
        ConnectionId = connectionId;
        LocalEndPoint = localEndPoint;
        _remoteText = remoteText;
        _remote = remote;
        _holders = holders;
    }

    /// <summary>An entry whose bytes are copied into a buffer from the shared pool (no
    /// allocation per entry once the pool is warm), held by <paramref name="holders"/>.</summary>
    internal static SocketTranscriptEntry Pooled(long sequence, DateTime timestamp, SocketTranscriptDirection direction, byte[] source, int offset, int count,
        Encoding encoding, int connectionId, string? localEndPoint, string? remoteText, EndPoint? remote, int holders)
    {
        byte[] buffer = count == 0 ? s_empty : ArrayPool<byte>.Shared.Rent(count);
        System.Buffer.BlockCopy(source, offset, buffer, 0, count);
        return new SocketTranscriptEntry(sequence, timestamp, direction, buffer, count, encoding, connectionId, localEndPoint, remoteText, remote, holders);
    }

    private static readonly byte[] s_empty = new byte[0];

    /// <summary>The bytes, in a buffer that may be longer than <see cref="Length"/> while the
    /// entry is held inside a transcript.</summary>
    internal byte[] Buffer => _buffer;

    /// <summary>A copy with its own exact array, to hand out.</summary>
    internal SocketTranscriptEntry CopyOut()
    {
        byte[] data = new byte[_length];
        System.Buffer.BlockCopy(_buffer, 0, data, 0, _length);
        return new SocketTranscriptEntry(Sequence, Timestamp, Kind, data, _length, _encoding, ConnectionId, LocalEndPoint, _remoteText, _remote, holders: 0);
    }

    /// <summary>One holder lets go; the last returns the pooled buffer.</summary>
    internal void Release()
    {
        if (Interlocked.Decrement(ref _holders) == 0 && _buffer.Length > 0)
        {
            ArrayPool<byte>.Shared.Return(_buffer);
        }
    }

    /// <summary>The entry's number in its transcript, from 1, in the order sends and reads happened.</summary>
    public long Sequence { get; }

    /// <summary>When the bytes were handed to the socket (Sent) or read from it (Received), local time.</summary>
    public DateTime Timestamp { get; }

    /// <summary>Sent or Received. A string rather than the enum, so ConvertTo-Json and Export-Csv
    /// write the word, not a number.</summary>
    public string Direction => Kind == SocketTranscriptDirection.Sent ? "Sent" : "Received";

    /// <summary>The direction as the enum, for code.</summary>
    internal SocketTranscriptDirection Kind { get; }

    /// <summary>The number of bytes.</summary>
    public int Length => _length;

    /// <summary>The bytes decoded with the connection's encoding at the time. Each entry is decoded
    /// on its own, so a character split between two reads shows as U+FFFD in both.</summary>
    public string Text => _text ??= _encoding.GetString(_buffer, 0, _length);

    /// <summary>The bytes as Base64, for CSV and other text-only formats:
    /// [Convert]::FromBase64String($entry.Base64) gives them back.</summary>
    public string Base64 => _base64 ??= Convert.ToBase64String(_buffer, 0, _length);

    /// <summary>The Id of the connection the bytes went over.</summary>
    public int ConnectionId { get; }

    /// <summary>This side's address, as text.</summary>
    public string? LocalEndPoint { get; }

    /// <summary>The peer's address, as text; on a datagram socket with no one peer, the sender
    /// or the recipient of this datagram.</summary>
    public string? RemoteEndPoint => _remoteText ??= _remote is null ? null : EndPointText.Format(_remote);

    /// <summary>The computer that recorded the entry, so one that comes back from
    /// Invoke-Command or a job says where it was made.</summary>
    public string MachineName => SocketOrigin.MachineName;

    /// <summary><see cref="Text"/> on one line, as the table shows it: CR, LF and tab as \r \n
    /// \t, other control characters as dots.</summary>
    public string EscapedText => SocketOrigin.Escape(Text)!;

    /// <summary>The exact bytes. Pipe them to Format-Hex: $entry.Data | Format-Hex.</summary>
    public byte[] Data => _buffer;

    /// <summary>The text, as a string conversion gives it.</summary>
    public override string ToString() => Text;
}

/// <summary>
/// The record of every send and receive on one connection, kept in memory (bounded: the newest
/// <see cref="MaxEntries"/> entries and at most <see cref="MaxBytes"/> bytes of data; older
/// ones are dropped and counted) and, when a path was given, appended in full to a file as JSON
/// lines by a background writer, so sends and receives do not wait for the disk.
/// </summary>
public sealed class SocketTranscript
{
    /// <summary>Entries kept in memory by default.</summary>
    public const int DefaultMaxEntries = 10_000;

    /// <summary>Bytes of data kept in memory by default (16 MiB).</summary>
    public const long DefaultMaxBytes = 16L * 1024 * 1024;

    private readonly object _gate = new();
    private readonly Queue<SocketTranscriptEntry> _entries = new();
    private readonly SocketTranscriptFile? _file;
    private readonly int _connectionId;
    private readonly string? _localText;
    private readonly string? _remoteText;
    private readonly bool _perDatagramPeer;
    private long _keptBytes;
    private long _sequence;
    private long _dropped;
    private long _bytesSent;
    private long _bytesReceived;
    private int _recording = 1;
    private DateTime? _stoppedAt;

    private SocketTranscript(SocketConnection connection, SocketTranscriptFile? file)
    {
        _file = file;
        _connectionId = connection.Id;
        _localText = EndPointText.Format(connection.LocalEndPoint);
        _perDatagramPeer = connection.IsDatagram && connection.RemoteEndPoint is null;
        _remoteText = connection.RemoteEndPoint is null ? null : EndPointText.Format(connection.RemoteEndPoint);
        Path = file?.Path;
        StartedAt = DateTime.Now;
    }

    /// <summary>Starts recording; with a path, opens (or joins) the file and writes a header line.</summary>
    internal static SocketTranscript Start(SocketConnection connection, string? path)
    {
        SocketTranscriptFile? file = path is null ? null : SocketTranscriptFile.Acquire(path);
        SocketTranscript transcript = new(connection, file);
        file?.WriteHeader(connection, transcript.StartedAt);
        return transcript;
    }

    /// <summary>The file every entry is appended to; null when the transcript is kept in memory only.</summary>
    public string? Path { get; }

    /// <summary>True until Stop-SocketTranscript, or until the connection closes.</summary>
    public bool IsRecording => Volatile.Read(ref _recording) == 1;

    /// <summary>When recording started (local time).</summary>
    public DateTime StartedAt { get; }

    /// <summary>When recording stopped; null while it goes on.</summary>
    public DateTime? StoppedAt
    {
        get
        {
            lock (_gate)
            {
                return _stoppedAt;
            }
        }
    }

    /// <summary>Entries recorded so far (kept in memory or not).</summary>
    public long EntryCount => Interlocked.Read(ref _sequence);

    /// <summary>Entries no longer kept in memory because of <see cref="MaxEntries"/> or
    /// <see cref="MaxBytes"/>. A file transcript still holds them.</summary>
    public long DroppedCount => Interlocked.Read(ref _dropped);

    /// <summary>Bytes recorded as sent.</summary>
    public long BytesSent => Interlocked.Read(ref _bytesSent);

    /// <summary>Bytes recorded as received.</summary>
    public long BytesReceived => Interlocked.Read(ref _bytesReceived);

    /// <summary>The most entries kept in memory.</summary>
    public int MaxEntries { get; } = DefaultMaxEntries;

    /// <summary>The most bytes of data kept in memory; the newest entry is kept even when larger.</summary>
    public long MaxBytes { get; } = DefaultMaxBytes;

    /// <summary>Why the file stopped being written (disk full, access lost); null while all is well.</summary>
    public string? FileError => _file?.Error;

    /// <summary>The file being written, for fault-injection tests.</summary>
    internal SocketTranscriptFile? File => _file;

    /// <summary>
    /// Records bytes that were just handed to the socket or read from it. Copies them (into a
    /// pooled buffer): the caller's buffer is pooled or reused. The sequence number and the queueing for the file
    /// are taken under one lock, so memory and file agree on the order.
    /// </summary>
    internal void Record(SocketTranscriptDirection direction, byte[] buffer, int offset, int count, Encoding encoding, EndPoint? remote = null)
    {
        if (Volatile.Read(ref _recording) == 0)
        {
            return;
        }

        EndPoint? entryPeer = _perDatagramPeer ? remote : null;
        long queuedBytes = 0;
        lock (_gate)
        {
            if (_recording == 0)
            {
                return;
            }

            SocketTranscriptEntry entry = SocketTranscriptEntry.Pooled(_sequence + 1, DateTime.Now, direction, buffer, offset, count, encoding, _connectionId,
                _localText, _perDatagramPeer ? null : _remoteText, entryPeer, holders: _file is null ? 1 : 2);
            Interlocked.Increment(ref _sequence);
            _entries.Enqueue(entry);
            _keptBytes += count;
            while (_entries.Count > MaxEntries || (_keptBytes > MaxBytes && _entries.Count > 1))
            {
                SocketTranscriptEntry dropped = _entries.Dequeue();
                _keptBytes -= dropped.Length;
                dropped.Release();
                Interlocked.Increment(ref _dropped);
            }

            if (_file is not null)
            {
                queuedBytes = _file.Enqueue(entry, _perDatagramPeer);
            }
        }

        Interlocked.Add(ref direction == SocketTranscriptDirection.Sent ? ref _bytesSent : ref _bytesReceived, count);

        // Outside the lock: when the disk falls far behind, the connection waits for it rather
        // than memory growing without bound.
        if (queuedBytes > SocketTranscriptFile.MaxQueuedBytes)
        {
            _file!.WaitForRoom();
        }
    }

    /// <summary>Copies of the entries kept in memory, oldest first.</summary>
    internal SocketTranscriptEntry[] Snapshot()
    {
        lock (_gate)
        {
            SocketTranscriptEntry[] copies = new SocketTranscriptEntry[_entries.Count];
            int i = 0;
            foreach (SocketTranscriptEntry entry in _entries)
            {
                copies[i++] = entry.CopyOut();
            }

            return copies;
        }
    }

    /// <summary>Stops recording and, for a file transcript, waits up to <paramref name="wait"/>
    /// for the queued lines to reach the file. Safe to call more than once.</summary>
    internal void Stop(TimeSpan wait)
    {
        lock (_gate)
        {
            if (_recording == 0)
            {
                return;
            }

            Volatile.Write(ref _recording, 0);
            _stoppedAt = DateTime.Now;
        }

        _file?.Release(wait);
    }

    /// <summary>Waits until every entry recorded so far is in the file (for reading it back).</summary>
    internal void Flush(TimeSpan wait) => _file?.Flush(wait);

    /// <summary>"memory, 12 entries" or "/tmp/t.jsonl, 12 entries".</summary>
    public override string ToString() => $"{Path ?? "memory"}, {EntryCount} entries{(IsRecording ? string.Empty : " (stopped)")}";
}
