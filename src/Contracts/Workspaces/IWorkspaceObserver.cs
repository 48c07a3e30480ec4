namespace CloudDevEnv.Contracts.Workspaces;

/// <summary>Told of every event of a workspace it subscribed to (phase changes, log lines).</summary>
/// <remarks>Delivery is best effort and one-way: a slow or dead observer never holds up the grain.
/// Subscriptions expire; a subscriber renews its subscription well within <c>WorkspaceOptions.ObserverExpiry</c>.</remarks>
[Alias("cde.IWorkspaceObserver")]
public interface IWorkspaceObserver : IGrainObserver
{
    [OneWay, Alias("OnEvent")]
    Task OnEvent(string workspaceId, WorkspaceEvent workspaceEvent);
}
