using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;

namespace SockPS.Core;

/// <summary>
/// Port numbers from numbers, numeric strings or service names ("http" is 80), like Python's
/// getservbyname: the system's services database where there is one (/etc/services, or
/// %SystemRoot%\System32\drivers\etc\services), and a built-in table of well-known names otherwise.
/// </summary>
public static class ServicePorts
{
    private static readonly Lazy<Dictionary<string, int>> s_tcp = new(() => Load("tcp"));
    private static readonly Lazy<Dictionary<string, int>> s_udp = new(() => Load("udp"));

    // Names every script may rely on even where the system has no services file.
    private static readonly (string Name, int Port, string Protocols)[] s_wellKnown =
    {
        ("echo", 7, "tcp,udp"), ("discard", 9, "tcp,udp"), ("daytime", 13, "tcp,udp"), ("ftp-data", 20, "tcp"),
        ("ftp", 21, "tcp"), ("ssh", 22, "tcp"), ("telnet", 23, "tcp"), ("smtp", 25, "tcp"), ("time", 37, "tcp,udp"),
        ("whois", 43, "tcp"), ("domain", 53, "tcp,udp"), ("bootps", 67, "udp"), ("bootpc", 68, "udp"), ("tftp", 69, "udp"),
        ("gopher", 70, "tcp"), ("finger", 79, "tcp"), ("http", 80, "tcp,udp"), ("www", 80, "tcp"), ("kerberos", 88, "tcp,udp"),
        ("pop3", 110, "tcp"), ("sunrpc", 111, "tcp,udp"), ("auth", 113, "tcp"), ("nntp", 119, "tcp"), ("ntp", 123, "udp"),
        ("netbios-ns", 137, "udp"), ("netbios-dgm", 138, "udp"), ("netbios-ssn", 139, "tcp"), ("imap", 143, "tcp"),
        ("imap2", 143, "tcp"), ("snmp", 161, "udp"), ("snmp-trap", 162, "udp"), ("ldap", 389, "tcp,udp"), ("https", 443, "tcp,udp"),
        ("microsoft-ds", 445, "tcp"), ("syslog", 514, "udp"), ("submission", 587, "tcp"), ("ipp", 631, "tcp"),
        ("ldaps", 636, "tcp"), ("rsync", 873, "tcp"), ("ftps", 990, "tcp"), ("imaps", 993, "tcp"), ("pop3s", 995, "tcp"),
        ("socks", 1080, "tcp"), ("openvpn", 1194, "tcp,udp"), ("ms-sql-s", 1433, "tcp"), ("mqtt", 1883, "tcp"),
        ("nfs", 2049, "tcp,udp"), ("mysql", 3306, "tcp"), ("ms-wbt-server", 3389, "tcp"), ("rdp", 3389, "tcp"),
        ("sip", 5060, "tcp,udp"), ("xmpp-client", 5222, "tcp"), ("postgresql", 5432, "tcp"), ("amqp", 5672, "tcp"),
        ("redis", 6379, "tcp"), ("http-alt", 8080, "tcp"), ("memcache", 11211, "tcp,udp"), ("statsd", 8125, "udp"),
        ("syslog-tls", 6514, "tcp"),
        // The names of the Python tutorial's protocol table, and common names /etc/services
        // spells differently (it says "domain" for DNS, "imap2" for IMAP4, "nntps" as "snntp").
        ("imap4", 143, "tcp"), ("dns", 53, "tcp,udp"), ("smtps", 465, "tcp"), ("nntps", 563, "tcp"), ("snntp", 563, "tcp"),
        ("telnets", 992, "tcp"), ("irc", 6667, "tcp"), ("ircs", 6697, "tcp"),
    };

    /// <summary>Turns a port given as a number, a numeric string or a service name into a port
    /// number.</summary>
    /// <param name="port">"80", "http", " 443 ".</param>
    /// <param name="protocol">"tcp" or "udp": service names can differ between the two.</param>
    /// <param name="allowZero">True for listeners, where 0 asks the OS for a free port.</param>
    /// <exception cref="SocketOperationException">InvalidArgument, saying what was wrong.</exception>
    public static int Resolve(string? port, string protocol = "tcp", bool allowZero = false)
    {
        string text = (port ?? string.Empty).Trim();
        if (text.Length == 0)
        {
            throw Invalid("The port is empty. Give a number from 1 to 65535 or a service name such as http.");
        }

        if (int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out int number))
        {
            if (number > 65535 || (number == 0 && !allowZero))
            {
                throw Invalid(allowZero
                    ? $"Port {text} is out of range. Use 0 (any free port) to 65535."
                    : $"Port {text} is out of range. Use a port from 1 to 65535.");
            }

            return number;
        }

