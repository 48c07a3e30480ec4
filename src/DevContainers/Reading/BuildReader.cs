using System.Text.Json;
using CloudDevEnv.DevContainers.Jsonc;

namespace CloudDevEnv.DevContainers.Reading;

/// <summary>Reads <c>build</c> (or the legacy top-level <c>dockerFile</c> and <c>context</c>).</summary>
internal static class BuildReader
{
    public static DevContainerBuild? Read(JsoncObject root, DevContainerConfigLocation location)
    {
        var buildObject = Values.OptionalObject(root, "build", "build");
        JsoncNode dockerfileNode;
        string? context;
        // As the CLI: a legacy top-level dockerFile wins, and then only the top-level context counts.
        var legacy = Values.Get(root, "dockerFile");
        if (legacy is not null)
        {
            dockerfileNode = legacy;
            context = Values.OptionalString(root, "context", "context");
        }
        else if (buildObject is not null && Values.Get(buildObject, "dockerfile") is { } dockerfile)
        {
            dockerfileNode = dockerfile;
            context = Values.OptionalString(buildObject, "context", "build.context");
        }
        else
        {
            return null;
        }
        var dockerfileName = legacy is null ? "build.dockerfile" : "dockerFile";
        var dockerfileText = Values.String(dockerfileNode, dockerfileName);
        if (dockerfileText.Length == 0)
        {
            throw Values.Fail(dockerfileNode, $"'{dockerfileName}' must not be empty");
        }
        var dockerfilePath = ResolveInRepository(dockerfileNode, dockerfileText, dockerfileName, location);
        if (!File.Exists(dockerfilePath))
        {
            throw Values.Fail(dockerfileNode,
                $"'{dockerfileName}' names '{dockerfileText}', which is not a file in the repository ({Relative(location, dockerfilePath)})");
        }
        string contextPath;
        if (string.IsNullOrEmpty(context))
        {
            contextPath = Path.GetDirectoryName(dockerfilePath)!;
        }
        else
        {
            var contextNode = legacy is null ? Values.Get(buildObject!, "context")! : Values.Get(root, "context")!;
            contextPath = ResolveInRepository(contextNode, context, legacy is null ? "build.context" : "context", location);
            if (!Directory.Exists(contextPath))
            {
                throw Values.Fail(contextNode, $"the build context '{context}' is not a folder in the repository ({Relative(location, contextPath)})");
            }
        }

        var args = new Dictionary<string, string>(StringComparer.Ordinal);
        string? target = null;
        IReadOnlyList<string> cacheFrom = [];
        var extra = new Dictionary<string, JsonElement>(StringComparer.Ordinal);
        if (buildObject is not null)
        {
            args = new Dictionary<string, string>(
                Values.StringMap(Values.OptionalObject(buildObject, "args", "build.args"), "build.args"), StringComparer.Ordinal);
            target = Values.OptionalString(buildObject, "target", "build.target");
            cacheFrom = Values.StringOrStrings(Values.Get(buildObject, "cacheFrom"), "build.cacheFrom");
            foreach (var property in buildObject.Properties)
            {
                if (property.Name is not ("dockerfile" or "context" or "args" or "target" or "cacheFrom"))
                {
                    extra[property.Name] = JsoncJson.ToElement(property.Value);
                }
            }
        }
        return new DevContainerBuild(dockerfileText, dockerfilePath, context, contextPath, args, target, cacheFrom, extra);

        static string Relative(DevContainerConfigLocation location, string path) =>
            Path.GetRelativePath(location.RepositoryFolder, path).Replace('\\', '/');
    }

    // Relative to the devcontainer.json folder, as the spec says; never outside the repository, so that a
    // build cannot send the server's files to the engine as its context.
    private static string ResolveInRepository(JsoncNode node, string relative, string displayName, DevContainerConfigLocation location)
    {
        var full = Path.GetFullPath(relative, location.ConfigFolder);
        if (!PathGuard.IsInside(full, location.RepositoryFolder))
        {
            throw Values.Fail(node, $"'{displayName}' ('{relative}') points outside the repository");
        }
        return full;
    }
}
