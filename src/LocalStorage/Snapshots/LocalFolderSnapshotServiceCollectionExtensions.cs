using CloudDevEnv.Runtime;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace CloudDevEnv.LocalStorage.Snapshots;

public static class LocalFolderSnapshotServiceCollectionExtensions
{
    /// <summary>Keeps workspace snapshots under <c>Snapshots:Directory</c>, or under <paramref name="defaultDirectory"/> when
    /// that is not configured (local mode passes <c>&lt;data dir&gt;/snapshots</c>). Validated when the host starts.</summary>
    public static IServiceCollection AddLocalFolderSnapshotStore(this IServiceCollection services, IConfiguration configuration, string? defaultDirectory = null)
    {
        services.AddOptions<LocalFolderSnapshotOptions>()
            .Bind(configuration.GetSection(LocalFolderSnapshotOptions.SectionName))
            .PostConfigure(o =>
            {
                if (string.IsNullOrWhiteSpace(o.Directory) && defaultDirectory is not null)
                {
                    o.Directory = defaultDirectory;
                }
            })
            .ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<LocalFolderSnapshotOptions>, LocalFolderSnapshotOptionsValidator>());
        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton<ISnapshotStore, LocalFolderSnapshotStore>();
        return services;
    }
}
