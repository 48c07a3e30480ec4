using System.Globalization;
using CloudDevEnv.Runtime;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace CloudDevEnv.LocalStorage.Snapshots;

/// <summary>Snapshots as files: <c>&lt;Directory&gt;/&lt;workspace id, encoded&gt;/&lt;UTC time taken&gt;-&lt;random&gt;-&lt;SHA-256&gt;.tar</c>. Names sort by
/// time, so the newest is the last; each is written to a temporary file, flushed and renamed into place, so a crash
/// mid-save leaves the previous snapshots as they were and no half file under a snapshot's name.</summary>
public sealed partial class LocalFolderSnapshotStore(
    IOptions<LocalFolderSnapshotOptions> options,
    TimeProvider time,
    ILogger<LocalFolderSnapshotStore> logger) : ISnapshotStore
{
    private const string Extension = ".tar";
    private const string PendingExtension = ".tar.pending";
    private const string TimeFormat = "yyyyMMdd'T'HHmmssfffffff'Z'";
    private const int TimeLength = 23;

    private string Root => Path.GetFullPath(options.Value.Directory);

    public async Task<SnapshotInfo> SaveAsync(string workspaceId, Stream tar, CancellationToken cancellationToken)
    {
        var folder = FolderOf(workspaceId);
        DurableFile.CreateDirectory(folder);

        // Only this workspace's grain writes here, so a temporary file found now is what a crash left behind.
        DurableFile.DeleteTemporaryFiles(folder, SearchOption.TopDirectoryOnly);

        foreach (var pending in Directory.EnumerateFiles(folder, "*" + PendingExtension))
        {
            await DurableFile.DeleteAsync(pending);
        }

        var takenAt = time.GetUtcNow();
        // The random part keeps two snapshots in one clock tick apart; the time decides the order. The digest, known
        // only once the stream has ended, joins the name in the rename that makes the snapshot visible.
        var stem = $"{takenAt.UtcDateTime.ToString(TimeFormat, CultureInfo.InvariantCulture)}-{Guid.NewGuid().ToString("N")[..8]}";
        var pendingPath = Path.Combine(folder, stem + PendingExtension);
        await using var hashing = new HashingReadStream(tar, leaveOpen: true);
        var size = await DurableFile.WriteAsync(pendingPath, hashing, cancellationToken);
        var key = $"{stem}-{hashing.Sha256}{Extension}";
        File.Move(pendingPath, Path.Combine(folder, key));
        DirectorySync.Flush(folder);
        await PruneAsync(workspaceId, folder);
        return new SnapshotInfo(workspaceId, key, takenAt, size, hashing.Sha256);
    }

    public Task<IReadOnlyList<SnapshotInfo>> ListAsync(string workspaceId, CancellationToken cancellationToken) =>
        Task.FromResult<IReadOnlyList<SnapshotInfo>>([.. List(FolderOf(workspaceId)).Select(f => Describe(workspaceId, f))]);

    public Task<SnapshotInfo?> FindLatestAsync(string workspaceId, CancellationToken cancellationToken)
    {
        var latest = List(FolderOf(workspaceId)).LastOrDefault();
        return Task.FromResult(latest is null ? null : Describe(workspaceId, latest));
    }

    public Task<Stream> OpenAsync(SnapshotInfo snapshot, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        if (Path.GetFileName(snapshot.Key) != snapshot.Key || !snapshot.Key.EndsWith(Extension, StringComparison.Ordinal))
        {
            throw new ArgumentException($"'{snapshot.Key}' is not a snapshot of this store.", nameof(snapshot));
        }

        Stream stream = new FileStream(
            Path.Combine(FolderOf(snapshot.WorkspaceId), snapshot.Key),
            new FileStreamOptions { Mode = FileMode.Open, Access = FileAccess.Read, Share = FileShare.Read, Options = FileOptions.Asynchronous | FileOptions.SequentialScan });
        return Task.FromResult(stream);
    }

    public Task DeleteAllAsync(string workspaceId, CancellationToken cancellationToken) => Task.Run(() =>
    {
        var folder = FolderOf(workspaceId);
        if (!Directory.Exists(folder))
        {
            return;
        }

        Directory.Delete(folder, recursive: true);
        DirectorySync.Flush(Root);
        LogDeleted(workspaceId, folder);
    }, cancellationToken);

    private async Task PruneAsync(string workspaceId, string folder)
    {
        var files = List(folder);
        foreach (var old in files.Take(Math.Max(0, files.Count - options.Value.Keep)))
        {
            if (await DurableFile.DeleteAsync(old))
            {
                LogPruned(workspaceId, Path.GetFileName(old));
            }
        }
    }

    private string FolderOf(string workspaceId) => Path.Combine(Root, SafeFileName.Encode(workspaceId));

    /// <summary>Complete snapshots, oldest first; temporary files start with '.' and are never listed.</summary>
    private static List<string> List(string folder) =>
        Directory.Exists(folder)
            ? [.. Directory.EnumerateFiles(folder, "*" + Extension).Where(f => f.EndsWith(Extension, StringComparison.Ordinal) && !Path.GetFileName(f).StartsWith('.')).Order(StringComparer.Ordinal)]
            : [];

    private static SnapshotInfo Describe(string workspaceId, string path)
    {
        var key = Path.GetFileName(path);
        var takenAt = DateTimeOffset.TryParseExact(
            key[..Math.Min(key.Length, TimeLength)], TimeFormat, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var parsed)
            ? parsed
            : new DateTimeOffset(File.GetLastWriteTimeUtc(path));
        // <time>-<random>-<sha256>.tar; snapshots from before digests were kept have no third part.
        var parts = Path.GetFileNameWithoutExtension(key).Split('-');
        var sha256 = parts.Length == 3 && parts[2].Length == 64 && parts[2].All(char.IsAsciiHexDigitLower) ? parts[2] : null;
        return new SnapshotInfo(workspaceId, key, takenAt, new FileInfo(path).Length, sha256);
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Workspace {WorkspaceId}: pruned snapshot {Key}")]
    private partial void LogPruned(string workspaceId, string key);

    [LoggerMessage(Level = LogLevel.Information, Message = "Workspace {WorkspaceId}: deleted its snapshots in {Folder}")]
    private partial void LogDeleted(string workspaceId, string folder);
}
