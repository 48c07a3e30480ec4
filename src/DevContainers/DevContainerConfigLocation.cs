namespace CloudDevEnv.DevContainers;

/// <summary>A devcontainer.json found in a repository.</summary>
/// <param name="RepositoryFolder">Full path of the repository folder that was searched.</param>
/// <param name="ConfigFilePath">Full path of the devcontainer.json.</param>
/// <param name="Name">The sub-folder name for <see cref="DevContainerConfigPlacement.NamedFolder"/>, else null.</param>
/// <param name="AvailableNames">Every <c>.devcontainer/&lt;name&gt;/devcontainer.json</c> in the repository,
/// sorted ordinally, so a caller can offer the others.</param>
public sealed record DevContainerConfigLocation(
    string RepositoryFolder,
    string ConfigFilePath,
    DevContainerConfigPlacement Placement,
    string? Name,
    IReadOnlyList<string> AvailableNames)
{
    /// <summary>The folder relative paths in the configuration (Dockerfile, context) start from.</summary>
    public string ConfigFolder => Path.GetDirectoryName(ConfigFilePath)!;

    /// <summary>The file's path relative to the repository, with '/' separators, for messages.</summary>
    public string RelativePath => Path.GetRelativePath(RepositoryFolder, ConfigFilePath).Replace('\\', '/');
}
