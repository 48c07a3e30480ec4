using System.Security.Cryptography;
using CloudDevEnv.Runtime;
using CloudDevEnv.Runtime.Docker;
using CloudDevEnv.Workspaces.Docker.Tests;

namespace CloudDevEnv.Api.Tests;

/// <summary>The real host killed with SIGKILL in the middle of a step on the real engine, then started again on the same
/// data folder: the workspace goes on to where it was headed, with one container, and nothing half done is taken for done.</summary>
public sealed class CrashRecoveryTests : IAsyncLifetime
{
    // A restart adopts the container at once; a workspace without one waits for its reminder (Workspaces:ReminderPeriod, 1 min).
    private static readonly TimeSpan Recovery = TimeSpan.FromMinutes(2);
    private const int Parts = 48;

    private readonly string _dataDir = Directory.CreateTempSubdirectory("cde-crash-").FullName;
    private readonly string _repoRoot = Directory.CreateTempSubdirectory("cde-crash-repos-").FullName;
    private readonly int[] _ports = FreePorts.Take(4);
    private readonly List<string> _created = [];

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        // A failed test leaves its workspace's container, network and volumes behind: these, and only these, go.
        foreach (var id in _created)
        {
            foreach (var owned in new[] { id, id + "-prepare" })
            {
                var filter = $"label={RuntimeLabels.WorkspaceId}={owned}";
                foreach (var (list, remove) in new[] { (new[] { "ps", "-aq" }, new[] { "rm", "-f" }), (["network", "ls", "-q"], ["network", "rm"]), (["volume", "ls", "-q"], ["volume", "rm", "-f"]) })
                {
                    var (_, found) = await DockerCli.TryRunAsync([.. list, "--filter", filter]);
                    foreach (var name in found.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
                    {
                        await DockerCli.TryRunAsync([.. remove, name]);
                    }
                }
            }
        }

        Directory.Delete(_dataDir, recursive: true);
        Directory.Delete(_repoRoot, recursive: true);
    }

