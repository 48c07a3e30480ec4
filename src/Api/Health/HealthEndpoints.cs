namespace CloudDevEnv.Api.Health;

public static class HealthEndpoints
{
    /// <summary>/healthz: the process answers. /readyz: a grain call (which reads grain storage) succeeds.</summary>
    public static IEndpointRouteBuilder MapHealthEndpoints(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapGet("/healthz", () => TypedResults.Text("ok")).AllowAnonymous().WithTags("Health").ExcludeFromDescription();
        endpoints.MapGet("/readyz", async (IGrainFactory grains, CancellationToken cancellationToken) =>
        {
            try
            {
                await grains.GetGrain<IOwnerGrain>("readyz-probe").ListAsync().WaitAsync(TimeSpan.FromSeconds(5), cancellationToken);
                return Results.Text("ready");
            }
            catch (Exception e) when (e is TimeoutException or OrleansException)
            {
                return Results.Problem(
                    detail: "The grain service did not answer.", statusCode: StatusCodes.Status503ServiceUnavailable, title: "Not ready.");
            }
        }).AllowAnonymous().WithTags("Health").ExcludeFromDescription();
        return endpoints;
    }
}
