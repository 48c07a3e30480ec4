namespace CloudDevEnv.Api.Tests;

/// <summary>Launch options over HTTP: environment variables are shown, secrets are taken once, used, and never shown or
/// stored in the clear.</summary>
[Collection(HostCollection.Name)]
public sealed class LaunchOptionsApiTests(HostFixture host)
{
    [Fact]
    public async Task Secrets_are_never_answered_nor_stored_in_the_clear_and_reach_the_ide()
    {
        using var user = await host.SignInAsync(Users.NewName());
        var secret = "tok-" + Guid.NewGuid().ToString("N");
        var response = await user.PostAsJsonAsync("/api/workspaces", new
        {
            repoUrl = "https://github.com/octo/secretive",
            environment = new Dictionary<string, string> { ["GREETING"] = "hello" },
            secrets = new Dictionary<string, string> { ["NPM_TOKEN"] = secret },
        });
        var created = await response.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        Assert.DoesNotContain(secret, created, StringComparison.Ordinal);
        var id = JsonDocument.Parse(created).RootElement.GetProperty("id").GetString()!;

        var running = await Phases.WaitAsync(user, id, "Running");
        Assert.Equal("hello", running.GetProperty("environment").GetProperty("GREETING").GetString());
        Assert.Equal(["NPM_TOKEN"], running.GetProperty("secrets").EnumerateArray().Select(s => s.GetString()));
        Assert.DoesNotContain(secret, running.GetRawText(), StringComparison.Ordinal);
        Assert.DoesNotContain(secret, await user.GetStringAsync("/api/workspaces"), StringComparison.Ordinal);

        // Used where the owner works: the IDE (and so its terminals) has it.
        var ide = Assert.Single(host.Runtime.Execs(id), e => e.Detached);
        Assert.Equal(secret, ide.Environment!["NPM_TOKEN"]);

        // At rest: no file the platform wrote holds the value (the grain state holds it sealed).
        var files = Directory.EnumerateFiles(host.DataDir, "*", SearchOption.AllDirectories)
            .Where(f => Path.GetFileName(f) != ".lock")
            .Select(f => (Path: f, Text: File.ReadAllText(f))).ToList();
        Assert.Empty(files.Where(f => f.Text.Contains(secret, StringComparison.Ordinal)).Select(f => f.Path));
        Assert.Contains(files, f => f.Text.Contains(id, StringComparison.Ordinal) && f.Text.Contains("NPM_TOKEN", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("""{"repoUrl":"https://github.com/octo/x","secrets":{"CDE_WORKSPACE_ID":"x"}}""", "secrets")]
    [InlineData("""{"repoUrl":"https://github.com/octo/x","environment":{"A-B":"x"}}""", "environment")]
    [InlineData("""{"repoUrl":"https://github.com/octo/x","environment":{"A":"1"},"secrets":{"A":"2"}}""", "secrets")]
    [InlineData("""{"repoUrl":"https://github.com/octo/x","environment":{"A":1}}""", null)]
    [InlineData("""{"repoUrl":"https://github.com/octo/x","devcontainerPath":"../x/devcontainer.json"}""", "devcontainerPath")]
    public async Task A_bad_launch_option_is_a_400_naming_it_and_creates_nothing(string body, string? field)
    {
        using var user = await host.SignInAsync(Users.NewName());
        using var response = await user.PostAsync("/api/workspaces", new StringContent(body, System.Text.Encoding.UTF8, "application/json"));
        await Problems.AssertAsync(response, HttpStatusCode.BadRequest, field);
        Assert.Empty((await user.GetFromJsonAsync<JsonElement>("/api/workspaces")).EnumerateArray());
    }
}
