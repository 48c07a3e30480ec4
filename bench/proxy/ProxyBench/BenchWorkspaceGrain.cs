using System.Collections.Immutable;
using CloudDevEnv.Contracts.Workspaces;

namespace CloudDevEnv.Bench.Proxy;

/// <summary>A stand-in workspace grain: every id is a running workspace of "bench" whose gateway is the benchmark's
/// upstream (so the workspace gateway's own hop is not in these figures); port 3000 is public. The proxy talks to it exactly as to the real grain (route read,
/// observer subscription and renewal, one-way activity), so the benchmark covers the proxy's real path.</summary>
internal sealed class BenchWorkspaceGrain(BenchUpstream upstream) : Grain, IWorkspaceGrain
{
    private IWorkspaceObserver? _observer;

    public Task<WorkspaceRoute> GetRouteAsync() => Task.FromResult(new WorkspaceRoute(
        this.GetPrimaryKeyString(), "bench", WorkspacePhase.Running, DesiredState.Running, null,
        upstream.Uri, "bench-gateway-secret-0123456789abcdef", [3000], 1));

    public Task SubscribeAsync(IWorkspaceObserver observer)
    {
        _observer = observer;
        return Task.CompletedTask;
    }

    // The proxy subscribes to route events only; the stub answers both alike.
    public Task SubscribeToRouteAsync(IWorkspaceObserver observer) => SubscribeAsync(observer);

    public Task UnsubscribeAsync(IWorkspaceObserver observer)
    {
        _observer = null;
        return Task.CompletedTask;
    }

    public Task ReportActivityAsync(DateTimeOffset at) => Task.CompletedTask;

    // Nothing below is on the proxy's path.
    public Task<WorkspaceStatus> CreateAsync(WorkspaceSpec spec, IReadOnlyDictionary<string, string>? secrets = null) => throw new NotSupportedException();

    public Task<WorkspaceStatus> GetStatusAsync() => throw new NotSupportedException();

    public Task<WorkspaceStatus> StartAsync(string actor) => throw new NotSupportedException();

    public Task<WorkspaceStatus> StopAsync(string actor) => throw new NotSupportedException();

    public Task<WorkspaceStatus> DeleteAsync(string actor) => throw new NotSupportedException();

    public Task<WorkspaceStatus> UpdateAsync(WorkspaceChange change, string actor) => throw new NotSupportedException();

    public Task<ImmutableArray<WorkspaceSnapshot>> ListSnapshotsAsync() => throw new NotSupportedException();

    public Task<WorkspaceStatus> SnapshotAsync(string actor) => throw new NotSupportedException();

    public Task<WorkspaceStatus> RestoreAsync(string snapshotId, string actor) => throw new NotSupportedException();

    public Task<WorkspaceRoute> SetPortVisibilityAsync(int port, bool isPublic, string actor) => throw new NotSupportedException();

    public Task<ImmutableArray<WorkspacePort>> GetPortsAsync() => throw new NotSupportedException();

    public Task<WorkspaceStatus> KeepAliveAsync(string actor) => throw new NotSupportedException();

    public Task<WorkspaceStatus> PinAsync(bool pinned, string actor) => throw new NotSupportedException();
}

internal sealed record BenchUpstream(Uri Uri);
