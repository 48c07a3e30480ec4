using CloudDevEnv.Proxy.Access;
using CloudDevEnv.Proxy.Activity;
using CloudDevEnv.Proxy.Forwarding;
using CloudDevEnv.Proxy.Hosts;
using CloudDevEnv.Proxy.Pages;
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

    /// <summary>Registers only <see cref="IWorkspaceAccessTokens"/>, <see cref="WorkspaceUrls"/> and <see cref="ProxyPages"/>
    /// with their options: for an API process that mints sign-in links and shows the same pages, but does not proxy.</summary>
    public static IServiceCollection AddWorkspaceAccessTokens(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<WorkspaceProxyOptions>()
            .Bind(configuration.GetSection(WorkspaceProxyOptions.SectionName))
            .ValidateDataAnnotations()
            .ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<WorkspaceProxyOptions>, WorkspaceProxyOptionsValidator>());

        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<SigningKey>();
        services.TryAddSingleton<SignedValue>();
        services.TryAddSingleton<WorkspaceUrls>();
        services.TryAddSingleton<WorkspaceHostParser>();
        services.TryAddSingleton<ProxyPages>();
        services.TryAddSingleton<WorkspaceAccessTokens>();
        services.TryAddSingleton<IWorkspaceAccessTokens>(sp => sp.GetRequiredService<WorkspaceAccessTokens>());
        return services;
    }
}
