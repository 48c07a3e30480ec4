using System.Globalization;

namespace CloudDevEnv.Grains.Workspaces;

/// <summary>The step the reconcile loop takes next towards the desired state.</summary>
public enum WorkspaceStep
{
    /// <summary>Settled, or Failed while Running is desired: wait for a command.</summary>
    None,
    Delete,
    Stop,
    /// <summary>Resolve the image and the plan (Pending, Building).</summary>
    Resolve,
    Create,
    /// <summary>Clone or restore, run the hooks, start the IDE.</summary>
    Initialize,
    /// <summary>The health check of a running workspace.</summary>
    Check,
    /// <summary>Interrupted: create (or adopt) the container again.</summary>
    Restart,
    /// <summary>Stopped while Running is desired: start from the image if known, else from the start.</summary>
    StartAgain,
}

public enum RunningVerdictKind
{
    Healthy,
    /// <summary>The container or the IDE is gone: start again.</summary>
    Interrupted,
    /// <summary>Idle or alive too long: stop.</summary>
    Stop,
    /// <summary>Healthy, and the periodic snapshot is due.</summary>
    Snapshot,
    /// <summary>Healthy, and the idle stop is near: say so (<see cref="RunningVerdict.WarnLead"/>).</summary>
    WarnIdle,
}

public enum StoppedVerdictKind
{
    Keep,
    /// <summary>The deletion is near: say so once.</summary>
    Warn,
    Delete,
}

/// <param name="Why">For Warn and Delete: the words the workspace's events show.</param>
public readonly record struct StoppedVerdict(StoppedVerdictKind Kind, string? Why, DateTimeOffset? DeleteAfter);

/// <summary>What the health check found. <paramref name="IdeAnswered"/> is null when the container is not running
/// (the IDE was not asked).</summary>
public readonly record struct RunningFacts(
    RuntimeInstance? Instance,
    bool? IdeAnswered,
    int SilentChecksBefore,
    DateTimeOffset Now,
    DateTimeOffset? LastActivityAt,
    DateTimeOffset? RunningSince,
    TimeSpan IdleTimeout,
    TimeSpan MaxLifetime,
    bool SnapshotsEnabled,
    TimeSpan SnapshotInterval,
    DateTimeOffset? SnapshotAttemptedAt,
    bool SnapshotRequested = false,
    IReadOnlyList<TimeSpan>? IdleWarnings = null,
    TimeSpan? IdleWarnedLead = null,
    DateTimeOffset? IdleWarnedAt = null,
    DateTimeOffset? LastSnapshotAt = null);

/// <param name="Why">For Interrupted and Stop: the words the workspace's events show.</param>
/// <param name="SilentChecks">Health checks in a row the IDE has not answered, this one included.</param>
/// <param name="WarnLead">For WarnIdle: the warning lead reached (5 min, 1 min).</param>
public readonly record struct RunningVerdict(RunningVerdictKind Kind, string? Why, int SilentChecks, TimeSpan? WarnLead = null);

/// <summary>Every decision of a workspace's lifecycle, from its state, the clock and the options alone: no I/O and no
/// grain, so that each rule is a row of a table test (WorkspacePolicyTests). The grain carries the decisions out.</summary>
public static class WorkspacePolicy
{
    /// <summary>One failed probe can be a busy moment; three health checks in a row are an IDE that is gone.</summary>
    public const int IdeSilentChecksBeforeRestart = 3;

    public static WorkspaceStep NextStep(DesiredState desired, WorkspacePhase phase) => (desired, phase) switch
    {
        (_, WorkspacePhase.Deleted) => WorkspaceStep.None,
        (DesiredState.Deleted, _) => WorkspaceStep.Delete,
        (DesiredState.Stopped, WorkspacePhase.Stopped) => WorkspaceStep.None,
        (DesiredState.Stopped, _) => WorkspaceStep.Stop,
        (DesiredState.Running, WorkspacePhase.Pending or WorkspacePhase.Building) => WorkspaceStep.Resolve,
        (DesiredState.Running, WorkspacePhase.Creating) => WorkspaceStep.Create,
        (DesiredState.Running, WorkspacePhase.Initializing) => WorkspaceStep.Initialize,
        (DesiredState.Running, WorkspacePhase.Running) => WorkspaceStep.Check,
        (DesiredState.Running, WorkspacePhase.Interrupted) => WorkspaceStep.Restart,
        // A stop under way is finished first; the start then begins from Stopped.
        (DesiredState.Running, WorkspacePhase.Stopping) => WorkspaceStep.Stop,
        (DesiredState.Running, WorkspacePhase.Stopped) => WorkspaceStep.StartAgain,
        _ => WorkspaceStep.None,
    };

    /// <summary>Nothing to do until a command (or the reminder) says otherwise.</summary>
    public static bool IsSettled(DesiredState desired, WorkspacePhase phase) =>
        phase == WorkspacePhase.Deleted
        || (phase == WorkspacePhase.Stopped && desired == DesiredState.Stopped)
        || (phase == WorkspacePhase.Failed && desired == DesiredState.Running);

