using CloudDevEnv.Grains.Workspaces;

namespace CloudDevEnv.Grains.Provisioning;

/// <summary>A repository cloned in a prepare instance (<see cref="ContainerCheckout.OpenAsync"/>), alive until disposed:
/// what the Building step reads of it comes out into a scratch folder of this host, and, when it was cloned in place,
/// the clone itself stays in the workspace's folder volume for the workspace to move into its folder.</summary>
internal sealed class PreparedCheckout : IAsyncDisposable
{
    /// <summary>What devcontainer.json may be read from: every place <c>devcontainerPath</c> may name is below these.</summary>
    private static readonly string[] ConfigurationPaths = [".devcontainer", ".devcontainer.json"];

    // Inside the prepare instance, outside the clone: what is brought out when only the configuration is read.
    private const string Selection = "/tmp/cde-read";

    private readonly ContainerCheckout _owner;
    private readonly string _workspaceId;
    private readonly string _purpose;
    private readonly CancellationTokenSource _timeout;
    private readonly CancellationToken _caller;
    private bool _disposed;
    private Task? _removal;

    internal PreparedCheckout(
        ContainerCheckout owner, string workspaceId, string prepareId, string folder, bool inPlace, string purpose, CancellationTokenSource timeout, CancellationToken caller)
    {
        _owner = owner;
        _workspaceId = workspaceId;
        PrepareId = prepareId;
        Folder = folder;
        InPlace = inPlace;
        _purpose = purpose;
        _timeout = timeout;
        _caller = caller;
    }

    public string PrepareId { get; }

    /// <summary>The clone inside the prepare instance.</summary>
    public string Folder { get; }

    /// <summary>True when the clone is in the workspace's folder volume, for the workspace to take.</summary>
    public bool InPlace { get; private set; }

    /// <summary>True when the folder volume was made for this clone (the workspace has no instance, and the volume held
    /// nothing of anyone's): a launch that fails now removes it again, so that nothing of the workspace is left.</summary>
    public bool FreshVolume { get; internal set; }

    /// <summary>The checkout's configuration on this host: with the clone in place only <c>.devcontainer/</c> and
    /// <c>.devcontainer.json</c> (a few kilobytes, whatever the repository's size; <see cref="ReadAllAsync"/> brings the
    /// rest when the configuration reaches beyond them), else the whole checkout.</summary>
    public async Task<RepositorySnapshot> ReadConfigurationAsync(string repositoryName, IProgress<string> log)
    {
        if (!InPlace)
        {
            return await ReadAllAsync(repositoryName, log);
        }

        // One exec gathers whichever of the paths exist, links copied as links (the extraction skips them).
        await ExecAsync(
            ["/bin/sh", "-c", "s=\"$1\"; f=\"$2\"; shift 2; rm -rf -- \"$s\" && mkdir -p -- \"$s\" && cd -- \"$f\" && for p in \"$@\"; do if [ -e \"$p\" ] || [ -L \"$p\" ]; then cp -PR -- \"$p\" \"$s/\" || exit 1; fi; done",
                "cde-read", Selection, Folder, .. ConfigurationPaths],
            _timeout.Token);
        return await BringOutAsync(Selection, repositoryName, log, isPartial: true);
    }

    /// <summary>The whole checkout on this host (a Dockerfile's build context, a compose configuration's files).</summary>
    public Task<RepositorySnapshot> ReadAllAsync(string repositoryName, IProgress<string> log) =>
        BringOutAsync(Folder, repositoryName, log, isPartial: false);

    /// <summary>Takes the clone out of the workspace's folder volume (a launch from a prebuild, whose image holds its
    /// own checkout: the volume must be empty for the image's files to fill it), so the workspace clones if it must.</summary>
    public async Task DiscardAsync()
    {
        if (InPlace)
        {
            await ExecAsync(["rm", "-rf", "--", Folder], _timeout.Token);
            InPlace = false;
        }
    }

