namespace CloudDevEnv.Api.Workspaces;

/// <summary>The body of <c>POST /api/workspaces</c>. Unknown properties are refused, so that a typo
/// such as "repourl" is an error rather than a silently ignored field.</summary>
public sealed record CreateWorkspaceRequest(
    string? RepoUrl,
    string? Ref,
    string? Owner,
    string? Image,
    int? IdleTimeoutMinutes);
