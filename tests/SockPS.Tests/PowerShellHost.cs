using System;
using System.Collections.ObjectModel;
using System.IO;
using System.Linq;
using System.Management.Automation;
using System.Management.Automation.Runspaces;
using Xunit;

namespace SockPS.Tests;

/// <summary>
/// Test classes that use the module share one collection: the registry is process-wide, and
/// each class's clean-up closes every socket, so they must not run side by side.
/// </summary>
[CollectionDefinition("Module", DisableParallelization = true)]
public class ModuleCollection
{
}

/// <summary>
/// A runspace from InitialSessionState.CreateDefault2() that imports the built module from
/// out/SockPS, as users import it. build.ps1 builds that folder before running tests.
/// </summary>
public sealed class PowerShellHost : IDisposable
{
    public static readonly TimeSpan Wait = TimeSpan.FromSeconds(20);

    private static readonly Lazy<string> s_modulePath = new(FindModule);

    public PowerShellHost()
    {
        InitialSessionState state = InitialSessionState.CreateDefault2();
        state.ImportPSModule(s_modulePath.Value);
        Runspace = RunspaceFactory.CreateRunspace(state);
        Runspace.Open();
    }

    public Runspace Runspace { get; }

    public static string ModulePath => s_modulePath.Value;

    /// <summary>Runs a script; returns its output and the errors it wrote. Terminating errors throw.</summary>
    public (Collection<PSObject> Output, ErrorRecord[] Errors) Run(string script, params (string Name, object? Value)[] variables)
    {
        using PowerShell ps = PowerShell.Create();
        ps.Runspace = Runspace;
        foreach ((string name, object? value) in variables)
        {
            Runspace.SessionStateProxy.SetVariable(name, value);
        }

        ps.AddScript(script);
        Collection<PSObject> output = ps.Invoke();
        return (output, ps.Streams.Error.ToArray());
    }

    /// <summary>Runs a script that must not write errors; returns its output.</summary>
    public Collection<PSObject> RunClean(string script, params (string Name, object? Value)[] variables)
    {
        var (output, errors) = Run(script, variables);
        Assert.True(errors.Length == 0, "Unexpected errors: " + string.Join(" | ", errors.Select(e => e.FullyQualifiedErrorId + ": " + e)));
        return output;
    }

    /// <summary>Runs a script expected to stop with a terminating error (try/catch in
    /// PowerShell catches only those); returns its record.</summary>
    public ErrorRecord RunTerminating(string script, params (string Name, object? Value)[] variables)
    {
        var (output, _) = Run("try { " + script + "\n} catch { $_ }", variables);
        var caught = output.Select(o => o.BaseObject).OfType<ErrorRecord>().ToArray();
        Assert.True(caught.Length == 1, "The script did not stop with a terminating error: " + script);
        return caught[0];
    }

    public void Dispose() => Runspace.Dispose();

    private static string FindModule()
    {
        for (DirectoryInfo? dir = new(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "SockPS.sln")))
            {
                string psd1 = Path.Combine(dir.FullName, "out", "SockPS", "SockPS.psd1");
                Assert.True(File.Exists(psd1), $"The built module is missing at {psd1}. Run ./build.ps1 -Task Build first.");
                return psd1;
            }
        }

        throw new InvalidOperationException("Cannot find the repository root (SockPS.sln) above " + AppContext.BaseDirectory);
    }
}
