using System;
using System.IO;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using Xunit;

namespace SockPS.Core.Tests;

/// <summary>Enter-SocketSession's engine: what the screen shows of received bytes, the bytes a
/// raw key sends, and the stdio bridge over real loopback sockets with in-memory streams.</summary>
public class SessionTests
{
    private static byte[] Bytes(string text) => Encoding.Latin1.GetBytes(text);

    [Fact]
    public void TextShowsLineEndsAndTabsAndEscapesEveryOtherControlCharacter()
    {
        SessionTextRenderer text = new(TextEncodings.Utf8NoBom, "\n");
        string shown = text.Render(Bytes("a\tb\r\nc\x07\x1b[31md\x7f\0\n"), 0, 16);
        Assert.Equal("a\tb\nc\\x07\\x1b[31md\\x7f\\x00\n", shown);
        Assert.True(text.AtLineStart);
    }

    [Fact]
    public void TextHoldsACarriageReturnUntilItKnowsWhetherALineFeedFollows()
    {
        SessionTextRenderer text = new(TextEncodings.Utf8NoBom, "\r\n");
        Assert.Equal("one", text.Render(Bytes("one\r"), 0, 4));
        Assert.Equal("\r\ntwo", text.Render(Bytes("\ntwo"), 0, 4));
        Assert.Equal("\\rthree", text.Render(Bytes("\rthree"), 0, 6));
        Assert.Equal(string.Empty, text.Render(Bytes("\r"), 0, 1));
        Assert.Equal("\\r", text.Flush());
        Assert.False(text.AtLineStart);
    }

    [Fact]
    public void TextJoinsACharacterSplitAcrossReadsAndEscapesBytesThatDoNotDecode()
    {
        SessionTextRenderer text = new(TextEncodings.Utf8NoBom, "\n");
        byte[] euro = Encoding.UTF8.GetBytes("€");
        Assert.Equal(string.Empty, text.Render(euro, 0, 2));
        Assert.Equal("€ ", text.Render(new byte[] { euro[2], (byte)' ' }, 0, 2));
        Assert.Equal("x\\xffy", text.Render(new byte[] { (byte)'x', 0xff, (byte)'y' }, 0, 3));
        // An incomplete character at the end is shown as its bytes when the session ends.
        Assert.Equal(string.Empty, text.Render(euro, 0, 1));
        Assert.Equal("\\xe2", text.Flush());
    }

    [Fact]
    public void TextEscapesBidirectionalOverridesAndC1ButKeepsJoiners()
    {
        SessionTextRenderer text = new(Encoding.UTF8, "\n");
        byte[] data = Encoding.UTF8.GetBytes("a\u202eb\u0085c\u200dd");
        Assert.Equal("a\\u202eb\\x85c\u200dd", text.Render(data, 0, data.Length));
    }

    [Fact]
    public void TextDecodesWithTheConnectionsEncoding()
    {
        SessionTextRenderer latin1 = new(Encoding.Latin1, "\n");
        Assert.Equal("caf\u00e9", latin1.Render(new byte[] { 0x63, 0x61, 0x66, 0xe9 }, 0, 4));
        SessionTextRenderer utf16 = new(Encoding.Unicode, "\n");
        byte[] hi = Encoding.Unicode.GetBytes("hi\n");
        Assert.Equal("h", utf16.Render(hi, 0, 3));
        Assert.Equal("i\n", utf16.Render(hi, 3, 3));
    }

    [Fact]
    public void AMessageIsOneLineAfterItsSender()
    {
        SessionTextRenderer text = new(TextEncodings.Utf8NoBom, "\n");
        byte[] data = Bytes("pong\x07\n");
        Assert.Equal("[from 127.0.0.1:5353] pong\\x07\n", text.RenderMessage(data, new IPEndPoint(IPAddress.Loopback, 5353)));
        Assert.Equal("two\nlines\n", text.RenderMessage(Bytes("two\nlines"), null));
        Assert.Equal("[from [::1]:53] \n", text.RenderMessage(new byte[0], new IPEndPoint(IPAddress.IPv6Loopback, 53)));
    }

    [Fact]
    public void HexDumpIsHexdumpCsLayoutWithARunningOffset()
    {
        SessionHexDump hex = new();
        byte[] first = Bytes("more\nabcdefghijklmnopq");
        Assert.Equal(
            "00000000  6d 6f 72 65 0a 61 62 63  64 65 66 67 68 69 6a 6b  |more.abcdefghijk|\n" +
            "00000010  6c 6d 6e 6f 70 71                                 |lmnopq|\n",
            hex.Dump(first, 0, first.Length, "\n"));
        Assert.Equal("00000016  00 ff                                             |..|\n", hex.Dump(new byte[] { 0, 0xff }, 0, 2, "\n"));
        Assert.Equal(24, hex.Offset);
    }

