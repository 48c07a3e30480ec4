using System.Diagnostics;
using System.Globalization;
using CloudDevEnv.Contracts.Workspaces;
using CloudDevEnv.PostgreSql;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;

namespace CloudDevEnv.Bench.Cluster;

/// <summary>The driver: per scenario a fresh database on the private server, silo processes of this binary, an Orleans
/// client in this process. Prints one line per figure.</summary>
internal static class RunMode
{
    public static async Task<int> RunAsync(string[] args)
    {
        var server = args[0];
        var seconds = int.Parse(Environment.GetEnvironmentVariable("SECONDS_PER_RUN") ?? "20", CultureInfo.InvariantCulture);
        var grains = int.Parse(Environment.GetEnvironmentVariable("GRAINS") ?? "10000", CultureInfo.InvariantCulture);
        var kills = int.Parse(Environment.GetEnvironmentVariable("KILLS") ?? "5", CultureInfo.InvariantCulture);

        foreach (var silos in new[] { 1, 3 })
        {
            await using var cluster = await BenchCluster.StartAsync(server, silos);
            await ThroughputAsync(cluster, silos, seconds);
        }

        await using (var cluster = await BenchCluster.StartAsync(server, 3))
        {
            await MemoryAsync(cluster, grains);
        }

        await using (var cluster = await BenchCluster.StartAsync(server, 3))
        {
            await FailoverAsync(cluster, kills);
        }

        return 0;
    }

    /// <summary>Launches <paramref name="count"/> workspaces (10 an owner, the quota) and waits until all run.</summary>
    private static async Task<string[]> LaunchAsync(IClusterClient client, int count, int parallel, string batch = "a")
    {
        var ids = Enumerable.Range(0, count).Select(i => $"bench-{batch}{i:D6}").ToArray();
        await Parallel.ForEachAsync(Enumerable.Range(0, count), new ParallelOptions { MaxDegreeOfParallelism = parallel },
            async (i, _) => await client.GetGrain<IWorkspaceGrain>(ids[i]).CreateAsync(
                new WorkspaceSpec("https://github.com/octo/bench", null, $"bench{batch}{i / 10:D5}", null, null, TimeSpan.FromHours(24))));
        await Parallel.ForEachAsync(ids, new ParallelOptions { MaxDegreeOfParallelism = parallel }, async (id, _) =>
        {
            while ((await client.GetGrain<IWorkspaceGrain>(id).GetStatusAsync()).Phase != WorkspacePhase.Running)
            {
                await Task.Delay(100);
            }
        });
        return ids;
    }

    /// <summary>Commands as the API sends them: a read of the status (answered from the activation's memory) and a
    /// change that is stored (the display name), from 32 callers at once for a while.</summary>
    private static async Task ThroughputAsync(BenchCluster cluster, int silos, int seconds)
    {
        var ids = await LaunchAsync(cluster.Client, 300, 32);
        foreach (var kind in new[] { "read", "write" })
        {
            var latencies = new List<double>[32];
            var clock = Stopwatch.StartNew();
            var until = TimeSpan.FromSeconds(seconds);
            await Task.WhenAll(Enumerable.Range(0, latencies.Length).Select(async caller =>
            {
                latencies[caller] = [];
                var random = new Random(caller);
                var n = 0;
                while (clock.Elapsed < until)
                {
                    var grain = cluster.Client.GetGrain<IWorkspaceGrain>(ids[random.Next(ids.Length)]);
                    var started = Stopwatch.GetTimestamp();
                    if (kind == "read")
                    {
                        await grain.GetStatusAsync();
                    }
                    else
                    {
                        await grain.UpdateAsync(new WorkspaceChange(null, $"n{caller}-{n++}"), "bench");
                    }

                    latencies[caller].Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
                }
            }));
            var all = latencies.SelectMany(l => l).Order().ToArray();
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"throughput silos={silos} kind={kind} ops={all.Length} per_s={all.Length / clock.Elapsed.TotalSeconds:0} p50_ms={all[all.Length / 2]:0.00} p99_ms={all[(int)(all.Length * 0.99)]:0.00}"));
        }
    }

    private static async Task MemoryAsync(BenchCluster cluster, int count)
    {
        // Warm: a few workspaces so that every silo has loaded the grain code and its caches.
        await LaunchAsync(cluster.Client, 30, 8, batch: "warm");
        GC.Collect();
        await Task.Delay(2000);
        var before = cluster.ResidentBytes();
        var clock = Stopwatch.StartNew();
        var ids = await LaunchAsync(cluster.Client, count, 64);
        var launched = clock.Elapsed;
        await Task.Delay(5000);
        var after = cluster.ResidentBytes();
        var perSilo = await Task.WhenAll(ids.Take(600).Select(id => cluster.Client.GetGrain<IWorkspaceGrain>(id).GetStatusAsync()));
        var spread = perSilo.GroupBy(s => s.Silo).Select(g => g.Count()).ToArray();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"grains count={count} launched_s={launched.TotalSeconds:0.0} rss_before_mb={before / 1048576.0:0} rss_after_mb={after / 1048576.0:0} per_grain_kb={(after - before) / 1024.0 / count:0.0} spread_of_600={string.Join('/', spread)}"));
    }

    /// <summary>kill -9 of the silo that holds a running workspace's grain, timed until the grain answers from another.</summary>
    private static async Task FailoverAsync(BenchCluster cluster, int kills)
    {
        var id = (await LaunchAsync(cluster.Client, 1, 1))[0];
        var grain = cluster.Client.GetGrain<IWorkspaceGrain>(id);
        var times = new List<double>();
        for (var round = 0; round < kills; round++)
        {
            var holder = (await grain.GetStatusAsync()).Silo!;
            var clock = Stopwatch.StartNew();
            var killed = cluster.Kill(holder);
            while (true)
            {
                try
                {
                    var status = await grain.GetStatusAsync().WaitAsync(TimeSpan.FromSeconds(5));
                    if (status.Silo != holder)
                    {
                        break;
                    }
                }
                catch (Exception e) when (e is OrleansException or TimeoutException)
                {
                    // The lost silo, until it is declared dead: a retryable refusal.
                }

                await Task.Delay(50);
            }

            times.Add(clock.Elapsed.TotalMilliseconds);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"failover round={round + 1} ms={clock.Elapsed.TotalMilliseconds:0}"));
            await cluster.RestartAsync(killed);
        }

        times.Sort();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"failover kills={kills} median_ms={times[times.Count / 2]:0} min_ms={times[0]:0} max_ms={times[^1]:0}"));
    }
}

