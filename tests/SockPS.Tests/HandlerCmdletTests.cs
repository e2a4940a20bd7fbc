using System;
using System.Linq;
using System.Management.Automation;
using System.Threading;
using SockPS.Core;
using Xunit;

namespace SockPS.Tests;

/// <summary>Handler servers through the cmdlets: the status a server reports, the throttle, and
/// handler output and errors collected by Receive-SocketServerOutput.</summary>
[Collection("Module")]
public sealed class HandlerCmdletTests : IDisposable
{
    private readonly PowerShellHost _host = new();

    public void Dispose()
    {
        _host.Run("Get-SocketConnection | Disconnect-Socket; Get-SocketServer | Stop-SocketServer");
        _host.Dispose();
    }

    private static void WaitFor(Func<bool> condition, string what) =>
        Assert.True(SpinWait.SpinUntil(condition, PowerShellHost.Wait), "Timed out waiting until " + what);

    [Fact]
    public void AServerWithoutHandlersReportsNone()
    {
        var server = (SocketServer)_host.RunClean("Start-SocketServer")[0].BaseObject;
        Assert.Null(server.Handlers);
    }

    [Fact]
    public void TheThrottleRunsTwoHandlersAndTheThirdClientWaitsUntilOneEnds()
    {
        var server = (SocketServer)_host.RunClean(@"
            Start-SocketServer -ThrottleLimit 2 -ScriptBlock {
                param($Connection)
                $Connection.SendLine('started')
                $null = $Connection.ReceiveLine()   # until the client says go
                $Connection.SendLine('done')
            }")[0].BaseObject;
        var clients = _host.RunClean(
            "1..3 | ForEach-Object { Connect-Socket -ComputerName 127.0.0.1 -Port $server.Port }", ("server", server))
            .Select(o => (SocketConnection)o.BaseObject).ToArray();

        Assert.Equal("started", clients[0].ReceiveLine());
        Assert.Equal("started", clients[1].ReceiveLine());
        WaitFor(() => server.Handlers is { Running: 2, Waiting: 1 }, "two handlers run and one waits");
        Assert.Equal(0L, clients[2].Available);

        clients[0].SendLine("go");
        Assert.Equal("done", clients[0].ReceiveLine());
        Assert.Equal("started", clients[2].ReceiveLine()); // the freed runspace took the waiting client
        clients[1].SendLine("go");
        clients[2].SendLine("go");
        Assert.Equal("done", clients[1].ReceiveLine());
        Assert.Equal("done", clients[2].ReceiveLine());
        WaitFor(() => server.Handlers is { Completed: 3, Running: 0, Waiting: 0 }, "all three handlers completed");
        Assert.Equal(0L, server.Handlers!.Failed);
        Assert.Equal(2, server.Handlers.ThrottleLimit);
    }

    [Fact]
    public void OutputIsTaggedWithItsConnectionAndAThrownErrorIsKeptAsHandlerError()
    {
        var server = (SocketServer)_host.RunClean(@"
            Start-SocketServer -ScriptBlock {
                param($Connection)
                $line = $Connection.ReceiveLine()
                if ($line -eq 'fail') { throw ""cannot serve $line"" }
                ""served $line""
                $Connection.SendLine('ok')
            }")[0].BaseObject;
        var good = (SocketConnection)_host.RunClean("Connect-Socket -ComputerName 127.0.0.1 -Port $server.Port", ("server", server))[0].BaseObject;
        var bad = (SocketConnection)_host.RunClean("Connect-Socket -ComputerName 127.0.0.1 -Port $server.Port", ("server", server))[0].BaseObject;

        good.SendLine("alpha");
        Assert.Equal("ok", good.ReceiveLine()); // the output was kept before the reply went out
        bad.SendLine("fail");
        Assert.Null(bad.ReceiveLine()); // the handler failed, so its connection closed
        WaitFor(() => server.Handlers is { Completed: 1, Failed: 1 }, "both handlers ended");

        var (output, errors) = _host.Run("Receive-SocketServerOutput -Server $server", ("server", server));
        PSObject served = Assert.Single(output);
        Assert.Equal("served alpha", served.BaseObject);
        var tagged = (SocketConnection)served.Properties["SocketConnection"].Value;
        Assert.Equal(good.LocalEndPoint, tagged.RemoteEndPoint);

        ErrorRecord error = Assert.Single(errors);
        Assert.StartsWith("HandlerError", error.FullyQualifiedErrorId);
        Assert.Contains("cannot serve fail", error.ToString());
        Assert.Equal(bad.LocalEndPoint, ((SocketConnection)error.TargetObject).RemoteEndPoint);

        // Taken: a second call finds nothing, and the server went on serving.
        var (again, againErrors) = _host.Run("Receive-SocketServerOutput -Server $server", ("server", server));
        Assert.Empty(again);
        Assert.Empty(againErrors);
        Assert.Equal(0, server.Handlers!.OutputCount);
    }

    [Fact]
    public void StoppingTheServerEndsAHandlerWaitingInAReceiveAndClosesItsClient()
    {
        var server = (SocketServer)_host.RunClean(@"
            Start-SocketServer -ReceiveTimeoutSeconds 0 -ScriptBlock {
                param($Connection)
                while ($null -ne ($line = $Connection.ReceiveLine())) { $Connection.SendLine($line) }
            }")[0].BaseObject;
        var client = (SocketConnection)_host.RunClean("Connect-Socket -ComputerName 127.0.0.1 -Port $server.Port", ("server", server))[0].BaseObject;
        client.SendLine("one");
        Assert.Equal("one", client.ReceiveLine()); // the handler is now waiting for the next line

        _host.RunClean("Stop-SocketServer -Server $server", ("server", server));
        Assert.Null(client.ReceiveLine()); // closed, not left open with nobody serving it
        WaitFor(() => server.Handlers is { Running: 0, Waiting: 0 }, "the stopped handler ended");
    }
}
