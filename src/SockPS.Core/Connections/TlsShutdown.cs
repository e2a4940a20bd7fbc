using System;
using System.IO;
using System.Net.Security;
using System.Threading.Tasks;

namespace SockPS.Core;

/// <summary>TLS close_notify before a half-close or close, so the peer knows the stream ended on
/// purpose (OpenSSL otherwise reports a truncated stream). Where the build cannot send it
/// (Windows PowerShell 5.1), see TlsFeatures.</summary>
internal static class TlsShutdown
{
    public static void TrySendCloseNotify(Stream stream)
    {
        if (stream is not SslStream ssl)
        {
            return;
        }

        try
        {
            // Bounded: a peer that stopped reading must not make closing hang.
            if (TlsFeatures.ShutdownAsync(ssl) is Task alert && !alert.Wait(TimeSpan.FromSeconds(1)))
            {
                _ = alert.ContinueWith(t => _ = t.Exception, TaskScheduler.Default);
            }
        }
        catch (Exception)
        {
            // Best effort, whatever the TLS library says (OpenSSL's "shutdown while in init"
            // arrives as a CryptographicException, and once failed Disconnect-Socket and left a
            // closed connection listed): the half-close or close that follows still ends the
            // stream.
        }
    }
}
