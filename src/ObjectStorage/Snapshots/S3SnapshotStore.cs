using System.Globalization;
using System.Net;
using System.Runtime.ExceptionServices;
using System.Security.Cryptography;
using Amazon.Runtime;
using Amazon.S3;
using Amazon.S3.Model;
using CloudDevEnv.Runtime;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace CloudDevEnv.ObjectStorage.Snapshots;

/// <summary>Snapshots as objects in an S3-compatible bucket: <c>&lt;Prefix&gt;&lt;workspace id&gt;/&lt;UTC time taken&gt;-&lt;random&gt;.tar</c>, each
/// beside a sidecar <c>&lt;key&gt;.sha256</c> that holds its digest and size. Keys sort by time, so the newest is the last.</summary>
/// <remarks>
/// <para>A save streams the tar, of unknown length, as a multipart upload: one part at a time is read into the one
/// buffer of <see cref="S3SnapshotOptions.PartSizeBytes"/> the save holds, uploaded, and the buffer reused, so memory
/// stays flat whatever the size and nothing is spooled to disk. A stream shorter than one part is one PutObject.</para>
/// <para>A snapshot is listed only when both its object and its sidecar exist. The sidecar is written after the object
/// is complete, so a save cut short anywhere (a failed part, a crash before the sidecar) leaves nothing visible; a
/// failed multipart upload is aborted (best effort: a bucket lifecycle rule that aborts incomplete uploads after a day
/// sweeps up after a crash), and the leftovers of a crash are removed by the next save of the workspace.</para>
/// </remarks>
public sealed partial class S3SnapshotStore : ISnapshotStore, IDisposable
{
    internal const string Extension = ".tar";
    internal const string SidecarSuffix = ".sha256";
    private const string TimeFormat = "yyyyMMdd'T'HHmmssfffffff'Z'";
    private const int TimeLength = 23;
    private const int MaxParts = 10_000;
    private const int MaxDeleteBatch = 1000;

    private readonly S3SnapshotOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger<S3SnapshotStore> _logger;
    private readonly AmazonS3Client _client;
    private readonly SemaphoreSlim _bucketGate = new(1, 1);
    private volatile bool _bucketEnsured;

    public S3SnapshotStore(IOptions<S3SnapshotOptions> options, TimeProvider time, ILogger<S3SnapshotStore> logger)
    {
        _options = options.Value;
        _time = time;
        _logger = logger;
        _client = new AmazonS3Client(
            new BasicAWSCredentials(_options.AccessKey, _options.SecretKey),
            new AmazonS3Config
            {
                ServiceURL = _options.ServiceUrl,
                AuthenticationRegion = _options.Region,
                ForcePathStyle = _options.ForcePathStyle,
                // The endpoint is the configured one, never one from the environment or ~/.aws.
                IgnoreConfiguredEndpointUrls = true,
                // Checksums only where S3 requires them: the SDK's default (a trailing CRC in an aws-chunked body) is not
                // understood by many S3-compatible servers. Integrity is the SigV4 payload hash of each request and the
                // SHA-256 kept in the sidecar and checked on every restore.
                RequestChecksumCalculation = RequestChecksumCalculation.WHEN_REQUIRED,
                ResponseChecksumValidation = ResponseChecksumValidation.WHEN_REQUIRED,
                RetryMode = RequestRetryMode.Standard,
            });
    }

    /// <summary>Keys asked for per ListObjectsV2 page and deleted per DeleteObjects batch (S3's maximum); tests page
    /// through a handful of keys with a smaller one.</summary>
    internal int PageSize { get; init; } = MaxDeleteBatch;

    private string Prefix => _options.Prefix ?? "";

    /// <summary>Where the snapshots are, as a failure message says it.</summary>
    private string Where => $"s3 bucket {_options.Bucket} at {_options.ServiceUrl}";

