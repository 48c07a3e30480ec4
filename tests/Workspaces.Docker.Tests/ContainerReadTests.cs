namespace CloudDevEnv.Workspaces.Docker.Tests;

/// <summary>devcontainer.json read through a prepare container (the path of https/ssh repositories), and what an image
/// and devcontainer.json ask beyond the basics: the image's own user from its devcontainer.metadata label, a volume
/// mount. One launch covers them, to keep the run short.</summary>
[Collection(ContainerReadClusterCollection.Name)]
public sealed class ContainerReadTests(ContainerReadClusterFixture fixture)
{
    private readonly WorkspaceProbe _probe = new(fixture);

    [Fact]
    public async Task A_dockerfile_read_in_a_prepare_container_is_built_and_the_image_metadata_user_and_a_volume_mount_apply()
    {
        var repository = fixture.NewRepository("prep");
        var name = Path.GetFileName(repository.Path);
        var folder = $"/workspaces/{name}";
        repository
            .Write("README.md", "# prepared\n")
            .Write("marker.txt", $"context-{fixture.RunId}\n")
            // No remoteUser here: the image's devcontainer.metadata label names it; its USER stays root.
            .Write(".devcontainer/devcontainer.json", """
                {
                  "build": { "dockerfile": "Dockerfile", "context": ".." },
                  "mounts": ["source=cache,target=/cache,type=volume"],
                  "postCreateCommand": "id -un > .cde-post-create",
                  "postAttachCommand": "echo never",
                }
                """)
            .Write(".devcontainer/Dockerfile", $$"""
                FROM {{WorkspaceImages.BaseImage}}
                RUN useradd --create-home --uid 1234 dev
                COPY marker.txt /etc/cde-marker
                LABEL devcontainer.metadata='[{"remoteUser":"root"},{"remoteUser":"dev"}]'
                """);
        repository.Commit("one");
        var id = fixture.NewId("prep");
        var grain = fixture.Client.GetGrain<IWorkspaceGrain>(id);
        await grain.CreateAsync(new WorkspaceSpec(repository.Url, "main", "wdt-owner", null, null, null));

        var running = await _probe.PhaseAsync(grain, WorkspacePhase.Running, seconds: 150);
        fixture.OwnImage(running.Image!.Image);
        Assert.Equal(ImageSource.DevContainerBuild, running.Image.Source);
        Assert.Contains(running.RecentEvents, e => e.Kind == WorkspaceEventKind.Log && e.Message.StartsWith("Reading devcontainer.json: cloning", StringComparison.Ordinal));
        Assert.Contains(running.Image.Notes, n => n.StartsWith("postAttachCommand is not run", StringComparison.Ordinal));

        // The context reaches beyond .devcontainer/, so the whole checkout came out for the build; still one clone.
        Assert.Single(running.RecentEvents, e => e.Kind == WorkspaceEventKind.Log && e.Message.StartsWith("Cloning into", StringComparison.Ordinal));

        // The build context ("..") came out of the prepare container; the prepare container and its volumes are gone.
        Assert.Equal($"context-{fixture.RunId}", await _probe.ShAsync(id, "cat /etc/cde-marker"));
        // (Removed while the launch goes on, so looked for until it is gone.)
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (await fixture.Runtime.InspectAsync(id + "-prepare", CancellationToken.None) is not null && DateTime.UtcNow < deadline)
        {
            await Task.Delay(100);
        }

        Assert.Null(await fixture.Runtime.InspectAsync(id + "-prepare", CancellationToken.None));
        Assert.Equal(0, await _probe.VolumeCountAsync(id + "-prepare"));

        // The clone, the hooks and the IDE run as the label's user; the container itself as the image's (root).
        Assert.Equal("dev", await _probe.ShAsync(id, $"stat -c %U {folder}/README.md"));
        Assert.Equal("dev", await _probe.ShAsync(id, $"cat {folder}/.cde-post-create"));
        Assert.True(await _probe.IdeAnswersAsync(grain), "code-server does not answer");
        Assert.Equal("dev", await _probe.ShAsync(
            id, "for p in /proc/[0-9]*; do grep -qa code-serve[r] $p/cmdline 2>/dev/null && stat -c %U $p; done | sort -u"));

        // The gateway, the workspace's lock, runs as the container itself: the IDE's user cannot stop or replace it.
        Assert.Equal("root", await _probe.ShAsync(
            id, "for p in /proc/[0-9]*; do grep -qa gateway.mj[s] $p/cmdline 2>/dev/null && stat -c %U $p; done | sort -u"));

        // The volume mount is the workspace's own: labelled with it, kept, removed with it.
        await _probe.ShAsync(id, "echo cached > /cache/file");
        Assert.Equal(3, await _probe.VolumeCountAsync(id));
        await grain.DeleteAsync("tester");
        await _probe.PhaseAsync(grain, WorkspacePhase.Deleted);
        Assert.Equal(0, await _probe.VolumeCountAsync(id));
    }
}
