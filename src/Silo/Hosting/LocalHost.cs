using System.Net;
using CloudDevEnv.Api;
using CloudDevEnv.Api.Identity;
using CloudDevEnv.Grains;
using CloudDevEnv.LocalStorage;
using CloudDevEnv.Proxy;
using CloudDevEnv.Runtime.Docker;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.Extensions.Configuration.Memory;
using Microsoft.Extensions.Options;
using Orleans.Configuration;
using Orleans.Dashboard;

namespace CloudDevEnv.Silo.Hosting;

/// <summary>Builds the local-mode process. Tests build it too, swapping only what they must.</summary>
public static class LocalHost
{
    public static WebApplicationBuilder CreateBuilder(string[] args)
    {
        // The build output's appsettings.json (log levels), wherever the process is started from (./run.sh: the repository).
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });
        var host = HostConfiguration.Prepare(builder, args);
        var dataDir = Path.GetFullPath(host.DataDir);
        DataFolderLock.Acquire(dataDir);
        if (string.IsNullOrEmpty(builder.Configuration["Runtime:Docker:Installation"]))
        {
            builder.Configuration.AddInMemoryCollection([new("Runtime:Docker:Installation", InstallationId.ReadOrCreate(dataDir))]);
        }

        // Local mode keeps the proxy's cookie-signing key and the secrets' key beside the grain state unless configured.
        HostConfiguration.KeepBesideData(builder.Configuration, dataDir);
        builder.WebHost.UseUrls(host.ApiUrl, host.ProxyUrl);

        // Session cookies stay valid across restarts: the keys that protect them live beside the grain state.
        builder.Services.AddDataProtection()
            .SetApplicationName("clouddevenv")
            .PersistKeysToFileSystem(new DirectoryInfo(Path.Combine(dataDir, "keys")));

        builder.UseOrleans(silo =>
        {
            silo.UseLocalhostClustering(host.SiloPort, host.GatewayPort);
            silo.Configure<ClusterOptions>(o =>
            {
                o.ClusterId = "clouddevenv-local";
                o.ServiceId = "clouddevenv";
            });
            silo.AddFileGrainStorage(StorageNames.Workspaces, o => o.Directory = Path.Combine(dataDir, "state"));
            silo.UseFileReminderService(o => o.Directory = Path.Combine(dataDir, "reminders"));
            silo.AddDashboard();
        });

        builder.Services.AddWorkspaceGrains(builder.Configuration);
        builder.Services.AddSnapshotStore(builder.Configuration, dataDir);
        builder.Services.AddWorkspaceRuntime(builder.Configuration);
        builder.Services.AddWorkspaceApi(builder.Configuration);
        builder.Services.AddWorkspaceProxy(builder.Configuration);
        return builder;
    }

    public static WebApplication Build(WebApplicationBuilder builder)
    {
        var app = builder.Build();
        if (app.Services.GetRequiredService<SignInProviders>().DevSignIn)
        {
            app.Logger.LogWarning(
                "Development sign-in is on: anyone who can reach {ApiUrl} can sign in as any user. Set Auth:DevSignIn:Enabled=false and configure GitHub or OpenID Connect for anything but one developer's machine",
                app.Services.GetRequiredService<IOptions<HostProcessOptions>>().Value.ApiUrl);
        }

        var proxyPort = app.Services.GetRequiredService<IOptions<HostProcessOptions>>().Value.ProxyPort;

        // One process, two listeners: the proxy's port carries workspace traffic only.
        app.MapWhen(context => context.Connection.LocalPort == proxyPort, proxy => proxy.UseWorkspaceProxy());

        // The API after the proxy's branch, so that proxied requests never go through its Host check, sign-in or routing.
        app.UseWorkspaceApi();
        app.MapOrleansDashboard("/dashboard").RequireAuthorization(AuthSchemes.AdminPolicy).ExcludeFromDescription();
        return app;
    }
}
