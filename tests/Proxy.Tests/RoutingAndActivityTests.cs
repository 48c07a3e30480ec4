using CloudDevEnv.Proxy.Activity;
using CloudDevEnv.Proxy.Routing;
using CloudDevEnv.Proxy.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace CloudDevEnv.Proxy.Tests;

/// <summary>The route cache (read once, invalidated by events, renewed, evicted) and the activity reports.</summary>
public sealed class RoutingAndActivityTests(ProxyFixture fixture) : IClassFixture<ProxyFixture>
{
    private ProxyServer Proxy => fixture.Proxy;

    private FakeWorkspaceControl Control => fixture.Control;

    [Fact]
    public async Task A_route_is_read_from_the_grain_once_then_served_from_the_cache()
    {
        var id = fixture.NewWorkspace(publicPorts: [3000]);
        using var client = Proxy.CreateClient();
        for (var i = 0; i < 20; i++)
        {
            using var response = await client.GetAsync(Proxy.Url($"3000-{id}", "/hello"));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        Assert.Equal(1, Control.RouteReads[id]);
        Assert.Equal(1, Control.Subscriptions[id]);
    }

    [Fact]
    public async Task An_event_from_the_grain_makes_the_next_request_read_the_route_again()
    {
        var first = await UpstreamServer.StartAsync();
        await using var second = await UpstreamServer.StartAsync();
        var id = WorkspaceId.NewId();
        Control.Set(FakeWorkspaceControl.Route(id, first.BaseUri, publicPorts: [3000]));
        using var client = Proxy.CreateClient();
        using (var response = await client.GetAsync(Proxy.Url($"3000-{id}", "/headers")))
        {
            var text = await response.Content.ReadAsStringAsync();
            Assert.True(text.Contains($"127.0.0.1:{first.Port}"), text);
        }

        // The workspace moved (e.g. restarted on another port): the grain's event is all the proxy needs.
        await first.DisposeAsync();
        Control.Push(FakeWorkspaceControl.Route(id, second.BaseUri, publicPorts: [3000], version: 2));
        using (var response = await client.GetAsync(Proxy.Url($"3000-{id}", "/headers")))
        {
            Assert.Contains($"127.0.0.1:{second.Port}", await response.Content.ReadAsStringAsync());
        }

        Assert.Equal(2, Control.RouteReads[id]);
    }

    [Fact]
    public async Task Concurrent_first_requests_share_one_read()
    {
        var id = fixture.NewWorkspace(publicPorts: [3000]);
        using var client = Proxy.CreateClient();
        var responses = await Task.WhenAll(Enumerable.Range(0, 16).Select(_ => client.GetAsync(Proxy.Url($"3000-{id}", "/hello"))));
        Assert.All(responses, r => Assert.Equal(HttpStatusCode.OK, r.StatusCode));
        Assert.True(Control.RouteReads[id] <= 2, $"{Control.RouteReads[id]} reads");
    }

    [Fact]
    public async Task A_stopped_route_is_read_again_after_a_short_while_even_without_an_event()
    {
        await using var proxy = await ProxyServer.StartAsync(
            new Dictionary<string, string?> { ["Proxy:NotRunningRouteMaxAge"] = "00:00:00.200" }, Control);
        var id = fixture.NewWorkspace(phase: WorkspacePhase.Stopped, desired: DesiredState.Stopped, publicPorts: [3000]);
        using var client = proxy.CreateClient();
        using (var _ = await client.GetAsync(proxy.Url($"3000-{id}", "/hello")))
        {
        }

        // The start happened elsewhere and its event was lost: the page still gets there.
        Control.Set(FakeWorkspaceControl.Route(id, fixture.Upstream.BaseUri, publicPorts: [3000], version: 2));
        await Task.Delay(300);
        using var response = await client.GetAsync(proxy.Url($"3000-{id}", "/hello"));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task The_renewer_renews_routes_in_use_and_drops_idle_and_unknown_ones()
    {
        await using var proxy = await ProxyServer.StartAsync(
            new Dictionary<string, string?> { ["Proxy:RouteIdleEviction"] = "00:00:00.500" }, Control);
        var kept = fixture.NewWorkspace(publicPorts: [3000]);
        var idle = fixture.NewWorkspace(publicPorts: [3000]);
        using var client = proxy.CreateClient();
        using (await client.GetAsync(proxy.Url($"3000-{idle}", "/hello")))
        {
        }

        using (await client.GetAsync(proxy.Url("unknown-workspace-abc", "/")))
        {
        }

        await Task.Delay(700);
        using (await client.GetAsync(proxy.Url($"3000-{kept}", "/hello")))
        {
        }

        var renewer = proxy.Services.GetServices<IHostedService>().OfType<RouteSubscriptionRenewer>().Single();
        await renewer.RenewOnceAsync(CancellationToken.None);

        var cache = proxy.Routes;
        Assert.Contains(cache.Entries, e => e.WorkspaceId == kept);
        Assert.DoesNotContain(cache.Entries, e => e.WorkspaceId == idle);
        Assert.DoesNotContain(cache.Entries, e => e.WorkspaceId == "unknown-workspace-abc");
        Assert.True(Control.Subscriptions[kept] >= 2);
        Assert.Equal(1, Control.Unsubscriptions[idle]);

        // Nothing changed: the cached route stays, and requests do not read it again.
        var reads = Control.RouteReads[kept];
        using (await client.GetAsync(proxy.Url($"3000-{kept}", "/hello")))
        {
        }

        Assert.Equal(reads, Control.RouteReads[kept]);
    }

    [Fact]
    public async Task A_change_whose_event_was_lost_is_picked_up_at_the_next_renewal()
    {
        await using var proxy = await ProxyServer.StartAsync(control: Control);
        var id = fixture.NewWorkspace(publicPorts: [3000]);
        using var client = proxy.CreateClient();
        using (var before = await client.GetAsync(proxy.Url($"3000-{id}", "/hello")))
        {
            Assert.Equal(HttpStatusCode.OK, before.StatusCode);
        }

        // Port 3000 made private, but the event never arrived.
        Control.Set(FakeWorkspaceControl.Route(id, fixture.Upstream.BaseUri, version: 2));
        using (var stale = await client.GetAsync(proxy.Url($"3000-{id}", "/hello")))
        {
            Assert.Equal(HttpStatusCode.OK, stale.StatusCode);
        }

        var renewer = proxy.Services.GetServices<IHostedService>().OfType<RouteSubscriptionRenewer>().Single();
        await renewer.RenewOnceAsync(CancellationToken.None);
        using var after = await client.GetAsync(proxy.Url($"3000-{id}", "/hello"));
        Assert.Equal(HttpStatusCode.Unauthorized, after.StatusCode);
    }

    [Fact]
    public async Task While_the_grain_cannot_be_reached_the_last_route_keeps_a_running_workspace_reachable()
    {
        await using var proxy = await ProxyServer.StartAsync(control: Control);
        var id = fixture.NewWorkspace(publicPorts: [3000]);
        using var client = proxy.CreateClient();
        using (await client.GetAsync(proxy.Url($"3000-{id}", "/hello")))
        {
        }

        Control.Unreachable[id] = 0;
        var renewer = proxy.Services.GetServices<IHostedService>().OfType<RouteSubscriptionRenewer>().Single();
        await renewer.RenewOnceAsync(CancellationToken.None);

        // Even a change notice, whose re-read fails, does not cut the workspace off.
        proxy.Routes.Invalidate(id);
        using var response = await client.GetAsync(proxy.Url($"3000-{id}", "/hello"));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);

        // A workspace never seen gets a page, not an error.
        var unseen = fixture.NewWorkspace(publicPorts: [3000]);
        Control.Unreachable[unseen] = 0;
        using var page = await client.GetAsync(proxy.Url($"3000-{unseen}", "/hello"));
        Assert.Equal(HttpStatusCode.ServiceUnavailable, page.StatusCode);
        Assert.Contains("could not reach", await page.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Activity_is_reported_once_per_interval_per_workspace_however_many_requests()
    {
        await using var proxy = await ProxyServer.StartAsync(control: Control);
        var busy = fixture.NewWorkspace(publicPorts: [3000]);
        var quiet = fixture.NewWorkspace(publicPorts: [3000]);
        using var client = proxy.CreateClient();
        for (var i = 0; i < 50; i++)
        {
            using var _ = await client.GetAsync(proxy.Url($"3000-{busy}", "/hello"));
        }

        var flusher = proxy.Services.GetServices<IHostedService>().OfType<ActivityFlusher>().Single();
        flusher.FlushOnce();
        Assert.Single(Control.Activity, a => a.WorkspaceId == busy);
        Assert.DoesNotContain(Control.Activity, a => a.WorkspaceId == quiet);

        // No traffic since: nothing more to report.
        flusher.FlushOnce();
        Assert.Single(Control.Activity, a => a.WorkspaceId == busy);
    }

    [Fact]
    public async Task A_refused_request_is_not_activity()
    {
        await using var proxy = await ProxyServer.StartAsync(control: Control);
        var id = fixture.NewWorkspace();
        using var stranger = new Browser(proxy);
        using (await stranger.GetAsync(proxy.Url(id, "/")))
        {
        }

        proxy.Services.GetServices<IHostedService>().OfType<ActivityFlusher>().Single().FlushOnce();
        Assert.DoesNotContain(Control.Activity, a => a.WorkspaceId == id);
    }

    [Fact]
    public async Task An_open_websocket_counts_as_activity_at_every_report_while_it_stays_open()
    {
        await using var proxy = await ProxyServer.StartAsync(control: Control);
        var id = fixture.NewWorkspace();
        using var browser = new Browser(proxy);
        var link = proxy.Tokens.CreateSignInUrl(id, "alice");
        using (await browser.GetAsync(proxy.Url(id, link.PathAndQuery)))
        {
        }

        var flusher = proxy.Services.GetServices<IHostedService>().OfType<ActivityFlusher>().Single();
        var socket = await browser.OpenWebSocketAsync(proxy.Url(id, "/ws"), $"http://{id}.localhost:{proxy.Port}");
        flusher.FlushOnce();
        flusher.FlushOnce();
        flusher.FlushOnce();
        Assert.Equal(3, Control.Activity.Count(a => a.WorkspaceId == id));

        await socket.CloseAsync(System.Net.WebSockets.WebSocketCloseStatus.NormalClosure, null, CancellationToken.None);
        socket.Dispose();
        await Eventually(() => proxy.Routes.GetEntry(id).OpenConnections == 0);
        flusher.FlushOnce();
        flusher.FlushOnce();
        Assert.Equal(4, Control.Activity.Count(a => a.WorkspaceId == id));
    }

    [Fact]
    public async Task The_flusher_runs_by_itself_at_the_configured_interval()
    {
        await using var proxy = await ProxyServer.StartAsync(
            new Dictionary<string, string?> { ["Proxy:ActivityReportInterval"] = "00:00:00.200" }, Control);
        var id = fixture.NewWorkspace(publicPorts: [3000]);
        using var client = proxy.CreateClient();
        using (await client.GetAsync(proxy.Url($"3000-{id}", "/hello")))
        {
        }

        await Eventually(() => Control.Activity.Any(a => a.WorkspaceId == id));
    }

    [Fact]
    public async Task Subscriptions_are_renewed_by_themselves_within_the_interval()
    {
        await using var proxy = await ProxyServer.StartAsync(
            new Dictionary<string, string?> { ["Proxy:SubscriptionRenewInterval"] = "00:00:00.500" }, Control);
        var ids = Enumerable.Range(0, 20).Select(_ => fixture.NewWorkspace(publicPorts: [3000])).ToList();
        using var client = proxy.CreateClient();
        foreach (var id in ids)
        {
            using var _ = await client.GetAsync(proxy.Url($"3000-{id}", "/hello"));
        }

        await Eventually(() => ids.All(id => Control.Subscriptions[id] >= 3));
    }

    [Fact]
    public void Ten_thousand_cached_routes_cost_one_lookup_each()
    {
        var cache = fixture.Proxy.Routes;
        for (var i = 0; i < 10_000; i++)
        {
            cache.GetEntry($"bulk-{i}");
        }

        // A dictionary lookup: no route table, nothing rebuilt. The benchmark measures the request cost.
        Assert.True(cache.Count >= 10_000);
        Assert.Same(cache.GetEntry("bulk-1234"), cache.GetEntry("bulk-1234"));
        foreach (var entry in cache.Entries.Where(e => e.WorkspaceId.StartsWith("bulk-", StringComparison.Ordinal)).ToList())
        {
            cache.Remove(entry);
        }
    }

    private static async Task Eventually(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "timed out");
            await Task.Delay(20);
        }
    }
}
