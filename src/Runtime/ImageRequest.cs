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
