namespace CloudDevEnv.Grains.Tests;

[Collection(ClusterCollection.Name)]
public sealed class WorkspaceLifecycleTests(ClusterFixture fixture)
{
    private IWorkspaceGrain NewGrain() => fixture.Client.GetGrain<IWorkspaceGrain>(WorkspaceId.NewId());

    [Fact]
    public async Task Create_goes_through_every_start_phase_to_running()
    {
        var grain = NewGrain();
        var created = await grain.CreateAsync(Specs.New());

        Assert.Equal(WorkspacePhase.Pending, created.Phase);
        Assert.Equal(DesiredState.Running, created.Desired);
        Assert.Equal($"http://{grain.GetPrimaryKeyString()}.localhost:5080/", created.Url);

        var running = await Eventually.PhaseAsync(grain, WorkspacePhase.Running);
        var phases = running.RecentEvents.Where(e => e.Kind == WorkspaceEventKind.Phase).Select(e => e.Phase).ToArray();
        Assert.Equal(
            [WorkspacePhase.Pending, WorkspacePhase.Building, WorkspacePhase.Creating, WorkspacePhase.Initializing, WorkspacePhase.Running],
            phases);
        Assert.Equal(ImageSource.Fallback, running.Image!.Source);
        Assert.Equal("double-" + grain.GetPrimaryKeyString(), running.Instance);
        Assert.True(running.RecentEvents.Select(e => e.Sequence).SequenceEqual(Enumerable.Range(1, running.RecentEvents.Length).Select(i => (long)i)));
        Assert.True(running.RecentEvents.Zip(running.RecentEvents.Skip(1)).All(p => p.First.At <= p.Second.At));
    }

    [Fact]
    public async Task The_clone_runs_inside_the_workspace_at_the_requested_ref()
    {
        var grain = NewGrain();
        await grain.CreateAsync(Specs.New(repoUrl: "git@github.com:octo/tools.git", gitRef: "release/2.0"));
        await Eventually.PhaseAsync(grain, WorkspacePhase.Running);

        var id = grain.GetPrimaryKeyString();
        var clone = Assert.Single(fixture.Runtime.Execs(id), e => e.Command.Contains("clone"));
        Assert.Equal(["--branch", "release/2.0", "--", "git@github.com:octo/tools.git", "/workspaces/.cde-clone-tools"], clone.Command.TakeLast(5));
        Assert.Contains("--depth", clone.Command);

        // Into a staging folder, moved into place once git is done (there is no checkout in a volume to adopt here).
        Assert.Contains(fixture.Runtime.Execs(id), e => e.Command is ["/bin/sh", "-c", _, "cde-place", "/workspaces/tools", "/workspaces/.cde-clone-tools", "", "vscode", "adopt"]);
        Assert.Contains(fixture.Runtime.Execs(id), e => e.Command is ["/bin/sh", "-c", _, "cde-place", "/workspaces/tools", "/workspaces/.cde-clone-tools", "", "vscode", "place"]);
        Assert.Equal(0, (await fixture.Runtime.ExecAsync(id, new ExecRequest(["test", "-e", "/workspaces/tools/.git"]), new Progress<string>(), default)).ExitCode);
    }

    [Fact]
    public async Task A_clone_cut_short_is_never_taken_for_a_complete_one()
    {
        // The first clone dies half way, after git made .git (a kill -9 of the host, say): the next attempt must clone
        // again, not find .git and go Running with a half checkout.
        var grain = NewGrain();
        var id = grain.GetPrimaryKeyString();
        var first = true;
        fixture.Runtime.ExecHandler = (workspaceId, request) =>
        {
            if (workspaceId != id || !request.Command.Contains("clone") || !first)
            {
                return null;
            }

            first = false;
            fixture.Runtime.WriteFile(id, request.Command[^1] + "/.git", "half");
            throw new WorkspaceRuntimeException("the container went away mid-clone", isPermanent: false);
        };
        try
        {
            await grain.CreateAsync(Specs.New());
            await Eventually.PhaseAsync(grain, WorkspacePhase.Running);
        }
        finally
        {
            fixture.Runtime.ExecHandler = null;
        }

        Assert.Equal(2, fixture.Runtime.Execs(id).Count(e => e.Command.Contains("clone")));
    }

