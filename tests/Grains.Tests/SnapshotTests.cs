using System.Formats.Tar;
using CloudDevEnv.Grains.Snapshots;
using CloudDevEnv.LocalStorage.Snapshots;
using Microsoft.Extensions.DependencyInjection;
using Orleans.TestingHost;

namespace CloudDevEnv.Grains.Tests;

/// <summary>Snapshots of <c>/workspaces</c> into a local-folder store: on stop, periodically while running (on a silo
/// whose clock the test moves), restored into a fresh container instead of a clone, never blocking stop or delete.</summary>
public sealed class SnapshotTests : IAsyncLifetime
{
    private const string NotesPath = "/workspaces/hello/notes.txt";
    private readonly ShiftableTimeProvider _clock = new();
    private readonly WorkspaceRuntimeDouble _runtime = new();
    private readonly string _snapshots = Directory.CreateTempSubdirectory("cde-snapshots-").FullName;
    private InProcessTestCluster _cluster = null!;

    private ISnapshotStore Store => _cluster.Silos[0].ServiceProvider.GetRequiredService<ISnapshotStore>();

    public async Task InitializeAsync() => _cluster = await ShiftedClockCluster.StartAsync(
        _clock,
        _runtime,
        new Dictionary<string, string?>
        {
            ["Workspaces:HealthCheckInterval"] = "00:00:00.100",
            ["Workspaces:RetryDelay"] = "00:00:00.050",
            ["Workspaces:MaxRetryDelay"] = "00:00:00.200",
            ["Workspaces:SnapshotInterval"] = "00:30:00",
            ["Snapshots:Directory"] = _snapshots,
        },
        (services, configuration) => services.AddLocalFolderSnapshotStore(configuration));

    public async Task DisposeAsync()
    {
        await _cluster.DisposeAsync();
        Directory.Delete(_snapshots, recursive: true);
    }

    private async Task<(IWorkspaceGrain Grain, string Id)> RunningWorkspaceAsync(string repoUrl = "https://github.com/octo/hello.git")
    {
        var grain = _cluster.Client.GetGrain<IWorkspaceGrain>(WorkspaceId.NewId());
        await grain.CreateAsync(Specs.New(repoUrl: repoUrl) with { IdleTimeout = TimeSpan.FromHours(3) });
        await Eventually.PhaseAsync(grain, WorkspacePhase.Running);
        return (grain, grain.GetPrimaryKeyString());
    }

    private static WorkspaceEvent[] SnapshotEvents(WorkspaceStatus status) =>
        [.. status.RecentEvents.Where(e => e.Kind == WorkspaceEventKind.Snapshot)];

    private async Task<Dictionary<string, string>> LatestSnapshotFilesAsync(string id)
    {
        var latest = await Store.FindLatestAsync(id, CancellationToken.None);
        Assert.NotNull(latest);
        var files = new Dictionary<string, string>();
        await using var stream = await Store.OpenAsync(latest, CancellationToken.None);
        using var reader = new TarReader(stream);
        while (reader.GetNextEntry() is { } entry)
        {
            if (entry.EntryType == TarEntryType.RegularFile)
            {
                files[entry.Name] = entry.DataStream is { } data ? new StreamReader(data).ReadToEnd() : string.Empty;
            }
        }

        return files;
    }

    [Fact]
    public async Task Stop_takes_a_snapshot_of_the_workspaces_folder_before_the_container_stops()
    {
        var (grain, id) = await RunningWorkspaceAsync();
        _runtime.WriteFile(id, NotesPath, "uncommitted draft");

        await grain.StopAsync("tester");
        var stopped = await Eventually.PhaseAsync(grain, WorkspacePhase.Stopped);

        var snapshot = Assert.Single(SnapshotEvents(stopped));
        Assert.Equal(WorkspacePhase.Stopping, snapshot.Phase);
        Assert.Matches(@"^Snapshot of /workspaces and /home taken \(on stop\): \d+ bytes\.$", snapshot.Message);
        var stoppedEvent = stopped.RecentEvents.Last(e => e.Kind == WorkspaceEventKind.Phase && e.Phase == WorkspacePhase.Stopped);
        Assert.True(snapshot.Sequence < stoppedEvent.Sequence);
        var files = await LatestSnapshotFilesAsync(id);
        Assert.Equal("uncommitted draft", files["workspaces/hello/notes.txt"]);
        Assert.True(files.ContainsKey("workspaces/hello/.git"));
    }

