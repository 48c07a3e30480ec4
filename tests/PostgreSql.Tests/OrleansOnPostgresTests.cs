using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using Orleans.Storage;

namespace CloudDevEnv.PostgreSql.Tests;

/// <summary>Orleans' three ADO.NET providers on the project's own schema and a real server: two silos in this process
/// form one cluster through the membership table, keep grain state and reminders there, and refuse a stale write.</summary>
[Collection(PostgresCollection.Name)]
public sealed class OrleansOnPostgresTests(PostgresServer server) : IAsyncLifetime
{
    public const string StorageName = "store";

    private readonly List<IHost> _silos = [];
    private IHost _client = null!;
    private string _database = string.Empty;

    private IClusterClient Client => _client.Services.GetRequiredService<IClusterClient>();

    private ClusterDatabaseOptions Options => new() { ConnectionString = _database, ClusterId = "tests", ServiceId = "tests" };

    public async Task InitializeAsync()
    {
        _database = await server.NewDatabaseAsync();
        await new SchemaMigrations(NullLogger<SchemaMigrations>.Instance).ApplyAsync(_database, CancellationToken.None);
        _silos.Add(await StartSiloAsync());
        _silos.Add(await StartSiloAsync());
        var client = Host.CreateApplicationBuilder();
        client.Logging.SetMinimumLevel(LogLevel.Warning);
        client.UseOrleansClient(c => c.UsePostgresCluster(Options));
        _client = client.Build();
        await _client.StartAsync();
    }

    public async Task DisposeAsync()
    {
        await _client.StopAsync();
        _client.Dispose();
        foreach (var silo in _silos)
        {
            await silo.StopAsync();
            silo.Dispose();
        }
    }

    private async Task<IHost> StartSiloAsync()
    {
        var ports = CloudDevEnv.Api.Tests.FreePorts.Take(2);
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.UseOrleans(silo => silo
            .UsePostgresCluster(Options, StorageName, new FailureDetection(TimeSpan.FromSeconds(2), 3, 1))
            .ListenOn(IPAddress.Loopback, ports[0], ports[1]));
        var host = builder.Build();
        await host.StartAsync();
        return host;
    }

    private async Task<List<object?[]>> RowsAsync(string sql)
    {
        await using var connection = new NpgsqlConnection(_database);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await using var reader = await command.ExecuteReaderAsync();
        var rows = new List<object?[]>();
        while (await reader.ReadAsync())
        {
            var row = new object?[reader.FieldCount];
            reader.GetValues(row!);
            rows.Add(row);
        }

        return rows;
    }

    [Fact]
    public async Task The_silos_join_one_cluster_through_the_membership_table()
    {
        var members = await RowsAsync("SELECT address, port, status FROM OrleansMembershipTable WHERE deploymentid = 'tests'");
        Assert.Equal(2, members.Count(m => (int)m[2]! == 3));
        Assert.All(members, m => Assert.Equal("127.0.0.1", m[0]));
    }

    [Fact]
    public async Task State_outlives_its_activation_and_a_stale_write_is_refused()
    {
        var key = "c-" + Guid.NewGuid().ToString("N");
        var counter = Client.GetGrain<ICounterGrain>(key);
        Assert.Equal(1, await counter.IncrementAsync());
        Assert.Equal(2, await counter.IncrementAsync());
        await counter.DeactivateAsync();
        await Task.Delay(500);
        Assert.Equal(2, await counter.GetAsync());
        Assert.Equal(3, await counter.IncrementAsync());

        // Another writer got there first (its version is ahead): this activation's write is refused, not applied.
        Assert.Single(await RowsAsync($"UPDATE OrleansStorage SET version = version + 1 WHERE grainidextensionstring = '{key}' RETURNING version"));
        var refused = await Assert.ThrowsAnyAsync<Exception>(() => counter.IncrementAsync());
        Assert.True(refused is InconsistentStateException || refused.InnerException is InconsistentStateException, refused.ToString());
        var stored = await RowsAsync($"SELECT convert_from(payloadbinary, 'UTF8') FROM OrleansStorage WHERE grainidextensionstring = '{key}'");
        Assert.Contains("\"Count\":3", (string)Assert.Single(stored)[0]!, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_grain_comes_back_on_the_other_silo_with_its_state_when_its_silo_stops()
    {
        var key = "m-" + Guid.NewGuid().ToString("N");
        var counter = Client.GetGrain<ICounterGrain>(key);
        await counter.IncrementAsync();
        var first = await counter.SiloAsync();
        var holder = _silos.Single(s => s.Services.GetRequiredService<ILocalSiloDetails>().SiloAddress.ToString() == first);

        await holder.StopAsync();
        _silos.Remove(holder);
        holder.Dispose();

        Assert.Equal(2, await counter.IncrementAsync());
        Assert.NotEqual(first, await counter.SiloAsync());
        _silos.Add(await StartSiloAsync());
    }

    [Fact]
    public async Task A_reminder_is_kept_in_the_table_and_fires()
    {
        var key = "r-" + Guid.NewGuid().ToString("N");
        var counter = Client.GetGrain<ICounterGrain>(key);
        await counter.SetReminderAsync(on: true);
        var rows = await RowsAsync($"SELECT remindername, period FROM OrleansRemindersTable WHERE grainid LIKE '%{key}'");
        Assert.Equal(("tick", 60_000L), ((string)Assert.Single(rows)[0]!, (long)rows[0][1]!));

        for (var i = 0; i < 100 && !CounterGrain.Ticks.ContainsKey(key); i++)
        {
            await Task.Delay(100);
        }

        Assert.True(CounterGrain.Ticks.ContainsKey(key), "the reminder did not fire");
        await counter.SetReminderAsync(on: false);
        Assert.Empty(await RowsAsync($"SELECT 1 FROM OrleansRemindersTable WHERE grainid LIKE '%{key}'"));
    }
}
