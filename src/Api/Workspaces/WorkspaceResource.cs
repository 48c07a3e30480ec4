namespace CloudDevEnv.Api.Workspaces;

/// <summary>A workspace as the REST API shows it.</summary>
/// <param name="Secrets">The names of its secrets; their values are never shown.</param>
/// <param name="Pinned">Kept however long it stays stopped (POST …/pin).</param>
/// <param name="DeleteAfter">For a stopped workspace that is not pinned: when retention deletes it.</param>
/// <param name="IdleStopAt">For a running workspace: when it stops unless it is used (or kept alive) before.</param>
/// <param name="HooksRunning">Running, with lifecycle commands after <c>waitFor</c> (postCreateCommand, postStartCommand by
/// default) still at work; the IDE answers meanwhile and their output is in the events.</param>
/// <param name="HookFailure">Why such a command failed since the workspace last started; it stays Running.</param>
/// <param name="ImageDigest">The registry digest of the image (<c>registry/name@sha256:…</c>) when it was pulled, e.g.
/// which build of a prebuild the workspace runs; null for an image built on the engine.</param>
/// <param name="Silo">For admins: the address of the silo that holds the workspace's grain.</param>
public sealed record WorkspaceResource(
    string Id,
    string Owner,
    string RepoUrl,
    string? Ref,
    string? DisplayName,
    string? DevcontainerPath,
    IReadOnlyDictionary<string, string> Environment,
    IReadOnlyList<string> Secrets,
    WorkspacePhase Phase,
    DesiredState Desired,
    string? Reason,
    string Url,
    string? Image,
    ImageSource? ImageSource,
    IReadOnlyList<string> ImageNotes,
    string? ImageDigest,
    string? Container,
    int IdleTimeoutMinutes,
    double Cpus,
    long MemoryBytes,
    DateTimeOffset CreatedAt,
    DateTimeOffset UpdatedAt,
    DateTimeOffset? LastActivityAt,
    IReadOnlyList<WorkspaceEventResource> Events,
    bool Pinned,
    DateTimeOffset? DeleteAfter,
    DateTimeOffset? IdleStopAt,
    bool HooksRunning,
    string? HookFailure,
    string? Silo = null)
{
    /// <param name="forAdmin">An admin's view, which names the silo that holds the workspace's grain.</param>
    public static WorkspaceResource From(WorkspaceStatus status, int eventCount = 20, bool forAdmin = false) => new(
        status.Id,
        status.Spec.Owner,
        status.Spec.RepoUrl,
        status.Spec.Ref,
        status.Spec.DisplayName,
        status.Spec.DevContainerPath,
        status.Spec.Environment ?? new Dictionary<string, string>(),
        status.Spec.SecretNames ?? [],
        status.Phase,
        status.Desired,
        status.Reason,
        status.Url,
        status.Image?.Image ?? status.Spec.Image,
        status.Image?.Source,
        status.Image is { } image ? [.. image.Notes] : [],
        status.Image?.Digest,
        status.Instance,
        (int)(status.Spec.IdleTimeout ?? TimeSpan.Zero).TotalMinutes,
        status.Spec.Resources?.Cpus ?? 0,
        status.Spec.Resources?.MemoryBytes ?? 0,
        status.CreatedAt,
        status.UpdatedAt,
        status.LastActivityAt,
        [.. status.RecentEvents.TakeLast(eventCount).Select(WorkspaceEventResource.From)],
        status.Pinned,
        status.DeleteAfter,
        status.IdleStopAt,
        status.HooksRunning,
        status.HookFailure,
        forAdmin ? status.Silo : null);
}

/// <summary>A kept snapshot of a workspace's files.</summary>
/// <param name="Id">What a restore names.</param>
public sealed record SnapshotResource(string Id, DateTimeOffset TakenAt, long SizeBytes);

/// <param name="Actor">Who caused the event: a user id, or "@platform" for the platform's own work.</param>
public sealed record WorkspaceEventResource(long Sequence, DateTimeOffset At, WorkspaceEventKind Kind, WorkspacePhase Phase, string Message, string? Actor)
{
    public static WorkspaceEventResource From(WorkspaceEvent e) => new(e.Sequence, e.At, e.Kind, e.Phase, e.Message, e.Actor);
}
