using System.IO.Pipelines;
using k8s;
using k8s.Models;
using Microsoft.Extensions.Logging;

namespace CloudDevEnv.Runtime.Kubernetes;

// Archive: a folder of the workspace out as a tar, and a tar back in, with the image's own tar over exec. A workspace
// without a running pod (a snapshot taken after its stop) is read through a short-lived pod on the same volumes.
public sealed partial class KubernetesWorkspaceRuntime
{
    /// <summary>The name of the short-lived pod that reads a stopped workspace's volumes: a '.' no workspace id has.</summary>
    private string FilesPodName(string workspaceId) => ObjectName(workspaceId) + ".files";

    public async Task<Stream> ArchiveAsync(string workspaceId, string path, CancellationToken cancellationToken)
    {
        ValidateId(workspaceId);
        var folder = AbsolutePath(path);
        var action = $"Archiving {folder} of workspace {workspaceId}";
        var pod = await _pods.GetAsync(ObjectName(workspaceId), cancellationToken);
        string? filesPod = null;
        if (pod is null || !IsRunning(pod))
        {
            filesPod = await StartFilesPodAsync(workspaceId, cancellationToken);
        }

        var target = filesPod ?? ObjectName(workspaceId);
        var command = ExecHelper.Command(_options.IdeBundleTarget, new ExecHelper.Request("0", null, null),
            ["/bin/sh", "-c", "cd -- \"$1\" && exec tar --numeric-owner -cf - .", "cde-archive", folder]);
        var pipe = new Pipe(new PipeOptions(pauseWriterThreshold: 1024 * 1024, resumeWriterThreshold: 512 * 1024));
        var errors = new TailBuffer(10);
        var errorLines = new OutputLines(null, errors);
        _ = Task.Run(async () =>
        {
            Exception? failure = null;
            try
            {
                var exit = await StreamExecOnPodAsync(target, action, command,
                    async (chunk, token) => await pipe.Writer.WriteAsync(chunk, token),
                    chunk => errorLines.Write(chunk.Span), cancellationToken);
                errorLines.Flush();
                if (exit != 0)
                {
                    failure = new WorkspaceRuntimeException($"{action}: tar ended with exit code {exit}: {errors}", isPermanent: exit is 2 or 126 or 127);
                }
            }
            catch (Exception e)
            {
                failure = e;
            }
            finally
            {
                if (filesPod is not null)
                {
                    await DeleteFilesPodAsync(workspaceId, CancellationToken.None);
                }
            }

            await pipe.Writer.CompleteAsync(failure);
        }, CancellationToken.None);
        return pipe.Reader.AsStream();
    }

    public async Task RestoreAsync(string workspaceId, string path, Stream tar, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(tar);
        ValidateId(workspaceId);
        var folder = AbsolutePath(path);
        var action = $"Restoring {folder} of workspace {workspaceId}";
        await RequireRunningAsync(workspaceId, "restore files", cancellationToken);
        var command = ExecHelper.FramedStdinCommand(_options.IdeBundleTarget,
            ["/bin/sh", "-c", "mkdir -p -- \"$1\" && cd -- \"$1\" && exec tar --numeric-owner -xpf -", "cde-restore", folder]);
        var errors = new TailBuffer(10);
        var lines = new OutputLines(null, errors);
        using var demuxer = await OpenExecAsync(ObjectName(workspaceId), action, command, stdin: true, cancellationToken);
        int exit;
        try
        {
            using var stdin = demuxer.GetStream(null, ChannelIndex.StdIn);
            using var outStream = demuxer.GetStream(ChannelIndex.StdOut, null);
            using var errStream = demuxer.GetStream(ChannelIndex.StdErr, null);
            using var statusStream = demuxer.GetStream(ChannelIndex.Error, null);
            var readOut = PumpAsync(outStream, (chunk, _) => { lines.Write(chunk.Span); return ValueTask.CompletedTask; }, cancellationToken);
            var readErr = PumpAsync(errStream, (chunk, _) => { lines.Write(chunk.Span); return ValueTask.CompletedTask; }, cancellationToken);
            var readStatus = ReadAllAsync(statusStream, cancellationToken);
            var buffer = new byte[64 * 1024];
            int read;
            while ((read = await tar.ReadAsync(buffer, cancellationToken)) > 0)
            {
                var frame = ExecHelper.Frame(buffer.AsSpan(0, read));
                await stdin.WriteAsync(frame, cancellationToken);
            }

            await stdin.WriteAsync(ExecHelper.Frame([]), cancellationToken);
            await readOut;
            await readErr;
            exit = ExitCode(await readStatus, action);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw;
        }
        catch (Exception e) when (e is not WorkspaceRuntimeException)
        {
            throw Map(e, action);
        }

        lines.Flush();
        if (exit != 0)
        {
            throw new WorkspaceRuntimeException($"{action}: tar ended with exit code {exit}: {errors}", isPermanent: true);
        }
    }

