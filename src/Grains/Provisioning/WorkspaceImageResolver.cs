using System.Security.Cryptography;
using System.Text;
using CloudDevEnv.Contracts.Prebuilds;
using CloudDevEnv.DevContainers;
using CloudDevEnv.Grains.Workspaces;

namespace CloudDevEnv.Grains.Provisioning;

/// <summary>The Building step: picks the workspace's image, in order — the image in the request, a prebuild
/// registered for the repository and ref, the repository's devcontainer.json (<c>image</c>, or
/// <c>build.dockerfile</c> built by the engine), the fallback image — and records why earlier sources were passed
/// over. devcontainer.json is read whatever the image source, since its env, user, folder and hooks still apply.</summary>
/// <remarks>
/// Where devcontainer.json is read: from a checkout made in a short-lived prepare container (<see cref="ContainerCheckout"/>),
/// so that the control plane never fetches from arbitrary hosts on its own network nor runs git on untrusted input
/// itself. Only <c>.devcontainer/</c> and <c>.devcontainer.json</c> come out to this host, unless the configuration
/// reaches beyond them; the clone itself stays in the workspace's folder volume, the launch's only clone.
/// When devcontainer.json names no user, the image's own is asked (<see cref="ImageUsers"/>).
/// </remarks>
public sealed partial class WorkspaceImageResolver(
    IWorkspaceRuntime runtime,
    IGrainFactory grains,
    IOptions<WorkspaceOptions> workspaceOptions,
    IOptions<ProvisioningOptions> provisioningOptions,
    IOptions<DevContainerPolicyOptions> policy,
    Features.FeatureInstaller features,
    ILogger<WorkspaceImageResolver> logger)
{
    private WorkspaceOptions Options => workspaceOptions.Value;

    /// <param name="usePrebuild">False for the build of a prebuild, which must not start from an older one.</param>
    public async Task<ResolvedLaunch> ResolveAsync(
        string workspaceId, WorkspaceSpec spec, RepositoryUrl repository, IProgress<string> log, CancellationToken cancellationToken, bool usePrebuild = true)
    {
        List<string> notes = [];
        RepositorySnapshot? snapshot = null;
        PreparedCheckout? checkout = null;
        try
        {
            // A clone refused here fails the workspace with git's message. A launch's clone is its only one: made in
            // the workspace's folder volume, where the workspace takes it. The build of a prebuild (whose instance has
            // no volume, so that its image keeps the checkout) clones again in its instance.
            checkout = await ContainerCheckout.Create(runtime, provisioningOptions.Value, Options, logger)
                .OpenAsync(workspaceId, spec, repository, "Reading devcontainer.json", inPlace: usePrebuild, log, cancellationToken);
            snapshot = await checkout.ReadConfigurationAsync(repository.Name, log);
            DevContainerConfig? config;
            bool whole;
            try
            {
                config = Load(workspaceId, snapshot.Folder, repository.Name, spec.DevContainerPath, policy.Value.ToPolicy());
                whole = snapshot.IsPartial && config is not null && ReachesBeyondConfiguration(config, snapshot.Folder);
            }
            catch (WorkspaceFailure) when (snapshot.IsPartial)
            {
                // A Dockerfile or compose file outside .devcontainer/ is not in what was read: read with everything,
                // where a configuration that is really wrong fails with its own message.
                (config, whole) = (null, true);
            }

            if (whole)
            {
                // A build context or compose file outside .devcontainer/: the rest of the checkout is needed here.
                snapshot.Dispose();
                snapshot = await checkout.ReadAllAsync(repository.Name, log);
                config = Load(workspaceId, snapshot.Folder, repository.Name, spec.DevContainerPath, policy.Value.ToPolicy());
            }

            if (config is null)
            {
                notes.Add("the repository has no devcontainer.json");
            }
            else
            {
                log.Report($"Read {config.Location.RelativePath}.");
                foreach (var setting in config.LeftOut)
                {
                    log.Report($"{config.Location.RelativePath}: {setting} (Workspaces:DevContainerPolicy).");
                }

                NoteWhatIsNotApplied(config, notes);
            }

            Compose.ComposeLaunch? compose = null;
            if (config?.Compose is not null)
            {
                compose = runtime.RunsCompanions
                    ? Compose.ComposeLaunch.Read(config, snapshot!.Folder, policy.Value.ToPolicy(), notes)
                    : throw new WorkspaceFailure(
                        $"{config.Location.RelativePath} is a Docker Compose configuration, which runs on the Docker runtime only: the {runtime.Name} runtime runs one container per workspace. Use a devcontainer.json with an image or a Dockerfile.",
                        keepInstanceRunning: false);
            }

            if (!usePrebuild)
            {
                notes.Add("prebuilds are not used: this builds one");
            }

            var (image, source, build) = await ChooseAsync(spec, config, compose, notes, usePrebuild);
            if (source == ImageSource.Prebuild)
            {
                // The prebuild's image holds its checkout (and what its hooks made): the volume must be empty for it.
                await checkout.DiscardAsync();
            }

            // Everything is read: the prepare instance goes while the image is pulled or built.
            checkout.Release();
            log.Report($"Using image {image} ({source}).");
            PreparedImage prepared;
            try
            {
                prepared = await runtime.PrepareImageAsync(new ImageRequest(image, build), log, cancellationToken);
            }
            catch (WorkspaceRuntimeException e) when (source == ImageSource.Prebuild)
            {
                // A registry that is down, or a prebuild deleted from it, must not keep anyone from working: the launch
                // goes on as it would without the prebuild (slower), and says why.
                var reason = $"the prebuild {image} could not be pulled, so it is not used: {e.Message}";
                log.Report($"The prebuild {image} could not be pulled ({e.Message}); going on without it.");
                notes.Add(reason);
                (image, source, build) = await ChooseAsync(spec, config, compose, notes, usePrebuild: false);
                log.Report($"Using image {image} ({source}).");
                prepared = await runtime.PrepareImageAsync(new ImageRequest(image, build), log, cancellationToken);
            }

            var users = await ImageUsersAsync(image, prepared.Image, config, notes, cancellationToken);
            IReadOnlyList<DevContainers.Features.ResolvedFeature> installed = [];
            if (config is { Features.Count: > 0 })
            {
                if (source == ImageSource.Prebuild)
                {
                    notes.Add("the features come with the prebuild, which installed them");
                }
                else
                {
                    // The users the features install for, as the spec defines them: remoteUser, else containerUser, else the image's.
                    var containerUser = config.ContainerUser ?? config.RunOptions.User ?? users.ContainerUser;
                    var remoteUser = config.RemoteUser ?? containerUser ?? users.RemoteUser;
                    var result = await features.InstallAsync(spec.Owner, config, prepared.Image, remoteUser, containerUser, log, cancellationToken);
                    prepared = result.Image;
                    installed = result.Features;
                    notes.AddRange(result.Notes);
                }
            }

            // The IDE customizations the image carries (a prebuilt dev container image's, the installed features'):
            // an image without devcontainer.json still asks for its extensions.
            var inspected = await runtime.InspectImageAsync(prepared.Image, cancellationToken);
            var ide = VsCodeCustomizations.FromMetadataLabel(inspected?.Labels.GetValueOrDefault(ImageUsers.MetadataLabel)).ToList();
            var plan = config is null
                ? WorkspacePlan.Default(WorkspaceProvisioner.WorkspaceFolder(repository), users.RemoteUser, users.ContainerUser) with
                {
                    IdeSettings = VsCodeCustomizations.Merge(ide).Settings,
                    IdeExtensions = [.. VsCodeCustomizations.Merge(ide).Extensions],
                }
                : DevContainerPlanner.Plan(config, users, installed, ide);
            if (compose is not null)
            {
                var companions = await compose.PrepareAsync(
                    runtime,
                    name => ImagePolicy.Refusal(name, spec.Owner, Options, provisioningOptions.Value),
                    async b => ImagePolicy.BuildTag(provisioningOptions.Value, spec.Owner, await BuildHashAsync(b.ContextPath, b.DockerfileInContext, b.Args, b.Target)),
                    snapshot!.Folder,
                    log,
                    cancellationToken);
                plan = compose.Apply(plan, companions);
            }
            var resolution = new ImageResolution(prepared.Image, source, [.. notes], inspected?.Digest);
            if (resolution.Digest is { } digest && source == ImageSource.Prebuild)
            {
                log.Report($"Starting from the prebuild {digest}.");
            }

            LogResolved(workspaceId, resolution.Image, source, plan.ConfigPath);
            return new ResolvedLaunch(resolution, plan, ConfigHash(config));
        }
        catch when (checkout is not null)
        {
            // Failed before the workspace exists (an invalid devcontainer.json, a build that fails): nothing of it stays.
            await checkout.AbandonAsync();
            throw;
        }
        finally
        {
            snapshot?.Dispose();
            if (checkout is not null)
            {
                await checkout.DisposeAsync();
            }
        }
    }

    /// <summary>True when devcontainer.json reads files outside <c>.devcontainer/</c>: a build context elsewhere (e.g.
    /// <c>"context": ".."</c>), a compose configuration (its files and contexts may be anywhere), local features of a
    /// <c>.devcontainer.json</c> at the root.</summary>
    private static bool ReachesBeyondConfiguration(DevContainerConfig config, string folder)
    {
        var read = Path.Combine(folder, ".devcontainer") + Path.DirectorySeparatorChar;
        bool Inside(string path) => (Path.GetFullPath(path) + Path.DirectorySeparatorChar).StartsWith(read, StringComparison.Ordinal);
        return config.Compose is not null
            || config.Build is { } build && !Inside(build.ContextPath)
            || !Inside(config.Location.ConfigFolder) && config.Features.Keys.Any(k => k.StartsWith("./", StringComparison.Ordinal));
    }

    private async Task<(string Image, ImageSource Source, ImageBuild? Build)> ChooseAsync(
        WorkspaceSpec spec, DevContainerConfig? config, Compose.ComposeLaunch? compose, List<string> notes, bool usePrebuild)
    {
        if (spec.Image is { } requested)
        {
            return (requested, ImageSource.Request, null);
        }

        if (usePrebuild)
        {
            notes.Insert(0, "no image was named in the request");
            if (await PrebuildAsync(spec, config, notes) is { } prebuilt)
            {
                return (prebuilt, ImageSource.Prebuild, null);
            }
        }

        if (config?.Build is { } build)
        {
            var tag = ImagePolicy.BuildTag(provisioningOptions.Value, spec.Owner, await BuildHashAsync(build.ContextPath, build.DockerfileInContext, build.Args, build.Target));
            return (tag, ImageSource.DevContainerBuild, new ImageBuild(build.ContextPath, build.DockerfileInContext, build.Args, build.Target));
        }

        // A compose configuration: the image of the service the workspace is.
        if (compose?.Workspace.Build is { } composeBuild)
        {
            var tag = ImagePolicy.BuildTag(provisioningOptions.Value, spec.Owner,
                await BuildHashAsync(composeBuild.ContextPath, composeBuild.DockerfileInContext, composeBuild.Args, composeBuild.Target));
            return (tag, ImageSource.DevContainerBuild, new ImageBuild(composeBuild.ContextPath, composeBuild.DockerfileInContext, composeBuild.Args, composeBuild.Target));
        }

        if (compose?.Workspace.Image is { } composeImage)
        {
            if (ImagePolicy.Refusal(composeImage, spec.Owner, Options, provisioningOptions.Value) is { } refusal)
            {
                throw new WorkspaceFailure($"The service {compose.Workspace.Name} names an image this workspace may not run: {refusal}", keepInstanceRunning: false);
            }

            return (composeImage, ImageSource.DevContainerImage, null);
        }

        if (config?.Image is { } image)
        {
            if (ImagePolicy.Refusal(image, spec.Owner, Options, provisioningOptions.Value) is { } refusal)
            {
                throw new WorkspaceFailure($"{config.Location.RelativePath} names an image this workspace may not run: {refusal}", keepInstanceRunning: false);
            }

            return (image, ImageSource.DevContainerImage, null);
        }

        if (config is not null)
        {
            notes.Add($"{config.Location.RelativePath} names neither image, build.dockerfile nor dockerComposeFile");
        }

        return (Options.FallbackImage, ImageSource.Fallback, null);
    }

    /// <summary>The image of the prebuild registered for the launch's repository and ref, or null (and a note saying why)
    /// when there is none or it may not be used.</summary>
    private async Task<string?> PrebuildAsync(WorkspaceSpec spec, DevContainerConfig? config, List<string> notes)
    {
        var at = spec.Ref is null ? "the default branch" : spec.Ref;
        if (await grains.GetGrain<IPrebuildRegistryGrain>(spec.RepoUrl).FindAsync(spec.Ref) is not { } prebuild)
        {
            notes.Insert(1, $"no prebuild is registered for {spec.RepoUrl} at {at}");
        }
        else if (prebuild.ConfigHash is { } built && built != ConfigHash(config))
        {
            // Stale: the repository's devcontainer.json changed since the prebuild, whose image would not match it.
            notes.Insert(1, $"the prebuild {prebuild.Image} was built from another devcontainer.json than {config?.Location.RelativePath ?? "the repository's (it has none)"} at {at}");
        }
        else if (ImagePolicy.Refusal(prebuild.Image, spec.Owner, Options, provisioningOptions.Value) is { } refusal)
        {
            notes.Insert(1, $"the prebuild registered for {at} is not used: {refusal}");
        }
        else
        {
            return prebuild.Image;
        }

        return null;
    }

    /// <summary>The users the image asks for, unless devcontainer.json names one (then it wins, and the image is not
    /// asked). The fallback image's is configured (<see cref="ProvisioningOptions.FallbackImageUser"/>).</summary>
    private async Task<ImageUsers> ImageUsersAsync(
        string image, string prepared, DevContainerConfig? config, List<string> notes, CancellationToken cancellationToken)
    {
        if (config is not null && (config.RemoteUser ?? config.ContainerUser ?? config.RunOptions.User) is not null)
        {
            return ImageUsers.None;
        }

        if (image == Options.FallbackImage)
        {
            return new ImageUsers(null, provisioningOptions.Value.FallbackImageUser);
        }

        if (await runtime.InspectImageAsync(prepared, cancellationToken) is not { } info)
        {
            return ImageUsers.None;
        }

        var users = ImageUsers.From(info, out var problem);
        if (problem is not null)
        {
            notes.Add(problem);
        }

        return users;
    }

    /// <summary>Says in the status what devcontainer.json asks for that this platform does not do.</summary>
    private static void NoteWhatIsNotApplied(DevContainerConfig config, List<string> notes)
    {
        // Outside the platform's policy: the workspace runs without them, and says so.
        notes.AddRange(config.LeftOut.Select(setting => setting.ToString()));
        var run = config.RunOptions;
        List<string> decidedHere =
        [
            .. run.MemoryBytes is null ? [] : new[] { "--memory" },
            .. run.Cpus is null ? [] : new[] { "--cpus" },
            .. run.Hostname is null ? [] : new[] { "--hostname" },
            .. run.Labels.Count == 0 ? [] : new[] { "--label" },
            .. run.ExtraHosts.Count == 0 ? [] : new[] { "--add-host" },
            .. run.IgnoredArguments,
        ];
        if (decidedHere.Count > 0)
        {
            notes.Add($"runArgs {string.Join(", ", decidedHere.Distinct().Select(a => $"'{a}'"))} are not applied: the platform decides them (the machine class sets CPUs and memory)");
        }

        if (config.PostAttachCommand is not null)
        {
            // Codespaces runs it whenever a client attaches; the web IDE here attaches on every page load and the
            // platform sees no attach event, so running it once per start would pretend to a semantics it lacks.
            notes.Add("postAttachCommand is not run (there is no attach event to run it on); use postStartCommand for what must run on every start");
        }

        foreach (var mount in config.Mounts.Where(m => m.Type == DevContainerMountType.Tmpfs))
        {
            notes.Add($"the tmpfs mount at {mount.Target} is not applied (only volume mounts are)");
        }
    }

    /// <summary>The prebuild fingerprint of the devcontainer.json used, or null without one.</summary>
    private static string? ConfigHash(DevContainerConfig? config) =>
        config is null ? null : PrebuildConfigHash.Of(File.ReadAllBytes(config.Location.ConfigFilePath));

    private static DevContainerConfig? Load(string workspaceId, string folder, string repositoryName, string? path, DevContainerPolicy policy)
    {
        var context = new LocalContext
        {
            Policy = policy,
            // The default workspace folder is /workspaces/<basename>: make it the repository's name, not the scratch folder's.
            LocalWorkspaceFolder = Path.Combine(Path.GetDirectoryName(folder) ?? folder, repositoryName),
            IdLabels = new Dictionary<string, string>(StringComparer.Ordinal) { [RuntimeLabels.WorkspaceId] = workspaceId },
        };
        try
        {
            return path is null
                ? DevContainerConfigLoader.Load(folder, context)
                : DevContainerConfigLoader.Load(DevContainerConfigLoader.LocatePath(folder, path), context);
        }
        catch (DevContainerConfigException e)
        {
            // The message names the file, line and column, e.g. ".devcontainer/devcontainer.json:3:5: expected ','".
            throw new WorkspaceFailure(
                path is null ? $"devcontainer.json is invalid: {e.Message}" : $"The devcontainer.json asked for (devcontainerPath {path}) cannot be used: {e.Message}",
                keepInstanceRunning: false);
        }
    }

    /// <summary>A content hash of the build's inputs: the same Dockerfile, context, args and target reuse the image
    /// built before (the engine's layer cache covers near misses). The context is the checkout brought out of the prepare
    /// instance, so it holds no links or special files; the walk follows none anyway, and reads at most
    /// <paramref name="maxBytes"/>.</summary>
    /// <summary><see cref="BuildHash"/> off the grain's thread: a context of many megabytes is read from disk, and the
    /// silo's scheduler threads serve every other grain meanwhile.</summary>
    private Task<string> BuildHashAsync(string contextPath, string dockerfileInContext, IReadOnlyDictionary<string, string> args, string? target)
    {
        var maxBytes = provisioningOptions.Value.MaxCheckoutBytes;
        return Task.Run(() => BuildHash(contextPath, dockerfileInContext, args, target, maxBytes));
    }

    private static string BuildHash(string contextPath, string dockerfileInContext, IReadOnlyDictionary<string, string> args, string? target, long maxBytes)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        void Add(string text)
        {
            hash.AppendData(Encoding.UTF8.GetBytes(text));
            hash.AppendData([0]);
        }

        Add(dockerfileInContext);
        Add(target ?? string.Empty);
        foreach (var (name, value) in args.OrderBy(kv => kv.Key, StringComparer.Ordinal))
        {
            Add(name);
            Add(value);
        }

        var read = 0L;
        var buffer = new byte[81920];
        foreach (var file in RegularFiles(new DirectoryInfo(contextPath), string.Empty))
        {
            Add(file.Relative);
            using var stream = file.Info.OpenRead();
            int n;
            while ((n = stream.Read(buffer)) > 0)
            {
                read += n;
                if (read > maxBytes)
                {
                    throw new WorkspaceFailure(
                        $"The build context is larger than {maxBytes} bytes (Provisioning:MaxCheckoutBytes).", keepInstanceRunning: false);
                }

                hash.AppendData(buffer, 0, n);
            }
        }

        return Convert.ToHexStringLower(hash.GetHashAndReset())[..20];
    }

    /// <summary>The regular files below a folder in ordinal order of their relative paths, never through a link.</summary>
    private static IEnumerable<(string Relative, FileInfo Info)> RegularFiles(DirectoryInfo folder, string prefix)
    {
        foreach (var entry in folder.EnumerateFileSystemInfos().OrderBy(e => e.Name, StringComparer.Ordinal))
        {
            var relative = prefix + entry.Name;
            if (entry.LinkTarget is not null || entry.Attributes.HasFlag(FileAttributes.ReparsePoint) || relative == ".git")
            {
                continue;
            }

            if (entry is DirectoryInfo directory)
            {
                foreach (var file in RegularFiles(directory, relative + "/"))
                {
                    yield return file;
                }
            }
            else if (entry is FileInfo file)
            {
                yield return (relative, file);
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Workspace {WorkspaceId}: image {Image} from {Source} (config {ConfigPath})")]
    private partial void LogResolved(string workspaceId, string image, ImageSource source, string? configPath);
}
