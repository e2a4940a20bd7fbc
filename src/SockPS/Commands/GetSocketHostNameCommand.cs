using System.Management.Automation;
using System.Net;
using System.Net.Sockets;

namespace SockPS.Commands;

/// <summary>
/// <para type="synopsis">Returns this machine's host name.</para>
/// <para type="description">What Python's socket.gethostname does: returns the host name as the OS
/// reports it. With -FullyQualified it returns the canonical name the resolver gives for the host
/// name, such as web01.corp.contoso.com, or the host name itself when the resolver knows no other
/// (-Verbose says why).</para>
/// </summary>
[Cmdlet(VerbsCommon.Get, "SocketHostName")]
[OutputType(typeof(string))]
public sealed class GetSocketHostNameCommand : SockPSCmdlet
{
    /// <summary>Return the fully qualified domain name the resolver gives for the host name instead
    /// of the host name alone. Off by default.</summary>
    [Parameter]
    public SwitchParameter FullyQualified { get; set; }

    /// <inheritdoc/>
    protected override void EndProcessingCore()
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
