namespace CloudDevEnv.Grains.Provisioning;

/// <summary>Start-up reconciliation: looks at every container the runtime labelled as ours. A container whose
/// workspace still wants it is adopted (its grain is activated, and the grain's reconcile loop takes it over:
/// Running, or Interrupted and started again); one whose workspace is deleted or unknown is an orphan, left by a
/// crash between creating it and recording it, or by state lost with a store, and is removed or kept as configured.</summary>
/// <remarks>Asked for once a silo is active, in the background, so that a slow engine does not hold up start-up. The
/// pass itself runs once per runtime scope, however many silos share the engine (<see cref="IOrphanReconciliationGrain"/>):
/// several silos starting together would otherwise each list every container and activate every workspace.</remarks>
public sealed partial class OrphanReconciler(
    IWorkspaceRuntime runtime,
    IGrainFactory grains,
    IOptions<ProvisioningOptions> options,
    ILogger<OrphanReconciler> logger) : ILifecycleParticipant<ISiloLifecycle>
{
    private readonly CancellationTokenSource _stopping = new();

    /// <summary>Completes when the latest pass run on this silo is over (for tests and diagnostics).</summary>
    public Task Completion { get; private set; } = Task.CompletedTask;

    public void Participate(ISiloLifecycle lifecycle) =>
        lifecycle.Subscribe(
            nameof(OrphanReconciler),
            ServiceLifecycleStage.Active,
            started =>
            {
                _ = RequestPassAsync();
                return Task.CompletedTask;
            },
            async _ => await _stopping.CancelAsync());

    private async Task RequestPassAsync()
    {
        try
        {
            await grains.GetGrain<IOrphanReconciliationGrain>(runtime.Scope).RequestAsync();
        }
        catch (Exception exception)
        {
            // Not fatal: each workspace still reconciles its own container; only orphans wait for the next start.
            LogFailed(exception);
        }
    }

    /// <summary>One pass over the runtime's containers.</summary>
    /// <returns>The workspace ids of the orphans found.</returns>
    public async Task<IReadOnlyList<string>> ReconcileAsync(CancellationToken cancellationToken)
    {
        using var stopping = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _stopping.Token);
        var pass = PassAsync(stopping.Token);
        Completion = pass;
        return await pass;
    }

    private async Task<IReadOnlyList<string>> PassAsync(CancellationToken cancellationToken)
    {
        List<string> orphans = [];
        try
        {
            var instances = await runtime.ListAsync(cancellationToken);
            var prefix = options.Value.ReconcileIdPrefix;
            foreach (var instance in instances.Where(i => i.WorkspaceId.StartsWith(prefix, StringComparison.Ordinal)))
            {
                cancellationToken.ThrowIfCancellationRequested();
                if (await IsClaimedAsync(instance.WorkspaceId))
                {
                    LogAdopted(instance.WorkspaceId, instance.Name, instance.State);
                    continue;
                }

                orphans.Add(instance.WorkspaceId);
                if (options.Value.OrphanPolicy == OrphanPolicy.Remove)
                {
                    await runtime.DeleteAsync(instance.WorkspaceId, cancellationToken);
                    LogRemoved(instance.WorkspaceId, instance.Name);
                }
                else
                {
                    LogIgnored(instance.WorkspaceId, instance.Name);
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
        catch (Exception exception)
        {
            // Not fatal: each workspace still reconciles its own container; only orphans wait for the next start.
            LogFailed(exception);
        }

        return orphans;
    }

    private async Task<bool> IsClaimedAsync(string workspaceId)
    {
        try
        {
            // Activating the grain is the adoption: a workspace that is not settled reconciles at once.
            var status = await grains.GetGrain<IWorkspaceGrain>(workspaceId).GetStatusAsync();
            return status.Phase != WorkspacePhase.Deleted;
        }
        catch (WorkspaceRejectedException e) when (e.Kind == WorkspaceRejection.NotFound)
        {
            return false;
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Reconciliation: container {Container} ({State}) belongs to workspace {WorkspaceId}; adopted")]
    private partial void LogAdopted(string workspaceId, string container, InstanceState state);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Reconciliation: removed container {Container} and its volumes: no workspace {WorkspaceId} claims it")]
    private partial void LogRemoved(string workspaceId, string container);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Reconciliation: container {Container} is claimed by no workspace {WorkspaceId}; left as configured (OrphanPolicy=Ignore)")]
    private partial void LogIgnored(string workspaceId, string container);

    [LoggerMessage(Level = LogLevel.Error, Message = "Reconciliation at start-up failed; orphaned containers stay until the next start")]
    private partial void LogFailed(Exception exception);
}
