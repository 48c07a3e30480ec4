using CloudDevEnv.Proxy.Routing;
using CloudDevEnv.Proxy.Workspaces;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace CloudDevEnv.Proxy.Activity;

/// <summary>Reports activity to the workspace grains off the request path: requests only set a flag on their
/// route entry; once per <see cref="WorkspaceProxyOptions.ActivityReportInterval"/> this sends one one-way call per
/// workspace that had traffic or has an open WebSocket. So a grain hears from one proxy process at most once per
/// interval, whatever the traffic.</summary>
internal sealed partial class ActivityFlusher(
    WorkspaceRouteCache cache,
    IWorkspaceControl control,
    IOptions<WorkspaceProxyOptions> options,
    TimeProvider time,
    ILogger<ActivityFlusher> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.Value.ActivityReportInterval, time);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            FlushOnce();
        }
    }

    /// <summary>Returns how many workspaces were reported.</summary>
    internal int FlushOnce()
    {
        var now = time.GetUtcNow();
        var reported = 0;
        foreach (var entry in cache.Entries)
        {
            if (!entry.TakeActivity())
            {
                continue;
            }

            try
            {
                control.ReportActivity(entry.WorkspaceId, now);
                reported++;
            }
            catch (Exception e)
            {
                // Activity is advisory: a lost report only brings an idle stop closer, and the next one follows.
                LogReportFailed(logger, entry.WorkspaceId, e);
            }
        }

        return reported;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Reporting activity of workspace {WorkspaceId} failed")]
    private static partial void LogReportFailed(ILogger logger, string workspaceId, Exception exception);
}
