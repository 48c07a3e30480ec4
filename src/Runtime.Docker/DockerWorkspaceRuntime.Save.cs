using Docker.DotNet;
using Docker.DotNet.Models;

namespace CloudDevEnv.Runtime.Docker;

// Saving an instance as an image and pushing it: what a platform-built prebuild is.
public sealed partial class DockerWorkspaceRuntime
{
    public async Task<string> SaveImageAsync(string workspaceId, ImageSave save, IProgress<string> log, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(save);
        ValidateId(workspaceId);
        var container = await FindAsync(workspaceId, cancellationToken)
            ?? throw new WorkspaceRuntimeException($"Workspace {workspaceId} has no container to save.", isPermanent: false);
        var image = await TryInspectImageAsync(save.BaseImage, cancellationToken)
            ?? throw new WorkspaceRuntimeException($"Saving workspace {workspaceId}: its image {save.BaseImage} is gone from the engine.", isPermanent: false);

        // The engine fills what the commit leaves out from the container's own configuration, so the base image's is
        // named in full: its entrypoint, command, user and folder. The environment is the container's either way (the
        // engine appends it); a prebuild's container is made with nothing but devcontainer.json's containerEnv in it.
        var config = image.Config ?? new DockerOCIImageConfig();
        var labels = new Dictionary<string, string>(config.Labels ?? new Dictionary<string, string>(), StringComparer.Ordinal);
        foreach (var (name, value) in save.Labels)
        {
            labels[name] = value;
        }

        var reference = $"{save.Repository}:{save.Tag}";
        log.Report($"Saving the prebuild as {reference}.");
        await EngineAsync($"Saving workspace {workspaceId} as {reference}", token => _client.Images.CommitContainerChangesAsync(new CommitContainerChangesParameters
        {
            ContainerID = container.ID,
            RepositoryName = save.Repository,
            Tag = save.Tag,
            Comment = $"CloudDevEnv prebuild from {save.BaseImage}",
            Pause = true,
            Env = config.Env ?? [],
            Entrypoint = config.Entrypoint ?? [],
            Cmd = config.Cmd ?? [],
            User = config.User ?? string.Empty,
            WorkingDir = config.WorkingDir ?? string.Empty,
            Labels = labels,
        }, token), cancellationToken, _options.BuildTimeout);

        log.Report($"Pushing {reference}.");
        string? error = null;
        var progress = new InlineProgress<JSONMessage>(m =>
        {
            if (!string.IsNullOrEmpty(m.Error?.Message))
            {
                error = m.Error.Message.Trim();
            }
            else if (!string.IsNullOrEmpty(m.Status) && m.Progress is null)
            {
                log.Report(string.IsNullOrEmpty(m.ID) ? m.Status : $"{m.ID}: {m.Status}");
            }
        });
        try
        {
            await EngineAsync($"Pushing {reference}", async token =>
            {
                await _client.Images.PushImageAsync(save.Repository, new ImagePushParameters { Tag = save.Tag }, new AuthConfig(), progress, token);
                return true;
            }, cancellationToken, _options.BuildTimeout);
        }
        catch (WorkspaceRuntimeException e) when (e.InnerException is DockerApiException api)
        {
            error ??= DockerErrors.EngineMessage(api);
        }

        if (error is not null)
        {
            throw new WorkspaceRuntimeException($"Pushing {reference} failed: {error}", isPermanent: false);
        }

        var pushed = await TryInspectImageAsync(reference, cancellationToken);
        return RepoDigest(reference, pushed?.RepoDigests)
            ?? throw new WorkspaceRuntimeException($"Pushing {reference} ended without a digest from the registry.", isPermanent: false);
    }
}
