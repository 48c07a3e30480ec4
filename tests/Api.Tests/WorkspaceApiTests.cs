using System.Net.Http.Headers;
using System.Text;

namespace CloudDevEnv.Api.Tests;

[Collection(HostCollection.Name)]
public sealed class WorkspaceApiTests(HostFixture host)
{
    private static async Task<JsonElement> CreateAsync(HttpClient user, string repoUrl = "https://github.com/octo/hello")
    {
        var response = await user.PostAsJsonAsync("/api/workspaces", new { repoUrl });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return await response.Content.ReadFromJsonAsync<JsonElement>();
    }

    [Fact]
    public async Task Post_creates_a_workspace_with_an_id_a_url_and_a_location()
    {
        var owner = Users.NewName();
        using var user = await host.SignInAsync(owner);
        var response = await user.PostAsJsonAsync("/api/workspaces", new { repoUrl = "https://github.com/octo/hello", @ref = "main" });

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        var id = body.GetProperty("id").GetString()!;
        Assert.Matches("^[a-z]+-[a-z]+-[a-z0-9]{10}$", id);
        Assert.Equal($"/api/workspaces/{id}", response.Headers.Location?.OriginalString);
        Assert.Equal("Pending", body.GetProperty("phase").GetString());
        Assert.Equal("Running", body.GetProperty("desired").GetString());
        Assert.StartsWith($"http://{id}.localhost:", body.GetProperty("url").GetString());
        Assert.Equal("main", body.GetProperty("ref").GetString());
        Assert.Equal(owner, body.GetProperty("owner").GetString());

        var running = await Phases.WaitAsync(user, id, "Running");
        Assert.Equal("Fallback", running.GetProperty("imageSource").GetString());

        var list = await user.GetFromJsonAsync<JsonElement>("/api/workspaces");
        Assert.Equal([id], list.EnumerateArray().Select(w => w.GetProperty("id").GetString()));
        var created = running.GetProperty("events")[0];
        Assert.Equal(owner, created.GetProperty("actor").GetString());
    }

    [Fact]
    public async Task Start_stop_and_delete_answer_202_and_are_idempotent()
    {
        var owner = Users.NewName();
        using var user = await host.SignInAsync(owner);
        var id = (await CreateAsync(user)).GetProperty("id").GetString();
        await Phases.WaitAsync(user, id!, "Running");

        Assert.Equal(HttpStatusCode.Accepted, (await user.PostAsync($"/api/workspaces/{id}/stop", null)).StatusCode);
        Assert.Equal(HttpStatusCode.Accepted, (await user.PostAsync($"/api/workspaces/{id}/stop", null)).StatusCode);
        var stopped = await Phases.WaitAsync(user, id!, "Stopped");
        Assert.Contains(stopped.GetProperty("events").EnumerateArray(), e =>
            e.GetProperty("message").GetString() == "Stop requested." && e.GetProperty("actor").GetString() == owner);

        Assert.Equal(HttpStatusCode.Accepted, (await user.PostAsync($"/api/workspaces/{id}/start", null)).StatusCode);
        await Phases.WaitAsync(user, id!, "Running");

        Assert.Equal(HttpStatusCode.Accepted, (await user.DeleteAsync($"/api/workspaces/{id}")).StatusCode);
        Assert.Equal(HttpStatusCode.Accepted, (await user.DeleteAsync($"/api/workspaces/{id}")).StatusCode);
        await Phases.WaitAsync(user, id!, "Deleted");

        var conflict = await user.PostAsync($"/api/workspaces/{id}/start", null);
        var problem = await Problems.AssertAsync(conflict, HttpStatusCode.Conflict);
        Assert.Contains("deleted", problem.GetProperty("detail").GetString());
    }

    [Theory]
    [InlineData("GET", "/api/workspaces/calm-otter-abcdefghij")]
    [InlineData("POST", "/api/workspaces/calm-otter-abcdefghij/start")]
    [InlineData("POST", "/api/workspaces/calm-otter-abcdefghij/stop")]
    [InlineData("DELETE", "/api/workspaces/calm-otter-abcdefghij")]
    [InlineData("GET", "/api/workspaces/calm-otter-abcdefghij/events")]
    [InlineData("POST", "/api/workspaces/calm-otter-abcdefghij/keepalive")]
    [InlineData("POST", "/api/workspaces/calm-otter-abcdefghij/pin")]
    [InlineData("DELETE", "/api/workspaces/calm-otter-abcdefghij/pin")]
    [InlineData("GET", "/api/workspaces/NOT_A_LABEL")]
    public async Task Unknown_ids_are_404_problems(string method, string path)
    {
        using var user = await host.SignInAsync(Users.NewName());
        var response = await user.SendAsync(new HttpRequestMessage(new HttpMethod(method), path));
        await Problems.AssertAsync(response, HttpStatusCode.NotFound);
    }

