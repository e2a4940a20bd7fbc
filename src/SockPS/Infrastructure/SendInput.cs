using System.Collections;
using System.Globalization;
using System.Management.Automation;
using SockPS.Core;

namespace SockPS.Commands;

/// <summary>What a cmdlet does with each piece of input it sends (Send-SocketData,
/// Invoke-SocketRequest): the pieces are decided once, in <see cref="SendInput.Walk"/>.</summary>
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
/// sends its Data, other arrays element by element, anything else as its string form.</summary>
internal static class SendInput
{
    public static void Walk(object? item, ISendInputSink sink)
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
            case SocketDatagram datagram:
                sink.OnBytes(datagram.Data);
                return;
            case string text:
                sink.OnText(text);
                return;
            case IEnumerable sequence when value is not IDictionary:
                foreach (object? element in sequence)
                {
                    Walk(element, sink);
                }

                return;
            default:
                sink.OnText((string)LanguagePrimitives.ConvertTo(value, typeof(string), CultureInfo.InvariantCulture));
                return;
        }
    }
}
