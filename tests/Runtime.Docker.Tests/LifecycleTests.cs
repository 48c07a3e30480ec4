using System.Diagnostics;
using Docker.DotNet.Models;

namespace CloudDevEnv.Runtime.Docker.Tests;

[Collection(DockerCollection.Name)]
public sealed class LifecycleTests(DockerFixture fx, ITestOutputHelper output)
{
    private static readonly IProgress<string> Quiet = new Progress<string>();

    [Fact]
    public async Task What_the_devcontainer_policy_let_a_repository_ask_is_applied_and_nothing_more()
    {
        var id = fx.NewWorkspaceId("policy");
        try
        {
            var spec = fx.Spec(id, gateway: DockerFixture.Gateway) with
            {
                CapAdd = ["SYS_PTRACE"],
                SecurityOptions = ["seccomp=unconfined"],
                ShmSizeBytes = 256L * 1024 * 1024,
            };
            await fx.Runtime.CreateAsync(spec, default);

            var host = (await fx.Engine.Containers.InspectContainerAsync("cde-" + id)).HostConfig!;
            Assert.Contains("CAP_SYS_PTRACE", host.CapAdd);
            Assert.Contains("ALL", host.CapDrop);
            Assert.Equal(["no-new-privileges", "seccomp=unconfined"], host.SecurityOpt);
            Assert.Equal(256L * 1024 * 1024, host.ShmSize);
            Assert.False(host.Privileged);

            // Without them: the runtime's own set only.
            var plain = fx.NewWorkspaceId("policy-plain");
            try
            {
                await fx.Runtime.CreateAsync(fx.Spec(plain, gateway: DockerFixture.Gateway), default);
                var plainHost = (await fx.Engine.Containers.InspectContainerAsync("cde-" + plain)).HostConfig!;
                Assert.DoesNotContain("CAP_SYS_PTRACE", plainHost.CapAdd);
                Assert.Equal(["no-new-privileges"], plainHost.SecurityOpt);
            }
            finally
            {
                await fx.Runtime.DeleteAsync(plain, default);
            }
        }
        finally
        {
            await fx.Runtime.DeleteAsync(id, default);
        }
    }

