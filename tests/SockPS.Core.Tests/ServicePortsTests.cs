using System.Collections.Generic;
using System.Text;
using Xunit;

namespace SockPS.Core.Tests;

public class ServicePortsTests
{
    [Theory]
    [InlineData("80", "tcp", 80)]
    [InlineData(" 443 ", "tcp", 443)]
    [InlineData("65535", "tcp", 65535)]
    [InlineData("http", "tcp", 80)]
    [InlineData("HTTP", "tcp", 80)]
    [InlineData("https", "tcp", 443)]
    [InlineData("smtp", "tcp", 25)]
    [InlineData("domain", "tcp", 53)]
    [InlineData("domain", "udp", 53)]
    [InlineData("ssh", "tcp", 22)]
    [InlineData("ntp", "udp", 123)]
    public void PortsResolveFromNumbersAndServiceNames(string text, string protocol, int expected) =>
        Assert.Equal(expected, ServicePorts.Resolve(text, protocol));

    [Theory]
    [InlineData("")]
    [InlineData("0")]
    [InlineData("65536")]
    [InlineData("-1")]
    [InlineData("12ab")]
    [InlineData("no-such-service-name")]
    public void BadPortsAreInvalidArgumentsWithAHint(string text)
    {
        var ex = Assert.Throws<SocketOperationException>(() => ServicePorts.Resolve(text));
        Assert.Equal(SocketFailureKind.InvalidArgument, ex.Kind);
        Assert.Matches("port|service", ex.Message);
    }

    [Fact]
    public void PortZeroIsAllowedForListeners() => Assert.Equal(0, ServicePorts.Resolve("0", allowZero: true));

    [Fact]
    public void ServicesFileLinesAreParsedWithAliasesAndComments()
    {
        Dictionary<string, int> table = new();
        ServicePorts.AddEntry(table, "http\t\t80/tcp\t\twww\t\t# WorldWideWeb HTTP", "tcp");
        ServicePorts.AddEntry(table, "domain\t\t53/udp", "tcp");
        ServicePorts.AddEntry(table, "# comment only", "tcp");
        ServicePorts.AddEntry(table, "bogus notaport/tcp", "tcp");
        Assert.Equal(80, table["http"]);
        Assert.Equal(80, table["www"]);
        Assert.False(table.ContainsKey("domain"));
        Assert.Equal(2, table.Count);
    }

    [Theory]
    [InlineData("utf8", "utf-8")]
    [InlineData("ascii", "us-ascii")]
    [InlineData("unicode", "utf-16")]
    [InlineData("bigendianunicode", "utf-16BE")]
    [InlineData("utf32", "utf-32")]
    [InlineData("latin1", "iso-8859-1")]
    [InlineData("28591", "iso-8859-1")]
    public void EncodingNamesResolve(string name, string webName) =>
        Assert.Equal(webName, TextEncodings.Get(name).WebName, ignoreCase: true);

    [Fact]
    public void TheDefaultEncodingWritesNoByteOrderMark()
    {
        Assert.Empty(TextEncodings.Get("utf8").GetPreamble());
        Assert.Empty(new ConnectionOptions().Encoding.GetPreamble());
    }

    [Fact]
    public void AnUnknownEncodingNameListsTheKnownOnes()
    {
        var ex = Assert.Throws<System.ArgumentException>(() => TextEncodings.Get("klingon"));
        Assert.Contains("utf8", ex.Message);
    }
}
