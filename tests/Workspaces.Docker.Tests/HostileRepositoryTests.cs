using Docker.DotNet.Models;

namespace CloudDevEnv.Workspaces.Docker.Tests;

[CollectionDefinition(Name)]
public sealed class LimitedClusterCollection : ICollectionFixture<LimitedClusterFixture>
{
    public const string Name = "workspaces on docker, with small build and snapshot limits";
}

/// <summary>The workspace cluster with limits small enough to hit in a test: image builds get 256 MiB, one CPU and 60 s;
/// a snapshot may hold 8 MiB.</summary>
public sealed class LimitedClusterFixture : WorkspaceClusterFixture
{
    public const long SnapshotMaxBytes = 8 * 1024 * 1024;

    protected override IEnumerable<KeyValuePair<string, string?>> ExtraSettings =>
    [
        new("Runtime:Docker:BuildMemoryBytes", (256L * 1024 * 1024).ToString(System.Globalization.CultureInfo.InvariantCulture)),
        new("Runtime:Docker:BuildCpus", "1"),
        new("Runtime:Docker:BuildTimeout", "00:01:00"),
        new("Workspaces:SnapshotMaxBytes", SnapshotMaxBytes.ToString(System.Globalization.CultureInfo.InvariantCulture)),
    ];
}

/// <summary>Repositories written by an attacker, on the real engine: what a file:// repository brings along, a Dockerfile
/// that allocates or forks without bound, a sparse file that would make a snapshot without end.</summary>
[Collection(LimitedClusterCollection.Name)]
public sealed class HostileRepositoryTests(LimitedClusterFixture fixture)
{
    private readonly WorkspaceProbe _probe = new(fixture);

    [Fact]
    public async Task A_file_repository_reaches_the_workspace_as_its_git_clone_and_nothing_else_of_the_host_folder()
    {
        var repository = fixture.NewRepository("clone-only");
        repository.Write("README.md", "committed\n").Write(".gitignore", ".data/\n").Commit("one");
        repository.Write("untracked-secret.txt", "not committed\n").Write(".data/state.json", "{\"token\":\"host-only\"}\n");
        var folder = "/workspaces/" + Path.GetFileName(repository.Path);
        var id = fixture.NewId("clone-only");
        var grain = fixture.Client.GetGrain<IWorkspaceGrain>(id);
        await grain.CreateAsync(new WorkspaceSpec(repository.Url, null, "wdt-owner", null, null, null));
        await _probe.PhaseAsync(grain, WorkspacePhase.Running, seconds: 150);

        Assert.Equal("committed", await _probe.ShAsync(id, $"cat {folder}/README.md", "vscode"));
        Assert.Equal("absent", await _probe.ShAsync(id, $"test -e {folder}/untracked-secret.txt && echo present || echo absent"));
        Assert.Equal("absent", await _probe.ShAsync(id, $"test -e {folder}/.data && echo present || echo absent"));
        Assert.Equal("vscode", await _probe.ShAsync(id, $"stat -c %U {folder}/.git"));

        // One clone: the prepare container's, made in the workspace's volume and moved into the folder; none in the
        // workspace, none copied in, nothing of it left beside the folder.
        var events = (await grain.GetStatusAsync()).RecentEvents;
        Assert.Single(events, e => e.Kind == WorkspaceEventKind.Log && e.Message.StartsWith("Cloning into", StringComparison.Ordinal));
        Assert.Single(events, e => e.Kind == WorkspaceEventKind.Log && e.Message.StartsWith("Moved the checkout of", StringComparison.Ordinal));
        Assert.Equal(Path.GetFileName(repository.Path), await _probe.ShAsync(id, "ls -A /workspaces"));

        // Not mounted: no bind of any host folder, for the container's whole life.
        var container = await fixture.Engine.Containers.InspectContainerAsync("cde-" + id);
        Assert.DoesNotContain(container.Mounts, m => m.Type == "bind");
        Assert.DoesNotContain(container.Mounts, m => m.Source?.StartsWith(fixture.RepoRoot, StringComparison.Ordinal) == true);

        await grain.DeleteAsync("tester");
        await _probe.PhaseAsync(grain, WorkspacePhase.Deleted);
    }

    [Fact]
    public async Task A_devcontainer_folder_and_file_committed_as_links_into_the_host_are_not_read_and_the_launch_goes_on()
    {
        // Links into the silo's own files: if the control plane followed them it would read its host's secrets as
        // devcontainer.json. Only the configuration comes out of the prepare container, links left out.
        var repository = fixture.NewRepository("linked-config");
        repository.Write("README.md", "linked\n");
        File.CreateSymbolicLink(Path.Combine(repository.Path, ".devcontainer"), "/etc");
        File.CreateSymbolicLink(Path.Combine(repository.Path, ".devcontainer.json"), "/etc/hostname");
        repository.Commit("links");
        var id = fixture.NewId("linked-config");
        var grain = fixture.Client.GetGrain<IWorkspaceGrain>(id);
        await grain.CreateAsync(new WorkspaceSpec(repository.Url, null, "wdt-owner", null, null, null));
        var running = await _probe.PhaseAsync(grain, WorkspacePhase.Running, seconds: 150);

        Assert.Equal(ImageSource.Fallback, running.Image!.Source);
        Assert.Contains("the repository has no devcontainer.json", running.Image.Notes);
        Assert.Contains(running.RecentEvents, e => e.Message.StartsWith("Left out 2 symbolic link(s)", StringComparison.Ordinal));

        // The links themselves are the repository's, in its clone, where they point into the workspace's own /etc.
        var folder = "/workspaces/" + Path.GetFileName(repository.Path);
        Assert.Equal("/etc", await _probe.ShAsync(id, $"readlink {folder}/.devcontainer", "vscode"));

        await grain.DeleteAsync("tester");
        await _probe.PhaseAsync(grain, WorkspacePhase.Deleted);
    }

