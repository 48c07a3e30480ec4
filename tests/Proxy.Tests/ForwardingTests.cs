using System.Security.Cryptography;
using System.Text.Json;
using CloudDevEnv.Proxy.Tests.Infrastructure;

namespace CloudDevEnv.Proxy.Tests;

/// <summary>Plain HTTP through the proxy to a real Kestrel upstream.</summary>
public sealed class ForwardingTests(ProxyFixture fixture) : IClassFixture<ProxyFixture>
{
    [Fact]
    public async Task A_request_to_the_ide_host_reaches_the_workspace()
    {
        var id = fixture.NewWorkspace();
        using var browser = await fixture.SignedInBrowserAsync(id);

        using var response = await browser.GetAsync(fixture.Proxy.Url(id, "/hello"));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("hello from upstream", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Http2_requests_are_forwarded_too()
    {
        var id = fixture.NewWorkspace(publicPorts: [3000]);
        using var client = fixture.Proxy.CreateClient(http2: true);
        using var response = await client.GetAsync(fixture.Proxy.Url($"3000-{id}", "/hello"));
        Assert.Equal(HttpVersion.Version20, response.Version);
        Assert.Equal("hello from upstream", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Forwarded_headers_are_the_proxys_own_and_the_access_cookie_stays_behind()
    {
        var id = fixture.NewWorkspace();
        using var browser = await fixture.SignedInBrowserAsync(id);
        browser.SetCookie($"{id}.localhost", "app_session", "keep-me");

        using var request = new HttpRequestMessage(HttpMethod.Get, fixture.Proxy.Url(id, "/headers"));
        request.Headers.TryAddWithoutValidation("X-Forwarded-Host", "evil.example");
        request.Headers.TryAddWithoutValidation("X-Forwarded-For", "6.6.6.6");
        request.Headers.TryAddWithoutValidation("X-Forwarded-Proto", "https");
        request.Headers.TryAddWithoutValidation("Forwarded", "host=evil.example");
        using var response = await browser.SendAsync(request);
        var headers = UpstreamServer.ParseHeaders(await response.Content.ReadAsStringAsync());

        // code-server compares the WebSocket's Origin with X-Forwarded-Host: it must be the browser's host, port included.
        Assert.Equal($"{id}.localhost:{fixture.Proxy.Port}", headers["x-forwarded-host"]);
        Assert.Equal("127.0.0.1", headers["x-forwarded-for"]);
        Assert.Equal("http", headers["x-forwarded-proto"]);
        Assert.False(headers.ContainsKey("forwarded"));
        Assert.Equal($"127.0.0.1:{fixture.Upstream.Port}", headers["host"]);
        Assert.Equal("app_session=keep-me", headers["cookie"]);
    }

    [Theory]
    [InlineData(null, "ide")]
    [InlineData(3000, "3000")]
    public async Task The_gateway_gets_the_workspace_secret_and_the_target_and_a_client_can_forge_neither(int? port, string target)
    {
        var id = fixture.NewWorkspace(publicPorts: [3000]);
        using var browser = await fixture.SignedInBrowserAsync(id);
        using var request = new HttpRequestMessage(HttpMethod.Get, fixture.Proxy.Url(port is null ? id : $"{port}-{id}", "/headers"));
        request.Headers.TryAddWithoutValidation(GatewayProtocol.SecretHeader, "forged-secret");
        request.Headers.TryAddWithoutValidation(GatewayProtocol.TargetHeader, "13337");
        using var response = await browser.SendAsync(request);
        var headers = UpstreamServer.ParseHeaders(await response.Content.ReadAsStringAsync());

        Assert.Equal(Infrastructure.FakeWorkspaceControl.GatewaySecret, headers[GatewayProtocol.SecretHeader.ToLowerInvariant()]);
        Assert.Equal(target, headers[GatewayProtocol.TargetHeader.ToLowerInvariant()]);
    }

    [Fact]
    public async Task The_gateway_secret_never_reaches_the_browser()
    {
        var id = fixture.NewWorkspace();
        using var browser = await fixture.SignedInBrowserAsync(id);
        using var response = await browser.GetAsync(fixture.Proxy.Url(id, "/hello"));
        Assert.Equal("hello from upstream", await response.Content.ReadAsStringAsync());
        var everything = string.Join("\n", response.Headers.Concat(response.Content.Headers).SelectMany(h => h.Value));
        Assert.DoesNotContain(Infrastructure.FakeWorkspaceControl.GatewaySecret, everything);
    }

    [Fact]
    public async Task Preserve_host_passes_the_browsers_host_on()
    {
        await using var proxy = await ProxyServer.StartAsync(
            new Dictionary<string, string?> { ["Proxy:PreserveHost"] = "true" }, fixture.Control);
        var id = fixture.NewWorkspace(publicPorts: [3000]);
        using var client = proxy.CreateClient();
        var json = await client.GetStringAsync(proxy.Url($"3000-{id}", "/headers"));
        Assert.Equal($"3000-{id}.localhost:{proxy.Port}", UpstreamServer.ParseHeaders(json)["host"]);
    }

    [Fact]
    public async Task A_streamed_response_arrives_chunk_by_chunk_not_buffered()
    {
        var id = fixture.NewWorkspace(publicPorts: [3000]);
        using var client = fixture.Proxy.CreateClient();
        fixture.Upstream.ResetStreamGate();
        using var response = await client.GetAsync(fixture.Proxy.Url($"3000-{id}", "/stream"), HttpCompletionOption.ResponseHeadersRead);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());

        // The upstream holds the second chunk back until the first has crossed the proxy.
        var first = await reader.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal("first", first);
        fixture.Upstream.StreamGate.SetResult();
        Assert.Equal("second", await reader.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(10)));
    }

    [Fact]
    public async Task A_large_upload_beyond_kestrels_default_limit_and_a_large_download_pass_intact()
    {
        var id = fixture.NewWorkspace(publicPorts: [3000]);
        using var client = fixture.Proxy.CreateClient();

        var body = new byte[40 * 1024 * 1024];
        new Random(7).NextBytes(body);
        using var upload = await client.PostAsync(fixture.Proxy.Url($"3000-{id}", "/digest"), new ByteArrayContent(body));
        Assert.Equal(HttpStatusCode.OK, upload.StatusCode);
        using var digest = JsonDocument.Parse(await upload.Content.ReadAsStringAsync());
        Assert.Equal(body.Length, digest.RootElement.GetProperty("length").GetInt64());
        Assert.Equal(Convert.ToHexString(SHA256.HashData(body)), digest.RootElement.GetProperty("sha256").GetString());

        const long size = 64L * 1024 * 1024 + 123;
        using var download = await client.GetAsync(fixture.Proxy.Url($"3000-{id}", $"/bytes?count={size}"), HttpCompletionOption.ResponseHeadersRead);
        await using var stream = await download.Content.ReadAsStreamAsync();
        var buffer = new byte[1 << 16];
        long total = 0;
        int read;
        while ((read = await stream.ReadAsync(buffer)) > 0)
        {
            total += read;
        }

        Assert.Equal(size, total);
    }

    [Fact]
    public async Task A_slow_upstream_is_waited_for()
    {
        var id = fixture.NewWorkspace(publicPorts: [3000]);
        using var client = fixture.Proxy.CreateClient();
        var started = DateTime.UtcNow;
        var text = await client.GetStringAsync(fixture.Proxy.Url($"3000-{id}", "/slow?ms=1500"));
        Assert.Equal("slow done", text);
        Assert.True(DateTime.UtcNow - started >= TimeSpan.FromMilliseconds(1400));
    }

    [Fact]
    public async Task A_slow_upstream_past_the_request_activity_timeout_gets_the_502_page()
    {
        await using var proxy = await ProxyServer.StartAsync(
            new Dictionary<string, string?> { ["Proxy:RequestActivityTimeout"] = "00:00:00.500" }, fixture.Control);
        var id = fixture.NewWorkspace(publicPorts: [3000]);
        using var client = proxy.CreateClient();
        using var response = await client.GetAsync(proxy.Url($"3000-{id}", "/slow?ms=3000"));
        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        Assert.Contains("port 3000", await response.Content.ReadAsStringAsync());
    }
}
