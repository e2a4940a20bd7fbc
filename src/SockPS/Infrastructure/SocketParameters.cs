using System.Collections;
using System.Management.Automation;
using SockPS.Core;

namespace SockPS.Commands;

/// <summary>Conversions shared by Connect-Socket and Start-SocketServer.</summary>
internal static class SocketParameters
{
    /// <summary>-SocketOption @{...} as the core's option set; PowerShell wraps some values in
    /// PSObjects, so they are unwrapped first.</summary>
    public static SocketOptionSet? Options(IDictionary? table)
    {
        if (table is null)
        {
            return null;
        }

        Hashtable plain = new();
        foreach (DictionaryEntry entry in table)
        {
            plain[entry.Key is PSObject key ? key.BaseObject : entry.Key] = entry.Value is PSObject value ? value.BaseObject : entry.Value;
        }

        return SocketOptionSet.Parse(plain);
    }
}
