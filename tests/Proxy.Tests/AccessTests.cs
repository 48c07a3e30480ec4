using System.Net.WebSockets;
using CloudDevEnv.Proxy.Access;
using CloudDevEnv.Proxy.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace CloudDevEnv.Proxy.Tests;

/// <summary>Every access rule: only the owner, with the cookie of that very host, reaches a private workspace.</summary>
public sealed class AccessTests(ProxyFixture fixture) : IClassFixture<ProxyFixture>
{
    private ProxyServer Proxy => fixture.Proxy;

    [Fact]
    public async Task Without_a_cookie_the_ide_is_refused_with_a_page()
    {
        var id = fixture.NewWorkspace();
        using var browser = new Browser(Proxy);
        using var response = await browser.GetAsync(Proxy.Url(id, "/hello"), accept: "*/*");

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("text/html; charset=utf-8", response.Content.Headers.ContentType!.ToString());
        Assert.Contains("is private", await response.Content.ReadAsStringAsync());
    }

    [Theory]
    [InlineData(null)]
    [InlineData(3000)]
    public async Task A_page_load_without_the_hosts_cookie_goes_to_the_platform_to_be_signed_in(int? port)
    {
        var id = fixture.NewWorkspace();
        var host = port is null ? id : $"{port}-{id}";
        using var browser = new Browser(Proxy);
        using var response = await browser.GetAsync(Proxy.Url(host, "/src/app.ts?line=3"));

        AssertSentToPlatform(response, id, port, "/src/app.ts?line=3");
        Assert.Empty(browser.CookiesFor($"{host}.localhost"));
    }

    /// <summary>What a browser without the host's cookie gets: sent to the platform's authorize endpoint (it signs the
    /// owner in to that host, and tells anyone else that the workspace is not theirs).</summary>
    internal static void AssertSentToPlatform(HttpResponseMessage response, string workspaceId, int? port = null, string returnPath = "/hello")
    {
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        var portQuery = port is null ? string.Empty : $"&port={port}";
        Assert.Equal(
            $"http://127.0.0.1:5000/authorize?workspace={workspaceId}{portQuery}&return={Uri.EscapeDataString(returnPath)}",
            response.Headers.Location!.AbsoluteUri);
        Assert.False(response.Headers.Contains("Set-Cookie"));
    }

