using System.Text.Json;
using CloudDevEnv.Api.Problems;
using CloudDevEnv.Contracts.Prebuilds;
using Microsoft.Extensions.Options;

namespace CloudDevEnv.Api.Prebuilds;

/// <summary><c>GET /api/prebuilds/build/events?repo=&amp;ref=</c>: Server-Sent Events of a platform prebuild build, as a
/// launch's events are: each line it logs (<c>event: log</c>, its number as the SSE id, so that a client reconnecting
/// with <c>Last-Event-ID</c> gets only what it missed), then <c>event: end</c> with the finished build, and the stream
/// closes. The grain is polled rather than observed: a build has one or two watchers (CI, an operator) and logs in
/// bursts, and one status call per half second costs less than keeping an observer subscription renewed.</summary>
public static class PrebuildBuildEventStream
{
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(500);

    /// <param name="Number">The build's event number (the SSE id).</param>
    public sealed record PrebuildBuildEventResource(long Number, string Message);

    public static async Task StreamAsync(
        string? repo, string? @ref, HttpContext context, IGrainFactory grains, IOptions<Microsoft.AspNetCore.Http.Json.JsonOptions> json,
        CancellationToken cancellationToken)
    {
        if (string.IsNullOrWhiteSpace(repo))
        {
            await ApiProblems.InvalidField("repo", "repo is required: the repository URL whose prebuild build to follow.").ExecuteAsync(context);
            return;
        }

        var gitRef = string.IsNullOrEmpty(@ref) ? null : @ref;
        var grain = grains.GetGrain<IPrebuildBuildGrain>(PrebuildBuildKey.Of(repo, gitRef));
        if (await grain.GetAsync() is not { } status)
        {
            await PrebuildEndpoints.BuildNotFound(repo, gitRef).ExecuteAsync(context);
            return;
        }

        var response = context.Response;
        ServerSentEvents.Begin(context);

        var time = TimeProvider.System;
        var options = json.Value.SerializerOptions;
        var startedAt = status.StartedAt;
        var sent = long.TryParse(context.Request.Headers["Last-Event-ID"].ToString(), out var last) && last > 0 ? last : 0;
        var heartbeatAt = time.GetUtcNow() + ServerSentEvents.HeartbeatInterval;
        try
        {
            while (true)
            {
                for (var i = 0; i < status.Events.Length; i++)
                {
                    var number = status.EventsDropped + i + 1;
                    if (number > sent)
                    {
                        var data = JsonSerializer.Serialize(new PrebuildBuildEventResource(number, status.Events[i]), options);
                        await response.WriteAsync($"id: {number}\nevent: log\ndata: {data}\n\n", cancellationToken);
                        sent = number;
                    }
                }

                if (status.Phase != PrebuildBuildPhase.Building)
                {
                    var end = JsonSerializer.Serialize(PrebuildEndpoints.PrebuildBuildResource.From(status with { Events = [] }), options);
                    await response.WriteAsync($"event: end\ndata: {end}\n\n", cancellationToken);
                    await response.Body.FlushAsync(cancellationToken);
                    return;
                }

                if (time.GetUtcNow() >= heartbeatAt)
                {
                    await ServerSentEvents.HeartbeatAsync(response, cancellationToken);
                    heartbeatAt = time.GetUtcNow() + ServerSentEvents.HeartbeatInterval;
                }

                await response.Body.FlushAsync(cancellationToken);
                await Task.Delay(PollInterval, time, cancellationToken);
                status = await grain.GetAsync() ?? status;
                if (status.StartedAt != startedAt)
                {
                    // The build ended and the next one (a push, the schedule) began between two polls: follow that one,
                    // whose numbers start again at 1.
                    startedAt = status.StartedAt;
                    sent = 0;
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // The client went away.
        }
    }
}
