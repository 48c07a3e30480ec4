namespace CloudDevEnv.Contracts.Workspaces;

/// <summary>What the owner asked for; the grain's reconcile loop drives the phase towards it.</summary>
public enum DesiredState
{
    Running = 0,
    Stopped = 1,
    Deleted = 2,
}
