using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using Xunit;

namespace SockPS.Core.Tests;

/// <summary>
/// The proxy handshakes as pure byte and text functions (every reply code to its failure kind),
/// whole handshakes against a scripted proxy stream (what is written, and that nothing after the
/// answer is read), proxy URIs, and the connect path's proxy failures on loopback. The real
/// proxies (microsocks, dante, ssh -D, tinyproxy) are in tests/pester/Proxy.Tests.ps1.
/// </summary>
public class ProxyTests
{
    private static readonly ProxySettings Socks5 = ProxySettings.Parse(new Uri("socks5://127.0.0.1:1080"));
    private static readonly ProxySettings Socks5h = ProxySettings.Parse(new Uri("socks5h://127.0.0.1:1080"));
    private static readonly ProxySettings Socks5Password = ProxySettings.Parse(new Uri("socks5://127.0.0.1:1080"), "alice", "s3cret");
    private static readonly ProxySettings Socks4 = ProxySettings.Parse(new Uri("socks4://127.0.0.1:1080"));
    private static readonly ProxySettings Socks4a = ProxySettings.Parse(new Uri("socks4a://127.0.0.1:1080"), "bob", null);
    private static readonly ProxySettings Http = ProxySettings.Parse(new Uri("http://127.0.0.1:3128"));
    private static readonly ProxySettings HttpPassword = ProxySettings.Parse(new Uri("http://127.0.0.1:3128"), "alice", "s3cret");

    // ------------------------------------------------------------------ SOCKS5 reply codes

    [Theory]
    [InlineData(1, SocketFailureKind.ProxyTargetUnreachable, "general SOCKS server failure")]
    [InlineData(2, SocketFailureKind.ProxyDenied, "connection not allowed by ruleset")]
    [InlineData(3, SocketFailureKind.ProxyTargetUnreachable, "network unreachable")]
    [InlineData(4, SocketFailureKind.ProxyTargetUnreachable, "host unreachable")]
    [InlineData(5, SocketFailureKind.ProxyTargetUnreachable, "connection refused")]
    [InlineData(6, SocketFailureKind.ProxyTargetUnreachable, "TTL expired")]
    [InlineData(7, SocketFailureKind.ProxyProtocolError, "command not supported")]
    [InlineData(8, SocketFailureKind.ProxyProtocolError, "address type not supported")]
    [InlineData(9, SocketFailureKind.ProxyTargetUnreachable, "an unassigned reply code")]
    public void Socks5ReplyCodesBecomeTheirFailureKindWithTheReplyInWords(byte code, SocketFailureKind kind, string words)
    {
        SocketOperationException ex = Assert.Throws<SocketOperationException>(() =>
            ProxyHandshake.Socks5.ParseConnectReply(new byte[] { 5, code, 0, 1, 127 }, Socks5, "db.example:5432", sentName: false));

        Assert.Equal(kind, ex.Kind);
        Assert.Contains($"it answered {code}, {words}", ex.Message);
        Assert.Contains("SOCKS5 proxy 127.0.0.1:1080", ex.Message);
        if (kind is SocketFailureKind.ProxyTargetUnreachable or SocketFailureKind.ProxyDenied)
        {
            Assert.Contains("db.example:5432", ex.Message);
        }
    }

    [Theory]
    [InlineData(3, PortStatus.Unreachable)]
    [InlineData(4, PortStatus.Unreachable)]
    [InlineData(5, PortStatus.Refused)]
    [InlineData(6, PortStatus.TimedOut)]
    public void Socks5RepliesThatSayWhatBecameOfTheTargetTellPortChecks(byte code, PortStatus status)
    {
        SocketOperationException ex = ProxyHandshake.Socks5.ReplyFailure(code, Socks5, "127.0.0.1:9", sentName: false);
        Assert.Equal(status, ex.TargetStatus);
    }

    [Fact]
    public void Socks5AddressTypeNotSupportedForANameSaysToResolveHere()
    {
        SocketOperationException named = ProxyHandshake.Socks5.ReplyFailure(8, Socks5h, "db.example:5432", sentName: true);
        SocketOperationException address = ProxyHandshake.Socks5.ReplyFailure(8, Socks5, "[::1]:5432", sentName: false);

        Assert.Contains("use socks5:// instead of socks5h://", named.Message);
        Assert.Contains("try IPv4 (InterNetwork)", address.Message);
    }

