using System.ComponentModel.DataAnnotations;

namespace CloudDevEnv.Grains.Workspaces;

/// <summary>Platform-wide workspace policy, bound from the <c>Workspaces</c> configuration section.</summary>
public sealed class WorkspaceOptions : IValidatableObject
{
    public const string SectionName = "Workspaces";

    /// <summary>Running workspaces one owner may have at once (Codespaces allows 10).</summary>
    [Range(1, 10_000)]
    public int MaxRunningPerOwner { get; set; } = 10;

    /// <summary>The image used when neither the request, a prebuild nor the repository names one.</summary>
    [Required]
    public string FallbackImage { get; set; } = "clouddevenv/workspace:1";

    /// <summary>Images a workspace may run besides the platform's own and its owner's builds: exact references
    /// (<c>node:20</c>) or prefixes ending in '/' or '*' (<c>mcr.microsoft.com/devcontainers/</c>). Empty: any image,
    /// except another user's build, which is never allowed. Applies to the request's <c>image</c> and to devcontainer.json's.</summary>
    public List<string> AllowedImages { get; set; } = [];

    /// <summary>Folders under which <c>file://</c> repositories are allowed, from <c>CDE_LOCAL_REPO_ROOTS</c>.</summary>
    public List<string> LocalRepoRoots { get; set; } = [];

    /// <summary>The port code-server listens on inside the workspace, on loopback only: the workspace's gateway is
    /// the one way to it. Not 8080 or another port a user's own server is likely to want.</summary>
    [Range(1, 65535)]
    public int IdePort { get; set; } = 13337;

    /// <summary>The port the workspace gateway listens on inside the workspace: the only one the proxy reaches.
    /// Above Linux's ephemeral range (32768–60999), so that no outgoing connection of the workspace ever holds it.</summary>
    [Range(1, 65535)]
    public int GatewayPort { get; set; } = 61100;

    /// <summary>The IDE's start command inside the workspace; <c>{port}</c> and <c>{folder}</c> are filled in. On loopback,
    /// with code-server's own port proxy (<c>/proxy/&lt;port&gt;/</c>) off: ports are reached on their own hosts, where
    /// their visibility applies. No password: the gateway's secret and the proxy's cookie are the locks.</summary>
    [Required]
    public string IdeCommand { get; set; } =
        "/opt/clouddevenv/ide/bin/code-server --auth none --disable-proxy --disable-telemetry --disable-update-check --disable-workspace-trust --bind-addr 127.0.0.1:{port} {folder}";

    public double DefaultCpus { get; set; } = 2;

    public long DefaultMemoryBytes { get; set; } = 4L * 1024 * 1024 * 1024;

    [Range(typeof(TimeSpan), "00:01:00", "7.00:00:00")]
    public TimeSpan DefaultIdleTimeout { get; set; } = TimeSpan.FromMinutes(30);

    [Range(typeof(TimeSpan), "00:01:00", "30.00:00:00")]
    public TimeSpan MaxLifetime { get; set; } = TimeSpan.FromHours(12);

    /// <summary>How long before an idle stop the workspace's events warn of it (and again at each shorter lead): any
    /// activity postpones the stop. Unset: 5 minutes and 1 minute (configured values replace these rather than add to
    /// them, which is why the default lives in <see cref="IdleWarningLeads"/>). Empty: no warnings.</summary>
    public List<TimeSpan>? IdleWarnings { get; set; }

    public IReadOnlyList<TimeSpan> IdleWarningLeads => IdleWarnings ?? [TimeSpan.FromMinutes(5), TimeSpan.FromMinutes(1)];

    /// <summary>How long a stopped workspace is kept before it is deleted (unless pinned); zero keeps it forever.</summary>
    [Range(typeof(TimeSpan), "00:00:00", "3650.00:00:00")]
    public TimeSpan StoppedRetention { get; set; } = TimeSpan.FromDays(30);

    /// <summary>How long before that deletion the events warn of it.</summary>
    [Range(typeof(TimeSpan), "00:00:00", "365.00:00:00")]
    public TimeSpan RetentionWarning { get; set; } = TimeSpan.FromDays(1);

    /// <summary>How often a stopped workspace looks at its retention while active (a durable reminder, at least a
    /// minute apart, looks while it is not).</summary>
    [Range(typeof(TimeSpan), "00:00:00.050", "1.00:00:00")]
    public TimeSpan RetentionCheckInterval { get; set; } = TimeSpan.FromHours(1);

    /// <summary>A workspace whose container or IDE dies this many times within <see cref="InterruptionWindow"/> is not
    /// started again by itself: it fails, saying why, instead of spinning.</summary>
    [Range(1, 100)]
    public int MaxInterruptions { get; set; } = 3;

    [Range(typeof(TimeSpan), "00:00:01", "1.00:00:00")]
    public TimeSpan InterruptionWindow { get; set; } = TimeSpan.FromHours(1);

