namespace CloudDevEnv.Grains.Tests;

[Collection(ClusterCollection.Name)]
public sealed class WorkspaceFailureTests(ClusterFixture fixture)
{
    private IWorkspaceGrain NewGrain() => fixture.Client.GetGrain<IWorkspaceGrain>(WorkspaceId.NewId());

    [Fact]
    public async Task A_transient_runtime_error_is_retried_with_backoff_and_recorded()
    {
        var grain = NewGrain();
        fixture.Runtime.FailNext(nameof(IWorkspaceRuntime.CreateAsync), new WorkspaceRuntimeException("Docker engine did not answer.", isPermanent: false));
        fixture.Runtime.FailNext(nameof(IWorkspaceRuntime.CreateAsync), new TimeoutException("socket timed out"));

        await grain.CreateAsync(Specs.New());
        var running = await Eventually.PhaseAsync(grain, WorkspacePhase.Running);

        var errors = running.RecentEvents.Where(e => e.Kind == WorkspaceEventKind.Error).ToArray();
        Assert.Equal(2, errors.Length);
        Assert.Contains("Docker engine did not answer", errors[0].Message);
        Assert.Contains("attempt 1 of 3", errors[0].Message);
        Assert.Contains("Building failed: socket timed out", errors[1].Message);
        Assert.Contains("attempt 2 of 3", errors[1].Message);
        Assert.True(errors[1].At - errors[0].At >= TimeSpan.FromMilliseconds(40), "the second attempt waited for the backoff");
    }

    [Fact]
    public async Task Too_many_transient_errors_fail_the_workspace_and_free_its_quota_slot()
    {
        var grain = NewGrain();
        var spec = Specs.New();
        for (var i = 0; i < 3; i++)
        {
            fixture.Runtime.FailNext(nameof(IWorkspaceRuntime.PrepareImageAsync), new WorkspaceRuntimeException("engine down", isPermanent: false));
        }

        await grain.CreateAsync(spec);
        var failed = await Eventually.PhaseAsync(grain, WorkspacePhase.Failed);
        Assert.Contains("engine down (gave up after 3 attempts)", failed.Reason);

        // The failed workspace no longer counts: the owner can launch a full quota of others.
        var others = Enumerable.Range(0, ClusterFixture.Quota).Select(_ => NewGrain().CreateAsync(spec));
        await Task.WhenAll(others);
    }

    [Fact]
    public async Task A_missing_image_fails_at_once_with_the_reason_and_start_retries()
    {
        var grain = NewGrain();
        fixture.Runtime.MissingImages.Add("example.org/nope:1");
        await grain.CreateAsync(Specs.New(image: "example.org/nope:1"));

        var failed = await Eventually.PhaseAsync(grain, WorkspacePhase.Failed);
        Assert.Equal("The image 'example.org/nope:1' does not exist.", failed.Reason);
        Assert.DoesNotContain(failed.RecentEvents, e => e.Kind == WorkspaceEventKind.Error);

        var restarted = await grain.StartAsync("tester");
        Assert.Equal(WorkspacePhase.Pending, restarted.Phase);
        await Eventually.PhaseAsync(grain, WorkspacePhase.Failed);
    }

    [Fact]
    public async Task A_failed_clone_fails_with_gits_message_and_stops_the_container()
    {
        var grain = NewGrain();
        var id = grain.GetPrimaryKeyString();
        fixture.Runtime.ExecHandler = (workspace, request) =>
            workspace == id && request.Command.Contains("clone")
                ? new ExecResult(128, "fatal: Remote branch nope not found in upstream origin")
                : null;
        try
        {
            await grain.CreateAsync(Specs.New(gitRef: "nope"));
            var failed = await Eventually.PhaseAsync(grain, WorkspacePhase.Failed);

            Assert.Equal("git clone failed (exit 128): fatal: Remote branch nope not found in upstream origin", failed.Reason);
            var instance = await fixture.Runtime.InspectAsync(id, CancellationToken.None);
            Assert.Equal(InstanceState.Exited, instance!.State);
        }
        finally
        {
            fixture.Runtime.ExecHandler = null;
        }
    }

    [Fact]
    public async Task A_failed_workspace_can_be_stopped_and_deleted()
    {
        var grain = NewGrain();
        fixture.Runtime.MissingImages.Add("example.org/gone:2");
        await grain.CreateAsync(Specs.New(image: "example.org/gone:2"));
        await Eventually.PhaseAsync(grain, WorkspacePhase.Failed);

        await grain.StopAsync("tester");
        await Eventually.PhaseAsync(grain, WorkspacePhase.Stopped);
        await grain.DeleteAsync("tester");
        await Eventually.PhaseAsync(grain, WorkspacePhase.Deleted);
    }

    [Fact]
    public async Task A_delete_that_keeps_failing_is_retried_by_the_next_delete()
    {
        var grain = NewGrain();
        var id = grain.GetPrimaryKeyString();
        await grain.CreateAsync(Specs.New());
        await Eventually.PhaseAsync(grain, WorkspacePhase.Running);
        for (var i = 0; i < 3; i++)
        {
            fixture.Runtime.FailNext(nameof(IWorkspaceRuntime.DeleteAsync), new WorkspaceRuntimeException("volume in use", isPermanent: false));
        }

        await grain.DeleteAsync("tester");
        var failed = await Eventually.PhaseAsync(grain, WorkspacePhase.Failed);
        Assert.Contains("volume in use", failed.Reason);
        Assert.True(fixture.Runtime.Exists(id));

        await grain.DeleteAsync("tester");
        await Eventually.PhaseAsync(grain, WorkspacePhase.Deleted);
        Assert.False(fixture.Runtime.Exists(id));
    }
}