    [Fact]
    public async Task A_running_workspace_is_snapshotted_each_interval_from_the_health_check()
    {
        var (grain, _) = await RunningWorkspaceAsync();

        _clock.Advance(TimeSpan.FromMinutes(29));
        await Eventually.HealthChecksAsync(_runtime, grain);
        Assert.Empty(SnapshotEvents(await grain.GetStatusAsync()));

        _clock.Advance(TimeSpan.FromMinutes(2));
        await Eventually.TrueAsync(async () => SnapshotEvents(await grain.GetStatusAsync()).Length == 1, "the first periodic snapshot");
        Assert.Contains("(periodic)", SnapshotEvents(await grain.GetStatusAsync())[0].Message);

        // Counted from the last one: not again ten minutes later, but again after another interval.
        _clock.Advance(TimeSpan.FromMinutes(10));
        await grain.ReportActivityAsync(_clock.GetUtcNow());
        await Eventually.HealthChecksAsync(_runtime, grain);
        Assert.Single(SnapshotEvents(await grain.GetStatusAsync()));
        _clock.Advance(TimeSpan.FromMinutes(21));
        await Eventually.TrueAsync(async () => SnapshotEvents(await grain.GetStatusAsync()).Length == 2, "the second periodic snapshot");

        // Nobody worked in it since: another interval takes none (it would hold the same files).
        _clock.Advance(TimeSpan.FromMinutes(31));
        await Eventually.HealthChecksAsync(_runtime, grain, count: 4);
        Assert.Equal(2, SnapshotEvents(await grain.GetStatusAsync()).Length);
        Assert.Equal(WorkspacePhase.Running, (await grain.GetStatusAsync()).Phase);
    }

    [Fact]
    public async Task A_fresh_container_gets_the_files_back_from_the_snapshot_instead_of_a_clone_without_the_creation_hooks()
    {
        var url = $"https://github.com/octo/r{Guid.NewGuid():N}.git";
        _runtime.RepositoryFiles[url] = new Dictionary<string, string>
        {
            [".devcontainer/devcontainer.json"] = """
                { "image": "example.org/dev:1", "postCreateCommand": "echo created", "postStartCommand": "echo started" }
                """,
        };
        var (grain, id) = await RunningWorkspaceAsync(url);
        var folder = "/workspaces/" + url.Split('/')[^1][..^4];
        _runtime.WriteFile(id, folder + "/notes.txt", "uncommitted draft");
        await grain.StopAsync("tester");
        await Eventually.PhaseAsync(grain, WorkspacePhase.Stopped);

        // The container and its volumes are removed behind the platform's back.
        _runtime.Remove(id);
        await grain.StartAsync("tester");
        var running = await Eventually.PhaseAsync(grain, WorkspacePhase.Running);

        Assert.Equal("uncommitted draft", _runtime.ReadFile(id, folder + "/notes.txt"));
        var execs = _runtime.Execs(id);
        Assert.DoesNotContain(execs, e => e.Command.Contains("clone"));
        Assert.DoesNotContain(execs, e => e.Command.Contains("echo created"));
        // (postStart after a restore is the Docker test's to show: the double cannot tell one container start from another.)
        var restored = SnapshotEvents(running).Last();
        Assert.Equal(WorkspacePhase.Initializing, restored.Phase);
        Assert.Matches(@"^Restored /workspaces and /home from the snapshot taken at .+ \(\d+ bytes\) instead of cloning\.$", restored.Message);
    }

