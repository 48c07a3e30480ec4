using System.Formats.Tar;
using System.Globalization;
using System.Net;
using System.Text.RegularExpressions;
using Docker.DotNet;
using Docker.DotNet.Models;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace CloudDevEnv.Runtime.Docker;

/// <summary><see cref="IWorkspaceRuntime"/> on the Docker engine API.</summary>
/// <remarks>
/// A workspace is a container <c>&lt;prefix&gt;&lt;workspace id&gt;</c> labelled with <see cref="RuntimeLabels"/>,
/// with two labelled named volumes (<c>…-workspaces</c> at <see cref="DockerRuntimeOptions.WorkspacesPath"/>, <c>…-home</c>
/// at <see cref="DockerRuntimeOptions.HomePath"/>), the IDE bundle mounted read-only, its ports
/// published on <see cref="DockerRuntimeOptions.PublishAddress"/> only (ephemeral host ports), CPU, memory and
/// process limits, never privileged, <c>no-new-privileges</c>, a reduced capability set, and an init process as
/// PID 1 that reaps what exec'd servers leave behind. Without a command in the spec it runs
/// <see cref="DockerRuntimeOptions.KeepAliveCommand"/> (as the entrypoint, like devcontainers' overrideCommand).
/// </remarks>
public sealed partial class DockerWorkspaceRuntime : IWorkspaceRuntime, IDisposable
{
    /// <summary>Label on the workspace volumes: "workspaces" or "home".</summary>
    public const string VolumeRoleLabel = "dev.clouddevenv.volume-role";

    private const string WorkspacesRole = "workspaces";
    private const string HomeRole = "home";
    private const string MountRole = "mount";

    private readonly DockerRuntimeOptions _options;
    private readonly ILogger _logger;
    private readonly DockerClient _client;
    private readonly HttpClient _probe;
    private readonly string _endpoint;
    private readonly IReadOnlyList<string> _capabilities;
    private readonly IReadOnlyList<string> _keepAlive;

    public DockerWorkspaceRuntime(DockerRuntimeOptions options, ILogger<DockerWorkspaceRuntime>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        DockerRuntimeOptionsValidator.ThrowIfInvalid(options);
        _options = options;
        _logger = (ILogger?)logger ?? NullLogger.Instance;
        _endpoint = options.ResolveEndpoint();
        _capabilities = (options.Capabilities ?? [.. DockerRuntimeOptions.DefaultCapabilities])
            .Select(c => c.Trim().ToUpperInvariant()).Select(c => c.StartsWith("CAP_", StringComparison.Ordinal) ? c : "CAP_" + c)
            .Distinct().ToList();
        _keepAlive = options.KeepAliveCommand ?? [.. DockerRuntimeOptions.DefaultKeepAliveCommand];

        // No client-wide timeout: builds, pulls, exec streams and archives may run long; short calls get
        // RequestTimeout through their own cancellation (see EngineAsync).
        var builder = new DockerClientBuilder().WithEndpoint(new Uri(_endpoint)).WithTimeout(Timeout.InfiniteTimeSpan);
        if (!string.IsNullOrWhiteSpace(options.ApiVersion))
        {
            builder = builder.WithApiVersion(System.Version.Parse(options.ApiVersion));
        }

        _client = builder.Build();
        _probe = new HttpClient(new SocketsHttpHandler
        {
            UseProxy = false,
            AllowAutoRedirect = false,
            ConnectTimeout = options.ProbeTimeout,
            PooledConnectionLifetime = TimeSpan.FromSeconds(30),
        })
        {
            Timeout = Timeout.InfiniteTimeSpan,
        };
    }

    public string Name => "docker";

    /// <summary>The engine endpoint in use.</summary>
    public string Endpoint => _endpoint;

    // ------------------------------------------------------------------------------------------------ images

    public async Task<PreparedImage> PrepareImageAsync(ImageRequest request, IProgress<string> log, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (string.IsNullOrWhiteSpace(request.Image))
        {
            throw new WorkspaceRuntimeException("No image was named.", isPermanent: true);
        }

        if (await TryInspectImageAsync(request.Image, cancellationToken) is not null)
        {
            log?.Report($"Image {request.Image} is present locally.");
            return new PreparedImage(request.Image, Built: false);
        }

        if (request.Build is { } build)
        {
            return await BuildImageAsync(request.Image, build, log, cancellationToken);
        }

        if (!_options.PullMissingImages)
        {
            throw new WorkspaceRuntimeException(
                $"Image {request.Image} is not available locally, and pulling images is disabled ({DockerRuntimeOptions.SectionName}:PullMissingImages).",
                isPermanent: true);
        }

        return await PullImageAsync(request.Image, log, cancellationToken);
    }

