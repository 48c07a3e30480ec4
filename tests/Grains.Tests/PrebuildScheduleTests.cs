using CloudDevEnv.Contracts.Prebuilds;
using CloudDevEnv.Grains.Prebuilds;
using Microsoft.Extensions.DependencyInjection;
using Orleans.TestingHost;

namespace CloudDevEnv.Grains.Tests;

/// <summary>Platform prebuilds kept fresh (Prebuilds:RefreshInterval): a reminder builds each one again on its schedule,
/// for as long as the registration it made is the repository's, and a push (RefreshAsync) rebuilds only those.</summary>
public sealed class PrebuildScheduleTests : IAsyncLifetime
{
    private static readonly TimeSpan Interval = TimeSpan.FromSeconds(2);

    private readonly ShiftableTimeProvider _clock = new();
    private readonly WorkspaceRuntimeDouble _runtime = new();
    private InProcessTestCluster _cluster = null!;

    public async Task InitializeAsync() => _cluster = await ShiftedClockCluster.StartAsync(
        _clock,
        _runtime,
        new Dictionary<string, string?>
        {
            ["Prebuilds:Registry"] = "registry.test:5000/prebuilds",
            ["Prebuilds:RefreshInterval"] = Interval.ToString(),
        },
        (services, _) => services.Configure<Orleans.Hosting.ReminderOptions>(o => o.MinimumReminderPeriod = TimeSpan.FromSeconds(1)));

    public async Task DisposeAsync() => await _cluster.DisposeAsync();

    private string NewRepository()
    {
        var url = $"https://github.com/octo/sched-{Guid.NewGuid():N}";
        _runtime.RepositoryFiles[url] = new Dictionary<string, string>
        {
            [".devcontainer/devcontainer.json"] = """{ "image": "example.org/dev:1", "onCreateCommand": "make deps" }""",
        };
        return url;
    }

    private int SavedFor(string url) => _runtime.Saved.Count(s => s.Save.Labels["dev.clouddevenv.prebuild.repository"] == url);

    private static async Task<PrebuildBuildStatus> DoneAsync(IPrebuildBuildGrain grain, Func<PrebuildBuildStatus, bool>? which = null)
    {
        PrebuildBuildStatus? status = null;
        await Eventually.TrueAsync(
            async () => (status = await grain.GetAsync()) is { Phase: not PrebuildBuildPhase.Building } done && (which?.Invoke(done) ?? true),
            "the prebuild build to finish");
        return status!;
    }

    [Fact]
    public async Task A_platform_prebuild_is_built_again_on_its_schedule_until_the_registration_is_no_longer_its_own()
    {
        var url = NewRepository();
        var grain = _cluster.Client.GetGrain<IPrebuildBuildGrain>(PrebuildBuildKey.Of(url, "main"));
        await grain.StartAsync("ci");
        var first = await DoneAsync(grain);
        Assert.True(first.Phase == PrebuildBuildPhase.Succeeded, first.Reason + string.Join("\n", first.Events));
        Assert.Equal("ci", first.RequestedBy);
        Assert.Contains("Running onCreateCommand.", first.Events);

        var scheduled = await DoneAsync(grain, s => s.RequestedBy == PrebuildBuildGrain.ScheduleRequester);
        Assert.Equal(PrebuildBuildPhase.Succeeded, scheduled.Phase);
        Assert.True(scheduled.StartedAt > first.FinishedAt);
        Assert.True(SavedFor(url) >= 2);

        // A workflow registers its own image for the ref: from now on the prebuild is the workflow's.
        var registry = _cluster.Client.GetGrain<IPrebuildRegistryGrain>(url);
        await registry.RegisterAsync(new PrebuildRequest("main", "ghcr.io/octo/sched:1", null, "workflow"));
        await DoneAsync(grain);
        var builds = SavedFor(url);
        await Task.Delay(Interval * 3);
        Assert.Equal(builds, SavedFor(url));
        Assert.Null(await grain.RefreshAsync("github-push"));
        Assert.Equal("ghcr.io/octo/sched:1", (await registry.FindAsync("main"))!.Image);
    }

    [Fact]
    public async Task A_push_rebuilds_only_a_prebuild_built_here_and_never_one_that_was_unregistered()
    {
        var never = _cluster.Client.GetGrain<IPrebuildBuildGrain>(PrebuildBuildKey.Of(NewRepository(), null));
        Assert.Null(await never.RefreshAsync("github-push"));
        Assert.Null(await never.GetAsync());

        var url = NewRepository();
        var grain = _cluster.Client.GetGrain<IPrebuildBuildGrain>(PrebuildBuildKey.Of(url, null));
        await grain.StartAsync("ci");
        await DoneAsync(grain, s => s.Phase == PrebuildBuildPhase.Succeeded);
        var pushed = await grain.RefreshAsync("github-push");
        Assert.Equal(("github-push", PrebuildBuildPhase.Building), (pushed!.RequestedBy, pushed.Phase));
        await DoneAsync(grain, s => s.RequestedBy == "github-push");

        // The operator removes the prebuild: neither a push nor the schedule brings it back.
        await _cluster.Client.GetGrain<IPrebuildRegistryGrain>(url).UnregisterAsync(null);
        var builds = SavedFor(url);
        Assert.Null(await grain.RefreshAsync("github-push"));
        await Task.Delay(Interval * 3);
        Assert.Equal(builds, SavedFor(url));
        Assert.Null(await _cluster.Client.GetGrain<IPrebuildRegistryGrain>(url).FindAsync(null));
    }
}
