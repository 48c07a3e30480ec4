using System.Diagnostics;

namespace CloudDevEnv.Api.Tests;

/// <summary>What a script needs of the API, in its peers' conventions: entity tags for reads and for commands, a wait
/// for a phase, and lists that page and filter.</summary>
[Collection(HostCollection.Name)]
public sealed class ScriptingApiTests(HostFixture host)
{
    private static async Task<string> CreateAsync(HttpClient user, string repoUrl)
    {
        var response = await user.PostAsJsonAsync("/api/workspaces", new { repoUrl });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!;
    }

    private static async Task<HttpResponseMessage> SendAsync(HttpClient user, HttpMethod method, string path, string? ifMatch = null, string? ifNoneMatch = null)
    {
        using var request = new HttpRequestMessage(method, path);
        if (ifMatch is not null)
        {
            request.Headers.TryAddWithoutValidation("If-Match", ifMatch);
        }

        if (ifNoneMatch is not null)
        {
            request.Headers.TryAddWithoutValidation("If-None-Match", ifNoneMatch);
        }

        return await user.SendAsync(request);
    }

    [Fact]
    public async Task A_read_has_an_etag_that_answers_304_and_a_command_with_a_stale_one_is_refused_412()
    {
        using var user = await host.SignInAsync(Users.NewName());
        var id = await CreateAsync(user, "https://github.com/octo/tagged");
        var running = await SendAsync(user, HttpMethod.Get, $"/api/workspaces/{id}?wait=Running&timeout=30");
        Assert.Equal("Running", (await running.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("phase").GetString());
        var seen = running.Headers.ETag!.Tag;
        Assert.False(running.Headers.ETag.IsWeak);

        var unchanged = await SendAsync(user, HttpMethod.Get, $"/api/workspaces/{id}", ifNoneMatch: seen);
        Assert.Equal(HttpStatusCode.NotModified, unchanged.StatusCode);
        Assert.Empty(await unchanged.Content.ReadAsByteArrayAsync());

        // It changes (stopped by someone else), and a start decided on the old read is refused; nothing happens.
        Assert.Equal(HttpStatusCode.Accepted, (await SendAsync(user, HttpMethod.Post, $"/api/workspaces/{id}/stop")).StatusCode);
        var stopped = await SendAsync(user, HttpMethod.Get, $"/api/workspaces/{id}?wait=Stopped&timeout=30");
        Assert.Equal("Stopped", (await stopped.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("phase").GetString());
        Assert.NotEqual(seen, stopped.Headers.ETag!.Tag);
        Assert.Equal(HttpStatusCode.OK, (await SendAsync(user, HttpMethod.Get, $"/api/workspaces/{id}", ifNoneMatch: seen)).StatusCode);

        var stale = await SendAsync(user, HttpMethod.Post, $"/api/workspaces/{id}/start", ifMatch: seen);
        var problem = await Problems.AssertAsync(stale, HttpStatusCode.PreconditionFailed);
        Assert.Equal("https://clouddevenv.dev/problems/precondition-failed", problem.GetProperty("type").GetString());
        var after = await user.GetFromJsonAsync<JsonElement>($"/api/workspaces/{id}");
        Assert.Equal(("Stopped", "Stopped"), (after.GetProperty("phase").GetString(), after.GetProperty("desired").GetString()));

        // With the current tag it goes through.
        var current = (await SendAsync(user, HttpMethod.Get, $"/api/workspaces/{id}")).Headers.ETag!.Tag;
        Assert.Equal(HttpStatusCode.Accepted, (await SendAsync(user, HttpMethod.Post, $"/api/workspaces/{id}/start", ifMatch: current)).StatusCode);
        Assert.Equal(HttpStatusCode.Accepted, (await SendAsync(user, HttpMethod.Delete, $"/api/workspaces/{id}", ifMatch: "*")).StatusCode);
    }

    [Fact]
    public async Task A_wait_answers_when_the_phase_comes_or_when_its_time_is_up_and_refuses_what_it_cannot_wait_for()
    {
        using var user = await host.SignInAsync(Users.NewName());
        var id = await CreateAsync(user, "https://github.com/octo/waited");
        var clock = Stopwatch.StartNew();
        var running = await user.GetFromJsonAsync<JsonElement>($"/api/workspaces/{id}?wait=running&timeout=30");
        Assert.Equal("Running", running.GetProperty("phase").GetString());
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(25), $"the wait took {clock.Elapsed}");

        // A phase that does not come: the answer comes at the timeout, with the phase as it is.
        clock.Restart();
        var still = await user.GetFromJsonAsync<JsonElement>($"/api/workspaces/{id}?wait=Stopped&timeout=1");
        Assert.Equal("Running", still.GetProperty("phase").GetString());
        Assert.InRange(clock.Elapsed, TimeSpan.FromSeconds(0.9), TimeSpan.FromSeconds(10));

        await Problems.AssertAsync(await user.GetAsync($"/api/workspaces/{id}?wait=Ready"), HttpStatusCode.BadRequest, "wait");
        await Problems.AssertAsync(await user.GetAsync($"/api/workspaces/{id}?wait=4"), HttpStatusCode.BadRequest, "wait");
        await Problems.AssertAsync(await user.GetAsync($"/api/workspaces/{id}?wait=Running&timeout=0"), HttpStatusCode.BadRequest, "timeout");
        await Problems.AssertAsync(await user.GetAsync($"/api/workspaces/{id}?wait=Running&timeout=121"), HttpStatusCode.BadRequest, "timeout");
        Assert.Equal(HttpStatusCode.Accepted, (await user.DeleteAsync($"/api/workspaces/{id}")).StatusCode);
    }

    [Fact]
    public async Task Lists_page_with_a_cursor_in_a_link_header_and_filter_by_phase_repository_and_text()
    {
        using var user = await host.SignInAsync(Users.NewName());
        var ids = new List<string>();
        foreach (var name in new[] { "alpha", "beta", "gamma" })
        {
            ids.Add(await CreateAsync(user, $"https://github.com/octo/{name}"));
        }

        foreach (var id in ids)
        {
            await user.GetAsync($"/api/workspaces/{id}?wait=Running&timeout=30");
        }

        // Without a limit, the whole list (what clients written before paging expect), and no Link.
        var whole = await user.GetAsync("/api/workspaces");
        Assert.Equal(ids, (await whole.Content.ReadFromJsonAsync<JsonElement>()).EnumerateArray().Select(w => w.GetProperty("id").GetString()!).ToList());
        Assert.False(whole.Headers.Contains("Link"));

        // Two pages of two, oldest first, the next one named by the Link header.
        var first = await user.GetAsync("/api/workspaces?limit=2");
        var firstIds = (await first.Content.ReadFromJsonAsync<JsonElement>()).EnumerateArray().Select(w => w.GetProperty("id").GetString()!).ToList();
        var link = Assert.Single(first.Headers.GetValues("Link"));
        var next = System.Text.RegularExpressions.Regex.Match(link, "^<([^>]+)>; rel=\"next\"$");
        Assert.True(next.Success, link);
        Assert.Contains("limit=2", next.Groups[1].Value);
        var second = await user.GetAsync(next.Groups[1].Value);
        var secondIds = (await second.Content.ReadFromJsonAsync<JsonElement>()).EnumerateArray().Select(w => w.GetProperty("id").GetString()!).ToList();
        Assert.False(second.Headers.Contains("Link"));
        Assert.Equal(ids, [.. firstIds, .. secondIds]);

        async Task<List<string>> ListAsync(string query) =>
            (await user.GetFromJsonAsync<JsonElement>($"/api/workspaces?{query}")).EnumerateArray().Select(w => w.GetProperty("id").GetString()!).ToList();
        Assert.Equal([ids[1]], await ListAsync("repo=https://github.com/octo/beta"));
        Assert.Equal([ids[0]], await ListAsync("q=ALPH"));
        Assert.Equal([ids[2]], await ListAsync("q=gamm"));
        Assert.Equal([ids[1]], await ListAsync("q=" + ids[1][^10..]));
        Assert.Equal(ids, await ListAsync("phase=running"));
        Assert.Empty(await ListAsync("phase=Stopped"));

        await Problems.AssertAsync(await user.GetAsync("/api/workspaces?limit=0"), HttpStatusCode.BadRequest, "limit");
        await Problems.AssertAsync(await user.GetAsync("/api/workspaces?limit=101"), HttpStatusCode.BadRequest, "limit");
        await Problems.AssertAsync(await user.GetAsync("/api/workspaces?cursor=not-ours"), HttpStatusCode.BadRequest, "cursor");
        await Problems.AssertAsync(await user.GetAsync("/api/workspaces?phase=Sleeping"), HttpStatusCode.BadRequest, "phase");

        foreach (var id in ids)
        {
            Assert.Equal(HttpStatusCode.Accepted, (await user.DeleteAsync($"/api/workspaces/{id}")).StatusCode);
        }
    }

    [Fact]
    public async Task Every_answer_names_its_api_version_and_an_unknown_version_is_refused()
    {
        using var user = await host.SignInAsync(Users.NewName());
        var plain = await user.GetAsync("/api/me");
        Assert.Equal("2026-12-01", Assert.Single(plain.Headers.GetValues("Api-Version")));

        using var named = new HttpRequestMessage(HttpMethod.Get, "/api/me") { Headers = { { "Api-Version", "2026-12-01" } } };
        Assert.Equal(HttpStatusCode.OK, (await user.SendAsync(named)).StatusCode);

        using var unknown = new HttpRequestMessage(HttpMethod.Get, "/api/workspaces") { Headers = { { "Api-Version", "2031-01-01" } } };
        var refused = await Problems.AssertAsync(await user.SendAsync(unknown), HttpStatusCode.BadRequest);
        Assert.Equal("https://clouddevenv.dev/problems/unsupported-api-version", refused.GetProperty("type").GetString());
        Assert.Contains("2026-12-01", refused.GetProperty("detail").GetString());
    }

    [Fact]
    public async Task A_launch_names_a_machine_class_the_operator_offers_and_gets_its_size()
    {
        using var user = await host.SignInAsync(Users.NewName());
        var classes = await user.GetFromJsonAsync<JsonElement>("/api/machine-classes");
        Assert.Equal(
            [("small", 1d, 2048L * 1024 * 1024), ("basic", 2d, 4096L * 1024 * 1024)],
            classes.EnumerateArray().Select(c => (c.GetProperty("name").GetString(), c.GetProperty("cpus").GetDouble(), c.GetProperty("memoryBytes").GetInt64())));

        var created = await user.PostAsJsonAsync("/api/workspaces", new { repoUrl = "https://github.com/octo/sized", machine = "small" });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var body = await created.Content.ReadFromJsonAsync<JsonElement>();
        var id = body.GetProperty("id").GetString()!;
        Assert.Equal((1d, 2048L * 1024 * 1024), (body.GetProperty("cpus").GetDouble(), body.GetProperty("memoryBytes").GetInt64()));
        await user.GetAsync($"/api/workspaces/{id}?wait=Running&timeout=30");
        var instance = Assert.Single(host.Runtime.Created, s => s.WorkspaceId == id);
        Assert.Equal((1d, 2048L * 1024 * 1024), (instance.Resources.Cpus, instance.Resources.MemoryBytes));

        var unknown = await user.PostAsJsonAsync("/api/workspaces", new { repoUrl = "https://github.com/octo/sized", machine = "huge" });
        var problem = await Problems.AssertAsync(unknown, HttpStatusCode.BadRequest, "machine");
        Assert.Contains("machine must be one of basic, small", problem.GetProperty("detail").GetString());
        Assert.Equal(HttpStatusCode.Accepted, (await user.DeleteAsync($"/api/workspaces/{id}")).StatusCode);
    }

    [Fact]
    public async Task Patch_changes_the_idle_timeout_and_the_display_name_and_refuses_what_is_not_valid()
    {
        using var user = await host.SignInAsync(Users.NewName());
        var created = await user.PostAsJsonAsync("/api/workspaces", new { repoUrl = "https://github.com/octo/patched", displayName = "First name" });
        var id = (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!;
        var read = await SendAsync(user, HttpMethod.Get, $"/api/workspaces/{id}?wait=Running&timeout=30");
        Assert.Equal("First name", (await read.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("displayName").GetString());

        async Task<HttpResponseMessage> PatchAsync(object body, string? ifMatch = null)
        {
            using var request = new HttpRequestMessage(HttpMethod.Patch, $"/api/workspaces/{id}") { Content = JsonContent.Create(body) };
            if (ifMatch is not null)
            {
                request.Headers.TryAddWithoutValidation("If-Match", ifMatch);
            }

            return await user.SendAsync(request);
        }

        var patched = await PatchAsync(new { idleTimeoutMinutes = 90, displayName = "My API" }, ifMatch: read.Headers.ETag!.Tag);
        Assert.Equal(HttpStatusCode.OK, patched.StatusCode);
        var body = await patched.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal((90, "My API"), (body.GetProperty("idleTimeoutMinutes").GetInt32(), body.GetProperty("displayName").GetString()));
        Assert.Contains(body.GetProperty("events").EnumerateArray(), e => e.GetProperty("message").GetString() == "Changed: idle timeout 90 min, name \"My API\".");

        // Only what is named changes; an empty name clears it.
        var cleared = await (await PatchAsync(new { displayName = "" })).Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(90, cleared.GetProperty("idleTimeoutMinutes").GetInt32());
        Assert.Equal(JsonValueKind.Null, cleared.GetProperty("displayName").ValueKind);

        await Problems.AssertAsync(await PatchAsync(new { idleTimeoutMinutes = 0 }), HttpStatusCode.BadRequest, "idleTimeoutMinutes");
        await Problems.AssertAsync(await PatchAsync(new { displayName = new string('x', 65) }), HttpStatusCode.BadRequest, "displayName");
        await Problems.AssertAsync(await PatchAsync(new { displayName = "tab\there" }), HttpStatusCode.BadRequest, "displayName");
        await Problems.AssertAsync(await PatchAsync(new { repoUrl = "https://github.com/octo/other" }), HttpStatusCode.BadRequest);
        await Problems.AssertAsync(await PatchAsync(new { displayName = "late" }, ifMatch: read.Headers.ETag!.Tag), HttpStatusCode.PreconditionFailed);
        var after = await user.GetFromJsonAsync<JsonElement>($"/api/workspaces/{id}");
        Assert.Equal((90, JsonValueKind.Null), (after.GetProperty("idleTimeoutMinutes").GetInt32(), after.GetProperty("displayName").ValueKind));
        Assert.Equal(HttpStatusCode.Accepted, (await user.DeleteAsync($"/api/workspaces/{id}")).StatusCode);
    }
}