    [Fact]
    public async Task A_workspace_folder_already_holding_files_fails_in_words_and_is_not_mixed_with_the_clone()
    {
        // An image that ships files at /workspaces/hello (no .git): the clone must not be poured over them, and retrying
        // cannot help, so the workspace fails at once and says which folder and what to do.
        var grain = NewGrain();
        var id = grain.GetPrimaryKeyString();
        // The placement finds the folder taken (its script's exit 4, as on the engine; the script removes the staging folder).
        fixture.Runtime.ExecHandler = (workspaceId, request) =>
            workspaceId == id && request.Command is ["/bin/sh", "-c", _, "cde-place", "/workspaces/hello", _, _, _, "place"] ? new ExecResult(4, string.Empty) : null;
        try
        {
            await grain.CreateAsync(Specs.New());
            var failed = await Eventually.PhaseAsync(grain, WorkspacePhase.Failed);
            Assert.Contains("/workspaces/hello already holds files that are not a clone", failed.Reason);
        }
        finally
        {
            fixture.Runtime.ExecHandler = null;
        }

        Assert.Equal(1, fixture.Runtime.Execs(id).Count(e => e.Command.Contains("clone")));
    }

    [Fact]
    public async Task A_requested_image_is_used_and_said_so()
    {
        var grain = NewGrain();
        await grain.CreateAsync(Specs.New(image: "registry.example.com/team/dev:1.2"));
        var running = await Eventually.PhaseAsync(grain, WorkspacePhase.Running);

        Assert.Equal("registry.example.com/team/dev:1.2", running.Image!.Image);
        Assert.Equal(ImageSource.Request, running.Image.Source);
    }

    [Fact]
    public async Task Creating_an_existing_id_is_a_conflict_and_changes_nothing()
    {
        var grain = NewGrain();
        var spec = Specs.New();
        await grain.CreateAsync(spec);

        var error = await Assert.ThrowsAsync<WorkspaceRejectedException>(() => grain.CreateAsync(Specs.New()));
        Assert.Equal(WorkspaceRejection.Conflict, error.Kind);
        Assert.Equal(spec.Owner, (await grain.GetStatusAsync()).Spec.Owner);
    }

    [Fact]
    public async Task Stop_then_start_keeps_the_clone_and_runs_again()
    {
        var grain = NewGrain();
        var id = grain.GetPrimaryKeyString();
        await grain.CreateAsync(Specs.New());
        await Eventually.PhaseAsync(grain, WorkspacePhase.Running);

        await grain.StopAsync("tester");
        var stopped = await Eventually.PhaseAsync(grain, WorkspacePhase.Stopped);
        Assert.Equal(DesiredState.Stopped, stopped.Desired);

        await grain.StartAsync("tester");
        var running = await Eventually.PhaseAsync(grain, WorkspacePhase.Running);
        var phases = running.RecentEvents.Where(e => e.Kind == WorkspaceEventKind.Phase).Select(e => e.Phase).SkipWhile(p => p != WorkspacePhase.Stopping);
        Assert.Equal([WorkspacePhase.Stopping, WorkspacePhase.Stopped, WorkspacePhase.Creating, WorkspacePhase.Initializing, WorkspacePhase.Running], phases);
        Assert.Single(fixture.Runtime.Execs(id), e => e.Command.Contains("clone"));

        // Each event says who caused it: the creator, the user behind each command, the platform for its own steps.
        Assert.Equal(running.Spec.Owner, running.RecentEvents[0].Actor);
        Assert.Single(running.RecentEvents, e => e.Message == "Stop requested." && e.Actor == "tester");
        Assert.Single(running.RecentEvents, e => e.Message == "Start requested." && e.Actor == "tester");
        Assert.All(running.RecentEvents.Where(e => e.Kind == WorkspaceEventKind.Phase).Skip(1), e => Assert.Equal(WorkspaceActor.Platform, e.Actor));
    }

