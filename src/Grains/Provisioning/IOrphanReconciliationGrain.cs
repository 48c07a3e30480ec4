namespace CloudDevEnv.Grains.Provisioning;

/// <summary>One orphan reconciliation per runtime scope (<see cref="IWorkspaceRuntime.Scope"/>), however many silos
/// share the engine: keyed by the scope, so that the cluster has one activation, which runs the pass that the first
/// silo to start asks for and lets the others' requests join it.</summary>
[Alias("cde.IOrphanReconciliationGrain")]
public interface IOrphanReconciliationGrain : IGrainWithStringKey
{
    /// <summary>Starts a pass unless one is running or ran within the last minute; returns at once.</summary>
    [Alias("Request")]
    Task RequestAsync();
}
