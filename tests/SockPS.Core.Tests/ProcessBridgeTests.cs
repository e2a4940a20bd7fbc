using System;
using System.IO;
using System.Linq;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using Xunit;

namespace SockPS.Core.Tests;

/// <summary>
/// The bridge between a connection and a program (Start-SocketServer -FilePath,
/// Start-SocketProcess) with real programs (cat, sh, sleep) and a raw socket as the peer, so the
/// test sees exactly what goes on the wire: half-close is end of input, the program's exit is FIN,
/// a reset stops the program. These programs are POSIX ones: on Windows the tests return early.
/// </summary>
public class ProcessBridgeTests
{
    private static SocketProcessOptions Program(string name, params string[] arguments) =>
        new(ProcessBridge.FindProgram(name, Directory.GetCurrentDirectory())) { ArgumentList = arguments };

    private static byte[] ReadToEnd(Socket socket)
    {
        socket.ReceiveTimeout = 20_000;
        using MemoryStream received = new();
        byte[] buffer = new byte[65536];
        int read;
        while ((read = socket.Receive(buffer)) > 0)
        {
            received.Write(buffer, 0, read);
        }

        return received.ToArray();
    }

    [Fact]
    public async Task CatGetsTheBytesAsTheyAreAndHalfCloseIsEndOfItsInput()
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }

        (Socket peer, SocketConnection connection, SocketServer server) = await Loopback.CreateRawPeer(Loopback.Options());
        using (server)
        using (peer)
        {
            byte[] data = new byte[(2 * 1024 * 1024) + 333];
            new Random(15).NextBytes(data);
            Task<SocketProcessResult> run = new ProcessBridge(connection, Program("cat")).RunAsync(CancellationToken.None);

            Task<byte[]> echoed = Task.Run(() => ReadToEnd(peer));
            Loopback.SendAll(peer, data, 0, data.Length);
            peer.Shutdown(SocketShutdown.Send);

            Assert.Equal(SHA256.HashData(data), SHA256.HashData(await echoed.WaitAsync(Loopback.Wait)));
            SocketProcessResult result = await run.WaitAsync(Loopback.Wait);
            Assert.Equal(0, result.ExitCode);
            Assert.False(result.Stopped);
            Assert.Equal(data.Length, result.BytesIn);
            Assert.Equal(data.Length, result.BytesOut);
            Assert.Equal(SocketState.Disconnected, connection.State);
        }
    }

    [Fact]
    public async Task AProgramThatExitsEarlySendsItsOutputThenEndOfStream()
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }

        (Socket peer, SocketConnection connection, SocketServer server) = await Loopback.CreateRawPeer(Loopback.Options());
        using (server)
        using (peer)
        {
            SocketProcessResult result = await new ProcessBridge(connection, Program("sh", "-c", "echo bye; echo err >&2; exit 4"))
                .RunAsync(CancellationToken.None).WaitAsync(Loopback.Wait);

            Assert.Equal("bye\n", Encoding.ASCII.GetString(ReadToEnd(peer)));
            Assert.Equal(4, result.ExitCode);
            Assert.Equal("err\n", result.StandardError);
            Assert.Equal("The program exited with code 4.", result.EndReason);
        }
    }

    [Fact]
    public async Task MergedStandardErrorGoesToThePeer()
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }

        (Socket peer, SocketConnection connection, SocketServer server) = await Loopback.CreateRawPeer(Loopback.Options());
        using (server)
        using (peer)
        {
            SocketProcessOptions options = Program("sh", "-c", "echo err >&2");
            options.MergeStandardError = true;
            SocketProcessResult result = await new ProcessBridge(connection, options).RunAsync(CancellationToken.None).WaitAsync(Loopback.Wait);

            Assert.Equal("err\n", Encoding.ASCII.GetString(ReadToEnd(peer)));
            Assert.Null(result.StandardError);
            Assert.Equal(4, result.BytesOut);
        }
    }

    [Fact]
    public async Task APeerThatResetsStopsAProgramThatWouldRunOn()
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }

        (Socket peer, SocketConnection connection, SocketServer server) = await Loopback.CreateRawPeer(Loopback.Options());
        using (server)
        {
            SocketProcessOptions options = Program("sh", "-c", "echo ready; exec sleep 300");
            options.StopGrace = TimeSpan.FromMilliseconds(100);
            ProcessBridge bridge = new(connection, options);
            Task<SocketProcessResult> run = bridge.RunAsync(CancellationToken.None);
            byte[] ready = new byte[6];
            peer.ReceiveTimeout = 20_000;
            Assert.Equal(6, peer.Receive(ready));
            int processId = bridge.ProcessId!.Value;

            peer.LingerState = new LingerOption(true, 0);
            peer.Dispose();

            SocketProcessResult result = await run.WaitAsync(Loopback.Wait);
            Assert.True(result.Stopped);
            Assert.Equal(processId, result.ProcessId);
            Assert.Matches("reset the connection\\. The program was stopped\\.$", result.EndReason);
            Assert.Throws<ArgumentException>(() => System.Diagnostics.Process.GetProcessById(processId));
        }
    }

    [Fact]
    public async Task StopEndsTheProgramAtOnceAndClosesTheConnection()
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }

        (Socket peer, SocketConnection connection, SocketServer server) = await Loopback.CreateRawPeer(Loopback.Options());
        using (server)
        using (peer)
        {
            ProcessBridge bridge = new(connection, Program("sleep", "300"));
            Task<SocketProcessResult> run = bridge.RunAsync(CancellationToken.None);
            Loopback.Until(() => bridge.ProcessId is not null, "sleep started");

            bridge.Stop("Stopped by the test.");

            SocketProcessResult result = await run.WaitAsync(Loopback.Wait);
            Assert.True(result.Stopped);
            Assert.Equal("Stopped by the test. The program was stopped.", result.EndReason);
            Assert.Empty(ReadToEnd(peer));
            Assert.Equal(SocketState.Disconnected, connection.State);
        }
    }

    [Fact]
    public async Task ADatagramSocketIsRefusedBeforeAnythingStarts()
    {
        using SocketConnection udp = await SocketConnector.ConnectUdpAsync("127.0.0.1", 9, Loopback.Options(), Loopback.Wait, null, CancellationToken.None);
        SocketOperationException error = await Assert.ThrowsAsync<SocketOperationException>(() =>
            new ProcessBridge(udp, new SocketProcessOptions("/bin/true")).RunAsync(CancellationToken.None));
        Assert.Equal(SocketFailureKind.InvalidArgument, error.Kind);
    }

    [Fact]
    public async Task AProgramTheOsWillNotStartIsProgramStartFailed()
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }

        string path = Path.Combine(Path.GetTempPath(), $"sockps-not-executable-{Guid.NewGuid():N}.sh");
        File.WriteAllText(path, "echo never\n");
        (Socket peer, SocketConnection connection, SocketServer server) = await Loopback.CreateRawPeer(Loopback.Options());
        try
        {
            using (server)
            using (peer)
            {
                SocketOperationException error = await Assert.ThrowsAsync<SocketOperationException>(() =>
                    new ProcessBridge(connection, new SocketProcessOptions(path)).RunAsync(CancellationToken.None));
                Assert.Equal(SocketFailureKind.ProgramStartFailed, error.Kind);
                Assert.Contains(path, error.Message);
            }
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void FindProgramLooksOnPathAndFromTheCurrentDirectory()
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }

        string sh = ProcessBridge.FindProgram("sh", "/");
        Assert.True(Path.IsPathRooted(sh));
        Assert.Equal("sh", Path.GetFileName(sh));
        Assert.Equal("/bin/sh", ProcessBridge.FindProgram("../bin/sh", "/usr"));
        Assert.Equal(SocketFailureKind.ProgramNotFound,
            Assert.Throws<SocketOperationException>(() => ProcessBridge.FindProgram("no-such-program-sockps", "/")).Kind);
        Assert.Equal(SocketFailureKind.ProgramNotFound,
            Assert.Throws<SocketOperationException>(() => ProcessBridge.FindProgram("./no-such-program", "/tmp")).Kind);
        Assert.Contains("is a folder",
            Assert.Throws<SocketOperationException>(() => ProcessBridge.FindProgram("/usr/bin", "/")).Message);
    }

    /// <summary>Windows PowerShell 5.1 has no ArgumentList: the arguments become one command line
    /// that the C runtime splits back into exactly these (the cases from .NET's PasteArguments).</summary>
    [Theory]
    [InlineData(new[] { "plain", "two" }, "plain two")]
    [InlineData(new[] { "a b" }, "\"a b\"")]
    [InlineData(new[] { "" }, "\"\"")]
    [InlineData(new[] { "say \"hi\"" }, "\"say \\\"hi\\\"\"")]
    [InlineData(new[] { "C:\\a dir\\" }, "\"C:\\a dir\\\\\"")]
    [InlineData(new[] { "back\\slash" }, "back\\slash")]
    [InlineData(new[] { "x\\\"y" }, "\"x\\\\\\\"y\"")]
    public void ArgumentsAreQuotedForTheWindowsCommandLine(string[] arguments, string expected) =>
        Assert.Equal(expected, ProcessStart.JoinForWindows(arguments));

    [Fact]
    public async Task TheProgramIsToldWhoIsConnected()
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }

        (Socket peer, SocketConnection connection, SocketServer server) = await Loopback.CreateRawPeer(Loopback.Options());
        using (server)
        using (peer)
        {
            SocketProcessOptions options = Program("sh", "-c", "echo $SOCKPS_REMOTE_ADDR $SOCKPS_REMOTE_PORT $SOCKPS_LOCAL_PORT $EXTRA");
            options.Environment = new System.Collections.Generic.Dictionary<string, string?> { ["EXTRA"] = "x y" };
            await new ProcessBridge(connection, options).RunAsync(CancellationToken.None).WaitAsync(Loopback.Wait);

            int peerPort = ((System.Net.IPEndPoint)peer.LocalEndPoint!).Port;
            Assert.Equal($"127.0.0.1 {peerPort} {server.Port} x y\n", Encoding.ASCII.GetString(ReadToEnd(peer)));
        }
    }
}
