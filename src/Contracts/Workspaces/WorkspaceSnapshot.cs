namespace CloudDevEnv.Contracts.Workspaces;

/// <summary>A kept snapshot of a workspace's <c>/workspaces</c> folder.</summary>
/// <param name="Id">The store's name for it, which a restore names.</param>
[GenerateSerializer, Immutable, Alias("cde.WorkspaceSnapshot")]
public sealed record WorkspaceSnapshot(string Id, DateTimeOffset TakenAt, long SizeBytes);
