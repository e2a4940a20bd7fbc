using System.Collections.Generic;

namespace SockPS.Core;

/// <summary>
/// Telnet's option negotiation (RFC 854/855) as nc -t handles it: every option the peer offers
/// is refused (DO x is answered WONT x, WILL x is answered DONT x; WONT and DONT need no answer,
/// so two refusers cannot loop), and the negotiation is taken out of the data: IAC commands,
/// option requests and subnegotiations disappear, an escaped IAC (255 255) stays as one 255.
/// Pure and incremental: a sequence split across reads is finished on the next call.
/// </summary>
internal sealed class TelnetFilter
{
    internal const byte Iac = 255;
    internal const byte Dont = 254;
    internal const byte Do = 253;
    internal const byte Wont = 252;
    internal const byte Will = 251;
    internal const byte Sb = 250;
    internal const byte Se = 240;

    private enum State
    {
        Data,
        Command,
        Option,
        Sub,
        SubIac,
    }

    private State _state = State.Data;
    private byte _verb;

    /// <summary>Options refused so far (for display and tests).</summary>
    public int Refused { get; private set; }

    /// <summary>Takes the negotiation out of <paramref name="count"/> bytes at
    /// <paramref name="offset"/>, in place; returns how many data bytes are left there. The
    /// answers to send back are added to <paramref name="replies"/>.</summary>
    public int Filter(byte[] buffer, int offset, int count, List<byte> replies)
    {
        int write = offset;
        int end = offset + count;
        for (int read = offset; read < end; read++)
        {
            byte b = buffer[read];
            switch (_state)
            {
                case State.Data:
                    if (b == Iac)
                    {
                        _state = State.Command;
                    }
                    else
                    {
                        buffer[write++] = b;
                    }

                    break;

                case State.Command:
                    switch (b)
                    {
                        case Iac:
                            buffer[write++] = Iac; // an escaped 255 is data
                            _state = State.Data;
                            break;
                        case Will:
                        case Wont:
                        case Do:
                        case Dont:
                            _verb = b;
                            _state = State.Option;
                            break;
                        case Sb:
                            _state = State.Sub;
                            break;
                        default:
                            _state = State.Data; // NOP, GA, AYT, ...: nothing to pass on
                            break;
                    }

                    break;

                case State.Option:
                    if (_verb == Do || _verb == Will)
                    {
                        replies.Add(Iac);
                        replies.Add(_verb == Do ? Wont : Dont);
                        replies.Add(b);
                        Refused++;
                    }

                    _state = State.Data;
                    break;

                case State.Sub:
                    if (b == Iac)
                    {
                        _state = State.SubIac;
                    }

                    break;

                case State.SubIac:
                    _state = b == Se ? State.Data : State.Sub;
                    break;
            }
        }

        return write - offset;
    }
}