    [Fact]
    public async Task Stop_twice_is_one_stop_and_start_twice_is_one_start()
    {
        var grain = NewGrain();
        await grain.CreateAsync(Specs.New());
        await Eventually.PhaseAsync(grain, WorkspacePhase.Running);

        await Task.WhenAll(grain.StopAsync("tester"), grain.StopAsync("tester"));
        await grain.StopAsync("tester");
        var stopped = await Eventually.PhaseAsync(grain, WorkspacePhase.Stopped);
        Assert.Single(stopped.RecentEvents, e => e.Message == "Stop requested.");
        Assert.Single(stopped.RecentEvents, e => e.Kind == WorkspaceEventKind.Phase && e.Phase == WorkspacePhase.Stopped);

        await Task.WhenAll(grain.StartAsync("tester"), grain.StartAsync("tester"));
        var running = await Eventually.PhaseAsync(grain, WorkspacePhase.Running);
        Assert.Single(running.RecentEvents, e => e.Message == "Start requested.");
    }

    [Fact]
    public async Task Delete_removes_the_instance_and_is_idempotent()
    {
        var grain = NewGrain();
        var id = grain.GetPrimaryKeyString();
        var spec = Specs.New();
        await grain.CreateAsync(spec);
        await Eventually.PhaseAsync(grain, WorkspacePhase.Running);

        await grain.DeleteAsync("tester");
        await grain.DeleteAsync("tester");
        var deleted = await Eventually.PhaseAsync(grain, WorkspacePhase.Deleted);
        Assert.Single(deleted.RecentEvents, e => e.Message == "Delete requested.");
        Assert.False(fixture.Runtime.Exists(id));
        Assert.DoesNotContain(id, await fixture.Client.GetGrain<IOwnerGrain>(spec.Owner).ListAsync());

        var again = await grain.DeleteAsync("tester");
        Assert.Equal(WorkspacePhase.Deleted, again.Phase);
    }

    [Theory]
    [InlineData("start")]
    [InlineData("stop")]
    public async Task Commands_on_a_deleted_workspace_are_conflicts(string command)
    {
        var grain = NewGrain();
        await grain.CreateAsync(Specs.New());
        await grain.DeleteAsync("tester");
        await Eventually.PhaseAsync(grain, WorkspacePhase.Deleted);

        var error = await Assert.ThrowsAsync<WorkspaceRejectedException>(() => command == "start" ? grain.StartAsync("tester") : grain.StopAsync("tester"));
        Assert.Equal(WorkspaceRejection.Conflict, error.Kind);
        Assert.Contains("deleted", error.Message);
        Assert.Equal(WorkspacePhase.Deleted, (await grain.GetStatusAsync()).Phase);
    }

    [Fact]
    public async Task Commands_on_an_unknown_id_are_not_found()
    {
        var grain = NewGrain();
        foreach (var command in new Func<Task>[] { grain.GetStatusAsync, () => grain.StartAsync("tester"), () => grain.StopAsync("tester"), () => grain.DeleteAsync("tester"), grain.GetRouteAsync })
        {
            var error = await Assert.ThrowsAsync<WorkspaceRejectedException>(command);
            Assert.Equal(WorkspaceRejection.NotFound, error.Kind);
        }
    }

    [Fact]
    public async Task Stop_during_a_slow_image_build_cancels_it()
    {
        var grain = NewGrain();
        fixture.Runtime.Block(nameof(IWorkspaceRuntime.PrepareImageAsync));
        try
        {
            await grain.CreateAsync(Specs.New());
            await Eventually.PhaseAsync(grain, WorkspacePhase.Building);

            // Answered while the build is blocked: the reconcile loop does not hold the grain.
            await grain.StopAsync("tester");
            var stopped = await Eventually.PhaseAsync(grain, WorkspacePhase.Stopped);
            Assert.Null(stopped.Image);
        }
        finally
        {
            fixture.Runtime.Release(nameof(IWorkspaceRuntime.PrepareImageAsync));
        }

        await grain.StartAsync("tester");
        var running = await Eventually.PhaseAsync(grain, WorkspacePhase.Running);
        Assert.Contains(running.RecentEvents, e => e.Kind == WorkspaceEventKind.Phase && e.Phase == WorkspacePhase.Pending);
    }

