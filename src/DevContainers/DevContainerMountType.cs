namespace CloudDevEnv.DevContainers;

public enum DevContainerMountType
{
    /// <summary>A host path. Never accepted from a repository's configuration (see <see cref="DevContainerConfigLoader"/>).</summary>
    Bind = 0,

    /// <summary>A named or anonymous Docker volume.</summary>
    Volume = 1,

    /// <summary>A memory-backed file system.</summary>
    Tmpfs = 2,
}
