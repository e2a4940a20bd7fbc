using System;
using System.Text.RegularExpressions;

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
    /// <summary>Everything up to the end of the first match of a regular expression.</summary>
    Pattern,
}

/// <summary>One receive: how to frame, how to return, how long to wait.</summary>
internal readonly struct ReceiveRequest
{
    public ReceiveRequest(ReceiveMode mode, bool asText, TimeSpan timeout, int count = 0, string? delimiter = null, Regex? pattern = null, bool keepBytes = false)
    {
        Mode = mode;
        AsText = asText;
        Timeout = timeout;
        Count = count;
        Delimiter = delimiter;
        Pattern = pattern;
        KeepBytes = keepBytes;
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

    /// <summary>The regular expression, for <see cref="ReceiveMode.Pattern"/>.</summary>
    public Regex? Pattern { get; }

    /// <summary>For <see cref="ReceiveMode.Pattern"/>: also return the consumed bytes as they arrived.</summary>
    public bool KeepBytes { get; }

    /// <summary>The same request with another timeout.</summary>
    public ReceiveRequest WithTimeout(TimeSpan timeout) => new(Mode, AsText, timeout, Count, Delimiter, Pattern, KeepBytes);
}
