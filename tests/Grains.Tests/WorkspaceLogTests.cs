using CloudDevEnv.Grains.Workspaces;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Hosting;
using Orleans.Serialization;
using Orleans.Storage;
using Orleans.TestingHost;

namespace CloudDevEnv.Grains.Tests;

/// <summary>Build, clone and hook output: told to whoever follows the workspace's events, kept out of its stored record
/// and away from the proxy's route subscription, and numbered so that a client never skips an event.</summary>
public sealed class WorkspaceLogTests : IAsyncLifetime
{
    private readonly WorkspaceRuntimeDouble _runtime = new();
    private readonly GatedGrainStorageDouble.Store _store = new();
    private readonly string _repoRoot = Directory.CreateTempSubdirectory("cde-log-repos-").FullName;
    private InProcessTestCluster _cluster = null!;

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(Path.Combine(_repoRoot, "hello"));
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Workspaces:HealthCheckInterval"] = "00:00:00.100",
            ["Workspaces:LocalRepoRoots:0"] = _repoRoot,
        }).Build();

        var builder = new InProcessTestClusterBuilder(1);
        builder.ConfigureSilo((_, silo) =>
        {
            silo.Services.AddKeyedSingleton<IGrainStorage>(
                StorageNames.Workspaces, (sp, _) => new GatedGrainStorageDouble(sp.GetRequiredService<Serializer>(), _store));
            silo.UseInMemoryReminderService();
            silo.Services.AddWorkspaceGrains(configuration);
            silo.Services.AddSingleton<IWorkspaceRuntime>(_runtime);
        });
        _cluster = builder.Build();
        await _cluster.DeployAsync();
    }

    public async Task DisposeAsync()
    {
        await _cluster.DisposeAsync();
        Directory.Delete(_repoRoot, recursive: true);
    }

    [Fact]
    public async Task Log_lines_reach_event_subscribers_but_neither_the_stored_record_nor_the_route_subscribers()
    {
        var grain = _cluster.Client.GetGrain<IWorkspaceGrain>(WorkspaceId.NewId());
        var events = new RecordingObserver();
        var routes = new RecordingObserver();
        _runtime.Block(nameof(IWorkspaceRuntime.PrepareImageAsync));
        try
        {
            await grain.CreateAsync(Specs.New());
            await grain.SubscribeAsync(_cluster.Client.CreateObjectReference<IWorkspaceObserver>(events));
            await grain.SubscribeToRouteAsync(_cluster.Client.CreateObjectReference<IWorkspaceObserver>(routes));
        }
        finally
        {
            _runtime.Release(nameof(IWorkspaceRuntime.PrepareImageAsync));
        }

        var running = await Eventually.PhaseAsync(grain, WorkspacePhase.Running);
        await Eventually.TrueAsync(() => Task.FromResult(routes.Phases.Contains(WorkspacePhase.Running)), "the route subscriber to hear Running");

        Assert.Contains(events.Events, e => e.Kind == WorkspaceEventKind.Log && e.Message.StartsWith("Cloning", StringComparison.Ordinal));
        Assert.Contains(running.RecentEvents, e => e.Kind == WorkspaceEventKind.Log && e.Message.StartsWith("Cloning", StringComparison.Ordinal));
        Assert.DoesNotContain(routes.Events, e => e.Kind == WorkspaceEventKind.Log);
        Assert.Equal([WorkspacePhase.Creating, WorkspacePhase.Initializing, WorkspacePhase.Running], routes.Phases);

        var stored = (WorkspaceState)_store.Stored[grain.GetPrimaryKeyString()];
        Assert.NotEmpty(stored.Events);
        Assert.DoesNotContain(stored.Events, e => e.Kind == WorkspaceEventKind.Log);
    }

    [Fact]
    public async Task Events_after_an_activation_lost_with_unstored_log_lines_are_numbered_after_every_line_told()
    {
        var grain = _cluster.Client.GetGrain<IWorkspaceGrain>(WorkspaceId.NewId());
        var events = new RecordingObserver();
        _runtime.Block(nameof(IWorkspaceRuntime.RestoreAsync));
        try
        {
            // Initializing's log lines ("Cloning: cloning …") come after its last write; then the activation goes.
            _runtime.Block(nameof(IWorkspaceRuntime.PrepareImageAsync));
            await grain.CreateAsync(Specs.New(repoUrl: "file://" + Path.Combine(_repoRoot, "hello")));
            await grain.SubscribeAsync(_cluster.Client.CreateObjectReference<IWorkspaceObserver>(events));
            _runtime.Release(nameof(IWorkspaceRuntime.PrepareImageAsync));
            await Eventually.TrueAsync(
                () => Task.FromResult(events.Events.Any(e => e.Kind == WorkspaceEventKind.Log && e.Phase == WorkspacePhase.Initializing)),
                "a log line of Initializing");
            await _cluster.DeactivateAsync((IAddressable)grain).WaitAsync(TimeSpan.FromSeconds(20));
        }
        finally
        {
            _runtime.Release(nameof(IWorkspaceRuntime.RestoreAsync));
        }

        var told = events.Events.Max(e => e.Sequence);
        var running = await Eventually.PhaseAsync(grain, WorkspacePhase.Running);
        var after = running.RecentEvents.Where(e => e.Kind == WorkspaceEventKind.Phase && e.Phase == WorkspacePhase.Running).Single();
        Assert.True(after.Sequence > told, $"Running is event {after.Sequence}, but a client was told of event {told} before.");
    }
}
