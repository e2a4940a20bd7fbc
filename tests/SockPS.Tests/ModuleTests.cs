using System.Linq;
using SockPS.Commands;
using SockPS.Core;
using Xunit;

namespace SockPS.Tests;

// Remove-Module closes every socket in the process, so this class must not run beside others.
[Collection("Module")]
public class ModuleTests
{
    [Fact]
    public void RemoveModuleClosesEverySocketTheModuleOpened()
    {
        using PowerShellHost host = new();
        var output = host.RunClean(@"
            $server = Start-SocketServer
            $client = Connect-Socket -ComputerName 127.0.0.1 -Port $server.Port
            $accepted = Wait-SocketConnection -Server $server -TimeoutSeconds 20
            $server, $client, $accepted
            Remove-Module SockPS");
        var server = (SocketServer)output[0].BaseObject;
        var client = (SocketConnection)output[1].BaseObject;
        var accepted = (SocketConnection)output[2].BaseObject;
        Assert.Equal(ServerState.Stopped, server.State);
        Assert.Equal(SocketState.Disconnected, client.State);
        Assert.Equal(SocketState.Disconnected, accepted.State);
        // Whichever end closed first saw its own reason; the other may have seen the peer close first.
        Assert.Contains("The SockPS module was removed.", new[] { client.CloseReason, accepted.CloseReason });
        Assert.DoesNotContain(client, SocketRegistry.Connections);
    }
}
