namespace CloudDevEnv.Grains.Tests;

/// <summary>devcontainer.json's <c>waitFor</c>: the workspace is Running (its IDE reachable) once the hooks up to it
/// have finished; the later ones go on in the background, and their failure is reported without taking the IDE away.</summary>
[Collection(ClusterCollection.Name)]
public sealed class WaitForTests(ClusterFixture fixture)
{
    private WorkspaceRuntimeDouble Runtime => fixture.Runtime;

    private (IWorkspaceGrain Grain, string Id, string Url) NewWorkspace(string devcontainer)
    {
        var url = $"https://github.com/octo/r{Guid.NewGuid():N}.git";
        Runtime.RepositoryFiles[url] = new Dictionary<string, string> { [".devcontainer/devcontainer.json"] = devcontainer };
        var grain = fixture.Client.GetGrain<IWorkspaceGrain>(WorkspaceId.NewId());
        return (grain, grain.GetPrimaryKeyString(), url);
    }

    /// <summary>Makes the workspace's exec of <paramref name="command"/> end with <paramref name="result"/> until disposed.</summary>
    private Failing FailingExec(string id, string command, ExecResult result)
    {
        Runtime.ExecHandler = (workspace, request) => workspace == id && request.Command.Contains(command) ? result : null;
        return new Failing(Runtime);
    }

    private sealed class Failing(WorkspaceRuntimeDouble runtime) : IDisposable
    {
        public void Dispose() => runtime.ExecHandler = null;
    }

    private int Runs(string id, string fragment) => Runtime.Execs(id).Count(e => e.Command.Any(a => a.Contains(fragment, StringComparison.Ordinal)));

    [Fact]
    public async Task A_slow_postCreateCommand_runs_after_the_workspace_is_Running_and_its_IDE_answers()
    {
        var (grain, id, url) = NewWorkspace("""
            { "image": "example.org/dev:1", "onCreateCommand": "echo on-create", "postCreateCommand": "echo slow-post-create", "postStartCommand": "echo post-start" }
            """);
        var slow = Runtime.HoldExec(id, "slow-post-create");
        await grain.CreateAsync(Specs.New(repoUrl: url));

        var running = await Eventually.PhaseAsync(grain, WorkspacePhase.Running);
        Assert.True(running.HooksRunning);
        Assert.Null(running.HookFailure);
        Assert.True(await Runtime.ProbeIdeAsync(id, CancellationToken.None));
        Assert.Equal(1, Runs(id, "on-create"));
        Assert.Equal(0, Runs(id, "post-start"));

        slow.SetResult();
        var done = await Eventually.HooksDoneAsync(grain);
        Assert.Equal(WorkspacePhase.Running, done.Phase);
        Assert.Equal((1, 1, 1), (Runs(id, "on-create"), Runs(id, "slow-post-create"), Runs(id, "post-start")));
        Assert.Contains(done.RecentEvents, e => e.Message == "The lifecycle commands after waitFor finished.");

        // postStartCommand ran after postCreateCommand, as the spec orders them.
        var order = Runtime.Execs(id).Select(e => string.Join(' ', e.Command)).ToList();
        Assert.True(order.FindIndex(c => c.Contains("slow-post-create")) < order.FindIndex(c => c.Contains("post-start")));
    }

    [Fact]
    public async Task WaitFor_postCreateCommand_keeps_the_workspace_from_Running_until_that_hook_finished()
    {
        var (grain, id, url) = NewWorkspace("""
            { "image": "example.org/dev:1", "waitFor": "postCreateCommand", "postCreateCommand": "echo slow-post-create", "postStartCommand": "echo post-start" }
            """);
        var slow = Runtime.HoldExec(id, "slow-post-create");
        await grain.CreateAsync(Specs.New(repoUrl: url));

        await Eventually.TrueAsync(() => Task.FromResult(Runs(id, "slow-post-create") == 1), "postCreateCommand to start");
        await Task.Delay(300);
        Assert.Equal(WorkspacePhase.Initializing, (await grain.GetStatusAsync()).Phase);

        slow.SetResult();
        var running = await Eventually.PhaseAsync(grain, WorkspacePhase.Running);
        await Eventually.HooksDoneAsync(grain);
        Assert.Equal((1, 1), (Runs(id, "slow-post-create"), Runs(id, "post-start")));
        Assert.Equal(WorkspacePhase.Running, running.Phase);
    }

