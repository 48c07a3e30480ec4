namespace CloudDevEnv.Runtime;

/// <summary>One stored snapshot. <paramref name="Key"/> is the store's own name for it (a file name, an object key).</summary>
public sealed record SnapshotInfo(string WorkspaceId, string Key, DateTimeOffset TakenAt, long SizeBytes);