    public async Task<SnapshotInfo> SaveAsync(string workspaceId, Stream tar, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(tar);
        var folder = FolderOf(workspaceId);
        await EnsureBucketIfAskedAsync(cancellationToken);

        var takenAt = _time.GetUtcNow();
        // The random part keeps two snapshots in one clock tick apart; the time decides the order.
        var key = $"{folder}{takenAt.UtcDateTime.ToString(TimeFormat, CultureInfo.InvariantCulture)}-{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(4))}{Extension}";
        var partSize = _options.PartSizeBytes;
        // The one buffer of the save: each part is read into it whole, uploaded, and the buffer reused for the next.
        var buffer = GC.AllocateUninitializedArray<byte>(partSize);
        await using var hashing = new HashingReadStream(tar, leaveOpen: true);
        string? uploadId = null;
        var stored = false;
        var step = "reading the first part";
        try
        {
            var filled = await FillAsync(hashing, buffer, cancellationToken);
            if (filled < partSize)
            {
                step = "uploading the object";
                await _client.PutObjectAsync(
                    new PutObjectRequest
                    {
                        BucketName = _options.Bucket,
                        Key = key,
                        InputStream = new MemoryStream(buffer, 0, filled, writable: false),
                        ContentType = "application/x-tar",
                        UseChunkEncoding = false,
                    },
                    cancellationToken);
            }
            else
            {
                step = "starting the multipart upload";
                uploadId = (await _client.InitiateMultipartUploadAsync(
                    new InitiateMultipartUploadRequest { BucketName = _options.Bucket, Key = key, ContentType = "application/x-tar" },
                    cancellationToken)).UploadId;
                var parts = new List<PartETag>();
                while (filled > 0)
                {
                    var number = parts.Count + 1;
                    if (number > MaxParts)
                    {
                        throw new WorkspaceRuntimeException(
                            string.Create(CultureInfo.InvariantCulture, $"The snapshot of {workspaceId} is larger than S3's {MaxParts} parts of {partSize} bytes: raise {S3SnapshotOptions.SectionName}:{nameof(S3SnapshotOptions.PartSizeBytes)}."),
                            isPermanent: true);
                    }

                    step = string.Create(CultureInfo.InvariantCulture, $"uploading part {number}");
                    var part = await _client.UploadPartAsync(
                        new UploadPartRequest
                        {
                            BucketName = _options.Bucket,
                            Key = key,
                            UploadId = uploadId,
                            PartNumber = number,
                            InputStream = new MemoryStream(buffer, 0, filled, writable: false),
                            PartSize = filled,
                            UseChunkEncoding = false,
                        },
                        cancellationToken);
                    parts.Add(new PartETag(number, part.ETag));
                    step = string.Create(CultureInfo.InvariantCulture, $"reading part {number + 1}");
                    filled = await FillAsync(hashing, buffer, cancellationToken);
                }

                step = "completing the multipart upload";
                await _client.CompleteMultipartUploadAsync(
                    new CompleteMultipartUploadRequest { BucketName = _options.Bucket, Key = key, UploadId = uploadId, PartETags = parts },
                    cancellationToken);
                uploadId = null;
            }

            stored = true;
            step = "writing the digest sidecar";
            await _client.PutObjectAsync(
                new PutObjectRequest
                {
                    BucketName = _options.Bucket,
                    Key = key + SidecarSuffix,
                    ContentBody = Sidecar.Format(hashing.Sha256, hashing.BytesRead),
                    ContentType = "text/plain",
                    UseChunkEncoding = false,
                },
                cancellationToken);
        }
        catch (Exception failure)
        {
            await CleanUpFailedSaveAsync(workspaceId, key, uploadId, stored);
            var cause = failure is SourceFailedException source ? source.InnerException! : failure;
            if (failure is SourceFailedException || cause is WorkspaceRuntimeException || (cause is OperationCanceledException && cancellationToken.IsCancellationRequested))
            {
                // The tar's own failure (reading the workspace, a size limit) or a cancellation: the caller's to judge.
                ExceptionDispatchInfo.Throw(cause);
            }

            throw new WorkspaceRuntimeException($"Storing the snapshot of {workspaceId} in {Where} failed while {step}: {Reason(cause)}", isPermanent: false, cause);
        }

        var saved = new SnapshotInfo(workspaceId, key, takenAt, hashing.BytesRead, hashing.Sha256);
        LogSaved(workspaceId, key, saved.SizeBytes);
        await TryPruneAsync(workspaceId, folder, key, cancellationToken);
        return saved;
    }

