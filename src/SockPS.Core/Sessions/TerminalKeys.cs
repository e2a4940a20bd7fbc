using System;
using System.Text;

namespace SockPS.Core;

/// <summary>
/// Keys as an interactive session reads them (Console.ReadKey) and the bytes a terminal in raw
/// mode would send for them, for Enter-SocketSession -Raw. Pure: no console.
/// </summary>
public sealed class TerminalKeyEncoder
{
    private readonly Encoder _encoder;

    /// <param name="encoding">The connection's encoding: a typed character is sent in it.</param>
    public TerminalKeyEncoder(Encoding encoding) =>
        _encoder = (encoding ?? throw new ArgumentNullException(nameof(encoding))).GetEncoder();

    /// <summary>The key that leaves a session, as telnet's escape character: Ctrl+]. Terminals
    /// and runtimes report it differently: KeyChar 0x1D (GS), or KeyChar 0 with Control and Oem6
    /// (Windows) or D5 (.NET on Linux under tmux and xterm, which sends 0x1D for Ctrl+5 too).</summary>
    public static bool IsLeaveKey(ConsoleKeyInfo key) =>
        key.KeyChar == '\x1d'
        || (key.KeyChar == '\0' && (key.Modifiers & ConsoleModifiers.Control) != 0 && key.Key is ConsoleKey.Oem6 or ConsoleKey.D5);

    /// <summary>The bytes a raw terminal sends for the key: its character in the encoding (a
    /// surrogate pair's first half waits for the second), a control character for Ctrl+letter
    /// and Ctrl+[ \ ] ^ _ @, DEL (0x7f) for Backspace as xterm sends it, and the VT220/xterm
    /// sequences for arrows, Home, End, Insert, Delete, Page Up/Down and F1-F12. Empty for a key
    /// that sends nothing (a modifier alone).</summary>
    public byte[] Encode(ConsoleKeyInfo key)
    {
        string? sequence = Sequence(key);
        if (sequence is null)
        {
            return Text(key.KeyChar);
        }

        return Encoding.ASCII.GetBytes(sequence);
    }

    private byte[] Text(char c)
    {
        if (c == '\0')
        {
            return new byte[0];
        }

        char[] one = { c };
        int count = _encoder.GetByteCount(one, 0, 1, flush: false);
        byte[] bytes = new byte[count];
        _encoder.GetBytes(one, 0, 1, bytes, 0, flush: false);
        return bytes;
    }

    private static string? Sequence(ConsoleKeyInfo key)
    {
        bool control = (key.Modifiers & ConsoleModifiers.Control) != 0;
        switch (key.Key)
        {
            case ConsoleKey.Backspace: return "\x7f";
            case ConsoleKey.UpArrow: return "\x1b[A";
            case ConsoleKey.DownArrow: return "\x1b[B";
            case ConsoleKey.RightArrow: return "\x1b[C";
            case ConsoleKey.LeftArrow: return "\x1b[D";
            case ConsoleKey.Home: return "\x1b[H";
            case ConsoleKey.End: return "\x1b[F";
            case ConsoleKey.Insert: return "\x1b[2~";
            case ConsoleKey.Delete: return "\x1b[3~";
            case ConsoleKey.PageUp: return "\x1b[5~";
            case ConsoleKey.PageDown: return "\x1b[6~";
            case ConsoleKey.F1: return "\x1bOP";
            case ConsoleKey.F2: return "\x1bOQ";
            case ConsoleKey.F3: return "\x1bOR";
            case ConsoleKey.F4: return "\x1bOS";
            case ConsoleKey.F5: return "\x1b[15~";
            case ConsoleKey.F6: return "\x1b[17~";
            case ConsoleKey.F7: return "\x1b[18~";
            case ConsoleKey.F8: return "\x1b[19~";
            case ConsoleKey.F9: return "\x1b[20~";
            case ConsoleKey.F10: return "\x1b[21~";
            case ConsoleKey.F11: return "\x1b[23~";
            case ConsoleKey.F12: return "\x1b[24~";
        }

        if (key.KeyChar != '\0' || !control)
        {
            // Enter (CR), Tab, Escape and Ctrl+letter where the runtime gave the character.
            return key.Key == ConsoleKey.Enter && key.KeyChar == '\0' ? "\r" : null;
        }

        // Ctrl+key with no character reported: what a terminal sends for it.
        if (key.Key is >= ConsoleKey.A and <= ConsoleKey.Z)
        {
            return ((char)(key.Key - ConsoleKey.A + 1)).ToString();
        }

        return key.Key switch
        {
            ConsoleKey.D2 or ConsoleKey.Spacebar => "\0",
            ConsoleKey.D3 or ConsoleKey.Oem4 => "\x1b",
            ConsoleKey.D4 or ConsoleKey.Oem5 => "\x1c",
            ConsoleKey.D5 or ConsoleKey.Oem6 => "\x1d",
            ConsoleKey.D6 => "\x1e",
            ConsoleKey.D7 or ConsoleKey.OemMinus => "\x1f",
            ConsoleKey.D8 => "\x7f",
            _ => null,
        };
    }
}
