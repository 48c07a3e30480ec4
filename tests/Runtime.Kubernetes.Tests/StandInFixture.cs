using System.Security.Cryptography;
using CloudDevEnv.KubernetesStandIn;
using CloudDevEnv.Runtime.Docker;

namespace CloudDevEnv.Runtime.Kubernetes.Tests;

[CollectionDefinition(Name)]
public sealed class StandInCollection : ICollectionFixture<StandInFixture>
{
    public const string Name = "kubernetes stand-in";
}

/// <summary>One Kubernetes API stand-in (pods as containers on the local Docker engine) and one runtime on it for the run.
/// The IDE bundle claim is bound to the bundle volume scripts/build-images.sh fills, as an operator binds a pre-filled
/// ReadOnlyMany volume.</summary>
public sealed class StandInFixture : IAsyncLifetime
{
    public const string Namespace = "cde-tests";
    public const string Owner = "ada@example.com";
    private int _counter;

    public KubernetesApiStandIn Api { get; private set; } = null!;

    public KubernetesWorkspaceRuntime Runtime { get; private set; } = null!;

    public KubernetesRuntimeOptions Options { get; } = new()
    {
        Namespace = Namespace,
        GatewayAddressing = GatewayAddressing.NodePort,
        NodeAddress = "127.0.0.1",
        Installation = "k8s-tests",
        StartTimeout = TimeSpan.FromSeconds(60),
        DefaultStopGrace = TimeSpan.FromSeconds(2),
    };

    public string RunId { get; } = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(3));

    public string NewWorkspaceId(string name) => $"k8s-{RunId}-{name}-{Interlocked.Increment(ref _counter)}";

    public static readonly InstanceGateway Gateway = new(61100, 13337, InstanceGateway.NewSecret());

    public InstanceSpec Spec(string id, InstanceGateway? gateway = null, string? user = WorkspaceImages.WorkspaceUser,
        IReadOnlyList<InstanceMount>? mounts = null, string? image = null) =>
        new(id, Owner, image ?? WorkspaceImages.WorkspaceImage, null, new Dictionary<string, string> { ["FROM_SPEC"] = "spec-value" },
            gateway, mounts ?? [], new InstanceResources(1, 1024L * 1024 * 1024), User: user);

    public async Task InitializeAsync()
    {
        Api = await KubernetesApiStandIn.StartAsync(preboundClaims: new Dictionary<string, string> { [Options.IdeBundleClaim] = WorkspaceImages.IdeBundleVolume });
        Runtime = new KubernetesWorkspaceRuntime(Options, Api.ClientConfiguration(Namespace));
    }

    public async Task DisposeAsync()
    {
        Runtime.Dispose();
        await Api.DisposeAsync();
    }
}
