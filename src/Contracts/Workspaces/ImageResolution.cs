namespace CloudDevEnv.Contracts.Workspaces;

public enum ImageSource
{
    /// <summary>The image named in the launch request.</summary>
    Request = 0,
    /// <summary>An image registered for the repository by a prebuild.</summary>
    Prebuild = 1,
    /// <summary>The repository's devcontainer.json <c>image</c>.</summary>
    DevContainerImage = 2,
    /// <summary>Built from the repository's devcontainer.json <c>build.dockerfile</c>.</summary>
    DevContainerBuild = 3,
    /// <summary>The platform's fallback image with code-server.</summary>
    Fallback = 4,
}

/// <summary>Which image a workspace runs, where it came from, and why earlier sources were passed over.</summary>
/// <param name="Digest">The registry digest of the image run (<c>registry/name@sha256:…</c>) when it came from a
/// registry, so that a user can tell which build of a prebuild they got; null for an image built here.</param>
[GenerateSerializer, Immutable, Alias("cde.ImageResolution")]
public sealed record ImageResolution(string Image, ImageSource Source, ImmutableArray<string> Notes, string? Digest = null);
