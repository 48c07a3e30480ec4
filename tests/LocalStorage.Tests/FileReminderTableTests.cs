using System.Text.Json;

namespace CloudDevEnv.LocalStorage.Tests;

public sealed class FileReminderTableTests : IDisposable
{
    private readonly TempDirectory _directory = new();

    public void Dispose() => _directory.Dispose();

    private static GrainId Grain(string key) => GrainId.Create("workspace", key);

    private static ReminderEntry Entry(GrainId grain, string name, int periodMinutes = 1) => new()
    {
        GrainId = grain,
        ReminderName = name,
        StartAt = new DateTime(2026, 1, 2, 3, 4, 5, 678, DateTimeKind.Utc),
        Period = TimeSpan.FromMinutes(periodMinutes),
    };

    [Fact]
    public async Task Rows_survive_a_restart()
    {
        var table = await Storage.RemindersAsync(_directory.Path);
        var etag = await table.UpsertRow(Entry(Grain("owner/a"), "reconcile", periodMinutes: 5));
        await table.UpsertRow(Entry(Grain("owner/a"), "idle"));
        await table.UpsertRow(Entry(Grain("owner/b"), "reconcile"));

        var reloaded = await Storage.RemindersAsync(_directory.Path);
        var row = await reloaded.ReadRow(Grain("owner/a"), "reconcile");

        Assert.NotNull(row);
        Assert.Equal(etag, row.ETag);
        Assert.Equal(TimeSpan.FromMinutes(5), row.Period);
        Assert.Equal(new DateTime(2026, 1, 2, 3, 4, 5, 678, DateTimeKind.Utc), row.StartAt);
        Assert.Equal(DateTimeKind.Utc, row.StartAt.Kind);
        Assert.Equal(["idle", "reconcile"], (await reloaded.ReadRows(Grain("owner/a"))).Reminders.Select(r => r.ReminderName).Order());
        Assert.Single((await reloaded.ReadRows(Grain("owner/b"))).Reminders);
        Assert.Null(await reloaded.ReadRow(Grain("owner/c"), "reconcile"));
    }

    [Fact]
    public async Task Every_upsert_changes_the_etag_and_sets_it_on_the_entry()
    {
        var table = await Storage.RemindersAsync(_directory.Path);
        var entry = Entry(Grain("a"), "r");

        var first = await table.UpsertRow(entry);
        Assert.Equal(first, entry.ETag);
        var second = await table.UpsertRow(Entry(Grain("a"), "r", periodMinutes: 2));

        Assert.NotEqual(first, second);
        Assert.Equal(second, (await table.ReadRow(Grain("a"), "r"))!.ETag);
        Assert.Equal(TimeSpan.FromMinutes(2), (await table.ReadRow(Grain("a"), "r"))!.Period);
    }

    [Fact]
    public async Task Removing_with_a_stale_etag_fails_and_with_the_current_one_survives_a_restart()
    {
        var table = await Storage.RemindersAsync(_directory.Path);
        var stale = await table.UpsertRow(Entry(Grain("a"), "r"));
        var current = await table.UpsertRow(Entry(Grain("a"), "r"));

        Assert.False(await table.RemoveRow(Grain("a"), "r", stale!));
        Assert.False(await table.RemoveRow(Grain("a"), "other", current!));
        Assert.NotNull(await (await Storage.RemindersAsync(_directory.Path)).ReadRow(Grain("a"), "r"));
        Assert.True(await table.RemoveRow(Grain("a"), "r", current!));
        Assert.False(await table.RemoveRow(Grain("a"), "r", current!));

        Assert.Null(await (await Storage.RemindersAsync(_directory.Path)).ReadRow(Grain("a"), "r"));
    }

    [Fact]
    public async Task Returned_rows_are_copies()
    {
        var table = await Storage.RemindersAsync(_directory.Path);
        var entry = Entry(Grain("a"), "r");
        await table.UpsertRow(entry);
        entry.Period = TimeSpan.FromHours(9);
        (await table.ReadRow(Grain("a"), "r"))!.Period = TimeSpan.FromHours(8);

        Assert.Equal(TimeSpan.FromMinutes(1), (await table.ReadRow(Grain("a"), "r"))!.Period);
    }

