using System;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using SockPS.Tests.Shared;
using Xunit;

namespace SockPS.Core.Tests;

public class TlsTests
{
    private static TestCertificates Certs => TestCertificates.Shared;

    private static SocketServer StartTlsServer(X509Certificate2 certificate, Action<TlsServerOptions>? configure = null)
    {
        TlsServerOptions tls = new(certificate);
        configure?.Invoke(tls);
        return SocketServer.Start(new IPEndPoint(IPAddress.Loopback, 0), 16, Loopback.Options(), tls: tls);
    }

    private static TlsClientOptions TrustingTestCa(Action<TlsClientOptions>? configure = null)
    {
        TlsClientOptions options = new();
        options.TrustedCertificates.Add(Certs.CaPublic);
        configure?.Invoke(options);
        return options;
    }

    private static Task<SocketConnection> ConnectTls(string host, int port, TlsClientOptions tls)
    {
        ConnectionOptions options = Loopback.Options();
        options.Tls = tls;
        return SocketConnector.ConnectTcpAsync(host, port, options, Loopback.Wait, null, CancellationToken.None).WaitAsync(Loopback.Wait);
    }

    [Fact]
    public async Task AConversationOverTlsWithAPrivateCaShowsItsDetails()
    {
        using SocketServer server = StartTlsServer(Certs.Server);
        using SocketConnection client = await ConnectTls("localhost", server.Port, TrustingTestCa());
        using SocketConnection accepted = server.Accept(Loopback.Wait);

        client.SendLine("secret");
        Assert.Equal("secret", accepted.ReceiveLine());
        accepted.SendLine("also secret");
        Assert.Equal("also secret", client.ReceiveLine());

        Assert.True(client.IsTls);
        Assert.True(accepted.IsTls);
        Assert.Equal("Tls13", client.TlsProtocol);
        Assert.Equal("TLS_AES_256_GCM_SHA384", client.CipherSuite);
        Assert.Equal(Certs.Server.Thumbprint, client.RemoteCertificate!.Thumbprint);
        Assert.Null(accepted.RemoteCertificate);
        Assert.True(server.IsTls);
    }

    [Fact]
    public async Task ClosingBothEndsAtOnceWhileRecordsArriveNeitherHangsNorCrashes()
    {
        // Each side closes (close_notify) while its loop decrypts what the other sent and its
        // own close_notify: OpenSSL must never see two threads on one connection (TlsStream's
        // gate), and the gate must never hold a close up for long.
        using SocketServer server = StartTlsServer(Certs.Server);
        byte[] block = new byte[64 * 1024];
        for (int round = 0; round < 60; round++)
        {
            SocketConnection client = await ConnectTls("localhost", server.Port, TrustingTestCa());
            SocketConnection accepted = server.Accept(Loopback.Wait);
            static void SendThenClose(SocketConnection connection, byte[] data)
            {
                try
                {
                    connection.Send(data);
                }
                catch (SocketOperationException)
                {
                    // The other side may be gone already; closing is what is tested.
                }

                connection.Close();
            }

            await Task.WhenAll(Task.Run(() => SendThenClose(client, block)), Task.Run(() => SendThenClose(accepted, block))).WaitAsync(Loopback.Wait);
            Assert.Equal(SocketState.Disconnected, client.State);
            Assert.Equal(SocketState.Disconnected, accepted.State);
        }
    }

    [Fact]
    public async Task ThePeerSeesTheEndWhenAConnectionWhoseLoopReadsIsClosedHere()
    {
        // The gate must not hold a close up: the peer sees the end of the stream. (.NET reports a
        // truncated TLS stream as an end too; that close_notify is really sent is proved against
        // Python's ssl in Tls.Tests.ps1.)
        using SocketServer server = StartTlsServer(Certs.Server);
        using SocketConnection client = await ConnectTls("localhost", server.Port, TrustingTestCa());
        using SocketConnection accepted = server.Accept(Loopback.Wait);
        client.SendLine("before");
        Assert.Equal("before", accepted.ReceiveLine());
        accepted.Close();
        Assert.Null(client.ReceiveLine());
        Assert.Equal("The remote host closed the connection.", client.CloseReason);
    }

    [Fact]
    public async Task AnUntrustedChainIsRefusedInPlainWords()
    {
        using SocketServer server = StartTlsServer(Certs.Server);
        var ex = await Assert.ThrowsAsync<SocketOperationException>(() => ConnectTls("localhost", server.Port, new TlsClientOptions()));
        Assert.Equal(SocketFailureKind.TlsAuthentication, ex.Kind);
        Assert.Contains("is issued by SockPS Test CA, which this machine does not trust", ex.Message);
        Assert.Equal(SocketSetting.CaCertificateOrSkipCheck, ex.Setting);
    }