    public async Task<IReadOnlyList<SnapshotInfo>> ListAsync(string workspaceId, CancellationToken cancellationToken)
    {
        var folder = FolderOf(workspaceId);
        try
        {
            var complete = (await ScanAsync(folder, cancellationToken)).Complete;
            var snapshots = new List<SnapshotInfo>(complete.Count);
            foreach (var entry in complete)
            {
                if (await DescribeAsync(workspaceId, entry, cancellationToken) is { } snapshot)
                {
                    snapshots.Add(snapshot);
                }
            }

            return snapshots;
        }
        catch (Exception e) when (IsStorageFailure(e, cancellationToken))
        {
            throw new WorkspaceRuntimeException($"Listing the snapshots of {workspaceId} in {Where} failed: {Reason(e)}", isPermanent: false, e);
        }
    }

    public async Task<SnapshotInfo?> FindLatestAsync(string workspaceId, CancellationToken cancellationToken)
    {
        var folder = FolderOf(workspaceId);
        try
        {
            var complete = (await ScanAsync(folder, cancellationToken)).Complete;
            for (var i = complete.Count - 1; i >= 0; i--)
            {
                if (await DescribeAsync(workspaceId, complete[i], cancellationToken) is { } snapshot)
                {
                    return snapshot;
                }
            }

            return null;
        }
        catch (Exception e) when (IsStorageFailure(e, cancellationToken))
        {
            throw new WorkspaceRuntimeException($"Finding the latest snapshot of {workspaceId} in {Where} failed: {Reason(e)}", isPermanent: false, e);
        }
    }

    public async Task<Stream> OpenAsync(SnapshotInfo snapshot, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        var folder = FolderOf(snapshot.WorkspaceId);
        if (!IsSnapshotKey(folder, snapshot.Key))
        {
            throw new ArgumentException($"'{snapshot.Key}' is not a snapshot of workspace {snapshot.WorkspaceId} in this store.", nameof(snapshot));
        }

        try
        {
            var response = await _client.GetObjectAsync(new GetObjectRequest { BucketName = _options.Bucket, Key = snapshot.Key }, cancellationToken);
            return new ResponseStream(response);
        }
        catch (Exception e) when (IsStorageFailure(e, cancellationToken))
        {
            throw new WorkspaceRuntimeException($"Reading the snapshot {snapshot.Key} of {snapshot.WorkspaceId} from {Where} failed: {Reason(e)}", isPermanent: false, e);
        }
    }

    public async Task DeleteAllAsync(string workspaceId, CancellationToken cancellationToken)
    {
        var folder = FolderOf(workspaceId);
        var deleted = 0;
        try
        {
            string? continuation = null;
            do
            {
                var page = await _client.ListObjectsV2Async(
                    new ListObjectsV2Request { BucketName = _options.Bucket, Prefix = folder, ContinuationToken = continuation, MaxKeys = PageSize },
                    cancellationToken);
                var keys = (page.S3Objects ?? []).Select(o => o.Key).ToList();
                await DeleteKeysAsync(keys, cancellationToken);
                deleted += keys.Count;
                continuation = page.IsTruncated == true ? page.NextContinuationToken : null;
            }
            while (continuation is not null);
        }
        catch (Exception e) when (IsStorageFailure(e, cancellationToken))
        {
            throw new WorkspaceRuntimeException($"Deleting the snapshots of {workspaceId} in {Where} failed: {Reason(e)}", isPermanent: false, e);
        }

        LogDeleted(workspaceId, deleted, Where);
    }

