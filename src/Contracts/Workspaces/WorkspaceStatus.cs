namespace CloudDevEnv.Contracts.Workspaces;

/// <summary>A snapshot of a workspace as its grain sees it.</summary>
/// <param name="Reason">Why the workspace is in its phase, e.g. the failure message or "idle for 30 min".</param>
/// <param name="Url">Where the IDE is reached through the proxy.</param>
/// <param name="Image">Null until the image has been resolved.</param>
/// <param name="Instance">The backing container or pod name, once created.</param>
/// <param name="Version">Grows with every change: lets a reader tell whether it has seen this snapshot.</param>
/// <param name="Silo">The address of the silo that holds the workspace's grain now (for operators).</param>
/// <param name="Pinned">Kept however long it stays stopped.</param>
/// <param name="DeleteAfter">For a stopped workspace that is not pinned: when it will be deleted.</param>
/// <param name="IdleStopAt">For a running workspace: when it stops unless it is used before.</param>
/// <param name="HooksRunning">Running, with lifecycle commands after <c>waitFor</c> (postCreateCommand, postStartCommand)
/// still at work: the IDE answers meanwhile.</param>
/// <param name="HookFailure">Why such a command failed in this start; the workspace stays Running.</param>
[GenerateSerializer, Immutable, Alias("cde.WorkspaceStatus")]
public sealed record WorkspaceStatus(
    string Id,
    WorkspaceSpec Spec,
    WorkspacePhase Phase,
    DesiredState Desired,
    string? Reason,
    string Url,
    ImageResolution? Image,
    string? Instance,
    DateTimeOffset CreatedAt,
    DateTimeOffset UpdatedAt,
    DateTimeOffset? LastActivityAt,
    ImmutableArray<WorkspaceEvent> RecentEvents,
    long Version,
    string? Silo = null,
    bool Pinned = false,
    DateTimeOffset? DeleteAfter = null,
    DateTimeOffset? IdleStopAt = null,
    bool HooksRunning = false,
    string? HookFailure = null);
