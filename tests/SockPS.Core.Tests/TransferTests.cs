using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using Xunit;

namespace SockPS.Core.Tests;

public class TransferTests
{
    [Fact]
    public async Task SixteenMebibytesOfRandomBytesCrossBothWaysIntact()
    {
        var (client, accepted, server) = await Loopback.CreateConnectedPair(Loopback.Options());
        using (server)
        using (client)
        using (accepted)
        {
            byte[] up = RandomBytes(16 * 1024 * 1024, seed: 1);
            byte[] down = RandomBytes(16 * 1024 * 1024, seed: 2);

            Task<byte[]> receivedUp = ReceiveAllAsync(accepted, up.Length);
            Task<byte[]> receivedDown = ReceiveAllAsync(client, down.Length);
            Task sendUp = SendInBlocksAsync(client, up, 200_000);
            Task sendDown = SendInBlocksAsync(accepted, down, 1 << 20);

            await Task.WhenAll(sendUp, sendDown).WaitAsync(TimeSpan.FromSeconds(60));
            byte[] gotUp = await receivedUp.WaitAsync(TimeSpan.FromSeconds(60));
            byte[] gotDown = await receivedDown.WaitAsync(TimeSpan.FromSeconds(60));

            Assert.Equal(Convert.ToHexString(SHA256.HashData(up)), Convert.ToHexString(SHA256.HashData(gotUp)));
            Assert.Equal(Convert.ToHexString(SHA256.HashData(down)), Convert.ToHexString(SHA256.HashData(gotDown)));
            Assert.Equal(up.Length, client.BytesSent);
            Assert.Equal(up.Length, accepted.BytesReceived);
            Assert.Equal(down.Length, client.BytesReceived);
        }
    }

    [Fact]
    public async Task TenThousandLinesInRandomChunksArriveCompleteAndInOrder()
    {
        var (peer, connection, server) = await Loopback.CreateRawPeer(Loopback.Options());
        using (server)
        using (peer)
        using (connection)
        {
            Random random = new(42);
            List<string> lines = Enumerable.Range(0, 10_000)
                .Select(i => $"{i}:" + new string((char)('a' + i % 26), random.Next(0, 120)) + (i % 7 == 0 ? "é€😀" : string.Empty))
                .ToList();
            // Mix LF and CRLF endings; both must come back without the terminator.
            byte[] wire = Encoding.UTF8.GetBytes(string.Concat(lines.Select((l, i) => l + (i % 3 == 0 ? "\r\n" : "\n"))));

            Task sender = Task.Run(() =>
            {
                int offset = 0;
                while (offset < wire.Length)
                {
                    int size = Math.Min(random.Next(1, 300), wire.Length - offset);
                    Loopback.SendAll(peer, wire, offset, size);
                    offset += size;
                }
            });

            for (int i = 0; i < lines.Count; i++)
            {
                string? line = connection.ReceiveLine();
                Assert.Equal(lines[i], line);
            }

            await sender.WaitAsync(Loopback.Wait);
            Assert.Equal(wire.Length, connection.BytesReceived);
            Assert.Equal(0, connection.Available);
        }
    }

    [Fact]
    public async Task ByteCountLargerThanTheBufferLimitCompletes()
    {
        var (client, accepted, server) = await Loopback.CreateConnectedPair(Loopback.Options());
        using (server)
        using (client)
        using (accepted)
        {
            byte[] data = RandomBytes(4 * 1024 * 1024 + 17, seed: 3);
            Task send = SendInBlocksAsync(client, data, 65536);
            byte[]? got = accepted.Receive(data.Length);
            await send.WaitAsync(Loopback.Wait);
            Assert.NotNull(got);
            Assert.True(data.AsSpan().SequenceEqual(got));
        }
    }

