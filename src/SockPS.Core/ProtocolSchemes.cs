using System;
using System.Collections.Generic;

namespace SockPS.Core;

/// <summary>What a URI scheme means for a connection: the port when none is given, TLS from the
/// first byte (implicit TLS, the "s" forms), the line end the protocol uses, and Telnet's option
/// negotiation. The table of the Python tutorial's application protocols, plus their TLS forms.</summary>
public sealed class ProtocolScheme
{
    internal ProtocolScheme(string name, int? port, bool tls, bool datagram, string? newLine, bool telnet)
    {
        Name = name;
        DefaultPort = port;
        Tls = tls;
        Datagram = datagram;
        NewLine = newLine;
        Telnet = telnet;
    }

    /// <summary>The scheme, lower case.</summary>
    public string Name { get; }

    /// <summary>The port when the URI gives none; null where a port must be given (tcp://).</summary>
    public int? DefaultPort { get; }

    /// <summary>TLS from the first byte.</summary>
    public bool Tls { get; }

    /// <summary>A datagram socket (udp://).</summary>
    public bool Datagram { get; }

    /// <summary>The line end the protocol uses ("\r\n"); null keeps the connection's default.</summary>
    public string? NewLine { get; }

    /// <summary>Refuse the server's Telnet options and take the negotiation out of the data.</summary>
    public bool Telnet { get; }
}

/// <summary>The schemes Connect-Socket -Uri and Invoke-SocketRequest -Uri take besides unix:.</summary>
public static class ProtocolSchemes
{
    private const string Crlf = "\r\n";

    private static readonly Dictionary<string, ProtocolScheme> s_schemes = new(StringComparer.OrdinalIgnoreCase)
    {
        ["tcp"] = new("tcp", null, tls: false, datagram: false, newLine: null, telnet: false),
        ["tls"] = new("tls", null, tls: true, datagram: false, newLine: null, telnet: false),
        ["udp"] = new("udp", null, tls: false, datagram: true, newLine: null, telnet: false),
        ["http"] = new("http", 80, tls: false, datagram: false, Crlf, telnet: false),
        ["https"] = new("https", 443, tls: true, datagram: false, Crlf, telnet: false),
        ["smtp"] = new("smtp", 25, tls: false, datagram: false, Crlf, telnet: false),
        ["smtps"] = new("smtps", 465, tls: true, datagram: false, Crlf, telnet: false),
        ["submission"] = new("submission", 587, tls: false, datagram: false, Crlf, telnet: false),
        ["pop3"] = new("pop3", 110, tls: false, datagram: false, Crlf, telnet: false),
        ["pop3s"] = new("pop3s", 995, tls: true, datagram: false, Crlf, telnet: false),
        ["imap"] = new("imap", 143, tls: false, datagram: false, Crlf, telnet: false),
        ["imaps"] = new("imaps", 993, tls: true, datagram: false, Crlf, telnet: false),
        ["ftp"] = new("ftp", 21, tls: false, datagram: false, Crlf, telnet: false),
        ["nntp"] = new("nntp", 119, tls: false, datagram: false, Crlf, telnet: false),
        ["nntps"] = new("nntps", 563, tls: true, datagram: false, Crlf, telnet: false),
        ["telnet"] = new("telnet", 23, tls: false, datagram: false, Crlf, telnet: true),
        ["ws"] = new("ws", 80, tls: false, datagram: false, newLine: null, telnet: false),
        ["wss"] = new("wss", 443, tls: true, datagram: false, newLine: null, telnet: false),
        ["gopher"] = new("gopher", 70, tls: false, datagram: false, Crlf, telnet: false),
    };

    /// <summary>The scheme, or null for one SockPS does not know.</summary>
    public static ProtocolScheme? Find(string scheme) => s_schemes.TryGetValue(scheme, out ProtocolScheme? found) ? found : null;

    /// <summary>Every scheme, for messages and completion.</summary>
    public static IEnumerable<string> Names => s_schemes.Keys;
}
