using CloudDevEnv.Grains.Snapshots;
using Docker.DotNet.Models;
using Microsoft.Extensions.DependencyInjection;

namespace CloudDevEnv.Workspaces.Docker.Tests;

/// <summary>A workspace whose container and volumes were removed behind the platform's back comes back from the snapshot
/// taken when it stopped: uncommitted work restored, no clone, postStart run again and the creation hooks not.</summary>
[Collection(WorkspaceClusterCollection.Name)]
public sealed class WorkspaceSnapshotTests(WorkspaceClusterFixture fixture)
{
    private readonly WorkspaceProbe _probe = new(fixture);

    [Fact]
    public async Task Removed_container_and_volumes_come_back_from_the_snapshot_taken_on_stop()
    {
        var repository = fixture.NewRepository("snap");
        repository.Write("README.md", "# test\n").Write(".devcontainer/devcontainer.json", """
            {
              "onCreateCommand": "echo on-create >> /tmp/cde-on-create",
              "postStartCommand": "echo started >> .cde-post-start",
            }
            """);
        var head = repository.Commit("main");
        var folder = "/workspaces/" + Path.GetFileName(repository.Path);
        var id = fixture.NewId("snap");
        var grain = fixture.Client.GetGrain<IWorkspaceGrain>(id);
        await grain.CreateAsync(new WorkspaceSpec(repository.Url, null, "wdt-owner", null, null, null));
        await _probe.PhaseAsync(grain, WorkspacePhase.Running, seconds: 150);
        await _probe.ShAsync(id, $"echo keep-me > {folder}/uncommitted.txt", "vscode");
        await _probe.ShAsync(id, "echo 'make test' >> ~/.bash_history && git config --global user.name Ada && mkdir -p ~/.cache/pip && echo big > ~/.cache/pip/wheel && ln -s .bash_history ~/history-link", "vscode");

        await grain.StopAsync("tester");
        var stopped = await _probe.PhaseAsync(grain, WorkspacePhase.Stopped);
        Assert.True(stopped.RecentEvents.Any(e => e.Kind == WorkspaceEventKind.Snapshot && e.Message.Contains("(on stop)")),
            string.Join("\n", stopped.RecentEvents.Where(e => e.Kind is WorkspaceEventKind.Error or WorkspaceEventKind.Snapshot).Select(e => e.Message)));

        // docker rm -f, and the workspace's volumes with it: nothing of the workspace is left on this engine.
        await fixture.Engine.Containers.RemoveContainerAsync("cde-" + id, new ContainerRemoveParameters { Force = true, RemoveVolumes = true });
        var volumes = await fixture.Engine.Volumes.ListAsync(new VolumesListParameters
        {
            Filters = new Dictionary<string, IDictionary<string, bool>> { ["label"] = new Dictionary<string, bool> { [$"{RuntimeLabels.WorkspaceId}={id}"] = true } },
        });
        foreach (var volume in volumes.Volumes ?? [])
        {
            await fixture.Engine.Volumes.RemoveAsync(volume.Name, force: true);
        }

        Assert.Equal(0, await _probe.VolumeCountAsync(id));

        await grain.StartAsync("tester");
        var running = await _probe.PhaseAsync(grain, WorkspacePhase.Running, seconds: 120);

        Assert.Contains(running.RecentEvents, e => e.Kind == WorkspaceEventKind.Snapshot && e.Message.StartsWith("Restored /workspaces and /home", StringComparison.Ordinal));
        Assert.DoesNotContain(running.RecentEvents.SkipWhile(e => e.Kind != WorkspaceEventKind.Snapshot || !e.Message.StartsWith("Restored", StringComparison.Ordinal)),
            e => e.Kind == WorkspaceEventKind.Log && e.Message.StartsWith("Cloning", StringComparison.Ordinal));
        Assert.Equal("keep-me", await _probe.ShAsync(id, $"cat {folder}/uncommitted.txt", "vscode"));
        // The home folder came back too (less its caches), owned by its user, links as links.
        Assert.Contains("make test", await _probe.ShAsync(id, "cat ~/.bash_history", "vscode"));
        Assert.Equal("Ada", await _probe.ShAsync(id, "git config --global user.name", "vscode"));
        Assert.Equal("vscode", await _probe.ShAsync(id, "stat -c %U /home/vscode/.gitconfig"));
        Assert.Equal(".bash_history", await _probe.ShAsync(id, "readlink /home/vscode/history-link"));
        Assert.NotEqual(0, (await _probe.TryShAsync(id, "test -e /home/vscode/.cache/pip/wheel")).ExitCode);
        Assert.Equal(head, await _probe.ShAsync(id, $"git -C {folder} rev-parse HEAD", "vscode"));
        Assert.Equal("vscode", await _probe.ShAsync(id, $"stat -c %U {folder}/uncommitted.txt"));
        Assert.Equal("started\nstarted", await _probe.ShAsync(id, $"cat {folder}/.cde-post-start"));
        Assert.NotEqual(0, (await _probe.TryShAsync(id, "test -e /tmp/cde-on-create")).ExitCode);
        Assert.True(await _probe.IdeAnswersAsync(grain), "code-server does not answer after the restore");

        await grain.DeleteAsync("tester");
        await _probe.PhaseAsync(grain, WorkspacePhase.Deleted);
        Assert.Equal(0, await _probe.VolumeCountAsync(id));
        Assert.Null(await fixture.SiloServices.GetRequiredService<ISnapshotStore>().FindLatestAsync(id, CancellationToken.None));
    }

