using System;
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
        // The sender paces its data so the transfer outlasts the one second before progress shows.
        Task sender = Task.Run(async () =>
        {
            byte[] block = new byte[64 * 1024];
            for (int i = 0; i < 12; i++)
            {
                client.Send(block);
                await Task.Delay(120);
            }

            client.ShutdownSend();
        });
        using PowerShell ps = PowerShell.Create();
        ps.Runspace = _host.Runspace;
        ps.AddCommand("Receive-SocketData").AddParameter("Connection", accepted).AddParameter("OutFile", Path.Combine(_dir, "paced.bin"));
        ps.Invoke();
        sender.Wait(PowerShellHost.Wait);
        Assert.Empty(ps.Streams.Error);
        var records = ps.Streams.Progress.ToArray();
        Assert.NotEmpty(records);
        Assert.Contains("Receiving from", records[0].Activity);
        Assert.Matches(@"KiB|MiB", records[0].StatusDescription);
        Assert.Equal(ProgressRecordType.Completed, records[^1].RecordType);
        Assert.Equal(12 * 64 * 1024, new FileInfo(Path.Combine(_dir, "paced.bin")).Length);
    }

    [Fact]
    public void ProgressPreferenceSilentlyContinueHidesProgress()
    {
        var (client, accepted) = Pair();
        Task sender = Task.Run(async () =>
        {
            byte[] block = new byte[64 * 1024];
            for (int i = 0; i < 12; i++)
            {
                client.Send(block);
                await Task.Delay(120);
            }

            client.ShutdownSend();
        });
        using PowerShell ps = PowerShell.Create();
        ps.Runspace = _host.Runspace;
        ps.AddScript("$ProgressPreference = 'SilentlyContinue'; Receive-SocketData -Connection $args[0] -OutFile $args[1]")
            .AddArgument(accepted).AddArgument(Path.Combine(_dir, "quiet.bin"));
        ps.Invoke();
        sender.Wait(PowerShellHost.Wait);
        Assert.Empty(ps.Streams.Error);
        Assert.Empty(ps.Streams.Progress);
        Assert.Equal(12 * 64 * 1024, new FileInfo(Path.Combine(_dir, "quiet.bin")).Length);
    }

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
