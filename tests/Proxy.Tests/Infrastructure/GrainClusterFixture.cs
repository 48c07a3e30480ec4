using CloudDevEnv.Grains;
using CloudDevEnv.Runtime;
using CloudDevEnv.TestDoubles;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Hosting;
using Orleans.TestingHost;

namespace CloudDevEnv.Proxy.Tests.Infrastructure;

/// <summary>The real workspace and access-token grains in an in-process silo, a runtime double whose instances'
/// endpoints lead to a real Kestrel upstream, and the proxy talking to the silo through a cluster client.</summary>
public sealed class GrainClusterFixture : IAsyncLifetime
{
    public WorkspaceRuntimeDouble Runtime { get; } = new();

    public UpstreamServer Upstream { get; private set; } = null!;

    public InProcessTestCluster Cluster { get; private set; } = null!;

    public ProxyServer Proxy { get; private set; } = null!;

    public IClusterClient Client => Cluster.Client;

    public async Task InitializeAsync()
    {
        Upstream = await UpstreamServer.StartAsync();
        Runtime.EndpointBase = Upstream.BaseUri;

        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Workspaces:HealthCheckInterval"] = "00:00:00.100",
            ["Workspaces:RetryDelay"] = "00:00:00.050",
            ["Workspaces:MaxRetryDelay"] = "00:00:00.200",
            ["Workspaces:IdeStartTimeout"] = "00:00:02",
        }).Build();
        var builder = new InProcessTestClusterBuilder(1);
        builder.ConfigureSilo((_, silo) =>
        {
            silo.AddMemoryGrainStorage(StorageNames.Workspaces);
            silo.UseInMemoryReminderService();
            silo.Services.AddWorkspaceGrains(configuration);
            silo.Services.AddSingleton<IWorkspaceRuntime>(Runtime);
        });
        Cluster = builder.Build();
        await Cluster.DeployAsync();

        Proxy = await ProxyServer.StartAsync(
            new Dictionary<string, string?> { ["Proxy:ActivityReportInterval"] = "00:00:00.200" },
            configureServices: services => services.AddSingleton<IGrainFactory>(Cluster.Client));
    }

    public async Task DisposeAsync()
    {
        await Proxy.DisposeAsync();
        await Cluster.DisposeAsync();
        await Upstream.DisposeAsync();
    }

    /// <summary>Creates a workspace through its grain and waits until it runs.</summary>
    public async Task<IWorkspaceGrain> RunningWorkspaceAsync(string owner = "alice")
    {
        var grain = Client.GetGrain<IWorkspaceGrain>(WorkspaceId.NewId());
        await grain.CreateAsync(new WorkspaceSpec("https://github.com/octo/hello.git", null, owner, null, null, null));
        await PhaseAsync(grain, WorkspacePhase.Running);
        return grain;
    }

    public static async Task<WorkspaceStatus> PhaseAsync(IWorkspaceGrain grain, WorkspacePhase phase)
    {
        var deadline = DateTime.UtcNow.AddSeconds(15);
        var status = await grain.GetStatusAsync();
        while (status.Phase != phase)
        {
            Assert.True(DateTime.UtcNow < deadline, $"Expected {phase}, the workspace is {status.Phase} ({status.Reason}).");
            await Task.Delay(20);
            status = await grain.GetStatusAsync();
        }

        return status;
    }

    public async Task<Browser> SignedInBrowserAsync(string workspaceId, string owner = "alice")
    {
        var browser = new Browser(Proxy);
        var url = Proxy.Tokens.CreateSignInUrl(workspaceId, owner);
        using var response = await browser.GetAsync(Proxy.Url(workspaceId, url.PathAndQuery));
        Assert.Equal(HttpStatusCode.SeeOther, response.StatusCode);
        return browser;
    }
}
