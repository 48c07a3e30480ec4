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

    /// <summary>The checkout in a scratch folder of this host, for reading devcontainer.json and packing a build context.</summary>
    public async Task<RepositorySnapshot> TakeAsync(
        string workspaceId, WorkspaceSpec spec, RepositoryUrl repository, IProgress<string> log, CancellationToken cancellationToken)
    {
        var scratch = Directory.CreateTempSubdirectory("cde-checkout-").FullName;
        var taken = false;
        try
        {
            var snapshot = await WithCloneAsync(workspaceId, spec, repository, repository.Name, "Reading devcontainer.json", log, cancellationToken,
                async (id, folder, token) =>
                {
                    var target = Path.Combine(scratch, repository.Name);
                    await using var tar = await runtime.ArchiveAsync(id, folder, token);
                    var skipped = await CheckoutArchive.ExtractAsync(tar, target, options.MaxCheckoutBytes, token);
                    if (skipped > 0)
                    {
                        log.Report($"Left out {skipped} symbolic link(s) or special file(s) of the checkout when reading it.");
                    }

                    return new RepositorySnapshot(target, scratch);
                });
            taken = true;
            return snapshot;
        }
        finally
        {
            if (!taken)
            {
                RepositorySnapshot.TryDelete(scratch);
            }
        }
    }

    /// <summary>Clones the repository and copies the clone, links and all, into the workspace at <paramref name="folder"/>
    /// (empty), handed to <paramref name="user"/>.</summary>
    public Task CopyIntoAsync(
        string workspaceId, WorkspaceSpec spec, RepositoryUrl repository, string folder, string? user, IProgress<string> log, CancellationToken cancellationToken)
    {
        // The runtime's archive holds the folder's content (names relative to it), so it is unpacked into the folder.
        return WithCloneAsync(workspaceId, spec, repository, repository.Name, "Cloning", log, cancellationToken, async (id, cloned, token) =>
        {
            await ExecAsync(workspaceId, ["mkdir", "-p", "--", folder], token);
            await using (var tar = await runtime.ArchiveAsync(id, cloned, token))
            {
                await runtime.RestoreAsync(workspaceId, folder, tar, token);
            }

            if (user is not null)
            {
                await ExecAsync(workspaceId, ["chown", "-R", "--", user, folder], token);
            }

            return true;
        });
    }

    private async Task ExecAsync(string workspaceId, List<string> command, CancellationToken token)
    {
        var result = await runtime.ExecAsync(workspaceId, new ExecRequest(command, User: "0"), NullProgress.Instance, token);
        if (result.ExitCode != 0)
        {
            throw new WorkspaceRuntimeException($"`{string.Join(' ', command)}` in the workspace failed (exit {result.ExitCode}): {result.OutputTail.Trim()}", isPermanent: false);
        }
    }

    /// <summary>Creates the prepare instance, clones into <c>/workspaces/&lt;name&gt;</c> in it, hands that folder to
    /// <paramref name="use"/>, and removes the instance whatever happens.</summary>
    private async Task<T> WithCloneAsync<T>(
        string workspaceId, WorkspaceSpec spec, RepositoryUrl repository, string name, string purpose, IProgress<string> log,
        CancellationToken cancellationToken, Func<string, string, CancellationToken, Task<T>> use)
    {
        var id = PrepareId(workspaceId);
        var folder = $"{Root}/{name}";
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(options.PrepareTimeout);
        var token = timeout.Token;
        try
        {
            var prepared = await runtime.PrepareImageAsync(new ImageRequest(image), log, token);
            List<InstanceMount> mounts = repository.LocalPath is { } local
                ? [new InstanceMount(local, WorkspaceProvisioner.LocalRepositoryMount, ReadOnly: true, InstanceMountKind.Bind)]
                : [];
            var instance = await runtime.CreateAsync(
                new InstanceSpec(
                    id, spec.Owner, prepared.Image, Command: null, GitClone.Environment, Gateway: null, mounts,
                    new InstanceResources(spec.Resources?.Cpus ?? 0, spec.Resources?.MemoryBytes ?? 0), User: "0"),
                token);
            if (instance.State != InstanceState.Running)
            {
                await runtime.StartAsync(id, token);
            }

            // An adopted instance (the step retried after a crash) may hold a partial clone.
            await runtime.ExecAsync(id, new ExecRequest(["rm", "-rf", "--", folder], User: "0"), NullProgress.Instance, token);
            log.Report($"{purpose}: cloning {spec.RepoUrl}{(spec.Ref is null ? string.Empty : $" at {spec.Ref}")} in a short-lived container.");
            var result = await runtime.ExecAsync(
                id, new ExecRequest(GitClone.Command(repository, spec.Ref, folder), GitClone.Environment, User: "0"), log, token);
            if (result.ExitCode != 0)
            {
                LogCloneFailed(workspaceId, result.ExitCode);
                throw GitClone.Failure(result);
            }

            return await use(id, folder, token);
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            throw new WorkspaceFailure(
                $"{purpose}: the clone in a short-lived container took longer than {options.PrepareTimeout.TotalSeconds:0} s (Provisioning:PrepareTimeout).",
                keepInstanceRunning: false);
        }
        finally
        {
            await RemoveAsync(workspaceId, id);
        }
    }

    private async Task RemoveAsync(string workspaceId, string id)
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

    [LoggerMessage(Level = LogLevel.Warning, Message = "Workspace {WorkspaceId}: the prepare instance {PrepareId} could not be removed; reconciliation will")]
    private partial void LogRemoveFailed(Exception exception, string workspaceId, string prepareId);
}