    [Fact]
    public async Task The_sign_in_link_sets_a_host_only_cookie_and_leaves_the_token_out_of_the_address_bar()
    {
        var id = fixture.NewWorkspace();
        using var browser = new Browser(Proxy);
        var link = Proxy.Tokens.CreateSignInUrl(id, "alice");
        using var response = await browser.GetAsync(Proxy.Url(id, link.PathAndQuery));

        Assert.Equal(HttpStatusCode.SeeOther, response.StatusCode);
        Assert.Equal("/", response.Headers.Location!.OriginalString);
        Assert.Equal("no-store", Browser.Header(response, "Cache-Control"));
        var setCookie = Browser.Header(response, "Set-Cookie")!;
        Assert.Contains("httponly", setCookie, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("samesite=lax", setCookie, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("domain=", setCookie, StringComparison.OrdinalIgnoreCase);

        using var page = await browser.GetAsync(Proxy.Url(id, "/hello"));
        Assert.Equal("hello from upstream", await page.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task A_replayed_sign_in_link_is_refused()
    {
        var id = fixture.NewWorkspace();
        var link = Proxy.Tokens.CreateSignInUrl(id, "alice");
        using var first = new Browser(Proxy);
        using var ok = await first.GetAsync(Proxy.Url(id, link.PathAndQuery));
        Assert.Equal(HttpStatusCode.SeeOther, ok.StatusCode);

        using var attacker = new Browser(Proxy);
        using var replay = await attacker.GetAsync(Proxy.Url(id, link.PathAndQuery));
        Assert.Equal(HttpStatusCode.Unauthorized, replay.StatusCode);
        Assert.Empty(attacker.CookiesFor($"{id}.localhost"));
        Assert.Contains("not valid", await replay.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task An_expired_sign_in_link_is_refused()
    {
        var id = fixture.NewWorkspace();

        // A token minted with the proxy's key two minutes ago (it lives one).
        var past = new FakeTimeProvider(DateTimeOffset.UtcNow.AddMinutes(-2));
        var tokens = new WorkspaceAccessTokens(
            Proxy.Services.GetRequiredService<SignedValue>(),
            Proxy.Services.GetRequiredService<WorkspaceUrls>(),
            Proxy.Services.GetRequiredService<IOptions<WorkspaceAccessOptions>>(),
            past);
        var link = tokens.CreateSignInUrl(id, "alice");

        using var browser = new Browser(Proxy);
        using var response = await browser.GetAsync(Proxy.Url(id, link.PathAndQuery));
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Empty(browser.CookiesFor($"{id}.localhost"));
    }

    [Fact]
    public async Task A_sign_in_link_for_one_workspace_does_not_open_another()
    {
        var mine = fixture.NewWorkspace();
        var other = fixture.NewWorkspace();
        var link = Proxy.Tokens.CreateSignInUrl(mine, "alice");
        using var browser = new Browser(Proxy);
        using var response = await browser.GetAsync(Proxy.Url(other, link.PathAndQuery));
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    [Fact]
    public async Task One_workspaces_cookie_is_not_accepted_by_another()
    {
        var mine = fixture.NewWorkspace();
        var other = fixture.NewWorkspace();
        using var browser = await fixture.SignedInBrowserAsync(mine);

        // Carry the cookie over by hand, as a stolen or tossed cookie would be.
        var (name, value) = browser.CookiesFor($"{mine}.localhost").Single();
        browser.SetCookie($"{other}.localhost", name, value);
        using var response = await browser.GetAsync(Proxy.Url(other, "/hello"));
        AssertSentToPlatform(response, other);

        // Not even for a port of the same workspace: each host has its own cookie.
        browser.SetCookie($"3000-{mine}.localhost", name, value);
        using var port = await browser.GetAsync(Proxy.Url($"3000-{mine}", "/hello"), accept: "*/*");
        Assert.Equal(HttpStatusCode.Unauthorized, port.StatusCode);
    }

    [Fact]
    public async Task A_signed_in_user_who_is_not_the_owner_is_refused()
    {
        var id = fixture.NewWorkspace(owner: "alice");
        using var mallory = await fixture.SignedInBrowserAsync(id, owner: "mallory");
        using var response = await mallory.GetAsync(Proxy.Url(id, "/hello"));
        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Contains("belongs to someone else", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task A_tampered_cookie_is_refused()
    {
        var id = fixture.NewWorkspace();
        using var browser = await fixture.SignedInBrowserAsync(id);
        var (name, value) = browser.CookiesFor($"{id}.localhost").Single();
        browser.SetCookie($"{id}.localhost", name, value[..^2] + (value[^2] == 'A' ? "BB" : "AA"));
        using var response = await browser.GetAsync(Proxy.Url(id, "/hello"));
        AssertSentToPlatform(response, id);
    }

    [Fact]
    public async Task A_private_port_opens_with_the_link_the_platform_mints_for_its_host()
    {
        var id = fixture.NewWorkspace();
        using var browser = new Browser(Proxy);
        using var sent = await browser.GetAsync(Proxy.Url($"3000-{id}", "/hello?x=1"));
        AssertSentToPlatform(sent, id, 3000, "/hello?x=1");

        // What /authorize answers the owner with: a one-time link for that very host, back to where they were.
        var link = Proxy.Tokens.CreateSignInUrl(id, 3000, "alice", "/hello?x=1");
        using var response = await browser.NavigateAsync(Proxy.Url($"3000-{id}", link.PathAndQuery));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("hello from upstream", await response.Content.ReadAsStringAsync());
        Assert.Single(browser.CookiesFor($"3000-{id}.localhost"));
        Assert.Empty(browser.CookiesFor($"{id}.localhost"));

        // From now on the port host's own cookie is enough; the IDE host still needs its own.
        using var again = await browser.GetAsync(Proxy.Url($"3000-{id}", "/hello"), accept: "*/*");
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        using var ide = await browser.GetAsync(Proxy.Url(id, "/hello"), accept: "*/*");
        Assert.Equal(HttpStatusCode.Unauthorized, ide.StatusCode);
    }

    [Fact]
    public async Task A_link_minted_for_the_ide_host_does_not_open_a_port_host()
    {
        var id = fixture.NewWorkspace();
        var link = Proxy.Tokens.CreateSignInUrl(id, "alice");
        using var browser = new Browser(Proxy);
        using var response = await browser.GetAsync(Proxy.Url($"3000-{id}", link.PathAndQuery));
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Empty(browser.CookiesFor($"3000-{id}.localhost"));
    }

    [Fact]
    public async Task A_stranger_on_a_private_port_gets_no_cookie()
    {
        var id = fixture.NewWorkspace();
        using var stranger = new Browser(Proxy);
        using var response = await stranger.GetAsync(Proxy.Url($"3000-{id}", "/"));
        AssertSentToPlatform(response, id, 3000, "/");
        Assert.Empty(stranger.CookiesFor($"3000-{id}.localhost"));

        // An API call is not redirected at all.
        using var api = await stranger.GetAsync(Proxy.Url($"3000-{id}", "/hello"), accept: "application/json");
        Assert.Equal(HttpStatusCode.Unauthorized, api.StatusCode);
    }

    [Fact]
    public async Task A_public_port_needs_no_cookie_but_the_ide_host_stays_private()
    {
        var id = fixture.NewWorkspace(publicPorts: [3000, 8080]);
        using var stranger = new Browser(Proxy);
        using var port = await stranger.GetAsync(Proxy.Url($"3000-{id}", "/hello"));
        Assert.Equal(HttpStatusCode.OK, port.StatusCode);

        using var ide = await stranger.GetAsync(Proxy.Url(id, "/hello"), accept: "*/*");
        Assert.Equal(HttpStatusCode.Unauthorized, ide.StatusCode);
    }

    [Fact]
    public async Task Making_a_port_private_again_takes_effect_on_the_next_request()
    {
        var id = fixture.NewWorkspace(publicPorts: [3000]);
        using var stranger = new Browser(Proxy);
        using var before = await stranger.GetAsync(Proxy.Url($"3000-{id}", "/hello"), accept: "*/*");
        Assert.Equal(HttpStatusCode.OK, before.StatusCode);

        fixture.Control.Push(FakeWorkspaceControl.Route(id, fixture.Upstream.BaseUri, version: 2));
        using var after = await stranger.GetAsync(Proxy.Url($"3000-{id}", "/hello"), accept: "*/*");
        Assert.Equal(HttpStatusCode.Unauthorized, after.StatusCode);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task The_owners_websocket_from_the_workspaces_own_page_connects(bool http2)
    {
        var id = fixture.NewWorkspace();
        using var browser = await fixture.SignedInBrowserAsync(id);
        using var socket = await browser.OpenWebSocketAsync(Proxy.Url(id, "/ws"), origin: $"http://{id}.localhost:{Proxy.Port}", http2);
        await AssertEchoesAsync(socket);
    }

    [Fact]
    public async Task A_websocket_from_a_sibling_port_of_the_same_workspace_connects()
    {
        var id = fixture.NewWorkspace();
        using var browser = await fixture.SignedInBrowserAsync(id);
        using var socket = await browser.OpenWebSocketAsync(Proxy.Url(id, "/ws"), origin: $"http://3000-{id}.localhost:{Proxy.Port}");
        await AssertEchoesAsync(socket);
    }

    [Theory]
    [InlineData("http://evil.example")]
    [InlineData("http://other-workspace.localhost:{port}")]
    [InlineData("https://{id}.localhost:{port}")]
    [InlineData("http://{id}.localhost:1")]
    [InlineData("null")]
    public async Task A_websocket_upgrade_with_a_foreign_origin_is_refused(string origin)
    {
        var id = fixture.NewWorkspace();
        using var browser = await fixture.SignedInBrowserAsync(id);
        origin = origin.Replace("{id}", id).Replace("{port}", Proxy.Port.ToString(System.Globalization.CultureInfo.InvariantCulture));

        var error = await Assert.ThrowsAsync<WebSocketException>(() => browser.OpenWebSocketAsync(Proxy.Url(id, "/ws"), origin));
        Assert.Contains("403", error.Message);
    }

    [Fact]
    public async Task A_websocket_without_the_owners_cookie_is_refused()
    {
        var id = fixture.NewWorkspace();
        using var stranger = new Browser(Proxy);
        var error = await Assert.ThrowsAsync<WebSocketException>(
            () => stranger.OpenWebSocketAsync(Proxy.Url(id, "/ws"), origin: $"http://{id}.localhost:{Proxy.Port}"));
        Assert.Contains("401", error.Message);
    }

    [Fact]
    public async Task Reserved_paths_never_reach_the_workspace()
    {
        var id = fixture.NewWorkspace();
        using var browser = await fixture.SignedInBrowserAsync(id);
        using var response = await browser.GetAsync(Proxy.Url(id, "/_cde/anything"));
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }

    internal static async Task AssertEchoesAsync(WebSocket socket, string text = "ping")
    {
        var bytes = System.Text.Encoding.UTF8.GetBytes(text);
        await socket.SendAsync(bytes, WebSocketMessageType.Text, true, CancellationToken.None);
        var buffer = new byte[1024];
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        var result = await socket.ReceiveAsync(buffer, timeout.Token);
        Assert.Equal(WebSocketMessageType.Text, result.MessageType);
        Assert.Equal(text, System.Text.Encoding.UTF8.GetString(buffer, 0, result.Count));
    }
}
