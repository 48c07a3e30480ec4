using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace CloudDevEnv.Runtime.Docker;

public static class DockerRuntimeServiceCollectionExtensions
{
    /// <summary>Registers <see cref="DockerWorkspaceRuntime"/> as the <see cref="IWorkspaceRuntime"/> (a singleton),
    /// with <see cref="DockerRuntimeOptions"/> bound from the section <c>Runtime:Docker</c> of
    /// <paramref name="configuration"/> and validated when the host starts.</summary>
    public static IServiceCollection AddDockerWorkspaceRuntime(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        return services.AddDockerWorkspaceRuntime(configuration.GetSection(DockerRuntimeOptions.SectionName), null);
    }

    /// <summary>As <see cref="AddDockerWorkspaceRuntime(IServiceCollection, IConfiguration)"/>, binding
    /// <paramref name="section"/> (may be null) and then applying <paramref name="configure"/>.</summary>
    public static IServiceCollection AddDockerWorkspaceRuntime(
        this IServiceCollection services, IConfiguration? section, Action<DockerRuntimeOptions>? configure)
    {
        ArgumentNullException.ThrowIfNull(services);
        var builder = services.AddOptions<DockerRuntimeOptions>();
        if (section is not null)
        {
            builder.Bind(section);
        }

        if (configure is not null)
        {
            builder.Configure(configure);
        }

        builder.ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<DockerRuntimeOptions>, DockerRuntimeOptionsValidator>());
        services.TryAddSingleton(sp => new DockerWorkspaceRuntime(
            sp.GetRequiredService<IOptions<DockerRuntimeOptions>>().Value,
            sp.GetService<ILogger<DockerWorkspaceRuntime>>()));
        services.TryAddSingleton<IWorkspaceRuntime>(sp => sp.GetRequiredService<DockerWorkspaceRuntime>());
        return services;
    }
}
