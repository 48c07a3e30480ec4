using CloudDevEnv.ObjectStorage.Snapshots;
using CloudDevEnv.Runtime;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace CloudDevEnv.ObjectStorage;

public static class ObjectStorageServiceCollectionExtensions
{
    /// <summary>Keeps workspace snapshots in the S3-compatible bucket of <c>Snapshots:S3</c> (cluster mode: every silo
    /// reads and writes the same snapshots). The options are validated when the host starts; with
    /// <c>Snapshots:S3:CreateBucket</c> the bucket is created then if it is missing.</summary>
    public static IServiceCollection AddS3SnapshotStore(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<S3SnapshotOptions>()
            .Bind(configuration.GetSection(S3SnapshotOptions.SectionName))
            .ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<S3SnapshotOptions>, S3SnapshotOptionsValidator>());
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<S3SnapshotStore>();
        services.AddSingleton<ISnapshotStore>(sp => sp.GetRequiredService<S3SnapshotStore>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, S3BucketInitializer>());
        return services;
    }
}
