using System.Globalization;
using Microsoft.Extensions.DependencyInjection;
using Orleans.TestingHost;

namespace CloudDevEnv.Grains.Tests;

/// <summary>What a workspace says before the platform acts on it by itself (the idle stop, the retention deletion),
/// and when it gives up restarting: on a silo whose clock the test moves forward.</summary>
public sealed class LifecycleNoticeTests : IAsyncLifetime
{
    private readonly ShiftableTimeProvider _clock = new();
    private readonly WorkspaceRuntimeDouble _runtime = new();
    private InProcessTestCluster _cluster = null!;

    public async Task InitializeAsync() => _cluster = await ShiftedClockCluster.StartAsync(_clock, _runtime, new Dictionary<string, string?>
    {
        ["Workspaces:HealthCheckInterval"] = "00:00:00.100",
        ["Workspaces:RetentionCheckInterval"] = "00:00:00.100",
        ["Workspaces:MaxLifetime"] = "12:00:00",
    });

    public async Task DisposeAsync() => await _cluster.DisposeAsync();

    private async Task<IWorkspaceGrain> RunningWorkspaceAsync(int idleMinutes = 30)
    {
        var grain = _cluster.Client.GetGrain<IWorkspaceGrain>(WorkspaceId.NewId());
        await grain.CreateAsync(Specs.New() with { IdleTimeout = TimeSpan.FromMinutes(idleMinutes) });
        await Eventually.PhaseAsync(grain, WorkspacePhase.Running);
        return grain;
    }

    private async Task<IWorkspaceGrain> StoppedWorkspaceAsync()
    {
        var grain = await RunningWorkspaceAsync();
        await grain.StopAsync("tester");
        await Eventually.PhaseAsync(grain, WorkspacePhase.Stopped);
        return grain;
    }

    private static WorkspaceEvent[] Warnings(WorkspaceStatus status) => [.. status.RecentEvents.Where(e => e.Kind == WorkspaceEventKind.Warning)];

    private static async Task<WorkspaceStatus> WarningsAsync(IWorkspaceGrain grain, int count, string what)
    {
        await Eventually.TrueAsync(async () => Warnings(await grain.GetStatusAsync()).Length >= count, what);
        var status = await grain.GetStatusAsync();
        Assert.Equal(count, Warnings(status).Length);
        return status;
    }

    private static string Utc(DateTimeOffset at) => at.ToString("u", CultureInfo.InvariantCulture);

    [Fact]
    public async Task An_idle_stop_is_announced_five_minutes_and_one_minute_ahead_once_each()
    {
        var grain = await RunningWorkspaceAsync();
        var stopAt = (await grain.GetStatusAsync()).IdleStopAt!.Value;

        _clock.Advance(TimeSpan.FromMinutes(24));
        await Eventually.HealthChecksAsync(_runtime, grain);
        Assert.Empty(Warnings(await grain.GetStatusAsync()));

        _clock.Advance(TimeSpan.FromMinutes(1) + TimeSpan.FromSeconds(1));
        var first = Warnings(await WarningsAsync(grain, 1, "the 5-minute warning"))[0];
        Assert.Matches(@"^No activity for 25 min: the workspace stops in 5 min unless it is used \(open it, or POST …/keepalive\)\.$", first.Message);

        // Said once, not at every health check.
        await Eventually.HealthChecksAsync(_runtime, grain, count: 4);
        Assert.Single(Warnings(await grain.GetStatusAsync()));

        _clock.Advance(TimeSpan.FromMinutes(4) + TimeSpan.FromSeconds(10));
        var second = Warnings(await WarningsAsync(grain, 2, "the 1-minute warning"))[1];
        Assert.Matches(@"the workspace stops in [1-5]?\d s unless it is used", second.Message);
        Assert.Equal(WorkspacePhase.Running, (await grain.GetStatusAsync()).Phase);
        Assert.Equal(stopAt, (await grain.GetStatusAsync()).IdleStopAt);

        _clock.Advance(TimeSpan.FromMinutes(1));
        var stopped = await Eventually.PhaseAsync(grain, WorkspacePhase.Stopped);
        Assert.Equal(2, Warnings(stopped).Length);
        Assert.Null(stopped.IdleStopAt);
    }

