using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using Xunit;

namespace SockPS.Core.Tests;

public sealed class TranscriptTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("sockps-transcript-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static string Hash(IEnumerable<SocketTranscriptEntry> entries, SocketTranscriptDirection direction) =>
        Convert.ToHexString(SHA256.HashData(entries.Where(e => e.Kind == direction).SelectMany(e => e.Data).ToArray()));

    private static List<SocketTranscriptEntry> ReadFile(string path, List<int>? skipped = null) =>
        SocketTranscriptFile.Read(path, (line, _) => skipped?.Add(line)).ToList();

    [Fact]
    public async Task EveryByteEachWayIsRecordedInOrderThroughThePipeTheBlockingAndTheFileReceives()
    {
        var (client, accepted, server) = await Loopback.CreateConnectedPair(Loopback.Options());
        using (server)
        using (accepted)
        using (client)
        {
            string path = Path.Combine(_dir, "tcp.jsonl");
            Assert.NotNull(client.StartTranscript(path));
            byte[] up = TransferTests.RandomBytes(3 * 1024 * 1024 + 17, seed: 31);
            byte[] down = TransferTests.RandomBytes(2 * 1024 * 1024 + 5, seed: 32);
            Random chunks = new(33);

            // Up in random pieces, by both send paths (cancellable stream writes and the plain
            // socket send of the methods), while the peer reads it all.
            Task<byte[]> peerReads = accepted.ReceiveToEndBytesAsync(Loopback.Wait, CancellationToken.None);
            for (int at = 0; at < up.Length;)
            {
                int n = Math.Min(chunks.Next(1, 70_000), up.Length - at);
                if (chunks.Next(2) == 0)
                {
                    await client.SendAsync(up, at, n, new CancellationTokenSource().Token);
                }
                else
                {
                    client.Send(up.AsSpan(at, n).ToArray());
                }

                at += n;
            }

            client.ShutdownSend();
            Assert.Equal(up, await peerReads.WaitAsync(Loopback.Wait));

            // Down: a third through the receive loop's pipe, a third by blocking receives that
            // read the socket themselves, a third straight into a file.
            Task send = Task.Run(() => accepted.Send(down));
            int third = down.Length / 3;
            byte[] first = (byte[])(await client.ReceiveAsync(new ReceiveRequest(ReceiveMode.Count, false, Loopback.Wait, third), CancellationToken.None))!;
            byte[] second = (byte[])client.ReceiveBlocking(new ReceiveRequest(ReceiveMode.Count, false, Loopback.Wait, third), CancellationToken.None)!;
            string rest = Path.Combine(_dir, "rest.bin");
            await send.WaitAsync(Loopback.Wait);
            accepted.Close();
            await client.ReceiveToFileAsync(rest, null, Loopback.Wait, new TransferProgress(), CancellationToken.None).WaitAsync(Loopback.Wait);
            Assert.Equal(down, first.Concat(second).Concat(File.ReadAllBytes(rest)).ToArray());

            client.Close();
            SocketTranscript transcript = client.Transcript!;
            Assert.False(transcript.IsRecording);
            SocketTranscriptEntry[] memory = transcript.Snapshot();
            Assert.Equal(Convert.ToHexString(SHA256.HashData(up)), Hash(memory, SocketTranscriptDirection.Sent));
            Assert.Equal(Convert.ToHexString(SHA256.HashData(down)), Hash(memory, SocketTranscriptDirection.Received));
            Assert.Equal(Enumerable.Range(1, memory.Length).Select(i => (long)i), memory.Select(e => e.Sequence));
            Assert.Equal(up.Length, transcript.BytesSent);
            Assert.Equal(down.Length, transcript.BytesReceived);
            Assert.All(memory, e => Assert.Equal(client.Id, e.ConnectionId));

            // The file holds the same entries, byte for byte, in the same order.
            List<SocketTranscriptEntry> file = ReadFile(path);
            Assert.Equal(memory.Select(e => e.Sequence), file.Select(e => e.Sequence));
            Assert.Equal(memory.Select(e => e.Direction), file.Select(e => e.Direction));
            Assert.Equal(memory.Select(e => e.Base64), file.Select(e => e.Base64));
            Assert.Equal(memory.Select(e => e.Timestamp), file.Select(e => e.Timestamp));
            Assert.Equal(EndPointText.Format(client.RemoteEndPoint), file[0].RemoteEndPoint);
            Assert.Equal(EndPointText.Format(client.LocalEndPoint), file[0].LocalEndPoint);
        }
    }

    [Fact]
    public async Task ARequestIsRecordedBeforeTheAnswerItCauses()
    {
        var (client, accepted, server) = await Loopback.CreateConnectedPair(Loopback.Options());
        using (server)
        using (accepted)
        using (client)
        {
            Assert.NotNull(client.StartTranscript(null));
            for (int i = 0; i < 200; i++)
            {
                client.SendLine("ping " + i);
                Assert.Equal("ping " + i, accepted.ReceiveLine());
                accepted.SendLine("pong " + i);
                Assert.Equal("pong " + i, client.ReceiveLine());
            }

            SocketTranscriptEntry[] entries = client.Transcript!.Snapshot();
            Assert.Equal(400, entries.Length);
            for (int i = 0; i < 200; i++)
            {
                Assert.Equal(("Sent", "ping " + i + "\n"), (entries[2 * i].Direction, entries[2 * i].Text));
                Assert.Equal(("Received", "pong " + i + "\n"), (entries[2 * i + 1].Direction, entries[2 * i + 1].Text));
                Assert.True(entries[2 * i].Timestamp <= entries[2 * i + 1].Timestamp);
            }
        }
    }

    [Fact]
    public async Task EachDatagramIsOneEntryWithItsOwnPeerOnASocketWithNoOnePeer()
    {
        using SocketServer server = SocketServer.Start(new IPEndPoint(IPAddress.Loopback, 0), 1, Loopback.Options(), protocol: SocketProtocol.Udp);
        SocketConnection socket = server;
        string path = Path.Combine(_dir, "udp.jsonl");
        Assert.NotNull(socket.StartTranscript(path));
        using SocketConnection a = await SocketConnector.ConnectUdpAsync("127.0.0.1", server.Port, Loopback.Options(), Loopback.Wait, null, CancellationToken.None);
        using SocketConnection b = await SocketConnector.ConnectUdpAsync("127.0.0.1", server.Port, Loopback.Options(), Loopback.Wait, null, CancellationToken.None);

        // An empty datagram is a datagram too.
        byte[][] fromA = { Encoding.ASCII.GetBytes("one"), new byte[0], TransferTests.RandomBytes(60_000, seed: 5) };
        foreach (byte[] datagram in fromA)
        {
            a.Send(datagram);
            SocketDatagram got = (await socket.ReceiveDatagramAsync(Loopback.Wait, CancellationToken.None))!;
            Assert.Equal(datagram, got.Data);
        }

        b.Send("from b");
        SocketDatagram fromB = (await socket.ReceiveDatagramAsync(Loopback.Wait, CancellationToken.None))!;
        socket.SendTo(Encoding.ASCII.GetBytes("reply"), fromB.RemoteEndPoint!);
        Assert.Equal("reply", b.ReceiveAvailable());
        socket.Transcript!.Flush(Loopback.Wait);

        SocketTranscriptEntry[] entries = socket.Transcript.Snapshot();
        string aText = EndPointText.Format(a.LocalEndPoint), bText = EndPointText.Format(b.LocalEndPoint);
        Assert.Equal(
            new[] { ("Received", 3, aText), ("Received", 0, aText), ("Received", 60_000, aText), ("Received", 6, bText), ("Sent", 5, bText) },
            entries.Select(e => (e.Direction, e.Length, e.RemoteEndPoint!)));
        Assert.Equal(fromA[2], entries[2].Data);
        Assert.Equal(entries.Select(e => (e.Direction, e.Base64, e.RemoteEndPoint)), ReadFile(path).Select(e => (e.Direction, e.Base64, e.RemoteEndPoint)));
    }

    [Fact]
    public async Task MemoryKeepsTheNewestEntriesAndCountsTheDroppedOnes()
    {
        var (peer, connection, server) = await Loopback.CreateRawPeer(Loopback.Options());
        using (server)
        using (connection)
        using (peer)
        {
            Task drain = Task.Run(() =>
            {
                byte[] sink = new byte[1 << 20];
                while (peer.Receive(sink) > 0)
                {
                }
            });
            SocketTranscript transcript = connection.StartTranscript(null)!;

            int count = SocketTranscript.DefaultMaxEntries + 50;
            for (int i = 1; i <= count; i++)
            {
                connection.Send(BitConverter.GetBytes(i));
            }

            SocketTranscriptEntry[] kept = transcript.Snapshot();
            Assert.Equal(SocketTranscript.DefaultMaxEntries, kept.Length);
            Assert.Equal(50, transcript.DroppedCount);
            Assert.Equal(count, transcript.EntryCount);
            Assert.Equal(51, kept[0].Sequence);
            Assert.Equal(count, BitConverter.ToInt32(kept[^1].Data));

            // The byte bound: 20 blocks of 1 MiB leave at most 16 MiB in memory, the newest last.
            byte[] block = TransferTests.RandomBytes(1024 * 1024, seed: 9);
            for (int i = 0; i < 20; i++)
            {
                block[0] = (byte)i;
                connection.Send(block);
            }

            kept = transcript.Snapshot();
            Assert.True(kept.Sum(e => (long)e.Length) <= SocketTranscript.DefaultMaxBytes);
            Assert.Equal(19, kept[^1].Data[0]);
            Assert.Equal(16, kept.Count(e => e.Length == block.Length));

            connection.Close();
            await drain.WaitAsync(Loopback.Wait);
        }
    }

    [Fact]
    public async Task StoppingEndsTheRecordAndTheFileHoldsEverythingRecordedBefore()
    {
        var (client, accepted, server) = await Loopback.CreateConnectedPair(Loopback.Options());
        using (server)
        using (accepted)
        using (client)
        {
            string path = Path.Combine(_dir, "stop.jsonl");
            Assert.NotNull(client.StartTranscript(path));
            Assert.Null(client.StartTranscript(null));
            client.SendLine("recorded");
            SocketTranscript stopped = client.StopTranscript(Loopback.Wait)!;
            client.SendLine("not recorded");
            Assert.Equal("recorded", accepted.ReceiveLine());
            Assert.Equal("not recorded", accepted.ReceiveLine());

            Assert.False(stopped.IsRecording);
            Assert.NotNull(stopped.StoppedAt);
            Assert.Null(client.StopTranscript(Loopback.Wait));
            Assert.Equal(new[] { "recorded\n" }, stopped.Snapshot().Select(e => e.Text));
            Assert.Equal(new[] { "recorded\n" }, ReadFile(path).Select(e => e.Text));

            // A new transcript appends to the same file, with its own header.
            Assert.NotNull(client.StartTranscript(path));
            client.SendLine("again");
            client.Close();
            Assert.Equal(new[] { "recorded\n", "again\n" }, ReadFile(path).Select(e => e.Text));
            Assert.Equal(2, File.ReadLines(path).Count(l => l.StartsWith("{\"SockPSTranscript\"", StringComparison.Ordinal)));
        }
    }

    [Fact]
    public async Task TwoConnectionsShareOneFileAndEachLineNamesItsConnection()
    {
        var (client, accepted, server) = await Loopback.CreateConnectedPair(Loopback.Options());
        using (server)
        using (accepted)
        using (client)
        {
            string path = Path.Combine(_dir, "shared.jsonl");
            client.StartTranscript(path);
            accepted.StartTranscript(path);
            for (int i = 0; i < 100; i++)
            {
                client.SendLine("c" + i);
                accepted.SendLine("a" + i);
            }

            string expectedC = string.Concat(Enumerable.Range(0, 100).Select(i => "c" + i + "\n"));
            string expectedA = string.Concat(Enumerable.Range(0, 100).Select(i => "a" + i + "\n"));
            // How the reads split the lines is up to TCP; the bytes are not.
            Loopback.Until(() => accepted.Transcript!.BytesReceived == expectedC.Length && client.Transcript!.BytesReceived == expectedA.Length,
                "both sides recorded everything the other sent");
            accepted.Close();
            client.Close();

            List<SocketTranscriptEntry> all = ReadFile(path);
            Assert.Equal(100, all.Count(e => e.ConnectionId == client.Id && e.Direction == "Sent"));
            Assert.Equal(100, all.Count(e => e.ConnectionId == accepted.Id && e.Direction == "Sent"));
            string Joined(int id, string direction) => string.Concat(all.Where(e => e.ConnectionId == id && e.Direction == direction).Select(e => e.Text));
            Assert.Equal(expectedC, Joined(client.Id, "Sent"));
            Assert.Equal(expectedA, Joined(client.Id, "Received"));
            Assert.Equal(expectedA, Joined(accepted.Id, "Sent"));
            Assert.Equal(expectedC, Joined(accepted.Id, "Received"));
            Assert.All(all.Where(e => e.ConnectionId == accepted.Id), e => Assert.Equal(EndPointText.Format(accepted.RemoteEndPoint), e.RemoteEndPoint));
        }
    }

    [Fact]
    public async Task ReadingSkipsLinesThatAreNotTranscriptLinesAndDecodesWithTheRecordedEncoding()
    {
        ConnectionOptions latin1 = Loopback.Options(encoding: Encoding.Latin1);
        var (client, accepted, server) = await Loopback.CreateConnectedPair(latin1);
        using (server)
        using (accepted)
        using (client)
        {
            string path = Path.Combine(_dir, "broken.jsonl");
            client.StartTranscript(path);
            client.Send("café");
            client.Close();
            File.AppendAllText(path, "not json\n{\"ConnectionId\":1,\"Sequence\":2}\n{\"ConnectionId\":" + client.Id + ",\"Sequence\":9,\"Timestamp\":\"2025-01");

            List<int> skipped = new();
            List<SocketTranscriptEntry> entries = ReadFile(path, skipped);
            Assert.Equal(new[] { 3, 4, 5 }, skipped);
            SocketTranscriptEntry entry = Assert.Single(entries);
            Assert.Equal(new byte[] { 0x63, 0x61, 0x66, 0xE9 }, entry.Data);
            Assert.Equal("café", entry.Text);
        }
    }

    [Theory]
    [InlineData("{}", 0)]
    [InlineData("{\"a\":1,\"b\":\"x\\\"y\\\\z\\u00e9\",\"c\":true,\"d\":null}", 4)]
    [InlineData(" { \"a\" : -1.5e2 } ", 1)]
    [InlineData("{\"a\":1", -1)]
    [InlineData("{\"a\":[1]}", -1)]
    [InlineData("{\"a\":{}}", -1)]
    [InlineData("{\"a\":1} x", -1)]
    [InlineData("{'a':1}", -1)]
    [InlineData("", -1)]
    [InlineData("{\"a\":\"\\ud800\"}", -1)]
    [InlineData("{\"a\":\"\\ud83d\\ude00\"}", 1)]
    public void TheLineParserTakesFlatObjectsOnly(string text, int fields)
    {
        Dictionary<string, object?>? parsed = JsonText.TryParseFlatObject(text);
        Assert.Equal(fields, parsed?.Count ?? -1);
        if (fields == 4)
        {
            Assert.Equal("x\"y\\zé", parsed!["b"]);
            Assert.Equal(1.0, parsed["a"]);
            Assert.Equal(true, parsed["c"]);
            Assert.Null(parsed["d"]);
        }
    }

    [Fact]
    public void ATranscriptPathThatCannotBeWrittenIsRefusedBeforeAnythingConnects()
    {
        string path = Path.Combine(_dir, "no-such-folder", "t.jsonl");
        SocketOperationException error = Assert.Throws<SocketOperationException>(() => SocketTranscriptFile.CheckWritable(path));
        Assert.Equal(SocketFailureKind.InvalidArgument, error.Kind);
        Assert.Contains("no-such-folder", error.Message);
    }
}
