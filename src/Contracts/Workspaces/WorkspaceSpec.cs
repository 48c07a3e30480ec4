namespace CloudDevEnv.Contracts.Workspaces;

/// <summary>What a workspace should be: fixed when it is created, but for its idle timeout and display name
/// (<see cref="IWorkspaceGrain.UpdateAsync"/>).</summary>
/// <param name="RepoUrl">The Git repository to clone inside the workspace.</param>
/// <param name="Ref">Branch or tag to check out; null means the repository's default branch.</param>
/// <param name="Owner">The user who owns the workspace and alone may reach it.</param>
/// <param name="Image">A prebuilt image asked for in the request; null lets the platform resolve one.</param>
/// <param name="Resources">Null in a request takes the platform's defaults; always set once created.</param>
/// <param name="IdleTimeout">Null in a request takes the platform's default; always set once created.</param>
/// <param name="DisplayName">What its owner calls it; null shows the repository.</param>
/// <param name="DevContainerPath">The devcontainer.json to use, relative to the repository (one of the spec's places:
/// <c>.devcontainer/devcontainer.json</c>, <c>.devcontainer.json</c>, <c>.devcontainer/&lt;name&gt;/devcontainer.json</c>);
/// null searches them in order.</param>
/// <param name="Environment">Environment variables the owner asked for, set for the hooks, the IDE and its terminals.</param>
/// <param name="SecretNames">The names of the workspace's secrets, set like <paramref name="Environment"/>; the values
/// are given to <see cref="IWorkspaceGrain.CreateAsync"/> apart, kept sealed by the grain and never shown again.</param>
[GenerateSerializer, Immutable, Alias("cde.WorkspaceSpec")]
public sealed record WorkspaceSpec(
    string RepoUrl,
    string? Ref,
    string Owner,
    string? Image,
    ResourceLimits? Resources,
    TimeSpan? IdleTimeout,
    string? DisplayName = null,
    string? DevContainerPath = null,
    IReadOnlyDictionary<string, string>? Environment = null,
    IReadOnlyList<string>? SecretNames = null);

/// <summary>What an update changes; a null member stays as it is, an empty display name clears it.</summary>
[GenerateSerializer, Immutable, Alias("cde.WorkspaceChange")]
public sealed record WorkspaceChange(TimeSpan? IdleTimeout, string? DisplayName);

/// <summary>CPU and memory granted to the workspace's container or pod.</summary>
[GenerateSerializer, Immutable, Alias("cde.ResourceLimits")]
public sealed record ResourceLimits(double Cpus, long MemoryBytes);