    [Fact]
    public void Socks5GeneralFailureForANameMentionsNameResolution()
    {
        Assert.Contains("does not resolve", ProxyHandshake.Socks5.ReplyFailure(1, Socks5h, "nosuch.invalid:80", sentName: true).Message);
    }

    [Fact]
    public void Socks5SuccessReturnsTheLengthOfTheBoundAddressStillToRead()
    {
        Assert.Equal(5, ProxyHandshake.Socks5.ParseConnectReply(new byte[] { 5, 0, 0, 1, 127 }, Socks5, "t:1", false));
        Assert.Equal(17, ProxyHandshake.Socks5.ParseConnectReply(new byte[] { 5, 0, 0, 4, 0 }, Socks5, "t:1", false));
        Assert.Equal(9 + 2, ProxyHandshake.Socks5.ParseConnectReply(new byte[] { 5, 0, 0, 3, 9 }, Socks5, "t:1", false));
    }

    [Theory]
    [InlineData(new byte[] { 0x48, 0x54, 0x54, 0x50, 0x2F }, "use an http:// proxy URI", SocketSetting.None)]
    [InlineData(new byte[] { 0, 0x5A, 0, 0, 0 }, "use socks4://", SocketSetting.None)]
    [InlineData(new byte[] { 0x17, 0x03, 0x03, 0, 2 }, "17 03 03 00 02.", SocketSetting.Proxy)]
    public void AnAnswerThatIsNotSocks5IsAProtocolErrorWithTheBytesAndAHint(byte[] answer, string hint, SocketSetting setting)
    {
        SocketOperationException ex = Assert.Throws<SocketOperationException>(() =>
            ProxyHandshake.Socks5.ParseConnectReply(answer, Socks5, "t:1", false));

        Assert.Equal(SocketFailureKind.ProxyProtocolError, ex.Kind);
        Assert.Contains("did not answer as a SOCKS5 proxy", ex.Message);
        Assert.Contains(string.Join(" ", answer.Select(b => b.ToString("X2"))), ex.Message);
        Assert.Contains(hint, ex.Message);
        Assert.Equal(setting, ex.Setting);
    }

    [Fact]
    public void Socks5MethodChoices()
    {
        Assert.Equal(0, ProxyHandshake.Socks5.ParseMethodChoice(new byte[] { 5, 0 }, offeredPassword: false, Socks5));
        Assert.Equal(2, ProxyHandshake.Socks5.ParseMethodChoice(new byte[] { 5, 2 }, offeredPassword: true, Socks5Password));

        SocketOperationException wantsPassword = Assert.Throws<SocketOperationException>(() =>
            ProxyHandshake.Socks5.ParseMethodChoice(new byte[] { 5, 0xFF }, offeredPassword: false, Socks5));
        Assert.Equal(SocketFailureKind.ProxyAuthenticationFailed, wantsPassword.Kind);
        Assert.Contains("requires a user name and password", wantsPassword.Message);
        Assert.Equal(SocketSetting.ProxyCredential, wantsPassword.Setting);

        SocketOperationException wantsOther = Assert.Throws<SocketOperationException>(() =>
            ProxyHandshake.Socks5.ParseMethodChoice(new byte[] { 5, 0xFF }, offeredPassword: true, Socks5Password));
        Assert.Equal(SocketFailureKind.ProxyAuthenticationFailed, wantsOther.Kind);
        Assert.Contains("GSSAPI", wantsOther.Message);

        SocketOperationException notOffered = Assert.Throws<SocketOperationException>(() =>
            ProxyHandshake.Socks5.ParseMethodChoice(new byte[] { 5, 2 }, offeredPassword: false, Socks5));
        Assert.Equal(SocketFailureKind.ProxyProtocolError, notOffered.Kind);
    }

