using System;
using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;
using System.Text.RegularExpressions;
using System.Threading.Tasks;
using SockPS.Core;

namespace SockPS.Commands;

/// <summary>
/// <para type="synopsis">Waits until connections have data to read (select), or until their text matches a pattern (expect).</para>
/// <para type="description">Without -Pattern, returns the connections that have data to read or
/// were closed: with -Any as soon as one does (every one that does at that moment), without it
/// once all do. Nothing is read. On timeout it returns nothing, as select() does. With -Pattern,
/// waits until the text buffered on a connection matches the regular expression, consumes it
/// through the end of the match, and returns the match; the rest stays buffered. A pattern that
/// does not match in time is a ReceiveTimeout error and consumes nothing.</para>
/// </summary>
[Cmdlet(VerbsLifecycle.Wait, "SocketData", DefaultParameterSetName = ConnectionSet)]
[OutputType(typeof(SocketConnection), typeof(SocketPatternMatch))]
public sealed class WaitSocketDataCommand : ConnectionCmdlet
{
    private readonly List<SocketConnection> _targets = new();

    /// <summary>Return as soon as any connection is ready (with -Pattern: the first match on any).
    /// Without it, wait until every connection is ready.</summary>
    [Parameter]
    public SwitchParameter Any { get; set; }

    /// <summary>Seconds to wait; 0 waits forever. Default: forever without -Pattern (select),
    /// 30 with -Pattern (as pexpect), so a pattern that never matches cannot hang a script. When
    /// the time runs out, Wait-SocketData returns nothing, or with -Pattern writes a
    /// ReceiveTimeout error that shows the end of what arrived.</summary>
    [Parameter]
    [ValidateSeconds]
    public double TimeoutSeconds { get; set; }

    /// <summary>A regular expression (.NET syntax) to wait for in the buffered text, decoded
    /// with each connection's encoding. Case-insensitive, like -match, Select-String and switch
    /// -Regex, unless -CaseSensitive is given. The text is consumed through the end of the match.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? Pattern { get; set; }

    /// <summary>Match -Pattern with case, like -cmatch.</summary>
    [Parameter]
    public SwitchParameter CaseSensitive { get; set; }

    /// <summary>The default wait for a -Pattern: pexpect's 30 seconds.</summary>
    public static TimeSpan DefaultPatternTimeout { get; } = TimeSpan.FromSeconds(30);

    /// <inheritdoc/>
    protected override void ProcessRecordCore()
    {
        foreach (SocketConnection connection in TargetConnections())
        {
            if (connection.State == SocketState.Disconnected)
            {
                // select() on a closed descriptor is an error too: nothing can arrive here.
                WriteSocketError(SocketErrors.Closed(connection.PeerText), connection);
                continue;
            }

            if (!_targets.Contains(connection))
            {
                _targets.Add(connection);
            }
        }
    }

    /// <inheritdoc/>
    protected override void EndProcessingCore()
    {
        if (_targets.Count == 0)
        {
            return;
        }

        TimeSpan timeout = Pattern is not null && !MyInvocation.BoundParameters.ContainsKey(nameof(TimeoutSeconds))
            ? DefaultPatternTimeout
            : Seconds(TimeoutSeconds, nameof(TimeoutSeconds));
        if (Pattern is null)
        {
            Select(timeout);
            return;
        }

        Regex regex;
        try
        {
            regex = new Regex(Pattern, RegexOptions.CultureInvariant | (CaseSensitive ? RegexOptions.None : RegexOptions.IgnoreCase));
        }
        catch (ArgumentException ex)
        {
            ThrowInvalidArgument($"-Pattern is not a valid regular expression: {ex.Message}", Pattern);
            return;
        }

        if (Any && _targets.Count > 1)
        {
            ExpectAny(regex, timeout);
            return;
        }

        foreach (SocketConnection connection in _targets)
        {
            try
            {
                SocketPatternMatch? match = Await(connection.WaitForPatternAsync(regex, timeout, StopToken));
                if (match is null)
                {
                    WriteVerbose($"{connection.PeerText} closed the connection before the text matched.");
                }
                else
                {
                    WriteObject(match);
                }
            }
            catch (SocketOperationException ex)
            {
                WriteSocketError(ex, connection);
            }
        }
    }

    private void Select(TimeSpan timeout)
    {
        Task[] waits = _targets.Select(c => c.WhenReadableAsync(StopToken)).ToArray();
        Task all = Any ? Task.WhenAny(waits) : Task.WhenAll(waits);
        try
        {
            bool done = timeout > TimeSpan.Zero ? all.Wait((int)Math.Min(int.MaxValue, timeout.TotalMilliseconds), StopToken) : WaitForever(all);
            if (!done)
            {
                WriteVerbose($"No connection became readable within {timeout.TotalSeconds} seconds.");
            }
        }
        catch (OperationCanceledException) when (StopToken.IsCancellationRequested)
        {
            throw new PipelineStoppedException();
        }

        foreach (SocketConnection connection in _targets)
        {
            if (connection.IsReadable && (Any || waits.All(w => w.IsCompleted)))
            {
                WriteObject(connection);
            }
        }
    }

    private bool WaitForever(Task task)
    {
        task.Wait(StopToken);
        return true;
    }

    /// <summary>The first match on any connection; the other waits are stopped and consume nothing.</summary>
    private void ExpectAny(Regex regex, TimeSpan timeout)
    {
        using System.Threading.CancellationTokenSource others = System.Threading.CancellationTokenSource.CreateLinkedTokenSource(StopToken);
        List<Task<SocketPatternMatch?>> waits = _targets.Select(c => c.WaitForPatternAsync(regex, timeout, others.Token)).ToList();
        while (waits.Count > 0)
        {
            Task<SocketPatternMatch?> first = Await(Task.WhenAny(waits));
            waits.Remove(first);
            try
            {
                SocketPatternMatch? match = Await(first);
                if (match is not null)
                {
                    others.Cancel();
                    WriteObject(match);
                    return;
                }
            }
            catch (SocketOperationException ex)
            {
                if (ex.Kind == SocketFailureKind.ReceiveTimeout)
                {
                    others.Cancel();
                    WriteSocketError(ex, _targets);
                    return;
                }

                WriteSocketError(ex, null);
            }
        }
    }
}
