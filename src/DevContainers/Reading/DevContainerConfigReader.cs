using System.Text.Json;
using CloudDevEnv.DevContainers.Jsonc;
using CloudDevEnv.DevContainers.Variables;

namespace CloudDevEnv.DevContainers.Reading;

/// <summary>From text to <see cref="DevContainerConfig"/>: parse, substitute as the reference CLI does
/// (readDevContainerConfigFile in src/spec-node/configContainer.ts), then read the model.</summary>
internal static class DevContainerConfigReader
{
    // Top-level properties read into the model; the rest go to AdditionalProperties.
    private static readonly HashSet<string> ModelledProperties = new(StringComparer.Ordinal)
    {
        "name", "image", "build", "containerEnv", "remoteEnv", "containerUser", "remoteUser", "workspaceFolder",
        "workspaceMount", "forwardPorts", "portsAttributes", "otherPortsAttributes", "mounts", "hostRequirements",
        "runArgs", "init", "privileged", "capAdd", "securityOpt", "initializeCommand", "onCreateCommand",
        "updateContentCommand", "postCreateCommand", "postStartCommand", "postAttachCommand", "waitFor", "features",
        "dockerComposeFile", "service", "runServices",
    };

    /// <exception cref="DevContainerConfigException">The text is not an acceptable configuration.</exception>
    public static DevContainerConfig Read(string text, DevContainerConfigLocation location, LocalContext context)
    {
        ConfigSource source;
        try
        {
            source = Substitute(text, location, context);
        }
        catch (JsoncSyntaxException e)
        {
            throw Error(location, e.Reason, e.Position);
        }
        catch (ConfigValueException e)
        {
            throw Error(location, e.Reason, e.Position);
        }
        return ReadModel(source, source.Root);
    }

    public static DevContainerConfig ReadWithContainerEnvironment(ConfigSource source,
        IReadOnlyDictionary<string, string> containerEnvironment)
    {
        JsoncObject root;
        try
        {
            root = (JsoncObject)SubstitutionPasses.ContainerEnvironment(source.Root, containerEnvironment);
        }
        catch (ConfigValueException e)
        {
            throw Error(source.Location, e.Reason, e.Position);
        }
        return ReadModel(source, root);
    }

    private static ConfigSource Substitute(string text, DevContainerConfigLocation location, LocalContext context)
    {
        var parsed = JsoncParser.Parse(text);
        if (parsed is not JsoncObject parsedObject)
        {
            throw new ConfigValueException($"devcontainer.json must contain a JSON object ({{ ... }}), not {parsed.Kind}", parsed.Position);
        }
        var raw = LegacyProperties.Update(parsedObject);
        var localFolder = NormalizeFolder(context.LocalWorkspaceFolder ?? location.RepositoryFolder);

        // The CLI computes the container workspace folder from the raw value first, resolves that one
        // string (with itself as ${containerWorkspaceFolder}), then substitutes the whole file with it.
        var defaultFolder = PosixJoin("/workspaces", VariableSubstitution.PosixBasename(localFolder));
        var containerFolder = defaultFolder;
        switch (Values.Get(raw, "workspaceFolder"))
        {
            case JsoncString { Value.Length: > 0 } folder:
                containerFolder = ((JsoncString)SubstitutionPasses.Local(folder, context.Environment, localFolder, folder.Value)).Value;
                break;
            case JsoncString or null:
                break;
            case { } other:
                throw Values.Fail(other, $"'workspaceFolder' must be a string, not {other.Kind}");
        }
        var local = (JsoncObject)SubstitutionPasses.Local(raw, context.Environment, localFolder, containerFolder);

        var configFileLabel = context.LocalWorkspaceFolder is null
            ? location.ConfigFilePath
            : PosixJoin(localFolder, location.RelativePath);
        var id = DevContainerId.Compute(context.IdLabels ?? DevContainerId.DefaultLabels(localFolder, configFileLabel));
        var root = (JsoncObject)SubstitutionPasses.DevContainerId(local, id);
        return new ConfigSource(location, localFolder, defaultFolder, id, root, context.Policy);
    }

    private static DevContainerConfig ReadModel(ConfigSource source, JsoncObject root)
    {
        try
        {
            return ReadModelCore(source, root);
        }
        catch (ConfigValueException e)
        {
            throw Error(source.Location, e.Reason, e.Position);
        }
    }