    /// <summary>The owner's quota slot is held while the workspace wants to run and has not failed.</summary>
    public static bool WantsRunSlot(DesiredState desired, WorkspacePhase phase) =>
        desired == DesiredState.Running && phase != WorkspacePhase.Failed;

    /// <summary>Why the phase has lasted too long, or null. A phase entered before its start was recorded has no deadline.</summary>
    public static string? PastDeadline(WorkspacePhase phase, DateTimeOffset? since, DateTimeOffset now, PhaseDeadlines deadlines)
    {
        if (deadlines.For(phase) is not { } limit || since is not { } start || now - start < limit)
        {
            return null;
        }

        var words = limit >= TimeSpan.FromMinutes(1)
            ? limit.TotalMinutes.ToString("0.#", CultureInfo.InvariantCulture) + " min"
            : limit.TotalSeconds.ToString("0.#", CultureInfo.InvariantCulture) + " s";
        return $"{phase} did not finish within {words} (Workspaces:Deadlines:{phase}).";
    }

    /// <summary>How long the step of this phase may still run, or null when the phase has no deadline.</summary>
    public static TimeSpan? DeadlineLeft(WorkspacePhase phase, DateTimeOffset? since, DateTimeOffset now, PhaseDeadlines deadlines)
    {
        if (deadlines.For(phase) is not { } limit)
        {
            return null;
        }

        var left = limit - (now - (since ?? now));
        return left > TimeSpan.Zero ? left : TimeSpan.Zero;
    }

    /// <summary>How long to wait before retrying a step after <paramref name="attempt"/> failures: doubling from the first
    /// delay, never above the maximum.</summary>
    public static TimeSpan RetryDelay(int attempt, TimeSpan first, TimeSpan max) =>
        TimeSpan.FromTicks(Math.Min(max.Ticks, first.Ticks << Math.Clamp(attempt - 1, 0, 20)));

    /// <summary>The health check's decision: a container that died or an IDE silent too long interrupts the workspace;
    /// one idle or alive too long is stopped; otherwise the periodic snapshot may be due.</summary>
    public static RunningVerdict JudgeRunning(RunningFacts f)
    {
        if (f.Instance is not { State: InstanceState.Running })
        {
            var why = f.Instance is null
                ? "Its container disappeared."
                : $"Its container stopped{(f.Instance.ExitCode is { } code ? $" with exit code {code}" : string.Empty)}.";
            return new RunningVerdict(RunningVerdictKind.Interrupted, why, 0);
        }

        // The container can outlive its IDE (code-server crashed or was killed inside): starting again restarts the IDE
        // in the same container without touching the files.
        var silent = f.IdeAnswered == false ? f.SilentChecksBefore + 1 : 0;
        if (silent >= IdeSilentChecksBeforeRestart)
        {
            return new RunningVerdict(RunningVerdictKind.Interrupted, "The IDE stopped answering.", 0);
        }

        if (f.Now - (f.LastActivityAt ?? f.RunningSince ?? f.Now) >= f.IdleTimeout)
        {
            return new RunningVerdict(
                RunningVerdictKind.Stop,
                $"Stopping: no activity for {f.IdleTimeout.TotalMinutes.ToString("0", CultureInfo.InvariantCulture)} min.",
                silent);
        }

        if (f.RunningSince is { } since && f.Now - since >= f.MaxLifetime)
        {
            return new RunningVerdict(
                RunningVerdictKind.Stop,
                $"Stopping: running for the maximum of {f.MaxLifetime.TotalHours.ToString("0.#", CultureInfo.InvariantCulture)} h.",
                silent);
        }

        if (IdleWarningDue(f) is { } lead)
        {
            var left = IdleStopAt(f.LastActivityAt ?? f.RunningSince ?? f.Now, f.IdleTimeout) - f.Now;
            return new RunningVerdict(
                RunningVerdictKind.WarnIdle,
                $"No activity for {Minutes(f.Now - (f.LastActivityAt ?? f.RunningSince ?? f.Now))}: the workspace stops in {Minutes(left)} unless it is used (open it, or POST …/keepalive).",
                silent,
                lead);
        }

        return new RunningVerdict(IsSnapshotDue(f) ? RunningVerdictKind.Snapshot : RunningVerdictKind.Healthy, null, silent);
    }

    /// <summary>When an idle workspace is stopped, counted from its last activity.</summary>
    public static DateTimeOffset IdleStopAt(DateTimeOffset lastActivity, TimeSpan idleTimeout) => lastActivity + idleTimeout;

