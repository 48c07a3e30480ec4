using CloudDevEnv.Proxy.Hosts;
using CloudDevEnv.Proxy.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace CloudDevEnv.Proxy.Tests;

public sealed class HostParserTests
{
    private static WorkspaceHostParser Parser(string domain = "localhost") =>
        TestServices.Build(new Dictionary<string, string?> { ["Proxy:Domain"] = domain }).GetRequiredService<WorkspaceHostParser>();

    [Theory]
    [InlineData("brave-otter-7f3k2abcde.localhost", "brave-otter-7f3k2abcde", null)]
    [InlineData("BRAVE-Otter-7f3k2abcde.LOCALHOST", "brave-otter-7f3k2abcde", null)]
    [InlineData("3000-brave-otter-7f3k2abcde.localhost", "brave-otter-7f3k2abcde", 3000)]
    [InlineData("1-a.localhost", "a", 1)]
    [InlineData("65535-a.localhost", "a", 65535)]
    [InlineData("a.localhost", "a", null)]
    public void Reads_ide_and_port_hosts(string host, string id, int? port)
    {
        Assert.True(Parser().TryParse(host, out var address));
        Assert.Equal(id, address.WorkspaceId);
        Assert.Equal(port, address.Port);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("localhost")]
    [InlineData(".localhost")]
    [InlineData("a.b.localhost")]
    [InlineData("-a.localhost")]
    [InlineData("a-.localhost")]
    [InlineData("a_b.localhost")]
    [InlineData("0-a.localhost")]
    [InlineData("08080-a.localhost")]
    [InlineData("65536-a.localhost")]
    [InlineData("123456-a.localhost")]
    [InlineData("3000-.localhost")]
    [InlineData("3000--a.localhost")]
    [InlineData("a.example.com")]
    [InlineData("a.notlocalhost")]
    [InlineData("127.0.0.1")]
    public void Refuses_malformed_hosts(string? host) => Assert.False(Parser().TryParse(host, out _));

    [Fact]
    public void Honours_a_configured_domain()
    {
        var parser = Parser("ws.example.dev");
        Assert.True(parser.TryParse("3000-abc.ws.example.dev", out var address));
        Assert.Equal(("abc", (int?)3000), (address.WorkspaceId, address.Port));
        Assert.False(parser.TryParse("abc.localhost", out _));
        Assert.False(parser.TryParse("abc.evil-ws.example.dev", out _));
    }

    [Fact]
    public void Builds_public_urls()
    {
        var urls = TestServices.Build(new Dictionary<string, string?> { ["Proxy:PublicPort"] = "5080" }).GetRequiredService<WorkspaceUrls>();
        Assert.Equal("http://abc.localhost:5080/", urls.GetWorkspaceUrl("abc").AbsoluteUri);
        Assert.Equal("http://3000-abc.localhost:5080/", urls.GetWorkspaceUrl("abc", 3000).AbsoluteUri);

        var https = TestServices.Build(new Dictionary<string, string?>
        {
            ["Proxy:PublicScheme"] = "https", ["Proxy:PublicPort"] = "443", ["Proxy:Domain"] = "ws.example.dev",
        }).GetRequiredService<WorkspaceUrls>();
        Assert.Equal("https://abc.ws.example.dev/", https.GetWorkspaceUrl("abc").AbsoluteUri);
    }
}
