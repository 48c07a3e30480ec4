using Docker.DotNet.Models;

namespace CloudDevEnv.Runtime.Docker.Tests;

/// <summary>The port members devcontainer.json support needs: what an image says about itself, and a workspace's own
/// named volume (from devcontainer.json "mounts") scoped, labelled and removed with the workspace.</summary>
[Collection(DockerCollection.Name)]
public sealed class ImageInfoAndVolumeMountTests(DockerFixture fx)
{
    [Fact]
    public async Task InspectImage_returns_the_user_and_labels_or_null_when_absent()
    {
        var info = await fx.Runtime.InspectImageAsync(WorkspaceImages.WorkspaceImage, default);
        Assert.NotNull(info);
        Assert.Equal(WorkspaceImages.WorkspaceImage, info.Image);
        Assert.Contains("devcontainer.metadata", info.Labels.Keys);
        Assert.Null(await fx.Runtime.InspectImageAsync("clouddevenv-tests/no-such-image:0", default));
    }

    [Fact]
    public async Task A_volume_mount_is_scoped_to_the_workspace_labelled_and_removed_with_it()
    {
        var id = fx.NewWorkspaceId("volmount");
        try
        {
            await fx.Runtime.CreateAsync(fx.Spec(id, mounts: [new InstanceMount("cache", "/cache", ReadOnly: false, InstanceMountKind.Volume)]), default);

            var container = await fx.Engine.Containers.InspectContainerAsync("cde-" + id);
            var mount = Assert.Single(container.Mounts, m => m.Destination == "/cache");
            Assert.Equal($"cde-{id}-mount-cache", mount.Name);
            var volume = await fx.Engine.Volumes.InspectAsync(mount.Name!);
            Assert.Equal(id, volume.Labels[RuntimeLabels.WorkspaceId]);

            await Assert.ThrowsAsync<WorkspaceRuntimeException>(() => fx.Runtime.CreateAsync(
                fx.Spec(fx.NewWorkspaceId("volbad"), mounts: [new InstanceMount("../etc", "/x", ReadOnly: false, InstanceMountKind.Volume)]), default));
        }
        finally
        {
            await fx.Runtime.DeleteAsync(id, default);
        }

        var left = await fx.Engine.Volumes.ListAsync(new VolumesListParameters
        {
            Filters = new Dictionary<string, IDictionary<string, bool>> { ["label"] = new Dictionary<string, bool> { [$"{RuntimeLabels.WorkspaceId}={id}"] = true } },
        });
        Assert.Empty(left.Volumes ?? []);
    }
}
