using CloudDevEnv.Contracts.Workspaces;

namespace CloudDevEnv.Proxy.Routing;

/// <summary>This process's one observer for all workspaces it routes: any event of a workspace (phase change,
/// port visibility, endpoint change) makes its cached route stale. Cheaper than deciding which events matter,
/// and a stale route costs one grain call on the next request only.</summary>
internal sealed class WorkspaceRouteObserver(WorkspaceRouteCache cache) : IWorkspaceObserver
{
    public Task OnEvent(string workspaceId, WorkspaceEvent workspaceEvent)
    {
        cache.Invalidate(workspaceId);
        return Task.CompletedTask;
    }
}
