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
}

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
    bool SnapshotRequested = false);

/// <param name="Why">For Interrupted and Stop: the words the workspace's events show.</param>
/// <param name="SilentChecks">Health checks in a row the IDE has not answered, this one included.</param>
public readonly record struct RunningVerdict(RunningVerdictKind Kind, string? Why, int SilentChecks);

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

        return new RunningVerdict(IsSnapshotDue(f) ? RunningVerdictKind.Snapshot : RunningVerdictKind.Healthy, null, silent);
    }

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

        var since = f.SnapshotAttemptedAt is { } attempted && attempted > f.RunningSince ? attempted : f.RunningSince ?? f.Now;
        return f.Now - since >= f.SnapshotInterval;
    }
}
