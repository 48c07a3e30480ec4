using System.Text;
using System.Text.Json;
using Orleans.Storage;

namespace CloudDevEnv.LocalStorage.Tests;

public sealed class FileGrainStorageTests : IDisposable
{
    private const string StateName = "counter";
    private readonly TempDirectory _directory = new();

    public void Dispose() => _directory.Dispose();

    private static GrainId Grain(string key) => GrainId.Create("workspace", key);

    [Fact]
    public async Task Written_state_is_read_back_by_a_new_instance()
    {
        var grain = Grain("alice/one");
        var written = new GrainState<Counter>(new Counter { Count = 3, Note = "héllo \"quoted\"" });
        await Storage.Grains(_directory.Path).WriteStateAsync(StateName, grain, written);

        var read = new GrainState<Counter>(new Counter());
        await Storage.Grains(_directory.Path).ReadStateAsync(StateName, grain, read);

        Assert.True(read.RecordExists);
        Assert.Equal(written.ETag, read.ETag);
        Assert.Equal(3, read.State!.Count);
        Assert.Equal("héllo \"quoted\"", read.State!.Note);
    }

    [Fact]
    public async Task Reading_a_grain_never_written_finds_no_record()
    {
        var read = new GrainState<Counter>(new Counter { Count = 7 });
        await Storage.Grains(_directory.Path).ReadStateAsync(StateName, Grain("nobody"), read);

        Assert.False(read.RecordExists);
        Assert.Null(read.ETag);
        Assert.Equal(7, read.State!.Count); // left as the grain initialised it, as Orleans' memory storage does
    }

    [Fact]
    public async Task Every_write_changes_the_etag()
    {
        var storage = Storage.Grains(_directory.Path);
        var state = new GrainState<Counter>(new Counter());
        var etags = new HashSet<string?>();
        for (var i = 0; i < 5; i++)
        {
            state.State!.Count = i;
            await storage.WriteStateAsync(StateName, Grain("a"), state);
            Assert.True(etags.Add(state.ETag));
            Assert.True(state.RecordExists);
        }
    }

    [Fact]
    public async Task A_write_with_a_stale_etag_is_refused_and_changes_nothing()
    {
        var storage = Storage.Grains(_directory.Path);
        var grain = Grain("a");
        var first = new GrainState<Counter>(new Counter { Count = 1 });
        await storage.WriteStateAsync(StateName, grain, first);
        var stale = new GrainState<Counter>(new Counter { Count = 99 }) { ETag = first.ETag };
        first.State!.Count = 2;
        await storage.WriteStateAsync(StateName, grain, first);

        var error = await Assert.ThrowsAsync<InconsistentStateException>(() => storage.WriteStateAsync(StateName, grain, stale));

        Assert.Equal(first.ETag, error.StoredEtag);
        Assert.Equal(stale.ETag, error.CurrentEtag);
        var read = new GrainState<Counter>(new Counter());
        await storage.ReadStateAsync(StateName, grain, read);
        Assert.Equal(2, read.State!.Count);
    }

    [Fact]
    public async Task Creating_a_record_that_already_exists_is_refused()
    {
        var storage = Storage.Grains(_directory.Path);
        await storage.WriteStateAsync(StateName, Grain("a"), new GrainState<Counter>(new Counter()));

        await Assert.ThrowsAsync<InconsistentStateException>(() =>
            storage.WriteStateAsync(StateName, Grain("a"), new GrainState<Counter>(new Counter())));
    }

    [Fact]
    public async Task Clear_deletes_the_file_and_a_stale_clear_is_refused()
    {
        var storage = Storage.Grains(_directory.Path);
        var grain = Grain("a");
        var state = new GrainState<Counter>(new Counter { Count = 1 });
        await storage.WriteStateAsync(StateName, grain, state);
        var staleETag = state.ETag;
        state.State!.Count = 2;
        await storage.WriteStateAsync(StateName, grain, state);

        await Assert.ThrowsAsync<InconsistentStateException>(() =>
            storage.ClearStateAsync(StateName, grain, new GrainState<Counter>(new Counter()) { ETag = staleETag }));
        await storage.ClearStateAsync(StateName, grain, state);

        Assert.False(state.RecordExists);
        Assert.Null(state.ETag);
        Assert.False(File.Exists(storage.PathOf(StateName, grain)));
        var read = new GrainState<Counter>(new Counter());
        await storage.ReadStateAsync(StateName, grain, read);
        Assert.False(read.RecordExists);
    }

