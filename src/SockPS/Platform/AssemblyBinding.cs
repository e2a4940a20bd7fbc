using System;
using System.IO;
using System.Reflection;
using System.Threading;

namespace SockPS.Commands;

/// <summary>
/// The one place for how the module's own dependencies load. PowerShell 7.4+ resolves them by
/// itself. Windows PowerShell 5.1 (.NET Framework) binds strong-named assemblies to the exact
/// version asked for and reads no binding redirects for a module, while the packages the
/// netstandard2.0 build ships ask for versions other than the ones they ship (System.Buffers
/// 4.5.1's DLL is 4.0.3.0, and everything built against it asks for 4.0.2.0). There, when a
/// bind fails, the DLL of that name shipped beside this one is used if it is the same or a
/// newer version with the same public key.
/// </summary>
internal static class AssemblyBinding
{
#if !NET8_0_OR_GREATER
    private static int s_registered;
#endif

    /// <summary>Called when the module is imported.</summary>
    public static void OnImport()
    {
#if !NET8_0_OR_GREATER
        if (Interlocked.Exchange(ref s_registered, 1) == 0)
        {
            AppDomain.CurrentDomain.AssemblyResolve += Resolve;
        }
#endif
    }

    /// <summary>The DLL in <paramref name="folder"/> that can stand in for
    /// <paramref name="requested"/>: same name and public key token, same or newer version;
    /// null when there is none. (Both builds have it, so the net8.0 tests check the choice.)</summary>
    internal static string? FindShipped(string folder, AssemblyName requested)
    {
        if (string.IsNullOrEmpty(requested.Name) || requested.Name!.IndexOfAny(Path.GetInvalidFileNameChars()) >= 0)
        {
            return null;
        }

        string path = Path.Combine(folder, requested.Name + ".dll");
        if (!File.Exists(path))
        {
            return null;
        }

        AssemblyName shipped;
        try
        {
            shipped = AssemblyName.GetAssemblyName(path);
        }
        catch (Exception ex) when (ex is BadImageFormatException or IOException)
        {
            return null;
        }

        bool newEnough = requested.Version is null || (shipped.Version is not null && shipped.Version >= requested.Version);
        return newEnough && SameKey(requested.GetPublicKeyToken(), shipped.GetPublicKeyToken()) ? path : null;
    }

    private static bool SameKey(byte[]? requested, byte[]? shipped)
    {
        if (requested is null || requested.Length == 0)
        {
            return shipped is null || shipped.Length == 0;
        }

        if (shipped is null || shipped.Length != requested.Length)
        {
            return false;
        }

        for (int i = 0; i < requested.Length; i++)
        {
            if (requested[i] != shipped[i])
            {
                return false;
            }
        }

        return true;
    }

#if !NET8_0_OR_GREATER
    private static Assembly? Resolve(object? sender, ResolveEventArgs args)
    {
        string folder = Path.GetDirectoryName(typeof(AssemblyBinding).Assembly.Location)!;
        string? path = FindShipped(folder, new AssemblyName(args.Name));
        return path is null ? null : Assembly.LoadFrom(path);
    }
#endif
}