    /// <summary>A pod on the workspace's volumes that only sleeps, for reading them while the workspace is stopped.</summary>
    private async Task<string> StartFilesPodAsync(string workspaceId, CancellationToken ct)
    {
        var secret = await ReadSecretAsync(workspaceId, ct)
            ?? throw new WorkspaceRuntimeException($"Workspace {workspaceId} has no objects on Kubernetes.", isPermanent: true);
        var pod = TemplateOf(secret);
        var name = FilesPodName(workspaceId);
        pod.Metadata.Name = name;
        pod.Metadata.Labels[RoleLabel] = "files";
        pod.Metadata.Labels.Remove(RuntimeLabels.GatewayPort);
        // Not the workspace's: its Service must not route to this pod.
        pod.Metadata.Labels.Remove(RuntimeLabels.WorkspaceId);
        pod.Metadata.Labels["dev.clouddevenv.files-of"] = workspaceId;
        pod.Spec.Hostname = null;
        var container = pod.Spec.Containers[0];
        container.Command = ["sleep", "infinity"];
        container.Ports = null;
        container.Env = container.Env?.Where(e => e.ValueFrom is null).ToList();
        await DeleteFilesPodAsync(workspaceId, ct);
        var created = await ApiAsync($"Creating a pod to read the files of workspace {workspaceId}",
            token => _client.CoreV1.CreateNamespacedPodAsync(pod, _options.Namespace, cancellationToken: token), ct);
        _pods.Observe(created);
        var (_, last) = await _pods.WaitAsync(name, p => p is null || IsRunning(p) || p.Status?.Phase is "Failed" or "Succeeded" || Stuck(p) is not null, _options.StartTimeout, ct);
        if (last is null || !IsRunning(last))
        {
            await DeleteFilesPodAsync(workspaceId, CancellationToken.None);
            throw new WorkspaceRuntimeException($"The pod reading the files of workspace {workspaceId} did not run: {(last is null ? "deleted" : Stuck(last) ?? last.Status?.Phase)}.", isPermanent: false);
        }

        return name;
    }

    private async Task DeleteFilesPodAsync(string workspaceId, CancellationToken ct)
    {
        var name = FilesPodName(workspaceId);
        try
        {
            await DeleteIfPresentAsync($"Deleting the file reader of workspace {workspaceId}",
                token => _client.CoreV1.DeleteNamespacedPodAsync(name, _options.Namespace, gracePeriodSeconds: 0, cancellationToken: token), ct);
            await _pods.WaitAsync(name, p => p is null, _options.RequestTimeout, ct);
        }
        catch (WorkspaceRuntimeException e)
        {
            LogFilesPodLeft(_logger, workspaceId, name, e.Message);
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

    [LoggerMessage(Level = LogLevel.Warning, Message = "Workspace {WorkspaceId}: the file reader pod {Name} could not be deleted: {Message}")]
    private static partial void LogFilesPodLeft(ILogger logger, string workspaceId, string name, string message);
}
