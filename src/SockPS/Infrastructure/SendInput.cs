using System;
using System.Collections;
using System.Collections.Generic;
using System.Collections.ObjectModel;
using System.Reflection;
using System.Globalization;
using System.Management.Automation;
using System.Management.Automation.Runspaces;
using SockPS.Core;

namespace SockPS.Commands;

/// <summary>What a cmdlet does with each piece of input it sends (Send-SocketData,
/// Invoke-SocketRequest): the pieces are decided once, in <see cref="SendInput"/>.</summary>
internal interface ISendInputSink
{
    /// <summary>A null item: nothing to send, but -Line still ends a line.</summary>
    void OnNull();

    /// <summary>A single byte: a byte array the pipeline unrolled arrives this way, byte by byte.</summary>
    void OnByte(byte value);

    /// <summary>Bytes to send as they are.</summary>
    void OnBytes(byte[] data);

    /// <summary>Text to encode.</summary>
    void OnText(string text);
}

/// <summary>How SockPS sends an object: strings are encoded, byte arrays go raw, a SocketDatagram
/// sends its Data, other arrays element by element, values with a text form of their own (numbers,
/// dates, addresses, ...) as that text, and other objects (PSCustomObject, hashtables, objects
/// whose ToString is their type name) as PowerShell displays them, like text piped to a native
/// program.</summary>
internal static class SendInput
{
    /// <summary>Walks one piped item. The pipeline unrolls <c>[byte[]](65, 66) + 2</c> into two
    /// bytes and an Int32, so the rule for arrays (numbers among bytes are bytes) carries across
    /// items: <paramref name="run"/> remembers whether the previous item of this pipeline was
    /// bytes, and a whole number right after bytes is a byte too. Piping the array and passing
    /// it to -InputObject then send the same bytes.</summary>
    public static void Walk(object? item, ISendInputSink sink, Func<object, string> format, ByteRun run)
    {
        object? value = item is PSObject pso ? pso.BaseObject : item;
        if (run.Active && value is not byte && IsWholeNumber(value))
        {
            AsByte(value, out byte single);
            sink.OnByte(single);
            return;
        }

        Walk(item, sink, format);
        run.Active = value is byte;
    }

    /// <summary>Walks an item, formatting structured objects with <paramref name="format"/>
    /// (Out-String in the calling session).</summary>
    public static void Walk(object? item, ISendInputSink sink, Func<object, string> format)
    {
        object? value = item is PSObject pso ? pso.BaseObject : item;
        switch (value)
        {
            case null:
                sink.OnNull();
                return;
            case byte single:
                sink.OnByte(single);
                return;
            case byte[] bytes:
                sink.OnBytes(bytes);
                return;
            case SocketDatagram { MessageType: "Text" } message:
                // A WebSocket text message piped back (an echo) goes out as text again.
                sink.OnText(message.Text);
                return;
            case SocketDatagram datagram:
                sink.OnBytes(datagram.Data);
                return;
            case string text:
                sink.OnText(text);
                return;
            case IEnumerable sequence when value is not IDictionary:
                List<object?> elements = new();
                bool hasBytes = false;
                foreach (object? element in sequence)
                {
                    elements.Add(element);
                    hasBytes |= (element is PSObject wrapped ? wrapped.BaseObject : element) is byte;
                }

                foreach (object? element in elements)
                {
                    // [byte[]](65, 66) + 2 makes an array of bytes and one Int32: in an array
                    // that holds bytes, whole numbers are bytes too (not the text "2").
                    if (hasBytes && AsByte(element, out byte single))
                    {
                        sink.OnByte(single);
                        continue;
                    }

                    Walk(element, sink, format);
                }

                return;
            default:
                sink.OnText(HasOwnText(value)
                    ? (string)LanguagePrimitives.ConvertTo(value, typeof(string), CultureInfo.InvariantCulture)
                    : format(item!));
                return;
        }
    }

    private static bool IsWholeNumber(object? value) =>
        value is sbyte or short or ushort or int or uint or long or ulong;

    /// <summary>A whole number in an array of bytes, as a byte. One outside 0-255 is an error:
    /// sent as text it would quietly break the binary message.</summary>
    private static bool AsByte(object? element, out byte value)
    {
        object? number = element is PSObject wrapped ? wrapped.BaseObject : element;
        value = 0;
        long whole;
        switch (number)
        {
            case byte b:
                value = b;
                return true;
            case sbyte or short or ushort or int or uint or long:
                whole = Convert.ToInt64(number, CultureInfo.InvariantCulture);
                break;
            case ulong u when u <= long.MaxValue:
                whole = (long)u;
                break;
            default:
                return false;
        }

        if (whole is < 0 or > 255)
        {
            throw new SocketOperationException(SocketFailureKind.InvalidArgument,
                $"The input mixes bytes and numbers, and {whole} is not a byte (0-255). In an array that holds bytes, numbers are sent as bytes; " +
                $"send a larger number as text (\"{whole}\") or encode it yourself, for example with [BitConverter]::GetBytes().");
        }

        value = (byte)whole;
        return true;
    }

    /// <summary>True for values whose string form is their content (numbers, dates, enums, IP
    /// addresses, URIs, ...): their type overrides ToString. A PSCustomObject's base object has no
    /// text at all (its properties live on the PSObject), and a hashtable's is its type name.</summary>
    private static bool HasOwnText(object value)
    {
        if (value is PSCustomObject or IDictionary)
        {
            return false;
        }

        Type type = value.GetType();
        if (type.IsPrimitive || type.IsEnum || value is decimal)
        {
            return true;
        }

        MethodInfo? toString = type.GetMethod(nameof(ToString), BindingFlags.Public | BindingFlags.Instance, null, Type.EmptyTypes, null);
        return toString is not null && toString.DeclaringType != typeof(object) && toString.DeclaringType != typeof(ValueType);
    }

    /// <summary>What Out-String writes for one object, without the blank lines it puts around
    /// tables and lists; the text a native program would have received.</summary>
    public static string OutString(PSCmdlet cmdlet, object item)
    {
        Collection<PSObject> lines = cmdlet.InvokeCommand.InvokeScript(
            "param($__SockPSItem) ,$__SockPSItem | Out-String -Stream -Width 4096", useNewScope: true, PipelineResultTypes.None, input: null, item);
        List<string> text = new(lines.Count);
        foreach (PSObject line in lines)
        {
            text.Add(line?.ToString() ?? string.Empty);
        }

        int first = text.FindIndex(l => l.Trim().Length > 0);
        int last = text.FindLastIndex(l => l.Trim().Length > 0);
        return first < 0 ? string.Empty : string.Join("\n", text.GetRange(first, last - first + 1).ConvertAll(l => l.TrimEnd()));
    }
}

/// <summary>Whether the last item a pipeline sent was bytes (see <see cref="SendInput.Walk(object?, ISendInputSink, Func{object, string}, ByteRun)"/>).</summary>
internal sealed class ByteRun
{
    public bool Active { get; set; }
}
