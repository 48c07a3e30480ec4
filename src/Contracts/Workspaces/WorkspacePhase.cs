namespace CloudDevEnv.Contracts.Workspaces;

/// <summary>The observed lifecycle phase of a workspace. Values are persisted: never renumber.</summary>
public enum WorkspacePhase
{
    Pending = 0,
    Building = 1,
    Creating = 2,
    Initializing = 3,
    Running = 4,
    Interrupted = 5,
    Stopping = 6,
    Stopped = 7,
    Deleting = 8,
    Deleted = 9,
    Failed = 10,
}
