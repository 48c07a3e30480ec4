using System.Net;
using Docker.DotNet;
using Docker.DotNet.Models;

namespace CloudDevEnv.Runtime.Docker;

// Archive: a folder of the workspace out as a tar, and a tar back in.
public sealed partial class DockerWorkspaceRuntime
{
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

    private static string AbsolutePath(string path)
    {
        if (string.IsNullOrWhiteSpace(path) || !path.StartsWith('/'))
        {
            throw new WorkspaceRuntimeException($"'{path}' is not an absolute path inside the workspace.", isPermanent: true);
        }

        return path;
    }
}
