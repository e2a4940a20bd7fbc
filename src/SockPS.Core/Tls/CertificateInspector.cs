using System;
using System.Collections.Generic;
using System.IO;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Threading;
using System.Threading.Tasks;

namespace SockPS.Core;

/// <summary>Settings shared by the inspections of one <see cref="CertificateInspector"/>.</summary>
public sealed class CertificateInspectorOptions
{
    /// <summary>The default time one endpoint may take: connect, STARTTLS and handshake.</summary>
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(10);

    /// <summary>The checks the report makes (trust, pins, revocation) and what the handshake offers.</summary>
    public TlsClientOptions Tls { get; set; } = new();

    /// <summary>The name SMTP's EHLO gives. Default: this machine's host name.</summary>
    public string? ClientName { get; set; }

    /// <summary>Per endpoint, name lookup included; zero: no bound.</summary>
    public TimeSpan Timeout { get; set; } = DefaultTimeout;

    /// <summary>At most this many endpoints are inspected at once.</summary>
    public int ThrottleLimit { get; set; } = 32;

    /// <summary>Only addresses of this family, or null for any.</summary>
    public AddressFamily? AddressFamily { get; set; }
}

/// <summary>
/// Connects to TLS endpoints without trusting them and reports their certificates
/// (Get-SocketCertificate): many at once, each an asynchronous connect, optional STARTTLS
/// dialogue and handshake that accepts any certificate while recording what every check found.
/// Nothing but the handshake is sent (after a STARTTLS dialogue's commands), and the connection
/// is closed at once.
/// </summary>
public sealed class CertificateInspector
{
    private readonly CertificateInspectorOptions _options;
    private readonly SemaphoreSlim _slots;
    private readonly string _clientName;

    /// <summary>Creates an inspector; the options are read now.</summary>
    public CertificateInspector(CertificateInspectorOptions options)
    {
        if (options.ThrottleLimit < 1)
        {
            throw new SocketOperationException(SocketFailureKind.InvalidArgument, "The throttle limit must be at least 1.");
        }

        _options = options;
        _slots = new SemaphoreSlim(options.ThrottleLimit, options.ThrottleLimit);
        _clientName = options.ClientName ?? SafeHostName();
    }

    /// <summary>The port a protocol's certificate is usually checked on: 443, or the
    /// STARTTLS protocol's own (25, 143, 110, 21).</summary>
    public static int DefaultPort(StartTlsProtocol? startTls) => startTls is StartTlsProtocol protocol ? StartTlsDialogue.DefaultPort(protocol) : 443;

