namespace CloudDevEnv.Runtime;

/// <summary>A container that runs beside a workspace's own, as the other services of a Docker Compose configuration
/// do: created, started, stopped and removed with the workspace, in the workspace's network namespace (as a pod's
/// containers share theirs: each reaches the others on 127.0.0.1, and by name through the workspace's host aliases),
/// held to the same confinement (no privileges, the runtime's capability set, the workspace's limits).</summary>
/// <param name="Name">The service's name: letters, digits, '_', '.', '-'.</param>
/// <param name="Entrypoint">Replaces the image's; null keeps it.</param>
/// <param name="Command">Replaces the image's CMD; null keeps it.</param>
/// <param name="Mounts">Volumes (names the workspace's own, shared by the companions and the workspace that name
/// them) and tmpfs mounts; never a host path.</param>
/// <param name="Files">A tar unpacked at <c>/</c> in the container before its first start: repository files a
/// compose file bind-mounts (an init script), copied since the repository is not on the engine's host.</param>
/// <param name="After">Companions to start before this one.</param>
/// <param name="RestartOnFailure">Restart the process when it fails (compose's <c>restart</c>), while the workspace runs.</param>
public sealed record CompanionSpec(
    string Name,
    string Image,
    IReadOnlyList<string>? Entrypoint,
    IReadOnlyList<string>? Command,
    IReadOnlyDictionary<string, string> Environment,
    IReadOnlyList<InstanceMount> Mounts,
    string? User = null,
    string? WorkingDirectory = null,
    IReadOnlyList<string>? CapAdd = null,
    IReadOnlyList<string>? SecurityOptions = null,
    long? ShmSizeBytes = null,
    CompanionHealthcheck? Healthcheck = null,
    IReadOnlyList<string>? After = null,
    byte[]? Files = null,
    bool RestartOnFailure = false);

/// <summary>A companion's health check, run by the runtime; a workspace's start waits (bounded) until every companion
/// with one reports healthy, so the lifecycle hooks find the database up.</summary>
/// <param name="Test">As Docker takes it: <c>["CMD-SHELL", "pg_isready"]</c> or <c>["CMD", "redis-cli", "ping"]</c>.</param>
public sealed record CompanionHealthcheck(IReadOnlyList<string> Test, TimeSpan? Interval, TimeSpan? Timeout, TimeSpan? StartPeriod, int? Retries);