    [Theory]
    [InlineData(ConsoleKey.D5, '\0', true)]
    [InlineData(ConsoleKey.Oem6, '\0', true)]
    [InlineData(ConsoleKey.Oem6, '\x1d', true)]
    [InlineData(ConsoleKey.D5, '\0', false)]
    [InlineData(ConsoleKey.D5, '5', false)]
    public void CtrlRightBracketLeavesHoweverTheRuntimeReportsIt(ConsoleKey key, char keyChar, bool control)
    {
        bool leaves = TerminalKeyEncoder.IsLeaveKey(new ConsoleKeyInfo(keyChar, key, shift: false, alt: false, control));
        Assert.Equal(control || keyChar == '\x1d', leaves);
    }

    [Fact]
    public void RawKeysAreTheBytesARawTerminalSends()
    {
        TerminalKeyEncoder keys = new(TextEncodings.Utf8NoBom);
        static ConsoleKeyInfo Key(char c, ConsoleKey key, bool control = false) => new(c, key, false, false, control);

        Assert.Equal(Bytes("a"), keys.Encode(Key('a', ConsoleKey.A)));
        Assert.Equal(Bytes("\r"), keys.Encode(Key('\r', ConsoleKey.Enter)));
        Assert.Equal(Bytes("\r"), keys.Encode(Key('\0', ConsoleKey.Enter)));
        Assert.Equal(Bytes("\t"), keys.Encode(Key('\t', ConsoleKey.Tab)));
        Assert.Equal(Bytes("\x7f"), keys.Encode(Key('\b', ConsoleKey.Backspace)));
        Assert.Equal(Bytes("\x03"), keys.Encode(Key('\x03', ConsoleKey.C, control: true)));
        Assert.Equal(Bytes("\x01"), keys.Encode(Key('\0', ConsoleKey.A, control: true)));
        Assert.Equal(Bytes("\x1b"), keys.Encode(Key('\x1b', ConsoleKey.Escape)));
        Assert.Equal(Bytes("\x1b[A"), keys.Encode(Key('\0', ConsoleKey.UpArrow)));
        Assert.Equal(Bytes("\x1b[3~"), keys.Encode(Key('\0', ConsoleKey.Delete)));
        Assert.Equal(Bytes("\x1bOP"), keys.Encode(Key('\0', ConsoleKey.F1)));
        Assert.Equal(Bytes("\x1b[24~"), keys.Encode(Key('\0', ConsoleKey.F12)));
        Assert.Equal(new byte[] { 0 }, keys.Encode(Key('\0', ConsoleKey.Spacebar, control: true)));
        Assert.Empty(keys.Encode(Key('\0', ConsoleKey.F24)));
        Assert.Equal(Encoding.UTF8.GetBytes("é"), keys.Encode(Key('é', ConsoleKey.E)));
        // A character outside the BMP comes as two keys; the first sends nothing yet.
        string clef = "\U0001D11E";
        Assert.Empty(keys.Encode(Key(clef[0], ConsoleKey.NoName)));
        Assert.Equal(Encoding.UTF8.GetBytes(clef), keys.Encode(Key(clef[1], ConsoleKey.NoName)));
    }

    [Fact]
    public async Task StdioBridgeCarriesBothWaysAndHalfClosesAtTheEndOfItsInput()
    {
        var (peer, connection, server) = await Loopback.CreateRawPeer(Loopback.Options());
        using (server)
        using (connection)
        using (peer)
        {
            byte[] up = RandomBytes(3 * 1024 * 1024 + 17, 1);
            byte[] down = RandomBytes(2 * 1024 * 1024 + 5, 2);
            MemoryStream output = new();
            Task<StdioBridgeResult> bridge = StdioBridge.RunAsync(connection, new MemoryStream(up), output, CancellationToken.None);

            // The peer reads everything up to the half-close, and sends its own data meanwhile.
            Task<byte[]> reading = Task.Run(() =>
            {
                MemoryStream got = new();
                byte[] block = new byte[65536];
                int n;
                while ((n = peer.Receive(block)) > 0)
                {
                    got.Write(block, 0, n);
                }

                return got.ToArray();
            });
            Loopback.SendAll(peer, down, 0, down.Length);
            byte[] received = await reading.WaitAsync(Loopback.Wait);
            peer.Shutdown(SocketShutdown.Send);

            StdioBridgeResult result = await bridge.WaitAsync(Loopback.Wait);
            Assert.Equal(Convert.ToHexString(SHA256.HashData(up)), Convert.ToHexString(SHA256.HashData(received)));
            Assert.Equal(Convert.ToHexString(SHA256.HashData(down)), Convert.ToHexString(SHA256.HashData(output.ToArray())));
            Assert.True(result.InputEnded);
            Assert.True(result.PeerEnded);
            Assert.False(result.OutputClosed);
            Assert.Equal(up.Length, result.BytesSent);
            Assert.Equal(down.Length, result.BytesReceived);
        }
    }