    private async Task<PreparedImage> BuildImageAsync(string tag, ImageBuild build, IProgress<string>? log, CancellationToken ct)
    {
        var context = build.ContextDirectory;
        if (string.IsNullOrWhiteSpace(context) || !Directory.Exists(context))
        {
            throw new WorkspaceRuntimeException($"Building image {tag} failed: the build context folder '{context}' does not exist.", isPermanent: true);
        }

        var dockerfile = BuildContext.Normalize(string.IsNullOrWhiteSpace(build.Dockerfile) ? "Dockerfile" : build.Dockerfile);
        if (dockerfile.Split('/').Contains("..") || !File.Exists(Path.Combine(context, dockerfile)))
        {
            throw new WorkspaceRuntimeException(
                $"Building image {tag} failed: the Dockerfile '{build.Dockerfile}' is not inside the build context '{context}'.", isPermanent: true);
        }

        log?.Report($"Building image {tag} from {Path.Combine(context, dockerfile)}");
        var tail = new TailBuffer();
        var lines = new OutputLines(log, tail);
        string? error = null;
        var progress = new InlineProgress<JSONMessage>(m =>
        {
            if (!string.IsNullOrEmpty(m.Error?.Message))
            {
                error = m.Error.Message.Trim();
                lines.WriteLine(error);
            }
            else if (!string.IsNullOrEmpty(m.Stream))
            {
                lines.Write(m.Stream.AsSpan());
            }
            else if (!string.IsNullOrEmpty(m.Status) && m.Progress is null)
            {
                lines.WriteLine(string.IsNullOrEmpty(m.ID) ? m.Status : $"{m.ID}: {m.Status}");
            }
        });

        var parameters = new ImageBuildParameters
        {
            Tags = [tag],
            Dockerfile = dockerfile,
            BuildArgs = build.Args?.ToDictionary(kv => kv.Key, kv => kv.Value) ?? [],
            Target = string.IsNullOrWhiteSpace(build.Target) ? null : build.Target,
            Remove = true,
            ForceRemove = true,
            NetworkMode = string.IsNullOrWhiteSpace(_options.BuildNetworkMode) ? null : _options.BuildNetworkMode,
            Labels = new Dictionary<string, string> { [RuntimeLabels.Managed] = "true" },
        };

        var started = DateTimeOffset.UtcNow;
        try
        {
            await using var tar = await BuildContext.PackAsync(context, dockerfile, ct);
            await _client.Images.BuildImageFromDockerfileAsync(parameters, tar, null, null, progress, ct);
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            throw;
        }
        catch (DockerApiException e)
        {
            lines.Flush();
            throw new WorkspaceRuntimeException(BuildFailure(tag, DockerErrors.EngineMessage(e), tail), isPermanent: true, e);
        }
        catch (Exception e) when (e is HttpRequestException or IOException or System.Net.Sockets.SocketException)
        {
            throw DockerErrors.Map(e, $"Building image {tag}", _endpoint);
        }
        catch (Exception e) when (e is UnauthorizedAccessException or System.Security.SecurityException)
        {
            throw new WorkspaceRuntimeException($"Building image {tag} failed: the build context cannot be read ({e.Message}).", isPermanent: true, e);
        }

        lines.Flush();
        if (error is not null)
        {
            throw new WorkspaceRuntimeException(BuildFailure(tag, error, tail), isPermanent: true);
        }

        if (await TryInspectImageAsync(tag, ct) is null)
        {
            throw new WorkspaceRuntimeException(BuildFailure(tag, "the engine reported no error, but the image is not there", tail), isPermanent: true);
        }

        log?.Report($"Built image {tag} in {(DateTimeOffset.UtcNow - started).TotalSeconds:0.0}s");
        return new PreparedImage(tag, Built: true);
    }

    private static string BuildFailure(string tag, string error, TailBuffer tail)
    {
        var output = tail.ToString();
        return output.Length == 0
            ? $"Building image {tag} failed: {error}"
            : $"Building image {tag} failed: {error}\nLast lines of the build:\n{output}";
    }

    private async Task<PreparedImage> PullImageAsync(string image, IProgress<string>? log, CancellationToken ct)
    {
        var (name, tag) = SplitReference(image);
        log?.Report($"Image {image} is not present locally; pulling it");
        var tail = new TailBuffer();
        var lines = new OutputLines(log, tail);
        string? error = null;
        var progress = new InlineProgress<JSONMessage>(m =>
        {
            if (!string.IsNullOrEmpty(m.Error?.Message))
            {
                error = m.Error.Message.Trim();
                lines.WriteLine(error);
            }
            else if (!string.IsNullOrEmpty(m.Status) && m.Progress is null)
            {
                lines.WriteLine(string.IsNullOrEmpty(m.ID) ? m.Status : $"{m.ID}: {m.Status}");
            }
        });

        try
        {
            await _client.Images.CreateImageAsync(new ImagesCreateParameters { FromImage = name, Tag = tag }, null, progress, ct);
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            throw;
        }
        catch (DockerApiException e)
        {
            error = DockerErrors.EngineMessage(e);
        }
        catch (Exception e) when (e is HttpRequestException or IOException or System.Net.Sockets.SocketException)
        {
            throw DockerErrors.Map(e, $"Pulling image {image}", _endpoint);
        }

        if (error is null && await TryInspectImageAsync(image, ct) is not null)
        {
            return new PreparedImage(image, Built: false);
        }

        throw new WorkspaceRuntimeException(
            $"Image {image} is not available locally and no registry could serve it: {error ?? "the pull ended without the image"}",
            isPermanent: true);
    }

    /// <summary>Splits "repo[:tag]" / "repo@digest" for the pull API (an empty tag would pull every tag).</summary>
    internal static (string Name, string Tag) SplitReference(string image)
    {
        var at = image.IndexOf('@', StringComparison.Ordinal);
        if (at >= 0)
        {
            return (image[..at], image[(at + 1)..]);
        }

        var colon = image.LastIndexOf(':');
        return colon > image.LastIndexOf('/') ? (image[..colon], image[(colon + 1)..]) : (image, "latest");
    }

    public async Task<ImageInfo?> InspectImageAsync(string image, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(image);
        var inspected = await TryInspectImageAsync(image, cancellationToken);
        if (inspected is null)
        {
            return null;
        }

        var labels = inspected.Config?.Labels ?? new Dictionary<string, string>();
        return new ImageInfo(
            image,
            string.IsNullOrWhiteSpace(inspected.Config?.User) ? null : inspected.Config.User,
            new Dictionary<string, string>(labels, StringComparer.Ordinal));
    }

    private Task<ImageInspectResponse?> TryInspectImageAsync(string image, CancellationToken ct) =>
        EngineAsync($"Inspecting image {image}", async token =>
        {
            try
            {
                return await _client.Images.InspectImageAsync(image, token);
            }
            catch (DockerApiException e) when (e.StatusCode == HttpStatusCode.NotFound)
            {
                return null;
            }
        }, ct);

    // ------------------------------------------------------------------------------------------------ lifecycle

