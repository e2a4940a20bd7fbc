using System.IO;
using System.Threading;
using System.Threading.Tasks;

namespace SockPS.Core;

/// <summary>The one place for reads that fill a buffer. PowerShell 7.4+ (.NET 8) has
/// Stream.ReadAtLeastAsync; Windows PowerShell 5.1 loops over ReadAsync, with the same result.</summary>
internal static class StreamReads
{
    /// <summary>Reads until <paramref name="buffer"/> is full or the stream ends; returns the
    /// bytes read (fewer than the buffer's length only at the end of the stream).</summary>
    public static async Task<int> ReadFullAsync(Stream stream, byte[] buffer, CancellationToken cancellationToken)
    {
#if NET8_0_OR_GREATER
        return await stream.ReadAtLeastAsync(buffer, buffer.Length, throwOnEndOfStream: false, cancellationToken).ConfigureAwait(false);
#else
        int read = 0;
        while (read < buffer.Length)
        {
            int n = await stream.ReadAsync(buffer, read, buffer.Length - read, cancellationToken).ConfigureAwait(false);
            if (n == 0)
            {
                break;
            }

            read += n;
        }

        return read;
#endif
    }
}
