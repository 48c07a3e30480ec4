namespace CloudDevEnv.Api.Workspaces;

/// <summary>The body of <c>POST /api/workspaces</c>. Unknown properties are refused, so that a typo
/// such as "repourl" is an error rather than a silently ignored field. There is no owner: it is the signed-in user.</summary>
/// <param name="DevcontainerPath">Which devcontainer.json to use, when the repository has several.</param>
/// <param name="Environment">Variables for the hooks, the IDE and its terminals; shown with the workspace.</param>
/// <param name="Secrets">Like <paramref name="Environment"/>, but stored encrypted and never shown again: the workspace
/// lists their names only.</param>
public sealed record CreateWorkspaceRequest(
    string? RepoUrl,
    string? Ref = null,
    string? Image = null,
    int? IdleTimeoutMinutes = null,
    string? Machine = null,
    string? DisplayName = null,
    string? DevcontainerPath = null,
    Dictionary<string, string>? Environment = null,
    Dictionary<string, string>? Secrets = null);

/// <summary>The body of <c>POST /api/workspaces/{id}/restore</c>: which snapshot.</summary>
public sealed record RestoreWorkspaceRequest(string? SnapshotId);

/// <summary>The body of <c>PATCH /api/workspaces/{id}</c>: what to change; a member left out stays as it is, an empty
/// <c>displayName</c> clears it.</summary>
public sealed record UpdateWorkspaceRequest(int? IdleTimeoutMinutes = null, string? DisplayName = null);
