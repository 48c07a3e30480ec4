using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace CloudDevEnv.ObjectStorage.Snapshots;

/// <summary>Creates the bucket when the host starts, if <c>Snapshots:S3:CreateBucket</c> asks for it and it is missing;
/// a server that cannot be reached then fails the start, saying where.</summary>
internal sealed class S3BucketInitializer(S3SnapshotStore store, IOptions<S3SnapshotOptions> options) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken) =>
        options.Value.CreateBucket ? store.EnsureBucketAsync(cancellationToken) : Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