    [Fact]
    public async Task Create_applies_labels_volumes_loopback_publishing_limits_and_security()
    {
        var id = fx.NewWorkspaceId("create");
        try
        {
            var spec = fx.Spec(id, gateway: DockerFixture.Gateway, resources: new InstanceResources(1.5, 512L * 1024 * 1024),
                environment: new Dictionary<string, string> { ["GREETING"] = "hello world" });
            var watch = Stopwatch.StartNew();
            var created = await fx.Runtime.CreateAsync(spec, default);
            output.WriteLine($"create took {watch.ElapsedMilliseconds} ms");

            Assert.Equal(id, created.WorkspaceId);
            Assert.Equal(DockerFixture.Owner, created.Owner);
            Assert.Equal("cde-" + id, created.Name);
            Assert.Equal(WorkspaceImages.WorkspaceImage, created.Image);
            Assert.Equal(TimeSpan.FromSeconds(10), (await fx.Engine.Containers.InspectContainerAsync("cde-" + id)).Config!.StopTimeout);
            Assert.Equal(InstanceState.Created, created.State);
            Assert.Null(created.Gateway);

            var c = await fx.Engine.Containers.InspectContainerAsync("cde-" + id);
            Assert.NotNull(c.Config);
            Assert.Equal("true", c.Config.Labels[RuntimeLabels.Managed]);
            Assert.Equal(id, c.Config.Labels[RuntimeLabels.WorkspaceId]);
            Assert.Equal(DockerFixture.Owner, c.Config.Labels[RuntimeLabels.Owner]);
            Assert.Contains("GREETING=hello world", c.Config.Env);

            // Security: never privileged, no-new-privileges, capabilities dropped to a small set, init as PID 1.
            var host = c.HostConfig!;
            Assert.False(host.Privileged);
            Assert.Contains(host.SecurityOpt, o => o.StartsWith("no-new-privileges", StringComparison.Ordinal));
            Assert.Contains("ALL", host.CapDrop);
            Assert.DoesNotContain(host.CapAdd, cap => cap.Contains("SYS_ADMIN") || cap.Contains("NET_RAW") || cap.Contains("NET_ADMIN"));
            Assert.True(host.Init);

            // Limits from the spec.
            Assert.Equal(1_500_000_000L, host.NanoCPUs);
            Assert.Equal(512L * 1024 * 1024, host.Memory);
            Assert.True(host.PidsLimit > 0);

            // One port published, the gateway's, on 127.0.0.1 only, on an ephemeral host port; a network of its own.
            Assert.Equal(["61100/tcp"], host.PortBindings.Keys);
            Assert.Equal("cde-" + id, host.NetworkMode);
            Assert.Contains($"CDE_GATEWAY_SECRET={DockerFixture.Gateway.Secret}", c.Config.Env);
            foreach (var (port, bindings) in host.PortBindings)
            {
                var binding = Assert.Single(bindings);
                Assert.Equal("127.0.0.1", binding.HostIP);
                Assert.True(string.IsNullOrEmpty(binding.HostPort), $"{port} must get an ephemeral host port");
            }

            // Volumes: /workspaces and the home folder (the image's user is vscode: /home), labelled; the IDE read-only.
            var workspaces = Assert.Single(c.Mounts, m => m.Destination == "/workspaces");
            Assert.Equal("volume", workspaces.Type);
            Assert.Equal($"cde-{id}-workspaces", workspaces.Name);
            var home = Assert.Single(c.Mounts, m => m.Destination == "/home");
            Assert.Equal($"cde-{id}-home", home.Name);
            var ide = Assert.Single(c.Mounts, m => m.Destination == WorkspaceImages.IdeBundlePath);
            Assert.Equal(WorkspaceImages.IdeBundleVolume, ide.Name);
            Assert.False(ide.RW);
            foreach (var name in new[] { workspaces.Name!, home.Name! })
            {
                var volume = await fx.Engine.Volumes.InspectAsync(name);
                Assert.Equal(id, volume.Labels[RuntimeLabels.WorkspaceId]);
                Assert.Equal(DockerFixture.Owner, volume.Labels[RuntimeLabels.Owner]);
                Assert.Equal("true", volume.Labels[RuntimeLabels.Managed]);
            }

            watch.Restart();
            await fx.Runtime.StartAsync(id, default);
            output.WriteLine($"start took {watch.ElapsedMilliseconds} ms");
            var running = await fx.Runtime.InspectAsync(id, default);
            Assert.NotNull(running);
            Assert.Equal(InstanceState.Running, running.State);
            Assert.Equal("127.0.0.1", running.Gateway!.Host);
            Assert.True(running.Gateway.Port > 0);

            c = await fx.Engine.Containers.InspectContainerAsync("cde-" + id);
            Assert.All(c.NetworkSettings!.Ports!.Values.SelectMany(b => b), b => Assert.Equal("127.0.0.1", b.HostIP));

            // As the kernel sees it: no_new_privs set, NET_RAW (bit 13) not in the effective set, tini is PID 1.
            var status = await fx.Runtime.ExecAsync(id, new ExecRequest(["sh", "-c", "grep -E '^(NoNewPrivs|CapEff)' /proc/self/status; cat /proc/1/comm"]), Quiet, default);
            output.WriteLine(status.OutputTail);
            Assert.Equal(0, status.ExitCode);
            Assert.Contains("NoNewPrivs:\t1", status.OutputTail);
            var capEff = Convert.ToUInt64(status.OutputTail.Split('\n').Single(l => l.StartsWith("CapEff:")).Split('\t')[1], 16);
            Assert.Equal(0UL, capEff & (1UL << 13));
            Assert.Contains("docker-init", status.OutputTail);

            // Root (the container's user) keeps the reduced set, e.g. CHOWN for package installs; the workspace user has none.
            var chown = await fx.Runtime.ExecAsync(id, new ExecRequest(["sh", "-c", "touch /tmp/f && chown vscode /tmp/f && stat -c %U /tmp/f"]), Quiet, default);
            Assert.Equal("vscode", chown.OutputTail);
            var userCaps = await fx.Runtime.ExecAsync(id, new ExecRequest(["sh", "-c", "grep ^CapEff /proc/self/status"], User: WorkspaceImages.WorkspaceUser), Quiet, default);
            Assert.Equal("CapEff:\t0000000000000000", userCaps.OutputTail);

            // Start of a running workspace is fine.
            await fx.Runtime.StartAsync(id, default);
        }
        finally
        {
            await fx.Runtime.DeleteAsync(id, default);
        }
    }