    [Fact]
    public async Task A_volume_holding_only_the_checkout_a_launch_left_is_empty_and_the_snapshot_wins_over_it()
    {
        var (grain, id) = await RunningWorkspaceAsync();
        _runtime.WriteFile(id, NotesPath, "uncommitted draft");
        await grain.StopAsync("tester");
        await Eventually.PhaseAsync(grain, WorkspacePhase.Stopped);
        _runtime.Remove(id);

        // The fresh volume holds what a prepare container cloned into it while devcontainer.json was read: no work of
        // the owner's, so the snapshot is restored over it (and it is cleared first), not a fresh clone taken instead.
        _runtime.ExecHandler = (workspaceId, request) =>
            workspaceId == id && request.Command is ["ls", "-A", "/workspaces"] ? new ExecResult(0, ".cde-checkout\n") : null;
        try
        {
            await grain.StartAsync("tester");
            var running = await Eventually.PhaseAsync(grain, WorkspacePhase.Running);
            Assert.Single(SnapshotEvents(running), e => e.Message.StartsWith("Restored", StringComparison.Ordinal));
        }
        finally
        {
            _runtime.ExecHandler = null;
        }

        Assert.Equal("uncommitted draft", _runtime.ReadFile(id, NotesPath));
        Assert.Contains(_runtime.Execs(id), e => e.Command.Count > 3 && e.Command[3] == "cde-clean");
        Assert.DoesNotContain(_runtime.Execs(id), e => e.Command.Contains("clone"));
    }

    [Fact]
    public async Task A_restore_cut_short_is_done_again_not_taken_for_the_files()
    {
        var (grain, id) = await RunningWorkspaceAsync();
        _runtime.WriteFile(id, NotesPath, "uncommitted draft");
        await grain.StopAsync("tester");
        await Eventually.PhaseAsync(grain, WorkspacePhase.Stopped);
        _runtime.Remove(id);

        // The first restore dies half way, after it wrote a file, the way a kill -9 of the host would leave it.
        var first = true;
        _runtime.RestoreHandler = workspaceId =>
        {
            if (workspaceId == id && first)
            {
                first = false;
                _runtime.WriteFile(id, "/workspaces/hello/half.txt", "half");
                throw new WorkspaceRuntimeException("the host went away mid-restore", isPermanent: false);
            }
        };
        try
        {
            await grain.StartAsync("tester");
            var running = await Eventually.PhaseAsync(grain, WorkspacePhase.Running);
            Assert.Single(SnapshotEvents(running), e => e.Message.StartsWith("Restored", StringComparison.Ordinal));
        }
        finally
        {
            _runtime.RestoreHandler = null;
        }

        Assert.Equal("uncommitted draft", _runtime.ReadFile(id, NotesPath));
        Assert.DoesNotContain(_runtime.Execs(id), e => e.Command.Contains("clone"));
        Assert.Equal(1, (await _runtime.ExecAsync(id, new ExecRequest(["test", "-e", WorkspaceSnapshots.RestoringMarker]), new Progress<string>(), default)).ExitCode);
    }

    [Fact]
    public async Task A_stop_cut_short_in_the_middle_of_its_snapshot_takes_the_snapshot_again()
    {
        var (grain, id) = await RunningWorkspaceAsync();
        _runtime.WriteFile(id, NotesPath, "uncommitted draft");
        _runtime.Block(nameof(IWorkspaceRuntime.ArchiveAsync));
        try
        {
            await grain.StopAsync("tester");
            await Eventually.TrueAsync(() => Task.FromResult(_runtime.Calls(nameof(IWorkspaceRuntime.ArchiveAsync), id) == 1), "the snapshot on stop under way");

            // The activation goes with the snapshot in flight, as with a host killed mid-snapshot.
            await _cluster.DeactivateAsync((IAddressable)grain).WaitAsync(TimeSpan.FromSeconds(20));
        }
        finally
        {
            _runtime.Release(nameof(IWorkspaceRuntime.ArchiveAsync));
        }

        var stopped = await Eventually.PhaseAsync(grain, WorkspacePhase.Stopped);
        Assert.Contains("(on stop)", Assert.Single(SnapshotEvents(stopped)).Message);
        Assert.Equal("uncommitted draft", (await LatestSnapshotFilesAsync(id))["workspaces/hello/notes.txt"]);
    }

    [Fact]
    public async Task A_failing_snapshot_is_recorded_and_does_not_keep_the_workspace_from_stopping()
    {
        var (grain, id) = await RunningWorkspaceAsync();
        _runtime.FailNext(nameof(IWorkspaceRuntime.ArchiveAsync), new WorkspaceRuntimeException("the engine is gone", isPermanent: false));

        await grain.StopAsync("tester");
        var stopped = await Eventually.PhaseAsync(grain, WorkspacePhase.Stopped);

        Assert.Contains(stopped.RecentEvents, e => e.Kind == WorkspaceEventKind.Error && e.Message == "Snapshot of /workspaces and /home (on stop) failed: the engine is gone. The files stay in the workspace's volumes.");
        Assert.Empty(SnapshotEvents(stopped));
        Assert.Null(await Store.FindLatestAsync(id, CancellationToken.None));
    }

