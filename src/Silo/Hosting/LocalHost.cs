using System.Net;
using CloudDevEnv.Api;
using CloudDevEnv.Api.Identity;
using CloudDevEnv.Grains;
using CloudDevEnv.LocalStorage;
using CloudDevEnv.LocalStorage.Snapshots;
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
        var builder = WebApplication.CreateBuilder(args);

        // Defaults that depend on the build (the image version), below every configuration source.
        builder.Configuration.Sources.Insert(0, new MemoryConfigurationSource
        {
            InitialData = new Dictionary<string, string?>
            {
                ["Workspaces:FallbackImage"] = WorkspaceImages.WorkspaceImage,
                // The short-lived container that reads a remote repository's devcontainer.json needs git, not the IDE.
                ["Provisioning:PrepareImage"] = WorkspaceImages.BaseImage,

                // One developer on their own machine: the development sign-in, which believes any user name (it is
                // refused below unless the API listens on loopback only).
                ["Auth:DevSignIn:Enabled"] = "true",
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
        // And the key that seals workspace secrets, likewise.
        if (string.IsNullOrEmpty(builder.Configuration["Secrets:Key"]) && string.IsNullOrEmpty(builder.Configuration["Secrets:KeyFile"]))
        {
            builder.Configuration.AddInMemoryCollection([new("Secrets:KeyFile", Path.Combine(dataDir, "secrets.key"))]);
        }

        builder.WebHost.UseUrls(host.ApiUrl, host.ProxyUrl);
        builder.Configuration.Sources.Insert(0, new MemoryConfigurationSource { InitialData = DefaultsFromUrls(host) });
        RefuseDevSignInOffLoopback(builder.Configuration, host);

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
        builder.Services.AddLocalFolderSnapshotStore(builder.Configuration, Path.Combine(dataDir, "snapshots"));
        builder.Services.AddDockerWorkspaceRuntime(builder.Configuration);
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
                app.Services.GetRequiredService<IOptions<LocalHostOptions>>().Value.ApiUrl);
        }

        var proxyPort = app.Services.GetRequiredService<IOptions<LocalHostOptions>>().Value.ProxyPort;

        // One process, two listeners: the proxy's port carries workspace traffic only.
        app.MapWhen(context => context.Connection.LocalPort == proxyPort, proxy => proxy.UseWorkspaceProxy());

        // The API after the proxy's branch, so that proxied requests never go through its Host check, sign-in or routing.
        app.UseWorkspaceApi();
        app.MapOrleansDashboard("/dashboard").RequireAuthorization(AuthSchemes.AdminPolicy).ExcludeFromDescription();
        return app;
    }

    /// <summary>What follows from the listen addresses unless configured: the Host names the API answers, and the
    /// address the proxy sends browsers to for signing in to a workspace.</summary>
    private static Dictionary<string, string?> DefaultsFromUrls(LocalHostOptions host)
    {
        var api = new Uri(host.ApiUrl);
        var port = api.Port.ToString(System.Globalization.CultureInfo.InvariantCulture);
        return new Dictionary<string, string?>
        {
            ["Api:AllowedHosts:0"] = $"{api.Host}:{port}",
            ["Api:AllowedHosts:1"] = $"localhost:{port}",
            ["Proxy:PlatformUrl"] = api.GetLeftPart(UriPartial.Authority) + "/",
        };
    }

    private static void RefuseDevSignInOffLoopback(IConfiguration configuration, LocalHostOptions host)
    {
        var devSignIn = configuration.GetSection(AuthOptions.SectionName).Get<AuthOptions>()?.DevSignIn.Enabled == true;
        var apiHost = new Uri(host.ApiUrl).Host;
        var loopback = apiHost == "localhost" || (IPAddress.TryParse(apiHost, out var address) && IPAddress.IsLoopback(address));
        if (devSignIn && !loopback)
        {
            throw new StartupException(
                $"The development sign-in believes any user name, so it is on only while the API listens on loopback, not on {host.ApiUrl}. " +
                "Configure GitHub or OpenID Connect sign-in and set Auth:DevSignIn:Enabled=false, or listen on 127.0.0.1.");
        }
    }
}
