using CloudDevEnv.Grains.Workspaces;

namespace CloudDevEnv.Grains.Tests;

/// <summary>The lifecycle's decisions, one row each: the step for every desired state and phase, settling, the run slot,
/// deadlines, backoff, and what a health check concludes.</summary>
public sealed class WorkspacePolicyTests
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 29, 12, 0, 0, TimeSpan.Zero);

    [Theory]
    [InlineData(DesiredState.Running, WorkspacePhase.Pending, WorkspaceStep.Resolve)]
    [InlineData(DesiredState.Running, WorkspacePhase.Building, WorkspaceStep.Resolve)]
    [InlineData(DesiredState.Running, WorkspacePhase.Creating, WorkspaceStep.Create)]
    [InlineData(DesiredState.Running, WorkspacePhase.Initializing, WorkspaceStep.Initialize)]
    [InlineData(DesiredState.Running, WorkspacePhase.Running, WorkspaceStep.Check)]
    [InlineData(DesiredState.Running, WorkspacePhase.Interrupted, WorkspaceStep.Restart)]
    [InlineData(DesiredState.Running, WorkspacePhase.Stopping, WorkspaceStep.Stop)]
    [InlineData(DesiredState.Running, WorkspacePhase.Stopped, WorkspaceStep.StartAgain)]
    [InlineData(DesiredState.Running, WorkspacePhase.Failed, WorkspaceStep.None)]
    [InlineData(DesiredState.Stopped, WorkspacePhase.Running, WorkspaceStep.Stop)]
    [InlineData(DesiredState.Stopped, WorkspacePhase.Building, WorkspaceStep.Stop)]
    [InlineData(DesiredState.Stopped, WorkspacePhase.Failed, WorkspaceStep.Stop)]
    [InlineData(DesiredState.Stopped, WorkspacePhase.Stopped, WorkspaceStep.None)]
    [InlineData(DesiredState.Deleted, WorkspacePhase.Running, WorkspaceStep.Delete)]
    [InlineData(DesiredState.Deleted, WorkspacePhase.Stopping, WorkspaceStep.Delete)]
    [InlineData(DesiredState.Deleted, WorkspacePhase.Failed, WorkspaceStep.Delete)]
    [InlineData(DesiredState.Deleted, WorkspacePhase.Deleting, WorkspaceStep.Delete)]
    [InlineData(DesiredState.Deleted, WorkspacePhase.Deleted, WorkspaceStep.None)]
    public void The_next_step_follows_the_desired_state_and_the_phase(DesiredState desired, WorkspacePhase phase, WorkspaceStep step) =>
        Assert.Equal(step, WorkspacePolicy.NextStep(desired, phase));

    [Theory]
    [InlineData(DesiredState.Stopped, WorkspacePhase.Stopped, true, false)]
    [InlineData(DesiredState.Running, WorkspacePhase.Failed, true, false)]
    [InlineData(DesiredState.Deleted, WorkspacePhase.Deleted, true, false)]
    [InlineData(DesiredState.Running, WorkspacePhase.Running, false, true)]
    [InlineData(DesiredState.Running, WorkspacePhase.Building, false, true)]
    [InlineData(DesiredState.Running, WorkspacePhase.Stopped, false, true)]
    [InlineData(DesiredState.Stopped, WorkspacePhase.Stopping, false, false)]
    [InlineData(DesiredState.Deleted, WorkspacePhase.Deleting, false, false)]
    public void Settling_and_the_run_slot_follow_the_state(DesiredState desired, WorkspacePhase phase, bool settled, bool slot)
    {
        Assert.Equal(settled, WorkspacePolicy.IsSettled(desired, phase));
        Assert.Equal(slot, WorkspacePolicy.WantsRunSlot(desired, phase));
    }

    [Theory]
    [InlineData(WorkspacePhase.Initializing, 899, null)]
    [InlineData(WorkspacePhase.Initializing, 900, "Initializing did not finish within 15 min (Workspaces:Deadlines:Initializing).")]
    [InlineData(WorkspacePhase.Building, 1800, "Building did not finish within 30 min (Workspaces:Deadlines:Building).")]
    [InlineData(WorkspacePhase.Stopping, 300, "Stopping did not finish within 5 min (Workspaces:Deadlines:Stopping).")]
    [InlineData(WorkspacePhase.Deleting, 86_400, null)]
    [InlineData(WorkspacePhase.Running, 86_400, null)]
    [InlineData(WorkspacePhase.Failed, 86_400, null)]
    public void Each_phase_on_the_way_has_its_deadline_and_deleting_has_none(WorkspacePhase phase, int secondsIn, string? reason)
    {
        var deadlines = new PhaseDeadlines();
        Assert.Equal(reason, WorkspacePolicy.PastDeadline(phase, T0, T0.AddSeconds(secondsIn), deadlines));
        Assert.Null(WorkspacePolicy.PastDeadline(phase, since: null, T0.AddDays(7), deadlines));
    }

    [Fact]
    public void Short_deadlines_are_said_in_seconds_and_the_time_left_never_goes_below_zero()
    {
        var deadlines = new PhaseDeadlines { Initializing = TimeSpan.FromSeconds(30) };
        Assert.Equal("Initializing did not finish within 30 s (Workspaces:Deadlines:Initializing).",
            WorkspacePolicy.PastDeadline(WorkspacePhase.Initializing, T0, T0.AddSeconds(31), deadlines));
        Assert.Equal(TimeSpan.FromSeconds(20), WorkspacePolicy.DeadlineLeft(WorkspacePhase.Initializing, T0, T0.AddSeconds(10), deadlines));
        Assert.Equal(TimeSpan.Zero, WorkspacePolicy.DeadlineLeft(WorkspacePhase.Initializing, T0, T0.AddMinutes(5), deadlines));
        Assert.Null(WorkspacePolicy.DeadlineLeft(WorkspacePhase.Deleting, T0, T0, deadlines));
    }

    [Theory]
    [InlineData(1, 1)]
    [InlineData(2, 2)]
    [InlineData(3, 4)]
    [InlineData(6, 32)]
    [InlineData(7, 60)]
    [InlineData(40, 60)]
    public void Retries_back_off_doubling_up_to_the_maximum(int attempt, int seconds) =>
        Assert.Equal(TimeSpan.FromSeconds(seconds), WorkspacePolicy.RetryDelay(attempt, TimeSpan.FromSeconds(1), TimeSpan.FromMinutes(1)));

    public static TheoryData<string, RunningFacts, RunningVerdictKind, string?, int> HealthChecks => new()
    {
        { "healthy", Facts(), RunningVerdictKind.Healthy, null, 0 },
        { "container gone", Facts() with { Instance = null, IdeAnswered = null }, RunningVerdictKind.Interrupted, "Its container disappeared.", 0 },
        { "container exited", Facts() with { Instance = Instance(InstanceState.Exited, 137), IdeAnswered = null },
            RunningVerdictKind.Interrupted, "Its container stopped with exit code 137.", 0 },
        { "IDE silent once", Facts() with { IdeAnswered = false }, RunningVerdictKind.Healthy, null, 1 },
        { "IDE silent twice", Facts() with { IdeAnswered = false, SilentChecksBefore = 1 }, RunningVerdictKind.Healthy, null, 2 },
        { "IDE silent thrice", Facts() with { IdeAnswered = false, SilentChecksBefore = 2 }, RunningVerdictKind.Interrupted, "The IDE stopped answering.", 0 },
        { "IDE back", Facts() with { IdeAnswered = true, SilentChecksBefore = 2 }, RunningVerdictKind.Healthy, null, 0 },
        { "idle just short", Facts() with { LastActivityAt = T0.AddMinutes(-29) }, RunningVerdictKind.Healthy, null, 0 },
        { "idle", Facts() with { LastActivityAt = T0.AddMinutes(-30) }, RunningVerdictKind.Stop, "Stopping: no activity for 30 min.", 0 },
        { "never active, idle since the start", Facts() with { LastActivityAt = null, RunningSince = T0.AddMinutes(-31) },
            RunningVerdictKind.Stop, "Stopping: no activity for 30 min.", 0 },
        { "active but alive too long", Facts() with { RunningSince = T0.AddHours(-12) },
            RunningVerdictKind.Stop, "Stopping: running for the maximum of 12 h.", 0 },
        { "snapshot due", Facts() with { RunningSince = T0.AddMinutes(-31) }, RunningVerdictKind.Snapshot, null, 0 },
        { "snapshot attempted lately", Facts() with { RunningSince = T0.AddMinutes(-50), SnapshotAttemptedAt = T0.AddMinutes(-10) },
            RunningVerdictKind.Healthy, null, 0 },
        { "snapshot attempted in an earlier run", Facts() with { RunningSince = T0.AddMinutes(-31), SnapshotAttemptedAt = T0.AddHours(-5) },
            RunningVerdictKind.Snapshot, null, 0 },
        { "snapshots off", Facts() with { RunningSince = T0.AddHours(-2), SnapshotsEnabled = false }, RunningVerdictKind.Healthy, null, 0 },
        { "snapshot asked for, the interval not yet past", Facts() with { SnapshotAttemptedAt = T0.AddMinutes(-1), SnapshotRequested = true },
            RunningVerdictKind.Snapshot, null, 0 },
        { "snapshot asked for with periodic ones off", Facts() with { SnapshotInterval = TimeSpan.Zero, SnapshotRequested = true },
            RunningVerdictKind.Snapshot, null, 0 },
        { "idle wins over a snapshot asked for", Facts() with { LastActivityAt = T0.AddHours(-1), SnapshotRequested = true },
            RunningVerdictKind.Stop, "Stopping: no activity for 30 min.", 0 },
        { "idle wins over a due snapshot", Facts() with { RunningSince = T0.AddHours(-2), LastActivityAt = T0.AddHours(-1) },
            RunningVerdictKind.Stop, "Stopping: no activity for 30 min.", 0 },
        { "no periodic snapshot without activity since the last", Facts() with { IdleTimeout = TimeSpan.FromHours(2), RunningSince = T0.AddHours(-2), LastActivityAt = T0.AddMinutes(-50), SnapshotAttemptedAt = T0.AddMinutes(-40), LastSnapshotAt = T0.AddMinutes(-40) },
            RunningVerdictKind.Healthy, null, 0 },
        { "a periodic snapshot after activity since the last", Facts() with { RunningSince = T0.AddHours(-2), LastActivityAt = T0.AddMinutes(-5), SnapshotAttemptedAt = T0.AddMinutes(-40), LastSnapshotAt = T0.AddMinutes(-40) },
            RunningVerdictKind.Snapshot, null, 0 },
        { "a snapshot asked for is taken without activity", Facts() with { LastActivityAt = T0.AddMinutes(-20), LastSnapshotAt = T0.AddMinutes(-10), SnapshotRequested = true },
            RunningVerdictKind.Snapshot, null, 0 },
    };

    public static TheoryData<string, RunningFacts, TimeSpan?> IdleWarnings => new()
    {
        { "6 min left", Warned() with { LastActivityAt = T0.AddMinutes(-24) }, null },
        { "5 min left", Warned() with { LastActivityAt = T0.AddMinutes(-25) }, TimeSpan.FromMinutes(5) },
        { "5 min warned, 3 min left", Warned() with { LastActivityAt = T0.AddMinutes(-27), IdleWarnedLead = TimeSpan.FromMinutes(5), IdleWarnedAt = T0.AddMinutes(-2) }, null },
        { "5 min warned, 1 min left", Warned() with { LastActivityAt = T0.AddMinutes(-29), IdleWarnedLead = TimeSpan.FromMinutes(5), IdleWarnedAt = T0.AddMinutes(-4) }, TimeSpan.FromMinutes(1) },
        { "1 min warned", Warned() with { LastActivityAt = T0.AddMinutes(-29.5), IdleWarnedLead = TimeSpan.FromMinutes(1), IdleWarnedAt = T0.AddSeconds(-10) }, null },
        { "jumped past both: the shorter only", Warned() with { LastActivityAt = T0.AddMinutes(-29.5) }, TimeSpan.FromMinutes(1) },
        { "warned before the last activity: counts for nothing", Warned() with { LastActivityAt = T0.AddMinutes(-26), IdleWarnedLead = TimeSpan.FromMinutes(1), IdleWarnedAt = T0.AddMinutes(-27) }, TimeSpan.FromMinutes(5) },
        { "a lead as long as the timeout is given at half of it: not yet", Warned() with { IdleTimeout = TimeSpan.FromMinutes(5), LastActivityAt = T0.AddMinutes(-2) }, null },
        { "a lead as long as the timeout is given at half of it", Warned() with { IdleTimeout = TimeSpan.FromMinutes(5), LastActivityAt = T0.AddMinutes(-2.5) }, TimeSpan.FromMinutes(2.5) },
        { "a 1-minute timeout: one warning, at 30 s", Warned() with { IdleTimeout = TimeSpan.FromMinutes(1), LastActivityAt = T0.AddSeconds(-31) }, TimeSpan.FromSeconds(30) },
        { "a 1-minute timeout, warned at 30 s", Warned() with { IdleTimeout = TimeSpan.FromMinutes(1), LastActivityAt = T0.AddSeconds(-45), IdleWarnedLead = TimeSpan.FromSeconds(30), IdleWarnedAt = T0.AddSeconds(-14) }, null },
        { "no warnings configured", Warned() with { IdleWarnings = [], LastActivityAt = T0.AddMinutes(-29) }, null },
    };

    [Theory]
    [MemberData(nameof(IdleWarnings))]
    public void An_idle_stop_is_warned_of_at_each_lead_once(string _, RunningFacts facts, TimeSpan? lead)
    {
        var verdict = WorkspacePolicy.JudgeRunning(facts);
        Assert.Equal(lead, verdict.WarnLead);
        Assert.Equal(lead is null ? RunningVerdictKind.Healthy : RunningVerdictKind.WarnIdle, verdict.Kind);
    }

    [Fact]
    public void A_warning_says_how_long_is_left_and_how_to_keep_it()
    {
        var verdict = WorkspacePolicy.JudgeRunning(Warned() with { LastActivityAt = T0.AddMinutes(-25) });
        Assert.Equal("No activity for 25 min: the workspace stops in 5 min unless it is used (open it, or POST …/keepalive).", verdict.Why);
        Assert.Contains("stops in 30 s", WorkspacePolicy.JudgeRunning(Warned() with { LastActivityAt = T0.AddMinutes(-29.5) }).Why);
    }

    public static TheoryData<string, TimeSpan, bool, TimeSpan?, StoppedVerdictKind, TimeSpan?> Retention => new()
    {
        // stopped this long ago, pinned, warned this long ago → verdict, deletion at (from now)
        { "fresh", TimeSpan.FromDays(1), false, null, StoppedVerdictKind.Keep, TimeSpan.FromDays(29) },
        { "a day before", TimeSpan.FromDays(29), false, null, StoppedVerdictKind.Warn, TimeSpan.FromDays(1) },
        { "warned, not yet", TimeSpan.FromDays(29.5), false, TimeSpan.FromDays(0.5), StoppedVerdictKind.Keep, TimeSpan.FromDays(0.5) },
        { "warned, due", TimeSpan.FromDays(30), false, TimeSpan.FromDays(1), StoppedVerdictKind.Delete, TimeSpan.Zero },
        { "past due, never warned (silo was down): warned first", TimeSpan.FromDays(45), false, null, StoppedVerdictKind.Warn, TimeSpan.FromDays(1) },
        { "warned for an earlier stop: warned again", TimeSpan.FromDays(30), false, TimeSpan.FromDays(40), StoppedVerdictKind.Warn, TimeSpan.FromDays(1) },
        { "pinned", TimeSpan.FromDays(400), true, TimeSpan.FromDays(2), StoppedVerdictKind.Keep, null },
    };

    [Theory]
    [MemberData(nameof(Retention))]
    public void A_stopped_workspace_is_deleted_after_the_retention_period_never_without_a_days_notice(
        string _, TimeSpan stoppedFor, bool pinned, TimeSpan? warnedAgo, StoppedVerdictKind kind, TimeSpan? deleteIn)
    {
        var verdict = WorkspacePolicy.JudgeStopped(T0, T0 - stoppedFor, pinned, TimeSpan.FromDays(30), TimeSpan.FromDays(1), T0 - warnedAgo);
        Assert.Equal(kind, verdict.Kind);
        Assert.Equal(deleteIn is { } d ? T0 + d : null, verdict.DeleteAfter);
    }

    [Fact]
    public void Retention_zero_keeps_stopped_workspaces_forever() =>
        Assert.Equal(new StoppedVerdict(StoppedVerdictKind.Keep, null, null),
            WorkspacePolicy.JudgeStopped(T0, T0.AddYears(-5), pinned: false, TimeSpan.Zero, TimeSpan.FromDays(1), warnedAt: null));

    [Theory]
    [InlineData(new[] { 0, 10, 20 }, true)]
    [InlineData(new[] { 0, 10 }, false)]
    [InlineData(new[] { 61, 30, 0 }, false)]
    [InlineData(new[] { 200, 59, 30, 0 }, true)]
    public void Three_interruptions_within_an_hour_are_flapping(int[] minutesAgo, bool flapping) =>
        Assert.Equal(flapping, WorkspacePolicy.IsFlapping(minutesAgo.Select(m => T0.AddMinutes(-m)), T0, 3, TimeSpan.FromHours(1)));

    private static RunningFacts Warned() => Facts() with { IdleWarnings = [TimeSpan.FromMinutes(5), TimeSpan.FromMinutes(1)], SnapshotsEnabled = false };

    [Theory]
    [MemberData(nameof(HealthChecks))]
    public void A_health_check_concludes(string _, RunningFacts facts, RunningVerdictKind kind, string? why, int silentChecks) =>
        Assert.Equal(new RunningVerdict(kind, why, silentChecks), WorkspacePolicy.JudgeRunning(facts));

    private static RunningFacts Facts() => new(
        Instance(InstanceState.Running, null),
        IdeAnswered: true,
        SilentChecksBefore: 0,
        Now: T0,
        LastActivityAt: T0.AddMinutes(-1),
        RunningSince: T0.AddMinutes(-10),
        IdleTimeout: TimeSpan.FromMinutes(30),
        MaxLifetime: TimeSpan.FromHours(12),
        SnapshotsEnabled: true,
        SnapshotInterval: TimeSpan.FromMinutes(30),
        SnapshotAttemptedAt: null);

    private static RuntimeInstance Instance(InstanceState state, int? exitCode) =>
        new("ws", "ada", "cde-ws", "img", state, null, exitCode);
}
