using System.Globalization;
using CloudDevEnv.Grains.Workspaces;

namespace CloudDevEnv.Grains.Provisioning;

/// <summary>The slow steps of bringing a workspace up, each idempotent so that the grain may repeat any of
/// them after a crash: resolve the image (and devcontainer.json), create the instance, clone the repository,
/// run the lifecycle hooks and start the IDE. Holds no state: the grain owns the state machine, persists the
/// <see cref="WorkspacePlan"/> and calls one step per phase.</summary>
public sealed partial class WorkspaceProvisioner(
    IWorkspaceRuntime runtime,
    WorkspaceImageResolver resolver,
    Ide.IdeCustomizer ide,
    IOptions<WorkspaceOptions> options,
    IOptions<ProvisioningOptions> provisioningOptions,
    TimeProvider time,
    ILogger<WorkspaceProvisioner> logger)
{
    /// <summary>Where a file:// repository is bind-mounted, read-only, inside the prepare instance that clones it (never
    /// inside the workspace).</summary>
    public const string LocalRepositoryMount = "/mnt/cde-repo";

    // code-server boots in under a second: a coarser poll would add half its period to every launch, on average.
    private static readonly TimeSpan ProbeInterval = TimeSpan.FromMilliseconds(50);

    private WorkspaceOptions Options => options.Value;

    /// <summary>The Building step: the image and what devcontainer.json asks of the later steps.</summary>
    /// <param name="usePrebuild">False for the build of a prebuild, which must not start from an older one.</param>
    public async Task<ResolvedLaunch> ResolveAsync(
        string workspaceId, WorkspaceSpec spec, IProgress<string> log, CancellationToken cancellationToken, bool usePrebuild = true)
    {
        var repository = ParseRepository(spec);
        var launch = await resolver.ResolveAsync(workspaceId, spec, repository, log, cancellationToken, usePrebuild);
        return launch with { Plan = launch.Plan with { Repository = repository } };
    }

    /// <summary>Creates (or adopts) the instance, with its gateway requiring <paramref name="gatewaySecret"/>, and starts it.</summary>
    public async Task<RuntimeInstance> CreateAsync(
        string workspaceId, WorkspaceSpec spec, ImageResolution image, WorkspacePlan? plan, string gatewaySecret, CancellationToken cancellationToken)
    {
        var repository = plan?.Repository ?? ParseRepository(spec);
        plan ??= DefaultPlan(repository, image);
        List<InstanceMount> mounts = [.. plan.Volumes.Select(v => new InstanceMount(v.Name, v.Target, v.ReadOnly, InstanceMountKind.Volume))];

        // containerEnv first: the platform's own variables are not the repository's to override.
        var environment = new Dictionary<string, string>(plan.ContainerEnv, StringComparer.Ordinal)
        {
            ["CDE_WORKSPACE_ID"] = workspaceId,
            ["CDE_WORKSPACE_OWNER"] = spec.Owner,
            ["CDE_REPOSITORY_URL"] = spec.RepoUrl,
        };

        var instance = await runtime.CreateAsync(
            new InstanceSpec(
                workspaceId,
                spec.Owner,
                image.Image,
                Command: null,
                environment,
                new InstanceGateway(Options.GatewayPort, Options.IdePort, gatewaySecret),
                Mounts: mounts,
                new InstanceResources(spec.Resources!.Cpus, spec.Resources.MemoryBytes),
                User: plan.ContainerUser,
                CapAdd: plan.CapAdd,
                SecurityOptions: plan.SecurityOptions,
                ShmSizeBytes: plan.ShmSizeBytes,
                Companions: [.. plan.Companions.Select(Companion)],
                HostAliases: plan.HostAliases),
            cancellationToken);

        if (instance.State != InstanceState.Running)
        {
            await runtime.StartAsync(workspaceId, cancellationToken);
        }

        return instance;
    }

    /// <summary>Clones the repository unless a clone is there already, runs the lifecycle hooks up to <c>waitFor</c> that are
    /// due and, at the same time, starts the IDE unless it answers: the workspace may be Running once this returns.</summary>
    /// <param name="userEnvironment">The owner's variables and secrets: set on top of remoteEnv for the hooks and the IDE
    /// (whose terminals inherit it), never on the container itself, so that they are in no container's configuration.</param>
    /// <returns>True when hooks after <c>waitFor</c> remain for <see cref="RunLaterHooksAsync"/>.</returns>
    public async Task<bool> InitializeAsync(
        string workspaceId, WorkspaceSpec spec, ImageResolution? image, WorkspacePlan? plan, IReadOnlyDictionary<string, string> userEnvironment,
        IProgress<string> log, CancellationToken cancellationToken)
    {
        var repository = plan?.Repository ?? ParseRepository(spec);
        plan ??= DefaultPlan(repository, image);

        var remoteEnv = await RemoteEnvironmentAsync(workspaceId, plan, userEnvironment, cancellationToken);
        var (before, after) = plan.SplitHooks();

        // The IDE starts first, beside the clone and the hooks rather than after them: nobody reaches it before the
        // workspace is Running, which waits for all three, and code-server opens its folder only when a browser asks
        // for it. Its start (a Node.js process, about a second) no longer adds to the launch.
        using var ideCancel = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var ideStarted = StartIdeAsync(workspaceId, plan, remoteEnv, log, ideCancel.Token);
        try
        {
            if (await CloneAsync(workspaceId, spec, repository, plan, log, cancellationToken) && image?.Source == ImageSource.Prebuild)
            {
                await UpdatePrebuiltCheckoutAsync(workspaceId, spec, repository, plan, log, cancellationToken);
            }

            await RunEntrypointsAsync(workspaceId, plan, log, cancellationToken);

            await Runner().RunAsync(workspaceId, plan, before, remoteEnv, log, cancellationToken);
        }
        catch
        {
            await ideCancel.CancelAsync();
            await ideStarted.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing | ConfigureAwaitOptions.ContinueOnCapturedContext);
            throw;
        }

        await ideStarted;
        return after.Count > 0;
    }

    /// <summary>The hooks after <c>waitFor</c> (postCreateCommand, postStartCommand by default) that are due, with the
    /// workspace Running: a failure among them is the grain's to report, not a reason to take the IDE away.</summary>
    public async Task RunLaterHooksAsync(
        string workspaceId, WorkspacePlan? plan, IReadOnlyDictionary<string, string> userEnvironment, IProgress<string> log, CancellationToken cancellationToken)
    {
        // No plan (a workspace from before plans, or without devcontainer.json): no hooks.
        if (plan?.SplitHooks().After is not { Count: > 0 } after)
        {
            return;
        }

        var remoteEnv = await RemoteEnvironmentAsync(workspaceId, plan, userEnvironment, cancellationToken);
        await Runner().RunAsync(workspaceId, plan, after, remoteEnv, log, cancellationToken);
    }

    /// <summary>The build of a prebuild: an instance without volumes (so that saving it keeps every file) from the
    /// resolved image, the repository cloned into it, and the hooks a prebuild may run ahead of every launch
    /// (onCreateCommand and updateContentCommand, features' included) run as a launch runs them, their markers left in
    /// the image so that a launch from it skips them. Nobody's variables or secrets are in it: everyone who launches
    /// the repository runs the image.</summary>
    public async Task PrebuildAsync(string workspaceId, WorkspaceSpec spec, ResolvedLaunch launch, IProgress<string> log, CancellationToken cancellationToken)
    {
        var plan = launch.Plan;
        var repository = plan.Repository ?? ParseRepository(spec);
        if (plan.Companions.Count > 0)
        {
            throw new WorkspaceFailure(
                "A Docker Compose configuration cannot be prebuilt: its hooks may need the other services, which a prebuild does not run.", keepInstanceRunning: false);
        }

        var instance = await runtime.CreateAsync(
            new InstanceSpec(
                workspaceId,
                spec.Owner,
                launch.Image.Image,
                Command: null,
                plan.ContainerEnv,
                Gateway: null,
                Mounts: [],
                new InstanceResources(spec.Resources!.Cpus, spec.Resources.MemoryBytes),
                User: plan.ContainerUser,
                CapAdd: plan.CapAdd,
                SecurityOptions: plan.SecurityOptions,
                ShmSizeBytes: plan.ShmSizeBytes,
                Ephemeral: true),
            cancellationToken);
        if (instance.State != InstanceState.Running)
        {
            await runtime.StartAsync(workspaceId, cancellationToken);
        }

        await CloneAsync(workspaceId, spec, repository, plan, log, cancellationToken);
        await RunEntrypointsAsync(workspaceId, plan, log, cancellationToken);
        var remoteEnv = await RemoteEnvironmentAsync(workspaceId, plan, new Dictionary<string, string>(), cancellationToken);
        var ahead = plan.Hooks.Where(h => h.Stage is DevContainers.LifecycleHook.OnCreateCommand or DevContainers.LifecycleHook.UpdateContentCommand).ToList();
        await Runner().RunAsync(workspaceId, plan, ahead, remoteEnv, log, cancellationToken);

        var marked = await runtime.ExecAsync(
            workspaceId,
            new ExecRequest(["/bin/sh", "-c", $"git -C \"$1\" rev-parse HEAD > {PrebuiltMarker}", "cde-prebuilt", plan.WorkspaceFolder], User: plan.RemoteUser),
            NullProgress.Instance,
            cancellationToken);
        if (marked.ExitCode != 0)
        {
            throw new WorkspaceRuntimeException($"Marking the prebuild's checkout failed (exit {marked.ExitCode}): {marked.OutputTail.Trim()}", isPermanent: false);
        }
    }

    /// <summary>In a prebuild's image: the commit its checkout is at. A launch from it brings the checkout up to date
    /// (the clone it skips) and removes the marker.</summary>
    internal const string PrebuiltMarker = "/tmp/.clouddevenv-prebuilt";

    /// <summary>A workspace from a prebuild finds the prebuild's checkout in its folder (a fresh volume takes the
    /// image's files): it is moved to the ref's newest commit instead of cloned. Both clones are shallow, so there is no
    /// shared history to fast-forward along: <c>git reset --keep</c> moves the branch and the files it changed, and keeps
    /// what the hooks made (untracked files, dependencies). When that cannot be done (a hook changed a file the new
    /// commits change too, the repository cannot be reached), the workspace goes on at the prebuild's commit and says
    /// so.</summary>
    private async Task UpdatePrebuiltCheckoutAsync(
        string workspaceId, WorkspaceSpec spec, RepositoryUrl repository, WorkspacePlan plan, IProgress<string> log, CancellationToken cancellationToken)
    {
        var marker = await runtime.ExecAsync(workspaceId, new ExecRequest(["cat", PrebuiltMarker], User: plan.RemoteUser), NullProgress.Instance, cancellationToken);
        if (marker.ExitCode != 0)
        {
            return;
        }

        var folder = plan.WorkspaceFolder.TrimEnd('/');
        var user = plan.RemoteUser is { } u && !IsRoot(u) ? u : null;
        log.Report($"Bringing the prebuild's checkout (at {marker.OutputTail.Trim()}) up to date{(spec.Ref is null ? string.Empty : $" with {spec.Ref}")}.");
        ExecResult merged;
        if (repository.LocalPath is not null)
        {
            // A repository on this host never reaches the workspace: a fresh checkout of it does, and is fetched from.
            var staging = folder[..(folder.LastIndexOf('/') + 1)] + ".cde-update-" + folder[(folder.LastIndexOf('/') + 1)..];
            await RootAsync(workspaceId, ["rm", "-rf", "--", staging], cancellationToken);
            try
            {
                await ContainerCheckout.Create(runtime, provisioningOptions.Value, Options, logger)
                    .CopyIntoAsync(workspaceId, spec, repository, staging, user, log, cancellationToken);
                merged = await runtime.ExecAsync(workspaceId, new ExecRequest(
                    ["/bin/sh", "-c", "git -C \"$1\" fetch --quiet --no-tags --update-shallow \"$2\" HEAD && git -C \"$1\" reset --quiet --keep FETCH_HEAD", "cde-update", folder, staging],
                    GitClone.Environment, User: plan.RemoteUser), log, cancellationToken);
            }
            finally
            {
                await RootAsync(workspaceId, ["rm", "-rf", "--", staging], CancellationToken.None, allowFailure: true);
            }
        }
        else
        {
            merged = await runtime.ExecAsync(workspaceId, new ExecRequest(
                ["/bin/sh", "-c", "git -C \"$1\" fetch --quiet --no-tags --update-shallow origin \"$2\" && git -C \"$1\" reset --quiet --keep FETCH_HEAD", "cde-update", folder, spec.Ref ?? "HEAD"],
                GitClone.Environment, User: plan.RemoteUser), log, cancellationToken);
        }

        if (merged.ExitCode != 0)
        {
            log.Report($"The prebuild's checkout could not be brought up to date (exit {merged.ExitCode}): {merged.OutputTail.Trim()}. It stays at the prebuild's commit; pull by hand.");
        }

        await runtime.ExecAsync(workspaceId, new ExecRequest(["rm", "-f", PrebuiltMarker], User: plan.RemoteUser), NullProgress.Instance, cancellationToken);
    }

    /// <summary>Features' entrypoints (a daemon a feature installed), at every start, as the container's own entrypoint
    /// would run them; each as root, bounded, given `true` as the command it would exec.</summary>
    private async Task RunEntrypointsAsync(string workspaceId, WorkspacePlan plan, IProgress<string> log, CancellationToken cancellationToken)
    {
        foreach (var entrypoint in plan.Entrypoints)
        {
            using var bounded = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            bounded.CancelAfter(TimeSpan.FromMinutes(1));
            log.Report($"Running the feature entrypoint {entrypoint}.");
            var started = await runtime.ExecAsync(workspaceId, new ExecRequest(["/bin/sh", "-c", $"{entrypoint} true"], User: "0"), log, bounded.Token);
            if (started.ExitCode != 0)
            {
                log.Report($"The feature entrypoint {entrypoint} ended with exit code {started.ExitCode}.");
            }
        }
    }

    private LifecycleRunner Runner() => new(runtime, provisioningOptions.Value.FailureTailLines, logger);

    private async Task<Dictionary<string, string>> RemoteEnvironmentAsync(
        string workspaceId, WorkspacePlan plan, IReadOnlyDictionary<string, string> userEnvironment, CancellationToken cancellationToken)
    {
        var remoteEnv = new Dictionary<string, string>(
            await ContainerEnvironment.ResolveRemoteEnvAsync(runtime, workspaceId, plan, cancellationToken), StringComparer.Ordinal);
        foreach (var (name, value) in userEnvironment)
        {
            remoteEnv[name] = value;
        }

        return remoteEnv;
    }

    private async Task StartIdeAsync(
        string workspaceId, WorkspacePlan plan, IReadOnlyDictionary<string, string> remoteEnv, IProgress<string> log, CancellationToken cancellationToken)
    {
        if (await runtime.ProbeIdeAsync(workspaceId, cancellationToken))
        {
            return;
        }

        var folder = plan.WorkspaceFolder;
        await ide.ApplyAsync(workspaceId, plan, remoteEnv, log, cancellationToken);
        var command = Options.IdeCommand
            .Replace("{port}", Options.IdePort.ToString(CultureInfo.InvariantCulture), StringComparison.Ordinal)
            .Replace("{folder}", folder, StringComparison.Ordinal);
        log.Report($"Starting the IDE{(plan.RemoteUser is null ? string.Empty : $" as {plan.RemoteUser}")}.");
        // Started before the clone is in place, possibly: in the folder when it is there (a start again), else at home.
        await runtime.ExecAsync(
            workspaceId,
            new ExecRequest(["/bin/sh", "-c", "cd -- \"$1\" 2>/dev/null || cd; " + command, "cde-ide", folder], remoteEnv, User: plan.RemoteUser, Detached: true),
            log,
            cancellationToken);

        var deadline = time.GetUtcNow() + Options.IdeStartTimeout;
        while (!await runtime.ProbeIdeAsync(workspaceId, cancellationToken))
        {
            if (time.GetUtcNow() > deadline)
            {
                throw new WorkspaceRuntimeException(
                    $"The IDE did not answer on port {Options.IdePort} within {Options.IdeStartTimeout.TotalSeconds:0} s.", isPermanent: false);
            }

            await Task.Delay(ProbeInterval, time, cancellationToken);
        }
    }

    /// <summary>Puts the repository's clone in the workspace folder, unless one is there already (then true). The launch's
    /// one clone, made by the prepare instance in the workspace's folder volume while devcontainer.json was read, is
    /// moved into place; where there is none (a runtime that cannot share volumes, a launch from a prebuild), the
    /// repository is cloned here. Either way the clone goes through a staging folder beside the workspace folder and
    /// takes its place only once complete: a clone cut short (a crash, a stop, a deadline) leaves a staging folder the
    /// next attempt starts afresh, never a half checkout that would pass for done.</summary>
    private async Task<bool> CloneAsync(
        string workspaceId, WorkspaceSpec spec, RepositoryUrl repository, WorkspacePlan plan, IProgress<string> log, CancellationToken cancellationToken)
    {
        var folder = plan.WorkspaceFolder.TrimEnd('/');
        var name = folder[(folder.LastIndexOf('/') + 1)..];
        var staging = folder[..(folder.Length - name.Length)] + ".cde-clone-" + name;
        var user = plan.RemoteUser is { } u && !IsRoot(u) ? u : null;
        var checkout = runtime.WorkspaceVolumePath is { } volume ? $"{volume.TrimEnd('/')}/{ContainerCheckout.InPlaceFolder}" : string.Empty;

        switch (await PlaceAsync(workspaceId, folder, staging, checkout, user, adopt: true, cancellationToken))
        {
            case Placement.Present:
                return true;
            case Placement.Placed:
                log.Report($"Moved the checkout of {spec.RepoUrl} into {folder}.");
                return false;
        }

        await CloneIntoAsync(workspaceId, spec, repository, plan, staging, user, log, cancellationToken);
        await PlaceAsync(workspaceId, folder, staging, checkout, user, adopt: false, cancellationToken);
        return false;
    }

    private enum Placement
    {
        Placed = 0,
        NoCheckout = 3,
        Occupied = 4,
        Present = 10,
    }

    /// <summary>One exec as root (the folder may lie where only root can write): a folder holding a clone already is left
    /// alone (and a checkout left in the volume removed); else, with <paramref name="adopt"/>, the checkout in the volume
    /// is handed to the user and moved to the staging folder; then the staging folder takes the workspace folder's
    /// place (an empty folder made by the image or an earlier attempt goes). The user owns the volume's top folder, so
    /// a checkout that is a link (theirs, not the prepare container's) is not taken: root follows no link of theirs.</summary>
    private async Task<Placement> PlaceAsync(
        string workspaceId, string folder, string staging, string checkout, string? user, bool adopt, CancellationToken cancellationToken)
    {
        const string Script = """
            f="$1"; s="$2"; c="$3"; u="$4"; m="$5"
            if [ -e "$f/.git" ]; then [ -z "$c" ] || rm -rf -- "$c"; exit 10; fi
            if [ "$m" = adopt ]; then
              { [ -n "$c" ] && [ ! -L "$c" ] && [ -d "$c/.git" ]; } || exit 3
              rm -rf -- "$s" && mkdir -p -- "$(dirname -- "$s")" && { [ -z "$u" ] || chown -R -- "$u" "$c"; } && mv -T -- "$c" "$s" || exit 1
            fi
            rmdir -- "$f" 2>/dev/null
            if [ -e "$f" ]; then rm -rf -- "$s"; exit 4; fi
            mv -T -- "$s" "$f"
            """;
        var result = await runtime.ExecAsync(
            workspaceId,
            new ExecRequest(["/bin/sh", "-c", Script, "cde-place", folder, staging, checkout, user ?? string.Empty, adopt ? "adopt" : "place"], User: "0"),
            NullProgress.Instance,
            cancellationToken);
        return (Placement)result.ExitCode switch
        {
            Placement.Placed => Placement.Placed,
            Placement.Present => Placement.Present,
            Placement.NoCheckout when adopt => Placement.NoCheckout,

            // Files the image (or the user) put there without a .git: a clone would mix with them, and retrying cannot help.
            Placement.Occupied => throw new WorkspaceRuntimeException(
                $"The workspace folder {folder} already holds files that are not a clone of the repository; choose another workspaceFolder.",
                isPermanent: true),
            _ => throw new WorkspaceRuntimeException($"Putting the checkout in {folder} failed (exit {result.ExitCode}): {result.OutputTail.Trim()}", isPermanent: false),
        };
    }

    private async Task CloneIntoAsync(
        string workspaceId, WorkspaceSpec spec, RepositoryUrl repository, WorkspacePlan plan, string staging, string? user, IProgress<string> log, CancellationToken cancellationToken)
    {
        var folder = plan.WorkspaceFolder.TrimEnd('/');

        // As root: the folder may lie where only root can write (a workspaceFolder outside /workspaces, or an image
        // whose /workspaces the user does not own). The staging folder is the user's, so the clone is theirs.
        await RootAsync(workspaceId,
            ["/bin/sh", "-c", "rm -rf -- \"$1\" && mkdir -p -- \"$1\" && { [ -z \"$2\" ] || chown -- \"$2\" \"$1\"; }", "cde-stage", staging, user ?? string.Empty],
            cancellationToken);

        if (repository.LocalPath is not null)
        {
            // A repository on this host never reaches the workspace itself: its clone, made elsewhere, does.
            await ContainerCheckout.Create(runtime, provisioningOptions.Value, Options, logger)
                .CopyIntoAsync(workspaceId, spec, repository, staging, user, log, cancellationToken);
        }
        else
        {
            var clone = GitClone.Command(repository, spec.Ref, staging);
            log.Report($"Cloning {spec.RepoUrl}{(spec.Ref is null ? string.Empty : $" at {spec.Ref}")} into {folder}.");
            var result = await runtime.ExecAsync(workspaceId, new ExecRequest(clone, GitClone.Environment, User: plan.RemoteUser), log, cancellationToken);
            if (result.ExitCode != 0)
            {
                await RootAsync(workspaceId, ["rm", "-rf", "--", staging], CancellationToken.None);
                LogCloneFailed(workspaceId, result.ExitCode);
                throw GitClone.Failure(result);
            }
        }
    }

    private async Task RootAsync(string workspaceId, List<string> command, CancellationToken cancellationToken, bool allowFailure = false)
    {
        var result = await runtime.ExecAsync(workspaceId, new ExecRequest(command, User: "0"), NullProgress.Instance, cancellationToken);
        if (result.ExitCode != 0 && !allowFailure)
        {
            throw new WorkspaceRuntimeException($"Preparing the workspace folder failed (exit {result.ExitCode}): {result.OutputTail.Trim()}", isPermanent: false);
        }
    }

    private static CompanionSpec Companion(PlannedCompanion c) => new(
        c.Name,
        c.Image,
        c.Entrypoint,
        c.Command,
        c.Environment,
        [.. c.Volumes.Select(v => new InstanceMount(v.Name, v.Target, v.ReadOnly, v.Tmpfs ? InstanceMountKind.Tmpfs : InstanceMountKind.Volume))],
        c.User,
        c.WorkingDirectory,
        c.CapAdd,
        c.SecurityOptions,
        c.ShmSizeBytes,
        c.HealthTest is { Count: > 0 } test ? new CompanionHealthcheck(test, c.HealthInterval, c.HealthTimeout, c.HealthStartPeriod, c.HealthRetries) : null,
        c.After,
        c.Files,
        c.RestartOnFailure);

    public static string WorkspaceFolder(RepositoryUrl repository) => $"/workspaces/{repository.Name}";

    private WorkspacePlan DefaultPlan(RepositoryUrl repository, ImageResolution? image) =>
        WorkspacePlan.Default(
            WorkspaceFolder(repository),
            image?.Image == Options.FallbackImage ? provisioningOptions.Value.FallbackImageUser : null);

    private static bool IsRoot(string user) => user is "root" or "0" || user.StartsWith("root:", StringComparison.Ordinal) || user.StartsWith("0:", StringComparison.Ordinal);

    /// <summary>For the plan, and for workspaces whose plan predates keeping the parsed URL in it.</summary>
    private RepositoryUrl ParseRepository(WorkspaceSpec spec) =>
        RepositoryUrl.TryParse(spec.RepoUrl, Options.LocalRepoRoots, out var url, out var error)
            ? url!
            : throw new WorkspaceFailure($"The repository URL is no longer allowed: {error}", keepInstanceRunning: false);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Workspace {WorkspaceId}: git clone failed with exit code {ExitCode}")]
    private partial void LogCloneFailed(string workspaceId, int exitCode);
}
