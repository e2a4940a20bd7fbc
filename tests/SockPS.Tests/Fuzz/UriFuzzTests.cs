using System;
using System.Globalization;
using System.Reflection;
using SockPS.Commands;
using SockPS.Core;
using SockPS.Core.Tests.Fuzz;
using Xunit;

namespace SockPS.Tests.Fuzz;

/// <summary>
/// Random URIs through Connect-Socket's URI parsing (ConnectingCmdlet.FromUri, what -Uri and a
/// URI given as -ComputerName go through, shared with Invoke-SocketRequest): a URI with a known
/// scheme gives the host, port, protocol and TLS it says; anything else is an InvalidArgument
/// SocketOperationException (which the cmdlet reports as InvalidUri), never another exception.
/// </summary>
public class UriFuzzTests
{
    private static readonly MethodInfo s_fromUri =
        typeof(ConnectingCmdlet).GetMethod("FromUri", BindingFlags.NonPublic | BindingFlags.Static)
        ?? throw new InvalidOperationException("ConnectingCmdlet.FromUri(Uri, bool) is gone; update the fuzz test to the new URI parser.");

    private static ConnectTarget FromUri(Uri uri, bool useTls)
    {
        try
        {
            return (ConnectTarget)s_fromUri.Invoke(null, new object[] { uri, useTls })!;
        }
        catch (TargetInvocationException ex) when (ex.InnerException is not null)
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(ex.InnerException).Throw();
            throw;
        }
    }

    private static readonly string[] s_schemes =
    {
        "tcp", "tls", "udp", "http", "https", "smtp", "smtps", "submission", "pop3", "pop3s", "imap", "imaps",
        "ftp", "nntp", "nntps", "telnet", "gopher", "unix", "unix-abstract", "HTTP", "Tls", "file", "ws", "x-y", "mailto", "ldap",
    };

    private static string RandomHost(Random random) => random.Next(6) switch
    {
        0 => $"{random.Next(256)}.{random.Next(256)}.{random.Next(256)}.{random.Next(256)}",
        1 => FuzzRun.Pick(random, "[::1]", "[fe80::1]", "[2001:db8::7]", "[::ffff:10.0.0.1]"),
        2 => FuzzRun.Pick(random, "localhost", "mail.example.com", "a", "xn--bcher-kva.example", "h-1.test"),
        3 => string.Empty,
        4 => "user:pw@" + FuzzRun.Pick(random, "host", "127.0.0.1"),
        _ => FuzzRun.Text(random, "abc019.-_%:[]@", 10),
    };

    private static string RandomUriText(Random random)
    {
        if (random.Next(6) == 0)
        {
            return FuzzRun.Text(random, FuzzRun.Hostile, 30);
        }

        string scheme = FuzzRun.Pick(random, s_schemes);
        string separator = FuzzRun.Pick(random, "://", "://", "://", ":", ":/", ":///");
        string host = RandomHost(random);
        string port = random.Next(4) switch
        {
            0 => string.Empty,
            1 => ":" + random.Next(1, 65536).ToString(CultureInfo.InvariantCulture),
            2 => ":" + FuzzRun.Pick(random, "0", "65535", "65536", "99999", "", "x", "-1", "080"),
            _ => ":" + random.Next(1, 1000).ToString(CultureInfo.InvariantCulture),
        };
        string path = random.Next(3) == 0 ? FuzzRun.Pick(random, "/", "/run/app.sock", "/a%20b", "/%00x", "/?q=1", "#frag", "/../x") : string.Empty;
        return scheme + separator + host + port + path;
    }

    [Fact]
    public void RandomUrisGiveWhatTheySayOrAnInvalidArgument()
    {
        FuzzRun.Run(nameof(RandomUrisGiveWhatTheySayOrAnInvalidArgument), 2000, (random, _) =>
        {
            string text = RandomUriText(random);
            if (!Uri.TryCreate(text, UriKind.Absolute, out Uri? uri))
            {
                // PowerShell's parameter binder refuses it before the cmdlet sees it.
                return;
            }

            bool useTls = random.Next(4) == 0;
            ConnectTarget? target = null;
            FuzzRun.OnlySockPSErrors(text, () => target = FromUri(uri, useTls), SocketFailureKind.InvalidArgument);
            if (target is null)
            {
                return;
            }

            string scheme = uri.Scheme.ToLowerInvariant();
            ProtocolScheme? known = ProtocolSchemes.Find(scheme);
            if (scheme == "unix")
            {
                Assert.False(string.IsNullOrEmpty(target.Path), $"unix URI {FuzzRun.Show(text)} gave no path");
                return;
            }

            if (scheme == "unix-abstract")
            {
                Assert.False(string.IsNullOrEmpty(target.AbstractName), $"unix-abstract URI {FuzzRun.Show(text)} gave no name");
                return;
            }

            Assert.True(known is not null, $"{FuzzRun.Show(text)} has an unknown scheme but gave a target");
            int expectedPort = uri.Port > 0 ? uri.Port : known!.DefaultPort ?? 0;
            Assert.Equal(expectedPort.ToString(CultureInfo.InvariantCulture), target.Port);
            Assert.InRange(expectedPort, 1, 65535);
            Assert.Equal(uri.DnsSafeHost, target.Host);
            Assert.Equal(useTls || known!.Tls, target.Tls);
            Assert.Equal(known!.Datagram ? SocketProtocol.Udp : SocketProtocol.Tcp, target.Protocol);
            Assert.Equal(known.NewLine, target.NewLine);
            Assert.Equal(known.Telnet, target.Telnet);

            // The scheme's case makes no difference.
            string upper = uri.Scheme.ToUpperInvariant() + uri.OriginalString.Substring(uri.Scheme.Length);
            if (Uri.TryCreate(upper, UriKind.Absolute, out Uri? shouted))
            {
                ConnectTarget again = FromUri(shouted, useTls);
                Assert.Equal(target.ToString(), again.ToString());
                Assert.Equal(target.Tls, again.Tls);
            }
        });
    }

    [Fact]
    public void RandomSchemeNamesAreFoundOrNull()
    {
        FuzzRun.Run(nameof(RandomSchemeNamesAreFoundOrNull), 1000, (random, _) =>
        {
            string name = random.Next(2) == 0 ? FuzzRun.Text(random, FuzzRun.Hostile, 8) : FuzzRun.Pick(random, s_schemes);
            ProtocolScheme? found = ProtocolSchemes.Find(name);
            if (found is not null)
            {
                Assert.Equal(name, found.Name, ignoreCase: true);
                Assert.True(found.DefaultPort is null or (>= 1 and <= 65535));
            }
        });
    }
}