    [Theory]
    [InlineData("""{"repoUrl":"http://github.com/octo/hello"}""", "repoUrl")]
    [InlineData("""{"repoUrl":"http://127.0.0.1:8080/repo.git"}""", "repoUrl")]
    [InlineData("""{"repoUrl":"https://192.168.1.1/repo.git"}""", "repoUrl")]
    [InlineData("""{"repoUrl":"file:///etc"}""", "repoUrl")]
    [InlineData("""{"repoUrl":"javascript:alert(1)"}""", "repoUrl")]
    [InlineData("""{"repoUrl":"https://github.com/octo/hello","owner":"someone-else"}""", "owner")]
    [InlineData("""{}""", "repoUrl")]
    [InlineData("""{"repoUrl":42}""", "repoUrl")]
    [InlineData("""{"repoUrl":"https://github.com/octo/hello","idleTimeoutMinutes":"soon"}""", "idleTimeoutMinutes")]
    [InlineData("""{"repoUrl":"https://github.com/octo/hello","idleTimeoutMinutes":0}""", "idleTimeoutMinutes")]
    [InlineData("""{"repoUrl":"https://github.com/octo/hello","ref":"-x"}""", "ref")]
    [InlineData("""{"repoUrl":"https://github.com/octo/hello","image":"Not An Image"}""", "image")]
    [InlineData("""{"repourl":"https://github.com/octo/hello"}""", "repourl")]
    [InlineData("""{"repoUrl":"https://github.com/octo/hello",""", "body")]
    [InlineData("""["https://github.com/octo/hello"]""", "body")]
    [InlineData("", "body")]
    public async Task Bad_bodies_are_400_problems_naming_the_field_and_create_nothing(string json, string field)
    {
        using var user = await host.SignInAsync(Users.NewName());
        var before = host.Runtime.Calls(nameof(CloudDevEnv.Runtime.IWorkspaceRuntime.CreateAsync));
        var response = await user.PostAsync("/api/workspaces", new StringContent(json, Encoding.UTF8, "application/json"));

        await Problems.AssertAsync(response, HttpStatusCode.BadRequest, field);
        var list = await user.GetFromJsonAsync<JsonElement>("/api/workspaces");
        Assert.Equal(0, list.GetArrayLength());
        Assert.Equal(before, host.Runtime.Calls(nameof(CloudDevEnv.Runtime.IWorkspaceRuntime.CreateAsync)));
    }

    [Fact]
    public async Task A_file_url_under_an_allowed_folder_is_accepted()
    {
        var url = new Uri(Path.Combine(host.RepoRoot, "local-repo")).AbsoluteUri;
        using var user = await host.SignInAsync(Users.NewName());
        var created = await CreateAsync(user, url);
        Assert.Equal(url, created.GetProperty("repoUrl").GetString());
    }

    [Fact]
    public async Task A_body_over_64_KiB_is_413_whether_its_length_is_declared_or_not()
    {
        using var user = await host.SignInAsync(Users.NewName());
        var big = "{\"repoUrl\":\"https://github.com/octo/hello\",\"ref\":\"" + new string('a', 70_000) + "\"}";
        var declared = await user.PostAsync("/api/workspaces", new StringContent(big, Encoding.UTF8, "application/json"));
        await Problems.AssertAsync(declared, HttpStatusCode.RequestEntityTooLarge);

        var chunked = new StreamContent(new MemoryStream(Encoding.UTF8.GetBytes(big)));
        chunked.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        var request = new HttpRequestMessage(HttpMethod.Post, "/api/workspaces") { Content = chunked };
        request.Headers.TransferEncodingChunked = true;
        await Problems.AssertAsync(await user.SendAsync(request), HttpStatusCode.RequestEntityTooLarge);
    }

    [Fact]
    public async Task A_body_that_is_not_json_is_415()
    {
        using var user = await host.SignInAsync(Users.NewName());
        var response = await user.PostAsync("/api/workspaces", new StringContent("repoUrl=x", Encoding.UTF8, "application/x-www-form-urlencoded"));
        await Problems.AssertAsync(response, HttpStatusCode.UnsupportedMediaType);
    }

