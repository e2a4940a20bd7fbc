namespace SockPS.Core;

/// <summary>Where a connection is in its life.</summary>
public enum SocketState
{
    /// <summary>Both directions work.</summary>
    Open,
    /// <summary>This side shut down sending (Disconnect-Socket -Shutdown Send); receiving still works.</summary>
    SendShutdown,
    /// <summary>The remote host closed or reset the connection. Data already received can still be read.</summary>
    Closed,
    /// <summary>Closed here and removed from the registry; nothing more can be done with it.</summary>
    Disconnected,
}

/// <summary>Where a server is in its life.</summary>
public enum ServerState
{
    /// <summary>Accepting connections.</summary>
    Listening,
    /// <summary>Stopped; no more connections are accepted.</summary>
    Stopped,
    /// <summary>Stopped because something it needs failed; LastError says what.</summary>
    Failed,
}

/// <summary>The transport a socket uses.</summary>
public enum SocketProtocol
{
    /// <summary>A byte stream (SOCK_STREAM): TCP, or a Unix stream socket.</summary>
    Tcp,
    /// <summary>Datagrams (SOCK_DGRAM): UDP, or a Unix datagram socket.</summary>
    Udp,
}
