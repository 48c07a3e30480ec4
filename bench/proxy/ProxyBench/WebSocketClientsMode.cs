using System.Net.WebSockets;

namespace CloudDevEnv.Bench.Proxy;

/// <summary>Opens <c>count</c> WebSockets to <c>url</c> (connecting to 127.0.0.1:<c>port</c> whatever the host name,
/// as browsers do for <c>*.localhost</c>), checks each echoes once, prints "open N", then holds them idle (no pings
/// either way) until stdin closes or 10 minutes pass.</summary>
internal static class WebSocketClientsMode
{
    public static async Task<int> RunAsync(string[] args)
    {
        var url = new Uri(args[0]);
        var port = int.Parse(args[1]);
        var count = int.Parse(args[2]);
        var cookie = args.Length > 3 ? args[3] : "";
        var origin = args.Length > 4 ? args[4] : "";
        using var invoker = new HttpMessageInvoker(new SocketsHttpHandler
        {
            UseProxy = false,
            ConnectCallback = async (_, cancellationToken) =>
            {
                var socket = new System.Net.Sockets.Socket(System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp);
                await socket.ConnectAsync(System.Net.IPAddress.Loopback, port, cancellationToken);
                return new System.Net.Sockets.NetworkStream(socket, ownsSocket: true);
            },
        });
        var sockets = new List<ClientWebSocket>(count);
        using var gate = new SemaphoreSlim(50);
        var tasks = Enumerable.Range(0, count).Select(async _ =>
        {
            await gate.WaitAsync();
            try
            {
                var socket = new ClientWebSocket();
                socket.Options.KeepAliveInterval = TimeSpan.Zero;
                if (cookie.Length > 0)
                {
                    socket.Options.SetRequestHeader("Cookie", cookie);
                }

                if (origin.Length > 0)
                {
                    socket.Options.SetRequestHeader("Origin", origin);
                }

                await socket.ConnectAsync(url, invoker, CancellationToken.None);
                await socket.SendAsync("hi"u8.ToArray(), WebSocketMessageType.Text, true, CancellationToken.None);
                var buffer = new byte[16];
                await socket.ReceiveAsync(buffer, CancellationToken.None);
                lock (sockets)
                {
                    sockets.Add(socket);
                }
            }
            finally
            {
                gate.Release();
            }
        });
        await Task.WhenAll(tasks);
        Console.WriteLine($"open {sockets.Count}");
        Console.Out.Flush();

        var stdinClosed = Task.Run(() => Console.In.ReadToEnd());
        await Task.WhenAny(stdinClosed, Task.Delay(TimeSpan.FromMinutes(10)));
        foreach (var socket in sockets)
        {
            socket.Abort();
            socket.Dispose();
        }

        return 0;
    }
}
