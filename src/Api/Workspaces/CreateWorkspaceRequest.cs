namespace CloudDevEnv.Api.Workspaces;

/// <summary>The body of <c>POST /api/workspaces</c>. Unknown properties are refused, so that a typo
/// such as "repourl" is an error rather than a silently ignored field. There is no owner: it is the signed-in user.</summary>
public sealed record CreateWorkspaceRequest(
    string? RepoUrl,
    string? Ref = null,
    string? Image = null,
    int? IdleTimeoutMinutes = null,
    string? Machine = null,
    string? DisplayName = null);

/// <summary>The body of <c>PATCH /api/workspaces/{id}</c>: what to change; a member left out stays as it is, an empty
/// <c>displayName</c> clears it.</summary>
public sealed record UpdateWorkspaceRequest(int? IdleTimeoutMinutes = null, string? DisplayName = null);
