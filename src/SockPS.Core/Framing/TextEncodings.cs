using System;
using System.Collections.Generic;
using System.Globalization;
using System.Text;

namespace SockPS.Core;

/// <summary>Encoding names as PowerShell users know them from -Encoding on the file cmdlets.</summary>
public static class TextEncodings
{
    /// <summary>UTF-8 without a byte order mark; the default everywhere in SockPS.</summary>
    public static readonly Encoding Utf8NoBom = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false);

    private static readonly Dictionary<string, Func<Encoding>> s_byName = new(StringComparer.OrdinalIgnoreCase)
    {
        ["utf8"] = () => Utf8NoBom,
        ["utf-8"] = () => Utf8NoBom,
        ["utf8NoBOM"] = () => Utf8NoBom,
        ["utf8BOM"] = () => new UTF8Encoding(encoderShouldEmitUTF8Identifier: true),
        ["ascii"] = () => Encoding.ASCII,
        ["us-ascii"] = () => Encoding.ASCII,
        ["unicode"] = () => new UnicodeEncoding(bigEndian: false, byteOrderMark: false),
        ["utf-16"] = () => new UnicodeEncoding(bigEndian: false, byteOrderMark: false),
        ["utf16"] = () => new UnicodeEncoding(bigEndian: false, byteOrderMark: false),
        ["bigendianunicode"] = () => new UnicodeEncoding(bigEndian: true, byteOrderMark: false),
        ["utf32"] = () => new UTF32Encoding(bigEndian: false, byteOrderMark: false),
        ["utf-32"] = () => new UTF32Encoding(bigEndian: false, byteOrderMark: false),
        ["bigendianutf32"] = () => new UTF32Encoding(bigEndian: true, byteOrderMark: false),
        ["latin1"] = () => Encoding.GetEncoding(28591),
        ["iso-8859-1"] = () => Encoding.GetEncoding(28591),
    };

    /// <summary>The names offered to tab completion.</summary>
    public static IReadOnlyCollection<string> KnownNames { get; } = new[]
    {
        "utf8", "utf8BOM", "utf8NoBOM", "ascii", "unicode", "bigendianunicode", "utf32", "bigendianutf32", "latin1",
    };

    /// <summary>Finds an encoding by PowerShell name, .NET name or code page number.</summary>
    /// <exception cref="ArgumentException">The name is not known.</exception>
    public static Encoding Get(string name)
    {
        if (name is null || name.Trim().Length == 0)
        {
            throw new ArgumentException("The encoding name is empty. Use a name such as utf8, ascii, unicode or latin1.");
        }

        name = name.Trim();
        if (s_byName.TryGetValue(name, out Func<Encoding>? make))
        {
            return make();
        }

        try
        {
            return int.TryParse(name, NumberStyles.None, CultureInfo.InvariantCulture, out int codePage)
                ? Encoding.GetEncoding(codePage)
                : Encoding.GetEncoding(name);
        }
        catch (Exception ex) when (ex is ArgumentException or NotSupportedException)
        {
            throw new ArgumentException(
                $"'{name}' is not an encoding this system knows. Use one of {string.Join(", ", KnownNames)}, a code page number or an Encoding object.", ex);
        }
    }

    /// <summary>How many bytes one character occupies when the encoding is fixed-width
    /// (UTF-16: 2, UTF-32: 4); 1 for UTF-8 and single-byte encodings. Delimiter matches are only
    /// accepted at offsets that are multiples of this, so a line feed is not found inside the
    /// two bytes of another UTF-16 character.</summary>
    internal static int CodeUnitSize(Encoding encoding)
    {
        int n = encoding.GetByteCount("\n");
        return n is 2 or 4 ? n : 1;
    }
}
