using System;

namespace SockPS.Core;

/// <summary>How a receive cuts the incoming byte stream into one result.</summary>
public enum ReceiveMode
{
    /// <summary>Whatever is buffered, waiting for at least one byte (one whole character for text).</summary>
    Available,
    /// <summary>One line, ended by LF or CRLF; the terminator is removed.</summary>
    Line,
    /// <summary>Everything up to a delimiter; the delimiter is consumed and removed.</summary>
    Delimiter,
    /// <summary>Exactly a number of bytes.</summary>
    Count,
}

/// <summary>One receive: how to frame, how to return, how long to wait.</summary>
internal readonly struct ReceiveRequest
{
    public ReceiveRequest(ReceiveMode mode, bool asText, TimeSpan timeout, int count = 0, string? delimiter = null)
    {
        Mode = mode;
        AsText = asText;
        Timeout = timeout;
        Count = count;
        Delimiter = delimiter;
    }

    public ReceiveMode Mode { get; }

    /// <summary>Decode with the connection's encoding and decoder, or return bytes.</summary>
    public bool AsText { get; }

    /// <summary>How long to wait for the frame to complete; zero or negative waits forever.</summary>
    public TimeSpan Timeout { get; }

    /// <summary>Bytes wanted, for <see cref="ReceiveMode.Count"/>.</summary>
    public int Count { get; }

    /// <summary>The delimiter, for <see cref="ReceiveMode.Delimiter"/>; encoded with the connection's encoding.</summary>
    public string? Delimiter { get; }
}
