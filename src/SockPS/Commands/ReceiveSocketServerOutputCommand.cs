using System.Management.Automation;
using SockPS.Core;

namespace SockPS.Commands;

/// <summary>
/// <para type="synopsis">Returns what a server's -ScriptBlock handlers wrote (their output objects and errors), or its -FilePath programs' results.</para>
/// <para type="description">Handlers run in background runspaces, so their output and errors are
/// kept on the server. This returns them oldest first: output objects (each with a
/// SocketConnection note property naming the connection it came from) and, on the error stream,
/// handler errors as ErrorRecords with the id HandlerError and the connection as their target.
/// They are taken unless -Keep is given. Up to 10,000 records are kept per server; older ones are
/// dropped first. After the server stops they stay readable for as long as the server object is
/// kept (in a variable, say); the server's handlers themselves are gone by then. On a server
/// started with -FilePath the output is one SocketProcessResult per program that ran (its exit
/// code, bytes and why it ended), and a program that could not start is a HandlerError whose
/// OriginalErrorId is ProgramStartFailed.</para>
/// </summary>
[Cmdlet(VerbsCommunications.Receive, "SocketServerOutput", DefaultParameterSetName = ServerSet)]
[OutputType(typeof(PSObject))]
public sealed class ReceiveSocketServerOutputCommand : ServerCmdlet
{
    /// <summary>Leave the records on the server, so a later call returns them again. By default they
    /// are taken.</summary>
    [Parameter]
    public SwitchParameter Keep { get; set; }

    /// <inheritdoc/>
    protected override void ProcessRecordCore()
    {
        foreach (SocketServer server in TargetServers())
        {
            ScriptBlockHandlerHost? host = ScriptBlockHandlerHost.For(server);
            if (host is null)
            {
                WriteError(ErrorRecords.InvalidArgument(
                    $"The server {server.Name} has no -ScriptBlock handler or -FilePath program, so there is no handler output. Start it with Start-SocketServer -ScriptBlock or -FilePath.", server, "NoHandler"));
                continue;
            }

            foreach (object record in host.TakeOutput(Keep))
            {
                if (record is ErrorRecord error)
                {
                    WriteError(error);
                }
                else
                {
                    WriteObject(record);
                }
            }
        }
    }
}
