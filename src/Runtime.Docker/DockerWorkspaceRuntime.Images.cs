using Docker.DotNet;
using Docker.DotNet.Models;

namespace CloudDevEnv.Runtime.Docker;

// Images: present locally, built from a context folder, or pulled.
public sealed partial class DockerWorkspaceRuntime
{
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

            // The Dockerfile is the repository's: its steps get bounded memory (no swap beyond it) and CPU, and time below.
            // The classic builder takes no process limit: the engine's cgroup parent bounds all containers' processes
            // together (scripts/ensure-docker.sh), and the memory limit bounds a fork bomb's.
            Memory = _options.BuildMemoryBytes > 0 ? _options.BuildMemoryBytes : null,
            MemorySwap = _options.BuildMemoryBytes > 0 ? _options.BuildMemoryBytes : null,
            CPUPeriod = _options.BuildCpus > 0 ? 100_000 : null,
            CPUQuota = _options.BuildCpus > 0 ? (long)Math.Round(_options.BuildCpus * 100_000) : null,
        };

        var started = DateTimeOffset.UtcNow;
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(_options.BuildTimeout);
        try
        {
            await using var tar = await BuildContext.PackAsync(context, dockerfile, timeout.Token);
            await _client.Images.BuildImageFromDockerfileAsync(parameters, tar, null, null, progress, timeout.Token);
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            throw;
        }
        catch (OperationCanceledException e) when (timeout.IsCancellationRequested)
        {
            // The engine stops the build when its client goes away.
            lines.Flush();
            throw new WorkspaceRuntimeException(
                BuildFailure(tag, $"it took longer than {_options.BuildTimeout.TotalMinutes:0.#} min ({DockerRuntimeOptions.SectionName}:BuildTimeout) and was stopped", tail),
                isPermanent: true, e);
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

    private string BuildFailure(string tag, string error, TailBuffer tail)
    {
        // 137 = 128 + SIGKILL: the kernel's out-of-memory killer, as a rule, when the step had a memory limit.
        if (_options.BuildMemoryBytes > 0 && error.Contains("non-zero code: 137", StringComparison.Ordinal))
        {
            error += $" (killed: a step went past the build's memory limit of {_options.BuildMemoryBytes / (1024 * 1024)} MiB, {DockerRuntimeOptions.SectionName}:BuildMemoryBytes)";
        }

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
            new Dictionary<string, string>(labels, StringComparer.Ordinal),
            inspected.ID,
            RepoDigest(image, inspected.RepoDigests));
    }

    /// <summary>The repository digest of <paramref name="image"/>'s own repository (an image may carry several, one per
    /// repository it was pushed to or pulled from).</summary>
    internal static string? RepoDigest(string image, IList<string>? repoDigests)
    {
        if (image.Contains('@', StringComparison.Ordinal))
        {
            return image;
        }

        var name = SplitReference(image).Name;
        return repoDigests?.FirstOrDefault(d => d.StartsWith(name + "@", StringComparison.Ordinal));
    }

    private Task<ImageInspectResponse?> TryInspectImageAsync(string image, CancellationToken ct) =>
        EngineFindAsync($"Inspecting image {image}", token => _client.Images.InspectImageAsync(image, token), ct);
}
