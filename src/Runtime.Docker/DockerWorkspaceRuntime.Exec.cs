using System.Net;
using Docker.DotNet;
using Docker.DotNet.Models;

namespace CloudDevEnv.Runtime.Docker;

// Exec: commands in a running workspace (attached or detached), and the HTTP probe of its ports.
public sealed partial class DockerWorkspaceRuntime
{
    public async Task<ExecResult> ExecAsync(string workspaceId, ExecRequest request, IProgress<string> output, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (request.Command is not { Count: > 0 } || string.IsNullOrEmpty(request.Command[0]))
        {
            throw new WorkspaceRuntimeException("Exec needs a command.", isPermanent: true);
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

        // The container found last time, without asking the engine again (a launch runs a dozen execs): the engine
        // itself says when it is gone or stopped (404, 409), and then the container is looked up afresh.
        if (_execTargets.TryGetValue(workspaceId, out var known))
        {
            try
            {
                return await RunExecAsync(workspaceId, known, command, request, output, cancellationToken);
            }
            catch (WorkspaceRuntimeException e) when (e.InnerException is DockerApiException { StatusCode: HttpStatusCode.NotFound or HttpStatusCode.Conflict })
            {
                _execTargets.TryRemove(KeyValuePair.Create(workspaceId, known));
            }
        }

        var container = await RequireAsync(workspaceId, cancellationToken);
        if (container.State?.Running != true)
        {
            throw new WorkspaceRuntimeException(
                $"Cannot run a command in workspace {workspaceId}: its container is {container.State?.Status ?? "not running"}.", isPermanent: false);
        }

        var result = await RunExecAsync(workspaceId, container.ID, command, request, output, cancellationToken);
        _execTargets[workspaceId] = container.ID;
        return result;
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
}
