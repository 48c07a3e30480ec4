using System.Text;
using k8s;
using k8s.Models;

namespace CloudDevEnv.Runtime.Kubernetes;

// Exec: commands in a running pod over the API's exec (WebSocket, channel protocol v4), and the probe of its gateway.
public sealed partial class KubernetesWorkspaceRuntime
{
    public async Task<ExecResult> ExecAsync(string workspaceId, ExecRequest request, IProgress<string> output, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (request.Command is not { Count: > 0 } || string.IsNullOrEmpty(request.Command[0]))
        {
            throw new WorkspaceRuntimeException("Exec needs a command.", isPermanent: true);
        }

        ValidateId(workspaceId);
        await RequireRunningAsync(workspaceId, "run a command", cancellationToken);
        IReadOnlyList<string> command = request.Command;
        if (request.Detached)
        {
            // As on Docker: a short shell starts the server in the background and exits; the pod's pause process reaps it later.
            command =
            [
                "/bin/sh", "-c",
                "command -v \"$1\" >/dev/null 2>&1 || { echo \"$1: command not found\" >&2; exit 127; }; " +
                "\"$@\" </dev/null >/dev/null 2>&1 & echo \"started $1 (pid $!)\"",
                "cde-detached", .. request.Command,
            ];
        }

        var helper = ExecHelper.Command(_options.IdeBundleTarget, new ExecHelper.Request(request.User, request.WorkingDirectory, request.Environment), command);
        var tail = new TailBuffer();
        var stdout = new OutputLines(output, tail);
        var stderr = new OutputLines(output, tail);
        var exitCode = await StreamExecOnPodAsync(ObjectName(workspaceId), $"Running '{request.Command[0]}' in workspace {workspaceId}", helper,
            (chunk, token) => { stdout.Write(chunk.Span); return ValueTask.CompletedTask; },
            chunk => stderr.Write(chunk.Span), cancellationToken);
        stdout.Flush();
        stderr.Flush();
        return new ExecResult(exitCode, tail.ToString());
    }

    /// <summary>Runs <paramref name="command"/> as it is in the pod, handing stdout to <paramref name="stdout"/> as it comes and
    /// stderr to <paramref name="stderr"/>; returns the exit code the API reports.</summary>
    private async Task<int> StreamExecOnPodAsync(
        string podName, string action, IReadOnlyList<string> command,
        Func<ReadOnlyMemory<byte>, CancellationToken, ValueTask> stdout, Action<ReadOnlyMemory<byte>> stderr, CancellationToken ct)
    {
        using var demuxer = await OpenExecAsync(podName, action, command, stdin: false, ct);
        try
        {
            using var outStream = demuxer.GetStream(ChannelIndex.StdOut, null);
            using var errStream = demuxer.GetStream(ChannelIndex.StdErr, null);
            using var statusStream = demuxer.GetStream(ChannelIndex.Error, null);
            var readErr = PumpAsync(errStream, (chunk, _) => { stderr(chunk); return ValueTask.CompletedTask; }, ct);
            var readStatus = ReadAllAsync(statusStream, ct);
            await PumpAsync(outStream, stdout, ct);
            await readErr;
            var status = await readStatus;
            return ExitCode(status, action);
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            throw;
        }
        catch (Exception e) when (e is not WorkspaceRuntimeException)
        {
            throw Map(e, action);
        }
    }

    /// <summary>An exec's channels, demultiplexed and read from at once. The client's MuxedStreamNamespacedPodExecAsync
    /// neither passes the stdin/stdout/stderr flags on (it asks for stdin always) nor starts reading, so the socket is
    /// opened here with the flags meant.</summary>
    private async Task<StreamDemuxer> OpenExecAsync(string podName, string action, IReadOnlyList<string> command, bool stdin, CancellationToken ct)
    {
        var socket = await ApiAsync(action, token => _client.WebSocketNamespacedPodExecAsync(
            podName, _options.Namespace, command, WorkspaceContainer, stderr: true, stdin: stdin, stdout: true, tty: false,
            webSocketSubProtocol: WebSocketProtocol.V4BinaryWebsocketProtocol, cancellationToken: token), ct);
        var demuxer = new StreamDemuxer(socket, StreamType.RemoteCommand, ownsSocket: true);
        demuxer.Start();
        return demuxer;
    }

    private static async Task PumpAsync(Stream stream, Func<ReadOnlyMemory<byte>, CancellationToken, ValueTask> sink, CancellationToken ct)
    {
        var buffer = new byte[16 * 1024];
        int read;
        while ((read = await stream.ReadAsync(buffer, ct)) > 0)
        {
            await sink(buffer.AsMemory(0, read), ct);
        }
    }

    private static async Task<string> ReadAllAsync(Stream stream, CancellationToken ct)
    {
        using var reader = new StreamReader(stream, Encoding.UTF8);
        return await reader.ReadToEndAsync(ct);
    }

    /// <summary>The exec's outcome from the error channel: a Status, Success or NonZeroExitCode with the code as a cause.</summary>
    private static int ExitCode(string status, string action)
    {
        if (string.IsNullOrWhiteSpace(status))
        {
            throw new WorkspaceRuntimeException($"{action}: the connection ended before the API said how the command ended.", isPermanent: false);
        }

        var parsed = KubernetesJson.Deserialize<V1Status>(status);
        if (parsed.Status == "Success")
        {
            return 0;
        }

        if (parsed.Reason == "NonZeroExitCode"
            && parsed.Details?.Causes?.FirstOrDefault(c => c.Reason == "ExitCode")?.Message is { } code
            && int.TryParse(code, System.Globalization.NumberStyles.Integer, System.Globalization.CultureInfo.InvariantCulture, out var exit))
        {
            return exit;
        }

        throw new WorkspaceRuntimeException($"{action}: {parsed.Message ?? status}", isPermanent: false);
    }

    private async Task<V1Pod> RequireRunningAsync(string workspaceId, string what, CancellationToken ct)
    {
        var pod = await _pods.GetAsync(ObjectName(workspaceId), ct);
        if (pod is null || !IsRunning(pod))
        {
            throw new WorkspaceRuntimeException(
                $"Cannot {what} in workspace {workspaceId}: its pod is {(pod is null ? "not there" : pod.Metadata.DeletionTimestamp is not null ? "terminating" : pod.Status?.Phase ?? "pending")}.",
                isPermanent: false);
        }

        return pod;
    }

    /// <summary>HTTP GET of <c>/</c> through the gateway with its secret; any answer below 500 counts (as on Docker).</summary>
    public async Task<bool> ProbeIdeAsync(string workspaceId, CancellationToken cancellationToken)
    {
        ValidateId(workspaceId);
        if (await ReadSecretAsync(workspaceId, cancellationToken) is not { } secret
            || await InstanceAsync(workspaceId, secret, cancellationToken) is not { State: InstanceState.Running, Gateway: { } gateway })
        {
            return false;
        }

        using var request = new HttpRequestMessage(HttpMethod.Get, gateway);
        request.Headers.Add(GatewayProtocol.SecretHeader, SecretValue(secret, SecretKey));
        request.Headers.Add(GatewayProtocol.TargetHeader, GatewayProtocol.IdeTarget);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(_options.ProbeTimeout);
        try
        {
            using var response = await _probe.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token);
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
}
