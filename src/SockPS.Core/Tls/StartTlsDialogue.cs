using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;
using System.Threading;
using System.Threading.Tasks;

namespace SockPS.Core;

/// <summary>The plain-text protocols whose STARTTLS dialogue SockPS can run.</summary>
public enum StartTlsProtocol
{
    /// <summary>SMTP (RFC 3207): greeting 220, EHLO, STARTTLS, 220.</summary>
    Smtp,
    /// <summary>IMAP (RFC 3501): greeting * OK, a001 STARTTLS, a001 OK.</summary>
    Imap,
    /// <summary>POP3 (RFC 2595): greeting +OK, STLS, +OK.</summary>
    Pop3,
    /// <summary>FTP (RFC 4217): greeting 220, AUTH TLS, 234.</summary>
    Ftp,
}

/// <summary>
/// Runs the plain-text part of a STARTTLS protocol on a fresh connection, up to the server's
/// go-ahead, so a TLS handshake can follow on the same stream. Lines end with CRLF; multi-line
/// replies (SMTP's and FTP's "250-", IMAP's untagged lines) are read to their last line. Nothing
/// the server sends after its go-ahead may be buffered: such bytes would be plain text injected
/// ahead of the handshake (the STARTTLS injection flaw of CVE-2011-0411), so the dialogue fails.
/// A negative answer, a close, or an answer the protocol does not allow is a StartTlsRefused
/// failure quoting what the server said.
/// </summary>
internal sealed class StartTlsDialogue
{
    private const int MaxLine = 4096;
    private const int MaxReplyBytes = 64 * 1024;

    private readonly Stream _stream;
    private readonly StartTlsProtocol _protocol;
    private readonly string _where;
    private readonly byte[] _buffer = new byte[4096];
    private int _start;
    private int _end;
    private int _received;

    private StartTlsDialogue(Stream stream, StartTlsProtocol protocol, string where)
    {
        _stream = stream;
        _protocol = protocol;
        _where = where;
    }

    /// <summary>The protocol's usual port: 25, 143, 110 or 21.</summary>
    public static int DefaultPort(StartTlsProtocol protocol) => protocol switch
    {
        StartTlsProtocol.Smtp => 25,
        StartTlsProtocol.Imap => 143,
        StartTlsProtocol.Pop3 => 110,
        _ => 21,
    };

    /// <summary>Runs the dialogue. Returns when the server has said to start TLS.</summary>
    /// <param name="stream">The connection, before anything was read from it.</param>
    /// <param name="protocol">Which dialogue.</param>
    /// <param name="where">host:port, for messages.</param>
    /// <param name="clientName">SMTP: the name EHLO gives.</param>
    /// <param name="cancellationToken">Ends the dialogue (timeout, Ctrl+C); the caller closes the socket.</param>
    public static Task RunAsync(Stream stream, StartTlsProtocol protocol, string where, string clientName, CancellationToken cancellationToken)
    {
        StartTlsDialogue dialogue = new(stream, protocol, where);
        return protocol switch
        {
            StartTlsProtocol.Smtp => dialogue.SmtpAsync(clientName, cancellationToken),
            StartTlsProtocol.Imap => dialogue.ImapAsync(cancellationToken),
            StartTlsProtocol.Pop3 => dialogue.Pop3Async(cancellationToken),
            _ => dialogue.FtpAsync(cancellationToken),
        };
    }

