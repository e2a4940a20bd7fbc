using System;
using System.Buffers;
using System.IO;
using System.IO.Pipelines;
using System.Net.Security;
using System.Reflection;
using System.Security.Cryptography.X509Certificates;
using System.Threading;
using System.Threading.Tasks;

namespace SockPS.Core;

// The TLS half of SocketConnection: what the handshake agreed on, and the upgrade in place
// (STARTTLS) that swaps the stream under a running connection.
public sealed partial class SocketConnection
{
    private static readonly Lazy<MethodInfo?> s_shutdownAsync = new(() => typeof(SslStream).GetMethod("ShutdownAsync", Type.EmptyTypes));

    private TlsDetails? _tls;

    /// <summary>True when the connection is encrypted with TLS.</summary>
    public bool IsTls => Volatile.Read(ref _tls) is not null;

    /// <summary>The TLS version in use (Tls12, Tls13); null without TLS.</summary>
    public string? TlsProtocol => Volatile.Read(ref _tls)?.Protocol;

    /// <summary>The negotiated cipher suite (on Windows PowerShell 5.1: the cipher, hash and key
    /// exchange algorithms, which is all .NET Framework tells); null without TLS.</summary>
    public string? CipherSuite => Volatile.Read(ref _tls)?.CipherSuite;

    /// <summary>The certificate the peer presented; null without TLS or when it presented none.</summary>
    public X509Certificate2? RemoteCertificate => Volatile.Read(ref _tls)?.RemoteCertificate;

    /// <summary>Upgrades a plain connection to TLS in place, as the client side (STARTTLS).</summary>
    internal Task UpgradeAsClientAsync(TlsClientOptions options, string host, TimeSpan timeout, CancellationToken cancellationToken) =>
        UpgradeAsync(inner => TlsHandshake.AuthenticateAsClientAsync(inner, options, host, PeerText, timeout, cancellationToken), cancellationToken);

    /// <summary>Upgrades a plain connection to TLS in place, as the server side.</summary>
    internal Task UpgradeAsServerAsync(TlsServerOptions options, CancellationToken cancellationToken) =>
        UpgradeAsync(inner => TlsHandshake.AuthenticateAsServerAsync(inner, options, PeerText, cancellationToken), cancellationToken);

    /// <summary>
    /// Stops the receive loop, takes the bytes it had read but nobody had received, and runs the
    /// handshake over those bytes followed by the socket, so nothing already read is lost or read
    /// twice. Sends and receives wait meanwhile, so no plain text slips out after the decision to
    /// encrypt. A failed handshake leaves the stream in an unknown state: the connection closes.
    /// </summary>
    private async Task UpgradeAsync(Func<Stream, Task<SslStream>> handshake, CancellationToken cancellationToken)
    {
        ThrowIfDisconnected();
        if (IsDatagram)
        {
            throw new SocketOperationException(SocketFailureKind.InvalidArgument,
                $"{Describe()} is a datagram socket; TLS runs over stream sockets (TCP or Unix stream).", PeerText);
        }

        if (IsTls)
        {
            throw new SocketOperationException(SocketFailureKind.InvalidArgument, $"{Describe()} already uses TLS.", PeerText);
        }

        await _sendLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        bool readLockHeld = false;
        try
        {
            await _readLock.WaitAsync(cancellationToken).ConfigureAwait(false);
            readLockHeld = true;
            Unpark(fromTimer: false);
            if (State != SocketState.Open)
            {
                throw new SocketOperationException(SocketFailureKind.Closed,
                    $"{Describe()} is {State}; only an open connection can switch to TLS.", PeerText);
            }

            await PauseStreamReceivingAsync().ConfigureAwait(false);
            byte[] unread = TakeUnreadBytes();
            Stream inner = unread.Length > 0 ? new PrefixedStream(unread, _networkStream!) : _networkStream!;
            SslStream ssl;
            try
            {
                ssl = await handshake(inner).ConfigureAwait(false);
            }
            catch (Exception ex)
            {
                Close(ex is OperationCanceledException ? "The TLS upgrade was stopped." : "The TLS upgrade failed.");
                throw;
            }

            _stream = ssl;
            Volatile.Write(ref _tls, new TlsDetails(ssl));
            StartStreamReceiving();
        }
        finally
        {
            if (readLockHeld)
            {
                _readLock.Release();
            }

            _sendLock.Release();
        }
    }

    /// <summary>Everything in the pipe nobody received. These bytes go to the handshake, so they
    /// no longer count as plain data received.</summary>
    private byte[] TakeUnreadBytes()
    {
        PipeReader reader = _pipe!.Reader;
        if (!reader.TryRead(out ReadResult result))
        {
            return new byte[0];
        }

        byte[] unread = result.Buffer.ToArray();
        reader.AdvanceTo(result.Buffer.End);
        Interlocked.Add(ref _bytesReceived, -unread.Length);
        return unread;
    }

    /// <summary>Sends TLS close_notify before a half-close, so the peer knows the stream ended
    /// on purpose. SslStream.ShutdownAsync is not in netstandard2.0; it is looked up at run time.</summary>
    private void SendCloseNotify()
    {
        if (_stream is SslStream ssl && s_shutdownAsync.Value is MethodInfo shutdown)
        {
            try
            {
                // Bounded: a peer that stopped reading must not make closing hang.
                Task alert = (Task)shutdown.Invoke(ssl, null)!;
                if (alert.Wait(TimeSpan.FromSeconds(1)))
                {
                    return;
                }

                _ = alert.ContinueWith(t => _ = t.Exception, TaskScheduler.Default);
            }
            catch (Exception ex) when (ex is IOException or ObjectDisposedException or InvalidOperationException or AggregateException or TargetInvocationException)
            {
                // The half-close or close that follows still ends the stream.
            }
        }
    }
}
