using CloudDevEnv.Grains.Workspaces;

namespace CloudDevEnv.Grains.Provisioning;

/// <summary>The slow steps of bringing a workspace up, each idempotent so that the grain may repeat any of
/// them after a crash: resolve the image, create the instance, clone the repository and start the IDE.
/// Holds no state: the grain owns the state machine and calls one step per phase.</summary>
public sealed partial class WorkspaceProvisioner(
    IWorkspaceRuntime runtime,
    IOptions<WorkspaceOptions> options,
    TimeProvider time,
    ILogger<WorkspaceProvisioner> logger)
{
    /// <summary>Where a file:// repository is bind-mounted, read-only, inside the workspace.</summary>
    public const string LocalRepositoryMount = "/mnt/cde-repo";

    private static readonly TimeSpan ProbeInterval = TimeSpan.FromMilliseconds(250);

    private WorkspaceOptions Options => options.Value;

    public async Task<ImageResolution> ResolveImageAsync(WorkspaceSpec spec, IProgress<string> log, CancellationToken cancellationToken)
    {
        ImageResolution resolution = spec.Image is { } requested
            ? new(requested, ImageSource.Request, [])
            : new(Options.FallbackImage, ImageSource.Fallback, ["no image was named in the request"]);

        log.Report($"Using image {resolution.Image} ({resolution.Source}).");
        var prepared = await runtime.PrepareImageAsync(new ImageRequest(resolution.Image), log, cancellationToken);
        return resolution with { Image = prepared.Image };
    }

    /// <summary>Creates (or adopts) the instance and starts it.</summary>
    public async Task<RuntimeInstance> CreateAsync(string workspaceId, WorkspaceSpec spec, ImageResolution image, CancellationToken cancellationToken)
    {
        var repository = ParseRepository(spec);
        List<InstanceMount> mounts = repository.LocalPath is { } local
            ? [new InstanceMount(local, LocalRepositoryMount, ReadOnly: true, InstanceMountKind.Bind)]
            : [];

        var instance = await runtime.CreateAsync(
            new InstanceSpec(
                workspaceId,
                spec.Owner,
                image.Image,
                Command: null,
                Environment: new Dictionary<string, string>
                {
                    ["CDE_WORKSPACE_ID"] = workspaceId,
                    ["CDE_WORKSPACE_OWNER"] = spec.Owner,
                    ["CDE_REPOSITORY_URL"] = spec.RepoUrl,
                },
                Ports: [Options.IdePort],
                Mounts: mounts,
                new InstanceResources(spec.Resources!.Cpus, spec.Resources.MemoryBytes)),
            cancellationToken);

        if (instance.State != InstanceState.Running)
        {
            await runtime.StartAsync(workspaceId, cancellationToken);
        }

        return instance;
    }

    /// <summary>Clones the repository unless a clone is there already, then starts the IDE unless it answers.</summary>
    public async Task InitializeAsync(string workspaceId, WorkspaceSpec spec, IProgress<string> log, CancellationToken cancellationToken)
    {
        var repository = ParseRepository(spec);
        var folder = WorkspaceFolder(repository);

        var present = await runtime.ExecAsync(workspaceId, new ExecRequest(["test", "-e", $"{folder}/.git"]), log, cancellationToken);
        if (present.ExitCode != 0)
        {
            await CloneAsync(workspaceId, spec, repository, folder, log, cancellationToken);
        }

        if (await runtime.ProbeHttpAsync(workspaceId, Options.IdePort, cancellationToken))
        {
            return;
        }

        var command = Options.IdeCommand
            .Replace("{port}", Options.IdePort.ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal)
            .Replace("{folder}", folder, StringComparison.Ordinal);
        log.Report("Starting the IDE.");
        await runtime.ExecAsync(workspaceId, new ExecRequest(["/bin/sh", "-c", command], WorkingDirectory: folder, Detached: true), log, cancellationToken);

        var deadline = time.GetUtcNow() + Options.IdeStartTimeout;
        while (!await runtime.ProbeHttpAsync(workspaceId, Options.IdePort, cancellationToken))
        {
            if (time.GetUtcNow() > deadline)
            {
                throw new WorkspaceRuntimeException(
                    $"The IDE did not answer on port {Options.IdePort} within {Options.IdeStartTimeout.TotalSeconds:0} s.", isPermanent: false);
            }

            await Task.Delay(ProbeInterval, time, cancellationToken);
        }
    }

    private async Task CloneAsync(
        string workspaceId, WorkspaceSpec spec, RepositoryUrl repository, string folder, IProgress<string> log, CancellationToken cancellationToken)
    {
        // A bind-mounted repository belongs to another uid: git refuses it as "dubious" without safe.directory.
        var source = repository.LocalPath is null ? repository.Url : "file://" + LocalRepositoryMount;
        List<string> clone = ["git", "-c", "safe.directory=*", "clone", "--depth", "1", "--no-tags"];
        if (spec.Ref is { } gitRef)
        {
            clone.AddRange(["--branch", gitRef]);
        }

        clone.AddRange(["--", source, folder]);
        log.Report($"Cloning {spec.RepoUrl}{(spec.Ref is null ? string.Empty : $" at {spec.Ref}")} into {folder}.");
        var result = await runtime.ExecAsync(workspaceId, new ExecRequest(clone), log, cancellationToken);
        if (result.ExitCode != 0)
        {
            // Clean up a partial clone so that a later start clones afresh instead of finding a broken one.
            await runtime.ExecAsync(workspaceId, new ExecRequest(["rm", "-rf", "--", folder]), log, cancellationToken);
            LogCloneFailed(workspaceId, result.ExitCode);
            throw new WorkspaceFailure($"git clone failed (exit {result.ExitCode}): {result.OutputTail.Trim()}", keepInstanceRunning: false);
        }
    }

    public static string WorkspaceFolder(RepositoryUrl repository) => $"/workspaces/{repository.Name}";

    private RepositoryUrl ParseRepository(WorkspaceSpec spec) =>
        RepositoryUrl.TryParse(spec.RepoUrl, Options.LocalRepoRoots, out var url, out var error)
            ? url!
            : throw new WorkspaceFailure($"The repository URL is no longer allowed: {error}", keepInstanceRunning: false);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Workspace {WorkspaceId}: git clone failed with exit code {ExitCode}")]
    private partial void LogCloneFailed(string workspaceId, int exitCode);
}
