namespace CloudDevEnv.Grains.Provisioning;

/// <summary>What the later steps of a launch need from the repository's devcontainer.json, resolved once in
/// Building and persisted with the workspace, so that Creating and Initializing (and every later start) do not
/// read the repository again and behave the same after a silo crash.</summary>
/// <remarks>Persisted inside <c>WorkspaceState</c> by the grain storage's JSON serializer (Newtonsoft, with type
/// names): plain settable members and List/Dictionary only; immutable collections do not round-trip there.
/// Treat instances as immutable all the same.</remarks>
[GenerateSerializer, Alias("cde.WorkspacePlan")]
public sealed record WorkspacePlan
{
    /// <summary>The devcontainer.json used, relative to the repository; null when there was none.</summary>
    [Id(0)] public string? ConfigPath { get; init; }

    /// <summary>Set on the container when it is created.</summary>
    [Id(1)] public Dictionary<string, string> ContainerEnv { get; init; } = [];

    /// <summary>Set on every exec (hooks, the IDE); may still hold <c>${containerEnv:NAME}</c>.</summary>
    [Id(2)] public Dictionary<string, string> RemoteEnv { get; init; } = [];

    /// <summary>The user the container runs as; null keeps the image's.</summary>
    [Id(3)] public string? ContainerUser { get; init; }

    /// <summary>The user the clone, the hooks and the IDE run as; null means the container's user.</summary>
    [Id(4)] public string? RemoteUser { get; init; }

    /// <summary>Where the repository is cloned and hooks run.</summary>
    [Id(5)] public string WorkspaceFolder { get; init; } = string.Empty;

    /// <summary>onCreate, updateContent, postCreate and postStart commands present, in the spec's order.</summary>
    [Id(6)] public List<PlannedHook> Hooks { get; init; } = [];

    /// <summary>Ports of the container from <c>forwardPorts</c>. Every port is reachable through the gateway whether
    /// declared or not; these are the ones the repository says matter.</summary>
    [Id(7)] public List<int> ForwardPorts { get; init; } = [];

    /// <summary>Volumes from devcontainer.json <c>mounts</c>: the workspace's own, removed with it.</summary>
    [Id(8)] public List<PlannedVolume> Volumes { get; init; } = [];

    /// <summary>The repository URL as parsed when the plan was made (a file:// URL's real path included), so that the
    /// later steps clone what was checked; null in plans made before it was kept.</summary>
    [Id(9)] public Workspaces.RepositoryUrl? Repository { get; init; }

    /// <summary>Capabilities devcontainer.json adds (runArgs <c>--cap-add</c>, <c>capAdd</c>), within the policy.</summary>
    [Id(10)] public List<string> CapAdd { get; init; } = [];

    /// <summary>Security options devcontainer.json sets beyond <c>no-new-privileges</c>, within the policy.</summary>
    [Id(11)] public List<string> SecurityOptions { get; init; } = [];

    /// <summary>runArgs <c>--shm-size</c> (browsers in tests want more than Docker's 64 MB).</summary>
    [Id(12)] public long? ShmSizeBytes { get; init; }

    /// <summary>Entrypoints of installed features (a daemon's start script), run as root at every start of the container,
    /// before the hooks.</summary>
    [Id(13)] public List<string> Entrypoints { get; init; } = [];

    /// <summary><c>customizations.vscode.settings</c> merged (the image's, the features', devcontainer.json's), as a JSON
    /// object: the IDE's machine settings.</summary>
    [Id(14)] public string IdeSettings { get; init; } = "{}";

    /// <summary><c>customizations.vscode.extensions</c> merged, as written (<c>publisher.name[@version]</c>).</summary>
    [Id(15)] public List<string> IdeExtensions { get; init; } = [];

    /// <summary>The other services of a Docker Compose configuration, run beside the workspace's container.</summary>
    [Id(16)] public List<PlannedCompanion> Companions { get; init; } = [];

    /// <summary>Names that resolve to the workspace's loopback: the companions' service names.</summary>
    [Id(17)] public List<string> HostAliases { get; init; } = [];

    /// <summary>devcontainer.json <c>waitFor</c>: the hooks up to this one run before the workspace is Running (and the IDE
    /// reachable); the later ones run after, in the background.</summary>
    [Id(18)] public DevContainers.LifecycleHook WaitFor { get; init; } = DevContainers.LifecycleHook.UpdateContentCommand;

