using System;
using System.Collections.Generic;
using System.ComponentModel;
using System.Diagnostics;
using System.Text;

namespace SockPS.Core;

/// <summary>
/// Starting and stopping the programs of Start-SocketServer -FilePath and Start-SocketProcess.
/// net8.0: <c>ProcessStartInfo.ArgumentList</c> (each argument passed as it is, no shell, no
/// quoting) and <c>Process.Kill(entireProcessTree: true)</c>. netstandard2.0 (Windows PowerShell
/// 5.1, always Windows) has neither: the arguments are joined into one command line quoted the
/// way the Microsoft C runtime splits it again (what .NET's own ArgumentList does on Windows),
/// and only the program itself is stopped, not programs it started.
/// </summary>
internal static class ProcessStart
{
    /// <summary>True where stopping a program also stops the programs it started.</summary>
#if NET8_0_OR_GREATER
    internal const bool KillsProcessTree = true;
#else
    internal const bool KillsProcessTree = false;
#endif

    /// <summary>Gives the program its arguments, each exactly as given.</summary>
    public static void SetArguments(ProcessStartInfo startInfo, IReadOnlyList<string> arguments)
    {
#if NET8_0_OR_GREATER
        foreach (string argument in arguments)
        {
            startInfo.ArgumentList.Add(argument);
        }
#else
        startInfo.Arguments = JoinForWindows(arguments);
#endif
    }

    /// <summary>Stops the program (and, on net8.0, every program it started). Quiet when it has
    /// exited already.</summary>
    public static void Kill(Process process)
    {
        try
        {
#if NET8_0_OR_GREATER
            process.Kill(entireProcessTree: true);
#else
            process.Kill();
#endif
        }
        catch (Exception ex) when (ex is InvalidOperationException or Win32Exception or NotSupportedException or AggregateException)
        {
            // It exited meanwhile, or the OS would not let us; nothing more to do either way.
        }
    }

    /// <summary>One command line from separate arguments, quoted so that CommandLineToArgvW and
    /// the C runtime give back exactly these arguments (the rules .NET's PasteArguments follows):
    /// an argument with no space, tab or quote goes as it is; otherwise it is quoted, a quote in
    /// it is escaped with a backslash, and backslashes before a quote (or the closing quote) are
    /// doubled.</summary>
    internal static string JoinForWindows(IReadOnlyList<string> arguments)
    {
        StringBuilder line = new();
        foreach (string argument in arguments)
        {
            if (line.Length > 0)
            {
                line.Append(' ');
            }

            if (argument.Length > 0 && argument.IndexOfAny(new[] { ' ', '\t', '\n', '\v', '"' }) < 0)
            {
                line.Append(argument);
                continue;
            }

            line.Append('"');
            int i = 0;
            while (i < argument.Length)
            {
                int backslashes = 0;
                while (i < argument.Length && argument[i] == '\\')
                {
                    backslashes++;
                    i++;
                }

                if (i == argument.Length)
                {
                    // Before the closing quote: every backslash doubled.
                    line.Append('\\', backslashes * 2);
                }
                else if (argument[i] == '"')
                {
                    line.Append('\\', (backslashes * 2) + 1).Append('"');
                    i++;
                }
                else
                {
                    line.Append('\\', backslashes).Append(argument[i]);
                    i++;
                }
            }

            line.Append('"');
        }

        return line.ToString();
    }
}
