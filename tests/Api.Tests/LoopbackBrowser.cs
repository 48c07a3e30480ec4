using System.Net.Sockets;
using System.Net.WebSockets;

namespace CloudDevEnv.Api.Tests;

/// <summary>A browser's way into a workspace through the proxy, reduced to what the tests need: <c>*.localhost</c>
/// dialled on loopback (RFC 6761) whatever the resolver thinks, the sign-in link redeemed for the host's cookie,
/// redirects followed, and the IDE's WebSocket opened with that cookie and the host's own Origin.</summary>
public static class LoopbackBrowser
{
    public static Func<SocketsHttpConnectionContext, CancellationToken, ValueTask<Stream>> ConnectToLoopback(int port) =>
        async (_, cancellationToken) =>
        {
            var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            await socket.ConnectAsync(new IPEndPoint(IPAddress.Loopback, port), cancellationToken);
            return new NetworkStream(socket, ownsSocket: true);
        };

    public static async Task<HttpResponseMessage> FollowAsync(HttpClient browser, string url, string cookie)
    {
        for (var hop = 0; hop < 5; hop++)
        {
            var request = new HttpRequestMessage(HttpMethod.Get, url);
            request.Headers.Add("Cookie", cookie);
            var response = await browser.SendAsync(request);
            if ((int)response.StatusCode is < 300 or >= 400 || response.Headers.Location is null)
            {
                return response;
            }

            url = new Uri(new Uri(url), response.Headers.Location).AbsoluteUri;
        }

        throw new InvalidOperationException("Too many redirects.");
    }

    /// <summary>Redeems the single-use link of <c>POST …/open</c> at the workspace host; returns the host's cookie.</summary>
    public static async Task<string> SignInAsync(HttpClient api, string id, int proxyPort)
    {
        var open = await api.PostAsync($"/api/workspaces/{id}/open", null);
        Assert.Equal(HttpStatusCode.OK, open.StatusCode);
        var link = new Uri((await open.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("url").GetString()!);
        using var handler = new SocketsHttpHandler { AllowAutoRedirect = false, UseCookies = false, ConnectCallback = ConnectToLoopback(proxyPort) };
        using var browser = new HttpClient(handler);
        var redeemed = await browser.GetAsync($"http://{id}.localhost:{proxyPort}{link.PathAndQuery}");
        Assert.Equal(HttpStatusCode.SeeOther, redeemed.StatusCode);
        return redeemed.Headers.GetValues("Set-Cookie").Single().Split(';')[0];
    }

    /// <summary>code-server's own WebSocket, as its workbench opens it.</summary>
    public static async Task<ClientWebSocket> OpenIdeSocketAsync(string id, int proxyPort, string cookie)
    {
        var socket = new ClientWebSocket();
        socket.Options.SetRequestHeader("Cookie", cookie);
        socket.Options.SetRequestHeader("Origin", $"http://{id}.localhost:{proxyPort}");
        using var invoker = new HttpMessageInvoker(new SocketsHttpHandler { ConnectCallback = ConnectToLoopback(proxyPort) });
        await socket.ConnectAsync(
            new Uri($"ws://{id}.localhost:{proxyPort}/?reconnectionToken={Guid.NewGuid()}&reconnection=false&skipWebSocketFrames=false"),
            invoker,
            CancellationToken.None);
        return socket;
    }
}