    /// <summary>The hooks that run before the workspace is Running, and those that run after.</summary>
    public (List<PlannedHook> Before, List<PlannedHook> After) SplitHooks()
    {
        // A hook planned before hooks knew their stage runs before, as every hook did then.
        var before = Hooks.Where(h => h.Stage is not { } stage || stage <= WaitFor).ToList();
        return (before, [.. Hooks.Except(before)]);
    }

    /// <summary>No devcontainer.json: the repository goes to <c>/workspaces/&lt;name&gt;</c>; only the users the image
    /// asks for are set.</summary>
    public static WorkspacePlan Default(string workspaceFolder, string? remoteUser, string? containerUser = null) =>
        new() { WorkspaceFolder = workspaceFolder, RemoteUser = remoteUser, ContainerUser = containerUser };
}

/// <summary>A named volume of the workspace, from a devcontainer.json volume mount.</summary>
[GenerateSerializer, Alias("cde.PlannedVolume")]
public sealed record PlannedVolume
{
    /// <summary>The name within the workspace (the runtime scopes it to the workspace).</summary>
    [Id(0)] public string Name { get; init; } = string.Empty;

    [Id(1)] public string Target { get; init; } = string.Empty;

    [Id(2)] public bool ReadOnly { get; init; }

    /// <summary>A memory-backed mount (a companion's compose <c>tmpfs</c>); <see cref="Name"/> is unused.</summary>
    [Id(3)] public bool Tmpfs { get; init; }
}

/// <summary>A compose service beside the workspace, its image prepared in Building.</summary>
[GenerateSerializer, Alias("cde.PlannedCompanion")]
public sealed record PlannedCompanion
{
    [Id(0)] public string Name { get; init; } = string.Empty;

    [Id(1)] public string Image { get; init; } = string.Empty;

    [Id(2)] public List<string>? Entrypoint { get; init; }

    [Id(3)] public List<string>? Command { get; init; }

    [Id(4)] public Dictionary<string, string> Environment { get; init; } = [];

    [Id(5)] public string? User { get; init; }

    [Id(6)] public string? WorkingDirectory { get; init; }

    [Id(7)] public List<PlannedVolume> Volumes { get; init; } = [];

    [Id(8)] public List<string> CapAdd { get; init; } = [];

    [Id(9)] public List<string> SecurityOptions { get; init; } = [];

    [Id(10)] public long? ShmSizeBytes { get; init; }

    /// <summary>Docker's form: <c>["CMD-SHELL", "pg_isready"]</c>; null without a health check.</summary>
    [Id(11)] public List<string>? HealthTest { get; init; }

    [Id(12)] public TimeSpan? HealthInterval { get; init; }

    [Id(13)] public TimeSpan? HealthTimeout { get; init; }

    [Id(14)] public TimeSpan? HealthStartPeriod { get; init; }

    [Id(15)] public int? HealthRetries { get; init; }

    /// <summary>The companions it depends on, started first.</summary>
    [Id(16)] public List<string> After { get; init; } = [];

    /// <summary>A tar of the repository files the compose file bind-mounts into it, unpacked at <c>/</c>.</summary>
    [Id(17)] public byte[]? Files { get; init; }

    [Id(18)] public bool RestartOnFailure { get; init; }
}

/// <summary>One lifecycle command to run.</summary>
[GenerateSerializer, Alias("cde.PlannedHook")]
public sealed record PlannedHook
{
    /// <summary>The devcontainer.json property name, e.g. <c>postCreateCommand</c>.</summary>
    [Id(0)] public string Hook { get; init; } = string.Empty;

    /// <summary>True for the object form: the steps run at the same time.</summary>
    [Id(1)] public bool Parallel { get; init; }

    /// <summary>True for the hooks that run once per container (all but postStartCommand).</summary>
    [Id(2)] public bool FirstStartOnly { get; init; }

    [Id(3)] public List<PlannedStep> Steps { get; init; } = [];

    /// <summary>Which lifecycle command it is (a feature's hook has the stage of the command it belongs to); null in plans
    /// made before it was kept.</summary>
    [Id(4)] public DevContainers.LifecycleHook? Stage { get; init; }
}

/// <summary>One process of a lifecycle command.</summary>
[GenerateSerializer, Alias("cde.PlannedStep")]
public sealed record PlannedStep
{
    /// <summary>The key in the object form, else null.</summary>
    [Id(0)] public string? Name { get; init; }

    /// <summary>What to exec; a string command is <c>["/bin/sh", "-c", text]</c>.</summary>
    [Id(1)] public List<string> Argv { get; init; } = [];
}
