using CloudDevEnv.Grains;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Hosting;
using Orleans.TestingHost;

namespace CloudDevEnv.Grains.Tests;

/// <summary>Two silos in one process, sharing one runtime double. Retries and health checks are fast so
/// that the tests watch the reconcile loop work in real time.</summary>
public sealed class ClusterFixture : IAsyncLifetime
{
    public const int Quota = 10;

    /// <summary>Small, so that a test can pass it with one file.</summary>
    public const long MaxCheckoutBytes = 64 * 1024;

    public WorkspaceRuntimeDouble Runtime { get; } = new();

    /// <summary>The cluster's Secrets:Key.</summary>
    public string SecretKey { get; } = Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32));

    public string LocalRepoRoot { get; } = Directory.CreateTempSubdirectory("cde-repos-").FullName;

    public InProcessTestCluster Cluster { get; private set; } = null!;

    public IClusterClient Client => Cluster.Client;

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(Path.Combine(LocalRepoRoot, "hello"));
        var settings = new Dictionary<string, string?>
        {
            ["Workspaces:MaxRunningPerOwner"] = Quota.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Workspaces:HealthCheckInterval"] = "00:00:00.100",
            ["Workspaces:RetryDelay"] = "00:00:00.050",
            ["Workspaces:MaxRetryDelay"] = "00:00:00.200",
            ["Workspaces:MaxAttempts"] = "3",
            ["Workspaces:IdeStartTimeout"] = "00:00:02",
            ["Workspaces:LocalRepoRoots:0"] = LocalRepoRoot,
            ["Provisioning:MaxCheckoutBytes"] = MaxCheckoutBytes.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Secrets:Key"] = SecretKey,
        };
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();

        var builder = new InProcessTestClusterBuilder(2);
        builder.ConfigureSilo((_, silo) =>
        {
            silo.AddMemoryGrainStorage(StorageNames.Workspaces);
            silo.UseInMemoryReminderService();
            silo.Services.AddWorkspaceGrains(configuration);
            silo.Services.AddSingleton<IWorkspaceRuntime>(Runtime);
        });
        Cluster = builder.Build();
        await Cluster.DeployAsync();
    }

    public async Task DisposeAsync()
    {
        await Cluster.DisposeAsync();
        Directory.Delete(LocalRepoRoot, recursive: true);
    }
}

[CollectionDefinition(Name)]
public sealed class ClusterCollection : ICollectionFixture<ClusterFixture>
{
    public const string Name = nameof(ClusterCollection);
}
