using System.Collections;
using System.Management.Automation;
using SockPS.Core;

namespace SockPS.Commands;

/// <summary>
/// <para type="synopsis">Runs a program on a connection: its standard input reads from the connection, its output goes to it (ncat -e, socat EXEC:).</para>
/// <para type="description">For each connection piped in (from Connect-Socket,
/// Wait-SocketConnection, Get-SocketConnection) the program starts with its standard input reading
/// what the peer sends, byte for byte, and its standard output (with -MergeStandardError, its
/// standard error too) going to the peer. When the peer half-closes, the program's standard input
/// ends; when the program exits, the rest of its output is sent and the connection closed; when the
/// peer resets the connection, or it is closed here, the program is stopped. The command waits until
/// then and returns a SocketProcessResult: the exit code, the bytes each way, how long it ran and
/// why it ended. Several connections are served one after the other; use -AsJob, or a server's
/// -FilePath, to serve them at once.</para>
/// <para type="description">The program gets its arguments from -ArgumentList as they are (no
/// shell), and the variables SOCKPS_REMOTE_ADDR, SOCKPS_REMOTE_PORT, SOCKPS_LOCAL_ADDR and
/// SOCKPS_LOCAL_PORT describing the connection. Received data is never evaluated; but a program
/// that is a shell (/bin/sh, cmd.exe, pwsh) runs whatever the peer sends, as you.</para>
/// </summary>
[Cmdlet(VerbsLifecycle.Start, "SocketProcess")]
[OutputType(typeof(SocketProcessResult))]
[OutputType(typeof(SockPSJob))]
public sealed class StartSocketProcessCommand : SockPSCmdlet
{
    /// <summary>The connection to run the program on, as returned by Connect-Socket,
    /// Wait-SocketConnection or Get-SocketConnection: a stream connection (TCP, TLS, Unix stream).
    /// What was received on it but not yet read goes to the program first.</summary>
    [Parameter(Mandatory = true, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [ConnectionArgumentTransformation]
    [ValidateNotNullOrEmpty]
    public SocketConnection[] Connection { get; set; } = null!;

    /// <summary>The program to run: a path, or a name looked up on PATH as a shell would (cat,
    /// python3, cmd.exe). A relative path is taken from the current location.</summary>
    [Parameter(Mandatory = true, Position = 0)]
    [ValidateNotNullOrEmpty]
    public string FilePath { get; set; } = null!;

    /// <summary>The program's arguments, each passed to it as it is: no shell splits, quotes or
    /// expands them.</summary>
    [Parameter(Position = 1)]
    [ValidateNotNull]
    [AllowEmptyString]
    public string[]? ArgumentList { get; set; }

    /// <summary>The folder the program starts in. Default: the current location.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? WorkingDirectory { get; set; }

    /// <summary>Send what the program writes to standard error to the peer too, mixed with its
    /// standard output (2>&amp;1). Otherwise the peer gets standard output only, and the last 4 KiB
    /// of standard error are in the result's StandardError.</summary>
    [Parameter]
    public SwitchParameter MergeStandardError { get; set; }

    /// <summary>Environment variables to set for the program, as a hashtable (@{ LANG = 'C' });
    /// $null as a value removes one. The rest is inherited from this session.</summary>
    [Parameter]
    [ValidateNotNull]
    public IDictionary? Environment { get; set; }

    /// <summary>Run as a job in this process (as Start-ThreadJob does) and return the job at once:
    /// Receive-Job returns the result, and Stop-Job stops the program and closes the connection.</summary>
    [Parameter]
    public SwitchParameter AsJob { get; set; }

    /// <inheritdoc/>
    protected override bool RunsAsJob => AsJob;

    private SocketProcessOptions? _program;

    /// <inheritdoc/>
    protected override void BeginProcessingCore()
    {
        try
        {
            _program = ProcessParameters.Build(this, FilePath, ArgumentList, WorkingDirectory, MergeStandardError, Environment);
        }
        catch (SocketOperationException ex)
        {
            ThrowTerminatingError(ErrorRecords.From(ex, ex.EndPoint ?? FilePath));
        }
    }

    /// <inheritdoc/>
    protected override void ProcessRecordCore()
    {
        foreach (SocketConnection connection in DeserializedTargets.Live(this, Connection))
        {
            SocketProcessResult result;
            try
            {
                ProcessBridge bridge = new(connection, _program!);
                WriteVerbose($"Running {_program!.FilePath} on {connection}.");
                result = Await(bridge.RunAsync(StopToken));
            }
            catch (SocketOperationException ex)
            {
                WriteSocketError(ex, connection);
                continue;
            }

            if (StopToken.IsCancellationRequested)
            {
                throw new PipelineStoppedException();
            }

            WriteObject(result);
        }
    }
}
