using CloudDevEnv.Contracts.Workspaces;
using CloudDevEnv.Runtime.Docker;
using CloudDevEnv.Workspaces.Docker.Tests;

namespace CloudDevEnv.Runtime.Kubernetes.Tests;

/// <summary>Whole workspaces through the workspace grain with the Kubernetes runtime, unchanged: the repository is cloned
/// inside the pod, the hooks run there through exec, the IDE answers at the Service's node port with the gateway's secret,
/// the files survive stop → start on the PVC, an evicted pod is replaced by a new one on its own, and delete leaves
/// nothing in the namespace.</summary>
[Collection(GrainClusterCollection.Name)]
public sealed class WorkspaceOnKubernetesTests(GrainClusterFixture f)
{
    private const string Owner = "k8s-owner";
    private static readonly HttpClient Http = new(new SocketsHttpHandler { UseProxy = false, AllowAutoRedirect = false }) { Timeout = TimeSpan.FromSeconds(10) };

    [Fact]
    public async Task A_repository_launches_as_a_pod_with_its_hooks_run_once_its_IDE_answering_and_its_files_kept_across_stop_and_start()
    {
        var (repository, head) = Repository("launch", $$"""
            {
              "image": "{{WorkspaceImages.WorkspaceImage}}",
              "remoteUser": "vscode",
              "containerEnv": { "CDE_TEST_VAR": "from-container-env" },
              "onCreateCommand": "echo on-create >> /workspaces/.cde-on-create",
              "postCreateCommand": "echo \"$CDE_TEST_VAR $(id -un) $(pwd)\" > .cde-post-create",
              "postStartCommand": "echo started >> .cde-post-start",
            }
            """);
        var id = f.NewId("launch");
        var folder = $"/workspaces/{Path.GetFileName(repository.Path)}";
        var grain = f.Client.GetGrain<IWorkspaceGrain>(id);
        await grain.CreateAsync(new WorkspaceSpec(repository.Url, "main", Owner, null, null, null));

        var running = await PhaseAsync(grain, WorkspacePhase.Running, seconds: 150);
        Assert.Equal(ImageSource.DevContainerImage, running.Image!.Source);
        var pod = f.Api.Pod(GrainClusterFixture.Namespace, $"cde-{id}")!;
        Assert.Equal(id, pod.Metadata.Labels[RuntimeLabels.WorkspaceId]);
        Assert.False(pod.Spec.AutomountServiceAccountToken);
        Assert.Equal(head, await ShAsync(id, $"git -C {folder} rev-parse HEAD", "vscode"));
        Assert.Equal("vscode", await ShAsync(id, $"stat -c %U {folder}/README.md"));
        Assert.Equal($"from-container-env vscode {folder}", await ShAsync(id, $"cat {folder}/.cde-post-create"));
        Assert.Equal("on-create", await ShAsync(id, "cat /workspaces/.cde-on-create"));
        Assert.True(await IdeAnswersAsync(grain), "code-server does not answer at the workspace's Service");

        // Stop deletes the pod and keeps the claims; start is a new pod on them, with what was not committed.
        await ShAsync(id, $"echo keep-me > {folder}/uncommitted.txt", "vscode");
        await grain.StopAsync("tester");
        await PhaseAsync(grain, WorkspacePhase.Stopped);
        Assert.Null(f.Api.Pod(GrainClusterFixture.Namespace, $"cde-{id}"));
        Assert.Contains($"cde-{id}-workspaces", f.Api.Names("persistentvolumeclaims", GrainClusterFixture.Namespace));

        await grain.StartAsync("tester");
        await PhaseAsync(grain, WorkspacePhase.Running, seconds: 120);
        Assert.NotEqual(pod.Metadata.Uid, f.Api.Pod(GrainClusterFixture.Namespace, $"cde-{id}")!.Metadata.Uid);
        Assert.Equal("keep-me", await ShAsync(id, $"cat {folder}/uncommitted.txt"));
        Assert.Equal("started\nstarted", await ShAsync(id, $"cat {folder}/.cde-post-start"));
        Assert.Equal("on-create", await ShAsync(id, "cat /workspaces/.cde-on-create"));
        Assert.True(await IdeAnswersAsync(grain), "code-server does not answer after the restart");

        await DeleteAndVerifyAsync(grain, id);
    }

