using System.Net.Http.Headers;
using System.Net.WebSockets;

namespace CloudDevEnv.Proxy.Tests.Infrastructure;

/// <summary>Behaves like a browser where the tests need it: keeps host-only cookies per host name and sends
/// each host only its own, follows redirects by hand when asked.</summary>
public sealed class Browser(ProxyServer proxy) : IDisposable
{
    private readonly HttpClient _client = proxy.CreateClient();

    // Kept for the browser's life: an upgraded connection must outlive the call that opened it.
    private readonly HttpMessageInvoker _ws1 = new(proxy.CreateHandler(http2: false));
    private readonly HttpMessageInvoker _ws2 = new(proxy.CreateHandler(http2: true));
    private readonly Dictionary<string, Dictionary<string, string>> _cookies = new(StringComparer.OrdinalIgnoreCase);

    public HttpClient Client => _client;

    public IReadOnlyDictionary<string, string> CookiesFor(string host) =>
        _cookies.TryGetValue(host, out var jar) ? jar : new Dictionary<string, string>();

    public void SetCookie(string host, string name, string value)
    {
        if (!_cookies.TryGetValue(host, out var jar))
        {
            _cookies[host] = jar = new Dictionary<string, string>();
        }

        jar[name] = value;
    }

    public async Task<HttpResponseMessage> GetAsync(Uri url, string accept = "text/html", string? origin = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, url);
        request.Headers.Accept.ParseAdd(accept);
        if (origin is not null)
        {
            request.Headers.TryAddWithoutValidation("Origin", origin);
        }

        return await SendAsync(request);
    }

    public async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request)
    {
        var host = request.RequestUri!.Host;
        if (_cookies.TryGetValue(host, out var jar) && jar.Count > 0)
        {
            request.Headers.TryAddWithoutValidation("Cookie", string.Join("; ", jar.Select(c => $"{c.Key}={c.Value}")));
        }

        var response = await _client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        if (response.Headers.TryGetValues("Set-Cookie", out var setCookies))
        {
            foreach (var setCookie in setCookies)
            {
                var pair = setCookie.Split(';')[0];
                var eq = pair.IndexOf('=');
                SetCookie(host, pair[..eq], pair[(eq + 1)..]);
            }
        }

        return response;
    }

    /// <summary>GETs <paramref name="url"/> and follows up to five redirects, like a page load.</summary>
    public async Task<HttpResponseMessage> NavigateAsync(Uri url)
    {
        var response = await GetAsync(url);
        for (var i = 0; i < 5 && (int)response.StatusCode is >= 300 and < 400; i++)
        {
            var next = new Uri(url, response.Headers.Location!);
            response.Dispose();
            url = next;
            response = await GetAsync(url);
        }

        return response;
    }

    /// <summary>Opens a WebSocket through the proxy, over HTTP/1.1 or HTTP/2, with this browser's cookies for the host.</summary>
    public async Task<ClientWebSocket> OpenWebSocketAsync(Uri url, string? origin, bool http2 = false, CancellationToken cancellationToken = default)
    {
        var socket = new ClientWebSocket();
        socket.Options.KeepAliveInterval = TimeSpan.Zero;
        if (http2)
        {
            socket.Options.HttpVersion = HttpVersion.Version20;
            socket.Options.HttpVersionPolicy = HttpVersionPolicy.RequestVersionExact;
        }

        if (origin is not null)
        {
            socket.Options.SetRequestHeader("Origin", origin);
        }

        if (_cookies.TryGetValue(url.Host, out var jar) && jar.Count > 0)
        {
            socket.Options.SetRequestHeader("Cookie", string.Join("; ", jar.Select(c => $"{c.Key}={c.Value}")));
        }

        socket.Options.CollectHttpResponseDetails = true;
        var wsUrl = new UriBuilder(url) { Scheme = "ws" }.Uri;
        await socket.ConnectAsync(wsUrl, http2 ? _ws2 : _ws1, cancellationToken);
        return socket;
    }

    public static string? Header(HttpResponseMessage response, string name) =>
        response.Headers.TryGetValues(name, out var values) ? string.Join(", ", values)
        : response.Content.Headers.TryGetValues(name, out var content) ? string.Join(", ", content) : null;

    public void Dispose()
    {
        _client.Dispose();
        _ws1.Dispose();
        _ws2.Dispose();
    }
}
