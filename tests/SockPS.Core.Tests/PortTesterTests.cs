using System;
using System.Collections.Generic;
using System.Linq;
using System.Net;
using System.Net.Sockets;
using System.Threading;
using System.Threading.Tasks;
using Xunit;

namespace SockPS.Core.Tests;

/// <summary>PortTester: statuses against loopback targets whose answer the test controls, the
/// UDP probes' bytes, and port lists.</summary>
public class PortTesterTests
{
    private static PortTester Tester(double timeoutSeconds = 5, int throttle = 100, bool wait = false, double retrySeconds = 1,
        Action<PortTestResult>? attemptFailed = null, AddressFamily? family = null, UdpProbe probe = UdpProbe.Auto) =>
        new(new PortTestOptions
        {
            Timeout = TimeSpan.FromSeconds(timeoutSeconds),
            ThrottleLimit = throttle,
            Wait = wait,
            RetryInterval = TimeSpan.FromSeconds(retrySeconds),
            AttemptFailed = attemptFailed,
            AddressFamily = family,
            UdpProbe = probe,
        });

    /// <summary>A loopback TCP port that refuses: bound, never listening, so no other socket can take it.</summary>
    private static Socket BoundTcp()
    {
        Socket socket = new(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return socket;
    }

    private static Socket BoundUdp()
    {
        Socket socket = new(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return socket;
    }

    private static int Port(Socket socket) => ((IPEndPoint)socket.LocalEndPoint!).Port;

    private static Task<PortTestResult> Test(PortTester tester, string host, int port, SocketProtocol protocol = SocketProtocol.Tcp) =>
        tester.TestAsync(host, port, protocol, CancellationToken.None).WaitAsync(Loopback.Wait);

    [Fact]
    public async Task AListeningPortIsOpenWithItsAddressAndLatency()
    {
        TcpListener listener = new(IPAddress.Loopback, 0);
        listener.Start();
        try
        {
            int port = ((IPEndPoint)listener.LocalEndpoint).Port;
            PortTestResult result = await Test(Tester(), "127.0.0.1", port);

            Assert.Equal(PortStatus.Open, result.Status);
            Assert.True(result.IsOpen);
            Assert.Equal("127.0.0.1", result.ComputerName);
            Assert.Equal(IPAddress.Loopback, result.RemoteAddress);
            Assert.Equal(port, result.Port);
            Assert.Equal(SocketProtocol.Tcp, result.Protocol);
            Assert.NotNull(result.Latency);
            Assert.True(result.Latency > TimeSpan.Zero);
            Assert.Equal(1, result.Attempts);
            Assert.Null(result.Probe);
            Assert.Equal($"127.0.0.1:{port}/Tcp Open", result.ToString());
        }
        finally
        {
            listener.Stop();
        }
    }

    [Fact]
    public async Task ABoundPortThatDoesNotListenIsRefused()
    {
        using Socket bound = BoundTcp();
        PortTestResult result = await Test(Tester(), "127.0.0.1", Port(bound));

        Assert.Equal(PortStatus.Refused, result.Status);
        Assert.NotNull(result.Latency);
        Assert.Contains("TCP reset", result.Message);
    }

    [Fact]
    public async Task ANameWithNoAddressOfTheFamilyIsHostNotFound()
    {
        PortTestResult result = await Test(Tester(family: AddressFamily.InterNetworkV6), "127.0.0.1", 80);

        Assert.Equal(PortStatus.HostNotFound, result.Status);
        Assert.Null(result.RemoteAddress);
        Assert.Null(result.Latency);
        Assert.Contains("but the address family asked for is IPv6", result.Message);
    }

    [Fact]
    public async Task AUdpPortThatAnswersIsOpen()
    {
        using Socket peer = BoundUdp();
        Task answer = Task.Run(() =>
        {
            byte[] buffer = new byte[100];
            EndPoint from = new IPEndPoint(IPAddress.Any, 0);
            peer.ReceiveTimeout = (int)Loopback.Wait.TotalMilliseconds;
            int length = peer.ReceiveFrom(buffer, ref from);
            Assert.Equal(0, length);
            peer.SendTo(new byte[] { 1, 2, 3 }, from);
        });

        PortTestResult result = await Test(Tester(), "127.0.0.1", Port(peer), SocketProtocol.Udp);
        await answer.WaitAsync(Loopback.Wait);

        Assert.Equal(PortStatus.Open, result.Status);
        Assert.Equal(UdpProbe.Empty, result.Probe);
        Assert.Equal("An answer came back to an empty datagram (3 bytes).", result.Message);
        Assert.NotNull(result.Latency);
    }

    [Fact]
    public async Task AUdpPortNobodyHoldsIsRefusedByIcmp()
    {
        int port;
        using (Socket released = BoundUdp())
        {
            port = Port(released);
        }

        PortTestResult result = await Test(Tester(), "127.0.0.1", port, SocketProtocol.Udp);

        Assert.Equal(PortStatus.Refused, result.Status);
        Assert.Contains("ICMP port unreachable", result.Message);
    }

    [Fact]
    public async Task AUdpPortThatNeverAnswersIsNoAnswerAfterTheTimeout()
    {
        using Socket silent = BoundUdp();
        PortTestResult result = await Test(Tester(timeoutSeconds: 3.5), "127.0.0.1", Port(silent), SocketProtocol.Udp);

        Assert.Equal(PortStatus.NoAnswer, result.Status);
        Assert.Null(result.Latency);
        Assert.Contains("may be open or filtered", result.Message);
        Assert.Contains("UDP has no handshake", result.Message);
        // A probe a second (at 0, 1 and 2 seconds), never more than three.
        Assert.InRange(CountDatagrams(silent), 1, PortTester.MaxProbes);
    }

    private static int CountDatagrams(Socket socket)
    {
        int count = 0;
        byte[] buffer = new byte[100];
        while (socket.Poll(0, SelectMode.SelectRead))
        {
            socket.Receive(buffer);
            count++;
        }

        return count;
    }

    [Fact]
    public async Task WaitRetriesUntilThePortOpens()
    {
        using Socket bound = BoundTcp();
        List<PortTestResult> failed = new();
        // The port starts listening when the first attempt has been refused: no sleep, no race.
        PortTester tester = Tester(timeoutSeconds: 20, wait: true, retrySeconds: 0.1, attemptFailed: attempt =>
        {
            lock (failed)
            {
                failed.Add(attempt);
                if (failed.Count == 2)
                {
                    bound.Listen(1);
                }
            }
        });

        PortTestResult result = await Test(tester, "127.0.0.1", Port(bound));

        Assert.Equal(PortStatus.Open, result.Status);
        Assert.Equal(3, result.Attempts);
        Assert.StartsWith("Opened after 3 attempts", result.Message);
        Assert.All(failed, f => Assert.Equal(PortStatus.Refused, f.Status));
        Assert.Equal(new[] { 1, 2 }, failed.Select(f => f.Attempts));
    }

    [Fact]
    public async Task WaitEndsTimedOutWhenThePortNeverOpens()
    {
        using Socket bound = BoundTcp();
        PortTestResult result = await Test(Tester(timeoutSeconds: 2, wait: true, retrySeconds: 0.2), "127.0.0.1", Port(bound));

        Assert.Equal(PortStatus.TimedOut, result.Status);
        Assert.True(result.Attempts >= 2, $"{result.Attempts} attempts");
        Assert.StartsWith("Did not open within 2 seconds", result.Message);
        Assert.Contains("TCP reset", result.Message);
        Assert.Null(result.Latency);
    }

    [Fact]
    public async Task CancellingStopsAWaitAtOnce()
    {
        using Socket bound = BoundTcp();
        using CancellationTokenSource cancel = new();
        PortTester tester = Tester(timeoutSeconds: 0, wait: true, retrySeconds: 0.1, attemptFailed: _ => cancel.Cancel());

        Task<PortTestResult> check = tester.TestAsync("127.0.0.1", Port(bound), SocketProtocol.Tcp, cancel.Token);

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => check.WaitAsync(Loopback.Wait));
    }

    [Fact]
    public async Task ManyChecksRunUnderTheThrottleAndEachGetsItsOwnResult()
    {
        TcpListener listener = new(IPAddress.Loopback, 0);
        listener.Start(512);
        using Socket bound = BoundTcp();
        try
        {
            int open = ((IPEndPoint)listener.LocalEndpoint).Port;
            int closed = Port(bound);
            PortTester tester = Tester(throttle: 7);
            int[] ports = Enumerable.Range(0, 300).Select(i => i % 3 == 0 ? open : closed).ToArray();

            PortTestResult[] results = await Task.WhenAll(ports.Select(p => tester.TestAsync("127.0.0.1", p, SocketProtocol.Tcp, CancellationToken.None)))
                .WaitAsync(Loopback.Wait);

            Assert.Equal(ports, results.Select(r => r.Port));
            Assert.All(results, r => Assert.Equal(r.Port == open ? PortStatus.Open : PortStatus.Refused, r.Status));
            Assert.Equal(300, tester.CompletedCount);
            Assert.Equal(100, tester.OpenCount);
        }
        finally
        {
            listener.Stop();
        }
    }

    [Theory]
    [InlineData(UdpProbe.Auto, 53, UdpProbe.Dns)]
    [InlineData(UdpProbe.Auto, 123, UdpProbe.Ntp)]
    [InlineData(UdpProbe.Auto, 161, UdpProbe.Empty)]
    [InlineData(UdpProbe.Auto, 5353, UdpProbe.Empty)]
    [InlineData(UdpProbe.Dns, 5353, UdpProbe.Dns)]
    [InlineData(UdpProbe.Ntp, 53, UdpProbe.Ntp)]
    [InlineData(UdpProbe.Empty, 53, UdpProbe.Empty)]
    public void TheProbeFollowsTheWellKnownPortUnlessChosen(UdpProbe requested, int port, UdpProbe expected) =>
        Assert.Equal(expected, UdpProbes.Choose(requested, port));

    [Fact]
    public void TheDnsProbeIsAQueryForTheRootNameServers()
    {
        byte[] query = UdpProbes.Build(UdpProbe.Dns, out ushort id);

        Assert.Equal(new byte[]
        {
            (byte)(id >> 8), (byte)id, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0, // id, RD, one question
            0,                                                           // the root
            0, 2, 0, 1,                                                  // NS, IN
        }, query);
    }

    [Fact]
    public void TheNtpProbeIsAVersion4ClientRequestWithItsTransmitTime()
    {
        DateTime now = new(2026, 11, 25, 12, 30, 15, 500, DateTimeKind.Utc);
        byte[] request = UdpProbes.NtpRequest(now);

        Assert.Equal(48, request.Length);
        Assert.Equal(0x23, request[0]); // LI 0, VN 4, Mode 3
        Assert.All(request.Skip(1).Take(39), b => Assert.Equal(0, b));
        uint seconds = (uint)((request[40] << 24) | (request[41] << 16) | (request[42] << 8) | request[43]);
        uint fraction = (uint)((request[44] << 24) | (request[45] << 16) | (request[46] << 8) | request[47]);
        Assert.Equal(new DateTime(1900, 1, 1, 0, 0, 0, DateTimeKind.Utc).AddSeconds(seconds), now.AddMilliseconds(-500));
        Assert.InRange(fraction / (double)uint.MaxValue, 0.499, 0.501);
    }

    [Fact]
    public void AnswersAreDescribedByWhatTheySay()
    {
        byte[] dns = new byte[30];
        dns[0] = 0x12;
        dns[1] = 0x34;
        dns[2] = 0x81;
        dns[3] = 0x83; // QR, RD, RA, NXDOMAIN
        Assert.Equal("A DNS server answered (NXDOMAIN, 30 bytes).", UdpProbes.DescribeAnswer(UdpProbe.Dns, dns, 30, 0x1234));
        Assert.Equal("An answer came back to the DNS query (30 bytes).", UdpProbes.DescribeAnswer(UdpProbe.Dns, dns, 30, 0x4321));

        byte[] ntp = new byte[48];
        ntp[0] = 0x24; // server mode
        ntp[1] = 2;
        Assert.Equal("An NTP server answered (stratum 2, 48 bytes).", UdpProbes.DescribeAnswer(UdpProbe.Ntp, ntp, 48, 0));
        Assert.Equal("An answer came back to an empty datagram (1 byte).", UdpProbes.DescribeAnswer(UdpProbe.Empty, ntp, 1, 0));
    }

    [Theory]
    [InlineData("80", new[] { 80 })]
    [InlineData("22,80, 443", new[] { 22, 80, 443 })]
    [InlineData("8000-8003", new[] { 8000, 8001, 8002, 8003 })]
    [InlineData(" 8000 - 8001 ,http", new[] { 8000, 8001, 80 })]
    [InlineData("ms-sql-s", new[] { 1433 })]
    [InlineData("5-5", new[] { 5 })]
    [InlineData("80,80", new[] { 80, 80 })]
    public void PortListsTakeNumbersNamesAndRanges(string text, int[] expected) =>
        Assert.Equal(expected, ServicePorts.ResolveList(text));

    [Theory]
    [InlineData("10-5", "not valid")]
    [InlineData("0-5", "not valid")]
    [InlineData("65530-65536", "not valid")]
    [InlineData("80,,443", "empty")]
    [InlineData("-5", "not a valid port")]
    [InlineData("no-such-service", "not a known tcp service name")]
    public void BadPortListsAreInvalidArguments(string text, string says)
    {
        var ex = Assert.Throws<SocketOperationException>(() => ServicePorts.ResolveList(text));
        Assert.Equal(SocketFailureKind.InvalidArgument, ex.Kind);
        Assert.Contains(says, ex.Message);
    }
}
