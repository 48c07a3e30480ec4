using CloudDevEnv.DevContainers.Reading;

namespace CloudDevEnv.DevContainers;

/// <summary>Finds a repository's devcontainer.json and resolves it into a <see cref="DevContainerConfig"/>.
/// The configuration is treated as untrusted input: paths may not leave the repository, and settings that
/// would weaken isolation (privileged mode, host namespaces, host devices, bind mounts of host paths,
/// dangerous capabilities, disabled seccomp/AppArmor) are refused with a
/// <see cref="DevContainerConfigException"/> naming the setting.</summary>
public static class DevContainerConfigLoader
{
    /// <summary>Larger files are refused; real configurations are a few kilobytes.</summary>
    public const long MaxConfigFileBytes = 1024 * 1024;

    private const string FileName = "devcontainer.json";
    private const string FolderName = ".devcontainer";

    /// <summary>Finds and resolves the repository's configuration.</summary>
    /// <param name="configurationName">A sub-folder name to pick <c>.devcontainer/&lt;name&gt;/devcontainer.json</c>;
    /// null searches in the usual order.</param>
    /// <returns>Null when the repository has no devcontainer.json.</returns>
    /// <exception cref="DevContainerConfigException">The configuration is malformed or refused, or the named one does not exist.</exception>
    /// <exception cref="DirectoryNotFoundException"><paramref name="repositoryFolder"/> does not exist.</exception>
    public static DevContainerConfig? Load(string repositoryFolder, LocalContext context, string? configurationName = null)
    {
        var location = Locate(repositoryFolder, configurationName);
        return location is null ? null : Load(location, context);
    }

    /// <summary>The configuration at <paramref name="relativePath"/>, one of the places the spec searches
    /// (<c>.devcontainer/devcontainer.json</c>, <c>.devcontainer.json</c>, <c>.devcontainer/&lt;name&gt;/devcontainer.json</c>),
    /// chosen by the user instead of the search.</summary>
    /// <exception cref="DevContainerConfigException">The path is none of those places, or there is no file there.</exception>
    public static DevContainerConfigLocation LocatePath(string repositoryFolder, string relativePath)
    {
        ArgumentNullException.ThrowIfNull(relativePath);
        var parts = relativePath.Split('/');
        if (parts is [FolderName, _, FileName] && parts[1] is not ("." or ".."))
        {
            return Locate(repositoryFolder, parts[1])!;
        }

        var placement = parts switch
        {
            [FolderName, FileName] => DevContainerConfigPlacement.DevContainerFolder,
            ["." + FileName] => DevContainerConfigPlacement.RepositoryRoot,
            _ => throw new DevContainerConfigException(relativePath,
                "a configuration is at .devcontainer/devcontainer.json, .devcontainer.json or .devcontainer/<name>/devcontainer.json", displayPath: relativePath),
        };
        var found = Locate(repositoryFolder);
        var repository = Path.GetFullPath(repositoryFolder).TrimEnd(Path.DirectorySeparatorChar);
        var file = Path.Combine(repository, relativePath);
        if (!File.Exists(file))
        {
            throw new DevContainerConfigException(file, "the repository has no such file", displayPath: relativePath);
        }

        var location = new DevContainerConfigLocation(repository, file, placement, null, found?.AvailableNames ?? []);
        return PathGuard.IsInside(file, repository)
            ? location
            : throw new DevContainerConfigException(file, "the file is a link to a place outside the repository", displayPath: relativePath);
    }