    [Fact]
    public async Task A_failing_postCreateCommand_is_reported_in_the_status_and_the_workspace_stays_Running()
    {
        var (grain, id, url) = NewWorkspace("""
            { "image": "example.org/dev:1", "postCreateCommand": "npm ci-that-fails", "postStartCommand": "echo post-start" }
            """);
        using var failing = FailingExec(id, "npm ci-that-fails", new ExecResult(1, "npm ERR! missing script: ci-that-fails"));
        await grain.CreateAsync(Specs.New(repoUrl: url));
        var done = await Eventually.HooksDoneAsync(grain);

        Assert.Equal(WorkspacePhase.Running, done.Phase);
        Assert.Equal("postCreateCommand failed with exit code 1: npm ERR! missing script: ci-that-fails", done.HookFailure);
        Assert.Contains(done.RecentEvents, e => e.Kind == WorkspaceEventKind.Error && e.Message.StartsWith("postCreateCommand failed", StringComparison.Ordinal)
            && e.Message.EndsWith("The workspace stays up; its IDE works, without what the command would have done.", StringComparison.Ordinal));
        Assert.Equal(0, Runs(id, "post-start"));
        Assert.NotNull((await grain.GetRouteAsync()).Gateway);

        // The failure is this start's: the next start runs the hook again, and forgets it once it passes.
        failing.Dispose();
        await grain.StopAsync("tester");
        await Eventually.PhaseAsync(grain, WorkspacePhase.Stopped);
        await grain.StartAsync("tester");
        var again = await Eventually.HooksDoneAsync(grain);
        Assert.Null(again.HookFailure);
        Assert.Equal(2, Runs(id, "npm ci-that-fails"));
    }

    [Fact]
    public async Task A_failing_hook_up_to_waitFor_still_fails_the_launch()
    {
        var (grain, id, url) = NewWorkspace("""
            { "image": "example.org/dev:1", "updateContentCommand": "make deps-that-fail", "postCreateCommand": "echo post-create" }
            """);
        using var failing = FailingExec(id, "make deps-that-fail", new ExecResult(2, "make: *** No rule"));
        await grain.CreateAsync(Specs.New(repoUrl: url));
        var failed = await Eventually.PhaseAsync(grain, WorkspacePhase.Failed);
        Assert.Equal("updateContentCommand failed with exit code 2: make: *** No rule", failed.Reason);
        Assert.Equal(0, Runs(id, "post-create"));
    }

    [Fact]
    public async Task A_stop_ends_a_hook_still_running_and_the_next_start_runs_it_again_once()
    {
        var (grain, id, url) = NewWorkspace("""
            { "image": "example.org/dev:1", "onCreateCommand": "echo on-create", "postCreateCommand": "echo slow-post-create" }
            """);
        var slow = Runtime.HoldExec(id, "slow-post-create");
        await grain.CreateAsync(Specs.New(repoUrl: url));
        await Eventually.PhaseAsync(grain, WorkspacePhase.Running);
        await Eventually.TrueAsync(() => Task.FromResult(Runs(id, "slow-post-create") == 1), "postCreateCommand to start");

        await grain.StopAsync("tester");
        var stopped = await Eventually.PhaseAsync(grain, WorkspacePhase.Stopped);
        Assert.False(stopped.HooksRunning);

        slow.SetResult();
        await grain.StartAsync("tester");
        await Eventually.HooksDoneAsync(grain);
        Assert.Equal((1, 2), (Runs(id, "on-create"), Runs(id, "slow-post-create")));
    }
}
