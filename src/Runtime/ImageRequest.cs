namespace CloudDevEnv.Runtime;

/// <summary>An image to make available: by reference, or built from a Dockerfile.</summary>
/// <param name="Image">The image reference to use, or the tag to give the built image.</param>
/// <param name="Build">Set when the image is built from a repository's Dockerfile.</param>
public sealed record ImageRequest(string Image, ImageBuild? Build = null);

/// <param name="ContextDirectory">A folder on the runtime's host holding the build context.</param>
/// <param name="Dockerfile">The Dockerfile's path relative to the context.</param>
public sealed record ImageBuild(
    string ContextDirectory,
    string Dockerfile,
    IReadOnlyDictionary<string, string> Args,
    string? Target);

/// <param name="Image">The reference to create instances from (an id or tag).</param>
/// <param name="Built">True when this call built it.</param>
public sealed record PreparedImage(string Image, bool Built);

/// <summary>An image to save from an instance and push (a prebuild).</summary>
/// <param name="BaseImage">The image the instance runs: the saved image keeps its configuration (environment,
/// entrypoint, user), not the instance's.</param>
/// <param name="Repository">Where to push, without a tag, e.g. <c>registry.example:5000/prebuilds/app</c>.</param>
/// <param name="Labels">Labels the saved image carries besides the base image's.</param>
public sealed record ImageSave(string BaseImage, string Repository, string Tag, IReadOnlyDictionary<string, string> Labels);
