using System.Diagnostics;
using CloudDevEnv.DevContainers.Tests.ReferenceCli;
using Npgsql;

namespace CloudDevEnv.PostgreSql.Tests;

/// <summary>A private PostgreSQL server for one test run: Debian's, started by <c>scripts/postgres.sh</c> (which installs
/// it when missing) in a folder of its own on a free loopback port, stopped and removed at the end. Each test asks for a
/// database of its own, so that tests never see each other's rows.</summary>
public sealed class PostgresServer : IAsyncLifetime
{
    private readonly string _folder = Directory.CreateTempSubdirectory("cde-pg-").FullName;

    public int Port { get; private set; }

    /// <summary>The server's own database (the one the script makes).</summary>
    public string ConnectionString { get; private set; } = string.Empty;

    public async Task InitializeAsync()
    {
        Port = CloudDevEnv.Api.Tests.FreePorts.Take(1)[0];
        var (exit, output, errors) = await ScriptAsync("start", _folder, Port.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Assert.True(exit == 0, $"scripts/postgres.sh could not start a server:\n{output}{errors}");
        ConnectionString = output.Trim().Split('\n')[^1];
    }

    public async Task DisposeAsync()
    {
        await ScriptAsync("stop", _folder);
        Directory.Delete(_folder, recursive: true);
    }

    /// <summary>A new empty database on the server; its connection string.</summary>
    public async Task<string> NewDatabaseAsync()
    {
        var name = "t_" + Guid.NewGuid().ToString("N")[..12];
        await using (var connection = new NpgsqlConnection(ConnectionString))
        {
            await connection.OpenAsync();
            await using var create = new NpgsqlCommand($"CREATE DATABASE {name}", connection);
            await create.ExecuteNonQueryAsync();
        }

        return new NpgsqlConnectionStringBuilder(ConnectionString) { Database = name }.ConnectionString;
    }

    /// <summary>Stops the server (fast shutdown), as an outage would; <see cref="StartAsync"/> brings it back on the
    /// same port and data.</summary>
    public async Task StopAsync() => Assert.Equal(0, (await ScriptAsync("stop", _folder)).Exit);

    public async Task StartAsync()
    {
        var (exit, output, errors) = await ScriptAsync("start", _folder, Port.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Assert.True(exit == 0, output + errors);
    }

    private static async Task<(int Exit, string Output, string Errors)> ScriptAsync(params string[] args)
    {
        var start = new ProcessStartInfo("bash") { RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add(Path.Combine(RepositoryRoot.Path, "scripts", "postgres.sh"));
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var errors = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(10));
        await process.WaitForExitAsync(timeout.Token);
        return (process.ExitCode, await output, await errors);
    }
}

[CollectionDefinition(Name)]
public sealed class PostgresCollection : ICollectionFixture<PostgresServer>
{
    public const string Name = nameof(PostgresCollection);
}
