using CloudDevEnv.Contracts.Workspaces;

namespace CloudDevEnv.Proxy.Routing;

/// <summary>This process's one observer for all workspaces it routes, subscribed to their route events (all but log
/// lines): any of them (phase change, port visibility, endpoint change) makes the cached route stale. Cheaper than
/// deciding which matter, and a stale route costs one grain call on the next request only.</summary>
internal sealed class WorkspaceRouteObserver(WorkspaceRouteCache cache) : IWorkspaceObserver
{
    public Task OnEvent(string workspaceId, WorkspaceEvent workspaceEvent)
    {
        cache.Invalidate(workspaceId);
        return Task.CompletedTask;
    }
}
