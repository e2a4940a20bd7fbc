using System.Management.Automation;
using System.Net;
using System.Net.Sockets;

namespace SockPS.Commands;

/// <summary>
/// <para type="synopsis">Returns this machine's host name (the seed's gethostname).</para>
/// <para type="description">Returns the host name as the OS reports it; with -FullyQualified, the
/// canonical name the resolver gives for it (the host name itself when the resolver knows no other).</para>
/// </summary>
[Cmdlet(VerbsCommon.Get, "SocketHostName")]
[OutputType(typeof(string))]
public sealed class GetSocketHostNameCommand : SockPSCmdlet
{
    /// <summary>Return the fully qualified domain name.</summary>
    [Parameter]
    public SwitchParameter FullyQualified { get; set; }

    /// <inheritdoc/>
    protected override void EndProcessing()
    {
        string name = Dns.GetHostName();
        if (FullyQualified)
        {
            try
            {
                name = Dns.GetHostEntry(name).HostName;
            }
            catch (SocketException ex)
            {
                WriteVerbose($"The resolver knows no fully qualified name for '{name}' ({ex.Message}); returning the host name.");
            }
        }

        WriteObject(name);
    }
}
