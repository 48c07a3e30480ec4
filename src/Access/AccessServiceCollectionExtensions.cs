using CloudDevEnv.Access.Pages;
using CloudDevEnv.Platform;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace CloudDevEnv.Access;

public static class AccessServiceCollectionExtensions
{
    /// <summary>Registers <see cref="IWorkspaceAccessTokens"/>, <see cref="WorkspaceUrls"/> and <see cref="ProxyPages"/>
    /// with their options: what an API process needs to mint sign-in links and show the pages, and what the proxy
    /// builds on.</summary>
    public static IServiceCollection AddWorkspaceAccessTokens(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddPublicAddress(configuration);
        services.AddOptions<WorkspaceAccessOptions>()
            .Bind(configuration.GetSection(WorkspaceAccessOptions.SectionName))
            .ValidateDataAnnotations()
            .ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<WorkspaceAccessOptions>, WorkspaceAccessOptionsValidator>());

        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton(sp =>
        {
            var o = sp.GetRequiredService<IOptions<WorkspaceAccessOptions>>().Value;
            return new SignedValue(KeyMaterial.Read(o.SigningKey, o.SigningKeyFile, "Proxy:SigningKey"));
        });
        services.TryAddSingleton<WorkspaceUrls>();
        services.TryAddSingleton<ProxyPages>();
        services.TryAddSingleton<WorkspaceAccessTokens>();
        services.TryAddSingleton<IWorkspaceAccessTokens>(sp => sp.GetRequiredService<WorkspaceAccessTokens>());
        return services;
    }
}
