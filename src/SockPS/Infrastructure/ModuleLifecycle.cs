using System;
using System.Management.Automation;
using System.Management.Automation.Runspaces;
using System.Reflection;
using System.Threading;
using SockPS.Core;

namespace SockPS.Commands;

/// <summary>
/// Import-Module SockPS prepares how the build's dependencies load (AssemblyBinding) and counts
/// the importing runspace. Remove-Module SockPS closes what the removing runspace opened (its
/// connections, servers with what they accepted, relays) while other runspaces of the process
/// still have the module imported, and every socket of the process when the last one removes it
/// (<see cref="SocketRegistry.ModuleRemoved"/>). PowerShell calls OnRemove only on an explicit
/// Remove-Module, not when a thread job's runspace closes, so background runspaces importing the
/// module do not close anything by finishing; they only stop counting.
/// </summary>
public sealed class ModuleLifecycle : IModuleAssemblyInitializer, IModuleAssemblyCleanup
{
    /// <inheritdoc/>
    public void OnImport()
    {
        AssemblyBinding.OnImport();
        SocketRegistry.ModuleImported(Runspace.DefaultRunspace);
    }

    /// <inheritdoc/>
    public void OnRemove(PSModuleInfo psModuleInfo) =>
        SocketRegistry.ModuleRemoved(Runspace.DefaultRunspace, "The SockPS module was removed.");
}

/// <summary>
/// When PowerShell exits, SockPS closes what is still open (sockets, servers and their handlers,
/// relays; transcripts are written out, Unix socket files removed), so that `pwsh -File` and
/// `pwsh -c` end with their last line whatever the script left open.
/// </summary>
/// <remarks>
/// Two hooks, because one is not enough. .NET raises ProcessExit only after every foreground
/// thread has ended, and a pipeline blocked in Wait-SocketConnection in a thread job, say, is a
/// foreground thread waiting for something only closing the server would end. So the first hook
/// is the console's own runspace closing, which pwsh does as its last step before returning from
/// Main; closing then ends such waits and lets those threads finish. ProcessExit is the second,
/// for hosts that are not the console (and for a Ctrl+C or SIGTERM that ends the process).
/// </remarks>
public sealed class ProcessExitCleanup : IModuleAssemblyInitializer
{
    private static int s_hooked;
    private static int s_primaryHooked;

    /// <inheritdoc/>
    public void OnImport()
    {
        if (Interlocked.Exchange(ref s_hooked, 1) == 0)
        {
            AppDomain.CurrentDomain.ProcessExit += (_, _) => CloseAll();
        }

        if (Volatile.Read(ref s_primaryHooked) == 0 && PrimaryRunspace() is { } primary
            && Interlocked.Exchange(ref s_primaryHooked, 1) == 0)
        {
            primary.StateChanged += (_, e) =>
            {
                if (e.RunspaceStateInfo.State is RunspaceState.Closing or RunspaceState.Closed or RunspaceState.Broken)
                {
                    CloseAll();
                }
            };
        }
    }

    private static void CloseAll()
    {
        try
        {
            SocketRegistry.CloseAll("PowerShell is exiting.");
        }
        catch (Exception)
        {
            // Exiting regardless: a socket that will not close cleanly is closed by the OS.
        }
    }

    /// <summary>The console host's runspace (pwsh's own, the one its -File or -c script runs in),
    /// or null in other hosts. PowerShell keeps it in an internal property; there is no public one.</summary>
    private static Runspace? PrimaryRunspace()
    {
        try
        {
            return typeof(Runspace).GetProperty("PrimaryRunspace", BindingFlags.NonPublic | BindingFlags.Static)?.GetValue(null) as Runspace;
        }
        catch (Exception ex) when (ex is TargetInvocationException or MemberAccessException or AmbiguousMatchException)
        {
            return null;
        }
    }
}
