using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Hosting;
using Orleans.TestingHost;

namespace CloudDevEnv.Grains.Tests;

/// <summary>One silo on memory storage and reminders, whose clock the test moves and whose runtime is a double: the
/// cluster the lifecycle tests share. One silo, since nothing else in the cluster may read this silo's clock.</summary>
public static class ShiftedClockCluster
{
    public static async Task<InProcessTestCluster> StartAsync(
        ShiftableTimeProvider clock,
        WorkspaceRuntimeDouble runtime,
        IReadOnlyDictionary<string, string?> settings,
        Action<IServiceCollection, IConfiguration>? services = null)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        var builder = new InProcessTestClusterBuilder(1);
        builder.ConfigureSilo((_, silo) =>
        {
            silo.AddMemoryGrainStorage(StorageNames.Workspaces);
            silo.UseInMemoryReminderService();
            silo.Services.AddWorkspaceGrains(configuration);
            services?.Invoke(silo.Services, configuration);
            silo.Services.AddSingleton<TimeProvider>(clock);
            silo.Services.AddSingleton<IWorkspaceRuntime>(runtime);
        });
        var cluster = builder.Build();
        await cluster.DeployAsync();
        return cluster;
    }
}