    [Fact]
    public async Task The_quota_is_a_403_no_client_retries_and_says_the_limit()
    {
        using var user = await host.SignInAsync(Users.NewName());
        for (var i = 0; i < HostFixture.Quota; i++)
        {
            await CreateAsync(user);
        }

        var response = await user.PostAsJsonAsync("/api/workspaces", new { repoUrl = "https://github.com/octo/hello" });
        var problem = await Problems.AssertAsync(response, HttpStatusCode.Forbidden);
        Assert.Equal("https://clouddevenv.dev/problems/quota-exceeded", problem.GetProperty("type").GetString());
        Assert.Contains($"({HostFixture.Quota})", problem.GetProperty("detail").GetString());
        Assert.Null(response.Headers.RetryAfter);
    }

    [Fact]
    public async Task A_create_retried_with_the_same_idempotency_key_yields_one_workspace()
    {
        using var user = await host.SignInAsync(Users.NewName());
        async Task<HttpResponseMessage> PostAsync(string key, string repoUrl)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "/api/workspaces") { Content = JsonContent.Create(new { repoUrl }) };
            request.Headers.Add("Idempotency-Key", key);
            return await user.SendAsync(request);
        }

        var key = Guid.NewGuid().ToString();
        var first = await PostAsync(key, "https://github.com/octo/hello");
        var retries = await Task.WhenAll(Enumerable.Range(0, 3).Select(_ => PostAsync(key, "https://github.com/octo/hello")));
        Assert.Equal(HttpStatusCode.Created, first.StatusCode);
        var id = (await first.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString();
        foreach (var retry in retries)
        {
            Assert.Equal(HttpStatusCode.Created, retry.StatusCode);
            Assert.Equal(id, (await retry.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString());
            Assert.Equal("true", retry.Headers.GetValues("Idempotent-Replayed").Single());
        }

        Assert.Equal(1, (await user.GetFromJsonAsync<JsonElement>("/api/workspaces")).GetArrayLength());

        // The same key with another body is a client error, and creates nothing.
        var mismatch = await Problems.AssertAsync(await PostAsync(key, "https://github.com/octo/other"), HttpStatusCode.UnprocessableEntity);
        Assert.Equal("https://clouddevenv.dev/problems/idempotency-key-reused", mismatch.GetProperty("type").GetString());
        Assert.Equal(1, (await user.GetFromJsonAsync<JsonElement>("/api/workspaces")).GetArrayLength());

        // Keys are each user's own: another user's same key is another workspace.
        using var other = await host.SignInAsync(Users.NewName());
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/workspaces") { Content = JsonContent.Create(new { repoUrl = "https://github.com/octo/hello" }) };
        request.Headers.Add("Idempotency-Key", key);
        var theirs = await other.SendAsync(request);
        Assert.Equal(HttpStatusCode.Created, theirs.StatusCode);
        Assert.NotEqual(id, (await theirs.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString());
    }

    [Fact]
    public async Task A_ghost_in_the_owners_index_is_left_out_of_the_listing_and_out_of_the_index()
    {
        var name = Users.NewName();
        using var user = await host.SignInAsync(name);
        var real = (await CreateAsync(user)).GetProperty("id").GetString()!;

        // What a crash between the owner's write and the workspace's leaves: an id without a workspace.
        var index = host.Grains.GetGrain<CloudDevEnv.Contracts.Owners.IOwnerGrain>(name);
        await index.AcquireRunSlotAsync("calm-otter-ghost00000a");

        var listed = await user.GetFromJsonAsync<JsonElement>("/api/workspaces");
        Assert.Equal([real], listed.EnumerateArray().Select(w => w.GetProperty("id").GetString()!).ToArray());
        Assert.Equal([real], (await index.ListAsync()).ToArray());
    }

    [Fact]
    public async Task Listing_another_owner_needs_the_admin_role_and_a_valid_name()
    {
        using var user = await host.SignInAsync(Users.NewName());
        using var admin = await host.SignInAsync(HostFixture.Admin);
        await Problems.AssertAsync(await user.GetAsync("/api/workspaces?owner=someone-else"), HttpStatusCode.Forbidden);
        await Problems.AssertAsync(await user.GetAsync("/api/workspaces?all=true"), HttpStatusCode.Forbidden);
        await Problems.AssertAsync(await admin.GetAsync("/api/workspaces?owner=%20bad%20"), HttpStatusCode.BadRequest, "owner");
    }

    [Fact]
    public async Task Each_user_lists_only_their_own_and_an_admin_lists_everyones()
    {
        using var ada = await host.SignInAsync(Users.NewName("ada"));
        using var bob = await host.SignInAsync(Users.NewName("bob"));
        using var admin = await host.SignInAsync(HostFixture.Admin);
        var adas = (await CreateAsync(ada)).GetProperty("id").GetString()!;
        var bobs = (await CreateAsync(bob)).GetProperty("id").GetString()!;

        static async Task<string[]> IdsAsync(HttpClient client, string path) =>
            [.. (await client.GetFromJsonAsync<JsonElement>(path)).EnumerateArray().Select(w => w.GetProperty("id").GetString()!)];

        Assert.Equal([adas], await IdsAsync(ada, "/api/workspaces"));
        Assert.Equal([bobs], await IdsAsync(bob, "/api/workspaces"));
        var all = await IdsAsync(admin, "/api/workspaces?all=true");
        Assert.Contains(adas, all);
        Assert.Contains(bobs, all);
        var adminsOwn = await IdsAsync(admin, "/api/workspaces");
        Assert.DoesNotContain(adas, adminsOwn);
        Assert.DoesNotContain(bobs, adminsOwn);
    }

    [Fact]
    public async Task Events_stream_phase_changes_and_end_when_the_workspace_is_deleted()
    {
        using var user = await host.SignInAsync(Users.NewName());
        var id = (await CreateAsync(user)).GetProperty("id").GetString();
        using var stream = await user.GetStreamAsync($"/api/workspaces/{id}/events");
        using var reader = new StreamReader(stream);

        var phases = new List<string>();
        var ids = new List<long>();
        var deleteSent = false;
        var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        string? line;
        string? eventType = null;
        while ((line = await reader.ReadLineAsync(timeout.Token)) is not null)
        {
            if (line.StartsWith("id: ", StringComparison.Ordinal))
            {
                ids.Add(long.Parse(line[4..]));
            }
            else if (line.StartsWith("event: ", StringComparison.Ordinal))
            {
                eventType = line[7..];
            }
            else if (line.StartsWith("data: ", StringComparison.Ordinal) && eventType == "phase")
            {
                var phase = JsonDocument.Parse(line[6..]).RootElement.GetProperty("phase").GetString()!;
                phases.Add(phase);
                if (phase == "Running" && !deleteSent)
                {
                    deleteSent = true;
                    await user.DeleteAsync($"/api/workspaces/{id}");
                }
            }
        }

        Assert.Equal(["Pending", "Building", "Creating", "Initializing", "Running", "Deleting", "Deleted"], phases);
        Assert.Equal(ids.Order(), ids);
        Assert.Equal(ids.Distinct().Count(), ids.Count);
    }

    [Fact]
    public async Task Events_resume_after_the_last_event_id()
    {
        using var user = await host.SignInAsync(Users.NewName());
        var id = (await CreateAsync(user)).GetProperty("id").GetString();
        await Phases.WaitAsync(user, id!, "Running");
        await user.DeleteAsync($"/api/workspaces/{id}");
        await Phases.WaitAsync(user, id!, "Deleted");

        var request = new HttpRequestMessage(HttpMethod.Get, $"/api/workspaces/{id}/events");
        request.Headers.Add("Last-Event-ID", "3");
        var response = await user.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();

        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        var ids = text.Split('\n').Where(l => l.StartsWith("id: ", StringComparison.Ordinal)).Select(l => long.Parse(l[4..])).ToArray();
        Assert.Equal(4, ids.First());
        Assert.Contains("\"phase\":\"Deleted\"", text);
    }

    [Fact]
    public async Task Health_readiness_and_openapi_answer_anyone_and_the_dashboard_admins()
    {
        Assert.Equal("ok", await host.Http.GetStringAsync("/healthz"));
        Assert.Equal("ready", await host.Http.GetStringAsync("/readyz"));

        var openApi = await host.Http.GetFromJsonAsync<JsonElement>("/openapi/v1.json");
        var paths = openApi.GetProperty("paths");
        Assert.True(paths.TryGetProperty("/api/workspaces", out _));
        Assert.True(paths.TryGetProperty("/api/workspaces/{id}/events", out _));
        Assert.True(paths.TryGetProperty("/api/tokens", out _));

        using var admin = await host.SignInAsync(HostFixture.Admin);
        var dashboard = await admin.GetAsync("/dashboard/");
        Assert.Equal(HttpStatusCode.OK, dashboard.StatusCode);
        Assert.Equal("text/html", dashboard.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task An_unknown_api_path_is_a_404_problem_once_signed_in()
    {
        await Problems.AssertAsync(await host.Http.GetAsync("/api/nothing-here"), HttpStatusCode.Unauthorized);
        using var user = await host.SignInAsync(Users.NewName());
        await Problems.AssertAsync(await user.GetAsync("/api/nothing-here"), HttpStatusCode.NotFound);
    }
}
