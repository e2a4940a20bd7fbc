using System.Collections.Generic;
using System.Management.Automation;
using System.Net;
using System.Net.Sockets;
using SockPS.Core;

namespace SockPS.Commands;

/// <summary>
/// <para type="synopsis">Resolves host names to every address they have, with a port.</para>
/// <para type="description">What Python's socket.getaddrinfo does. Returns one object per address,
/// in the order the resolver gives them (the order Connect-Socket tries them in), with the port
/// resolved from a number or a service name. An IP address resolves to itself. A name that does not
/// resolve is a non-terminating HostNotFound error.</para>
/// </summary>
[Cmdlet(VerbsDiagnostic.Resolve, "SocketAddress")]
[OutputType(typeof(ResolvedAddress))]
public sealed class ResolveSocketAddressCommand : SockPSCmdlet
{
    /// <summary>The host names or IP addresses (IPv4 or IPv6) to resolve.</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [Alias("HostName", "Host", "CN")]
    [ValidateNotNullOrEmpty]
    public string[] ComputerName { get; set; } = null!;

    /// <summary>A port to put in every result: a number, a numeric string or a service name such as
    /// http (looked up among the TCP services unless -Protocol Udp). Default: 0.</summary>
    [Parameter(Position = 1, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    public string? Port { get; set; }

    /// <summary>Which services -Port names are looked up among: Tcp (the default) or Udp.</summary>
    [Parameter]
    public SocketProtocol Protocol { get; set; } = SocketProtocol.Tcp;

    /// <summary>Return only IPv4 (InterNetwork) or only IPv6 (InterNetworkV6) addresses. By default
    /// both are returned.</summary>
    [Parameter]
    [ValidateSet(nameof(System.Net.Sockets.AddressFamily.InterNetwork), nameof(System.Net.Sockets.AddressFamily.InterNetworkV6))]
    public AddressFamily? AddressFamily { get; set; }

    /// <inheritdoc/>
    protected override void ProcessRecordCore()
    {
        int port = 0;
        if (Port is not null)
        {
            try
            {
                port = ServicePorts.Resolve(Port, Protocol == SocketProtocol.Udp ? "udp" : "tcp", allowZero: true);
            }
            catch (SocketOperationException ex)
            {
                ThrowTerminatingError(ErrorRecords.From(ex, Port));
            }
        }

        foreach (string name in ComputerName)
        {
            try
            {
                IReadOnlyList<IPAddress> addresses = Await(SocketConnector.ResolveAsync(name, AddressFamily, StopToken));
                foreach (IPAddress address in addresses)
                {
                    WriteObject(new ResolvedAddress(name, address, port));
                }
            }
            catch (SocketOperationException ex)
            {
                WriteSocketError(ex, name);
            }
        }
    }
}
