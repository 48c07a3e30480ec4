using CloudDevEnv.Contracts.Workspaces;

namespace CloudDevEnv.Proxy.Routing;

/// <summary>One workspace's cached route, and the proxy's view of its activity. Lock-free: requests read it,
/// the grain's events bump <see cref="_generation"/>, the background services sweep it.</summary>
internal sealed class RouteCacheEntry(string workspaceId)
{
    private long _generation;
    private RouteFetch? _fetch;
    private long _lastUsed;
    private int _touched;
    private int _openConnections;

    public string WorkspaceId { get; } = workspaceId;

    /// <summary>Set once the grain accepted this process's observer; renewed by <see cref="RouteSubscriptionRenewer"/>.</summary>
    public bool Subscribed { get; set; }

    /// <summary>When this proxy last asked the grain to start the workspace (wake on access), in timestamp ticks.</summary>
    public long LastWakeTimestamp;

    /// <summary>The last route read successfully, served while the grain cannot be reached.</summary>
    public WorkspaceRoute? LastGood { get; set; }

    public long Generation => Volatile.Read(ref _generation);

    public RouteFetch? Fetch => Volatile.Read(ref _fetch);

    public long LastUsedTimestamp => Volatile.Read(ref _lastUsed);

    public int OpenConnections => Volatile.Read(ref _openConnections);

    /// <summary>The cached route is stale from now on: the next request reads it again.</summary>
    public void Invalidate() => Interlocked.Increment(ref _generation);

    /// <summary>Installs <paramref name="next"/> unless another request got there first; returns the one in place.</summary>
    public RouteFetch Replace(RouteFetch? expected, RouteFetch next) =>
        Interlocked.CompareExchange(ref _fetch, next, expected) == expected ? next : Volatile.Read(ref _fetch)!;

    public void MarkUsed(long timestamp)
    {
        // Skip the write when nothing changed much: the cache line stays shared between cores under load.
        if (timestamp - Volatile.Read(ref _lastUsed) > TimeSpan.TicksPerSecond / 10)
        {
            Volatile.Write(ref _lastUsed, timestamp);
        }
    }

    /// <summary>A request reached the workspace: counts as activity at the next report.</summary>
    public void Touch()
    {
        if (Volatile.Read(ref _touched) == 0)
        {
            Volatile.Write(ref _touched, 1);
        }
    }

    public void ConnectionOpened()
    {
        Interlocked.Increment(ref _openConnections);
        Touch();
    }

    public void ConnectionClosed()
    {
        Interlocked.Decrement(ref _openConnections);
        Touch();
    }

    /// <summary>True when there was traffic since the last call or a connection is open; clears the traffic flag.</summary>
    public bool TakeActivity() => Interlocked.Exchange(ref _touched, 0) == 1 | Volatile.Read(ref _openConnections) > 0;
}

/// <summary>One read of a route from the grain, valid while the entry's generation is still <see cref="Generation"/>.</summary>
internal sealed record RouteFetch(long Generation, long StartedTimestamp, Task<WorkspaceRoute?> Route);
