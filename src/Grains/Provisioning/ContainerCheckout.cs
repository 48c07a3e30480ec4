using System.Security.Cryptography;
using System.Text;
using CloudDevEnv.Grains.Workspaces;

namespace CloudDevEnv.Grains.Provisioning;

/// <summary>Clones a repository in a short-lived prepare instance: to read it before the workspace exists (the runtime's
/// archive call brings the checkout out into a scratch folder here, without links or special files, where
/// devcontainer.json is read and the Dockerfile's build context packed), or to copy a file:// repository's clone into
/// the workspace (the archive streams from one instance into the other, through this process but never onto its disk).</summary>
/// <remarks>Git runs in a container, not in this process: the control plane never fetches from arbitrary hosts on its
/// own network, never runs git on untrusted input itself, and never reads a repository's files on this host (a symlink
/// committed to a repository points wherever its author liked). A file:// repository reaches only this instance, bind-
/// mounted read-only from its real path, and only for the clone. The prepare instance is an instance like any other (its
/// own id, <c>&lt;workspace id&gt;-prepare</c>, labelled with the owner): removed in a finally; after a crash the
/// retried step adopts it (create adopts) and removes it again (delete is idempotent), and start-up reconciliation
/// removes any no workspace claims. Size and time are bounded by <see cref="ProvisioningOptions.MaxCheckoutBytes"/> and
/// <see cref="ProvisioningOptions.PrepareTimeout"/>.</remarks>
internal sealed partial class ContainerCheckout(IWorkspaceRuntime runtime, ProvisioningOptions options, string image, ILogger logger)
{
    public const string Suffix = "-prepare";

    /// <summary>The checkout with its image: <see cref="ProvisioningOptions.PrepareImage"/>, else the fallback image.</summary>
    public static ContainerCheckout Create(IWorkspaceRuntime runtime, ProvisioningOptions options, WorkspaceOptions workspaces, ILogger logger) =>
        new(runtime, options, string.IsNullOrWhiteSpace(options.PrepareImage) ? workspaces.FallbackImage : options.PrepareImage, logger);

    // Below the instance's volume, so that the checkout does not fill the container's writable layer.
    private const string Root = "/workspaces";

    private static readonly TimeSpan CleanupTimeout = TimeSpan.FromSeconds(30);

