using System.Net.Sockets;

namespace CloudDevEnv.Api.Tests;

/// <summary>Behaves like a browser where the identity tests need it: one cookie jar across the platform's host and the
/// workspace hosts (host-only cookies stay with their host), page loads that accept HTML, redirects followed by hand
/// from host to host, and <c>*.localhost</c> reached on loopback (RFC 6761) whatever the resolver says.</summary>
public sealed class BrowserClient : IDisposable
{
    private readonly HttpClient _client;

    public BrowserClient()
    {
        _client = new HttpClient(new SocketsHttpHandler
        {
            AllowAutoRedirect = false,
            UseCookies = true,
            CookieContainer = Cookies,
            ConnectCallback = ConnectToLoopbackAsync,
        });
    }

    /// <summary>Where a navigation ended, what it got there, and how many requests it took.</summary>
    public sealed record Visit(Uri Url, HttpResponseMessage Response, int Hops);

    public CookieContainer Cookies { get; } = new();

    public Task<Visit> NavigateAsync(Uri url) => FollowAsync(new HttpRequestMessage(HttpMethod.Get, url));

    /// <summary>Submits a form the way a page of <paramref name="url"/>'s own origin does.</summary>
    public Task<Visit> PostFormAsync(Uri url, Dictionary<string, string> form)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = new FormUrlEncodedContent(form) };
        request.Headers.TryAddWithoutValidation("Origin", url.GetLeftPart(UriPartial.Authority));
        return FollowAsync(request);
    }

    private async Task<Visit> FollowAsync(HttpRequestMessage request)
    {
        for (var hop = 1; hop <= 10; hop++)
        {
            request.Headers.Accept.ParseAdd("text/html");
            var response = await _client.SendAsync(request);
            if ((int)response.StatusCode is < 300 or >= 400 || response.Headers.Location is null)
            {
                return new Visit(request.RequestUri!, response, hop);
            }

            var next = new Uri(request.RequestUri!, response.Headers.Location);
            response.Dispose();
            request = new HttpRequestMessage(HttpMethod.Get, next);
        }

        throw new InvalidOperationException("More than 10 redirects.");
    }

    /// <summary>Only loopback: 127.0.0.1 and <c>*.localhost</c>. Anything else is refused rather than dialled.</summary>
    private static async ValueTask<Stream> ConnectToLoopbackAsync(SocketsHttpConnectionContext context, CancellationToken cancellationToken)
    {
        var host = context.DnsEndPoint.Host;
        if (host != "127.0.0.1" && host != "localhost" && !host.EndsWith(".localhost", StringComparison.OrdinalIgnoreCase))
        {
            throw new HttpRequestException($"The test browser goes to loopback only, not to {host}.");
        }

        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        await socket.ConnectAsync(new IPEndPoint(IPAddress.Loopback, context.DnsEndPoint.Port), cancellationToken);
        return new NetworkStream(socket, ownsSocket: true);
    }

    public void Dispose() => _client.Dispose();
}
