namespace CloudDevEnv.Api.Workspaces;

/// <summary>The body of <c>POST /api/workspaces</c>. Unknown properties are refused, so that a typo
/// such as "repourl" is an error rather than a silently ignored field. There is no owner: it is the signed-in user.</summary>
public sealed record CreateWorkspaceRequest(
    string? RepoUrl,
    string? Ref = null,
    string? Image = null,
    int? IdleTimeoutMinutes = null,
    string? Machine = null);
