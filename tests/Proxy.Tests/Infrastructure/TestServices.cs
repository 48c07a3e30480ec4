using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace CloudDevEnv.Proxy.Tests.Infrastructure;

/// <summary>The proxy's token and host services without a server, for unit tests.</summary>
public static class TestServices
{
    public static ServiceProvider Build(IDictionary<string, string?>? settings = null, TimeProvider? time = null)
    {
        var values = new Dictionary<string, string?>();
        if (settings?.ContainsKey("Proxy:SigningKeyFile") != true)
        {
            values["Proxy:SigningKey"] = ProxyServer.TestKey;
        }

        foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
        {
            values[key] = value;
        }

        var services = new ServiceCollection();
        if (time is not null)
        {
            services.AddSingleton(time);
        }

        services.AddWorkspaceProxy(new ConfigurationBuilder().AddInMemoryCollection(values).Build());
        return services.BuildServiceProvider();
    }

    /// <summary>Runs the options validation that the host runs at start-up, of every options type bound from the
    /// <c>Proxy</c> section (the proxy's own, the public address, what it shares with the API).</summary>
    public static (WorkspaceProxyOptions Proxy, PublicAddressOptions Address) Validate(IDictionary<string, string?> settings)
    {
        var values = new Dictionary<string, string?>(settings);
        var services = new ServiceCollection();
        services.AddWorkspaceProxy(new ConfigurationBuilder().AddInMemoryCollection(values).Build());
        using var provider = services.BuildServiceProvider();
        _ = provider.GetRequiredService<IOptions<WorkspaceAccessOptions>>().Value;
        return (provider.GetRequiredService<IOptions<WorkspaceProxyOptions>>().Value, provider.GetRequiredService<IOptions<PublicAddressOptions>>().Value);
    }
}
