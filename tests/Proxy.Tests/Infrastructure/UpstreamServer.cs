using System.Globalization;
using System.Net.WebSockets;
using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Logging;

namespace CloudDevEnv.Proxy.Tests.Infrastructure;

/// <summary>A real Kestrel server on an ephemeral loopback port standing in for a program in a workspace.</summary>
public sealed class UpstreamServer : IAsyncDisposable
{
    private readonly WebApplication _app;

    /// <summary>The /stream endpoint writes its first chunk, then waits for this before the second.</summary>
    public TaskCompletionSource StreamGate { get; private set; } = NewGate();

    private UpstreamServer(WebApplication app) => _app = app;

    public Uri BaseUri { get; private set; } = null!;

    public int Port => BaseUri.Port;

    /// <summary>The port a request may name for which this upstream answers as a gateway does when nothing listens.</summary>
    public const int NoListenerPort = 4999;

    public static async Task<UpstreamServer> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.Listen(IPAddress.Loopback, 0, o => o.Protocols = HttpProtocols.Http1);
            k.Limits.MaxRequestBodySize = null;
        });
        var app = builder.Build();
        var server = new UpstreamServer(app);

        // Plays the workspace gateway's answer for a port nothing listens on.
        app.Use((context, next) =>
        {
            if (context.Request.Headers[GatewayProtocol.TargetHeader] == NoListenerPort.ToString(CultureInfo.InvariantCulture))
            {
                context.Response.StatusCode = StatusCodes.Status502BadGateway;
                context.Response.Headers[GatewayProtocol.StatusHeader] = GatewayProtocol.NoListener;
                return context.Response.WriteAsync("Nothing answers on port 4999 in this workspace.");
            }

            return next(context);
        });

        // No server pings: an idle socket must be truly idle for the activity-timeout tests.
        app.UseWebSockets(new WebSocketOptions { KeepAliveInterval = TimeSpan.Zero });
        app.Map("/ws", async context =>
        {
            if (!context.WebSockets.IsWebSocketRequest)
            {
                context.Response.StatusCode = 400;
                return;
            }

            using var socket = await context.WebSockets.AcceptWebSocketAsync();
            await EchoAsync(socket, context.RequestAborted);
        });
        app.MapGet("/hello", () => "hello from upstream");
        app.MapGet("/headers", (HttpRequest request) => Results.Json(
            request.Headers.ToDictionary(h => h.Key.ToLowerInvariant(), h => h.Value.ToString())));
        app.MapGet("/stream", async (HttpContext context) =>
        {
            context.Response.ContentType = "text/plain";
            await context.Response.WriteAsync("first\n");
            await context.Response.Body.FlushAsync();
            await server.StreamGate.Task.WaitAsync(TimeSpan.FromSeconds(30));
            await context.Response.WriteAsync("second\n");
        });
        app.MapGet("/slow", async (int ms) =>
        {
            await Task.Delay(ms);
            return "slow done";
        });
        app.MapGet("/bytes", async (HttpContext context, long count) =>
        {
            context.Response.ContentType = "application/octet-stream";
            context.Response.ContentLength = count;
            var chunk = new byte[64 * 1024];
            for (var i = 0; i < chunk.Length; i++)
            {
                chunk[i] = (byte)(i * 31);
            }

            for (long sent = 0; sent < count; sent += chunk.Length)
            {
                await context.Response.Body.WriteAsync(chunk.AsMemory(0, (int)Math.Min(chunk.Length, count - sent)));
            }
        });
        app.MapPost("/digest", async (HttpContext context) =>
        {
            using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            var buffer = new byte[64 * 1024];
            long length = 0;
            int read;
            while ((read = await context.Request.Body.ReadAsync(buffer)) > 0)
            {
                sha.AppendData(buffer, 0, read);
                length += read;
            }

            return Results.Json(new { length, sha256 = Convert.ToHexString(sha.GetHashAndReset()) });
        });

        await app.StartAsync();
        server.BaseUri = new Uri(app.Urls.First().Replace("[::]", "127.0.0.1") + "/");
        return server;
    }

    public void ResetStreamGate() => StreamGate = NewGate();

    public static Dictionary<string, string> ParseHeaders(string json) =>
        JsonSerializer.Deserialize<Dictionary<string, string>>(json)!;

    private static TaskCompletionSource NewGate() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    private static async Task EchoAsync(WebSocket socket, CancellationToken cancellationToken)
    {
        var buffer = new byte[16 * 1024];
        while (socket.State == WebSocketState.Open)
        {
            WebSocketReceiveResult result;
            try
            {
                result = await socket.ReceiveAsync(buffer, cancellationToken);
            }
            catch (Exception e) when (e is WebSocketException or OperationCanceledException)
            {
                return;
            }

            if (result.MessageType == WebSocketMessageType.Close)
            {
                await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, CancellationToken.None);
                return;
            }

            await socket.SendAsync(buffer.AsMemory(0, result.Count), result.MessageType, result.EndOfMessage, cancellationToken);
        }
    }

    public async ValueTask DisposeAsync()
    {
        StreamGate.TrySetResult();
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
