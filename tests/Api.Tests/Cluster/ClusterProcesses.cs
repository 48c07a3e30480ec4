using System.Diagnostics;
using CloudDevEnv.DevContainers.Tests.ReferenceCli;
using CloudDevEnv.PostgreSql.Tests;

namespace CloudDevEnv.Api.Tests.Cluster;

/// <summary>Cluster mode as an operator runs it, on loopback: a private PostgreSQL, silos, one API and one proxy, each
/// its own process of the built host (<c>--Host:Role=…</c>), all on the real Docker engine. The test can kill any of
/// them with SIGKILL, stop them in order, and start them again on the same database.</summary>
public sealed class ClusterProcesses : IAsyncDisposable
{
    public const string Admin = "ada";

    private readonly string _serviceId = "t" + Guid.NewGuid().ToString("N")[..10];
    private readonly Dictionary<int, Silo> _silos = [];
    private ChildProcess? _api;
    private ChildProcess? _proxy;

    private ClusterProcesses(PostgresServer database, string dataDir, string repoRoot)
    {
        Database = database;
        DataDir = dataDir;
        RepoRoot = repoRoot;
        var ports = FreePorts.Take(2);
        ApiPort = ports[0];
        ProxyPort = ports[1];
    }

    public PostgresServer Database { get; }

    public string ConnectionString { get; private set; } = string.Empty;

    public string DataDir { get; }

    /// <summary>Where the tests' repositories are: <c>file://</c> URLs under it may be launched.</summary>
    public string RepoRoot { get; }

    public int ApiPort { get; }

    public int ProxyPort { get; }

    public Uri Api => new($"http://127.0.0.1:{ApiPort}");

    /// <summary>The silos by index, with the port each listens on (which names it in a silo address).</summary>
    public IReadOnlyDictionary<int, Silo> Silos => _silos;

    public sealed record Silo(int Index, int SiloPort, int GatewayPort, int HealthPort, ChildProcess Process);

    public string Output => string.Join("\n", _silos.Values.Select(s => $"--- silo {s.Index}\n{Tail(s.Process.Output)}")
        .Append($"--- api\n{Tail(_api?.Output)}").Append($"--- proxy\n{Tail(_proxy?.Output)}"));

    public static async Task<ClusterProcesses> StartAsync(PostgresServer database, int silos)
    {
        var cluster = new ClusterProcesses(
            database, Directory.CreateTempSubdirectory("cde-cluster-").FullName, Directory.CreateTempSubdirectory("cde-cluster-repos-").FullName);
        cluster.ConnectionString = await database.NewDatabaseAsync();
        await Task.WhenAll(Enumerable.Range(0, silos).Select(cluster.StartSiloAsync));
        await cluster.StartClientsAsync();
        return cluster;
    }

    public async Task StartSiloAsync(int index)
    {
        var ports = _silos.TryGetValue(index, out var old) ? [old.SiloPort, old.GatewayPort, old.HealthPort] : FreePorts.Take(3);
        var process = Launch("Silo", $"--Host:SiloPort={ports[0]}", $"--Host:GatewayPort={ports[1]}", $"--Host:SiloHealthUrl=http://127.0.0.1:{ports[2]}");
        _silos[index] = new Silo(index, ports[0], ports[1], ports[2], process);
        await WaitReadyAsync(process, new Uri($"http://127.0.0.1:{ports[2]}/readyz"), $"silo {index}");
    }

    public async Task StartClientsAsync()
    {
        _api = Launch("Api");
        _proxy = Launch("Proxy");
        await WaitReadyAsync(_api, new Uri(Api, "/readyz"), "the API");
        await WaitReadyAsync(_proxy, new Uri($"http://127.0.0.1:{ProxyPort}/readyz"), "the proxy");
    }

    /// <summary>The silo whose address (<c>127.0.0.1:port@generation</c>, as a workspace's admin view names it) is given.</summary>
    public Silo SiloAt(string address) => _silos.Values.Single(s => address.Contains($":{s.SiloPort}:", StringComparison.Ordinal));

    /// <summary>SIGTERM to every process, as an operator stops the installation; the database stays, and
    /// <see cref="StartSiloAsync"/> and <see cref="StartClientsAsync"/> start it again.</summary>
    public async Task StopAllAsync()
    {
        foreach (var process in _silos.Values.Select(s => s.Process).Append(_api).Append(_proxy).OfType<ChildProcess>())
        {
            await process.TerminateAsync(TimeSpan.FromSeconds(30));
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var process in _silos.Values.Select(s => s.Process).Append(_api).Append(_proxy).OfType<ChildProcess>())
        {
            await process.DisposeAsync();
        }

        Directory.Delete(DataDir, recursive: true);
        Directory.Delete(RepoRoot, recursive: true);
    }

    private ChildProcess Launch(string role, params string[] extra)
    {
        var dll = Path.Combine(RepositoryRoot.Path, "src", "Silo", "bin", Configuration(), "net10.0", "CloudDevEnv.Silo.dll");
        Assert.True(File.Exists(dll), $"The host is not built: {dll} is missing (run ./test.sh, which builds the solution first).");
        var start = new ProcessStartInfo("dotnet") { WorkingDirectory = Path.GetDirectoryName(dll)! };
        foreach (var arg in new[]
                 {
                     dll, $"--Host:Role={role}", $"--Host:ApiUrl={Api.GetLeftPart(UriPartial.Authority)}", $"--Host:ProxyUrl=http://127.0.0.1:{ProxyPort}",
                     $"--Proxy:PublicPort={ProxyPort}", $"--Cluster:ConnectionString={ConnectionString}", $"--Cluster:ServiceId={_serviceId}",
                     $"--Cluster:ClusterId={_serviceId}", "--Proxy:SubscriptionRenewInterval=00:00:02", "--Workspaces:HealthCheckInterval=00:00:01",
                 }.Concat(extra))
        {
            start.ArgumentList.Add(arg);
        }

        start.Environment["CDE_DATA_DIR"] = DataDir;
        start.Environment["CDE_LOCAL_REPO_ROOTS"] = RepoRoot;
        start.Environment["CDE_ADMINS"] = Admin;
        start.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        return ChildProcess.Start(start);
    }

    private async Task WaitReadyAsync(ChildProcess process, Uri readiness, string what)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        var deadline = DateTime.UtcNow.AddSeconds(120);
        while (DateTime.UtcNow < deadline)
        {
            Assert.False(process.HasExited, $"{what} exited with code {(process.HasExited ? process.ExitCode : 0)}:\n{process.Output}");
            try
            {
                if ((await http.GetAsync(readiness)).IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
                // Not listening, or not ready, yet.
            }

            await Task.Delay(250);
        }

        Assert.Fail($"{what} did not become ready in 120 s:\n{Output}");
    }

    private static string Tail(string? output) =>
        output is null ? "(not started)" : string.Join('\n', output.Split('\n').TakeLast(40));

    private static string Configuration() =>
        AppContext.BaseDirectory.Contains($"{Path.DirectorySeparatorChar}Release{Path.DirectorySeparatorChar}", StringComparison.Ordinal) ? "Release" : "Debug";
}