    [Fact]
    public async Task A_snapshot_taken_on_request_is_restored_over_later_changes_with_the_files_owner_kept()
    {
        var repository = fixture.NewRepository("restore");
        repository.Write("README.md", "# test\n");
        var head = repository.Commit("main");
        var folder = "/workspaces/" + Path.GetFileName(repository.Path);
        var id = fixture.NewId("restore");
        var grain = fixture.Client.GetGrain<IWorkspaceGrain>(id);
        await grain.CreateAsync(new WorkspaceSpec(repository.Url, null, "wdt-owner", null, null, null));
        await _probe.PhaseAsync(grain, WorkspacePhase.Running, seconds: 150);
        await _probe.ShAsync(id, $"echo good > {folder}/notes.txt", "vscode");

        await grain.SnapshotAsync("wdt-owner");
        for (var i = 0; i < 300 && (await grain.ListSnapshotsAsync()).IsEmpty; i++)
        {
            await Task.Delay(100);
        }

        var good = Assert.Single(await grain.ListSnapshotsAsync());
        await _probe.ShAsync(id, $"echo broken > {folder}/notes.txt && rm {folder}/README.md && echo stray > {folder}/stray.txt", "vscode");
        await grain.StopAsync("wdt-owner");
        await _probe.PhaseAsync(grain, WorkspacePhase.Stopped);

        await grain.RestoreAsync(good.Id, "wdt-owner");
        var running = await _probe.PhaseAsync(grain, WorkspacePhase.Running, seconds: 120);
        Assert.Contains(running.RecentEvents, e => e.Kind == WorkspaceEventKind.Snapshot && e.Message.Contains($"from the snapshot {good.Id}", StringComparison.Ordinal));
        Assert.Equal("good", await _probe.ShAsync(id, $"cat {folder}/notes.txt", "vscode"));
        Assert.NotEqual(0, (await _probe.TryShAsync(id, $"test -e {folder}/stray.txt")).ExitCode);
        Assert.Equal("?? notes.txt", await _probe.ShAsync(id, $"git -C {folder} status --porcelain", "vscode"));
        Assert.Equal(head, await _probe.ShAsync(id, $"git -C {folder} rev-parse HEAD", "vscode"));
        Assert.Equal("vscode", await _probe.ShAsync(id, $"stat -c %U {folder}/notes.txt"));
        Assert.True(await _probe.IdeAnswersAsync(grain), "code-server does not answer after the restore");

        await grain.DeleteAsync("wdt-owner");
        await _probe.PhaseAsync(grain, WorkspacePhase.Deleted);
    }
}