    public async Task<RuntimeInstance> CreateAsync(InstanceSpec spec, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ValidateSpec(spec);
        var id = spec.WorkspaceId;

        if (await FindAsync(id, cancellationToken) is { } existing)
        {
            _logger.LogInformation("Workspace {WorkspaceId}: adopting container {Container}", id, existing.Name.TrimStart('/'));
            return ToInstance(existing);
        }

        var image = await TryInspectImageAsync(spec.Image, cancellationToken)
            ?? throw new WorkspaceRuntimeException(
                $"Creating the container of workspace {id} failed: image {spec.Image} is not present; prepare it first.", isPermanent: true);

        var user = string.IsNullOrWhiteSpace(spec.User) ? image.Config?.User : spec.User;
        var labels = Labels(id, spec.Owner);

        await EnsureVolumeAsync(VolumeName(id, WorkspacesRole), labels, WorkspacesRole, cancellationToken);
        await EnsureVolumeAsync(VolumeName(id, HomeRole), labels, HomeRole, cancellationToken);

        var mounts = new List<Mount>
        {
            new() { Type = "volume", Source = VolumeName(id, WorkspacesRole), Target = _options.WorkspacesPath },
            new() { Type = "volume", Source = VolumeName(id, HomeRole), Target = _options.HomePath },
        };
        if (await IdeBundleMountAsync(cancellationToken) is { } ide)
        {
            mounts.Add(ide);
        }

        foreach (var m in spec.Mounts)
        {
            // A mount the spec asks for wins over ours at the same place.
            mounts.RemoveAll(x => x.Target?.TrimEnd('/') == m.Target.TrimEnd('/'));
            if (m.Kind == InstanceMountKind.Bind)
            {
                mounts.Add(new Mount { Type = "bind", Source = m.Source, Target = m.Target, ReadOnly = m.ReadOnly });
                continue;
            }

            // The workspace's own volume (e.g. from devcontainer.json "mounts"): labelled like the others, so that
            // DeleteAsync finds and removes it with the workspace, and named per workspace, so that none is shared.
            var volume = VolumeName(id, "mount-" + m.Source);
            await EnsureVolumeAsync(volume, labels, MountRole, cancellationToken);
            mounts.Add(new Mount { Type = "volume", Source = volume, Target = m.Target, ReadOnly = m.ReadOnly });
        }

        var portKeys = spec.Ports.Distinct().Select(p => $"{p}/tcp").ToList();
        var parameters = new CreateContainerParameters
        {
            Name = ContainerName(id),
            Image = spec.Image,
            Hostname = id,
            User = string.IsNullOrWhiteSpace(spec.User) ? null! : spec.User,
            Env = spec.Environment.Select(kv => $"{kv.Key}={kv.Value}").ToList(),
            Labels = labels,
            ExposedPorts = portKeys.ToDictionary(k => k, _ => new EmptyStruct()),
            StopTimeout = _options.DefaultStopGrace,
            HostConfig = new HostConfig
            {
                Init = true,
                Privileged = false,
                SecurityOpt = ["no-new-privileges"],
                CapDrop = ["ALL"],
                CapAdd = [.. _capabilities],
                PortBindings = portKeys.ToDictionary(
                    k => k,
                    _ => (IList<PortBinding>)[new PortBinding { HostIP = _options.PublishAddress, HostPort = "" }]),
                Mounts = mounts,
                NanoCPUs = spec.Resources.Cpus > 0 ? (long)Math.Round(spec.Resources.Cpus * 1_000_000_000d) : 0,
                Memory = Math.Max(0, spec.Resources.MemoryBytes),
                PidsLimit = _options.PidsLimit > 0 ? _options.PidsLimit : null,
                RestartPolicy = new RestartPolicy { Name = RestartPolicyKind.No },
                NetworkMode = string.IsNullOrWhiteSpace(_options.Network) ? null! : _options.Network,
            },
        };
        if (spec.Command is { Count: > 0 } command)
        {
            parameters.Cmd = [.. command];
        }
        else
        {
            parameters.Entrypoint = [.. _keepAlive];
            parameters.Cmd = [];
        }

        string containerId;
        try
        {
            containerId = await EngineAsync($"Creating the container of workspace {id}", async token =>
            {
                var created = await _client.Containers.CreateContainerAsync(parameters, token);
                foreach (var warning in created.Warnings ?? [])
                {
                    _logger.LogInformation("Workspace {WorkspaceId}: the engine notes: {Warning}", id, warning);
                }

                return created.ID;
            }, cancellationToken);
        }
        catch (WorkspaceRuntimeException e) when (e.InnerException is DockerApiException { StatusCode: HttpStatusCode.Conflict })
        {
            // Created concurrently by another call: adopt it (its name is taken a moment before it can be inspected).
            for (var attempt = 0; attempt < 40; attempt++)
            {
                if (await FindAsync(id, cancellationToken) is { } concurrent)
                {
                    return ToInstance(concurrent);
                }

                await Task.Delay(50, cancellationToken);
            }

            throw new WorkspaceRuntimeException(e.Message, isPermanent: false, e);
        }

        if (!IsRoot(user))
        {
            await HandWorkspacesToUserAsync(id, containerId, user!, cancellationToken);
        }

        _logger.LogInformation("Workspace {WorkspaceId}: created container {Container} from {Image}", id, ContainerName(id), spec.Image);
        var inspected = await InspectByIdAsync(containerId, cancellationToken)
            ?? throw new WorkspaceRuntimeException($"The container of workspace {id} vanished right after it was created.", isPermanent: false);
        return ToInstance(inspected);
    }

