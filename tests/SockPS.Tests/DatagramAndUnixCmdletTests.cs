using System;
using System.IO;
using System.Linq;
using System.Management.Automation;
using System.Net;
using SockPS.Core;
using Xunit;

namespace SockPS.Tests;

[Collection("Module")]
public sealed class DatagramAndUnixCmdletTests : IDisposable
{
    private readonly PowerShellHost _host = new();
    private readonly string _dir = Directory.CreateTempSubdirectory("sockps-cmdlet-").FullName;

    public void Dispose()
    {
        _host.Run("Get-SocketConnection | Disconnect-Socket; Get-SocketServer | Stop-SocketServer");
        _host.Dispose();
        Directory.Delete(_dir, recursive: true);
    }

    [Fact]
    public void AUdpServerReceivesDatagramObjectsAndPipingOneRepliesToItsSender()
    {
        var output = _host.RunClean(@"
            $server = Start-SocketServer -Protocol Udp
            $client = Connect-Socket -Protocol Udp -ComputerName 127.0.0.1 -Port $server.Port
            'ping one', 'ping two' | Send-SocketData -Connection $client
            $first = Receive-SocketData -Connection $server
            $first | Send-SocketData -InputObject 'pong'
            $reply = Receive-SocketData -Connection $client
            $second = Receive-SocketData -Connection $server
            $server, $client, $first, $reply, $second");
        var server = (SocketServer)output[0].BaseObject;
        var client = (SocketConnection)output[1].BaseObject;
        var first = (SocketDatagram)output[2].BaseObject;
        var reply = (SocketDatagram)output[3].BaseObject;
        Assert.Equal(SocketProtocol.Udp, server.Protocol);
        Assert.Equal("ping one", first.Text);
        Assert.Equal(client.LocalEndPoint, first.RemoteEndPoint);
        Assert.Same(server.DatagramSocket, first.Connection);
        Assert.Equal("pong", reply.Text);
        Assert.Equal(server.LocalEndPoint, reply.RemoteEndPoint);
        Assert.Equal("ping two", ((SocketDatagram)output[4].BaseObject).Text);
    }

    [Fact]
    public void ReceiveContinuousPipedToSendIsAUdpEchoServer()
    {
        var output = _host.RunClean(@"
            $server = Start-SocketServer -Protocol Udp
            $client = Connect-Socket -Protocol Udp -ComputerName 127.0.0.1 -Port $server.Port
            [byte[]]$bytes = 1..200
            Send-SocketData -Connection $client -InputObject 'one'
            Send-SocketData -Connection $client -InputObject $bytes
            $bytes | Send-SocketData -Connection $client
            Receive-SocketData -Connection $server -Continuous | Select-Object -First 3 | Send-SocketData
            (Receive-SocketData -Connection $client).Text
            ,(Receive-SocketData -Connection $client -AsByteArray)
            (Receive-SocketData -Connection $client).Length");
        Assert.Equal("one", output[0].BaseObject);
        Assert.Equal(Enumerable.Range(1, 200).Select(i => (byte)i).ToArray(), (byte[])output[1].BaseObject);
        Assert.Equal(200, output[2].BaseObject); // an unrolled byte array is still one datagram
    }

    [Fact]
    public void SendToGoesToRemoteEndPointGivenAsText()
    {
        var output = _host.RunClean(@"
            $a = Start-SocketServer -Protocol Udp
            $b = Start-SocketServer -Protocol Udp
            Send-SocketData -Connection $a -InputObject 'hi b' -RemoteEndPoint ""127.0.0.1:$($b.Port)"" -Line
            Receive-SocketData -Connection $b | Select-Object Text, RemoteEndPoint
            $a.Port");
        Assert.Equal("hi b\n", output[0].Properties["Text"].Value);
        Assert.Equal(new IPEndPoint(IPAddress.Loopback, (int)output[1].BaseObject), output[0].Properties["RemoteEndPoint"].Value);
    }

    [Fact]
    public void DatagramErrorsHaveStableIds()
    {
        var (_, errors) = _host.Run(@"
            $server = Start-SocketServer -Protocol Udp
            $client = Connect-Socket -Protocol Udp -ComputerName 127.0.0.1 -Port $server.Port
            Send-SocketData -Connection $client -InputObject ([byte[]]::new(65508))
            Send-SocketData -Connection $server -InputObject 'nowhere'
            Receive-SocketData -Connection $server -Line
            Wait-SocketConnection -Server $server
            Send-SocketData -Connection $server -InputObject x -RemoteEndPoint '127.255.255.255:9'");
        Assert.Equal(new[]
        {
            "DatagramTooLarge,SockPS.Commands.SendSocketDataCommand",
            "InvalidArgument,SockPS.Commands.SendSocketDataCommand",
            "InvalidArgument,SockPS.Commands.ReceiveSocketDataCommand",
            "InvalidArgument,SockPS.Commands.WaitSocketConnectionCommand",
            "AccessDenied,SockPS.Commands.SendSocketDataCommand",
        }, errors.Select(e => e.FullyQualifiedErrorId).ToArray());
        Assert.Equal(ErrorCategory.InvalidArgument, errors[0].CategoryInfo.Category);
        Assert.Contains("Nothing was sent", errors[0].ToString());
    }

    [Fact]
    public void BroadcastIsAFlagOnConnectAndServer()
    {
        var output = _host.RunClean(@"
            $listener = Start-SocketServer -Protocol Udp -Address Any
            $sender = Connect-Socket -Protocol Udp -ComputerName 127.255.255.255 -Port $listener.Port -Broadcast
            Send-SocketData -Connection $sender -InputObject 'broadcast'
            (Receive-SocketData -Connection $listener).Text
            $sender.Broadcast
            (Start-SocketServer -Protocol Udp -Broadcast).DatagramSocket.Broadcast");
        Assert.Equal(new object[] { "broadcast", true, true }, output.Select(o => o.BaseObject).ToArray());

        ErrorRecord error = _host.RunTerminating("Start-SocketServer -Broadcast");
        Assert.Equal("InvalidArgument,SockPS.Commands.StartSocketServerCommand", error.FullyQualifiedErrorId);
    }

    [Fact]
    public void AUdpServerJoinsAMulticastGroup()
    {
        var output = _host.RunClean(@"
            $member = Start-SocketServer -Protocol Udp -Address Any -MulticastGroup 239.255.77.2 -MulticastInterface 127.0.0.1
            $sender = [System.Net.Sockets.Socket]::new('InterNetwork', 'Dgram', 'Udp')
            $sender.SetSocketOption('IP', 'MulticastInterface', [System.Net.IPAddress]::Loopback.GetAddressBytes())
            $null = $sender.SendTo([System.Text.Encoding]::UTF8.GetBytes('group message'), [System.Net.IPEndPoint]::new([System.Net.IPAddress]::Parse('239.255.77.2'), $member.Port))
            $sender.Dispose()
            (Receive-SocketData -Connection $member).Text");
        Assert.Equal("group message", output.Single().BaseObject);
    }

    [Fact]
    public void AUnixStreamConversationThroughTheCmdlets()
    {
        string path = Path.Combine(_dir, "app.sock");
        var output = _host.RunClean(@"
            $server = Start-SocketServer -Path $path
            $client = Connect-Socket -Uri ""unix://$path""
            $accepted = Wait-SocketConnection -Server $server -TimeoutSeconds 20
            Send-SocketData -Connection $client -InputObject 'GET /info' -Line
            Receive-SocketData -Connection $accepted -Line
            $server.Transport
            Stop-SocketServer -Server $server
            Test-Path $path", ("path", path));
        Assert.Equal(new object[] { "GET /info", "Unix", false }, output.Select(o => o.BaseObject).ToArray());
    }

    [Fact]
    public void AUnixDatagramConversationThroughTheCmdlets()
    {
        string path = Path.Combine(_dir, "dgram.sock");
        var output = _host.RunClean(@"
            $server = Start-SocketServer -Path $path -Protocol Udp
            $client = Connect-Socket -Path $path -Protocol Udp
            Send-SocketData -Connection $client -InputObject 'unix datagram'
            $d = Receive-SocketData -Connection $server
            $d | Send-SocketData -InputObject 'unix reply'
            $d.Text
            (Receive-SocketData -Connection $client).Text", ("path", path));
        Assert.Equal(new object[] { "unix datagram", "unix reply" }, output.Select(o => o.BaseObject).ToArray());
    }

    [Fact]
    public void UnixErrorsHaveStableIds()
    {
        string live = Path.Combine(_dir, "live.sock");
        _host.RunClean("$null = Start-SocketServer -Path $live", ("live", live));
        ErrorRecord inUse = _host.RunTerminating("Start-SocketServer -Path $live", ("live", live));
        Assert.Equal("AddressInUse,SockPS.Commands.StartSocketServerCommand", inUse.FullyQualifiedErrorId);
        Assert.Equal(ErrorCategory.ResourceUnavailable, inUse.CategoryInfo.Category);

        var (_, errors) = _host.Run("Connect-Socket -Path $missing", ("missing", Path.Combine(_dir, "missing.sock")));
        Assert.Equal("HostNotFound,SockPS.Commands.ConnectSocketCommand", errors.Single().FullyQualifiedErrorId);

        ErrorRecord badUri = _host.RunTerminating("Connect-Socket -Uri unix://relative/path");
        Assert.Equal("InvalidUri,SockPS.Commands.ConnectSocketCommand", badUri.FullyQualifiedErrorId);
    }

    [Fact]
    public void IPv6LoopbackAndBracketedUris()
    {
        var output = _host.RunClean(@"
            $server = Start-SocketServer -AddressFamily InterNetworkV6
            $client = Connect-Socket -Uri ""tcp://[::1]:$($server.Port)""
            $accepted = Wait-SocketConnection -Server $server -TimeoutSeconds 20
            Send-SocketData -Connection $client -InputObject 'v6' -Line
            Receive-SocketData -Connection $accepted -Line
            $server.LocalEndPoint.Address.ToString()
            $udp = Start-SocketServer -Protocol Udp -Address ::1
            $u = Connect-Socket -Uri ""udp://[::1]:$($udp.Port)""
            Send-SocketData -Connection $u -InputObject 'v6 datagram'
            (Receive-SocketData -Connection $udp).Text");
        Assert.Equal(new object[] { "v6", "::1", "v6 datagram" }, output.Select(o => o.BaseObject).ToArray());

        ErrorRecord mismatch = _host.RunTerminating("Start-SocketServer -Address 127.0.0.1 -AddressFamily InterNetworkV6");
        Assert.Equal("InvalidArgument,SockPS.Commands.StartSocketServerCommand", mismatch.FullyQualifiedErrorId);
    }

    [Fact]
    public void ResolveSocketAddressReturnsEveryAddressWithItsPort()
    {
        var output = _host.RunClean("Resolve-SocketAddress -ComputerName localhost, ::1 -Port smtp");
        var addresses = output.Select(o => (ResolvedAddress)o.BaseObject).ToArray();
        Assert.Contains(addresses, a => a.ComputerName == "localhost" && a.Address.Equals(IPAddress.Loopback) && a.Port == 25);
        Assert.Contains(addresses, a => a.ComputerName == "::1" && a.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6);

        Assert.Equal(53, _host.RunClean("(Resolve-SocketAddress 127.0.0.1 -Port domain -Protocol Udp).Port").Single().BaseObject);
        ErrorRecord unknown = _host.RunTerminating("Resolve-SocketAddress localhost -Port no-such-service");
        Assert.Equal("InvalidArgument,SockPS.Commands.ResolveSocketAddressCommand", unknown.FullyQualifiedErrorId);
        var (_, errors) = _host.Run("Resolve-SocketAddress no-such-host.invalid");
        Assert.Equal("HostNotFound,SockPS.Commands.ResolveSocketAddressCommand", errors.Single().FullyQualifiedErrorId);
    }

    [Fact]
    public void SocketOptionsReachTheSocketAndUnknownKeysAreNamed()
    {
        var output = _host.RunClean(@"
            $server = Start-SocketServer -Protocol Udp -SocketOption @{ ReceiveBufferSize = 65536; Ttl = 9 }
            $server.DatagramSocket.ReceiveTimeoutSeconds");
        Assert.Single(output);
        ErrorRecord bad = _host.RunTerminating("Connect-Socket -ComputerName 127.0.0.1 -Port 9 -SocketOption @{ RecieveBufferSize = 1 }");
        Assert.Equal("InvalidArgument,SockPS.Commands.ConnectSocketCommand", bad.FullyQualifiedErrorId);
        Assert.Contains("ReceiveBufferSize, SendBufferSize, Ttl, ReuseAddress, Linger, DontFragment", bad.ToString());
        Assert.Contains("RecieveBufferSize", bad.ToString());
    }

    [Fact]
    public void ServiceNamesWorkInEveryPort()
    {
        var (_, errors) = _host.Run("Connect-Socket -ComputerName 127.0.0.1 -Port discard -TimeoutSeconds 5");
        // Nothing listens on discard (9) here: the name resolved to a port, and the connect was refused there.
        Assert.Equal("ConnectionRefused,SockPS.Commands.ConnectSocketCommand", errors.Single().FullyQualifiedErrorId);
        Assert.Contains("127.0.0.1:9", errors.Single().ToString());
    }
}
