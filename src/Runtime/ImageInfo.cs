namespace CloudDevEnv.Runtime;

/// <summary>What an image says about itself: enough to pick the user the workspace tools run as when
/// devcontainer.json names none.</summary>
/// <param name="Image">The reference it was inspected by.</param>
/// <param name="User">The image's configured user (Dockerfile <c>USER</c>); null when it has none (root).</param>
/// <param name="Labels">Its labels, e.g. <c>devcontainer.metadata</c>.</param>
/// <param name="Id">The engine's content id of the image (<c>sha256:…</c>), which changes with its content: what a
/// derived image's cache key is made from; null when the runtime cannot tell.</param>
/// <param name="Digest">The registry's name for this content (<c>registry/name@sha256:…</c>) when the image was pulled from
/// or pushed to a registry; null for an image only built here.</param>
public sealed record ImageInfo(string Image, string? User, IReadOnlyDictionary<string, string> Labels, string? Id = null, string? Digest = null);
