using Microsoft.Extensions.DependencyInjection;
using Orleans.TestingHost;

namespace CloudDevEnv.Grains.Tests;

/// <summary>Idle reaping and the maximum lifetime, on a silo whose clock the test moves forward.</summary>
public sealed class IdleReapTests : IAsyncLifetime
{
    private readonly ShiftableTimeProvider _clock = new();
    private readonly WorkspaceRuntimeDouble _runtime = new();
    private InProcessTestCluster _cluster = null!;

    public async Task InitializeAsync() => _cluster = await ShiftedClockCluster.StartAsync(_clock, _runtime, new Dictionary<string, string?>
    {
        ["Workspaces:HealthCheckInterval"] = "00:00:00.100",
        ["Workspaces:MaxLifetime"] = "12:00:00",
    });

    public async Task DisposeAsync() => await _cluster.DisposeAsync();

    private async Task<IWorkspaceGrain> RunningWorkspaceAsync(int idleMinutes)
    {
        var grain = _cluster.Client.GetGrain<IWorkspaceGrain>(WorkspaceId.NewId());
        await grain.CreateAsync(Specs.New() with { IdleTimeout = TimeSpan.FromMinutes(idleMinutes) });
        await Eventually.PhaseAsync(grain, WorkspacePhase.Running);
        return grain;
    }

    [Fact]
    public async Task A_workspace_idle_past_its_timeout_is_stopped_and_says_why()
    {
        var grain = await RunningWorkspaceAsync(idleMinutes: 30);

        _clock.Advance(TimeSpan.FromMinutes(29));
        await Eventually.HealthChecksAsync(_runtime, grain);
        Assert.Equal(WorkspacePhase.Running, (await grain.GetStatusAsync()).Phase);

        _clock.Advance(TimeSpan.FromMinutes(2));
        var stopped = await Eventually.PhaseAsync(grain, WorkspacePhase.Stopped);
        Assert.Equal(DesiredState.Stopped, stopped.Desired);
        Assert.Contains(stopped.RecentEvents, e => e.Kind == WorkspaceEventKind.Command && e.Message == "Stopping: no activity for 30 min." && e.Actor == WorkspaceActor.Platform);
    }

    [Fact]
    public async Task Activity_reported_by_the_proxy_postpones_the_stop()
    {
        var grain = await RunningWorkspaceAsync(idleMinutes: 30);

        for (var i = 0; i < 3; i++)
        {
            _clock.Advance(TimeSpan.FromMinutes(20));
            await grain.ReportActivityAsync(_clock.GetUtcNow());
            await Eventually.HealthChecksAsync(_runtime, grain);
            Assert.Equal(WorkspacePhase.Running, (await grain.GetStatusAsync()).Phase);
        }

        // Activity claimed in the future is clamped to now: it cannot keep a workspace alive forever.
        var before = (await grain.GetStatusAsync()).LastActivityAt;
        await grain.ReportActivityAsync(_clock.GetUtcNow().AddDays(1));
        await Eventually.TrueAsync(async () => (await grain.GetStatusAsync()).LastActivityAt > before, "the one-way report to arrive");
        Assert.True((await grain.GetStatusAsync()).LastActivityAt <= _clock.GetUtcNow());
        _clock.Advance(TimeSpan.FromMinutes(31));
        await Eventually.PhaseAsync(grain, WorkspacePhase.Stopped);
    }

    [Fact]
    public async Task A_workspace_running_past_the_maximum_lifetime_is_stopped_even_when_active()
    {
        var grain = await RunningWorkspaceAsync(idleMinutes: 60);

        // 14 × 50 min = 11 h 40 min of steady activity: still running.
        for (var step = 0; step < 14; step++)
        {
            _clock.Advance(TimeSpan.FromMinutes(50));
            await grain.ReportActivityAsync(_clock.GetUtcNow());
        }

        await Eventually.HealthChecksAsync(_runtime, grain);
        Assert.Equal(WorkspacePhase.Running, (await grain.GetStatusAsync()).Phase);

        _clock.Advance(TimeSpan.FromMinutes(30));
        await grain.ReportActivityAsync(_clock.GetUtcNow());
        var stopped = await Eventually.PhaseAsync(grain, WorkspacePhase.Stopped);
        Assert.Contains(stopped.RecentEvents, e => e.Message == "Stopping: running for the maximum of 12 h.");
    }
}