    [Fact]
    public async Task Activity_after_a_warning_postpones_the_stop_and_says_to_when()
    {
        var grain = await RunningWorkspaceAsync();
        _clock.Advance(TimeSpan.FromMinutes(26));
        await WarningsAsync(grain, 1, "the 5-minute warning");

        var at = _clock.GetUtcNow();
        await grain.ReportActivityAsync(at);
        await Eventually.TrueAsync(
            async () => (await grain.GetStatusAsync()).RecentEvents.Any(e => e.Message.StartsWith("Activity:", StringComparison.Ordinal)),
            "the postponement to be said");
        var status = await grain.GetStatusAsync();
        Assert.Equal($"Activity: the idle stop is postponed to {Utc(at.AddMinutes(30))}.", status.RecentEvents.Last().Message);
        Assert.Equal(at.AddMinutes(30), status.IdleStopAt);

        // Activity with no warning out says nothing.
        _clock.Advance(TimeSpan.FromMinutes(10));
        await grain.ReportActivityAsync(_clock.GetUtcNow());
        await Eventually.HealthChecksAsync(_runtime, grain);
        Assert.Single((await grain.GetStatusAsync()).RecentEvents, e => e.Message.StartsWith("Activity:", StringComparison.Ordinal));

        // The stop moved: the warnings come again before the new time, and not at the old one.
        _clock.Advance(TimeSpan.FromMinutes(26));
        var warned = await WarningsAsync(grain, 2, "a fresh 5-minute warning");
        Assert.Equal(WorkspacePhase.Running, warned.Phase);
    }

    [Fact]
    public async Task Keepalive_counts_as_activity_and_is_refused_for_a_workspace_that_is_not_running()
    {
        var grain = await RunningWorkspaceAsync();
        _clock.Advance(TimeSpan.FromMinutes(29));
        await WarningsAsync(grain, 1, "the 1-minute warning");

        var kept = await grain.KeepAliveAsync("tester");
        Assert.Equal(_clock.GetUtcNow().AddMinutes(30), kept.IdleStopAt!.Value, TimeSpan.FromSeconds(2));
        Assert.Contains(kept.RecentEvents, e => e.Message.StartsWith("Activity: the idle stop is postponed to", StringComparison.Ordinal));

        _clock.Advance(TimeSpan.FromMinutes(20));
        await Eventually.HealthChecksAsync(_runtime, grain);
        Assert.Equal(WorkspacePhase.Running, (await grain.GetStatusAsync()).Phase);
        _clock.Advance(TimeSpan.FromMinutes(11));
        await Eventually.PhaseAsync(grain, WorkspacePhase.Stopped);

        var refused = await Assert.ThrowsAsync<WorkspaceRejectedException>(() => grain.KeepAliveAsync("tester"));
        Assert.Equal(WorkspaceRejection.Conflict, refused.Kind);
        Assert.Contains("is Stopped", refused.Message);
    }

    [Fact]
    public async Task A_workspace_stopped_for_the_retention_period_is_warned_a_day_ahead_then_deleted()
    {
        var before = _clock.GetUtcNow();
        var grain = await StoppedWorkspaceAsync();
        var stopped = await grain.GetStatusAsync();
        Assert.False(stopped.Pinned);
        Assert.InRange(stopped.DeleteAfter!.Value, before.AddDays(30), _clock.GetUtcNow().AddDays(30));

        _clock.Advance(TimeSpan.FromDays(28));
        await Task.Delay(500); // several retention looks (every 100 ms)
        Assert.Empty(Warnings(await grain.GetStatusAsync()));

        _clock.Advance(TimeSpan.FromDays(1) + TimeSpan.FromHours(1));
        var warned = await WarningsAsync(grain, 1, "the retention warning");
        Assert.Matches(@"^Stopped for 29 days: the workspace will be deleted at \S+ \S+ unless it is started or pinned \(POST …/pin\)\.$", Warnings(warned)[0].Message);
        Assert.Equal(WorkspacePhase.Stopped, warned.Phase);

        // Warned an hour late (the clock jumped): the notice is still a full day.
        Assert.Equal(_clock.GetUtcNow().AddDays(1), warned.DeleteAfter!.Value, TimeSpan.FromSeconds(5));
        _clock.Advance(TimeSpan.FromHours(23));
        await Task.Delay(500);
        Assert.Equal(WorkspacePhase.Stopped, (await grain.GetStatusAsync()).Phase);

        _clock.Advance(TimeSpan.FromHours(1) + TimeSpan.FromMinutes(1));
        var deleted = await Eventually.PhaseAsync(grain, WorkspacePhase.Deleted);
        Assert.Contains(deleted.RecentEvents, e =>
            e.Kind == WorkspaceEventKind.Command && e.Actor == WorkspaceActor.Platform
            && e.Message == "Deleting: stopped for 30 days (Workspaces:StoppedRetention is 30 days). Pin a workspace to keep it.");
    }