    private static DevContainerConfig ReadModelCore(ConfigSource source, JsoncObject root)
    {
        var build = BuildReader.Read(root, source.Location);
        var additional = new Dictionary<string, JsonElement>(StringComparer.Ordinal);
        foreach (var property in root.Properties)
        {
            // A "build" without a Dockerfile is not a build (the CLI then uses "image"), so it is kept as is.
            var modelled = ModelledProperties.Contains(property.Name) && !(property.Name == "build" && build is null)
                || build is not null && IsLegacyBuildProperty(root, property.Name);
            if (!modelled)
            {
                additional[property.Name] = JsoncJson.ToElement(property.Value);
            }
        }
        var workspaceFolder = Values.OptionalString(root, "workspaceFolder", "workspaceFolder");
        var runArgs = Values.OptionalArray(root, "runArgs", "runArgs");
        var leftOut = new PolicyNotes(source.Policy);
        return new DevContainerConfig
        {
            Location = source.Location,
            LocalWorkspaceFolder = source.LocalWorkspaceFolder,
            DevContainerId = source.DevContainerId,
            Source = source,
            Name = Values.OptionalString(root, "name", "name"),
            Image = Values.OptionalString(root, "image", "image"),
            Build = build,
            ContainerEnv = Values.StringMap(Values.OptionalObject(root, "containerEnv", "containerEnv"), "containerEnv"),
            RemoteEnv = ReadRemoteEnv(root),
            ContainerUser = Values.OptionalString(root, "containerUser", "containerUser"),
            RemoteUser = Values.OptionalString(root, "remoteUser", "remoteUser"),
            // An empty workspaceFolder falls back to the default; the CLI would hand "" on.
            WorkspaceFolder = string.IsNullOrEmpty(workspaceFolder) ? source.DefaultWorkspaceFolder : workspaceFolder,
            WorkspaceMount = Values.OptionalString(root, "workspaceMount", "workspaceMount"),
            ForwardPorts = PortReader.ReadForwardPorts(root),
            PortsAttributes = PortReader.ReadPortsAttributes(root),
            OtherPortsAttributes = Values.OptionalObject(root, "otherPortsAttributes", "otherPortsAttributes") is { } other
                ? PortReader.ReadPortAttributes(other, "otherPortsAttributes")
                : null,
            Mounts = MountReader.Read(root, leftOut),
            HostRequirements = HostRequirementsReader.Read(root),
            RunArgs = runArgs?.Items.Select((item, i) => Values.String(item, $"runArgs[{i}]")).ToArray() ?? [],
            RunOptions = RunArgsParser.Parse(runArgs, root, leftOut),
            InitializeCommand = LifecycleReader.Read(root, LifecycleHook.InitializeCommand),
            OnCreateCommand = LifecycleReader.Read(root, LifecycleHook.OnCreateCommand),
            UpdateContentCommand = LifecycleReader.Read(root, LifecycleHook.UpdateContentCommand),
            PostCreateCommand = LifecycleReader.Read(root, LifecycleHook.PostCreateCommand),
            PostStartCommand = LifecycleReader.Read(root, LifecycleHook.PostStartCommand),
            PostAttachCommand = LifecycleReader.Read(root, LifecycleHook.PostAttachCommand),
            WaitFor = ReadWaitFor(root),
            Features = Values.OptionalObject(root, "features", "features") is { } features
                ? features.Properties.ToDictionary(p => p.Name, p => JsoncJson.ToElement(p.Value), StringComparer.Ordinal)
                : new Dictionary<string, JsonElement>(StringComparer.Ordinal),
            Compose = ComposeReader.Read(root, source.Location),
            AdditionalProperties = additional,
            LeftOut = leftOut.All,
        };
    }

    private static bool IsLegacyBuildProperty(JsoncObject root, string name) =>
        name == "dockerFile" || name == "context" && Values.Get(root, "dockerFile") is not null;

    private static IReadOnlyDictionary<string, string?> ReadRemoteEnv(JsoncObject root)
    {
        var map = new Dictionary<string, string?>(StringComparer.Ordinal);
        if (Values.OptionalObject(root, "remoteEnv", "remoteEnv") is { } remoteEnv)
        {
            foreach (var property in remoteEnv.Properties)
            {
                map[property.Name] = property.Value is JsoncNull ? null : Values.String(property.Value, $"remoteEnv.{property.Name}");
            }
        }
        return map;
    }

    private static LifecycleHook ReadWaitFor(JsoncObject root)
    {
        var node = Values.Get(root, "waitFor");
        if (node is null)
        {
            return LifecycleHook.UpdateContentCommand;
        }
        var text = Values.String(node, "waitFor");
        foreach (var hook in Enum.GetValues<LifecycleHook>())
        {
            if (LifecycleReader.PropertyName(hook) == text)
            {
                return hook;
            }
        }
        throw Values.Fail(node, $"'waitFor' must name a lifecycle command (e.g. \"postCreateCommand\"), not \"{text}\"");
    }

    private static DevContainerConfigException Error(DevContainerConfigLocation location, string reason, JsoncPosition? position) =>
        new(location.ConfigFilePath, reason, position?.Line, position?.Column, location.RelativePath);

    private static string NormalizeFolder(string folder)
    {
        var full = Path.GetFullPath(folder);
        return full.Length > 1 ? full.TrimEnd(Path.DirectorySeparatorChar) : full;
    }

    // Node's path.posix.join for two segments: joined with one '/', an empty segment adds nothing.
    private static string PosixJoin(string left, string right) =>
        right.Length == 0 ? left : left.TrimEnd('/') + "/" + right.TrimStart('/');
}
