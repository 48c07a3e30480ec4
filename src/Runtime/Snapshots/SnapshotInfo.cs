namespace CloudDevEnv.Runtime;

/// <summary>One stored snapshot. <paramref name="Key"/> is the store's own name for it (a file name, an object key).</summary>
/// <param name="Sha256">The SHA-256 of the stored bytes (lower-case hex), computed by the store as it wrote them and
/// checked on every restore; null only for a snapshot stored before digests were kept (restored unchecked).</param>
public sealed record SnapshotInfo(string WorkspaceId, string Key, DateTimeOffset TakenAt, long SizeBytes, string? Sha256 = null);
