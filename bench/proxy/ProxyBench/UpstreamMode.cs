using System.Net;
using System.Net.WebSockets;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Logging;

namespace CloudDevEnv.Bench.Proxy;

/// <summary>The upstream every configuration forwards to: a 13-byte text answer, and a WebSocket echo.</summary>
internal static class UpstreamMode
{
    public static async Task<int> RunAsync(string[] args)
    {
        var port = int.Parse(args[0]);
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, port, o => o.Protocols = HttpProtocols.Http1));
        var app = builder.Build();
        app.UseWebSockets(new WebSocketOptions { KeepAliveInterval = TimeSpan.Zero });
        // One terminal handler, no routing: the direct figures are as close to bare Kestrel as it gets.
        app.Run(async context =>
        {
            if (context.Request.Path != "/ws" || !context.WebSockets.IsWebSocketRequest)
            {
                await context.Response.WriteAsync("Hello, World!");
                return;
            }

            using var socket = await context.WebSockets.AcceptWebSocketAsync();
            var buffer = new byte[256];
            try
            {
                while (true)
                {
                    var result = await socket.ReceiveAsync(buffer, context.RequestAborted);
                    if (result.MessageType == WebSocketMessageType.Close)
                    {
                        return;
                    }

                    await socket.SendAsync(buffer.AsMemory(0, result.Count), result.MessageType, result.EndOfMessage, context.RequestAborted);
                }
            }
            catch (Exception e) when (e is WebSocketException or OperationCanceledException)
            {
            }
        });
        await app.RunAsync();
        return 0;
    }
}