    [Fact]
    public void Socks5PasswordRequestAndReplyFollowRfc1929()
    {
        Assert.Equal(new byte[] { 1, 5, (byte)'a', (byte)'l', (byte)'i', (byte)'c', (byte)'e', 2, (byte)'p', (byte)'w' },
            ProxyHandshake.Socks5.PasswordRequest("alice", "pw"));

        ProxyHandshake.Socks5.ParsePasswordReply(new byte[] { 1, 0 }, Socks5Password);
        SocketOperationException refused = Assert.Throws<SocketOperationException>(() =>
            ProxyHandshake.Socks5.ParsePasswordReply(new byte[] { 1, 1 }, Socks5Password));
        Assert.Equal(SocketFailureKind.ProxyAuthenticationFailed, refused.Kind);
        Assert.Contains("'alice'", refused.Message);
        Assert.DoesNotContain("s3cret", refused.Message);
    }

    [Fact]
    public void Socks5ConnectRequestsCarryAnAddressOrAName()
    {
        Assert.Equal(new byte[] { 5, 1, 0, 1, 127, 0, 0, 1, 0x1F, 0x90 },
            ProxyHandshake.Socks5.ConnectRequest("localhost", IPAddress.Loopback, 8080, Socks5));
        Assert.Equal(new byte[] { 5, 1, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 80 },
            ProxyHandshake.Socks5.ConnectRequest("::1", null, 80, Socks5h));
        byte[] named = ProxyHandshake.Socks5.ConnectRequest("db.example", null, 5432, Socks5h);
        Assert.Equal(new byte[] { 5, 1, 0, 3, 10 }, named.Take(5).ToArray());
        Assert.Equal("db.example", Encoding.ASCII.GetString(named, 5, 10));
        Assert.Equal(new byte[] { 0x15, 0x38 }, named.Skip(15).ToArray());
        // An international name goes as punycode.
        byte[] idn = ProxyHandshake.Socks5.ConnectRequest("bücher.example", null, 80, Socks5h);
        Assert.Equal("xn--bcher-kva.example", Encoding.ASCII.GetString(idn, 5, idn[4]));
    }

    // ------------------------------------------------------------------ SOCKS4

    [Theory]
    [InlineData(91, SocketFailureKind.ProxyTargetUnreachable, "request rejected or failed")]
    [InlineData(92, SocketFailureKind.ProxyAuthenticationFailed, "cannot reach identd")]
    [InlineData(93, SocketFailureKind.ProxyAuthenticationFailed, "identd reports a different user id")]
    [InlineData(77, SocketFailureKind.ProxyProtocolError, "does not have (77)")]
    public void Socks4ReplyCodesBecomeTheirFailureKind(byte code, SocketFailureKind kind, string words)
    {
        SocketOperationException ex = Assert.Throws<SocketOperationException>(() =>
            ProxyHandshake.Socks4.ParseReply(new byte[] { 0, code, 0, 0, 0, 0, 0, 0 }, Socks4, "127.0.0.1:9"));
        Assert.Equal(kind, ex.Kind);
        Assert.Contains(words, ex.Message);
    }

    [Fact]
    public void Socks4GrantedPassesAndASocks5AnswerSaysSo()
    {
        ProxyHandshake.Socks4.ParseReply(new byte[] { 0, 90, 0, 0, 0, 0, 0, 0 }, Socks4, "t:1");
        SocketOperationException ex = Assert.Throws<SocketOperationException>(() =>
            ProxyHandshake.Socks4.ParseReply(new byte[] { 5, 0xFF, 0, 0, 0, 0, 0, 0 }, Socks4, "t:1"));
        Assert.Equal(SocketFailureKind.ProxyProtocolError, ex.Kind);
        Assert.Contains("use socks5://", ex.Message);
    }

    [Fact]
    public void Socks4RequestsCarryAnIPv4AddressOrSocks4aName()
    {
        Assert.Equal(new byte[] { 4, 1, 0, 80, 127, 0, 0, 1, 0 }, ProxyHandshake.Socks4.ConnectRequest("localhost", IPAddress.Loopback, 80, Socks4));
        byte[] named = ProxyHandshake.Socks4.ConnectRequest("db.example", null, 80, Socks4a);
        Assert.Equal(new byte[] { 4, 1, 0, 80, 0, 0, 0, 1 }, named.Take(8).ToArray());
        Assert.Equal("bob\0db.example\0", Encoding.ASCII.GetString(named, 8, named.Length - 8));

        SocketOperationException v6 = Assert.Throws<SocketOperationException>(() =>
            ProxyHandshake.Socks4.ConnectRequest("::1", null, 80, Socks4));
        Assert.Equal(SocketFailureKind.InvalidArgument, v6.Kind);
        Assert.Contains("IPv4 addresses only", v6.Message);
    }