    [Fact]
    public async Task A_container_that_dies_is_interrupted_and_started_again()
    {
        var grain = NewGrain();
        var id = grain.GetPrimaryKeyString();
        await grain.CreateAsync(Specs.New());
        await Eventually.PhaseAsync(grain, WorkspacePhase.Running);

        fixture.Runtime.Kill(id, exitCode: 137);
        await Eventually.TrueAsync(
            async () => (await grain.GetStatusAsync()).RecentEvents.Any(e => e.Phase == WorkspacePhase.Interrupted),
            "the workspace to notice the dead container");
        var running = await Eventually.PhaseAsync(grain, WorkspacePhase.Running);

        var interrupted = Assert.Single(running.RecentEvents, e => e.Kind == WorkspaceEventKind.Phase && e.Phase == WorkspacePhase.Interrupted);
        Assert.Contains("exit code 137", interrupted.Message);
        Assert.Single(fixture.Runtime.Execs(id), e => e.Command.Contains("clone"));
    }

    [Fact]
    public async Task A_delete_while_the_repository_is_read_leaves_no_clone_instance_behind()
    {
        var grain = NewGrain();
        var id = grain.GetPrimaryKeyString();
        fixture.Runtime.Block(nameof(IWorkspaceRuntime.ArchiveAsync));
        try
        {
            await grain.CreateAsync(Specs.New());
            await Eventually.TrueAsync(() => Task.FromResult(fixture.Runtime.Exists(id + "-prepare")), "the clone instance to exist");

            // The cut-short step's own removal of its clone instance fails (the engine hiccups): the delete still removes it.
            fixture.Runtime.FailNext(nameof(IWorkspaceRuntime.DeleteAsync), new WorkspaceRuntimeException("the engine did not answer", isPermanent: false));
            await grain.DeleteAsync("tester");
            await Eventually.PhaseAsync(grain, WorkspacePhase.Deleted);
            Assert.False(fixture.Runtime.Exists(id + "-prepare"));
            Assert.False(fixture.Runtime.Exists(id));
        }
        finally
        {
            fixture.Runtime.Release(nameof(IWorkspaceRuntime.ArchiveAsync));
        }
    }

    [Fact]
    public async Task An_ide_that_stops_answering_is_started_again_in_the_same_container()
    {
        var grain = NewGrain();
        var id = grain.GetPrimaryKeyString();
        await grain.CreateAsync(Specs.New());
        await Eventually.PhaseAsync(grain, WorkspacePhase.Running);
        var creates = fixture.Runtime.Calls(nameof(IWorkspaceRuntime.CreateAsync));

        fixture.Runtime.StopIde(id);
        await Eventually.TrueAsync(
            async () => (await grain.GetStatusAsync()).RecentEvents.Any(e => e.Phase == WorkspacePhase.Interrupted),
            "the workspace to notice the silent IDE");
        var running = await Eventually.PhaseAsync(grain, WorkspacePhase.Running);

        Assert.Contains(running.RecentEvents, e => e.Kind == WorkspaceEventKind.Phase && e.Message.Contains("The IDE stopped answering."));
        Assert.Equal(2, fixture.Runtime.Execs(id).Count(e => e.Detached));
        Assert.Single(fixture.Runtime.Execs(id), e => e.Command.Contains("clone"));
        Assert.True(fixture.Runtime.Calls(nameof(IWorkspaceRuntime.CreateAsync)) - creates <= 1, "the container is adopted, not replaced");
    }

