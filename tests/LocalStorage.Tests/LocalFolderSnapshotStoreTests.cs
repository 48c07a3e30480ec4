using System.Text;
using CloudDevEnv.Runtime;
using CloudDevEnv.LocalStorage.Snapshots;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace CloudDevEnv.LocalStorage.Tests;

/// <summary>The local-folder snapshot store: keep-latest-N, all-or-nothing saves, delete, start-up validation.</summary>
public sealed class LocalFolderSnapshotStoreTests : IDisposable
{
    private readonly TempDirectory _directory = new();
    private readonly SteppingClock _clock = new();

    public void Dispose() => _directory.Dispose();

    private LocalFolderSnapshotStore Store(int keep = 2) => new(
        Options.Create(new LocalFolderSnapshotOptions { Directory = _directory.Path, Keep = keep }), _clock, NullLogger<LocalFolderSnapshotStore>.Instance);

    private static MemoryStream Tar(string text) => new(Encoding.UTF8.GetBytes(text));

    private static async Task<string> ReadAsync(ISnapshotStore store, SnapshotInfo snapshot)
    {
        await using var stream = await store.OpenAsync(snapshot, CancellationToken.None);
        using var reader = new StreamReader(stream);
        return await reader.ReadToEndAsync();
    }

    [Fact]
    public async Task Only_the_latest_N_are_kept_and_the_latest_is_found()
    {
        var store = Store(keep: 2);
        for (var i = 1; i <= 4; i++)
        {
            var saved = await store.SaveAsync("ws-a", Tar($"snapshot {i}"), CancellationToken.None);
            Assert.Equal(Encoding.UTF8.GetByteCount($"snapshot {i}"), saved.SizeBytes);
        }

        var latest = await store.FindLatestAsync("ws-a", CancellationToken.None);
        Assert.NotNull(latest);
        Assert.Equal("snapshot 4", await ReadAsync(store, latest));
        Assert.Equal(_clock.Last, latest.TakenAt);
        var files = Directory.GetFiles(Directory.GetDirectories(_directory.Path).Single());
        Assert.Equal(2, files.Length);
        Assert.Null(await store.FindLatestAsync("ws-b", CancellationToken.None));
    }

    [Fact]
    public async Task A_save_that_fails_midway_leaves_the_previous_snapshot_as_the_latest_and_no_partial_file()
    {
        var store = Store();
        await store.SaveAsync("ws-a", Tar("good"), CancellationToken.None);

        await Assert.ThrowsAsync<IOException>(() => store.SaveAsync("ws-a", new FailingStream(), CancellationToken.None));

        var latest = await store.FindLatestAsync("ws-a", CancellationToken.None);
        Assert.Equal("good", await ReadAsync(store, latest!));
        Assert.Single(Directory.GetFiles(Directory.GetDirectories(_directory.Path).Single()));
    }

    [Fact]
    public async Task Delete_all_removes_every_snapshot_of_the_workspace_only()
    {
        var store = Store();
        await store.SaveAsync("ws-a", Tar("a1"), CancellationToken.None);
        await store.SaveAsync("ws-a", Tar("a2"), CancellationToken.None);
        await store.SaveAsync("ws-b", Tar("b1"), CancellationToken.None);

        await store.DeleteAllAsync("ws-a", CancellationToken.None);
        await store.DeleteAllAsync("ws-none", CancellationToken.None);

        Assert.Null(await store.FindLatestAsync("ws-a", CancellationToken.None));
        Assert.Equal("b1", await ReadAsync(store, (await store.FindLatestAsync("ws-b", CancellationToken.None))!));
    }

    [Fact]
    public void Options_without_a_folder_or_with_keep_zero_fail_validation()
    {
        var validator = new LocalFolderSnapshotOptionsValidator();
        Assert.True(validator.Validate(null, new LocalFolderSnapshotOptions()).Failed);
        Assert.True(validator.Validate(null, new LocalFolderSnapshotOptions { Directory = _directory.Path, Keep = 0 }).Failed);
        Assert.True(validator.Validate(null, new LocalFolderSnapshotOptions { Directory = Path.Combine(_directory.Path, "new") }).Succeeded);
    }

    /// <summary>A clock that moves one second per reading, so that the order of saves never depends on timer resolution.</summary>
    private sealed class SteppingClock : TimeProvider
    {
        private DateTimeOffset _now = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

        public DateTimeOffset Last { get; private set; }

        public override DateTimeOffset GetUtcNow() => Last = _now = _now.AddSeconds(1);
    }

    /// <summary>Half a snapshot, then the container goes away.</summary>
    private sealed class FailingStream : Stream
    {
        private int _reads;

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count)
        {
            if (_reads++ > 0)
            {
                throw new IOException("The engine closed the archive stream.");
            }

            buffer.AsSpan(offset, Math.Min(count, 16)).Fill((byte)'x');
            return Math.Min(count, 16);
        }

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
