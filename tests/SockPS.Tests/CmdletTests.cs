using System;
using System.Diagnostics;
using System.Linq;
using System.Management.Automation;
using System.Threading;
using System.Threading.Tasks;
using SockPS.Commands;
using SockPS.Core;
using Xunit;
using Xunit.Abstractions;

namespace SockPS.Tests;

[Collection("Module")]
public class CmdletTests : IDisposable
{
    private readonly PowerShellHost _host = new();
    private readonly ITestOutputHelper _output;

    public CmdletTests(ITestOutputHelper output) => _output = output;

    public void Dispose()
    {
        _host.Run("Get-SocketConnection | Disconnect-Socket; Get-SocketServer | Stop-SocketServer");
        _host.Dispose();
    }

    /// <summary>Starts a server, connects to it and accepts: $server, $client, $accepted.</summary>
    private (SocketServer Server, SocketConnection Client, SocketConnection Accepted) Pair(string connectArgs = "")
    {
        var output = _host.RunClean($@"
            $server = Start-SocketServer
            $client = Connect-Socket -ComputerName 127.0.0.1 -Port $server.Port {connectArgs}
            $accepted = Wait-SocketConnection -Server $server -TimeoutSeconds 20
            $server, $client, $accepted");
        return ((SocketServer)output[0].BaseObject, (SocketConnection)output[1].BaseObject, (SocketConnection)output[2].BaseObject);
    }

    [Fact]
    public void EnterSocketSessionNeedsAConsoleHostForItsStandardStreams()
    {
        var (_, client, _) = Pair();
        // This runspace's host is no console host: standard input and output are not its own
        // (in a remote session they would carry the session), so -Stdio does not touch them,
        // and the connection is left as it was.
        ErrorRecord error = _host.RunTerminating("Enter-SocketSession -Connection $client -Stdio", ("client", client));
        Assert.Equal("NoConsole,SockPS.Commands.EnterSocketSessionCommand", error.FullyQualifiedErrorId);
        Assert.Equal(ErrorCategory.ResourceUnavailable, error.CategoryInfo.Category);
        Assert.Equal(SocketState.Open, client.State);
    }

    [Theory]
    [InlineData("127.0.0.1")]
    [InlineData("localhost")]
    public void ConnectSocketLeavesAPlainConnectionToItsCallersThread(string computerName)
    {
        // Connect-Socket waits on the pipeline thread (the name's lookup too): no receive loop and
        // a handle still blocking, so $c.Receive() is one recv() and .NET's epoll thread never
        // hears of the socket. Accepted connections read in the background from the start.
        var output = _host.RunClean($@"
            $server = Start-SocketServer
            $client = Connect-Socket -ComputerName {computerName} -Port $server.Port
            $accepted = Wait-SocketConnection -Server $server -TimeoutSeconds 20
            $client, $accepted");
        var client = (SocketConnection)output[0].BaseObject;
        var accepted = (SocketConnection)output[1].BaseObject;
        Assert.False(client.ReadsInBackground);
        Assert.True(client.ReceivesInOneBlockingCall);
        Assert.True(accepted.ReadsInBackground);
        accepted.SendLine("hi");
        Assert.Equal("hi", client.ReceiveLine());
        Assert.True(client.ReceivesInOneBlockingCall);
    }

    [Fact]
    public void TheModuleExportsItsCmdlets()
    {
        var names = _host.RunClean("(Get-Command -Module SockPS).Name | Sort-Object").Select(o => o.ToString()).ToArray();
        Assert.Equal(new[]
        {
            "Connect-Socket", "Disconnect-Socket", "Enter-SocketSession", "Get-SocketCertificate", "Get-SocketConnection", "Get-SocketHostName", "Get-SocketRelay", "Get-SocketServer",
            "Get-SocketTranscript", "Invoke-SocketRequest", "Protect-SocketConnection", "Receive-SocketData", "Receive-SocketServerOutput",
            "Resolve-SocketAddress", "Send-SocketData", "Start-SocketProcess", "Start-SocketRelay", "Start-SocketServer", "Start-SocketTranscript", "Stop-SocketRelay",
            "Stop-SocketServer", "Stop-SocketTranscript", "Test-SocketPort", "Wait-SocketConnection", "Wait-SocketData",
        }, names);
    }

    [Fact]
    public void ATextConversationRoundTripsThroughTheCmdlets()
    {
        var (_, client, accepted) = Pair();
        var got = _host.RunClean(@"
            Send-SocketData -Connection $client -InputObject 'héllo wörld' -Line
            Receive-SocketData -Connection $accepted -Line
            'one', 'two' | Send-SocketData -Connection $accepted -Line
            Receive-SocketData -Connection $client -Line
            Receive-SocketData -Connection $client -Line", ("client", client), ("accepted", accepted));
        Assert.Equal(new[] { "héllo wörld", "one", "two" }, got.Select(o => o.BaseObject).ToArray());
        Assert.Equal(14, client.BytesSent); // é and ö are two bytes each in UTF-8
        Assert.Equal(8, accepted.BytesSent);
    }

    [Fact]
    public void BytesGoRawAndAPipelineUnrolledArrayIsSentInBlocks()
    {
        var (_, client, accepted) = Pair();
        var got = _host.RunClean(@"
            [byte[]]$data = 0..255
            $data | Send-SocketData -Connection $client
            Send-SocketData -Connection $client -InputObject $data
            $first = Receive-SocketData -Connection $accepted -ByteCount 256
            $second = Receive-SocketData -Connection $accepted -ByteCount 256
            ,$first; ,$second", ("client", client), ("accepted", accepted));
        byte[] expected = Enumerable.Range(0, 256).Select(i => (byte)i).ToArray();
        Assert.Equal(expected, (byte[])got[0].BaseObject);
        Assert.Equal(expected, (byte[])got[1].BaseObject);
    }

    [Fact]
    public void PassThruHandsTheConnectionToReceive()
    {
        var (_, client, accepted) = Pair();
        _host.RunClean("Send-SocketData -Connection $accepted -InputObject 'pong' -Line", ("accepted", accepted));
        var got = _host.RunClean("Send-SocketData -Connection $client -InputObject 'ping' -Line -PassThru | Receive-SocketData -Line", ("client", client));
        Assert.Equal("pong", got.Single().BaseObject);
    }

    [Fact]
    public void ConnectionsAreFoundByIdAndNameAndUnknownOnesAreNonTerminating()
    {
        var (_, client, accepted) = Pair("-Name web");
        var (output, errors) = _host.Run($"Get-SocketConnection -Id 987654, {client.Id}; Get-SocketConnection -Name web, nosuch, 'w*'");
        Assert.Equal(new[] { client, client }, output.Select(o => o.BaseObject).ToArray());
        Assert.Equal(2, errors.Length);
        Assert.Equal("ConnectionNotFound,SockPS.Commands.GetSocketConnectionCommand", errors[0].FullyQualifiedErrorId);
        Assert.Equal(ErrorCategory.ObjectNotFound, errors[0].CategoryInfo.Category);
        Assert.Equal(987654, errors[0].TargetObject);

        var (_, sendErrors) = _host.Run("Send-SocketData -Id 987654 -InputObject x; Send-SocketData -Name web -InputObject 'by name' -Line");
        Assert.Equal("ConnectionNotFound,SockPS.Commands.SendSocketDataCommand", sendErrors.Single().FullyQualifiedErrorId);
        Assert.Equal("by name", accepted.ReceiveLine());
    }

    [Fact]
    public void ARefusedConnectIsAConnectionErrorAndThePipelineGoesOn()
    {
        int port;
        using (SocketServer closed = SocketServer.Start(new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, 0), 1, new ConnectionOptions()))
        {
            port = closed.Port;
        }

        var (output, errors) = _host.Run($"Connect-Socket -ComputerName 127.0.0.1 -Port {port}; 'went on'");
        Assert.Equal("went on", output.Single().BaseObject);
        ErrorRecord error = errors.Single();
        Assert.Equal("ConnectionRefused,SockPS.Commands.ConnectSocketCommand", error.FullyQualifiedErrorId);
        Assert.Equal(ErrorCategory.ConnectionError, error.CategoryInfo.Category);
        Assert.IsType<SocketOperationException>(error.Exception);
        Assert.Contains("nothing is listening on that port", error.ToString());
    }

    [Fact]
    public void AnUnknownHostIsObjectNotFound()
    {
        var (_, errors) = _host.Run("Connect-Socket -ComputerName no-such-host.invalid -Port 80");
        Assert.Equal("HostNotFound,SockPS.Commands.ConnectSocketCommand", errors.Single().FullyQualifiedErrorId);
        Assert.Equal(ErrorCategory.ObjectNotFound, errors.Single().CategoryInfo.Category);
    }

    [Fact]
    public void ATakenPortStopsStartSocketServerWithAddressInUse()
    {
        var (server, _, _) = Pair();
        ErrorRecord error = _host.RunTerminating($"Start-SocketServer -Port {server.Port}");
        Assert.Equal("AddressInUse,SockPS.Commands.StartSocketServerCommand", error.FullyQualifiedErrorId);
        Assert.Equal(ErrorCategory.ResourceUnavailable, error.CategoryInfo.Category);
    }

    [Theory]
    [InlineData("Connect-Socket -ComputerName 127.0.0.1 -Port no-such-service")]
    [InlineData("Connect-Socket -ComputerName 127.0.0.1 -Port 70000")]
    [InlineData("Connect-Socket -ComputerName '[::1' -Port 80")]
    public void AnUnusableTargetIsANonTerminatingInvalidArgument(string script)
    {
        // About one target: the next one in a list goes on (the script's second line runs).
        var (output, errors) = _host.Run(script + "\n'went on'");
        Assert.Equal(new[] { "went on" }, output.Select(o => o.ToString()));
        ErrorRecord error = Assert.Single(errors);
        Assert.Equal("InvalidArgument,SockPS.Commands.ConnectSocketCommand", error.FullyQualifiedErrorId);
        Assert.Equal(ErrorCategory.InvalidArgument, error.CategoryInfo.Category);
    }

    [Theory]
    [InlineData("Connect-Socket -Uri htp://example.com:80", "InvalidUri,SockPS.Commands.ConnectSocketCommand")]
    [InlineData("Connect-Socket -Uri tcp://example.com", "InvalidUri,SockPS.Commands.ConnectSocketCommand")]
    [InlineData("Receive-SocketData -Id 1 -Line -ByteCount 3", "InvalidArgument,SockPS.Commands.ReceiveSocketDataCommand")]
    [InlineData("Receive-SocketData -Id 1 -ToEnd -Continuous", "InvalidArgument,SockPS.Commands.ReceiveSocketDataCommand")]
    public void InvalidInputIsATerminatingInvalidArgument(string script, string errorId)
    {
        ErrorRecord error = _host.RunTerminating(script);
        Assert.Equal(errorId, error.FullyQualifiedErrorId);
        Assert.Equal(ErrorCategory.InvalidArgument, error.CategoryInfo.Category);
    }

    [Fact]
    public void AReceiveTimeoutIsOperationTimeoutAndTheConnectionStaysUsable()
    {
        var (_, client, accepted) = Pair();
        var (output, errors) = _host.Run("Receive-SocketData -Connection $accepted -Line -TimeoutSeconds 0.2", ("accepted", accepted));
        Assert.Empty(output);
        Assert.Equal("ReceiveTimeout,SockPS.Commands.ReceiveSocketDataCommand", errors.Single().FullyQualifiedErrorId);
        Assert.Equal(ErrorCategory.OperationTimeout, errors.Single().CategoryInfo.Category);
        Assert.Same(accepted, errors.Single().TargetObject);

        client.SendLine("still works");
        Assert.Equal("still works", _host.RunClean("Receive-SocketData -Connection $accepted -Line", ("accepted", accepted)).Single().BaseObject);
    }

    [Fact]
    public void UsingADisconnectedConnectionIsConnectionClosed()
    {
        var (_, client, _) = Pair();
        var (_, errors) = _host.Run("Disconnect-Socket -Connection $client; Send-SocketData -Connection $client -InputObject x; Receive-SocketData -Connection $client",
            ("client", client));
        Assert.Equal(new[] { "ConnectionClosed,SockPS.Commands.SendSocketDataCommand", "ConnectionClosed,SockPS.Commands.ReceiveSocketDataCommand" },
            errors.Select(e => e.FullyQualifiedErrorId).ToArray());
        Assert.All(errors, e => Assert.Equal(ErrorCategory.InvalidOperation, e.CategoryInfo.Category));
        Assert.Equal(SocketState.Disconnected, client.State);
        Assert.Null(SocketRegistry.GetConnection(client.Id));
    }

    [Fact]
    public void StoppingTheRunspaceStopsABlockingReceiveAndTheConnectionStaysUsable()
    {
        var (_, client, accepted) = Pair();
        using PowerShell ps = PowerShell.Create();
        ps.Runspace = _host.Runspace;
        ps.AddCommand("Receive-SocketData").AddParameter("Connection", accepted).AddParameter("Line").AddParameter("TimeoutSeconds", 0);
        IAsyncResult pending = ps.BeginInvoke();
        Assert.True(SpinWait.SpinUntil(() => accepted.ReceiveInProgress, PowerShellHost.Wait), "the receive did not start");

        Stopwatch watch = Stopwatch.StartNew();
        Assert.True(Task.Run(() => ps.Stop()).Wait(PowerShellHost.Wait), "Stop did not return");
        _output.WriteLine($"Stop took {watch.ElapsedMilliseconds} ms");
        Assert.Equal(PSInvocationState.Stopped, ps.InvocationStateInfo.State);
        Assert.Throws<PipelineStoppedException>(() => ps.EndInvoke(pending));

        client.SendLine("after stop");
        Assert.Equal("after stop", accepted.ReceiveLine());
    }

    [Fact]
    public void StoppingTheRunspaceStopsWaitSocketConnection()
    {
        var (server, _, _) = Pair();
        using PowerShell ps = PowerShell.Create();
        ps.Runspace = _host.Runspace;
        ps.AddCommand("Wait-SocketConnection").AddParameter("Server", server);
        IAsyncResult pending = ps.BeginInvoke();
        Assert.True(SpinWait.SpinUntil(() => ps.InvocationStateInfo.State == PSInvocationState.Running, PowerShellHost.Wait));
        Assert.True(Task.Run(() => ps.Stop()).Wait(PowerShellHost.Wait), "Stop did not return");
        Assert.Equal(PSInvocationState.Stopped, ps.InvocationStateInfo.State);
        Assert.Equal(ServerState.Listening, server.State);
    }

    [Fact]
    public void ContinuousStopsCleanlyUnderSelectObjectFirstAndLeavesTheConnectionOpen()
    {
        var (_, client, accepted) = Pair();
        client.Send("a\nb\nc\nd\n");
        var got = _host.RunClean("Receive-SocketData -Connection $accepted -Line -Continuous | Select-Object -First 3", ("accepted", accepted));
        Assert.Equal(new[] { "a", "b", "c" }, got.Select(o => o.BaseObject).ToArray());
        Assert.Equal(SocketState.Open, accepted.State);
        Assert.Equal("d", accepted.ReceiveLine());
    }

    [Fact]
    public void ContinuousEndsWhenThePeerCloses()
    {
        var (_, client, accepted) = Pair();
        client.Send("1\n2\n3");
        client.Close();
        var got = _host.RunClean("Receive-SocketData -Connection $accepted -Line -Continuous", ("accepted", accepted));
        Assert.Equal(new[] { "1", "2", "3" }, got.Select(o => o.BaseObject).ToArray());
        Assert.Equal(SocketState.Closed, accepted.State);
        Assert.Contains(accepted, _host.RunClean("Get-SocketConnection -State Closed").Select(o => o.BaseObject));
    }

    [Fact]
    public void ShutdownSendCompletesThePeersToEndAndDataStillFlowsBack()
    {
        var (_, client, accepted) = Pair();
        var got = _host.RunClean(@"
            Send-SocketData -Connection $client -InputObject 'whole request'
            Disconnect-Socket -Connection $client -Shutdown Send
            Receive-SocketData -Connection $accepted -ToEnd
            Send-SocketData -Connection $accepted -InputObject 'answer' -Line
            Receive-SocketData -Connection $client -Line
            $client.State", ("client", client), ("accepted", accepted));
        Assert.Equal(new object[] { "whole request", "answer", SocketState.SendShutdown }, got.Select(o => o.BaseObject).ToArray());
    }

    [Fact]
    public void AConnectionMadeInOneRunspaceIsUsableFromAnother()
    {
        var (_, client, accepted) = Pair();
        using PowerShellHost other = new();
        other.RunClean($"Send-SocketData -Id {client.Id} -InputObject 'from another runspace' -Line");
        Assert.Equal("from another runspace", _host.RunClean($"Receive-SocketData -Id {accepted.Id} -Line").Single().BaseObject);
    }

    [Fact]
    public void TheDefaultViewOfConnectionsIsATableWithEndpointsStateAndCounts()
    {
        Pair("-Name viewtest");
        string text = string.Join("\n", _host.RunClean("Get-SocketConnection -Name viewtest | Out-String -Width 120").Select(o => o.ToString()));
        string header = text.Split('\n').First(l => l.TrimStart().StartsWith("Id", StringComparison.Ordinal));
        foreach (string column in new[] { "Name", "Protocol", "RemoteEndPoint", "State", "Sent", "Received" })
        {
            Assert.Contains(column, header);
        }

        Assert.Contains("viewtest", text);
        Assert.DoesNotContain("InstanceId", text);
    }

    [Fact]
    public void EncodingTakesNamesAndTextUsesIt()
    {
        var (_, client, accepted) = Pair("-Encoding latin1");
        _host.RunClean("Send-SocketData -Connection $client -InputObject 'é'", ("client", client));
        byte[] wire = accepted.Receive(1)!;
        Assert.Equal(new byte[] { 0xE9 }, wire);

        _host.RunClean("Send-SocketData -Connection $client -InputObject 'é' -Encoding utf8", ("client", client));
        Assert.Equal(new byte[] { 0xC3, 0xA9 }, accepted.Receive(2));

        ErrorRecord error = _host.RunTerminating("Connect-Socket -ComputerName 127.0.0.1 -Port 1 -Encoding klingon");
        Assert.Equal("ParameterArgumentTransformationError,SockPS.Commands.ConnectSocketCommand", error.FullyQualifiedErrorId);
    }
}
