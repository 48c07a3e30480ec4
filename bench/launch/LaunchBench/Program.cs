// Launch latency of CloudDevEnv workspaces on the local Docker engine: N launches of one repository (a
// devcontainer.json with an image and a postCreateCommand) through an in-process silo, timed from the grain's
// CreateAsync to Running and to the IDE answering HTTP on its published port. Each workspace is deleted after it is
// timed. Usage: LaunchBench <repository folder> <launches> [<prebuild registry>]. Prints one line per launch:
// "<ms to Running> <ms to IDE> <ms to the hooks after waitFor done>". With a registry (e.g. 127.0.0.1:5000/bench), a
// platform prebuild of the repository is built and pushed there first (its time on standard error), and the launches
// start from it.
using System.Diagnostics;
using System.Security.Cryptography;
using CloudDevEnv.Contracts.Workspaces;
using CloudDevEnv.Grains;
using CloudDevEnv.Runtime.Docker;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Orleans;
using Orleans.Hosting;
using Orleans.TestingHost;

var repository = Path.GetFullPath(args[0]);
var launches = int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture);
var prebuildRegistry = args.Length > 2 ? args[2] : null;
var prefix = $"lbench-{Convert.ToHexString(RandomNumberGenerator.GetBytes(3)).ToLowerInvariant()}-";
var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
{
    ["Workspaces:FallbackImage"] = WorkspaceImages.WorkspaceImage,
    ["Workspaces:LocalRepoRoots:0"] = Path.GetDirectoryName(repository),
    ["Workspaces:HealthCheckInterval"] = "00:00:01",
    ["Workspaces:StopGracePeriod"] = "00:00:01",
    ["Runtime:Docker:PullMissingImages"] = "false",
    ["Provisioning:OrphanPolicy"] = "Remove",
    ["Provisioning:ReconcileIdPrefix"] = prefix,
    ["Prebuilds:Registry"] = prebuildRegistry,
}).Build();

var builder = new InProcessTestClusterBuilder(1);
builder.ConfigureSilo((_, silo) =>
{
    silo.AddMemoryGrainStorage(StorageNames.Workspaces);
    silo.UseInMemoryReminderService();
    silo.Services.AddWorkspaceGrains(configuration);
    silo.Services.AddDockerWorkspaceRuntime(configuration);
});
await using var cluster = builder.Build();
await cluster.DeployAsync();
if (prebuildRegistry is not null)
{
    var build = cluster.Client.GetGrain<CloudDevEnv.Contracts.Prebuilds.IPrebuildBuildGrain>(
        CloudDevEnv.Contracts.Prebuilds.PrebuildBuildKey.Of("file://" + repository, null));
    var built = Stopwatch.StartNew();
    var state = await build.StartAsync("bench");
    while ((state = (await build.GetAsync())!).Phase == CloudDevEnv.Contracts.Prebuilds.PrebuildBuildPhase.Building)
    {
        await Task.Delay(100);
    }

    if (state.Phase != CloudDevEnv.Contracts.Prebuilds.PrebuildBuildPhase.Succeeded)
    {
        throw new InvalidOperationException($"The prebuild failed: {state.Reason}");
    }

    await Console.Error.WriteLineAsync($"prebuild {state.Image} built in {built.Elapsed.TotalMilliseconds:0} ms");
}

using var http = new HttpClient(new SocketsHttpHandler { UseProxy = false, AllowAutoRedirect = false }) { Timeout = TimeSpan.FromSeconds(5) };

for (var i = 0; i < launches; i++)
{
    var grain = cluster.Client.GetGrain<IWorkspaceGrain>($"{prefix}{i}");
    var clock = Stopwatch.StartNew();
    await grain.CreateAsync(new WorkspaceSpec("file://" + repository, null, "bench", null, null, null));
    WorkspaceStatus status;
    while ((status = await grain.GetStatusAsync()).Phase != WorkspacePhase.Running)
    {
        if (status.Phase == WorkspacePhase.Failed || clock.Elapsed > TimeSpan.FromMinutes(3))
        {
            throw new InvalidOperationException($"Launch {i} did not reach Running: {status.Phase} {status.Reason}");
        }

        await Task.Delay(10);
    }

    var running = clock.Elapsed.TotalMilliseconds;
    var route = await grain.GetRouteAsync();
    while (true)
    {
        try
        {
            // As the proxy does: through the workspace gateway, with its secret.
            using var request = new HttpRequestMessage(HttpMethod.Get, route.Gateway);
            request.Headers.Add(CloudDevEnv.Runtime.GatewayProtocol.SecretHeader, route.GatewaySecret);
            request.Headers.Add(CloudDevEnv.Runtime.GatewayProtocol.TargetHeader, CloudDevEnv.Runtime.GatewayProtocol.IdeTarget);
            using var response = await http.SendAsync(request);
            if ((int)response.StatusCode < 500)
            {
                break;
            }
        }
        catch (HttpRequestException)
        {
        }

        await Task.Delay(10);
    }

    var ide = clock.Elapsed.TotalMilliseconds;
    while ((status = await grain.GetStatusAsync()).HooksRunning)
    {
        await Task.Delay(10);
    }

    if (status.HookFailure is { } failure)
    {
        throw new InvalidOperationException($"Launch {i}: a hook after waitFor failed: {failure}");
    }

    var hooks = clock.Elapsed.TotalMilliseconds;
    Console.WriteLine($"{running:0} {ide:0} {hooks:0}");
    if (Environment.GetEnvironmentVariable("BENCH_TIMELINE") == "1")
    {
        // Where a launch's time goes: every event, in ms since the first.
        var first = status.RecentEvents[0].At;
        foreach (var e in status.RecentEvents)
        {
            await Console.Error.WriteLineAsync($"  +{(e.At - first).TotalMilliseconds,6:0} {e.Kind,-8} {e.Phase,-12} {e.Message}");
        }
    }

    await grain.DeleteAsync("bench");
    while ((await grain.GetStatusAsync()).Phase != WorkspacePhase.Deleted)
    {
        await Task.Delay(50);
    }
}
