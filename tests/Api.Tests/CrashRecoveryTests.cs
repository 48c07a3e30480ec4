using System.Security.Cryptography;
using CloudDevEnv.Runtime;
using CloudDevEnv.Runtime.Docker;
using CloudDevEnv.Workspaces.Docker.Tests;

namespace CloudDevEnv.Api.Tests;

/// <summary>The real host killed with SIGKILL in the middle of a step on the real engine, then started again on the same
/// data folder: the workspace goes on to where it was headed, with one container, and nothing half done is taken for done.</summary>
public sealed class CrashRecoveryTests : IAsyncLifetime
{
    private const int Parts = 48;

    private static readonly string[] Unsettled = ["Pending", "Building", "Creating", "Initializing"];

    private readonly CrashHost _host = new();

    public Task InitializeAsync() => Task.CompletedTask;

    public Task DisposeAsync() => _host.DisposeAsync().AsTask();

    [Fact]
    public async Task A_kill_9_mid_clone_ends_with_the_whole_checkout_at_its_commit_and_one_container()
    {
        // The kill comes while git, in the prepare container, is half way through the clone into the workspace's volume
        // (96 MiB: about ten seconds here), and its git may go on writing after the host is gone. The host started
        // again must clone afresh (never take the half clone, nor one the old git finishes), end with the checkout
        // whole at its commit in one container, and leave no partial clone, checkout or staging folder behind.
        var repository = TestRepository.Create(_host.RepoRoot, "big").Write("README.md", "# big\n");
        for (var i = 0; i < Parts; i++)
        {
            var part = new byte[2 * 1024 * 1024];
            RandomNumberGenerator.Fill(part);
            Directory.CreateDirectory(Path.Combine(repository.Path, $"part-{i:00}"));
            await File.WriteAllBytesAsync(Path.Combine(repository.Path, $"part-{i:00}", "data.bin"), part);
        }

        var head = repository.Commit("big");

        string id;
        await using (var first = await _host.StartAsync())
        {
            using var user = await Users.SignInAsync(first.Api, "crash");
            id = await _host.CreateAsync(user, repository.Url);
            await CrashHost.UntilAsync(user, id, async _ =>
                (await DockerCli.TryRunAsync("exec", CrashHost.Container(id) + "-prepare", "sh", "-c", "test -e /cde-workspace/.cde-checkout.partial-*/.git")).ExitCode == 0,
                () => first.Output, Unsettled);
            await first.KillAsync();
        }

        await using var second = await _host.StartAsync();
        using var again = await Users.SignInAsync(second.Api, "crash");
        await Phases.WaitAsync(again, id, "Running", CrashHost.Recovery, () => second.Output);

        Assert.Equal(0, (await DockerCli.TryRunAsync("exec", "-u", "vscode", CrashHost.Container(id), "git", "-C", "/workspaces/big", "fsck", "--full")).ExitCode);
        Assert.Equal(head, (await DockerCli.RunAsync("exec", "-u", "vscode", CrashHost.Container(id), "git", "-C", "/workspaces/big", "rev-parse", "HEAD")).Trim());
        Assert.Equal(string.Empty, (await DockerCli.RunAsync("exec", "-u", "vscode", CrashHost.Container(id), "git", "-C", "/workspaces/big", "status", "--porcelain")).Trim());
        var sizes = await DockerCli.RunAsync("exec", CrashHost.Container(id), "sh", "-c", "stat -c %s /workspaces/big/part-*/data.bin | sort -u; ls -d /workspaces/big/part-* | wc -l");
        Assert.Equal(["2097152", Parts.ToString(System.Globalization.CultureInfo.InvariantCulture)], sizes.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
        Assert.Equal("big", (await DockerCli.RunAsync("exec", CrashHost.Container(id), "ls", "-A", "/workspaces")).Trim());
        await _host.AssertConvergedAsync(again, second, repository.Url);
        await _host.DeleteAsync(again, id, second);
    }

    [Theory]
    [InlineData("onCreateCommand")] // before waitFor: the kill comes while the workspace is Initializing
    [InlineData("postCreateCommand")] // after it: the workspace is Running, the hook goes on beside the IDE
    public async Task A_kill_9_mid_hook_ends_the_leftover_hook_runs_it_again_and_keeps_one_container(string hookName)
    {
        // The first run of the hook waits; a run after it finds the marker and ends. Each run notes its shell's and its
        // background sleep's process ids, so the test can see that the first run's processes are gone afterwards.
        var hook = "echo $$ >> .hook-shells; sleep 300 & echo $! >> .hook-sleeps; "
                   + "if [ -e .hook-waited ]; then kill $!; else touch .hook-waited; wait; fi";
        var repository = TestRepository.Create(_host.RepoRoot, "hooked")
            .Write(".devcontainer/devcontainer.json", JsonSerializer.Serialize(new Dictionary<string, string> { ["image"] = WorkspaceImages.WorkspaceImage, [hookName] = hook }));
        repository.Commit("a slow hook");

        string id;
        await using (var first = await _host.StartAsync())
        {
            using var user = await Users.SignInAsync(first.Api, "crash");
            id = await _host.CreateAsync(user, repository.Url);
            await CrashHost.UntilAsync(user, id, async _ =>
                (await DockerCli.TryRunAsync("exec", CrashHost.Container(id), "test", "-s", "/workspaces/hooked/.hook-sleeps")).ExitCode == 0,
                () => first.Output, hookName == "onCreateCommand" ? Unsettled : [.. Unsettled, "Running"]);
            await first.KillAsync();
        }

        // The container goes on without the host: the first hook is still running in it.
        var firstShell = (await DockerCli.RunAsync("exec", CrashHost.Container(id), "cat", "/workspaces/hooked/.hook-shells")).Trim();
        var firstSleep = (await DockerCli.RunAsync("exec", CrashHost.Container(id), "cat", "/workspaces/hooked/.hook-sleeps")).Trim();
        Assert.Equal(0, (await DockerCli.TryRunAsync("exec", CrashHost.Container(id), "kill", "-0", firstSleep)).ExitCode);

        await using var second = await _host.StartAsync();
        using var again = await Users.SignInAsync(second.Api, "crash");
        await Phases.WaitAsync(again, id, "Running", CrashHost.Recovery, () => second.Output);
        var running = await Phases.HooksDoneAsync(again, id, CrashHost.Recovery, () => second.Output);

        Assert.Equal(2, (await DockerCli.RunAsync("exec", CrashHost.Container(id), "cat", "/workspaces/hooked/.hook-shells")).Trim().Split('\n').Length);
        Assert.NotEqual(0, (await DockerCli.TryRunAsync("exec", CrashHost.Container(id), "kill", "-0", firstShell)).ExitCode);
        Assert.NotEqual(0, (await DockerCli.TryRunAsync("exec", CrashHost.Container(id), "kill", "-0", firstSleep)).ExitCode);
        Assert.Contains(running.GetProperty("events").EnumerateArray(), e => e.GetProperty("message").GetString() == $"Running {hookName}.");

        await _host.AssertConvergedAsync(again, second, repository.Url);
        await _host.DeleteAsync(again, id, second);
    }

    [Fact]
    public async Task A_kill_9_mid_build_builds_again_and_ends_running_with_the_built_image()
    {
        // A step of its own per run, so no build cache can skip it; the slow part comes after the echo the test waits for.
        var marker = "built-" + Guid.NewGuid().ToString("N")[..12];
        var repository = TestRepository.Create(_host.RepoRoot, "built")
            .Write(".devcontainer/devcontainer.json", """{ "build": { "dockerfile": "Dockerfile" } }""")
            .Write(".devcontainer/Dockerfile", $"FROM {WorkspaceImages.WorkspaceImage}\nRUN echo {marker} && sleep 10 && echo {marker} > /tmp/cde-build-marker\n");
        repository.Commit("a slow build");

        string id;
        await using (var first = await _host.StartAsync())
        {
            using var user = await Users.SignInAsync(first.Api, "crash");
            id = await _host.CreateAsync(user, repository.Url);
            await CrashHost.UntilAsync(user, id, w => Task.FromResult(
                    w.GetProperty("phase").GetString() == "Building"
                    && w.GetProperty("events").EnumerateArray().Any(e => e.GetProperty("message").GetString()!.Contains(marker, StringComparison.Ordinal))),
                () => first.Output, "Pending", "Building");
            await first.KillAsync();
        }

        await using var second = await _host.StartAsync();
        using var again = await Users.SignInAsync(second.Api, "crash");
        var running = await Phases.WaitAsync(again, id, "Running", CrashHost.Recovery, () => second.Output);
        var image = running.GetProperty("image").GetString()!;
        _host.OwnImage(image);

        Assert.StartsWith("clouddevenv/build/", image);
        Assert.Equal(marker, (await DockerCli.RunAsync("exec", CrashHost.Container(id), "cat", "/tmp/cde-build-marker")).Trim());
        await _host.AssertConvergedAsync(again, second, repository.Url);
        await _host.DeleteAsync(again, id, second);
    }

    [Fact]
    public async Task A_kill_9_as_the_container_is_created_ends_running_with_that_one_container()
    {
        var repository = TestRepository.Create(_host.RepoRoot, "created").Write("README.md", "# created\n");
        var head = repository.Commit("first");

        // The engine's own event stream says when the container exists, and the kill is sent from the line's handler:
        // usually before the folders are handed to the user and the container started (then the restart adopts a
        // container that was never started), sometimes just after, on a busy machine. Both must converge; which one
        // happened is written to the test's output. (A never-started container's completion is proven deterministically
        // by Runtime.Docker.Tests' A_container_created_but_never_started_is_finished_before_it_is_adopted.)
        string id;
        await using (var first = await _host.StartAsync())
        {
            using var user = await Users.SignInAsync(first.Api, "crash");
            string? target = null;
            var seen = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            var watch = new System.Diagnostics.ProcessStartInfo("docker")
            {
                ArgumentList =
                {
                    "events", "--filter", "type=container", "--filter", "event=create", "--filter", $"label={RuntimeLabels.WorkspaceId}",
                    "--format", $"{{{{index .Actor.Attributes \"{RuntimeLabels.WorkspaceId}\"}}}}",
                },
            };
            await using var events = ChildProcess.Start(watch, line =>
            {
                if (line.Trim() == Volatile.Read(ref target))
                {
                    _ = first.KillAsync();
                    seen.TrySetResult();
                }
            });
            id = await _host.CreateAsync(user, repository.Url);
            Volatile.Write(ref target, id);
            await seen.Task.WaitAsync(TimeSpan.FromMinutes(2));
            await first.KillAsync();
        }

        var state = (await DockerCli.RunAsync("inspect", "-f", "{{.State.Status}}", CrashHost.Container(id))).Trim();
        Console.WriteLine($"The host was killed with the container {state} ({(state == "created" ? "before its start" : "just after its start")}).");
        Assert.Contains(state, new[] { "created", "running" });

        await using var second = await _host.StartAsync();
        using var again = await Users.SignInAsync(second.Api, "crash");
        await Phases.WaitAsync(again, id, "Running", CrashHost.Recovery, () => second.Output);

        Assert.Equal(head, (await DockerCli.RunAsync("exec", "-u", "vscode", CrashHost.Container(id), "git", "-C", "/workspaces/created", "rev-parse", "HEAD")).Trim());
        Assert.Equal("vscode", (await DockerCli.RunAsync("exec", CrashHost.Container(id), "stat", "-c", "%U", "/workspaces/created")).Trim());
        await _host.AssertConvergedAsync(again, second, repository.Url);
        await _host.DeleteAsync(again, id, second);
    }

    [Fact]
    public async Task A_kill_9_mid_snapshot_then_mid_restore_then_mid_delete_loses_no_file_and_leaves_nothing()
    {
        var repository = TestRepository.Create(_host.RepoRoot, "kept").Write("README.md", "# kept\n");
        var head = repository.Commit("first");
        const string Big = "/workspaces/kept/big.bin";

        // Stopping, with the snapshot on stop half written: the stop takes it again, whole.
        string id;
        string sum;
        await using (var first = await _host.StartAsync())
        {
            using var user = await Users.SignInAsync(first.Api, "crash");
            id = await _host.CreateAsync(user, repository.Url);
            await Phases.WaitAsync(user, id, "Running", TimeSpan.FromMinutes(2), () => first.Output);
            await DockerCli.RunAsync("exec", "-u", "vscode", CrashHost.Container(id), "sh", "-c", $"head -c 200M /dev/urandom > {Big}");
            sum = await Sha256Async(id, Big);

            Assert.Equal(HttpStatusCode.Accepted, (await user.PostAsync($"/api/workspaces/{id}/stop", null)).StatusCode);
            // Looked for without an API call between looks: on a quiet machine the 200 MB are written in a fraction of a
            // second, a window the status poll's round trips could miss.
            var deadline = DateTime.UtcNow.AddMinutes(2);
            while (SnapshotFiles(id, "*.tmp").Length == 0)
            {
                Assert.True(DateTime.UtcNow < deadline && SnapshotFiles(id, "*.tar").Length == 0, $"no snapshot was seen half written:\n{first.Output}");
                await Task.Delay(1);
            }

            await first.KillAsync();
        }

        Assert.Empty(SnapshotFiles(id, "*.tar"));

        await using (var second = await _host.StartAsync())
        {
            using var user = await Users.SignInAsync(second.Api, "crash");
            await _host.AssertConvergedAsync(user, second, repository.Url);
            Assert.Equal("Stopped", (await user.GetFromJsonAsync<JsonElement>($"/api/workspaces/{id}")).GetProperty("phase").GetString());
            Assert.Single(SnapshotFiles(id, "*.tar"));
            Assert.Empty(SnapshotFiles(id, "*.tmp"));

            // Initializing, with the snapshot half unpacked into a new container (the old one and its volumes were lost
            // behind the platform's back, as on another machine): the restore starts over.
            await DockerCli.RunAsync("rm", "-f", CrashHost.Container(id));
            foreach (var volume in (await DockerCli.RunAsync("volume", "ls", "-q", "--filter", $"label={RuntimeLabels.WorkspaceId}={id}")).Split('\n', StringSplitOptions.RemoveEmptyEntries))
            {
                await DockerCli.RunAsync("volume", "rm", volume.Trim());
            }

            Assert.Equal(HttpStatusCode.Accepted, (await user.PostAsync($"/api/workspaces/{id}/start", null)).StatusCode);
            await CrashHost.UntilAsync(user, id, async _ =>
                    (await DockerCli.TryRunAsync("exec", CrashHost.Container(id), "test", "-e", "/workspaces/.cde-restoring")).ExitCode == 0,
                () => second.Output, "Stopped", "Pending", "Creating", "Initializing");
            await second.KillAsync();
        }

        await using (var third = await _host.StartAsync())
        {
            using var user = await Users.SignInAsync(third.Api, "crash");
            await _host.AssertConvergedAsync(user, third, repository.Url);
            Assert.Equal(sum, await Sha256Async(id, Big));
            Assert.Equal(head, (await DockerCli.RunAsync("exec", "-u", "vscode", CrashHost.Container(id), "git", "-C", "/workspaces/kept", "rev-parse", "HEAD")).Trim());
            Assert.Equal("?? big.bin", (await DockerCli.RunAsync("exec", "-u", "vscode", CrashHost.Container(id), "git", "-C", "/workspaces/kept", "status", "--porcelain")).Trim());
            Assert.NotEqual(0, (await DockerCli.TryRunAsync("exec", CrashHost.Container(id), "test", "-e", "/workspaces/.cde-restoring")).ExitCode);

            // Deleting: the delete acknowledged, the host killed at once.
            Assert.Equal(HttpStatusCode.Accepted, (await user.DeleteAsync($"/api/workspaces/{id}")).StatusCode);
            await third.KillAsync();
        }

        await using var fourth = await _host.StartAsync();
        using var last = await Users.SignInAsync(fourth.Api, "crash");
        await _host.AssertConvergedAsync(last, fourth, repository.Url);
        Assert.Equal("Deleted", (await last.GetFromJsonAsync<JsonElement>($"/api/workspaces/{id}")).GetProperty("phase").GetString());
        Assert.Empty(SnapshotFiles(id, "*"));
    }

    private string[] SnapshotFiles(string id, string pattern)
    {
        var folder = Path.Combine(_host.SnapshotsDir, id);
        return Directory.Exists(folder) ? Directory.GetFiles(folder, pattern) : [];
    }

    private static async Task<string> Sha256Async(string id, string path) =>
        (await DockerCli.RunAsync("exec", CrashHost.Container(id), "sha256sum", path)).Split(' ')[0];
}