    public async Task StartAsync(string workspaceId, CancellationToken cancellationToken)
    {
        var container = await RequireAsync(workspaceId, cancellationToken);
        if (container.State?.Running == true && container.State.Paused != true)
        {
            return;
        }

        await EngineAsync($"Starting the container of workspace {workspaceId}", async token =>
        {
            if (container.State?.Paused == true)
            {
                await _client.Containers.UnpauseContainerAsync(container.ID, token);
                return true;
            }

            return await _client.Containers.StartContainerAsync(container.ID, new ContainerStartParameters(), token);
        }, cancellationToken);

    }

    public async Task StopAsync(string workspaceId, TimeSpan grace, CancellationToken cancellationToken)
    {
        ValidateId(workspaceId);
        var container = await FindAsync(workspaceId, cancellationToken);
        if (container?.State is not { } state || (!state.Running && !state.Restarting))
        {
            return;
        }

        var effective = grace < TimeSpan.Zero ? _options.DefaultStopGrace : grace;
        var seconds = (uint)Math.Ceiling(effective.TotalSeconds);
        await EngineAsync($"Stopping the container of workspace {workspaceId}", async token =>
        {
            try
            {
                return await _client.Containers.StopContainerAsync(container.ID, new ContainerStopParameters { WaitBeforeKillSeconds = seconds }, token);
            }
            catch (DockerApiException e) when (e.StatusCode == HttpStatusCode.NotFound)
            {
                return false;
            }
        }, cancellationToken, effective + _options.RequestTimeout);
        _logger.LogInformation("Workspace {WorkspaceId}: stopped container {Container}", workspaceId, container.Name.TrimStart('/'));
    }

    public async Task DeleteAsync(string workspaceId, CancellationToken cancellationToken)
    {
        ValidateId(workspaceId);
        var action = $"Deleting workspace {workspaceId}";
        var containers = await EngineAsync(action, token => _client.Containers.ListContainersAsync(new ContainersListParameters
        {
            All = true,
            Filters = LabelFilter(workspaceId),
        }, token), cancellationToken);
        var ids = containers.Select(c => c.ID).ToList();
        if (await FindByNameAsync(workspaceId, cancellationToken) is { } named && !ids.Contains(named.ID))
        {
            ids.Add(named.ID);
        }

        foreach (var containerId in ids)
        {
            await EngineAsync(action, async token =>
            {
                try
                {
                    await _client.Containers.RemoveContainerAsync(containerId, new ContainerRemoveParameters { Force = true, RemoveVolumes = true }, token);
                }
                catch (DockerApiException e) when (e.StatusCode == HttpStatusCode.NotFound)
                {
                    // already gone
                }

                return true;
            }, cancellationToken);
        }

        var volumes = await EngineAsync(action, token => _client.Volumes.ListAsync(new VolumesListParameters { Filters = LabelFilter(workspaceId) }, token), cancellationToken);
        foreach (var volume in volumes.Volumes ?? [])
        {
            await EngineAsync($"{action}: removing volume {volume.Name}", async token =>
            {
                try
                {
                    await _client.Volumes.RemoveAsync(volume.Name, force: false, token);
                }
                catch (DockerApiException e) when (e.StatusCode == HttpStatusCode.NotFound)
                {
                    // already gone
                }

                return true;
            }, cancellationToken);
        }

        if (ids.Count > 0 || volumes.Volumes is { Count: > 0 })
        {
            _logger.LogInformation("Workspace {WorkspaceId}: removed {Containers} container(s) and {Volumes} volume(s)",
                workspaceId, ids.Count, volumes.Volumes?.Count ?? 0);
        }
    }

    public async Task<RuntimeInstance?> InspectAsync(string workspaceId, CancellationToken cancellationToken)
    {
        ValidateId(workspaceId);
        var container = await FindAsync(workspaceId, cancellationToken);
        return container is null ? null : ToInstance(container);
    }

    public async Task<IReadOnlyList<RuntimeInstance>> ListAsync(CancellationToken cancellationToken)
    {
        var containers = await EngineAsync("Listing workspace containers", token => _client.Containers.ListContainersAsync(new ContainersListParameters
        {
            All = true,
            Filters = new Dictionary<string, IDictionary<string, bool>>
            {
                ["label"] = string.IsNullOrEmpty(_options.Installation)
                    ? new Dictionary<string, bool> { [$"{RuntimeLabels.Managed}=true"] = true }
                    : new Dictionary<string, bool>
                    {
                        [$"{RuntimeLabels.Managed}=true"] = true,
                        [$"{RuntimeLabels.Installation}={_options.Installation}"] = true,
                    },
            },
        }, token), cancellationToken);
        return containers
            .Where(c => c.Labels?.ContainsKey(RuntimeLabels.WorkspaceId) == true)
            .Select(ToInstance)
            .ToList();
    }

    // ------------------------------------------------------------------------------------------------ exec, probe

    public async Task<ExecResult> ExecAsync(string workspaceId, ExecRequest request, IProgress<string> output, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (request.Command is not { Count: > 0 } || string.IsNullOrEmpty(request.Command[0]))
        {
            throw new WorkspaceRuntimeException("Exec needs a command.", isPermanent: true);
        }

        var container = await RequireAsync(workspaceId, cancellationToken);
        if (container.State?.Running != true)
        {
            throw new WorkspaceRuntimeException(
                $"Cannot run a command in workspace {workspaceId}: its container is {container.State?.Status ?? "not running"}.", isPermanent: false);
        }

        IReadOnlyList<string> command = request.Command;
        if (request.Detached)
        {
            // The engine's detached exec start is not usable through Docker.DotNet (it tries to hijack an empty
            // response), and an attached exec is killed when its connection closes. So a short attached shell
            // starts the server in the background and exits; the container's init reaps the server later.
            command =
            [
                "/bin/sh", "-c",
                "command -v \"$1\" >/dev/null 2>&1 || { echo \"$1: command not found\" >&2; exit 127; }; " +
                "\"$@\" </dev/null >/dev/null 2>&1 & echo \"started $1 (pid $!)\"",
                "cde-detached", .. request.Command,
            ];
        }

        return await RunExecAsync(workspaceId, container.ID, command, request, output, cancellationToken);
    }

