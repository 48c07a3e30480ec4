namespace CloudDevEnv.Grains.Tests;

[Collection(ClusterCollection.Name)]
public sealed class QuotaTests(ClusterFixture fixture)
{
    [Fact]
    public async Task Fifty_parallel_launches_for_one_owner_grant_exactly_the_quota()
    {
        var owner = "burst-" + Guid.NewGuid().ToString("N")[..6];
        var ids = Enumerable.Range(0, 50).Select(_ => WorkspaceId.NewId()).ToArray();

        var results = await Task.WhenAll(ids.Select(async id =>
        {
            try
            {
                await fixture.Client.GetGrain<IWorkspaceGrain>(id).CreateAsync(Specs.New(owner));
                return (id, error: (WorkspaceRejectedException?)null);
            }
            catch (WorkspaceRejectedException e)
            {
                return (id, error: e);
            }
        }));

        var granted = results.Where(r => r.error is null).Select(r => r.id).ToArray();
        var refused = results.Where(r => r.error is not null).ToArray();
        Assert.Equal(ClusterFixture.Quota, granted.Length);
        Assert.All(refused, r => Assert.Equal(WorkspaceRejection.QuotaExceeded, r.error!.Kind));
        Assert.Equal(granted.Order(), (await fixture.Client.GetGrain<IOwnerGrain>(owner).ListAsync()).Order());

        // Nothing is left of the refused launches.
        foreach (var (id, _) in refused)
        {
            var notFound = await Assert.ThrowsAsync<WorkspaceRejectedException>(() => fixture.Client.GetGrain<IWorkspaceGrain>(id).GetStatusAsync());
            Assert.Equal(WorkspaceRejection.NotFound, notFound.Kind);
            Assert.False(fixture.Runtime.Exists(id));
        }
    }

    [Fact]
    public async Task Only_running_workspaces_count_and_starting_a_stopped_one_is_checked_too()
    {
        var owner = "quota-" + Guid.NewGuid().ToString("N")[..6];
        var grains = Enumerable.Range(0, ClusterFixture.Quota).Select(_ => fixture.Client.GetGrain<IWorkspaceGrain>(WorkspaceId.NewId())).ToArray();
        foreach (var grain in grains)
        {
            await grain.CreateAsync(Specs.New(owner));
        }

        var extra = fixture.Client.GetGrain<IWorkspaceGrain>(WorkspaceId.NewId());
        var refused = await Assert.ThrowsAsync<WorkspaceRejectedException>(() => extra.CreateAsync(Specs.New(owner)));
        Assert.Equal(WorkspaceRejection.QuotaExceeded, refused.Kind);
        Assert.Contains("(10)", refused.Message);

        await grains[0].StopAsync("tester");
        await extra.CreateAsync(Specs.New(owner));

        var restart = await Assert.ThrowsAsync<WorkspaceRejectedException>(() => grains[0].StartAsync("tester"));
        Assert.Equal(WorkspaceRejection.QuotaExceeded, restart.Kind);
        Assert.Equal(DesiredState.Stopped, (await grains[0].GetStatusAsync()).Desired);

        await grains[1].DeleteAsync("tester");
        await grains[0].StartAsync("tester");
        await Eventually.PhaseAsync(grains[1], WorkspacePhase.Deleted);
        var listed = await fixture.Client.GetGrain<IOwnerGrain>(owner).ListAsync();
        Assert.Equal(ClusterFixture.Quota, listed.Length);
        Assert.DoesNotContain(grains[1].GetPrimaryKeyString(), listed);
        Assert.Contains(extra.GetPrimaryKeyString(), listed);
    }

    [Fact]
    public async Task Concurrent_start_and_stop_commands_converge_on_the_last_one()
    {
        var grain = fixture.Client.GetGrain<IWorkspaceGrain>(WorkspaceId.NewId());
        await grain.CreateAsync(Specs.New());

        for (var round = 0; round < 5; round++)
        {
            await Task.WhenAll(Enumerable.Range(0, 10).Select(i => i % 2 == 0 ? grain.StopAsync("tester") : grain.StartAsync("tester")));
        }

        var desired = (await grain.GetStatusAsync()).Desired;
        var settled = await Eventually.PhaseAsync(grain, desired == DesiredState.Running ? WorkspacePhase.Running : WorkspacePhase.Stopped);
        Assert.Equal(desired, settled.Desired);

        await grain.StopAsync("tester");
        await Eventually.PhaseAsync(grain, WorkspacePhase.Stopped);
    }
}
