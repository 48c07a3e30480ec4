namespace CloudDevEnv.Runtime;

/// <summary>Where workspace snapshots (tar streams of the workspaces folder) are kept: a local folder in local mode,
/// S3-compatible object storage in a cluster. Each workspace has its own set, newest last; the store prunes old ones.</summary>
/// <remarks>Shaped for object storage as much as for files: a save is one streamed upload of unknown length that becomes
/// visible whole or not at all (a file renamed into place, a completed multipart upload); snapshots are found by listing
/// a workspace's keys, read by key and removed by prefix. Only the workspace's grain writes a workspace's snapshots, so
/// a store need not guard against two saves of one workspace at once.</remarks>
public interface ISnapshotStore
{
    /// <summary>Stores <paramref name="tar"/> as the newest snapshot of the workspace, then drops the oldest beyond the
    /// store's retention. Nothing is visible unless the whole stream was stored.</summary>
    Task<SnapshotInfo> SaveAsync(string workspaceId, Stream tar, CancellationToken cancellationToken);

    /// <summary>The workspace's complete snapshots, oldest first.</summary>
    Task<IReadOnlyList<SnapshotInfo>> ListAsync(string workspaceId, CancellationToken cancellationToken);

    /// <summary>The newest complete snapshot of the workspace, or null when it has none.</summary>
    Task<SnapshotInfo?> FindLatestAsync(string workspaceId, CancellationToken cancellationToken);

    /// <summary>Reads a snapshot that <see cref="FindLatestAsync"/> or <see cref="SaveAsync"/> returned; the caller disposes the stream.</summary>
    Task<Stream> OpenAsync(SnapshotInfo snapshot, CancellationToken cancellationToken);

    /// <summary>Removes every snapshot of the workspace. Succeeds when there is none.</summary>
    Task DeleteAllAsync(string workspaceId, CancellationToken cancellationToken);
}