    [Fact]
    public async Task An_etag_from_before_a_delete_never_matches_the_recreated_record()
    {
        var storage = Storage.Grains(_directory.Path);
        var grain = Grain("a");
        var old = new GrainState<Counter>(new Counter());
        await storage.WriteStateAsync(StateName, grain, old);
        var oldETag = old.ETag;
        await storage.ClearStateAsync(StateName, grain, old);
        await storage.WriteStateAsync(StateName, grain, new GrainState<Counter>(new Counter()));

        // Both are version 1 of their file: only the incarnation tells them apart.
        await Assert.ThrowsAsync<InconsistentStateException>(() =>
            storage.WriteStateAsync(StateName, grain, new GrainState<Counter>(new Counter()) { ETag = oldETag }));
    }

    [Fact]
    public async Task Clear_without_delete_leaves_a_tombstone_that_keeps_counting()
    {
        var storage = Storage.Grains(_directory.Path, deleteStateOnClear: false);
        var grain = Grain("a");
        var state = new GrainState<Counter>(new Counter { Count = 5 });
        await storage.WriteStateAsync(StateName, grain, state);
        var beforeClear = state.ETag;

        await storage.ClearStateAsync(StateName, grain, state);

        Assert.False(state.RecordExists);
        Assert.NotNull(state.ETag);
        Assert.True(File.Exists(storage.PathOf(StateName, grain)));
        var read = new GrainState<Counter>(new Counter());
        await Storage.Grains(_directory.Path, deleteStateOnClear: false).ReadStateAsync(StateName, grain, read);
        Assert.False(read.RecordExists);
        Assert.Equal(state.ETag, read.ETag);
        Assert.Equal(0, read.State!.Count);
        await Assert.ThrowsAsync<InconsistentStateException>(() =>
            storage.WriteStateAsync(StateName, grain, new GrainState<Counter>(new Counter()) { ETag = beforeClear }));
        await storage.WriteStateAsync(StateName, grain, read);
        Assert.True(read.RecordExists);
    }

    [Fact]
    public async Task Clearing_a_grain_never_written_is_a_no_op()
    {
        var state = new GrainState<Counter>(new Counter());
        await Storage.Grains(_directory.Path).ClearStateAsync(StateName, Grain("a"), state);

        Assert.False(state.RecordExists);
        Assert.Null(state.ETag);
    }

    [Fact]
    public async Task Many_grains_written_at_once_are_all_read_back()
    {
        var storage = Storage.Grains(_directory.Path);
        const int grains = 200;
        const int writes = 5;

        await Parallel.ForEachAsync(Enumerable.Range(0, grains), new ParallelOptions { MaxDegreeOfParallelism = 32 }, async (i, _) =>
        {
            var state = new GrainState<Counter>(new Counter());
            for (var n = 1; n <= writes; n++)
            {
                state.State = new Counter { Count = n, Note = $"grain {i}" };
                await storage.WriteStateAsync(StateName, Grain($"owner/{i}"), state);
            }
        });

        var reader = Storage.Grains(_directory.Path);
        for (var i = 0; i < grains; i++)
        {
            var read = new GrainState<Counter>(new Counter());
            await reader.ReadStateAsync(StateName, Grain($"owner/{i}"), read);
            Assert.Equal(writes, read.State!.Count);
            Assert.Equal($"grain {i}", read.State!.Note);
        }

        Assert.Equal(grains, Directory.GetFiles(Path.Combine(_directory.Path, "grains", StateName)).Length);
    }

    [Fact]
    public async Task Concurrent_writes_to_one_grain_let_exactly_one_win_per_etag()
    {
        var storage = Storage.Grains(_directory.Path);
        var grain = Grain("contended");
        var seed = new GrainState<Counter>(new Counter());
        await storage.WriteStateAsync(StateName, grain, seed);

        var attempts = Enumerable.Range(0, 16).Select(i => Task.Run(async () =>
        {
            try
            {
                await storage.WriteStateAsync(StateName, grain, new GrainState<Counter>(new Counter { Count = i }) { ETag = seed.ETag });
                return true;
            }
            catch (InconsistentStateException)
            {
                return false;
            }
        }));

        Assert.Single(await Task.WhenAll(attempts), won => won);
    }