    [Fact]
    public async Task Delete_removes_the_workspaces_snapshots()
    {
        var (grain, id) = await RunningWorkspaceAsync();
        await grain.StopAsync("tester");
        await Eventually.PhaseAsync(grain, WorkspacePhase.Stopped);
        Assert.NotNull(await Store.FindLatestAsync(id, CancellationToken.None));

        await grain.DeleteAsync("tester");
        await Eventually.PhaseAsync(grain, WorkspacePhase.Deleted);

        Assert.Null(await Store.FindLatestAsync(id, CancellationToken.None));
    }

    [Fact]
    public async Task A_snapshot_asked_for_is_taken_at_once_and_listed_newest_first()
    {
        var (grain, id) = await RunningWorkspaceAsync();
        _runtime.WriteFile(id, NotesPath, "first");
        await grain.SnapshotAsync("owner");
        await Eventually.TrueAsync(async () => SnapshotEvents(await grain.GetStatusAsync()).Length == 1, "the snapshot asked for");
        var taken = SnapshotEvents(await grain.GetStatusAsync())[0];
        Assert.Contains("(asked for by owner)", taken.Message);

        _clock.Advance(TimeSpan.FromMinutes(1));
        _runtime.WriteFile(id, NotesPath, "second");
        await grain.SnapshotAsync("owner");
        await Eventually.TrueAsync(async () => SnapshotEvents(await grain.GetStatusAsync()).Length == 2, "the second snapshot");

        var listed = await grain.ListSnapshotsAsync();
        Assert.Equal(2, listed.Length);
        Assert.True(listed[0].TakenAt > listed[1].TakenAt);
        Assert.Equal("second", (await LatestSnapshotFilesAsync(id))["workspaces/hello/notes.txt"]);

        // Only while running: a stopped workspace's stop took one.
        await grain.StopAsync("owner");
        await Eventually.PhaseAsync(grain, WorkspacePhase.Stopped);
        var refused = await Assert.ThrowsAsync<WorkspaceRejectedException>(() => grain.SnapshotAsync("owner"));
        Assert.Equal(WorkspaceRejection.Conflict, refused.Kind);
    }

    [Fact]
    public async Task A_restore_starts_the_workspace_with_the_chosen_snapshots_files_in_place_of_what_is_there()
    {
        var (grain, id) = await RunningWorkspaceAsync();
        _runtime.WriteFile(id, NotesPath, "the good version");
        await grain.SnapshotAsync("owner");
        await Eventually.TrueAsync(async () => SnapshotEvents(await grain.GetStatusAsync()).Length == 1, "the snapshot asked for");
        var good = (await grain.ListSnapshotsAsync()).Single();

        // Refused while it runs: the files would change under the user's feet.
        var running = await Assert.ThrowsAsync<WorkspaceRejectedException>(() => grain.RestoreAsync(good.Id, "owner"));
        Assert.Equal(WorkspaceRejection.Conflict, running.Kind);

        _clock.Advance(TimeSpan.FromMinutes(1));
        _runtime.WriteFile(id, NotesPath, "broken");
        _runtime.WriteFile(id, "/workspaces/hello/stray.txt", "made after the snapshot");
        await grain.StopAsync("owner");
        await Eventually.PhaseAsync(grain, WorkspacePhase.Stopped);
        Assert.Equal(2, (await grain.ListSnapshotsAsync()).Length);

        var unknown = await Assert.ThrowsAsync<WorkspaceRejectedException>(() => grain.RestoreAsync("no-such-snapshot.tar", "owner"));
        Assert.Equal(("snapshotId", WorkspaceRejection.Invalid), (unknown.Field, unknown.Kind));
        Assert.Equal(WorkspacePhase.Stopped, (await grain.GetStatusAsync()).Phase);

        await grain.RestoreAsync(good.Id, "owner");
        var back = await Eventually.PhaseAsync(grain, WorkspacePhase.Running);
        Assert.Equal("the good version", _runtime.ReadFile(id, NotesPath));
        Assert.Null(_runtime.ReadFile(id, "/workspaces/hello/stray.txt"));
        Assert.Contains(back.RecentEvents, e => e.Kind == WorkspaceEventKind.Snapshot && e.Message.Contains($"from the snapshot {good.Id}", StringComparison.Ordinal));

        // Done once: the next start does not restore again.
        _runtime.WriteFile(id, NotesPath, "kept across a plain restart");
        await grain.StopAsync("owner");
        await Eventually.PhaseAsync(grain, WorkspacePhase.Stopped);
        await grain.StartAsync("owner");
        await Eventually.PhaseAsync(grain, WorkspacePhase.Running);
        Assert.Equal("kept across a plain restart", _runtime.ReadFile(id, NotesPath));
    }

