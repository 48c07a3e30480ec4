using System.Globalization;
using CloudDevEnv.Grains.Provisioning;

namespace CloudDevEnv.Grains.Snapshots;

/// <summary>Moves the workspace's files between its instance and the snapshot store: archive into the store, and back
/// into a fresh instance. Holds no state; the grain decides when and records what happened.</summary>
/// <remarks>Kept: <c>/workspaces</c> (the repository, uncommitted work, whatever the hooks wrote there) and <c>/home</c>
/// (dotfiles, shell history, tool settings: what users lose most on Gitpod, which keeps only <c>/workspace</c>), less
/// the caches of <see cref="Workspaces.WorkspaceOptions.SnapshotHomeExcludes"/>. The rest of the container is rebuilt
/// from the image. Without a registered <see cref="ISnapshotStore"/> (a host that chose none) snapshots are off.</remarks>
public sealed partial class WorkspaceSnapshots(
    IWorkspaceRuntime runtime, IOptions<Workspaces.WorkspaceOptions> options, ILogger<WorkspaceSnapshots> logger, ISnapshotStore? store = null)
{
    public const string Folder = "/workspaces";

    /// <summary>The home folder of every non-root user (the runtimes mount a volume there).</summary>
    public const string HomeFolder = "/home";

    /// <summary>What a snapshot holds, in the words of the events.</summary>
    public const string Described = Folder + " and " + HomeFolder;

    private static readonly string[] Prefixes = ["workspaces/", "home/"];

    /// <summary>In the workspaces folder while a snapshot is being unpacked there.</summary>
    public const string RestoringMarker = Folder + "/.cde-restoring";

    // Said once, when the singleton is made: snapshots being off must show in the log, not pass silently.
    private readonly bool _isEnabled = store is not null || WarnDisabled(logger);

    public bool IsEnabled => _isEnabled;

    private static bool WarnDisabled(ILogger logger)
    {
        LogDisabled(logger);
        return false;
    }

    /// <summary>Archives the workspaces and home folders of the instance (running or stopped) as the workspace's newest
    /// snapshot, streamed: the runtime's archives are re-written into the snapshot as they are read.</summary>
    public async Task<SnapshotInfo> TakeAsync(string workspaceId, CancellationToken cancellationToken)
    {
        var target = store ?? throw new InvalidOperationException("No snapshot store is configured.");
        var limit = options.Value.SnapshotMaxBytes;
        var excludes = options.Value.EffectiveSnapshotHomeExcludes;
        await using var combined = SnapshotArchive.Combine(
            [
                new SnapshotArchive.Part(Folder, token => runtime.ArchiveAsync(workspaceId, Folder, token)),
                new SnapshotArchive.Part(HomeFolder, token => runtime.ArchiveAsync(workspaceId, HomeFolder, token)),
            ],
            name => IsExcluded(name, excludes),
            cancellationToken);
        await using var tar = new SizeLimitedStream(
            combined,
            limit,
            max => new WorkspaceRuntimeException(
                $"{Described} hold more than {max} bytes (Workspaces:SnapshotMaxBytes), so no snapshot was kept.",
                isPermanent: true));
        SnapshotInfo snapshot;
        try
        {
            snapshot = await target.SaveAsync(workspaceId, tar, cancellationToken);
        }
        catch (Exception) when (combined.Fault is WorkspaceRuntimeException archiving)
        {
            // The store saw only that its stream failed; what failed was reading the workspace.
            throw archiving;
        }

        LogTaken(workspaceId, snapshot.Key, snapshot.SizeBytes);
        return snapshot;
    }

    /// <summary>An entry of a home folder (<c>home/&lt;user&gt;/&lt;path&gt;</c>) below one of the excluded paths.</summary>
    private static bool IsExcluded(string name, IReadOnlyList<string> excludes)
    {
        if (!name.StartsWith("home/", StringComparison.Ordinal))
        {
            return false;
        }

        var rest = name["home/".Length..];
        var slash = rest.IndexOf('/', StringComparison.Ordinal);
        if (slash < 0)
        {
            return false;
        }

        var inHome = rest[(slash + 1)..].TrimEnd('/');
        return excludes.Any(e =>
        {
            var excluded = e.Trim('/');
            return inHome == excluded || inHome.StartsWith(excluded + "/", StringComparison.Ordinal);
        });
    }

    /// <summary>Unpacks the newest sound snapshot into a running instance whose workspaces folder is empty (its volume is
    /// new: the container and volumes were removed, or the workspace moved to another machine), and marks the creation
    /// hooks as done there, since they ran when the snapshot's files were first made. A corrupt snapshot is passed over
    /// for the next older one, and said so in <see cref="RestoreOutcome.Skipped"/>.</summary>
    /// <returns>Null when there is no snapshot or the folder holds files already.</returns>
    public async Task<RestoreOutcome?> RestoreIfEmptyAsync(string workspaceId, CancellationToken cancellationToken)
    {
        if (store is null || (await store.ListAsync(workspaceId, cancellationToken)) is not { Count: > 0 } kept)
        {
            return null;
        }

        // A restore cut short (the host killed mid-unpack) left its marker: the half folder is emptied and restored again,
        // never taken for the workspace's files.
        var interrupted = (await runtime.ExecAsync(
            workspaceId, new ExecRequest(["test", "-e", RestoringMarker], User: "0"), NullProgress.Instance, cancellationToken)).ExitCode == 0;
        if (interrupted)
        {
            await EmptyAsync(workspaceId);
        }
        else
        {
            // The clone a launch made in the volume while reading devcontainer.json is no work of the owner's: a
            // volume holding only that is empty, and the snapshot wins over the fresh clone.
            var listing = await runtime.ExecAsync(workspaceId, new ExecRequest(["ls", "-A", Folder], User: "0"), NullProgress.Instance, cancellationToken);
            var entries = listing.OutputTail.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            if (listing.ExitCode == 0 && entries.Any(e => e != Provisioning.ContainerCheckout.InPlaceFolder))
            {
                return null;
            }

            if (entries.Length > 0)
            {
                await EmptyAsync(workspaceId);
            }
        }

        List<string> skipped = [];
        foreach (var snapshot in kept.Reverse())
        {
            try
            {
                await UnpackAsync(workspaceId, snapshot, cancellationToken);
                return new RestoreOutcome(snapshot, skipped);
            }
            catch (CorruptSnapshotException corrupt)
            {
                LogCorrupt(workspaceId, snapshot.Key, corrupt.Why);
                skipped.Add(string.Create(CultureInfo.InvariantCulture, $"The snapshot {snapshot.Key} taken at {snapshot.TakenAt:u} is corrupt ({corrupt.Why}): passed over for an older one."));
            }
        }

        return new RestoreOutcome(null, skipped);
    }

    /// <summary>The workspace's snapshots, oldest first; none when snapshots are off.</summary>
    public async Task<IReadOnlyList<SnapshotInfo>> ListAsync(string workspaceId, CancellationToken cancellationToken) =>
        store is null ? [] : await store.ListAsync(workspaceId, cancellationToken);

    /// <summary>Replaces the workspaces folder of a running instance with the snapshot <paramref name="key"/> (which the
    /// owner chose), whatever the folder holds now.</summary>
    /// <exception cref="WorkspaceRuntimeException">Permanent when the store no longer keeps that snapshot.</exception>
    public async Task<SnapshotInfo> RestoreAsync(string workspaceId, string key, CancellationToken cancellationToken)
    {
        var snapshot = (await ListAsync(workspaceId, cancellationToken)).FirstOrDefault(s => s.Key == key)
            ?? throw new WorkspaceRuntimeException($"The snapshot {key} is no longer kept; GET …/snapshots lists those that are.", isPermanent: true);

        // Marked before the folder is emptied: a restore cut short at any point is done again from the start.
        await runtime.ExecAsync(workspaceId, new ExecRequest(["touch", RestoringMarker], User: "0"), NullProgress.Instance, cancellationToken);
        var emptied = await runtime.ExecAsync(
            workspaceId,
            new ExecRequest(["/bin/sh", "-c", "find \"$1\" -mindepth 1 ! -path \"$2\" -delete", "cde-clean", Folder, RestoringMarker], User: "0"),
            NullProgress.Instance,
            cancellationToken);
        if (emptied.ExitCode != 0)
        {
            throw new WorkspaceRuntimeException($"Emptying {Folder} for the restore failed (exit {emptied.ExitCode}): {emptied.OutputTail.Trim()}", isPermanent: false);
        }

        try
        {
            await UnpackAsync(workspaceId, snapshot, cancellationToken);
        }
        catch (CorruptSnapshotException corrupt)
        {
            LogCorrupt(workspaceId, snapshot.Key, corrupt.Why);
            throw new WorkspaceRuntimeException($"The snapshot {key} is corrupt ({corrupt.Why}); restore another (GET …/snapshots lists them).", isPermanent: true, corrupt);
        }

        return snapshot;
    }

    /// <summary>Unpacks into the (empty) folder under the restoring marker, marks the creation hooks as done there (they
    /// ran when the snapshot's files were first made), then removes the marker.</summary>
    private async Task UnpackAsync(string workspaceId, SnapshotInfo snapshot, CancellationToken cancellationToken)
    {
        var target = store ?? throw new InvalidOperationException("No snapshot store is configured.");
        try
        {
            await runtime.ExecAsync(workspaceId, new ExecRequest(["touch", RestoringMarker], User: "0"), NullProgress.Instance, cancellationToken);
            await using (var stored = await target.OpenAsync(snapshot, cancellationToken))
            await using (var tar = SnapshotArchive.ForRestore(stored, snapshot.Sha256, Prefixes, cancellationToken))
            {
                try
                {
                    await runtime.RestoreAsync(workspaceId, "/", tar, cancellationToken);
                    // The digest is known once the whole object was read, which an unpacker that stops at the tar's end
                    // may not do: read the rest, so that a corrupt snapshot never passes for restored.
                    await tar.CopyToAsync(Stream.Null, cancellationToken);
                }
                catch (Exception) when (tar.Fault is CorruptSnapshotException corrupt)
                {
                    throw corrupt;
                }
            }

            await runtime.ExecAsync(workspaceId, new ExecRequest(["touch", LifecycleRunner.CreatedMarker], User: "0"), NullProgress.Instance, cancellationToken);
            await runtime.ExecAsync(workspaceId, new ExecRequest(["rm", "-f", "--", RestoringMarker], User: "0"), NullProgress.Instance, cancellationToken);
        }
        catch
        {
            // A half-unpacked folder is not empty and would never be restored again: empty it so the retried step does.
            await EmptyAsync(workspaceId);
            throw;
        }

        LogRestored(workspaceId, snapshot.Key, snapshot.SizeBytes);
    }

    public Task DeleteAllAsync(string workspaceId, CancellationToken cancellationToken) =>
        store?.DeleteAllAsync(workspaceId, cancellationToken) ?? Task.CompletedTask;

    private async Task EmptyAsync(string workspaceId)
    {
        try
        {
            await runtime.ExecAsync(
                workspaceId,
                new ExecRequest(["/bin/sh", "-c", "find \"$1\" -mindepth 1 -delete 2>/dev/null; true", "cde-clean", Folder], User: "0"),
                NullProgress.Instance,
                CancellationToken.None);
        }
        catch (Exception e) when (e is WorkspaceRuntimeException or OperationCanceledException)
        {
            LogEmptyFailed(e, workspaceId);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "No snapshot store is registered: workspaces are not snapshotted on stop or periodically, and a lost volume cannot be restored")]
    private static partial void LogDisabled(ILogger logger);

    [LoggerMessage(Level = LogLevel.Information, Message = "Workspace {WorkspaceId}: snapshot {Key} taken ({SizeBytes} bytes)")]
    private partial void LogTaken(string workspaceId, string key, long sizeBytes);

    [LoggerMessage(Level = LogLevel.Information, Message = "Workspace {WorkspaceId}: snapshot {Key} restored ({SizeBytes} bytes)")]
    private partial void LogRestored(string workspaceId, string key, long sizeBytes);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Workspace {WorkspaceId}: snapshot {Key} is corrupt ({Why}); not restored")]
    private partial void LogCorrupt(string workspaceId, string key, string why);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Workspace {WorkspaceId}: emptying the workspaces folder after a failed restore failed")]
    private partial void LogEmptyFailed(Exception exception, string workspaceId);
}

/// <param name="Restored">The snapshot put in place; null when every one kept was corrupt.</param>
/// <param name="Skipped">What was passed over and why, newest first, for the workspace's events.</param>
public sealed record RestoreOutcome(SnapshotInfo? Restored, IReadOnlyList<string> Skipped);
