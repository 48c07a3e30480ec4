using System.Security.Cryptography;
using System.Text;
using CloudDevEnv.Grains.Provisioning;

namespace CloudDevEnv.Grains.Workspaces;

/// <summary>Which images a workspace may run. An image built from a repository's Dockerfile is its owner's: it may hold
/// their sources and whatever their build fetched, so it is tagged under a key of the owner
/// (<c>&lt;BuildImagePrefix&gt;/&lt;owner key&gt;/&lt;content hash&gt;</c>) and no other user's workspace may name it. Beyond
/// that, <see cref="WorkspaceOptions.AllowedImages"/> (when set) lists the images an operator allows, exactly or by
/// prefix; the platform's own images are always allowed.</summary>
public static class ImagePolicy
{
    /// <summary>The tag of an image built for <paramref name="owner"/> from inputs whose hash is <paramref name="contentHash"/>.</summary>
    public static string BuildTag(ProvisioningOptions provisioning, string owner, string contentHash) =>
        $"{provisioning.BuildImagePrefix}/{OwnerKey(owner)}/{contentHash}";

    /// <returns>Null when <paramref name="owner"/> may run <paramref name="image"/>, else why not.</returns>
    public static string? Refusal(string image, string owner, WorkspaceOptions workspaces, ProvisioningOptions provisioning)
    {
        var builds = provisioning.BuildImagePrefix + "/";
        if (image.StartsWith(builds, StringComparison.Ordinal))
        {
            return image.StartsWith(builds + OwnerKey(owner) + "/", StringComparison.Ordinal)
                ? null
                : $"'{image}' was built for another user's workspace; only its owner's workspaces may run it.";
        }

        if (image == workspaces.FallbackImage || image == provisioning.PrepareImage || workspaces.AllowedImages.Count == 0)
        {
            return null;
        }

        return workspaces.AllowedImages.Any(a => Matches(a, image))
            ? null
            : $"'{image}' is not among the images this platform allows (Workspaces:AllowedImages: {string.Join(", ", workspaces.AllowedImages)}).";
    }

    /// <summary>"name:tag" exactly; "registry/path/" or "registry/path/*" as a prefix.</summary>
    private static bool Matches(string allowed, string image) =>
        allowed.EndsWith('*') ? image.StartsWith(allowed[..^1], StringComparison.Ordinal)
        : allowed.EndsWith('/') ? image.StartsWith(allowed, StringComparison.Ordinal)
        : image == allowed;

    private static string OwnerKey(string owner) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(owner)))[..16];
}