    private string SnapshotFile(SnapshotInfo snapshot) =>
        Directory.EnumerateFiles(_snapshots, snapshot.Key, SearchOption.AllDirectories).Single();

    private async Task<(IWorkspaceGrain Grain, string Id, SnapshotInfo[] Kept)> StoppedWithTwoSnapshotsAsync()
    {
        var (grain, id) = await RunningWorkspaceAsync();
        _runtime.WriteFile(id, NotesPath, "older");
        await grain.SnapshotAsync("owner");
        await Eventually.TrueAsync(async () => SnapshotEvents(await grain.GetStatusAsync()).Length == 1, "the first snapshot");
        _clock.Advance(TimeSpan.FromMinutes(1));
        _runtime.WriteFile(id, NotesPath, "newest");
        await grain.StopAsync("owner");
        await Eventually.PhaseAsync(grain, WorkspacePhase.Stopped);
        var kept = (await Store.ListAsync(id, CancellationToken.None)).ToArray();
        Assert.Equal(2, kept.Length);
        Assert.All(kept, k => Assert.Matches("^[0-9a-f]{64}$", k.Sha256));
        return (grain, id, kept);
    }

    [Fact]
    public async Task The_home_folder_is_kept_less_its_caches_and_comes_back_in_a_fresh_container()
    {
        var (grain, id) = await RunningWorkspaceAsync();
        _runtime.WriteFile(id, NotesPath, "uncommitted draft");
        _runtime.WriteFile(id, "/home/vscode/.bash_history", "make test\n");
        _runtime.WriteFile(id, "/home/vscode/.config/git/config", "[user]\n  name = Ada\n");
        _runtime.WriteFile(id, "/home/vscode/.cache/pip/wheel.whl", "a large cache");
        _runtime.WriteFile(id, "/home/vscode/.npm/_cacache/index", "another cache");
        _runtime.WriteFile(id, "/home/vscode/.cachet", "not a cache, only named like one");
        await grain.StopAsync("tester");
        await Eventually.PhaseAsync(grain, WorkspacePhase.Stopped);

        var files = await LatestSnapshotFilesAsync(id);
        Assert.Equal("make test\n", files["home/vscode/.bash_history"]);
        Assert.True(files.ContainsKey("home/vscode/.config/git/config"));
        Assert.True(files.ContainsKey("home/vscode/.cachet"));
        Assert.DoesNotContain(files.Keys, k => k.Contains("/.cache/", StringComparison.Ordinal) || k.Contains("_cacache", StringComparison.Ordinal));

        _runtime.Remove(id);
        await grain.StartAsync("tester");
        await Eventually.PhaseAsync(grain, WorkspacePhase.Running);
        Assert.Equal("uncommitted draft", _runtime.ReadFile(id, NotesPath));
        Assert.Equal("make test\n", _runtime.ReadFile(id, "/home/vscode/.bash_history"));
        Assert.Equal("[user]\n  name = Ada\n", _runtime.ReadFile(id, "/home/vscode/.config/git/config"));
        Assert.Null(_runtime.ReadFile(id, "/home/vscode/.cache/pip/wheel.whl"));
    }

