using System;
using System.IO;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.RegularExpressions;
using System.Threading;
using System.Threading.Tasks;
using Xunit;

namespace SockPS.Core.Tests;

/// <summary>
/// Invoke-SocketRequest's conversation without a runspace: a SockPS client asks a raw .NET
/// socket on loopback, which does exactly what each test needs on the wire (answers after the
/// half-close, keeps the connection open, stops halfway, resets).
/// </summary>
public class SocketRequestTests
{
    private static readonly Encoding Utf8 = Encoding.UTF8;

    /// <summary>A raw listening socket and a SockPS client connected to it: (client, raw peer).</summary>
    private static async Task<(SocketConnection Client, Socket Peer)> Connect()
    {
        using Socket listener = new(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen(1);
        int port = ((IPEndPoint)listener.LocalEndPoint!).Port;
        Task<Socket> accepting = listener.AcceptAsync();
        SocketConnection client = await SocketConnector.ConnectTcpAsync("127.0.0.1", port, new ConnectionOptions { NoDelay = true }, Loopback.Wait, null, CancellationToken.None)
            .WaitAsync(Loopback.Wait);
        Socket peer = await accepting.WaitAsync(Loopback.Wait);
        peer.NoDelay = true;
        peer.ReceiveTimeout = (int)Loopback.Wait.TotalMilliseconds;
        return (client, peer);
    }

    /// <summary>Everything the peer receives until the client's end of stream.</summary>
    private static byte[] ReadToEnd(Socket peer)
    {
        MemoryStream all = new();
        byte[] block = new byte[64 * 1024];
        int n;
        while ((n = peer.Receive(block)) > 0)
        {
            all.Write(block, 0, n);
        }

        return all.ToArray();
    }

    /// <summary>Exactly <paramref name="count"/> bytes from the peer.</summary>
    private static byte[] ReadExactly(Socket peer, int count)
    {
        byte[] data = new byte[count];
        for (int got = 0, n; got < count; got += n)
        {
            n = peer.Receive(data, got, count - got, SocketFlags.None);
            Assert.True(n > 0, $"the stream ended after {got} of {count} bytes");
        }

        return data;
    }

    /// <summary>True once the peer sees the client's end of stream (and nothing else is pending).</summary>
    private static bool SawEnd(Socket peer) => peer.Poll(0, SelectMode.SelectRead) && peer.Available == 0;

    private static void AssertNoParameterWords(SocketOperationException failure)
    {
        // Words belong to the cmdlet layer: the core names no cmdlet and no parameter.
        Assert.DoesNotMatch(@"(^|\s)-[A-Z][A-Za-z]+|[A-Z][a-z]+-Socket", failure.Message);
    }

    [Fact]
    public async Task LinesGoOutWithLineEndsAndTheAnswerIsEverythingUntilThePeerClosesAfterTheHalfClose()
    {
        var (client, peer) = await Connect();
        using (peer)
        {
            // The peer answers only at the end of the stream: the answer proves the half-close.
            Task<byte[]> serving = Task.Run(() =>
            {
                byte[] request = ReadToEnd(peer);
                peer.Send(Utf8.GetBytes(Utf8.GetString(request).ToUpperInvariant()));
                peer.Shutdown(SocketShutdown.Send);
                return request;
            });

            using SocketRequest request = SocketRequest.Start(client, new SocketRequestOptions { LineEnds = true, IdleTimeout = Loopback.Wait }, CancellationToken.None);
            request.AddText("alpha");
            request.AddText("bëta");
            await request.FlushAsync();
            await request.EndRequestAsync();
            object? answer = await request.AnswerAsync().WaitAsync(Loopback.Wait);

            Assert.Equal("alpha\nbëta\n", Utf8.GetString(await serving.WaitAsync(Loopback.Wait)));
            Assert.Equal("ALPHA\nBËTA\n", answer);
        }

        Assert.Equal(SocketState.Disconnected, client.State);
    }

    [Fact]
    public async Task APatternEndsTheAnswerAtTheMatchWhileTheSendSideStaysOpen()
    {
        var (client, peer) = await Connect();
        using (peer)
        {
            using (SocketRequest request = SocketRequest.Start(client, new SocketRequestOptions
            {
                AnswerEnd = SocketAnswerEnd.Pattern,
                Pattern = new Regex(@"^250 [^\r\n]*\r\n", RegexOptions.Multiline),
                LineEnds = true,
                IdleTimeout = Loopback.Wait,
            }, CancellationToken.None))
            {
                request.AddText("EHLO me");
                await request.EndRequestAsync();
                Assert.Equal("EHLO me\n", Utf8.GetString(ReadExactly(peer, 8)));
                peer.Send(Utf8.GetBytes("250-hello\r\n250 ok\r\nmore"));

                Assert.Equal("250-hello\r\n250 ok\r\n", await request.AnswerAsync().WaitAsync(Loopback.Wait));
                Assert.False(SawEnd(peer), "the request half-closed although its answer ends at a pattern");
            }

            // Closing the request is the end of the stream.
            Assert.True(peer.Poll((int)Loopback.Wait.TotalMilliseconds * 1000, SelectMode.SelectRead));
            Assert.Equal(0, peer.Receive(new byte[1]));
        }
    }

    [Fact]
    public async Task ToTheEndReadsUntilThePeerClosesWithoutHalfClosingFirstAndCountsBytes()
    {
        var (client, peer) = await Connect();
        using (peer)
        {
            Task<object?> asking = Task.Run(async () =>
            {
                using SocketRequest request = SocketRequest.Start(client, new SocketRequestOptions { AnswerEnd = SocketAnswerEnd.End, AsBytes = true, IdleTimeout = Loopback.Wait }, CancellationToken.None);
                request.AddBytes(new byte[] { 0, 1, 2 });
                await request.EndRequestAsync();
                return await request.AnswerAsync();
            });

            Assert.Equal(new byte[] { 0, 1, 2 }, ReadExactly(peer, 3));
            Assert.False(SawEnd(peer), "the request half-closed although it reads to the end without one");
            peer.Send(new byte[] { 9, 8, 7, 6 });
            peer.Shutdown(SocketShutdown.Send);

            Assert.Equal(new byte[] { 9, 8, 7, 6 }, await asking.WaitAsync(Loopback.Wait));
        }

        var (counted, countPeer) = await Connect();
        using (countPeer)
        {
            countPeer.Send(Utf8.GetBytes("abcdef"));
            object? answer = await SocketRequest.RunAsync(counted, new SocketRequestOptions { AnswerEnd = SocketAnswerEnd.Count, ByteCount = 3, IdleTimeout = Loopback.Wait },
                Utf8.GetBytes("q"), CancellationToken.None).WaitAsync(Loopback.Wait);
            Assert.Equal(Utf8.GetBytes("abc"), answer);
            Assert.Equal(SocketState.Disconnected, counted.State);
        }
    }

    [Fact]
    public async Task AnAnswerThatStopsHalfwayTimesOutWithWhatArrivedAsText()
    {
        var (client, peer) = await Connect();
        using (peer)
        using (SocketRequest request = SocketRequest.Start(client, new SocketRequestOptions
        {
            AnswerEnd = SocketAnswerEnd.Pattern,
            Pattern = new Regex("END"),
            IdleTimeout = TimeSpan.FromSeconds(0.3),
        }, CancellationToken.None))
        {
            request.AddText("question");
            await request.EndRequestAsync();
            peer.Send(Utf8.GetBytes("partial answer"));

            SocketOperationException failure = await Assert.ThrowsAsync<SocketOperationException>(() => request.AnswerAsync().WaitAsync(Loopback.Wait));

            Assert.Equal(SocketFailureKind.ReceiveTimeout, failure.Kind);
            Assert.Equal("partial answer", failure.PartialResult);
            Assert.Equal(client.PeerText, failure.EndPoint);
            Assert.Contains("0.3 seconds", failure.Message);
            AssertNoParameterWords(failure);
        }
    }

    [Fact]
    public async Task AReadToTheEndThatTimesOutKeepsTheBytesThatArrived()
    {
        var (client, peer) = await Connect();
        using (peer)
        using (SocketRequest request = SocketRequest.Start(client, new SocketRequestOptions
        {
            AnswerEnd = SocketAnswerEnd.End,
            AsBytes = true,
            IdleTimeout = TimeSpan.FromSeconds(0.3),
        }, CancellationToken.None))
        {
            await request.EndRequestAsync();
            peer.Send(new byte[] { 1, 2, 3 });

            SocketOperationException failure = await Assert.ThrowsAsync<SocketOperationException>(() => request.AnswerAsync().WaitAsync(Loopback.Wait));

            Assert.Equal(SocketFailureKind.ReceiveTimeout, failure.Kind);
            Assert.Equal(new byte[] { 1, 2, 3 }, failure.PartialResult);
        }

        Assert.Equal(SocketState.Disconnected, client.State);
    }

    [Fact]
    public async Task AResetAfterDataIsAConnectionResetThatKeepsTheData()
    {
        var (client, peer) = await Connect();
        using (peer)
        using (SocketRequest request = SocketRequest.Start(client, new SocketRequestOptions { IdleTimeout = Loopback.Wait }, CancellationToken.None))
        {
            request.AddText("go");
            await request.EndRequestAsync();
            Assert.Equal("go", Utf8.GetString(ReadToEnd(peer)));
            peer.Send(Utf8.GetBytes("some data"));
            Loopback.Until(() => client.BytesReceived == 9, "the data arrives before the reset");
            peer.LingerState = new LingerOption(true, 0);
            peer.Close();

            SocketOperationException failure = await Assert.ThrowsAsync<SocketOperationException>(() => request.AnswerAsync().WaitAsync(Loopback.Wait));

            Assert.Equal(SocketFailureKind.ConnectionReset, failure.Kind);
            Assert.Equal("some data", failure.PartialResult);
        }
    }

    [Fact]
    public async Task APeerThatClosesBeforeThePatternMatchesIsEndOfStreamWithWhatItSent()
    {
        var (client, peer) = await Connect();
        using (peer)
        using (SocketRequest request = SocketRequest.Start(client, new SocketRequestOptions
        {
            AnswerEnd = SocketAnswerEnd.Pattern,
            Pattern = new Regex("never"),
            IdleTimeout = Loopback.Wait,
        }, CancellationToken.None))
        {
            await request.EndRequestAsync();
            peer.Send(Utf8.GetBytes("ANSWER X\n"));
            peer.Shutdown(SocketShutdown.Send);

            SocketOperationException failure = await Assert.ThrowsAsync<SocketOperationException>(() => request.AnswerAsync().WaitAsync(Loopback.Wait));

            Assert.Equal(SocketFailureKind.EndOfStream, failure.Kind);
            Assert.Equal("ANSWER X\n", failure.PartialResult);
            Assert.Contains("/never/", failure.Message);
            AssertNoParameterWords(failure);
        }
    }

    [Fact]
    public async Task SixteenMiBEchoedWhileTheyAreSentComeBackWhole()
    {
        // More than the socket buffers hold: an answer read only after the last byte was sent
        // would stall both sides, each waiting for the other to read.
        var (client, peer) = await Connect();
        using (peer)
        {
            Task echoing = Task.Run(() =>
            {
                byte[] block = new byte[64 * 1024];
                int n;
                while ((n = peer.Receive(block)) > 0)
                {
                    Loopback.SendAll(peer, block, 0, n);
                }

                peer.Shutdown(SocketShutdown.Send);
            });
            byte[] payload = new byte[16 * 1024 * 1024 + 7];
            new Random(77).NextBytes(payload);

            using SocketRequest request = SocketRequest.Start(client, new SocketRequestOptions { AsBytes = true, IdleTimeout = Loopback.Wait }, CancellationToken.None);
            for (int offset = 0; offset < payload.Length; offset += 100_000)
            {
                byte[] piece = new byte[Math.Min(100_000, payload.Length - offset)];
                Buffer.BlockCopy(payload, offset, piece, 0, piece.Length);
                request.AddBytes(piece);
                await request.FlushAsync().WaitAsync(Loopback.Wait);
            }

            await request.EndRequestAsync().WaitAsync(Loopback.Wait);
            byte[] answer = Assert.IsType<byte[]>(await request.AnswerAsync().WaitAsync(Loopback.Wait));
            Assert.Equal(payload.Length, answer.Length);
            Assert.True(payload.AsSpan().SequenceEqual(answer), "the echo came back different");
            await echoing.WaitAsync(Loopback.Wait);
        }
    }

    [Fact]
    public async Task OverUdpTheRequestIsOneDatagramAndTheAnswerTheOneThatComesBack()
    {
        using Socket peer = new(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        peer.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        peer.ReceiveTimeout = (int)Loopback.Wait.TotalMilliseconds;
        SocketConnection client = await SocketConnector.ConnectUdpAsync("127.0.0.1", ((IPEndPoint)peer.LocalEndPoint!).Port, new ConnectionOptions(), Loopback.Wait, null, CancellationToken.None);
        Task<byte[]> serving = Task.Run(() =>
        {
            byte[] datagram = new byte[65535];
            EndPoint from = new IPEndPoint(IPAddress.Any, 0);
            int n = peer.ReceiveFrom(datagram, ref from);
            byte[] got = datagram.AsSpan(0, n).ToArray();
            peer.SendTo(Utf8.GetBytes(Utf8.GetString(got).ToUpperInvariant()), from);
            return got;
        });

        object? answer;
        using (SocketRequest request = SocketRequest.Start(client, new SocketRequestOptions { LineEnds = true, IdleTimeout = Loopback.Wait }, CancellationToken.None))
        {
            request.AddText("one");
            request.AddText("two");
            await request.FlushAsync();
            Assert.Equal(0, client.BytesSent);
            await request.EndRequestAsync();
            answer = await request.AnswerAsync().WaitAsync(Loopback.Wait);
        }

        Assert.Equal("one\ntwo\n", Utf8.GetString(await serving.WaitAsync(Loopback.Wait)));
        Assert.Equal("ONE\nTWO\n", answer);
        Assert.Equal(SocketState.Disconnected, client.State);
    }

    [Fact]
    public async Task AUdpPortNobodyListensOnIsConnectionRefusedAndAFramingIsRefusedBeforeAnythingIsSent()
    {
        int port;
        using (Socket probe = new(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp))
        {
            probe.Bind(new IPEndPoint(IPAddress.Loopback, 0));
            port = ((IPEndPoint)probe.LocalEndPoint!).Port;
        }

        SocketConnection refused = await SocketConnector.ConnectUdpAsync("127.0.0.1", port, new ConnectionOptions(), Loopback.Wait, null, CancellationToken.None);
        SocketOperationException failure = await Assert.ThrowsAsync<SocketOperationException>(() =>
            SocketRequest.RunAsync(refused, new SocketRequestOptions { IdleTimeout = Loopback.Wait }, Utf8.GetBytes("anyone?"), CancellationToken.None).WaitAsync(Loopback.Wait));
        Assert.Equal(SocketFailureKind.ConnectionRefused, failure.Kind);
        Assert.True(failure.Message.Contains("ICMP port unreachable"), failure.ToString());
        AssertNoParameterWords(failure);

        SocketConnection framed = await SocketConnector.ConnectUdpAsync("127.0.0.1", port, new ConnectionOptions(), Loopback.Wait, null, CancellationToken.None);
        SocketOperationException invalid = Assert.Throws<SocketOperationException>(() =>
            SocketRequest.Start(framed, new SocketRequestOptions { AnswerEnd = SocketAnswerEnd.End }, CancellationToken.None));
        Assert.Equal(SocketFailureKind.InvalidArgument, invalid.Kind);
        Assert.Equal(0, framed.BytesSent);
        Assert.Equal(SocketState.Disconnected, framed.State);
    }

    [Fact]
    public async Task CancellingTheTokenEndsTheWaitAndDisposingClosesTheConnection()
    {
        var (client, peer) = await Connect();
        using (peer)
        {
            using CancellationTokenSource stop = new();
            using (SocketRequest request = SocketRequest.Start(client, new SocketRequestOptions { AnswerEnd = SocketAnswerEnd.End }, stop.Token))
            {
                await request.EndRequestAsync();
                Task<object?> answer = request.AnswerAsync();
                Assert.False(answer.IsCompleted);
                stop.Cancel();
                await Assert.ThrowsAnyAsync<OperationCanceledException>(() => answer.WaitAsync(Loopback.Wait));
            }

            Assert.Equal(SocketState.Disconnected, client.State);
            Assert.Equal(0, peer.Receive(new byte[1]));
        }
    }
}
