using System;
using System.Collections.Generic;
using System.Net;
using System.Net.Sockets;
using System.Threading;
using System.Threading.Tasks;
using Xunit;

namespace SockPS.Core.Tests;

public class ErrorTests
{
    [Theory]
    [InlineData(SocketError.ConnectionRefused, SocketFailureKind.ConnectionRefused)]
    [InlineData(SocketError.ConnectionReset, SocketFailureKind.ConnectionReset)]
    [InlineData(SocketError.ConnectionAborted, SocketFailureKind.ConnectionReset)]
    [InlineData(SocketError.HostNotFound, SocketFailureKind.HostNotFound)]
    [InlineData(SocketError.TryAgain, SocketFailureKind.HostNotFound)]
    [InlineData(SocketError.NoData, SocketFailureKind.HostNotFound)]
    [InlineData(SocketError.TimedOut, SocketFailureKind.ConnectTimeout)]
    [InlineData(SocketError.AddressAlreadyInUse, SocketFailureKind.AddressInUse)]
    [InlineData(SocketError.AddressNotAvailable, SocketFailureKind.AddressNotAvailable)]
    [InlineData(SocketError.NetworkUnreachable, SocketFailureKind.Unreachable)]
    [InlineData(SocketError.HostUnreachable, SocketFailureKind.Unreachable)]
    [InlineData(SocketError.AccessDenied, SocketFailureKind.AccessDenied)]
    [InlineData(SocketError.OperationAborted, SocketFailureKind.Closed)]
    [InlineData(SocketError.AddressFamilyNotSupported, SocketFailureKind.InvalidArgument)]
    [InlineData(SocketError.NoBufferSpaceAvailable, SocketFailureKind.Unknown)]
    public void SocketErrorsAreClassified(SocketError error, SocketFailureKind expected) =>
        Assert.Equal(expected, SocketErrors.Classify(error));

    [Fact]
    public void ConnectFailuresSayWhatHappenedAndWhatToTry()
    {
        SocketOperationException refused = SocketErrors.ConnectFailed(new SocketException((int)SocketError.ConnectionRefused), "127.0.0.1:9");
        Assert.Equal(SocketFailureKind.ConnectionRefused, refused.Kind);
        Assert.Equal("127.0.0.1:9", refused.EndPoint);
        Assert.StartsWith("Connection to 127.0.0.1:9 was refused: nothing is listening on that port.", refused.Message);
        Assert.Equal(SocketError.ConnectionRefused, refused.SocketErrorCode);
    }

    // waitOnThisThread: the connect a cmdlet makes, a poll() on the caller's thread instead of
    // .NET's ConnectAsync; every outcome must read the same either way.
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task ConnectingToAClosedPortIsRefused(bool waitOnThisThread)
    {
        int port;
        using (SocketServer server = Loopback.StartServer())
        {
            port = server.Port;
        }

        var ex = await Assert.ThrowsAsync<SocketOperationException>(() =>
            SocketConnector.ConnectTcpAsync("127.0.0.1", port, new ConnectionOptions(), Loopback.Wait, null, CancellationToken.None, waitOnThisThread).WaitAsync(Loopback.Wait));
        Assert.Equal(SocketFailureKind.ConnectionRefused, ex.Kind);
        Assert.Contains($"127.0.0.1:{port}", ex.Message);
    }

    [Fact]
    public async Task AnUnknownHostIsHostNotFound()
    {
        var ex = await Assert.ThrowsAsync<SocketOperationException>(() =>
            SocketConnector.ConnectTcpAsync("no-such-host.invalid", 80, new ConnectionOptions(), Loopback.Wait, null, CancellationToken.None).WaitAsync(Loopback.Wait));
        Assert.Equal(SocketFailureKind.HostNotFound, ex.Kind);
        Assert.Contains("no-such-host.invalid", ex.Message);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task AHostWithSeveralAddressesIsTriedAddressByAddress(bool waitOnThisThread)
    {
        // localhost resolves to ::1 and 127.0.0.1 here; the server listens on 127.0.0.1 only, so
        // an attempt on ::1 (when the resolver lists it first) is refused and the next one works.
        // Waiting on this thread, the name's lookup (which completes on another thread) is waited
        // for here too, so the connect stays on this thread and leaves a blocking handle.
        using SocketServer server = Loopback.StartServer();
        using SocketConnection client = await SocketConnector.ConnectTcpAsync("localhost", server.Port, new ConnectionOptions(), Loopback.Wait, null, CancellationToken.None, waitOnThisThread)
            .WaitAsync(Loopback.Wait);
        Assert.Equal(IPAddress.Loopback, ((IPEndPoint)client.RemoteEndPoint!).Address);
        Assert.Equal(waitOnThisThread, client.ReceivesInOneBlockingCall);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task AConnectThatGetsNoAnswerTimesOut(bool waitOnThisThread)
    {
        using UnresponsiveListener silent = await UnresponsiveListener.CreateAsync();
        var ex = await Assert.ThrowsAsync<SocketOperationException>(() =>
            SocketConnector.ConnectTcpAsync("127.0.0.1", silent.Port, new ConnectionOptions(), TimeSpan.FromMilliseconds(500), null, CancellationToken.None, waitOnThisThread)
                .WaitAsync(Loopback.Wait));
        Assert.Equal(SocketFailureKind.ConnectTimeout, ex.Kind);
        Assert.Contains("timed out after 0.5 seconds", ex.Message);
    }

    [Fact]
    public async Task ACancelledConnectStopsPromptly()
    {
        using UnresponsiveListener silent = await UnresponsiveListener.CreateAsync();
        using CancellationTokenSource cts = new();
        Task<SocketConnection> connect = SocketConnector.ConnectTcpAsync("127.0.0.1", silent.Port, new ConnectionOptions(), TimeSpan.Zero, null, cts.Token);
        cts.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => connect.WaitAsync(Loopback.Wait));
    }

    [Fact]
    public async Task ACancelWakesAConnectWaitingOnItsThread()
    {
        // No connect timeout: only the token's wake (ThreadWaker) can end the poll() in time.
        using UnresponsiveListener silent = await UnresponsiveListener.CreateAsync();
        using CancellationTokenSource cts = new();
        Task<SocketConnection> connect = Task.Run(() =>
            SocketConnector.ConnectTcpAsync("127.0.0.1", silent.Port, new ConnectionOptions(), TimeSpan.Zero, null, cts.Token, waitOnThisThread: true));
        cts.CancelAfter(TimeSpan.FromMilliseconds(300));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => connect.WaitAsync(Loopback.Wait));
    }

