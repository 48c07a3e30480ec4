using CloudDevEnv.Proxy.Access;
using CloudDevEnv.Proxy.Activity;
using CloudDevEnv.Proxy.Forwarding;
using CloudDevEnv.Proxy.Hosts;
using CloudDevEnv.Proxy.Routing;
using CloudDevEnv.Proxy.Workspaces;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace CloudDevEnv.Proxy;

public static class WorkspaceProxyServiceCollectionExtensions
{
    /// <summary>Registers the workspace proxy: options from <c>Proxy</c> (validated at start-up), the route cache fed
    /// by grain events, the activity reporter, and <see cref="IWorkspaceAccessTokens"/>. Needs an
    /// <see cref="IGrainFactory"/> in the container (a co-hosted silo or an Orleans client).
    /// Mount it with <see cref="WorkspaceProxyApplicationBuilderExtensions.UseWorkspaceProxy"/>.</summary>
    public static IServiceCollection AddWorkspaceProxy(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddWorkspaceAccessTokens(configuration);
        services.AddOptions<WorkspaceProxyOptions>()
            .Bind(configuration.GetSection(WorkspaceProxyOptions.SectionName))
            .ValidateDataAnnotations()
            .ValidateOnStart();
        services.TryAddSingleton<WorkspaceHostParser>();
        services.AddHttpForwarder();

        services.TryAddSingleton<WorkspaceRouteCache>();
        services.TryAddSingleton<WorkspaceRouteObserver>();
        services.TryAddSingleton<IWorkspaceControl>(sp =>
            new OrleansWorkspaceControl(sp.GetRequiredService<IGrainFactory>(), sp.GetRequiredService<WorkspaceRouteObserver>()));
        services.TryAddSingleton<UpstreamClient>();
        services.TryAddSingleton<WorkspaceRequestTransformer>();
        services.TryAddSingleton<AccessCookies>();
        services.TryAddSingleton<OriginPolicy>();
        services.TryAddSingleton<SignInEndpoints>();
        services.TryAddSingleton<WorkspaceProxyMiddleware>();
        services.AddHostedService<ActivityFlusher>();
        services.AddHostedService<RouteSubscriptionRenewer>();
        return services;
    }
}
