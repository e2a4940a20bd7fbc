using System;
using System.IO;
using System.Linq;
using System.Management.Automation;
using System.Threading;
using System.Threading.Tasks;
using SockPS.Commands;
using SockPS.Core;
using Xunit;

namespace SockPS.Tests;

[Collection("Module")]
public sealed class RequestAndTranscriptCmdletTests : IDisposable
{
    private readonly PowerShellHost _host = new();
    private readonly string _dir = Directory.CreateTempSubdirectory("sockps-request-").FullName;

    public void Dispose()
    {
        _host.Run("Get-SocketConnection | Disconnect-Socket; Get-SocketServer | Stop-SocketServer");
        _host.Dispose();
        Directory.Delete(_dir, recursive: true);
    }

    private SocketServer StartServer() => (SocketServer)_host.RunClean("Start-SocketServer")[0].BaseObject;

    /// <summary>The connection Invoke-SocketRequest opened to <paramref name="server"/>: the only
    /// client connection in the registry with that peer port.</summary>
    private static SocketConnection? RequestConnection(SocketServer server) =>
        SocketRegistry.Connections.FirstOrDefault(c => c.Server is null && (c.RemoteEndPoint as System.Net.IPEndPoint)?.Port == server.Port);

    [Fact]
    public void StoppingARequestThatWaitsForItsAnswerClosesItsConnection()
    {
        SocketServer server = StartServer();
        using PowerShell ps = PowerShell.Create();
        ps.Runspace = _host.Runspace;
        ps.AddCommand("Invoke-SocketRequest").AddParameter("ComputerName", "127.0.0.1").AddParameter("Port", server.Port.ToString())
            .AddParameter("InputObject", "request").AddParameter("Line").AddParameter("Until", "never").AddParameter("TimeoutSeconds", 0);
        IAsyncResult pending = ps.BeginInvoke();

        using SocketConnection accepted = server.AcceptAsync(PowerShellHost.Wait, CancellationToken.None).AsTask().Result;
        Assert.Equal("request", accepted.ReceiveLine());
        SocketConnection? request = RequestConnection(server);
        Assert.NotNull(request);

        Assert.True(Task.Run(() => ps.Stop()).Wait(PowerShellHost.Wait), "Stop did not return");
        Assert.Equal(PSInvocationState.Stopped, ps.InvocationStateInfo.State);
        Assert.Throws<PipelineStoppedException>(() => ps.EndInvoke(pending));
        Assert.Equal(SocketState.Disconnected, request!.State);
        Assert.Null(SocketRegistry.GetConnection(request.Id));
        // The server sees the end of the stream.
        Assert.Null(accepted.ReceiveAvailable());
    }

    [Fact]
    public void StoppingThePipelineBetweenTwoInputItemsClosesTheConnectionTheRequestHadOpened()
    {
        SocketServer server = StartServer();
        using PowerShell ps = PowerShell.Create();
        ps.Runspace = _host.Runspace;
        // The second item never comes: the upstream command waits for an event nobody raises.
        ps.AddScript("& { 'first'; Wait-Event -SourceIdentifier 'sockps-never' -Timeout 120 } | " +
            "Invoke-SocketRequest -ComputerName 127.0.0.1 -Port $args[0] -Line -TimeoutSeconds 0").AddArgument(server.Port);
        IAsyncResult pending = ps.BeginInvoke();

        using SocketConnection accepted = server.AcceptAsync(PowerShellHost.Wait, CancellationToken.None).AsTask().Result;
        SocketConnection? request = null;
        Assert.True(SpinWait.SpinUntil(() => (request = RequestConnection(server)) is not null, PowerShellHost.Wait), "the request did not connect");

        Assert.True(Task.Run(() => ps.Stop()).Wait(PowerShellHost.Wait), "Stop did not return");
        Assert.Throws<PipelineStoppedException>(() => ps.EndInvoke(pending));
        Assert.Equal(SocketState.Disconnected, request!.State);
        Assert.Null(SocketRegistry.GetConnection(request.Id));
    }

