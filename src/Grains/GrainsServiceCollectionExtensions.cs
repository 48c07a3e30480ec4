using CloudDevEnv.Grains.Identity;
using CloudDevEnv.Grains.Provisioning;
using CloudDevEnv.Grains.Snapshots;
using CloudDevEnv.Grains.Workspaces;
using CloudDevEnv.Platform;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Orleans.Runtime;

namespace CloudDevEnv.Grains;

public static class GrainsServiceCollectionExtensions
{
    /// <summary>Registers what the workspace and owner grains need, except the runtime and the storage
    /// providers, which each host chooses. Options are validated when the host starts.</summary>
    public static IServiceCollection AddWorkspaceGrains(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<WorkspaceOptions>()
            .Bind(configuration.GetSection(WorkspaceOptions.SectionName))
            .ValidateDataAnnotations()
            .ValidateOnStart();
        services.AddPublicAddress(configuration);
        services.AddOptions<ApiTokenOptions>()
            .Bind(configuration.GetSection(ApiTokenOptions.SectionName))
            .ValidateDataAnnotations()
            .ValidateOnStart();
        services.AddOptions<Secrets.SecretOptions>()
            .Bind(configuration.GetSection(Secrets.SecretOptions.SectionName))
            .ValidateDataAnnotations()
            .ValidateOnStart();
        services.AddSingleton<Secrets.SecretSealer>();
        services.TryAddSingleton(TimeProvider.System);
        services.AddOptions<ProvisioningOptions>()
            .Bind(configuration.GetSection(ProvisioningOptions.SectionName))
            .ValidateDataAnnotations()
            .ValidateOnStart();
        services.AddOptions<Prebuilds.PrebuildOptions>()
            .Bind(configuration.GetSection(Prebuilds.PrebuildOptions.SectionName))
            .ValidateDataAnnotations()
            .ValidateOnStart();
        services.AddSingleton<IValidateOptions<Prebuilds.PrebuildOptions>, Prebuilds.PrebuildOptionsValidator>();
        services.AddOptions<DevContainerPolicyOptions>()
            .Bind(configuration.GetSection(DevContainerPolicyOptions.SectionName))
            .ValidateDataAnnotations()
            .ValidateOnStart();
        services.AddOptions<Provisioning.Features.FeatureOptions>()
            .Bind(configuration.GetSection(Provisioning.Features.FeatureOptions.SectionName))
            .ValidateDataAnnotations()
            .ValidateOnStart();
        services.AddOptions<Provisioning.Ide.IdeOptions>()
            .Bind(configuration.GetSection(Provisioning.Ide.IdeOptions.SectionName))
            .ValidateDataAnnotations()
            .ValidateOnStart();
        services.AddSingleton<Provisioning.Ide.ExtensionFetcher>();
        services.AddSingleton<Provisioning.Ide.IdeCustomizer>();
        services.AddSingleton<Provisioning.Features.FeatureFetcher>();
        services.AddSingleton<Provisioning.Features.FeatureInstaller>();
        services.AddSingleton<WorkspaceImageResolver>();
        services.AddSingleton<WorkspaceProvisioner>();
        // Snapshots are on when the host registers an ISnapshotStore (AddLocalFolderSnapshotStore, later an S3 store).
        services.AddSingleton<WorkspaceSnapshots>();
        services.AddSingleton<OrphanReconciler>();
        services.AddSingleton<ILifecycleParticipant<ISiloLifecycle>>(sp => sp.GetRequiredService<OrphanReconciler>());
        return services;
    }
}
