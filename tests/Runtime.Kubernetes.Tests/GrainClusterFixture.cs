using System.Security.Cryptography;
using CloudDevEnv.Grains;
using CloudDevEnv.KubernetesStandIn;
using CloudDevEnv.LocalStorage.Snapshots;
using CloudDevEnv.Runtime.Docker;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Orleans;
using Orleans.Hosting;
using Orleans.TestingHost;

namespace CloudDevEnv.Runtime.Kubernetes.Tests;

[CollectionDefinition(Name)]
public sealed class GrainClusterCollection : ICollectionFixture<GrainClusterFixture>
{
    public const string Name = "workspace grains on the kubernetes stand-in";
}

/// <summary>One silo in this process whose workspaces run on the Kubernetes runtime, configured as an operator would
/// (<c>Runtime:Kubernetes:*</c>, a kubeconfig file), talking to the Kubernetes API stand-in; local Git repositories are
/// cloned through a read-only hostPath, which only these tests allow.</summary>
public sealed class GrainClusterFixture : IAsyncLifetime
{
    public const string Namespace = "cde-grains";
    private readonly string _root = Directory.CreateTempSubdirectory("cde-k8s-grains-").FullName;
    private int _counter;

    public string RunId { get; } = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(3));

    public KubernetesApiStandIn Api { get; private set; } = null!;

    public InProcessTestCluster Cluster { get; private set; } = null!;

    public IClusterClient Client => Cluster.Client;

    /// <summary>The silo's own runtime, to look inside pods as the platform does.</summary>
    public KubernetesWorkspaceRuntime Runtime => (KubernetesWorkspaceRuntime)Cluster.Silos[0].ServiceProvider.GetRequiredService<IWorkspaceRuntime>();

    public string RepoRoot => Path.Combine(_root, "repos");

    public string NewId(string name) => $"k8g-{RunId}-{name}-{Interlocked.Increment(ref _counter)}";

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(RepoRoot);
        // The repositories are mounted into pods and cloned there by the workspace user (uid 1000).
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(_root, (UnixFileMode)0b111_101_101);
            File.SetUnixFileMode(RepoRoot, (UnixFileMode)0b111_101_101);
        }
        Api = await KubernetesApiStandIn.StartAsync(preboundClaims: new Dictionary<string, string> { ["clouddevenv-ide"] = WorkspaceImages.IdeBundleVolume });
        var kubeconfig = Api.WriteKubeconfig(Path.Combine(_root, "kubeconfig"), Namespace);
        var settings = new Dictionary<string, string?>
        {
            ["Workspaces:FallbackImage"] = WorkspaceImages.WorkspaceImage,
            ["Workspaces:HealthCheckInterval"] = "00:00:00.500",
            ["Workspaces:RetryDelay"] = "00:00:00.200",
            ["Workspaces:MaxRetryDelay"] = "00:00:01",
            ["Workspaces:MaxAttempts"] = "3",
            ["Workspaces:StopGracePeriod"] = "00:00:02",
            ["Workspaces:IdeStartTimeout"] = "00:01:30",
            ["Workspaces:LocalRepoRoots:0"] = RepoRoot,
            ["Provisioning:OrphanPolicy"] = "Remove",
            ["Provisioning:ReconcileIdPrefix"] = $"k8g-{RunId}-",
            ["Snapshots:Directory"] = Path.Combine(_root, "snapshots"),
            ["Secrets:Key"] = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)),
            ["Runtime:Kubernetes:Kubeconfig"] = kubeconfig,
            ["Runtime:Kubernetes:Namespace"] = Namespace,
            ["Runtime:Kubernetes:Installation"] = "k8s-grain-tests",
            ["Runtime:Kubernetes:GatewayAddressing"] = "NodePort",
            ["Runtime:Kubernetes:NodeAddress"] = "127.0.0.1",
            ["Runtime:Kubernetes:AllowHostPathMounts"] = "true",
            ["Runtime:Kubernetes:DefaultStopGrace"] = "00:00:02",
            ["Runtime:Kubernetes:StartTimeout"] = "00:01:00",
        };
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        var builder = new InProcessTestClusterBuilder(1);
        builder.ConfigureSilo((_, silo) =>
        {
            silo.AddMemoryGrainStorage(StorageNames.Workspaces);
            silo.UseInMemoryReminderService();
            silo.Services.AddWorkspaceGrains(configuration);
            silo.Services.AddKubernetesWorkspaceRuntime(configuration);
            silo.Services.AddLocalFolderSnapshotStore(configuration);
        });
        Cluster = builder.Build();
        await Cluster.DeployAsync();
    }

    public async Task DisposeAsync()
    {
        try
        {
            await Cluster.DisposeAsync();
        }
        finally
        {
            await Api.DisposeAsync();
            Directory.Delete(_root, recursive: true);
        }
    }
}
