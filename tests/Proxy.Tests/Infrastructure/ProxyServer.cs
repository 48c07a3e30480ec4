using System.Net.Sockets;
using CloudDevEnv.Proxy.Access;
using CloudDevEnv.Proxy.Routing;
using CloudDevEnv.Proxy.Workspaces;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace CloudDevEnv.Proxy.Tests.Infrastructure;

/// <summary>The proxy on real Kestrel ports of 127.0.0.1: one HTTP/1.1 (+ HTTP/2 with prior knowledge is not
/// possible on one cleartext port), one HTTP/2-only (h2c) for the HTTP/2 WebSocket tests.</summary>
public sealed class ProxyServer : IAsyncDisposable
{
    public const string TestKey = "dGVzdC1zaWduaW5nLWtleS10ZXN0LXNpZ25pbmcta2V5LTAxMjM0NTY3ODk=";

    private readonly WebApplication _app;

    private ProxyServer(WebApplication app, int port, int http2Port)
    {
        _app = app;
        Port = port;
        Http2Port = http2Port;
    }

    public int Port { get; }

    public int Http2Port { get; }

    public IServiceProvider Services => _app.Services;

    internal WorkspaceAccessTokens Tokens => Services.GetRequiredService<WorkspaceAccessTokens>();

    internal WorkspaceRouteCache Routes => Services.GetRequiredService<WorkspaceRouteCache>();

    /// <summary>Starts a proxy. With <paramref name="control"/> the grains are faked; otherwise
    /// <paramref name="configureServices"/> must supply an IGrainFactory.</summary>
    internal static async Task<ProxyServer> StartAsync(
        IDictionary<string, string?>? settings = null,
        FakeWorkspaceControl? control = null,
        Action<IServiceCollection>? configureServices = null)
    {
        // A port found free can be taken by a test running in parallel before Kestrel binds it: try again.
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await StartOnAsync(FreePort(), FreePort(), settings, control, configureServices);
            }
            catch (IOException e) when (e.InnerException is Microsoft.AspNetCore.Connections.AddressInUseException && attempt < 5)
            {
            }
        }
    }

    private static async Task<ProxyServer> StartOnAsync(
        int port,
        int http2Port,
        IDictionary<string, string?>? settings,
        FakeWorkspaceControl? control,
        Action<IServiceCollection>? configureServices)
    {
        var values = new Dictionary<string, string?>
        {
            ["Proxy:SigningKey"] = TestKey,
            ["Proxy:PublicPort"] = port.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Proxy:ActivityReportInterval"] = "01:00:00",
            ["Proxy:SubscriptionRenewInterval"] = "00:04:00",
        };
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
        {
            values[key] = value;
        }

        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.Configuration.AddInMemoryCollection(values);
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.Listen(IPAddress.Loopback, port, o => o.Protocols = HttpProtocols.Http1);
            k.Listen(IPAddress.Loopback, http2Port, o => o.Protocols = HttpProtocols.Http2);
        });
        builder.Services.AddWorkspaceProxy(builder.Configuration);
        if (control is not null)
        {
            builder.Services.AddSingleton<IWorkspaceControl>(control);
        }

        configureServices?.Invoke(builder.Services);
        var app = builder.Build();
        app.UseWorkspaceProxy();
        try
        {
            await app.StartAsync();
        }
        catch
        {
            await app.DisposeAsync();
            throw;
        }
        if (control is not null)
        {
            control.Caches.Add(app.Services.GetRequiredService<WorkspaceRouteCache>());
        }

        return new ProxyServer(app, port, http2Port);
    }

    /// <summary>A client that sends every host name to the proxy's port, as a browser does with <c>*.localhost</c>.
    /// No redirects and no cookie jar: the tests look at both themselves.</summary>
    public HttpClient CreateClient(bool http2 = false) => new(CreateHandler(http2))
    {
        DefaultRequestVersion = http2 ? HttpVersion.Version20 : HttpVersion.Version11,
        DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact,
        Timeout = TimeSpan.FromSeconds(60),
    };

    public SocketsHttpHandler CreateHandler(bool http2 = false)
    {
        var target = http2 ? Http2Port : Port;
        return new SocketsHttpHandler
        {
            AllowAutoRedirect = false,
            UseCookies = false,
            UseProxy = false,
            ConnectCallback = async (_, cancellationToken) =>
            {
                var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
                try
                {
                    await socket.ConnectAsync(IPAddress.Loopback, target, cancellationToken);
                    return new NetworkStream(socket, ownsSocket: true);
                }
                catch
                {
                    socket.Dispose();
                    throw;
                }
            },
        };
    }

    public Uri Url(string label, string pathAndQuery = "/") => new($"http://{label}.localhost:{Port}{pathAndQuery}");

    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
