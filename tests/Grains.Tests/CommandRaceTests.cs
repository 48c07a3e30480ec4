using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Hosting;
using Orleans.Serialization;
using Orleans.Storage;
using Orleans.TestingHost;

namespace CloudDevEnv.Grains.Tests;

/// <summary>Commands meeting the loop, storage failing under a command, and phases that never end, made deterministic:
/// a storage double that fails or holds a write, a clock the test moves, a runtime double whose calls the test blocks.</summary>
public sealed class CommandRaceTests : IAsyncLifetime
{
    private readonly ShiftableTimeProvider _clock = new();
    private readonly WorkspaceRuntimeDouble _runtime = new();
    private readonly GatedGrainStorageDouble.Store _store = new();
    private InProcessTestCluster _cluster = null!;

    private IClusterClient Client => _cluster.Client;

    public async Task InitializeAsync()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Workspaces:HealthCheckInterval"] = "00:00:00.100",
            ["Workspaces:RetryDelay"] = "00:00:00.050",
            ["Workspaces:MaxRetryDelay"] = "00:00:00.200",
            ["Workspaces:MaxRunningPerOwner"] = "3",
            ["Workspaces:Deadlines:Initializing"] = "00:00:01",
        }).Build();

        var builder = new InProcessTestClusterBuilder(1);
        builder.ConfigureSilo((_, silo) =>
        {
            silo.Services.AddKeyedSingleton<IGrainStorage>(
                StorageNames.Workspaces, (sp, _) => new GatedGrainStorageDouble(sp.GetRequiredService<Serializer>(), _store));
            silo.UseInMemoryReminderService();
            silo.Services.AddWorkspaceGrains(configuration);
            silo.Services.AddSingleton<TimeProvider>(_clock);
            silo.Services.AddSingleton<IWorkspaceRuntime>(_runtime);
        });
        _cluster = builder.Build();
        await _cluster.DeployAsync();
    }

    public async Task DisposeAsync() => await _cluster.DisposeAsync();

    private async Task<IWorkspaceGrain> RunningAsync(string? owner = null, int idleMinutes = 30)
    {
        var grain = Client.GetGrain<IWorkspaceGrain>(WorkspaceId.NewId());
        await grain.CreateAsync(Specs.New(owner) with { IdleTimeout = TimeSpan.FromMinutes(idleMinutes) });
        await Eventually.PhaseAsync(grain, WorkspacePhase.Running);
        return grain;
    }

    [Fact]
    public async Task A_delete_acknowledged_while_the_reaper_is_stopping_the_workspace_ends_deleted()
    {
        var grain = await RunningAsync(idleMinutes: 1);
        _runtime.Block(nameof(IWorkspaceRuntime.StopAsync));
        try
        {
            // The workspace turns idle and the reaper starts stopping it; the delete lands while the stop is under way.
            _clock.Advance(TimeSpan.FromMinutes(2));
            await Eventually.PhaseAsync(grain, WorkspacePhase.Stopping);
            var acknowledged = await grain.DeleteAsync("tester");
            Assert.Equal(DesiredState.Deleted, acknowledged.Desired);
        }
        finally
        {
            _runtime.Release(nameof(IWorkspaceRuntime.StopAsync));
        }

        var deleted = await Eventually.PhaseAsync(grain, WorkspacePhase.Deleted);
        Assert.Equal(DesiredState.Deleted, deleted.Desired);
        Assert.Contains(deleted.RecentEvents, e => e.Message == "Stopping: no activity for 1 min." && e.Actor == WorkspaceActor.Platform);
        Assert.False(_runtime.Exists(grain.GetPrimaryKeyString()));
    }

    [Fact]
    public async Task A_command_refused_by_storage_changes_nothing()
    {
        var grain = await RunningAsync();
        var id = grain.GetPrimaryKeyString();
        var before = await grain.GetStatusAsync();
        var owner = Client.GetGrain<IOwnerGrain>(before.Spec.Owner);

        _store.FailWrites(id);
        try
        {
            // Orleans reports a storage provider's failure wrapped; the API answers it with 503.
            Assert.IsType<IOException>((await Assert.ThrowsAsync<OrleansException>(() => grain.StopAsync("tester"))).InnerException);
            Assert.IsType<IOException>((await Assert.ThrowsAsync<OrleansException>(() => grain.SetPortVisibilityAsync(3000, true, "tester"))).InnerException);
            Assert.IsType<IOException>((await Assert.ThrowsAsync<OrleansException>(() => grain.DeleteAsync("tester"))).InnerException);
        }
        finally
        {
            _store.Heal(id);
        }

        var after = await grain.GetStatusAsync();
        Assert.Equal((before.Desired, before.Phase, before.Version), (after.Desired, after.Phase, after.Version));
        Assert.Empty((await grain.GetRouteAsync()).PublicPorts);
        Assert.Contains(id, await owner.RunSlotsAsync());

        // Once storage works again, so does the command.
        await grain.StopAsync("tester");
        await Eventually.PhaseAsync(grain, WorkspacePhase.Stopped);
    }

    [Fact]
    public async Task A_refused_create_leaves_no_workspace_and_no_slot()
    {
        var id = WorkspaceId.NewId();
        var spec = Specs.New();
        _store.FailWrites(id);
        await Assert.ThrowsAsync<OrleansException>(() => Client.GetGrain<IWorkspaceGrain>(id).CreateAsync(spec));
        _store.Heal(id);

        var missing = await Assert.ThrowsAsync<WorkspaceRejectedException>(() => Client.GetGrain<IWorkspaceGrain>(id).GetStatusAsync());
        Assert.Equal(WorkspaceRejection.NotFound, missing.Kind);
        Assert.Empty(await Client.GetGrain<IOwnerGrain>(spec.Owner).RunSlotsAsync());
        Assert.Empty(await Client.GetGrain<IOwnerGrain>(spec.Owner).ListAsync());
    }

    [Fact]
    public async Task A_create_refused_by_the_owners_storage_leaves_the_index_as_it_was()
    {
        var spec = Specs.New();
        var owner = Client.GetGrain<IOwnerGrain>(spec.Owner);
        var first = await RunningAsync(spec.Owner);
        var id = WorkspaceId.NewId();

        _store.FailWrites(spec.Owner);
        try
        {
            var refused = await Assert.ThrowsAsync<OrleansException>(() => Client.GetGrain<IWorkspaceGrain>(id).CreateAsync(spec));
            Assert.IsType<IOException>(refused.InnerException);

            // What the owner's grain answers from memory is what is stored: the refused id is in neither.
            Assert.Equal([first.GetPrimaryKeyString()], (await owner.ListAsync()).ToArray());
            Assert.Equal([first.GetPrimaryKeyString()], (await owner.RunSlotsAsync()).ToArray());
        }
        finally
        {
            _store.Heal(spec.Owner);
        }

        await Client.GetGrain<IWorkspaceGrain>(id).CreateAsync(spec);
        Assert.Equal(new[] { first.GetPrimaryKeyString(), id }.Order(), (await owner.ListAsync()).Order());
    }

    [Fact]
    public async Task Ghosts_in_the_owners_index_do_not_eat_the_quota()
    {
        // What a crash between the owner's write and the workspace's leaves: slots for ids without a workspace.
        var owner = "ghosted-" + Guid.NewGuid().ToString("N")[..6];
        var index = Client.GetGrain<IOwnerGrain>(owner);
        foreach (var ghost in new[] { "calm-otter-ghost000001", "calm-otter-ghost000002", "calm-otter-ghost000003" })
        {
            await index.AcquireRunSlotAsync(ghost);
        }

        var grain = await RunningAsync(owner);
        Assert.Equal([grain.GetPrimaryKeyString()], (await index.RunSlotsAsync()).ToArray());
        Assert.Equal([grain.GetPrimaryKeyString()], (await index.ListAsync()).ToArray());
    }

    [Fact]
    public async Task A_start_whose_hook_never_ends_fails_at_the_deadline_and_frees_its_slot()
    {
        var grain = Client.GetGrain<IWorkspaceGrain>(WorkspaceId.NewId());
        var spec = Specs.New();
        // The IDE never answers (a hook or a server that hangs holds Initializing the same way).
        _runtime.Block(nameof(IWorkspaceRuntime.ProbeIdeAsync));
        try
        {
            await grain.CreateAsync(spec);
            var failed = await Eventually.PhaseAsync(grain, WorkspacePhase.Failed);
            Assert.Equal("Initializing did not finish within 1 s (Workspaces:Deadlines:Initializing).", failed.Reason);
        }
        finally
        {
            _runtime.Release(nameof(IWorkspaceRuntime.ProbeIdeAsync));
        }

        Assert.Empty(await Client.GetGrain<IOwnerGrain>(spec.Owner).RunSlotsAsync());
        var instance = await _runtime.InspectAsync(grain.GetPrimaryKeyString(), CancellationToken.None);
        Assert.NotEqual(InstanceState.Running, instance?.State);
    }

    [Fact]
    public async Task An_internal_error_fails_at_once_with_words_not_a_type_name()
    {
        var grain = Client.GetGrain<IWorkspaceGrain>(WorkspaceId.NewId());
        _runtime.FailNext(nameof(IWorkspaceRuntime.PrepareImageAsync), new InvalidOperationException("the plan is inconsistent"));
        await grain.CreateAsync(Specs.New());

        var failed = await Eventually.PhaseAsync(grain, WorkspacePhase.Failed);
        Assert.Equal("The platform hit an internal error while building the image (the plan is inconsistent); it has been logged.", failed.Reason);
        Assert.DoesNotContain(failed.RecentEvents, e => e.Message.Contains("Retrying", StringComparison.Ordinal));
        Assert.DoesNotContain("InvalidOperationException", failed.Reason);
    }
}
