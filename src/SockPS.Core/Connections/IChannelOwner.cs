using System.Net;

namespace SockPS.Core;

/// <summary>
/// What a channel tells the connection that owns it. The channel moves bytes; the connection
/// keeps the counters, the transcript, the state and the events, so the channel can be read
/// without knowing about any of them.
/// </summary>
internal interface IChannelOwner
{
    /// <summary>How messages name the peer.</summary>
    string PeerText { get; }

    /// <summary>Bytes were read from the socket (one datagram on a datagram socket): recorded
    /// before any receive can take them, so a request the script sends after it has read an
    /// answer is never recorded ahead of that answer.</summary>
    void OnReceiving(byte[] buffer, int offset, int count, EndPoint? from);

    /// <summary>The bytes of <see cref="OnReceiving"/> can now be taken: counted, and the event
    /// raised.</summary>
    void OnReceived(int count);

    /// <summary>Bytes are about to be written: recorded before the write, so an answer the peer
    /// sends back is never recorded ahead of the request that caused it.</summary>
    void OnSending(byte[] buffer, int offset, int count, EndPoint? to);

    /// <summary>Bytes were handed to the OS.</summary>
    void OnSent(int count);

    /// <summary>The receive side ended: the peer closed (null) or the socket failed. Not called
    /// when the connection was closed here.</summary>
    void OnEnded(SocketOperationException? failure);

    /// <summary>The receive side is ending (same arguments as <see cref="OnEnded"/>): called before
    /// waiting receives are told, so the state and close reason a script looks at after its last
    /// receive already say why. <see cref="OnEnded"/> follows and raises the event.</summary>
    void OnEnding(SocketOperationException? failure);
}
