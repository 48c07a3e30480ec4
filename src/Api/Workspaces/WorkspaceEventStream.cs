using System.Text.Json;
using System.Threading.Channels;
using CloudDevEnv.Api.Problems;
using Microsoft.Extensions.Options;

namespace CloudDevEnv.Api.Workspaces;

/// <summary><c>GET /api/workspaces/{id}/events</c>: Server-Sent Events of a workspace. Sends the recent history
/// (after <c>Last-Event-ID</c> when a client reconnects), then live events pushed by the grain, and ends
/// once the workspace is deleted. Each event's SSE id is its sequence number.</summary>
public static class WorkspaceEventStream
{
    /// <summary>Renews the grain subscription well inside the grain's observer expiry, and re-reads the
    /// status in case a one-way event was lost.</summary>
    private static readonly TimeSpan RenewInterval = TimeSpan.FromSeconds(30);

    public static async Task StreamAsync(
        string id, HttpContext context, IGrainFactory grains, IOptions<Microsoft.AspNetCore.Http.Json.JsonOptions> json, CancellationToken cancellationToken)
    {
        if (await WorkspaceAccess.FindAsync(grains, id, context.User) is null)
        {
            await ApiProblems.NotFound(id).ExecuteAsync(context);
            return;
        }

        var grain = grains.GetGrain<IWorkspaceGrain>(id);
        var observer = new ChannelObserver();
        var reference = grains.CreateObjectReference<IWorkspaceObserver>(observer);
        WorkspaceStatus status;
        try
        {
            // Subscribe before reading the history, so that nothing falls between the two.
            await grain.SubscribeAsync(reference);
            status = await grain.GetStatusAsync();
        }
        catch (WorkspaceRejectedException rejected)
        {
            grains.DeleteObjectReference<IWorkspaceObserver>(reference);
            await ApiProblems.From(rejected).ExecuteAsync(context);
            return;
        }

        var response = context.Response;
        ServerSentEvents.Begin(context);

        var writer = new EventWriter(response, json.Value.SerializerOptions, LastEventId(context.Request));
        try
        {
            if (await writer.WriteAllAsync(status.RecentEvents, cancellationToken) || status.Phase == WorkspacePhase.Deleted)
            {
                return;
            }

            var renewAt = DateTime.UtcNow + RenewInterval;
            Task? wait = null;
            while (!cancellationToken.IsCancellationRequested)
            {
                // One heartbeat timer at a time, not one per event: a build can log thousands of lines.
                wait ??= Task.Delay(ServerSentEvents.HeartbeatInterval, cancellationToken);
                var next = observer.Events.Reader.WaitToReadAsync(cancellationToken).AsTask();
                await Task.WhenAny(wait, next);

                while (observer.Events.Reader.TryRead(out var evt))
                {
                    if (evt.Sequence > writer.LastSent + 1)
                    {
                        // A one-way event went missing: fill the gap from the grain's history.
                        if (await writer.WriteAllAsync((await grain.GetStatusAsync()).RecentEvents, cancellationToken))
                        {
                            return;
                        }
                    }

                    if (await writer.WriteAllAsync([evt], cancellationToken))
                    {
                        return;
                    }
                }

                if (DateTime.UtcNow >= renewAt)
                {
                    await grain.SubscribeAsync(reference);
                    if (await writer.WriteAllAsync((await grain.GetStatusAsync()).RecentEvents, cancellationToken))
                    {
                        return;
                    }

                    renewAt = DateTime.UtcNow + RenewInterval;
                }

                if (wait.IsCompleted)
                {
                    await ServerSentEvents.HeartbeatAsync(response, cancellationToken);
                    wait = null;
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // The client went away.
        }
        finally
        {
            try
            {
                await grain.UnsubscribeAsync(reference);
            }
            catch (Exception e) when (e is WorkspaceRejectedException or TimeoutException or OrleansException)
            {
                // The subscription expires by itself.
            }

            grains.DeleteObjectReference<IWorkspaceObserver>(reference);
        }
    }

    private static long LastEventId(HttpRequest request) =>
        long.TryParse(request.Headers["Last-Event-ID"].ToString(), out var id) && id > 0 ? id : 0;

    private sealed class ChannelObserver : IWorkspaceObserver
    {
        public Channel<WorkspaceEvent> Events { get; } =
            Channel.CreateBounded<WorkspaceEvent>(new BoundedChannelOptions(10_000) { FullMode = BoundedChannelFullMode.DropOldest });

        public Task OnEvent(string workspaceId, WorkspaceEvent workspaceEvent)
        {
            Events.Writer.TryWrite(workspaceEvent);
            return Task.CompletedTask;
        }
    }

    private sealed class EventWriter(HttpResponse response, JsonSerializerOptions options, long lastSent)
    {
        public long LastSent { get; private set; } = lastSent;

        /// <summary>Writes the events not sent yet, in order.</summary>
        /// <returns>True once the workspace is deleted: the stream ends.</returns>
        public async Task<bool> WriteAllAsync(IEnumerable<WorkspaceEvent> events, CancellationToken cancellationToken)
        {
            var deleted = false;
            foreach (var evt in events.Where(e => e.Sequence > LastSent).OrderBy(e => e.Sequence))
            {
                var data = JsonSerializer.Serialize(WorkspaceEventResource.From(evt), options);
                await response.WriteAsync($"id: {evt.Sequence}\nevent: {evt.Kind.ToString().ToLowerInvariant()}\ndata: {data}\n\n", cancellationToken);
                LastSent = evt.Sequence;
                deleted |= evt.Kind == WorkspaceEventKind.Phase && evt.Phase == WorkspacePhase.Deleted;
            }

            await response.Body.FlushAsync(cancellationToken);
            return deleted;
        }
    }
}
