using CloudDevEnv.Runtime;

namespace CloudDevEnv.Api.Tests;

/// <summary>The real host on one data folder, killed with SIGKILL and started again by a test, and the check that the
/// engine and the platform agree afterwards. Cleans up the workspaces and images it made, and only those.</summary>
public sealed class CrashHost : IAsyncDisposable
{
    /// <summary>A restart adopts a container at once; a workspace without one waits for its reminder
    /// (Workspaces:ReminderPeriod, 1 min).</summary>
    public static readonly TimeSpan Recovery = TimeSpan.FromMinutes(2);

    private readonly string _dataDir = Directory.CreateTempSubdirectory("cde-crash-").FullName;
    private readonly int[] _ports = FreePorts.Take(4);
    private readonly List<string> _created = [];
    private readonly HashSet<string> _images = [];

    public string RepoRoot { get; } = Directory.CreateTempSubdirectory("cde-crash-repos-").FullName;

    public string SnapshotsDir => Path.Combine(_dataDir, "snapshots");

    /// <summary>The host with one run slot per owner, so that a slot kept by mistake (or lost) shows as a refused or
    /// admitted create.</summary>
    public Task<SiloProcess> StartAsync() =>
        SiloProcess.StartAsync(_dataDir, _ports, new Dictionary<string, string>
        {
            ["CDE_LOCAL_REPO_ROOTS"] = RepoRoot,
            ["Workspaces__MaxRunningPerOwner"] = "1",
        });

    public static string Container(string id) => "cde-" + id;

    public async Task<string> CreateAsync(HttpClient user, string repoUrl)
    {
        var created = await user.PostAsJsonAsync("/api/workspaces", new { repoUrl });
        Assert.True(created.StatusCode == HttpStatusCode.Created, await created.Content.ReadAsStringAsync());
        var id = (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!;
        _created.Add(id);
        return id;
    }

    /// <summary>Removes the image at the end (an image the workspace built).</summary>
    public void OwnImage(string image) => _images.Add(image);

    /// <summary>Polls until <paramref name="condition"/> holds, failing if the workspace leaves <paramref name="phases"/>
    /// first (the kill would then prove nothing).</summary>
    public static async Task UntilAsync(HttpClient user, string id, Func<JsonElement, Task<bool>> condition, Func<string> context, params string[] phases)
    {
        var deadline = DateTime.UtcNow.AddMinutes(3);
        while (true)
        {
            var workspace = await user.GetFromJsonAsync<JsonElement>($"/api/workspaces/{id}");
            if (await condition(workspace))
            {
                return;
            }

            var phase = workspace.GetProperty("phase").GetString();
            Assert.True(phases.Contains(phase) && DateTime.UtcNow < deadline,
                $"{id} is {phase} before the moment to kill the host came: {workspace}\n{context()}");
            await Task.Delay(20);
        }
    }

    /// <summary>After a restart: every workspace this test made reaches the phase it wants within
    /// <see cref="Recovery"/>; the engine holds exactly one container, one network and the volumes of each workspace
    /// that is not deleted, and nothing of the deleted ones; and the owner's run slot is held exactly when a workspace
    /// wants to run (a create is refused with the 403 quota problem then, admitted otherwise).</summary>
    public async Task AssertConvergedAsync(HttpClient user, SiloProcess silo, string probeRepoUrl)
    {
        var alive = new List<string>();
        var wantRunning = 0;
        foreach (var id in _created.ToList())
        {
            var desired = (await user.GetFromJsonAsync<JsonElement>($"/api/workspaces/{id}")).GetProperty("desired").GetString()!;
            await Phases.WaitAsync(user, id, desired, Recovery, () => silo.Output);
            if (desired != "Deleted")
            {
                alive.Add(id);
                wantRunning += desired == "Running" ? 1 : 0;
            }
        }

        alive.Sort(StringComparer.Ordinal);

        // A launch removes its prepare container (and what it made) while it goes on: the engine settles a moment after Running.
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (DateTime.UtcNow < deadline
               && (!alive.SequenceEqual(await LabelledAsync(["ps", "-a"], "{{.Label \"" + RuntimeLabels.WorkspaceId + "\"}}"))
                   || !alive.SequenceEqual(await LabelledAsync(["network", "ls"], "{{.Label \"" + RuntimeLabels.WorkspaceId + "\"}}"))
                   || !alive.SequenceEqual((await LabelledAsync(["volume", "ls"], "{{.Label \"" + RuntimeLabels.WorkspaceId + "\"}}")).Distinct())))
        {
            await Task.Delay(200);
        }

        Assert.Equal(alive, await LabelledAsync(["ps", "-a"], "{{.Label \"" + RuntimeLabels.WorkspaceId + "\"}}"));
        Assert.Equal(alive, await LabelledAsync(["network", "ls"], "{{.Label \"" + RuntimeLabels.WorkspaceId + "\"}}"));
        Assert.Equal(alive, (await LabelledAsync(["volume", "ls"], "{{.Label \"" + RuntimeLabels.WorkspaceId + "\"}}")).Distinct());

        var probe = await user.PostAsJsonAsync("/api/workspaces", new { repoUrl = probeRepoUrl });
        if (wantRunning == 1)
        {
            Assert.True(probe.StatusCode == HttpStatusCode.Forbidden, $"the slot of the running workspace was lost: {(int)probe.StatusCode}");
            return;
        }

        Assert.True(probe.StatusCode == HttpStatusCode.Created, $"a slot is held by no workspace that wants to run: {await probe.Content.ReadAsStringAsync()}");
        var probeId = (await probe.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!;
        _created.Add(probeId);
        Assert.Equal(HttpStatusCode.Accepted, (await user.DeleteAsync($"/api/workspaces/{probeId}")).StatusCode);
        await Phases.WaitAsync(user, probeId, "Deleted", TimeSpan.FromSeconds(90), () => silo.Output);
    }

    /// <summary>Deletes the workspace and checks that nothing of it is left on the engine.</summary>
    public async Task DeleteAsync(HttpClient user, string id, SiloProcess silo)
    {
        Assert.Equal(HttpStatusCode.Accepted, (await user.DeleteAsync($"/api/workspaces/{id}")).StatusCode);
        await Phases.WaitAsync(user, id, "Deleted", TimeSpan.FromSeconds(90), () => silo.Output);
        Assert.DoesNotContain(id, await LabelledAsync(["ps", "-a"], "{{.Label \"" + RuntimeLabels.WorkspaceId + "\"}}"));
        var volumes = await DockerCli.RunAsync("volume", "ls", "-q", "--filter", $"label={RuntimeLabels.WorkspaceId}={id}");
        Assert.Equal(string.Empty, volumes.Trim());
    }

    /// <summary>The workspace ids on the engine's labelled objects of one kind that belong to this test's workspaces
    /// (their clone helpers included), sorted.</summary>
    public async Task<List<string>> LabelledAsync(string[] list, string format)
    {
        var listed = await DockerCli.RunAsync([.. list, "--format", format, "--filter", $"label={RuntimeLabels.WorkspaceId}"]);
        return [.. listed.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Where(w => _created.Any(id => w == id || w == id + "-prepare"))
            .Order(StringComparer.Ordinal)];
    }

    public async ValueTask DisposeAsync()
    {
        await EngineLeftovers.RemoveAsync(_created);

        foreach (var image in _images)
        {
            await DockerCli.TryRunAsync("rmi", "-f", image);
        }

        Directory.Delete(_dataDir, recursive: true);
        Directory.Delete(RepoRoot, recursive: true);
    }
}