    private async Task<ExecResult> RunExecAsync(
        string workspaceId, string containerId, IReadOnlyList<string> command, ExecRequest request, IProgress<string>? output, CancellationToken ct)
    {
        var action = $"Running '{command[0]}' in workspace {workspaceId}";
        var execId = await EngineAsync(action, async token => (await _client.Exec.CreateContainerExecAsync(containerId, new ContainerExecCreateParameters
        {
            Cmd = [.. command],
            Env = request.Environment?.Select(kv => $"{kv.Key}={kv.Value}").ToList() ?? [],
            WorkingDir = string.IsNullOrWhiteSpace(request.WorkingDirectory) ? null! : request.WorkingDirectory,
            User = string.IsNullOrWhiteSpace(request.User) ? null! : request.User,
            AttachStdout = true,
            AttachStderr = true,
            AttachStdin = false,
            TTY = false,
        }, token)).ID, ct);

        var tail = new TailBuffer();
        var stdout = new OutputLines(output, tail);
        var stderr = new OutputLines(output, tail);
        try
        {
            using var stream = await _client.Exec.StartContainerExecAsync(execId, new ContainerExecStartParameters { Detach = false, TTY = false }, ct);
            var buffer = new byte[16 * 1024];
            while (true)
            {
                var read = await stream.ReadOutputAsync(buffer, 0, buffer.Length, ct);
                if (read.EOF)
                {
                    break;
                }

                (read.Target == MultiplexedStream.TargetStream.StandardError ? stderr : stdout).Write(buffer.AsSpan(0, read.Count));
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            throw;
        }
        catch (Exception e) when (e is not WorkspaceRuntimeException)
        {
            throw DockerErrors.Map(e, action, _endpoint);
        }

        stdout.Flush();
        stderr.Flush();

        // The exit code is recorded a moment after the stream ends.
        for (var attempt = 0; ; attempt++)
        {
            var inspect = await EngineAsync(action, token => _client.Exec.InspectContainerExecAsync(execId, token), ct);
            if (!inspect.Running || attempt >= 100)
            {
                return new ExecResult(inspect.Running ? -1 : (int)(inspect.ExitCode ?? -1), tail.ToString());
            }

            await Task.Delay(20, ct);
        }
    }

    /// <summary>HTTP GET of <c>/</c> on the port's published host port. Any response below 500 counts as answering
    /// (a 302 to a login page, a 401 or a 404 all prove a server is up); 5xx, refused or reset connections,
    /// and no answer within <see cref="DockerRuntimeOptions.ProbeTimeout"/> do not.</summary>
    public async Task<bool> ProbeHttpAsync(string workspaceId, int port, CancellationToken cancellationToken)
    {
        ValidateId(workspaceId);
        var container = await FindAsync(workspaceId, cancellationToken);
        if (container is null || container.State?.Running != true)
        {
            return false;
        }

        if (!ToInstance(container).Endpoints.TryGetValue(port, out var endpoint))
        {
            return false;
        }

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(_options.ProbeTimeout);
        try
        {
            using var response = await _probe.GetAsync(endpoint, HttpCompletionOption.ResponseHeadersRead, timeout.Token);
            return (int)response.StatusCode < 500;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw;
        }
        catch (Exception e) when (e is HttpRequestException or OperationCanceledException or IOException)
        {
            return false;
        }
    }

    // ------------------------------------------------------------------------------------------------ archives

    /// <summary>A tar of what is inside <paramref name="path"/>; entry names are relative to it ("./", "./file", ...),
    /// so that <see cref="RestoreAsync"/> into the same path recreates it. Works on stopped containers too.</summary>
    public async Task<Stream> ArchiveAsync(string workspaceId, string path, CancellationToken cancellationToken)
    {
        var container = await RequireAsync(workspaceId, cancellationToken);
        var folder = AbsolutePath(path);
        var action = $"Archiving {folder} of workspace {workspaceId}";
        try
        {
            var response = await _client.Containers.GetArchiveFromContainerAsync(
                container.ID, new ContainerPathStatParameters { Path = folder.TrimEnd('/') + "/." }, statOnly: false, cancellationToken);
            // The client's response stream reads asynchronously only; the wrapper serves synchronous readers too.
            return new ReadOnlyForwardStream(response.Stream
                ?? throw new WorkspaceRuntimeException($"{action}: the engine sent no archive.", isPermanent: false));
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw;
        }
        catch (DockerApiException e) when (e.StatusCode == HttpStatusCode.NotFound)
        {
            throw new WorkspaceRuntimeException($"{action}: {DockerErrors.EngineMessage(e)}", isPermanent: true, e);
        }
        catch (Exception e)
        {
            throw DockerErrors.Map(e, action, _endpoint);
        }
    }

    /// <summary>Unpacks <paramref name="tar"/> into <paramref name="path"/> (which must exist; it is created
    /// first when the container runs), keeping the owners recorded in the tar. Works on stopped containers too.</summary>
    public async Task RestoreAsync(string workspaceId, string path, Stream tar, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(tar);
        var container = await RequireAsync(workspaceId, cancellationToken);
        var folder = AbsolutePath(path);
        var action = $"Restoring {folder} of workspace {workspaceId}";
        if (container.State?.Running == true)
        {
            await RunExecAsync(workspaceId, container.ID, ["mkdir", "-p", folder], new ExecRequest(["mkdir"], User: "0"), null, cancellationToken);
        }

        try
        {
            // The client disposes the stream it sends; the caller's stream stays the caller's.
            await using var body = new NonDisposingStream(tar);
            await _client.Containers.ExtractArchiveToContainerAsync(
                container.ID, new CopyToContainerParameters { Path = folder, AllowOverwriteDirWithFile = false }, body, cancellationToken);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw;
        }
        catch (DockerApiException e) when (e.StatusCode is HttpStatusCode.NotFound or HttpStatusCode.BadRequest or HttpStatusCode.Forbidden)
        {
            throw new WorkspaceRuntimeException($"{action}: {DockerErrors.EngineMessage(e)}", isPermanent: true, e);
        }
        catch (Exception e)
        {
            throw DockerErrors.Map(e, action, _endpoint);
        }
    }

    // ------------------------------------------------------------------------------------------------ helpers

    public void Dispose()
    {
        _client.Dispose();
        _probe.Dispose();
    }

    internal string ContainerName(string workspaceId) => _options.NamePrefix + workspaceId;

    internal string VolumeName(string workspaceId, string role) => $"{_options.NamePrefix}{workspaceId}-{role}";

    private Dictionary<string, string> Labels(string workspaceId, string owner)
    {
        var labels = new Dictionary<string, string>
        {
            [RuntimeLabels.Managed] = "true",
            [RuntimeLabels.WorkspaceId] = workspaceId,
            [RuntimeLabels.Owner] = owner,
        };
        if (!string.IsNullOrEmpty(_options.Installation))
        {
            labels[RuntimeLabels.Installation] = _options.Installation;
        }

        return labels;
    }

    private static Dictionary<string, IDictionary<string, bool>> LabelFilter(string workspaceId) => new()
    {
        ["label"] = new Dictionary<string, bool>
        {
            [$"{RuntimeLabels.Managed}=true"] = true,
            [$"{RuntimeLabels.WorkspaceId}={workspaceId}"] = true,
        },
    };

    private static bool IsRoot(string? user)
    {
        if (string.IsNullOrWhiteSpace(user))
        {
            return true;
        }

        var name = user.Split(':')[0].Trim();
        return name is "" or "root" or "0";
    }

    private static void ValidateId(string workspaceId)
    {
        if (string.IsNullOrEmpty(workspaceId) || !WorkspaceIdPattern().IsMatch(workspaceId))
        {
            throw new WorkspaceRuntimeException(
                $"'{workspaceId}' is not a workspace id (a DNS label: lower-case letters, digits and '-', at most 63 characters).", isPermanent: true);
        }
    }

    private void ValidateSpec(InstanceSpec spec)
    {
        ValidateId(spec.WorkspaceId);
        if (string.IsNullOrWhiteSpace(spec.Image))
        {
            throw new WorkspaceRuntimeException($"Workspace {spec.WorkspaceId}: no image.", isPermanent: true);
        }

        if (spec.Ports.FirstOrDefault(p => p is < 1 or > 65535) is var bad && bad != 0)
        {
            throw new WorkspaceRuntimeException($"Workspace {spec.WorkspaceId}: port {bad} is not a TCP port.", isPermanent: true);
        }

        if (spec.Resources.Cpus < 0 || double.IsNaN(spec.Resources.Cpus) || spec.Resources.MemoryBytes < 0)
        {
            throw new WorkspaceRuntimeException($"Workspace {spec.WorkspaceId}: negative resource limits.", isPermanent: true);
        }

        if (spec.Resources.MemoryBytes is > 0 and < 6 * 1024 * 1024)
        {
            throw new WorkspaceRuntimeException($"Workspace {spec.WorkspaceId}: a memory limit below 6 MiB cannot run a container.", isPermanent: true);
        }

        foreach (var mount in spec.Mounts)
        {
            if (string.IsNullOrWhiteSpace(mount.Target) || !mount.Target.StartsWith('/'))
            {
                throw new WorkspaceRuntimeException($"Workspace {spec.WorkspaceId}: mount target '{mount.Target}' is not an absolute path.", isPermanent: true);
            }

            if (mount.Kind == InstanceMountKind.Bind && (string.IsNullOrWhiteSpace(mount.Source) || !mount.Source.StartsWith('/')))
            {
                throw new WorkspaceRuntimeException($"Workspace {spec.WorkspaceId}: bind mount source '{mount.Source}' is not an absolute host path.", isPermanent: true);
            }

            if (mount.Kind == InstanceMountKind.Volume && (mount.Source is not { Length: > 0 and <= 64 } || !VolumeSourcePattern().IsMatch(mount.Source)))
            {
                throw new WorkspaceRuntimeException(
                    $"Workspace {spec.WorkspaceId}: volume name '{mount.Source}' is not 1 to 64 letters, digits, '_', '.' or '-'.", isPermanent: true);
            }
        }
    }

    private static string AbsolutePath(string path)
    {
        if (string.IsNullOrWhiteSpace(path) || !path.StartsWith('/'))
        {
            throw new WorkspaceRuntimeException($"'{path}' is not an absolute path inside the workspace.", isPermanent: true);
        }

        return path;
    }

    /// <summary>The workspace's container: by its name (when it carries our labels), else by the workspace-id label.</summary>
    private async Task<ContainerInspectResponse?> FindAsync(string workspaceId, CancellationToken ct)
    {
        if (await FindByNameAsync(workspaceId, ct) is { } named)
        {
            return named;
        }

        var labelled = await EngineAsync($"Looking up workspace {workspaceId}", token => _client.Containers.ListContainersAsync(new ContainersListParameters
        {
            All = true,
            Filters = LabelFilter(workspaceId),
        }, token), ct);
        foreach (var candidate in labelled.OrderByDescending(c => c.Created))
        {
            if (await InspectByIdAsync(candidate.ID, ct) is { } found)
            {
                return found;
            }
        }

        return null;
    }

    private async Task<ContainerInspectResponse?> FindByNameAsync(string workspaceId, CancellationToken ct)
    {
        var name = ContainerName(workspaceId);
        var container = await InspectByIdAsync(name, ct);
        if (container is null)
        {
            return null;
        }

        if (container.Config?.Labels is { } labels && labels.TryGetValue(RuntimeLabels.WorkspaceId, out var owner) && owner == workspaceId)
        {
            return container;
        }

        throw new WorkspaceRuntimeException(
            $"A container named {name} exists but CloudDevEnv does not manage it (no {RuntimeLabels.WorkspaceId}={workspaceId} label); remove or rename it.",
            isPermanent: true);
    }

    private async Task<ContainerInspectResponse> RequireAsync(string workspaceId, CancellationToken ct)
    {
        ValidateId(workspaceId);
        return await FindAsync(workspaceId, ct)
            ?? throw new WorkspaceRuntimeException($"Workspace {workspaceId} has no container; create it first.", isPermanent: true);
    }

    private Task<ContainerInspectResponse?> InspectByIdAsync(string idOrName, CancellationToken ct) =>
        EngineAsync($"Inspecting container {idOrName}", async token =>
        {
            try
            {
                return await _client.Containers.InspectContainerAsync(idOrName, token);
            }
            catch (DockerApiException e) when (e.StatusCode == HttpStatusCode.NotFound)
            {
                return null;
            }
        }, ct);

    private Task EnsureVolumeAsync(string name, IReadOnlyDictionary<string, string> labels, string role, CancellationToken ct) =>
        EngineAsync($"Creating volume {name}", async token =>
        {
            var all = new Dictionary<string, string>(labels) { [VolumeRoleLabel] = role };
            return await _client.Volumes.CreateAsync(new VolumesCreateParameters { Name = name, Labels = all }, token);
        }, ct);

    private async Task<Mount?> IdeBundleMountAsync(CancellationToken ct)
    {
        var source = _options.IdeBundleSource.Trim();
        if (source.Equals("none", StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }

        if (source.StartsWith('/'))
        {
            if (_endpoint.StartsWith("unix://", StringComparison.Ordinal) && !Directory.Exists(source))
            {
                throw new WorkspaceRuntimeException(
                    $"The IDE bundle folder {source} does not exist; run scripts/build-images.sh with CDE_IDE_HOST_DIR={source}.", isPermanent: true);
            }

            return new Mount { Type = "bind", Source = source, Target = _options.IdeBundleTarget, ReadOnly = true };
        }

        await EngineAsync($"Looking up the IDE bundle volume {source}", async token =>
        {
            try
            {
                return await _client.Volumes.InspectAsync(source, token);
            }
            catch (DockerApiException e) when (e.StatusCode == HttpStatusCode.NotFound)
            {
                throw new WorkspaceRuntimeException(
                    $"The IDE bundle volume {source} does not exist; run scripts/build-images.sh.", isPermanent: true, e);
            }
        }, ct);
        return new Mount
        {
            Type = "volume",
            Source = source,
            Target = _options.IdeBundleTarget,
            ReadOnly = true,
            VolumeOptions = new VolumeOptions { NoCopy = true },
        };
    }

    /// <summary>A fresh volume mounted where the image has no folder is owned by root, and a non-root workspace
    /// user could not clone into it; exec cannot fix that later (with no-new-privileges, root in an exec of a
    /// non-root container has no capabilities). So, before the first start, the engine's archive API (which
    /// writes with the engine's rights) re-creates the folder owned by that user. Best effort.</summary>
    private async Task HandWorkspacesToUserAsync(string workspaceId, string containerId, string user, CancellationToken ct)
    {
        try
        {
            var (uid, gid) = await ResolveUserAsync(containerId, user, ct);
            if (uid is null || uid == 0)
            {
                return;
            }

            var path = _options.WorkspacesPath.TrimEnd('/');
            var parent = path[..path.LastIndexOf('/')];
            using var tar = new MemoryStream();
            using (var writer = new TarWriter(tar, TarEntryFormat.Pax, leaveOpen: true))
            {
                writer.WriteEntry(new PaxTarEntry(TarEntryType.Directory, path[(path.LastIndexOf('/') + 1)..] + "/")
                {
                    Uid = uid.Value,
                    Gid = gid ?? uid.Value,
                    Mode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute |
                           UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute,
                    ModificationTime = DateTimeOffset.UtcNow,
                });
            }

            tar.Position = 0;
            await EngineAsync($"Handing {path} to {user}", async token =>
            {
                await _client.Containers.ExtractArchiveToContainerAsync(
                    containerId, new CopyToContainerParameters { Path = parent.Length == 0 ? "/" : parent }, tar, token);
                return true;
            }, ct);
        }
        catch (WorkspaceRuntimeException e)
        {
            _logger.LogWarning("Workspace {WorkspaceId}: could not hand {Path} to {User}: {Message}", workspaceId, _options.WorkspacesPath, user, e.Message);
        }
    }

    /// <summary>The numeric uid and gid of "user[:group]", looked up in the container's /etc/passwd and /etc/group.</summary>
    private async Task<(int? Uid, int? Gid)> ResolveUserAsync(string containerId, string user, CancellationToken ct)
    {
        var parts = user.Split(':', 2);
        int? uid = int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var u) ? u : null;
        int? gid = parts.Length > 1 && int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var g) ? g : null;
        if (uid is null || parts.Length == 1)
        {
            foreach (var line in await ReadContainerFileAsync(containerId, "/etc/passwd", ct))
            {
                var f = line.Split(':');
                if (f.Length >= 4 && (f[0] == parts[0] || f[2] == parts[0]))
                {
                    uid ??= int.TryParse(f[2], NumberStyles.None, CultureInfo.InvariantCulture, out var pu) ? pu : null;
                    if (parts.Length == 1)
                    {
                        gid ??= int.TryParse(f[3], NumberStyles.None, CultureInfo.InvariantCulture, out var pg) ? pg : null;
                    }

                    break;
                }
            }
        }

        if (parts.Length > 1 && gid is null)
        {
            foreach (var line in await ReadContainerFileAsync(containerId, "/etc/group", ct))
            {
                var f = line.Split(':');
                if (f.Length >= 3 && f[0] == parts[1])
                {
                    gid = int.TryParse(f[2], NumberStyles.None, CultureInfo.InvariantCulture, out var gg) ? gg : null;
                    break;
                }
            }
        }

        return (uid, gid);
    }

