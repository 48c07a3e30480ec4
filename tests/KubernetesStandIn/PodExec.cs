using System.Net;
using System.Net.WebSockets;
using System.Text.Json.Nodes;
using Docker.DotNet;
using Docker.DotNet.Models;
using k8s.Models;
using Microsoft.AspNetCore.Http;

namespace CloudDevEnv.KubernetesStandIn;

/// <summary>A pod's exec as the API server relays it: a WebSocket with the <c>v4.channel.k8s.io</c> sub-protocol, each
/// binary message's first byte its channel (0 stdin, 1 stdout, 2 stderr, 3 the outcome as a Status), carried to a Docker
/// exec in the pod's container.</summary>
internal static class PodExec
{
    private static readonly string[] Protocols = ["v4.channel.k8s.io"];

    public static async Task ServeAsync(HttpContext context, PodRunner runner, ObjectStore store, string ns, string name)
    {
        var pod = store.Get<V1Pod>(ResourceKind.Pods, ns, name);
        if (pod is null)
        {
            await KubernetesApiStandIn.WriteStatusAsync(context, HttpStatusCode.NotFound, "NotFound", $"pods \"{name}\" not found");
            return;
        }

        if (pod.Status?.Phase != "Running" || runner.ContainerOf(ns, name) is not { } container)
        {
            await KubernetesApiStandIn.WriteStatusAsync(context, HttpStatusCode.BadRequest, "BadRequest",
                $"pod {name} is not running (phase {pod.Status?.Phase ?? "Pending"})");
            return;
        }

        var query = context.Request.Query;
        if (!string.IsNullOrEmpty(query["container"]) && query["container"] != pod.Spec.Containers[0].Name)
        {
            await KubernetesApiStandIn.WriteStatusAsync(context, HttpStatusCode.BadRequest, "BadRequest", $"container {query["container"]} is not valid for pod {name}");
            return;
        }

        var offered = context.WebSockets.WebSocketRequestedProtocols;
        var protocol = Protocols.FirstOrDefault(offered.Contains);
        if (!context.WebSockets.IsWebSocketRequest || protocol is null)
        {
            await KubernetesApiStandIn.WriteStatusAsync(context, HttpStatusCode.BadRequest, "BadRequest",
                $"the stand-in serves exec over WebSocket with {string.Join(", ", Protocols)} only (offered: {string.Join(", ", offered)})");
            return;
        }

        var command = query["command"].Select(c => c ?? "").ToList();
        var stdin = query["stdin"] == "true" || query["stdin"] == "1";
        using var socket = await context.WebSockets.AcceptWebSocketAsync(protocol);
        var docker = runner.Docker;
        var exec = await docker.Exec.CreateContainerExecAsync(container, new ContainerExecCreateParameters
        {
            Cmd = command,
            AttachStdin = stdin,
            AttachStdout = true,
            AttachStderr = true,
        });
        using var stream = await docker.Exec.StartContainerExecAsync(exec.ID, new ContainerExecStartParameters { Detach = false, TTY = false }, context.RequestAborted);
        var sendLock = new SemaphoreSlim(1, 1);
        async Task SendAsync(byte channel, ReadOnlyMemory<byte> data)
        {
            var frame = new byte[data.Length + 1];
            frame[0] = channel;
            data.CopyTo(frame.AsMemory(1));
            await sendLock.WaitAsync();
            try
            {
                await socket.SendAsync(frame, WebSocketMessageType.Binary, endOfMessage: true, CancellationToken.None);
            }
            finally
            {
                sendLock.Release();
            }
        }

        using var stop = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted);
        var input = stdin ? Task.Run(async () =>
        {
            var buffer = new byte[64 * 1024];
            try
            {
                while (!stop.IsCancellationRequested)
                {
                    var received = await socket.ReceiveAsync(buffer, stop.Token);
                    if (received.MessageType == WebSocketMessageType.Close)
                    {
                        break;
                    }

                    // A message may arrive in parts; only the first part carries the channel byte.
                    var start = 0;
                    if (received.Count > 0 && buffer[0] == 0)
                    {
                        start = 1;
                    }

                    var length = received.Count - start;
                    while (!received.EndOfMessage)
                    {
                        if (length > 0)
                        {
                            await stream.WriteAsync(buffer, start, length, stop.Token);
                        }

                        received = await socket.ReceiveAsync(buffer, stop.Token);
                        start = 0;
                        length = received.Count;
                    }

                    if (length > 0)
                    {
                        await stream.WriteAsync(buffer, start, length, stop.Token);
                    }
                }
            }
            catch (Exception e) when (e is OperationCanceledException or WebSocketException or IOException)
            {
            }
        }) : Task.CompletedTask;

        var chunk = new byte[64 * 1024];
        while (true)
        {
            var read = await stream.ReadOutputAsync(chunk, 0, chunk.Length, context.RequestAborted);
            if (read.EOF)
            {
                break;
            }

            await SendAsync(read.Target == MultiplexedStream.TargetStream.StandardError ? (byte)2 : (byte)1, chunk.AsMemory(0, read.Count));
        }

        ContainerExecInspectResponse inspect;
        var attempts = 0;
        do
        {
            inspect = await docker.Exec.InspectContainerExecAsync(exec.ID);
            if (inspect.Running)
            {
                await Task.Delay(20);
            }
        }
        while (inspect.Running && ++attempts < 200);

        var status = inspect.ExitCode == 0
            ? new JsonObject { ["metadata"] = new JsonObject(), ["status"] = "Success" }
            : new JsonObject
            {
                ["metadata"] = new JsonObject(),
                ["status"] = "Failure",
                ["message"] = $"command terminated with non-zero exit code: error executing command [{string.Join(' ', command)}], exit code {inspect.ExitCode}",
                ["reason"] = "NonZeroExitCode",
                ["details"] = new JsonObject { ["causes"] = new JsonArray(new JsonObject { ["reason"] = "ExitCode", ["message"] = Convert.ToString(inspect.ExitCode, System.Globalization.CultureInfo.InvariantCulture) }) },
            };
        await SendAsync(3, System.Text.Encoding.UTF8.GetBytes(status.ToJsonString()));

        // Closed from this side first, as the API server does; cancelling the stdin reader before that would abort the
        // socket and could lose the status just sent.
        try
        {
            await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, CancellationToken.None);
        }
        catch (Exception e) when (e is WebSocketException or IOException or OperationCanceledException)
        {
        }

        stop.CancelAfter(TimeSpan.FromSeconds(5));
        await input;
        if (!stdin)
        {
            try
            {
                using var drain = new CancellationTokenSource(TimeSpan.FromSeconds(5));
                while (socket.State == WebSocketState.CloseSent && (await socket.ReceiveAsync(new byte[1024], drain.Token)).MessageType != WebSocketMessageType.Close)
                {
                }
            }
            catch (Exception e) when (e is WebSocketException or IOException or OperationCanceledException)
            {
            }
        }
    }
}
