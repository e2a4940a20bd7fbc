using System;
using System.Net;
using System.Text;

namespace SockPS.Core;

/// <summary>
/// One datagram as it arrived (Python's socket recvfrom), or one WebSocket message: never merged
/// with another, never split.
/// Piping it to Send-SocketData replies to its sender on the socket it arrived on, because its
/// RemoteEndPoint and Connection bind to the parameters of the same names.
/// </summary>
public sealed class SocketDatagram
{
    private readonly Encoding _encoding;
    private string? _text;

    internal SocketDatagram(byte[] data, EndPoint? remoteEndPoint, EndPoint? localEndPoint, SocketConnection connection, Encoding encoding, string? messageType = null)
    {
        MessageType = messageType;
        Data = data;
        RemoteEndPoint = remoteEndPoint;
        LocalEndPoint = localEndPoint;
        Connection = connection;
        ReceivedAt = DateTime.Now;
        // WebSocket text is UTF-8 by definition, whatever the connection's encoding.
        _encoding = messageType is null ? encoding : TextEncodings.Utf8NoBom;
    }

    /// <summary>For a WebSocket message: Text or Binary. Null for a datagram.</summary>
    public string? MessageType { get; }

    /// <summary>The payload.</summary>
    public byte[] Data { get; }

    /// <summary>The payload's length in bytes.</summary>
    public int Length => Data.Length;

    /// <summary>The payload decoded with the socket's encoding (at the time it arrived); a WebSocket
    /// message's as UTF-8.</summary>
    public string Text => _text ??= _encoding.GetString(Data);

    /// <summary>Who sent it: where a reply goes.</summary>
    public EndPoint? RemoteEndPoint { get; }

    /// <summary>The address of the socket it arrived on.</summary>
    public EndPoint? LocalEndPoint { get; }

    /// <summary>When it was taken from the socket (local time).</summary>
    public DateTime ReceivedAt { get; }

    /// <summary>The socket it arrived on; replies go out on it.</summary>
    public SocketConnection Connection { get; }

    /// <summary>The computer that made this object (where it lives), so one that comes back
    /// from Invoke-Command or a job says where it was made.</summary>
    public string MachineName => SocketOrigin.MachineName;

    /// <summary>The Id of the socket it arrived on.</summary>
    public int ConnectionId => Connection.Id;

    /// <summary>The name of the socket it arrived on.</summary>
    public string ConnectionName => Connection.Name;

    /// <summary>The sender as text; (unnamed) for an unnamed Unix socket.</summary>
    public string RemoteEndPointText => RemoteEndPoint is null ? "(unnamed)" : EndPointText.Format(RemoteEndPoint);

    /// <summary><see cref="Text"/> on one line: CR, LF and tab as \r \n \t, other control characters as dots.</summary>
    public string EscapedText => SocketOrigin.Escape(Text)!;

    /// <summary>The text, as a string conversion gives it.</summary>
    public override string ToString() => Text;
}