    [Fact]
    public async Task A_container_removed_behind_our_back_is_recreated_and_cloned_again()
    {
        var grain = NewGrain();
        var id = grain.GetPrimaryKeyString();
        await grain.CreateAsync(Specs.New());
        await Eventually.PhaseAsync(grain, WorkspacePhase.Running);

        fixture.Runtime.Remove(id);
        await Eventually.TrueAsync(
            async () => fixture.Runtime.Exists(id) && (await grain.GetStatusAsync()).Phase == WorkspacePhase.Running, "the workspace to come back");

        var status = await grain.GetStatusAsync();
        Assert.Contains(status.RecentEvents, e => e.Phase == WorkspacePhase.Interrupted && e.Message.Contains("disappeared"));
        Assert.Single(fixture.Runtime.Execs(id), e => e.Command.Contains("clone"));
    }

    [Fact]
    public async Task A_new_activation_adopts_the_running_container_instead_of_creating_another()
    {
        var grain = NewGrain();
        var id = grain.GetPrimaryKeyString();
        await grain.CreateAsync(Specs.New());
        await Eventually.PhaseAsync(grain, WorkspacePhase.Running);
        var creates = fixture.Runtime.Calls(nameof(IWorkspaceRuntime.CreateAsync), id);

        await fixture.Cluster.DeactivateAsync((IAddressable)grain);
        Assert.Equal(WorkspacePhase.Running, (await grain.GetStatusAsync()).Phase);

        // The new activation has looked at the container (health checks), and asked for no other.
        await Eventually.HealthChecksAsync(fixture.Runtime, grain);
        Assert.Equal(creates, fixture.Runtime.Calls(nameof(IWorkspaceRuntime.CreateAsync), id));
        Assert.Equal(WorkspacePhase.Running, (await grain.GetStatusAsync()).Phase);
        Assert.Single(fixture.Runtime.Execs(id), e => e.Command.Contains("clone"));
    }

    [Fact]
    public async Task An_activation_lost_between_creating_the_container_and_recording_it_converges_on_the_next()
    {
        var grain = NewGrain();
        var id = grain.GetPrimaryKeyString();
        fixture.Runtime.Block(WorkspaceRuntimeDouble.AfterCreate(id));
        try
        {
            await grain.CreateAsync(Specs.New());
            await Eventually.TrueAsync(() => Task.FromResult(fixture.Runtime.Exists(id)), "the container to exist");
            var creating = await grain.GetStatusAsync();
            Assert.Equal((WorkspacePhase.Creating, null), (creating.Phase, creating.Instance));

            // The activation goes with the step in flight: the container exists, the workspace's record does not say so.
            await fixture.Cluster.DeactivateAsync((IAddressable)grain).WaitAsync(TimeSpan.FromSeconds(20));
        }
        finally
        {
            fixture.Runtime.Release(WorkspaceRuntimeDouble.AfterCreate(id));
        }

        // The next activation repeats the step, and the runtime hands over the container the first one made.
        var running = await Eventually.PhaseAsync(grain, WorkspacePhase.Running);
        Assert.Equal(2, fixture.Runtime.Calls(nameof(IWorkspaceRuntime.CreateAsync), id));
        Assert.Single(fixture.Runtime.Created, s => s.WorkspaceId == id);
        Assert.Equal("double-" + id, running.Instance);
        Assert.Single(running.RecentEvents, e => e.Kind == WorkspaceEventKind.Phase && e.Phase == WorkspacePhase.Initializing);
    }

    [Fact]
    public async Task An_activation_lost_in_the_middle_of_initializing_converges_on_the_next()
    {
        var grain = NewGrain();
        var id = grain.GetPrimaryKeyString();
        fixture.Runtime.Block(nameof(IWorkspaceRuntime.RestoreAsync));
        try
        {
            // A repository on this host: its clone is copied into the workspace in Initializing (restore blocked here).
            await grain.CreateAsync(Specs.New(repoUrl: "file://" + Path.Combine(fixture.LocalRepoRoot, "hello")));
            await Eventually.PhaseAsync(grain, WorkspacePhase.Initializing);
            Assert.True(fixture.Runtime.Exists(id));

            // The activation goes with the step in flight; what it created stays behind.
            await fixture.Cluster.DeactivateAsync((IAddressable)grain).WaitAsync(TimeSpan.FromSeconds(20));
        }
        finally
        {
            fixture.Runtime.Release(nameof(IWorkspaceRuntime.RestoreAsync));
        }

        var running = await Eventually.PhaseAsync(grain, WorkspacePhase.Running);
        Assert.Single(running.RecentEvents, e => e.Kind == WorkspaceEventKind.Phase && e.Phase == WorkspacePhase.Running);
        Assert.Equal(2, fixture.Runtime.Calls(nameof(IWorkspaceRuntime.RestoreAsync), id));
        Assert.Single(fixture.Runtime.Created, s => s.WorkspaceId == id);
    }

