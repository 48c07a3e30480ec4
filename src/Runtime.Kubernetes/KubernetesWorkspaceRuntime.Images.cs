namespace CloudDevEnv.Runtime.Kubernetes;

// Images: a cluster's nodes pull them from a registry; this runtime builds none.
public sealed partial class KubernetesWorkspaceRuntime
{
    /// <summary>An image by reference is the kubelet's to pull when the pod starts (a pull that fails says so in the start's
    /// failure); a Dockerfile build is refused: builds on a cluster need an in-cluster builder, which is out of scope here —
    /// prebuild the image and push it to the registry (<see cref="KubernetesRuntimeOptions.ImageRegistry"/>).</summary>
    public Task<PreparedImage> PrepareImageAsync(ImageRequest request, IProgress<string> log, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (string.IsNullOrWhiteSpace(request.Image))
        {
            throw new WorkspaceRuntimeException("No image was named.", isPermanent: true);
        }

        if (request.Build is not null)
        {
            throw new WorkspaceRuntimeException(
                "This repository's devcontainer.json builds its image from a Dockerfile, and the Kubernetes runtime builds no images: " +
                "build and push it to the platform's registry (a prebuild), or name an image in devcontainer.json.",
                isPermanent: true);
        }

        var image = QualifiedImage(request.Image);
        log?.Report($"Image {image} is pulled by the node that runs the workspace.");
        return Task.FromResult(new PreparedImage(request.Image, Built: false));
    }

    /// <summary>Null: the runtime cannot read an image's configuration without pulling it (no node is at hand here), so
    /// the workspace's user comes from devcontainer.json or the platform's defaults.</summary>
    public Task<ImageInfo?> InspectImageAsync(string image, CancellationToken cancellationToken) => Task.FromResult<ImageInfo?>(null);

    // A pod's filesystem cannot be committed through the Kubernetes API (no engine is reachable): prebuilds for a
    // cluster come from the prebuild workflow (scripts/prebuild.sh) or a Docker-runtime installation's builds.
    public Task<string> SaveImageAsync(string workspaceId, ImageSave save, IProgress<string> log, CancellationToken cancellationToken) =>
        throw new WorkspaceRuntimeException(
            "The kubernetes runtime cannot build prebuilds (a pod cannot be saved as an image through the Kubernetes API); build them with scripts/prebuild.sh, or on a platform that runs the docker runtime.",
            isPermanent: true);
}
