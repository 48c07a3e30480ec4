using System.Net;
using CloudDevEnv.Grains;
using CloudDevEnv.PostgreSql;
using CloudDevEnv.Runtime;
using CloudDevEnv.TestDoubles;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace CloudDevEnv.Bench.Cluster;

/// <summary>One silo of the measured cluster: the platform's grains and storage on PostgreSQL as cluster mode runs them
/// (<see cref="PostgresClusterExtensions"/>, the same failure detection), with the runtime double for containers.</summary>
internal static class SiloMode
{
    public static async Task<int> RunAsync(string[] args)
    {
        var (siloPort, gatewayPort, connection, cluster) = (int.Parse(args[0]), int.Parse(args[1]), args[2], args[3]);
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            // The health check is not what is measured: once a minute, as an idle platform's would be near enough.
            ["Workspaces:HealthCheckInterval"] = "00:01:00",
            ["Workspaces:MaxRunningPerOwner"] = "10",
        }).Build();
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        var database = new ClusterDatabaseOptions { ConnectionString = connection, ClusterId = cluster, ServiceId = cluster };
        builder.UseOrleans(silo => silo
            .UsePostgresCluster(database, StorageNames.Workspaces, new FailureDetection(TimeSpan.FromSeconds(2), 3, 2))
            .ListenOn(IPAddress.Loopback, siloPort, gatewayPort));
        builder.Services.AddWorkspaceGrains(configuration);
        builder.Services.AddSingleton<IWorkspaceRuntime>(new WorkspaceRuntimeDouble());
        using var host = builder.Build();
        await host.StartAsync();
        Console.WriteLine("ready");
        await host.WaitForShutdownAsync();
        return 0;
    }
}
