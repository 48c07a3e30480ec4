using System.Text.Json;

namespace CloudDevEnv.DevContainers;

/// <summary>How to build the image from a Dockerfile (<c>build.*</c>, or the legacy top-level
/// <c>dockerFile</c> and <c>context</c>).</summary>
/// <param name="Dockerfile">As written (after variable substitution), relative to the devcontainer.json folder.</param>
/// <param name="DockerfilePath">Full host path of the Dockerfile; always inside the repository.</param>
/// <param name="Context">As written, or null when not given.</param>
/// <param name="ContextPath">Full host path of the build context; always inside the repository. Without
/// <c>context</c> it is the Dockerfile's folder, as in the reference CLI (getDockerContextPath); that is the
/// devcontainer.json folder unless the Dockerfile lives elsewhere.</param>
/// <param name="AdditionalProperties">Other <c>build</c> properties (e.g. <c>options</c>), kept and not applied.</param>
public sealed record DevContainerBuild(
    string Dockerfile,
    string DockerfilePath,
    string? Context,
    string ContextPath,
    IReadOnlyDictionary<string, string> Args,
    string? Target,
    IReadOnlyList<string> CacheFrom,
    IReadOnlyDictionary<string, JsonElement> AdditionalProperties)
{
    /// <summary>The Dockerfile relative to <see cref="ContextPath"/>, '/'-separated, as builders want it.</summary>
    public string DockerfileInContext => Path.GetRelativePath(ContextPath, DockerfilePath).Replace('\\', '/');
}
