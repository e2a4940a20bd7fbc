using System;
using System.Net;

namespace SockPS.Core;

/// <summary>What a port check found.</summary>
public enum PortStatus
{
    /// <summary>TCP: a connection was made. UDP: an answer came back.</summary>
    Open,
    /// <summary>Nothing listens there: TCP got a reset, UDP an ICMP port unreachable.</summary>
    Refused,
    /// <summary>TCP: no answer within the timeout (a firewall that drops packets, a host that is
    /// down or too busy). With -Wait: the port did not open within the wait.</summary>
    TimedOut,
    /// <summary>UDP: neither an answer nor an ICMP error came back. The port may be open or
    /// filtered: UDP has no handshake, and a service that does not understand the probe stays silent.</summary>
    NoAnswer,
    /// <summary>The name does not resolve (or has no address of the family asked for).</summary>
    HostNotFound,
    /// <summary>No route to the network or host (ICMP host or network unreachable).</summary>
    Unreachable,
    /// <summary>Anything else; the message says what.</summary>
    Failed,
    /// <summary>The proxy could not be used (not reached, credentials refused, not a proxy): the
    /// port's state is unknown. The message quotes the proxy.</summary>
    ProxyFailed,
}

/// <summary>Which datagram a UDP check sends.</summary>
public enum UdpProbe
{
    /// <summary>By port: Dns for 53, Ntp for 123, Empty for every other port.</summary>
    Auto,
    /// <summary>A DNS query for the root's name servers (". IN NS", recursion desired), as dig sends it.</summary>
    Dns,
    /// <summary>An NTPv4 client-mode request (48 bytes), as ntpdate and chrony send it.</summary>
    Ntp,
    /// <summary>An empty datagram. Most services ignore it, so an open port usually gives NoAnswer.</summary>
    Empty,
}

/// <summary>One checked port of one host (Test-SocketPort's output).</summary>
public sealed class PortTestResult
{
    internal PortTestResult(string computerName, IPAddress? remoteAddress, int port, SocketProtocol protocol, PortStatus status,
        TimeSpan? latency, string message, int attempts, UdpProbe? probe)
    {
        ComputerName = computerName;
        RemoteAddress = remoteAddress;
        Port = port;
        Protocol = protocol;
        Status = status;
        Latency = latency;
        Message = message;
        Attempts = attempts;
        Probe = probe;
    }

    /// <summary>The name or address as it was given.</summary>
    public string ComputerName { get; }

    /// <summary>The address that was tested: the one that answered, or the last one tried; null
    /// when the name did not resolve.</summary>
    public IPAddress? RemoteAddress { get; }

    /// <summary>The port number.</summary>
    public int Port { get; }

    /// <summary>Tcp or Udp.</summary>
    public SocketProtocol Protocol { get; }

    /// <summary>Open, Refused, TimedOut, NoAnswer, HostNotFound, Unreachable, Failed or ProxyFailed.</summary>
    public PortStatus Status { get; }

    /// <summary>True when <see cref="Status"/> is Open.</summary>
    public bool IsOpen => Status == PortStatus.Open;

    /// <summary>How long the answer took (the connect's round trip, the time to a reset, to a UDP
    /// reply or to an ICMP error), name lookup not included; null when nothing answered.</summary>
    public TimeSpan? Latency { get; }

    /// <summary>What happened, in plain words.</summary>
    public string Message { get; }

    /// <summary>How many attempts were made: 1, or more with -Wait.</summary>
    public int Attempts { get; }

    /// <summary>The datagram a UDP check sent (Dns, Ntp or Empty); null for TCP.</summary>
    public UdpProbe? Probe { get; }

    /// <summary>The local address and port the check was made from (the last attempt's); null
    /// when no socket got that far. Through a proxy: this side of the connection to the proxy.</summary>
    public EndPoint? LocalEndPoint { get; internal set; }

    /// <summary>The proxy the check went through; null for a direct check.</summary>
    public string? Proxy { get; internal set; }

    // Repeated checks (issue 14, tcping).

    /// <summary>Which attempt of a repeated check this is (-Count, -Continuous): 1, 2, 3...; 1
    /// for a single check.</summary>
    public int Sequence { get; internal set; } = 1;

    /// <summary><see cref="Latency"/> in milliseconds, as Test-Connection shows it; null when
    /// nothing answered.</summary>
    public double? LatencyMilliseconds => Latency?.TotalMilliseconds;

    /// <summary>The computer that made this object (where it lives), so one that comes back
    /// from Invoke-Command or a job says where it was made.</summary>
    public string MachineName => SocketOrigin.MachineName;

    /// <summary>What was tested, as host:port ("db01:5432", "[::1]:53").</summary>
    public string Endpoint => EndPointText.Format(ComputerName, Port);

    /// <summary>The port and protocol as the table shows them: "5432/tcp", "53/udp".</summary>
    public string PortText => Port.ToString(System.Globalization.CultureInfo.InvariantCulture) + "/" + (Protocol == SocketProtocol.Udp ? "udp" : "tcp");

    /// <summary>"db01:5432/Tcp Open".</summary>
    public override string ToString() => $"{EndPointText.Format(ComputerName, Port)}/{Protocol} {Status}";
}
