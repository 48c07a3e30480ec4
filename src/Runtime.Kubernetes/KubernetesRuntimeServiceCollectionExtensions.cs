using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace CloudDevEnv.Runtime.Kubernetes;

public static class KubernetesRuntimeServiceCollectionExtensions
{
    /// <summary>Registers <see cref="KubernetesWorkspaceRuntime"/> as the <see cref="IWorkspaceRuntime"/> (a singleton),
    /// with <see cref="KubernetesRuntimeOptions"/> bound from <c>Runtime:Kubernetes</c> and validated when the host starts.</summary>
    public static IServiceCollection AddKubernetesWorkspaceRuntime(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);
        services.AddOptions<KubernetesRuntimeOptions>().Bind(configuration.GetSection(KubernetesRuntimeOptions.SectionName)).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<KubernetesRuntimeOptions>, KubernetesRuntimeOptionsValidator>());
        services.TryAddSingleton(sp => new KubernetesWorkspaceRuntime(
            sp.GetRequiredService<IOptions<KubernetesRuntimeOptions>>().Value,
            sp.GetService<ILogger<KubernetesWorkspaceRuntime>>()));
        services.TryAddSingleton<IWorkspaceRuntime>(sp => sp.GetRequiredService<KubernetesWorkspaceRuntime>());
        return services;
    }
}