    [Fact]
    public async Task An_evicted_pod_makes_the_workspace_Interrupted_and_a_new_pod_brings_it_back()
    {
        var (repository, _) = Repository("evicted", "{}");
        var id = f.NewId("evicted");
        var grain = f.Client.GetGrain<IWorkspaceGrain>(id);
        await grain.CreateAsync(new WorkspaceSpec(repository.Url, null, Owner, null, null, null));
        var running = await PhaseAsync(grain, WorkspacePhase.Running, seconds: 150);
        Assert.Equal(ImageSource.Fallback, running.Image!.Source);
        var first = f.Api.Pod(GrainClusterFixture.Namespace, $"cde-{id}")!.Metadata.Uid;

        await f.Api.EvictAsync(GrainClusterFixture.Namespace, $"cde-{id}");
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (!(await grain.GetStatusAsync()).RecentEvents.Any(e => e.Kind == WorkspaceEventKind.Phase && e.Phase == WorkspacePhase.Interrupted))
        {
            Assert.True(DateTime.UtcNow < deadline, "the eviction was not noticed");
            await Task.Delay(100);
        }

        await PhaseAsync(grain, WorkspacePhase.Running, seconds: 120);
        Assert.NotEqual(first, f.Api.Pod(GrainClusterFixture.Namespace, $"cde-{id}")!.Metadata.Uid);
        Assert.True(await IdeAnswersAsync(grain), "code-server does not answer in the new pod");
        await DeleteAndVerifyAsync(grain, id);
    }

    private (TestRepository Repository, string Head) Repository(string name, string config)
    {
        var repository = TestRepository.Create(f.RepoRoot, $"{name}-{f.RunId}");
        repository.Write("README.md", "# test\n").Write(".devcontainer/devcontainer.json", config);
        return (repository, repository.Commit("main"));
    }

    private async Task DeleteAndVerifyAsync(IWorkspaceGrain grain, string id)
    {
        await grain.DeleteAsync("tester");
        await PhaseAsync(grain, WorkspacePhase.Deleted);
        foreach (var plural in new[] { "pods", "persistentvolumeclaims", "services", "secrets" })
        {
            Assert.DoesNotContain(f.Api.Names(plural, GrainClusterFixture.Namespace), n => n.Contains(id, StringComparison.Ordinal));
        }
    }

    private static async Task<WorkspaceStatus> PhaseAsync(IWorkspaceGrain grain, WorkspacePhase phase, int seconds = 90)
    {
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        var status = await grain.GetStatusAsync();
        while (status.Phase != phase || status.HooksRunning)
        {
            if (DateTime.UtcNow > deadline || (status.Phase == WorkspacePhase.Failed && phase != WorkspacePhase.Failed))
            {
                var events = string.Join("\n  ", status.RecentEvents.TakeLast(60).Select(e => $"{e.Kind} {e.Phase}: {e.Message}"));
                Assert.Fail($"Expected {phase} but the workspace is {status.Phase} ({status.Reason}). Events:\n  {events}");
            }

            await Task.Delay(100);
            status = await grain.GetStatusAsync();
        }

        return status;
    }

    private async Task<string> ShAsync(string id, string script, string? user = null)
    {
        var result = await f.Runtime.ExecAsync(id, new ExecRequest(["/bin/sh", "-c", script], User: user), new InlineProgress<string>(_ => { }), default);
        Assert.True(result.ExitCode == 0, $"`{script}` failed with {result.ExitCode}: {result.OutputTail}");
        return result.OutputTail.Trim();
    }

    private static async Task<bool> IdeAnswersAsync(IWorkspaceGrain grain)
    {
        var route = await grain.GetRouteAsync();
        if (route.Gateway is not { } gateway)
        {
            return false;
        }

        using var request = new HttpRequestMessage(HttpMethod.Get, gateway);
        request.Headers.Add(GatewayProtocol.SecretHeader, route.GatewaySecret);
        request.Headers.Add(GatewayProtocol.TargetHeader, GatewayProtocol.IdeTarget);
        using var response = await Http.SendAsync(request);
        return (int)response.StatusCode < 500;
    }
}
