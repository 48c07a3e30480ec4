using CloudDevEnv.LocalStorage.Snapshots;
using CloudDevEnv.ObjectStorage;

namespace CloudDevEnv.Silo.Hosting;

/// <summary>Which snapshot store a silo writes to: <c>Snapshots:Store</c> is <c>Local</c> (the default: a folder under
/// the data dir, for one machine) or <c>S3</c> (any S3-compatible store, <c>Snapshots:S3:*</c>: what lets a workspace
/// move between hosts). Anything else stops the start with the choices named, rather than silently using a folder.</summary>
public static class SnapshotStoreSelection
{
    public const string Key = "Snapshots:Store";

    public static IServiceCollection AddSnapshotStore(this IServiceCollection services, IConfiguration configuration, string dataDir)
    {
        var store = configuration[Key];
        if (string.IsNullOrWhiteSpace(store) || string.Equals(store, "Local", StringComparison.OrdinalIgnoreCase))
        {
            return services.AddLocalFolderSnapshotStore(configuration, Path.Combine(dataDir, "snapshots"));
        }

        if (string.Equals(store, "S3", StringComparison.OrdinalIgnoreCase))
        {
            return services.AddS3SnapshotStore(configuration);
        }

        throw new InvalidOperationException($"{Key} is '{store}'; it must be Local (a folder under the data dir) or S3 (Snapshots:S3:ServiceUrl, Bucket, AccessKey, SecretKey).");
    }
}