    [Fact]
    public async Task Stop_keeps_the_volumes_and_files_survive_a_stop_and_start()
    {
        var id = fx.NewWorkspaceId("stop");
        try
        {
            await fx.Runtime.CreateAsync(fx.Spec(id), default);
            await fx.Runtime.StartAsync(id, default);
            var write = await fx.Runtime.ExecAsync(id, new ExecRequest(
                ["sh", "-c", "mkdir -p /workspaces/repo && echo survives > /workspaces/repo/keep.txt && echo dotfile > ~/.keep && whoami"],
                User: WorkspaceImages.WorkspaceUser), Quiet, default);
            Assert.Equal(0, write.ExitCode);
            Assert.Equal(WorkspaceImages.WorkspaceUser, write.OutputTail.Trim());

            var watch = Stopwatch.StartNew();
            await fx.Runtime.StopAsync(id, TimeSpan.FromSeconds(5), default);
            output.WriteLine($"stop took {watch.ElapsedMilliseconds} ms");
            Assert.True(watch.Elapsed < TimeSpan.FromSeconds(4), "the keep-alive process under init must stop on SIGTERM, not wait for the kill");

            var stopped = await fx.Runtime.InspectAsync(id, default);
            Assert.NotNull(stopped);
            Assert.Equal(InstanceState.Exited, stopped.State);
            Assert.Null(stopped.Gateway);
            Assert.NotNull(stopped.ExitCode);
            await fx.Engine.Volumes.InspectAsync($"cde-{id}-workspaces");
            await fx.Engine.Volumes.InspectAsync($"cde-{id}-home");

            // Stopping a stopped workspace is fine, so is stopping one that does not exist.
            await fx.Runtime.StopAsync(id, TimeSpan.FromSeconds(1), default);
            await fx.Runtime.StopAsync(fx.NewWorkspaceId("never"), TimeSpan.FromSeconds(1), default);

            await fx.Runtime.StartAsync(id, default);
            var read = await fx.Runtime.ExecAsync(id, new ExecRequest(["sh", "-c", "cat /workspaces/repo/keep.txt ~/.keep"], User: WorkspaceImages.WorkspaceUser), Quiet, default);
            Assert.Equal(0, read.ExitCode);
            Assert.Equal("survives\ndotfile", read.OutputTail);
        }
        finally
        {
            await fx.Runtime.DeleteAsync(id, default);
        }
    }

    [Fact]
    public async Task Create_of_an_existing_workspace_adopts_it()
    {
        var id = fx.NewWorkspaceId("adopt");
        try
        {
            var first = await fx.Runtime.CreateAsync(fx.Spec(id, gateway: DockerFixture.Gateway), default);
            await fx.Runtime.StartAsync(id, default);
            var again = await fx.Runtime.CreateAsync(fx.Spec(id, gateway: DockerFixture.Gateway), default);
            Assert.Equal(first.Name, again.Name);
            Assert.Equal(InstanceState.Running, again.State);

            // Concurrent creates of a new workspace end with one container.
            var other = fx.NewWorkspaceId("adopt-race");
            try
            {
                var results = await Task.WhenAll(Enumerable.Range(0, 3).Select(_ => fx.Runtime.CreateAsync(fx.Spec(other), default)));
                Assert.All(results, r => Assert.Equal("cde-" + other, r.Name));
                var (containers, _) = await fx.LeftoversAsync(other);
                Assert.Single(containers);
            }
            finally
            {
                await fx.Runtime.DeleteAsync(other, default);
            }

            var (mine, volumes) = await fx.LeftoversAsync(id);
            Assert.Single(mine);
            Assert.Equal(2, volumes.Count);
        }
        finally
        {
            await fx.Runtime.DeleteAsync(id, default);
        }
    }