    [Fact]
    public async Task AFailedServerHandshakeIsCountedNeverHandedOutAndTheServerGoesOn()
    {
        using SocketServer server = StartTlsServer(Certs.Server);
        using (Socket plain = new(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp))
        {
            await plain.ConnectAsync(IPAddress.Loopback, server.Port).WaitAsync(Loopback.Wait);
            plain.Send(Encoding.ASCII.GetBytes("GET / HTTP/1.0\r\n\r\n"));
            Loopback.Until(() => server.TlsFailureCount == 1, "the server counts the failed handshake");
        }

        Assert.Contains("TLS handshake", server.LastTlsError);
        Assert.Equal(ServerState.Listening, server.State);
        Assert.Equal(0, server.PendingCount);
        Assert.Equal(0, server.ConnectionCount);

        using SocketConnection good = await ConnectTls("localhost", server.Port, TrustingTestCa());
        using SocketConnection accepted = server.Accept(Loopback.Wait);
        Assert.Equal(good.LocalEndPoint, accepted.RemoteEndPoint);
        Assert.True(accepted.IsTls);
    }

    [Fact]
    public async Task ANameMismatchSaysWhoTheCertificateIsFor()
    {
        using SocketServer server = StartTlsServer(Certs.WrongName);
        var ex = await Assert.ThrowsAsync<SocketOperationException>(() => ConnectTls("localhost", server.Port, TrustingTestCa()));
        Assert.Equal(SocketFailureKind.TlsAuthentication, ex.Kind);
        Assert.Contains($"The certificate presented by localhost:{server.Port} is issued to elsewhere.example, not localhost.", ex.Message);
    }

    [Fact]
    public async Task AnExpiredCertificateSaysWhenItExpired()
    {
        using SocketServer server = StartTlsServer(Certs.Expired);
        var ex = await Assert.ThrowsAsync<SocketOperationException>(() => ConnectTls("localhost", server.Port, TrustingTestCa()));
        Assert.Equal(SocketFailureKind.TlsAuthentication, ex.Kind);
        Assert.Contains($"expired on {Certs.Expired.NotAfter.ToUniversalTime():yyyy-MM-dd}", ex.Message);
    }

    [Fact]
    public async Task ServerNameIsWhatSniAndTheNameCheckUse()
    {
        using SocketServer server = StartTlsServer(Certs.ServiceName);
        var mismatch = await Assert.ThrowsAsync<SocketOperationException>(() => ConnectTls("127.0.0.1", server.Port, TrustingTestCa()));
        Assert.Contains("is issued to service.test, not 127.0.0.1", mismatch.Message);

        using SocketConnection client = await ConnectTls("127.0.0.1", server.Port, TrustingTestCa(o => o.ServerName = "service.test"));
        Assert.True(client.IsTls);
    }

    [Fact]
    public async Task SkipCertificateCheckAcceptsAnything()
    {
        using SocketServer server = StartTlsServer(Certs.SelfSigned);
        using SocketConnection client = await ConnectTls("127.0.0.1", server.Port, new TlsClientOptions { SkipCertificateCheck = true });
        using SocketConnection accepted = server.Accept(Loopback.Wait);
        client.Send("ok");
        Assert.Equal("ok", accepted.ReceiveAvailable());
    }

    [Fact]
    public async Task MutualTlsHandsTheClientCertificateToTheServerAndRefusesClientsWithout()
    {
        using SocketServer server = StartTlsServer(Certs.Server, o =>
        {
            o.RequireClientCertificate = true;
            o.TrustedCertificates.Add(Certs.CaPublic);
        });

        using (SocketConnection client = await ConnectTls("localhost", server.Port, TrustingTestCa(o => o.ClientCertificate = Certs.Client)))
        using (SocketConnection accepted = server.Accept(Loopback.Wait))
        {
            Assert.Equal(Certs.Client.Thumbprint, accepted.RemoteCertificate!.Thumbprint);
            client.SendLine("mutual");
            Assert.Equal("mutual", accepted.ReceiveLine());
        }

        // Without a certificate: in TLS 1.3 the client's side of the handshake ends before the
        // server checks it, so the client learns of the refusal when it next reads (an alert or
        // the end of the stream). Either way nothing is handed out, and the server counts it.
        try
        {
            using SocketConnection anonymous = await ConnectTls("localhost", server.Port, TrustingTestCa());
            try
            {
                Assert.Null(anonymous.ReceiveLine());
            }
            catch (SocketOperationException)
            {
                // the server's alert
            }
        }
        catch (SocketOperationException ex)
        {
            Assert.Equal(SocketFailureKind.TlsAuthentication, ex.Kind);
        }

        Loopback.Until(() => server.TlsFailureCount == 1, "the server counts the refused client");
        Assert.Contains("presented no certificate", server.LastTlsError);
        Assert.Equal(0, server.PendingCount);
    }

