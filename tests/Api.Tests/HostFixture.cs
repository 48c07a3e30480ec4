using CloudDevEnv.Runtime;
using CloudDevEnv.Silo.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Orleans;

namespace CloudDevEnv.Api.Tests;

/// <summary>The real local-mode host (silo, API, proxy, dashboard, file storage) listening on loopback,
/// with the workspace runtime swapped for the test double: these tests are about the API, not Docker.</summary>
public sealed class HostFixture : IAsyncLifetime
{
    public const int Quota = 3;

    /// <summary>Launches per user per hour: above what any one test's user makes, but for the rate-limit test's.</summary>
    public const int CreateLimit = 6;

    /// <summary>The user named in Auth:Admins.</summary>
    public const string Admin = "root-admin";

    /// <summary>The host's Api:PrebuildWebhookSecret.</summary>
    public const string WebhookSecret = "the-push-webhook-secret";

    /// <summary>The user named in Api:PrebuildPublishers (a CI account).</summary>
    public const string PrebuildPublisher = "ci-prebuilds";

    private WebApplication? _app;

    public WorkspaceRuntimeDouble Runtime { get; } = new();

    public string DataDir { get; } = Directory.CreateTempSubdirectory("cde-api-").FullName;

    public string RepoRoot { get; } = Directory.CreateTempSubdirectory("cde-repos-").FullName;

    /// <summary>An anonymous caller.</summary>
    public HttpClient Http { get; private set; } = null!;

    public Uri Api { get; private set; } = null!;

    public int ProxyPort { get; private set; }

    /// <summary>The host's own grain factory, for arranging what no API call can (an expired token).</summary>
    public IGrainFactory Grains => _app!.Services.GetRequiredService<IGrainFactory>();

    public Task<HttpClient> SignInAsync(string user) => Users.SignInAsync(Api, user);

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(Path.Combine(RepoRoot, "local-repo"));
        var ports = FreePorts.Take(4);
        var builder = LocalHost.CreateBuilder(
        [
            $"--Host:ApiUrl=http://127.0.0.1:{ports[0]}",
            $"--Host:ProxyUrl=http://127.0.0.1:{ports[1]}",
            $"--Host:SiloPort={ports[2]}",
            $"--Host:GatewayPort={ports[3]}",
            $"--Host:DataDir={DataDir}",
            $"--Proxy:PublicPort={ports[1]}",
            $"--Workspaces:MaxRunningPerOwner={Quota}",
            $"--Workspaces:LocalRepoRoots:0={RepoRoot}",
            "--Workspaces:HealthCheckInterval=00:00:00.200",
            $"--Auth:Admins:0={Admin}",
            $"--Api:PrebuildPublishers:0={PrebuildPublisher}",
            $"--Api:PrebuildWebhookSecret={WebhookSecret}",
            $"--Api:CreateLimit={CreateLimit}",
            "--Api:CreateLimitWindow=01:00:00",
        ]);
        builder.Services.RemoveAll<IWorkspaceRuntime>();
        builder.Services.AddSingleton<IWorkspaceRuntime>(Runtime);
        _app = LocalHost.Build(builder);
        await _app.StartAsync();
        Api = new Uri($"http://127.0.0.1:{ports[0]}");
        ProxyPort = ports[1];
        Http = new HttpClient { BaseAddress = Api };
    }

    public async Task DisposeAsync()
    {
        Http.Dispose();
        if (_app is not null)
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
        }

        Directory.Delete(DataDir, recursive: true);
        Directory.Delete(RepoRoot, recursive: true);
    }
}

[CollectionDefinition(Name)]
public sealed class HostCollection : ICollectionFixture<HostFixture>
{
    public const string Name = nameof(HostCollection);
}