    [Fact]
    public async Task A_kill_9_mid_clone_ends_with_the_whole_checkout_at_its_commit_and_one_container()
    {
        // The kill comes once the clone has begun to arrive in the workspace. On this machine the rest of the copy outruns
        // the kill (measured: complete a moment later), so this test proves the recovery end to end (one container, the
        // checkout whole at its commit, no staging left) but not the staging itself: a clone cut short half way is
        // Grains.Tests' WorkspaceLifecycleTests.A_clone_cut_short_is_never_taken_for_a_complete_one, which fails without it.
        var repository = TestRepository.Create(_repoRoot, "big").Write("README.md", "# big\n");
        for (var i = 0; i < Parts; i++)
        {
            var part = new byte[2 * 1024 * 1024];
            RandomNumberGenerator.Fill(part);
            Directory.CreateDirectory(Path.Combine(repository.Path, $"part-{i:00}"));
            await File.WriteAllBytesAsync(Path.Combine(repository.Path, $"part-{i:00}", "data.bin"), part);
        }

        var head = repository.Commit("big");

        string id;
        await using (var first = await StartAsync())
        {
            using var user = await Users.SignInAsync(first.Api, "crash");
            id = await CreateAsync(user, repository.Url);
            await UntilAsync(user, id, async () =>
                (await DockerCli.TryRunAsync("exec", Container(id), "test", "-e", "/workspaces/.cde-clone-big/.git")).ExitCode == 0,
                () => first.Output);
            await first.KillAsync();
        }

        await using var second = await StartAsync();
        using var again = await Users.SignInAsync(second.Api, "crash");
        await Phases.WaitAsync(again, id, "Running", Recovery, () => second.Output);

        Assert.Equal(0, (await DockerCli.TryRunAsync("exec", "-u", "vscode", Container(id), "git", "-C", "/workspaces/big", "fsck", "--full")).ExitCode);
        Assert.Equal(head, (await DockerCli.RunAsync("exec", "-u", "vscode", Container(id), "git", "-C", "/workspaces/big", "rev-parse", "HEAD")).Trim());
        Assert.Equal(string.Empty, (await DockerCli.RunAsync("exec", "-u", "vscode", Container(id), "git", "-C", "/workspaces/big", "status", "--porcelain")).Trim());
        var sizes = await DockerCli.RunAsync("exec", Container(id), "sh", "-c", "stat -c %s /workspaces/big/part-*/data.bin | sort -u; ls -d /workspaces/big/part-* | wc -l");
        Assert.Equal(["2097152", Parts.ToString(System.Globalization.CultureInfo.InvariantCulture)], sizes.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
        Assert.NotEqual(0, (await DockerCli.TryRunAsync("exec", Container(id), "test", "-e", "/workspaces/.cde-clone-big")).ExitCode);
        Assert.Equal([id], await LabelledContainersAsync(id));

        await DeleteAsync(again, id, second);
    }

    [Fact]
    public async Task A_kill_9_mid_hook_ends_the_leftover_hook_runs_it_again_and_keeps_one_container()
    {
        // The first run of the hook waits; a run after it finds the marker and ends. Each run notes its shell's and its
        // background sleep's process ids, so the test can see that the first run's processes are gone afterwards.
        var hook = "echo $$ >> .hook-shells; sleep 300 & echo $! >> .hook-sleeps; "
                   + "if [ -e .hook-waited ]; then kill $!; else touch .hook-waited; wait; fi";
        var repository = TestRepository.Create(_repoRoot, "hooked")
            .Write(".devcontainer/devcontainer.json", JsonSerializer.Serialize(new { image = WorkspaceImages.WorkspaceImage, postCreateCommand = hook }));
        repository.Commit("a slow hook");

        string id;
        await using (var first = await StartAsync())
        {
            using var user = await Users.SignInAsync(first.Api, "crash");
            id = await CreateAsync(user, repository.Url);
            await UntilAsync(user, id, async () =>
                (await DockerCli.TryRunAsync("exec", Container(id), "test", "-s", "/workspaces/hooked/.hook-sleeps")).ExitCode == 0,
                () => first.Output);
            await first.KillAsync();
        }

        // The container goes on without the host: the first hook is still running in it.
        var firstShell = (await DockerCli.RunAsync("exec", Container(id), "cat", "/workspaces/hooked/.hook-shells")).Trim();
        var firstSleep = (await DockerCli.RunAsync("exec", Container(id), "cat", "/workspaces/hooked/.hook-sleeps")).Trim();
        Assert.Equal(0, (await DockerCli.TryRunAsync("exec", Container(id), "kill", "-0", firstSleep)).ExitCode);

        await using var second = await StartAsync();
        using var again = await Users.SignInAsync(second.Api, "crash");
        var running = await Phases.WaitAsync(again, id, "Running", Recovery, () => second.Output);

        Assert.Equal(2, (await DockerCli.RunAsync("exec", Container(id), "cat", "/workspaces/hooked/.hook-shells")).Trim().Split('\n').Length);
        Assert.NotEqual(0, (await DockerCli.TryRunAsync("exec", Container(id), "kill", "-0", firstShell)).ExitCode);
        Assert.NotEqual(0, (await DockerCli.TryRunAsync("exec", Container(id), "kill", "-0", firstSleep)).ExitCode);
        Assert.Equal([id], await LabelledContainersAsync(id));
        Assert.Contains(running.GetProperty("events").EnumerateArray(), e => e.GetProperty("message").GetString() == "Running postCreateCommand.");

        await DeleteAsync(again, id, second);
    }

    private Task<SiloProcess> StartAsync() =>
        SiloProcess.StartAsync(_dataDir, _ports, new Dictionary<string, string> { ["CDE_LOCAL_REPO_ROOTS"] = _repoRoot });

    private static string Container(string id) => "cde-" + id;

    private async Task<string> CreateAsync(HttpClient user, string repoUrl)
    {
        var created = await user.PostAsJsonAsync("/api/workspaces", new { repoUrl });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var id = (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!;
        _created.Add(id);
        return id;
    }

    /// <summary>Polls until <paramref name="condition"/> holds, failing if the workspace gets past Initializing first
    /// (the kill would then prove nothing).</summary>
    private static async Task UntilAsync(HttpClient user, string id, Func<Task<bool>> condition, Func<string> context)
    {
        var deadline = DateTime.UtcNow.AddMinutes(3);
        while (!await condition())
        {
            var workspace = await user.GetFromJsonAsync<JsonElement>($"/api/workspaces/{id}");
            var phase = workspace.GetProperty("phase").GetString();
            Assert.True(phase is "Pending" or "Building" or "Creating" or "Initializing" && DateTime.UtcNow < deadline,
                $"{id} is {phase} before the moment to kill the host came: {workspace}\n{context()}");
            await Task.Delay(50);
        }
    }

    /// <summary>The workspace ids on every container this engine holds for the workspace, its clone helper included.</summary>
    private static async Task<string[]> LabelledContainersAsync(string id)
    {
        var listed = await DockerCli.RunAsync(
            "ps", "-a", "--format", $"{{{{.Label \"{RuntimeLabels.WorkspaceId}\"}}}}", "--filter", $"label={RuntimeLabels.WorkspaceId}");
        return [.. listed.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Where(w => w.StartsWith(id, StringComparison.Ordinal))];
    }

    private static async Task DeleteAsync(HttpClient user, string id, SiloProcess silo)
    {
        Assert.Equal(HttpStatusCode.Accepted, (await user.DeleteAsync($"/api/workspaces/{id}")).StatusCode);
        await Phases.WaitAsync(user, id, "Deleted", TimeSpan.FromSeconds(90), () => silo.Output);
        Assert.Empty(await LabelledContainersAsync(id));
        var volumes = await DockerCli.RunAsync("volume", "ls", "-q", "--filter", $"label={RuntimeLabels.WorkspaceId}={id}");
        Assert.Equal(string.Empty, volumes.Trim());
    }
}
