using System.Formats.Tar;
using System.Security.Cryptography;
using System.Text;
using CloudDevEnv.DevContainers;
using CloudDevEnv.DevContainers.Compose;

namespace CloudDevEnv.Grains.Provisioning.Compose;

/// <summary>A Docker Compose configuration as a workspace runs it: the service devcontainer.json names is the
/// workspace's own container (its image, environment, user, volumes), the services it starts (<c>runServices</c>, or
/// all, with whatever they depend on) run beside it as companions in its network namespace, as a pod's containers
/// do. What the files ask that the platform does otherwise is said in the notes.</summary>
internal sealed class ComposeLaunch
{
    /// <summary>The largest copy of repository files a compose file bind-mounts into a companion (init scripts, configuration).</summary>
    private const long MaxCopiedBytes = 8L * 1024 * 1024;

    private ComposeLaunch(DevContainerConfig config, ComposeProject project, ComposeService workspace, List<ComposeService> companions)
    {
        Config = config;
        Project = project;
        Workspace = workspace;
        Companions = companions;
    }

    public DevContainerConfig Config { get; }

    public ComposeProject Project { get; }

    public ComposeService Workspace { get; }

    public IReadOnlyList<ComposeService> Companions { get; }

    /// <exception cref="WorkspaceFailure">The compose files cannot be used; the message says where and why.</exception>
    public static ComposeLaunch Read(DevContainerConfig config, string repositoryFolder, DevContainerPolicy policy, List<string> notes)
    {
        var compose = config.Compose!;
        ComposeProject project;
        try
        {
            project = ComposeProject.Load(compose, repositoryFolder, policy);
        }
        catch (ComposeFileException e)
        {
            throw new WorkspaceFailure($"The Docker Compose configuration of {config.Location.RelativePath} cannot be used: {e.Message}", keepInstanceRunning: false);
        }

        var files = string.Join(", ", compose.Files.Select(f => Path.GetRelativePath(repositoryFolder, f).Replace('\\', '/')));
        if (!project.Services.TryGetValue(compose.Service, out var workspace))
        {
            throw new WorkspaceFailure($"{config.Location.RelativePath} names the service '{compose.Service}', which is not in {files} (services: {string.Join(", ", project.Services.Keys)})", keepInstanceRunning: false);
        }

        if (workspace.Image is null && workspace.Build is null)
        {
            throw new WorkspaceFailure($"The service '{compose.Service}' in {files} has neither image nor build", keepInstanceRunning: false);
        }

        foreach (var unknown in (compose.RunServices ?? []).Where(s => !project.Services.ContainsKey(s)))
        {
            throw new WorkspaceFailure($"{config.Location.RelativePath} runServices names '{unknown}', which is not a service in {files}", keepInstanceRunning: false);
        }

        // As `docker compose up <services>`: the ones named (all without a profile when none are), and what they need.
        var started = new List<string>();
        void Start(string name)
        {
            if (started.Contains(name))
            {
                return;
            }

            started.Add(name);
            foreach (var dependency in project.Services[name].DependsOn)
            {
                Start(dependency.Service);
            }
        }

        foreach (var name in compose.RunServices ?? [.. project.Services.Values.Where(s => s.Profiles.Count == 0).Select(s => s.Name)])
        {
            Start(name);
        }

        Start(compose.Service);
        foreach (var skipped in project.Services.Keys.Except(started).Order(StringComparer.Ordinal))
        {
            notes.Add($"the service {skipped} is not started ({(compose.RunServices is null ? "it has a profile" : "it is not in runServices")})");
        }

        notes.AddRange(project.LeftOut.Select(l => l.ToString()));
        notes.AddRange(project.NotApplied);
        if (compose.ShutdownAction == "none")
        {
            notes.Add("shutdownAction \"none\" is not applied: the services stop when the workspace stops");
        }

        if (workspace.Command is not null || workspace.Entrypoint is not null)
        {
            notes.Add($"services.{workspace.Name}.command and entrypoint are not applied: the workspace's container runs the platform's gateway, and the IDE");
        }

        foreach (var mount in workspace.Mounts)
        {
            notes.Add(mount.Type switch
            {
                ComposeMountType.Checkout => $"services.{workspace.Name}.volumes: the repository is not mounted at {mount.Target}; it is cloned into {config.WorkspaceFolder}",
                ComposeMountType.Repository => $"services.{workspace.Name}.volumes: {Path.GetRelativePath(repositoryFolder, mount.Source!)} is not mounted at {mount.Target}; it is in the clone at {config.WorkspaceFolder}",
                ComposeMountType.Tmpfs => $"services.{workspace.Name}: the tmpfs mount at {mount.Target} is not applied (only volume mounts are)",
                _ => null,
            } ?? string.Empty);
        }

        notes.RemoveAll(n => n.Length == 0);
        var companions = started.Where(n => n != compose.Service).Select(n => project.Services[n]).ToList();
        foreach (var companion in companions)
        {
            foreach (var mount in companion.Mounts.Where(m => m.Type == ComposeMountType.Checkout))
            {
                notes.Add($"services.{companion.Name}.volumes: the repository is not shared with {companion.Name} at {mount.Target}; it is cloned into the workspace");
            }

            if (companion.Mounts.Any(m => m.Type == ComposeMountType.Repository))
            {
                notes.Add($"services.{companion.Name}.volumes: the repository's files it mounts are copied in at launch, not kept in sync");
            }
        }

        return new ComposeLaunch(config, project, workspace, companions);
    }

