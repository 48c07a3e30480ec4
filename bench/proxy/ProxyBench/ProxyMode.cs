using System.Net;
using CloudDevEnv.Proxy;
using CloudDevEnv.Access;
using CloudDevEnv.Proxy.Access;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace CloudDevEnv.Bench.Proxy;

/// <summary>The workspace proxy as the local host runs it: co-hosted with an Orleans silo, on its own Kestrel
/// port. A second port answers the script: sign-in links, and a GC'd RSS reading.</summary>
internal static class ProxyMode
{
    public static async Task<int> RunAsync(string[] args)
    {
        var proxyPort = int.Parse(args[0]);
        var controlPort = int.Parse(args[1]);
        var upstream = new Uri(args[2]);
        var siloPort = int.Parse(args[3]);
        var gatewayPort = int.Parse(args[4]);

        var builder = WebApplication.CreateBuilder();
        builder.Logging.ClearProviders();
        builder.Logging.AddConsole().SetMinimumLevel(LogLevel.Warning);
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Proxy:PublicPort"] = proxyPort.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Proxy:SigningKey"] = Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32)),
        });
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.Listen(IPAddress.Loopback, proxyPort, o => o.Protocols = HttpProtocols.Http1);
            k.Listen(IPAddress.Loopback, controlPort, o => o.Protocols = HttpProtocols.Http1);
        });
        builder.UseOrleans(silo => silo.UseLocalhostClustering(siloPort, gatewayPort));
        builder.Services.AddSingleton(new BenchUpstream(upstream));
        builder.Services.AddWorkspaceProxy(builder.Configuration);

        var app = builder.Build();
        app.MapWhen(c => c.Connection.LocalPort == proxyPort, proxy => proxy.UseWorkspaceProxy());
        app.Run(async context =>
        {
            switch (context.Request.Path.Value)
            {
                case "/signin":
                    var tokens = context.RequestServices.GetRequiredService<IWorkspaceAccessTokens>();
                    await context.Response.WriteAsync(tokens.CreateSignInUrl(context.Request.Query["id"]!, "bench").AbsoluteUri);
                    break;
                case "/rss":
                    // A full, compacting collection first: the figure is what the connections hold, not garbage.
                    GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
                    GC.WaitForPendingFinalizers();
                    GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
                    await context.Response.WriteAsync($"{Environment.ProcessId} {ReadRssKb()} {GC.GetTotalMemory(false) / 1024}");
                    break;
                default:
                    context.Response.StatusCode = 404;
                    break;
            }
        });
        await app.RunAsync();
        return 0;
    }

    private static long ReadRssKb()
    {
        foreach (var line in File.ReadLines("/proc/self/status"))
        {
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
            {
                return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]);
            }
        }

        return -1;
    }
}
