using System;
using System.Text.RegularExpressions;

namespace SockPS.Core;

/// <summary>What Wait-SocketData -Pattern found: the match, and the text it consumed.</summary>
public sealed class SocketPatternMatch
{
    internal SocketPatternMatch(SocketConnection connection, Match match, string text, byte[]? bytes = null)
    {
        Connection = connection;
        Match = match;
        Text = text;
        Bytes = bytes;
    }

    /// <summary>The consumed bytes as they arrived, when the caller asked for them.</summary>
    internal byte[]? Bytes { get; }

    /// <summary>The connection the text arrived on.</summary>
    public SocketConnection Connection { get; }

    /// <summary>The computer that made this object (where it lives), so one that comes back
    /// from Invoke-Command or a job says where it was made.</summary>
    public string MachineName => SocketOrigin.MachineName;

    /// <summary>The Id of the connection the text arrived on.</summary>
    public int ConnectionId => Connection.Id;

    /// <summary>The name of the connection the text arrived on.</summary>
    public string ConnectionName => Connection.Name;

    /// <summary>The peer of that connection, as text.</summary>
    public string RemoteEndPointText => Connection.RemoteEndPointText;

    /// <summary><see cref="Text"/> on one line: CR, LF and tab as \r \n \t, other control characters as dots.</summary>
    public string EscapedText => SocketOrigin.Escape(Text)!;

    /// <summary>The regular expression match (Groups, Value, Index within Text).</summary>
    public Match Match { get; }

    /// <summary>The matched text.</summary>
    public string Value => Match.Value;

    /// <summary>The match's groups: Groups[1].Value is the first capture, Groups['name'] a named one.</summary>
    public GroupCollection Groups => Match.Groups;

    /// <summary>Everything consumed: the text before the match and the match itself.</summary>
    public string Text { get; }

    /// <summary>The matched text.</summary>
    public override string ToString() => Match.Value;
}