    [Fact]
    public async Task A_pinned_workspace_is_kept_and_an_unpin_long_after_still_gives_a_days_notice()
    {
        var grain = await StoppedWorkspaceAsync();
        var pinned = await grain.PinAsync(true, "tester");
        Assert.True(pinned.Pinned);
        Assert.Null(pinned.DeleteAfter);

        _clock.Advance(TimeSpan.FromDays(90));
        await Task.Delay(500);
        var kept = await grain.GetStatusAsync();
        Assert.Equal(WorkspacePhase.Stopped, kept.Phase);
        Assert.Empty(Warnings(kept));

        var unpinned = await grain.PinAsync(false, "tester");
        Assert.False(unpinned.Pinned);
        var warned = await WarningsAsync(grain, 1, "the notice an unpin gets");
        Assert.Equal(_clock.GetUtcNow().AddDays(1), warned.DeleteAfter!.Value, TimeSpan.FromSeconds(5));
        await Task.Delay(300);
        Assert.Equal(WorkspacePhase.Stopped, (await grain.GetStatusAsync()).Phase);

        _clock.Advance(TimeSpan.FromDays(1) + TimeSpan.FromMinutes(1));
        await Eventually.PhaseAsync(grain, WorkspacePhase.Deleted);
    }

    [Fact]
    public async Task A_started_workspace_is_not_deleted_and_its_next_stop_counts_afresh()
    {
        var grain = await StoppedWorkspaceAsync();
        _clock.Advance(TimeSpan.FromDays(29) + TimeSpan.FromHours(1));
        await WarningsAsync(grain, 1, "the retention warning");

        await grain.StartAsync("tester");
        var running = await Eventually.PhaseAsync(grain, WorkspacePhase.Running);
        Assert.Null(running.DeleteAfter);
        _clock.Advance(TimeSpan.FromDays(2));
        await grain.StopAsync("tester");
        var stopped = await Eventually.PhaseAsync(grain, WorkspacePhase.Stopped);
        Assert.Equal(_clock.GetUtcNow().AddDays(30), stopped.DeleteAfter!.Value, TimeSpan.FromSeconds(5));
        await Task.Delay(300);
        Assert.Equal(WorkspacePhase.Stopped, (await grain.GetStatusAsync()).Phase);
    }

    [Fact]
    public async Task A_workspace_whose_container_keeps_dying_stops_restarting_and_says_why_until_the_owner_starts_it()
    {
        var grain = await RunningWorkspaceAsync(idleMinutes: 240);
        var id = grain.GetPrimaryKeyString();
        for (var death = 1; death <= 2; death++)
        {
            _runtime.Kill(id, exitCode: 139);
            var expected = death;
            await Eventually.TrueAsync(
                async () => (await grain.GetStatusAsync()).RecentEvents.Count(e => e.Kind == WorkspaceEventKind.Phase && e.Phase == WorkspacePhase.Interrupted) == expected,
                $"interruption {death}");
            await Eventually.PhaseAsync(grain, WorkspacePhase.Running);
        }

        _runtime.Kill(id, exitCode: 139);
        var failed = await Eventually.PhaseAsync(grain, WorkspacePhase.Failed);
        Assert.Equal(
            "Its container stopped with exit code 139. It was interrupted 3 times within 60 min, so it is not started again by itself (Workspaces:MaxInterruptions); its events say what happened. Start it once the cause is fixed.",
            failed.Reason);
        await Task.Delay(500);
        Assert.Equal(WorkspacePhase.Failed, (await grain.GetStatusAsync()).Phase);

        // The owner's start is a fresh count: one more death restarts it as before.
        await grain.StartAsync("tester");
        await Eventually.PhaseAsync(grain, WorkspacePhase.Running);
        _runtime.Kill(id, exitCode: 139);
        await Eventually.TrueAsync(
            async () => (await grain.GetStatusAsync()).RecentEvents.Count(e => e.Kind == WorkspaceEventKind.Phase && e.Phase == WorkspacePhase.Interrupted) == 3,
            "the next interruption");
        Assert.Equal(WorkspacePhase.Running, (await Eventually.PhaseAsync(grain, WorkspacePhase.Running)).Phase);
    }

    [Fact]
    public async Task Interruptions_spread_wider_than_the_window_keep_restarting()
    {
        var grain = await RunningWorkspaceAsync(idleMinutes: 240);
        var id = grain.GetPrimaryKeyString();
        for (var death = 1; death <= 4; death++)
        {
            _runtime.Kill(id, exitCode: 137);
            var expected = death;
            await Eventually.TrueAsync(
                async () => (await grain.GetStatusAsync()).RecentEvents.Count(e => e.Kind == WorkspaceEventKind.Phase && e.Phase == WorkspacePhase.Interrupted) == expected,
                $"interruption {death}");
            await Eventually.PhaseAsync(grain, WorkspacePhase.Running);
            _clock.Advance(TimeSpan.FromMinutes(35));
            await grain.ReportActivityAsync(_clock.GetUtcNow());
        }

        Assert.Equal(WorkspacePhase.Running, (await grain.GetStatusAsync()).Phase);
    }
}
