namespace CloudDevEnv.Contracts.Workspaces;

public enum WorkspaceEventKind
{
    /// <summary>The phase changed; <see cref="WorkspaceEvent.Phase"/> is the new phase.</summary>
    Phase = 0,
    /// <summary>The owner (or a policy such as the idle reaper) asked for another desired state.</summary>
    Command = 1,
    /// <summary>A line of output from a build, the clone or a lifecycle hook.</summary>
    Log = 2,
    /// <summary>A step failed and will be retried, or the workspace failed.</summary>
    Error = 3,
    /// <summary>A snapshot of the workspace's files was taken or restored; the message gives its size.</summary>
    Snapshot = 4,
    /// <summary>Something the repository asked for was not done and the workspace goes on without it (an IDE extension
    /// that could not be fetched, a companion service that did not start).</summary>
    Warning = 5,
}

/// <summary>One thing that happened to a workspace. Sequence numbers grow by one per event.</summary>
/// <param name="Actor">Who caused it: the user id behind a command, or <see cref="WorkspaceActor.Platform"/>.
/// Null only in events recorded before actors were.</param>
[GenerateSerializer, Immutable, Alias("cde.WorkspaceEvent")]
public sealed record WorkspaceEvent(
    long Sequence,
    DateTimeOffset At,
    WorkspaceEventKind Kind,
    WorkspacePhase Phase,
    string Message,
    string? Actor = null);