    /// <summary>How often a running workspace checks that its container is alive and whether it is idle.</summary>
    [Range(typeof(TimeSpan), "00:00:00.050", "01:00:00")]
    public TimeSpan HealthCheckInterval { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>How often a running workspace's folder is snapshotted, checked on the health-check path; zero turns the
    /// periodic snapshots off (the one on stop still happens).</summary>
    [Range(typeof(TimeSpan), "00:00:00", "7.00:00:00")]
    public TimeSpan SnapshotInterval { get; set; } = TimeSpan.FromMinutes(30);

    /// <summary>The largest snapshot of one workspace (its archive); a bigger one fails with an event and is not kept,
    /// while the files stay in the workspace's volume.</summary>
    [Range(1024, long.MaxValue)]
    public long SnapshotMaxBytes { get; set; } = 10L * 1024 * 1024 * 1024;

    /// <summary>What snapshots leave out of each home folder (paths relative to <c>/home/&lt;user&gt;</c>): caches that are
    /// large and rebuilt by the tools. Unset: <see cref="DefaultSnapshotHomeExcludes"/>; empty: keep everything.</summary>
    public List<string>? SnapshotHomeExcludes { get; set; }

    public static IReadOnlyList<string> DefaultSnapshotHomeExcludes { get; } =
        [".cache", ".npm/_cacache", ".nuget/packages", ".cargo/registry", "go/pkg/mod", ".m2/repository", ".gradle/caches", ".local/share/code-server/CachedExtensionVSIXs"];

    public IReadOnlyList<string> EffectiveSnapshotHomeExcludes => SnapshotHomeExcludes ?? DefaultSnapshotHomeExcludes;

    /// <summary>First retry delay of a failed step; doubles up to <see cref="MaxRetryDelay"/>.</summary>
    [Range(typeof(TimeSpan), "00:00:00.010", "01:00:00")]
    public TimeSpan RetryDelay { get; set; } = TimeSpan.FromSeconds(1);

    [Range(typeof(TimeSpan), "00:00:00.010", "01:00:00")]
    public TimeSpan MaxRetryDelay { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>Failed attempts at one step before the workspace is Failed.</summary>
    [Range(1, 100)]
    public int MaxAttempts { get; set; } = 6;

    /// <summary>How long the IDE may take to answer HTTP after it was started.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "01:00:00")]
    public TimeSpan IdeStartTimeout { get; set; } = TimeSpan.FromMinutes(2);

    [Range(typeof(TimeSpan), "00:00:00", "00:10:00")]
    public TimeSpan StopGracePeriod { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Period of the durable reminder that re-activates a workspace after a silo loss or a restart (minimum
    /// 1 minute, Orleans' floor). Only workspaces on their way somewhere hold one, so a short period costs little and
    /// bounds how long a workspace caught mid-build by a crash waits to go on.</summary>
    [Range(typeof(TimeSpan), "00:01:00", "1.00:00:00")]
    public TimeSpan ReminderPeriod { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>Observers that do not renew their subscription within this time are dropped.</summary>
    [Range(typeof(TimeSpan), "00:00:10", "01:00:00")]
    public TimeSpan ObserverExpiry { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>How long each phase on the way to Running or Stopped may last before the workspace fails (its container
    /// cleaned up, its slot freed): a hook that never ends must not hold a workspace and its quota forever.</summary>
    public PhaseDeadlines Deadlines { get; set; } = new();

    // Data annotations do not look inside nested objects: the deadlines are checked here so that a bad one stops start-up.
    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        List<ValidationResult> results = [];
        Validator.TryValidateObject(Deadlines, new ValidationContext(Deadlines), results, validateAllProperties: true);
        var all = results.Select(r => new ValidationResult($"Workspaces:Deadlines: {r.ErrorMessage}", [.. r.MemberNames.Select(m => $"{nameof(Deadlines)}:{m}")])).ToList();
        if (EffectiveSnapshotHomeExcludes.Any(e => string.IsNullOrWhiteSpace(e) || e.StartsWith('/') || e.Split('/').Contains("..")))
        {
            all.Add(new ValidationResult("Workspaces:SnapshotHomeExcludes must be paths relative to a home folder (e.g. .cache), without '..'.", [nameof(SnapshotHomeExcludes)]));
        }

        if (IdleWarningLeads.Any(w => w <= TimeSpan.Zero))
        {
            all.Add(new ValidationResult("Workspaces:IdleWarnings must be positive times before the idle stop (e.g. 00:05:00).", [nameof(IdleWarnings)]));
        }

        return all;
    }

    /// <summary>How many events a workspace keeps for its status and for late subscribers.</summary>
    [Range(10, 10_000)]
    public int RecentEventCount { get; set; } = 200;

    /// <summary>How many lines of build, clone and hook output a workspace keeps in memory (they are not persisted).</summary>
    [Range(10, 100_000)]
    public int LogLineCount { get; set; } = 1_000;
}
