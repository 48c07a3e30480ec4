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
/// Where devcontainer.json is read: for file:// repositories from a shallow snapshot on this host at the ref
/// (<see cref="RepositorySnapshot"/>). For remote repositories it is not read yet. The intended design is a shallow,
/// sparse clone of just <c>.devcontainer/</c> (plus the build context when a Dockerfile needs it) inside a
/// short-lived container from the base image, so that the control plane never fetches from arbitrary hosts on its own
/// network and never runs git on untrusted input in its own process; it needs a runtime operation for a throw-away
/// container, and containers here have no network to test it with. Cloning in the workspace first and rebuilding was
/// the alternative: it pays for a container created twice on every launch that names an image. Until then the status
/// says so in its notes and the launch uses the fallback image.
/// </remarks>
public sealed partial class WorkspaceImageResolver(
    IWorkspaceRuntime runtime,
    IGrainFactory grains,
    IOptions<WorkspaceOptions> workspaceOptions,
    IOptions<ProvisioningOptions> provisioningOptions,
    ILogger<WorkspaceImageResolver> logger)
{
    private WorkspaceOptions Options => workspaceOptions.Value;

    public async Task<ResolvedLaunch> ResolveAsync(
        string workspaceId, WorkspaceSpec spec, RepositoryUrl repository, IProgress<string> log, CancellationToken cancellationToken)
    {
        List<string> notes = [];
        RepositorySnapshot? snapshot = null;
        try
        {
            DevContainerConfig? config = null;
            if (repository.LocalPath is null)
            {
                notes.Add("devcontainer.json of a remote repository is not read (only file:// repositories' are, so far)");
            }
            else
            {
                var (taken, error) = await RepositorySnapshot.TakeAsync(repository, spec.Ref, cancellationToken);
                snapshot = taken;
                if (snapshot is null)
                {
                    // Not fatal here: the clone in the container fails with git's own message, which the user expects.
                    notes.Add($"devcontainer.json could not be read: git could not check out {spec.Ref ?? "the default branch"}: {error}");
                }
                else
                {
                    config = Load(workspaceId, snapshot.Folder, repository.Name);
                    if (config is null)
                    {
                        notes.Add("the repository has no devcontainer.json");
                    }
                    else
                    {
                        log.Report($"Read {config.Location.RelativePath}.");
                    }
                }
            }

            var (image, source, build) = await ChooseAsync(spec, config, notes);
            log.Report($"Using image {image} ({source}).");
            var prepared = await runtime.PrepareImageAsync(new ImageRequest(image, build), log, cancellationToken);
            var resolution = new ImageResolution(prepared.Image, source, [.. notes]);
            var imageUser = image == Options.FallbackImage ? provisioningOptions.Value.FallbackImageUser : null;
            var plan = config is null
                ? WorkspacePlan.Default(WorkspaceProvisioner.WorkspaceFolder(repository), imageUser)
                : DevContainerPlanner.Plan(config, imageUser);
            LogResolved(workspaceId, resolution.Image, source, plan.ConfigPath);
            return new ResolvedLaunch(resolution, plan);
        }
        finally
        {
            snapshot?.Dispose();
        }
    }

    private async Task<(string Image, ImageSource Source, ImageBuild? Build)> ChooseAsync(
        WorkspaceSpec spec, DevContainerConfig? config, List<string> notes)
    {
        if (spec.Image is { } requested)
        {
            return (requested, ImageSource.Request, null);
        }

        notes.Insert(0, "no image was named in the request");
        var key = PrebuildKey.For(spec.RepoUrl, spec.Ref);
        if (await grains.GetGrain<IPrebuildRegistryGrain>(key).GetAsync() is { } prebuild)
        {
            return (prebuild.Image, ImageSource.Prebuild, null);
        }

        notes.Insert(1, $"no prebuild is registered for {key}");
        if (config?.Build is { } build)
        {
            var tag = $"{provisioningOptions.Value.BuildImagePrefix}/{BuildHash(build)}";
            return (tag, ImageSource.DevContainerBuild, new ImageBuild(build.ContextPath, build.DockerfileInContext, build.Args, build.Target));
        }

        if (config?.Image is { } image)
        {
            return (image, ImageSource.DevContainerImage, null);
        }

        if (config is not null)
        {
            notes.Add($"{config.Location.RelativePath} names neither image nor build.dockerfile (Docker Compose is not supported)");
        }

        return (Options.FallbackImage, ImageSource.Fallback, null);
    }

    private static DevContainerConfig? Load(string workspaceId, string folder, string repositoryName)
    {
        var context = new LocalContext
        {
            // The default workspace folder is /workspaces/<basename>: make it the repository's name, not the scratch folder's.
            LocalWorkspaceFolder = Path.Combine(Path.GetDirectoryName(folder) ?? folder, repositoryName),
            IdLabels = new Dictionary<string, string>(StringComparer.Ordinal) { [RuntimeLabels.WorkspaceId] = workspaceId },
        };
        try
        {
            return DevContainerConfigLoader.Load(folder, context);
        }
        catch (DevContainerConfigException e)
        {
            // The message names the file, line and column, e.g. ".devcontainer/devcontainer.json:3:5: expected ','".
            throw new WorkspaceFailure($"devcontainer.json is invalid: {e.Message}", keepInstanceRunning: false);
        }
    }

    /// <summary>A content hash of the build's inputs: the same Dockerfile, context, args and target reuse the image
    /// built before (the engine's layer cache covers near misses).</summary>
    private static string BuildHash(DevContainerBuild build)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        void Add(string text)
        {
            hash.AppendData(Encoding.UTF8.GetBytes(text));
            hash.AppendData([0]);
        }

        Add(build.DockerfileInContext);
        Add(build.Target ?? string.Empty);
        foreach (var (name, value) in build.Args.OrderBy(kv => kv.Key, StringComparer.Ordinal))
        {
            Add(name);
            Add(value);
        }

        var files = Directory.EnumerateFiles(build.ContextPath, "*", SearchOption.AllDirectories)
            .Select(f => Path.GetRelativePath(build.ContextPath, f).Replace('\\', '/'))
            .Where(f => f != ".git" && !f.StartsWith(".git/", StringComparison.Ordinal))
            .Order(StringComparer.Ordinal);
        foreach (var file in files)
        {
            Add(file);
            hash.AppendData(File.ReadAllBytes(Path.Combine(build.ContextPath, file)));
        }

        return Convert.ToHexStringLower(hash.GetHashAndReset())[..20];
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Workspace {WorkspaceId}: image {Image} from {Source} (config {ConfigPath})")]
    private partial void LogResolved(string workspaceId, string image, ImageSource source, string? configPath);
}