    /// <summary>Inspects one endpoint. Throws <see cref="SocketOperationException"/> when it
    /// cannot be reached, refuses STARTTLS or fails the handshake itself; a certificate that
    /// fails the checks is a result that says so, not an exception.</summary>
    /// <param name="computerName">A name or an IP address.</param>
    /// <param name="port">1-65535.</param>
    /// <param name="startTls">A STARTTLS dialogue to run before the handshake; null for TLS from the start.</param>
    /// <param name="cancellationToken">Stops the inspection (Ctrl+C).</param>
    public async Task<SocketCertificate> InspectAsync(string computerName, int port, StartTlsProtocol? startTls, CancellationToken cancellationToken)
    {
        string host = computerName.Trim();
        string where = EndPointText.Format(host, port);
        await _slots.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            TimeSpan timeout = _options.Timeout;
            using CancellationTokenSource? timer = timeout > TimeSpan.Zero ? new CancellationTokenSource(timeout) : null;
            using CancellationTokenSource linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timer?.Token ?? CancellationToken.None);
            bool TimerFired() => timer?.IsCancellationRequested == true && !cancellationToken.IsCancellationRequested;
            string stage = "looking up the name";
            Socket? socket = null;
            try
            {
                IReadOnlyList<IPAddress> addresses = await SocketConnector.ResolveAsync(host, _options.AddressFamily, linked.Token).ConfigureAwait(false);
                stage = "connecting";
                (socket, IPAddress address) = await ConnectAsync(host, addresses, port, linked.Token).ConfigureAwait(false);
                using NetworkStream network = new(socket, ownsSocket: false);
                // An abandoned read or handshake ends when the socket closes.
                using CancellationTokenRegistration abort = linked.Token.Register(() => socket.Dispose());
                if (startTls is StartTlsProtocol protocol)
                {
                    stage = "in the STARTTLS dialogue";
                    await StartTlsDialogue.RunAsync(network, protocol, where, _clientName, linked.Token).ConfigureAwait(false);
                }

                stage = "in the TLS handshake";
                TlsInspection inspection = await TlsHandshake.InspectAsClientAsync(network, _options.Tls, host, where, TimeSpan.Zero, linked.Token).ConfigureAwait(false);
                using SslStream ssl = inspection.Ssl;
                TlsDetails details = new(ssl);
                if (details.RemoteCertificate is null)
                {
                    throw new SocketOperationException(SocketFailureKind.TlsAuthentication, $"The server {where} presented no certificate.", where);
                }

                string serverName = string.IsNullOrEmpty(_options.Tls.ServerName) ? host : _options.Tls.ServerName!;
                return new SocketCertificate(host, port, address, serverName, startTls, details.RemoteCertificate, inspection.Verdict, details);
            }
            catch (Exception ex) when (TimerFired() && ex is OperationCanceledException or ObjectDisposedException or IOException or SocketException or SocketOperationException)
            {
                throw stage == "connecting" || stage == "looking up the name"
                    ? SocketConnector.TimedOut(where, timeout, stage == "connecting" ? null : stage)
                    : new SocketOperationException(SocketFailureKind.ConnectTimeout,
                        $"Connected to {where}, but it did not finish {(stage == "in the TLS handshake" ? "the TLS handshake" : "the STARTTLS dialogue")} within {EndPointText.Seconds(timeout)}. " +
                        (stage == "in the TLS handshake" ? "It may not speak TLS on this port, or it may start in plain text (STARTTLS)." : "Check the STARTTLS protocol and the port."),
                        where)
                    {
                        Setting = stage == "in the TLS handshake" ? SocketSetting.StartTls : SocketSetting.Timeout,
                        Timeout = timeout,
                    };
            }
            catch (IOException ex) when (stage == "in the STARTTLS dialogue")
            {
                throw SocketErrors.TransferFailed(ex, where, "the STARTTLS dialogue");
            }
            finally
            {
                if (socket is not null)
                {
                    try
                    {
                        socket.Shutdown(SocketShutdown.Both);
                    }
                    catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
                    {
                        // Already closed by the peer, the timer or Ctrl+C.
                    }

                    socket.Dispose();
                }
            }
        }
        finally
        {
            _slots.Release();
        }
    }

    /// <summary>Tries each address in the resolver's order until one connects, as Connect-Socket does.</summary>
    private static async Task<(Socket, IPAddress)> ConnectAsync(string host, IReadOnlyList<IPAddress> addresses, int port, CancellationToken token)
    {
        string where = EndPointText.Format(host, port);
        SocketOperationException? last = null;
        foreach (IPAddress address in addresses)
        {
            Socket socket = new(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
            try
            {
                await SocketConnector.ConnectOneAsync(socket, new IPEndPoint(address, port), token).ConfigureAwait(false);
                socket.NoDelay = true;
                return (socket, address);
            }
            catch (OperationCanceledException)
            {
                socket.Dispose();
                throw;
            }
            catch (Exception ex)
            {
                socket.Dispose();
                last = SocketErrors.ConnectFailed(ex, addresses.Count > 1 || !string.Equals(host, address.ToString(), StringComparison.OrdinalIgnoreCase)
                    ? $"{where} ({EndPointText.Format(address, port)})"
                    : where);
            }
        }

        throw last ?? new SocketOperationException(SocketFailureKind.HostNotFound, $"The host name '{host}' has no address to connect to.", where);
    }

    private static string SafeHostName()
    {
        try
        {
            string name = Dns.GetHostName();
            return string.IsNullOrWhiteSpace(name) ? "localhost" : name;
        }
        catch (SocketException)
        {
            return "localhost";
        }
    }
}
