using CloudDevEnv.Contracts.Workspaces;

namespace CloudDevEnv.Proxy.Workspaces;

/// <summary>The few grain calls the proxy makes, behind one seam so that the proxy's HTTP behaviour can be tested
/// without a cluster. <see cref="OrleansWorkspaceControl"/> is the implementation.</summary>
internal interface IWorkspaceControl
{
    /// <summary>Null when no workspace has this id.</summary>
    Task<WorkspaceRoute?> GetRouteAsync(string workspaceId);

    /// <summary>Asks for Running on behalf of <paramref name="user"/>, whose cookie the proxy checked. Throws
    /// <see cref="WorkspaceRejectedException"/> when refused (e.g. quota).</summary>
    Task StartAsync(string workspaceId, string user);

    /// <summary>One-way: never waits for the grain.</summary>
    void ReportActivity(string workspaceId, DateTimeOffset at);

    /// <summary>Subscribes (or renews) this process's observer to the workspace's events, which invalidate its cached
    /// route. False when no workspace has this id.</summary>
    Task<bool> SubscribeAsync(string workspaceId);

    Task UnsubscribeAsync(string workspaceId);

    /// <summary>True the first time a sign-in token's nonce is redeemed, across all proxy processes.</summary>
    Task<bool> RedeemTokenAsync(string nonce, DateTimeOffset expiresAt);
}
