namespace CloudDevEnv.Runtime.Kubernetes.Tests;

/// <summary>Status comes from the pod watch: an evicted pod or a lost node is seen without asking, a watch the server
/// drops is resumed from its resourceVersion, and one whose history the server compacted away (410 Gone) is replaced by a
/// new list — the workspace's state is right after each.</summary>
[Collection(StandInCollection.Name)]
public sealed class WatchTests(StandInFixture f)
{
    [Fact]
    public async Task An_evicted_pod_is_Exited_and_the_next_start_makes_a_new_pod_on_the_same_volumes()
    {
        var id = f.NewWorkspaceId("evict");
        var runtime = f.Runtime;
        var pod = $"cde-{id}";
        try
        {
            await runtime.CreateAsync(f.Spec(id, StandInFixture.Gateway), default);
            await runtime.StartAsync(id, default);
            await ExecOkAsync(runtime, id, "echo before > /workspaces/kept");
            var first = f.Api.Pod(StandInFixture.Namespace, pod)!.Metadata.Uid;

            await f.Api.EvictAsync(StandInFixture.Namespace, pod);
            var exited = await EventuallyAsync(async () => await runtime.InspectAsync(id, default), i => i?.State == InstanceState.Exited);
            Assert.Equal(137, exited!.ExitCode);

            await runtime.StartAsync(id, default);
            var second = f.Api.Pod(StandInFixture.Namespace, pod)!;
            Assert.NotEqual(first, second.Metadata.Uid);
            Assert.Equal("before", (await ExecOkAsync(runtime, id, "cat /workspaces/kept")).Trim());
        }
        finally
        {
            await runtime.DeleteAsync(id, default);
        }
    }

    [Fact]
    public async Task A_dropped_watch_resumes_and_an_expired_one_relists_and_neither_loses_a_change()
    {
        var id = f.NewWorkspaceId("watch");
        var runtime = f.Runtime;
        var pod = $"cde-{id}";
        try
        {
            await runtime.CreateAsync(f.Spec(id, StandInFixture.Gateway), default);
            await runtime.StartAsync(id, default);
            var before = runtime.WatchCounters;

            // Dropped: the watch comes back from where it was, with no new list, and sees the node go.
            f.Api.DropWatches();
            await EventuallyAsync(() => Task.FromResult(runtime.WatchCounters), c => c.Resumes > before.Resumes);
            await f.Api.LoseNodeAsync(StandInFixture.Namespace, pod);
            await EventuallyAsync(async () => await runtime.InspectAsync(id, default), i => i?.State == InstanceState.Exited);
            Assert.Equal(before.Lists, runtime.WatchCounters.Lists);

            // Expired: the history is compacted while the watch is away, so its resourceVersion is too old (410 Gone): a
            // new list, which brings the pod started meanwhile.
            await runtime.StartAsync(id, default);
            var running = runtime.WatchCounters;
            f.Api.Compact();
            f.Api.DropWatches();
            await EventuallyAsync(() => Task.FromResult(runtime.WatchCounters), c => c.Expired > running.Expired && c.Lists > running.Lists);
            Assert.Equal(InstanceState.Running, (await runtime.InspectAsync(id, default))!.State);
            await runtime.StopAsync(id, TimeSpan.Zero, default);
            Assert.Equal(InstanceState.Exited, (await runtime.InspectAsync(id, default))!.State);
        }
        finally
        {
            await runtime.DeleteAsync(id, default);
        }
    }

    private static async Task<string> ExecOkAsync(KubernetesWorkspaceRuntime runtime, string id, string script)
    {
        var result = await runtime.ExecAsync(id, new ExecRequest(["/bin/sh", "-c", script]), new InlineProgress<string>(_ => { }), default);
        Assert.True(result.ExitCode == 0, result.OutputTail);
        return result.OutputTail;
    }

    private static async Task<T> EventuallyAsync<T>(Func<Task<T>> read, Func<T, bool> done, int seconds = 30)
    {
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        var value = await read();
        while (!done(value))
        {
            Assert.True(DateTime.UtcNow < deadline, $"still {value} after {seconds}s");
            await Task.Delay(100);
            value = await read();
        }

        return value;
    }
}