    [Fact]
    public void ATimedOutReadToTheEndWritesNoAnswerAndKeepsWhatArrivedInPartialResult()
    {
        SocketServer server = StartServer();
        Task<SocketConnection> accepting = server.AcceptAsync(PowerShellHost.Wait, CancellationToken.None).AsTask();
        Task<(System.Collections.ObjectModel.Collection<PSObject> Output, ErrorRecord[] Errors)> request = Task.Run(() =>
            _host.Run("Invoke-SocketRequest -ComputerName 127.0.0.1 -Port $port -InputObject 'q' -ToEnd -AsByteArray -TimeoutSeconds 1", ("port", server.Port)));
        using SocketConnection accepted = accepting.Result;
        accepted.Send(new byte[] { 1, 2, 3 });

        var (output, errors) = request.Result;
        Assert.Empty(output);
        ErrorRecord error = Assert.Single(errors);
        Assert.Equal("ReceiveTimeout,SockPS.Commands.InvokeSocketRequestCommand", error.FullyQualifiedErrorId);
        SocketOperationException exception = Assert.IsType<SocketOperationException>(error.Exception);
        Assert.Equal(new byte[] { 1, 2, 3 }, exception.PartialResult);
        Assert.Null(RequestConnection(server));
    }

    [Fact]
    public void TranscriptCmdletsReportWhatTheyCannotDoWithStableIds()
    {
        var output = _host.RunClean(@"
            $server = Start-SocketServer
            $client = Connect-Socket -ComputerName 127.0.0.1 -Port $server.Port
            $client");
        SocketConnection client = (SocketConnection)output[0].BaseObject;

        var (_, notFound) = _host.Run("Get-SocketTranscript -Connection $client", ("client", client));
        Assert.Equal("TranscriptNotFound,SockPS.Commands.GetSocketTranscriptCommand", Assert.Single(notFound).FullyQualifiedErrorId);
        Assert.Equal(ErrorCategory.ObjectNotFound, notFound[0].CategoryInfo.Category);

        var (_, notStarted) = _host.Run("Stop-SocketTranscript -Connection $client", ("client", client));
        Assert.Equal("TranscriptNotStarted,SockPS.Commands.StopSocketTranscriptCommand", Assert.Single(notStarted).FullyQualifiedErrorId);
        Assert.Equal(ErrorCategory.InvalidOperation, notStarted[0].CategoryInfo.Category);

        ErrorRecord badPath = _host.RunTerminating("Start-SocketTranscript -Connection $client -Path $path",
            ("client", client), ("path", Path.Combine(_dir, "missing-folder", "t.jsonl")));
        Assert.Equal("InvalidArgument,SockPS.Commands.StartSocketTranscriptCommand", badPath.FullyQualifiedErrorId);
        Assert.Null(client.Transcript);

        _host.RunClean("Start-SocketTranscript -Connection $client", ("client", client));
        var (_, twice) = _host.Run("Start-SocketTranscript -Connection $client", ("client", client));
        Assert.Equal("TranscriptAlreadyStarted,SockPS.Commands.StartSocketTranscriptCommand", Assert.Single(twice).FullyQualifiedErrorId);
        Assert.Equal(ErrorCategory.InvalidOperation, twice[0].CategoryInfo.Category);

        var (_, missing) = _host.Run("Get-SocketTranscript -Path $path", ("path", Path.Combine(_dir, "nothing-here.jsonl")));
        Assert.Equal("PathNotFound,SockPS.Commands.GetSocketTranscriptCommand", Assert.Single(missing).FullyQualifiedErrorId);

        ErrorRecord badConnect = _host.RunTerminating("Connect-Socket -ComputerName 127.0.0.1 -Port $server.Port -TranscriptPath $path",
            ("path", Path.Combine(_dir, "missing-folder", "t.jsonl")));
        Assert.Equal("InvalidArgument,SockPS.Commands.ConnectSocketCommand", badConnect.FullyQualifiedErrorId);
    }
}
