using Microsoft.Extensions.Logging;
using Orleans.Storage;

namespace CloudDevEnv.LocalStorage;

/// <summary>Grain storage for local mode: one file per (state name, grain) under
/// <c>&lt;directory&gt;/grains/&lt;state name&gt;/</c>, replaced atomically and durably on every write. ETags carry
/// a version stored in the file, so a write or clear from a stale ETag is refused with
/// <see cref="InconsistentStateException"/> as with Orleans' own providers.</summary>
public sealed partial class FileGrainStorage : IGrainStorage, ILifecycleParticipant<ISiloLifecycle>
{
    private const string FileExtension = ".json";

    // Orleans never runs two writes of one activation at once, but a duplicate activation or a direct
    // caller could. Striped rather than one lock per file so that memory stays bounded.
    private readonly SemaphoreSlim[] _locks = Enumerable.Range(0, 64).Select(_ => new SemaphoreSlim(1, 1)).ToArray();
    private readonly string _name;
    private readonly string _root;
    private readonly bool _deleteStateOnClear;
    private readonly IGrainStorageSerializer _serializer;
    private readonly ILogger<FileGrainStorage> _logger;

    public FileGrainStorage(string name, FileStorageOptions options, ILogger<FileGrainStorage> logger)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(options.Directory);
        _name = name;
        _root = Path.Combine(Path.GetFullPath(options.Directory), "grains");
        _deleteStateOnClear = options.DeleteStateOnClear;
        _serializer = options.GrainStorageSerializer
            ?? throw new ArgumentException($"{nameof(FileStorageOptions)}.{nameof(FileStorageOptions.GrainStorageSerializer)} is not set.", nameof(options));
        _logger = logger;
    }

    public Task ReadStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState) =>
        ReadStateAsync(stateName, grainId, grainState, CancellationToken.None);

    public Task WriteStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState) =>
        WriteStateAsync(stateName, grainId, grainState, CancellationToken.None);

    public Task ClearStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState) =>
        ClearStateAsync(stateName, grainId, grainState, CancellationToken.None);

    public async Task ReadStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState, CancellationToken cancellationToken)
    {
        var path = PathOf(stateName, grainId);
        var gate = LockOf(path);
        await gate.WaitAsync(cancellationToken);
        try
        {
            var record = await ReadRecordAsync(path, stateName, grainId, cancellationToken);
            if (record is null || record.Cleared)
            {
                grainState.ETag = record?.ETag;
                grainState.RecordExists = false;
                return;
            }

            // Deserialized first so that a state that fails to load leaves the grain's ETag as it was.
            grainState.State = Deserialize<T>(record, path);
            grainState.ETag = record.ETag;
            grainState.RecordExists = true;
        }
        finally
        {
            gate.Release();
        }
    }

    public async Task WriteStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState, CancellationToken cancellationToken)
    {
        var path = PathOf(stateName, grainId);
        var gate = LockOf(path);
        await gate.WaitAsync(cancellationToken);
        try
        {
            var current = await ReadRecordAsync(path, stateName, grainId, cancellationToken);
            ThrowIfStale(current, grainState.ETag, "write", stateName, grainId);

            var payload = _serializer.Serialize(grainState.State);
            var next = new GrainStateRecord(
                stateName,
                grainId.ToString(),
                current?.Incarnation ?? GrainStateRecord.NewIncarnation(),
                (current?.Version ?? 0) + 1,
                Cleared: false,
                payload.ToMemory());

            // Checked on every write, not cached: someone may have removed the folder while the silo runs.
            DurableFile.CreateDirectory(Path.GetDirectoryName(path)!);

            // Not cancellable from here on: once started the write either lands or fails, and the caller
            // must not be left unsure whether it was acknowledged.
            await DurableFile.WriteAsync(path, next.ToUtf8Json());
            grainState.ETag = next.ETag;
            grainState.RecordExists = true;
            LogWritten(stateName, grainId, next.Version);
        }
        finally
        {
            gate.Release();
        }
    }

    public async Task ClearStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState, CancellationToken cancellationToken)
    {
        var path = PathOf(stateName, grainId);
        var gate = LockOf(path);
        await gate.WaitAsync(cancellationToken);
        try
        {
            var current = await ReadRecordAsync(path, stateName, grainId, cancellationToken);
            ThrowIfStale(current, grainState.ETag, "clear", stateName, grainId);

            if (current is null)
            {
                grainState.ETag = null;
            }
            else if (_deleteStateOnClear)
            {
                await DurableFile.DeleteAsync(path);
                grainState.ETag = null;
            }
            else
            {
                var tombstone = current with { Version = current.Version + 1, Cleared = true, Payload = default };
                await DurableFile.WriteAsync(path, tombstone.ToUtf8Json());
                grainState.ETag = tombstone.ETag;
            }

            grainState.RecordExists = false;
            LogCleared(stateName, grainId);
        }
        finally
        {
            gate.Release();
        }
    }

    void ILifecycleParticipant<ISiloLifecycle>.Participate(ISiloLifecycle lifecycle) =>
        lifecycle.Subscribe($"{nameof(FileGrainStorage)}-{_name}", ServiceLifecycleStage.RuntimeInitialize, _ =>
        {
            // Before any grain runs, so no write of this silo can be in flight.
            DeleteTemporaryFiles();
            return Task.CompletedTask;
        });

    /// <summary>Removes temporary files left by a process killed mid-write. Runs at silo start.</summary>
    internal void DeleteTemporaryFiles()
    {
        var deleted = DurableFile.DeleteTemporaryFiles(_root, SearchOption.AllDirectories);
        if (deleted > 0)
        {
            LogTemporaryFilesDeleted(deleted, _root);
        }
    }

    /// <summary>The file that holds a grain's state; internal for tests.</summary>
    internal string PathOf(string stateName, GrainId grainId) =>
        Path.Combine(_root, SafeFileName.Encode(stateName), SafeFileName.Encode(grainId.ToString()) + FileExtension);

    private async Task<GrainStateRecord?> ReadRecordAsync(string path, string stateName, GrainId grainId, CancellationToken cancellationToken)
    {
        byte[] content;
        try
        {
            content = await File.ReadAllBytesAsync(path, cancellationToken);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return null;
        }

        GrainStateRecord record;
        try
        {
            record = GrainStateRecord.Parse(content);
        }
        catch (InvalidDataException e)
        {
            // Refuse rather than start the grain empty: that would overwrite whatever is left to recover.
            LogUnreadable(e, path);
            throw new InvalidDataException($"Grain state file '{path}' of {grainId} is unreadable: {e.Message}", e);
        }

        if (record.StateName != stateName || record.GrainId != grainId.ToString())
        {
            throw new InvalidDataException(
                $"Grain state file '{path}' holds {record.StateName} of {record.GrainId}, not {stateName} of {grainId}.");
        }

        return record;
    }

    private void ThrowIfStale(GrainStateRecord? current, string? etag, string operation, string stateName, GrainId grainId)
    {
        var stored = current?.ETag;
        if (!string.Equals(stored, etag, StringComparison.Ordinal))
        {
            LogStale(operation, stateName, grainId, stored, etag);
            throw new InconsistentStateException(
                $"Cannot {operation} {stateName} of {grainId}: the stored ETag is '{stored}' but the grain has '{etag}'.", stored, etag);
        }
    }

    private T Deserialize<T>(GrainStateRecord record, string path)
    {
        try
        {
            return _serializer.Deserialize<T>(new BinaryData(record.Payload)) ?? Activator.CreateInstance<T>();
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            LogUnreadable(e, path);
            throw;
        }
    }

    private SemaphoreSlim LockOf(string path) =>
        _locks[(uint)StringComparer.Ordinal.GetHashCode(path) % (uint)_locks.Length];
}