    [Fact]
    public async Task Observers_hear_every_phase_change()
    {
        var grain = NewGrain();
        var observer = new RecordingObserver();
        var reference = fixture.Client.CreateObjectReference<IWorkspaceObserver>(observer);
        fixture.Runtime.Block(nameof(IWorkspaceRuntime.PrepareImageAsync));
        try
        {
            await grain.CreateAsync(Specs.New());
            await grain.SubscribeAsync(reference);
            await Eventually.PhaseAsync(grain, WorkspacePhase.Building);
        }
        finally
        {
            fixture.Runtime.Release(nameof(IWorkspaceRuntime.PrepareImageAsync));
        }

        await Eventually.PhaseAsync(grain, WorkspacePhase.Running);
        await Eventually.TrueAsync(() => Task.FromResult(observer.Phases.Count >= 3), "the observer to hear Creating, Initializing and Running");
        Assert.Equal([WorkspacePhase.Creating, WorkspacePhase.Initializing, WorkspacePhase.Running], observer.Phases);
        Assert.Contains(observer.Events, e => e.Kind == WorkspaceEventKind.Log);
        Assert.All(observer.Ids, id => Assert.Equal(grain.GetPrimaryKeyString(), id));
    }

    [Fact]
    public async Task Public_ports_reach_the_route_and_running_workspaces_have_endpoints()
    {
        var grain = NewGrain();
        await grain.CreateAsync(Specs.New());
        await Eventually.PhaseAsync(grain, WorkspacePhase.Running);

        var route = await grain.SetPortVisibilityAsync(3000, isPublic: true, "ada");
        Assert.Contains(3000, route.PublicPorts);
        Assert.Equal(fixture.Runtime.EndpointBase, route.Gateway);
        Assert.True(route.GatewaySecret?.Length >= InstanceGateway.MinSecretLength);
        Assert.Equal(route.GatewaySecret, Assert.Single(fixture.Runtime.Created, s => s.WorkspaceId == route.Id).Gateway!.Secret);
        var changed = (await grain.GetStatusAsync()).RecentEvents[^1];
        Assert.Equal(("Port 3000 is now public.", "ada"), (changed.Message, changed.Actor));

        route = await grain.SetPortVisibilityAsync(3000, isPublic: false, "ada");
        Assert.Empty(route.PublicPorts);

        var error = await Assert.ThrowsAsync<WorkspaceRejectedException>(() => grain.SetPortVisibilityAsync(70000, true, "ada"));
        Assert.Equal("port", error.Field);
    }

    [Fact]
    public async Task The_ide_port_cannot_be_made_public()
    {
        var grain = NewGrain();
        await grain.CreateAsync(Specs.New());
        var idePort = new CloudDevEnv.Grains.Workspaces.WorkspaceOptions().IdePort;

        var error = await Assert.ThrowsAsync<WorkspaceRejectedException>(() => grain.SetPortVisibilityAsync(idePort, true, "ada"));
        Assert.Equal(("port", WorkspaceRejection.Invalid), (error.Field, error.Kind));
        Assert.Contains($"Port {idePort} is the workspace's IDE", error.Message);
        Assert.Empty((await grain.GetRouteAsync()).PublicPorts);

        // Making it private (what it is) stays allowed.
        await grain.SetPortVisibilityAsync(idePort, false, "ada");
    }
}