    // ------------------------------------------------------------------ HTTP CONNECT

    [Theory]
    [InlineData("HTTP/1.1 407 Proxy Authentication Required", false, SocketFailureKind.ProxyAuthenticationFailed, "requires a user name and password")]
    [InlineData("HTTP/1.0 401 Unauthorized", true, SocketFailureKind.ProxyAuthenticationFailed, "refused the user name and password for 'alice'")]
    [InlineData("HTTP/1.1 407 Proxy Authentication Required", true, SocketFailureKind.ProxyAuthenticationFailed, "refused the user name and password")]
    [InlineData("HTTP/1.1 403 Access violation", false, SocketFailureKind.ProxyDenied, "it answered 403 Access violation")]
    [InlineData("HTTP/1.1 500 Unable to connect", false, SocketFailureKind.ProxyTargetUnreachable, "it answered 500 Unable to connect")]
    [InlineData("HTTP/1.1 502 Bad Gateway", false, SocketFailureKind.ProxyTargetUnreachable, "502 Bad Gateway")]
    [InlineData("HTTP/1.1 504 Gateway Timeout", false, SocketFailureKind.ProxyTargetUnreachable, "504 Gateway Timeout")]
    [InlineData("HTTP/1.1 405 Method Not Allowed", false, SocketFailureKind.ProxyProtocolError, "may not tunnel")]
    [InlineData("HTTP/1.1 418 I'm a teapot", false, SocketFailureKind.ProxyDenied, "418")]
    [InlineData("SSH-2.0-OpenSSH_9.2", false, SocketFailureKind.ProxyProtocolError, "'SSH-2.0-OpenSSH_9.2'")]
    public void HttpStatusLinesBecomeTheirFailureKind(string line, bool withPassword, SocketFailureKind kind, string words)
    {
        ProxySettings proxy = withPassword ? HttpPassword : Http;
        SocketOperationException ex = Assert.Throws<SocketOperationException>(() =>
            ProxyHandshake.HttpConnect.ParseResponse(line + "\r\nServer: test\r\n\r\n", proxy, "db.example:5432"));
        Assert.Equal(kind, ex.Kind);
        Assert.Contains(words, ex.Message);
        Assert.DoesNotContain("s3cret", ex.Message);
    }

    [Theory]
    [InlineData("HTTP/1.1 200 Connection established")]
    [InlineData("HTTP/1.0 200 OK")]
    [InlineData("HTTP/1.1 204 No Content")]
    public void Http2xxOpensTheTunnel(string line) =>
        ProxyHandshake.HttpConnect.ParseResponse(line + "\r\n\r\n", Http, "t:1");

