using System.Security.Cryptography;
using System.Text;
using CloudDevEnv.Grains.Workspaces;

namespace CloudDevEnv.Grains.Provisioning;

/// <summary>Reads a repository that is not on this host (https, ssh, git@) before the workspace exists: a short-lived
/// prepare instance clones it shallowly at the ref, and the runtime's archive call brings the checkout out into a
/// scratch folder here, where the same code as for file:// repositories reads devcontainer.json and packs the
/// Dockerfile's build context.</summary>
/// <remarks>Git runs in a container, not in this process: the control plane never fetches from arbitrary hosts on its
/// own network and never runs git on untrusted input itself. The prepare instance is an instance like any other (its
/// own id, <c>&lt;workspace id&gt;-prepare</c>, labelled with the owner): removed in a finally; after a crash the
/// retried step adopts it (create adopts) and removes it again (delete is idempotent), and start-up reconciliation
/// removes any no workspace claims. Size and time are bounded by <see cref="ProvisioningOptions.MaxCheckoutBytes"/> and
/// <see cref="ProvisioningOptions.PrepareTimeout"/>.</remarks>
internal sealed partial class ContainerCheckout(IWorkspaceRuntime runtime, ProvisioningOptions options, string image, ILogger logger)
{
    public const string Suffix = "-prepare";

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

    public async Task<RepositorySnapshot> TakeAsync(
        string workspaceId, WorkspaceSpec spec, RepositoryUrl repository, IProgress<string> log, CancellationToken cancellationToken)
    {
        var id = PrepareId(workspaceId);
        var folder = $"{Root}/{repository.Name}";
        var scratch = Directory.CreateTempSubdirectory("cde-checkout-").FullName;
        var taken = false;
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
            log.Report($"Reading devcontainer.json: cloning {spec.RepoUrl}{(spec.Ref is null ? string.Empty : $" at {spec.Ref}")} in a short-lived container.");
            var result = await runtime.ExecAsync(
                id, new ExecRequest(GitClone.Command(repository, spec.Ref, folder), GitClone.Environment, User: "0"), log, token);
            if (result.ExitCode != 0)
            {
                LogCloneFailed(workspaceId, result.ExitCode);
                throw GitClone.Failure(result);
            }

            var target = Path.Combine(scratch, repository.Name);
            await using (var tar = await runtime.ArchiveAsync(id, folder, token))
            {
                var skipped = await CheckoutArchive.ExtractAsync(tar, target, options.MaxCheckoutBytes, token);
                if (skipped > 0)
                {
                    log.Report($"Left out {skipped} symbolic link(s) or special file(s) of the checkout when reading it.");
                }
            }

            taken = true;
            return new RepositorySnapshot(target, scratch);
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            throw new WorkspaceFailure(
                $"Reading the repository for its devcontainer.json took longer than {options.PrepareTimeout.TotalSeconds:0} s (Provisioning:PrepareTimeout).",
                keepInstanceRunning: false);
        }
        finally
        {
            if (!taken)
            {
                RepositorySnapshot.TryDelete(scratch);
            }

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
