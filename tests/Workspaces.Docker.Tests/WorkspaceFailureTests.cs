using CloudDevEnv.Contracts.Prebuilds;
using CloudDevEnv.Grains.Provisioning;
using Docker.DotNet.Models;
using Microsoft.Extensions.DependencyInjection;

namespace CloudDevEnv.Workspaces.Docker.Tests;

/// <summary>What goes wrong, on the real engine: a clone that fails, a hook that fails, a malformed
/// devcontainer.json; and what start-up reconciliation and the prebuild registry do.</summary>
[Collection(WorkspaceClusterCollection.Name)]
public sealed class WorkspaceFailureTests(WorkspaceClusterFixture fixture)
{
    private readonly WorkspaceProbe _probe = new(fixture);

    /// <summary>Launches a new repository named <paramref name="name"/> that holds this devcontainer.json, at its default branch.</summary>
    private async Task<(IWorkspaceGrain Grain, string Id)> LaunchAsync(string name, string devcontainer)
    {
        var repository = fixture.NewRepository(name);
        repository.Write(".devcontainer/devcontainer.json", devcontainer.Replace("IMAGE", WorkspaceImages.BaseImage, StringComparison.Ordinal)).Commit("one");
        var id = fixture.NewId(name);
        var grain = fixture.Client.GetGrain<IWorkspaceGrain>(id);
        await grain.CreateAsync(new WorkspaceSpec(repository.Url, null, "wdt-owner", null, null, null));
        return (grain, id);
    }

    [Fact]
    public async Task A_failed_clone_fails_with_gits_message_before_any_workspace_container_exists()
    {
        var repository = fixture.NewRepository("badref");
        repository.Write("README.md", "x\n").Commit("one");
        var id = fixture.NewId("badref");
        var grain = fixture.Client.GetGrain<IWorkspaceGrain>(id);
        await grain.CreateAsync(new WorkspaceSpec(repository.Url, "no-such-branch", "wdt-owner", null, null, null));

        var failed = await _probe.PhaseAsync(grain, WorkspacePhase.Failed);
        Assert.StartsWith("git clone failed (exit 128)", failed.Reason);
        Assert.Contains("no-such-branch", failed.Reason);
        // The ref is refused while the repository is read (in a short-lived instance, removed again), so nothing of
        // the workspace was made: no container, no volume.
        Assert.Null(await fixture.Runtime.InspectAsync(id, CancellationToken.None));
        Assert.Null(await fixture.Runtime.InspectAsync(id + "-prepare", CancellationToken.None));
        Assert.Equal(0, await _probe.VolumeCountAsync(id));

        await DeleteAsync(grain, id);
    }

    [Fact]
    public async Task A_workspaceFolder_the_image_fills_already_fails_in_words_and_the_clone_is_not_poured_over_it()
    {
        // /etc holds the image's files and no .git: the checkout must not be mixed into it, and retrying cannot help.
        var (grain, id) = await LaunchAsync("occupied", """
            {
              "image": "IMAGE",
              "workspaceFolder": "/etc",
            }
            """);

        var failed = await _probe.PhaseAsync(grain, WorkspacePhase.Failed, seconds: 150);
        Assert.Contains("The workspace folder /etc already holds files that are not a clone of the repository", failed.Reason);
        var container = await fixture.Engine.Containers.InspectContainerAsync("cde-" + id);
        Assert.NotNull(container);
        await fixture.Engine.Containers.StartContainerAsync("cde-" + id, new ContainerStartParameters());
        Assert.Equal("absent", await _probe.ShAsync(id, "test -e /etc/.git -o -e /etc/.devcontainer && echo present || echo absent"));
        Assert.Equal("absent", await _probe.ShAsync(id, "test -e /.cde-clone-etc -o -e /workspaces/.cde-checkout && echo present || echo absent"));

        await DeleteAsync(grain, id);
    }

    [Fact]
    public async Task A_failing_hook_up_to_waitFor_fails_with_its_exit_code_and_output_and_keeps_the_container_for_inspection()
    {
        var (grain, id) = await LaunchAsync("badhook", """
            {
              "image": "IMAGE",
              "onCreateCommand": "echo fine",
              "updateContentCommand": "echo first-line; echo boom-output >&2; exit 7",
              "postCreateCommand": "touch /tmp/must-not-run",
            }
            """);

        var failed = await _probe.PhaseAsync(grain, WorkspacePhase.Failed);
        Assert.StartsWith("updateContentCommand failed with exit code 7:", failed.Reason);
        Assert.Contains("boom-output", failed.Reason);
        Assert.Contains(failed.RecentEvents, e => e.Kind == WorkspaceEventKind.Log && e.Message == "[updateContentCommand] first-line");
        Assert.Equal(InstanceState.Running, (await fixture.Runtime.InspectAsync(id, CancellationToken.None))!.State);
        Assert.Equal(1, (await _probe.TryShAsync(id, "test -e /tmp/must-not-run")).ExitCode);

        await DeleteAsync(grain, id);
    }