    /// <summary>The prepare instance's id: the workspace's with <see cref="Suffix"/>, shortened (with a hash, so that two
    /// long ids stay distinct) where it would pass the 63 characters of a DNS label.</summary>
    public static string PrepareId(string workspaceId)
    {
        if (workspaceId.Length + Suffix.Length <= WorkspaceId.MaxLength)
        {
            return workspaceId + Suffix;
        }

        var hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(workspaceId)))[..8];
        return $"{workspaceId[..(WorkspaceId.MaxLength - Suffix.Length - hash.Length - 1)].TrimEnd('-')}-{hash}{Suffix}";
    }

    /// <summary>Where the prepare instance mounts the workspace's folder volume when it clones in place.</summary>
    private const string VolumeMount = "/cde-workspace";

    /// <summary>The complete clone's folder at the root of the workspace's folder volume: the workspace finds it at
    /// <c>&lt;WorkspaceVolumePath&gt;/.cde-checkout</c> and moves it into its folder (a clone cut short is never there
    /// under this name: it is made beside it and renamed once complete).</summary>
    public const string InPlaceFolder = ".cde-checkout";

    /// <summary>Creates the prepare instance and clones the repository, once: straight into the workspace's own folder
    /// volume where the runtime lets one instance mount another's (<see cref="IWorkspaceRuntime.WorkspaceVolumePath"/>),
    /// so that the workspace needs no clone of its own; else into the prepare instance's own disk. The caller reads
    /// what it needs and disposes of it, which removes the instance.</summary>
    public async Task<PreparedCheckout> OpenAsync(
        string workspaceId, WorkspaceSpec spec, RepositoryUrl repository, string purpose, bool inPlace, IProgress<string> log, CancellationToken cancellationToken)
    {
        var id = PrepareId(workspaceId);

        // The last prepare instance of this workspace may still be on its way out (removed while its launch went on):
        // a new one of the same id must not adopt it a moment before it goes.
        if (PendingRemovals.TryGetValue(id, out var removal))
        {
            await removal.WaitAsync(cancellationToken);
        }

        inPlace &= runtime.WorkspaceVolumePath is not null;
        var folder = inPlace ? $"{VolumeMount}/{InPlaceFolder}" : $"{Root}/{repository.Name}";
        var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(options.PrepareTimeout);
        var checkout = new PreparedCheckout(this, workspaceId, id, folder, inPlace, purpose, timeout, cancellationToken);
        try
        {
            var token = timeout.Token;
            var existed = inPlace && await runtime.InspectAsync(workspaceId, token) is not null;
            var prepared = await runtime.PrepareImageAsync(new ImageRequest(image), log, token);
            List<InstanceMount> mounts = repository.LocalPath is { } local
                ? [new InstanceMount(local, WorkspaceProvisioner.LocalRepositoryMount, ReadOnly: true, InstanceMountKind.Bind)]
                : [];
            if (inPlace)
            {
                mounts.Add(new InstanceMount(workspaceId, VolumeMount, ReadOnly: false, InstanceMountKind.WorkspaceVolume));
            }

            var instance = await runtime.CreateAsync(
                new InstanceSpec(
                    id, spec.Owner, prepared.Image, Command: null, GitClone.Environment, Gateway: null, mounts,
                    new InstanceResources(spec.Resources?.Cpus ?? 0, spec.Resources?.MemoryBytes ?? 0), User: "0",
                    // Cloning in place, it writes nothing of size to its own disk: no volumes of its own to make and remove.
                    Ephemeral: inPlace,
                    Offline: repository.LocalPath is not null),
                token);
            if (instance.State != InstanceState.Running)
            {
                await runtime.StartAsync(id, token);
            }

            // An adopted instance (the step retried after a crash), or a volume a cut-short launch left, may hold a
            // partial clone, and the git of a host killed mid-clone may still be writing it: each attempt clones into a
            // folder of its own beside the place, removes every older one, and renames its own once complete.
            var partial = $"{folder}.partial-{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(4))}";
            await checkout.ExecAsync(["/bin/sh", "-c", "rm -rf -- \"$1\" \"$1\".partial-*", "cde-clean", folder], token);
            if (inPlace && !existed)
            {
                // Empty once a cut-short attempt's clone is gone: made for this launch, to be removed if it fails.
                var listing = await runtime.ExecAsync(id, new ExecRequest(["ls", "-A", "--", VolumeMount], User: "0"), NullProgress.Instance, token);
                checkout.FreshVolume = listing.ExitCode == 0 && string.IsNullOrWhiteSpace(listing.OutputTail);
            }

            log.Report($"{purpose}: cloning {spec.RepoUrl}{(spec.Ref is null ? string.Empty : $" at {spec.Ref}")} in a short-lived container.");
            var result = await runtime.ExecAsync(
                id, new ExecRequest(GitClone.Command(repository, spec.Ref, partial), GitClone.Environment, User: "0"), log, token);
            if (result.ExitCode != 0)
            {
                LogCloneFailed(workspaceId, result.ExitCode);
                throw GitClone.Failure(result);
            }

            await checkout.ExecAsync(["mv", "-T", "--", partial, folder], token);
            return checkout;
        }
        catch (Exception e)
        {
            await checkout.AbandonAsync();
            if (e is OperationCanceledException && timeout.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
            {
                throw checkout.TimedOut();
            }

            throw;
        }
    }

    /// <summary>Clones the repository and copies the clone, links and all, into the workspace at <paramref name="folder"/>
    /// (empty), handed to <paramref name="user"/>: where the checkout could not be made in place.</summary>
    public async Task CopyIntoAsync(
        string workspaceId, WorkspaceSpec spec, RepositoryUrl repository, string folder, string? user, IProgress<string> log, CancellationToken cancellationToken)
    {
        await using var checkout = await OpenAsync(workspaceId, spec, repository, "Cloning", inPlace: false, log, cancellationToken);
        await checkout.CopyIntoAsync(workspaceId, folder, user);
    }

    /// <summary>Removals of prepare instances under way in this process, by prepare id (<see cref="PreparedCheckout.Release"/>).</summary>
    private static readonly System.Collections.Concurrent.ConcurrentDictionary<string, Task> PendingRemovals = new(StringComparer.Ordinal);

    /// <summary>Removes the prepare instance in the background; the next <see cref="OpenAsync"/> of the workspace waits for it.</summary>
    internal Task RemoveInBackground(string workspaceId, string id)
    {
        var removal = Task.Run(() => RemoveAsync(workspaceId, id));
        PendingRemovals[id] = removal;
        _ = removal.ContinueWith(done => PendingRemovals.TryRemove(KeyValuePair.Create(id, done)), TaskScheduler.Default);
        return removal;
    }

    internal IWorkspaceRuntime Runtime => runtime;

    internal ProvisioningOptions Options => options;

    /// <summary>Removes what a failed launch made of a workspace that has no instance (its folder volume).</summary>
    internal async Task RemoveWorkspaceRemainsAsync(string workspaceId)
    {
        using var cleanup = new CancellationTokenSource(CleanupTimeout);
        try
        {
            await runtime.DeleteAsync(workspaceId, cleanup.Token);
        }
        catch (Exception e) when (e is WorkspaceRuntimeException or OperationCanceledException)
        {
            // The workspace's delete removes it.
            LogRemainsKept(e, workspaceId);
        }
    }

    internal async Task RemoveAsync(string workspaceId, string id)
    {
        // Not the step's token: a cancelled or failed step must still not leave the instance behind.
        using var cleanup = new CancellationTokenSource(CleanupTimeout);
        try
        {
            await runtime.DeleteAsync(id, cleanup.Token);
        }
        catch (Exception e) when (e is WorkspaceRuntimeException or OperationCanceledException)
        {
            // The retried step or start-up reconciliation removes it; the launch's own outcome matters more.
            LogRemoveFailed(e, workspaceId, id);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Workspace {WorkspaceId}: git clone in the prepare container failed with exit code {ExitCode}")]
    private partial void LogCloneFailed(string workspaceId, int exitCode);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Workspace {WorkspaceId}: the volume made for its failed launch could not be removed; deleting the workspace will")]
    private partial void LogRemainsKept(Exception exception, string workspaceId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Workspace {WorkspaceId}: the prepare instance {PrepareId} could not be removed; reconciliation will")]
    private partial void LogRemoveFailed(Exception exception, string workspaceId, string prepareId);
}
