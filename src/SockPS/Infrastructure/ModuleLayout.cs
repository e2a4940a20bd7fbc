using System.IO;

namespace SockPS.Commands;

/// <summary>
/// Where the module's files are, seen from this assembly. The module folder holds SockPS.psd1
/// and one folder per build (net8.0/, netstandard2.0/) with a SockPS.dll each; SockPS.psm1 loads
/// the one that fits the PowerShell edition. Code that must import the module again (the handler
/// servers' runspaces) asks here, so the layout is known in one place.
/// </summary>
internal static class ModuleLayout
{
    private const string ManifestName = "SockPS.psd1";

    /// <summary>The manifest to import the module by: the one in the module folder above this
    /// build's folder, else one beside this assembly, else (the assembly loaded on its own, as in
    /// a test host) the assembly itself.</summary>
    public static string ManifestPath
    {
        get
        {
            string assembly = typeof(ModuleLayout).Assembly.Location;
            string folder = Path.GetDirectoryName(assembly)!;
            foreach (string? candidate in new[] { Path.GetDirectoryName(folder), folder })
            {
                if (candidate is not null && File.Exists(Path.Combine(candidate, ManifestName)))
                {
                    return Path.Combine(candidate, ManifestName);
                }
            }

            return assembly;
        }
    }
}
