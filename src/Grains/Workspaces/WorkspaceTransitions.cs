namespace CloudDevEnv.Grains.Workspaces;

/// <summary>The legal phase transitions of architecture.md §2. The grain moves only along these edges.</summary>
public static class WorkspaceTransitions
{
    private static readonly ImmutableDictionary<WorkspacePhase, ImmutableHashSet<WorkspacePhase>> Edges =
        new Dictionary<WorkspacePhase, WorkspacePhase[]>
        {
            [WorkspacePhase.Pending] = [WorkspacePhase.Building, WorkspacePhase.Stopping, WorkspacePhase.Deleting, WorkspacePhase.Failed],
            [WorkspacePhase.Building] = [WorkspacePhase.Creating, WorkspacePhase.Stopping, WorkspacePhase.Deleting, WorkspacePhase.Failed],
            [WorkspacePhase.Creating] = [WorkspacePhase.Initializing, WorkspacePhase.Stopping, WorkspacePhase.Deleting, WorkspacePhase.Failed],
            [WorkspacePhase.Initializing] = [WorkspacePhase.Running, WorkspacePhase.Interrupted, WorkspacePhase.Stopping, WorkspacePhase.Deleting, WorkspacePhase.Failed],
            [WorkspacePhase.Running] = [WorkspacePhase.Interrupted, WorkspacePhase.Stopping, WorkspacePhase.Deleting, WorkspacePhase.Failed],
            [WorkspacePhase.Interrupted] = [WorkspacePhase.Creating, WorkspacePhase.Stopping, WorkspacePhase.Deleting, WorkspacePhase.Failed],
            [WorkspacePhase.Stopping] = [WorkspacePhase.Stopped, WorkspacePhase.Deleting, WorkspacePhase.Failed],
            // A workspace stopped before its image was resolved starts again from Pending.
            [WorkspacePhase.Stopped] = [WorkspacePhase.Creating, WorkspacePhase.Pending, WorkspacePhase.Deleting],
            [WorkspacePhase.Deleting] = [WorkspacePhase.Deleted, WorkspacePhase.Failed],
            [WorkspacePhase.Deleted] = [],
            // Start after a failure retries from the beginning; stop and delete clean up what is left.
            [WorkspacePhase.Failed] = [WorkspacePhase.Pending, WorkspacePhase.Stopping, WorkspacePhase.Deleting],
        }.ToImmutableDictionary(p => p.Key, p => p.Value.ToImmutableHashSet());

    public static bool IsLegal(WorkspacePhase from, WorkspacePhase to) => Edges[from].Contains(to);

    public static ImmutableHashSet<WorkspacePhase> From(WorkspacePhase phase) => Edges[phase];
}
