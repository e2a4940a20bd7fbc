using System.Collections.Generic;
using System.Management.Automation;
using SockPS.Core;

namespace SockPS.Commands;

/// <summary>Base for cmdlets that act on relays given as -Relay (pipeline), -Id or -Name.</summary>
public abstract class RelayCmdlet : SockPSCmdlet
{
    /// <summary>Parameter set: relay objects.</summary>
    protected const string RelaySet = "Relay";

    /// <summary>Parameter set: relay ids.</summary>
    protected const string IdSet = "Id";

    /// <summary>Parameter set: relay names.</summary>
    protected const string NameSet = "Name";

    /// <summary>The relay, as returned by Start-SocketRelay or Get-SocketRelay.</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ParameterSetName = RelaySet)]
    [ValidateNotNullOrEmpty]
    [RelayArgumentTransformation]
    public SocketRelay[] Relay { get; set; } = null!;

    /// <summary>The Ids of the relays, as Get-SocketRelay shows them.</summary>
    [Parameter(Mandatory = true, ValueFromPipelineByPropertyName = true, ParameterSetName = IdSet)]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(RelayCompleter))]
    public int[] Id { get; set; } = null!;

    /// <summary>The names of the relays; wildcards are allowed.</summary>
    [Parameter(Mandatory = true, ValueFromPipelineByPropertyName = true, ParameterSetName = NameSet)]
    [ValidateNotNullOrEmpty]
    [SupportsWildcards]
    [ArgumentCompleter(typeof(RelayCompleter))]
    public string[] Name { get; set; } = null!;

    /// <summary>The relays named by whichever parameter was used; RelayNotFound for the rest.</summary>
    protected IReadOnlyList<SocketRelay> TargetRelays() => ParameterSetName switch
    {
        IdSet => Targets.Find(this, Id, null, SocketRegistry.GetRelay, () => SocketRegistry.Relays, r => r.Name, "relay", "RelayNotFound"),
        NameSet => Targets.Find(this, null, Name, SocketRegistry.GetRelay, () => SocketRegistry.Relays, r => r.Name, "relay", "RelayNotFound"),
        _ => DeserializedTargets.Live(this, Relay),
    };
}

/// <summary>
/// <para type="synopsis">Stops relays: closes the listener and every forwarded connection.</para>
/// <para type="description">Stops forwarding: the relay's listener closes (a -ListenPath socket file
/// is removed), every forwarded connection is closed on both sides, and the relay leaves
/// Get-SocketRelay. Supports -WhatIf and -Confirm.</para>
/// </summary>
[Cmdlet(VerbsLifecycle.Stop, "SocketRelay", DefaultParameterSetName = RelaySet, SupportsShouldProcess = true)]
[OutputType(typeof(SocketRelay))]
public sealed class StopSocketRelayCommand : RelayCmdlet
{
    /// <summary>Output each stopped relay (its State is Stopped). By default nothing is output.</summary>
    [Parameter]
    public SwitchParameter PassThru { get; set; }

    /// <inheritdoc/>
    protected override void ProcessRecordCore()
    {
        foreach (SocketRelay relay in TargetRelays())
        {
            if (ShouldProcess(relay.ToString(), "Stop relay"))
            {
                relay.Stop();
                if (PassThru)
                {
                    WriteObject(relay);
                }
            }
        }
    }
}

/// <summary>
/// <para type="synopsis">Lists the running relays.</para>
/// <para type="description">Returns the running relays of this process, whichever runspace started
/// them, ordered by Id: a snapshot of the process-wide registry. -Id and -Name (wildcards allowed)
/// pick relays; an Id or exact name that no relay has is a RelayNotFound error.</para>
/// </summary>
[Cmdlet(VerbsCommon.Get, "SocketRelay", DefaultParameterSetName = AllSet)]
[OutputType(typeof(SocketRelay))]
public sealed class GetSocketRelayCommand : SockPSCmdlet
{
    private const string AllSet = "All";
    private const string IdSet = "Id";
    private const string NameSet = "Name";

    /// <summary>Only the relays with these Ids. Default: every relay.</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true, ParameterSetName = IdSet)]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(RelayCompleter))]
    public int[] Id { get; set; } = null!;

    /// <summary>Only the relays with these names; wildcards are allowed. Default: every relay.</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true, ParameterSetName = NameSet)]
    [ValidateNotNullOrEmpty]
    [SupportsWildcards]
    [ArgumentCompleter(typeof(RelayCompleter))]
    public string[] Name { get; set; } = null!;

    /// <inheritdoc/>
    protected override void ProcessRecordCore()
    {
        IEnumerable<SocketRelay> found = ParameterSetName switch
        {
            IdSet => Targets.Find(this, Id, null, SocketRegistry.GetRelay, () => SocketRegistry.Relays, r => r.Name, "relay", "RelayNotFound"),
            NameSet => Targets.Find(this, null, Name, SocketRegistry.GetRelay, () => SocketRegistry.Relays, r => r.Name, "relay", "RelayNotFound"),
            _ => SocketRegistry.Relays,
        };

        foreach (SocketRelay relay in found)
        {
            WriteObject(relay);
        }
    }
}

/// <summary>Resolves a deserialized relay (from a job or a remote session) given as -Relay: the
/// live one when this process made it, else a stand-in that reports RelayInOtherProcess.</summary>
[System.AttributeUsage(System.AttributeTargets.Property | System.AttributeTargets.Field)]
public sealed class RelayArgumentTransformationAttribute : ArgumentTransformationAttribute
{
    /// <inheritdoc/>
    public override object Transform(EngineIntrinsics engineIntrinsics, object inputData) =>
        DeserializedTargets.Transform<SocketRelay>(inputData, "relay", SocketRegistry.GetRelay, r => r.InstanceId);
}