    /// <summary>Every companion's image made available (pulled or built, as the workspace's own), in start order.</summary>
    public async Task<List<PlannedCompanion>> PrepareAsync(
        IWorkspaceRuntime runtime, Func<string, string?> refusal, Func<ComposeBuild, Task<string>> buildTag, string repositoryFolder, IProgress<string> log, CancellationToken cancellationToken)
    {
        var planned = new List<PlannedCompanion>();
        foreach (var service in Companions)
        {
            ImageRequest request;
            if (service.Build is { } build)
            {
                request = new ImageRequest(await buildTag(build), new ImageBuild(build.ContextPath, build.DockerfileInContext, build.Args, build.Target));
            }
            else if (service.Image is { } image)
            {
                if (refusal(image) is { } why)
                {
                    throw new WorkspaceFailure($"The service {service.Name} names an image this workspace may not run: {why}", keepInstanceRunning: false);
                }

                request = new ImageRequest(image);
            }
            else
            {
                throw new WorkspaceFailure($"The service {service.Name} has neither image nor build", keepInstanceRunning: false);
            }

            log.Report($"Preparing the image {request.Image} of the service {service.Name}.");
            var prepared = await runtime.PrepareImageAsync(request, log, cancellationToken);
            planned.Add(new PlannedCompanion
            {
                Name = service.Name,
                Image = prepared.Image,
                Entrypoint = service.Entrypoint?.ToList(),
                Command = service.Command?.ToList(),
                Environment = new Dictionary<string, string>(service.Environment, StringComparer.Ordinal),
                User = service.User,
                WorkingDirectory = service.WorkingDir,
                Volumes = [.. service.Mounts.Where(m => m.Type is ComposeMountType.Volume or ComposeMountType.Tmpfs).Select(m => Volume(service, m))],
                CapAdd = [.. service.CapAdd],
                SecurityOptions = [.. service.SecurityOptions],
                ShmSizeBytes = service.ShmSizeBytes,
                HealthTest = service.Healthcheck?.Test.ToList(),
                HealthInterval = service.Healthcheck?.Interval,
                HealthTimeout = service.Healthcheck?.Timeout,
                HealthStartPeriod = service.Healthcheck?.StartPeriod,
                HealthRetries = service.Healthcheck?.Retries,
                After = [.. service.DependsOn.Select(d => d.Service).Where(d => d != Workspace.Name)],
                Files = Copies(service, repositoryFolder),
                RestartOnFailure = service.Restart is "always" or "unless-stopped" || service.Restart?.StartsWith("on-failure", StringComparison.Ordinal) == true,
            });
        }

        return planned;
    }

    /// <summary>The workspace service's part of the plan over what devcontainer.json gave: its environment under
    /// containerEnv, its user unless devcontainer.json names one, its volumes beside the configuration's.</summary>
    public WorkspacePlan Apply(WorkspacePlan plan, List<PlannedCompanion> companions)
    {
        var environment = new Dictionary<string, string>(Workspace.Environment, StringComparer.Ordinal);
        foreach (var (name, value) in plan.ContainerEnv)
        {
            environment[name] = value;
        }

        var namesUser = Config.RemoteUser ?? Config.ContainerUser ?? Config.RunOptions.User;
        var volumes = plan.Volumes.ToList();
        volumes.AddRange(Workspace.Mounts
            .Where(m => m.Type == ComposeMountType.Volume && volumes.All(v => v.Target != m.Target))
            .Select(m => Volume(Workspace, m)));
        return plan with
        {
            ContainerEnv = environment,
            ContainerUser = Config.ContainerUser ?? Config.RunOptions.User ?? Workspace.User ?? plan.ContainerUser,
            RemoteUser = namesUser is null && Workspace.User is { } user ? Config.RemoteUser ?? user : plan.RemoteUser,
            Volumes = volumes,
            CapAdd = [.. plan.CapAdd.Union(Workspace.CapAdd)],
            SecurityOptions = [.. plan.SecurityOptions.Union(Workspace.SecurityOptions)],
            ShmSizeBytes = plan.ShmSizeBytes ?? Workspace.ShmSizeBytes,
            Companions = companions,
            HostAliases = [.. companions.Select(c => c.Name).Where(IsHostName)],
        };
    }