    // The connect macOS uses on the caller's thread (Linux uses a blocking one): a non-blocking
    // connect() and a poll() woken by the token, run here directly.
    [Fact]
    public async Task APollingConnectConnectsIsRefusedAndWakesForTheToken()
    {
        using Socket listener = new(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen(1);
        IPEndPoint listening = (IPEndPoint)listener.LocalEndPoint!;
        using (Socket client = new(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp))
        {
            SocketConnector.ConnectPolling(client, listening, ThreadWaker.ForThisThread(), CancellationToken.None);
            Assert.True(client.Connected);
            Assert.True(client.Blocking);
            Assert.Equal(listening, client.RemoteEndPoint);
            using Socket accepted = await listener.AcceptAsync().WaitAsync(Loopback.Wait);
            client.Send(new byte[] { 42 });
            byte[] one = new byte[1];
            Assert.Equal(1, accepted.Receive(one));
            Assert.Equal(42, one[0]);
        }

        int closedPort;
        using (Socket bound = new(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp))
        {
            bound.Bind(new IPEndPoint(IPAddress.Loopback, 0));
            closedPort = ((IPEndPoint)bound.LocalEndPoint!).Port;
        }

        using (Socket client = new(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp))
        {
            SocketException refused = Assert.Throws<SocketException>(() =>
                SocketConnector.ConnectPolling(client, new IPEndPoint(IPAddress.Loopback, closedPort), null, CancellationToken.None));
            Assert.Equal(SocketError.ConnectionRefused, refused.SocketErrorCode);
        }

        using UnresponsiveListener silent = await UnresponsiveListener.CreateAsync();
        using CancellationTokenSource cts = new();
        using Socket waiting = new(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        Task connect = Task.Run(() =>
            SocketConnector.ConnectPolling(waiting, new IPEndPoint(IPAddress.Loopback, silent.Port), ThreadWaker.ForThisThread(), cts.Token));
        cts.CancelAfter(TimeSpan.FromMilliseconds(300));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => connect.WaitAsync(Loopback.Wait));
    }

    [Fact]
    public void ListeningOnATakenPortIsAddressInUse()
    {
        using SocketServer first = Loopback.StartServer();
        var ex = Assert.Throws<SocketOperationException>(() =>
            SocketServer.Start(new IPEndPoint(IPAddress.Loopback, first.Port), 8, new ConnectionOptions()));
        Assert.Equal(SocketFailureKind.AddressInUse, ex.Kind);
        Assert.Contains("already in use", ex.Message);
    }

    /// <summary>
    /// A listener whose accept queue is full, so a further SYN is dropped and connect hangs:
    /// the loopback way to get a host that does not answer. Linux queues backlog + 1
    /// connections; the helper fills the queue until one connect stays pending.
    /// </summary>
    private sealed class UnresponsiveListener : IDisposable
    {
        private readonly Socket _listener;
        private readonly List<Socket> _fillers = new();

        private UnresponsiveListener(Socket listener) => _listener = listener;

        public int Port => ((IPEndPoint)_listener.LocalEndPoint!).Port;

        public static async Task<UnresponsiveListener> CreateAsync()
        {
            Socket listener = new(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
            listener.Listen(0);
            UnresponsiveListener silent = new(listener);
            for (int i = 0; i < 16; i++)
            {
                Socket filler = new(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                silent._fillers.Add(filler);
                Task connect = filler.ConnectAsync(new IPEndPoint(IPAddress.Loopback, silent.Port));
                if (await Task.WhenAny(connect, Task.Delay(300)) != connect)
                {
                    return silent; // the queue is full: this connect is hanging
                }
            }

            silent.Dispose();
            throw new InvalidOperationException("Could not fill the accept queue of a loopback listener.");
        }

        public void Dispose()
        {
            foreach (Socket s in _fillers)
            {
                s.Dispose();
            }

            _listener.Dispose();
        }
    }
}