    [Fact]
    public async Task A_container_created_but_never_started_is_finished_before_it_is_adopted()
    {
        var id = fx.NewWorkspaceId("half");
        try
        {
            // What a crash between creating the container and handing its folders to the user leaves: a container that
            // exists, was never started, and whose /workspaces still belongs to root (made here as root, which needs no
            // hand-over, from an image without a /workspaces of its own).
            await fx.Runtime.CreateAsync(fx.Spec(id, image: WorkspaceImages.BaseImage, user: "root"), default);

            await fx.Runtime.CreateAsync(fx.Spec(id, image: WorkspaceImages.BaseImage, user: "nobody"), default);
            await fx.Runtime.StartAsync(id, default);
            var write = await fx.Runtime.ExecAsync(id, new ExecRequest(
                ["sh", "-c", "stat -c %U /workspaces && touch /workspaces/mine"], User: "nobody"), Quiet, default);
            Assert.True(write.ExitCode == 0, write.OutputTail);
            Assert.Equal("nobody", write.OutputTail.Split('\n')[0].Trim());
            var (containers, _) = await fx.LeftoversAsync(id);
            Assert.Single(containers);
        }
        finally
        {
            await fx.Runtime.DeleteAsync(id, default);
        }
    }

    [Fact]
    public async Task Delete_removes_container_and_volumes_and_is_idempotent()
    {
        var id = fx.NewWorkspaceId("delete");
        try
        {
            await fx.Runtime.CreateAsync(fx.Spec(id), default);
            await fx.Runtime.StartAsync(id, default);
            var (before, beforeVolumes) = await fx.LeftoversAsync(id);
            Assert.Single(before);
            Assert.Equal(2, beforeVolumes.Count);

            await fx.Runtime.DeleteAsync(id, default);

            var (after, afterVolumes) = await fx.LeftoversAsync(id);
            Assert.Empty(after);
            Assert.Empty(afterVolumes);
            Assert.Null(await fx.Runtime.InspectAsync(id, default));
            var ex = await Assert.ThrowsAsync<global::Docker.DotNet.DockerContainerNotFoundException>(() => fx.Engine.Containers.InspectContainerAsync("cde-" + id));
            Assert.NotNull(ex);

            await fx.Runtime.DeleteAsync(id, default);
            await fx.Runtime.DeleteAsync(fx.NewWorkspaceId("never"), default);
        }
        finally
        {
            await fx.Runtime.DeleteAsync(id, default);
        }
    }

    [Fact]
    public async Task List_sees_the_labelled_containers()
    {
        var a = fx.NewWorkspaceId("list");
        var b = fx.NewWorkspaceId("list");
        try
        {
            await fx.Runtime.CreateAsync(fx.Spec(a, gateway: DockerFixture.Gateway), default);
            await fx.Runtime.CreateAsync(fx.Spec(b), default);
            await fx.Runtime.StartAsync(a, default);

            var all = await fx.Runtime.ListAsync(default);
            var la = Assert.Single(all, i => i.WorkspaceId == a);
            var lb = Assert.Single(all, i => i.WorkspaceId == b);
            Assert.Equal(DockerFixture.Owner, la.Owner);
            Assert.Equal(InstanceState.Running, la.State);
            Assert.Equal("127.0.0.1", la.Gateway!.Host);
            Assert.Null(lb.Gateway);
            Assert.Equal(InstanceState.Created, lb.State);
            Assert.Equal("cde-" + b, lb.Name);

            await fx.Runtime.StopAsync(a, TimeSpan.FromSeconds(2), default);
            var stopped = Assert.Single(await fx.Runtime.ListAsync(default), i => i.WorkspaceId == a);
            Assert.Equal(InstanceState.Exited, stopped.State);
            Assert.NotNull(stopped.ExitCode);

            await fx.Runtime.DeleteAsync(b, default);
            Assert.DoesNotContain(await fx.Runtime.ListAsync(default), i => i.WorkspaceId == b);
        }
        finally
        {
            await fx.Runtime.DeleteAsync(a, default);
            await fx.Runtime.DeleteAsync(b, default);
        }
    }

