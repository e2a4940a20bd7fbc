using System.Management.Automation;
using SockPS.Core;

namespace SockPS.Commands;

/// <summary>
/// Remove-Module SockPS closes every socket and server the module opened in this process, in
/// every runspace: the registry is process-wide, so a partial clean-up would leave sockets that
/// no runspace can reach by module state. PowerShell calls OnRemove only on an explicit
/// Remove-Module, not when a thread job's runspace closes, so background runspaces importing the
/// module do not close the caller's sockets by finishing.
/// </summary>
public sealed class ModuleLifecycle : IModuleAssemblyCleanup
{
    /// <inheritdoc/>
    public void OnRemove(PSModuleInfo psModuleInfo) => SocketRegistry.CloseAll("The SockPS module was removed.");
}
