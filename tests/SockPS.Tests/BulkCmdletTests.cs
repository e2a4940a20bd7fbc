using System;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Management.Automation;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Threading;
using System.Threading.Tasks;
using SockPS.Core;
using Xunit;

namespace SockPS.Tests;

[Collection("Module")]
public sealed class BulkCmdletTests : IDisposable
{
    private readonly PowerShellHost _host = new();
    private readonly string _dir = Directory.CreateTempSubdirectory("sockps-bulkcmd-").FullName;

    public void Dispose()
    {
        _host.Run("Get-SocketConnection | Disconnect-Socket; Get-SocketServer | Stop-SocketServer");
        _host.Dispose();
        Directory.Delete(_dir, recursive: true);
    }

    private (SocketConnection Client, SocketConnection Accepted) Pair()
    {
        var output = _host.RunClean(@"
            $server = Start-SocketServer
            $client = Connect-Socket -ComputerName 127.0.0.1 -Port $server.Port
            $client, (Wait-SocketConnection -Server $server -TimeoutSeconds 20)");
        return ((SocketConnection)output[0].BaseObject, (SocketConnection)output[1].BaseObject);
    }

    private string RandomFile(string name, int length, int seed)
    {
        byte[] data = new byte[length];
        new Random(seed).NextBytes(data);
        string path = Path.Combine(_dir, name);
        File.WriteAllBytes(path, data);
        return path;
    }

    [Fact]
    public void PathToOutFileCopiesAFileIntact()
    {
        var (client, accepted) = Pair();
        string source = RandomFile("source.bin", 7 * 1024 * 1024 + 99, seed: 31);
        string target = Path.Combine(_dir, "target.bin");
        // More than the buffers hold: the receiver must run while the sender sends.
        using PowerShell receiver = PowerShell.Create();
        receiver.Runspace = RunspaceWithModule();
        receiver.AddCommand("Receive-SocketData").AddParameter("Connection", accepted).AddParameter("OutFile", target);
        IAsyncResult receiving = receiver.BeginInvoke();
        _host.RunClean(@"
            Send-SocketData -Connection $client -Path $source
            Disconnect-Socket -Connection $client -Shutdown Send", ("client", client), ("source", source));
        Assert.True(receiving.AsyncWaitHandle.WaitOne(PowerShellHost.Wait), "the receiver did not finish");
        receiver.EndInvoke(receiving);
        Assert.Empty(receiver.Streams.Error);
        receiver.Runspace.Dispose();
        Assert.Equal(SHA256.HashData(File.ReadAllBytes(source)), SHA256.HashData(File.ReadAllBytes(target)));
    }

    private static System.Management.Automation.Runspaces.Runspace RunspaceWithModule()
    {
        var state = System.Management.Automation.Runspaces.InitialSessionState.CreateDefault2();
        state.ImportPSModule(PowerShellHost.ModulePath);
        var runspace = System.Management.Automation.Runspaces.RunspaceFactory.CreateRunspace(state);
        runspace.Open();
        return runspace;
    }

    [Fact]
    public void OutFileWithByteCountTakesExactlyThatManyAndARelativePathFollowsTheLocation()
    {
        var (client, accepted) = Pair();
        var output = _host.RunClean(@"
            Push-Location $dir
            try {
                Send-SocketData -Connection $client -InputObject ([byte[]](1..200))
                Receive-SocketData -Connection $accepted -OutFile part.bin -ByteCount 150
                (Get-Item part.bin).Length
                ,(Receive-SocketData -Connection $accepted -ByteCount 50)
            } finally { Pop-Location }", ("client", client), ("accepted", accepted), ("dir", _dir));
        Assert.Equal(150L, output[0].BaseObject);
        Assert.Equal(Enumerable.Range(151, 50).Select(i => (byte)i).ToArray(), (byte[])output[1].BaseObject);
        Assert.True(File.Exists(Path.Combine(_dir, "part.bin")));
    }

    [Fact]
    public void GetContentChunksPipeStraightIntoSendSocketData()
    {
        var (client, accepted) = Pair();
        string source = RandomFile("chunks.bin", 3 * 65536 + 17, seed: 32);
        var output = _host.RunClean(@"
            Get-Content -LiteralPath $source -AsByteStream -ReadCount 65536 | Send-SocketData -Connection $client
            Disconnect-Socket -Connection $client -Shutdown Send
            ,(Receive-SocketData -Connection $accepted -ToEnd -AsByteArray)", ("client", client), ("accepted", accepted), ("source", source));
        Assert.Equal(File.ReadAllBytes(source), (byte[])output.Single().BaseObject);
    }

    [Fact]
    public void ALongTransferWritesProgressAndACompletedRecord()
    {
        var (client, accepted) = Pair();
        using PowerShell ps = PowerShell.Create();
        ps.Runspace = _host.Runspace;
        using var progressSeen = new ManualResetEventSlim();
        ps.Streams.Progress.DataAdded += (_, _) => progressSeen.Set();
        // The sender paces its data from the moment the receive starts and keeps going until
        // progress has shown, so a slow machine cannot finish the transfer before the one second
        // progress waits for. It gives up after 30 seconds, and the assertions then fail.
        Task<int> sender = PacedSender(client, accepted, () => progressSeen.IsSet, TimeSpan.FromSeconds(30));
        ps.AddCommand("Receive-SocketData").AddParameter("Connection", accepted).AddParameter("OutFile", Path.Combine(_dir, "paced.bin"));
        ps.Invoke();
        int sent = sender.Result;
        Assert.Empty(ps.Streams.Error);
        var records = ps.Streams.Progress.ToArray();
        Assert.NotEmpty(records);
        Assert.Contains("Receiving from", records[0].Activity);
        Assert.Matches(@"KiB|MiB", records[0].StatusDescription);
        Assert.Equal(ProgressRecordType.Completed, records[^1].RecordType);
        Assert.Equal(sent, new FileInfo(Path.Combine(_dir, "paced.bin")).Length);
    }

    [Fact]
    public void ProgressPreferenceSilentlyContinueHidesProgress()
    {
        var (client, accepted) = Pair();
        using PowerShell ps = PowerShell.Create();
        ps.Runspace = _host.Runspace;
        // Paced for two seconds after the receive starts: long enough that progress would show.
        Stopwatch paced = new();
        Task<int> sender = PacedSender(client, accepted, () => paced.Elapsed > TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(30), paced);
        ps.AddScript("$ProgressPreference = 'SilentlyContinue'; Receive-SocketData -Connection $args[0] -OutFile $args[1]")
            .AddArgument(accepted).AddArgument(Path.Combine(_dir, "quiet.bin"));
        ps.Invoke();
        int sent = sender.Result;
        Assert.Empty(ps.Streams.Error);
        Assert.Empty(ps.Streams.Progress);
        Assert.Equal(sent, new FileInfo(Path.Combine(_dir, "quiet.bin")).Length);
    }

    /// <summary>
    /// Sends 64 KiB blocks every 100 ms once <paramref name="receiver"/> has a receive in progress,
    /// until <paramref name="done"/> says so (at least three blocks), then half-closes. Returns the bytes sent.
    /// </summary>
    private static Task<int> PacedSender(SocketConnection client, SocketConnection receiver, Func<bool> done, TimeSpan limit, Stopwatch? started = null) =>
        Task.Run(async () =>
        {
            byte[] block = new byte[64 * 1024];
            int sent = 0;
            Assert.True(SpinWait.SpinUntil(() => receiver.ReceiveInProgress, PowerShellHost.Wait), "the receive did not start");
            started?.Start();
            Stopwatch watch = Stopwatch.StartNew();
            for (int i = 0; i < 3 || (!done() && watch.Elapsed < limit); i++)
            {
                client.Send(block);
                sent += block.Length;
                await Task.Delay(100);
            }

            client.ShutdownSend();
            return sent;
        });

    [Fact]
    public void BulkParameterMistakesAreClearErrors()
    {
        var (client, accepted) = Pair();
        (string Name, object? Value)[] vars = { ("client", client), ("accepted", accepted) };
        Assert.Equal("InvalidArgument,SockPS.Commands.ReceiveSocketDataCommand",
            _host.RunTerminating("Receive-SocketData -Connection $accepted -OutFile x.bin -Line", vars).FullyQualifiedErrorId);
        Assert.Equal("InvalidArgument,SockPS.Commands.ReceiveSocketDataCommand",
            _host.RunTerminating("Receive-SocketData -Connection $accepted -ByteCount 3000000000", vars).FullyQualifiedErrorId);
        Assert.Equal("InvalidArgument,SockPS.Commands.SendSocketDataCommand",
            _host.RunTerminating("Send-SocketData -Connection $client -Path /etc/hostname -InputObject x", vars).FullyQualifiedErrorId);
        var (_, errors) = _host.Run("Send-SocketData -Connection $client -Path (Join-Path $dir 'missing.bin')", ("client", client), ("dir", _dir));
        Assert.Equal("PathNotFound,SockPS.Commands.SendSocketDataCommand", errors.Single().FullyQualifiedErrorId);
        Assert.Equal(ErrorCategory.ObjectNotFound, errors.Single().CategoryInfo.Category);
    }
}