    [Fact]
    public async Task An_installation_lists_only_what_it_created()
    {
        using var first = new DockerWorkspaceRuntime(new DockerRuntimeOptions { Installation = $"test-{fx.RunId}-a" });
        using var second = new DockerWorkspaceRuntime(new DockerRuntimeOptions { Installation = $"test-{fx.RunId}-b" });
        var a = fx.NewWorkspaceId("inst");
        var b = fx.NewWorkspaceId("inst");
        try
        {
            await first.CreateAsync(fx.Spec(a), default);
            await second.CreateAsync(fx.Spec(b), default);

            var seenByFirst = (await first.ListAsync(default)).Select(i => i.WorkspaceId).ToList();
            Assert.Contains(a, seenByFirst);
            Assert.DoesNotContain(b, seenByFirst);
            Assert.Contains(b, (await second.ListAsync(default)).Select(i => i.WorkspaceId));

            var volumes = (await fx.Engine.Volumes.ListAsync(new VolumesListParameters
            {
                Filters = new Dictionary<string, IDictionary<string, bool>>
                {
                    ["label"] = new Dictionary<string, bool> { [$"{RuntimeLabels.Installation}=test-{fx.RunId}-a"] = true },
                },
            })).Volumes ?? [];
            Assert.Equal(2, volumes.Count);
        }
        finally
        {
            await first.DeleteAsync(a, default);
            await second.DeleteAsync(b, default);
        }
    }

    [Fact]
    public async Task A_container_that_is_not_ours_is_never_adopted()
    {
        var id = fx.NewWorkspaceId("foreign");
        var created = await fx.Engine.Containers.CreateContainerAsync(new CreateContainerParameters
        {
            Name = "cde-" + id,
            Image = WorkspaceImages.BaseImage,
            Cmd = ["true"],
        });
        try
        {
            var ex = await Assert.ThrowsAsync<WorkspaceRuntimeException>(() => fx.Runtime.CreateAsync(fx.Spec(id), default));
            Assert.True(ex.IsPermanent);
            Assert.Contains("does not manage", ex.Message);
        }
        finally
        {
            await fx.Engine.Containers.RemoveContainerAsync(created.ID, new ContainerRemoveParameters { Force = true });
            await fx.Runtime.DeleteAsync(id, default);
        }
    }

    [Fact]
    public async Task Operations_on_a_missing_or_invalid_workspace_fail_clearly()
    {
        var missing = fx.NewWorkspaceId("missing");
        Assert.Null(await fx.Runtime.InspectAsync(missing, default));
        var start = await Assert.ThrowsAsync<WorkspaceRuntimeException>(() => fx.Runtime.StartAsync(missing, default));
        Assert.True(start.IsPermanent);
        Assert.Contains("has no container", start.Message);
        Assert.False(await fx.Runtime.ProbeIdeAsync(missing, default));

        var invalid = await Assert.ThrowsAsync<WorkspaceRuntimeException>(() => fx.Runtime.CreateAsync(fx.Spec("Not_A_Label"), default));
        Assert.True(invalid.IsPermanent);

        var noImage = fx.NewWorkspaceId("noimage");
        try
        {
            var ex = await Assert.ThrowsAsync<WorkspaceRuntimeException>(() =>
                fx.Runtime.CreateAsync(fx.Spec(noImage, image: "clouddevenv-tests/absent:never"), default));
            Assert.True(ex.IsPermanent);
            Assert.Contains("not present", ex.Message);
        }
        finally
        {
            await fx.Runtime.DeleteAsync(noImage, default);
        }
    }
}