    /// <summary>A named volume keeps its compose name (the workspace's own, shared by the services naming it); an
    /// anonymous one is the service's, by target.</summary>
    private static PlannedVolume Volume(ComposeService service, ComposeMount mount)
    {
        if (mount.Type == ComposeMountType.Tmpfs)
        {
            return new PlannedVolume { Name = string.Empty, Target = mount.Target, Tmpfs = true };
        }

        var name = mount.Source is { } source
            ? "compose-" + source
            : $"compose-{service.Name}-{Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(mount.Target)))[..10]}";
        if (name.Length > 60 || !name.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '.' or '-'))
        {
            name = "compose-" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(name)))[..16];
        }

        return new PlannedVolume { Name = name, Target = mount.Target, ReadOnly = mount.ReadOnly };
    }

    /// <summary>The repository files the service bind-mounts, as a tar of regular files and folders (never a link) at
    /// their targets, bounded: a companion is created from the plan long after the checkout is gone.</summary>
    private static byte[]? Copies(ComposeService service, string repositoryFolder)
    {
        var mounts = service.Mounts.Where(m => m.Type == ComposeMountType.Repository).ToList();
        if (mounts.Count == 0)
        {
            return null;
        }

        using var buffer = new MemoryStream();
        using (var tar = new TarWriter(buffer, TarEntryFormat.Pax, leaveOpen: true))
        {
            foreach (var mount in mounts)
            {
                var target = mount.Target.Trim('/');
                if (File.Exists(mount.Source) && new FileInfo(mount.Source!).LinkTarget is null)
                {
                    Add(tar, new FileInfo(mount.Source!), target, buffer);
                }
                else if (Directory.Exists(mount.Source))
                {
                    AddFolder(tar, new DirectoryInfo(mount.Source!), target, buffer);
                }
                else
                {
                    throw new WorkspaceFailure($"services.{service.Name}.volumes: {Path.GetRelativePath(repositoryFolder, mount.Source!)} is not in the repository", keepInstanceRunning: false);
                }
            }
        }

        return buffer.ToArray();

        void AddFolder(TarWriter tar, DirectoryInfo folder, string path, MemoryStream written)
        {
            tar.WriteEntry(new PaxTarEntry(TarEntryType.Directory, path + "/") { Mode = (UnixFileMode)0b111_101_101 });
            foreach (var entry in folder.EnumerateFileSystemInfos().Where(e => e.LinkTarget is null).OrderBy(e => e.Name, StringComparer.Ordinal))
            {
                if (entry is DirectoryInfo child)
                {
                    AddFolder(tar, child, $"{path}/{child.Name}", written);
                }
                else if (entry is FileInfo file)
                {
                    Add(tar, file, $"{path}/{file.Name}", written);
                }
            }
        }

        void Add(TarWriter tar, FileInfo file, string path, MemoryStream written)
        {
            if (written.Length + file.Length > MaxCopiedBytes)
            {
                throw new WorkspaceFailure($"services.{service.Name}.volumes: the repository files it mounts are larger than {MaxCopiedBytes / 1024 / 1024} MiB; use an image or a volume", keepInstanceRunning: false);
            }

            var executable = OperatingSystem.IsWindows() ? false : (File.GetUnixFileMode(file.FullName) & UnixFileMode.UserExecute) != 0;
            using var content = file.OpenRead();
            tar.WriteEntry(new PaxTarEntry(TarEntryType.RegularFile, path) { DataStream = content, Mode = (UnixFileMode)(executable ? 0b111_101_101 : 0b110_100_100) });
        }
    }

    private static bool IsHostName(string name) =>
        name.Length is > 0 and <= 63 && char.IsAsciiLetterOrDigit(name[0]) && char.IsAsciiLetterOrDigit(name[^1]) && name.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_');
}
