namespace CloudDevEnv.Workspaces.Docker.Tests;

[CollectionDefinition(Name)]
public sealed class StrictPolicyClusterCollection : ICollectionFixture<StrictPolicyClusterFixture>
{
    public const string Name = "workspaces on docker, under a strict devcontainer policy that allows seccomp=unconfined";
}

/// <summary>An operator who refuses what is outside the policy, and has allowed debuggers their seccomp setting.</summary>
public sealed class StrictPolicyClusterFixture : WorkspaceClusterFixture
{
    protected override IEnumerable<KeyValuePair<string, string?>> ExtraSettings =>
    [
        new("Workspaces:DevContainerPolicy:Strict", "true"),
        new("Workspaces:DevContainerPolicy:AllowedSecurityOptions:0", "seccomp=unconfined"),
    ];
}

/// <summary>Real-world settings outside the safety policy, on the real engine: by default the workspace launches without
/// them and names each in its status; an operator's strict policy refuses the configuration, and what the operator
/// allowed is applied.</summary>
[Collection(WorkspaceClusterCollection.Name)]
public sealed class DevContainerPolicyTests(WorkspaceClusterFixture fixture)
{
    /// <summary>Shaped like the configs of real projects: a debugger's needs, Docker-outside-of-Docker, a GPU.</summary>
    public const string Config = """
        {
          "name": "real-world",
          "capAdd": ["SYS_PTRACE"],
          "securityOpt": ["seccomp=unconfined"],
          "privileged": true,
          "runArgs": ["--init", "--shm-size=512m", "--gpus", "all"],
          "mounts": ["source=/var/run/docker.sock,target=/var/run/docker-host.sock,type=bind"],
          "postCreateCommand": "echo ran > /tmp/cde-policy-hook",
        }
        """;

    private readonly WorkspaceProbe _probe = new(fixture);

    [Fact]
    public async Task Settings_outside_the_policy_are_left_out_named_in_the_status_and_the_workspace_runs()
    {
        var repository = fixture.NewRepository("policy");
        repository.Write(".devcontainer/devcontainer.json", Config).Commit("main");
        var id = fixture.NewId("policy");
        var grain = fixture.Client.GetGrain<IWorkspaceGrain>(id);
        await grain.CreateAsync(new WorkspaceSpec(repository.Url, null, "wdt-owner", null, null, null));
        var running = await _probe.PhaseAsync(grain, WorkspacePhase.Running, seconds: 150);

        var notes = running.Image!.Notes;
        Assert.Contains("securityOpt: 'seccomp=unconfined' was left out: it turns off the seccomp system call filter", notes);
        Assert.Contains(notes, n => n.StartsWith("'mounts[0]' was left out: it bind-mounts a host path", StringComparison.Ordinal));
        Assert.Contains("'privileged': true was left out: it gives the container full control of the host", notes);
        Assert.Contains("runArgs: '--gpus all' was left out: it gives the container access to host devices", notes);
        Assert.Contains(running.RecentEvents, e => e.Kind == WorkspaceEventKind.Log && e.Message.Contains("'privileged': true was left out", StringComparison.Ordinal));
        Assert.Equal("ran", await _probe.ShAsync(id, "cat /tmp/cde-policy-hook"));

        // What the engine was asked for: none of it, but what the policy allows (SYS_PTRACE, a bigger /dev/shm).
        var container = await fixture.Engine.Containers.InspectContainerAsync("cde-" + id);
        Assert.False(container.HostConfig!.Privileged);
        Assert.Equal(["no-new-privileges"], container.HostConfig.SecurityOpt);
        Assert.Contains("CAP_SYS_PTRACE", container.HostConfig.CapAdd);
        Assert.Equal(512L * 1024 * 1024, container.HostConfig.ShmSize);
        Assert.Empty(container.HostConfig.DeviceRequests ?? []);
        Assert.DoesNotContain(container.Mounts, m => m.Source.Contains("docker.sock", StringComparison.Ordinal));
        Assert.NotEqual(0, (await _probe.TryShAsync(id, "test -S /var/run/docker-host.sock")).ExitCode);

        await grain.DeleteAsync("wdt-owner");
        await _probe.PhaseAsync(grain, WorkspacePhase.Deleted);
    }
}

/// <summary>The same configuration under the operator's strict policy: refused as a whole, naming the first setting; one
/// that asks only for what the operator allowed runs with it.</summary>
[Collection(StrictPolicyClusterCollection.Name)]
public sealed class StrictDevContainerPolicyTests(StrictPolicyClusterFixture fixture)
{
    private readonly WorkspaceProbe _probe = new(fixture);

    [Fact]
    public async Task A_strict_policy_refuses_the_configuration_and_applies_what_it_allows()
    {
        var refusedRepository = fixture.NewRepository("strict");
        refusedRepository.Write(".devcontainer/devcontainer.json", DevContainerPolicyTests.Config).Commit("main");
        var refused = fixture.Client.GetGrain<IWorkspaceGrain>(fixture.NewId("strict"));
        await refused.CreateAsync(new WorkspaceSpec(refusedRepository.Url, null, "wdt-owner", null, null, null));
        var failed = await _probe.PhaseAsync(refused, WorkspacePhase.Failed, seconds: 120);
        Assert.Contains("devcontainer.json is invalid", failed.Reason, StringComparison.Ordinal);
        Assert.Contains("not allowed", failed.Reason, StringComparison.Ordinal);

        var allowedRepository = fixture.NewRepository("allowed");
        allowedRepository.Write(".devcontainer/devcontainer.json", """{ "securityOpt": ["seccomp=unconfined"], "capAdd": ["SYS_PTRACE"] }""").Commit("main");
        var id = fixture.NewId("allowed");
        var allowed = fixture.Client.GetGrain<IWorkspaceGrain>(id);
        await allowed.CreateAsync(new WorkspaceSpec(allowedRepository.Url, null, "wdt-owner", null, null, null));
        await _probe.PhaseAsync(allowed, WorkspacePhase.Running, seconds: 150);
        var container = await fixture.Engine.Containers.InspectContainerAsync("cde-" + id);
        Assert.Equal(["no-new-privileges", "seccomp=unconfined"], container.HostConfig!.SecurityOpt);

        await allowed.DeleteAsync("wdt-owner");
        await refused.DeleteAsync("wdt-owner");
        await _probe.PhaseAsync(allowed, WorkspacePhase.Deleted);
        await _probe.PhaseAsync(refused, WorkspacePhase.Deleted);
    }
}