    private async Task<IReadOnlyList<string>> ReadContainerFileAsync(string containerId, string path, CancellationToken ct)
    {
        try
        {
            return await EngineAsync($"Reading {path}", async token =>
            {
                var response = await _client.Containers.GetArchiveFromContainerAsync(containerId, new ContainerPathStatParameters { Path = path }, statOnly: false, token);
                await using var stream = response.Stream ?? Stream.Null;
                using var buffer = new MemoryStream();
                await stream.CopyToAsync(buffer, token);
                buffer.Position = 0;
                using var reader = new TarReader(buffer);
                if (reader.GetNextEntry() is { DataStream: { } data })
                {
                    using var text = new StreamReader(data);
                    return (IReadOnlyList<string>)text.ReadToEnd().Split('\n');
                }

                return [];
            }, ct);
        }
        catch (WorkspaceRuntimeException)
        {
            return [];
        }
    }

    private RuntimeInstance ToInstance(ContainerInspectResponse c)
    {
        var labels = c.Config?.Labels ?? new Dictionary<string, string>();
        var state = MapState(c.State?.Status);
        var endpoints = new Dictionary<int, Uri>();
        if (state == InstanceState.Running && c.NetworkSettings?.Ports is { } ports)
        {
            foreach (var (key, bindings) in ports)
            {
                if (TryParsePort(key, out var port) && bindings?.FirstOrDefault(b => !string.IsNullOrEmpty(b.HostPort)) is { } binding)
                {
                    endpoints[port] = EndpointUri(binding.HostIP, binding.HostPort);
                }
            }
        }

        return new RuntimeInstance(
            Label(labels, RuntimeLabels.WorkspaceId),
            Label(labels, RuntimeLabels.Owner),
            c.Name?.TrimStart('/') ?? "",
            c.Config?.Image ?? c.Image ?? "",
            state,
            endpoints,
            state == InstanceState.Exited ? (int?)(c.State?.ExitCode ?? 0) : null);
    }

