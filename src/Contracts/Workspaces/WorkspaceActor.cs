namespace CloudDevEnv.Contracts.Workspaces;

/// <summary>Who caused a workspace event: a user id, or <see cref="Platform"/> for the platform's own work (the
/// reconcile loop, the idle reaper, the lifetime limit). No user id can start with '@' (see OwnerName).</summary>
public static class WorkspaceActor
{
    public const string Platform = "@platform";
}
