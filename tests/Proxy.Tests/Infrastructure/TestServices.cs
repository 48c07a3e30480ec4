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

        services.AddWorkspaceAccessTokens(new ConfigurationBuilder().AddInMemoryCollection(values).Build());
        return services.BuildServiceProvider();
    }

    /// <summary>Runs the options validation that the host runs at start-up.</summary>
    public static WorkspaceProxyOptions Validate(IDictionary<string, string?> settings)
    {
        var values = new Dictionary<string, string?>(settings);
        var services = new ServiceCollection();
        services.AddWorkspaceAccessTokens(new ConfigurationBuilder().AddInMemoryCollection(values).Build());
        using var provider = services.BuildServiceProvider();
        return provider.GetRequiredService<IOptions<WorkspaceProxyOptions>>().Value;
    }
}