    private RuntimeInstance ToInstance(ContainerListResponse c)
    {
        var labels = c.Labels ?? new Dictionary<string, string>();
        var state = MapState(c.State);
        var endpoints = new Dictionary<int, Uri>();
        if (state == InstanceState.Running)
        {
            foreach (var p in c.Ports ?? [])
            {
                if (p.PublicPort is { } hostPort && string.Equals(p.Type, "tcp", StringComparison.OrdinalIgnoreCase) && !endpoints.ContainsKey(p.PrivatePort))
                {
                    endpoints[p.PrivatePort] = EndpointUri(p.IP, hostPort.ToString(CultureInfo.InvariantCulture));
                }
            }
        }

        int? exitCode = null;
        if (state == InstanceState.Exited && ExitedStatus().Match(c.Status ?? "") is { Success: true } m)
        {
            exitCode = int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture);
        }

        return new RuntimeInstance(
            Label(labels, RuntimeLabels.WorkspaceId),
            Label(labels, RuntimeLabels.Owner),
            c.Names?.FirstOrDefault()?.TrimStart('/') ?? "",
            c.Image ?? "",
            state,
            endpoints,
            exitCode);
    }

    private static string Label(IDictionary<string, string> labels, string key) =>
        labels.TryGetValue(key, out var value) ? value : "";

    private static InstanceState MapState(string? status) => status switch
    {
        "created" => InstanceState.Created,
        "running" => InstanceState.Running,
        "exited" or "dead" => InstanceState.Exited,
        _ => InstanceState.Transitioning, // restarting, removing, paused
    };

    private static bool TryParsePort(string key, out int port)
    {
        port = 0;
        var parts = key.Split('/');
        return (parts.Length == 1 || parts[1] == "tcp") && int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out port);
    }

    private Uri EndpointUri(string? hostIp, string hostPort)
    {
        var host = _options.EndpointHost;
        if (string.IsNullOrWhiteSpace(host))
        {
            var ip = string.IsNullOrWhiteSpace(hostIp) ? _options.PublishAddress : hostIp;
            host = ip switch
            {
                "0.0.0.0" => "127.0.0.1",
                "::" => "[::1]",
                _ when ip.Contains(':') => $"[{ip}]",
                _ => ip,
            };
        }

        return new Uri($"http://{host}:{hostPort}/");
    }

    /// <summary>Runs one engine call with <see cref="DockerRuntimeOptions.RequestTimeout"/> (or <paramref name="timeout"/>)
    /// and maps its failures; the caller's cancellation propagates as <see cref="OperationCanceledException"/>.</summary>
    private async Task<T> EngineAsync<T>(string action, Func<CancellationToken, Task<T>> call, CancellationToken ct, TimeSpan? timeout = null)
    {
        var limit = timeout ?? _options.RequestTimeout;
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(ct);
        cts.CancelAfter(limit);
        try
        {
            return await call(cts.Token);
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            throw;
        }
        catch (OperationCanceledException e)
        {
            throw new WorkspaceRuntimeException(
                $"{action}: the Docker engine at {_endpoint} did not answer within {limit.TotalSeconds:0}s.", isPermanent: false, e);
        }
        catch (Exception e) when (e is not WorkspaceRuntimeException)
        {
            throw DockerErrors.Map(e, action, _endpoint);
        }
    }

    [GeneratedRegex("^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")]
    private static partial Regex WorkspaceIdPattern();

    [GeneratedRegex("^[a-zA-Z0-9][a-zA-Z0-9_.-]*$")]
    private static partial Regex VolumeSourcePattern();

    [GeneratedRegex(@"^Exited \((-?\d+)\)")]
    private static partial Regex ExitedStatus();
}
