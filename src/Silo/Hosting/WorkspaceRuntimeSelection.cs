using CloudDevEnv.Runtime.Docker;
using CloudDevEnv.Runtime.Kubernetes;

namespace CloudDevEnv.Silo.Hosting;

/// <summary>Where a silo runs workspaces: <c>Runtime:Kind</c> is <c>Docker</c> (the default: containers on the engine of
/// this machine, <c>Runtime:Docker:*</c>) or <c>Kubernetes</c> (pods in a namespace of a cluster, <c>Runtime:Kubernetes:*</c>,
/// in-cluster credentials or a kubeconfig). Anything else stops the start with the choices named.</summary>
public static class WorkspaceRuntimeSelection
{
    public const string Key = "Runtime:Kind";

    public static IServiceCollection AddWorkspaceRuntime(this IServiceCollection services, IConfiguration configuration)
    {
        var kind = configuration[Key];
        if (string.IsNullOrWhiteSpace(kind) || string.Equals(kind, "Docker", StringComparison.OrdinalIgnoreCase))
        {
            return services.AddDockerWorkspaceRuntime(configuration);
        }

        if (string.Equals(kind, "Kubernetes", StringComparison.OrdinalIgnoreCase))
        {
            return services.AddKubernetesWorkspaceRuntime(configuration);
        }

        throw new StartupException($"{Key} is '{kind}'; it must be Docker (containers on this machine's engine) or Kubernetes (pods; Runtime:Kubernetes:Namespace, Kubeconfig or in-cluster credentials).");
    }
}
