namespace CloudDevEnv.DevContainers.Reading;

/// <summary>Which mounts a repository's configuration may ask for. Workspaces of different users share
/// a Docker engine, so a host path must never reach a container: bind mounts are refused, and so are the
/// volume options that make a "volume" a bind in disguise (<c>volume-driver</c>, <c>volume-opt</c>).</summary>
internal static class MountPolicy
{
    private static readonly HashSet<string> AllowedOptions = new(StringComparer.Ordinal)
    {
        "consistency", "volume-nocopy", "volume-subpath", "volume-label", "tmpfs-size", "tmpfs-mode",
    };

    /// <returns>Why the mount is refused (to follow "is not allowed: "), or null when it is acceptable.</returns>
    public static string? Check(DevContainerMount mount)
    {
        if (mount.Type == DevContainerMountType.Bind)
        {
            return "it bind-mounts a host path (use a volume instead, e.g. type=volume,source=${devcontainerId}-cache,target=...)";
        }
        if (mount.Type == DevContainerMountType.Tmpfs && mount.Source is not null)
        {
            return "a tmpfs mount takes no source";
        }
        foreach (var option in mount.Options)
        {
            var key = option.Split('=', 2)[0].Trim().ToLowerInvariant();
            if (key is "volume-driver" or "volume-opt")
            {
                return $"the mount option '{key}' can bind host paths";
            }
            if (!AllowedOptions.Contains(key))
            {
                return $"the mount option '{key}' is not supported by CloudDevEnv";
            }
        }
        return null;
    }
}
