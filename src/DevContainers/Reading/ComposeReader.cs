using CloudDevEnv.DevContainers.Compose;
using CloudDevEnv.DevContainers.Jsonc;

namespace CloudDevEnv.DevContainers.Reading;

/// <summary>Reads <c>dockerComposeFile</c> (a path or a list, relative to devcontainer.json, inside the repository),
/// <c>service</c>, <c>runServices</c> and <c>shutdownAction</c>.</summary>
internal static class ComposeReader
{
    public static DevContainerCompose? Read(JsoncObject root, DevContainerConfigLocation location)
    {
        if (Values.Get(root, "dockerComposeFile") is not { } filesNode)
        {
            return null;
        }

        var files = Values.StringOrStrings(filesNode, "dockerComposeFile");
        if (files.Count == 0)
        {
            throw Values.Fail(filesNode, "'dockerComposeFile' must name at least one compose file");
        }

        var paths = new List<string>();
        foreach (var file in files)
        {
            var full = Path.GetFullPath(file, location.ConfigFolder);
            if (!PathGuard.IsInside(full, location.RepositoryFolder))
            {
                throw Values.Fail(filesNode, $"'dockerComposeFile' ('{file}') points outside the repository");
            }

            if (!File.Exists(full))
            {
                throw Values.Fail(filesNode, $"'dockerComposeFile' names '{file}', which is not a file in the repository ({Path.GetRelativePath(location.RepositoryFolder, full).Replace('\\', '/')})");
            }

            paths.Add(full);
        }

        var serviceNode = Values.Get(root, "service");
        var service = serviceNode is null ? null : Values.String(serviceNode, "service");
        if (string.IsNullOrEmpty(service))
        {
            throw Values.Fail(serviceNode ?? filesNode, "a Docker Compose configuration must name its 'service' (the one the workspace is)");
        }

        var runServices = Values.OptionalArray(root, "runServices", "runServices") is { } list
            ? list.Items.Select((item, i) => Values.String(item, $"runServices[{i}]")).ToList()
            : null;
        var shutdown = Values.OptionalString(root, "shutdownAction", "shutdownAction") ?? "stopCompose";
        if (shutdown is not ("stopCompose" or "none"))
        {
            throw Values.Fail(Values.Get(root, "shutdownAction")!, $"'shutdownAction' of a Docker Compose configuration is \"stopCompose\" or \"none\", not \"{shutdown}\"");
        }

        return new DevContainerCompose(paths, service, runServices, shutdown);
    }
}