    [Fact]
    public async Task Awkward_grain_ids_get_distinct_files_under_the_state_folder()
    {
        var storage = Storage.Grains(_directory.Path);
        string[] keys =
        [
            "owner/repo/branch", "Owner/Repo", "owner/repo", "../../etc/passwd", "a.b.", "con", "space and\ttab",
            "ünïcødé/日本", "under_score", "_2f", "percent%2F", new string('k', 500), new string('k', 501),
        ];

        foreach (var key in keys)
        {
            await storage.WriteStateAsync("state/with:odd*name", Grain(key), new GrainState<Counter>(new Counter { Note = key }));
        }

        var files = Directory.GetFiles(_directory.Path, "*", SearchOption.AllDirectories);
        Assert.Equal(keys.Length, files.Length);
        Assert.All(files, file =>
        {
            Assert.StartsWith(Path.Combine(_directory.Path, "grains") + Path.DirectorySeparatorChar, file);
            Assert.True(Path.GetFileName(file).Length <= SafeFileName.MaxLength + ".json".Length);
        });
        foreach (var key in keys)
        {
            var read = new GrainState<Counter>(new Counter());
            await storage.ReadStateAsync("state/with:odd*name", Grain(key), read);
            Assert.Equal(key, read.State!.Note);
        }
    }

    [Fact]
    public async Task Json_state_is_embedded_readably_in_the_file()
    {
        var storage = Storage.Grains(_directory.Path);
        await storage.WriteStateAsync(StateName, Grain("a"), new GrainState<Counter>(new Counter { Count = 42 }));

        using var file = JsonDocument.Parse(await File.ReadAllBytesAsync(storage.PathOf(StateName, Grain("a"))));
        Assert.Equal("workspace/a", file.RootElement.GetProperty("grainId").GetString());
        Assert.Equal(42, file.RootElement.GetProperty("payload").GetProperty("Count").GetInt32());
    }

    [Fact]
    public async Task State_from_a_serializer_that_does_not_write_json_round_trips()
    {
        var storage = Storage.Grains(_directory.Path, serializer: new NotJsonSerializer());
        var grain = Grain("a");
        await storage.WriteStateAsync(StateName, grain, new GrainState<string>("plain text, not json {"));

        var read = new GrainState<string>("");
        await Storage.Grains(_directory.Path, serializer: new NotJsonSerializer()).ReadStateAsync(StateName, grain, read);

        Assert.Equal("plain text, not json {", read.State);
        using var file = JsonDocument.Parse(await File.ReadAllBytesAsync(storage.PathOf(StateName, grain)));
        Assert.True(file.RootElement.TryGetProperty("payloadBase64", out _));
    }

    [Fact]
    public async Task A_corrupt_file_is_refused_rather_than_read_as_empty()
    {
        var storage = Storage.Grains(_directory.Path);
        var grain = Grain("a");
        await storage.WriteStateAsync(StateName, grain, new GrainState<Counter>(new Counter()));
        var path = storage.PathOf(StateName, grain);
        var content = await File.ReadAllBytesAsync(path);
        await File.WriteAllBytesAsync(path, content[..(content.Length / 2)]);

        await Assert.ThrowsAsync<InvalidDataException>(() =>
            storage.ReadStateAsync(StateName, grain, new GrainState<Counter>(new Counter())));
        await Assert.ThrowsAsync<InvalidDataException>(() =>
            storage.WriteStateAsync(StateName, grain, new GrainState<Counter>(new Counter())));
    }

    [Fact]
    public async Task Temporary_files_left_by_a_crash_are_swept_and_the_state_kept()
    {
        var storage = Storage.Grains(_directory.Path);
        var grain = Grain("a");
        await storage.WriteStateAsync(StateName, grain, new GrainState<Counter>(new Counter { Count = 1 }));
        var path = storage.PathOf(StateName, grain);
        var leftover = Path.Combine(Path.GetDirectoryName(path)!, $".{Path.GetFileName(path)}.0123.tmp");
        await File.WriteAllTextAsync(leftover, "{\"half\":");

        storage.DeleteTemporaryFiles();

        Assert.False(File.Exists(leftover));
        Assert.True(File.Exists(path));
    }

    /// <summary>Stands for a binary serializer: writes the string's bytes as they are.</summary>
    private sealed class NotJsonSerializer : IGrainStorageSerializer
    {
        public BinaryData Serialize<T>(T? input) => new(Encoding.UTF8.GetBytes((string)(object)input!));

        public T Deserialize<T>(BinaryData input) => (T)(object)Encoding.UTF8.GetString(input.ToArray());
    }
}