    [Fact]
    public async Task StdioBridgeEndsWhenThePeerEndsWhileItsInputIsStillOpen()
    {
        var (peer, connection, server) = await Loopback.CreateRawPeer(Loopback.Options());
        using (server)
        using (connection)
        using (peer)
        using (BlockedStream input = new())
        {
            MemoryStream output = new();
            Task<StdioBridgeResult> bridge = StdioBridge.RunAsync(connection, input, output, CancellationToken.None);
            Loopback.SendAll(peer, Bytes("bye\n"), 0, 4);
            peer.Shutdown(SocketShutdown.Send);

            StdioBridgeResult result = await bridge.WaitAsync(Loopback.Wait);
            Assert.True(result.PeerEnded);
            Assert.False(result.InputEnded);
            Assert.Equal("bye\n", Encoding.ASCII.GetString(output.ToArray()));
        }
    }

    [Fact]
    public async Task StdioBridgeStopsWhenItsOutputIsClosed()
    {
        var (peer, connection, server) = await Loopback.CreateRawPeer(Loopback.Options());
        using (server)
        using (connection)
        using (peer)
        using (BlockedStream input = new())
        {
            Task<StdioBridgeResult> bridge = StdioBridge.RunAsync(connection, input, new ClosedStream(), CancellationToken.None);
            Loopback.SendAll(peer, Bytes("nobody reads this\n"), 0, 18);

            StdioBridgeResult result = await bridge.WaitAsync(Loopback.Wait);
            Assert.True(result.OutputClosed);
            Assert.False(result.PeerEnded);
            Assert.Equal(0, result.BytesReceived);
        }
    }

    [Fact]
    public async Task StdioBridgeOnADatagramSocketSendsEachReadAsADatagramAndEndsAfterItsInput()
    {
        using Socket peer = new(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        peer.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        int port = ((IPEndPoint)peer.LocalEndPoint!).Port;
        using SocketConnection connection = await SocketConnector.ConnectUdpAsync("127.0.0.1", port, Loopback.Options(), Loopback.Wait, null, CancellationToken.None);
        Task echo = Task.Run(() =>
        {
            byte[] block = new byte[2048];
            EndPoint from = new IPEndPoint(IPAddress.Any, 0);
            int n = peer.ReceiveFrom(block, ref from);
            peer.SendTo(Encoding.ASCII.GetBytes("echo:" + Encoding.ASCII.GetString(block, 0, n)), from);
        });

        // The input ends only once the echo is out: the bridge's grace for answers after the end
        // of its input (0.5 s, as socat -t) must not decide the test on a loaded machine.
        MemoryStream output = new();
        BlockedStream input = new(Bytes("ping"));
        Task<StdioBridgeResult> bridge = StdioBridge.RunAsync(connection, input, output, CancellationToken.None);
        await echo.WaitAsync(Loopback.Wait);
        Loopback.Until(() => output.Length >= 9, "the echo is written out");
        input.Dispose();
        StdioBridgeResult result = await bridge.WaitAsync(Loopback.Wait);
        Assert.True(result.InputEnded);
        Assert.Equal(4, result.BytesSent);
        Assert.Equal("echo:ping", Encoding.ASCII.GetString(output.ToArray()));
    }

    private static byte[] RandomBytes(int count, int seed)
    {
        byte[] bytes = new byte[count];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }

    /// <summary>An input whose read never returns until disposed: a terminal nobody types in, or
    /// (given bytes) one where someone typed them and then waits.</summary>
    private sealed class BlockedStream : Stream
    {
        private readonly ManualResetEventSlim _released = new();
        private byte[] _typed;

        public BlockedStream(byte[]? typed = null) => _typed = typed ?? Array.Empty<byte>();

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count)
        {
            if (_typed.Length > 0)
            {
                int n = Math.Min(count, _typed.Length);
                Array.Copy(_typed, 0, buffer, offset, n);
                _typed = _typed[n..];
                return n;
            }

            _released.Wait();
            return 0;
        }

        protected override void Dispose(bool disposing)
        {
            _released.Set();
            base.Dispose(disposing);
        }

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }

    /// <summary>An output whose reader went away: every write fails as a closed pipe does.</summary>
    private sealed class ClosedStream : Stream
    {
        public override bool CanRead => false;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override void Flush()
        {
        }

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new IOException("Broken pipe");
    }
}
