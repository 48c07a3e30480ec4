using CloudDevEnv.Contracts.Access;
using CloudDevEnv.Contracts.Workspaces;
using CloudDevEnv.Proxy.Routing;

namespace CloudDevEnv.Proxy.Workspaces;

/// <summary>Talks to the workspace grains through whatever <see cref="IGrainFactory"/> the host has: the silo's own
/// (co-hosted) or an external cluster client.</summary>
internal sealed class OrleansWorkspaceControl : IWorkspaceControl
{
    private readonly IGrainFactory _grains;
    private readonly Lazy<IWorkspaceObserver> _observerReference;

    // The runtime holds observers weakly: this field keeps ours alive for the life of the process.
    private readonly WorkspaceRouteObserver _observer;

    public OrleansWorkspaceControl(IGrainFactory grains, WorkspaceRouteObserver observer)
    {
        _grains = grains;
        _observer = observer;

        // Created on first use: in a co-hosted silo the factory cannot make references before the silo has started.
        _observerReference = new Lazy<IWorkspaceObserver>(() => _grains.CreateObjectReference<IWorkspaceObserver>(_observer));
    }

    public async Task<WorkspaceRoute?> GetRouteAsync(string workspaceId)
    {
        try
        {
            return await Grain(workspaceId).GetRouteAsync();
        }
        catch (WorkspaceRejectedException e) when (e.Kind == WorkspaceRejection.NotFound)
        {
            return null;
        }
    }

    public Task StartAsync(string workspaceId, string user) => Grain(workspaceId).StartAsync(user);

    public void ReportActivity(string workspaceId, DateTimeOffset at) => _ = Grain(workspaceId).ReportActivityAsync(at);

    public async Task<bool> SubscribeAsync(string workspaceId)
    {
        try
        {
            await Grain(workspaceId).SubscribeToRouteAsync(_observerReference.Value);
            return true;
        }
        catch (WorkspaceRejectedException e) when (e.Kind == WorkspaceRejection.NotFound)
        {
            return false;
        }
    }

    public Task UnsubscribeAsync(string workspaceId) => Grain(workspaceId).UnsubscribeAsync(_observerReference.Value);

    public Task<bool> RedeemTokenAsync(string nonce, DateTimeOffset expiresAt) =>
        _grains.GetGrain<IAccessTokenGrain>(nonce).RedeemAsync(expiresAt);

    private IWorkspaceGrain Grain(string workspaceId) => _grains.GetGrain<IWorkspaceGrain>(workspaceId);
}