    /// <summary>Finds the configuration without reading it. Searched in order:
    /// <c>.devcontainer/devcontainer.json</c>, <c>.devcontainer.json</c>, then
    /// <c>.devcontainer/&lt;name&gt;/devcontainer.json</c> taking the first name in ordinal order
    /// (the others are listed in <see cref="DevContainerConfigLocation.AvailableNames"/>).</summary>
    /// <returns>Null when there is none (and no name was asked for).</returns>
    /// <exception cref="DevContainerConfigException">The named configuration does not exist, or the file is a
    /// link that leads outside the repository.</exception>
    public static DevContainerConfigLocation? Locate(string repositoryFolder, string? configurationName = null)
    {
        ArgumentNullException.ThrowIfNull(repositoryFolder);
        var repository = Path.GetFullPath(repositoryFolder);
        if (repository.Length > 1)
        {
            repository = repository.TrimEnd(Path.DirectorySeparatorChar);
        }
        if (!Directory.Exists(repository))
        {
            throw new DirectoryNotFoundException($"The repository folder '{repository}' does not exist.");
        }
        var folder = Path.Combine(repository, FolderName);
        var names = NamedConfigurations(folder);

        DevContainerConfigLocation? location;
        if (configurationName is not null)
        {
            if (!names.Contains(configurationName, StringComparer.Ordinal))
            {
                var available = names.Count == 0 ? "there are none" : "available: " + string.Join(", ", names);
                throw new DevContainerConfigException(folder,
                    $"there is no configuration named '{configurationName}' (.devcontainer/<name>/devcontainer.json; {available})",
                    displayPath: FolderName);
            }
            location = new DevContainerConfigLocation(repository, Path.Combine(folder, configurationName, FileName),
                DevContainerConfigPlacement.NamedFolder, configurationName, names);
        }
        else if (File.Exists(Path.Combine(folder, FileName)))
        {
            location = new DevContainerConfigLocation(repository, Path.Combine(folder, FileName),
                DevContainerConfigPlacement.DevContainerFolder, null, names);
        }
        else if (File.Exists(Path.Combine(repository, "." + FileName)))
        {
            location = new DevContainerConfigLocation(repository, Path.Combine(repository, "." + FileName),
                DevContainerConfigPlacement.RepositoryRoot, null, names);
        }
        else if (names.Count > 0)
        {
            location = new DevContainerConfigLocation(repository, Path.Combine(folder, names[0], FileName),
                DevContainerConfigPlacement.NamedFolder, names[0], names);
        }
        else
        {
            return null;
        }

        if (!PathGuard.IsInside(location.ConfigFilePath, repository))
        {
            throw new DevContainerConfigException(location.ConfigFilePath,
                "the file is a link to a place outside the repository", displayPath: location.RelativePath);
        }
        return location;
    }

    /// <summary>Reads and resolves the configuration at <paramref name="location"/>.</summary>
    /// <exception cref="DevContainerConfigException">The configuration is malformed or refused.</exception>
    public static DevContainerConfig Load(DevContainerConfigLocation location, LocalContext context)
    {
        ArgumentNullException.ThrowIfNull(location);
        ArgumentNullException.ThrowIfNull(context);
        var file = new FileInfo(location.ConfigFilePath);
        if (file.Length > MaxConfigFileBytes)
        {
            throw new DevContainerConfigException(location.ConfigFilePath,
                $"the file is larger than {MaxConfigFileBytes / 1024} KiB", displayPath: location.RelativePath);
        }
        return Parse(File.ReadAllText(location.ConfigFilePath), location, context);
    }

    /// <summary>Resolves configuration text as if read from <paramref name="location"/> (whose folder
    /// relative paths such as the Dockerfile are resolved against and checked in).</summary>
    /// <exception cref="DevContainerConfigException">The configuration is malformed or refused.</exception>
    public static DevContainerConfig Parse(string text, DevContainerConfigLocation location, LocalContext context)
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentNullException.ThrowIfNull(location);
        ArgumentNullException.ThrowIfNull(context);
        return DevContainerConfigReader.Read(text, location, context);
    }

    private static IReadOnlyList<string> NamedConfigurations(string folder)
    {
        if (!Directory.Exists(folder))
        {
            return [];
        }
        return Directory.EnumerateDirectories(folder)
            .Where(d => File.Exists(Path.Combine(d, FileName)))
            .Select(d => Path.GetFileName(d))
            .Order(StringComparer.Ordinal)
            .ToArray();
    }
}