    [Fact]
    public async Task An_image_build_that_allocates_without_bound_is_stopped_by_its_memory_limit()
    {
        var failed = await LaunchBuildAsync("alloc-bomb", "RUN head -c 2000000000 /dev/zero | tail > /dev/null");
        Assert.Contains("BuildMemoryBytes", failed.Reason);
        Assert.Contains("137", failed.Reason);
    }

    [Fact]
    public async Task An_image_build_that_forks_without_bound_is_stopped_by_its_limits()
    {
        // The shell keeps the step open while the bomb goes off; memory, the engine's process limit or the build's time
        // ends it, whichever comes first.
        var failed = await LaunchBuildAsync("fork-bomb", "RUN bash -c 'f() { f | f & }; f; sleep 3600'");
        Assert.True(
            failed.Reason!.Contains("BuildMemoryBytes", StringComparison.Ordinal) || failed.Reason.Contains("BuildTimeout", StringComparison.Ordinal)
                || failed.Reason.Contains("Resource temporarily unavailable", StringComparison.Ordinal),
            failed.Reason);
        Assert.True(await fixture.Engine.System.PingAsync().ContinueWith(t => t.IsCompletedSuccessfully), "the engine still answers");
    }

    [Fact]
    public async Task A_sparse_file_past_the_snapshot_cap_fails_the_snapshot_with_a_clear_event_and_the_stop_keeps_the_files()
    {
        var repository = fixture.NewRepository("sparse");
        repository.Write("README.md", "x\n").Commit("one");
        var folder = "/workspaces/" + Path.GetFileName(repository.Path);
        var id = fixture.NewId("sparse");
        var grain = fixture.Client.GetGrain<IWorkspaceGrain>(id);
        await grain.CreateAsync(new WorkspaceSpec(repository.Url, null, "wdt-owner", null, null, null));
        await _probe.PhaseAsync(grain, WorkspacePhase.Running, seconds: 150);

        // A terabyte of nothing: a few blocks on disk, a terabyte in an archive.
        await _probe.ShAsync(id, $"truncate -s 1T {folder}/huge.bin && echo mine > {folder}/work.txt", "vscode");

        await grain.StopAsync("tester");
        var stopped = await _probe.PhaseAsync(grain, WorkspacePhase.Stopped, seconds: 60);
        var error = Assert.Single(stopped.RecentEvents, e => e.Kind == WorkspaceEventKind.Error && e.Message.Contains("snapshot", StringComparison.OrdinalIgnoreCase));
        Assert.Contains($"more than {LimitedClusterFixture.SnapshotMaxBytes} bytes (Workspaces:SnapshotMaxBytes)", error.Message);
        Assert.EndsWith("The files stay in the workspace's volumes.", error.Message);

        // Nothing was lost: the volume keeps the work, and starting again finds it.
        await grain.StartAsync("tester");
        await _probe.PhaseAsync(grain, WorkspacePhase.Running, seconds: 120);
        Assert.Equal("mine", await _probe.ShAsync(id, $"cat {folder}/work.txt", "vscode"));

        await grain.DeleteAsync("tester");
        await _probe.PhaseAsync(grain, WorkspacePhase.Deleted);
    }

    /// <summary>Launches a repository whose devcontainer.json builds a Dockerfile with <paramref name="hostileStep"/>;
    /// returns the failed workspace.</summary>
    private async Task<WorkspaceStatus> LaunchBuildAsync(string name, string hostileStep)
    {
        var repository = fixture.NewRepository(name);
        repository.Write(".devcontainer/devcontainer.json", """{ "build": { "dockerfile": "Dockerfile" } }""")
            .Write(".devcontainer/Dockerfile", $"FROM {WorkspaceImages.BaseImage}\n{hostileStep}\n")
            .Commit("hostile");
        var id = fixture.NewId(name);
        var grain = fixture.Client.GetGrain<IWorkspaceGrain>(id);
        await grain.CreateAsync(new WorkspaceSpec(repository.Url, null, "wdt-owner", null, null, null));
        var failed = await _probe.PhaseAsync(grain, WorkspacePhase.Failed, seconds: 180);
        Assert.StartsWith("Building image", failed.Reason);
        Assert.Null(await fixture.Runtime.InspectAsync(id, CancellationToken.None));

        await grain.DeleteAsync("tester");
        await _probe.PhaseAsync(grain, WorkspacePhase.Deleted);
        return failed;
    }
}
