using System.Collections.Generic;
using System.Management.Automation;
using System.Net;
using System.Net.Sockets;
using SockPS.Core;

namespace SockPS.Commands;

/// <summary>
/// <para type="synopsis">Resolves host names to every address they have (the seed's getaddrinfo).</para>
/// <para type="description">Returns one object per address, in the order the resolver gives them
/// (the order Connect-Socket tries them in), with the port resolved from a number or service
/// name. An IP address resolves to itself.</para>
/// </summary>
[Cmdlet(VerbsDiagnostic.Resolve, "SocketAddress")]
[OutputType(typeof(ResolvedAddress))]
public sealed class ResolveSocketAddressCommand : SockPSCmdlet
{
    /// <summary>The names or addresses to resolve.</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [Alias("HostName", "Host", "CN")]
    [ValidateNotNullOrEmpty]
    public string[] ComputerName { get; set; } = null!;

    /// <summary>A port to attach: a number, a numeric string or a service name (tcp names unless -Protocol Udp).</summary>
    [Parameter(Position = 1, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    public string? Port { get; set; }

    /// <summary>Which service table -Port names come from: Tcp (default) or Udp.</summary>
    [Parameter]
    public SocketProtocol Protocol { get; set; } = SocketProtocol.Tcp;

    /// <summary>Only IPv4 (InterNetwork) or only IPv6 (InterNetworkV6) addresses.</summary>
    [Parameter]
    [ValidateSet(nameof(System.Net.Sockets.AddressFamily.InterNetwork), nameof(System.Net.Sockets.AddressFamily.InterNetworkV6))]
    public AddressFamily? AddressFamily { get; set; }

    /// <inheritdoc/>
    protected override void ProcessRecord()
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
