using System;
using System.Collections.Generic;
#if NET8_0_OR_GREATER
using System.Text.Json;
#else
using System.Globalization;
using System.Text;
#endif

namespace SockPS.Core;

/// <summary>
/// The one place that parses JSON. What SockPS reads back is one flat object per line (a
/// transcript line): string, number, true, false and null values. PowerShell 7.4+ (.NET 8)
/// parses it with System.Text.Json. Windows PowerShell 5.1 has no JSON parser in the framework,
/// and shipping System.Text.Json there would bring assemblies whose versions clash with the ones
/// System.IO.Pipelines needs (Windows PowerShell has no binding redirects for modules), so that
/// build keeps a small reader of exactly this shape. Both give the same fields for any line.
/// </summary>
internal static class JsonText
{
    /// <summary>The fields of a flat JSON object (numbers as double, last duplicate wins), or
    /// null when the text is not one: not JSON, or a value is an object or an array.</summary>
#if NET8_0_OR_GREATER
    public static Dictionary<string, object?>? TryParseFlatObject(string text)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(text);
        }
        catch (Exception ex) when (ex is JsonException or ArgumentException)
        {
            // Not JSON, or text that is not valid UTF-16 to begin with.
            return null;
        }

        using (document)
        {
            try
            {
                return Fields(document.RootElement);
            }
            catch (InvalidOperationException)
            {
                // A string escape that is not valid UTF-16 (a lone surrogate).
                return null;
            }
        }
    }

    private static Dictionary<string, object?>? Fields(JsonElement root)
    {
        if (root.ValueKind != JsonValueKind.Object)
        {
            return null;
        }

        Dictionary<string, object?> fields = new(StringComparer.Ordinal);
        foreach (JsonProperty property in root.EnumerateObject())
        {
            JsonElement value = property.Value;
            switch (value.ValueKind)
            {
                case JsonValueKind.String:
                    fields[property.Name] = value.GetString();
                    break;
                case JsonValueKind.Number:
                    if (!value.TryGetDouble(out double number))
                    {
                        return null;
                    }

                    fields[property.Name] = number;
                    break;
                case JsonValueKind.True:
                case JsonValueKind.False:
                    fields[property.Name] = value.GetBoolean();
                    break;
                case JsonValueKind.Null:
                    fields[property.Name] = null;
                    break;
                default:
                    return null;
            }
        }

        return fields;
    }
#else
    public static Dictionary<string, object?>? TryParseFlatObject(string text)
    {
        int i = 0;
        Dictionary<string, object?> fields = new(StringComparer.Ordinal);
        SkipSpace(text, ref i);
        if (!Expect(text, ref i, '{'))
        {
            return null;
        }

        SkipSpace(text, ref i);
        if (Expect(text, ref i, '}'))
        {
            return End(text, i) ? fields : null;
        }

        while (true)
        {
            SkipSpace(text, ref i);
            if (ReadString(text, ref i) is not string name)
            {
                return null;
            }

            SkipSpace(text, ref i);
            if (!Expect(text, ref i, ':'))
            {
                return null;
            }

            SkipSpace(text, ref i);
            if (!ReadValue(text, ref i, out object? value))
            {
                return null;
            }

            fields[name] = value;
            SkipSpace(text, ref i);
            if (Expect(text, ref i, ','))
            {
                continue;
            }

            return Expect(text, ref i, '}') && End(text, i) ? fields : null;
        }
    }

    private static bool End(string text, int i)
    {
        SkipSpace(text, ref i);
        return i == text.Length;
    }

    private static void SkipSpace(string text, ref int i)
    {
        while (i < text.Length && text[i] is ' ' or '\t' or '\r' or '\n')
        {
            i++;
        }
    }

    private static bool Expect(string text, ref int i, char c)
    {
        if (i < text.Length && text[i] == c)
        {
            i++;
            return true;
        }

        return false;
    }

    private static bool ReadValue(string text, ref int i, out object? value)
    {
        value = null;
        if (i >= text.Length)
        {
            return false;
        }

        char c = text[i];
        if (c == '"')
        {
            value = ReadString(text, ref i);
            return value is not null;
        }

        foreach ((string word, object? meaning) in new (string, object?)[] { ("true", true), ("false", false), ("null", null) })
        {
            if (string.CompareOrdinal(text, i, word, 0, word.Length) == 0)
            {
                i += word.Length;
                value = meaning;
                return true;
            }
        }

        int start = i;
        while (i < text.Length && (char.IsDigit(text[i]) || text[i] is '-' or '+' or '.' or 'e' or 'E'))
        {
            i++;
        }

        if (i > start && double.TryParse(text.Substring(start, i - start), NumberStyles.Float, CultureInfo.InvariantCulture, out double number))
        {
            value = number;
            return true;
        }

        return false;
    }

    private static string? ReadString(string text, ref int i)
    {
        if (!Expect(text, ref i, '"'))
        {
            return null;
        }

        StringBuilder value = new();
        while (i < text.Length)
        {
            char c = text[i++];
            if (c == '"')
            {
                return IsValidUtf16(value) ? value.ToString() : null;
            }

            if (c != '\\')
            {
                value.Append(c);
                continue;
            }

            if (i >= text.Length)
            {
                return null;
            }

            char escaped = text[i++];
            switch (escaped)
            {
                case '"': value.Append('"'); break;
                case '\\': value.Append('\\'); break;
                case '/': value.Append('/'); break;
                case 'b': value.Append('\b'); break;
                case 'f': value.Append('\f'); break;
                case 'n': value.Append('\n'); break;
                case 'r': value.Append('\r'); break;
                case 't': value.Append('\t'); break;
                case 'u' when i + 4 <= text.Length
                    && int.TryParse(text.Substring(i, 4), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out int code):
                    value.Append((char)code);
                    i += 4;
                    break;
                default:
                    return null;
            }
        }

        return null;
    }

    /// <summary>False for a lone surrogate, which System.Text.Json refuses too.</summary>
    private static bool IsValidUtf16(StringBuilder value)
    {
        for (int i = 0; i < value.Length; i++)
        {
            if (char.IsHighSurrogate(value[i]) && i + 1 < value.Length && char.IsLowSurrogate(value[i + 1]))
            {
                i++;
            }
            else if (char.IsSurrogate(value[i]))
            {
                return false;
            }
        }

        return true;
    }
#endif
}