    [Fact]
    public async Task UnreadDataIsBoundedAndTheSenderIsSlowedNotDropped()
    {
        var (peer, connection, server) = await Loopback.CreateRawPeer(Loopback.Options());
        using (server)
        using (peer)
        using (connection)
        {
            // Flood a connection nobody reads. With a bounded buffer the receive loop stops
            // reading, the kernel buffers fill, and the sender blocks long before 256 MiB.
            byte[] block = RandomBytes(1 << 20, seed: 4);
            peer.Blocking = false;
            long sent = 0;
            using IncrementalHash hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            while (sent < 256L * 1024 * 1024)
            {
                int offset = 0;
                bool blocked = false;
                while (offset < block.Length)
                {
                    int n = peer.Send(block, offset, block.Length - offset, SocketFlags.None, out SocketError error);
                    if (error == SocketError.WouldBlock)
                    {
                        // Nothing can be sent for two seconds: the receiver has stopped reading.
                        if (!peer.Poll(2_000_000, SelectMode.SelectWrite))
                        {
                            blocked = true;
                            break;
                        }

                        continue;
                    }

                    Assert.Equal(SocketError.Success, error);
                    offset += n;
                }

                hash.AppendData(block, 0, offset);
                sent += offset;
                if (blocked)
                {
                    break;
                }
            }

            Assert.True(sent < 256L * 1024 * 1024, "The sender was never slowed down: the receive buffer is not bounded.");
            Assert.True(connection.Available <= StreamChannel.DefaultBufferLimit + StreamChannel.ReceiveBlockSize,
                $"{connection.Available} bytes are buffered; the limit is {StreamChannel.DefaultBufferLimit}.");

            // Nothing was dropped: everything sent arrives once the reader drains.
            peer.Shutdown(SocketShutdown.Send);
            using IncrementalHash received = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            long total = 0;
            await connection.ReceiveToEndAsync((buffer, offset, count) =>
            {
                received.AppendData(buffer, offset, count);
                total += count;
            }, Loopback.Wait, CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(60));
            Assert.Equal(sent, total);
            Assert.Equal(Convert.ToHexString(hash.GetHashAndReset()), Convert.ToHexString(received.GetHashAndReset()));
        }
    }

    [Fact]
    public async Task HalfCloseLetsThePeerReadToEndAndStillReply()
    {
        var (client, accepted, server) = await Loopback.CreateConnectedPair(Loopback.Options());
        using (server)
        using (client)
        using (accepted)
        {
            client.Send("request body");
            client.ShutdownSend();
            Assert.Equal(SocketState.SendShutdown, client.State);

            string body = await accepted.ReceiveToEndTextAsync(Loopback.Wait, CancellationToken.None).WaitAsync(Loopback.Wait);
            Assert.Equal("request body", body);
            Loopback.Until(() => accepted.State == SocketState.Closed, "the accepted side sees the half-close");

            accepted.SendLine("reply after half-close");
            Assert.Equal("reply after half-close", client.ReceiveLine());
            var ex = Assert.Throws<SocketOperationException>(() => client.Send("more"));
            Assert.Equal(SocketFailureKind.Closed, ex.Kind);
        }
    }

    internal static byte[] RandomBytes(int length, int seed)
    {
        byte[] data = new byte[length];
        new Random(seed).NextBytes(data);
        return data;
    }

    private static Task SendInBlocksAsync(SocketConnection connection, byte[] data, int block) => Task.Run(async () =>
    {
        for (int offset = 0; offset < data.Length; offset += block)
        {
            await connection.SendAsync(data, offset, Math.Min(block, data.Length - offset), CancellationToken.None);
        }
    });

    private static Task<byte[]> ReceiveAllAsync(SocketConnection connection, int length) => Task.Run(async () =>
    {
        MemoryStream all = new(length);
        while (all.Length < length)
        {
            object? chunk = await connection.ReceiveAsync(new ReceiveRequest(ReceiveMode.Available, false, Loopback.Wait), CancellationToken.None);
            Assert.NotNull(chunk);
            byte[] bytes = (byte[])chunk!;
            all.Write(bytes, 0, bytes.Length);
        }

        return all.ToArray();
    });
}
