using System.Collections.Immutable;
using System.Text.Json;
using Microsoft.Extensions.Logging;

namespace CloudDevEnv.LocalStorage;

/// <summary>Reminder table for local mode. All rows live in memory; every change writes the whole table
/// to <c>&lt;directory&gt;/reminders.json</c> atomically and durably before it is acknowledged, and the
/// table is loaded from there on start. The table is small (about one row per running workspace), so
/// rewriting it whole is cheaper than anything cleverer.</summary>
public sealed partial class FileReminderTable : IReminderTable
{
    internal const string FileName = "reminders.json";

    /// <summary>Name of the <see cref="FileStorageOptions"/> instance the table reads, apart from the grain
    /// storage providers' names.</summary>
    internal const string OptionsName = "CloudDevEnv.LocalStorage.Reminders";

    private readonly SemaphoreSlim _writeLock = new(1, 1);
    private readonly string _directory;
    private readonly string _path;
    private readonly ILogger<FileReminderTable> _logger;

    // Replaced whole after each durable write, so readers take no lock and never see an unsaved change.
    private volatile ImmutableDictionary<ReminderKey, ReminderEntry>? _rows;

    public FileReminderTable(FileStorageOptions options, ILogger<FileReminderTable> logger)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(options.Directory);
        _directory = Path.GetFullPath(options.Directory);
        _path = Path.Combine(_directory, FileName);
        _logger = logger;
    }

    public async Task StartAsync(CancellationToken cancellationToken = default) => await LoadedRowsAsync(cancellationToken);

    public async Task<ReminderTableData> ReadRows(GrainId grainId)
    {
        var rows = await LoadedRowsAsync(CancellationToken.None);
        return new ReminderTableData(rows.Where(row => row.Key.GrainId == grainId).Select(row => Copy(row.Value)));
    }

    public async Task<ReminderTableData> ReadRows(uint begin, uint end)
    {
        var rows = await LoadedRowsAsync(CancellationToken.None);
        return new ReminderTableData(rows
            .Where(row => RingRange.Contains(begin, end, row.Key.GrainId.GetUniformHashCode()))
            .Select(row => Copy(row.Value)));
    }

    public async Task<ReminderEntry?> ReadRow(GrainId grainId, string reminderName)
    {
        var rows = await LoadedRowsAsync(CancellationToken.None);
        return rows.TryGetValue(new ReminderKey(grainId, reminderName), out var entry) ? Copy(entry) : null;
    }

    public async Task<string?> UpsertRow(ReminderEntry entry)
    {
        ArgumentNullException.ThrowIfNull(entry);
        var stored = Copy(entry);
        stored.ETag = Guid.NewGuid().ToString("N");
        await ChangeAsync(rows => rows.SetItem(new ReminderKey(entry.GrainId, entry.ReminderName), stored));

        // Like Orleans' in-memory table, the caller's entry carries the new ETag too.
        entry.ETag = stored.ETag;
        LogUpserted(entry.GrainId, entry.ReminderName);
        return stored.ETag;
    }

    public async Task<bool> RemoveRow(GrainId grainId, string reminderName, string eTag)
    {
        var key = new ReminderKey(grainId, reminderName);
        var removed = await ChangeAsync(rows =>
            rows.TryGetValue(key, out var existing) && string.Equals(existing.ETag, eTag, StringComparison.Ordinal)
                ? rows.Remove(key)
                : null);
        LogRemoved(grainId, reminderName, removed);
        return removed;
    }

    public async Task TestOnlyClearTable() => await ChangeAsync(rows => rows.Clear());

    /// <summary>Applies <paramref name="change"/> (null for no change) and saves the result before anyone
    /// can read it; if saving fails the table is left as it was. Returns whether anything changed.</summary>
    private async Task<bool> ChangeAsync(
        Func<ImmutableDictionary<ReminderKey, ReminderEntry>, ImmutableDictionary<ReminderKey, ReminderEntry>?> change)
    {
        await LoadedRowsAsync(CancellationToken.None);
        await _writeLock.WaitAsync();
        try
        {
            var next = change(_rows!);
            if (next is null)
            {
                return false;
            }

            await DurableFile.WriteAsync(_path, Serialize(next));
            _rows = next;
            return true;
        }
        finally
        {
            _writeLock.Release();
        }
    }

    private async ValueTask<ImmutableDictionary<ReminderKey, ReminderEntry>> LoadedRowsAsync(CancellationToken cancellationToken)
    {
        if (_rows is { } loaded)
        {
            return loaded;
        }

        await _writeLock.WaitAsync(cancellationToken);
        try
        {
            return _rows ??= await LoadAsync(cancellationToken);
        }
        finally
        {
            _writeLock.Release();
        }
    }

    private async Task<ImmutableDictionary<ReminderKey, ReminderEntry>> LoadAsync(CancellationToken cancellationToken)
    {
        DurableFile.CreateDirectory(_directory);
        var leftovers = DurableFile.DeleteTemporaryFiles(_directory, SearchOption.TopDirectoryOnly);
        if (leftovers > 0)
        {
            LogTemporaryFilesDeleted(leftovers, _directory);
        }

        byte[] content;
        try
        {
            content = await File.ReadAllBytesAsync(_path, cancellationToken);
        }
        catch (FileNotFoundException)
        {
            LogLoaded(0, _path);
            return ImmutableDictionary<ReminderKey, ReminderEntry>.Empty;
        }

        // An unreadable table stops the silo: starting empty would drop every reminder for good.
        ReminderTableDocument document;
        try
        {
            document = JsonSerializer.Deserialize(content, ReminderTableJsonContext.Default.ReminderTableDocument)
                ?? throw new InvalidDataException("The file holds null.");
            if (document.Format != ReminderTableDocument.CurrentFormat)
            {
                throw new InvalidDataException($"Unknown reminder table format {document.Format}.");
            }
        }
        catch (Exception e) when (e is JsonException or InvalidDataException)
        {
            LogUnreadable(e, _path);
            throw new InvalidDataException($"Reminder table '{_path}' is unreadable: {e.Message}", e);
        }

        var rows = ImmutableDictionary.CreateBuilder<ReminderKey, ReminderEntry>();
        foreach (var row in document.Reminders)
        {
            var entry = new ReminderEntry
            {
                GrainId = GrainId.Parse(row.GrainId),
                ReminderName = row.Name,
                StartAt = row.StartAt,
                Period = row.Period,
                ETag = row.ETag,
            };
            rows[new ReminderKey(entry.GrainId, entry.ReminderName)] = entry;
        }

        LogLoaded(rows.Count, _path);
        return rows.ToImmutable();
    }

    private static byte[] Serialize(ImmutableDictionary<ReminderKey, ReminderEntry> rows)
    {
        // Sorted so that the file changes only where the table did.
        var document = new ReminderTableDocument
        {
            Reminders = rows.Values
                .Select(entry => new ReminderRow
                {
                    GrainId = entry.GrainId.ToString(),
                    Name = entry.ReminderName,
                    StartAt = entry.StartAt,
                    Period = entry.Period,
                    ETag = entry.ETag ?? "", // never null: UpsertRow sets it
                })
                .OrderBy(row => row.GrainId, StringComparer.Ordinal)
                .ThenBy(row => row.Name, StringComparer.Ordinal)
                .ToList(),
        };
        return JsonSerializer.SerializeToUtf8Bytes(document, ReminderTableJsonContext.Default.ReminderTableDocument);
    }

    // Callers get their own copies: an entry handed out must not change the table behind its back.
    private static ReminderEntry Copy(ReminderEntry entry) => new()
    {
        GrainId = entry.GrainId,
        ReminderName = entry.ReminderName,
        StartAt = entry.StartAt,
        Period = entry.Period,
        ETag = entry.ETag,
    };

    private readonly record struct ReminderKey(GrainId GrainId, string ReminderName);
}