    private async Task SmtpAsync(string clientName, CancellationToken token)
    {
        Reply greeting = await ReadCodedReplyAsync("its greeting", token).ConfigureAwait(false);
        if (greeting.Code != 220)
        {
            throw Refused($"did not accept the session: it greeted with \"{greeting}\"");
        }

        await SendAsync("EHLO " + clientName, token).ConfigureAwait(false);
        Reply ehlo = await ReadCodedReplyAsync("EHLO", token).ConfigureAwait(false);
        if (ehlo.Code != 250)
        {
            throw Refused($"refused EHLO {clientName}: \"{ehlo}\"");
        }

        // Servers that do not list STARTTLS usually refuse it, but the answer to the command
        // itself is what counts (as openssl s_client -starttls does, it is asked anyway).
        bool offered = ehlo.Lines.Any(line => line.Length > 4 && line.Substring(4).Trim().Split(' ')[0].Equals("STARTTLS", StringComparison.OrdinalIgnoreCase));
        await SendAsync("STARTTLS", token).ConfigureAwait(false);
        Reply answer = await ReadCodedReplyAsync("STARTTLS", token).ConfigureAwait(false);
        if (answer.Code != 220)
        {
            throw Refused($"refused STARTTLS: \"{answer}\"" + (offered ? string.Empty : ". It did not offer STARTTLS in its EHLO answer either"));
        }

        EnsureNothingBuffered();
    }

    private async Task ImapAsync(CancellationToken token)
    {
        string greeting = await ReadLineAsync("its greeting", token).ConfigureAwait(false);
        if (greeting.StartsWith("* BYE", StringComparison.OrdinalIgnoreCase))
        {
            throw Refused($"did not accept the session: \"{greeting}\"");
        }

        if (!greeting.StartsWith("* OK", StringComparison.OrdinalIgnoreCase) && !greeting.StartsWith("* PREAUTH", StringComparison.OrdinalIgnoreCase))
        {
            throw NotThisProtocol(greeting);
        }

        await SendAsync("a001 STARTTLS", token).ConfigureAwait(false);
        while (true)
        {
            string line = await ReadLineAsync("STARTTLS", token).ConfigureAwait(false);
            if (line.StartsWith("* ", StringComparison.Ordinal))
            {
                continue; // untagged data before the tagged answer
            }

            if (line.StartsWith("a001 OK", StringComparison.OrdinalIgnoreCase))
            {
                break;
            }

            throw line.StartsWith("a001 ", StringComparison.OrdinalIgnoreCase)
                ? Refused($"refused STARTTLS: \"{line}\"")
                : NotThisProtocol(line);
        }

        EnsureNothingBuffered();
    }

    private async Task Pop3Async(CancellationToken token)
    {
        string greeting = await ReadLineAsync("its greeting", token).ConfigureAwait(false);
        if (!greeting.StartsWith("+OK", StringComparison.Ordinal))
        {
            throw greeting.StartsWith("-ERR", StringComparison.Ordinal)
                ? Refused($"did not accept the session: \"{greeting}\"")
                : NotThisProtocol(greeting);
        }

        await SendAsync("STLS", token).ConfigureAwait(false);
        string answer = await ReadLineAsync("STLS", token).ConfigureAwait(false);
        if (!answer.StartsWith("+OK", StringComparison.Ordinal))
        {
            throw answer.StartsWith("-ERR", StringComparison.Ordinal)
                ? Refused($"refused STLS: \"{answer}\"")
                : NotThisProtocol(answer);
        }

        EnsureNothingBuffered();
    }

    private async Task FtpAsync(CancellationToken token)
    {
        Reply greeting = await ReadCodedReplyAsync("its greeting", token).ConfigureAwait(false);
        while (greeting.Code == 120)
        {
            // "Service ready in nnn minutes": the real greeting follows.
            greeting = await ReadCodedReplyAsync("its greeting", token).ConfigureAwait(false);
        }

        if (greeting.Code != 220)
        {
            throw Refused($"did not accept the session: it greeted with \"{greeting}\"");
        }

        await SendAsync("AUTH TLS", token).ConfigureAwait(false);
        Reply answer = await ReadCodedReplyAsync("AUTH TLS", token).ConfigureAwait(false);
        if (answer.Code != 234)
        {
            throw Refused($"refused AUTH TLS: \"{answer}\"");
        }

        EnsureNothingBuffered();
    }

