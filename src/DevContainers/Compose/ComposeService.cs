namespace CloudDevEnv.DevContainers.Compose;

/// <summary>One service of a compose project, as far as a workspace runs it; what the policy left out is in
/// <see cref="ComposeProject.LeftOut"/>, what is read but not applied in <see cref="ComposeProject.NotApplied"/>.</summary>
public sealed record ComposeService
{
    public required string Name { get; init; }

    public string? Image { get; init; }

    public ComposeBuild? Build { get; init; }

    /// <summary>Replaces the image's CMD; a string is split as a shell would split words (no shell runs it).</summary>
    public IReadOnlyList<string>? Command { get; init; }

    public IReadOnlyList<string>? Entrypoint { get; init; }

    /// <summary><c>env_file</c> entries first, then <c>environment</c> over them.</summary>
    public IReadOnlyDictionary<string, string> Environment { get; init; } = new Dictionary<string, string>();

    public string? User { get; init; }

    public string? WorkingDir { get; init; }

    public IReadOnlyList<ComposeMount> Mounts { get; init; } = [];

    public IReadOnlyList<ComposeDependency> DependsOn { get; init; } = [];

    public ComposeHealthcheck? Healthcheck { get; init; }

    /// <summary>Within the policy, without <c>CAP_</c>.</summary>
    public IReadOnlyList<string> CapAdd { get; init; } = [];

    /// <summary>Within the policy, beyond <c>no-new-privileges</c>.</summary>
    public IReadOnlyList<string> SecurityOptions { get; init; } = [];

    public long? ShmSizeBytes { get; init; }

    public IReadOnlyList<string> Profiles { get; init; } = [];

    /// <summary><c>restart</c>: <c>no</c>, <c>always</c>, <c>unless-stopped</c>, <c>on-failure[:n]</c>.</summary>
    public string? Restart { get; init; }

    public IReadOnlyList<string> Ports { get; init; } = [];
}

/// <param name="ContextPath">The full path of the context, inside the repository.</param>
/// <param name="DockerfileInContext">The Dockerfile relative to the context.</param>
public sealed record ComposeBuild(string ContextPath, string DockerfileInContext, IReadOnlyDictionary<string, string> Args, string? Target);

public enum ComposeMountType
{
    /// <summary>A named volume of the project (the workspace's own), or an anonymous one (no source).</summary>
    Volume = 0,

    /// <summary>A path of the repository: the platform copies it in (the repository is never on the engine's host).</summary>
    Repository = 1,

    Tmpfs = 2,

    /// <summary>The repository's own folder or one above it (<c>../..:/workspaces</c>): where a local tool would find
    /// the checkout. The platform clones the repository into the workspace instead.</summary>
    Checkout = 3,
}

/// <param name="Source">The volume's name in the project; for <see cref="ComposeMountType.Repository"/> the full path in the checkout.</param>
public sealed record ComposeMount(ComposeMountType Type, string? Source, string Target, bool ReadOnly);

/// <param name="Condition"><c>service_started</c>, <c>service_healthy</c> or <c>service_completed_successfully</c>.</param>
public sealed record ComposeDependency(string Service, string Condition);

public sealed record ComposeHealthcheck(IReadOnlyList<string> Test, TimeSpan? Interval, TimeSpan? Timeout, TimeSpan? StartPeriod, int? Retries);
