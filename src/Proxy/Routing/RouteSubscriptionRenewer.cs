using CloudDevEnv.Proxy.Workspaces;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace CloudDevEnv.Proxy.Routing;

/// <summary>Renews the event subscriptions of routes in use (the grain drops observers that do not renew) and
/// drops routes nobody used for a while.</summary>
/// <remarks>Each renewal also reads the route and compares versions, off the request path: if an event was lost
/// (events are one-way, and a grain that was deactivated forgot its observers) the cached route is replaced on its
/// next use, so no route stays wrong longer than one renewal interval. When the grain cannot be reached the cached
/// route is left alone: running workspaces stay reachable through a silo outage.</remarks>
internal sealed partial class RouteSubscriptionRenewer(
    WorkspaceRouteCache cache,
    IWorkspaceControl control,
    IOptions<WorkspaceProxyOptions> options,
    TimeProvider time,
    ILogger<RouteSubscriptionRenewer> logger) : BackgroundService
{
    private const int MaxParallelCalls = 32;

    // The routes are renewed in slices spread over the interval, not all at once: with 10,000 workspaces a single
    // burst of 20,000 grain calls would compete with the traffic it serves.
    private const int Slices = 10;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.Value.SubscriptionRenewInterval / Slices, time);
        var slice = 0;
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            try
            {
                await RenewAsync(slice, stoppingToken);
            }
            catch (Exception e) when (!stoppingToken.IsCancellationRequested)
            {
                LogRenewFailed(logger, e);
            }

            slice = (slice + 1) % Slices;
        }
    }

    /// <summary>Renews every route at once (tests).</summary>
    internal Task RenewOnceAsync(CancellationToken cancellationToken) => RenewAsync(slice: null, cancellationToken);

    private async Task RenewAsync(int? slice, CancellationToken cancellationToken)
    {
        var now = time.GetTimestamp();
        var evictAfter = options.Value.RouteIdleEviction;
        var entries = slice is { } s
            ? cache.Entries.Where(e => (uint)e.WorkspaceId.GetHashCode() % Slices == s)
            : cache.Entries;
        await Parallel.ForEachAsync(entries, new ParallelOptions
        {
            MaxDegreeOfParallelism = MaxParallelCalls,
            CancellationToken = cancellationToken,
        }, async (entry, _) =>
        {
            var idle = time.GetElapsedTime(entry.LastUsedTimestamp, now) > evictAfter && entry.OpenConnections == 0;
            var missing = entry.Fetch?.Route is { IsCompletedSuccessfully: true, Result: null };
            if (idle || missing)
            {
                cache.Remove(entry);
                if (entry.Subscribed)
                {
                    await Try(() => control.UnsubscribeAsync(entry.WorkspaceId), entry.WorkspaceId);
                }

                return;
            }

            if (entry.Subscribed)
            {
                await Try(async () =>
                {
                    var generation = entry.Generation;
                    await control.SubscribeAsync(entry.WorkspaceId);
                    var fresh = await control.GetRouteAsync(entry.WorkspaceId);
                    var cached = entry.Fetch is { Route.IsCompletedSuccessfully: true } fetch && fetch.Generation == generation
                        ? fetch.Route.Result
                        : null;
                    if (cached is not null && (fresh is null || fresh.Version != cached.Version))
                    {
                        entry.Invalidate();
                    }
                }, entry.WorkspaceId);
            }
        });
    }

    private async Task Try(Func<Task> call, string workspaceId)
    {
        try
        {
            await call();
        }
        catch (Exception e)
        {
            LogSubscriptionCallFailed(logger, workspaceId, e);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Renewing route subscriptions failed")]
    private static partial void LogRenewFailed(ILogger logger, Exception exception);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Subscription call for workspace {WorkspaceId} failed")]
    private static partial void LogSubscriptionCallFailed(ILogger logger, string workspaceId, Exception exception);
}