    /// <summary>Creates the bucket when <see cref="S3SnapshotOptions.CreateBucket"/> asks for it and it does not exist
    /// (at start-up, by <see cref="S3BucketInitializer"/>; again at the first save if that failed).</summary>
    public async Task EnsureBucketAsync(CancellationToken cancellationToken)
    {
        await _bucketGate.WaitAsync(cancellationToken);
        try
        {
            if (_bucketEnsured)
            {
                return;
            }

            try
            {
                await _client.ListObjectsV2Async(new ListObjectsV2Request { BucketName = _options.Bucket, MaxKeys = 1 }, cancellationToken);
            }
            catch (AmazonS3Exception missing) when (missing.ErrorCode == "NoSuchBucket" || missing.StatusCode == HttpStatusCode.NotFound)
            {
                try
                {
                    await _client.PutBucketAsync(new PutBucketRequest { BucketName = _options.Bucket }, cancellationToken);
                    LogBucketCreated(_options.Bucket, _options.ServiceUrl);
                }
                catch (AmazonS3Exception raced) when (raced.ErrorCode is "BucketAlreadyOwnedByYou" or "BucketAlreadyExists")
                {
                    // Another silo made it first.
                }
            }

            _bucketEnsured = true;
        }
        catch (Exception e) when (IsStorageFailure(e, cancellationToken))
        {
            throw new WorkspaceRuntimeException($"Creating the snapshot bucket {_options.Bucket} at {_options.ServiceUrl} failed: {Reason(e)}", isPermanent: false, e);
        }
        finally
        {
            _bucketGate.Release();
        }
    }

    public void Dispose()
    {
        _client.Dispose();
        _bucketGate.Dispose();
    }

    private Task EnsureBucketIfAskedAsync(CancellationToken cancellationToken) =>
        _options.CreateBucket && !_bucketEnsured ? EnsureBucketAsync(cancellationToken) : Task.CompletedTask;

    /// <summary>Reads until <paramref name="buffer"/> is full or the stream has ended: every part but the last is whole,
    /// as S3 requires. A failure of the stream itself is told apart from the store's.</summary>
    private static async Task<int> FillAsync(Stream source, byte[] buffer, CancellationToken cancellationToken)
    {
        var filled = 0;
        while (filled < buffer.Length)
        {
            int read;
            try
            {
                read = await source.ReadAsync(buffer.AsMemory(filled), cancellationToken);
            }
            catch (Exception e)
            {
                throw new SourceFailedException(e);
            }

            if (read == 0)
            {
                break;
            }

            filled += read;
        }

        return filled;
    }

