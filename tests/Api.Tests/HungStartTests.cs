using CloudDevEnv.Runtime.Docker;
using CloudDevEnv.Workspaces.Docker.Tests;

namespace CloudDevEnv.Api.Tests;

/// <summary>A start that never ends, on the real host and engine: it fails at its phase's deadline, says so, stops its
/// container (and with it the hook) and gives its run slot back.</summary>
public sealed class HungStartTests : IAsyncLifetime
{
    private readonly string _dataDir = Directory.CreateTempSubdirectory("cde-hung-").FullName;
    private readonly string _repoRoot = Directory.CreateTempSubdirectory("cde-hung-repos-").FullName;
    private readonly List<string> _created = [];

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        // A failed test leaves its workspaces' containers, networks and volumes behind: these, and only these, go.
        await EngineLeftovers.RemoveAsync(_created);
        Directory.Delete(_dataDir, recursive: true);
        Directory.Delete(_repoRoot, recursive: true);
    }

    [Fact]
    public async Task A_hook_that_never_ends_fails_at_the_deadline_stops_the_container_and_frees_the_slot()
    {
        var hung = TestRepository.Create(_repoRoot, "hung")
            .Write(".devcontainer/devcontainer.json", JsonSerializer.Serialize(new { image = WorkspaceImages.WorkspaceImage, onCreateCommand = "sleep 3600" }));
        hung.Commit("a hook that never ends");
        var plain = TestRepository.Create(_repoRoot, "plain").Write("README.md", "# plain\n");
        plain.Commit("first");

        await using var silo = await SiloProcess.StartAsync(_dataDir, FreePorts.Take(4), new Dictionary<string, string>
        {
            ["CDE_LOCAL_REPO_ROOTS"] = _repoRoot,
            ["Workspaces__Deadlines__Initializing"] = "00:00:30",
            ["Workspaces__MaxRunningPerOwner"] = "1",
        });
        using var user = await Users.SignInAsync(silo.Api, "patient");

        var created = await user.PostAsJsonAsync("/api/workspaces", new { repoUrl = hung.Url });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var id = (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!;
        _created.Add(id);

        // While it hangs, it holds the owner's one slot.
        await Phases.WaitAsync(user, id, "Initializing", TimeSpan.FromSeconds(90), () => silo.Output);
        var refused = await user.PostAsJsonAsync("/api/workspaces", new { repoUrl = plain.Url });
        Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);

        var failed = await Phases.WaitAsync(user, id, "Failed", TimeSpan.FromSeconds(90), () => silo.Output);
        Assert.Equal("Initializing did not finish within 30 s (Workspaces:Deadlines:Initializing).", failed.GetProperty("reason").GetString());
        Assert.Equal("false", (await DockerCli.RunAsync("inspect", "-f", "{{.State.Running}}", "cde-" + id)).Trim());

        var next = await user.PostAsJsonAsync("/api/workspaces", new { repoUrl = plain.Url });
        Assert.Equal(HttpStatusCode.Created, next.StatusCode);
        var nextId = (await next.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!;
        _created.Add(nextId);

        foreach (var workspace in new[] { id, nextId })
        {
            await user.DeleteAsync($"/api/workspaces/{workspace}");
            await Phases.WaitAsync(user, workspace, "Deleted", TimeSpan.FromSeconds(90), () => silo.Output);
        }
    }
}