    [Fact]
    public async Task A_corrupt_newest_snapshot_is_detected_and_the_older_one_restored_with_a_warning()
    {
        var (grain, id, kept) = await StoppedWithTwoSnapshotsAsync();
        var newest = kept[^1];
        var path = SnapshotFile(newest);
        var bytes = await File.ReadAllBytesAsync(path);
        var at = bytes.AsSpan().IndexOf("newest"u8);
        Assert.True(at > 0);
        bytes[at] ^= 0x20; // "Newest": one bit, in a file's data, where only the digest can tell
        await File.WriteAllBytesAsync(path, bytes);

        _runtime.Remove(id);
        await grain.StartAsync("tester");
        var running = await Eventually.PhaseAsync(grain, WorkspacePhase.Running);

        Assert.Equal("older", _runtime.ReadFile(id, NotesPath));
        var warning = Assert.Single(running.RecentEvents, e => e.Kind == WorkspaceEventKind.Warning);
        Assert.Matches($@"^The snapshot {System.Text.RegularExpressions.Regex.Escape(newest.Key)} taken at .+ is corrupt \(its SHA-256 is [0-9a-f]{{12}}…, not the {newest.Sha256![..12]}… recorded when it was taken\): passed over for an older one\.$", warning.Message);
        Assert.Contains(running.RecentEvents, e => e.Kind == WorkspaceEventKind.Snapshot && e.Message.StartsWith("Restored /workspaces and /home from the snapshot taken at", StringComparison.Ordinal));
        Assert.DoesNotContain(_runtime.Execs(id), e => e.Command.Contains("clone"));
    }

    [Fact]
    public async Task When_every_snapshot_is_corrupt_the_repository_is_cloned_afresh_and_the_events_say_so()
    {
        var (grain, id, kept) = await StoppedWithTwoSnapshotsAsync();
        foreach (var snapshot in kept)
        {
            var path = SnapshotFile(snapshot);
            var bytes = await File.ReadAllBytesAsync(path);
            await File.WriteAllBytesAsync(path, bytes[..(bytes.Length / 3)]); // cut short: not even a whole tar
        }

        _runtime.Remove(id);
        await grain.StartAsync("tester");
        var running = await Eventually.PhaseAsync(grain, WorkspacePhase.Running);

        var warnings = running.RecentEvents.Where(e => e.Kind == WorkspaceEventKind.Warning).Select(e => e.Message).ToArray();
        Assert.Equal(3, warnings.Length);
        Assert.All(warnings[..2], w => Assert.Contains("is corrupt", w));
        Assert.Equal("No snapshot could be restored: the repository is cloned afresh, and work that was not pushed is not in it.", warnings[2]);
        Assert.Contains(_runtime.Execs(id), e => e.Command.Contains("clone"));
        Assert.Null(_runtime.ReadFile(id, NotesPath));
    }

    [Fact]
    public async Task A_restore_of_a_corrupt_snapshot_the_owner_chose_fails_saying_so_and_a_start_restores_a_sound_one()
    {
        var (grain, id, kept) = await StoppedWithTwoSnapshotsAsync();
        var chosen = kept[0];
        var path = SnapshotFile(chosen);
        var bytes = await File.ReadAllBytesAsync(path);
        bytes[bytes.AsSpan().IndexOf("older"u8)] ^= 0x20;
        await File.WriteAllBytesAsync(path, bytes);

        await grain.RestoreAsync(chosen.Key, "owner");
        var failed = await Eventually.PhaseAsync(grain, WorkspacePhase.Failed);
        Assert.StartsWith($"The snapshot {chosen.Key} is corrupt (its SHA-256 is ", failed.Reason);
        Assert.EndsWith("restore another (GET …/snapshots lists them).", failed.Reason);

        await grain.StartAsync("owner");
        await Eventually.PhaseAsync(grain, WorkspacePhase.Running);
        Assert.Equal("newest", _runtime.ReadFile(id, NotesPath));
    }

    [Fact]
    public async Task Three_snapshots_are_kept_by_default()
    {
        var (grain, id) = await RunningWorkspaceAsync();
        for (var i = 0; i < 4; i++)
        {
            _clock.Advance(TimeSpan.FromMinutes(1));
            await grain.SnapshotAsync("owner");
            var expected = i + 1;
            await Eventually.TrueAsync(async () => SnapshotEvents(await grain.GetStatusAsync()).Length == expected, $"snapshot {expected}");
        }

        Assert.Equal(3, (await grain.ListSnapshotsAsync()).Length);
    }
}
