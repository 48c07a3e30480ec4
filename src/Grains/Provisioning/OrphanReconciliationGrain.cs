namespace CloudDevEnv.Grains.Provisioning;

/// <inheritdoc cref="IOrphanReconciliationGrain"/>
/// <remarks>The pass runs on the activation's scheduler as turns between calls, not inside one (a pass over many
/// containers outlasts a call's timeout); the activation stays until it is over.</remarks>
public sealed partial class OrphanReconciliationGrain(OrphanReconciler reconciler, TimeProvider time, ILogger<OrphanReconciliationGrain> logger)
    : Grain, IOrphanReconciliationGrain
{
    private static readonly TimeSpan MinimumInterval = TimeSpan.FromMinutes(1);

    private Task _pass = Task.CompletedTask;
    private DateTimeOffset? _startedAt;

    public Task RequestAsync()
    {
        var now = time.GetUtcNow();
        if (!_pass.IsCompleted || (_startedAt is { } started && now - started < MinimumInterval))
        {
            LogJoined(this.GetPrimaryKeyString());
            return Task.CompletedTask;
        }

        _startedAt = now;
        _pass = RunAsync();
        return Task.CompletedTask;
    }

    private async Task RunAsync()
    {
        DelayDeactivation(TimeSpan.FromHours(1));
        try
        {
            await reconciler.ReconcileAsync(CancellationToken.None);
        }
        finally
        {
            // Kept a minute longer, so that silos starting just after this pass join it rather than repeat it.
            DelayDeactivation(MinimumInterval);
        }
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Orphan reconciliation of {Scope}: a pass is running or just ran; this request joins it")]
    private partial void LogJoined(string scope);
}
