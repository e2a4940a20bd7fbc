using System.Threading;

namespace SockPS.Core;

/// <summary>How far a bulk transfer has got. The core updates it from whatever thread does the
/// copy; the cmdlet reads it on the pipeline thread to write progress.</summary>
public sealed class TransferProgress
{
    private long _bytes;

    /// <summary>Bytes moved so far.</summary>
    public long Bytes => Interlocked.Read(ref _bytes);

    /// <summary>Bytes expected in all, when known.</summary>
    public long? Total { get; internal set; }

    internal void Add(long bytes) => Interlocked.Add(ref _bytes, bytes);
}