    /// <summary>Copies the clone, links and all, into the workspace at <paramref name="folder"/> (empty), handed to
    /// <paramref name="user"/>; the archive streams from one instance into the other, never onto this host's disk.</summary>
    public async Task CopyIntoAsync(string workspaceId, string folder, string? user)
    {
        var runtime = _owner.Runtime;
        var token = _timeout.Token;
        await RootAsync(workspaceId, "the workspace", ["mkdir", "-p", "--", folder], token);
        await RunAsync(async () =>
        {
            await using var tar = await runtime.ArchiveAsync(PrepareId, Folder, token);
            await runtime.RestoreAsync(workspaceId, folder, tar, token);
        });
        if (user is not null)
        {
            await RootAsync(workspaceId, "the workspace", ["chown", "-R", "--", user, folder], token);
        }
    }

    /// <summary>Removes the prepare instance without waiting for it (a few hundred milliseconds of the engine's): the
    /// launch goes on meanwhile. A removal that fails is left to the workspace's delete and start-up reconciliation,
    /// as after a crash.</summary>
    public void Release()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        _timeout.Dispose();
        _removal = _owner.RemoveInBackground(_workspaceId, PrepareId);
    }

    /// <summary>For a launch that failed before its workspace was created: the prepare instance goes and, when the folder
    /// volume was made for this clone, the volume too (a volume that held the owner's files stays, whatever failed).</summary>
    public async Task AbandonAsync()
    {
        await DisposeAsync();
        if (_removal is not null)
        {
            await _removal;
        }

        if (FreshVolume)
        {
            await _owner.RemoveWorkspaceRemainsAsync(_workspaceId);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        await _owner.RemoveAsync(_workspaceId, PrepareId);
        _timeout.Dispose();
    }

    internal WorkspaceFailure TimedOut() => new(
        $"{_purpose}: the clone in a short-lived container took longer than {_owner.Options.PrepareTimeout.TotalSeconds:0} s (Provisioning:PrepareTimeout).",
        keepInstanceRunning: false);

    internal Task ExecAsync(List<string> command, CancellationToken token) => RootAsync(PrepareId, "the prepare container", command, token);

    /// <summary>A command as root in <paramref name="instanceId"/> that must succeed, under the prepare deadline.</summary>
    private Task RootAsync(string instanceId, string where, List<string> command, CancellationToken token) => RunAsync(async () =>
    {
        var result = await _owner.Runtime.ExecAsync(instanceId, new ExecRequest(command, User: "0"), NullProgress.Instance, token);
        if (result.ExitCode != 0)
        {
            throw new WorkspaceRuntimeException($"`{string.Join(' ', command)}` in {where} failed (exit {result.ExitCode}): {result.OutputTail.Trim()}", isPermanent: false);
        }
    });

    private async Task<RepositorySnapshot> BringOutAsync(string path, string repositoryName, IProgress<string> log, bool isPartial)
    {
        var scratch = Directory.CreateTempSubdirectory("cde-checkout-").FullName;
        try
        {
            var target = Path.Combine(scratch, repositoryName);
            var skipped = 0;
            await RunAsync(async () =>
            {
                await using var tar = await _owner.Runtime.ArchiveAsync(PrepareId, path, _timeout.Token);
                skipped = await CheckoutArchive.ExtractAsync(tar, target, _owner.Options.MaxCheckoutBytes, _timeout.Token);
            });
            if (skipped > 0)
            {
                log.Report($"Left out {skipped} symbolic link(s) or special file(s) of the checkout when reading it.");
            }

            return new RepositorySnapshot(target, scratch, isPartial);
        }
        catch
        {
            RepositorySnapshot.TryDelete(scratch);
            throw;
        }
    }

    /// <summary>Turns the prepare deadline running out into the workspace's failure, as a clone that took too long.</summary>
    private async Task RunAsync(Func<Task> step)
    {
        try
        {
            await step();
        }
        catch (OperationCanceledException) when (_timeout.IsCancellationRequested && !_caller.IsCancellationRequested)
        {
            throw TimedOut();
        }
    }
}