    [Fact]
    public async Task Ring_range_reads_include_end_exclude_begin_and_wrap_around()
    {
        var table = await Storage.RemindersAsync(_directory.Path);
        var grains = Enumerable.Range(0, 64).Select(i => Grain($"ring/{i}")).ToList();
        foreach (var grain in grains)
        {
            await table.UpsertRow(Entry(grain, "r"));
        }

        var hashes = grains.Select(g => g.GetUniformHashCode()).Order().ToList();
        var (low, high) = (hashes[10], hashes[50]);

        async Task<HashSet<uint>> Read(uint begin, uint end) =>
            (await table.ReadRows(begin, end)).Reminders.Select(r => r.GrainId.GetUniformHashCode()).ToHashSet();

        Assert.Equal(hashes.Where(h => h > low && h <= high).ToHashSet(), await Read(low, high));
        Assert.Equal(hashes.Where(h => h > high || h <= low).ToHashSet(), await Read(high, low)); // wraps past uint.MaxValue
        Assert.Equal(hashes.ToHashSet(), await Read(low, low)); // begin == end is the whole ring
        Assert.Equal(hashes.ToHashSet(), await Read(0, 0));
        Assert.Equal([hashes[11]], await Read(hashes[10], hashes[11])); // (begin, end]
    }

    [Fact]
    public void Ring_range_agrees_with_orleans_single_range()
    {
        var random = new Random(1234);
        uint Next() => (uint)random.NextInt64(0, 1L << 32);
        uint[] edges = [0, 1, uint.MaxValue - 1, uint.MaxValue, 1u << 31];

        for (var i = 0; i < 20_000; i++)
        {
            var begin = i < 25 ? edges[i % 5] : Next();
            var end = i < 25 ? edges[i / 5] : random.Next(4) == 0 ? begin : Next();
            var hash = random.Next(3) switch { 0 => begin, 1 => end, _ => Next() };

            Assert.Equal(RangeFactory.CreateRange(begin, end).InRange(hash), RingRange.Contains(begin, end, hash));
        }
    }

    [Fact]
    public async Task Clearing_the_table_is_persisted()
    {
        var table = await Storage.RemindersAsync(_directory.Path);
        await table.UpsertRow(Entry(Grain("a"), "r"));

        await table.TestOnlyClearTable();

        Assert.Empty((await (await Storage.RemindersAsync(_directory.Path)).ReadRows(0, 0)).Reminders);
    }

    [Fact]
    public async Task The_file_is_readable_json_sorted_by_grain_and_name()
    {
        var table = await Storage.RemindersAsync(_directory.Path);
        await table.UpsertRow(Entry(Grain("b"), "z"));
        await table.UpsertRow(Entry(Grain("a"), "y"));
        await table.UpsertRow(Entry(Grain("a"), "x"));

        using var file = JsonDocument.Parse(await File.ReadAllBytesAsync(Path.Combine(_directory.Path, "reminders.json")));
        var rows = file.RootElement.GetProperty("reminders").EnumerateArray()
            .Select(row => $"{row.GetProperty("grainId").GetString()} {row.GetProperty("name").GetString()}");

        Assert.Equal(["workspace/a x", "workspace/a y", "workspace/b z"], rows);
    }

    [Fact]
    public async Task A_corrupt_table_stops_the_start()
    {
        await File.WriteAllTextAsync(Path.Combine(_directory.Path, "reminders.json"), "{\"format\":1,\"reminders\":[{\"grainId\":");

        await Assert.ThrowsAsync<InvalidDataException>(() => Storage.RemindersAsync(_directory.Path));
    }

    [Fact]
    public async Task Rows_are_served_before_start_by_loading_on_first_use()
    {
        var table = await Storage.RemindersAsync(_directory.Path);
        await table.UpsertRow(Entry(Grain("a"), "r"));

        var notStarted = new FileReminderTable(new FileStorageOptions { Directory = _directory.Path },
            Microsoft.Extensions.Logging.Abstractions.NullLogger<FileReminderTable>.Instance);

        Assert.NotNull(await notStarted.ReadRow(Grain("a"), "r"));
    }
}
