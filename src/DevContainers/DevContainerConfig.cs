using System.Text.Json;
using CloudDevEnv.DevContainers.Reading;

namespace CloudDevEnv.DevContainers;

/// <summary>A resolved devcontainer.json: local variables and <c>${devcontainerId}</c> substituted,
/// defaults applied, and everything CloudDevEnv refuses already rejected. <c>${containerEnv:NAME}</c> is
/// left in place until <see cref="WithContainerEnvironment"/> is given the running container's environment,
/// as the spec and the reference CLI do.</summary>
public sealed record DevContainerConfig
{
    /// <summary>Where the file was found.</summary>
    public required DevContainerConfigLocation Location { get; init; }

    /// <summary>What <c>${localWorkspaceFolder}</c> resolved to.</summary>
    public required string LocalWorkspaceFolder { get; init; }

    /// <summary>What <c>${devcontainerId}</c> resolved to.</summary>
    public required string DevContainerId { get; init; }

    /// <summary><c>name</c>, for display.</summary>
    public string? Name { get; init; }

    /// <summary><c>image</c>. When <see cref="Build"/> is also set, the build wins, as in the reference CLI.
    /// Both null means the configuration uses something CloudDevEnv does not run (e.g. Docker Compose).</summary>
    public string? Image { get; init; }

    /// <summary><c>build</c>, or the legacy top-level <c>dockerFile</c>/<c>context</c>.</summary>
    public DevContainerBuild? Build { get; init; }

    /// <summary><c>containerEnv</c>: set on the container when it is created.</summary>
    public IReadOnlyDictionary<string, string> ContainerEnv { get; init; } = Empty<string>();

    /// <summary><c>remoteEnv</c>: set for the processes the tool starts (hooks, terminals, the IDE); a null
    /// value unsets the variable.</summary>
    public IReadOnlyDictionary<string, string?> RemoteEnv { get; init; } = Empty<string?>();

    /// <summary><c>containerUser</c>: the user the container runs as; null keeps the image's.</summary>
    public string? ContainerUser { get; init; }

    /// <summary><c>remoteUser</c>: the user hooks and the IDE run as; null means <see cref="ContainerUser"/>.</summary>
    public string? RemoteUser { get; init; }

    /// <summary><c>workspaceFolder</c>, defaulting to <c>/workspaces/&lt;basename of the local workspace
    /// folder&gt;</c>: where the repository is placed and hooks run.</summary>
    public required string WorkspaceFolder { get; init; }

    /// <summary><c>workspaceMount</c> as written, or null. CloudDevEnv clones the repository into
    /// <see cref="WorkspaceFolder"/> instead of bind-mounting a host folder, so this is informational.</summary>
    public string? WorkspaceMount { get; init; }

    /// <summary><c>forwardPorts</c>.</summary>
    public IReadOnlyList<ForwardPort> ForwardPorts { get; init; } = [];

    /// <summary><c>portsAttributes</c>, keyed as written: a port, <c>"host:port"</c>, a range
    /// <c>"40000-55000"</c>, or a regular expression matched against the process command line.</summary>
    public IReadOnlyDictionary<string, PortAttributes> PortsAttributes { get; init; } = Empty<PortAttributes>();

    /// <summary><c>otherPortsAttributes</c>.</summary>
    public PortAttributes? OtherPortsAttributes { get; init; }

    /// <summary><c>mounts</c>, string and object forms alike. Bind mounts are refused at load.</summary>
    public IReadOnlyList<DevContainerMount> Mounts { get; init; } = [];

    /// <summary><c>hostRequirements</c>.</summary>
    public HostRequirements? HostRequirements { get; init; }

    /// <summary><c>runArgs</c> as written (after substitution).</summary>
    public IReadOnlyList<string> RunArgs { get; init; } = [];

    /// <summary>The accepted part of <c>runArgs</c>, <c>init</c>, <c>capAdd</c>, <c>securityOpt</c>, structured.</summary>
    public RunOptions RunOptions { get; init; } = RunOptions.None;

    /// <summary><c>initializeCommand</c>. Kept, never run by CloudDevEnv: it is meant for the host.</summary>
    public LifecycleCommand? InitializeCommand { get; init; }

