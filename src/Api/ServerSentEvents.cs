namespace CloudDevEnv.Api;

/// <summary>What every Server-Sent Events stream of the API does alike: the headers that keep proxies from buffering it,
/// and the heartbeat that keeps idle ones from closing it.</summary>
public static class ServerSentEvents
{
    /// <summary>A comment line this often keeps idle proxies and browsers from closing the stream.</summary>
    public static readonly TimeSpan HeartbeatInterval = TimeSpan.FromSeconds(15);

    public static void Begin(HttpContext context)
    {
        var response = context.Response;
        response.ContentType = "text/event-stream";
        response.Headers.CacheControl = "no-cache";
        response.Headers["X-Accel-Buffering"] = "no";
        context.Features.Get<Microsoft.AspNetCore.Http.Features.IHttpResponseBodyFeature>()?.DisableBuffering();
    }

    public static async Task HeartbeatAsync(HttpResponse response, CancellationToken cancellationToken)
    {
        await response.WriteAsync(": keep-alive\n\n", cancellationToken);
        await response.Body.FlushAsync(cancellationToken);
    }
}
