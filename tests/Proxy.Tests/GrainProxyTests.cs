using CloudDevEnv.Contracts.Access;
using CloudDevEnv.Proxy.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace CloudDevEnv.Proxy.Tests;

/// <summary>The proxy against the real WorkspaceGrain and AccessTokenGrain (runtime double, real Kestrel upstream).</summary>
public sealed class GrainProxyTests(GrainClusterFixture fixture) : IClassFixture<GrainClusterFixture>
{
    private ProxyServer Proxy => fixture.Proxy;

    [Fact]
    public async Task The_owner_reaches_the_ide_over_http_and_websocket()
    {
        var grain = await fixture.RunningWorkspaceAsync();
        var id = grain.GetPrimaryKeyString();
        using var browser = await fixture.SignedInBrowserAsync(id);

        using var response = await browser.GetAsync(Proxy.Url(id, "/hello"));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("hello from upstream", await response.Content.ReadAsStringAsync());

        using var socket = await browser.OpenWebSocketAsync(Proxy.Url(id, "/ws"), $"http://{id}.localhost:{Proxy.Port}");
        await AccessTests.AssertEchoesAsync(socket);
    }

    [Fact]
    public async Task Strangers_and_other_users_are_refused()
    {
        var grain = await fixture.RunningWorkspaceAsync(owner: "alice");
        var id = grain.GetPrimaryKeyString();

        using var stranger = new Browser(Proxy);
        using var anonymous = await stranger.GetAsync(Proxy.Url(id, "/hello"), accept: "*/*");
        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);

        using var bob = await fixture.SignedInBrowserAsync(id, owner: "bob");
        using var other = await bob.GetAsync(Proxy.Url(id, "/hello"));
        Assert.Equal(HttpStatusCode.Forbidden, other.StatusCode);
    }

    [Fact]
    public async Task A_sign_in_link_works_once_across_the_cluster()
    {
        var grain = await fixture.RunningWorkspaceAsync();
        var id = grain.GetPrimaryKeyString();
        var link = Proxy.Tokens.CreateSignInUrl(id, "alice");

        // A second proxy process of the same deployment: same key, same cluster.
        await using var second = await ProxyServer.StartAsync(
            configureServices: services => services.AddSingleton<IGrainFactory>(fixture.Client));
        using var first = new Browser(Proxy);
        using var ok = await first.GetAsync(Proxy.Url(id, link.PathAndQuery));
        Assert.Equal(HttpStatusCode.SeeOther, ok.StatusCode);

        using var replayer = new Browser(second);
        using var replay = await replayer.GetAsync(second.Url(id, link.PathAndQuery));
        Assert.Equal(HttpStatusCode.Unauthorized, replay.StatusCode);
    }

    [Fact]
    public async Task The_access_token_grain_grants_one_redemption_among_racing_callers()
    {
        var nonce = Guid.NewGuid().ToString("N");
        var expires = DateTimeOffset.UtcNow.AddMinutes(1);
        var results = await Task.WhenAll(Enumerable.Range(0, 20)
            .Select(_ => fixture.Client.GetGrain<IAccessTokenGrain>(nonce).RedeemAsync(expires)));
        Assert.Single(results, r => r);

        Assert.False(await fixture.Client.GetGrain<IAccessTokenGrain>(Guid.NewGuid().ToString("N")).RedeemAsync(DateTimeOffset.UtcNow.AddSeconds(-1)));
    }

    [Fact]
    public async Task A_redeemed_token_stays_refused_after_its_record_is_forgotten()
    {
        var grain = fixture.Client.GetGrain<IAccessTokenGrain>(Guid.NewGuid().ToString("N"));
        var expires = DateTimeOffset.UtcNow.AddSeconds(1);
        Assert.True(await grain.RedeemAsync(expires));
        Assert.False(await grain.RedeemAsync(expires));

        // Past the expiry the grain deletes its record and lets the activation go; a late replay is still refused.
        await Task.Delay(TimeSpan.FromSeconds(2.5));
        Assert.False(await grain.RedeemAsync(expires));
    }

    [Fact]
    public async Task An_unknown_workspace_gets_the_404_page()
    {
        using var browser = new Browser(Proxy);
        using var response = await browser.GetAsync(Proxy.Url(WorkspaceId.NewId(), "/"));
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }

    [Fact]
    public async Task Traffic_reaches_the_grain_as_activity()
    {
        var grain = await fixture.RunningWorkspaceAsync();
        var id = grain.GetPrimaryKeyString();
        var before = (await grain.GetStatusAsync()).LastActivityAt;
        using var browser = await fixture.SignedInBrowserAsync(id);
        using (await browser.GetAsync(Proxy.Url(id, "/hello")))
        {
        }

        var deadline = DateTime.UtcNow.AddSeconds(10);
        while ((await grain.GetStatusAsync()).LastActivityAt is var at && (at is null || at == before))
        {
            Assert.True(DateTime.UtcNow < deadline, "no activity reached the grain");
            await Task.Delay(50);
        }
    }

    [Fact]
    public async Task Making_a_port_public_through_the_grain_opens_it_at_once()
    {
        var grain = await fixture.RunningWorkspaceAsync();
        var id = grain.GetPrimaryKeyString();
        var host = $"3000-{id}";
        using var stranger = new Browser(Proxy);
        using (var before = await stranger.GetAsync(Proxy.Url(host, "/hello"), accept: "*/*"))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, before.StatusCode);
        }

        // The route is cached as Running, so only the grain's event can tell the proxy.
        await grain.SetPortVisibilityAsync(3000, isPublic: true, "alice");
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (true)
        {
            using var after = await stranger.GetAsync(Proxy.Url(host, "/hello"), accept: "*/*");
            if (after.StatusCode == HttpStatusCode.OK)
            {
                break;
            }

            Assert.True(DateTime.UtcNow < deadline, $"still {after.StatusCode}");
            await Task.Delay(20);
        }
    }

    [Fact]
    public async Task A_stopped_workspace_is_woken_by_its_owners_visit()
    {
        var grain = await fixture.RunningWorkspaceAsync();
        var id = grain.GetPrimaryKeyString();
        using var browser = await fixture.SignedInBrowserAsync(id);
        await grain.StopAsync("alice");
        await GrainClusterFixture.PhaseAsync(grain, WorkspacePhase.Stopped);

        using (var page = await browser.GetAsync(Proxy.Url(id, "/hello")))
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, page.StatusCode);
            Assert.Contains("Starting your workspace", await page.Content.ReadAsStringAsync());
        }

        Assert.Equal(DesiredState.Running, (await grain.GetStatusAsync()).Desired);

        // What the page's refresh does: ask again until the IDE answers.
        var deadline = DateTime.UtcNow.AddSeconds(15);
        while (true)
        {
            using var response = await browser.GetAsync(Proxy.Url(id, "/hello"));
            if (response.StatusCode == HttpStatusCode.OK)
            {
                Assert.Equal("hello from upstream", await response.Content.ReadAsStringAsync());
                break;
            }

            Assert.True(DateTime.UtcNow < deadline, $"still {response.StatusCode}");
            await Task.Delay(100);
        }
    }
}