    public LifecycleCommand? OnCreateCommand { get; init; }

    public LifecycleCommand? UpdateContentCommand { get; init; }

    public LifecycleCommand? PostCreateCommand { get; init; }

    public LifecycleCommand? PostStartCommand { get; init; }

    public LifecycleCommand? PostAttachCommand { get; init; }

    /// <summary><c>waitFor</c>: the hook after which the environment counts as ready; defaults to
    /// <see cref="LifecycleHook.UpdateContentCommand"/>.</summary>
    public LifecycleHook WaitFor { get; init; } = LifecycleHook.UpdateContentCommand;

    /// <summary><c>features</c> as written (feature id → options); <c>Features.FeatureReference</c> reads the ids.</summary>
    public IReadOnlyDictionary<string, JsonElement> Features { get; init; } = Empty<JsonElement>();

    /// <summary><c>dockerComposeFile</c>, <c>service</c>, <c>runServices</c>, <c>shutdownAction</c>; null for a single
    /// container configuration. <see cref="Compose.ComposeProject"/> reads the files.</summary>
    public Compose.DevContainerCompose? Compose { get; init; }

    /// <summary>Every other top-level property (e.g. <c>customizations</c>, which <see cref="VsCodeCustomizations"/>
    /// reads, <c>overrideCommand</c>, <c>dockerComposeFile</c>), after variable substitution.</summary>
    public IReadOnlyDictionary<string, JsonElement> AdditionalProperties { get; init; } = Empty<JsonElement>();

    /// <summary>Settings outside the platform's policy (<see cref="LocalContext.Policy"/>), left out of the model and
    /// of <see cref="RunOptions"/> and <see cref="Mounts"/>, each with why. Empty under a strict policy, which refuses
    /// them instead.</summary>
    public IReadOnlyList<LeftOutSetting> LeftOut { get; init; } = [];

    /// <summary>The substituted source the model was read from, so that a later substitution pass
    /// re-reads the whole file as the CLI does rather than patching fields one by one.</summary>
    internal ConfigSource? Source { get; init; }

    /// <summary>The lifecycle commands present, in the order the spec runs them.</summary>
    public IEnumerable<LifecycleCommand> LifecycleCommands =>
        new[] { InitializeCommand, OnCreateCommand, UpdateContentCommand, PostCreateCommand, PostStartCommand, PostAttachCommand }
            .OfType<LifecycleCommand>();

    public LifecycleCommand? GetLifecycleCommand(LifecycleHook hook) => hook switch
    {
        LifecycleHook.InitializeCommand => InitializeCommand,
        LifecycleHook.OnCreateCommand => OnCreateCommand,
        LifecycleHook.UpdateContentCommand => UpdateContentCommand,
        LifecycleHook.PostCreateCommand => PostCreateCommand,
        LifecycleHook.PostStartCommand => PostStartCommand,
        LifecycleHook.PostAttachCommand => PostAttachCommand,
        _ => throw new ArgumentOutOfRangeException(nameof(hook), hook, null),
    };

    /// <summary>Resolves <c>${containerEnv:NAME}</c> (and <c>${containerEnv:NAME:default}</c>) everywhere in
    /// the configuration from the environment of the running container, the way the reference CLI does once
    /// a container exists. Typically used for <see cref="RemoteEnv"/> (e.g. extending <c>PATH</c>).</summary>
    /// <exception cref="DevContainerConfigException">A value became unacceptable, e.g. a runArgs entry.</exception>
    public DevContainerConfig WithContainerEnvironment(IReadOnlyDictionary<string, string> containerEnvironment)
    {
        ArgumentNullException.ThrowIfNull(containerEnvironment);
        if (Source is null)
        {
            throw new InvalidOperationException("This configuration was not produced by DevContainerConfigLoader.");
        }
        return DevContainerConfigReader.ReadWithContainerEnvironment(Source, containerEnvironment);
    }

    private static IReadOnlyDictionary<string, T> Empty<T>() => new Dictionary<string, T>(StringComparer.Ordinal);
}
