using System;
using System.Text;

namespace SockPS.Core;

/// <summary>
/// Where SockPS objects are made: this computer and this process. Every output object carries
/// <see cref="MachineName"/>, so results that come back from Invoke-Command or a job say which
/// computer made them; connections, servers and relays also carry <see cref="InstanceId"/>, so
/// a deserialized one brought back into the process that made it can be matched to the live
/// object, and one from elsewhere recognised as such.
/// </summary>
public static class SocketOrigin
{
    /// <summary>This computer's name (Environment.MachineName).</summary>
    public static string MachineName { get; } = Environment.MachineName;

    /// <summary>A new identifier for each process that loads SockPS.</summary>
    public static Guid InstanceId { get; } = Guid.NewGuid();

    /// <summary>This process's id.</summary>
    public static int ProcessId { get; } = CurrentProcessId();

    private static int CurrentProcessId()
    {
#if NET8_0_OR_GREATER
        return Environment.ProcessId;
#else
        using System.Diagnostics.Process self = System.Diagnostics.Process.GetCurrentProcess();
        return self.Id;
#endif
    }

    /// <summary>Text for one table cell: CR, LF and tab as \r \n \t, other control characters as dots.</summary>
    public static string? Escape(string? text)
    {
        if (text is null)
        {
            return null;
        }

        StringBuilder? builder = null;
        for (int i = 0; i < text.Length; i++)
        {
            char c = text[i];
            string? replacement = c switch
            {
                '\r' => "\\r",
                '\n' => "\\n",
                '\t' => "\\t",
                _ => c < ' ' || c == '\x7f' ? "." : null,
            };
            if (replacement is null)
            {
                builder?.Append(c);
                continue;
            }

            builder ??= new StringBuilder(text, 0, i, text.Length + 16);
            builder.Append(replacement);
        }

        return builder?.ToString() ?? text;
    }
}
