using System;
using System.Collections.Generic;
using System.Linq;
using System.Net;
using System.Net.Sockets;
using System.Threading;
using System.Threading.Tasks;

namespace SockPS.Core;

/// <summary>Opens client connections: resolves the name, then tries each address in the order
/// the resolver gives until one connects, all within one timeout.</summary>
public static class SocketConnector
{
    /// <summary>The default connect timeout.</summary>
    public static readonly TimeSpan DefaultConnectTimeout = TimeSpan.FromSeconds(30);

    /// <summary>Connects over TCP and returns a started, registered connection.</summary>
    /// <param name="host">A name or an IP address.</param>
    /// <param name="port">1-65535.</param>
    /// <param name="options">Settings for the new connection.</param>
    /// <param name="timeout">For the whole attempt, name lookup included; zero waits as long as the OS does.</param>
    /// <param name="addressFamily">Only addresses of this family, or null for any.</param>
    /// <param name="cancellationToken">Stops the attempt (Ctrl+C).</param>
    public static async Task<SocketConnection> ConnectTcpAsync(string host, int port, ConnectionOptions options, TimeSpan timeout,
        AddressFamily? addressFamily, CancellationToken cancellationToken)
    {
        string where = EndPointText.Format(host, port);
        using CancellationTokenSource? timer = timeout > TimeSpan.Zero ? new CancellationTokenSource(timeout) : null;
        using CancellationTokenSource linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timer?.Token ?? CancellationToken.None);
        CancellationToken token = linked.Token;

        IReadOnlyList<IPAddress> addresses;
        try
        {
            addresses = await ResolveAsync(host, addressFamily, token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (timer?.IsCancellationRequested == true && !cancellationToken.IsCancellationRequested)
        {
            throw TimedOut(where, timeout, "looking up the name");
        }

        SocketOperationException? last = null;
        foreach (IPAddress address in addresses)
        {
            string attempt = EndPointText.Format(address, port);
            Socket socket = new(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
            try
            {
                await ConnectOneAsync(socket, new IPEndPoint(address, port), token).ConfigureAwait(false);
                SocketConnection connection = new(socket, options, server: null);
                connection.Start();
                return connection;
            }
            catch (OperationCanceledException) when (timer?.IsCancellationRequested == true && !cancellationToken.IsCancellationRequested)
            {
                socket.Dispose();
                throw TimedOut(addresses.Count > 1 ? $"{where} ({attempt})" : where, timeout, null);
            }
            catch (OperationCanceledException)
            {
                socket.Dispose();
                throw;
            }
            catch (Exception ex)
            {
                socket.Dispose();
                last = SocketErrors.ConnectFailed(ex, addresses.Count > 1 || !string.Equals(host, address.ToString(), StringComparison.OrdinalIgnoreCase)
                    ? $"{where} ({attempt})"
                    : where);
            }
        }

        throw last ?? new SocketOperationException(SocketFailureKind.HostNotFound,
            $"The host name '{host}' has no {(addressFamily is null ? string.Empty : FamilyName(addressFamily.Value) + " ")}address to connect to.", where);
    }

    /// <summary>Looks a name up; an IP address is returned as it is.</summary>
    public static async Task<IReadOnlyList<IPAddress>> ResolveAsync(string host, AddressFamily? addressFamily, CancellationToken cancellationToken)
    {
        string name = host.Trim();
        if (name.Length == 0)
        {
            throw new SocketOperationException(SocketFailureKind.InvalidArgument, "The computer name is empty. Give a host name or an IP address.");
        }

        if (IPAddress.TryParse(name.Trim('[', ']'), out IPAddress? literal))
        {
            if (addressFamily is not null && literal.AddressFamily != addressFamily)
            {
                throw new SocketOperationException(SocketFailureKind.InvalidArgument,
                    $"{literal} is an {FamilyName(literal.AddressFamily)} address, but -AddressFamily asks for {FamilyName(addressFamily.Value)}.", name);
            }

            return new[] { literal };
        }

        IPAddress[] found;
        try
        {
            // Dns has no cancellable overload on netstandard2.0; stop waiting rather than stop the lookup.
            Task<IPAddress[]> lookup = Dns.GetHostAddressesAsync(name);
            if (cancellationToken.CanBeCanceled)
            {
                Task finished = await Task.WhenAny(lookup, Task.Delay(Timeout.Infinite, cancellationToken)).ConfigureAwait(false);
                if (finished != lookup)
                {
                    _ = lookup.ContinueWith(t => _ = t.Exception, TaskScheduler.Default);
                    cancellationToken.ThrowIfCancellationRequested();
                }
            }

            found = await lookup.ConfigureAwait(false);
        }
        catch (SocketException ex)
        {
            throw new SocketOperationException(SocketFailureKind.HostNotFound,
                $"The host name '{name}' could not be resolved: {ex.Message}. Check the spelling and your DNS settings, or use an IP address.", name, ex);
        }

        IPAddress[] usable = addressFamily is null ? found : found.Where(a => a.AddressFamily == addressFamily).ToArray();
        if (usable.Length == 0)
        {
            throw new SocketOperationException(SocketFailureKind.HostNotFound,
                $"The host name '{name}' has no {(addressFamily is null ? string.Empty : FamilyName(addressFamily.Value) + " ")}address.", name);
        }

        return usable;
    }

    private static async Task ConnectOneAsync(Socket socket, IPEndPoint endPoint, CancellationToken token)
    {
        // netstandard2.0 has no cancellable ConnectAsync; disposing the socket aborts the attempt.
        Task connect = socket.ConnectAsync(endPoint);
        if (!connect.IsCompleted && token.CanBeCanceled)
        {
            Task finished = await Task.WhenAny(connect, Task.Delay(Timeout.Infinite, token)).ConfigureAwait(false);
            if (finished != connect)
            {
                socket.Dispose();
                _ = connect.ContinueWith(t => _ = t.Exception, TaskScheduler.Default);
                token.ThrowIfCancellationRequested();
            }
        }

        await connect.ConfigureAwait(false);
    }

    private static SocketOperationException TimedOut(string where, TimeSpan timeout, string? during) =>
        new(SocketFailureKind.ConnectTimeout,
            $"Connection to {where} timed out after {EndPointText.Seconds(timeout)}{(during is null ? string.Empty : " while " + during)}: the host did not answer. " +
            "Check the address, the port and any firewall on the way, or raise -TimeoutSeconds.", where);

    private static string FamilyName(AddressFamily family) => family switch
    {
        AddressFamily.InterNetwork => "IPv4",
        AddressFamily.InterNetworkV6 => "IPv6",
        _ => family.ToString(),
    };
}
