using System.Security.Cryptography;
using System.Text;

namespace CloudDevEnv.Api.Tests;

/// <summary>Prebuild registration for CI: who may register (it decides what everyone runs), what may be registered, and
/// that the next launch of the repository uses it unless its devcontainer.json changed since.</summary>
[Collection(HostCollection.Name)]
public sealed class PrebuildApiTests(HostFixture host)
{
    private const string Config = """{ "image": "example.org/from-config:1" }""";

    private static string Sha256(string text) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)));

    private async Task<HttpClient> PublisherAsync()
    {
        using var session = await host.SignInAsync(HostFixture.PrebuildPublisher);
        var (_, token) = await Users.CreateTokenAsync(session, "ci");
        return Users.WithToken(host.Api, token);
    }

    [Fact]
    public async Task A_publisher_registers_and_the_next_launch_at_that_ref_starts_from_it_by_anyone()
    {
        var repo = $"https://github.com/octo/pre-{Guid.NewGuid():N}";
        host.Runtime.RepositoryFiles[repo] = new Dictionary<string, string> { [".devcontainer/devcontainer.json"] = Config };
        using var ci = await PublisherAsync();
        var registered = await ci.PostAsJsonAsync("/api/prebuilds", new { repoUrl = repo, @ref = "main", image = "ghcr.io/octo/pre:abc123", configHash = Sha256(Config) });
        Assert.Equal(HttpStatusCode.Created, registered.StatusCode);
        var body = await registered.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal((HostFixture.PrebuildPublisher, "main"), (body.GetProperty("registeredBy").GetString(), body.GetProperty("ref").GetString()));

        using var user = await host.SignInAsync(Users.NewName());
        var listed = await user.GetFromJsonAsync<JsonElement>($"/api/prebuilds?repo={Uri.EscapeDataString(repo)}");
        Assert.Equal(["ghcr.io/octo/pre:abc123"], listed.EnumerateArray().Select(p => p.GetProperty("image").GetString()));

        var at = await LaunchAsync(user, repo, "main");
        Assert.Equal(("Prebuild", "ghcr.io/octo/pre:abc123"), (at.GetProperty("imageSource").GetString(), at.GetProperty("image").GetString()));

        // Another ref has none registered: devcontainer.json's image, and the note says why.
        var other = await LaunchAsync(user, repo, "feature");
        Assert.Equal("DevContainerImage", other.GetProperty("imageSource").GetString());
        Assert.Contains($"no prebuild is registered for {repo} at feature", other.GetProperty("imageNotes").EnumerateArray().Select(n => n.GetString()));

        Assert.Equal(HttpStatusCode.NoContent, (await ci.DeleteAsync($"/api/prebuilds?repo={Uri.EscapeDataString(repo)}&ref=main")).StatusCode);
        Assert.Empty((await user.GetFromJsonAsync<JsonElement>($"/api/prebuilds?repo={Uri.EscapeDataString(repo)}")).EnumerateArray());
    }

    [Fact]
    public async Task A_prebuild_of_another_devcontainer_json_is_stale_and_not_used()
    {
        var repo = $"https://github.com/octo/stale-{Guid.NewGuid():N}";
        host.Runtime.RepositoryFiles[repo] = new Dictionary<string, string> { [".devcontainer/devcontainer.json"] = Config };
        using var ci = await PublisherAsync();
        var older = Sha256("""{ "image": "example.org/older:1" }""");
        Assert.Equal(HttpStatusCode.Created, (await ci.PostAsJsonAsync("/api/prebuilds", new { repoUrl = repo, image = "ghcr.io/octo/stale:1", configHash = older })).StatusCode);

        using var user = await host.SignInAsync(Users.NewName());
        var launched = await LaunchAsync(user, repo, null);
        Assert.Equal(("DevContainerImage", "example.org/from-config:1"), (launched.GetProperty("imageSource").GetString(), launched.GetProperty("image").GetString()));
        Assert.Contains(launched.GetProperty("imageNotes").EnumerateArray(), n =>
            n.GetString()!.Contains("ghcr.io/octo/stale:1 was built from another devcontainer.json than .devcontainer/devcontainer.json", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Registering_takes_a_publisher_and_a_runnable_image_and_refusals_change_nothing()
    {
        var repo = $"https://github.com/octo/guarded-{Guid.NewGuid():N}";
        using var someone = await host.SignInAsync(Users.NewName());
        await Problems.AssertAsync(await someone.PostAsJsonAsync("/api/prebuilds", new { repoUrl = repo, image = "ghcr.io/evil/backdoor:1" }), HttpStatusCode.Forbidden);
        await Problems.AssertAsync(await someone.DeleteAsync($"/api/prebuilds?repo={Uri.EscapeDataString(repo)}"), HttpStatusCode.Forbidden);

        using var ci = await PublisherAsync();
        await Problems.AssertAsync(await ci.PostAsJsonAsync("/api/prebuilds", new { repoUrl = repo, image = "Not An Image" }), HttpStatusCode.BadRequest, "image");
        // A user's own build may hold their sources: never everyone's prebuild.
        await Problems.AssertAsync(await ci.PostAsJsonAsync("/api/prebuilds", new { repoUrl = repo, image = "clouddevenv/build/0123456789abcdef/cafe" }), HttpStatusCode.BadRequest, "image");
        await Problems.AssertAsync(await ci.PostAsJsonAsync("/api/prebuilds", new { repoUrl = repo, image = "ghcr.io/octo/x:1", configHash = "abc" }), HttpStatusCode.BadRequest, "configHash");
        await Problems.AssertAsync(await ci.PostAsJsonAsync("/api/prebuilds", new { repoUrl = "http://plain.example/x", image = "ghcr.io/octo/x:1" }), HttpStatusCode.BadRequest, "repoUrl");
        await Problems.AssertAsync(await ci.PostAsJsonAsync("/api/prebuilds", new { repoUrl = repo, image = "ghcr.io/octo/x:1", @ref = "-x" }), HttpStatusCode.BadRequest, "ref");
        await Problems.AssertAsync(await ci.GetAsync("/api/prebuilds"), HttpStatusCode.BadRequest, "repo");
        Assert.Empty((await ci.GetFromJsonAsync<JsonElement>($"/api/prebuilds?repo={Uri.EscapeDataString(repo)}")).EnumerateArray());

        using var admin = await host.SignInAsync(HostFixture.Admin);
        Assert.Equal(HttpStatusCode.Created, (await admin.PostAsJsonAsync("/api/prebuilds", new { repoUrl = repo, image = "ghcr.io/octo/x:1" })).StatusCode);
    }

    [Fact]
    public async Task A_platform_build_needs_a_publisher_a_registry_and_a_valid_request_and_a_refusal_starts_nothing()
    {
        var repo = $"https://github.com/octo/build-{Guid.NewGuid():N}";
        using var someone = await host.SignInAsync(Users.NewName());
        await Problems.AssertAsync(await someone.PostAsJsonAsync("/api/prebuilds/build", new { repoUrl = repo }), HttpStatusCode.Forbidden);

        using var ci = await PublisherAsync();
        await Problems.AssertAsync(await ci.PostAsJsonAsync("/api/prebuilds/build", new { }), HttpStatusCode.BadRequest, "repoUrl");
        await Problems.AssertAsync(await ci.PostAsJsonAsync("/api/prebuilds/build", new { repoUrl = "http://plain.example/x" }), HttpStatusCode.BadRequest, "repoUrl");
        await Problems.AssertAsync(await ci.PostAsJsonAsync("/api/prebuilds/build", new { repoUrl = repo, @ref = "-x" }), HttpStatusCode.BadRequest, "ref");

        // This host names no Prebuilds:Registry: there is nowhere to push a build to.
        var conflict = await ci.PostAsJsonAsync("/api/prebuilds/build", new { repoUrl = repo });
        await Problems.AssertAsync(conflict, HttpStatusCode.Conflict);
        Assert.Empty(host.Runtime.Saved);
        await Problems.AssertAsync(await ci.GetAsync($"/api/prebuilds/build?repo={Uri.EscapeDataString(repo)}"), HttpStatusCode.NotFound);
        await Problems.AssertAsync(await ci.GetAsync("/api/prebuilds/build"), HttpStatusCode.BadRequest, "repo");
    }

    [Fact]
    public async Task The_push_webhook_takes_only_deliveries_signed_with_its_secret_and_rebuilds_only_what_this_platform_built()
    {
        var repo = $"https://github.com/octo/hook-{Guid.NewGuid():N}";
        var push = $$$"""{"ref":"refs/heads/main","deleted":false,"repository":{"clone_url":"{{{repo}}}.git","html_url":"{{{repo}}}","default_branch":"main"}}""";

        await Problems.AssertAsync(await DeliverAsync("push", push, signature: null), HttpStatusCode.Unauthorized);
        await Problems.AssertAsync(await DeliverAsync("push", push, Sign(push, "another-secret-entirely")), HttpStatusCode.Unauthorized);
        await Problems.AssertAsync(await DeliverAsync("push", push, "sha256=not-hex"), HttpStatusCode.Unauthorized);
        // Signed for one body, sent with another.
        await Problems.AssertAsync(await DeliverAsync("push", push.Replace("main", "evil", StringComparison.Ordinal), Sign(push, HostFixture.WebhookSecret)), HttpStatusCode.Unauthorized);
        await Problems.AssertAsync(await DeliverAsync("push", push, Sign(push, HostFixture.WebhookSecret), "application/x-www-form-urlencoded"), HttpStatusCode.UnsupportedMediaType);
        await Problems.AssertAsync(await DeliverAsync("push", "{\"ref\": [", Sign("{\"ref\": [", HostFixture.WebhookSecret)), HttpStatusCode.BadRequest, "body");

        Assert.Equal("pong", (await ResultAsync(await DeliverAsync("ping", "{}", Sign("{}", HostFixture.WebhookSecret)), HttpStatusCode.OK)).GetProperty("message").GetString());
        var issue = await ResultAsync(await DeliverAsync("issues", push, Sign(push, HostFixture.WebhookSecret)), HttpStatusCode.OK);
        Assert.Contains("'issues' is ignored", issue.GetProperty("message").GetString(), StringComparison.Ordinal);

        // A workflow's prebuild is the workflow's to rebuild: a push starts no platform build for it.
        using var ci = await PublisherAsync();
        Assert.Equal(HttpStatusCode.Created, (await ci.PostAsJsonAsync("/api/prebuilds", new { repoUrl = repo, image = "ghcr.io/octo/hook:1" })).StatusCode);
        var nothing = await ResultAsync(await DeliverAsync("push", push, Sign(push, HostFixture.WebhookSecret)), HttpStatusCode.OK);
        Assert.Empty(nothing.GetProperty("builds").EnumerateArray());
        Assert.Contains("No prebuild of this platform's follows", nothing.GetProperty("message").GetString(), StringComparison.Ordinal);
        await Problems.AssertAsync(await ci.GetAsync($"/api/prebuilds/build?repo={Uri.EscapeDataString(repo)}"), HttpStatusCode.NotFound);
        Assert.Empty(host.Runtime.Saved);
    }

    [Fact]
    public async Task A_build_event_stream_needs_a_repository_that_was_built_here()
    {
        using var ci = await PublisherAsync();
        await Problems.AssertAsync(await ci.GetAsync("/api/prebuilds/build/events"), HttpStatusCode.BadRequest, "repo");
        await Problems.AssertAsync(await ci.GetAsync($"/api/prebuilds/build/events?repo={Uri.EscapeDataString($"https://github.com/octo/none-{Guid.NewGuid():N}")}"), HttpStatusCode.NotFound);
        await Problems.AssertAsync(await host.Http.GetAsync("/api/prebuilds/build/events?repo=x"), HttpStatusCode.Unauthorized);
    }

    private static string Sign(string payload, string secret) =>
        "sha256=" + Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), Encoding.UTF8.GetBytes(payload)));

    /// <summary>A delivery as GitHub makes it: no user, the event's name and the body's signature in headers.</summary>
    private async Task<HttpResponseMessage> DeliverAsync(string kind, string payload, string? signature, string mediaType = "application/json")
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/prebuilds/webhook") { Content = new StringContent(payload, Encoding.UTF8, mediaType) };
        request.Headers.Add("X-GitHub-Event", kind);
        if (signature is not null)
        {
            request.Headers.Add("X-Hub-Signature-256", signature);
        }

        return await host.Http.SendAsync(request);
    }

    private static async Task<JsonElement> ResultAsync(HttpResponseMessage response, HttpStatusCode status)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == status, $"Expected {(int)status} but got {(int)response.StatusCode}: {text}");
        return JsonDocument.Parse(text).RootElement;
    }

    private static async Task<JsonElement> LaunchAsync(HttpClient user, string repo, string? gitRef)
    {
        var created = await user.PostAsJsonAsync("/api/workspaces", gitRef is null ? new { repoUrl = repo } : (object)new { repoUrl = repo, @ref = gitRef });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var id = (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!;
        var running = await Phases.WaitAsync(user, id, "Running");
        Assert.Equal(HttpStatusCode.Accepted, (await user.DeleteAsync($"/api/workspaces/{id}")).StatusCode);
        return running;
    }
}
