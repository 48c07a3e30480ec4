using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;

namespace CloudDevEnv.PostgreSql.Tests;

/// <summary>The schema's migrations on a real server: applied once however often and however many processes ask,
/// refused when a shipped migration was edited or the database is newer than the build.</summary>
[Collection(PostgresCollection.Name)]
public sealed class SchemaMigrationTests(PostgresServer server)
{
    private static SchemaMigrations Migrations() => new(NullLogger<SchemaMigrations>.Instance);

    private static async Task<object?> ScalarAsync(string connectionString, string sql)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        var value = await command.ExecuteScalarAsync();
        return value is DBNull ? null : value;
    }

    [Fact]
    public async Task Applying_twice_applies_once_and_the_second_time_finds_the_schema_current()
    {
        var database = await server.NewDatabaseAsync();
        Assert.Equal(SchemaMigrations.All.Select(m => m.Version), await SchemaMigrations.PendingAsync(database, CancellationToken.None));

        var first = await Migrations().ApplyAsync(database, CancellationToken.None);
        Assert.Equal(SchemaMigrations.All.Select(m => m.Version), first);
        Assert.Empty(await Migrations().ApplyAsync(database, CancellationToken.None));
        Assert.Empty(await SchemaMigrations.PendingAsync(database, CancellationToken.None));

        // What the Orleans providers read at start-up: every statement they require.
        var keys = Convert.ToInt64(await ScalarAsync(database, "SELECT count(*) FROM OrleansQuery"));
        Assert.Equal(20, keys); // 9 for clustering, 4 for grain storage, 7 for reminders
    }

    [Fact]
    public async Task Processes_applying_at_once_apply_each_migration_exactly_once()
    {
        var database = await server.NewDatabaseAsync();
        var results = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => Task.Run(() => Migrations().ApplyAsync(database, CancellationToken.None))));

        Assert.Single(results, r => r.Count == SchemaMigrations.All.Count);
        Assert.Equal(7, results.Count(r => r.Count == 0));
        Assert.Equal((long)SchemaMigrations.All.Count, Convert.ToInt64(await ScalarAsync(database, "SELECT count(*) FROM cde_schema_migrations")));
    }

    [Fact]
    public async Task A_shipped_migration_that_was_edited_or_a_newer_schema_is_refused_and_nothing_changes()
    {
        var database = await server.NewDatabaseAsync();
        await Migrations().ApplyAsync(database, CancellationToken.None);

        await ScalarAsync(database, "UPDATE cde_schema_migrations SET checksum = 'edited' WHERE version = 1");
        var edited = await Assert.ThrowsAsync<InvalidOperationException>(() => Migrations().ApplyAsync(database, CancellationToken.None));
        Assert.Contains("Schema migration 1 (orleans)", edited.Message, StringComparison.Ordinal);

        await ScalarAsync(database, $"UPDATE cde_schema_migrations SET checksum = '{SchemaMigrations.All[0].Checksum}' WHERE version = 1");
        await ScalarAsync(database, "INSERT INTO cde_schema_migrations (version, name, checksum) VALUES (9999, 'future', 'x')");
        var newer = await Assert.ThrowsAsync<InvalidOperationException>(() => Migrations().ApplyAsync(database, CancellationToken.None));
        Assert.Contains("newer version of CloudDevEnv", newer.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_migration_that_fails_leaves_the_database_as_it_was()
    {
        var database = await server.NewDatabaseAsync();
        // A table in the way of migration 1: its CREATE fails, and the transaction takes everything back.
        await ScalarAsync(database, "CREATE TABLE OrleansStorage (x int)");
        await Assert.ThrowsAsync<PostgresException>(() => Migrations().ApplyAsync(database, CancellationToken.None));
        Assert.Null(await ScalarAsync(database, "SELECT to_regclass('cde_schema_migrations')::text"));
        Assert.Null(await ScalarAsync(database, "SELECT to_regclass('orleansquery')::text"));
    }
}