    [Fact]
    public void HttpConnectRequestNamesTheTargetAndCarriesBasicCredentials()
    {
        string plain = Encoding.ASCII.GetString(ProxyHandshake.HttpConnect.Request("[::1]:443", Http));
        Assert.Equal("CONNECT [::1]:443 HTTP/1.1\r\nHost: [::1]:443\r\n\r\n", plain);

        string withPassword = Encoding.ASCII.GetString(ProxyHandshake.HttpConnect.Request("db.example:5432", HttpPassword));
        Assert.Contains("Proxy-Authorization: Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes("alice:s3cret")) + "\r\n", withPassword);
        Assert.EndsWith("\r\n\r\n", withPassword);
    }

    // ------------------------------------------------------------------ whole handshakes

    [Fact]
    public async Task Socks5HandshakeWithPasswordWritesTheRfcBytesAndLeavesTheTunnelsBytesUnread()
    {
        ScriptedStream stream = new(new byte[] { 5, 2 }, new byte[] { 1, 0 }, new byte[] { 5, 0, 0, 1, 10, 0, 0, 1, 0x30, 0x39 }, Encoding.ASCII.GetBytes("BANNER"));

        await ProxyHandshake.RunAsync(stream, Socks5Password, "10.0.0.9", null, 22, CancellationToken.None);

        Assert.Equal(new byte[] { 5, 2, 0, 2 }.Concat(ProxyHandshake.Socks5.PasswordRequest("alice", "s3cret")).Concat(new byte[] { 5, 1, 0, 1, 10, 0, 0, 9, 0, 22 }),
            stream.Written);
        Assert.Equal("BANNER", stream.Rest());
    }

    [Fact]
    public async Task Socks5hHandshakeReadsANamedBoundAddress()
    {
        ScriptedStream stream = new(new byte[] { 5, 0 }, new byte[] { 5, 0, 0, 3, 4 }, Encoding.ASCII.GetBytes("host"), new byte[] { 0, 1 }, Encoding.ASCII.GetBytes("after"));

        await ProxyHandshake.RunAsync(stream, Socks5h, "db.example", null, 5432, CancellationToken.None);

        Assert.Equal("after", stream.Rest());
    }

    [Fact]
    public async Task Socks5RefusalAfterTwoBytesNeedsNoMore()
    {
        // Some proxies close right after the status of a refusal.
        ScriptedStream stream = new(new byte[] { 5, 0 }, new byte[] { 5, 5 });

        SocketOperationException ex = await Assert.ThrowsAsync<SocketOperationException>(() =>
            ProxyHandshake.RunAsync(stream, Socks5, "127.0.0.1", null, 9, CancellationToken.None));
        Assert.Equal(SocketFailureKind.ProxyTargetUnreachable, ex.Kind);
    }

    [Fact]
    public async Task ASocks5ProxyThatHangsUpAfterThePasswordRefusedIt()
    {
        ScriptedStream stream = new(new byte[] { 5, 2 });

        SocketOperationException ex = await Assert.ThrowsAsync<SocketOperationException>(() =>
            ProxyHandshake.RunAsync(stream, Socks5Password, "127.0.0.1", null, 9, CancellationToken.None));
        Assert.Equal(SocketFailureKind.ProxyAuthenticationFailed, ex.Kind);
    }

    [Fact]
    public async Task AProxyThatClosesWithoutAWordIsAProtocolError()
    {
        SocketOperationException ex = await Assert.ThrowsAsync<SocketOperationException>(() =>
            ProxyHandshake.RunAsync(new ScriptedStream(), Socks5, "127.0.0.1", null, 9, CancellationToken.None));
        Assert.Equal(SocketFailureKind.ProxyProtocolError, ex.Kind);
        Assert.Contains("closed the connection without answering", ex.Message);
    }

    [Fact]
    public async Task ASocks5ProxyThatHangsUpInsteadOfAReplyCouldNotReachTheTarget()
    {
        // OpenSSH's ssh -D closes without a reply when the target refuses.
        SocketOperationException ex = await Assert.ThrowsAsync<SocketOperationException>(() =>
            ProxyHandshake.RunAsync(new ScriptedStream(new byte[] { 5, 0 }), Socks5, "127.0.0.1", null, 9, CancellationToken.None));
        Assert.Equal(SocketFailureKind.ProxyTargetUnreachable, ex.Kind);
        Assert.Contains("127.0.0.1:9", ex.Message);
    }

    [Fact]
    public async Task Socks4aHandshakeSendsTheNameAndReadsEightBytes()
    {
        ScriptedStream stream = new(new byte[] { 0, 90, 0, 0, 0, 0, 0, 0 }, Encoding.ASCII.GetBytes("SSH-2.0"));

        await ProxyHandshake.RunAsync(stream, Socks4a, "db.example", null, 5432, CancellationToken.None);

        Assert.Equal(ProxyHandshake.Socks4.ConnectRequest("db.example", null, 5432, Socks4a), stream.Written);
        Assert.Equal("SSH-2.0", stream.Rest());
    }

    [Fact]
    public async Task HttpConnectReadsTheHeaderAndNotOneByteMore()
    {
        ScriptedStream stream = new(Encoding.ASCII.GetBytes("HTTP/1.1 200 Connection established\r\nProxy-Agent: x\r\n\r\n220 smtp ready\r\n"));

        await ProxyHandshake.RunAsync(stream, Http, "mail.example", null, 25, CancellationToken.None);

        Assert.Equal("CONNECT mail.example:25 HTTP/1.1\r\nHost: mail.example:25\r\n\r\n", Encoding.ASCII.GetString(stream.Written));
        Assert.Equal("220 smtp ready\r\n", stream.Rest());
    }

    [Fact]
    public async Task HttpProxyThatClosesAfterItsStatusIsJudgedByTheStatus()
    {
        ScriptedStream stream = new(Encoding.ASCII.GetBytes("HTTP/1.0 407 Proxy Authentication Required\r\n"));

        SocketOperationException ex = await Assert.ThrowsAsync<SocketOperationException>(() =>
            ProxyHandshake.RunAsync(stream, Http, "t", null, 1, CancellationToken.None));
        Assert.Equal(SocketFailureKind.ProxyAuthenticationFailed, ex.Kind);
    }

    [Fact]
    public async Task ASocksProxyGivenAsHttpIsNamed()
    {
        // microsocks answers "CONNECT ..." with 05 FF and hangs up.
        SocketOperationException ex = await Assert.ThrowsAsync<SocketOperationException>(() =>
            ProxyHandshake.RunAsync(new ScriptedStream(new byte[] { 5, 0xFF }), Http, "t", null, 1, CancellationToken.None));
        Assert.Equal(SocketFailureKind.ProxyProtocolError, ex.Kind);
        Assert.Contains("did not answer as an HTTP proxy", ex.Message);
        Assert.Contains("use socks5://", ex.Message);
    }

    [Fact]
    public async Task AnHttpHeaderWithoutEndIsCutOff()
    {
        byte[] endless = Encoding.ASCII.GetBytes("HTTP/1.1 200 OK\r\n" + new string('x', ProxyHandshake.MaxHttpHeaderBytes));
        SocketOperationException ex = await Assert.ThrowsAsync<SocketOperationException>(() =>
            ProxyHandshake.RunAsync(new ScriptedStream(endless), Http, "t", null, 1, CancellationToken.None));
        Assert.Equal(SocketFailureKind.ProxyProtocolError, ex.Kind);
    }

    // ------------------------------------------------------------------ proxy URIs

    [Theory]
    [InlineData("socks5://127.0.0.1:9050", ProxyKind.Socks5, "127.0.0.1", 9050)]
    [InlineData("SOCKS5H://proxy.example", ProxyKind.Socks5h, "proxy.example", 1080)]
    [InlineData("socks4://[::1]:1081", ProxyKind.Socks4, "::1", 1081)]
    [InlineData("socks4a://p:1", ProxyKind.Socks4a, "p", 1)]
    [InlineData("http://proxy.example", ProxyKind.Http, "proxy.example", 1080)]
    [InlineData("http://proxy.example:80", ProxyKind.Http, "proxy.example", 80)]
    [InlineData("http://proxy.example:3128/", ProxyKind.Http, "proxy.example", 3128)]
    public void ProxyUrisAreRead(string text, ProxyKind kind, string host, int port)
    {
        ProxySettings proxy = ProxySettings.Parse(new Uri(text));
        Assert.Equal(kind, proxy.Kind);
        Assert.Equal(host, proxy.Host);
        Assert.Equal(port, proxy.Port);
        Assert.DoesNotContain("/", proxy.Text.Substring(proxy.Text.IndexOf("//", StringComparison.Ordinal) + 2));
    }

    [Theory]
    [InlineData("socks5://alice:secret@127.0.0.1:1080", "separately, not in the URI")]
    [InlineData("socks5://alice@127.0.0.1:1080", "separately, not in the URI")]
    [InlineData("https://127.0.0.1:3128", "https://")]
    [InlineData("ftp://127.0.0.1:21", "Use socks5://")]
    [InlineData("http://127.0.0.1:3128/path", "only a scheme, a host and a port")]
    public void ProxyUrisThatCannotBeUsedAreInvalidArguments(string text, string hint)
    {
        SocketOperationException ex = Assert.Throws<SocketOperationException>(() => ProxySettings.Parse(new Uri(text)));
        Assert.Equal(SocketFailureKind.InvalidArgument, ex.Kind);
        Assert.Contains(hint, ex.Message);
        Assert.DoesNotContain("secret", ex.Message.Replace(text, string.Empty));
    }

    [Fact]
    public void Socks4TakesNoPassword()
    {
        SocketOperationException ex = Assert.Throws<SocketOperationException>(() => ProxySettings.Parse(new Uri("socks4://p:1"), "bob", "pw"));
        Assert.Contains("SOCKS4 has no passwords", ex.Message);
    }

    // ------------------------------------------------------------------ the connect path

    [Fact]
    public async Task AProxyWhosePortIsClosedIsProxyRefused()
    {
        int closed = ClosedPort();
        ConnectionOptions options = new() { Proxy = ProxySettings.Parse(new Uri($"socks5://127.0.0.1:{closed}")) };

        SocketOperationException ex = await Assert.ThrowsAsync<SocketOperationException>(() =>
            SocketConnector.ConnectTcpAsync("127.0.0.1", 80, options, Loopback.Wait, null, CancellationToken.None));
        Assert.Equal(SocketFailureKind.ProxyRefused, ex.Kind);
        Assert.Contains($"Could not reach the SOCKS5 proxy 127.0.0.1:{closed}: the connection was refused", ex.Message);
    }

    [Fact]
    public async Task AProxyThatNeverAnswersIsBoundedByTheConnectTimeout()
    {
        using Socket silent = new(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        silent.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        silent.Listen(1);
        ConnectionOptions options = new() { Proxy = ProxySettings.Parse(new Uri($"http://127.0.0.1:{((IPEndPoint)silent.LocalEndPoint!).Port}")) };

        SocketOperationException ex = await Assert.ThrowsAsync<SocketOperationException>(() =>
            // 2 s, not less: the connect to the proxy itself must not use up the budget on a
            // loaded machine (that is a ConnectTimeout, another test's subject).
            SocketConnector.ConnectTcpAsync("127.0.0.1", 80, options, TimeSpan.FromSeconds(2), null, CancellationToken.None).WaitAsync(Loopback.Wait));
        Assert.Equal(SocketFailureKind.ProxyTimeout, ex.Kind);
        Assert.Contains("did not finish its handshake", ex.Message);
    }

    [Fact]
    public async Task AConnectionThroughAProxyShowsTheTargetAndTheProxy()
    {
        // A minimal SOCKS5 proxy stand-in: it answers the handshake, then echoes.
        using Socket listener = new(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen(1);
        Task serve = Task.Run(async () =>
        {
            using Socket client = await listener.AcceptAsync();
            byte[] buffer = new byte[64];
            await ReadExactly(client, buffer, 3);
            await client.SendAsync(new byte[] { 5, 0 }, SocketFlags.None);
            await ReadExactly(client, buffer, 5 + 10 + 2);
            Assert.Equal("db.example", Encoding.ASCII.GetString(buffer, 5, 10));
            await client.SendAsync(new byte[] { 5, 0, 0, 1, 127, 0, 0, 1, 0, 1 }, SocketFlags.None);
            await client.SendAsync(Encoding.ASCII.GetBytes("hello\n"), SocketFlags.None);
        });
        ConnectionOptions options = new() { Proxy = ProxySettings.Parse(new Uri($"socks5h://127.0.0.1:{((IPEndPoint)listener.LocalEndPoint!).Port}")) };

        using SocketConnection connection = await SocketConnector.ConnectTcpAsync("db.example", 5432, options, Loopback.Wait, null, CancellationToken.None);
        await serve.WaitAsync(Loopback.Wait);

        Assert.Equal("db.example:5432", connection.RemoteEndPoint!.ToString());
        Assert.IsType<HostEndPoint>(connection.RemoteEndPoint);
        Assert.Equal($"socks5h://127.0.0.1:{((IPEndPoint)listener.LocalEndPoint!).Port}", connection.Proxy);
        Assert.Equal("db.example", connection.ComputerName);
        Assert.Equal("hello", connection.ReceiveLine());
    }

    private static async Task ReadExactly(Socket socket, byte[] buffer, int count)
    {
        for (int done = 0; done < count;)
        {
            int read = await socket.ReceiveAsync(new ArraySegment<byte>(buffer, done, count - done), SocketFlags.None);
            Assert.True(read > 0, "the client closed early");
            done += read;
        }
    }

    private static int ClosedPort()
    {
        using Socket probe = new(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        probe.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)probe.LocalEndPoint!).Port;
    }

    /// <summary>A proxy's side of a handshake: hands out the scripted answers (each read
    /// returns at most one chunk, as a socket returns what has arrived), records every write.</summary>
    private sealed class ScriptedStream : Stream
    {
        private readonly Queue<byte[]> _chunks;
        private readonly MemoryStream _written = new();
        private byte[] _current = Array.Empty<byte>();
        private int _offset;

        public ScriptedStream(params byte[][] chunks) => _chunks = new Queue<byte[]>(chunks);

        public byte[] Written => _written.ToArray();

        /// <summary>Everything not read by the handshake.</summary>
        public string Rest()
        {
            StringBuilder rest = new(Encoding.ASCII.GetString(_current, _offset, _current.Length - _offset));
            foreach (byte[] chunk in _chunks)
            {
                rest.Append(Encoding.ASCII.GetString(chunk));
            }

            return rest.ToString();
        }

        public override int Read(byte[] buffer, int offset, int count)
        {
            if (_offset == _current.Length)
            {
                if (_chunks.Count == 0)
                {
                    return 0;
                }

                _current = _chunks.Dequeue();
                _offset = 0;
            }

            int n = Math.Min(count, _current.Length - _offset);
            Buffer.BlockCopy(_current, _offset, buffer, offset, n);
            _offset += n;
            return n;
        }

        public override void Write(byte[] buffer, int offset, int count) => _written.Write(buffer, offset, count);

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();
    }
}

/// <summary>Platform limits said in words, tested where the platform is not (the OS checks are
/// replaced), and the NUL-path check.</summary>
[Collection("PlatformOverrides")]
public class PlatformLimitTests
{
    [Fact]
    public void AbstractNamesOffLinuxAreNotSupported()
    {
        UnixSockets.IsLinuxOverride = () => false;
        try
        {
            SocketOperationException ex = Assert.Throws<SocketOperationException>(() => UnixSockets.CreateAbstractEndPoint("app"));
            Assert.Equal(SocketFailureKind.NotSupported, ex.Kind);
            Assert.Contains("Linux only", ex.Message);
            Assert.Contains("Use a socket file", ex.Message);
            Assert.Equal(SocketSetting.UnixSocketName, ex.Setting);
        }
        finally
        {
            UnixSockets.IsLinuxOverride = null;
        }
    }

    [Fact]
    public void ReusePortOnWindowsIsNotSupported()
    {
        RawSocketOptions.PlatformOverride = () => OSPlatform.Windows;
        try
        {
            using Socket socket = new(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            SocketOperationException ex = Assert.Throws<SocketOperationException>(() => RawSocketOptions.SetReusePort(socket));
            Assert.Equal(SocketFailureKind.NotSupported, ex.Kind);
            Assert.Contains("SO_REUSEPORT", ex.Message);
        }
        finally
        {
            RawSocketOptions.PlatformOverride = null;
        }
    }

    [Theory]
    [InlineData("\0app", "as an abstract name: app (unix-abstract:app)")]
    [InlineData("/tmp/a\0b", "contains a NUL character")]
    public void APathWithANulIsAnInvalidArgumentWithAHint(string path, string hint)
    {
        SocketOperationException ex = Assert.Throws<SocketOperationException>(() => UnixSockets.CreateEndPoint(path));
        Assert.Equal(SocketFailureKind.InvalidArgument, ex.Kind);
        Assert.Contains(hint, ex.Message);
        Assert.False(ex.Message.Contains('\0'), "the message shows the NUL as \\0, not raw");
    }

    [Fact]
    public void AtNameIsAFileNotAnAbstractName()
    {
        Assert.Equal("@app", UnixSockets.CreateEndPoint("@app").ToString());
        // The abstract endpoint's first path byte is NUL; the file's is '@'.
        SocketAddress file = UnixSockets.CreateEndPoint("@app").Serialize();
        Assert.Equal((byte)'@', file[2]);
        Assert.Equal(0, UnixSockets.CreateAbstractEndPoint("app").Serialize()[2]);
    }
}