    /// <summary>Best effort, and never the error the caller sees: aborts the multipart upload (its parts would otherwise
    /// be kept, and billed, until a lifecycle rule ends them), or removes the object whose sidecar was never written.</summary>
    private async Task CleanUpFailedSaveAsync(string workspaceId, string key, string? uploadId, bool stored)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        try
        {
            if (uploadId is not null)
            {
                await _client.AbortMultipartUploadAsync(
                    new AbortMultipartUploadRequest { BucketName = _options.Bucket, Key = key, UploadId = uploadId }, timeout.Token);
            }
            else if (stored)
            {
                await _client.DeleteObjectAsync(new DeleteObjectRequest { BucketName = _options.Bucket, Key = key }, timeout.Token);
            }
        }
        catch (Exception e) when (e is AmazonServiceException or AmazonClientException or HttpRequestException or IOException or OperationCanceledException)
        {
            LogCleanUpFailed(workspaceId, key, Reason(e));
        }
    }

    /// <summary>Drops the oldest complete snapshots beyond <see cref="S3SnapshotOptions.Keep"/>, and what a save cut short
    /// left (an object without its sidecar, a sidecar without its object). The new snapshot is stored already, so a
    /// failure here (or a cancellation) is logged, not thrown: the next save prunes again.</summary>
    private async Task TryPruneAsync(string workspaceId, string folder, string savedKey, CancellationToken cancellationToken)
    {
        try
        {
            var scan = await ScanAsync(folder, cancellationToken);
            var drop = scan.Complete.Take(Math.Max(0, scan.Complete.Count - _options.Keep))
                .SelectMany(e => new[] { e.Key + SidecarSuffix, e.Key }) // the sidecar first: the snapshot is gone at once
                .Concat(scan.Incomplete.Where(k => k != savedKey && k != savedKey + SidecarSuffix))
                .ToList();
            await DeleteKeysAsync(drop, cancellationToken);
            foreach (var key in drop.Where(k => k.EndsWith(Extension, StringComparison.Ordinal)))
            {
                LogPruned(workspaceId, key);
            }
        }
        catch (Exception e) when (IsStorageFailure(e, cancellationToken) || e is OperationCanceledException)
        {
            LogPruneFailed(workspaceId, Where, Reason(e));
        }
    }

    private async Task DeleteKeysAsync(IReadOnlyList<string> keys, CancellationToken cancellationToken)
    {
        foreach (var batch in keys.Chunk(Math.Min(PageSize, MaxDeleteBatch)))
        {
            var response = await _client.DeleteObjectsAsync(
                new DeleteObjectsRequest { BucketName = _options.Bucket, Objects = [.. batch.Select(k => new KeyVersion { Key = k })], Quiet = true },
                cancellationToken);
            if (response.DeleteErrors is { Count: > 0 } errors)
            {
                var first = errors[0];
                throw new IOException($"{errors.Count} of {batch.Length} objects were not deleted; {first.Key}: {first.Code} {first.Message}");
            }
        }
    }

    /// <summary>The workspace's keys, paged through: complete snapshots (object and sidecar) oldest first, and the keys of
    /// incomplete ones.</summary>
    private async Task<Scan> ScanAsync(string folder, CancellationToken cancellationToken)
    {
        var objects = new Dictionary<string, S3Object>(StringComparer.Ordinal);
        var sidecars = new HashSet<string>(StringComparer.Ordinal);
        string? continuation = null;
        do
        {
            var page = await _client.ListObjectsV2Async(
                new ListObjectsV2Request { BucketName = _options.Bucket, Prefix = folder, ContinuationToken = continuation, MaxKeys = PageSize },
                cancellationToken);
            foreach (var entry in page.S3Objects ?? [])
            {
                var name = entry.Key[folder.Length..];
                if (name.Contains('/', StringComparison.Ordinal))
                {
                    continue;
                }

                if (name.EndsWith(Extension + SidecarSuffix, StringComparison.Ordinal))
                {
                    sidecars.Add(entry.Key[..^SidecarSuffix.Length]);
                }
                else if (name.EndsWith(Extension, StringComparison.Ordinal))
                {
                    objects[entry.Key] = entry;
                }
            }

            continuation = page.IsTruncated == true ? page.NextContinuationToken : null;
        }
        while (continuation is not null);

        var complete = objects.Values.Where(o => sidecars.Contains(o.Key)).OrderBy(o => o.Key, StringComparer.Ordinal)
            .Select(o => new Entry(o.Key, o.Size ?? 0, o.LastModified)).ToList();
        var incomplete = objects.Keys.Where(k => !sidecars.Contains(k))
            .Concat(sidecars.Where(k => !objects.ContainsKey(k)).Select(k => k + SidecarSuffix)).ToList();
        return new Scan(complete, incomplete);
    }

    /// <summary>The snapshot, its digest read from its sidecar; null when the sidecar is gone since the listing or does
    /// not match the object.</summary>
    private async Task<SnapshotInfo?> DescribeAsync(string workspaceId, Entry entry, CancellationToken cancellationToken)
    {
        string text;
        try
        {
            using var response = await _client.GetObjectAsync(new GetObjectRequest { BucketName = _options.Bucket, Key = entry.Key + SidecarSuffix }, cancellationToken);
            using var reader = new StreamReader(response.ResponseStream);
            text = await reader.ReadToEndAsync(cancellationToken);
        }
        catch (AmazonS3Exception e) when (e.StatusCode == HttpStatusCode.NotFound)
        {
            return null;
        }

        if (!Sidecar.TryParse(text, out var sha256, out var size) || size != entry.Size)
        {
            LogBadSidecar(workspaceId, entry.Key, entry.Size);
            return null;
        }

        var name = entry.Key[(entry.Key.LastIndexOf('/') + 1)..];
        var takenAt = DateTimeOffset.TryParseExact(
            name[..Math.Min(name.Length, TimeLength)], TimeFormat, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var parsed)
            ? parsed
            : entry.LastModified is { } modified ? new DateTimeOffset(modified.ToUniversalTime(), TimeSpan.Zero) : DateTimeOffset.UnixEpoch;
        return new SnapshotInfo(workspaceId, entry.Key, takenAt, size, sha256);
    }

    /// <summary>The workspace's own prefix, <c>&lt;Prefix&gt;&lt;id&gt;/</c>. An id that could reach outside it, or into
    /// another workspace's, is refused.</summary>
    internal string FolderOf(string workspaceId)
    {
        if (string.IsNullOrWhiteSpace(workspaceId) || workspaceId.Contains('/', StringComparison.Ordinal) || workspaceId.Contains('\\', StringComparison.Ordinal)
            || workspaceId.Contains("..", StringComparison.Ordinal) || workspaceId.Any(char.IsControl) || workspaceId.Length > 512)
        {
            throw new ArgumentException($"'{workspaceId}' is not a workspace id this store can keep snapshots for (empty, or holding '/', '\\', '..' or a control character).", nameof(workspaceId));
        }

        return Prefix + workspaceId + "/";
    }

    private static bool IsSnapshotKey(string folder, string key)
    {
        if (key is null || !key.StartsWith(folder, StringComparison.Ordinal))
        {
            return false;
        }

        var name = key[folder.Length..];
        return name.Length > Extension.Length && name.EndsWith(Extension, StringComparison.Ordinal)
            && !name.Contains('/', StringComparison.Ordinal) && !name.Contains("..", StringComparison.Ordinal);
    }

    private static bool IsStorageFailure(Exception e, CancellationToken cancellationToken) =>
        e is AmazonServiceException or AmazonClientException or HttpRequestException or IOException
        || (e is OperationCanceledException && !cancellationToken.IsCancellationRequested); // a timeout, not the caller

    /// <summary>What went wrong, in a line: the server's error code and status, or the innermost cause (a refused
    /// connection, a timeout).</summary>
    private static string Reason(Exception e)
    {
        if (e is AmazonS3Exception s3 && !string.IsNullOrEmpty(s3.ErrorCode))
        {
            return string.Create(CultureInfo.InvariantCulture, $"{s3.ErrorCode} (HTTP {(int)s3.StatusCode}): {s3.Message}");
        }

        var innermost = e;
        while (innermost.InnerException is not null)
        {
            innermost = innermost.InnerException;
        }

        return e.Message.Contains(innermost.Message, StringComparison.Ordinal) ? e.Message : $"{e.Message} ({innermost.Message})";
    }

    private sealed record Entry(string Key, long Size, DateTime? LastModified);

    private sealed record Scan(List<Entry> Complete, List<string> Incomplete);

    /// <summary>Wraps a failure of the tar stream, so that it is told apart from the store's own.</summary>
    private sealed class SourceFailedException(Exception inner) : Exception(inner.Message, inner);

    /// <summary>The object's body; disposing it disposes the response, and so gives back the connection.</summary>
    private sealed class ResponseStream(GetObjectResponse response) : Stream
    {
        private readonly Stream _inner = response.ResponseStream;

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => response.ContentLength;

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count) => _inner.Read(buffer, offset, count);

        public override int Read(Span<byte> buffer) => _inner.Read(buffer);

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            _inner.ReadAsync(buffer, offset, count, cancellationToken);

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            _inner.ReadAsync(buffer, cancellationToken);

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                _inner.Dispose();
                response.Dispose();
            }

            base.Dispose(disposing);
        }
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Workspace {WorkspaceId}: stored snapshot {Key} ({SizeBytes} bytes)")]
    private partial void LogSaved(string workspaceId, string key, long sizeBytes);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Workspace {WorkspaceId}: pruned snapshot {Key}")]
    private partial void LogPruned(string workspaceId, string key);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Workspace {WorkspaceId}: pruning old snapshots in {Where} failed, the next save tries again: {Reason}")]
    private partial void LogPruneFailed(string workspaceId, string where, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Workspace {WorkspaceId}: cleaning up after the failed save of {Key} failed (a bucket lifecycle rule or the next save removes it): {Reason}")]
    private partial void LogCleanUpFailed(string workspaceId, string key, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Workspace {WorkspaceId}: snapshot {Key} ({SizeBytes} bytes) has a sidecar that does not describe it; not listed")]
    private partial void LogBadSidecar(string workspaceId, string key, long sizeBytes);

    [LoggerMessage(Level = LogLevel.Information, Message = "Workspace {WorkspaceId}: deleted its {Count} snapshot objects in {Where}")]
    private partial void LogDeleted(string workspaceId, int count, string where);

    [LoggerMessage(Level = LogLevel.Information, Message = "Created the snapshot bucket {Bucket} at {ServiceUrl}")]
    private partial void LogBucketCreated(string bucket, string serviceUrl);
}