    /// <summary>An SMTP or FTP reply: "ddd text", or "ddd-text" lines up to "ddd text" (FTP
    /// allows lines without the code in between).</summary>
    private async Task<Reply> ReadCodedReplyAsync(string after, CancellationToken token)
    {
        string first = await ReadLineAsync(after, token).ConfigureAwait(false);
        if (first.Length < 3 || !first.Take(3).All(char.IsDigit) || (first.Length > 3 && first[3] is not (' ' or '-')))
        {
            throw NotThisProtocol(first);
        }

        string code = first.Substring(0, 3);
        List<string> lines = new() { first };
        if (first.Length > 3 && first[3] == '-')
        {
            while (true)
            {
                string line = await ReadLineAsync(after, token).ConfigureAwait(false);
                lines.Add(line);
                if (line.StartsWith(code, StringComparison.Ordinal) && (line.Length == 3 || line[3] == ' '))
                {
                    break;
                }
            }
        }

        return new Reply(int.Parse(code, System.Globalization.CultureInfo.InvariantCulture), lines);
    }

    private async Task<string> ReadLineAsync(string after, CancellationToken token)
    {
        while (true)
        {
            int newline = Array.IndexOf(_buffer, (byte)'\n', _start, _end - _start);
            if (newline >= 0)
            {
                int length = newline - _start;
                if (length > 0 && _buffer[newline - 1] == '\r')
                {
                    length--;
                }

                string line = Encoding.UTF8.GetString(_buffer, _start, length);
                _start = newline + 1;
                return line;
            }

            if (_end - _start >= MaxLine)
            {
                throw Refused($"sent a line longer than {MaxLine} bytes in answer to {after}; it does not seem to speak {Name}");
            }

            if (_start > 0)
            {
                Buffer.BlockCopy(_buffer, _start, _buffer, 0, _end - _start);
                _end -= _start;
                _start = 0;
            }

            int read = await _stream.ReadAsync(_buffer, _end, _buffer.Length - _end, token).ConfigureAwait(false);
            if (read == 0)
            {
                string pending = Encoding.UTF8.GetString(_buffer, _start, _end - _start).Trim();
                throw Refused($"closed the connection in answer to {after}" + (pending.Length > 0 ? $" after \"{pending}\"" : string.Empty));
            }

            _end += read;
            _received += read;
            if (_received > MaxReplyBytes)
            {
                throw Refused($"sent more than {MaxReplyBytes / 1024} KiB in answer to {after}; it does not seem to speak {Name}");
            }
        }
    }

    private Task SendAsync(string command, CancellationToken token)
    {
        byte[] bytes = Encoding.ASCII.GetBytes(command + "\r\n");
        return _stream.WriteAsync(bytes, 0, bytes.Length, token);
    }

    private void EnsureNothingBuffered()
    {
        if (_end > _start)
        {
            string extra = EndPointText.Escape(Encoding.UTF8.GetString(_buffer, _start, Math.Min(_end - _start, 200)));
            throw Refused($"sent more plain text after its go-ahead (\"{extra}\"), which would be read as if it came over TLS. " +
                "SockPS stops here: this is how STARTTLS injection attacks look");
        }
    }

    private string Name => _protocol switch
    {
        StartTlsProtocol.Smtp => "SMTP",
        StartTlsProtocol.Imap => "IMAP",
        StartTlsProtocol.Pop3 => "POP3",
        _ => "FTP",
    };

    private SocketOperationException Refused(string what) =>
        new(SocketFailureKind.StartTlsRefused, $"The {Name} server at {_where} {what}. TLS was not started.", _where);

    private SocketOperationException NotThisProtocol(string line) =>
        new(SocketFailureKind.StartTlsRefused,
            $"The server at {_where} does not answer as {(_protocol == StartTlsProtocol.Pop3 ? "a" : "an")} {Name} server: it said \"{EndPointText.Escape(line.Length > 200 ? line.Substring(0, 200) + "..." : line)}\". " +
            $"Check the port, and the protocol asked for ({_protocol}).", _where)
        {
            Setting = SocketSetting.StartTls,
        };

    private sealed class Reply
    {
        public Reply(int code, List<string> lines)
        {
            Code = code;
            Lines = lines;
        }

        public int Code { get; }

        public List<string> Lines { get; }

        /// <summary>The reply's lines joined with " / ", as the server sent them.</summary>
        public override string ToString() => string.Join(" / ", Lines);
    }
}
