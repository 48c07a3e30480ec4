using CloudDevEnv.Api;
using CloudDevEnv.Grains;
using CloudDevEnv.LocalStorage;
using CloudDevEnv.LocalStorage.Snapshots;
using CloudDevEnv.Proxy;
using CloudDevEnv.Runtime.Docker;
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
        var builder = WebApplication.CreateBuilder(args);

        // Defaults that depend on the build (the image version), below every configuration source.
        builder.Configuration.Sources.Insert(0, new MemoryConfigurationSource
        {
            InitialData = new Dictionary<string, string?>
            {
                ["Workspaces:FallbackImage"] = WorkspaceImages.WorkspaceImage,
                // The short-lived container that reads a remote repository's devcontainer.json needs git, not the IDE.
                ["Provisioning:PrepareImage"] = WorkspaceImages.BaseImage,
            },
        });
        builder.Configuration.AddInMemoryCollection(EnvironmentShortcuts.Read(Environment.GetEnvironmentVariable));
        builder.Configuration.AddCommandLine(args);

        var section = builder.Configuration.GetSection(LocalHostOptions.SectionName);
        builder.Services.AddOptions<LocalHostOptions>().Bind(section).ValidateDataAnnotations().ValidateOnStart();
        var host = section.Get<LocalHostOptions>() ?? new LocalHostOptions();
        var dataDir = Path.GetFullPath(host.DataDir);
        DataFolderLock.Acquire(dataDir);
        if (string.IsNullOrEmpty(builder.Configuration["Runtime:Docker:Installation"]))
        {
            builder.Configuration.AddInMemoryCollection([new("Runtime:Docker:Installation", InstallationId.ReadOrCreate(dataDir))]);
        }

        // Local mode keeps the proxy's cookie-signing key beside the grain state unless one is configured.
        if (string.IsNullOrEmpty(builder.Configuration["Proxy:SigningKey"]) && string.IsNullOrEmpty(builder.Configuration["Proxy:SigningKeyFile"]))
        {
            builder.Configuration.AddInMemoryCollection([new("Proxy:SigningKeyFile", Path.Combine(dataDir, "proxy-signing.key"))]);
        }
        builder.WebHost.UseUrls(host.ApiUrl, host.ProxyUrl);

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
        builder.Services.AddLocalFolderSnapshotStore(builder.Configuration, Path.Combine(dataDir, "snapshots"));
        builder.Services.AddDockerWorkspaceRuntime(builder.Configuration);
        builder.Services.AddWorkspaceApi();
        builder.Services.AddWorkspaceProxy(builder.Configuration);
        return builder;
    }

    public static WebApplication Build(WebApplicationBuilder builder)
    {
        var app = builder.Build();
        var proxyPort = app.Services.GetRequiredService<IOptions<LocalHostOptions>>().Value.ProxyPort;

        // One process, two listeners: the proxy's port carries workspace traffic only.
        app.MapWhen(context => context.Connection.LocalPort == proxyPort, proxy => proxy.UseWorkspaceProxy());

        // Routing after the proxy's branch, so that proxied requests never go through API route matching.
        app.UseRouting();
        app.UseWorkspaceApi();
        app.MapOrleansDashboard("/dashboard");
        return app;
    }
}
