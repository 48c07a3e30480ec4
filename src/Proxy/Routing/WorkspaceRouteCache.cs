using System.Collections.Concurrent;
using CloudDevEnv.Contracts.Workspaces;
using CloudDevEnv.Proxy.Workspaces;
using Microsoft.Extensions.Options;

namespace CloudDevEnv.Proxy.Routing;

/// <summary>Workspace id → route, read from the grain on a miss and kept until the grain pushes an event.
/// One dictionary lookup per request: the cost is the same with one workspace or ten thousand, and nothing is
/// rebuilt when a workspace starts or stops.</summary>
internal sealed class WorkspaceRouteCache(
    IServiceProvider services,
    IOptions<WorkspaceProxyOptions> options,
    TimeProvider time)
{
    private readonly ConcurrentDictionary<string, RouteCacheEntry> _entries = new(StringComparer.Ordinal);

    // Resolved lazily: the Orleans control needs the observer, which needs this cache.
    private IWorkspaceControl? _control;

    private IWorkspaceControl Control => _control ??= (IWorkspaceControl)services.GetService(typeof(IWorkspaceControl))!;

    public int Count => _entries.Count;

    public ICollection<RouteCacheEntry> Entries => _entries.Values;

    public RouteCacheEntry GetEntry(string workspaceId) =>
        _entries.GetOrAdd(workspaceId, static id => new RouteCacheEntry(id));

    /// <summary>The workspace's route (null when it does not exist), from the cache when it is current.</summary>
    public async ValueTask<WorkspaceRoute?> GetRouteAsync(RouteCacheEntry entry)
    {
        var now = time.GetTimestamp();
        entry.MarkUsed(now);
        var fetch = entry.Fetch;
        if (fetch is not null && IsCurrent(entry, fetch, now))
        {
            return fetch.Route.IsCompletedSuccessfully ? fetch.Route.Result : await fetch.Route;
        }

        // Only the request that installs the new read runs it; the others arriving meanwhile wait on it.
        var read = new TaskCompletionSource<WorkspaceRoute?>(TaskCreationOptions.RunContinuationsAsynchronously);
        var next = new RouteFetch(entry.Generation, now, read.Task);
        var installed = entry.Replace(fetch, next);
        if (installed == next)
        {
            _ = ReadAsync(entry, read);
        }

        try
        {
            return await installed.Route;
        }
        catch (Exception) when (entry.LastGood is { } lastGood)
        {
            // The grain cannot be reached (a silo is down, the cluster is restarting): keep serving the route
            // last seen rather than cutting a running workspace off. The next request tries again.
            return lastGood;
        }
    }

    private bool IsCurrent(RouteCacheEntry entry, RouteFetch fetch, long now)
    {
        if (fetch.Generation != entry.Generation || fetch.Route.IsFaulted || fetch.Route.IsCanceled)
        {
            return false;
        }

        if (!fetch.Route.IsCompletedSuccessfully)
        {
            // Share the read in flight with every request that arrives meanwhile.
            return true;
        }

        var route = fetch.Route.Result;
        return route is { Phase: WorkspacePhase.Running }
            || time.GetElapsedTime(fetch.StartedTimestamp, now) < options.Value.NotRunningRouteMaxAge;
    }

    private async Task ReadAsync(RouteCacheEntry entry, TaskCompletionSource<WorkspaceRoute?> read)
    {
        try
        {
            // Subscribe before reading, so that no change can fall between the read and the subscription.
            if (!entry.Subscribed)
            {
                if (!await Control.SubscribeAsync(entry.WorkspaceId))
                {
                    read.SetResult(null);
                    return;
                }

                entry.Subscribed = true;
            }

            var route = await Control.GetRouteAsync(entry.WorkspaceId);
            entry.LastGood = route;
            read.SetResult(route);
        }
        catch (Exception e)
        {
            read.SetException(e);
        }
    }

    public void Invalidate(string workspaceId)
    {
        if (_entries.TryGetValue(workspaceId, out var entry))
        {
            entry.Invalidate();
        }
    }

    public bool Remove(RouteCacheEntry entry) =>
        _entries.TryRemove(new KeyValuePair<string, RouteCacheEntry>(entry.WorkspaceId, entry));
}
