using System;
using System.IO;
using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using System.Threading;
using System.Threading.Tasks;

namespace SockPS.Core;

// TLS on a connection: what the handshake agreed on, and the upgrade in place (STARTTLS), which
// the stream channel carries out as one more hand-over of the socket.
public sealed partial class SocketConnection
{
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

    /// <summary>The application protocol ALPN agreed on (h2, http/1.1); null without TLS, or when
    /// no -ApplicationProtocol was offered or the peer chose none.</summary>
    public string? NegotiatedApplicationProtocol => Volatile.Read(ref _tls)?.ApplicationProtocol;

    /// <summary>Upgrades a plain connection to TLS in place, as the client side (STARTTLS).</summary>
    internal Task UpgradeAsClientAsync(TlsClientOptions options, string host, TimeSpan timeout, CancellationToken cancellationToken) =>
        UpgradeAsync(inner => TlsHandshake.AuthenticateAsClientAsync(inner, options, host, PeerText, timeout, cancellationToken), asClient: true, cancellationToken);

    /// <summary>Upgrades a plain connection to TLS in place, as the server side.</summary>
    internal Task UpgradeAsServerAsync(TlsServerOptions options, CancellationToken cancellationToken) =>
        UpgradeAsync(inner => TlsHandshake.AuthenticateAsServerAsync(inner, options, PeerText, cancellationToken), asClient: false, cancellationToken);

    /// <summary>
    /// Hands the socket to the handshake: sends and receives wait, so no plain text slips out
    /// after the decision to encrypt. A client with unread plain text buffered stops before
    /// anything is sent (the text is most likely the server's answer it has not read yet), and
    /// the connection stays as it was. A failed handshake leaves the stream in an unknown state:
    /// the connection closes.
    /// </summary>
    private async Task UpgradeAsync(Func<Stream, Task<SslStream>> handshake, bool asClient, CancellationToken cancellationToken)
    {
        ThrowIfDisconnected();
        if (_websocket is not null)
        {
            throw new SocketOperationException(SocketFailureKind.InvalidArgument,
                $"{Describe()} is a WebSocket; TLS for it is chosen when connecting: use a wss:// URI.", PeerText);
        }

        if (_stream is null)
        {
            throw new SocketOperationException(SocketFailureKind.InvalidArgument,
                $"{Describe()} is a datagram socket; TLS runs over stream sockets (TCP or Unix stream).", PeerText);
        }

        if (IsTls)
        {
            throw new SocketOperationException(SocketFailureKind.InvalidArgument, $"{Describe()} already uses TLS.", PeerText);
        }

        if (State != SocketState.Open)
        {
            throw new SocketOperationException(SocketFailureKind.Closed,
                $"{Describe()} is {State}; only an open connection can switch to TLS.", PeerText);
        }

        SslStream? ssl = null;
        int handedToHandshake;
        try
        {
            handedToHandshake = await _stream.UpgradeAsync(async inner => ssl = await handshake(inner).ConfigureAwait(false), asClient, UnreadPlainText, cancellationToken)
                .ConfigureAwait(false);
        }
        catch (Exception ex) when (ssl is null && ex is not UnreadPlainTextException)
        {
            Close(ex is OperationCanceledException ? "The TLS upgrade was stopped." : "The TLS upgrade failed.");
            throw;
        }
        catch (UnreadPlainTextException unread)
        {
            throw unread.Error;
        }

        // Bytes the loop had read but nobody received went to the handshake: TLS records, not data.
        Interlocked.Add(ref _bytesReceived, -handedToHandshake);
        Volatile.Write(ref _tls, new TlsDetails(ssl!));
    }

    /// <summary>The error for a client upgrade with plain text still unread: what it is, shown.</summary>
    private Exception UnreadPlainText(byte[] unread)
    {
        string text = new TextCodec(Encoding).Decode(unread, 0, Math.Min(unread.Length, 200), flush: true);
        string shown = EndPointText.Escape(text) + (unread.Length > 200 ? "..." : string.Empty);
        return new UnreadPlainTextException(new SocketOperationException(SocketFailureKind.UnreadData,
            $"{unread.Length} bytes of plain text from {PeerText} are still unread: \"{shown}\". Nothing was sent and the connection is unchanged. " +
            "Read the server's answer to the STARTTLS command first, then switch to TLS.", PeerText)
        {
            Setting = SocketSetting.UnreadData,
        });
    }

    /// <summary>Carries the unread-text error out of the channel without the close that a failed
    /// handshake causes.</summary>
    private sealed class UnreadPlainTextException : Exception
    {
        public UnreadPlainTextException(SocketOperationException error)
            : base(error.Message) => Error = error;

        public SocketOperationException Error { get; }
    }
}