    [Fact]
    public async Task A_failing_postCreateCommand_is_reported_and_the_workspace_stays_Running_with_its_IDE()
    {
        var (grain, id) = await LaunchAsync("latehook", """
            {
              "image": "IMAGE",
              "postCreateCommand": "echo first-line; echo boom-output >&2; exit 7",
              "postStartCommand": "touch /tmp/must-not-run",
            }
            """);

        var running = await _probe.PhaseAsync(grain, WorkspacePhase.Running, seconds: 150);
        Assert.StartsWith("postCreateCommand failed with exit code 7:", running.HookFailure);
        Assert.Contains("boom-output", running.HookFailure);
        Assert.Contains(running.RecentEvents, e => e.Kind == WorkspaceEventKind.Error && e.Message.StartsWith("postCreateCommand failed with exit code 7:", StringComparison.Ordinal));
        Assert.True(await _probe.IdeAnswersAsync(grain), "the IDE went away with the failed hook");
        Assert.Equal(1, (await _probe.TryShAsync(id, "test -e /tmp/must-not-run")).ExitCode);

        await DeleteAsync(grain, id);
    }

    [Fact]
    public async Task A_malformed_devcontainer_json_fails_with_file_line_and_column_before_any_container()
    {
        var (grain, id) = await LaunchAsync("malformed", "{\n  \"image\": \"x\"\n  \"postCreateCommand\": \"true\"\n}\n");

        var failed = await _probe.PhaseAsync(grain, WorkspacePhase.Failed);
        Assert.Matches(@"^devcontainer\.json is invalid: \.devcontainer/devcontainer\.json:3:\d+: ", failed.Reason);
        Assert.Null(await fixture.Runtime.InspectAsync(id, CancellationToken.None));

        // The clone was made in the workspace's volume before the file was read: the failed launch takes it away again.
        Assert.Equal(0, await _probe.VolumeCountAsync(id));
        Assert.Null(await fixture.Runtime.InspectAsync(id + "-prepare", CancellationToken.None));

        await DeleteAsync(grain, id);
    }

    [Fact]
    public async Task A_prebuild_registered_for_the_repository_and_ref_is_used()
    {
        var repository = fixture.NewRepository("prebuild");
        repository.Write(".devcontainer/devcontainer.json", $"{{ \"image\": \"{WorkspaceImages.BaseImage}\" }}").Commit("one");
        var registry = fixture.Client.GetGrain<IPrebuildRegistryGrain>(repository.Url);
        await registry.RegisterAsync(new PrebuildRequest("main", WorkspaceImages.WorkspaceImage, null, "wdt-ci"));
        try
        {
            var id = fixture.NewId("prebuild");
            var grain = fixture.Client.GetGrain<IWorkspaceGrain>(id);
            await grain.CreateAsync(new WorkspaceSpec(repository.Url, "main", "wdt-owner", null, null, null));
            var running = await _probe.PhaseAsync(grain, WorkspacePhase.Running, seconds: 120);

            Assert.Equal(ImageSource.Prebuild, running.Image!.Source);
            Assert.Equal(WorkspaceImages.WorkspaceImage, running.Image.Image);
            Assert.Equal(["no image was named in the request"], running.Image.Notes.ToArray());
            Assert.True(await _probe.IdeAnswersAsync(grain));
            await DeleteAsync(grain, id);
        }
        finally
        {
            await registry.UnregisterAsync("main");
        }
    }

    [Fact]
    public async Task Reconciliation_removes_containers_no_workspace_claims()
    {
        // A container with our labels but no workspace behind it, as a crash between create and record leaves.
        var orphan = fixture.NewId("orphan");
        await fixture.Runtime.CreateAsync(
            new InstanceSpec(orphan, "wdt-owner", WorkspaceImages.BaseImage, null, new Dictionary<string, string>(), null, [], new InstanceResources(0, 0)),
            CancellationToken.None);
        Assert.Equal(2, await _probe.VolumeCountAsync(orphan));

        var reconciler = fixture.SiloServices.GetRequiredService<OrphanReconciler>();
        await reconciler.Completion; // the start-up pass ran when the silo became active
        var found = await reconciler.ReconcileAsync(CancellationToken.None);

        Assert.Contains(orphan, found);
        Assert.Null(await fixture.Runtime.InspectAsync(orphan, CancellationToken.None));
        Assert.Equal(0, await _probe.VolumeCountAsync(orphan));
    }

    private async Task DeleteAsync(IWorkspaceGrain grain, string id)
    {
        await grain.DeleteAsync("tester");
        await _probe.PhaseAsync(grain, WorkspacePhase.Deleted);
        Assert.Null(await fixture.Runtime.InspectAsync(id, CancellationToken.None));
        Assert.Equal(0, await _probe.VolumeCountAsync(id));
    }
}