    /// <summary>The shortest warning lead the idle stop is within that has not been warned of since the last activity;
    /// null when none is due. A warning given before the last activity counts for nothing: the stop moved.</summary>
    public static TimeSpan? IdleWarningDue(RunningFacts f)
    {
        var lastActivity = f.LastActivityAt ?? f.RunningSince ?? f.Now;
        var left = IdleStopAt(lastActivity, f.IdleTimeout) - f.Now;
        var due = (f.IdleWarnings ?? []).Where(lead => lead > TimeSpan.Zero).Select(lead => Lead(lead, f.IdleTimeout))
            .Where(lead => left <= lead).Order().ToList();
        if (due.Count == 0)
        {
            return null;
        }

        var warned = f.IdleWarnedAt is { } at && at >= lastActivity ? f.IdleWarnedLead : null;
        return warned is { } given && given <= due[0] ? null : due[0];
    }

    /// <summary>A lead as long as the idle timeout or longer would warn at once, so it is given at half the timeout: a
    /// workspace with a 2-minute timeout is warned after one minute of quiet.</summary>
    private static TimeSpan Lead(TimeSpan lead, TimeSpan idleTimeout) => lead < idleTimeout ? lead : idleTimeout / 2;

    /// <summary>A stopped workspace is kept <paramref name="retention"/> after it stopped, unless pinned, and is never
    /// deleted without a warning given at least <paramref name="warning"/> before (so a silo down for a week, or an
    /// unpin long after the stop, still gives the owner the notice). <paramref name="warnedAt"/> older than the stop
    /// was for an earlier stop.</summary>
    public static StoppedVerdict JudgeStopped(
        DateTimeOffset now, DateTimeOffset? stoppedAt, bool pinned, TimeSpan retention, TimeSpan warning, DateTimeOffset? warnedAt)
    {
        if (pinned || retention <= TimeSpan.Zero || stoppedAt is not { } since)
        {
            return new StoppedVerdict(StoppedVerdictKind.Keep, null, null);
        }

        var due = since + retention;
        var warned = warnedAt is { } at && at >= since ? at : (DateTimeOffset?)null;
        if (warning > TimeSpan.Zero && warned is null)
        {
            if (now < due - warning)
            {
                return new StoppedVerdict(StoppedVerdictKind.Keep, null, due);
            }

            var deleteAt = Later(due, now + warning);
            return new StoppedVerdict(
                StoppedVerdictKind.Warn,
                string.Create(CultureInfo.InvariantCulture, $"Stopped for {Days(now - since)}: the workspace will be deleted at {deleteAt:u} unless it is started or pinned (POST …/pin)."),
                deleteAt);
        }

        var deleteAfter = warned is { } given ? Later(due, given + warning) : due;
        return now >= deleteAfter
            ? new StoppedVerdict(StoppedVerdictKind.Delete, $"Deleting: stopped for {Days(now - since)} (Workspaces:StoppedRetention is {Days(retention)}). Pin a workspace to keep it.", deleteAfter)
            : new StoppedVerdict(StoppedVerdictKind.Keep, null, deleteAfter);
    }

    private static DateTimeOffset Later(DateTimeOffset a, DateTimeOffset b) => a > b ? a : b;

    /// <summary>Interruptions (its container or IDE gone) at these times, this one included: true when they are too many
    /// within the window to start the workspace again by itself.</summary>
    public static bool IsFlapping(IEnumerable<DateTimeOffset> interruptions, DateTimeOffset now, int max, TimeSpan window) =>
        interruptions.Count(at => now - at <= window) >= max;

    private static string Minutes(TimeSpan span) =>
        span >= TimeSpan.FromMinutes(1)
            ? $"{Math.Round(span.TotalMinutes).ToString("0", CultureInfo.InvariantCulture)} min"
            : $"{Math.Max(0, Math.Round(span.TotalSeconds)).ToString("0", CultureInfo.InvariantCulture)} s";

    private static string Days(TimeSpan span) =>
        span >= TimeSpan.FromDays(2) ? $"{Math.Floor(span.TotalDays).ToString("0", CultureInfo.InvariantCulture)} days"
        : span >= TimeSpan.FromDays(1) ? "1 day"
            : span >= TimeSpan.FromHours(1)
                ? $"{Math.Floor(span.TotalHours).ToString("0", CultureInfo.InvariantCulture)} h"
                : Minutes(span);

    /// <summary>Counted from the last attempt of this run (taken or not: a failing store is tried an interval later, not
    /// at every check), or from the start of the run.</summary>
    private static bool IsSnapshotDue(RunningFacts f)
    {
        if (!f.SnapshotsEnabled)
        {
            return false;
        }

        // Asked for by the owner: taken at this check, whatever the interval.
        if (f.SnapshotRequested)
        {
            return true;
        }

        if (f.SnapshotInterval <= TimeSpan.Zero)
        {
            return false;
        }

        // Nothing was done since the last snapshot: another would hold the same files.
        if (f.LastSnapshotAt is { } taken && (f.LastActivityAt ?? f.RunningSince ?? f.Now) <= taken)
        {
            return false;
        }

        var since = f.SnapshotAttemptedAt is { } attempted && attempted > f.RunningSince ? attempted : f.RunningSince ?? f.Now;
        return f.Now - since >= f.SnapshotInterval;
    }
}
