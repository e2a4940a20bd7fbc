using System;

namespace SockPS.Core;

/// <summary>
/// What Invoke-SocketRequest -AsResult returns: one request to one target, answered or not. In
/// a fan-out (Invoke-Command to many computers, a list of targets) every result names the
/// computer that made the request (<see cref="MachineName"/>) and the target it asked
/// (<see cref="ComputerName"/>, <see cref="Port"/>), and a failure is a result too, with the
/// error and whatever part of the answer had arrived.
/// </summary>
public sealed class SocketRequestResult
{
    internal SocketRequestResult(string computerName, int port, SocketProtocol protocol, string transport)
    {
        ComputerName = computerName;
        Port = port;
        Protocol = protocol;
        Transport = transport;
    }

    /// <summary>The result of a request to <paramref name="computerName"/>, timed and counted up to
    /// now: the port is looked up when it is a service name (0 when it is unknown: the error says
    /// so); without a connection, the transport is the one the target would have had.</summary>
    internal static SocketRequestResult For(string computerName, string? port, SocketProtocol protocol, bool unix, bool tls,
        SocketConnection? connection, string? remoteEndPoint, TimeSpan elapsed, DateTime startedAt)
    {
        int number = 0;
        if (port is not null)
        {
            try
            {
                number = ServicePorts.Resolve(port, protocol == SocketProtocol.Udp ? "udp" : "tcp");
            }
            catch (SocketOperationException)
            {
                // A service name that does not resolve: the error says so; the port stays 0.
            }
        }

        string transport = connection?.Transport ?? (unix
            ? (protocol == SocketProtocol.Udp ? "Unix-Dgram" : tls ? "Unix+Tls" : "Unix")
            : tls ? "Tls" : protocol.ToString());
        return new SocketRequestResult(computerName, number, protocol, transport)
        {
            RemoteEndPoint = connection is null ? remoteEndPoint : connection.RemoteEndPointText,
            Elapsed = elapsed,
            StartedAt = startedAt,
            BytesSent = connection?.BytesSent ?? 0,
            BytesReceived = connection?.BytesReceived ?? 0,
        };
    }

    /// <summary>The computer that made the request (where Invoke-SocketRequest ran).</summary>
    public string MachineName => SocketOrigin.MachineName;

    /// <summary>The target as it was given: a host name or address, a Unix socket path, or
    /// @name for an abstract Unix socket.</summary>
    public string ComputerName { get; }

    /// <summary>The target port; 0 for a Unix socket.</summary>
    public int Port { get; }

    /// <summary>Tcp or Udp (a Unix stream socket counts as Tcp, a Unix datagram socket as Udp).</summary>
    public SocketProtocol Protocol { get; }

    /// <summary>Tcp, Tls, Udp, Unix, Unix+Tls or Unix-Dgram, as a connection's table shows it.</summary>
    public string Transport { get; }

    /// <summary>The address the request went to (127.0.0.1:80); null when no connection was made.</summary>
    public string? RemoteEndPoint { get; internal set; }

    /// <summary>The answer: text, or a byte array with -AsByteArray; null when the request failed.</summary>
    public object? Response { get; internal set; }

    /// <summary>On failure: what had arrived before it (text or bytes); null when nothing had,
    /// or when the request succeeded.</summary>
    public object? PartialResponse { get; internal set; }

    /// <summary>True when the answer came back complete.</summary>
    public bool Succeeded => ErrorId is null;

    /// <summary>"Answered", or the error id of the failure (ConnectionRefused, ReceiveTimeout...).</summary>
    public string Status => ErrorId ?? "Answered";

    /// <summary>The failure's message; null when the request succeeded.</summary>
    public string? Error { get; internal set; }

    /// <summary>The failure's SockPS error id (as an error record would carry it); null on success.</summary>
    public string? ErrorId { get; internal set; }

    /// <summary>From the start of the connect to the end of the answer (or the failure).</summary>
    public TimeSpan Elapsed { get; internal set; }

    /// <summary><see cref="Elapsed"/> in milliseconds.</summary>
    public double ElapsedMilliseconds => Elapsed.TotalMilliseconds;

    /// <summary>Bytes of the request that were sent.</summary>
    public long BytesSent { get; internal set; }

    /// <summary>Bytes of the answer that were received.</summary>
    public long BytesReceived { get; internal set; }

    /// <summary>When the request started (local time of <see cref="MachineName"/>).</summary>
    public DateTime StartedAt { get; internal set; }

    /// <summary>The response (or partial response) on one line, for the table: CR, LF and tab as
    /// \r \n \t, bytes as their count.</summary>
    public string? ResponseText => (Response ?? PartialResponse) switch
    {
        null => null,
        string text => SocketOrigin.Escape(text),
        byte[] bytes => bytes.Length + " bytes",
        object other => SocketOrigin.Escape(other.ToString()),
    };

    /// <summary>"db01:80/Tcp Answered".</summary>
    public override string ToString() => $"{(Port == 0 ? ComputerName : EndPointText.Format(ComputerName, Port))}/{Protocol} {Status}";
}