        if (text[0] == '-' || char.IsDigit(text[0]))
        {
            throw Invalid($"Port '{text}' is not a valid port. Use a number from {(allowZero ? 0 : 1)} to 65535 or a service name such as http.");
        }

        Dictionary<string, int> table = string.Equals(protocol, "udp", StringComparison.OrdinalIgnoreCase) ? s_udp.Value : s_tcp.Value;
        if (table.TryGetValue(text, out int resolved))
        {
            return resolved;
        }

        throw Invalid($"'{text}' is not a known {protocol.ToLowerInvariant()} service name. Use a port number, or a name from the services database such as http, smtp or domain.");
    }

    /// <summary>Turns a list of ports into port numbers, in the order given: each comma-separated
    /// item is a port as <see cref="Resolve"/> takes it, or a range of numbers such as 8000-8010
    /// (both ends included). Service names with hyphens (ms-sql-s) stay names.</summary>
    /// <param name="ports">"80", "http, https", "8000-8010", "22,80,8000-8002".</param>
    /// <param name="protocol">"tcp" or "udp": service names can differ between the two.</param>
    /// <exception cref="SocketOperationException">InvalidArgument, saying which item was wrong.</exception>
    public static IReadOnlyList<int> ResolveList(string? ports, string protocol = "tcp")
    {
        List<int> result = new();
        foreach (string item in (ports ?? string.Empty).Split(','))
        {
            string text = item.Trim();
            int dash = text.Length > 1 ? text.IndexOf('-', 1) : -1;
            if (dash > 0
                && int.TryParse(text.Substring(0, dash).Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out int first)
                && int.TryParse(text.Substring(dash + 1).Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out int last))
            {
                if (first < 1 || last > 65535 || first > last)
                {
                    throw Invalid($"The port range '{text}' is not valid. Write it low-high with ports from 1 to 65535, such as 8000-8010.");
                }

                for (int port = first; port <= last; port++)
                {
                    result.Add(port);
                }

                continue;
            }

            result.Add(Resolve(text, protocol));
        }

        return result;
    }

    private static SocketOperationException Invalid(string message) => new(SocketFailureKind.InvalidArgument, message);

    private static Dictionary<string, int> Load(string protocol)
    {
        Dictionary<string, int> table = new(StringComparer.OrdinalIgnoreCase);
        foreach ((string name, int port, string protocols) in s_wellKnown)
        {
            if (protocols.IndexOf(protocol, StringComparison.Ordinal) >= 0)
            {
                table[name] = port;
            }
        }

        string? path = SystemServicesPath();
        if (path is not null)
        {
            try
            {
                foreach (string line in File.ReadLines(path))
                {
                    AddEntry(table, line, protocol);
                }
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                // The built-in table still answers.
            }
        }

        return table;
    }

    /// <summary>Parses one services(5) line: "name port/proto [aliases...] [# comment]".
    /// The system's file wins over the built-in table.</summary>
    internal static void AddEntry(Dictionary<string, int> table, string line, string protocol)
    {
        int hash = line.IndexOf('#');
        if (hash >= 0)
        {
            line = line.Substring(0, hash);
        }

        string[] fields = line.Split(new[] { ' ', '\t' }, StringSplitOptions.RemoveEmptyEntries);
        if (fields.Length < 2)
        {
            return;
        }

        int slash = fields[1].IndexOf('/');
        if (slash <= 0
            || !string.Equals(fields[1].Substring(slash + 1), protocol, StringComparison.OrdinalIgnoreCase)
            || !int.TryParse(fields[1].Substring(0, slash), NumberStyles.None, CultureInfo.InvariantCulture, out int port)
            || port > 65535)
        {
            return;
        }

        table[fields[0]] = port;
        for (int i = 2; i < fields.Length; i++)
        {
            table[fields[i]] = port;
        }
    }

    private static string? SystemServicesPath()
    {
        string unix = "/etc/services";
        if (File.Exists(unix))
        {
            return unix;
        }

        string? root = Environment.GetEnvironmentVariable("SystemRoot");
        if (root is not null)
        {
            string windows = Path.Combine(root, "System32", "drivers", "etc", "services");
            if (File.Exists(windows))
            {
                return windows;
            }
        }

        return null;
    }
}
