namespace CloudDevEnv.Grains.Workspaces;

/// <summary>What a workspace grain persists. Stored as JSON: keep member names stable,
/// add members with defaults, never reinterpret one.</summary>
[GenerateSerializer, Alias("cde.WorkspaceState.v1")]
public sealed class WorkspaceState
{
    [Id(0)] public int SchemaVersion { get; set; } = 1;

    /// <summary>Null until the workspace is created: a grain with no spec is "not found".</summary>
    [Id(1)] public WorkspaceSpec? Spec { get; set; }

    [Id(2)] public WorkspacePhase Phase { get; set; }

    [Id(3)] public DesiredState Desired { get; set; }

    [Id(4)] public string? Reason { get; set; }

    [Id(5)] public ImageResolution? Image { get; set; }

    [Id(6)] public string? Instance { get; set; }

    [Id(7)] public DateTimeOffset CreatedAt { get; set; }

    [Id(8)] public DateTimeOffset UpdatedAt { get; set; }

    [Id(9)] public DateTimeOffset? LastActivityAt { get; set; }

    /// <summary>When the workspace last reached Running: the start of its lifetime for <c>MaxLifetime</c>.</summary>
    [Id(10)] public DateTimeOffset? RunningSince { get; set; }

    [Id(11)] public List<WorkspaceEvent> Events { get; set; } = [];

    [Id(12)] public long NextSequence { get; set; } = 1;

    [Id(13)] public long Version { get; set; }

    [Id(14)] public HashSet<int> PublicPorts { get; set; } = [];

    /// <summary>What devcontainer.json asks of Creating and Initializing, resolved in Building; null until then
    /// (and in state written before it existed, where the defaults apply).</summary>
    [Id(15)] public Provisioning.WorkspacePlan? Plan { get; set; }

    /// <summary>When a periodic snapshot was last attempted, taken or not: a failing store is tried again an interval
    /// later, not at every health check. Null until the first since reaching Running.</summary>
    [Id(16)] public DateTimeOffset? SnapshotAttemptedAt { get; set; }

    /// <summary>The secret the workspace's gateway requires and only the proxy sends; made with the workspace (or on the
    /// next start of one made before gateways), kept for its life.</summary>
    [Id(17)] public string? GatewaySecret { get; set; }

    /// <summary>When the workspace entered its phase: the start of the phase's deadline. Null in state written before
    /// it existed (the deadline then counts from the activation).</summary>
    [Id(18)] public DateTimeOffset? PhaseSince { get; set; }

    /// <summary>Sequence numbers up to this one may have gone to log lines, which are not persisted: a new activation
    /// numbers its events after it, so that a client that saw a line lost in a crash never skips a later event.</summary>
    [Id(19)] public long SequenceReservedThrough { get; set; }

    /// <summary>A stop from Running owes a snapshot: set with the move to Stopping, cleared once the snapshot was tried,
    /// so that a stop cut short mid-snapshot (a crash) takes it again rather than stopping without one.</summary>
    [Id(20)] public bool SnapshotOnStop { get; set; }

    /// <summary>The workspace's secrets by name, each sealed by <see cref="Secrets.SecretSealer"/>: never a value in the clear.</summary>
    [Id(21)] public Dictionary<string, string> Secrets { get; set; } = [];

    /// <summary>Who asked for a snapshot that the next health check takes; null when none is asked for.</summary>
    [Id(22)] public string? SnapshotRequestedBy { get; set; }

    /// <summary>The snapshot the next Initializing step puts in place of the workspaces folder (a restore the owner asked
    /// for); cleared once it is there.</summary>
    [Id(23)] public string? RestoreFrom { get; set; }

    /// <summary>The shortest idle-stop warning given (5 min, then 1 min) and when: a warning older than the last activity
    /// no longer counts.</summary>
    [Id(24)] public TimeSpan? IdleWarnedLead { get; set; }

    [Id(25)] public DateTimeOffset? IdleWarnedAt { get; set; }

    /// <summary>Kept however long it stays stopped (<c>Workspaces:StoppedRetention</c> does not apply).</summary>
    [Id(26)] public bool Pinned { get; set; }

    /// <summary>When the coming deletion of the stopped workspace was announced; older than its stop: not for this stop.</summary>
    [Id(27)] public DateTimeOffset? RetentionWarnedAt { get; set; }

    /// <summary>When its container or IDE died while Running, within <c>Workspaces:InterruptionWindow</c>.</summary>
    [Id(28)] public List<DateTimeOffset> Interruptions { get; set; } = [];

    /// <summary>When the last snapshot was taken: a periodic one is taken only after activity since.</summary>
    [Id(29)] public DateTimeOffset? LastSnapshotAt { get; set; }

    /// <summary>Hooks after <c>waitFor</c> are still to run in the Running workspace (a new activation goes on with
    /// them); set when it reaches Running, cleared once they finished or failed.</summary>
    [Id(30)] public bool LaterHooksPending { get; set; }

    /// <summary>Why a hook after <c>waitFor</c> failed in this start of the workspace; the workspace stays Running.</summary>
    [Id(31)] public string? HookFailure { get; set; }
}
