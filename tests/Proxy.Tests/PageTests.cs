using CloudDevEnv.Proxy.Tests.Infrastructure;

namespace CloudDevEnv.Proxy.Tests;

/// <summary>Readable pages, never stack traces.</summary>
public sealed class PageTests(ProxyFixture fixture) : IClassFixture<ProxyFixture>
{
    private ProxyServer Proxy => fixture.Proxy;

    [Theory]
    [InlineData("localhost")]
    [InlineData("a.b.localhost")]
    [InlineData("bad_host.localhost")]
    [InlineData("99999-abc.localhost")]
    [InlineData("example.com")]
    public async Task A_malformed_host_gets_400(string host)
    {
        using var client = Proxy.CreateClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, $"http://127.0.0.1:{Proxy.Port}/");
        request.Headers.Host = host;
        using var response = await client.SendAsync(request);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("Not a workspace address", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task An_unknown_workspace_gets_404()
    {
        using var browser = new Browser(Proxy);
        using var response = await browser.GetAsync(Proxy.Url("no-such-workspace-xyz", "/"));
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        var html = await response.Content.ReadAsStringAsync();
        Assert.Contains("No such workspace", html);
        Assert.Contains("no-such-workspace-xyz", html);
    }

    [Fact]
    public async Task A_failed_workspace_shows_the_reason()
    {
        var id = fixture.NewWorkspace(phase: WorkspacePhase.Failed, reason: "the image <clouddevenv/nope> does not exist");
        using var browser = await fixture.SignedInBrowserAsync(id);
        using var response = await browser.GetAsync(Proxy.Url(id, "/"));
        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        var html = await response.Content.ReadAsStringAsync();
        Assert.Contains("the image &lt;clouddevenv/nope&gt; does not exist", html);
        Assert.DoesNotContain("<clouddevenv", html);
    }

    [Fact]
    public async Task A_stopped_workspace_is_woken_by_its_owner_and_shows_a_refreshing_page_until_running()
    {
        var id = fixture.NewWorkspace(phase: WorkspacePhase.Stopped, desired: DesiredState.Stopped);
        fixture.Control.OnStart = started =>
        {
            if (started == id)
            {
                fixture.Control.Push(FakeWorkspaceControl.Route(id, fixture.Upstream.BaseUri, phase: WorkspacePhase.Creating, version: 2));
            }
        };
        using var browser = await fixture.SignedInBrowserAsync(id);

        using var starting = await browser.GetAsync(Proxy.Url(id, "/"));
        Assert.Equal(HttpStatusCode.ServiceUnavailable, starting.StatusCode);
        Assert.Equal("2", Browser.Header(starting, "Retry-After"));
        var html = await starting.Content.ReadAsStringAsync();
        Assert.Contains("Starting your workspace", html);
        Assert.Contains("http-equiv=\"refresh\"", html);
        Assert.Equal([id], fixture.Control.Starts.Where(s => s == id));

        // The page reloads: still starting, and not asked to start again.
        using var again = await browser.GetAsync(Proxy.Url(id, "/"));
        Assert.Contains("creating its container", await again.Content.ReadAsStringAsync());
        Assert.Single(fixture.Control.Starts, s => s == id);

        fixture.Control.Push(FakeWorkspaceControl.Route(id, fixture.Upstream.BaseUri, version: 3));
        using var running = await browser.GetAsync(Proxy.Url(id, "/hello"));
        Assert.Equal("hello from upstream", await running.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task A_stranger_does_not_wake_a_workspace()
    {
        var id = fixture.NewWorkspace(phase: WorkspacePhase.Stopped, desired: DesiredState.Stopped, publicPorts: [3000]);
        using var stranger = new Browser(Proxy);
        using var ide = await stranger.GetAsync(Proxy.Url(id, "/"), accept: "*/*");
        Assert.Equal(HttpStatusCode.Unauthorized, ide.StatusCode);

        using var port = await stranger.GetAsync(Proxy.Url($"3000-{id}", "/"));
        Assert.Equal(HttpStatusCode.ServiceUnavailable, port.StatusCode);
        Assert.Contains("Only its owner can start it", await port.Content.ReadAsStringAsync());
        Assert.DoesNotContain(id, fixture.Control.Starts);
    }

    [Fact]
    public async Task An_upstream_that_is_down_gets_a_502_page_naming_workspace_and_port()
    {
        var closed = new Uri($"http://127.0.0.1:{ProxyServer.FreePort()}/");
        var id = fixture.NewWorkspace(endpoint: closed, publicPorts: [3000]);
        using var browser = new Browser(Proxy);
        using var response = await browser.GetAsync(Proxy.Url($"3000-{id}", "/"));
        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        var html = await response.Content.ReadAsStringAsync();
        Assert.Contains(id, html);
        Assert.Contains("port 3000", html);
    }

    [Fact]
    public async Task A_port_nothing_listens_on_gets_the_proxys_502_page_instead_of_the_gateways_answer()
    {
        var port = UpstreamServer.NoListenerPort;
        var id = fixture.NewWorkspace(publicPorts: [port]);
        using var browser = new Browser(Proxy);
        using var response = await browser.GetAsync(Proxy.Url($"{port}-{id}", "/"));
        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        Assert.Equal("text/html; charset=utf-8", response.Content.Headers.ContentType!.ToString());
        Assert.Contains($"nothing answered on port {port}", await response.Content.ReadAsStringAsync());
        Assert.False(response.Headers.Contains(GatewayProtocol.StatusHeader));
    }

    [Fact]
    public async Task An_unexpected_failure_gets_a_page_without_details()
    {
        var control = new FakeWorkspaceControl { RedeemFailure = new InvalidOperationException("secret internals") };
        await using var proxy = await ProxyServer.StartAsync(control: control);
        var id = WorkspaceId.NewId();
        control.Set(FakeWorkspaceControl.Route(id, fixture.Upstream.BaseUri));
        using var browser = new Browser(proxy);
        var link = proxy.Tokens.CreateSignInUrl(id, "alice");
        using var response = await browser.GetAsync(proxy.Url(id, link.PathAndQuery));

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        var html = await response.Content.ReadAsStringAsync();
        Assert.Contains("Something went wrong", html);
        Assert.DoesNotContain("secret internals", html);
        Assert.DoesNotContain("   at ", html);
    }

    [Fact]
    public void Pages_encode_everything_they_show()
    {
        var html = ProxyPageWriter.Render(new ProxyPage(400, "<script>", "a & <b>", Link: ("x", "javascript:\"")));
        Assert.DoesNotContain("<script>", html);
        Assert.Contains("&lt;script&gt;", html);
        Assert.Contains("a &amp; &lt;b&gt;", html);
        Assert.DoesNotContain("href=\"javascript:\"\"", html);
    }
}
