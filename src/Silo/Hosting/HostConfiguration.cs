using System.Net;
using CloudDevEnv.Api.Identity;
using CloudDevEnv.Runtime.Docker;
using Microsoft.Extensions.Configuration.Memory;

namespace CloudDevEnv.Silo.Hosting;

/// <summary>The configuration every process of the platform starts from, in local and in cluster mode: the built-in
/// defaults, the environment shortcuts, the command line, and what follows from the listen addresses.</summary>
public static class HostConfiguration
{
    /// <summary>Adds the defaults below every source and the shortcuts and command line above them; returns the
    /// process options as configured.</summary>
    public static HostProcessOptions Prepare(WebApplicationBuilder builder, string[] args)
    {
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

        var section = builder.Configuration.GetSection(HostProcessOptions.SectionName);
        builder.Services.AddOptions<HostProcessOptions>().Bind(section).ValidateDataAnnotations().ValidateOnStart();
        var host = section.Get<HostProcessOptions>() ?? new HostProcessOptions();

        builder.Configuration.Sources.Insert(0, new MemoryConfigurationSource { InitialData = DefaultsFromUrls(host) });
        RefuseDevSignInOffLoopback(builder.Configuration, host);
        return host;
    }

    /// <summary>Keys and caches kept beside the data unless configured: the proxy's cookie-signing key, the secrets'
    /// sealing key, the IDE extensions fetched. Processes sharing the data folder (local mode, or a cluster on one
    /// machine) share them.</summary>
    public static void KeepBesideData(IConfigurationManager configuration, string dataDir)
    {
        if (string.IsNullOrEmpty(configuration["Ide:CacheFolder"]))
        {
            configuration.AddInMemoryCollection([new("Ide:CacheFolder", Path.Combine(dataDir, "extensions"))]);
        }

        if (string.IsNullOrEmpty(configuration["Proxy:SigningKey"]) && string.IsNullOrEmpty(configuration["Proxy:SigningKeyFile"]))
        {
            configuration.AddInMemoryCollection([new("Proxy:SigningKeyFile", Path.Combine(dataDir, "proxy-signing.key"))]);
        }

        if (string.IsNullOrEmpty(configuration["Secrets:Key"]) && string.IsNullOrEmpty(configuration["Secrets:KeyFile"]))
        {
            configuration.AddInMemoryCollection([new("Secrets:KeyFile", Path.Combine(dataDir, "secrets.key"))]);
        }
    }

    /// <summary>What follows from the listen addresses unless configured: the Host names the API answers, and the
    /// address the proxy sends browsers to for signing in to a workspace.</summary>
    private static Dictionary<string, string?> DefaultsFromUrls(HostProcessOptions host)
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

    private static void RefuseDevSignInOffLoopback(IConfiguration configuration, HostProcessOptions host)
    {
        var devSignIn = configuration.GetSection(AuthOptions.SectionName).Get<AuthOptions>()?.DevSignIn.Enabled == true;
        var apiHost = new Uri(host.ApiUrl).Host;
        var loopback = apiHost == "localhost" || (IPAddress.TryParse(apiHost, out var address) && IPAddress.IsLoopback(address));
        if (devSignIn && !loopback && host.Role is HostRole.All or HostRole.Api)
        {
            throw new StartupException(
                $"The development sign-in believes any user name, so it is on only while the API listens on loopback, not on {host.ApiUrl}. " +
                "Configure GitHub or OpenID Connect sign-in and set Auth:DevSignIn:Enabled=false, or listen on 127.0.0.1.");
        }
    }
}
