using CloudDevEnv.Grains.Provisioning;

namespace CloudDevEnv.Grains.Snapshots;

/// <summary>Moves the workspaces folder between a workspace's instance and the snapshot store: archive into the store,
/// and back into a fresh instance. Holds no state; the grain decides when and records what happened.</summary>
/// <remarks>Only <c>/workspaces</c> is kept, as Gitpod keeps only <c>/workspace</c>: the repository, uncommitted work
/// and whatever the hooks wrote there. The rest of the container is rebuilt from the image. Without a registered
/// <see cref="ISnapshotStore"/> (a host that chose none) snapshots are off.</remarks>
public sealed partial class WorkspaceSnapshots(
    IWorkspaceRuntime runtime, IOptions<Workspaces.WorkspaceOptions> options, ILogger<WorkspaceSnapshots> logger, ISnapshotStore? store = null)
{
    public const string Folder = "/workspaces";

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

    /// <summary>Archives the workspaces folder of the instance (running or stopped) as the workspace's newest snapshot.</summary>
    public async Task<SnapshotInfo> TakeAsync(string workspaceId, CancellationToken cancellationToken)
    {
        var target = store ?? throw new InvalidOperationException("No snapshot store is configured.");
        var limit = options.Value.SnapshotMaxBytes;
        await using var tar = new SizeLimitedStream(
            await runtime.ArchiveAsync(workspaceId, Folder, cancellationToken),
            limit,
            max => new WorkspaceRuntimeException(
                $"{Folder} holds more than {max} bytes (Workspaces:SnapshotMaxBytes), so no snapshot was kept; the files stay in the workspace's volume.",
                isPermanent: true));
        var snapshot = await target.SaveAsync(workspaceId, tar, cancellationToken);
        LogTaken(workspaceId, snapshot.Key, snapshot.SizeBytes);
        return snapshot;
    }

    /// <summary>Unpacks the newest snapshot into a running instance whose workspaces folder is empty (its volume is new:
    /// the container and volumes were removed, or the workspace moved to another machine), and marks the creation hooks
    /// as done there, since they ran when the snapshot's files were first made.</summary>
    /// <returns>The snapshot restored, or null when there is none or the folder holds files already.</returns>
    public async Task<SnapshotInfo?> RestoreIfEmptyAsync(string workspaceId, CancellationToken cancellationToken)
    {
        if (store is null || await store.FindLatestAsync(workspaceId, cancellationToken) is not { } snapshot)
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
            var listing = await runtime.ExecAsync(workspaceId, new ExecRequest(["ls", "-A", Folder], User: "0"), NullProgress.Instance, cancellationToken);
            if (listing.ExitCode == 0 && !string.IsNullOrWhiteSpace(listing.OutputTail))
            {
                return null;
            }
        }

        await UnpackAsync(workspaceId, snapshot, cancellationToken);
        return snapshot;
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

        await UnpackAsync(workspaceId, snapshot, cancellationToken);
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
            await using (var tar = await target.OpenAsync(snapshot, cancellationToken))
            {
                await runtime.RestoreAsync(workspaceId, Folder, tar, cancellationToken);
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

    [LoggerMessage(Level = LogLevel.Warning, Message = "Workspace {WorkspaceId}: emptying the workspaces folder after a failed restore failed")]
    private partial void LogEmptyFailed(Exception exception, string workspaceId);
}
