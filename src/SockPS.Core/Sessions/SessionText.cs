using System;
using System.Globalization;
using System.Net;
using System.Text;

namespace SockPS.Core;

/// <summary>
/// What an interactive session (Enter-SocketSession) shows of the bytes it receives: decoded with
/// the connection's encoding, a character split across two reads joined, CRLF and LF as line
/// ends, tab as is, and every other control character (ESC included, so a peer cannot drive the
/// terminal), a lone CR, and each byte the encoding cannot decode as a visible escape: \x07,
/// \x1b, \r, \xff. Pure: bytes in, text out; no console.
/// </summary>
public sealed class SessionTextRenderer
{
    private readonly Encoding _encoding;
    private readonly Decoder _decoder;
    private readonly string _newLine;
    private bool _pendingCr;

    /// <param name="encoding">The connection's encoding.</param>
    /// <param name="newLine">What a received line end becomes on the screen.</param>
    public SessionTextRenderer(Encoding encoding, string newLine)
    {
        Encoding copy = (Encoding)(encoding ?? throw new ArgumentNullException(nameof(encoding))).Clone();
        copy.DecoderFallback = new EscapingDecoderFallback();
        _encoding = copy;
        _decoder = copy.GetDecoder();
        _newLine = newLine ?? throw new ArgumentNullException(nameof(newLine));
    }

    /// <summary>True when what was shown last ended a line (or nothing was shown yet); a held
    /// CR counts as the line's end, since it is one unless a lone CR.</summary>
    public bool AtLineStart { get; private set; } = true;

    /// <summary>The text to show for these bytes. A CR at the end is held until the next call
    /// (or <see cref="Flush"/>) says whether an LF follows it; so is an incomplete character.</summary>
    public string Render(byte[] buffer, int offset, int count)
    {
        int chars = _decoder.GetCharCount(buffer, offset, count, flush: false);
        char[] decoded = new char[chars];
        int n = _decoder.GetChars(buffer, offset, count, decoded, 0, flush: false);
        return Escape(decoded, n);
    }

    /// <summary>The text for whatever is held: an incomplete character (as escapes) and a CR.</summary>
    public string Flush()
    {
        byte[] none = new byte[0];
        int chars = _decoder.GetCharCount(none, 0, 0, flush: true);
        char[] decoded = new char[chars];
        int n = _decoder.GetChars(none, 0, 0, decoded, 0, flush: true);
        string text = Escape(decoded, n);
        if (_pendingCr)
        {
            _pendingCr = false;
            text += @"\r";
            AtLineStart = false;
        }

        return text;
    }

    /// <summary>One datagram or message as a line, after the sender when there is one:
    /// "[from 127.0.0.1:5353] text" and a line end. The text is escaped as a stream's is, with a
    /// decoder of its own; a line end at its end is not shown twice, one inside it is.</summary>
    public string RenderMessage(byte[] data, EndPoint? sender)
    {
        SessionTextRenderer one = new(_encoding, _newLine);
        string text = one.Render(data, 0, data.Length) + one.Flush();
        if (text.EndsWith(_newLine, StringComparison.Ordinal))
        {
            text = text.Substring(0, text.Length - _newLine.Length);
        }

        string line = sender is null ? text : $"[from {EndPointText.Format(sender)}] {text}";
        return line + _newLine;
    }

    private string Escape(char[] chars, int count)
    {
        StringBuilder text = new(count + 8);
        for (int i = 0; i < count; i++)
        {
            char c = chars[i];
            if (_pendingCr)
            {
                _pendingCr = false;
                if (c == '\n')
                {
                    text.Append(_newLine);
                    AtLineStart = true;
                    continue;
                }

                text.Append(@"\r");
                AtLineStart = false;
            }

            switch (c)
            {
                case '\r':
                    _pendingCr = true;
                    continue;
                case '\n':
                    text.Append(_newLine);
                    AtLineStart = true;
                    continue;
                case '\t':
                    text.Append('\t');
                    break;
                default:
                    if (IsHidden(c))
                    {
                        text.Append(c <= '\u00ff' ? @"\x" + ((int)c).ToString("x2", CultureInfo.InvariantCulture) : @"\u" + ((int)c).ToString("x4", CultureInfo.InvariantCulture));
                    }
                    else
                    {
                        text.Append(c);
                    }

                    break;
            }

            AtLineStart = false;
        }

        return text.ToString();
    }

    /// <summary>Control characters (C0, DEL, C1) and the bidirectional overrides that would let
    /// text pretend to be other text; zero-width joiners and the like stay.</summary>
    private static bool IsHidden(char c) =>
        char.IsControl(c) || c is >= '\u202a' and <= '\u202e' || c is >= '\u2066' and <= '\u2069';

    /// <summary>Each byte the encoding cannot decode becomes the four characters \xHH.</summary>
    private sealed class EscapingDecoderFallback : DecoderFallback
    {
        public override int MaxCharCount => 4;

        public override DecoderFallbackBuffer CreateFallbackBuffer() => new Buffer();

        private sealed class Buffer : DecoderFallbackBuffer
        {
            private string _text = string.Empty;
            private int _next;

            public override int Remaining => _text.Length - _next;

            public override bool Fallback(byte[] bytesUnknown, int index)
            {
                StringBuilder text = new(bytesUnknown.Length * 4);
                foreach (byte b in bytesUnknown)
                {
                    text.Append(@"\x").Append(b.ToString("x2", CultureInfo.InvariantCulture));
                }

                _text = text.ToString();
                _next = 0;
                return _text.Length > 0;
            }

            public override char GetNextChar() => _next < _text.Length ? _text[_next++] : '\0';

            public override bool MovePrevious()
            {
                if (_next == 0)
                {
                    return false;
                }

                _next--;
                return true;
            }

            public override void Reset()
            {
                _text = string.Empty;
                _next = 0;
            }
        }
    }
}

/// <summary>
/// hexdump -C's lines for received bytes: offset, 16 bytes in hex (two groups of 8), the
/// printable ASCII between bars. The offset runs on over a whole session's stream.
/// </summary>
public sealed class SessionHexDump
{
    private long _offset;

    /// <summary>Bytes dumped so far: the offset of the next line.</summary>
    public long Offset => _offset;

    /// <summary>The lines for these bytes, each ended with <paramref name="newLine"/>.</summary>
    public string Dump(byte[] buffer, int offset, int count, string newLine)
    {
        StringBuilder text = new();
        for (int line = 0; line < count; line += 16)
        {
            int n = Math.Min(16, count - line);
            text.Append(_offset.ToString("x8", CultureInfo.InvariantCulture)).Append("  ");
            for (int i = 0; i < 16; i++)
            {
                text.Append(i < n ? buffer[offset + line + i].ToString("x2", CultureInfo.InvariantCulture) + " " : "   ");
                if (i == 7)
                {
                    text.Append(' ');
                }
            }

            text.Append(" |");
            for (int i = 0; i < n; i++)
            {
                byte b = buffer[offset + line + i];
                text.Append(b is >= 0x20 and < 0x7f ? (char)b : '.');
            }

            text.Append('|').Append(newLine);
            _offset += n;
        }

        return text.ToString();
    }
}
