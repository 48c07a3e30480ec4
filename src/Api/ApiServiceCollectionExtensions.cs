using CloudDevEnv.Api.Problems;

namespace CloudDevEnv.Api;

public static class ApiServiceCollectionExtensions
{
    public static IServiceCollection AddWorkspaceApi(this IServiceCollection services)
    {
        services.ConfigureHttpJsonOptions(o => ApiJson.Configure(o.SerializerOptions));
        services.AddProblemDetails();
        services.AddExceptionHandler<ApiExceptionHandler>();
        services.AddOpenApi();
        return services;
    }

    /// <summary>Error handling first, then the endpoints: OpenAPI at /openapi/v1.json, health, workspaces.</summary>
    public static WebApplication UseWorkspaceApi(this WebApplication app)
    {
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        app.MapOpenApi();
        Health.HealthEndpoints.MapHealthEndpoints(app);
        Workspaces.WorkspaceEndpoints.MapWorkspaceApi(app);
        Workspaces.AccessEndpoints.MapAccessEndpoints(app);
        return app;
    }
}
