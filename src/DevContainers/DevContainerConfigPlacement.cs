namespace CloudDevEnv.DevContainers;

/// <summary>Where in the repository the configuration was found, in the order they are searched.</summary>
public enum DevContainerConfigPlacement
{
    /// <summary><c>.devcontainer/devcontainer.json</c></summary>
    DevContainerFolder = 0,

    /// <summary><c>.devcontainer.json</c> at the repository root.</summary>
    RepositoryRoot = 1,

    /// <summary><c>.devcontainer/&lt;name&gt;/devcontainer.json</c>, one of possibly several.</summary>
    NamedFolder = 2,
}
