using System.Threading;

namespace SockPS.Core;

/// <summary>
/// Friendly ids for connections, servers and relays: a counter per kind, so an id is unique in
/// the process and never reused (a script that holds an id never reaches a different socket by
/// accident). Ids are given when an object is made, so a transcript started before anyone lists
/// the connection already names it. Which objects are listed, found by id and closed together
/// is the cmdlet layer's registry; the core keeps no table of live objects.
/// </summary>
internal static class SocketIds
{
    private static int s_lastConnection;
    private static int s_lastServer;
    private static int s_lastRelay;

    public static int NextConnection() => Interlocked.Increment(ref s_lastConnection);

    public static int NextServer() => Interlocked.Increment(ref s_lastServer);

    public static int NextRelay() => Interlocked.Increment(ref s_lastRelay);
}