/// <summary>Silo processes of this binary on a fresh database, and a client.</summary>
internal sealed class BenchCluster : IAsyncDisposable
{
    private readonly string _connection;
    private readonly string _clusterId = "bench" + Guid.NewGuid().ToString("N")[..8];
    private readonly Dictionary<int, (Process Process, int SiloPort, int GatewayPort)> _silos = [];
    private IHost _client = null!;

    private BenchCluster(string connection) => _connection = connection;

    public IClusterClient Client => _client.Services.GetRequiredService<IClusterClient>();

    public static async Task<BenchCluster> StartAsync(string server, int silos)
    {
        var name = "b_" + Guid.NewGuid().ToString("N")[..10];
        await using (var admin = new NpgsqlConnection(server))
        {
            await admin.OpenAsync();
            await using var create = new NpgsqlCommand($"CREATE DATABASE {name}", admin);
            await create.ExecuteNonQueryAsync();
        }

        var connection = new NpgsqlConnectionStringBuilder(server) { Database = name, MaxPoolSize = 200 }.ConnectionString;
        await new SchemaMigrations(NullLogger<SchemaMigrations>.Instance).ApplyAsync(connection, CancellationToken.None);
        var cluster = new BenchCluster(connection);
        for (var i = 0; i < silos; i++)
        {
            cluster.Start(i, 21100 + i, 31100 + i);
        }

        foreach (var silo in cluster._silos.Values)
        {
            await WaitReadyAsync(silo.Process);
        }

        var client = Host.CreateApplicationBuilder();
        client.Logging.SetMinimumLevel(LogLevel.Warning);
        client.UseOrleansClient(c => c.UsePostgresCluster(new ClusterDatabaseOptions { ConnectionString = connection, ClusterId = cluster._clusterId, ServiceId = cluster._clusterId }));
        cluster._client = client.Build();
        await cluster._client.StartAsync();
        return cluster;
    }

    /// <summary>The silos' resident memory together.</summary>
    public long ResidentBytes() => _silos.Values.Sum(s =>
    {
        s.Process.Refresh();
        return s.Process.WorkingSet64;
    });

    /// <summary>SIGKILL to the silo of that address; its index.</summary>
    public int Kill(string siloAddress)
    {
        var (index, silo) = _silos.Single(s => siloAddress.Contains($":{s.Value.SiloPort}:", StringComparison.Ordinal));
        silo.Process.Kill();
        silo.Process.WaitForExit();
        return index;
    }

    public async Task RestartAsync(int index)
    {
        var (_, siloPort, gatewayPort) = _silos[index];
        Start(index, siloPort, gatewayPort);
        await WaitReadyAsync(_silos[index].Process);
        // Membership settles before the next round: the new silo is active and known to the others.
        await Task.Delay(3000);
    }

    public async ValueTask DisposeAsync()
    {
        await _client.StopAsync();
        _client.Dispose();
        foreach (var (process, _, _) in _silos.Values)
        {
            if (!process.HasExited)
            {
                process.Kill();
                await process.WaitForExitAsync();
            }
        }
    }

    private void Start(int index, int siloPort, int gatewayPort)
    {
        var start = new ProcessStartInfo(Environment.ProcessPath!) { RedirectStandardOutput = true, RedirectStandardError = false };
        foreach (var arg in new[] { typeof(BenchCluster).Assembly.Location, "silo", $"{siloPort}", $"{gatewayPort}", _connection, _clusterId })
        {
            start.ArgumentList.Add(arg);
        }

        if (Path.GetFileNameWithoutExtension(Environment.ProcessPath) != "dotnet")
        {
            start.ArgumentList.RemoveAt(0);
        }

        _silos[index] = (Process.Start(start)!, siloPort, gatewayPort);
    }

    private static async Task WaitReadyAsync(Process process)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        while (await process.StandardOutput.ReadLineAsync(timeout.Token) is { } line)
        {
            if (line == "ready")
            {
                _ = process.StandardOutput.ReadToEndAsync();
                return;
            }
        }

        throw new InvalidOperationException("A silo ended before it was ready.");
    }
}
