using System;
using System.Globalization;
using System.Security.Cryptography.X509Certificates;

namespace SockPS.Core;

// Plain properties for the views and for serialization (issue 13): every column and list item
// of SockPS.Format.ps1xml names a property, never a script block, because PowerShell drops
// script blocks from format data sent over a session, and a deserialized object keeps only
// properties (SockPS.Types.ps1xml lists which).
public sealed partial class SocketConnection
{
    /// <summary>The computer that made this connection (where it lives), so a connection that
    /// comes back from Invoke-Command or a job says where it is.</summary>
    public string MachineName => SocketOrigin.MachineName;

    /// <summary>The process that made this connection: SockPS's identifier for it
    /// (<see cref="SocketOrigin.InstanceId"/>). Only that process can use the connection.</summary>
    public Guid ProcessInstanceId => SocketOrigin.InstanceId;

    /// <summary>The process id of the process that made this connection.</summary>
    public int ProcessId => SocketOrigin.ProcessId;

    /// <summary>The peer as text, as the table shows it: 127.0.0.1:80, [::1]:80, a socket file,
    /// (unnamed) for an unnamed Unix peer, (any) for a datagram socket with no fixed peer.</summary>
    public string RemoteEndPointText => RemoteEndPoint is null ? "(any)" : EndPointText.Format(RemoteEndPoint);

    /// <summary>This side's address as text (127.0.0.1:50000, a socket file).</summary>
    public string LocalEndPointText => EndPointText.Format(LocalEndPoint);

    /// <summary>The name of <see cref="Encoding"/> (utf-8, us-ascii, iso-8859-1).</summary>
    public string EncodingName => Encoding.WebName;

    /// <summary><see cref="NewLine"/> with CR, LF and tab written as `r, `n and `t.</summary>
    public string NewLineText => NewLine.Replace("\r", "`r").Replace("\n", "`n").Replace("\t", "`t");

    /// <summary>The Id of the server that accepted this connection; null for Connect-Socket's.</summary>
    public int? ServerId => Server?.Id;

    /// <summary>The name of the server that accepted this connection; null for Connect-Socket's.</summary>
    public string? ServerName => Server?.Name;

    /// <summary>The address the accepting server listens on, as text; null for Connect-Socket's.</summary>
    public string? ServerEndPoint => Server is null ? null : EndPointText.Format(Server.LocalEndPoint);

    /// <summary>The peer's certificate in one line: subject, issuer and expiry; null without one.</summary>
    public string? RemoteCertificateSummary
    {
        get
        {
            X509Certificate2? certificate = RemoteCertificate;
            return certificate is null
                ? null
                : string.Format(CultureInfo.InvariantCulture, "{0} (issued by {1}, valid until {2:yyyy-MM-dd})",
                    certificate.Subject, certificate.Issuer, certificate.NotAfter);
        }
    }

    /// <summary>The transcript in one line (its file or memory, entries, stopped); null when none.</summary>
    public string? TranscriptSummary => Transcript?.ToString();
}