    [Fact]
    public async Task StartTlsUpgradesInPlaceWithoutLosingBytesReadAhead()
    {
        var (client, accepted, server) = await Loopback.CreateConnectedPair(Loopback.Options());
        using (server)
        using (client)
        using (accepted)
        {
            client.SendLine("STARTTLS");
            Assert.Equal("STARTTLS", accepted.ReceiveLine());
            accepted.SendLine("220 Ready to start TLS");
            Assert.Equal("220 Ready to start TLS", client.ReceiveLine());

            // The client starts its handshake at once; the server's receive loop reads the
            // ClientHello before the server script gets round to upgrading.
            Task upgradeClient = client.UpgradeAsClientAsync(TrustingTestCa(), "localhost", Loopback.Wait, CancellationToken.None);
            Loopback.Until(() => accepted.Available > 0, "the ClientHello is buffered on the server side");
            await accepted.UpgradeAsServerAsync(new TlsServerOptions(Certs.Server), CancellationToken.None).WaitAsync(Loopback.Wait);
            await upgradeClient.WaitAsync(Loopback.Wait);

            Assert.True(client.IsTls && accepted.IsTls);
            client.SendLine("EHLO over TLS");
            Assert.Equal("EHLO over TLS", accepted.ReceiveLine());
            accepted.SendLine("250 ok");
            Assert.Equal("250 ok", client.ReceiveLine());
        }
    }

    [Fact]
    public async Task AFailedUpgradeClosesTheConnectionWithAReason()
    {
        var (client, accepted, server) = await Loopback.CreateConnectedPair(Loopback.Options());
        using (server)
        using (accepted)
        {
            Task serverSide = accepted.UpgradeAsServerAsync(new TlsServerOptions(Certs.WrongName), CancellationToken.None);
            var ex = await Assert.ThrowsAsync<SocketOperationException>(() =>
                client.UpgradeAsClientAsync(TrustingTestCa(), "localhost", Loopback.Wait, CancellationToken.None).WaitAsync(Loopback.Wait));
            Assert.Equal(SocketFailureKind.TlsAuthentication, ex.Kind);
            Assert.Equal(SocketState.Disconnected, client.State);
            Assert.Equal("The TLS upgrade failed.", client.CloseReason);
            try
            {
                // In TLS 1.3 the server's side may finish before the client refuses.
                await serverSide.WaitAsync(Loopback.Wait);
                Assert.Null(accepted.ReceiveLine());
            }
            catch (SocketOperationException)
            {
            }
        }
    }

    [Fact]
    public async Task AServerCertificateWithoutAPrivateKeyIsRefusedAtStart()
    {
        var ex = Assert.Throws<SocketOperationException>(() => StartTlsServer(Certs.CaPublic));
        Assert.Equal(SocketFailureKind.InvalidArgument, ex.Kind);
        Assert.Contains("no private key", ex.Message);
        await Task.CompletedTask;
    }

    [Fact]
    public async Task APeerThatDoesNotSpeakTlsFailsTheHandshakeClearly()
    {
        var (peer, connection, server) = await Loopback.CreateRawPeer(Loopback.Options());
        using (server)
        using (connection)
        {
            Task<SocketConnection> connect = ConnectTls("127.0.0.1", server.Port, TrustingTestCa());
            using SocketConnection plain = server.Accept(Loopback.Wait);
            Loopback.Until(() => plain.Available > 0, "the ClientHello arrives");
            byte[] hello = plain.ReceiveAvailableBytes()!;
            Assert.Equal(0x16, hello[0]); // a TLS handshake record, and nothing else, went out
            plain.Send("HTTP/1.0 400 Bad Request\r\n\r\n");
            plain.Close();
            var ex = await Assert.ThrowsAsync<SocketOperationException>(() => connect);
            Assert.Equal(SocketFailureKind.TlsAuthentication, ex.Kind);
            Assert.Contains("TLS handshake", ex.Message);
            peer.Dispose();
        }
    }
}
